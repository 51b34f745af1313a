"""Evaluation of a trained model on held-out simulated greenhouses, and the report files.

Per-sample metrics: accuracy, macro F1, per-class precision/recall, confusion matrix,
against the early-warning labels (dataset.label_samples).
Event metrics (what a grower sees): model alerts are the "raise" events of the firmware's
own alert engine (verdant.alerts.AlertEngine) fed with the int8 probabilities, with the
threshold and debounce the model file carries (alert_threshold, alert_consecutive), as
verdant.app sets them; the baseline alarms on fixed thresholds (baseline.py) held for
BASELINE_CONSECUTIVE samples.
- detection: the model alert of the event's own class active within [start - horizon,
  end) (the model may warn before the onset); the baseline alarm active within [start, end);
- latency: detection time - event start (negative: before the onset);
- lead time: baseline alarm time - model alert time, for events both detect (positive =
  the model warned earlier than the threshold alarm);
- false alarms per simulated week: alert raises (baseline: alarm starts) outside every
  event's [start - horizon, end + GRACE_S); raises during sensor faults are counted apart.
"""
import json
import math
from dataclasses import dataclass

import numpy as np

from verdant.alerts import AlertEngine
from verdant.rules import DEFAULT_SETTINGS
from verdant_host import baseline, dataset, greenhouse

LABELS = dataset.LABELS
# The firmware's defaults (verdant.rules); a model file may carry its own threshold/debounce.
ALERT_THRESHOLD = DEFAULT_SETTINGS["model_threshold"]
ALERT_CONSECUTIVE = DEFAULT_SETTINGS["model_consecutive"]
BASELINE_CONSECUTIVE = 3    # the threshold alarm box holds a violation 45 min (3 x 15 min) before it rings
GRACE_S = 3 * 3600
WEEK_S = 7 * 86400


def firmware_alert_settings(threshold, consecutive):
    """The model-alert settings a board ends up with for a model carrying these values:
    what AlertEngine.adopt_model (used by verdant.app) makes of them."""
    engine = AlertEngine()
    engine.adopt_model({"alert_threshold": float(threshold), "alert_consecutive": int(consecutive)})
    return {key: engine.settings[key] for key in ("model_threshold", "model_consecutive", "model_clear")}


@dataclass
class ScenarioRun:
    """One held-out scenario: sampled columns, model probabilities per sample (NaN rows
    where the board could not build the input), the firmware's model alerts and the
    baseline alarm flags."""
    scenario: object
    columns: dict
    probs: np.ndarray          # (n, classes), rows of NaN where no input
    model_active: np.ndarray   # (n,) class index of the active model alert, 0 = none
    baseline_alarm: np.ndarray
    model_raise: np.ndarray = None  # (n,) class index raised at that sample, 0 = none
    inputs: np.ndarray = None  # (n, window * features) raw model inputs, NaN where none


def firmware_alerts(t, probs, labels=LABELS, threshold=ALERT_THRESHOLD, consecutive=ALERT_CONSECUTIVE):
    """(active, raised) class index per sample from the firmware's AlertEngine, fed one
    prediction per sample as verdant.app does (no call where the input was missing)."""
    engine = AlertEngine()
    engine.adopt_model({"alert_threshold": float(threshold), "alert_consecutive": int(consecutive)})
    index = {name: i for i, name in enumerate(labels)}
    active = np.zeros(len(probs), dtype=np.int64)
    raised = np.zeros(len(probs), dtype=np.int64)
    for i in range(len(probs)):
        p = probs[i]
        if not np.isnan(p).any():
            for ev in engine.update_model(int(t[i]), list(labels), [float(v) for v in p]):
                if ev["event"] == "raise" and not raised[i]:
                    raised[i] = index[ev["type"]]
        on = [index[name] for name in engine.active() if name in index]
        active[i] = on[0] if on else 0
    return active, raised


