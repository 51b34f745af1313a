"""Firmware-only signatures of a vent stuck open or closed, tried against healthy greenhouses
(issue 11): for each candidate, the largest value on healthy time (the fault-free scenarios
and the pre-fault time of the others in dev, dev2 and train, plus every dev_site/dev2_site
history) and the largest within each vent fault's window + 30 min on dev and dev2. A
candidate is only worth a detector if faults clear the healthy largest by a margin; none
here does (docs/observability.md: the vents stuck closed change nothing beyond the noise).

    PYTHONPATH=host .venv/bin/python host/scripts/vent_signatures.py [--data data/greenlight]

Candidates (each held for HOLD readings, i.e. its smallest over the last 15 min):
  ah_drop_dark     absolute humidity fall over 30 min (g/m3) in the dark with the air steady
                   (|dT| < 0.5 C) and RH below 75 %: air exchange nobody asked for;
  ah_drop_vs_hour  the same fall above the largest fall at this hour +-1 h on the previous two
                   days (screens and dusk repeat daily; a stuck vent does not);
  rh_below_hour    RH below the lowest at this hour +-1 h on the previous two days (%RH);
  co2_night_decay  CO2 excess over 420 ppm decaying faster (1/h, over 1 h) after 2 h of
                   darkness with more than 100 ppm excess: the air exchange rate;
  lit_t_below_hour air temperature in light below the lowest at this hour +-1 h on the
                   previous two days (C): heat lost faster for the same lamps or sun.
The bands here are learnt from healthy time only, which favours detection.
Never reads a test* split.
"""
import argparse
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from verdant_host.fieldeval import load_manifest, read_columns  # noqa: E402
from verdant import features as vf  # noqa: E402
from verdant.normalband import BRIGHT_PAR as LIT_PAR, DARK_PAR  # noqa: E402

STEP_S = 300
DAY_S = 86400
HOLD = 3            # readings: 15 min
LAG = 6             # readings: 30 min
OUTDOOR_CO2 = 420.0
VENT_FAULTS = ("vent_stuck_open", "vent_stuck_closed")


_saturation_kpa = np.vectorize(vf.saturation_vapour_pressure_kpa, otypes=[float])


def abs_humidity(temp_c, rh_pct):
    """g/m3 over arrays (NaN stays NaN): verdant.features' saturation pressure and ideal gas."""
    return _saturation_kpa(temp_c) * 1e6 * rh_pct / 100.0 / (vf.RV_J_KG_K * (temp_c + 273.15))


def lagged_change(x, lag=LAG):
    """x[i] - x[i - lag] (NaN for the first lag readings)."""
    out = np.full(x.size, np.nan)
    out[lag:] = x[lag:] - x[:-lag]
    return out


def held(stat, n=HOLD):
    """The smallest of the last n values (NaN where any is NaN): a condition held n readings."""
    out = np.full(stat.size, np.nan)
    if stat.size >= n:
        out[n - 1:] = np.lib.stride_tricks.sliding_window_view(stat, n).min(axis=1)
    return out


