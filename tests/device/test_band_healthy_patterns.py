# The normal band stays quiet on four healthy patterns GreenLight showed (a morning's CO2 draw-down
# compared with a single recorded day; an evening's CO2 slowly climbing far above a single recorded
# evening's; CO2 falling from a level it paused at when the sun comes out after a dull spell; a
# screen's cold air dipping the dark air for a reading or two) and still raises on the fault each
# check is for.
from verdant.normalband import NormalBand

STEP = 300
T0 = 1767225600          # midnight UTC
PER_DAY = 86400 // STEP


def day_profile(i):
    """18 C at night, 22 C by day (07:00-19:00); CO2 800 by day, 500 at night; RH steady."""
    hour = (i * STEP // 3600) % 24
    lit = 7 <= hour < 19
    return {"air_temp_c": (22.0 if lit else 18.0) + 0.1 * (i % 3), "co2_ppm": (800.0 if lit else 500.0) + (i % 4),
            "par_umol_m2_s": 300.0 if lit else 0.0, "rh_pct": 75.0 + 0.2 * (i % 2)}


def raises(rows):
    band = NormalBand()
    return [(i, e["type"]) for i, row in enumerate(rows) for e in band.update(T0 + STEP * i, row)
            if e["event"] == "raise"]


def morning_draw_down(day, per_step):
    """Days 0..day; on `day` at 09:00 CO2 falls per_step ppm each 5 min for two hours, the hour before
    swinging 780/830 (not held flat: the held-then-dropped check stays out of it). Returns rows, start."""
    rows = [day_profile(i) for i in range((day + 1) * PER_DAY)]
    start = day * PER_DAY + 9 * 12
    for k in range(12):
        rows[start - 12 + k]["co2_ppm"] = 830.0 if k % 2 else 780.0
    for k in range(24):
        rows[start + k]["co2_ppm"] = 800.0 - per_step * k
    return rows, start


def test_co2_early_tier_waits_for_two_recorded_days():
    # 4 ppm per 5 min (48 ppm/h), down to 708 (92 under the band's 800): on day 1 the band is one
    # morning, and another morning's draw-down differs by that much with the light and the night
    rows, start = morning_draw_down(1, 4.0)
    assert raises(rows) == []
    # with two recorded days the early tier raises: 30 under 800 from k = 8 (768) and falling > 30 ppm/h
    # over the hour from k = 11 (756, the swinging hour's 830 an hour before), held 10 min
    rows, start = morning_draw_down(2, 4.0)
    assert raises(rows) == [(start + 11 + 2, "co2_low_anomaly")]
    # on day 1 dosing off still raises: by the full margin (150 under from k = 11 at 15 ppm per 5 min) ...
    rows, start = morning_draw_down(1, 15.0)
    assert raises(rows)[0] == (start + 11 + 3, "co2_low_anomaly")
    # ... and at once when the hour before was held flat (held, then dropped: k = 4, median 755)
    rows, start = morning_draw_down(1, 15.0)
    for k in range(12):
        rows[start - 12 + k]["co2_ppm"] = 800.0 + (k % 3)
    assert raises(rows)[0] == (start + 4, "co2_low_anomaly")


def evening_climb(day, per_step, steps):
    """Days 0..day; on `day` from 19:00 (dark, band 500..503) CO2 climbs per_step ppm each 5 min for
    `steps` readings and stays there. Returns rows, start."""
    rows = [day_profile(i) for i in range((day + 1) * PER_DAY)]
    start = day * PER_DAY + 19 * 12
    for i in range(start, (day + 1) * PER_DAY):
        rows[i]["co2_ppm"] = 500.0 + per_step * min(i - start, steps)
    return rows, start


def test_co2_high_full_margin_waits_for_two_recorded_days_the_fast_rise_does_not():
    # screens closed and vents shut for the night: CO2 climbs 15 ppm per 5 min (180 ppm/h) to 890,
    # 387 over one recorded evening's highest from 21:00 (GreenLight train 35's day 1: 385 over it)
    rows, start = evening_climb(1, 15.0, 26)
    assert raises(rows) == []
    # with two recorded evenings the full margin raises: 300 over the 503 of 20:00-22:00 from k = 21
    # (815, 20:45), held 15 min
    rows, start = evening_climb(2, 15.0, 26)
    assert raises(rows) == [(start + 21 + 3, "co2_high_anomaly")]
    # a valve stuck open on day 1 (+120 ppm per 5 min) is the early tier's: 100 over the band at 19:00
    # (18:00-20:00, with 18:00's day level 803) from k = 4 (980), rising > 400 ppm/h over 15 min,
    # held 10 min
    rows, start = evening_climb(1, 120.0, 12)
    assert raises(rows) == [(start + 4 + 2, "co2_high_anomaly")]


def test_held_then_dropped_not_when_the_light_rose():
    # CO2 paused at 800 for an hour under a dull sky (PAR 120), then the sun comes out (PAR 300) and
    # the crop draws it down 15 ppm per 5 min, more than dosing at its capacity adds: the held-then-
    # dropped check (k = 4 at the same light) stays out; the band's full margin decides (k = 11)
    rows, start = morning_draw_down(1, 15.0)
    for k in range(12):
        rows[start - 12 + k]["co2_ppm"] = 800.0 + (k % 3)
        rows[start - 12 + k]["par_umol_m2_s"] = 120.0
    got = raises(rows)
    assert got[0] == (start + 11 + 3, "co2_low_anomaly"), got
    # the light up by a third (lamps and a brighter sky) is still dosing off: raised at k = 4
    for k in range(12):
        rows[start - 12 + k]["par_umol_m2_s"] = 225.0
    assert raises(rows)[0] == (start + 4, "co2_low_anomaly")


def night_dip(values):
    """Three days; day 2 at 21:00 (dark, band lowest 18.0) the air takes `values`, then back at 18."""
    rows = [day_profile(i) for i in range(3 * PER_DAY)]
    start = 2 * PER_DAY + 21 * 12
    for k, v in enumerate(values):
        rows[start + k]["air_temp_c"] = v
    return rows, start


def test_cold_early_tier_quiet_on_a_screen_dip_raising_on_a_heater_that_stopped():
    # a screen moving: the air drops 1.1 C in 10 min and the heating brings it back up (+0.3 C in
    # the third reading): under 17.6 and falling > 1 C/h for three readings, but not still falling
    rows, start = night_dip((18.0, 17.4, 16.9, 17.2, 17.7, 18.0))
    assert raises(rows) == []
    # the same drop going on down (a heater that stopped) raises on its third reading under 17.6
    rows, start = night_dip((18.0, 17.4, 16.9, 16.6, 16.3, 16.0, 15.7, 15.4))
    assert raises(rows) == [(start + 3, "cold_anomaly")]
    # a fall with a reading's noise in it (+0.1 C, under twice the noise of two readings) still raises
    rows, start = night_dip((18.0, 17.4, 16.9, 17.0, 16.7, 16.4, 16.1, 15.8, 15.5))
    assert raises(rows) == [(start + 3, "cold_anomaly")]
