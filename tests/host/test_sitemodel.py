"""Site adaptation: `verdant train --site HISTORY.csv --out DIR` on a small fault-free
history gives a loadable int8 forecaster for exactly the history's sensors, bit-exact with
tflite-micro, with its thresholds set on held-back days (each day in turn); replay runs it,
it raises on a heating failure in a day it never saw and stays quiet on a normal one.

CI trains on 3 days of history (a linear solve and one int8 conversion: a few seconds);
VERDANT_SITE_FULL=1 (or `make site-full`) uses 7 days with the same checks."""
import json
import math
import os

import numpy as np
import pytest

from verdant_host import siteresidual, sitemodel
from verdant_host.errors import VerdantError

T0 = 1767225600
FULL = os.environ.get("VERDANT_SITE_FULL") == "1"
DAYS = 7 if FULL else 3
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
    result = sitemodel.train_site(str(history), str(out))
    return history, out, result


def test_site_training_on_a_small_history(trained):
    history, out, result = trained
    assert (out / "model.bin").exists() and (out / "report.md").exists()
    assert result["sensors"] == list(COLUMNS)
    assert result["features"] == ["air_temp_c", "co2_ppm", "rh_pct", "par_umol_m2_s", "tod_sin", "tod_cos"]
    assert result["labels"] == ["%s_%s_%dm" % (q, way, minutes) for minutes in (10, 30)
                                for q in ("temp", "co2", "rh") for way in ("rise", "drop")]
    assert result["history_raises"] == 0   # the final int8 model is quiet on the history it learned
    # the int8 network decides as the float forecaster it was built from
    assert result["int8_float_agreement"] >= 0.99, result
    # the synthetic history's noise is far below the floors: the floors are the thresholds
    floor = siteresidual.FLOOR["air_temp_c"]
    for label in ("temp_drop_10m", "temp_drop_30m"):
        assert floor <= result["thresholds"][label] == round(floor * (1 + result["int8_guard"][label]), 3), result
    report = (out / "report.md").read_text()
    assert "p >= %.2f for %d" % (result["threshold"], result["consecutive"]) in report
    # the board's engine parses it; its metadata carry the decision rule
    from verdant.engine import load
    engine = load((out / "model.bin").read_bytes())
    assert list(engine.labels) == result["labels"]
    assert engine.meta["alert_threshold"] == 0.5 and engine.meta["alert_consecutive"] == siteresidual.CONSECUTIVE
    assert engine.meta["window"] == siteresidual.WINDOW
    # bit-exact with tflite-micro on random inputs and on the history's own windows, in CPython
    # and on the board's pure-Python and viper backends (MicroPython Unix port)
    from verdant_host.train import Int8Runner
    from verdant_host.verify import verify_model
    ts, readings = sitemodel.read_history(str(history))
    _, x = siteresidual.windows(ts, {q: readings[q] for q in engine.meta["features"][:4]}, engine.meta["features"])
    scaled = (x - np.tile(engine.meta["norm_mean"], siteresidual.WINDOW)) / np.tile(engine.meta["norm_std"],
                                                                                     siteresidual.WINDOW)
    real = Int8Runner((out / "model.tflite").read_bytes()).quantize_input(scaled[::40])
    from verdant_host import paths
    board = ["micropython-python", "micropython-viper"] if os.path.exists(paths.micropython()) else []
    checked = verify_model((out / "model.bin").read_bytes(), (out / "model.tflite").read_bytes(), samples=20,
                           backends=["cpython"] + board,
                           inputs=[row.tobytes() for row in real])
    assert checked.ok and all(b.skipped is None for b in checked.backends), checked.format()


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
    assert onset <= t <= onset + 3600 and first["type"].startswith("temp_drop_"), raises


def test_a_screen_step_in_a_calm_night_is_no_alert(trained):
    """A day after the history with a control step the history never showed: at 02:30 the air
    drops 2.2 degC in ten minutes (a screen moving, letting cold air down; GreenLight dev4
    scenario 8's dusk did 2.4 in 20) and is back within 40 minutes. The calm hour's held-back
    errors are tenths; with a 1 degC floor the 30-minute temp_drop raised on it, the 1.5 degC
    floor holds it (the heating failure above still raises)."""
    history, out, result = trained
    day = history_rows(1, seed=9, first_day=DAYS)
    t_col = day[0].split(",").index("air_temp_c")
    start = 1 + 2 * 12 + 6   # 02:30
    for k, drop in enumerate((1.1, 2.2, 2.2, 2.0, 1.6, 1.1, 0.6, 0.2)):
        cells = day[start + k].split(",")
        cells[t_col] = "%.2f" % (float(cells[t_col]) - drop)
        day[start + k] = ",".join(cells)
    assert _model_raises(day, out / "model.bin") == []