def hour_band(x, rel_s, healthy_until, extreme):
    """Per reading: extreme (np.fmax or np.fmin) of x at this hour +-1 h on the two previous
    days, from readings before healthy_until only (NaN on the first day)."""
    day = (rel_s // DAY_S).astype(int)
    hour = ((rel_s % DAY_S) // 3600).astype(int)
    fill = -np.inf if extreme is np.fmax else np.inf
    table = np.full((day.max() + 1, 24), fill)
    for i in range(min(x.size, healthy_until)):
        if x[i] == x[i]:
            table[day[i], hour[i]] = extreme(table[day[i], hour[i]], x[i])
    band = np.full(x.size, np.nan)
    for i in range(x.size):
        cells = [table[d, (hour[i] + k) % 24] for d in (day[i] - 2, day[i] - 1) if d >= 0 for k in (-1, 0, 1)]
        cells = [c for c in cells if np.isfinite(c)]
        if cells:
            band[i] = max(cells) if extreme is np.fmax else min(cells)
    return band


def candidates(cols, healthy_until):
    """name -> per-reading statistic (NaN where its condition does not apply)."""
    t, rh, co2, par = cols["air_temp_c"], cols["rh_pct"], cols["co2_ppm"], cols["par_umol_m2_s"]
    rel = cols["timestamp_s"] - cols["timestamp_s"][0]
    ah = abs_humidity(t, rh)
    fall = -lagged_change(ah)
    with np.errstate(invalid="ignore"):
        steady = np.abs(lagged_change(t)) < 0.5
        dark = par < DARK_PAR
        lit = par > LIT_PAR
    dark_run = np.zeros(t.size, dtype=int)
    for i in range(t.size):
        dark_run[i] = (dark_run[i - 1] + 1 if i else 1) if dark[i] else 0
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        out["ah_drop_dark"] = np.where(dark & steady & (rh < 75.0), fall, np.nan)
        usual_fall = hour_band(fall, rel, healthy_until, np.fmax)
        out["ah_drop_vs_hour"] = np.where(dark & steady, fall - np.fmax(usual_fall, 0.0), np.nan)
        out["rh_below_hour"] = hour_band(rh, rel, healthy_until, np.fmin) - rh
        smooth = np.convolve(np.nan_to_num(co2, nan=OUTDOOR_CO2), np.ones(3) / 3.0, "same")
        excess = smooth - OUTDOOR_CO2
        decay = np.full(t.size, np.nan)
        decay[12:] = np.log(excess[:-12] / excess[12:])     # per hour (12 readings)
        out["co2_night_decay"] = np.where((dark_run >= 24) & (excess > 100.0), decay, np.nan)
        out["lit_t_below_hour"] = np.where(lit, hour_band(t, rel, healthy_until, np.fmin) - t, np.nan)
    first_day = rel < DAY_S  # no normal yet; the simulation's start transient
    return {name: held(np.where(first_day, np.nan, s)) for name, s in out.items()}


def series_of(data):
    """(name, path, manifest entry or None) for every healthy-or-vent series used."""
    out = []
    for split in ("dev", "dev2", "train"):
        for meta in load_manifest(os.path.join(data, split)):
            out.append(("%s/%02d" % (split, meta["index"]),
                        os.path.join(data, split, "scenario_%02d.csv" % meta["index"]), meta))
    for split in ("dev_site", "dev2_site"):
        for path in sorted(glob.glob(os.path.join(data, split, "site_*.csv"))):
            out.append(("%s/%s" % (split, os.path.basename(path)[5:7]), path, None))
    return out


def measure(data):
    """({candidate: (largest healthy value, where)}, [(series, fault, {candidate: (largest in window, minutes
    after the start it first exceeds the healthy largest or None)})])."""
    healthy = {}
    faults = []
    per_fault = []
    for name, path, meta in series_of(data):
        cols = read_columns(path)
        n = cols["timestamp_s"].size
        fault = meta["fault"] if meta else ""
        until = int(meta["fault_start_s"] // STEP_S) if fault else n
        stats = candidates(cols, until)
        for cand, s in stats.items():
            part = s[:until]
            if np.isfinite(part).any():
                i = int(np.nanargmax(part))
                if cand not in healthy or part[i] > healthy[cand][0]:
                    healthy[cand] = (float(part[i]), "%s@%.1fh" % (name, i * STEP_S / 3600.0))
        if fault in VENT_FAULTS and not name.startswith("train"):
            end = min(n, int((meta["fault_end_s"] + 1800) // STEP_S))
            per_fault.append((name, fault, until, end, stats))
    for name, fault, start, end, stats in per_fault:
        row = {}
        for cand, s in stats.items():
            seg = s[start:end]
            peak = float(np.nanmax(seg)) if np.isfinite(seg).any() else None
            over = np.nonzero(seg > healthy[cand][0])[0]
            row[cand] = (peak, over[0] * STEP_S / 60.0 if over.size else None)
        faults.append((name, fault, row))
    return healthy, faults


def table(healthy, faults):
    names = sorted(healthy)
    lines = ["| candidate | healthy largest (where) | " + " | ".join("%s %s" % (n, f) for n, f, _ in faults) + " |",
             "|" + "---|" * (2 + len(faults))]
    for cand in names:
        cells = [cand, "%.2f (%s)" % healthy[cand]]
        for _, _, row in faults:
            peak, first = row[cand]
            cells.append("-" if peak is None else "%.2f%s" % (peak, "" if first is None else ", above at %d min" % first))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join("data", "greenlight"))
    args = ap.parse_args(argv)
    healthy, faults = measure(args.data)
    print(table(healthy, faults))


if __name__ == "__main__":
    main()