def fast_alerts(t, probs, threshold, consecutive, clear=None, cooldown_s=None):
    """The AlertEngine's model-alert state machine (verdant.alerts.CountState), per class
    over only the samples where it can change: [(class, raise index, clear index or
    len(probs))]. For tuning the decision rule quickly; tests check it against
    firmware_alerts. probs must have no NaN rows (leave them out, as the app does)."""
    settings = firmware_alert_settings(threshold, consecutive)
    clear = settings["model_clear"] if clear is None else clear
    cooldown_s = DEFAULT_SETTINGS["cooldown_s"] if cooldown_s is None else cooldown_s
    n, k = probs.shape
    spans = []
    for c in range(1, k):
        p = probs[:, c]
        relevant = np.flatnonzero(p >= clear).tolist()   # elsewhere: no detection, and "gone"
        detected = (p >= threshold)
        active, hits, misses, prev, raised_at, raise_i = False, 0, 0, -1, None, None
        for i in relevant:
            gap = i - prev - 1
            if gap > 0:
                if active:
                    if misses + gap >= consecutive:
                        spans.append((c, raise_i, prev + consecutive - misses))
                        active, hits, misses = False, 0, 0
                    else:
                        misses += gap
                else:
                    hits = 0
            if active:
                misses = 0
            else:
                hits = hits + 1 if detected[i] else 0
                if hits >= consecutive and (raised_at is None or t[i] - raised_at >= cooldown_s):
                    active, misses, raised_at, raise_i = True, 0, t[i], i
            prev = i
        if active:
            gap = n - prev - 1
            spans.append((c, raise_i, prev + consecutive - misses if misses + gap >= consecutive else n))
    return spans


def run_scenario(scenario, predict, names, mean, std, period_s, window, threshold=ALERT_THRESHOLD,
                 consecutive=ALERT_CONSECUTIVE, labels=LABELS):
    """Simulate, build inputs with the firmware's sampler and features, predict(x_norm) ->
    probabilities, alerts from the firmware's alert engine. Columns are those of the app's
    feature steps (one per period_s)."""
    cols = greenhouse.simulate(scenario).sample(dataset.SENSOR_PERIOD_S)
    readings = {q: cols[q] for q in greenhouse.QUANTITIES}
    steps, x, keep = dataset.rows_to_samples(cols["timestamp_s"], readings, names, period_s, window)
    cols = {k: v[steps] for k, v in cols.items()}
    probs = np.full((len(x), len(labels)), np.nan)
    if keep.any():
        probs[keep] = predict(dataset.normalize(x[keep], mean, std))
    active, raised = firmware_alerts(cols["timestamp_s"], probs, labels, threshold, consecutive)
    return ScenarioRun(scenario, cols, probs, active,
                       baseline.debounce(baseline.threshold_alarms(cols), BASELINE_CONSECUTIVE), raised, x)


def _rising_edges(flags):
    flags = np.asarray(flags, dtype=bool)
    prev = np.concatenate([[False], flags[:-1]])
    return np.flatnonzero(flags & ~prev)


def event_windows(events, t_rel, horizon_s=dataset.HORIZON_S):
    """(quiet, in_sensor_fault) sample masks. Outside every greenhouse event's
    [start - horizon, end + GRACE_S): quiet when also outside every sensor fault's
    [start, end + GRACE_S), in_sensor_fault when inside one."""
    outside = np.ones(len(t_rel), dtype=bool)
    fault = np.zeros(len(t_rel), dtype=bool)
    for e in events:
        if e.kind in greenhouse.SENSOR_FAULTS:
            fault |= (t_rel >= e.start_s) & (t_rel < e.end_s + GRACE_S)
        else:
            outside &= ~((t_rel >= e.start_s - horizon_s) & (t_rel < e.end_s + GRACE_S))
    return outside & ~fault, outside & fault


