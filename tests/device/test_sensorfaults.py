# Sensor-fault detectors: stuck, spikes, drift, dropout each raise a sensor_fault naming
# the sensor and clear with hysteresis; a stuck air sensor cannot hide or clear a frost.
from verdant.alerts import AlertEngine
from verdant.sensorfaults import SensorFaults

STEP = 300
T0 = 1767225600


def wave(i, mean, amp, period=48):
    """A smooth daily-ish swing without math.sin (deterministic on every port)."""
    k = i % period
    half = period // 2
    x = k if k < half else period - k
    return mean + amp * (2.0 * x / half - 1.0)


def healthy(i):
    return {"air_temp_c": round(wave(i, 18.0, 3.0) + 0.01 * (i % 3), 2),
            "rh_pct": round(wave(i + 12, 75.0, 10.0) + 0.03 * (i % 5), 2),
            "co2_ppm": float(600 + (i * 37) % 90),
            "par_umol_m2_s": float(max(0, int(wave(i, 100.0, 200.0))))}


def run(det, rows, health=None):
    """Feed rows; returns [(index, event payload)]."""
    out = []
    for i, row in enumerate(rows):
        h = health(i) if health else None
        for ev in det.update(T0 + STEP * i, row, h):
            out.append((i, ev))
    return out


def kinds(events, fault):
    return [(i, e["event"]) for i, e in events if e["values"]["fault"] == fault]


def test_healthy_readings_raise_nothing():
    det = SensorFaults(sensor_of={"air_temp_c": "sht", "rh_pct": "sht"})
    assert run(det, [healthy(i) for i in range(600)]) == []
    assert det.suspects() == [] and det.active() == []


def test_stuck_air_temperature_raises_critical_and_clears():
    det = SensorFaults(sensor_of={"air_temp_c": "air"})
    rows = [healthy(i) for i in range(80)]
    for i in range(14, 50):
        rows[i]["air_temp_c"] = 4.2
    events = run(det, rows)
    got = kinds(events, "stuck")
    assert [k for _, k in got] == ["raise", "clear"], got
    raise_i = got[0][0]
    # the air changed at every reading in the hours before: six identical readings (25 min) are no
    # chance (hours without a repeat do not prove repeats rarer than 8 %: 0.08 ** 5 < 2e-5 < 0.08 ** 4)
    assert raise_i == 14 + 5, raise_i
    ev = [e for i, e in events if e["event"] == "raise"][0]
    assert ev["type"] == "sensor_fault" and ev["severity"] == "critical"
    assert ev["values"]["sensor"] == "air" and ev["values"]["quantity"] == "air_temp_c"
    assert "stuck at 4.2" in ev["reason"] and "rh_pct" in ev["reason"]
    assert got[1][0] == 51   # two different readings in a row clear it


def test_five_identical_air_readings_by_chance_are_not_stuck_six_on_a_still_night_are():
    # a noisy sensor repeats a 0.01 C reading now and then; five in a row (20 min) come by chance
    # about once in 1e5 readings (0.056 ** 4) and are not taken for a stuck sensor
    rows = [healthy(i) for i in range(80)]
    for i in range(30, 35):
        rows[i]["air_temp_c"] = 17.29
    assert kinds(run(SensorFaults(), rows), "stuck") == []
    # a still night: RH and CO2 only show their sensors' noise (a 0.6 % and 12 ppm range); that is enough
    # to show the board reads live sensors, and six identical air readings are stuck
    def still(i):
        return {"air_temp_c": 17.0 + 0.01 * NOISE[i % 13], "rh_pct": 80.0 + 0.05 * NOISE[(i * 3) % 13],
                "co2_ppm": 700.0 + NOISE[(i * 7) % 13], "par_umol_m2_s": 0.0}
    rows = [still(i) for i in range(80)]
    for i in range(30, 40):
        rows[i]["air_temp_c"] = 17.29
    got = kinds(run(SensorFaults(), rows), "stuck")
    assert got and got[0] == (30 + 5, "raise"), got


def test_identical_readings_while_nothing_moves_are_not_stuck():
    det = SensorFaults()
    rows = [{"air_temp_c": 15.0, "rh_pct": 80.0, "co2_ppm": 500.0} for _ in range(40)]
    assert run(det, rows) == []


def test_dark_night_light_reading_is_not_stuck():
    det = SensorFaults()
    rows = [healthy(i) for i in range(60)]
    for row in rows:
        row["par_umol_m2_s"] = 0.0
    assert kinds(run(det, rows), "stuck") == []


def test_stuck_rh_is_a_warning_and_suspect_while_active():
    det = SensorFaults()
    rows = [healthy(i) for i in range(40)]
    for i in range(5, 40):
        rows[i]["rh_pct"] = 71.3
    events = run(det, rows)
    assert [k for _, k in kinds(events, "stuck")] == ["raise"]
    assert events[0][1]["severity"] == "warning"
    assert det.suspects() == ["rh_pct"]


NOISE = (3, -4, 6, -2, 5, -6, 1, -3, 4, -5, 2, -1, 0)


