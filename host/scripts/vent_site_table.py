"""The vents stuck open or closed of the GreenLight dev splits on the site-adapted path
(issue 11): per scenario, what the site path raised (from a `fieldeval --site --json` file),
the fault-free twin's difference (cached runs, host/scripts/greenlight_twins.py), and what the
site model's forecaster (refitted here in float from the scenario's history, as
verdant_host.siteresidual fits it, thresholds raised by the int8 guard in the report of the
model fieldeval trained) saw in the fault window: the largest residual as a share of its
threshold in the first 2 h, and which labels went beyond it with their level gate
(verdant_host.sitelevels) closed or open. --healthy adds the same share on healthy time.
A markdown table; ~7 min for the six dev splits with --healthy.

    PYTHONPATH=host .venv/bin/python host/scripts/vent_site_table.py dev dev2 ... \\
        --json /tmp/x_{split}.json [--models build/field-eval-site] [--twins build/twins] [--timeline] [--healthy]

The JSON files come from `python -m verdant_host.fieldeval data/greenlight/SPLIT --split SPLIT --auto
--site data/greenlight/SPLIT_site --json /tmp/x_SPLIT.json`, which also leaves the site models
under build/field-eval-site/SPLIT. The twins must be cached in --twins (greenlight_twins.py
simulates missing ones only in the GreenLight venv).

Never reads a test* split.
"""
import argparse
import json
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
from verdant_host import siteresidual as sr  # noqa: E402
from verdant_host.sitemodel import read_history  # noqa: E402
from verdant_host.sitelevels import hourly_levels  # noqa: E402
from verdant_host.sitecontrol import night_hold, co2_hold  # noqa: E402

DATA = os.path.join(HERE, "..", "..", "data", "greenlight")
VENTS = ("vent_stuck_open", "vent_stuck_closed")