def event_metrics(runs, labels=LABELS, horizon_s=dataset.HORIZON_S):
    """Per event: detection times of model and baseline; false alarms per week for both."""
    events, simulated_s = [], 0.0
    counts = {"model": 0, "baseline": 0, "model_in_sensor_faults": 0, "baseline_in_sensor_faults": 0}
    by_class = {}
    for run in runs:
        sc = run.scenario
        t = run.columns["timestamp_s"] - sc.start_timestamp_s
        simulated_s += sc.days * 86400
        for e in sc.events:
            sensor = e.kind in greenhouse.SENSOR_FAULTS
            early = (t >= e.start_s - (0 if sensor else horizon_s)) & (t < e.end_s)
            span = (t >= e.start_s) & (t < e.end_s)
            model_hits = np.flatnonzero(early & (run.model_active == labels.index(e.kind))) if not sensor else []
            any_hits = np.flatnonzero(early & (run.model_active != 0))
            base_hits = np.flatnonzero(span & run.baseline_alarm)
            events.append({
                "kind": e.kind, "seed": sc.seed, "start_s": e.start_s, "duration_s": e.duration_s,
                "model_s": float(t[model_hits[0]] - e.start_s) if len(model_hits) else None,
                "model_any_s": float(t[any_hits[0]] - e.start_s) if len(any_hits) else None,
                "baseline_s": float(t[base_hits[0]] - e.start_s) if len(base_hits) else None,
            })
        quiet, in_fault = event_windows(sc.events, t, horizon_s)
        raises = np.flatnonzero(run.model_raise != 0)
        base_starts = _rising_edges(run.baseline_alarm)
        counts["model"] += int(quiet[raises].sum())
        counts["baseline"] += int(quiet[base_starts].sum())
        counts["model_in_sensor_faults"] += int(in_fault[raises].sum())
        counts["baseline_in_sensor_faults"] += int(in_fault[base_starts].sum())
        for i in raises[quiet[raises]]:
            label = labels[int(run.model_raise[i])]
            by_class[label] = by_class.get(label, 0) + 1
    weeks = simulated_s / WEEK_S
    out = {k: v / weeks for k, v in counts.items()}
    out["weeks"] = weeks
    out["model_by_class"] = {k: v / weeks for k, v in sorted(by_class.items())}
    return events, out


def summarize_events(events):
    """Per event kind: count, detection rates, median latency from the onset and lead
    time over the baseline (minutes), warnings before the onset."""
    out = {}
    for kind in sorted({e["kind"] for e in events}):
        es = [e for e in events if e["kind"] == kind]
        model = [e["model_s"] for e in es if e["model_s"] is not None]
        base = [e["baseline_s"] for e in es if e["baseline_s"] is not None]
        leads = [(e["baseline_s"] - e["model_s"]) / 60 for e in es
                 if e["model_s"] is not None and e["baseline_s"] is not None]
        out[kind] = {
            "events": len(es),
            "model_detected": len(model) / len(es),
            "baseline_detected": len(base) / len(es),
            "model_median_latency_min": _median([m / 60 for m in model]),
            "baseline_median_latency_min": _median([b / 60 for b in base]),
            "median_lead_vs_baseline_min": _median(leads),
            "model_before_onset": sum(1 for m in model if m < 0),
            "model_only": sum(1 for e in es if e["model_s"] is not None and e["baseline_s"] is None),
            "baseline_only": sum(1 for e in es if e["model_s"] is None and e["baseline_s"] is not None),
        }
    return out


def headline(events, false_alarms):
    """The issue's question over all greenhouse events (sensor faults are not the model's):
    detections, median latency and lead, and false alarms per week, model vs baseline."""
    es = [e for e in events if e["kind"] not in greenhouse.SENSOR_FAULTS]
    both = [e for e in es if e["model_s"] is not None and e["baseline_s"] is not None]
    leads = [(e["baseline_s"] - e["model_s"]) / 60 for e in both]
    return {
        "greenhouse_events": len(es),
        "model_detected": sum(1 for e in es if e["model_s"] is not None),
        "baseline_detected": sum(1 for e in es if e["baseline_s"] is not None),
        "model_median_latency_min": _median([e["model_s"] / 60 for e in es if e["model_s"] is not None]),
        "baseline_median_latency_min": _median([e["baseline_s"] / 60 for e in es if e["baseline_s"] is not None]),
        "both_detected": len(both),
        "median_lead_vs_baseline_min": _median(leads),
        "model_earlier": sum(1 for v in leads if v > 0),
        "model_later": sum(1 for v in leads if v < 0),
        "model_false_alarms_per_week": false_alarms["model"],
        "baseline_false_alarms_per_week": false_alarms["baseline"],
    }