def greenhouse_day(i, co2_noise=False):
    """5-minute rows of a dosed greenhouse as the virtual board reads it (no sensor noise):
    CO2 moves by day and sits exactly flat at night (dosing off, vents shut: a 1 ppm reading
    repeats itself for hours)."""
    hour = (i % 288) // 12
    light = 7 <= hour < 19
    co2 = float(int(wave(i, 700.0, 150.0, 144))) if light else 452.0
    if co2_noise:
        co2 += float(NOISE[(i * 5) % 13])   # sensor noise: its steps change direction
    return {"air_temp_c": round(wave(i, 18.0, 3.0, 288) + 0.01 * (i % 3), 2),
            "rh_pct": round(wave(i + 144, 75.0, 10.0, 288) + 0.03 * (i % 5), 2),
            "co2_ppm": co2, "par_umol_m2_s": float((i % 12) * 20 + 100) if light else 0.0}


def test_co2_flat_every_night_is_not_stuck_but_a_frozen_co2_by_day_is():
    rows = [greenhouse_day(i) for i in range(3 * 288)]
    assert kinds(run(SensorFaults(), rows), "stuck") == []
    frozen_from = 2 * 288 + 10 * 12   # day 3, 10:00: the sensor freezes for 3 h
    for i in range(frozen_from, frozen_from + 36):
        rows[i]["co2_ppm"] = 633.0
    got = kinds(run(SensorFaults(), rows), "stuck")
    assert [k for _, k in got] == ["raise", "clear"], got
    # yesterday at 10:00 every CO2 reading differed from the one before: 25 min of identical
    # readings are already no chance (a run of 6: repeats taken as at least 8 %)
    assert got[0][0] == frozen_from + 5, got


def test_co2_still_flat_when_dosing_time_comes_or_at_the_outdoor_level_is_not_stuck():
    rows = [greenhouse_day(i) for i in range(3 * 288)]
    for i in range(288 + 7 * 12, 288 + 8 * 12):   # day 2: dosing starts an hour late
        rows[i]["co2_ppm"] = 452.0
    for i in range(2 * 288 + 12 * 12, 2 * 288 + 15 * 12):   # day 3: vents wide open, CO2 at the outdoor level
        rows[i]["co2_ppm"] = 416.0
    assert kinds(run(SensorFaults(), rows), "stuck") == []


def test_a_noisy_co2_frozen_on_the_first_night_is_stuck():
    # no habit yet for that hour: a sensor whose readings were noisy, then identical, is stuck
    rows = [greenhouse_day(i, co2_noise=True) for i in range(288)]
    for i in range(2 * 12, 6 * 12):
        rows[i]["co2_ppm"] = 455.0
    got = kinds(run(SensorFaults(), rows), "stuck")
    assert got and got[0][1] == "raise" and 2 * 12 + 900 // STEP <= got[0][0] <= 2 * 12 + 1800 // STEP, got


