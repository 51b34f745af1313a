"""Site adaptation: `verdant train --site HISTORY.csv --out DIR` on a small fault-free
history gives a loadable int8 model for exactly the history's sensors, bit-exact with
tflite-micro, with its alert threshold set on held-back days; replay runs it, it raises on
a heating failure in a day it never saw and stays quiet on a normal one.

CI trains a small model (3 days of history, 12 epochs: ~20 s); VERDANT_SITE_FULL=1 (or
`make site-full`) trains the full-size one (7 days, 25 epochs) with the same checks."""
import json
import math
import os

import numpy as np
import pytest

from verdant_host import sitemodel
from verdant_host.errors import VerdantError

T0 = 1767225600
FULL = os.environ.get("VERDANT_SITE_FULL") == "1"
DAYS, EPOCHS = (7, 25) if FULL else (3, 12)
COLUMNS = ("air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s")


def history_rows(days, columns=COLUMNS, seed=0, first_day=0, cold_from_h=None):
    """A heated, CO2-dosed greenhouse: day/night temperature and CO2, RH following them.
    cold_from_h: the heating fails at this hour of the last day (air falls 8 degC in 2 h)."""
    rng = np.random.default_rng(seed)
    lines = ["timestamp_s," + ",".join(columns)]
    for i in range(first_day * 288, (first_day + days) * 288):
        t = T0 + 300 * i
        hour = (i % 288) / 12.0
        sun = max(0.0, math.sin(math.pi * (hour - 7) / 10)) if 7 <= hour <= 17 else 0.0
        temp = 17.5 + 4.0 * sun + rng.normal(0, 0.1)
        rh = 82.0 - 15.0 * sun + rng.normal(0, 0.8)
        hours_cold = (i - ((first_day + days - 1) * 288 + cold_from_h * 12)) / 12.0 if cold_from_h else -1
        if hours_cold >= 0:
            temp -= 8.0 * min(hours_cold / 2.0, 1.0)
            rh = min(100.0, rh + 6.0 * min(hours_cold / 2.0, 1.0))
        values = {"air_temp_c": temp, "rh_pct": rh, "co2_ppm": (800.0 if sun > 0 else 450.0) + rng.normal(0, 8),
                  "par_umol_m2_s": 400.0 * sun, "light_lux": 400.0 * sun * 54.0}
        lines.append("%d,%s" % (t, ",".join("%.2f" % values[c] for c in columns)))
    return lines


def write_history(path, days, columns=COLUMNS, seed=0):
    with open(path, "w") as f:
        f.write("\n".join(history_rows(days, columns, seed)) + "\n")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    history = folder / "history.csv"
    write_history(history, days=DAYS)
    out = folder / "site"
    result = sitemodel.train_site(str(history), str(out), epochs=EPOCHS)
    return history, out, result


def test_site_training_on_a_small_history(trained):
    history, out, result = trained
    assert (out / "model.bin").exists() and (out / "report.md").exists()
    assert result["sensors"] == list(COLUMNS)
    assert result["features"] == ["air_temp_c", "rh_pct", "co2_ppm", "vpd_kpa", "par_umol_m2_s", "tod_sin", "tod_cos"]
    assert result["held_back_false_alarms_per_week"] <= sitemodel.MAX_FALSE_ALARMS_PER_WEEK
    assert result["synthetic_detected"] >= result["synthetic_total"] // 2, result
    report = (out / "report.md").read_text()
    assert "p >= %.2f for %d" % (result["threshold"], result["consecutive"]) in report
    # the board's engine parses it; its metadata carry the decision rule
    from verdant.engine import load
    engine = load((out / "model.bin").read_bytes())
    assert list(engine.labels) == list(sitemodel.LABELS)
    assert engine.meta["alert_threshold"] == result["threshold"]
    # bit-exact with tflite-micro on the pure-Python backend (the verify path)
    from verdant_host.verify import verify_model
    checked = verify_model((out / "model.bin").read_bytes(), (out / "model.tflite").read_bytes(), samples=20,
                           backends=["cpython"])
    assert checked.ok, checked


def _model_raises(lines, model):
    from verdant_host.replay import replay
    out, problems = replay(lines, model=str(model), kinds=("alert", "status"))
    decoded = [json.loads(line) for line in out]
    assert any(d["p"].get("model") == "on" and d["p"].get("why") == "loaded" for d in decoded), decoded
    return [(d["t"], d["p"]) for d in decoded if d["p"].get("source") == "model" and d["p"].get("event") == "raise"]


def test_site_model_flags_a_heating_failure_and_not_a_normal_day(trained):
    """Days after the history (other noise): quiet when normal; the same day with the heating
    failing at 20:00 raises a model alert after the failure begins."""
    history, out, result = trained
    normal = history_rows(2, seed=7, first_day=DAYS)
    assert _model_raises(normal, out / "model.bin") == []
    failing = history_rows(2, seed=7, first_day=DAYS, cold_from_h=20)
    raises = _model_raises(failing, out / "model.bin")
    assert raises, "no model alert on a heating failure"
    onset = T0 + ((DAYS + 1) * 24 + 20) * 3600
    t, first = raises[0]
    assert onset <= t <= onset + 3 * 3600 and first["type"] in ("too_cold", "too_humid"), raises


def test_site_training_refuses_a_too_short_history(tmp_path):
    history = tmp_path / "short.csv"
    write_history(history, days=2)
    with pytest.raises(VerdantError, match="at least 3 are needed"):
        sitemodel.train_site(str(history), str(tmp_path / "x"), epochs=1)


def test_sensor_set_names_and_features():
    assert sitemodel.sensor_set_name(["air_temp_c", "rh_pct"]) == "t_rh"
    assert sitemodel.sensor_set_name(["air_temp_c", "rh_pct", "co2_ppm", "light_lux", "soil_moisture_pct"]) == \
        "t_rh_co2_light_soil"
    names = sitemodel.feature_names(["air_temp_c", "rh_pct", "light_lux"])
    assert "light_lux" in names and "co2_ppm" not in names and "vpd_kpa" in names
    assert "par_umol_m2_s" in sitemodel.feature_names(["air_temp_c", "par_umol_m2_s", "light_lux"])