def test_site_training_refuses_a_too_short_history(tmp_path):
    history = tmp_path / "short.csv"
    write_history(history, days=2)
    with pytest.raises(VerdantError, match="at least 3 are needed"):
        sitemodel.train_site(str(history), str(tmp_path / "x"))


def test_site_training_refuses_a_history_without_light(tmp_path):
    history = tmp_path / "dark.csv"
    write_history(history, days=3, columns=("air_temp_c", "rh_pct"))
    with pytest.raises(VerdantError, match="no light column"):
        sitemodel.train_site(str(history), str(tmp_path / "x"))


def _thresholds(lines, at_hour):
    """Each direction's threshold at hour `at_hour` of the history (windows ending then)."""
    header = lines[0].split(",")
    rows = [[float(v) for v in line.split(",")] for line in lines[1:]]
    ts = np.array([int(r[0]) for r in rows], dtype=np.int64)
    readings = {q: np.array([r[header.index(q)] for r in rows]) for q in header[1:]}
    design = siteresidual.Design(["air_temp_c", "co2_ppm", "rh_pct"], "par_umol_m2_s")
    t, x = siteresidual.windows(ts, readings, design.names)
    weights, thresholds, peaks = siteresidual.fit_site(t, x, design, ts[0])
    units = design.nonlinear(design.columns(x))
    k = int(np.searchsorted(t, ts[0] + at_hour * 3600))
    return {key: float(th.at(units[k])) for key, th in thresholds.items()}, thresholds


def test_thresholds_come_from_the_held_back_days():
    """The same history with, on its second night, a 2.5 degC drop in 30 min and back (a
    door left open): with that day held back the forecaster fitted on the others misses
    it, so the 30-minute temp_drop threshold covers it (margin x what that day kept); on the quiet
    history it is the floor. CO2 thresholds hardly move."""
    lines = history_rows(4)
    quiet, quiet_th = _thresholds(lines, 24 + 2.5)
    assert quiet_th[("air_temp_c", -1)].base == siteresidual.FLOOR["air_temp_c"], quiet
    t_col = lines[0].split(",").index("air_temp_c")
    door = list(lines)
    for k in range(12):   # rows 02:00-03:00 of day 2: -2.5 degC over 30 min, then back
        i = 1 + 288 + 24 + k
        cells = door[i].split(",")
        cells[t_col] = "%.2f" % (float(cells[t_col]) - 2.5 * (k if k <= 6 else 12 - k) / 6.0)
        door[i] = ",".join(cells)
    opened, _ = _thresholds(door, 24 + 2.5)
    margin = siteresidual.Design(["air_temp_c"], "par_umol_m2_s").margin
    # quiet: the 1.5 degC floor and a little spread at 02:30; opened: 2 x the door's 2.5 degC
    assert quiet[("air_temp_c", -1)] < 3.0 and opened[("air_temp_c", -1)] >= margin * 2.0, (quiet, opened)
    assert abs(opened[("co2_ppm", -1)] - quiet[("co2_ppm", -1)]) < 0.1 * quiet[("co2_ppm", -1)], (quiet, opened)



def test_sensor_set_names():
    assert sitemodel.sensor_set_name(["air_temp_c", "rh_pct"]) == "t_rh"
    assert sitemodel.sensor_set_name(["air_temp_c", "rh_pct", "co2_ppm", "light_lux", "soil_moisture_pct"]) == \
        "t_rh_co2_light_soil"


def test_lux_history_gives_the_same_forecaster_as_par():
    """A lux sensor feeds the forecaster through the board's factor: a history in lux and
    the same history in PAR give the same regressors."""
    par = siteresidual.Design(["air_temp_c"], "par_umol_m2_s")
    lux = siteresidual.Design(["air_temp_c"], "light_lux")
    rng = np.random.default_rng(3)
    x_par = rng.uniform(0, 500, size=(20, siteresidual.WINDOW * 4))
    x_lux = x_par.copy()
    for row in range(siteresidual.WINDOW):
        x_lux[:, row * 4 + 1] = x_par[:, row * 4 + 1] / 0.0185
    np.testing.assert_allclose(par.regressors(x_par)[1], lux.regressors(x_lux)[1], rtol=1e-9, atol=1e-9)


def test_train_command_reports_the_site_model(trained, tmp_path, monkeypatch, capsys):
    """`verdant train --site` prints the summary of what train_site returned."""
    from verdant_host import cli
    from verdant_host.commands import train as train_command
    history, out, result = trained
    monkeypatch.setattr(train_command, "site_command", lambda *args, **kwargs: result)
    assert cli.main(["train", "--site", str(history), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "site model: 12 labels" in printed and "0 raises on the history" in printed, printed
    assert cli.main(["train", "--site", str(history), "--out", str(tmp_path), "--epochs", "5"]) == 1
    assert "--site takes only --out" in capsys.readouterr().err
