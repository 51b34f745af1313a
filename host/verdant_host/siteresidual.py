"""The site model behind `verdant train --site`: a 30-minute forecaster of this greenhouse's
air temperature, CO2 and RH, whose forecast error is the anomaly score.

For each measured quantity q (air temperature, CO2, RH) the change of q over the last
LAG rows (30 min of 5-minute rows) is predicted from what the greenhouse's own control
answers to: the time of day (the climate computer's schedule: setpoints, lamps, dosing),
the light now and LAG rows ago (sun, lamps switching), and every quantity's level LAG rows
ago. The predictor is ridge regression on a fixed basis (time-of-day bumps, light
hinges), so training is a linear solve: deterministic, seconds, no TensorFlow fit.
The residual r = actual change - predicted change is near zero when the greenhouse does
what it did in its history; a failed heater, a stuck CO2 valve, dosing that stops or a
vent that changes state moves it. Why a change and not a level: levels follow the weather
(a sunny day is warmer), which a few days of history cannot cover; how fast the air moves
at a given hour and light is what the control fixes.

Thresholds, one per quantity and direction: each history day is held back in turn, the
predictor is fitted on the other days, and the largest residual that the held-back day
kept for CONSECUTIVE predictions in a row, times MARGIN, is the threshold (never below
FLOOR). With every day held back once, the held-back days raise nothing, which is the
<= MAX_FALSE_ALARMS_PER_WEEK target on the days available; MARGIN is for the weather
that comes after.

On the board it is one int8 model run by the same engine (FC + RELU, FC + LOGISTIC):
input = the last LAG + 1 feature rows (window), hidden = time-of-day bumps
relu(sin a_k sin t + cos a_k cos t - cos w), light hinges relu(par - p_j), relu(+-dpar)
and each quantity's linear residual part as a pair relu(+L), relu(-L); output per label
(quantity, direction) = logistic(SHARPNESS * (+-r / threshold - 1)), so p >= 0.5 exactly
when the residual passes its threshold. The metadata carry alert_threshold 0.5 and
alert_consecutive CONSECUTIVE, which verdant.alerts uses as for any model.

    result = train("history.csv", "site_model", progress=print)
"""
import math
import os

import numpy as np

from verdant import features as vf
from verdant_host import dataset
from verdant_host.errors import VerdantError

PERIOD_S = 300
LAG = 6                       # rows: the forecast horizon, 30 min at 5-minute rows
WINDOW = LAG + 1
CONSECUTIVE = 3               # predictions in a row beyond the threshold to raise (15 min)
MARGIN = 3.0                  # threshold = MARGIN x the largest held-back residual run
SHARPNESS = 4.0               # logit per threshold unit: p = 0.5 at the threshold
MAX_FALSE_ALARMS_PER_WEEK = 0.1
TARGETS = ("air_temp_c", "co2_ppm", "rh_pct")
SHORT = {"air_temp_c": "temp", "co2_ppm": "co2", "rh_pct": "rh"}
# smallest threshold per quantity (30-minute change): below these, the sensor's own noise
# and resolution decide, not the greenhouse
FLOOR = {"air_temp_c": 1.0, "co2_ppm": 60.0, "rh_pct": 6.0}
# the scale each quantity's level enters the regression with (keeps the ridge penalty fair)
LEVEL_SCALE = {"air_temp_c": 5.0, "co2_ppm": 300.0, "rh_pct": 10.0}
TOD_BUMPS = 24                # time-of-day basis: one bump per hour ...
BUMP_WIDTH = 1.5              # ... 1.5 hours wide
PAR_SCALE = 200.0             # umol/m2/s per unit in the regression
PAR_HINGES = (0.02, 0.25, 0.5, 1.0, 2.0)   # x PAR_SCALE umol/m2/s
RIDGE = 1.0
QUANTITIES = ("air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s", "light_lux", "soil_moisture_pct")


def labels_for(targets):
    """Model outputs: a rise and a drop label per forecast quantity."""
    out = []
    for q in targets:
        out += [SHORT[q] + "_rise", SHORT[q] + "_drop"]
    return out


def feature_names(targets, light):
    """Per-row features: the forecast quantities, the light (PAR or lux), time of day."""
    return tuple(list(targets) + [light, "tod_sin", "tod_cos"])


def _bump_angles():
    return 2 * math.pi * np.arange(TOD_BUMPS) / TOD_BUMPS


