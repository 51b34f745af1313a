"""Scores on physics-grounded scenarios the firmware was not tuned on (data/greenlight/,
made by host/scripts/greenlight_scenarios.py): every CSV is replayed through the
firmware's own code (verdant.app via verdant_host.replay) and compared with the
four-threshold baseline.

What counts (issue 11, "Done means"):
- a fault is alerted when a warning or critical alert is raised within
  [fault start, fault end + 30 min); delay = that raise - fault start;
- a false alarm is a warning/critical raise that claims something untrue: an equipment
  or sensor fault (sensor_fault, sensor_failure, a model label) outside every fault
  window (+ 30 min). Rule alerts on conditions (frost, heat, humidity, VPD, CO2) are
  computed from the readings, so they are true by construction and counted apart, as
  warnings per week on healthy greenhouses;
- advisories: info raises per day on healthy greenhouses (the largest day count).

    python -m verdant_host.fieldeval data/greenlight/test [--model models/default/model.bin]
"""
import argparse
import json
import os
import sys

import numpy as np

from verdant_host import baseline
from verdant_host.replay import replay

GRACE_S = 1800
WEEK_S = 7 * 86400
DAY_S = 86400
CONDITION_TYPES = ("frost_risk", "heat_stress", "disease_risk", "vpd_low", "vpd_high", "dry_soil", "co2_high",
                   "co2_low", "dli_low")


def load_manifest(folder):
    path = os.path.join(folder, "manifest.json")
    with open(path) as f:
        return json.load(f)["scenarios"]


def read_columns(path):
    """CSV -> {column: numpy array} (NaN for empty cells), strings kept for `fault`."""
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [line.rstrip("\n").split(",") for line in f if line.strip()]
    cols = {}
    for j, name in enumerate(header):
        if name == "fault":
            cols[name] = [r[j] for r in rows]
        else:
            cols[name] = np.array([float(r[j]) if r[j] != "" else np.nan for r in rows])
    return cols


def firmware_alerts(path, model=None, board="sim"):
    """[(t, type, severity, event)] the firmware sends for this CSV."""
    from verdant.protocol import decode
    with open(path) as f:
        lines = f.read().splitlines()
    out, _ = replay(lines, board=board, model=model)
    alerts = []
    for line in out:
        message = decode(line)[0]
        p = message["p"]
        alerts.append((message["t"], p["type"], p["severity"], p["event"]))
    return alerts


