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
# dosing time; night; RH falling this fast: venting; the settled night's air near the level
from verdant.normalband import BRIGHT_PAR, DARK_PAR, NIGHT_HOLD, NIGHT_NEAR_C, NIGHT_NEAR_S, VENT_RH_FALL

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


# The level the heating holds in the dark ("night_hold"), for the board's cold_anomaly (see night_hold).
HOLD_PERCENTILE = 10.0    # of the dark hours' lowest readings: a low plateau, not one cold dip
# the board's check: fall per hour over NIGHT_FALL_S, readings in a row, dark and near the level this long is
# the settled night
NIGHT_FALL_PER_H, NIGHT_FALL_S, NIGHT_STEPS, NIGHT_SETTLE_S = NIGHT_HOLD
NIGHT_HEADROOM = 3.0      # x the largest such departure the history had
MIN_BELOW_C = 0.3         # 6 x an air sensor's noise (0.05 C)
MIN_DARK_HOURS = 12       # dark hours in the history to know the level


def settled_night(ts, light, temp, level):
    """Per reading: True in the settled night as the board judges it (normalband.NIGHT_NEAR_S): dark
    for NIGHT_SETTLE_S and the air in it within NIGHT_NEAR_C above level for NIGHT_NEAR_S (the day
    set point can hold into the dark on a clock, and the fall from it is the evening's)."""
    dark = np.zeros(len(ts), dtype=bool)
    near = np.zeros(len(ts), dtype=bool)
    dark_start = near_start = None
    for k in range(len(ts)):
        if light[k] < DARK_PAR:
            dark_start = ts[k] if dark_start is None else dark_start
            if temp[k] > level + NIGHT_NEAR_C:
                near_start = None
            else:
                near_start = ts[k] if near_start is None else near_start
        else:
            dark_start = near_start = None
        dark[k] = dark_start is not None and ts[k] - dark_start >= NIGHT_SETTLE_S
        near[k] = near_start is not None and ts[k] - near_start >= NIGHT_NEAR_S
    return dark & near


def night_hold(ts, readings, period=300):
    """({"level_c": L, "below_c": M, "settled_below_c": N} or None, report row) from a history's rows.

    In the dark the heating holds the air at its night set point (a little under it: the
    controller's band). L: the 10th percentile of the lowest reading of every hour that was
    dark throughout (a plateau several nights share, not one cold dip). Healthy evenings
    still dip under it for a while: lamps switching off drop the air degrees in 10 minutes
    before the heating catches up, a screen moving lets cold air down. M: NIGHT_HEADROOM x the
    deepest such dip, measured as the board judges (NIGHT_STEPS readings in a row under L and
    falling faster than NIGHT_FALL_PER_H over NIGHT_FALL_S), at least MIN_BELOW_C, while the
    air comes down to the level (M: the first NIGHT_SETTLE_S of the dark and the first NIGHT_NEAR_S
    after the air came within NIGHT_NEAR_C of it, lamps-off drops and a day set point held into the
    dark on a clock, then dropped) and after that (N, the settled night: a screen moving, a cold
    gust). A heater that stopped leaves the air falling on, toward the outdoor temperature."""
    ts = np.asarray(ts, dtype=np.int64)
    temp, light = readings.get("air_temp_c"), _light(readings)
    if temp is None or light is None:
        return None, None
    temp = np.asarray(temp, dtype=float)
    hour = ts // 3600
    lows = []
    for h in np.unique(hour):
        m = hour == h
        if (light[m] < DARK_PAR).all() and np.isfinite(temp[m]).any():
            lows.append(float(np.nanmin(temp[m])))
    if len(lows) < MIN_DARK_HOURS:
        return None, {"why": "too few dark hours in the history (%d, at least %d)" % (len(lows), MIN_DARK_HOURS)}
    level = float(np.percentile(lows, HOLD_PERCENTILE))
    back = max(1, NIGHT_FALL_S // period)
    under = np.full(len(ts), -np.inf)
    for k in range(back, len(ts)):
        if ts[k] - ts[k - back] > NIGHT_FALL_S + period // 2 or not light[k] < DARK_PAR:
            continue
        fall = (temp[k - back] - temp[k]) * 3600.0 / (ts[k] - ts[k - back])
        if fall > NIGHT_FALL_PER_H:
            under[k] = level - temp[k]
    settled = settled_night(ts, light, temp, level)
    worst = [0.0, 0.0]        # [coming down to the level, settled night]
    for k in range(NIGHT_STEPS - 1, len(ts)):
        run = under[k - NIGHT_STEPS + 1:k + 1]
        if ts[k] - ts[k - NIGHT_STEPS + 1] <= (NIGHT_STEPS - 1) * period + period // 2 and np.isfinite(run).all():
            phase = int(settled[k])
            worst[phase] = max(worst[phase], float(run.min()))
    hold = {"level_c": round(level, 2), "below_c": round(max(MIN_BELOW_C, NIGHT_HEADROOM * worst[0]), 2),
            "settled_below_c": round(max(MIN_BELOW_C, NIGHT_HEADROOM * worst[1]), 2)}
    return hold, dict(hold, deepest_dip_c=round(worst[0], 2), deepest_settled_dip_c=round(worst[1], 2),
                      dark_hours=len(lows))