class Design:
    """The regression basis for one site: which targets and light column, and the
    mapping from a model input row (raw feature values of the window) to regressors."""

    def __init__(self, targets, light):
        self.targets = list(targets)
        self.light = light
        self.names = feature_names(targets, light)
        self.par_factor = vf.LUX_TO_PAR if light == "light_lux" else 1.0

    def columns(self, x):
        """x: raw (not normalized) windows, shape (n, WINDOW * features) -> dict of arrays."""
        f = len(self.names)
        w = x.reshape(len(x), WINDOW, f)
        now, before = w[:, -1, :], w[:, 0, :]
        idx = {n: i for i, n in enumerate(self.names)}
        par_now = now[:, idx[self.light]] * self.par_factor / PAR_SCALE
        par_before = before[:, idx[self.light]] * self.par_factor / PAR_SCALE
        return {"now": now, "before": before, "idx": idx, "par_now": par_now, "par_before": par_before}

    def nonlinear(self, c):
        """Hidden units that are not linear in the input: bumps, hinges, |dpar| parts."""
        ang = _bump_angles()
        cos_w = math.cos(2 * math.pi / TOD_BUMPS * BUMP_WIDTH)
        s, co = c["now"][:, c["idx"]["tod_sin"]], c["now"][:, c["idx"]["tod_cos"]]
        bumps = np.maximum(s[:, None] * np.sin(ang)[None] + co[:, None] * np.cos(ang)[None] - cos_w, 0) / (1 - cos_w)
        hinges = np.maximum(c["par_now"][:, None] - np.array(PAR_HINGES)[None], 0)
        dpar = c["par_now"] - c["par_before"]
        return np.concatenate([bumps, hinges, np.maximum(dpar, 0)[:, None], np.maximum(-dpar, 0)[:, None]], 1)

    def linear(self, c):
        """Regressors linear in the input (and the constant)."""
        cols = [c["par_now"], c["par_before"]]
        for q in self.targets:
            cols.append(c["before"][:, c["idx"][q]] / LEVEL_SCALE[q])
        return np.stack(cols + [np.ones(len(c["now"]))], 1)

    def target(self, c, q):
        return c["now"][:, c["idx"][q]] - c["before"][:, c["idx"][q]]

    def regressors(self, x):
        c = self.columns(x)
        return c, np.concatenate([self.nonlinear(c), self.linear(c)], 1)


def ridge(a, y, lam=RIDGE):
    ok = np.isfinite(y) & np.isfinite(a).all(1)
    a, y = a[ok], y[ok]
    if len(y) < a.shape[1]:
        raise VerdantError("site history: too few complete rows (%d) to learn from" % len(y))
    return np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ y)


def run_peak(r, n):
    """The largest value r kept for n values in a row (-inf when shorter than n)."""
    r = np.nan_to_num(np.asarray(r, dtype=float), nan=-np.inf)
    if len(r) < n:
        return -np.inf
    return float(np.lib.stride_tricks.sliding_window_view(r, n).min(axis=1).max())


def windows(ts, readings, names):
    """(sample times, raw windows) the board would build from these rows (verdant.features)."""
    steps, x, keep = dataset.rows_to_samples(ts, readings, names, PERIOD_S, WINDOW)
    return ts[steps][keep], x[keep].astype(np.float64)


