"""Which equipment faults can any detector see? Each equipment-fault scenario of a GreenLight
split against its fault-free twin (same greenhouse, weather and days, fault ""): the largest
|faulty - twin| of the true air temperature, RH and CO2 (before sensor noise) over the fault
window + 30 min, and when it first exceeds 3x that sensor's noise (corrupt()'s 0.05 C,
0.3 %RH, 8 ppm): the earliest a detector of any kind could tell the fault from the noise.
A fault that stays under that on every sensor is not observable with these sensors.

Runs in the GreenLight venv, reusing greenlight_scenarios.simulate() (make field-observability):
    build/greenlight-venv/bin/python host/scripts/greenlight_twins.py data/greenlight/dev data/greenlight/dev2 \\
        --out docs/observability.md
Both runs of a pair stop 30 min after the fault window (before it they are the same run).
Simulated series are cached under build/twins/ (one .npz per run, keyed by its parameters).
Splits whose folder name starts with "test" are refused unless --allow-test: the test split
is measured once, by the lead.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import greenlight_scenarios as gs  # noqa: E402

QUANTITIES = ("air_temp_c", "rh_pct", "co2_ppm")
NOISE = {"air_temp_c": 0.05, "rh_pct": 0.3, "co2_ppm": 8.0}  # corrupt()'s sensor noise (1 sigma)
UNITS = {"air_temp_c": "C", "rh_pct": "%RH", "co2_ppm": "ppm"}
SEE_FACTOR = 3.0   # a difference this many sigmas from the twin is visible in one reading
TAIL_S = 1800      # the fault window + 30 min: the field evaluation's window for an alert


def twin_of(meta):
    """The same scenario without its fault."""
    return dict(meta, fault="", fault_start_s=0, fault_end_s=0)


def run_end(meta):
    """Where a pair's runs stop: 30 min after the fault window, on the 5-minute grid, within the scenario."""
    end = meta["fault_end_s"] + TAIL_S + gs.STEP_S
    return min(meta["days"] * 86400, end)


def divergence(grid, faulty, twin, start, end):
    """Per quantity, over [start, end + TAIL_S): (largest |faulty - twin|, seconds after start
    when it first exceeds SEE_FACTOR x the sensor's noise or None). faulty, twin: quantity -> array."""
    inside = (grid >= start) & (grid < end + TAIL_S)
    out = {}
    for q in QUANTITIES:
        diff = np.abs(np.asarray(faulty[q], dtype=float) - np.asarray(twin[q], dtype=float))[inside]
        if diff.size == 0:
            out[q] = (0.0, None)
            continue
        over = np.nonzero(diff > SEE_FACTOR * NOISE[q])[0]
        first = None if over.size == 0 else float(grid[inside][over[0]] - start)
        out[q] = (float(diff.max()), first)
    return out


def earliest(div):
    """(seconds after the fault start the first quantity becomes visible, that quantity) or (None, None)."""
    seen = [(first, q) for q, (_, first) in div.items() if first is not None]
    return min(seen) if seen else (None, None)


def _cache_path(cache, meta, t_end):
    key = json.dumps({"meta": meta, "t_end": t_end}, sort_keys=True).encode()
    return os.path.join(cache, "run_%s.npz" % hashlib.sha1(key).hexdigest()[:16])


def simulate_true(meta, t_end, cache=None):
    """True (noise-free) series of one scenario up to t_end: grid, {quantity: array}, PAR."""
    path = _cache_path(cache, meta, t_end) if cache else None
    if path and os.path.exists(path):
        z = np.load(path)
        return z["grid"], {q: z[q] for q in QUANTITIES}, z["par"]
    grid, temp, rh, co2, par = gs.simulate(meta["greenhouse"], meta["fault"], meta["fault_start_s"],
                                           meta["fault_end_s"], meta["weather_first_day"], meta["days"], t_end_s=t_end)
    if path:
        os.makedirs(cache, exist_ok=True)
        np.savez(path + ".part.npz", grid=grid, air_temp_c=temp, rh_pct=rh, co2_ppm=co2, par=par)
        os.replace(path + ".part.npz", path)
    return grid, {"air_temp_c": temp, "rh_pct": rh, "co2_ppm": co2}, par


def read_readings(folder, index, n):
    """The committed scenario's readings (noisy) for the first n rows, NaN where missing."""
    with open(os.path.join(folder, "scenario_%02d.csv" % index)) as f:
        lines = f.read().splitlines()[1:n + 1]
    cols = {q: [] for q in QUANTITIES}
    for line in lines:
        cells = line.split(",")
        for q, cell in zip(QUANTITIES, cells[1:4]):
            cols[q].append(float(cell) if cell else np.nan)
    return {q: np.asarray(v) for q, v in cols.items()}


