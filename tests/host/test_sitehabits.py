"""The site history's measured sensor habits (verdant_host.sitehabits): the stuck run from the
sensor's own repeat rate and the hourly habit."""
import numpy as np
import pytest

from verdant_host import sitehabits

PERIOD = 300
T0 = 1767225600  # midnight UTC


def history(days=4, temp_step=0.01, lamps=True, seed=3):
    rng = np.random.default_rng(seed)
    n = days * 288
    ts = T0 + PERIOD * np.arange(n)
    hour = (ts // 3600) % 24
    temp = np.round((18 + 2 * np.sin(2 * np.pi * hour / 24) + rng.normal(0, 0.05, n)) / temp_step) * temp_step
    rh = np.round(75 + 5 * np.cos(2 * np.pi * hour / 24) + rng.normal(0, 0.3, n), 2)
    co2 = np.round(700 + rng.normal(0, 8, n))
    clouds = rng.uniform(0.3, 1.0, n)   # a winter sun behind passing clouds never holds a level
    sun = np.maximum(0, 400 * np.sin(np.pi * (hour - 7) / 11)) * ((hour >= 7) & (hour < 18)) * clouds
    lamp = 171.0 * ((hour >= 18) | (hour < 2)) if lamps else 0.0
    par = np.round(np.maximum(0, (sun + lamp) * (1 + rng.normal(0, 0.02, n))))
    return ts, {"air_temp_c": temp, "rh_pct": rh, "co2_ppm": co2, "par_umol_m2_s": par}


def test_stuck_run_follows_the_measured_repeat_rate():
    habits, table = sitehabits.sensor_habits(*history(days=7))
    rows = {r["quantity"]: r for r in table}
    air = rows["air_temp_c"]
    # 0.05 C noise read to 0.01 C repeats ~5 % of readings: 5 in a row is the shortest run rarer than 2e-5
    assert 3.0 < air["repeat_pct"] < air["repeat_pct_bound"] < 6.6, air
    assert habits["air_temp_c"]["stuck_run"] == air["stuck_run"] == 5
    assert air["chance_per_week"] == round(2016 * (air["repeat_pct_bound"] / 100) ** 4, 4)
    assert air["chance_per_week"] < 2016 * 2e-5
    assert len(habits["air_temp_c"]["changed_pct"]) == 24 and min(habits["air_temp_c"]["changed_pct"]) > 80
    # the jump limit: 1.5 x the largest 5-minute change, at least the board's spike step
    ts, r = history(days=7)
    largest = np.abs(np.diff(r["co2_ppm"])).max()
    assert habits["co2_ppm"]["jump_limit"] == max(250.0, round(1.5 * largest, 2))
    r["co2_ppm"][100] += 400.0   # one CO2 step of 400 ppm in the history: limit 1.5 x that
    assert sitehabits.sensor_habits(ts, r)[0]["co2_ppm"]["jump_limit"] >= 600.0
    # the same air read to 0.1 C repeats often: a longer run is needed
    coarse, _ = sitehabits.sensor_habits(*history(temp_step=0.1))
    assert coarse["air_temp_c"]["stuck_run"] > 7


def test_run_needed_is_the_shortest_rarer_than_the_criterion():
    for p in (0.01, 0.05, 0.066, 0.08, 0.3):
        n = sitehabits.run_needed(p)
        assert p ** (n - 1) <= sitehabits.CHANCE_PER_READING and n >= 3
        assert n == 3 or p ** (n - 2) > sitehabits.CHANCE_PER_READING


def test_runs_in_the_history_are_counted():
    still = np.array([False, True, True, True, False, True, True, True, True, False])
    assert sitehabits.runs_at_least(still, 4) == 2   # two runs of 4+ identical readings
    assert sitehabits.runs_at_least(still, 5) == 1


def test_site_levels_and_gates_for_the_labels():
    from verdant_host import sitelevels
    ts, r = history(days=4)
    levels, table = sitelevels.hourly_levels(ts, r, ["air_temp_c", "co2_ppm"])
    rows = {row["quantity"]: row for row in table}
    hours = (ts // 3600) % 24
    near9 = np.isin(hours, (8, 9, 10))
    # the history's range at the hour +-1 h, widened by how far one day went beyond the other days'
    below = rows["air_temp_c"]["below"]
    assert 0 < below < 0.3   # 0.05 C noise: a day's lowest at an hour is a few hundredths off the others'
    assert levels["air_temp_c"]["low"][9] == round(float(r["air_temp_c"][near9].min()) - below, 2)
    above = rows["co2_ppm"]["above"]
    assert levels["co2_ppm"]["high"][0] == round(float(r["co2_ppm"][np.isin(hours, (23, 0, 1))].max()) + above, 2)
    assert levels["air_temp_c"]["low"][9] > levels["air_temp_c"]["low"][21]   # warm mornings, cool evenings
    gates = sitelevels.label_gates(["temp_drop_30m", "co2_rise_10m", "rh_drop_10m"])
    assert gates == {"temp_drop_30m": ["air_temp_c", "below"], "co2_rise_10m": ["co2_ppm", "above"],
                     "rh_drop_10m": ["rh_pct", "below"]}


def test_a_day_unlike_the_others_widens_the_gate_by_its_excursion():
    """One history morning 1.5 C colder than the rest (about 1.1 C under the other days' range at
    hours 7-9, which falls 0.3 C by 9:00): the low gate sits that far (and no further) under the
    history's range at every hour, so a new morning as cold stays inside; the high side keeps its
    noise-sized widening."""
    from verdant_host import sitelevels
    ts, r = history(days=5)
    plain, _ = sitelevels.widening(ts, r["air_temp_c"])
    hours, day = (ts // 3600) % 24, (ts - ts[0]) // 86400
    cold = (day == 2) & (hours == 8)
    r["air_temp_c"] = np.where(cold, r["air_temp_c"] - 1.5, r["air_temp_c"])
    below, above = sitelevels.widening(ts, r["air_temp_c"])
    others = (day != 2) & np.isin(hours, (7, 8, 9))
    assert below == pytest.approx(float(r["air_temp_c"][others].min() - r["air_temp_c"][cold].min()))
    assert 0.9 < below < 1.5 and plain < 0.3 and above < 0.3
    levels, _ = sitelevels.hourly_levels(ts, r, ["air_temp_c"])
    near14 = np.isin(hours, (13, 14, 15))
    assert levels["air_temp_c"]["low"][14] == round(float(r["air_temp_c"][near14].min()) - below, 2)
    # a single day has nothing to compare with
    one = day == 0
    assert sitelevels.widening(ts[one], r["air_temp_c"][one]) == (0.0, 0.0)


def test_co2_set_point_from_the_history():
    from verdant_host import sitecontrol
    ts, r = history(days=4)
    hold, row = sitecontrol.co2_hold(ts, r)
    # CO2 700 +- 8 ppm noise all day: the set point is 700, the shortfall a three-reading mean reached ~15
    assert abs(hold["set_ppm"] - 700) <= 2 and hold["below_ppm"] == max(30.0, round(1.5 * row["largest_day_shortfall"], 1))
    # CO2 that follows the weather in light (no set point) gets none, and says why
    hours = (ts // 3600) % 24
    r["co2_ppm"] = r["co2_ppm"] + 40.0 * (hours % 7)
    hold, row = sitecontrol.co2_hold(ts, r)
    assert hold is None and "one level" in row["why"]


def test_report_states_the_learned_hold_and_when_a_changed_set_point_is_followed():
    from verdant import normalband
    from verdant_host import sitecontrol, siteresidual
    ts, r = history(days=4)
    hold, row = sitecontrol.co2_hold(ts, r)
    text = "\n".join(siteresidual.co2_hold_report(row))
    assert "Learned CO2 hold: **%.0f ppm**" % hold["set_ppm"] in text
    assert "After %d such hours" % normalband.ADOPT_HOURS in text and "on %d days" % normalband.ADOPT_DAYS in text
    assert "co2_set_point" in text and "clears an active co2_low_anomaly" in text
    # no hold carried: the report says why and promises no following
    r["co2_ppm"] = r["co2_ppm"] + 40.0 * ((ts // 3600) % 7)
    text = "\n".join(siteresidual.co2_hold_report(sitecontrol.co2_hold(ts, r)[1]))
    assert "None carried" in text and "followed" not in text


def night_history(days=4, plunge=(19.5, 17.8, 17.6, 17.7, 17.9)):
    """Nights held at 18.0-18.2 C in the dark, 22 C in light (07:00-18:00), and at 18:00 the
    lamps-off plunge before the heating catches the air."""
    ts = 1767225600 + 300 * np.arange(days * 288)
    k = (ts % 86400) // 300
    lit = (k >= 7 * 12) & (k < 18 * 12)
    temp = np.where(lit, 22.0, 18.0 + 0.1 * (np.arange(ts.size) % 3))
    for j, v in enumerate(plunge):
        temp[k == 18 * 12 + 1 + j] = v
    return ts, {"air_temp_c": temp, "par_umol_m2_s": np.where(lit, 300.0, 0.0)}


def test_night_hold_from_the_history():
    from verdant_host import sitecontrol
    ts, r = night_history()
    hold, row = sitecontrol.night_hold(ts, r)
    # 13 dark hours a night: 12 at 18.0 (their lowest), the 18:00 hour 17.6 (the plunge): the 10th
    # percentile of 52 hours is 18.0. The plunge falls fast under it on three readings (17.8, 17.6,
    # 17.7, each > 1 C/h down over 15 min) in the first hour of the dark: two in a row at most 0.3
    # under, x 3 = 0.9; the settled night never dips: the smallest margin, 0.3 C
    assert hold == {"level_c": 18.0, "below_c": 0.9, "settled_below_c": 0.3}, hold
    assert row["deepest_dip_c"] == 0.3 and row["deepest_settled_dip_c"] == 0.0, row
    # a plunge no deeper than the noise; a screen moving at 22:00 (4 h into the dark) drops the
    # settled night to 17.6 then 17.4 (> 1.6 C/h down over 15 min): two readings at least 0.4
    # under, x 3 = 1.2: the margins trade places
    ts, r = night_history(plunge=(19.5, 18.1, 18.0))
    k = (ts % 86400) // 300
    r["air_temp_c"][k == 22 * 12] = 17.6
    r["air_temp_c"][k == 22 * 12 + 1] = 17.4
    hold, row = sitecontrol.night_hold(ts, r)
    assert hold == {"level_c": 18.0, "below_c": 0.3, "settled_below_c": 1.2}, hold
    # lamps all night (too few dark hours) carries none, and says why
    r["par_umol_m2_s"] = np.full(ts.size, 300.0)
    hold, row = sitecontrol.night_hold(ts, r)
    assert hold is None and "dark hours" in row["why"]
