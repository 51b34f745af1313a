"""The vent-signature survey (host/scripts/vent_signatures.py) on made-up greenhouses: the
hour bands use only the previous days' healthy readings, a condition counts only when held,
and a dry-air drop in the dark that the greenhouse does not show every day stands out
while one that repeats at the same hour does not."""
import os
import sys

import numpy as np

from verdant_host import paths

sys.path.insert(0, os.path.join(paths.REPO_DIR, "host", "scripts"))
import vent_signatures as vs  # noqa: E402

STEP = 300


def greenhouse(days=3):
    t = np.arange(0, days * 86400, STEP, dtype=float)
    hour = (t % 86400) / 3600.0
    par = np.where((hour > 8) & (hour < 16), 300.0, 0.0)
    rng = np.random.default_rng(5)
    return {"timestamp_s": t + 1760918400, "air_temp_c": 18.0 + rng.normal(0, 0.05, t.size),
            "rh_pct": np.full(t.size, 70.0) + rng.normal(0, 0.3, t.size),
            "co2_ppm": np.full(t.size, 800.0), "par_umol_m2_s": par}


def test_held_needs_the_whole_span_and_hour_band_sees_only_earlier_healthy_days():
    assert np.isnan(vs.held(np.array([5.0, np.nan, 5.0, 5.0]))[2])
    assert vs.held(np.array([1.0, 3.0, 2.0, 4.0]))[3] == 2.0
    rel = np.arange(0, 3 * 86400, STEP, dtype=float)
    x = np.where(rel < 86400, 10.0, 20.0)
    x[(rel >= 2 * 86400 + 3 * 3600) & (rel < 2 * 86400 + 4 * 3600)] = -50.0  # day 2, 03:00, "faulty"
    band = vs.hour_band(x, rel, healthy_until=int((2 * 86400 + 3 * 3600) // STEP), extreme=np.fmin)
    assert np.isnan(band[: 86400 // STEP]).all()                 # no previous day
    assert band[int((86400 + 5 * 3600) // STEP)] == 10.0          # day 1 sees day 0
    assert band[int((2 * 86400 + 4 * 3600) // STEP)] == 10.0      # day 2 sees days 0-1, not its own fault


def test_a_dark_humidity_drop_stands_out_only_when_it_does_not_repeat_daily():
    def drop(cols, day, hour):
        i = int((day * 86400 + hour * 3600) // STEP)
        cols["rh_pct"][i:] -= np.minimum(np.arange(cols["rh_pct"].size - i), 6) * 2.0  # 12 %RH in 30 min
        cols["rh_pct"][i + 12:] += 12.0                                                  # back an hour later
    once = greenhouse()
    drop(once, 2, 3.0)
    daily = greenhouse()
    for day in range(3):
        drop(daily, day, 3.0)
    until = once["timestamp_s"].size
    s_once = vs.candidates(once, until)
    s_daily = vs.candidates(daily, until)
    window = slice(int((2 * 86400 + 3 * 3600) // STEP), int((2 * 86400 + 4 * 3600) // STEP))
    assert np.nanmax(s_once["ah_drop_dark"][window]) > 1.0
    assert np.nanmax(s_once["ah_drop_vs_hour"][window]) > 1.0
    assert np.nanmax(s_daily["ah_drop_dark"][window]) > 1.0          # the raw drop is there every day...
    assert np.nanmax(s_daily["ah_drop_vs_hour"][window]) < 0.3       # ...so it is this greenhouse's normal
    assert np.isnan(s_once["ah_drop_dark"][: 86400 // STEP]).all()  # first day: no normal, start transient
