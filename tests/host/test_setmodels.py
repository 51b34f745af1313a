"""Per-sensor-set models (verdant_host.setmodels, verdant_host.fieldclassifier): which
inputs each set's model takes and which boards it fits, how real faults are labelled, a
tiny training run, the shipping rule, and that the committed models/sets/ say honestly
what was measured."""
import glob
import json
import os
import shutil

import numpy as np
import pytest

from verdant.engine.modelfile import parse
from verdant_host import fieldclassifier as fc
from verdant_host import model_choice, paths, setmodels, verify

SETS_DIR = os.path.join(paths.MODELS_DIR, "sets")
TRAIN = os.path.join(paths.REPO_DIR, "data", "greenlight", "train")


@pytest.mark.parametrize("name", sorted(setmodels.SETS))
def test_each_set_model_needs_exactly_its_sensors(name):
    sensors = list(setmodels.SETS[name])
    names = fc.feature_names(sensors, setmodels.LEVELS[name])
    assert model_choice.lacking(names, sensors) == []
    for q in sensors:  # every sensor of the set is used: without it the model does not fit
        assert model_choice.lacking(names, [x for x in sensors if x != q]), q
    # judged against the greenhouse's own recent behaviour: no time of day
    assert not {"tod_sin", "tod_cos"} & set(names)
    assert {"air_temp_c_d24h", "air_temp_c_d1h", "rh_pct_d24h"} <= set(names)


def test_the_lux_model_fits_a_lux_board_and_the_par_model_a_par_board():
    par = fc.feature_names(setmodels.SETS["t_rh_co2_light"])
    lux = fc.feature_names(setmodels.SETS["t_rh_co2_lux"])
    lux_board = ["air_temp_c", "rh_pct", "co2_ppm", "light_lux", "soil_moisture_pct"]
    assert model_choice.lacking(lux, lux_board) == [] and model_choice.lacking(par, lux_board) == ["par_umol_m2_s"]


def test_real_faults_are_labelled_with_the_symptom_they_show():
    cols = {"air_temp_c_d24h": np.array([0.0, -0.5, -1.2, np.nan, -3.0]),
            "co2_ppm_d24h": np.array([-150.0, 0.0, -120.0, 0.0, 0.0])}
    label = [fc.LABELS[i] for i in fc.symptom_labels("heating_failure", cols, ["air_temp_c", "rh_pct"])]
    assert label == ["normal", "normal", "too_cold", "normal", "too_cold"]
    # vents stuck open: colder first, else CO2 lower, if the set measures CO2
    label = [fc.LABELS[i] for i in fc.symptom_labels("vent_stuck_open", cols, ["air_temp_c", "co2_ppm"])]
    assert label == ["co2_low", "normal", "too_cold", "normal", "too_cold"]
    label = [fc.LABELS[i] for i in fc.symptom_labels("vent_stuck_open", cols, ["air_temp_c"])]
    assert label == ["normal", "normal", "too_cold", "normal", "too_cold"]
    assert not fc.symptom_labels("vent_stuck_closed", cols, ["air_temp_c"]).any()  # left out: rarely shows
    assert not fc.symptom_labels("temp_sensor_stuck", cols, ["air_temp_c"]).any()  # sensor faults: not here


def test_held_back_greenhouses_are_a_quarter_with_every_fault_type():
    import sys
    sys.path.insert(0, os.path.join(paths.REPO_DIR, "host", "scripts"))
    import greenlight_scenarios as gs
    held = [i for i in range(48) if fc.held_back(i)]
    assert len(held) == 12
    assert {gs.scenario("train", i, 11)["fault"] for i in held} >= set(fc.SYMPTOMS) | {""}


def _verdict(fa, alerted, delay):
    return {"faults_alerted": alerted, "faults": 18, "median_delay_min": delay, "false_alarms_per_week": fa,
            "healthy_warnings_per_week": 0.0}


