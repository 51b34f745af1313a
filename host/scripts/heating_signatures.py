"""Heating failures at dusk against healthy evenings: the site night-hold check
(verdant_host.sitecontrol.night_hold, the board's normalband.adopt_night_hold) measured on
every greenhouse with a history, never on test*.

For each greenhouse the night level L and the allowed dip M are learnt from a history
(dev/dev2: its dev_site/dev2_site file; train heating failures: the scenario's days before
the fault's day; train fault-free greenhouses of 4+ days: their first 3 days), then the
board's check is replayed on the scenario: in the dark, more than M (after an hour of dark:
N) under L and falling over 1 C/h over 15 min, two readings in a row, from the board's second day (its band needs a
usable previous day). Prints, per greenhouse, the deepest healthy dip the check saw on the
scenario (same statistic as M's and N's) beside them, and for each heating failure the delay of this
check and of the band's early tier (0.4 C under the lowest of the last 2 days, 1 C/h over
30 min, 10 min), as the firmware runs them.

    PYTHONPATH=host .venv/bin/python host/scripts/heating_signatures.py [--data data/greenlight] [--own-days]

--own-days: the same check learnt by a board without a site model from its own previous two
days (sitecontrol.night_hold on them, day by day), on every scenario and every site history
replayed alone, as the firmware-only path would have to.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from verdant_host.fieldeval import read_columns  # noqa: E402
from verdant_host import sitecontrol  # noqa: E402
from verdant.normalband import DARK_PAR, NIGHT_HOLD  # noqa: E402

DAY_S = 86400
GRACE_S = 1800


def load(path):
    c = read_columns(path)
    return {"ts": c["timestamp_s"].astype(np.int64), "air_temp_c": c["air_temp_c"], "rh_pct": c["rh_pct"],
            "par_umol_m2_s": c["par_umol_m2_s"]}


def cut(rows, keep):
    return {k: v[keep] for k, v in rows.items()}


def falls(ts, temp, span):
    """C/h fall from the reading span seconds before (NaN where there is none)."""
    out = np.full(ts.size, np.nan)
    back = span // 300
    ok = ts[back:] - ts[:-back] == span
    out[back:][ok] = (temp[:-back][ok] - temp[back:][ok]) * 3600.0 / span
    return out


def night_dips(rows, level):
    """Per reading: how far under level the air is while the check's fall holds, the smaller of
    the last NIGHT_HOLD[2] readings (-inf where it does not hold)."""
    per_h, span, steps, _ = NIGHT_HOLD
    ts, temp, par = rows["ts"], rows["air_temp_c"], rows["par_umol_m2_s"]
    under = np.where((par < DARK_PAR) & (falls(ts, temp, span) > per_h), level - temp, -np.inf)
    out = np.full(ts.size, -np.inf)
    for k in range(steps - 1, ts.size):
        out[k] = under[k - steps + 1:k + 1].min()
    return out


def band_tier(rows):
    """Per reading: the band's early cold tier condition (0.4 C under the lowest of the previous
    two days, 1 C/h over 30 min, in the dark); the raise needs it three readings in a row."""
    ts, temp, par = rows["ts"], rows["air_temp_c"], rows["par_umol_m2_s"]
    day = ts // DAY_S
    low = {}
    for d in np.unique(day):
        m = day == d
        low[d] = np.nanmin(temp[m]) if len(np.unique((ts[m] % DAY_S) // 3600)) >= 20 else np.nan
    lo = np.array([np.nanmin([low.get(d - 1, np.nan), low.get(d - 2, np.nan)])
                   if np.isfinite([low.get(d - 1, np.nan), low.get(d - 2, np.nan)]).any() else np.nan for d in day])
    cond = (par < DARK_PAR) & (lo - temp > 0.4) & (falls(ts, temp, 1800) > 1.0)
    run = np.zeros(ts.size, dtype=int)
    for k in range(ts.size):
        run[k] = (run[k - 1] + 1 if k else 1) if cond[k] else 0
    return run >= 3


def cases(data):
    for split in ("dev", "dev2"):
        with open(os.path.join(data, split, "manifest.json")) as f:
            scenarios = json.load(f)["scenarios"]
        for s in scenarios:
            history = load(os.path.join(data, split + "_site", "site_%02d.csv" % s["index"]))
            rows = load(os.path.join(data, split, "scenario_%02d.csv" % s["index"]))
            yield "%s %d" % (split, s["index"]), s, history, rows
    with open(os.path.join(data, "train", "manifest.json")) as f:
        scenarios = json.load(f)["scenarios"]
    for s in scenarios:
        rows = load(os.path.join(data, "train", "scenario_%02d.csv" % s["index"]))
        if s["fault"] == "heating_failure":
            end = (s["t0_unix"] + s["fault_start_s"]) // DAY_S * DAY_S
        elif not s["fault"] and s["days"] > 3:
            end = s["t0_unix"] + 3 * DAY_S
        else:
            continue
        yield "train %d" % s["index"], s, cut(rows, rows["ts"] < end), rows


def own_days(data):
    """Firmware-only variant: per board day, the level and margins from the board's previous two
    days. Prints the healthy greenhouses it raised and the heating failures' delays."""
    files = []
    for split in ("dev", "dev2", "train"):
        with open(os.path.join(data, split, "manifest.json")) as f:
            for s in json.load(f)["scenarios"]:
                files.append(("%s %d" % (split, s["index"]), s, os.path.join(data, split, "scenario_%02d.csv" % s["index"])))
    for split in ("dev_site", "dev2_site"):
        for i in range(24):
            files.append(("%s %d" % (split, i), {"fault": ""}, os.path.join(data, split, "site_%02d.csv" % i)))
    raised, delays = [], []
    for name, s, path in files:
        rows = load(path)
        ts = rows["ts"]
        day = ts // DAY_S
        hit = np.zeros(ts.size, dtype=bool)
        for d in np.unique(day):
            before = (day >= d - 2) & (day < d)
            hold = sitecontrol.night_hold(ts[before], cut(rows, before))[0] if before.any() else None
            if hold is not None:
                settled = sitecontrol.settled_night(ts, rows["par_umol_m2_s"], rows["air_temp_c"], hold["level_c"])
                margin = np.where(settled, hold["settled_below_c"], hold["below_c"])
                hit |= (day == d) & (night_dips(rows, hold["level_c"]) > margin)
        fs = s["t0_unix"] + s["fault_start_s"] if s["fault"] else None
        healthy = ts < fs if fs else np.ones(ts.size, dtype=bool)
        if (hit & healthy).any():
            raised.append("%s (%.1f h)" % (name, (ts[np.argmax(hit & healthy)] - ts[0]) / 3600.0))
        if s["fault"] == "heating_failure":
            w = np.where((ts >= fs) & (ts < s["t0_unix"] + s["fault_end_s"] + GRACE_S) & hit)[0]
            delays.append("%s %s" % (name, (ts[w[0]] - fs) // 60 if w.size else "-"))
    print("learnt from the board's own two previous days: %d healthy greenhouses raised: %s" % (
        len(raised), ", ".join(raised) or "none"))
    print("heating failures (min): %s" % ", ".join(delays))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join("data", "greenlight"))
    ap.add_argument("--own-days", action="store_true", help="learn from the board's own last two days instead")
    args = ap.parse_args(argv)
    if os.path.basename(os.path.normpath(args.data)).startswith("test"):
        raise SystemExit("heating_signatures: never reads a test split")
    if args.own_days:
        return own_days(args.data)
    print("| greenhouse | fault | level L (C) | history dips (C) | M / N (C) | deepest healthy dips seen (C) | "
          "raises on healthy time | heating failure: night hold / band tier (min) |")
    print("|---|---|---|---|---|---|---|---|")
    healthy_ratios, raises, delays = [], 0, []
    for name, s, history, rows in cases(args.data):
        hold, row = sitecontrol.night_hold(history["ts"], history)
        if hold is None:
            print("| %s | %s | - | - | - | - | - | none carried: %s |" % (name, s["fault"] or "-", row and row.get("why")))
            continue
        level = hold["level_c"]
        ts = rows["ts"]
        dips = night_dips(rows, level)
        settled = sitecontrol.settled_night(ts, rows["par_umol_m2_s"], rows["air_temp_c"], level)
        margin = np.where(settled, hold["settled_below_c"], hold["below_c"])
        band_up = ts // DAY_S > ts[0] // DAY_S
        fs = s["t0_unix"] + s["fault_start_s"] if s["fault"] else None
        healthy = band_up & (ts < fs if fs else True)
        if s["fault"] == "" and name.startswith("train"):
            healthy &= ts >= history["ts"][-1]          # out of the history's days
        seen = []
        for phase in (~settled, settled):
            x = dips[healthy & phase]
            seen.append(float(x.max()) if x.size else float("-inf"))
            if x.size and x.max() > 0:
                healthy_ratios.append(float(x.max()) / float(margin[healthy & phase][0]))
        n_raise = int(((dips > margin) & healthy).any())
        raises += n_raise
        fault_cell = "-"
        if s["fault"] == "heating_failure":
            fe = s["t0_unix"] + s["fault_end_s"] + GRACE_S
            window = (ts >= fs) & (ts < fe)
            new = np.where(window & (dips > margin))[0]
            old = np.where(window & band_tier(rows))[0]
            d_new = (ts[new[0]] - fs) // 60 if new.size else None
            d_old = (ts[old[0]] - fs) // 60 if old.size else None
            both = min(x for x in (d_new, d_old, 10 ** 6) if x is not None)
            delays.append((name, d_new, d_old, both))
            fault_cell = "%s / %s" % (d_new, d_old)
        print("| %s | %s | %.2f | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %d | %s |" % (
            name, s["fault"] or "-", level, row["deepest_dip_c"], row["deepest_settled_dip_c"], hold["below_c"],
            hold["settled_below_c"], seen[0], seen[1], n_raise, fault_cell))
    print()
    q = np.percentile(healthy_ratios, [50, 90, 100]) if healthy_ratios else [float("nan")] * 3
    print("healthy greenhouses raised by the night-hold check: %d; deepest healthy dip / its margin (per "
          "greenhouse and phase): median %.2f, "
          "90th percentile %.2f, largest %.2f" % (raises, q[0], q[1], q[2]))
    for name, d_new, d_old, both in delays:
        print("%s heating failure: night hold %s min, band tier %s min, first of both %s min" % (name, d_new, d_old, both))


if __name__ == "__main__":
    main()
