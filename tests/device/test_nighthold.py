# The site night hold on the board's normal band: a heater that stops at dusk is raised before
# the band's early tier would, while a healthy evening (lamps off, the air dipping under the
# night level before the heating catches it) and a cold night the boiler barely holds stay quiet.
from verdant.alerts import AlertEngine
from verdant.modelmeta import check_meta
from verdant.normalband import NormalBand

STEP = 300
T0 = 1767225600          # midnight UTC
PER_DAY = 86400 // STEP
NIGHT_C = 18.0
# lamps off at 18:00: the air drops with the lamps' heat gone and the heating catches it
PLUNGE = (19.5, 17.8, 17.6, 17.7, 17.9)
# what verdant_host.sitecontrol.night_hold learns from such days: 3 x the plunge's 0.3 under
# in the first hour of the dark, the smallest margin in the settled night
HOLD = {"level_c": NIGHT_C, "below_c": 0.9, "settled_below_c": 0.3}


def evening_day(i):
    """22 C in light (07:00-18:00), the night level after the lamps-off plunge."""
    k = i % PER_DAY
    hour = k * STEP // 3600
    lit = 7 <= hour < 18
    temp = 22.0 if lit else NIGHT_C + 0.1 * (i % 3)
    if 0 <= k - 18 * 12 - 1 < len(PLUNGE):
        temp = PLUNGE[k - 18 * 12 - 1]
    return {"air_temp_c": temp, "rh_pct": 75.0 + 0.2 * (i % 2), "co2_ppm": 600.0 + (i % 4),
            "par_umol_m2_s": 300.0 if lit else 0.0}


def days(n, cold_night=True):
    rows = [evening_day(i) for i in range(n * PER_DAY)]
    if cold_night:
        # night 1 (03:00-07:00): a cold spell the boiler barely held, 0.55 C/h down to 1.1 C under
        # and back: the band's lowest of the last 2 days (16.9), not the level the heating holds
        for k in range(48):
            rows[PER_DAY + 3 * 12 + k]["air_temp_c"] = NIGHT_C - 0.55 * min(k, 48 - k) / 12
    return rows


def raises(rows, hold):
    band = NormalBand()
    if hold is not None:
        band.adopt_night_hold(hold)
    return [(i, e["type"]) for i, row in enumerate(rows) for e in band.update(T0 + STEP * i, row)
            if e["event"] == "raise"]


def test_heater_stopping_at_dusk_is_raised_before_the_band_tier():
    rows = days(3)
    dusk = 2 * PER_DAY + 18 * 12   # day 3, 18:00: lamps off and the heater has stopped
    for k in range(36):
        # the same plunge, then on down at 3 C/h instead of back to the night level
        rows[dusk + 1 + k]["air_temp_c"] = PLUNGE[k] if k < 3 else PLUNGE[2] - 0.25 * (k - 2)
    with_hold = raises(rows, HOLD)
    without = raises(rows, None)
    assert with_hold and with_hold[0][1] == "cold_anomaly", with_hold
    assert without and without[0][1] == "cold_anomaly", without
    # night hold, first hour of the dark: under 17.1 (18.0 - 0.9) from 16.85 (k = 5) and falling
    # > 1 C/h over 15 min: raised on the second such reading (k = 6). The band's tier waits for 0.4
    # under its lowest (16.9, the cold night): under 16.5 from k = 7 (16.35), three readings
    assert with_hold[0][0] == dusk + 1 + 6, with_hold
    assert without[0][0] == dusk + 1 + 7 + 2, without
    band = NormalBand()
    band.adopt_night_hold(HOLD)
    reasons = [e["reason"] for i, row in enumerate(rows) for e in band.update(T0 + STEP * i, row)]
    assert "the level the heating holds at night" in reasons[0] and "heating failure" in reasons[0], reasons


