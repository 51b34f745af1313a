"""Site training entry point (`verdant train --site`, which runs the forecaster of
verdant_host.siteresidual) and the classifier the generic per-sensor-set models use
(setmodels.py): an int8 classifier that
tells a greenhouse's normal windows from synthetic departures of the kinds equipment
faults cause (too cold, too warm, too humid, CO2 too low, CO2 too high) and from an RH
sensor drifting away from the usual T/RH/CO2/light relation, trained on many simulated
greenhouses. (It was the site model first; on a site's few days of history it learned
those days' weather and false-alarmed on the next ones, see siteresidual.py.)

Why synthetic departures: a site's history has no faults in it. Each departure is a
change of the recorded readings from a random moment on (a temperature ramp moves RH
somewhere between keeping the vapour pressure and keeping the RH, as condensation and
vents also act; CO2 decays towards a depleted level or climbs with a stuck valve), labelled once it is large enough to see.
The classifier's "not normal" probability is the anomaly score; setmodels.py chooses its
alert threshold and debounce on held-back greenhouses for at most
MAX_FALSE_ALARMS_PER_WEEK raises there, using the firmware's own alert state machine.

Features (the board's own code, verdant.features, via dataset.rows_to_samples): the state
now, no window (a model that judges the state rather than its motion does not mistake a
new day's weather for a fault): each quantity present; VPD with T and RH; light as PAR
(lux converted with verdant.features.LUX_TO_PAR = 0.0185 umol/m2/s per lux, i.e. ~54 lux
per umol/m2/s in sunlight); time of day. 5-minute rows, a 1-hour window.

    result = train_site("history.csv", "site_model", progress=print)
"""
import numpy as np

from verdant import features as vf
from verdant_host import dataset
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


def export(tflite_bytes, names, mean, std, rule, name, labels=LABELS, window=WINDOW):
    from verdant_host.export import export_with_report
    meta = {"name": name, "features": list(names), "norm_mean": [float(v) for v in mean],
            "norm_std": [float(v) for v in std], "labels": list(labels), "window": window, "period_s": PERIOD_S,
            "alert_threshold": float(rule[0]), "alert_consecutive": int(rule[1])}
    return export_with_report(tflite_bytes, meta)


def train_site(history_csv, out_dir, seed=1, epochs=None, progress=None):
    """`verdant train --site`: DIR/model.bin and DIR/report.md from a site's fault-free history.

    The site model is the 30-minute forecaster of verdant_host.siteresidual (its error is the
    anomaly score); the classifier of synthetic departures in this module was tried first
    and false-alarmed on new weather (0.45 per week on the GreenLight dev split), it remains
    the trainer of the generic per-sensor-set models (setmodels.py). seed and epochs are
    accepted for compatibility: the forecaster is a deterministic linear solve."""
    from verdant_host import siteresidual
    return siteresidual.train(history_csv, out_dir, progress=progress)