def guard_of(report_path):
    """{label: int8 guard} from a site model's report.md (0 when absent)."""
    out = {}
    if not os.path.exists(report_path):
        return out
    for line in open(report_path):
        m = re.match(r"\| (\w+_\d+m) \| [-\d.]+ \| [-\d.]+ \| [-\d.]+ \| ([-\d.]+) \|", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


class SiteFloat:
    """The site model of one history, in float."""

    def __init__(self, history, guard):
        ts, readings = read_history(history)
        self.ts, self.readings = ts, readings
        targets = [q for q in sr.TARGETS if q in readings]
        self.designs = sr.designs_for(targets, "par_umol_m2_s")
        names = self.designs[0].names
        t, x = sr.windows(ts, {q: readings[q] for q in targets + ["par_umol_m2_s"]}, names)
        groups = sr.day_of(t, ts[0])
        self.fits = [sr.fit(x, d, groups) for d in self.designs]
        self.names, self.targets = names, targets
        self.guard = guard
        self.levels, _ = hourly_levels(ts, readings, targets)
        self.night, _ = night_hold(ts, readings)
        self.co2, _ = co2_hold(ts, readings)

    def scores(self, ts, readings):
        """(sample times, {label: (ratio sign*r/threshold, gate open)}, raw windows)."""
        t, x = sr.windows(ts, {q: readings[q] for q in self.targets + ["par_umol_m2_s"]}, self.names)
        out = {}
        for d, (w, th, _) in zip(self.designs, self.fits):
            res = sr.residuals(x, d, w)
            units = d.nonlinear(d.columns(x))
            now = d.columns(x)["now"]
            for i, q in enumerate(d.targets):
                for sign, label in ((1, d.labels[2 * i]), (-1, d.labels[2 * i + 1])):
                    thr = th[(q, sign)].at(units) * (1 + self.guard.get(label, 0.0))
                    ratio = sign * res[q] / thr
                    hour = (t // 3600) % 24
                    lv = np.asarray(self.levels[q]["low" if sign < 0 else "high"])[hour]
                    v = now[:, d.names.index(q)]
                    gate = v < lv if sign < 0 else v > lv
                    out[label] = (ratio, gate, v - lv)
        return t, out, x


def healthy_share(split, folder, meta, models, tops):
    """Appends (share, label, where) of the forecaster's largest share of its threshold, gate open for two
    predictions in a row, on this scenario's healthy time."""
    k = meta["index"]
    sf = SiteFloat(os.path.join(DATA, split + "_site", "site_%02d.csv" % k),
                   guard_of(os.path.join(models, split, "site_%02d" % k, "report.md")))
    ts, readings = read_history(os.path.join(folder, "scenario_%02d.csv" % k))
    t, sc, _ = sf.scores(ts, readings)
    healthy = t < (meta["t0_unix"] + meta["fault_start_s"] if meta["fault"] else t[-1] + 1)
    for lab, (ratio, gate, _) in sc.items():
        v = np.where(gate & healthy, ratio, -9.0)
        two = np.minimum(v, np.concatenate([[-9.0], v[:-1]]))
        i = int(np.nanargmax(two))
        tops.append((float(two[i]), lab, "%s %d@%.1fh" % (split, k, (t[i] - meta["t0_unix"]) / 3600.0)))


def twin_rows(split, meta, cache):
    import greenlight_twins as gt
    try:
        row = gt.compare_runs(meta, cache)
        t_end = gt.run_end(meta)
        grid, faulty, _ = gt.simulate_true(meta, t_end, cache)
        _, twin, _ = gt.simulate_true(gt.twin_of(meta), t_end, cache)
    except Exception as exc:  # no GreenLight here and not cached
        return None, str(exc)
    row["diff"] = (grid + meta["t0_unix"], {q: faulty[q] - twin[q] for q in faulty})
    return row, None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("splits", nargs="+")
    ap.add_argument("--json", required=True, help="fieldeval --json file pattern with {split}")
    ap.add_argument("--models", default=os.path.join("build", "field-eval-site"))
    ap.add_argument("--twins", default=os.path.join("build", "twins"))
    ap.add_argument("--timeline", action="store_true")
    ap.add_argument("--healthy", action="store_true",
                    help="also the forecaster's largest share on healthy time (fault-free scenarios, the others "
                         "before their fault) with the gate open, two predictions in a row")
    args = ap.parse_args(argv)
    print("| scenario | fault | start | site path raised | twin: visible after; max diff | forecaster's largest "
          "share of its threshold in the first 2 h | labels beyond threshold, gate closed | labels beyond, gate open |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    tops = []
    for split in args.splits:
        if split.startswith("test"):
            ap.error("test splits are measured once, by the lead")
        folder = os.path.join(DATA, split)
        manifest = json.load(open(os.path.join(folder, "manifest.json")))["scenarios"]
        res = json.load(open(args.json.format(split=split)))
        site_rows = {r["index"]: r for r in res["site"]["scenarios"]}
        fw_rows = {r["index"]: r for r in res["firmware"]["scenarios"]}
        for meta in manifest:
            k = meta["index"]
            if args.healthy:
                healthy_share(split, folder, meta, args.models, tops)
            if meta["fault"] not in VENTS:
                continue
            sf = SiteFloat(os.path.join(DATA, split + "_site", "site_%02d.csv" % k),
                           guard_of(os.path.join(args.models, split, "site_%02d" % k, "report.md")))
            ts, readings = read_history(os.path.join(folder, "scenario_%02d.csv" % k))
            t, sc, x = sf.scores(ts, readings)
            a = meta["t0_unix"] + meta["fault_start_s"]
            b = meta["t0_unix"] + meta["fault_end_s"] + 1800
            inside = (t >= a) & (t < b)
            pre = t < a
            row, err = twin_rows(split, meta, args.twins)
            tw = ""
            if row:
                d = row["div"]
                tw = " ".join("%s %.2f@%s" % (q[:3], d[q][0], "-" if d[q][1] is None else "%d" % (d[q][1] / 60))
                              for q in ("air_temp_c", "rh_pct", "co2_ppm"))
            early = inside & (t < a + 7200)
            best = max(sc, key=lambda lab: np.nanmax(np.where(early, sc[lab][0], -9)))
            j = int(np.nanargmax(np.where(early, sc[best][0], -9)))
            r_best = sc[best][0][j]
            # anywhere in the window: a label beyond its threshold, with its gate closed / open
            beyond = {lab: inside & (sc[lab][0] >= 1) for lab in sc}
            gated = sorted(lab for lab in sc if (beyond[lab] & ~sc[lab][1]).any())
            open_ = sorted(lab for lab in sc if (beyond[lab] & sc[lab][1]).any())
            twin = "-"
            if row:
                d = row["div"]
                first = min((d[q][1], q) for q in d if d[q][1] is not None) if any(
                    d[q][1] is not None for q in d) else None
                twin = "not observable" if first is None else "%d min (%s); max %.2f C, %.1f %%RH, %.0f ppm" % (
                    first[0] / 60, first[1].split("_")[0], d["air_temp_c"][0], d["rh_pct"][0], d["co2_ppm"][0])
            hour_start = (a % 86400) / 3600.0
            par = readings["par_umol_m2_s"][np.searchsorted(ts, a)]
            site = site_rows[k]["first_alert"] or "-"
            if site_rows[k]["delay_min"] is not None:
                site += " %d min" % site_rows[k]["delay_min"]
            print("| %s %d | %s | %02d:%02d UTC, PAR %.0f | %s | %s | %s %.2f at +%d min (gate %s) | %s | %s |" % (
                split, k, meta["fault"][5:], int(hour_start), round(hour_start % 1 * 60), par, site, twin, best, r_best,
                (t[j] - a) / 60, "open" if sc[best][1][j] else "closed", ", ".join(gated) or "-",
                ", ".join(open_) or "-"))
            if args.timeline:
                grid, diff = row["diff"] if row else (None, None)
                for i in np.nonzero(inside)[0][:36:2]:
                    lab = max(sc, key=lambda L: sc[L][0][i])
                    g = None if grid is None else int(np.searchsorted(grid, t[i]))
                    dd = "" if g is None or g >= len(grid) else "dT %5.2f dRH %5.1f dCO2 %5.0f" % (
                        diff["air_temp_c"][g], diff["rh_pct"][g], diff["co2_ppm"][g])
                    print("       +%4d min %s T %5.2f RH %5.1f CO2 %5.0f PAR %5.0f  top %s %.2f gate %s (%.2f)" % (
                        (t[i] - a) / 60, dd, x[i, 6 * len(sf.names) + 0], x[i, 6 * len(sf.names) + 2],
                        x[i, 6 * len(sf.names) + 1], x[i, 6 * len(sf.names) + 3], lab, sc[lab][0][i], sc[lab][1][i],
                        sc[lab][2][i]))

    if args.healthy:
        tops.sort(reverse=True)
        for label in sorted(set(lab for _, lab, _ in tops)):
            top = [x for x in tops if x[1] == label][:2]
            print("healthy %-14s largest share (gate open, two in a row): %s" % (
                label, "; ".join("%.2f %s" % (v, w) for v, _, w in top)))


if __name__ == "__main__":
    main()
