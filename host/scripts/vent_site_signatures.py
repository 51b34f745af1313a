"""Site-relative signatures of a vent stuck open, against healthy greenhouses (issue 11,
session 9). The site model knows a greenhouse's own history (4-7 fault-free days before its
scenario); each candidate here is a series judged, like verdant_host.sitelevels' level gates,
against the range the history held at that hour (+-1 h), widened by how far one history day
went beyond the other days' range (leave one day out). A candidate is worth a detector only if
the vent faults go beyond that range and healthy time does not.

Candidates (series, side; each held HOLD readings: the least extreme of the last 15 min):
  air_low        air temperature, below: heat lost to the open vent;
  rh_low         RH, below: dry outdoor air let in;
  ah_low         absolute humidity (g/m3), below: the vapour the crop gave the air vented away;
  ah_fall_30m    change of the absolute humidity over 30 min, below: air exchange nobody asked for;
  air_fall_60m   change of the air temperature over 60 min, below: a slower head than the forecaster's;
  co2_fall_60m   change of CO2 over 60 min, below: the CO2 the greenhouse held (dosed or breathed
                 out overnight) flushed to the outdoor level.
And a slower head for the site forecaster (verdant_host.siteresidual refitted over 60 min, its
thresholds from the held-back history days with margin 1 and a floor of twice the sensor noise,
two predictions in a row):
  fc60_air, fc60_rh, fc60_co2   the drop against the forecast as a share of that threshold,
                 printed less 1 (beyond: over 0).
Healthy time: every fault-free scenario and every faulty scenario before its fault starts, on
the six dev splits (the site path's own healthy time, as fieldeval counts false claims).
Fault values: the vents stuck open and closed, fault window + 30 min.

    PYTHONPATH=host .venv/bin/python host/scripts/vent_site_signatures.py [dev dev2 ...]

Prints a markdown table: per candidate, the largest excursion beyond the widened range on
healthy time, how many healthy greenhouses went beyond it, which vents stuck open went beyond
(how far, first when) and how far the others came. About 5 minutes on a shared 2-core machine; never reads a test* split.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from verdant import features as vf  # noqa: E402
from verdant_host.sitelevels import widening, _near, HOUR_S  # noqa: E402
from verdant_host.fieldeval import read_columns  # noqa: E402

DATA = os.path.join(HERE, "..", "..", "data", "greenlight")
SPLITS = ("dev", "dev2", "dev3", "dev4", "dev5", "dev6")
HOLD = 3
STEP_S = 300
VENTS = ("vent_stuck_open", "vent_stuck_closed")
# the slow head's smallest threshold: twice a reading's noise (GreenLight's sensor noise, 1 sigma:
# 0.05 C, 0.3 %RH, 8 ppm), so a calm context's held-back error of almost nothing is no threshold
NOISE_FLOOR = {"air_temp_c": 0.1, "rh_pct": 0.6, "co2_ppm": 16.0}
_sat = np.vectorize(vf.saturation_vapour_pressure_kpa, otypes=[float])


def abs_humidity(t, rh):
    return _sat(t) * 1e6 * rh / 100.0 / (vf.RV_J_KG_K * (t + 273.15))


def change(x, lag):
    out = np.full(x.size, np.nan)
    out[lag:] = x[lag:] - x[:-lag]
    return out


def series(cols):
    t, rh, co2 = cols["air_temp_c"], cols["rh_pct"], cols["co2_ppm"]
    ah = abs_humidity(t, rh)
    return {"air_low": t, "rh_low": rh, "ah_low": ah, "ah_fall_30m": change(ah, 6),
            "air_fall_60m": change(t, 12), "co2_fall_60m": change(co2, 12)}


def held_max(x, n=HOLD):
    """The largest of the last n values (NaN where any is NaN): below a limit for n readings."""
    out = np.full(x.size, np.nan)
    if x.size >= n:
        out[n - 1:] = np.lib.stride_tricks.sliding_window_view(x, n).max(axis=1)
    return out


def lows(ts, v):
    """24 hourly lows of the history (+-1 h), widened below by leave-one-day-out (sitelevels)."""
    below, _ = widening(ts, v)
    hours = (ts // HOUR_S) % 24
    ok = np.isfinite(v)
    out = np.empty(24)
    for h in range(24):
        sel = _near(hours, h) & ok
        out[h] = (v[sel] if sel.any() else v[ok]).min() - below
    return out


def slow_head(hist, scen, lag=12):
    """{fc60_q: (sample times, share of the threshold held two predictions)} of the forecaster
    refitted over lag readings on the history (margin 1, NOISE_FLOOR)."""
    from verdant_host import siteresidual as sr
    keep = sr.WINDOW, dict(sr.FLOOR)
    sr.WINDOW = lag + 1
    sr.FLOOR.update(NOISE_FLOOR)
    try:
        targets = ["air_temp_c", "co2_ppm", "rh_pct"]
        d = sr.Design(targets, "par_umol_m2_s", lag, 1.0)
        cols = targets + ["par_umol_m2_s"]
        hts = hist["timestamp_s"].astype(np.int64)
        ht, hx = sr.windows(hts, {q: hist[q] for q in cols}, d.names)
        w, th, _ = sr.fit(hx, d, sr.day_of(ht, hts[0]))
        t, x = sr.windows(scen["timestamp_s"].astype(np.int64), {q: scen[q] for q in cols}, d.names)
        res = sr.residuals(x, d, w)
        units = d.nonlinear(d.columns(x))
    finally:
        sr.WINDOW = keep[0]
        sr.FLOOR.clear()
        sr.FLOOR.update(keep[1])
    out = {}
    for q, short in (("air_temp_c", "air"), ("rh_pct", "rh"), ("co2_ppm", "co2")):
        share = -res[q] / th[(q, -1)].at(units)
        out["fc60_" + short] = (t, np.minimum(share, np.concatenate([[-np.inf], share[:-1]])) - 1.0)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("splits", nargs="*", default=list(SPLITS))
    args = ap.parse_args(argv)
    healthy = {}   # candidate -> [(excursion max, where)]
    faults = {}    # candidate -> [(split, idx, fault, max excursion, first beyond min, value at first)]
    for split in args.splits:
        if split.startswith("test"):
            ap.error("test splits are measured once, by the lead")
        man = json.load(open(os.path.join(DATA, split, "manifest.json")))["scenarios"]
        for meta in man:
            hist = read_columns(os.path.join(DATA, split + "_site", "site_%02d.csv" % meta["index"]))
            scen = read_columns(os.path.join(DATA, split, "scenario_%02d.csv" % meta["index"]))
            hts, sts = hist["timestamp_s"].astype(np.int64), scen["timestamp_s"].astype(np.int64)
            hs, ss = series(hist), series(scen)
            a = meta["t0_unix"] + meta["fault_start_s"] if meta["fault"] else sts[-1] + 1
            b = meta["t0_unix"] + meta["fault_end_s"] + 1800 if meta["fault"] else a
            judged = {}
            for name in hs:
                low = lows(hts, hs[name])
                # below the low for HOLD readings: the smallest shortfall of the last HOLD readings
                judged[name] = (sts, -held_max(-(low[(sts // HOUR_S) % 24] - ss[name])))
            judged.update(slow_head(hist, scen))
            for name, (when, held) in judged.items():
                pre = when < a
                if pre.any() and np.isfinite(held[pre]).any():
                    k = int(np.nanargmax(np.where(pre, held, -np.inf)))
                    healthy.setdefault(name, []).append((float(held[k]), "%s %d@%.1fh" % (
                        split, meta["index"], (when[k] - meta["t0_unix"]) / 3600.0)))
                if meta["fault"] in VENTS:
                    inside = (when >= a) & (when < b)
                    over = np.nonzero(inside & (held > 0))[0]
                    first = None if over.size == 0 else (when[over[0]] - a) / 60.0
                    faults.setdefault(name, []).append((split, meta["index"], meta["fault"],
                                                        float(np.nanmax(np.where(inside, held, -np.inf))), first))
    print("| candidate | healthy: largest beyond (where) | healthy greenhouses beyond | vents stuck open: "
          "beyond (first, min after the start) | the other vents stuck open: largest | vents stuck closed beyond |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in healthy:
        h = sorted(healthy[name], reverse=True)
        opened = [f for f in faults[name] if f[2] == "vent_stuck_open"]
        hit = ["%s %d (%+.2f, %d)" % (sp, i, top, first) for sp, i, _, top, first in opened if first is not None]
        miss = [top for _, _, _, top, first in opened if first is None]
        closed = ["%s %d (%d)" % (sp, i, first) for sp, i, f, _, first in faults[name]
                  if f == "vent_stuck_closed" and first is not None]
        print("| %s | %+.2f (%s) | %d of %d | %s | %s | %s |" % (
            name, h[0][0], h[0][1], sum(v > 0 for v, _ in h), len(h), ", ".join(hit) or "none",
            "%+.2f .. %+.2f" % (min(miss), max(miss)) if miss else "-", ", ".join(closed) or "none"))


if __name__ == "__main__":
    main()