# ---- tuning the decision rule on validation scenarios (never the held-out test seeds) ----

MISS_COST = 1.5          # an undetected event costs more than one warned CAP_S late
CAP_S = 12 * 3600        # delays beyond this count as CAP_S
FALSE_ALARM_COST = 1.0   # a false alarm costs as much as a warning CAP_S late


class TuningSet:
    """Validation runs concatenated for fast_alerts: log-probabilities of the rows with an
    input, separated by `BREAK` rows that clear every alert, with each greenhouse event's
    early window and the quiet rows (where a raise is a false alarm)."""
    BREAK = 6   # > any debounce tried: the alert engine state never carries across runs

    def __init__(self, runs, labels=LABELS, horizon_s=dataset.HORIZON_S):
        k = len(labels)
        logp, times, quiet, self.events = [], [], [], []   # events: (class, first row, end row, t0)
        offset, t_base, weeks = 0, 0.0, 0.0
        for run in runs:
            keep = ~np.isnan(run.probs[:, 0])
            t_rel = (run.columns["timestamp_s"] - run.scenario.start_timestamp_s)[keep].astype(float)
            q, _ = event_windows(run.scenario.events, t_rel, horizon_s)
            logp.append(np.log(np.clip(run.probs[keep], 1e-9, 1.0)))
            times.append(t_rel + t_base)
            quiet.append(q)
            for e in run.scenario.events:
                if e.kind in greenhouse.SENSOR_FAULTS:
                    continue
                first = offset + int(np.searchsorted(t_rel, e.start_s - horizon_s))
                end = offset + int(np.searchsorted(t_rel, e.end_s))
                self.events.append((labels.index(e.kind), first, end, e.start_s - horizon_s + t_base))
            sep = np.full((self.BREAK, k), np.log(1e-9))
            sep[:, 0] = 0.0
            logp.append(sep)
            times.append(t_base + run.scenario.days * 86400 + np.arange(self.BREAK))
            quiet.append(np.zeros(self.BREAK, dtype=bool))
            offset += int(keep.sum()) + self.BREAK
            t_base += run.scenario.days * 86400 + 10 * 86400
            weeks += run.scenario.days / 7
        self.logp, self.t, self.quiet = np.concatenate(logp), np.concatenate(times), np.concatenate(quiet)
        self.weeks = weeks
        self.labels = labels

    def probs(self, offsets):
        z = self.logp + np.asarray(offsets)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def score(self, offsets, threshold, consecutive):
        """(false alarms per week, cost, detected): cost sums min(delay, CAP_S) / CAP_S over
        greenhouse events, delay counted from start - horizon, MISS_COST per missed event
        and FALSE_ALARM_COST per false alarm (so fewer false alarms win near-ties)."""
        spans = fast_alerts(self.t, self.probs(offsets), threshold, consecutive)
        raises = np.array([r for _, r, _ in spans], dtype=np.int64)
        false_alarms = int(self.quiet[raises].sum()) if len(raises) else 0
        by_class = {}
        for c, r, e in spans:
            by_class.setdefault(c, []).append((r, e))
        cost, detected = FALSE_ALARM_COST * false_alarms, 0
        for c, first, end, t0 in self.events:
            best = None
            for r, e in by_class.get(c, ()):
                if r < end and e > first:
                    row = max(r, first)
                    best = row if best is None or row < best else best
            if best is None:
                cost += MISS_COST
            else:
                detected += 1
                cost += min(self.t[best] - t0, CAP_S) / CAP_S
        return false_alarms / self.weeks, cost, detected


