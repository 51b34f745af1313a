"""Evaluation of a trained model on held-out simulated greenhouses, and the report files.

Per-sample metrics: accuracy, macro F1, per-class precision/recall, confusion matrix.
Event metrics (what a grower sees): the model alerts when one non-normal class has
probability >= ALERT_THRESHOLD for ALERT_CONSECUTIVE samples in a row (the firmware's
defaults in verdant.rules); the baseline alarms on fixed thresholds (baseline.py) with
the same debounce.
- detection: an alert of the event's own class during the event;
- lead time: baseline alarm time - model alert time, for events both detect (positive =
  the model warned earlier than the threshold alarm);
- false alarms per simulated week: alert episodes starting outside every event and more
  than GRACE_S after the end of the previous one.
"""
import json
import math
from dataclasses import dataclass

import numpy as np

from verdant.rules import DEFAULT_SETTINGS
from verdant_host import baseline, dataset, greenhouse

# The firmware's own model-alert settings (verdant.rules), so the report measures what a board does.
ALERT_THRESHOLD = DEFAULT_SETTINGS["model_threshold"]
ALERT_CONSECUTIVE = DEFAULT_SETTINGS["model_consecutive"]
GRACE_S = 3 * 3600
WEEK_S = 7 * 86400


@dataclass
class ScenarioRun:
    """One held-out scenario: sampled columns, model probabilities per sample (None where
    the board could not build the input), and the alert flags of model and baseline."""
    scenario: object
    columns: dict
    probs: np.ndarray          # (n, classes), rows of NaN where no input
    model_class: np.ndarray    # (n,) debounced alert class index, 0 (normal) when no alert
    baseline_alarm: np.ndarray
    inputs: np.ndarray = None  # (n, window * features) raw model inputs, NaN where none


def model_alerts(probs, threshold=ALERT_THRESHOLD, consecutive=ALERT_CONSECUTIVE):
    """Debounced alert class per sample (0 = no alert) from class probabilities."""
    n = len(probs)
    out = np.zeros(n, dtype=np.int64)
    run_class, run = 0, 0
    for i in range(n):
        p = probs[i]
        c = 0
        if not np.isnan(p).any():
            best = int(np.argmax(p))
            if best != 0 and p[best] >= threshold:
                c = best
        run = run + 1 if (c and c == run_class) else (1 if c else 0)
        run_class = c
        out[i] = c if c and run >= consecutive else 0
    return out


def run_scenario(scenario, predict, names, mean, std, period_s, window):
    """Simulate, build inputs with the firmware's sampler and features, predict(x_norm) ->
    probabilities. Columns are those of the app's feature steps (one per period_s)."""
    cols = greenhouse.simulate(scenario).sample(dataset.SENSOR_PERIOD_S)
    readings = {q: cols[q] for q in greenhouse.QUANTITIES}
    steps, x, keep = dataset.rows_to_samples(cols["timestamp_s"], readings, names, period_s, window)
    cols = {k: v[steps] for k, v in cols.items()}
    probs = np.full((len(x), len(greenhouse.LABELS)), np.nan)
    if keep.any():
        probs[keep] = predict(dataset.normalize(x[keep], mean, std))
    return ScenarioRun(scenario, cols, probs, model_alerts(probs),
                       baseline.debounce(baseline.threshold_alarms(cols), ALERT_CONSECUTIVE), x)


def _rising_edges(flags):
    flags = np.asarray(flags, dtype=bool)
    prev = np.concatenate([[False], flags[:-1]])
    return np.flatnonzero(flags & ~prev)


def event_metrics(runs):
    """Per event: detection and times for model and baseline; false alarms for both."""
    events, model_false, baseline_false, simulated_s = [], 0, 0, 0.0
    by_class = {}
    for run in runs:
        sc = run.scenario
        t = run.columns["timestamp_s"] - sc.start_timestamp_s
        simulated_s += sc.days * 86400
        for e in sc.events:
            span = (t >= e.start_s) & (t < e.end_s)
            want = greenhouse.LABELS.index(greenhouse.label_of(e.kind))
            model_hits = np.flatnonzero(span & (run.model_class == want))
            any_hits = np.flatnonzero(span & (run.model_class != 0))
            base_hits = np.flatnonzero(span & run.baseline_alarm)
            events.append({
                "kind": e.kind, "seed": sc.seed, "start_s": e.start_s, "duration_s": e.duration_s,
                "model_s": float(t[model_hits[0]] - e.start_s) if len(model_hits) else None,
                "model_any_s": float(t[any_hits[0]] - e.start_s) if len(any_hits) else None,
                "baseline_s": float(t[base_hits[0]] - e.start_s) if len(base_hits) else None,
            })
        quiet = np.ones(len(t), dtype=bool)
        for e in sc.events:
            quiet &= ~((t >= e.start_s) & (t < e.end_s + GRACE_S))
        starts = [i for i in _rising_edges(run.model_class != 0) if quiet[i]]
        model_false += len(starts)
        for i in starts:
            label = greenhouse.LABELS[int(run.model_class[i])]
            by_class[label] = by_class.get(label, 0) + 1
        baseline_false += int(quiet[_rising_edges(run.baseline_alarm)].sum())
    weeks = simulated_s / WEEK_S
    return events, {"model": model_false / weeks, "baseline": baseline_false / weeks, "weeks": weeks,
                    "model_by_class": {k: v / weeks for k, v in sorted(by_class.items())}}


def summarize_events(events):
    """Per event kind: count, detection rates, median latency and lead time (minutes)."""
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
            "model_only": sum(1 for e in es if e["model_s"] is not None and e["baseline_s"] is None),
        }
    return out


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
    lines.append("\n## Events: model (int8) vs fixed-threshold baseline\n")
    lines.append("Alert = one class >= %.2f for %d samples in a row (%d min). Lead = baseline alarm time "
                 "minus model alert time (positive: the model warned earlier)." %
                 (ALERT_THRESHOLD, ALERT_CONSECUTIVE, ALERT_CONSECUTIVE * result["period_s"] // 60))
    lines.append("")
    lines.append("| event | n | model detected | baseline detected | model latency (min) | "
                 "baseline latency (min) | median lead (min) | model only |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind, m in result["events"].items():
        lines.append("| %s | %d | %s | %s | %s | %s | %s | %d |" % (
            kind, m["events"], _fmt(100 * m["model_detected"], 0, " %"),
            _fmt(100 * m["baseline_detected"], 0, " %"), _fmt(m["model_median_latency_min"], 0),
            _fmt(m["baseline_median_latency_min"], 0), _fmt(m["median_lead_vs_baseline_min"], 0),
            m["model_only"]))
    fa = result["false_alarms_per_week"]
    lines.append("\nFalse alarms per simulated week (%.1f weeks): model %.2f, baseline %.2f.\n"
                 % (fa["weeks"], fa["model"], fa["baseline"]))
    if fa.get("model_by_class"):
        lines.append("Model false alarms per week by class: %s.\n" % ", ".join(
            "%s %.2f" % kv for kv in fa["model_by_class"].items()))
    lines.append("A sensor dropout leaves the model without input once the sampler's last value is stale "
                 "(two sensor periods); the sampler's health reports and sensor-failure alerts cover it.\n")
    lines.append("![timeline](timeline.png)\n")
    with open(path, "w") as f:
        f.write("\n".join(lines))


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
            ax.axvspan(e.start_s / 3600, e.end_s / 3600, alpha=0.15,
                       color=cmap(labels.index(greenhouse.label_of(e.kind)) % 10))
    ax = axes[-1]
    for c in range(1, len(labels)):
        on = run.model_class == c
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
