"""Site adaptation: `verdant train --site HISTORY.csv --out DIR` on a small fault-free
history gives a loadable int8 model for exactly the history's sensors, bit-exact with
tflite-micro, with its alert threshold set on held-back days; replay runs it."""
import json
import math
import os

import numpy as np
import pytest

from verdant_host import sitemodel
from verdant_host.errors import VerdantError

T0 = 1767225600


def write_history(path, days, columns=("air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s"), seed=0):
    """A heated, CO2-dosed greenhouse: day/night temperature and CO2, RH following them."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        f.write("timestamp_s," + ",".join(columns) + "\n")
        for i in range(days * 288):
            t = T0 + 300 * i
            hour = (i % 288) / 12.0
            sun = max(0.0, math.sin(math.pi * (hour - 7) / 10)) if 7 <= hour <= 17 else 0.0
            values = {"air_temp_c": 17.5 + 4.0 * sun + rng.normal(0, 0.1),
                      "rh_pct": 82.0 - 15.0 * sun + rng.normal(0, 0.8),
                      "co2_ppm": (800.0 if sun > 0 else 450.0) + rng.normal(0, 8),
                      "par_umol_m2_s": 400.0 * sun, "light_lux": 400.0 * sun * 54.0}
            f.write("%d,%s\n" % (t, ",".join("%.2f" % values[c] for c in columns)))


def test_site_training_on_a_small_history(tmp_path):
    history = tmp_path / "history.csv"
    write_history(history, days=4)
    out = tmp_path / "site"
    result = sitemodel.train_site(str(history), str(out), epochs=8)
    assert (out / "model.bin").exists() and (out / "report.md").exists()
    assert result["sensors"] == ["air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s"]
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
    # replay runs it and says so
    from verdant_host.replay import replay
    lines, problems = replay(history.read_text().splitlines(), model=str(out / "model.bin"), kinds=("status",))
    states = [json.loads(line)["p"] for line in lines]
    assert any(s.get("model") == "on" and s.get("why") == "loaded" for s in states), states


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
