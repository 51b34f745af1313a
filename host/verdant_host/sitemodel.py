"""`verdant train --site HISTORY.csv --out DIR`: the entry point, reading the history and
writing the model file. The model is the 30-minute forecaster of verdant_host.siteresidual
(its forecast error is the anomaly score).

An earlier site model here, a classifier of the history's windows against synthetic
departures (too cold, too warm, CO2 too low or high), learned those few days' weather and
false-alarmed on the next ones (0.45 per week on the GreenLight dev split); it is gone
(git history).

    result = train_site("history.csv", "site_model", progress=print)
"""
import numpy as np

from verdant_host.errors import VerdantError

PERIOD_S = 300
MAX_FALSE_ALARMS_PER_WEEK = 0.1
QUANTITIES = ("air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s", "light_lux", "soil_moisture_pct")


def sensor_set_name(present):
    """Short name of a sensor set: t_rh, t_rh_co2, t_rh_co2_light, ... (+ _soil)."""
    parts = []
    for q, short in (("air_temp_c", "t"), ("rh_pct", "rh"), ("co2_ppm", "co2")):
        if q in present:
            parts.append(short)
    if "par_umol_m2_s" in present or "light_lux" in present:
        parts.append("light")
    if "soil_moisture_pct" in present:
        parts.append("soil")
    return "_".join(parts)


def read_history(path):
    """(timestamps, {quantity: float array with NaN}) from a replay-format CSV."""
    from verdant_host.replay import read_rows
    try:
        with open(path, newline="") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise VerdantError("cannot read %s: %s" % (path, exc.strerror or exc))
    problems = []
    rows = list(read_rows(lines, problems))
    if len(rows) < 2:
        raise VerdantError("%s: too few usable rows (%d)%s" % (path, len(rows), "; " + problems[0] if problems else ""))
    ts = np.array([t for _, t, _ in rows], dtype=np.int64)
    present = [q for q in QUANTITIES if any(v.get(q) is not None for _, _, v in rows)]
    readings = {q: np.array([np.nan if v.get(q) is None else v[q] for _, _, v in rows]) for q in present}
    step = int(np.median(np.diff(ts)))
    if not 60 <= step <= 900:
        raise VerdantError("%s: rows are %d s apart; site training needs 1-15 minute rows" % (path, step))
    return ts, readings


def export(tflite_bytes, names, mean, std, rule, name, labels, window, extra=None):
    """(model file bytes, export report) with the metadata the board needs (extra: a site
    model's own keys, e.g. sensor_habits, levels, label_gates)."""
    from verdant_host.export import export_with_report
    meta = {"name": name, "features": list(names), "norm_mean": [float(v) for v in mean],
            "norm_std": [float(v) for v in std], "labels": list(labels), "window": window, "period_s": PERIOD_S,
            "alert_threshold": float(rule[0]), "alert_consecutive": int(rule[1])}
    meta.update(extra or {})
    return export_with_report(tflite_bytes, meta)


def train_site(history_csv, out_dir, progress=None):
    """`verdant train --site`: DIR/model.bin, DIR/model.tflite and DIR/report.md from a
    site's fault-free history (a deterministic linear fit: no seed, no epochs)."""
    from verdant_host import siteresidual
    return siteresidual.train(history_csv, out_dir, progress=progress)
