"""A model of a greenhouse's normal behaviour, for any sensor set: an int8 classifier that
tells this greenhouse's normal windows from synthetic departures of the kinds equipment
faults cause (too cold, too warm, too humid, CO2 too low, CO2 too high) and from an RH
sensor drifting away from the site's usual T/RH/CO2/light relation, trained on the
site's own fault-free history (`verdant train --site HISTORY.csv --out DIR`) or on many
simulated greenhouses (the generic per-sensor-set models).

Why synthetic departures: a site's history has no faults in it. Each departure is a
change of the recorded readings from a random moment on (a temperature ramp moves RH
somewhere between keeping the vapour pressure and keeping the RH, as condensation and
vents also act; CO2 decays towards a depleted level or climbs with a stuck valve), labelled once it is large enough to see.
The classifier's "not normal" probability is the anomaly score; its alert threshold and
debounce are chosen on held-back days (never trained on) for at most
MAX_FALSE_ALARMS_PER_WEEK raises there, using the firmware's own alert state machine.

Features (the board's own code, verdant.features, via dataset.rows_to_samples): the state
now, no window (a model that judges the state rather than its motion does not mistake a
new day's weather for a fault): each quantity present; VPD with T and RH; light as PAR
(lux converted with verdant.features.LUX_TO_PAR = 0.0185 umol/m2/s per lux, i.e. ~54 lux
per umol/m2/s in sunlight); time of day. 5-minute rows, a 1-hour window.

    result = train_site("history.csv", "site_model", progress=print)
"""
import math
import os

import numpy as np

from verdant import features as vf
from verdant_host import dataset, report
from verdant_host.errors import VerdantError

PERIOD_S = 300
WINDOW = 1
LABELS = ("normal", "too_cold", "too_warm", "too_humid", "co2_low", "co2_high", "rh_drift")
NEEDS = {"too_cold": "air_temp_c", "too_warm": "air_temp_c", "too_humid": "rh_pct",
         "co2_low": "co2_ppm", "co2_high": "co2_ppm", "rh_drift": "rh_pct"}
VISIBLE = {"air_temp_c": 4.0, "rh_pct": 10.0, "co2_ppm": 250.0, "rh_drift": 6.0}
MAX_FALSE_ALARMS_PER_WEEK = 0.1
QUANTITIES = ("air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s", "light_lux", "soil_moisture_pct")


def feature_names(present):
    """The model's features for a set of measured quantities (see the module docstring)."""
    names = []
    for q in ("air_temp_c", "rh_pct", "co2_ppm", "soil_moisture_pct"):
        if q in present:
            names.append(q)
    if "air_temp_c" in present and "rh_pct" in present:
        names.append("vpd_kpa")
    # light as it is now (day, night, lamps explain the climate); not the day's integral,
    # which follows the weather and puts a model outside what it learned
    if "par_umol_m2_s" in present:
        names.append("par_umol_m2_s")
    elif "light_lux" in present:
        names.append("light_lux")
    return tuple(names + ["tod_sin", "tod_cos"])


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


def _es(t):
    return 0.61121 * np.exp((18.678 - t / 234.5) * (t / (257.14 + t)))