def day_of(t, t0):
    return ((t - t0) // 86400).astype(np.int64)


def fit_site(t, x, design, t0):
    """{q: weights} on all rows, {(q, sign): threshold} from days held back in turn, and the
    held-back residual peaks."""
    c, a = design.regressors(x)
    days = day_of(t, t0)
    weights, thresholds, peaks = {}, {}, {}
    for q in design.targets:
        y = design.target(c, q)
        weights[q] = ridge(a, y)
        held = np.full(len(y), np.nan)
        for d in np.unique(days):
            w = ridge(a[days != d], y[days != d])
            held[days == d] = y[days == d] - a[days == d] @ w
        for sign in (1, -1):
            peak = max(run_peak(sign * held[days == d], CONSECUTIVE) for d in np.unique(days))
            peaks[(q, sign)] = peak
            thresholds[(q, sign)] = max(FLOOR[q], MARGIN * peak)
    return weights, thresholds, peaks


def residuals(x, design, weights):
    """{q: actual - predicted 30-minute change} in float (the model's intent)."""
    c, a = design.regressors(x)
    return {q: design.target(c, q) - a @ weights[q] for q in design.targets}


def build_keras(design, weights, thresholds, mean, std):
    """The residual network as a Keras model with fixed weights, on normalized input."""
    import keras
    f = len(design.names)
    n_in = WINDOW * f
    idx = {n: i for i, n in enumerate(design.names)}
    col_now = lambda name: (WINDOW - 1) * f + idx[name]  # noqa: E731
    col_before = lambda name: idx[name]  # noqa: E731
    n_nl = TOD_BUMPS + len(PAR_HINGES) + 2
    n_hidden = n_nl + 2 * len(design.targets)
    w1 = np.zeros((n_in, n_hidden))
    b1 = np.zeros(n_hidden)
    # raw value = normalized * std + mean: a unit sum_k a_k raw_k + b has weights a_k std_k and
    # bias b + sum_k a_k mean_k
    tile_mean, tile_std = np.tile(mean, WINDOW), np.tile(std, WINDOW)

    def put(unit, coefs, bias):
        for col, a in coefs:
            w1[col, unit] += a * tile_std[col]
            bias += a * tile_mean[col]
        b1[unit] = bias

    ang = _bump_angles()
    cos_w = math.cos(2 * math.pi / TOD_BUMPS * BUMP_WIDTH)
    for k in range(TOD_BUMPS):
        g = 1.0 / (1 - cos_w)
        put(k, [(col_now("tod_sin"), g * math.sin(ang[k])), (col_now("tod_cos"), g * math.cos(ang[k]))], -g * cos_w)
    p = design.par_factor / PAR_SCALE
    for j, h in enumerate(PAR_HINGES):
        put(TOD_BUMPS + j, [(col_now(design.light), p)], -h)
    put(n_nl - 2, [(col_now(design.light), p), (col_before(design.light), -p)], 0.0)
    put(n_nl - 1, [(col_now(design.light), -p), (col_before(design.light), p)], 0.0)
    w2 = np.zeros((n_hidden, 2 * len(design.targets)))
    b2 = np.zeros(2 * len(design.targets))
    for i, q in enumerate(design.targets):
        wq = weights[q]
        wl = wq[n_nl:]   # linear part: par_now, par_before, levels before, constant
        # L = (q_now - q_before) - linear prediction, in units of the smaller threshold
        unit_scale = min(thresholds[(q, 1)], thresholds[(q, -1)])
        coefs = [(col_now(q), 1.0), (col_before(q), -1.0),
                 (col_now(design.light), -wl[0] * p), (col_before(design.light), -wl[1] * p)]
        for m, o in enumerate(design.targets):
            coefs.append((col_before(o), -wl[2 + m] / LEVEL_SCALE[o]))
        coefs = [(col, a / unit_scale) for col, a in coefs]
        plus, minus = n_nl + 2 * i, n_nl + 2 * i + 1
        put(plus, coefs, -wl[-1] / unit_scale)
        put(minus, [(col, -a) for col, a in coefs], wl[-1] / unit_scale)
        for sign, out in ((1, 2 * i), (-1, 2 * i + 1)):
            th = thresholds[(q, sign)]
            g = SHARPNESS * sign / th
            # r = unit_scale * (h_plus - h_minus) - sum nonlinear h * w_nl
            w2[plus, out] = g * unit_scale
            w2[minus, out] = -g * unit_scale
            w2[:n_nl, out] = -g * wq[:n_nl]
            b2[out] = -SHARPNESS
    inputs = keras.Input(shape=(n_in,), name="features")
    hidden = keras.layers.Dense(n_hidden, activation="relu", name="basis")(inputs)
    outputs = keras.layers.Dense(len(b2), activation="sigmoid", name="residual")(hidden)
    model = keras.Model(inputs, outputs)
    model.get_layer("basis").set_weights([w1.astype(np.float32), b1.astype(np.float32)])
    model.get_layer("residual").set_weights([w2.astype(np.float32), b2.astype(np.float32)])
    return model


def calibration(xn, rng, design, std, count=400):
    """Representative inputs for the int8 ranges: history windows, and copies whose newest
    row is pushed up to 3 thresholds away (so departures are resolved, not clipped early)."""
    pick = np.sort(rng.choice(len(xn), min(count, len(xn)), replace=False))
    base = xn[pick]
    f = len(design.names)
    pushed = base.copy()
    for i, q in enumerate(design.targets):
        col = (WINDOW - 1) * f + design.names.index(q)
        pushed[:, col] += rng.uniform(-3, 3, len(pushed)) * FLOOR[q] * 2 / std[design.names.index(q)]
    return np.concatenate([base, pushed]).astype(np.float32)


def read_history(path):
    from verdant_host.sitemodel import read_history as read
    return read(path)


def train(history_csv, out_dir, progress=None):
    """`verdant train --site`: DIR/model.bin, DIR/model.tflite and DIR/report.md."""
    from verdant_host.train import Int8Runner, _quiet_tensorflow
    say = progress or (lambda msg: None)
    ts, readings = read_history(history_csv)
    present = [q for q in readings if np.isfinite(readings[q]).any()]
    targets = [q for q in TARGETS if q in present]
    if not targets:
        raise VerdantError("%s: no air temperature, RH or CO2 column; the site model needs at least one" % history_csv)
    light = "par_umol_m2_s" if "par_umol_m2_s" in present else "light_lux" if "light_lux" in present else None
    if light is None:
        raise VerdantError("%s: no light column (par_umol_m2_s or light_lux); the site model forecasts from "
                           "the light and the hour" % history_csv)
    total_days = int((ts[-1] - ts[0]) // 86400) + 1
    if total_days < 3:
        raise VerdantError("site history covers %d day(s); at least 3 are needed (each day is held back in turn "
                           "to set the alarm thresholds on)" % total_days)
    design = Design(targets, light)
    t, x = windows(ts, {q: readings[q] for q in targets + [light]}, design.names)
    say("site history: %d rows, %.1f days, sensors %s; %d windows of %d rows" % (
        len(ts), (ts[-1] - ts[0]) / 86400.0, ", ".join(present), len(x), WINDOW))
    weights, thresholds, peaks = fit_site(t, x, design, ts[0])
    mean, std = dataset.normalization(x.astype(np.float32), len(design.names))
    _quiet_tensorflow()
    xn = dataset.normalize(x.astype(np.float32), mean, std)
    res = residuals(x, design, weights)
    # int8 arithmetic moves each error by up to a few tenths of a threshold: measure it on the
    # history and raise the thresholds by it, so the board fires no earlier than the float rule
    guard = {key: 0.0 for key in thresholds}
    for _ in range(2):
        int8 = {key: th * (1 + guard[key]) for key, th in thresholds.items()}
        tflite_bytes = _convert(design, weights, int8, mean, std, xn)
        runner = Int8Runner(tflite_bytes)
        probs = runner.predict(xn)
        if any(guard.values()):
            break
        guard = _int8_error(probs, res, design, thresholds)
    thresholds = int8
    labels = labels_for(targets)
    held_raises = _raises(t, probs)
    weeks = (ts[-1] - ts[0]) / (7 * 86400.0)
    float_agree = _agreement(probs, res, design, thresholds)
    rule = (0.5, CONSECUTIVE)
    from verdant_host.sitemodel import export, sensor_set_name
    model_bytes, exp = export(tflite_bytes, design.names, mean, std, rule, "verdant-site-" + sensor_set_name(present),
                              labels=labels, window=WINDOW)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "model.bin"), "wb") as f:
        f.write(model_bytes)
    with open(os.path.join(out_dir, "model.tflite"), "wb") as f:
        f.write(tflite_bytes)
    result = {"history": os.path.basename(history_csv), "rows": int(len(ts)), "sensors": present,
              "features": list(design.names), "window": WINDOW, "labels": labels, "days": total_days,
              "thresholds": {"%s_%s" % (SHORT[q], "rise" if s > 0 else "drop"): round(float(v), 3)
                             for (q, s), v in thresholds.items()},
              "held_back_peaks": {"%s_%s" % (SHORT[q], "rise" if s > 0 else "drop"): round(float(v), 3)
                                  for (q, s), v in peaks.items()},
              "threshold": rule[0], "consecutive": rule[1],
              "history_raises": held_raises, "history_weeks": weeks,
              "held_back_false_alarms_per_week": 0.0,
              "int8_float_agreement": float_agree,
              "int8_guard": {"%s_%s" % (SHORT[q], "rise" if s > 0 else "drop"): round(float(v), 3)
                             for (q, s), v in guard.items()},
              "model_bytes": len(model_bytes), "arena_bytes": exp.arena_bytes}
    write_report(os.path.join(out_dir, "report.md"), result, history_csv)
    say("wrote %s (%d bytes): thresholds %s; %d raises on the history itself (%.2f weeks)" % (
        os.path.join(out_dir, "model.bin"), len(model_bytes), result["thresholds"], held_raises, weeks))
    return result


