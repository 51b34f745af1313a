"""The site model behind `verdant train --site`: forecasters of this greenhouse's air
temperature, CO2 and RH over 10 and 30 minutes (HEADS), whose forecast error is the
anomaly score.

For each head (horizon) and measured quantity q (air temperature, CO2, RH) the change of q
over the horizon is predicted from what the greenhouse's own control answers to: the time
of day (the climate computer's schedule: setpoints, lamps, dosing), the light now and at
the horizon's start (sun, lamps switching), and every quantity's level then. The
predictor is ridge regression on a fixed basis (time-of-day bumps, light hinges), so
training is a linear solve: deterministic, seconds, no TensorFlow fit. The residual
r = actual change - predicted change is near zero when the greenhouse does what it did in
its history; a failed heater, a stuck CO2 valve, dosing that stops, a vent that changes
state or a jumping sensor moves it. Why a change and not a level: levels follow the
weather (a sunny day is warmer), which a few days of history cannot cover; how fast the
air moves at a given hour and light is what the control fixes. The 10-minute head sees
jumps first, the 30-minute head slides too slow for it (a heater failing: ~0.5 degC per
10 minutes, 1.5 per 30).

Thresholds, one per head, quantity and direction, follow the context: each history day is
held back in turn and the predictor fitted on the other days; the held-back errors say how
unpredictable each context is (lamps or sun switching: degrees in 30 minutes; a calm
night: tenths), so a threshold is base + spread(context), spread = ENVELOPE x the expected
|error| there (a ridge fit with weights >= 0 on the same hidden units), base = what
covers the largest excess over the spread that a held-back day kept for CONSECUTIVE
predictions in a row (at least FLOOR); all x the head's margin. With every day held back
once, the held-back days raise nothing, which is the <= MAX_FALSE_ALARMS_PER_WEEK target on
the days available; the margin is for the weather that comes after.

On the board it is one int8 model run by the same engine (FC + RELU, FC + LOGISTIC):
input = the last WINDOW feature rows (30 minutes and the row before), hidden per head =
time-of-day bumps relu(sin a_k sin t + cos a_k cos t - cos w), light hinges
relu(par - p_j), relu(+-dpar) and each quantity's linear residual part as a pair
relu(+L), relu(-L); output per label (head, quantity, direction, e.g. temp_drop_30m) =
logistic(SHARPNESS * (+-r - threshold(context)) / base), so p >= 0.5 exactly when the
residual passes its threshold. The int8 arithmetic moves that by a tenth or two of a
threshold: measured on the history, the thresholds are raised by it. The metadata carry
alert_threshold 0.5 and alert_consecutive CONSECUTIVE, which verdant.alerts uses as for
any model.

The metadata also carry what the board uses beside the model: levels and label_gates (a label
alerts only while its quantity is beyond the range the history held at that hour, +-1 h,
widened by how far one history day went beyond the other days' range: verdant_host.sitelevels,
applied by verdant.alerts), sensor_habits (verdant_host.sitehabits: the stuck check's hourly habits and
run, the spike check's jump limit) and co2_hold (verdant_host.sitecontrol: the CO2 set point
its dosing holds in light, for the normal band).

    result = train("history.csv", "site_model", progress=print)
"""
import math
import os

import numpy as np

from verdant import features as vf
from verdant.normalband import (ADOPT_DAYS, ADOPT_HOURS, DOSED_PPM, HOLD_FALL_PPM, STEADY_CHANGE_PPM,
                                STEADY_RANGE_PPM)
from verdant_host import dataset
from verdant_host.errors import VerdantError
from verdant_host.sitecontrol import co2_hold, night_hold
from verdant_host.sitehabits import sensor_habits
from verdant_host.sitelevels import hourly_levels, label_gates, levels_report
from verdant_host.sitemodel import export, read_history, sensor_set_name

