"""A generic equipment-fault classifier for one sensor set that judges a greenhouse against
its own recent behaviour, not against absolute values a new greenhouse may not share.

Inputs (verdant.features, computed on the board, window 1): for each quantity the set has,
its departure from yesterday's range at this time (M_d24h) and its change over the last
hour (M_d1h); CO2 and light also as they are now (the outdoor CO2 level and light on/off
are physics, not a greenhouse's habit); air temperature and RH as they are now only with
levels=True (setmodels.LEVELS says which sets, chosen on the dev split). No time of day: a
model that learned the training greenhouses' normal day false-alarmed on other ones
(models/sets/README.md).

Labels are symptoms (the alert types the board sends): too_cold, co2_low, co2_high. Training examples come from
- the GreenLight train split's normal time (healthy scenarios whole, faulty ones up to the
  fault);
- its real equipment faults (heating failure, vents stuck open, CO2 valve stuck open, CO2
  dosing off; vents stuck closed barely show in winter and are left out), each row of the fault window labelled with the symptom it shows
  against yesterday (SYMPTOMS); rows where the fault does not show yet are left out;
- synthetic departures (depart) injected into the normal time.
The alert rule (threshold, predictions in a row) is set on every training greenhouse in
turn (FOLDS: four models, each trained without a quarter of the greenhouses and scored on
that quarter, ~18 held-back weeks instead of one quarter's 4.6): the most sensitive rule
that raises at most MAX_FALSE_ALARMS_PER_WEEK on their normal time with the firmware's own
alert state machine (report.fast_alerts). The shipped model is then trained the same way on
all the greenhouses and carries that rule.

Sets without a light sensor learn and raise too_cold only in the dark hours and co2_low
only in the others (HOUR_GATES). Without light a dull day after a sunny one (4 degC cooler
at 10:00, and normal) looks like a heating that fails by day, while a heating failure
matters at night, when nothing else warms the air; and nobody doses CO2 in the dark: how
fast the evening's CO2 falls once dosing stops depends on the wind and the vents (a
training greenhouse fell to 490 ppm by 19:30 where it had held 734 the evening before), so a CO2
drop against yesterday in the dark says nothing about the dosing. Dark is where the sun is
down (verdant.sun, the board's own function): the rows too_cold is learned on are those
with the sun down at the data's site (fieldeval.GREENLIGHT_SITE), co2_low's those with it
up, and the model file says so (metadata sun_gates {"too_cold": "down", "co2_low": "up"}),
so a board at another latitude, longitude or season judges them by its own sun. A board
without a place falls back to the training site's clock: the hours (UTC, the board's Unix
time) in which no training greenhouse without lamps saw daylight on any training day
(dark_hours), carried too as metadata levels and label_gates (applied by verdant.alerts as
for a site model: "reading below 1e6" in the hours a label may raise, "below -1e6" in the
others). train(..., sun_site=None) learns and gates on those clock hours alone, as before.

    result = train("data/greenlight/train", "t_rh_co2_light", "models/sets/t_rh_co2_light")
"""
import os

import numpy as np

from verdant.features import LUX_TO_PAR
from verdant.sun import sun_up
from verdant_host import dataset, report
from verdant_host.fieldeval import GRACE_S, GREENLIGHT_SITE, load_manifest, read_columns

PERIOD_S = 300
WINDOW = 1
# No too_humid: humidity departures overlap the weather's own swings (raised falsely on dev).
# No too_warm: a day with lamps after one without is 6 C warmer and normal (it raised on
# held-back greenhouses); heat is the rules' job, and vents stuck closed rarely show in winter.
LABELS = ("normal", "too_cold", "co2_low", "co2_high")
MAX_FALSE_ALARMS_PER_WEEK = 0.1
DAY_ROWS = 86400 // PERIOD_S
WEEK_S = 7 * 86400