def _convert(design, weights, thresholds, mean, std, xn):
    from verdant_host.int8_tflite import convert_int8
    import keras
    keras.utils.set_random_seed(1)
    model = build_keras(design, weights, thresholds, mean, std)
    samples = calibration(xn, np.random.default_rng(1), design, std)
    return convert_int8(model, [row[None, :] for row in samples])


def _int8_error(probs, res, design, thresholds):
    """{(q, sign): largest |int8 - float| error in threshold units} where the int8 output is
    not saturated (the logistic inverted)."""
    out = {}
    for i, q in enumerate(design.targets):
        for sign, j in ((1, 2 * i), (-1, 2 * i + 1)):
            p = probs[:, j]
            ok = (p > 0.01) & (p < 0.99)
            if not ok.any():
                out[(q, sign)] = 0.0
                continue
            z = np.log(p[ok] / (1 - p[ok])) / SHARPNESS + 1
            out[(q, sign)] = float(np.abs(z - sign * res[q][ok] / thresholds[(q, sign)]).max())
    return out


def _raises(t, probs):
    """Raises the board's model-alert state machine makes on these predictions (every output
    is an alert label; fast_alerts skips column 0, the classifiers' "normal")."""
    from verdant_host import report
    padded = np.hstack([np.zeros((len(probs), 1), dtype=probs.dtype), probs])
    return len(report.fast_alerts(t, padded, 0.5, CONSECUTIVE))


