"""Scores on physics-grounded scenarios the firmware was not tuned on (data/greenlight/,
made by host/scripts/greenlight_scenarios.py): every CSV is replayed through the
firmware's own code (verdant.app via verdant_host.replay) and compared with the
four-threshold baseline.

What counts (issue 11, "Done means"):
- a fault is alerted when a warning or critical alert is raised within
  [fault start, fault end + 30 min); delay = that raise - fault start;
- a false alarm is a warning/critical raise that claims something untrue: an equipment
  or sensor fault (sensor_fault, sensor_failure, a band anomaly, any model label, even a
  model's co2_low) outside every fault window (+ 30 min). Rule alerts on conditions
  (frost, heat, humidity, VPD, CO2) are computed from the readings, so they are true by
  construction and counted apart, as warnings per week on healthy greenhouses;
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
# Where the GreenLight data's sun is, for a model's sun gates (verdant.sun). Its weather is
# measured at Bleiswijk, the Netherlands (the greenlight package's
# models/katzin_2021/input_data/test_data/Readme.txt: "Weather data from Bleiswijk"; the
# village lies at 52.01 N, 4.53 E). Its clock runs an hour ahead of UTC (the weather's
# winter time, CET, stamped as UTC by the generator): in the lamp-less train greenhouses
# PAR first reaches 5 umol/m2/s a median 70 min after the sunrise computed for Bleiswijk
# and last 55 min after the sunset, and 10 min after / 5 min before them with the hour
# taken off (rows with the sun down and PAR >= 5: 0.6 % of train, 0.0 % of dev6; with the
# sun up and PAR < 5: 5 %, the first and last minutes of daylight). A board on that clock
# sees the sun of a place 15 degrees further west: that is the place the replayed board
# gets (fieldclassifier trains the sun gates with the same). The weather file's own first
# days, 20-25 October 2009, are summer time (two hours ahead: its global radiation starts
# ~1 h 50 min after the UTC sunrise on day 0, ~45 min after it on day 30): 69 of the 82
# train rows with the sun down and PAR >= 5 lie on those days; the dev splits (weather days
# 55-105) are all winter time.
GREENLIGHT_PLACE = (52.01, 4.53)
GREENLIGHT_CLOCK_AHEAD_S = 3600
GREENLIGHT_SITE = (GREENLIGHT_PLACE[0], round(GREENLIGHT_PLACE[1] - 15.0 * GREENLIGHT_CLOCK_AHEAD_S / 3600, 2))
WEEK_S = 7 * 86400
DAY_S = 86400
CONDITION_TYPES = ("frost_risk", "heat_stress", "disease_risk", "vpd_low", "vpd_high", "dry_soil", "co2_high",
                   "co2_low", "dli_low")


def load_manifest(folder):
    path = os.path.join(folder, "manifest.json")
    with open(path) as f:
        return json.load(f)["scenarios"]


def write_manifest(folder, split, count, seed=11):
    """manifest.json for the scenarios a generator run finished (it writes one only at its end)."""
    import sys as _sys
    from verdant_host import paths
    _sys.path.insert(0, os.path.join(paths.REPO_DIR, "host", "scripts"))
    import greenlight_scenarios as gs
    done = [i for i in range(count) if os.path.exists(os.path.join(folder, "scenario_%02d.csv" % i))]
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump({"command": "greenlight_scenarios.py --split %s --count %d --seed %d" % (split, count, seed),
                   "scenarios": [gs.scenario(split, i, seed) for i in done]}, f, indent=1, sort_keys=True)
        f.write("\n")


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


def data_board(board="sim", site=GREENLIGHT_SITE):
    """The board config a greenhouse of the data runs on: `board` at the data's site
    (GREENLIGHT_SITE; None: no place, a model's sun gates on its clock hours)."""
    from verdant_host.replay import with_place
    return with_place(board, *(site or (None, None)))


def firmware_alerts(path, model=None, board="sim"):
    """[(t, type, severity, event)] the firmware sends for this CSV (board: a name or path,
    placed at the data's site by data_board, or a config dict used as it is)."""
    from verdant.protocol import decode
    with open(path) as f:
        lines = f.read().splitlines()
    out, _ = replay(lines, board=board if isinstance(board, dict) else data_board(board), model=model)
    alerts = []
    for line in out:
        message = decode(line)[0]
        p = message["p"]
        alerts.append((message["t"], p["type"], p["severity"], p["event"], p.get("source")))
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
        # a model's co2_low / co2_high is a claim about this greenhouse, not a threshold on the readings
        raises = [(a[0], a[1] if len(a) < 5 or a[4] != "model" else "model:" + a[1], a[2])
                  for a in alerts if a[3] == "raise"]
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


def score_histories(paths, alerts_of):
    """False alarms on fault-free histories (each CSV wholly healthy): every warning/critical
    raise is counted, and those claiming an equipment or sensor fault are false alarms.
    alerts_of(path) -> alert list as firmware_alerts."""
    seconds, warnings, claims = 0.0, 0, []
    for path in paths:
        t = read_columns(path)["timestamp_s"]
        if t.size < 2:
            continue
        seconds += float(t[-1] - t[0] + (t[1] - t[0]))
        for a in alerts_of(path):
            if a[3] == "raise" and a[2] in ("warning", "critical"):
                warnings += 1
                if a[1] not in CONDITION_TYPES or (len(a) >= 5 and a[4] == "model"):
                    claims.append("%s: %s@%.1fh" % (os.path.basename(path), a[1], (a[0] - t[0]) / 3600.0))
    weeks = seconds / WEEK_S
    return {"weeks": weeks, "false_alarms": len(claims), "warnings": warnings, "false_claims": claims,
            "false_alarms_per_week": len(claims) / weeks if weeks else None,
            "warnings_per_week": warnings / weeks if weeks else None}


def site_histories(site_folder):
    return [os.path.join(site_folder, n) for n in sorted(os.listdir(site_folder))
            if n.startswith("site_") and n.endswith(".csv")]


def histories_line(h, days):
    """The report's sentence on score_histories' figures (h also holds "greenhouses")."""
    return ("The firmware alone on the site histories (%d greenhouses' %s fault-free days, %.1f weeks, replayed as "
            "more healthy greenhouses; no site model is trained for this figure): %d false alarms (%.2f / week), "
            "%d warnings (%.2f / week)%s." % (
                h["greenhouses"], days, h["weeks"], h["false_alarms"], h["false_alarms_per_week"] or 0.0,
                h["warnings"], h["warnings_per_week"] or 0.0,
                (": " + ", ".join(h["false_claims"])) if h["false_claims"] else ""))


def site_models(site_folder, out_folder, scenarios, progress=None, scenario_folder=None):
    """Train a site model per scenario from its fault-free history site_NN.csv: {index: model path}.
    scenario_folder: a manifest entry whose scenario CSV is not there (a generator run with --only
    writes every entry) gets no model, it would not be scored; progress(line) says which were skipped."""
    from verdant_host import sitemodel
    say = progress or (lambda line: None)
    if scenario_folder is not None:
        missing = [m["index"] for m in scenarios
                   if not os.path.exists(os.path.join(scenario_folder, "scenario_%02d.csv" % m["index"]))]
        if missing:
            say("field-eval --site: %d of %d manifest entries have no scenario CSV in %s (%s): no site model "
                "trained for them" % (len(missing), len(scenarios), scenario_folder,
                                      ", ".join("scenario_%02d.csv" % i for i in missing)))
            scenarios = [m for m in scenarios if m["index"] not in missing]
    models = {}
    for meta in scenarios:
        history = os.path.join(site_folder, "site_%02d.csv" % meta["index"])
        if not os.path.exists(history):
            say("field-eval --site: no history %s: scenario %d is left out of the site-adapted figures"
                % (history, meta["index"]))
            continue
        out = os.path.join(out_folder, "site_%02d" % meta["index"])
        sitemodel.train_site(history, out, progress=progress)
        models[meta["index"]] = os.path.join(out, "model.bin")
    return models


def evaluate(folder, model=None, board="sim", models=None):
    """Firmware vs baseline on every scenario present; models: {index: model path} per scenario
    (site models; scenarios without one are left out)."""
    scenarios = load_manifest(folder)
    scenarios = [m for m in scenarios if os.path.exists(os.path.join(folder, "scenario_%02d.csv" % m["index"]))]
    if models is not None:
        scenarios = [m for m in scenarios if m["index"] in models]
    path = lambda m: os.path.join(folder, "scenario_%02d.csv" % m["index"])  # noqa: E731
    model_of = (lambda m: models[m["index"]]) if models is not None else (lambda m: model)
    firmware = score(scenarios, lambda m: firmware_alerts(path(m), model_of(m), board))
    base = score(scenarios, lambda m: baseline_alerts(read_columns(path(m))))
    return {"firmware": firmware, "baseline": base}


def summary_line(name, r):
    delay = "-" if r["median_delay_min"] is None else "%.0f min" % r["median_delay_min"]
    return ("%s: %d of %d faults alerted, median delay %s, %.2f false alarms/week, %.2f warnings/week on healthy "
            "greenhouses, at most %d info advisories/day" % (
                name, r["alerted"], r["faults"], delay, r["false_alarms_per_week"] or 0.0,
                r["healthy_warnings_per_week"] or 0.0, r["max_info_per_day"]))


SPLIT_NOTES = {
    "test": "The test split of `data/greenlight/` (seed 127) was generated in session 9, kept out of the repository "
            "until the rules, detectors, normal band and site model were tuned, and measured once at the end: these "
            "are the honest figures.",
    "dev": "The dev split of `data/greenlight/` (seed 11) is what the rules, detectors and normal band were tuned "
           "on: its scenarios were looked at while the detectors were written and changed after false alarms and "
           "misses seen there. Read these figures as optimistic; the test split's are the honest ones.",
    "dev2": "The dev2 split of `data/greenlight/` (seed 29) was the test split of sessions 3 and 4: its figures "
            "were reported several times, and from session 5 on it is tuned on beside dev. Read these figures "
            "as optimistic; the test split's are the honest ones.",
    "dev3": "The dev3 split of `data/greenlight/` (seed 53) was the test split of session 5, measured once at its "
            "end; session 6 changed the detectors without looking at it, and from then on it may be tuned on. "
            "Its misses were known, so read these figures as optimistic; the test split's are the honest ones.",
    "dev4": "The dev4 split of `data/greenlight/` (seed 71) was the test split of session 6, measured once at its "
            "end; from session 7 on it is tuned on beside dev, dev2 and dev3. Read these figures as optimistic; "
            "the test split's are the honest ones.",
    "dev5": "The dev5 split of `data/greenlight/` (seed 89) was the test split of session 7, measured once at its "
            "end; from session 8 on it is tuned on beside dev to dev4. Read these figures as optimistic; the test "
            "split's are the honest ones.",
    "dev6": "The dev6 split of `data/greenlight/` (seed 107) was the test split of session 8, measured once at its "
            "end; from session 9 on it is tuned on beside dev to dev5. Read these figures as optimistic; the test "
            "split's are the honest ones.",
}


# The whole field section of a report (kept by a retraining, see report.py); one block per split inside.
BLOCK_START = "<!-- field-eval:start -->"
BLOCK_END = "<!-- field-eval:end -->"


def block_markers(split):
    return "<!-- field-eval:%s:start -->" % split, "<!-- field-eval:%s:end -->" % split


def markdown_block(results, command, split="test", histories=None):
    """The report section of one split: each configuration's headline numbers, then per scenario.
    histories: a line on the firmware's false alarms on the site histories (histories_line)."""
    start, end = block_markers(split)
    lines = [start, "### %s split" % split.capitalize(), "",
             "Made by `%s`. %s Every split: Katzin 2021 GreenLight model, real Bleiswijk weather of days "
             "55-105 (the train split's are days 0-50; the bundled weather has 111 days, so the dev splits and "
             "test share the window but not greenhouses, days, faults or their timing), randomized greenhouses; see "
             "docs/training.md. Sensors: air temperature, RH, CO2, PAR (no lux, no soil). A fault is "
             "alerted by a warning or critical alert within its window + 30 min; a false alarm is a warning "
             "claiming an equipment or sensor fault outside every fault window (condition warnings - frost, "
             "heat, humidity, VPD, CO2 - are computed from the readings and counted as warnings per week)."
             % (command, SPLIT_NOTES.get(split, "")),
             "", "| configuration | faults alerted | median delay | false alarms / week | warnings / week (healthy) "
             "| info advisories / day (max) |", "| --- | --- | --- | --- | --- | --- |"]
    for name, r in results:
        delay = "-" if r["median_delay_min"] is None else "%.0f min" % r["median_delay_min"]
        lines.append("| %s | %d of %d | %s | %.2f | %.2f | %d |" % (
            name, r["alerted"], r["faults"], delay, r["false_alarms_per_week"] or 0.0,
            r["healthy_warnings_per_week"] or 0.0, r["max_info_per_day"]))
    lines += ["", "Healthy time scored: %.2f weeks (fault-free scenarios and the time before each fault)." %
              results[0][1]["healthy_weeks"], ""]
    if histories:
        lines += [histories, ""]
    by_index = [dict((row["index"], row) for row in r["scenarios"]) for _, r in results]
    names = [name.split(":")[0] for name, _ in results]
    lines += ["Per scenario (first alert and delay; false claims of the first configuration):", "",
              "| # | fault | " + " | ".join(names) + " | false claims |",
              "| --- | --- | " + " | ".join("---" for _ in names) + " | --- |"]
    for r in results[0][1]["scenarios"]:
        cells = []
        for rows in by_index:
            x = rows.get(r["index"])
            if x is None:
                cells.append("n/a")
            elif x["fault"] == "none":
                cells.append("-")
            elif not x["alerted"]:
                cells.append("missed")
            else:
                cells.append("%s, %.0f min" % (x["first_alert"], x["delay_min"]))
        lines.append("| %d | %s | %s | %s |" % (r["index"], r["fault"], " | ".join(cells),
                                                 ", ".join(r["false_claims"]) or "-"))
    lines += ["", end, ""]
    return "\n".join(lines)


def write_block(path, block, split="test"):
    """Replace (or append) the split's field-eval block of a markdown report."""
    start, end = block_markers(split)
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        text = ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + tail
    elif BLOCK_END in text:
        head, tail = text.split(BLOCK_END, 1)
        text = head + block + "\n" + BLOCK_END + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block
    with open(path, "w") as f:
        f.write(text)


def _site_days(folder):
    """Days of history in the site folder's first CSV (as text, e.g. "7")."""
    paths = site_histories(folder)
    if not paths:
        return "?"
    cols = read_columns(paths[0])
    t = cols["timestamp_s"]
    return "%.0f" % ((t[-1] - t[0] + (t[1] - t[0])) / DAY_S)


def main(argv=None):
    ap = argparse.ArgumentParser(description="score the firmware on generated greenhouse scenarios")
    ap.add_argument("folder")
    ap.add_argument("--model", default=None, help="model file (default: rules and sensor-fault detectors only)")
    ap.add_argument("--board", default="sim")
    ap.add_argument("--json", default=None)
    ap.add_argument("--auto", action="store_true", help="the shipped model that fits the sensors (model_choice)")
    ap.add_argument("--site", default=None, metavar="DIR",
                    help="also train a site model per scenario from DIR/site_NN.csv (its greenhouse's fault-free "
                         "history, make greenlight-site-data) and score the firmware with it")
    ap.add_argument("--report", default=None, help="write the scores into this markdown report's field-eval block")
    ap.add_argument("--split", default="test", choices=sorted(SPLIT_NOTES),
                    help="which split the folder is (names the report block and says how honest it is)")
    ap.add_argument("--clock-gates", action="store_true",
                    help="the board without a place: a model's sun gates fall back to its clock hours (default: "
                         "the board at the data's site, GREENLIGHT_SITE)")
    args = ap.parse_args(argv)
    model = args.model
    board = data_board(args.board, None if args.clock_gates else GREENLIGHT_SITE)
    if args.auto:
        from verdant_host import model_choice
        model, why = model_choice.choose(["air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s"])
        print("field-eval: " + why, file=sys.stderr)
    from verdant_host.replay import gates_note
    if gates_note(board, model):
        print("field-eval: gates: " + gates_note(board, model), file=sys.stderr)
    result = evaluate(args.folder, model, board)
    site, hist_line = None, None
    if args.site:
        from verdant_host import paths
        models = site_models(args.site, paths.build_dir("field-eval-site", args.split), load_manifest(args.folder),
                             progress=lambda m: print(m, file=sys.stderr), scenario_folder=args.folder)
        site = evaluate(args.folder, None, board, models)
        print(summary_line("site-adapted", site["firmware"]))
        paths = site_histories(args.site)
        hist = dict(score_histories(paths, lambda p: firmware_alerts(p, model, board)), greenhouses=len(paths))
        hist_line = histories_line(hist, _site_days(args.site))
        print(hist_line)
    if args.report:
        name = "firmware: rules + sensor-fault detectors + normal band" + (
            " + %s" % os.path.basename(os.path.dirname(model)) if model else "")
        command = "python -m verdant_host.fieldeval %s --split %s%s --report %s" % (
            args.folder, args.split, " --auto" if args.auto else (" --model %s" % model if model else ""), args.report)
        rows = [(name, result["firmware"]), ("four-threshold baseline", result["baseline"])]
        if site is not None:
            command += " --site %s" % args.site
            rows.append(("site-adapted: rules + detectors + band + `verdant train --site` model on the "
                         "greenhouse's %s fault-free days before its scenario" % _site_days(args.site),
                         site["firmware"]))
        write_block(args.report, markdown_block(rows, command, args.split, hist_line if site else None), args.split)
    for r in result["firmware"]["scenarios"]:
        print("  %2d %-22s alerted=%-5s first=%-16s delay=%-6s false=%s" % (
            r["index"], r["fault"], r["alerted"], r["first_alert"],
            "" if r["delay_min"] is None else "%.0f" % r["delay_min"], ",".join(r["false_claims"])))
    print(summary_line("firmware", result["firmware"]))
    print(summary_line("baseline", result["baseline"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(result, site=site["firmware"] if site else None, histories=hist if site else None), f,
                      indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