# Which symptom a real equipment fault shows, and when it shows (against yesterday's range
# at this time): [(label, feature, sign, size)], the first that holds names the row.
SYMPTOMS = {
    "heating_failure": [("too_cold", "air_temp_c_d24h", -1, 1.0)],
    "vent_stuck_open": [("too_cold", "air_temp_c_d24h", -1, 1.0), ("co2_low", "co2_ppm_d24h", -1, 100.0)],
    "co2_valve_stuck_open": [("co2_high", "co2_ppm_d24h", 1, 100.0)],
    "co2_dosing_off": [("co2_low", "co2_ppm_d24h", -1, 80.0)],
}
SYMPTOM_FEATURES = ("air_temp_c_d24h", "co2_ppm_d24h")
SYNTHETIC = ("too_cold", "co2_low", "co2_high")
FOLDS = 4
LIGHT = ("par_umol_m2_s", "light_lux")
# Sets without light: label -> (the quantity its gate is written on, True: dark hours only /
# False: daylight hours only). The gate's limits: every reading is below the first, none
# below the second (degC or ppm).
HOUR_GATES = {"too_cold": ("air_temp_c", True), "co2_low": ("co2_ppm", False)}
GATE_OPEN, GATE_SHUT = 1.0e6, -1.0e6
NEEDS = {"too_cold": "air_temp_c", "co2_low": "co2_ppm", "co2_high": "co2_ppm"}
# a synthetic departure is labelled from this size on (smaller: left out, neither normal nor fault)
VISIBLE = {"air_temp_c": 1.5, "co2_ppm": 80.0}


def feature_names(present, levels=False):
    """The classifier's inputs for a set of measured quantities (module docstring); levels
    adds the air temperature and RH as they are now."""
    names = ["air_temp_c", "rh_pct"] if levels else []
    if "air_temp_c" in present:
        names += ["air_temp_c_d24h", "air_temp_c_d1h"]
    if "rh_pct" in present:
        names += ["rh_pct_d24h", "rh_pct_d1h"]
    if "co2_ppm" in present:
        names += ["co2_ppm", "co2_ppm_d24h", "co2_ppm_d1h"]
    if "par_umol_m2_s" in present or "light_lux" in present:
        names += ["par_umol_m2_s" if "par_umol_m2_s" in present else "light_lux", "par_umol_m2_s_d24h"]
    return tuple(names)