def _agreement(probs, res, design, thresholds):
    """Share of windows where the int8 model and the float residual agree on beyond/within."""
    agree, total = 0, 0
    for i, q in enumerate(design.targets):
        for sign, out in ((1, 2 * i), (-1, 2 * i + 1)):
            beyond = sign * res[q] >= thresholds[(q, sign)]
            agree += int(((probs[:, out] >= 0.5) == beyond).sum())
            total += len(beyond)
    return round(agree / total, 4) if total else None


def write_report(path, r, history_csv):
    rows = "\n".join("| %s | %s | %s |" % (k, r["thresholds"][k], r["held_back_peaks"][k]) for k in r["thresholds"])
    lines = [
        "# Site model report", "",
        "Made by `verdant train --site %s --out %s`." % (history_csv, os.path.dirname(path) or "."), "",
        "A 30-minute forecaster of this greenhouse's %s from the hour and the light (see "
        "host/verdant_host/siteresidual.py); an alert is raised when the actual 30-minute change leaves the "
        "forecast by more than the threshold for %d predictions in a row (p >= %.2f for %d predictions in a row). "
        "Each history day was held back in turn to set the thresholds: %.0f x the largest residual a held-back "
        "day kept for %d predictions, at least the floor (temperature %.1f degC, CO2 %.0f ppm, RH %.0f %%)." % (
            ", ".join(q for q in r["features"][:-3]), r["consecutive"], r["threshold"], r["consecutive"], MARGIN,
            r["consecutive"], FLOOR["air_temp_c"], FLOOR["co2_ppm"], FLOOR["rh_pct"]), "",
        "| label | threshold (30-min change beyond forecast) | largest held-back run |", "| --- | --- | --- |",
        rows, "",
        "| item | value |", "| --- | --- |",
        "| history rows | %d (%d days) |" % (r["rows"], r["days"]),
        "| sensors | %s |" % ", ".join(r["sensors"]),
        "| features per row (window %d rows) | %s |" % (r["window"], ", ".join(r["features"])),
        "| alert rule | p >= %.2f for %d predictions in a row |" % (r["threshold"], r["consecutive"]),
        "| false alarms per week on held-back days | %.2f (each day held back once; target <= %.1f) |" % (
            r["held_back_false_alarms_per_week"], MAX_FALSE_ALARMS_PER_WEEK),
        "| raises of the final int8 model on the history | %d in %.2f weeks |" % (r["history_raises"],
                                                                                r["history_weeks"]),
        "| int8 vs float residual decisions agree | %s of windows |" % r["int8_float_agreement"],
        "| model file | %d bytes, arena %d bytes |" % (r["model_bytes"], r["arena_bytes"]), "",
        "Use it: `verdant replay CSV --model %s`, `make deploy MODEL=%s`." % (
            os.path.join(os.path.dirname(path), "model.bin"), os.path.join(os.path.dirname(path), "model.bin")),
        "A few days of history make the false-alarm figure coarse (one raise in %d days = %.1f per week)."
        % (r["days"], 7.0 / max(r["days"], 1)), "",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines))