def perturb(readings, kind, start, rng, step_s):
    """A copy of readings with a departure of `kind` from row `start` on; returns
    (new readings, visible) where visible[i] says the departure is large enough to see."""
    out = {q: v.copy() for q, v in readings.items()}
    n = len(next(iter(readings.values())))
    k = np.arange(n) - start
    after = k >= 0
    hours = np.where(after, k * step_s / 3600.0, 0.0)
    visible = np.zeros(n, dtype=bool)
    if kind in ("too_cold", "too_warm"):
        size = rng.uniform(5.0, 12.0) * (-1 if kind == "too_cold" else 1)
        ramp = rng.uniform(0.5, 2.0)
        delta = size * np.minimum(hours / ramp, 1.0) * after
        t_old = readings["air_temp_c"]
        t_new = t_old + delta
        out["air_temp_c"] = t_new
        if "rh_pct" in readings:
            # between the same vapour pressure (alpha 1) and the same RH (alpha 0): a cooling
            # greenhouse also loses vapour to condensation on the cover and to the vents
            alpha = rng.uniform(0.0, 1.0)
            out["rh_pct"] = np.clip(readings["rh_pct"] * (_es(t_old) / _es(t_new)) ** alpha, 0, 100)
        visible = np.abs(delta) >= VISIBLE["air_temp_c"]
    elif kind == "too_humid":
        delta = rng.uniform(10.0, 25.0) * np.minimum(hours / rng.uniform(0.5, 2.0), 1.0) * after
        new = np.clip(readings["rh_pct"] + delta, 0, 100)
        out["rh_pct"] = new
        visible = (new - readings["rh_pct"]) >= VISIBLE["rh_pct"]
    elif kind == "co2_low":
        floor = rng.uniform(250.0, 380.0)
        tau = rng.uniform(0.7, 2.0)
        old = readings["co2_ppm"]
        new = np.where(after, floor + (old - floor) * np.exp(-hours / tau), old)
        new = np.minimum(new, old)
        out["co2_ppm"] = new
        visible = (old - new) >= VISIBLE["co2_ppm"]
    elif kind == "co2_high":
        delta = rng.uniform(300.0, 1200.0) * np.minimum(hours / rng.uniform(0.5, 2.0), 1.0) * after
        out["co2_ppm"] = readings["co2_ppm"] + delta
        visible = delta >= VISIBLE["co2_ppm"]
    elif kind == "rh_drift":  # a drifting RH sensor: the reading leaves the site's usual T/RH relation
        sign = 1.0 if rng.random() < 0.5 else -1.0
        delta = sign * rng.uniform(0.4, 1.5) * hours * after
        new = np.clip(readings["rh_pct"] + delta, 0, 100)
        out["rh_pct"] = new
        visible = np.abs(new - readings["rh_pct"]) >= VISIBLE["rh_drift"]
    else:
        raise ValueError("perturb: unknown kind %r" % kind)
    return out, visible


def _dark(readings):
    """Rows without daylight or lamps (PAR < 5 umol/m2/s, or the lux equivalent); none
    without a light sensor."""
    if "par_umol_m2_s" in readings:
        par = readings["par_umol_m2_s"]
    elif "light_lux" in readings:
        par = readings["light_lux"] * vf.LUX_TO_PAR
    else:
        return np.zeros(len(next(iter(readings.values()))), dtype=bool)
    return np.nan_to_num(par, nan=1e9) < 5.0


def _samples(ts, readings, names):
    steps, x, keep = dataset.rows_to_samples(ts, readings, names, PERIOD_S, WINDOW)
    return steps, x, keep


# humidity departures overlap the weather's own swings in a few days of history: not learned
LEARNED = ("too_cold", "too_warm", "co2_low", "co2_high")


def kinds_for(present):
    return [k for k in LABELS[1:] if NEEDS[k] in present and k in LEARNED]