def tune_decision_rule(tuning, fa_target, thresholds=(0.5, 0.6, 0.7, 0.8, 0.9), consecutives=(2, 3, 4),
                       offset_grid=(-4.0, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0), passes=2, progress=None):
    """Choose the alert threshold, debounce and per-class logit offsets (added to the
    output layer's bias, so the board's model carries them) on validation runs: the
    lowest cost with false alarms per week <= fa_target (else the fewest false alarms).
    Coordinate descent over the offsets for each threshold and debounce."""
    k = len(tuning.labels)

    def key(result):
        fa, cost, _ = result
        return (max(0.0, fa - fa_target), cost)

    best = None
    for threshold in thresholds:
        for consecutive in consecutives:
            offsets = np.zeros(k)
            current = tuning.score(offsets, threshold, consecutive)
            for _ in range(passes):
                for c in range(1, k):
                    for value in offset_grid:
                        if value == offsets[c]:
                            continue
                        trial = offsets.copy()
                        trial[c] = value
                        result = tuning.score(trial, threshold, consecutive)
                        if key(result) < key(current):
                            current, offsets = result, trial
            if progress:
                progress("decision rule: threshold %.2f x%d: %.2f false alarms/week, cost %.1f, %d events detected"
                         % (threshold, consecutive, current[0], current[1], current[2]))
            if best is None or key(current) < key(best[0]):
                best = (current, threshold, consecutive, offsets)
    (fa, cost, detected), threshold, consecutive, offsets = best
    return {"threshold": threshold, "consecutive": consecutive, "logit_offsets": [float(v) for v in offsets],
            "validation_false_alarms_per_week": fa, "validation_cost": cost, "validation_detected": detected,
            "validation_events": len(tuning.events), "false_alarm_target": fa_target}


def _median(values):
    return float(np.median(values)) if values else None


def classification_metrics(y_true, y_pred, labels):
    k = len(labels)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    per_class = {}
    f1s = []
    for i, name in enumerate(labels):
        tp = cm[i, i]
        precision = tp / cm[:, i].sum() if cm[:, i].sum() else None
        recall = tp / cm[i, :].sum() if cm[i, :].sum() else None
        f1 = (2 * precision * recall / (precision + recall)
              if precision and recall else (0.0 if recall is not None else None))
        if f1 is not None:
            f1s.append(f1)
        per_class[name] = {"precision": _num(precision), "recall": _num(recall), "f1": _num(f1),
                           "support": int(cm[i, :].sum())}
    return {"accuracy": float(np.trace(cm) / max(1, cm.sum())), "macro_f1": float(np.mean(f1s)) if f1s else 0.0,
            "per_class": per_class, "confusion": cm.tolist()}


def _num(v):
    return None if v is None else float(v)


def _fmt(v, digits=2, suffix=""):
    if v is None:
        return "-"
    return ("%." + str(digits) + "f%s") % (v, suffix)