def held_back(index, fold=3):
    """Fold `fold` (0-3) holds back every fourth block of four scenarios, starting at block
    `fold` (the fault types come in turn, the fourth of each block is healthy): a quarter of
    the greenhouses, every kind of fault among them; the four folds hold back each greenhouse once."""
    return (index // 4) % FOLDS == fold


def dark_hours(scenarios):
    """24 bools, one per hour of the board's clock (UTC): True when no greenhouse without
    lamps saw daylight (PAR >= 5 umol/m2/s) in that hour on any of the split's days.
    scenarios: load_scenarios' list."""
    lit = np.zeros(24, dtype=bool)
    for meta, ts, _, dark_rows in scenarios:
        if dark_rows is None or meta.get("greenhouse", {}).get("lamps", True):
            continue
        np.logical_or.at(lit, (ts // 3600) % 24, ~dark_rows)
    if lit.all():
        raise ValueError("dark_hours: no greenhouse without lamps has a dark hour (is PAR in the CSVs?)")
    return (~lit).tolist()


def gate_meta(hours, gates=None):
    """The metadata gating HOUR_GATES' labels to their hours (module docstring)."""
    gates = HOUR_GATES if gates is None else gates
    levels, label_gates = {}, {}
    for label, (q, in_dark) in sorted(gates.items()):
        low = [GATE_OPEN if d == in_dark else GATE_SHUT for d in hours]
        if q in levels and levels[q]["low"] != low:
            raise ValueError("gate_meta: %s's gate needs other hours on %s than another label's" % (label, q))
        levels[q] = {"low": low, "high": [GATE_OPEN] * 24}
        label_gates[label] = [q, "below"]
    return {"levels": levels, "label_gates": label_gates}


def sun_meta(gates=None):
    """The metadata gating HOUR_GATES' labels to the sun: {"sun_gates": {label: "down"|"up"}}."""
    gates = HOUR_GATES if gates is None else gates
    return {"sun_gates": {label: "down" if in_dark else "up" for label, (_, in_dark) in sorted(gates.items())}}


_SUN_DOWN = {}   # (site, t) -> the sun is down there then: the same grid times recur in every scenario


def sun_down_rows(ts, site):
    """Per row: is the sun down at site (latitude, longitude) at these Unix times (verdant.sun,
    the board's own function)."""
    out = np.empty(len(ts), dtype=bool)
    for i, t in enumerate(np.asarray(ts, dtype=np.int64).tolist()):
        key = (site, t)
        down = _SUN_DOWN.get(key)
        if down is None:
            down = _SUN_DOWN[key] = not sun_up(t, site[0], site[1])
        out[i] = down
    return out


def _allowed(label, ts, hours, gates=None):
    """Per row: may `label` be learned / raised here (always without a gate). hours: the gate,
    24 bools (dark_hours: the clock hours) or a (latitude, longitude) site: the sun there."""
    gates = HOUR_GATES if gates is None else gates
    if hours is None or label not in gates:
        return np.ones(len(ts), dtype=bool)
    if isinstance(hours, tuple):
        dark = sun_down_rows(ts, hours)
    else:
        dark = np.asarray(hours, dtype=bool)[(np.asarray(ts, dtype=np.int64) // 3600) % 24]
    return dark if gates[label][1] else ~dark


def load_scenarios(folder, quantities):
    """[(meta, timestamps, readings, dark)] of the split's scenarios present on disk; dark
    (from the CSV's PAR, for labelling: also for sets without a light sensor) marks the rows
    without daylight or lamps."""
    out = []
    for meta in load_manifest(folder):
        path = os.path.join(folder, "scenario_%02d.csv" % meta["index"])
        if not os.path.exists(path):
            continue
        cols = read_columns(path)
        if "light_lux" in quantities and "light_lux" not in cols:
            cols["light_lux"] = cols["par_umol_m2_s"] / LUX_TO_PAR  # a lux sensor in the same light
        out.append((meta, cols["timestamp_s"].astype(np.int64), {q: cols[q] for q in quantities},
                    dark({q: cols[q] for q in ("par_umol_m2_s", "light_lux") if q in cols})))
    return out


def samples(ts, readings, names):
    """(steps, x, keep, symptoms): the board's features at each feature step, plus the
    SYMPTOM_FEATURES columns (NaN when the set lacks them) for labelling."""
    extra = [f for f in SYMPTOM_FEATURES if f not in names and f.rsplit("_d24h", 1)[0] in readings]
    steps, x, keep = dataset.rows_to_samples(ts, readings, list(names) + extra, PERIOD_S, WINDOW)
    cols = {}
    for f in SYMPTOM_FEATURES:
        if f in names:
            cols[f] = x[:, list(names).index(f)]
        elif f in extra:
            cols[f] = x[:, len(names) + extra.index(f)]
        else:
            cols[f] = np.full(len(steps), np.nan)
    return steps, x[:, :len(names)], keep, cols


def symptom_labels(fault, cols, present):
    """Per feature step: the label the fault shows (0 where it shows nothing yet)."""
    n = len(next(iter(cols.values())))
    label = np.zeros(n, dtype=np.int64)
    for name, feature, sign, size in reversed(SYMPTOMS.get(fault, [])):
        if name.startswith("co2") and "co2_ppm" not in present:
            continue
        v = np.nan_to_num(cols[feature] * sign, nan=-1.0)
        label = np.where(v >= size, LABELS.index(name), label)
    return label


def scenario_examples(meta, ts, readings, names, present, hours=None):
    """(x, y) from one training scenario's normal time and its real equipment fault (with
    hours, the gate of _allowed: its too_cold rows only in the dark)."""
    steps, x, keep, cols = samples(ts, readings, names)
    t_rel = ts[steps] - ts[0]
    fault = meta["fault"]
    if not fault:
        normal = keep
        faulty = np.zeros(len(steps), dtype=bool)
    else:
        normal = keep & (t_rel < meta["fault_start_s"])
        faulty = keep & (t_rel >= meta["fault_start_s"]) & (t_rel < meta["fault_end_s"])
    xs, ys = [x[normal]], [np.zeros(int(normal.sum()), dtype=np.int64)]
    if fault in SYMPTOMS:
        label = symptom_labels(fault, cols, present)
        pick = faulty & (label > 0)   # rows where the fault does not show yet teach nothing
        for name in HOUR_GATES:
            pick &= (label != LABELS.index(name)) | _allowed(name, ts[steps], hours)
        xs.append(x[pick])
        ys.append(label[pick])
    return np.concatenate(xs), np.concatenate(ys)


def _es(t):
    return 0.61121 * np.exp((18.678 - t / 234.5) * (t / (257.14 + t)))


def depart(readings, kind, start, rng):
    """A copy of readings with a departure of `kind` from row `start` on (what a heating
    failure, a vent, a CO2 valve stuck open or dosing off does to them); returns (new
    readings, visible): rows where the departure has reached VISIBLE."""
    out = {q: v.copy() for q, v in readings.items()}
    n = len(next(iter(readings.values())))
    k = np.arange(n) - start
    after = k >= 0
    hours = np.where(after, k * PERIOD_S / 3600.0, 0.0)
    if kind == "too_cold":   # heating failure, vents open
        size = -rng.uniform(5.0, 12.0)
        delta = size * np.minimum(hours / rng.uniform(0.5, 2.0), 1.0) * after
        t_old = readings["air_temp_c"]
        out["air_temp_c"] = t_old + delta
        if "rh_pct" in readings:
            # between the same vapour pressure (alpha 1) and the same RH (alpha 0): a cooling
            # greenhouse also loses vapour to condensation on the cover and to the vents
            alpha = rng.uniform(0.0, 1.0)
            out["rh_pct"] = np.clip(readings["rh_pct"] * (_es(t_old) / _es(t_old + delta)) ** alpha, 0, 100)
        quantity = "air_temp_c"
    elif kind == "co2_low":   # dosing off: decays towards a depleted level
        floor = rng.uniform(250.0, 380.0)
        old = readings["co2_ppm"]
        out["co2_ppm"] = np.minimum(old, np.where(after, floor + (old - floor) * np.exp(-hours / rng.uniform(0.7, 2.0)),
                                                  old))
        quantity = "co2_ppm"
    elif kind == "co2_high":  # a valve stuck open
        delta = rng.uniform(300.0, 1200.0) * np.minimum(hours / rng.uniform(0.5, 2.0), 1.0) * after
        out["co2_ppm"] = readings["co2_ppm"] + delta
        quantity = "co2_ppm"
    else:
        raise ValueError("depart: unknown kind %r" % kind)
    visible = np.abs(np.nan_to_num(out[quantity] - readings[quantity])) >= VISIBLE[quantity]
    return out, visible


def dark(light):
    """Rows without daylight or lamps (PAR < 5 umol/m2/s, or the lux equivalent), from
    {"par_umol_m2_s" or "light_lux": array}; None without either."""
    if "par_umol_m2_s" in light:
        par = light["par_umol_m2_s"]
    elif "light_lux" in light:
        par = light["light_lux"] * LUX_TO_PAR
    else:
        return None
    return np.nan_to_num(par, nan=1e9) < 5.0


def synthetic_examples(meta, ts, readings, names, present, rng, per_day=6, dark_rows=None, hours=None):
    """(x, y) from synthetic departures injected into the scenario's normal time, each with
    the day before it as history (the board needs yesterday for the d24h features); with
    hours (the gate of _allowed), too_cold rows only in the dark."""
    kinds = [k for k in SYNTHETIC if NEEDS[k] in present]
    n = len(ts)
    normal_end = n if not meta["fault"] else meta["fault_start_s"] // PERIOD_S
    lead = DAY_ROWS + 12
    if normal_end - lead < 12 or not kinds:
        return None
    xs, ys = [], []
    days = (normal_end - lead) / DAY_ROWS
    for _ in range(max(1, int(round(per_day * days)))):
        kind = kinds[int(rng.integers(0, len(kinds)))]
        start = int(rng.integers(lead, normal_end - 6))
        length = int(rng.uniform(3.0, 12.0) * 3600 // PERIOD_S)
        lo, hi = start - lead, min(normal_end, start + length)
        seg = {q: v[lo:hi] for q, v in readings.items()}
        new, visible = depart(seg, kind, start - lo, rng)
        steps, x, keep, _ = samples(ts[lo:hi], new, names)
        vis = visible[steps]
        if kind == "co2_low" and dark_rows is not None:
            vis &= ~dark_rows[lo:hi][steps]   # nobody doses CO2 in the dark
        vis &= _allowed(kind, ts[lo:hi][steps], hours)
        pick = keep & vis
        xs.append(x[pick])
        ys.append(np.full(int(pick.sum()), LABELS.index(kind), dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def fit(x, y, names, seed=1, epochs=30, hidden=(24, 12)):
    """Keras MLP -> (mean, std, int8 tflite bytes)."""
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
    model.fit(xn, y, batch_size=256, epochs=epochs, verbose=0, shuffle=True,
              class_weight=class_weights(y, len(LABELS)))
    pick = np.random.default_rng(seed).choice(len(xn), min(600, len(xn)), replace=False)
    return mean, std, quantize(model, xn[np.sort(pick)])


def scenario_probs(runner, ts, readings, names, mean, std):
    """(times, probs) at every feature step the board can run the model, in time order."""
    steps, x, keep, _ = samples(ts, readings, names)
    return ts[steps][keep], runner.predict(dataset.normalize(x[keep], mean, std))


def gated(t, probs, hours, clear):
    """probs as the board's gate sees them: outside its hours a gated label is no detection
    (kept at `clear`, below the threshold but not gone, as verdant.alerts does)."""
    if hours is None:
        return probs
    out = probs.copy()
    for label in HOUR_GATES:
        c = LABELS.index(label)
        shut = ~_allowed(label, t, hours)
        out[:, c] = np.where(shut & (probs[:, c] >= clear), clear, probs[:, c])
    return out


def rule_scores(held, rule, hours=None):
    """(false raises per week on normal time, faults alerted, faults, delays in minutes)
    over held-back scenarios [(meta, t, probs)], as fieldeval counts them; hours: the gate
    of _allowed (clock hours or a site's sun) or None."""
    raises, normal_s, alerted, faults, delays = 0, 0, 0, 0, []
    clear = report.firmware_alert_settings(rule[0], rule[1])["model_clear"]
    for meta, t, probs in held:
        spans = report.fast_alerts(t, gated(t, probs, hours, clear), rule[0], rule[1])
        times = sorted(t[r] for _, r, _ in spans)
        t0 = meta["t0_unix"]
        if meta["fault"]:
            a = t0 + meta["fault_start_s"]
            normal_s += meta["fault_start_s"]
            raises += sum(1 for x in times if x < a)
            if meta["fault"] in SYMPTOMS:
                faults += 1
                hit = [x for x in times if a <= x < t0 + meta["fault_end_s"] + GRACE_S]
                if hit:
                    alerted += 1
                    delays.append((hit[0] - a) / 60.0)
        else:
            normal_s += meta["days"] * 86400
            raises += len(times)
    return raises / (normal_s / WEEK_S), alerted, faults, delays


RULES = [(th, c) for c in (2, 3, 4, 6, 9, 12) for th in (0.6, 0.7, 0.8, 0.9, 0.95, 0.98)]


def false_raises(held, rule, hours=None):
    """["scenario NN label@day D hh:mm UTC", ...]: the rule's raises on held-back normal time."""
    out = []
    clear = report.firmware_alert_settings(rule[0], rule[1])["model_clear"]
    for meta, t, probs in held:
        end = meta["t0_unix"] + (meta["fault_start_s"] if meta["fault"] else meta["days"] * 86400)
        for c, r, _ in report.fast_alerts(t, gated(t, probs, hours, clear), rule[0], rule[1]):
            if t[r] < end:
                s = int(t[r] - meta["t0_unix"])
                out.append("scenario %02d %s@day %d %02d:%02d UTC" % (meta["index"], LABELS[c], s // 86400,
                                                                     (t[r] // 3600) % 24, (t[r] // 60) % 60))
    return out


def choose_rule(held, hours=None):
    """The rule meeting the false-alarm bar with the most faults alerted, then the shortest
    median delay, then the strictest (a margin for greenhouses not seen); the strictest rule
    when none meets it. Returns (rule, scores)."""
    best = None
    for rule in RULES:
        fa, alerted, faults, delays = rule_scores(held, rule, hours)
        if fa > MAX_FALSE_ALARMS_PER_WEEK:
            continue
        key = (-alerted, float(np.median(delays)) if delays else 1e9, -rule[1], -rule[0])
        if best is None or key < best[0]:
            best = (key, rule, (fa, alerted, faults, delays))
    if best is None:
        rule = RULES[-1]
        return rule, rule_scores(held, rule, hours)
    return best[1], best[2]


def export(tflite_bytes, names, mean, std, rule, name, hours=None, gates=None, sun=False):
    """(model file bytes, export report): the site models' export with this classifier's
    labels and window (both run on 5-minute rows); hours (dark_hours) and gates (train's
    "gates", default HOUR_GATES): the hour gates; sun: the same labels' sun gates too (the
    hour gates are then the fallback of a board without a place)."""
    from verdant_host.sitemodel import export as export_model
    extra = gate_meta(hours, gates) if hours is not None else None
    if extra is not None and sun:
        extra.update(sun_meta(gates))
    return export_model(tflite_bytes, names, mean, std, rule, name, LABELS, WINDOW, extra=extra)


def train(folder, quantities, seed=1, epochs=30, say=None, levels=False, night_only=None, sun_site=GREENLIGHT_SITE):
    """Train on the split's greenhouses: the rule from FOLDS out-of-fold models, the returned
    model on all of them. night_only (default: the set has no light sensor) gates too_cold to
    the dark and co2_low to daylight: where the sun is down / up at sun_site (the data's site,
    module docstring), or with sun_site None in the clock hours of dark_hours. Returns a dict:
    names, model bytes, tflite bytes, rule, held-back scores, counts, dark hours (None without
    the gate), gates, sun_site (None: clock-hour gates)."""
    from verdant_host.train import Int8Runner
    say = say or (lambda m: None)
    present = list(quantities)
    names = feature_names(present, levels)
    scenarios = load_scenarios(folder, present)
    if night_only is None:
        night_only = not any(q in present for q in LIGHT)
    gates = {label: g for label, g in HOUR_GATES.items() if NEEDS[label] in present} if night_only else {}
    hours = dark_hours(scenarios) if gates else None   # the fallback of boards without a place
    sun_site = sun_site if gates else None
    if hours is not None:
        say("dark hours (UTC) %s; %s; %s" % ([h for h in range(24) if hours[h]], ", ".join(
            "%s only in the %s ones" % (label, "dark" if g[1] else "other") for label, g in sorted(gates.items())),
            "learned and ruled by the sun at %.2f, %.2f" % sun_site if sun_site else "learned and ruled by the hours"))
    gate = sun_site if sun_site is not None else hours   # what the rows and the rule are judged by
    examples = {}
    for meta, ts, readings, dark_rows in scenarios:
        # each greenhouse's synthetic departures from its own generator: the same in every fold
        rng = np.random.default_rng([seed, meta["index"]])
        parts = [scenario_examples(meta, ts, readings, names, present, gate)]
        synth = synthetic_examples(meta, ts, readings, names, present, rng, dark_rows=dark_rows, hours=gate)
        if synth is not None:
            parts.append(synth)
        examples[meta["index"]] = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))

    def fit_on(indices):
        x = np.concatenate([examples[i][0] for i in indices])
        y = np.concatenate([examples[i][1] for i in indices])
        return (x, y) + fit(x, y, names, seed, epochs)

    held = []
    for fold in range(FOLDS):
        train_i = [m["index"] for m, _, _, _ in scenarios if not held_back(m["index"], fold)]
        held_i = [m["index"] for m, _, _, _ in scenarios if held_back(m["index"], fold)]
        if not train_i or not held_i:
            continue
        _, _, mean, std, tflite_bytes = fit_on(train_i)
        runner = Int8Runner(tflite_bytes)
        for meta, ts, readings, _ in scenarios:
            if meta["index"] in held_i:
                t, probs = scenario_probs(runner, ts, readings, names, mean, std)
                held.append((meta, t, probs))
        say("fold %d: %d greenhouses trained, %d held back" % (fold, len(train_i), len(held_i)))
    rule, (fa, alerted, faults, delays) = choose_rule(held, gate)
    say("rule p >= %.2f x %d on %d held-back greenhouses: %.2f false alarms/week %s" % (
        rule[0], rule[1], len(held), fa, false_raises(held, rule, gate)))
    normal_weeks = sum((m["fault_start_s"] if m["fault"] else m["days"] * 86400) for m, _, _ in held) / WEEK_S
    x, y, mean, std, tflite_bytes = fit_on([m["index"] for m, _, _, _ in scenarios])
    counts = np.bincount(y, minlength=len(LABELS)).tolist()
    say("%d greenhouses, %d examples per class %s" % (len(scenarios), len(y), dict(zip(LABELS, counts))))
    return {"names": names, "mean": mean, "std": std, "tflite": tflite_bytes, "rule": rule,
            "held_back_false_alarms_per_week": fa, "held_back_faults_alerted": alerted,
            "held_back_equipment_faults": faults,
            "held_back_median_delay_min": float(np.median(delays)) if delays else None,
            "held_back_false_raises": false_raises(held, rule, gate),
            "held_back_normal_weeks": normal_weeks, "train_scenarios": len(scenarios), "held_back_scenarios": len(held),
            "class_counts": counts, "dark_hours": hours, "gates": gates, "sun_site": sun_site}