def test_a_coarse_sensor_that_often_repeats_needs_a_longer_run():
    # every other reading repeats the one before: 30 min of one value is no evidence (a run
    # that long comes by chance every few hours); it takes more than an hour
    rows = [healthy(i) for i in range(3 * 288)]
    for i, row in enumerate(rows):
        row["air_temp_c"] = 15.0 + 0.1 * ((i // 2) % 40)
    for i in range(2 * 288 + 60, 2 * 288 + 120):
        rows[i]["air_temp_c"] = 17.0
    got = kinds(run(SensorFaults(), rows), "stuck")
    assert got and got[0][1] == "raise" and got[0][0] >= 2 * 288 + 60 + 3600 // STEP, got


def test_steady_lamp_light_for_15_minutes_is_not_stuck():
    # PAR under lamps at night: the same reading a few times in a row, though it moved the hour before
    rows = [greenhouse_day(i) for i in range(2 * 288)]
    for i in range(len(rows)):
        if 20 * 12 <= i % 288 < 23 * 12:   # lamps 20-23 h, their reading moving by a unit or two
            rows[i]["par_umol_m2_s"] = float(190 + i % 3)
            rows[i]["rh_pct"] += 1.5 * (i % 2)   # the air moves meanwhile
    for i in range(288 + 21 * 12, 288 + 21 * 12 + 4):
        rows[i]["par_umol_m2_s"] = 190.0
    assert kinds(run(SensorFaults(), rows), "stuck") == []


def test_light_frozen_by_day_raises_only_after_two_hours():
    rows = [greenhouse_day(i) for i in range(2 * 288)]
    for i in range(len(rows)):
        if 8 * 12 <= i % 288 < 16 * 12:    # sunlight moving every reading
            rows[i]["par_umol_m2_s"] = float(300 + (i * 7) % 40)

    def frozen_for(n):
        got = [dict(r) for r in rows]
        for i in range(288 + 9 * 12, 288 + 9 * 12 + n):
            got[i]["par_umol_m2_s"] = 321.0
        return kinds(run(SensorFaults(), got), "stuck")

    assert frozen_for(20) == []        # 100 min: lamps could hold that
    got = frozen_for(36)               # 3 h
    assert got and got[0][1] == "raise" and got[0][0] >= 288 + 9 * 12 + 7200 // STEP, got


def test_two_spikes_within_hours_raise_one_does_not_and_quiet_clears():
    # a spike is two implausible jumps (out and back): two spikes are the "three or more"
    rows = [healthy(i) for i in range(120)]
    rows[10]["co2_ppm"] += 600.0
    det = SensorFaults()
    assert kinds(run(det, rows), "spikes") == []  # a lone spike counted once, not by both checks
    rows[30]["co2_ppm"] -= 500.0
    det = SensorFaults()
    got = kinds(run(det, rows), "spikes")
    assert [k for _, k in got] == ["raise", "clear"], got
    assert got[0][0] == 31   # a lone second spike is known one sample later (its two neighbours agree)
    assert got[1][0] - 30 >= 10800 // STEP   # cleared only after a quiet spike window
    rows = [healthy(i) for i in range(120)]
    for i in (10, 60):
        rows[i]["co2_ppm"] += 600.0
    assert kinds(run(SensorFaults(), rows), "spikes") == []  # 50 samples apart: over 3 h (STEP 300 s)


def test_a_burst_of_back_to_back_spikes_raises():
    rows = [healthy(i) for i in range(40)]
    for i, jump in ((10, -550.0), (11, 600.0)):
        rows[i]["co2_ppm"] += jump
    got = kinds(run(SensorFaults(), rows), "spikes")
    # the back-to-back pair is known two samples after each (three of the four around agree)
    assert got and got[0] == (13, "raise"), got


def test_spikes_the_sampler_held_back_count_too():
    det = SensorFaults(sensor_of={"air_temp_c": "sht"})
    counts = {0: 0}

    def health(i):
        if i in (5, 9):
            counts[0] += 1
        return {"sht": {"state": "degraded", "spikes": counts[0]}}
    got = kinds(run(det, [healthy(i) for i in range(20)], health), "spikes")
    assert got == [(9, "raise")], got


def test_a_spike_count_setting_above_two_counts_every_spike_in_the_window():
    # spike_count 3: two spikes within the window raise nothing, the third raises and says three
    rows = [healthy(i) for i in range(120)]
    for i in (10, 30):
        rows[i]["co2_ppm"] += 600.0
    det = SensorFaults({"spike_count": 3})
    assert kinds(run(det, rows), "spikes") == []
    rows[40]["co2_ppm"] += 600.0
    events = [(i, e) for i, e in run(SensorFaults({"spike_count": 3}), rows) if e["values"]["fault"] == "spikes"]
    assert [(i, e["event"]) for i, e in events][:1] == [(41, "raise")], events
    # each lone spike is known one sample later: the first at 11, the third at 41
    assert events[0][1]["reason"].startswith("co2_ppm: 3 spikes") and "within %d s" % (30 * STEP) in events[0][1]["reason"]


def test_readings_every_minute_keep_the_whole_stuck_span_of_the_others():
    # updates every 60 s: 31 readings span stuck_s for the "while others moved" check; RH moves
    # only in the run's first minutes, so a history that kept fewer would see nothing move
    rows = []
    for i in range(200):
        rows.append({"air_temp_c": 18.0 + 0.05 * ((i * 7) % 5), "rh_pct": 80.0 + 0.02 * (i % 3),
                     "co2_ppm": 700.0 + (i * 3) % 7})
    for i in range(100, 200):
        rows[i]["air_temp_c"] = 18.1
    for i in range(100, 104):
        rows[i]["rh_pct"] = 82.0   # RH moves 2 % at the run's start, then holds still again
    det = SensorFaults()
    got = []
    for i, row in enumerate(rows):
        got += [(i, e) for e in det.update(T0 + 60 * i, row) if e["values"]["fault"] == "stuck"]
    assert got and got[0][1]["event"] == "raise" and "while rh_pct" in got[0][1]["reason"], got
    # the hour before was seen changing at every reading: a 15-min run, when the RH move is 12 to
    # 15 readings back
    assert got[0][0] == 100 + 900 // 60 and "for 900 s" in got[0][1]["reason"], got[0]


def test_a_real_step_change_is_not_a_spike():
    rows = [healthy(i) for i in range(60)]
    for i in range(10, 60):
        rows[i]["co2_ppm"] += 400.0   # CO2 dosing switched on and stays on
    for i in range(20, 60):
        rows[i]["air_temp_c"] += 3.0  # lamps on
    assert kinds(run(SensorFaults(), rows), "spikes") == []


def test_rh_saturated_while_air_warms_is_drift_and_clears():
    det = SensorFaults()
    rows = [healthy(i) for i in range(60)]
    for i in range(10, 40):
        rows[i]["air_temp_c"] = 12.0 + 0.25 * (i - 10)  # warming 3 C/h
        rows[i]["rh_pct"] = 100.0
    events = run(det, rows)
    got = kinds(events, "drift")
    assert [k for _, k in got] == ["raise", "clear"], got
    # the warming rate spans the last 30 min, then the condition must hold 30 min more
    assert 10 + 1800 // STEP <= got[0][0] <= 10 + 2 * 1800 // STEP + 1
    assert got[1][0] >= 40 + 1800 // STEP - 1
    assert "rh_pct" in [e["values"]["quantity"] for _, e in events]


def test_saturated_rh_in_a_cooling_night_is_not_drift():
    det = SensorFaults()
    rows = [healthy(i) for i in range(60)]
    for i in range(10, 50):
        rows[i]["air_temp_c"] = 14.0 - 0.05 * (i - 10)
        rows[i]["rh_pct"] = 100.0
    assert kinds(run(det, rows), "drift") == []


def test_intermittent_dropout_raises_and_clears_but_a_failed_sensor_is_left_to_sensor_failure():
    det = SensorFaults(sensor_of={"co2_ppm": "scd"})
    rows = [healthy(i) for i in range(60)]
    for i in (10, 12, 14, 16):
        rows[i]["co2_ppm"] = None
    got = kinds(run(det, rows), "dropout")
    assert [k for _, k in got] == ["raise", "clear"], got
    assert got[0][0] == 15 and got[1][0] == 16 + 12
    det = SensorFaults(sensor_of={"co2_ppm": "scd"})
    rows = [healthy(i) for i in range(30)]
    for i in range(10, 30):
        rows[i]["co2_ppm"] = None
    assert kinds(run(det, rows, lambda i: {"scd": {"state": "failed" if i >= 12 else "ok"}}), "dropout") == []


def test_settings_are_validated():
    for bad in ({"stuck_s": -1}, {"nope": 1}, {"severity": "loud"}, "x"):
        try:
            SensorFaults(bad)
        except ValueError as exc:
            assert "sensor_faults" in str(exc)
        else:
            raise AssertionError("accepted %r" % (bad,))


def feed_engine(engine, rows):
    out = []
    for i, row in enumerate(rows):
        t = T0 + STEP * i
        out += [(i, e) for e in engine.update_faults(t, row)]
        out += [(i, e) for e in engine.update_rules(t, row)]
    return out


def test_stuck_air_sensor_cannot_clear_a_frost():
    engine = AlertEngine({"remind_s": 0})
    rows = []
    for i in range(80):
        temp = 1.0 - 0.01 * i if i < 40 else 6.0    # frost, then the sensor sticks at 6.0
        rows.append({"air_temp_c": temp, "rh_pct": 90.0 + (i % 4), "vpd_kpa": None})
    events = feed_engine(engine, rows)
    frost = [(i, e["event"]) for i, e in events if e["type"] == "frost_risk"]
    stuck = [(i, e["event"]) for i, e in events if e["type"] == "sensor_fault"]
    assert frost == [(2, "raise")], frost   # never cleared by the stuck 6.0
    assert stuck and stuck[0][1] == "raise" and stuck[0][0] <= 40 + 1800 // STEP
    assert "frost_risk" in engine.active()


def test_stuck_air_sensor_cannot_hide_a_frost_behind_a_warm_value():
    # the sensor freezes at a warm value; the frost rule must not be the only line of defence
    engine = AlertEngine({"remind_s": 0})
    rows = [{"air_temp_c": 8.0, "rh_pct": 80.0 - 0.5 * i} for i in range(30)]
    events = feed_engine(engine, rows)
    raised = [e for _, e in events if e["event"] == "raise"]
    assert [e["type"] for e in raised] == ["sensor_fault"]
    assert raised[0]["severity"] == "critical" and "frost" in raised[0]["reason"]


# ---- equipment check against the greenhouse's own recent normal (verdant.normalband) ----
from verdant.normalband import NormalBand


def day_profile(i):
    """A greenhouse day: 18 C at night, 22 C by day; CO2 800 by day, 500 at night."""
    hour = (i * STEP // 3600) % 24
    day = 7 <= hour < 19
    return {"air_temp_c": (22.0 if day else 18.0) + 0.1 * (i % 3), "co2_ppm": (800.0 if day else 500.0) + (i % 4),
            "par_umol_m2_s": 300.0 if day else 0.0, "rh_pct": 75.0 + 0.2 * (i % 2)}


def band_run(band, rows):
    out = []
    for i, row in enumerate(rows):
        out += [(i, e) for e in band.update(T0 + STEP * i, row)]
    return out


def ramp(start, count, quantity, value_at, days=3):
    """day_profile rows for `days` days with quantity set to value_at(k) at rows start + k."""
    rows = [day_profile(i) for i in range(days * (86400 // STEP))]
    for k, i in enumerate(range(start, start + count)):
        rows[i][quantity] = value_at(k)
    return rows


def band_events(rows):
    """(row index, type, event) of what a fresh NormalBand raises and clears on rows."""
    return [(i, e["type"], e["event"]) for i, e in band_run(NormalBand(), rows)]


def test_band_quiet_on_repeating_days_and_silent_before_a_full_day():
    per_day = 86400 // STEP
    band = NormalBand()
    rows = [day_profile(i) for i in range(4 * per_day)]
    assert band_run(band, rows) == []
    band = NormalBand()  # a cold first day: no band yet, no alert
    rows = [day_profile(i) for i in range(per_day)]
    for row in rows[100:200]:
        row["air_temp_c"] = 5.0
    assert band_run(band, rows) == []


def test_band_cold_night_raises_cold_anomaly_after_hold_and_clears():
    per_day = 86400 // STEP
    rows = [day_profile(i) for i in range(3 * per_day)]
    start = 2 * per_day + 20 * 12   # day 3, 20:00: the heating fails
    for k, i in enumerate(range(start, start + 36)):
        rows[i]["air_temp_c"] = 18.0 - 0.2 * k
    events = band_run(NormalBand(), rows)
    got = [(i, e["type"], e["event"]) for i, e in events]
    # the band for air temperature is the whole previous days' range: lowest 18.0 (the nights)
    # falling 2.4 C/h in the dark: the early tier (0.4 C below, falling > 1 C/h over the last
    # 30 min) from k = 3 (17.4; 1.2 C/h below the 18.0 of 30 min before), held 10 min
    assert got[0] == (start + 3 + 2, "cold_anomaly", "raise"), got
    assert got[1][1:] == ("cold_anomaly", "clear") and got[1][0] >= start + 36 + 1800 // STEP, got
    assert "heating failure" in events[0][1]["reason"] and events[0][1]["severity"] == "warning"
    # 1.2 C/h: early from k = 5 (17.5, past 0.4 below), held 10 min
    rows = ramp(start, 40, "air_temp_c", lambda k: 18.0 - 0.1 * k)
    got = band_events(rows)
    assert got[0] == (start + 5 + 2, "cold_anomaly", "raise"), got
    # a slow fall (0.6 C/h: a heating short of capacity on a cold night) waits for the full 1.5 C
    # margin: below 16.5 from k = 31 on, held 15 min
    rows = ramp(start, 48, "air_temp_c", lambda k: 18.0 - 0.05 * k)
    got = band_events(rows)
    assert got[0] == (start + 31 + 3, "cold_anomaly", "raise"), got


def test_band_co2_low_only_in_light():
    per_day = 86400 // STEP
    rows = [day_profile(i) for i in range(3 * per_day)]
    start = 2 * per_day + 20 * 12   # evening: CO2 may fall on its own
    for k, i in enumerate(range(start, start + 36)):
        rows[i]["co2_ppm"] = 500.0 - 10.0 * k
    assert band_run(NormalBand(), rows) == []


def test_band_co2_dosing_off_and_stuck_open():
    per_day = 86400 // STEP
    rows = [day_profile(i) for i in range(3 * per_day)]
    start = 2 * per_day + 9 * 12
    for k, i in enumerate(range(start, start + 48)):
        rows[i]["co2_ppm"] = 800.0 - 15.0 * k
    got = [(i, e["type"], e["event"]) for i, e in band_run(NormalBand(), rows)]
    assert got and got[0][1:] == ("co2_low_anomaly", "raise"), got
    rows = ramp(start, 48, "co2_ppm", lambda k: 800.0 + 40.0 * k)
    got = band_events(rows)
    assert got and got[0][1:] == ("co2_high_anomaly", "raise"), got


def test_band_co2_early_tiers_raise_before_the_full_margin_and_clear():
    per_day = 86400 // STEP
    start = 2 * per_day + 9 * 12    # day 3, 09:00, in light; the band at this hour is 800..803
    # a valve stuck open doses at full capacity: +120 ppm per 5 min (1440 ppm/h). 100 above and
    # rising > 400 ppm/h over 15 min from k = 1 (920, 476 ppm/h), held 10 min; the full margin (300
    # above, held 15 min) would wait until k = 3 + 3
    rows = ramp(start, 12, "co2_ppm", lambda k: min(2000.0, 800.0 + 120.0 * k))
    got = band_events(rows)
    assert got[0] == (start + 3, "co2_high_anomaly", "raise"), got
    # back to the usual 800 from start + 12: clears after clear_s (30 min) within range
    assert got[1] == (start + 12 + 1800 // STEP, "co2_high_anomaly", "clear"), got
    # dosing off: -15 ppm per 5 min (180 ppm/h). 30 below and falling > 30 ppm/h over the last hour
    # from k = 3 (755, 75 below the 830 of the hour before), held 10 min; the full margin (150
    # below, held 15 min) would wait until k = 11 + 3. The hour before swings 780/830: not held
    # flat, so the held-then-dropped check (test_band_co2_held_then_dropped) stays out of it
    rows = ramp(start, 24, "co2_ppm", lambda k: 800.0 - 15.0 * k)
    for k, i in enumerate(range(start - 12, start)):
        rows[i]["co2_ppm"] = 830.0 if k % 2 else 780.0
    got = band_events(rows)
    assert got[0] == (start + 3 + 2, "co2_low_anomaly", "raise"), got
    assert got[1] == (start + 24 + 1800 // STEP, "co2_low_anomaly", "clear"), got
    # the same fall while RH falls 3 %/h is the vents open (for humidity or heat; growers let CO2 go
    # then), not dosing off: no early tier, the full margin (k = 11) decides
    vented = [dict(row) for row in rows]
    for k, i in enumerate(range(start - 12, start + 24)):
        vented[i]["rh_pct"] = 88.0 - 0.25 * k
    got = [(i, e["type"], e["event"]) for i, e in band_run(NormalBand(), vented)]
    assert got[0] == (start + 11 + 3, "co2_low_anomaly", "raise"), got
    # and a board without RH cannot tell: no early tier either
    dry = [dict(row) for row in rows]
    for row in dry:
        del row["rh_pct"]
    got = [(i, e["type"], e["event"]) for i, e in band_run(NormalBand(), dry)]
    assert got[0] == (start + 11 + 3, "co2_low_anomaly", "raise"), got
    # a slow fall (24 ppm/h) is no early tier: it waits for the full 150 ppm margin (k = 76)
    rows = ramp(start, 90, "co2_ppm", lambda k: 800.0 - 2.0 * k)
    got = band_events(rows)
    assert got[0] == (start + 76 + 3, "co2_low_anomaly", "raise"), got
    # the same fast rise at night raises too (a stuck valve is not a daytime matter), the fast fall
    # at night does not (CO2 falls on its own after dusk)
    night = 2 * per_day + 22 * 12   # 22:00, band 500..503
    rows = ramp(night, 6, "co2_ppm", lambda k: 500.0 + 120.0 * k)
    got = band_events(rows)
    assert got[0] == (night + 3, "co2_high_anomaly", "raise"), got
    # two back-to-back spikes (+600, +700) are not a valve stuck open: the hold outlasts them
    rows = [day_profile(i) for i in range(3 * per_day)]
    rows[start]["co2_ppm"] += 600.0
    rows[start + 1]["co2_ppm"] += 700.0
    assert band_run(NormalBand(), rows) == []
    rows = [day_profile(i) for i in range(3 * per_day)]
    for k, i in enumerate(range(night, night + 24)):
        rows[i]["co2_ppm"] = 500.0 - 15.0 * k
    assert band_run(NormalBand(), rows) == []


def test_band_co2_held_then_dropped():
    per_day = 86400 // STEP
    start = 2 * per_day + 9 * 12    # day 3, 09:00, in light since 07:00; CO2 held at 800..803
    # dosing off: -15 ppm per 5 min. The median of the last three under the lowest held 30-60 min
    # ago (800) by more than 30 from k = 4 (median 755): raised at once, a reading before the early
    # tier (k = 3 + 2)
    rows = ramp(start, 24, "co2_ppm", lambda k: 800.0 - 15.0 * k)
    evs = band_run(NormalBand(), rows)
    assert [(i, e["type"], e["event"]) for i, e in evs][0] == (start + 4, "co2_low_anomaly", "raise"), evs
    assert evs[0][1]["reason"] == ("co2_ppm 755.0 (median of the last three) is 45.0 below 800.0, the lowest it "
                                   "was held at in light 30 to 60 minutes ago: CO2 dosing off?"), evs[0]
    # a step of 25 ppm that stays: not more than 30 under the held level, nor 30 under the band's low
    assert band_events(ramp(start, 24, "co2_ppm", lambda k: 775.0)) == []
    # held at 880 (above this hour's usual 800) and then 40 lower: under the held level, not under the
    # lowest at this hour on the last 2 days: a set point, not dosing off
    rows = ramp(start, 24, "co2_ppm", lambda k: 840.0)
    for i in range(start - 12, start):
        rows[i]["co2_ppm"] = 880.0
    assert band_events(rows) == []
    # the same fall while RH falls 3 %/h (vents open), or within the first hour of light (lamps on at
    # 08:30: the hour is not known held in light): no held-then-dropped raise at k = 4
    rows = ramp(start, 24, "co2_ppm", lambda k: 800.0 - 15.0 * k)
    for k, i in enumerate(range(start - 12, start + 24)):
        rows[i]["rh_pct"] = 88.0 - 0.25 * k
    assert band_events(rows)[0] == (start + 11 + 3, "co2_low_anomaly", "raise")
    rows = ramp(start, 24, "co2_ppm", lambda k: 800.0 - 15.0 * k)
    for i in range(start - 24, start - 6):
        rows[i]["par_umol_m2_s"] = 0.0
    evs = band_run(NormalBand(), rows)
    assert evs[0][0] == start + 3 + 2 and "the lowest at this hour" in evs[0][1]["reason"], evs


def test_band_early_tier_on_a_one_minute_period_keeps_a_short_history():
    # the same stuck-open valve (+24 ppm a minute) fed every minute: raised 10 min after it is 100
    # above and rising 400 ppm/h, and the readings kept for the rates stay about one per 5 min
    band = NormalBand()
    start = 2 * 1440 + 9 * 60
    raised = None
    for i in range(start + 30):
        hour = (i // 60) % 24
        row = {"air_temp_c": 20.0, "co2_ppm": (800.0 if 7 <= hour < 19 else 500.0) + (i % 4),
               "par_umol_m2_s": 300.0 if 7 <= hour < 19 else 0.0}
        if i >= start:
            row["co2_ppm"] = 800.0 + 24.0 * (i - start)
        for e in band.update(T0 + 60 * i, row):
            if raised is None and e["event"] == "raise":
                raised = (i - start, e["type"])
        assert len(band._recent["co2_ppm"]) <= 3600 // 240 + 2
    # 100 above 803 from minute 5 (920), rising > 400 ppm/h over 15 min from then on; held 10 min
    assert raised == (5 + 10, "co2_high_anomaly"), raised


def test_band_ignores_a_suspect_sensor():
    per_day = 86400 // STEP
    band = NormalBand()
    rows = [day_profile(i) for i in range(3 * per_day)]
    out = []
    for i, row in enumerate(rows):
        if i > 2 * per_day:
            row["air_temp_c"] = 2.0
        out += band.update(T0 + STEP * i, row, ("air_temp_c",))
    assert out == []


# ---- a site model's sensor habits (metadata "sensor_habits", verdant_host.sitehabits) ----
def _still_night(i):
    return {"air_temp_c": 17.0 + 0.01 * NOISE[i % 13], "rh_pct": 80.0 + 0.05 * NOISE[(i * 3) % 13],
            "co2_ppm": 700.0 + NOISE[(i * 7) % 13], "par_umol_m2_s": 0.0}


def test_a_site_measured_repeat_rate_makes_a_stuck_air_sensor_known_sooner():
    # the history measured this air sensor repeating ~5 % of readings: five identical readings
    # (20 min) are rarer by chance than once in 50000 readings (0.05 ** 4), so they are stuck
    rows = [_still_night(i) for i in range(80)]
    for i in range(30, 40):
        rows[i]["air_temp_c"] = 17.29
    det = SensorFaults()
    det.adopt_site({"air_temp_c": {"changed_pct": [95] * 24, "stuck_run": 5}})
    got = kinds(run(det, rows), "stuck")
    assert got and got[0] == (30 + 4, "raise"), got
    # four identical readings are not enough, and without the site's figure five are not either
    rows = [_still_night(i) for i in range(80)]
    for i in range(30, 34):
        rows[i]["air_temp_c"] = 17.29
    det = SensorFaults()
    det.adopt_site({"air_temp_c": {"changed_pct": [95] * 24, "stuck_run": 5}})
    assert kinds(run(det, rows), "stuck") == []
    rows = [_still_night(i) for i in range(80)]
    for i in range(30, 35):
        rows[i]["air_temp_c"] = 17.29
    assert kinds(run(SensorFaults(), rows), "stuck") == []


def test_site_habits_say_when_a_quantity_is_expected_to_move_from_the_first_hour():
    # CO2 flat at 455 ppm from the first readings on (no hour seen yet): noisy-before-run decides
    # without habits; with the site's habit that CO2 holds still at these hours, it is not stuck
    rows = [_still_night(i) for i in range(60)]
    for i in range(0, 60):
        rows[i]["co2_ppm"] = 455.0 if i >= 14 else 700.0 + NOISE[(i * 7) % 13]
    assert kinds(run(SensorFaults(), rows), "stuck") != []
    det = SensorFaults()
    det.adopt_site({"co2_ppm": {"changed_pct": [10] * 24}})
    assert kinds(run(det, rows), "stuck") == []


def test_alert_engine_takes_the_habits_from_a_model_and_metadata_is_checked():
    from verdant.modelmeta import check_meta
    engine = AlertEngine()
    engine.adopt_model({"alert_threshold": 0.5, "sensor_habits": {"air_temp_c": {"changed_pct": [95] * 24,
                                                                                  "stuck_run": 5}}})
    rows = [_still_night(i) for i in range(80)]
    for i in range(30, 40):
        rows[i]["air_temp_c"] = 17.29
    raised = [i for i in range(80) for e in engine.update_faults(T0 + STEP * i, rows[i])
              if e["values"].get("fault") == "stuck" and e["event"] == "raise"]
    assert raised[:1] == [30 + 4], raised  # the site's run of 5 (the board alone needs 6)
    check_meta({"sensor_habits": {"air_temp_c": {"changed_pct": [50] * 24, "stuck_run": 5},
                                  "co2_ppm": {"changed_pct": [255] * 24}}})
    for bad, word in (({"air_temp_c": {"stuck_run": 2}}, "stuck_run"),
                      ({"air_temp_c": {"changed_pct": [50] * 23}}, "changed_pct"),
                      ({"air_temp_c": {"stuck_run": 5.0}}, "stuck_run"),
                      ({"co2_ppm": {"jump_limit": 0}}, "jump_limit"),
                      ({"air_temp_c": {"run": 5}}, "unknown key"), ([], "expected an object")):
        try:
            check_meta({"sensor_habits": bad})
        except ValueError as exc:
            assert word in str(exc) and "sensor_habits" in str(exc), exc
        else:
            raise AssertionError("accepted %r" % (bad,))


def test_others_moved_counts_this_steps_readings():
    # RH and CO2 hold still while the air repeats; RH moves at the run's fifth reading: with the
    # site's run of 5 the stuck air is known at that reading, not one step later
    rows = [{"air_temp_c": 17.0 + 0.01 * NOISE[i % 13], "rh_pct": 80.0 + 0.01 * NOISE[(i * 3) % 13],
             "co2_ppm": 700.0 + 0.5 * NOISE[(i * 7) % 13], "par_umol_m2_s": 0.0} for i in range(60)]
    for i in range(30, 40):
        rows[i]["air_temp_c"] = 17.29
    for i in range(34, 60):
        rows[i]["rh_pct"] += 1.0
    det = SensorFaults()
    det.adopt_site({"air_temp_c": {"changed_pct": [95] * 24, "stuck_run": 5}})
    got = kinds(run(det, rows), "stuck")
    assert got and got[0] == (34, "raise"), got


def _co2_day(i):
    row = _still_night(i)
    row["co2_ppm"] = 700.0 + 3 * NOISE[(i * 7) % 13] + (i % 7)   # moving, never more than ~40 ppm a step
    return row


def test_three_jumps_beyond_the_site_history_out_and_back_are_spikes_at_the_third():
    rows = [_co2_day(i) for i in range(80)]
    rows[30]["co2_ppm"] += 600.0   # out at 30, back at 31
    rows[34]["co2_ppm"] -= 550.0   # out again at 34 (the third jump), back at 35
    det = SensorFaults()
    det.adopt_site({"co2_ppm": {"jump_limit": 250.0}})
    got = kinds(run(det, rows), "spikes")
    assert got and got[0] == (34, "raise"), got
    # the board alone waits for the second spike to come back and be seen as one
    alone = kinds(run(SensorFaults(), rows), "spikes")
    assert alone and alone[0][0] > 34, alone
    # below the site's limit (a greenhouse whose CO2 moves 700 ppm in 5 min) it is the board's own rule
    det = SensorFaults()
    det.adopt_site({"co2_ppm": {"jump_limit": 700.0}})
    assert kinds(run(det, rows), "spikes") == alone


def test_a_real_fast_change_all_one_way_is_not_spikes():
    rows = [_co2_day(i) for i in range(80)]
    for i in range(30, 80):
        rows[i]["co2_ppm"] -= 300.0 * min(i - 29, 3)   # three 300 ppm drops in a row, then it stays
    det = SensorFaults()
    det.adopt_site({"co2_ppm": {"jump_limit": 250.0}})
    assert kinds(run(det, rows), "spikes") == []


def test_band_site_co2_set_point_knows_dosing_off_sooner_and_not_while_venting():
    per_day = 86400 // STEP
    start = 2 * per_day + 9 * 12
    # dosing off: CO2 falls 5 ppm per reading from the 800 (+0..3) it holds in light
    rows = ramp(start, 48, "co2_ppm", lambda k: 800.0 - 5.0 * k)
    site = NormalBand()
    site.adopt_site({"set_ppm": 801.5, "below_ppm": 30.0})
    got = [(i, e["type"], e["event"], e["reason"]) for i, e in band_run(site, rows)]
    # median of the last three below 771.5: 800 - 5 (k - 1) from k = 7
    assert got and got[0][:3] == (start + 7, "co2_low_anomaly", "raise"), got
    assert "set point" in got[0][3]
    alone = band_events(rows)
    assert alone and alone[0][0] >= start + 9, alone   # the band alone: its early tier, held 10 min
    # the same fall while RH falls 6 %/h (vents open, growers let CO2 go): not from the set point
    venting = ramp(start, 48, "co2_ppm", lambda k: 800.0 - 5.0 * k)
    for k, i in enumerate(range(start, start + 48)):
        venting[i]["rh_pct"] = 75.0 - 0.5 * k
    site = NormalBand()
    site.adopt_site({"set_ppm": 801.5, "below_ppm": 30.0})
    got = [(i, e["type"]) for i, e in band_run(site, venting)]
    assert not got or got[0][0] >= start + 9, got
    # a reading spiking 600 ppm down in light is no dosing off: the median of three does not move
    spiked = [day_profile(i) for i in range(3 * per_day)]
    spiked[start]["co2_ppm"] = 200.0
    site = NormalBand()
    site.adopt_site({"set_ppm": 801.5, "below_ppm": 30.0})
    assert band_run(site, spiked) == []
    # a healthy day at the set point, with dawn's step from the night's 500 ppm, raises nothing
    site = NormalBand()
    site.adopt_site({"set_ppm": 801.5, "below_ppm": 30.0})
    assert band_run(site, [day_profile(i) for i in range(3 * per_day)]) == []