def test_shipping_needs_quiet_held_back_and_dev_and_a_gain_on_dev():
    alone = _verdict(0.0, 13, 40.0)
    assert setmodels.dev_verdict(0.0, _verdict(0.1, 14, 45.0), alone)[0]        # one more fault
    assert setmodels.dev_verdict(0.0, _verdict(0.0, 13, 30.0), alone)[0]        # sooner
    assert not setmodels.dev_verdict(0.0, _verdict(0.0, 13, 40.0), alone)[0]    # adds nothing
    assert not setmodels.dev_verdict(0.0, _verdict(0.3, 15, 30.0), alone)[0]    # cries wolf on dev
    assert not setmodels.dev_verdict(0.2, _verdict(0.0, 15, 30.0), alone)[0]    # cried wolf held back
    noisy = dict(_verdict(0.0, 15, 30.0), healthy_warnings_per_week=1.5)
    assert "warnings" in setmodels.dev_verdict(0.0, noisy, alone)[1]


def test_a_tiny_training_run_gives_a_model_the_board_can_run(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    with open(os.path.join(TRAIN, "manifest.json")) as f:
        manifest = json.load(f)
    # two heating failures (fold 0 holds back 0, fold 3 holds back 12 and 15) and a healthy greenhouse
    keep = [m for m in manifest["scenarios"] if m["index"] in (0, 12, 15)]
    if len(keep) < 3:
        pytest.skip("train split lacks scenarios 0, 12 and 15")
    for m in keep:
        shutil.copy(os.path.join(TRAIN, "scenario_%02d.csv" % m["index"]), folder)
    with open(folder / "manifest.json", "w") as f:
        json.dump(dict(manifest, scenarios=keep), f)
    r = fc.train(str(folder), ("air_temp_c", "rh_pct"), epochs=2)
    # every greenhouse held back once (by the fold model trained without it), the model on all three
    assert r["train_scenarios"] == 3 and r["held_back_scenarios"] == 3
    counts = dict(zip(fc.LABELS, r["class_counts"]))
    assert counts["normal"] > 200 and counts["too_cold"] > 10   # real fault rows and synthetic ones
    assert r["held_back_normal_weeks"] > 0.4
    # no light sensor: too_cold only in the hours scenario 12 (no lamps) never saw daylight
    dark = [h for h in range(24) if r["dark_hours"][h]]
    assert 0 in dark and 12 not in dark and 8 < len(dark) < 20
    data, _ = fc.export(r["tflite"], r["names"], r["mean"], r["std"], r["rule"], "tiny-set",
                        r["dark_hours"], r["gates"])
    meta = parse(data).meta
    assert meta["features"] == list(r["names"]) and meta["labels"] == list(fc.LABELS)
    assert (meta["alert_threshold"], meta["alert_consecutive"]) == pytest.approx(r["rule"])
    assert meta["label_gates"]["too_cold"] == ["air_temp_c", "below"]
    assert [meta["levels"]["air_temp_c"]["low"][h] > 100 for h in range(24)] == r["dark_hours"]
    result = verify.verify_model(data, r["tflite"], samples=20, backends=["cpython"])
    assert result.ok, result.format()


INFOS = sorted(glob.glob(os.path.join(SETS_DIR, "*", "info.json")))


@pytest.mark.parametrize("path", INFOS, ids=[os.path.basename(os.path.dirname(p)) for p in INFOS])
def test_committed_set_models_say_what_was_measured(path):
    with open(path) as f:
        info = json.load(f)
    folder = os.path.dirname(path)
    model_path = os.path.join(folder, "model.bin")
    assert info["shipped"] == os.path.exists(model_path), "info.json 'shipped' disagrees with model.bin"
    assert info["why"]
    if not info["shipped"]:
        return
    assert info["held_back_false_alarms_per_week"] <= fc.MAX_FALSE_ALARMS_PER_WEEK
    dev, alone = info["dev"]["with_model"], info["dev"]["firmware_alone"]
    assert dev["false_alarms_per_week"] <= setmodels.DEV_MAX_FALSE_ALARMS_PER_WEEK
    assert dev["healthy_warnings_per_week"] <= setmodels.DEV_MAX_HEALTHY_WARNINGS_PER_WEEK
    if "dev_site_histories" in info:   # the dev splits' fault-free histories, replayed as healthy greenhouses
        assert info["dev_site_histories"]["false_alarms_per_week"] <= setmodels.DEV_MAX_FALSE_ALARMS_PER_WEEK
    assert dev["faults_alerted"] > alone["faults_alerted"] or (
        dev["faults_alerted"] == alone["faults_alerted"] and dev["median_delay_min"] < alone["median_delay_min"])
    with open(model_path, "rb") as f:
        data = f.read()
    meta = parse(data).meta
    assert meta["features"] == info["features"] and meta["labels"] == info["labels"]
    assert meta["alert_threshold"] == pytest.approx(info["threshold"])
    assert meta["alert_consecutive"] == info["consecutive"]
    assert len(data) == info["model_bytes"]
    with open(os.path.join(folder, "model.tflite"), "rb") as f:
        result = verify.verify_model(data, f.read(), samples=20, backends=["cpython"])
    assert result.ok, result.format()
    # replay and deploy pick it for a board with exactly its sensors
    path_chosen, _ = model_choice.choose(info["sensors"])
    assert path_chosen is not None and os.path.samefile(path_chosen, model_path)


@pytest.mark.parametrize("path", INFOS, ids=[os.path.basename(os.path.dirname(p)) for p in INFOS])
def test_a_board_runs_another_sets_model_only_where_it_helped(path):
    with open(path) as f:
        info = json.load(f)
    if info["shipped"]:
        return
    chosen, why = model_choice.choose(info["sensors"])
    helps = info.get("runs_instead", {}).get("helps")
    if helps:
        assert chosen is not None and info["runs_instead"]["model"] in chosen
    else:
        assert chosen is None or "/sets/" not in chosen.replace(os.sep, "/"), why


def test_choice_keeps_a_set_model_to_the_boards_it_helped(tmp_path):
    from deploy_helpers import tiny_model
    folder = tmp_path / "t_rh_co2"
    folder.mkdir()
    (folder / "model.bin").write_bytes(tiny_model(name="t_rh_co2", features=("air_temp_c_d24h", "co2_ppm_d24h")))
    (folder / "info.json").write_text(json.dumps({"serves": ["t_rh_co2"]}))
    models = [str(folder / "model.bin")]
    assert model_choice.choose(["air_temp_c", "rh_pct", "co2_ppm"], models)[0] == models[0]
    light_board = ["air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s"]
    path, why = model_choice.choose(light_board, models)
    assert path is None and "did not help t_rh_co2_light boards" in why
    assert model_choice.choose(light_board, models, restrict=False)[0] == models[0]
    (folder / "info.json").write_text(json.dumps({"serves": ["t_rh_co2", "t_rh_co2_light"]}))
    assert model_choice.choose(light_board + ["soil_moisture_pct"], models)[0] == models[0]


def test_synthetic_departures_start_where_asked_and_are_labelled_once_visible():
    n = 60
    readings = {"air_temp_c": np.full(n, 18.0), "rh_pct": np.full(n, 80.0), "co2_ppm": np.full(n, 800.0)}
    rng = np.random.default_rng(4)
    new, visible = fc.depart(readings, "too_cold", 20, rng)
    drop = readings["air_temp_c"] - new["air_temp_c"]
    assert (drop[:21] == 0).all() and (drop[21:] > 0).all() and drop[-1] >= 5.0
    assert (visible == (drop >= fc.VISIBLE["air_temp_c"])).all() and visible[-1] and not visible[20]
    assert ((new["rh_pct"] >= 80.0 - 1e-9) & (new["rh_pct"] <= 100.0)).all()  # colder air: RH up, or kept
    new, visible = fc.depart(readings, "co2_low", 20, rng)
    assert (new["co2_ppm"] <= readings["co2_ppm"]).all() and new["co2_ppm"][-1] < 700 and visible[-1]
    with pytest.raises(ValueError, match="too_humid"):
        fc.depart(readings, "too_humid", 20, rng)
