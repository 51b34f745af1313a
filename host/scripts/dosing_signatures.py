"""CO2 dosing off against healthy greenhouses: the normal band's held-then-dropped check
(verdant.normalband._dropped) measured on every GreenLight split it is tuned on, never on test*.

Each scenario and site history is replayed through the board's NormalBand. At every reading
where the check can judge (the last hour in light, RH not falling faster than VENT_RH_FALL per
hour, CO2 readings 30-60 min old held within STEADY_RANGE_PPM, the median of the last three
under this hour's lowest on the last 2 days, the light now not LIGHT_ROSE times the held half
hour's) it records how far the median of the last three is under the lowest held reading. Prints the deepest such drop on healthy time (fault-free files,
and fault scenarios before their fault) beside HELD_DROP_PPM, and for each dosing-off scenario
the minutes to the first drop beyond it.

    PYTHONPATH=host .venv/bin/python host/scripts/dosing_signatures.py [--data data/greenlight]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from verdant_host.fieldeval import read_columns  # noqa: E402
from verdant import normalband  # noqa: E402
from verdant.normalband import KEEP_S, VENT_RH_FALL, NormalBand  # noqa: E402

SPLITS = ("dev", "dev2", "dev3", "dev4", "dev5", "dev6", "train")
QUANTITIES = ("air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s")


def files(data):
    for split in SPLITS:
        with open(os.path.join(data, split, "manifest.json")) as f:
            for s in json.load(f)["scenarios"]:
                yield "%s %d" % (split, s["index"]), s, os.path.join(data, split, "scenario_%02d.csv" % s["index"])
        site = os.path.join(data, split + "_site")
        if os.path.isdir(site):
            for name in sorted(os.listdir(site)):
                if name.startswith("site_") and name.endswith(".csv"):
                    yield "%s_site %s" % (split, name[5:7]), {"fault": ""}, os.path.join(site, name)


def drops(path):
    """[(t, how far the median of three is under the held lowest)] where the check can judge."""
    cols = read_columns(path)
    band = NormalBand()
    out = []
    for i in range(len(cols["timestamp_s"])):
        t = int(cols["timestamp_s"][i])
        current = {q: float(cols[q][i]) for q in QUANTITIES if cols[q][i] == cols[q][i]}
        band.update(t, current)
        rh, co2 = current.get("rh_pct"), current.get("co2_ppm")
        b = band.band("co2_ppm", t)
        if rh is None or co2 is None or b is None or not 0 <= band._bright_since <= t - KEEP_S:
            continue
        rate = band._rate("rh_pct", t, rh, KEEP_S)
        if rate is None or rate <= -VENT_RH_FALL:
            continue
        saved, normalband.HELD_DROP_PPM = normalband.HELD_DROP_PPM, -1e9   # the depth, whatever it is
        try:
            lowest = band._dropped(t, b[0], current.get("par_umol_m2_s", 0.0))
        finally:
            normalband.HELD_DROP_PPM = saved
        if lowest is not None:
            out.append((t, lowest - band._median_recent("co2_ppm")))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join("data", "greenlight"))
    args = ap.parse_args(argv)
    if os.path.basename(os.path.normpath(args.data)).startswith("test"):
        raise SystemExit("dosing_signatures: never reads a test split")
    healthy, faults = [], []
    for name, meta, path in files(args.data):
        got = drops(path)
        start = meta["t0_unix"] + meta["fault_start_s"] if meta["fault"] else None
        calm = [d for t, d in got if start is None or t < start]
        if calm:
            healthy.append((max(calm), name))
        if meta["fault"] == "co2_dosing_off":
            end = meta["t0_unix"] + meta["fault_end_s"] + 1800
            hit = [t for t, d in got if start <= t < end and d > normalband.HELD_DROP_PPM]
            faults.append("%s %s" % (name, (hit[0] - start) // 60 if hit else "-"))
    healthy.sort(reverse=True)
    print("healthy files judged: %d; deepest drops under a held level (ppm): %s" % (
        len(healthy), ", ".join("%.0f (%s)" % x for x in healthy[:6])))
    print("HELD_DROP_PPM %.0f; dosing off, minutes to a drop beyond it: %s" % (normalband.HELD_DROP_PPM, ", ".join(faults)))


if __name__ == "__main__":
    main()