def write_markdown(path, result):
    """The human report: what was trained, float vs int8, per class, events, baseline."""
    lines = ["# Verdant default model report", ""]
    lines.append("Generated by `%s`. Everything below is measured on held-out "
                 "simulated greenhouses (seeds %s), never seen in training." % (result["command"], result["test_seeds"]))
    lines.append("")
    lines.append("| | |\n| --- | --- |")
    for key in ("features", "window", "period_s", "train_samples", "test_samples", "epochs",
                "parameters", "model_file_bytes", "arena_bytes", "train_seconds"):
        value = result[key]
        lines.append("| %s | %s |" % (key, ", ".join(value) if isinstance(value, list) else value))
    lines.append("")
    lines.append("## Float vs int8 (per sample)\n")
    lines.append("| model | accuracy | macro F1 |\n| --- | --- | --- |")
    for name in ("float", "int8"):
        m = result[name]
        lines.append("| %s | %.3f | %.3f |" % (name, m["accuracy"], m["macro_f1"]))
    lines.append("\nint8 and float agree on the class of %.1f %% of test samples.\n"
                 % (100 * result["int8_float_agreement"]))
    lines.append("## Per class (int8)\n")
    lines.append("| class | precision | recall | F1 | support |\n| --- | --- | --- | --- | --- |")
    for name, m in result["int8"]["per_class"].items():
        lines.append("| %s | %s | %s | %s | %d |" % (name, _fmt(m["precision"]), _fmt(m["recall"]),
                                                   _fmt(m["f1"]), m["support"]))
    lines.append("\n## Confusion matrix (int8; rows = truth, columns = predicted)\n")
    labels = result["labels"]
    lines.append("| | " + " | ".join(str(i) for i in range(len(labels))) + " |")
    lines.append("| --- " * (len(labels) + 1) + "|")
    for i, row in enumerate(result["int8"]["confusion"]):
        lines.append("| %d %s | %s |" % (i, labels[i], " | ".join(str(v) for v in row)))
    rule = result["decision_rule"]
    fa = result["false_alarms_per_week"]
    h = result["headline"]
    lines.append("\n## Early warning: model (int8) vs fixed-threshold baseline\n")
    lines.append("Labels: a window is labelled with a greenhouse event from %d min before its onset to its end "
                 "(early warning); sensor faults are not a model class (the sampler's health checks and "
                 "sensor-failure alerts report them)." % (result["horizon_s"] // 60))
    lines.append("")
    lines.append("Model alert = the firmware's alert engine (`verdant.alerts`) raising a class: probability >= %.2f "
                 "for %d predictions in a row (%d min), the `alert_threshold` / `alert_consecutive` the model file "
                 "carries. Chosen on %d validation weeks (seeds %s, neither training nor test) with per-class logit "
                 "offsets built into the output layer (%s): the earliest warnings with false alarms at most %.2f per "
                 "week (the baseline's rate on the validation weeks x %.2f), from the float model's probabilities. "
                 "On the validation weeks: %d of %d greenhouse events detected, %.2f false alarms per week "
                 "(baseline %.2f)." % (
                     rule["threshold"], rule["consecutive"], rule["consecutive"] * result["period_s"] // 60,
                     rule["validation_weeks"], rule["validation_seeds"],
                     ", ".join("%s %+.1f" % (n, v) for n, v in zip(result["labels"][1:], rule["logit_offsets"][1:])),
                     rule["false_alarm_target"], rule["false_alarm_margin"], rule["validation_detected"],
                     rule["validation_events"], rule["validation_false_alarms_per_week"],
                     rule["validation_baseline_false_alarms_per_week"]))
    lines.append("")
    lines.append("Baseline alarm = any fixed threshold (air < 8 C, air > 32 C, CO2 > 1200 ppm, soil < 25 %%, "
                 "RH > 97 %%) violated for %d samples in a row (%d min)." % (
                     BASELINE_CONSECUTIVE, BASELINE_CONSECUTIVE * result["period_s"] // 60))
    lines.append("")
    lines.append("| over the %d greenhouse events | model | baseline |\n| --- | --- | --- |" % h["greenhouse_events"])
    lines.append("| detected | %d | %d |" % (h["model_detected"], h["baseline_detected"]))
    lines.append("| median latency from the onset (min) | %s | %s |" % (
        _fmt(h["model_median_latency_min"], 0), _fmt(h["baseline_median_latency_min"], 0)))
    lines.append("| false alarms per simulated week | %.2f | %.2f |" % (fa["model"], fa["baseline"]))
    lines.append("| alarms during sensor faults per week | %.2f | %.2f |" % (
        fa["model_in_sensor_faults"], fa["baseline_in_sensor_faults"]))
    lines.append("\nOn the %d events both detect, the model warned earlier on %d and later on %d; median lead "
                 "over the baseline %s min.\n" % (h["both_detected"], h["model_earlier"], h["model_later"],
                                                    _fmt(h["median_lead_vs_baseline_min"], 0)))
    lines.append("Per event kind (latency: alert time - event onset, negative = before the onset; lead = baseline "
                 "alarm time - model alert time, positive = the model warned earlier):\n")
    lines.append("| event | n | model detected | baseline detected | model latency (min) | "
                 "baseline latency (min) | median lead (min) | before onset | model only | baseline only |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind, m in result["events"].items():
        lines.append("| %s | %d | %s | %s | %s | %s | %s | %d | %d | %d |" % (
            kind, m["events"], _fmt(100 * m["model_detected"], 0, " %"),
            _fmt(100 * m["baseline_detected"], 0, " %"), _fmt(m["model_median_latency_min"], 0),
            _fmt(m["baseline_median_latency_min"], 0), _fmt(m["median_lead_vs_baseline_min"], 0),
            m["model_before_onset"], m["model_only"], m["baseline_only"]))
    lines.append("\nFalse alarms per simulated week (%.1f weeks): model %.2f, baseline %.2f (raises outside every "
                 "event's [onset - %d min, end + %d h) and outside sensor faults).\n"
                 % (fa["weeks"], fa["model"], fa["baseline"], result["horizon_s"] // 60, GRACE_S // 3600))
    if fa.get("model_by_class"):
        lines.append("Model false alarms per week by class: %s.\n" % ", ".join(
            "%s %.2f" % kv for kv in fa["model_by_class"].items()))
    lines.append("A sensor dropout leaves the model without input once the sampler's last value is stale "
                 "(two sensor periods); the sampler's health reports and sensor-failure alerts cover it. "
                 "Sensor-fault events are listed for the model's and the baseline's reaction to them; neither "
                 "counts as a detection the model is meant to make.\n")
    lines.append("![timeline](timeline.png)\n")
    text = "\n".join(lines)
    try:  # keep the field scores (fieldeval.py writes them; retraining does not re-measure them)
        with open(path) as f:
            old = f.read()
        from verdant_host.fieldeval import BLOCK_END, BLOCK_START
        if BLOCK_START in old and BLOCK_END in old:
            text += "\n" + BLOCK_START + old.split(BLOCK_START, 1)[1].split(BLOCK_END, 1)[0] + BLOCK_END + "\n"
    except OSError:
        pass
    with open(path, "w") as f:
        f.write(text)


def write_json(path, result):
    with open(path, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")


def plot_timeline(path, run, labels):
    """Readings of one held-out scenario with event spans, model alerts and baseline alarms."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols, sc = run.columns, run.scenario
    hours = (cols["timestamp_s"] - sc.start_timestamp_s) / 3600.0
    panels = (("air_temp_c", "air temp (C)"), ("rh_pct", "RH (%)"), ("co2_ppm", "CO2 (ppm)"),
              ("soil_moisture_pct", "soil moisture (%)"))
    fig, axes = plt.subplots(len(panels) + 1, 1, figsize=(11, 9), sharex=True)
    cmap = plt.get_cmap("tab10")
    for ax, (q, title) in zip(axes, panels):
        ax.plot(hours, cols[q], lw=0.8, color="k")
        ax.set_ylabel(title, fontsize=8)
        for e in sc.events:
            color = "0.5" if e.kind not in labels else cmap(labels.index(e.kind) % 10)
            ax.axvspan(e.start_s / 3600, e.end_s / 3600, alpha=0.15, color=color)
    ax = axes[-1]
    for c in range(1, len(labels)):
        on = run.model_active == c
        if on.any():
            ax.scatter(hours[on], np.full(on.sum(), c), s=6, color=cmap(c % 10), label=labels[c])
    ax.scatter(hours[run.baseline_alarm], np.zeros(run.baseline_alarm.sum()), s=6, color="r", marker="|",
               label="baseline alarm")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(["baseline"] + list(labels[1:]), fontsize=6)
    ax.set_xlabel("hours from start (seed %d, day of year %g)" % (sc.seed, sc.start_doy))
    titles = ", ".join("%s %.0f-%.0f h" % (e.kind, e.start_s / 3600, e.end_s / 3600) for e in sc.events)
    axes[0].set_title("events (shaded): " + titles, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def json_safe(value):
    """Replace NaN/inf by None so the JSON report stays valid."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
