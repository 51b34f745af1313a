"""What a site's fault-free history says about its own sensors, for the board's stuck check
(verdant.sensorfaults), carried in the site model's metadata as "sensor_habits".

Per quantity (air temperature, RH, CO2):
  changed_pct  per hour of the day, % of readings that differed from the one before (the
               board's own hourly habit, measured on every history day instead of one hour):
               it says when the quantity is expected to move from the board's first hour on;
  stuck_run    identical readings in a row the stuck check needs: the shortest run that comes
               by chance less than once in 50000 readings (the board's own criterion) given this
               sensor's repeat rate measured on the history (upper bound, ~2 sigma) instead of the
               8 % the board assumes when it knows only three hours;
  jump_limit   JUMP_MARGIN x the largest change between two readings one period apart in the
               history (at least the board's SPIKE_STEP): three jumps beyond it within hours,
               not all one way, are spikes.
Light is left to the board's own rule (light_stuck_s: lamps hold it steady for hours).

The report gives per quantity the repeat rate, the run, the chance runs per week that run
leaves (readings per week x p^(run-1)) and how many such runs the history itself holds.

    habits, table = sensor_habits(ts, readings)
"""
import math

import numpy as np

from verdant.sensorfaults import CHANCE_PER_READING, DEFAULTS, FLOORS, LEVELS, SPIKE_STEP, runs_for

STUCK_QUANTITIES = ("air_temp_c", "rh_pct", "co2_ppm")
HABIT_PCT = DEFAULTS["stuck_habit_pct"]  # expected to move at this hour
HOUR_S = 3600
JUMP_MARGIN = 1.5             # x the history's largest 5-minute change


def _hours(ts):
    return (ts // HOUR_S) % 24


def _steps(ts, v, period):
    """Per pair of consecutive readings one period apart (step k: readings k and k+1): whether
    both are present, the hour of the later one, whether it changed, the later value."""
    ok = np.isfinite(v[1:]) & np.isfinite(v[:-1]) & (np.diff(ts) <= 1.5 * period)
    return ok, _hours(ts[1:]), v[1:] != v[:-1], v[1:]


def run_needed(p):
    """The board's stuck run (verdant.sensorfaults.runs_for) for a repeat rate p measured on
    days of history: no 1 % floor, a week of readings can show rarer repeats."""
    return runs_for(p, floor_p=1e-6)


def runs_at_least(still, n):
    """Runs of >= n identical readings: stretches of >= n - 1 steps in a row that are counted
    and unchanged (still[k] True)."""
    found, length = 0, 0
    for flag in still:
        length = length + 1 if flag else 0
        if length == n - 1:
            found += 1
    return found


def sensor_habits(ts, readings, period=300):
    """({quantity: habit dict} for the metadata, [report rows]) from a history's rows."""
    ts = np.asarray(ts, dtype=np.int64)
    per_week = 7 * 86400.0 / period
    habits, table = {}, []
    for q in STUCK_QUANTITIES:
        v = readings.get(q)
        if v is None or not np.isfinite(v).any():
            continue
        ok, hours, changed, now = _steps(ts, np.asarray(v, dtype=float), period)
        pct = []
        for h in range(24):
            sel = ok & (hours == h)
            pct.append(int(round(100.0 * changed[sel].mean())) if sel.sum() >= 3 else 255)
        moving = np.array([pct[h] != 255 and pct[h] >= HABIT_PCT for h in range(24)])
        counted = ok & moving[hours]
        for level in FLOORS.get(q, ()):
            counted &= now != level
        if q in LEVELS:  # CO2 at the outdoor level: no evidence
            lo, hi = LEVELS[q]
            counted &= ~((now >= lo) & (now <= hi))
        n_steps = int(counted.sum())
        repeats = int((counted & ~changed).sum())
        if n_steps < 288:  # under a day of readings expected to move: the board's own rule stands
            habits[q] = {"changed_pct": pct}
            continue
        p = (repeats + 2.0 * math.sqrt(repeats) + 1.0) / n_steps
        run = run_needed(p)
        seen = runs_at_least(counted & ~changed, run)
        largest = float(np.abs(now - np.asarray(v, dtype=float)[:-1])[ok].max())
        jump = round(max(SPIKE_STEP[q], JUMP_MARGIN * largest), 2)
        habits[q] = {"changed_pct": pct, "stuck_run": run, "jump_limit": jump}
        table.append({"quantity": q, "repeat_pct": round(100.0 * repeats / n_steps, 2),
                      "repeat_pct_bound": round(100.0 * p, 2), "stuck_run": run,
                      "minutes": (run - 1) * period // 60,
                      "chance_per_week": round(per_week * p ** (run - 1), 4), "seen_in_history": seen,
                      "jump_limit": jump})
    return habits, table
