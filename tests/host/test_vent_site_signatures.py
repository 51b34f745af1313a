"""The site-relative vent survey (host/scripts/vent_site_signatures.py, vent_site_table.py) on
made-up greenhouses: a series counts as beyond the history's hourly range only when held for
15 min and beyond the leave-one-day-out widening, the 60-minute forecaster head sees a fall the
history never had and not one it had every day, and refitting it leaves the site model's own
constants as they were."""
import os
import sys

import numpy as np

from verdant_host import paths
from verdant_host import siteresidual as sr

sys.path.insert(0, os.path.join(paths.REPO_DIR, "host", "scripts"))
import vent_site_signatures as vss  # noqa: E402
import vent_site_table as vst  # noqa: E402

STEP = 300
T0 = 1760918400


def greenhouse(days, seed=5):
    t = np.arange(0, days * 86400, STEP)
    hour = (t % 86400) / 3600.0
    par = np.where((hour > 8) & (hour < 16), 300.0, 0.0)
    rng = np.random.default_rng(seed)
    return {"timestamp_s": (t + T0).astype(float), "air_temp_c": 18.0 + rng.normal(0, 0.05, t.size),
            "rh_pct": 70.0 + rng.normal(0, 0.3, t.size), "co2_ppm": 800.0 + rng.normal(0, 8.0, t.size),
            "par_umol_m2_s": par}


def test_held_max_and_the_widened_hourly_low():
    assert np.isnan(vss.held_max(np.array([1.0, 2.0, 3.0]))[1])
    assert vss.held_max(np.array([1.0, -2.0, 3.0, -1.0]))[3] == 3.0
    ts = (T0 + np.arange(0, 3 * 86400, STEP)).astype(np.int64)
    v = np.full(ts.size, 10.0)
    v[(ts - T0 >= 86400 + 3 * 3600) & (ts - T0 < 86400 + 4 * 3600)] = 9.0   # one day 1 C lower at 03:00
    low = vss.lows(ts, v)
    assert low[3] == 8.0          # the history's 9.0, widened by the 1.0 that day went below the others
    assert low[12] == 9.0         # every hour is widened by the largest excursion at any hour


def test_slow_head_sees_an_unusual_fall_not_a_daily_one_and_restores_the_site_constants():
    window, floor = sr.WINDOW, dict(sr.FLOOR)
    history = greenhouse(4)
    scenario = greenhouse(2, seed=6)
    fall = (scenario["timestamp_s"] - T0 >= 86400 + 2 * 3600) & (scenario["timestamp_s"] - T0 < 86400 + 4 * 3600)
    scenario["air_temp_c"][fall] -= np.minimum(np.cumsum(fall[fall]) * 0.1, 1.5)   # 1.5 C in 75 min at 02:00
    out = vss.slow_head(history, scenario)
    t, share = out["fc60_air"]
    inside = (t - T0 >= 86400 + 2 * 3600) & (t - T0 < 86400 + 4 * 3600)
    assert np.nanmax(share[inside]) > 0        # beyond its threshold (share - 1 > 0)
    assert np.nanmax(share[~inside & (t - T0 > 3600)]) < 0
    assert sr.WINDOW == window and sr.FLOOR == floor
    daily = greenhouse(4)
    for day in range(4):
        rel = daily["timestamp_s"] - T0 - day * 86400
        sel = (rel >= 2 * 3600) & (rel < 4 * 3600)
        daily["air_temp_c"][sel] -= np.minimum(np.cumsum(sel[sel]) * 0.1, 1.5)
    t, share = vss.slow_head(daily, scenario)["fc60_air"]
    assert np.nanmax(share[inside]) < 0        # the history fell so every night: this greenhouse's normal


def test_guard_is_read_from_the_site_report(tmp_path):
    report = tmp_path / "report.md"
    report.write_text("| label | a | b | c | d |\n| --- | --- | --- | --- | --- |\n"
                      "| temp_drop_30m | 1.747 | 6.193 | 0.166 | 0.164 |\n"
                      "| co2_rise_10m | 97.9 | 204.6 | -52.5 | 0.243 |\n")
    assert vst.guard_of(str(report)) == {"temp_drop_30m": 0.164, "co2_rise_10m": 0.243}
    assert vst.guard_of(str(tmp_path / "missing.md")) == {}