PERIOD_S = 300
# forecast horizons (rows of 5 minutes) and the margin of each: 10 minutes catches jumps
# (a stuck valve, a vent flap, spikes), 30 minutes slower slides (a heater failing)
HEADS = ((2, 1.5), (6, 2.0))
WINDOW = max(lag for lag, _ in HEADS) + 1
CONSECUTIVE = 2               # predictions in a row beyond the threshold to raise (10 min)
ENVELOPE = 3.0                # context part of a threshold: 3 x the expected |error| there
SHARPNESS = 4.0               # logit per threshold unit: p = 0.5 at the threshold
MAX_FALSE_ALARMS_PER_WEEK = 0.1
TARGETS = ("air_temp_c", "co2_ppm", "rh_pct")
SHORT = {"air_temp_c": "temp", "co2_ppm": "co2", "rh_pct": "rh"}
# smallest threshold per quantity (a 10- or 30-minute change): the calm hours a history's
# held-back days show little error in still hold control steps of their own. Temperature: a
# screen moving on a dark morning or at dusk, a heating pulse at a dull noon move the air 1-2.5
# degC in 10-20 minutes and back (GreenLight dev4 2, 8, 10); at 1.0 degC such steps reached 0.97
# of the threshold after the level gates, at 1.5 at most 0.79 on the four dev splits (96
# greenhouses), about where CO2 (60 ppm: 0.82) and RH (6 %: 0.55) leave their worst healthy step
FLOOR = {"air_temp_c": 1.5, "co2_ppm": 60.0, "rh_pct": 6.0}
# the scale each quantity's level enters the regression with (keeps the ridge penalty fair)
LEVEL_SCALE = {"air_temp_c": 5.0, "co2_ppm": 300.0, "rh_pct": 10.0}
TOD_BUMPS = 24                # time-of-day basis: one bump per hour ...
BUMP_WIDTH = 1.5              # ... 1.5 hours wide
PAR_SCALE = 200.0             # umol/m2/s per unit in the regression
PAR_HINGES = (0.02, 0.25, 0.5, 1.0, 2.0)   # x PAR_SCALE umol/m2/s
RIDGE = 1.0
QUANTITIES = ("air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s", "light_lux", "soil_moisture_pct")


