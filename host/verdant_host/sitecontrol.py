"""What a site's fault-free history says about its climate control, for the board's normal
band (verdant.normalband), carried in the site model's metadata as "co2_hold".

CO2 dosing holds a set point in light: the history's readings in light (PAR > BRIGHT_PAR on
this and the two readings before) while RH is not falling faster than VENT_RH_FALL per hour
(venting, when growers let CO2 go, dries the air) give the set point (their median) and how
far the median of three readings in a row ever fell below it on any day. A board that sees its
three-reading median fall further than MARGIN x that (at least MIN_BELOW_PPM) below the set
point, in the same conditions, says dosing is off, instead of waiting for the band's
hour-long fall. A greenhouse whose CO2 in light does not sit at one level (no dosing, or a
changing set point: the 10th-90th percentile range over HELD_RANGE_PPM) gets none.

    hold, row = co2_hold(ts, readings)   # ({"set_ppm", "below_ppm"} or None, report row)
"""
import numpy as np

from verdant.features import LUX_TO_PAR
from verdant.normalband import BRIGHT_PAR, VENT_RH_FALL   # dosing time; RH falling this fast per hour: venting

MARGIN = 1.5              # x the largest shortfall a history day had
MIN_BELOW_PPM = 30.0      # 3-4 x a CO2 sensor's noise
HELD_RANGE_PPM = 100.0    # a set point: 80 % of the readings in light within this
MIN_HOURS_PER_DAY = 2.0   # enough readings in light to know the set point


def _light(readings):
    if "par_umol_m2_s" in readings:
        return np.asarray(readings["par_umol_m2_s"], dtype=float)
    if "light_lux" in readings:
        return np.asarray(readings["light_lux"], dtype=float) * LUX_TO_PAR
    return None


def co2_hold(ts, readings, period=300):
    """({"set_ppm": S, "below_ppm": M} or None, report row) from a history's rows."""
    ts = np.asarray(ts, dtype=np.int64)
    co2, rh, light = readings.get("co2_ppm"), readings.get("rh_pct"), _light(readings)
    if co2 is None or rh is None or light is None:
        return None, None
    co2, rh = np.asarray(co2, dtype=float), np.asarray(rh, dtype=float)
    n = len(ts)
    hour_back = max(1, 3600 // period)
    ok = np.zeros(n, dtype=bool)
    median3 = np.full(n, np.nan)
    for k in range(max(2, hour_back), n):
        if ts[k] - ts[k - 2] > 2 * period + period // 2 or ts[k] - ts[k - hour_back] > 3600 + period:
            continue
        if not (light[k - 2:k + 1] > BRIGHT_PAR).all():
            continue
        if not (rh[k] - rh[k - hour_back] > -VENT_RH_FALL):
            continue
        median3[k] = np.median(co2[k - 2:k + 1])
        ok[k] = np.isfinite(median3[k])
    days = max((ts[-1] - ts[0]) / 86400.0, 1e-9)
    if ok.sum() * period / 3600.0 / days < MIN_HOURS_PER_DAY:
        return None, {"why": "too little light with RH steady (%.1f h a day)" % (ok.sum() * period / 3600.0 / days)}
    held = co2[ok]
    spread = float(np.percentile(held, 90) - np.percentile(held, 10))
    if spread > HELD_RANGE_PPM:
        return None, {"why": "CO2 in light does not sit at one level (10-90 %% range %.0f ppm)" % spread}
    set_ppm = float(np.median(held))
    day = (ts - ts[0]) // 86400
    worst = max(float((set_ppm - median3[ok & (day == d)]).max()) for d in np.unique(day[ok]))
    below = max(MIN_BELOW_PPM, MARGIN * worst)
    hold = {"set_ppm": round(set_ppm, 1), "below_ppm": round(below, 1)}
    return hold, dict(hold, largest_day_shortfall=round(worst, 1), hours_per_day=round(float(ok.sum()) * period / 3600.0 / days, 1))