def build_training(histories, names, present, rng, episodes_per_day=8, episode_h=(3.0, 12.0)):
    """(x, y) from normal windows of each history plus synthetic departures in it."""
    xs, ys = [], []
    kinds = kinds_for(present)
    for ts, readings in histories:
        steps, x, keep = _samples(ts, readings, names)
        xs.append(x[keep])
        ys.append(np.zeros(int(keep.sum()), dtype=np.int64))
        step_s = int(np.median(np.diff(ts)))
        n = len(ts)
        days = max(1, int(round((ts[-1] - ts[0]) / 86400.0)))
        lead = int(3 * 3600 // step_s)
        for _ in range(episodes_per_day * days):
            kind = kinds[int(rng.integers(0, len(kinds)))]
            length = int(rng.uniform(*episode_h) * 3600 // step_s)
            start = int(rng.integers(lead, max(lead + 1, n - 2)))
            lo, hi = start - lead, min(n, start + length)
            seg = {q: v[lo:hi] for q, v in readings.items()}
            new, visible = perturb(seg, kind, start - lo, rng, step_s)
            s_steps, sx, skeep = _samples(ts[lo:hi], new, names)
            vis = visible[s_steps]
            before = (s_steps < start - lo)
            normal = before.copy()   # windows before the onset stay normal examples
            if kind == "co2_low":
                # nobody doses CO2 in the dark: a low level at night is normal, not a fault
                dark = _dark(seg)[s_steps]
                normal |= dark
                vis = vis & ~dark
            pick = skeep & (vis | normal)
            label = np.where(vis, LABELS.index(kind), 0)
            xs.append(sx[pick])
            ys.append(label[pick].astype(np.int64))
    return np.concatenate(xs), np.concatenate(ys)


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
    if "light_lux" in readings and "par_umol_m2_s" not in readings:
        pass  # the board's features convert lux to PAR themselves
    step = int(np.median(np.diff(ts)))
    if not 60 <= step <= 900:
        raise VerdantError("%s: rows are %d s apart; site training needs 1-15 minute rows" % (path, step))
    return ts, readings


def split_days(ts, readings, held_fraction=0.3):
    """(train part, held-back part): the last held_fraction of whole days is held back."""
    days = (ts - ts[0]) // 86400
    total = int(days[-1]) + 1
    held = max(1, int(round(total * held_fraction)))
    if total - held < 2:
        raise VerdantError("site history covers %d day(s); at least 3 are needed (2 to learn from, 1 to set "
                           "the alarm threshold on)" % total)
    cut = np.searchsorted(days, total - held)
    part = lambda a, b: (ts[a:b], {q: v[a:b] for q, v in readings.items()})  # noqa: E731
    return part(0, cut), part(cut, len(ts))


def choose_rule(t, probs, weeks, thresholds=(0.7, 0.8, 0.9, 0.95, 0.98), consecutives=(3, 4, 6, 9, 12)):
    """Most sensitive (threshold, consecutive) from 0.7 up (a day or two held back cannot
    vouch for a lower one) with at most MAX_FALSE_ALARMS_PER_WEEK raises
    on fault-free held-back windows; (rule, raises per week) with the strictest rule when
    none meets it."""
    best = None
    for c in consecutives:
        for th in thresholds:
            raises = len(report.fast_alerts(t, probs, th, c))
            rate = raises / weeks if weeks else 0.0
            if rate <= MAX_FALSE_ALARMS_PER_WEEK:
                if best is None or (th, c) < (best[0][0], best[0][1]):
                    best = ((th, c), rate)
                break
    if best is None:
        th, c = thresholds[-1], consecutives[-1]
        best = ((th, c), len(report.fast_alerts(t, probs, th, c)) / weeks if weeks else 0.0)
        return best
    # a day or two held back is a small sample: keep the threshold MARGIN above the highest
    # score a run of `c` predictions reached there (the next weeks bring other weather)
    (th, c), rate = best
    peak = held_back_peak(probs, c)
    th = max(th, min(thresholds[-1], round(peak + MARGIN, 2)))
    return (th, c), rate


MARGIN = 0.15


def held_back_peak(probs, consecutive):
    """The highest p that some non-normal class kept for `consecutive` predictions in a row."""
    peak = 0.0
    for c in range(1, probs.shape[1]):
        p = probs[:, c]
        if len(p) < consecutive:
            continue
        runs = np.lib.stride_tricks.sliding_window_view(p, consecutive).min(axis=1)
        peak = max(peak, float(runs.max()))
    return peak


def fit(x, y, names, seed=1, epochs=25, hidden=(24, 12), say=None):
    """Keras MLP -> (keras model, mean, std, int8 tflite bytes)."""
    from verdant_host.train import build_keras_model, class_weights, quantize, _quiet_tensorflow
    _quiet_tensorflow()
    import keras
    import tensorflow as tf
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    mean, std = dataset.normalization(x, len(names))
    xn = dataset.normalize(x, mean, std)
    model = build_keras_model(xn.shape[1], len(LABELS), hidden)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(xn, y, batch_size=128, epochs=epochs, verbose=0, shuffle=True,
              class_weight=class_weights(y, len(LABELS)))
    pick = np.random.default_rng(seed).choice(len(xn), min(400, len(xn)), replace=False)
    tflite_bytes = quantize(model, xn[np.sort(pick)])
    if say:
        say("trained on %d windows, class counts %s" % (len(y), np.bincount(y, minlength=len(LABELS)).tolist()))
    return model, mean, std, tflite_bytes


def held_back_scores(runner, held, names, mean, std, present, rng):
    """(t, probs, weeks) on the held-back normal windows and the synthetic detection rate
    on departures injected into them: (detected, total, median delay in minutes)."""
    ts, readings = held
    steps, x, keep = _samples(ts, readings, names)
    probs = runner.predict(dataset.normalize(x[keep], mean, std))
    t = ts[steps][keep]
    weeks = max((ts[-1] - ts[0]) / (7 * 86400.0), 1e-9)
    return t, probs, weeks


def synthetic_detection(runner, held, names, mean, std, present, rule, rng, count=20):
    ts, readings = held
    step_s = int(np.median(np.diff(ts)))
    kinds = kinds_for(present)
    detected, delays = 0, []
    n = len(ts)
    lead = int(3 * 3600 // step_s)
    length = int(6 * 3600 // step_s)
    for i in range(count):
        kind = kinds[i % len(kinds)]
        start = int(rng.integers(lead, max(lead + 1, n - length)))
        lo, hi = start - lead, min(n, start + length)
        seg = {q: v[lo:hi] for q, v in readings.items()}
        new, visible = perturb(seg, kind, start - lo, rng, step_s)
        s_steps, sx, skeep = _samples(ts[lo:hi], new, names)
        if not skeep.any():
            continue
        probs = runner.predict(dataset.normalize(sx[skeep], mean, std))
        t = ts[lo:hi][s_steps][skeep]
        spans = report.fast_alerts(t, probs, rule[0], rule[1])
        onset = ts[start]
        hits = [t[r] for _, r, _ in spans if t[r] >= onset]
        if hits:
            detected += 1
            delays.append((min(hits) - onset) / 60.0)
    return detected, count, (float(np.median(delays)) if delays else None)


def export(tflite_bytes, names, mean, std, rule, name):
    from verdant_host.export import export_with_report
    meta = {"name": name, "features": list(names), "norm_mean": [float(v) for v in mean],
            "norm_std": [float(v) for v in std], "labels": list(LABELS), "window": WINDOW, "period_s": PERIOD_S,
            "alert_threshold": float(rule[0]), "alert_consecutive": int(rule[1])}
    return export_with_report(tflite_bytes, meta)


def train_site(history_csv, out_dir, seed=1, epochs=25, progress=None):
    """`verdant train --site`: DIR/model.bin and DIR/report.md from a site's fault-free history."""
    from verdant_host.train import Int8Runner
    say = progress or (lambda msg: None)
    ts, readings = read_history(history_csv)
    present = [q for q in readings if np.isfinite(readings[q]).any()]
    if "air_temp_c" not in present and "co2_ppm" not in present and "rh_pct" not in present:
        raise VerdantError("%s: no air temperature, RH or CO2 column; the site model needs at least one" % history_csv)
    names = feature_names(present)
    train_part, held = split_days(ts, readings)
    say("site history: %d rows, %.1f days, sensors %s; learning from %.1f days, %.1f days held back" % (
        len(ts), (ts[-1] - ts[0]) / 86400.0, ", ".join(present), (train_part[0][-1] - train_part[0][0]) / 86400.0,
        (held[0][-1] - held[0][0]) / 86400.0))
    rng = np.random.default_rng(seed)
    x, y = build_training([train_part], names, present, rng)
    model, mean, std, tflite_bytes = fit(x, y, names, seed, epochs, say=say)
    runner = Int8Runner(tflite_bytes)
    t, probs, weeks = held_back_scores(runner, held, names, mean, std, present, rng)
    rule, fa_rate = choose_rule(t, probs, weeks)
    det = synthetic_detection(runner, held, names, mean, std, present, rule, np.random.default_rng(seed + 1))
    model_bytes, exp = export(tflite_bytes, names, mean, std, rule, "verdant-site-" + sensor_set_name(present))
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "model.bin"), "wb") as f:
        f.write(model_bytes)
    with open(os.path.join(out_dir, "model.tflite"), "wb") as f:
        f.write(tflite_bytes)
    result = {"history": os.path.basename(history_csv), "rows": int(len(ts)), "sensors": present,
              "features": list(names), "labels": list(LABELS), "train_windows": int(len(y)),
              "class_counts": np.bincount(y, minlength=len(LABELS)).tolist(),
              "held_back_days": round((held[0][-1] - held[0][0]) / 86400.0, 2),
              "threshold": rule[0], "consecutive": rule[1], "held_back_false_alarms_per_week": fa_rate,
              "synthetic_detected": det[0], "synthetic_total": det[1], "synthetic_median_delay_min": det[2],
              "model_bytes": len(model_bytes), "arena_bytes": exp.arena_bytes}
    write_site_report(os.path.join(out_dir, "report.md"), result, history_csv)
    say("wrote %s (%d bytes): threshold %.2f x %d, %.2f false alarms/week on held-back days, %d of %d synthetic "
        "departures caught" % (os.path.join(out_dir, "model.bin"), len(model_bytes), rule[0], rule[1], fa_rate,
                               det[0], det[1]))
    return result


def write_site_report(path, r, history_csv):
    delay = "-" if r["synthetic_median_delay_min"] is None else "%.0f min" % r["synthetic_median_delay_min"]
    lines = [
        "# Site model report", "",
        "Made by `verdant train --site %s --out %s`." % (history_csv, os.path.dirname(path) or "."), "",
        "A classifier of this greenhouse's normal windows against synthetic departures (too cold, too warm, "
        "too humid, CO2 too low or too high; see host/verdant_host/sitemodel.py). Its alert threshold is set on "
        "the held-back days, which it never trained on.", "",
        "| item | value |", "| --- | --- |",
        "| history rows | %d |" % r["rows"],
        "| sensors | %s |" % ", ".join(r["sensors"]),
        "| features | %s |" % ", ".join(r["features"]),
        "| training windows (per class) | %d (%s) |" % (r["train_windows"], ", ".join(
            "%s %d" % (l, c) for l, c in zip(r["labels"], r["class_counts"]))),
        "| held-back days | %.2f |" % r["held_back_days"],
        "| alert rule | p >= %.2f for %d predictions in a row |" % (r["threshold"], r["consecutive"]),
        "| false alarms per week on held-back days | %.2f (target <= %.1f) |" % (
            r["held_back_false_alarms_per_week"], MAX_FALSE_ALARMS_PER_WEEK),
        "| synthetic departures caught on held-back days | %d of %d, median delay %s |" % (
            r["synthetic_detected"], r["synthetic_total"], delay),
        "| model file | %d bytes, arena %d bytes |" % (r["model_bytes"], r["arena_bytes"]), "",
        "Use it: `verdant replay CSV --model %s`, `make deploy MODEL=%s`." % (
            os.path.join(os.path.dirname(path), "model.bin"), os.path.join(os.path.dirname(path), "model.bin")),
        "A held-back period shorter than a week makes the false-alarm figure coarse (one raise = %.1f per week)."
        % (7.0 / max(r["held_back_days"], 1e-9)), "",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines))