def baseline_alerts(cols, step_s=300):
    """The four-threshold alarm box: cold, heat, humid, CO2 high/low, missing data, each held
    15 min; [(t, type, "warning", "raise")] at each alarm start."""
    n = len(cols["timestamp_s"])
    filled = {q: cols.get(q, np.full(n, np.nan)) for q in ("air_temp_c", "rh_pct", "co2_ppm",
                                                             "soil_moisture_pct")}
    checks = {"baseline_" + q + "_" + side: (filled[q] < limit if side == "below" else filled[q] > limit)
              for q, side, limit in baseline.THRESHOLDS + baseline.EXTRA_THRESHOLDS}
    for q in ("air_temp_c", "rh_pct", "co2_ppm"):
        if q in cols:
            checks["baseline_missing_" + q] = np.isnan(cols[q])
    hold = max(1, baseline.PERSISTENCE_S // step_s)
    alerts = []
    for name, flags in checks.items():
        on = baseline.debounce(np.nan_to_num(flags, nan=0).astype(bool), hold)
        starts = np.nonzero(on & ~np.concatenate([[False], on[:-1]]))[0]
        alerts += [(int(cols["timestamp_s"][i]), name, "warning", "raise") for i in starts]
    return sorted(alerts)


def score(scenarios, alerts_of):
    """Headline numbers over scenarios. alerts_of(meta) -> alert list as firmware_alerts."""
    detected, delays, rows = 0, [], []
    false_alarms, healthy_s, healthy_warnings, healthy_warn_s = 0, 0, 0, 0
    info_per_day = 0
    faults = 0
    for meta in scenarios:
        alerts = alerts_of(meta)
        t0 = meta["t0_unix"]
        end_t = t0 + meta["days"] * DAY_S
        raises = [(t, typ, sev) for t, typ, sev, ev in alerts if ev == "raise"]
        loud = [(t, typ) for t, typ, sev in raises if sev in ("warning", "critical")]
        if meta["fault"]:
            faults += 1
            a, b = t0 + meta["fault_start_s"], t0 + meta["fault_end_s"] + GRACE_S
            hit = [t for t, _ in loud if a <= t < b]
            if hit:
                detected += 1
                delays.append((hit[0] - a) / 60.0)
            window = (a, b)
            healthy_s += meta["fault_start_s"]
        else:
            window = None
            healthy_s += meta["days"] * DAY_S
            healthy_warn_s += meta["days"] * DAY_S
            healthy_warnings += len(loud)
            per_day = {}
            for t, typ, sev in raises:
                if sev == "info":
                    per_day[(t - t0) // DAY_S] = per_day.get((t - t0) // DAY_S, 0) + 1
            info_per_day = max([info_per_day] + list(per_day.values()))
        claims = [(t, typ) for t, typ in loud if typ not in CONDITION_TYPES and not typ.startswith("baseline_")
                  or typ.startswith("baseline_missing")]
        fa = [(t, typ) for t, typ in claims if window is None or not window[0] <= t < window[1]]
        if window is not None:
            fa = [(t, typ) for t, typ in fa if t < window[0]]  # after the fault the state is not healthy
        false_alarms += len(fa)
        rows.append({"index": meta["index"], "fault": meta["fault"] or "none", "days": meta["days"],
                     "alerted": bool(meta["fault"]) and window is not None and any(
                         window[0] <= t < window[1] for t, _ in loud),
                     "first_alert": next((typ for t, typ in loud if window and window[0] <= t < window[1]), ""),
                     "delay_min": next(((t - window[0]) / 60.0 for t, _ in loud if window and window[0] <= t < window[1]),
                                       None),
                     "false_claims": ["%s@%.1fh" % (typ, (t - t0) / 3600.0) for t, typ in fa], "warnings": len(loud)})
    weeks = healthy_s / WEEK_S
    return {"faults": faults, "alerted": detected,
            "median_delay_min": float(np.median(delays)) if delays else None,
            "false_alarms_per_week": false_alarms / weeks if weeks else None,
            "healthy_warnings_per_week": healthy_warnings / (healthy_warn_s / WEEK_S) if healthy_warn_s else None,
            "max_info_per_day": info_per_day, "healthy_weeks": weeks, "scenarios": rows}


def evaluate(folder, model=None, board="sim"):
    scenarios = load_manifest(folder)
    scenarios = [m for m in scenarios if os.path.exists(os.path.join(folder, "scenario_%02d.csv" % m["index"]))]
    path = lambda m: os.path.join(folder, "scenario_%02d.csv" % m["index"])  # noqa: E731
    firmware = score(scenarios, lambda m: firmware_alerts(path(m), model, board))
    base = score(scenarios, lambda m: baseline_alerts(read_columns(path(m))))
    return {"firmware": firmware, "baseline": base}


def summary_line(name, r):
    delay = "-" if r["median_delay_min"] is None else "%.0f min" % r["median_delay_min"]
    return ("%s: %d of %d faults alerted, median delay %s, %.2f false alarms/week, %.2f warnings/week on healthy "
            "greenhouses, at most %d info advisories/day" % (
                name, r["alerted"], r["faults"], delay, r["false_alarms_per_week"] or 0.0,
                r["healthy_warnings_per_week"] or 0.0, r["max_info_per_day"]))


def main(argv=None):
    ap = argparse.ArgumentParser(description="score the firmware on generated greenhouse scenarios")
    ap.add_argument("folder")
    ap.add_argument("--model", default=None, help="model file (default: rules and sensor-fault detectors only)")
    ap.add_argument("--board", default="sim")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    result = evaluate(args.folder, args.model, args.board)
    for r in result["firmware"]["scenarios"]:
        print("  %2d %-22s alerted=%-5s first=%-16s delay=%-6s false=%s" % (
            r["index"], r["fault"], r["alerted"], r["first_alert"],
            "" if r["delay_min"] is None else "%.0f" % r["delay_min"], ",".join(r["false_claims"])))
    print(summary_line("firmware", result["firmware"]))
    print(summary_line("baseline", result["baseline"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