def compare_runs(meta, cache=None):
    """One equipment-fault scenario against its twin: the divergence and, before the fault,
    the largest difference in sigmas (the same run: ~0). Also returns the faulty series."""
    t_end = run_end(meta)
    grid, faulty, _ = simulate_true(meta, t_end, cache)
    grid_twin, twin, _ = simulate_true(twin_of(meta), t_end, cache)
    if grid.size != grid_twin.size:
        raise RuntimeError("scenario %d: the twin's grid differs (%d vs %d steps)" % (meta["index"], grid.size, grid_twin.size))
    start, end = meta["fault_start_s"], meta["fault_end_s"]
    before = grid < start
    pre = max(float(np.abs(faulty[q][before] - twin[q][before]).max()) / NOISE[q] for q in QUANTITIES) if before.any() else 0.0
    return {"index": meta["index"], "fault": meta["fault"], "start_s": start, "end_s": end,
            "div": divergence(grid, faulty, twin, start, end), "pre_sigma": pre, "faulty": faulty}


def compare(folder, meta, cache=None):
    """compare_runs, plus how well the rerun reproduces the committed readings: their residual
    is the sensor noise (~1 sigma rms). A row for the table."""
    row = compare_runs(meta, cache)
    faulty = row.pop("faulty")
    readings = read_readings(folder, meta["index"], faulty["air_temp_c"].size)
    row["fit_sigma"] = max(float(np.sqrt(np.nanmean((readings[q] - faulty[q]) ** 2))) / NOISE[q] for q in QUANTITIES)
    return row


def _minutes(seconds):
    return "-" if seconds is None else "%d" % round(seconds / 60.0)


def table(split, rows):
    head = ["idx", "fault", "window (h)"]
    for q in QUANTITIES:
        head += ["max abs d%s (%s)" % (q.split("_")[0].upper() if q != "air_temp_c" else "T", UNITS[q]),
                 "> 3 sigma after (min)"]
    head += ["visible after (min)", "observable"]
    lines = ["| %s |" % " | ".join(head), "|" + "---|" * len(head)]
    for r in rows:
        cells = [str(r["index"]), r["fault"], "%.1f-%.1f" % (r["start_s"] / 3600.0, r["end_s"] / 3600.0)]
        for q in QUANTITIES:
            peak, first = r["div"][q]
            cells += ["%.2f" % peak if q != "co2_ppm" else "%.0f" % peak, _minutes(first)]
        first, q = earliest(r["div"])
        cells += [_minutes(first) + ("" if q is None else " (%s)" % q), "yes" if q else "**no**"]
        lines.append("| %s |" % " | ".join(cells))
    fit = max(r["fit_sigma"] for r in rows) if rows else 0.0
    pre = max(r["pre_sigma"] for r in rows) if rows else 0.0
    return ["### %s" % split, ""] + lines + [
        "", "Checks: the reruns reproduce the committed readings to %.2f sigma rms at worst (the sensor noise is "
            "1 sigma); before the fault each pair differs by at most %.3f sigma." % (fit, pre), ""]


HEADER = """# Observability of the equipment faults (GreenLight dev splits)

Generated by `make field-observability` (host/scripts/greenlight_twins.py). Each equipment-fault
scenario is simulated again without its fault (its twin: same greenhouse, weather, days). The
columns give the largest |faulty - twin| of the true value (before sensor noise) over the fault
window + 30 min, and the minutes after the fault start when it first exceeds 3x the sensor's
noise (0.05 C, 0.3 %RH, 8 ppm): before that, no detector can tell the fault from the noise.
"visible after" is the earliest of the three; a fault with none is not observable with T, RH
and CO2 sensors (PAR is not changed by these faults). Times are minutes after the fault start;
"window" is the fault's start and end in hours after the scenario start.

Visible here means told apart from the twin, which a board never has: a detector must also
tell the fault from this greenhouse's healthy day-to-day variation, a far larger bar
(`host/scripts/vent_signatures.py` measures it for the vents on the firmware alone,
`host/scripts/vent_site_signatures.py` on the site-adapted path).
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folders", nargs="+", help="split folders with manifest.json (data/greenlight/dev ...)")
    ap.add_argument("--out", help="markdown file to write (default: print)")
    ap.add_argument("--cache", default=os.path.join("build", "twins"), help="simulated series cache ('' for none)")
    ap.add_argument("--only", type=int, action="append", help="just these scenario indexes")
    ap.add_argument("--allow-test", action="store_true", help="also accept a test* split (the lead's one measurement)")
    args = ap.parse_args(argv)
    out = [HEADER]
    for folder in args.folders:
        name = os.path.basename(os.path.normpath(folder))
        if name.startswith("test") and not args.allow_test:
            ap.error("%s: a test split is measured once, by the lead (--allow-test)" % folder)
        with open(os.path.join(folder, "manifest.json")) as f:
            manifest = json.load(f)
        rows = []
        for meta in manifest["scenarios"]:
            if meta["fault"] not in gs.EQUIPMENT_FAULTS or (args.only and meta["index"] not in args.only):
                continue
            rows.append(compare(folder, meta, args.cache or None))
            print("%s %d %s: visible after %s min" % (name, meta["index"], meta["fault"],
                                                      _minutes(earliest(rows[-1]["div"])[0])), file=sys.stderr)
        out += table("%s (`%s`)" % (name, manifest["command"]), rows)
    text = "\n".join(out)
    if args.out:
        with open(args.out + ".part", "w") as f:
            f.write(text)
        os.replace(args.out + ".part", args.out)
    else:
        print(text)


if __name__ == "__main__":
    main()