def test_heater_stopping_in_the_settled_night_uses_the_night_margin():
    rows = days(4)
    start = 2 * PER_DAY + 22 * 12   # day 3, 22:00, four hours into the dark
    for k in range(36):
        rows[start + k]["air_temp_c"] = NIGHT_C - 0.125 * k   # 1.5 C/h toward the outdoors
    got = raises(rows, HOLD)
    # under 17.7 (18.0 - 0.3) from k = 3 (17.625), falling 1.5 C/h: raised at k = 4; the band's
    # tier (0.4 under 16.9) would wait for k = 13 (16.375) + 2
    assert got and got[0] == (start + 4, "cold_anomaly"), got
    assert raises(rows, None)[0][0] == start + 13 + 2


def test_healthy_evening_and_a_night_the_boiler_barely_holds_stay_quiet():
    # the lamps-off plunge dips 0.4 C under the night level, inside the first hour's 0.9
    assert raises(days(4), HOLD) == []
    # a set point step without lamps: 22 -> 18 C over an hour at dusk (4 C/h), down to the level
    rows = days(4)
    for d in range(4):
        dusk = d * PER_DAY + 18 * 12
        for k in range(12):
            rows[dusk + 1 + k]["air_temp_c"] = 22.0 - 4.0 * (k + 1) / 12
    assert raises(rows, HOLD) == []
    # a cold night the boiler barely holds: 0.3 C/h under the level for 5 h (1.5 C down), never
    # falling 1 C/h: no night-hold raise (the band's full margin, 1.5 under its lowest, is not reached)
    rows = days(4)
    start = 2 * PER_DAY + 20 * 12
    for k in range(60):
        rows[start + k]["air_temp_c"] = NIGHT_C - 0.025 * k
    assert raises(rows, HOLD) == []
    # and the first day after a start has no band: the check waits for it
    rows = days(1, cold_night=False)
    for k in range(36):
        rows[18 * 12 + 1 + k]["air_temp_c"] = NIGHT_C - 0.25 * k
    assert raises(rows, HOLD) == []


def test_a_day_set_point_held_into_the_dark_is_not_the_settled_night():
    # the heating's day set point runs on a clock: 22 C held until 20:00, two hours into the dark,
    # then the night's: the air falls 3 C/h and dips 0.5 C under the night level before the heating
    # catches it (GreenLight dev5 20). Not the settled night (dark for an hour, but the air not yet
    # half an hour within 1 C of the level): the first hour's margin (0.9) applies, not 0.3
    rows = days(4, cold_night=False)
    for d in range(4):
        dusk = d * PER_DAY + 18 * 12
        for k in range(36):
            if k < 24:
                temp = 22.0
            elif k < 24 + 9:
                temp = 22.0 - 0.25 * (k - 23)          # 22 -> 19.75 ... on down at 3 C/h
            else:
                temp = None
            if temp is not None:
                rows[dusk + 1 + k]["air_temp_c"] = temp
        for k, temp in enumerate((19.0, 18.25, 17.5, 17.6, 17.9, 18.0)):
            rows[dusk + 1 + 33 + k]["air_temp_c"] = temp
    assert raises(rows, HOLD) == []
    # the same night with the heater stopping after the air held the level for an hour: raised
    # with the settled night's margin (under 17.7 and falling 1.5 C/h: the second such reading)
    start = 2 * PER_DAY + 23 * 12
    for k in range(24):
        rows[start + k]["air_temp_c"] = NIGHT_C - 0.125 * k
    got = raises(rows, HOLD)
    assert got and got[0] == (start + 4, "cold_anomaly"), got


def test_night_hold_metadata_is_checked_and_adopted():
    good = {"level_c": 17.5, "below_c": 0.9, "settled_below_c": 0.3}
    check_meta({"night_hold": good})
    for bad in ({"level_c": 17.5, "below_c": 0.9}, dict(good, below_c=0), dict(good, settled_below_c=-0.1),
                dict(good, level_c="x"), dict(good, extra=1)):
        try:
            check_meta({"night_hold": bad})
        except ValueError as exc:
            assert "night_hold" in str(exc), exc
        else:
            raise AssertionError("accepted %r" % (bad,))
    engine = AlertEngine()
    engine.adopt_model({"night_hold": good})
    assert engine.band.night_hold == (17.5, 0.9, 0.3)
    engine.adopt_model({})
    assert engine.band.night_hold is None
