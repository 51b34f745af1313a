"""The GreenLight scenario generator's deterministic parts (scenario draw, fault windows,
reading corruption) and the committed data it made. The GreenLight simulation itself
needs its own venv (make greenlight-data) and is not run here."""
import json
import os
import sys

import numpy as np
import pytest

from verdant_host import paths

sys.path.insert(0, os.path.join(paths.REPO_DIR, "host", "scripts"))
import greenlight_scenarios as gs  # noqa: E402

DATA = os.path.join(paths.REPO_DIR, "data", "greenlight")


def test_scenario_draw_is_deterministic_and_splits_use_disjoint_weather():
    a = [gs.scenario("test", i, 11) for i in range(24)]
    assert a == [gs.scenario("test", i, 11) for i in range(24)]
    assert a != [gs.scenario("test", i, 12) for i in range(24)]
    train = [gs.scenario("train", i, 11) for i in range(24)]
    for meta in a:
        assert gs.SPLIT_DAYS["test"][0] <= meta["weather_first_day"] <= gs.SPLIT_DAYS["test"][1] - meta["days"]
    for meta in train:
        assert meta["weather_first_day"] + meta["days"] <= gs.SPLIT_DAYS["train"][1]
    faults = [m["fault"] for m in a]
    assert faults.count("") == 6 and all(faults.count(f) == 2 for f in gs.FAULTS)
    for m in a:
        if m["fault"]:
            assert 86400 <= m["fault_start_s"] < m["fault_end_s"] < m["days"] * 86400


def test_co2_set_point_change_is_opt_in_and_switches_at_its_hour():
    meta = gs.scenario("dev", 3, 11)
    plain = gs.model_mods(meta["greenhouse"], "", 0, 0)["co2SpDay"]["definition"]
    assert plain == str(meta["greenhouse"]["co2_day_ppm"])   # the committed data's definition, unchanged
    changed = gs.with_co2_change(meta, -200.0, 30.0)
    assert meta["greenhouse"].get("co2_change") is None       # the draw itself is not touched
    change = changed["greenhouse"]["co2_change"]
    assert change == {"to_ppm": max(gs.MIN_CO2_SET_POINT, meta["greenhouse"]["co2_day_ppm"] - 200.0), "at_s": 108000}
    definition = gs.model_mods(changed["greenhouse"], "", 0, 0)["co2SpDay"]["definition"]
    step = gs.smooth_step(108000 / 86400.0)
    assert step in definition and str(change["to_ppm"]) in definition
    # the GreenLight expression evaluated either side of the change: the old set point, then the new one
    for day, want in ((1.2, meta["greenhouse"]["co2_day_ppm"]), (1.3, change["to_ppm"])):
        got = eval(definition.replace("time_state", repr(day)), {"exp": np.exp})
        assert abs(got - want) < 1e-6, (day, got, want)
    low = gs.with_co2_change(dict(meta, greenhouse=dict(meta["greenhouse"], co2_day_ppm=600.0)), -400.0, 30.0)
    assert low["greenhouse"]["co2_change"]["to_ppm"] == gs.MIN_CO2_SET_POINT


def test_corruption_is_deterministic_and_injects_each_sensor_fault():
    grid = np.arange(0, 2 * 86400, 300, dtype=float)
    temp = 18 + 3 * np.sin(grid / 86400 * 2 * np.pi)
    rh = 75 + 10 * np.cos(grid / 86400 * 2 * np.pi)
    co2 = np.full(grid.size, 800.0)
    par = np.maximum(0, 500 * np.sin(grid / 86400 * 2 * np.pi))
    start, end = 30000, 60000
    inside = (grid >= start) & (grid < end)

    def run(fault, seed=3):
        return gs.corrupt(np.random.default_rng(seed), fault, start, end, grid, temp.copy(), rh.copy(), co2.copy(),
                          par.copy())
    for fault in ("",) + gs.SENSOR_FAULTS:
        first, again = run(fault), run(fault)
        for x, y in zip(first, again):
            assert np.array_equal(x, y, equal_nan=True), fault
    t, h, c, p = run("temp_sensor_stuck")
    assert len(set(t[inside].tolist())) == 1 and len(set(t[~inside].tolist())) > 100
    t, h, c, p = run("rh_sensor_drift")
    clean_h = run("")[1]
    offset = np.abs(h[inside] - clean_h[inside])
    assert offset[-1] == pytest.approx(0.5 * (end - 300 - start) / 3600, abs=1.5)
    t, h, c, p = run("sensor_dropout")
    gaps = [np.isnan(a[inside]).all() for a in (t, h, c, p)]
    assert gaps.count(True) == 1 and not any(np.isnan(a[~inside]).any() for a in (t, h, c, p))
    t, h, c, p = run("spikes")
    clean = run("")
    jumps = sum(int((np.abs(a - b) > 5).sum()) for a, b in zip((t, h, c), clean[:3]))
    assert 3 <= jumps <= 6


# folder -> the generator's split it was drawn from (dev2 to dev6 are the seed-29, 53, 71, 89 and 107 draws of "test")
@pytest.mark.parametrize("folder_name, split", [("test", "test"), ("dev", "dev"), ("dev2", "test"), ("dev3", "test"), ("dev4", "test"),
                                                ("dev5", "test"), ("dev6", "test"), ("train", "train")])
def test_committed_data_matches_its_manifest(folder_name, split):
    folder = os.path.join(DATA, folder_name)
    if not os.path.exists(os.path.join(folder, "manifest.json")):
        pytest.skip("no committed %s split" % folder_name)
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    assert "greenlight_scenarios.py --split %s" % split in manifest["command"]
    for meta in manifest["scenarios"]:
        assert meta == gs.scenario(split, meta["index"], meta["seed"])
        with open(os.path.join(folder, "scenario_%02d.csv" % meta["index"])) as f:
            lines = f.read().splitlines()
        assert lines[0] == "timestamp_s,air_temp_c,rh_pct,co2_ppm,par_umol_m2_s,fault"
        assert len(lines) - 1 == meta["days"] * 288
        assert int(lines[1].split(",")[0]) == meta["t0_unix"]
        marked = [line.rsplit(",", 1)[1] for line in lines[1:]]
        assert set(marked) == ({"", meta["fault"]} if meta["fault"] else {""})
        assert marked.count(meta["fault"]) * 300 == meta["fault_end_s"] - meta["fault_start_s"] if meta["fault"] else True


@pytest.mark.parametrize("split, days", [("test", 7), ("dev", 4), ("dev2", 7), ("dev3", 7), ("dev4", 7), ("dev5", 7), ("dev6", 7)])
def test_site_histories_end_where_their_scenarios_begin(split, days):
    if not os.path.exists(os.path.join(DATA, split + "_site")):
        pytest.skip("no committed %s_site histories" % split)
    with open(os.path.join(DATA, split, "manifest.json")) as f:
        scenarios = json.load(f)["scenarios"]
    for meta in scenarios:
        with open(os.path.join(DATA, split + "_site", "site_%02d.csv" % meta["index"])) as f:
            lines = f.read().splitlines()
        assert len(lines) - 1 == days * 288 and set(line.rsplit(",", 1)[1] for line in lines[1:]) == {""}
        assert int(lines[-1].split(",")[0]) + 300 == meta["t0_unix"], meta["index"]
