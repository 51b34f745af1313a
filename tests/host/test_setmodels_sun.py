"""Set models' sun gates on the host: the training's rows and rule follow the same sun the
board's alert engine does (verdant.sun), the data's site agrees with its own daylight, the
exported model carries sun gates and the clock-hour fallback, and replay and deploy take
the board's place (checked, naming the key) and say what the gates follow."""
import os

import numpy as np
import pytest

from verdant.alerts import AlertEngine
from verdant.engine.modelfile import parse
from verdant.hal import FIRMWARE_EPOCH
from verdant.modelmeta import check_meta
from verdant_host import fieldclassifier as fc
from verdant_host import fieldeval, paths, replay
from verdant_host.errors import VerdantError

HOUR = 3600
COLD = fc.LABELS.index("too_cold")
JUN21_2026 = 20625 * 86400
DEC01_2025 = 20423 * 86400
TRAIN = os.path.join(paths.REPO_DIR, "data", "greenlight", "train")
SET_MODEL = os.path.join(paths.MODELS_DIR, "sets", "t_rh_co2", "model.bin")


def _board_cold_raises(site, t, probs, meta):
    engine = AlertEngine(site=site)
    engine.adopt_model(meta)
    out = []
    for i in range(len(t)):
        for ev in engine.update_model(int(t[i]) - FIRMWARE_EPOCH, list(fc.LABELS), [float(v) for v in probs[i]],
                                      {"air_temp_c": 15.0, "co2_ppm": 400.0}):
            if ev["event"] == "raise" and ev["type"] == "too_cold":
                out.append(i)
    return out


@pytest.mark.parametrize("day0", [JUN21_2026, DEC01_2025], ids=["june", "december"])
def test_the_training_rule_and_the_board_follow_the_same_sun(day0):
    site = (52.0, 4.5)
    hours = [h < 7 or h >= 19 for h in range(24)]     # the fallback clock hours
    rule = (0.9, 3)
    meta = dict(fc.gate_meta(hours), **fc.sun_meta())
    meta.update(alert_threshold=rule[0], alert_consecutive=rule[1], labels=list(fc.LABELS))
    check_meta(meta)
    t = np.arange(0, 86400, 300, dtype=np.int64) + day0
    probs = np.tile([0.97, 0.01, 0.01, 0.01], (len(t), 1))
    spells = [(10, 11), (16, 17), (19, 20), (22, 23)]   # cold spells by day, at dusk and at night
    hour = (t - day0) / HOUR
    for a, b in spells:
        probs[(hour >= a) & (hour < b)] = [0.02, 0.96, 0.01, 0.01]
    board = _board_cold_raises(site, t, probs, meta)
    down = fc.sun_down_rows(t, site)
    assert board and all(down[i] for i in board), [hour[i] for i in board]
    raised_h = sorted({int(hour[i]) for i in board})
    if day0 == JUN21_2026:
        assert raised_h == [22], raised_h           # 16:00 and 19:00 are sunlit in June
    else:
        assert raised_h == [16, 19, 22], raised_h   # sunset ~15:30 UTC on 1 December
    clear = fc.report.firmware_alert_settings(*rule)["model_clear"]
    fast = sorted(r for c, r, _ in fc.report.fast_alerts(t, fc.gated(t, probs, site, clear), *rule) if c == COLD)
    assert fast == board
    # the same model on a board without a place: the clock hours (19:00 raises even in June)
    fallback = sorted({int(hour[i]) for i in _board_cold_raises(None, t, probs, meta)})
    assert fallback == [19, 22], fallback


def test_the_data_site_agrees_with_the_datas_own_daylight():
    """GREENLIGHT_SITE (Bleiswijk on the data's clock) against the PAR of a greenhouse without
    lamps: with the sun down it is dark; without the clock's hour (Bleiswijk on UTC) it is not."""
    import json
    if not os.path.exists(os.path.join(TRAIN, "manifest.json")):
        pytest.skip("no GreenLight train split")
    with open(os.path.join(TRAIN, "manifest.json")) as f:
        lampless = [m for m in json.load(f)["scenarios"] if not m["greenhouse"]["lamps"]]
    path = os.path.join(TRAIN, "scenario_%02d.csv" % lampless[0]["index"])
    cols = fieldeval.read_columns(path)
    ts = cols["timestamp_s"].astype(np.int64)
    lit = np.nan_to_num(cols["par_umol_m2_s"], nan=0.0) >= 5.0
    down = fc.sun_down_rows(ts, fieldeval.GREENLIGHT_SITE)
    assert lit[down].mean() < 0.02, lit[down].mean()      # sun down: dark
    assert lit[~down].mean() > 0.85, lit[~down].mean()    # sun up: daylight (but the first and last minutes)
    utc = fc.sun_down_rows(ts, fieldeval.GREENLIGHT_PLACE)
    assert lit[utc].mean() > 0.04                         # an hour off: daylight in the "dark" evenings


def test_a_set_model_with_sun_gates_is_exported_with_its_fallback():
    folder = os.path.dirname(SET_MODEL)
    if not os.path.exists(os.path.join(folder, "model.tflite")):
        pytest.skip("no committed T+RH+CO2 set model")
    with open(os.path.join(folder, "model.tflite"), "rb") as f:
        tflite = f.read()
    with open(SET_MODEL, "rb") as f:
        shipped = parse(f.read()).meta
    names, mean, std = shipped["features"], np.array(shipped["norm_mean"]), np.array(shipped["norm_std"])
    hours = [h < 7 or h >= 19 for h in range(24)]
    data, _ = fc.export(tflite, names, mean, std, (0.9, 3), "tiny-sun", hours, dict(fc.HOUR_GATES), sun=True)
    meta = parse(data).meta
    assert meta["sun_gates"] == {"too_cold": "down", "co2_low": "up"}
    assert meta["label_gates"]["too_cold"] == ["air_temp_c", "below"]   # the fallback travels too
    plain, _ = fc.export(tflite, names, mean, std, (0.9, 3), "tiny-sun", hours, dict(fc.HOUR_GATES))
    assert "sun_gates" not in parse(plain).meta


def test_replay_and_deploy_take_the_place_checked_and_say_what_the_gates_follow(tmp_path):
    with pytest.raises(VerdantError, match="latitude_deg: expected degrees -90..90"):
        replay.with_place("sim", 95.0, 4.5)
    with pytest.raises(VerdantError, match="longitude_deg"):
        replay.with_place("sim", 52.0, 200.0)
    placed = replay.with_place("sim", 52.0, 4.5)
    assert (placed["latitude_deg"], placed["longitude_deg"]) == (52.0, 4.5)
    assert "latitude_deg" not in replay.with_place("sim")
    if not os.path.exists(SET_MODEL) or "sun_gates" not in parse(open(SET_MODEL, "rb").read()).meta:
        pytest.skip("the shipped T+RH+CO2 set model has no sun gates")
    assert replay.gates_note(placed, SET_MODEL) == "sun at 52.00, 4.50"
    assert "clock hours of the training site" in replay.gates_note("sim", SET_MODEL)
    assert replay.gates_note("sim", paths.DEFAULT_MODEL) is None   # a model without sun gates