def labels_for(targets, lag):
    """One head's outputs: a rise and a drop label per forecast quantity, named with the
    horizon (temp_drop_30m)."""
    out = []
    for q in targets:
        for way in ("rise", "drop"):
            out.append("%s_%s_%dm" % (SHORT[q], way, lag * PERIOD_S // 60))
    return out


def designs_for(targets, light):
    """One Design per head (HEADS)."""
    return [Design(targets, light, lag, margin) for lag, margin in HEADS]


def feature_names(targets, light):
    """Per-row features: the forecast quantities, the light (PAR or lux), time of day."""
    return tuple(list(targets) + [light, "tod_sin", "tod_cos"])


def _bump_angles():
    return 2 * math.pi * np.arange(TOD_BUMPS) / TOD_BUMPS


class Design:
    """The regression basis for one site: which targets and light column, and the
    mapping from a model input row (raw feature values of the window) to regressors."""

    def __init__(self, targets, light, lag=6, margin=2.0):
        self.targets = list(targets)
        self.light = light
        self.lag = lag
        self.margin = margin
        self.labels = labels_for(targets, lag)
        self.names = feature_names(targets, light)
        self.par_factor = vf.LUX_TO_PAR if light == "light_lux" else 1.0

    def columns(self, x):
        """x: raw (not normalized) windows, shape (n, WINDOW * features) -> dict of arrays."""
        f = len(self.names)
        w = x.reshape(len(x), WINDOW, f)
        now, before = w[:, -1, :], w[:, WINDOW - 1 - self.lag, :]
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


def windows(ts, readings, names):
    """(sample times, raw windows) the board would build from these rows (verdant.features)."""
    steps, x, keep = dataset.rows_to_samples(ts, readings, names, PERIOD_S, WINDOW)
    return ts[steps][keep], x[keep].astype(np.float64)


def day_of(t, t0):
    return ((t - t0) // 86400).astype(np.int64)


class Threshold:
    """A threshold that follows the context: base + the nonlinear hidden units . slope
    (both >= 0): higher at the hours and light changes where this greenhouse's own
    30-minute changes are least predictable, `base` when it is calm."""

    def __init__(self, base, slope):
        self.base = float(base)
        self.slope = np.asarray(slope, dtype=float)

    def at(self, nonlinear_units):
        return self.base + nonlinear_units @ self.slope

    def scaled(self, factor):
        return Threshold(self.base * factor, self.slope * factor)


def nonnegative_ridge(a, y, lam=RIDGE, rounds=30):
    """Ridge weights constrained to >= 0 (columns whose weight goes negative are dropped)."""
    keep = np.ones(a.shape[1], dtype=bool)
    w = np.zeros(a.shape[1])
    for _ in range(rounds):
        w = np.zeros(a.shape[1])
        if not keep.any():
            return w
        k = a[:, keep]
        w[keep] = np.linalg.solve(k.T @ k + lam * np.eye(k.shape[1]), k.T @ y)
        if (w >= 0).all():
            return w
        keep &= w > 0
    return np.maximum(w, 0)


def run_min(v, n):
    """out[k] = min(v[k-n+1..k]) (-inf for the first n-1)."""
    out = np.full(len(v), -np.inf)
    if len(v) >= n:
        out[n - 1:] = np.lib.stride_tricks.sliding_window_view(v, n).min(axis=1)
    return out


def fit_site(t, x, design, t0):
    """fit() with each history day as a group."""
    return fit(x, design, day_of(t, t0))


def fit(x, design, days):
    """{q: weights} fitted on all rows; {(q, sign): Threshold} and the held-back excess from
    each group (a history day, or a greenhouse) held back in turn (see the module docstring)."""
    c, a = design.regressors(x)
    units = design.nonlinear(c)
    weights, thresholds, peaks = {}, {}, {}
    for q in design.targets:
        y = design.target(c, q)
        weights[q] = ridge(a, y)
        held = np.full(len(y), np.nan)
        for d in np.unique(days):
            w = ridge(a[days != d], y[days != d])
            held[days == d] = y[days == d] - a[days == d] @ w
        ok = np.isfinite(held)
        # how large this greenhouse's errors are in each context: |held-back error| x ENVELOPE
        slope = nonnegative_ridge(units[ok], ENVELOPE * np.abs(held[ok]))
        spread = units @ slope
        for sign in (1, -1):
            excess = -np.inf   # what a held-back run of CONSECUTIVE errors kept above the spread
            for d in np.unique(days):
                sel = days == d
                excess = max(excess, float(run_min(np.nan_to_num(sign * held[sel] - spread[sel], nan=-np.inf),
                                                   CONSECUTIVE).max()))
            peaks[(q, sign)] = excess
            base = max(FLOOR[q], design.margin * excess)
            thresholds[(q, sign)] = Threshold(base, design.margin * slope)
    return weights, thresholds, peaks


def residuals(x, design, weights):
    """{q: actual - predicted 30-minute change} in float (the model's intent)."""
    c, a = design.regressors(x)
    return {q: design.target(c, q) - a @ weights[q] for q in design.targets}


def build_keras(heads, mean, std):
    """The residual network as a Keras model with fixed weights, on normalized input:
    heads = [(design, weights, thresholds)], each its own block of hidden units and outputs."""
    import keras
    parts = [head_weights(d, w, th, mean, std) for d, w, th in heads]
    w1 = np.concatenate([p[0] for p in parts], 1)
    b1 = np.concatenate([p[1] for p in parts])
    w2 = np.zeros((len(b1), sum(len(p[3]) for p in parts)))
    row = col = 0
    for p in parts:
        w2[row:row + p[2].shape[0], col:col + p[2].shape[1]] = p[2]
        row, col = row + p[2].shape[0], col + p[2].shape[1]
    b2 = np.concatenate([p[3] for p in parts])
    inputs = keras.Input(shape=(w1.shape[0],), name="features")
    hidden = keras.layers.Dense(len(b1), activation="relu", name="basis")(inputs)
    outputs = keras.layers.Dense(len(b2), activation="sigmoid", name="residual")(hidden)
    model = keras.Model(inputs, outputs)
    model.get_layer("basis").set_weights([w1.astype(np.float32), b1.astype(np.float32)])
    model.get_layer("residual").set_weights([w2.astype(np.float32), b2.astype(np.float32)])
    return model


def head_weights(design, weights, thresholds, mean, std):
    """(w1, b1, w2, b2) of one head: its hidden units and its outputs."""
    f = len(design.names)
    n_in = WINDOW * f
    idx = {n: i for i, n in enumerate(design.names)}
    col_now = lambda name: (WINDOW - 1) * f + idx[name]  # noqa: E731
    col_before = lambda name: (WINDOW - 1 - design.lag) * f + idx[name]  # noqa: E731
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
        unit_scale = min(thresholds[(q, 1)].base, thresholds[(q, -1)].base)
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
            g = SHARPNESS / th.base
            # z = SHARPNESS (sign r - threshold(context)) / base, r = unit_scale (h+ - h-) - units . w_nl
            w2[plus, out] = g * sign * unit_scale
            w2[minus, out] = -g * sign * unit_scale
            w2[:n_nl, out] = g * (-sign * wq[:n_nl] - th.slope)
            b2[out] = -SHARPNESS
    return w1, b1, w2, b2


def normalization(x, design):
    """(mean, std) per feature mapping the history's range onto [-1, 1]: the int8 input has
    one scale for all features, so each feature gets the same share of its 256 steps (a
    z-score would give a steady quantity a huge range and the others coarse steps)."""
    flat = x.reshape(-1, len(design.names))
    lo, hi = np.nanmin(flat, axis=0), np.nanmax(flat, axis=0)
    return (hi + lo) / 2.0, np.maximum((hi - lo) / 2.0, 1e-3)


def calibration(xn, rng, design, std, reach_of, count=400):
    """Representative inputs for the int8 ranges: history windows, and copies whose newest
    row is pushed up to 3 thresholds (at least 3 floors) away, so a departure is resolved
    up to there instead of clipped at the history's range."""
    pick = np.sort(rng.choice(len(xn), min(count, len(xn)), replace=False))
    base = xn[pick]
    f = len(design.names)
    pushed = base.copy()
    for q in design.targets:
        k = design.names.index(q)
        reach = 3 * max(FLOOR[q], reach_of[q])
        pushed[:, (WINDOW - 1) * f + k] += rng.uniform(-1, 1, len(pushed)) * reach / std[k]
    return np.concatenate([base, pushed]).astype(np.float32)


def train(history_csv, out_dir, progress=None):
    """`verdant train --site`: DIR/model.bin, DIR/model.tflite and DIR/report.md."""
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
    designs = designs_for(targets, light)
    names = designs[0].names
    t, x = windows(ts, {q: readings[q] for q in targets + [light]}, names)
    say("site history: %d rows, %.1f days, sensors %s; %d windows of %d rows" % (
        len(ts), (ts[-1] - ts[0]) / 86400.0, ", ".join(present), len(x), WINDOW))
    m = build(designs, x, day_of(t, ts[0]))
    held_raises = _raises(t, m["probs"])
    weeks = (ts[-1] - ts[0]) / (7 * 86400.0)
    rule = (0.5, CONSECUTIVE)
    habits, habit_table = sensor_habits(ts, readings, PERIOD_S)
    levels, level_table = hourly_levels(ts, readings, targets)
    extra = {"sensor_habits": habits, "levels": levels, "label_gates": label_gates(m["labels"])}
    hold, hold_row = co2_hold(ts, readings, PERIOD_S)
    if hold is not None:
        extra["co2_hold"] = hold
    heat_hold, heat_row = night_hold(ts, readings, PERIOD_S)
    if heat_hold is not None:
        extra["night_hold"] = heat_hold
    model_bytes, exp = export(m["tflite"], names, m["mean"], m["std"], rule, "verdant-site-" + sensor_set_name(present),
                              labels=m["labels"], window=WINDOW, extra=extra)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "model.bin"), "wb") as f:
        f.write(model_bytes)
    with open(os.path.join(out_dir, "model.tflite"), "wb") as f:
        f.write(m["tflite"])
    per_label = {"thresholds": {}, "thresholds_max": {}, "held_back_peaks": {}, "int8_guard": {}}
    for (design, _, thresholds), units, peaks, guard in zip(m["heads"], m["units"], m["peaks"], m["guard"]):
        for i, q in enumerate(design.targets):
            for sign, label in ((1, design.labels[2 * i]), (-1, design.labels[2 * i + 1])):
                th = thresholds[(q, sign)]
                per_label["thresholds"][label] = round(th.base, 3)
                per_label["thresholds_max"][label] = round(float(th.at(units).max()), 3)
                per_label["held_back_peaks"][label] = round(float(peaks[(q, sign)]), 3)
                per_label["int8_guard"][label] = round(float(guard[(q, sign)]), 3)
    result = dict({"history": os.path.basename(history_csv), "rows": int(len(ts)), "sensors": present,
                   "features": list(names), "window": WINDOW, "labels": m["labels"], "days": total_days,
                   "heads": [{"minutes": d.lag * PERIOD_S // 60, "margin": d.margin} for d in designs],
                   "threshold": rule[0], "consecutive": rule[1],
                   "history_raises": held_raises, "history_weeks": weeks,
                   "held_back_false_alarms_per_week": 0.0,   # by construction (fit(): thresholds over every held-back run)
                   "int8_float_agreement": m["agreement"],
                   "model_bytes": len(model_bytes), "arena_bytes": exp.arena_bytes,
                   "sensor_habits": habit_table, "levels": level_table, "co2_hold": hold_row,
                   "night_hold": heat_row}, **per_label)
    write_report(os.path.join(out_dir, "report.md"), result, history_csv)
    say("wrote %s (%d bytes): thresholds %s; %d raises on the history itself (%.2f weeks)" % (
        os.path.join(out_dir, "model.bin"), len(model_bytes), result["thresholds"], held_raises, weeks))
    return result


def build(designs, x, groups):
    """Fit each head (each group held back in turn for the thresholds) and convert to one
    int8 model, with the thresholds raised by its measured error on x: a dict with the
    .tflite bytes, normalization, per-head fits, guard and the int8 predictions on x."""
    from verdant_host.train import Int8Runner, _quiet_tensorflow
    fits = [fit(x, d, groups) for d in designs]
    mean, std = normalization(x, designs[0])
    _quiet_tensorflow()
    xn = dataset.normalize(x.astype(np.float32), mean, std)
    res = [residuals(x, d, w) for d, (w, _, _) in zip(designs, fits)]
    units = [d.nonlinear(d.columns(x)) for d in designs]
    # int8 arithmetic moves each error by up to a few tenths of a threshold: measure it on the
    # history and raise the thresholds by it, so the board fires no earlier than the float rule
    guard = [{key: 0.0 for key in th} for _, th, _ in fits]
    for _ in range(2):
        int8 = [{key: th.scaled(1 + g[key]) for key, th in ths.items()} for (_, ths, _), g in zip(fits, guard)]
        heads = [(d, w, th) for d, (w, _, _), th in zip(designs, fits, int8)]
        tflite_bytes = _convert(heads, mean, std, xn)
        probs = Int8Runner(tflite_bytes).predict(xn)
        if any(any(g.values()) for g in guard):
            break
        guard = [_int8_error(p, r, u, d, th) for p, r, u, d, (_, th, _) in
                 zip(_per_head(probs, designs), res, units, designs, fits)]
    agree = [_agreement(p, r, u, d, th) for p, r, u, d, th in zip(_per_head(probs, designs), res, units, designs, int8)]
    return {"tflite": tflite_bytes, "mean": mean, "std": std, "heads": heads, "guard": guard,
            "peaks": [pk for _, _, pk in fits], "units": units, "probs": probs,
            "labels": [label for d in designs for label in d.labels], "agreement": min(agree)}


def _per_head(probs, designs):
    out, col = [], 0
    for d in designs:
        out.append(probs[:, col:col + 2 * len(d.targets)])
        col += 2 * len(d.targets)
    return out


def _convert(heads, mean, std, xn):
    from verdant_host.int8_tflite import convert_int8
    import keras
    keras.utils.set_random_seed(1)
    model = build_keras(heads, mean, std)
    design = heads[0][0]
    reach = {q: max(th[(q, s)].base for _, _, th in heads for s in (1, -1)) for q in design.targets}
    samples = calibration(xn, np.random.default_rng(1), design, std, reach)
    return convert_int8(model, [row[None, :] for row in samples])


def _int8_error(probs, res, units, design, thresholds):
    """{(q, sign): largest |int8 - float| error as a share of the threshold there} where the
    int8 output is not saturated (the logistic inverted): raising a threshold by that
    share keeps the int8 model from firing before the float rule."""
    out = {}
    for i, q in enumerate(design.targets):
        for sign, j in ((1, 2 * i), (-1, 2 * i + 1)):
            p = probs[:, j]
            ok = (p > 0.01) & (p < 0.99)
            if not ok.any():
                out[(q, sign)] = 0.0
                continue
            th = thresholds[(q, sign)]
            z = np.log(p[ok] / (1 - p[ok])) / SHARPNESS
            here = th.at(units[ok])
            out[(q, sign)] = float((np.abs(z - (sign * res[q][ok] - here) / th.base) * th.base / here).max())
    return out


def _raises(t, probs):
    """Raises the board's model-alert state machine makes on these predictions (every output
    is an alert label; fast_alerts skips column 0, the classifiers' "normal")."""
    from verdant_host import report
    padded = np.hstack([np.zeros((len(probs), 1), dtype=probs.dtype), probs])
    return len(report.fast_alerts(t, padded, 0.5, CONSECUTIVE))


def _agreement(probs, res, units, design, thresholds):
    """Share of windows where the int8 model and the float residual agree on beyond/within."""
    agree, total = 0, 0
    for i, q in enumerate(design.targets):
        for sign, out in ((1, 2 * i), (-1, 2 * i + 1)):
            beyond = sign * res[q] >= thresholds[(q, sign)].at(units)
            agree += int(((probs[:, out] >= 0.5) == beyond).sum())
            total += len(beyond)
    return round(agree / total, 4) if total else None


def habits_report(table):
    """The report's section on the sensors' habits (verdant_host.sitehabits)."""
    if not table:
        return []
    lines = ["## The sensors' habits (the board's stuck check)", "",
             "Measured on the history and carried in the model file (metadata sensor_habits): the hourly "
             "share of readings that change presets the board's habit; the run of identical readings the "
             "stuck check needs is the shortest that comes by chance less than once in 50000 readings at "
             "this sensor's repeat rate (upper bound: repeats + 2 sqrt(repeats) + 1 over the readings "
             "expected to move) instead of the 8 % the board assumes on its own; chance runs per week = "
             "readings per week x rate^(run-1). A jump beyond the jump limit (1.5 x the largest 5-minute "
             "change in the history, at least the board's spike step) is implausible for this greenhouse: three "
             "within 3 hours, not all one way, raise a spikes sensor_fault.", "",
             "| quantity | repeats | rate bound | run needed | chance runs / week | such runs in the history | jump limit |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in table:
        lines.append("| %s | %.2f %% | %.2f %% | %d readings (%d min) | %.4f | %d | %s |" % (
            row["quantity"], row["repeat_pct"], row["repeat_pct_bound"], row["stuck_run"], row["minutes"],
            row["chance_per_week"], row["seen_in_history"], row["jump_limit"]))
    return lines + [""]


def co2_hold_report(row):
    """The report's section on the CO2 set point (verdant_host.sitecontrol)."""
    if row is None:
        return []
    lines = ["## The CO2 set point (the board's normal band)", ""]
    if "why" in row:
        return lines + ["None carried: %s." % row["why"], ""]
    return lines + [
        "Learned CO2 hold: **%.0f ppm** in light. In light with RH not falling (not venting), %.1f hours a day, the "
        "history's CO2 sits at %.0f ppm (median); the median of three readings in a row fell at most %.0f ppm below it "
        "on a day. On the board, a three-reading median more than %.0f ppm below (1.5 x that, at least 30) in the "
        "same conditions and %.0f ppm or more lower than an hour before (drawn down, not held) or below %.0f ppm "
        "(the outdoor air's level) raises co2_low_anomaly (dosing off) at once." % (
            row["set_ppm"], row["hours_per_day"], row["set_ppm"], row["largest_day_shortfall"], row["below_ppm"],
            HOLD_FALL_PPM, DOSED_PPM), "",
        "A changed set point is followed on the board, no retraining needed: dosing holds CO2 in light flat at "
        "whatever level it is set to (an hour's readings within %.0f ppm, its start and end within %.0f ppm, above "
        "%.0f ppm, which CO2 in light never is without dosing), while dosing off lets the crop draw it down. After "
        "%d such hours at one level more than %.0f ppm off %.0f ppm, on %d days (so at the earliest in the second "
        "day's light at the new level: about 20 h after a change in a greenhouse with lamps, 1-2 days without), the "
        "board takes that level as its set point, "
        "says so once (info note co2_set_point, e.g. \"CO2 set point now about 650 ppm (was %.0f)\") and clears an "
        "active co2_low_anomaly." % (STEADY_RANGE_PPM, STEADY_CHANGE_PPM, DOSED_PPM, ADOPT_HOURS, row["below_ppm"],
                                     row["set_ppm"], ADOPT_DAYS, row["set_ppm"]), "",
        "A set point lowered to the outdoor air's level (about %.0f ppm or less) is no dosing: the board cannot tell "
        "it from dosing off and keeps its warning until dosing holds a level again or the site model is retrained."
        % DOSED_PPM, ""]


def night_hold_report(row):
    """The report's section on the level the heating holds in the dark (verdant_host.sitecontrol)."""
    if row is None:
        return []
    lines = ["## The night heating level (the board's normal band)", ""]
    if "why" in row:
        return lines + ["None carried: %s." % row["why"], ""]
    return lines + [
        "In the dark (%d hours) the heating holds the air at %.2f C (10th percentile of each dark hour's lowest "
        "reading). While falling (two readings in a row, over 1 C/h) the history's air went at most %.2f C under it "
        "while it came down to it (lamps switching off, a day set point dropped to the night's) and %.2f C in the "
        "settled night, after an hour of dark and half an hour within 1 C above the level (a screen moving). On "
        "the board, the air in the dark more than %.2f C (settled night: %.2f C) under it, 3 x those and at least "
        "0.3, and still falling, two readings in a row, raises cold_anomaly (heating failure) at once." % (
            row["dark_hours"], row["level_c"], row["deepest_dip_c"], row["deepest_settled_dip_c"], row["below_c"],
            row["settled_below_c"]), ""]


def write_report(path, r, history_csv):
    rows = "\n".join("| %s | %s | %s | %s | %s |" % (k, r["thresholds"][k], r["thresholds_max"][k],
                                                   r["held_back_peaks"][k], r["int8_guard"][k])
                     for k in r["thresholds"])
    lines = [
        "# Site model report", "",
        "Made by `verdant train --site %s --out %s`." % (history_csv, os.path.dirname(path) or "."), "",
        "Forecasters of this greenhouse's %s over 10 and 30 minutes from the hour and the light (see "
        "host/verdant_host/siteresidual.py); an alert is raised when the actual change leaves the "
        "forecast by more than the threshold for %d predictions in a row (p >= %.2f for %d predictions in a row). "
        "Each history day was held back in turn; a threshold is base + spread, the spread following how "
        "unpredictable this greenhouse was at that hour and light change on the held-back days (%.0f x the "
        "expected error there), the base covering the largest excess a held-back day kept for %d predictions, "
        "both x %s; the base is at least a floor (temperature %.1f degC, CO2 %.0f ppm, RH %.0f %%: control "
        "steps in calm hours that a few days of history need not hold, such as a screen moving at night or a "
        "heating pulse, stay under it); all raised by the int8 model's measured error (guard)." % (
            ", ".join(q for q in r["features"][:-3]), r["consecutive"], r["threshold"], r["consecutive"], ENVELOPE,
            r["consecutive"], " and ".join("%.2f (%d-minute head)" % (h["margin"], h["minutes"]) for h in r["heads"]),
            FLOOR["air_temp_c"], FLOOR["co2_ppm"], FLOOR["rh_pct"]), "",
        "| label (change over 10 or 30 min) | threshold when calm (base) | largest threshold (lamps, sun switching) | "
        "held-back excess | "
        "int8 guard |", "| --- | --- | --- | --- | --- |",
        rows, "",
        "| item | value |", "| --- | --- |",
        "| history rows | %d (%d days) |" % (r["rows"], r["days"]),
        "| sensors | %s |" % ", ".join(r["sensors"]),
        "| features per row (window %d rows) | %s |" % (r["window"], ", ".join(r["features"])),
        "| alert rule | p >= %.2f for %d predictions in a row |" % (r["threshold"], r["consecutive"]),
        "| false alarms per week on held-back days | %.2f by construction: each threshold is set above the "
        "largest run a held-back day kept (target <= %.1f); only days after the history can test it "
        "(`make field-eval`) |" % (r["held_back_false_alarms_per_week"], MAX_FALSE_ALARMS_PER_WEEK),
        "| raises of the final int8 model on the history (before the board's range gates) | %d in %.2f weeks |" % (
            r["history_raises"], r["history_weeks"]),
        "| int8 vs float residual decisions agree | %s of windows |" % r["int8_float_agreement"],
        "| model file | %d bytes, arena %d bytes |" % (r["model_bytes"], r["arena_bytes"]), "",
        "On the board a label alerts only while its quantity is also outside the range the history held at "
        "that hour (+-1 h), widened by how far one history day went beyond the others' range (metadata levels "
        "and label_gates; the level gates below).", "",
        "Use it: `verdant replay CSV --model %s`, `make deploy MODEL=%s`." % (
            os.path.join(os.path.dirname(path), "model.bin"), os.path.join(os.path.dirname(path), "model.bin")),
        "A few days of history make the false-alarm figure coarse (one raise in %d days = %.1f per week)."
        % (r["days"], 7.0 / max(r["days"], 1)), "",
    ] + levels_report(r.get("levels") or [], r["days"]) + habits_report(r.get("sensor_habits") or []) + co2_hold_report(r.get("co2_hold")) + night_hold_report(r.get("night_hold"))
    with open(path, "w") as f:
        f.write("\n".join(lines))
