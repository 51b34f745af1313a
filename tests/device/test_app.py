# The app on a simulated board at virtual time: multi-day run with faults, survival of
# failing steps, model file handling.
from verdant import app as appmod
from verdant.flashlog import read_log
from appfakes import (decode_all, Truth, Hal, CheckingSerial, make_sensors, fake_load, model_bytes, MemStat, HardFault,
                      T0, HOUR, DAY)
from memfs import MemFS
from mpytest import raises

BOARD = {"name": "fake", "watchdog_timeout_ms": 8000, "sleep_mode": "none"}
SETTINGS = {"alerts": {"remind_s": 0}, "log_records": 500}


def alerts_of(messages):
    return [(m["t"], m["p"]["type"], m["p"]["event"]) for m in messages if m["k"] == "alert"]


def new_app(truth, fs=None, with_co2=True, board=BOARD, settings=SETTINGS, **options):
    hal = Hal()
    fs = fs or MemFS()
    stat = MemStat(fs)
    application = appmod.App(hal, board, sensors=make_sensors(hal, truth, with_co2),
                             engine_loader=fake_load, opener=fs.open, stat=stat, settings=settings,
                             **options)
    return hal, fs, stat, application


def start(application):
    application.boot_status()
    application.load_model()
    return application


def test_three_day_run_with_injected_faults():
    truth = Truth([(1 * DAY + 2 * HOUR, 1 * DAY + 6 * HOUR, "frost"),
                   (10 * HOUR, 11 * HOUR, "sht_dead"),
                   (2 * DAY + 13 * HOUR, 2 * DAY + 15 * HOUR, "co2_high"),
                   (2 * DAY + 3 * HOUR, 2 * DAY + 5 * HOUR, "dry_soil")])
    fs = MemFS({"model.bin": bytearray(model_bytes(window=12))})  # rates over 1 h
    hal, fs, stat, application = new_app(truth, fs)
    serial = hal.serial = CheckingSerial()
    start(application).run(3 * DAY)
    assert serial.problems == []  # every line parsed, checksum matched, no seq gap
    messages = serial.kept
    got = alerts_of(messages)
    kinds = [(typ, ev) for _, typ, ev in got]
    for typ in ("frost_risk", "sensor_failure", "co2_high", "dry_soil", "cooling"):
        assert (typ, "raise") in kinds and (typ, "clear") in kinds, (typ, kinds)
    # the stuck sensor is flagged (25 min) before an hour of the low VPD computed from it could
    # raise vpd_low: its series is blanked while the sensor is suspect
    assert ("vpd_low", "raise") not in kinds, got
    # the fake frost holds exactly -1.0 degC for hours while the light moves: the stuck-sensor
    # detector flags it (no real sensor is that steady) and the frost clears only once the
    # sensor has moved again and the air stayed above 3.5 degC for 45 min
    stuck = [(t - T0, ev) for t, typ, ev in got if typ == "sensor_fault"]
    # (the air moved at every sample that hour the day before: six identical readings, 25 min, suffice)
    assert stuck[0][1] == "raise" and DAY + 2 * HOUR + 1500 <= stuck[0][0] <= DAY + 2 * HOUR + 2400, stuck
    assert stuck[1][1] == "clear", stuck
    frost = [t - T0 for t, typ, ev in got if typ == "frost_risk"]
    assert DAY + 2 * HOUR + 600 <= frost[0] <= DAY + 2 * HOUR + 1800  # duration + spike check
    assert stuck[1][0] + 2700 <= frost[1] <= stuck[1][0] + 2700 + 600, (stuck, frost)
    assert len([k for k in kinds if k[0] == "frost_risk"]) == 2  # no flapping
    failure = [t - T0 for t, typ, ev in got if typ == "sensor_failure"]
    assert 10 * HOUR < failure[0] <= 10 * HOUR + 600 and 11 * HOUR <= failure[1] <= 11 * HOUR + 900
    # nothing else raised (the frost and the CO2 excursion are far outside the previous days' range
    # at that hour: the normal band's warnings)
    assert set(typ for typ, _ in kinds) == {"frost_risk", "sensor_failure", "co2_high", "dry_soil", "cooling",
                                            "sensor_fault", "cold_anomaly", "co2_high_anomaly"}
    band = [(t - T0, typ) for t, typ, ev in got if typ.endswith("_anomaly") and ev == "raise"]
    assert [typ for _, typ in band] == ["cold_anomaly", "co2_high_anomaly"], band
    assert DAY + 2 * HOUR < band[0][0] <= DAY + 3 * HOUR and 2 * DAY + 13 * HOUR < band[1][0] <= 2 * DAY + 14 * HOUR
    assert serial.counts["reading"] == 3 * DAY // 300
    readings = [m for m in messages if m["k"] == "reading"]
    assert readings[5]["p"]["air_temp_c"] is not None and "vpd_kpa" in readings[5]["p"]
    errors = [m for m in messages if m["k"] == "error"]
    assert [e["p"]["sensor"] for e in errors] == ["sht31"]
    assert hal.watchdog.feeds > 3 * DAY // 8 and not hal.watchdog.expired()
    records, bad = read_log(fs.files["verdant.log"])
    assert len(records) == 500 and bad == 0  # ring of 500 records kept, the oldest dropped
    assert records[-1]["t"] == serial.last_reading["t"]
    # memory: no steady growth across the hourly heartbeats of days 2 and 3
    mem = serial.heartbeat_mem
    assert len(mem) == 71  # hourly; the run ends just before the 72nd
    if mem[0] is not None:
        day2, day3 = min(mem[23:47]), min(mem[47:])
        assert day3 >= day2 - 8 * 1024, (day2, day3)


def test_failing_feature_model_and_log_steps_are_reported_and_the_loop_goes_on():
    fs = MemFS({"model.bin": bytearray(model_bytes())})
    hal, fs, stat, application = new_app(Truth(), fs)
    start(application)
    calls = {"n": 0}
    real_add = application.features.add

    def flaky_add(t, readings):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ZeroDivisionError("float divide by zero")
        return real_add(t, readings)

    application.features.add = flaky_add
    application.engine.predict = lambda floats: [0.5]  # wrong length for 2 labels
    application.log.append = lambda *a: 1 / 0
    application.run(2 * HOUR)
    messages = decode_all(hal)
    errors = [m["p"] for m in messages if m["k"] == "error"]
    wheres = [e["where"] for e in errors]
    assert wheres.count("features") == 1 and "ZeroDivisionError" in errors[wheres.index("features")]["error"]
    assert wheres.count("model") >= 10 and "1 probabilities for 2 labels" in errors[wheres.index("model")]["error"]
    assert wheres.count("flashlog") == 24
    assert len([m for m in messages if m["k"] == "reading"]) == 24


def test_corrupt_model_is_refused_and_the_previous_keeps_running():
    fs = MemFS({"model.bin": bytearray(model_bytes())})
    hal, fs, stat, application = new_app(Truth(), fs)
    start(application).run(HOUR)
    running = application.engine
    assert running is not None and fs.files["model.prev"] == fs.files["model.bin"]
    fs.files["model.bin"] = bytearray(b"GARBAGE" + bytes(100))
    stat.touch("model.bin")
    application.run(HOUR)
    assert application.engine is running
    before = running.predictions
    application.run(HOUR)
    assert running.predictions == before + 12  # still predicting every 5 min
    messages = decode_all(hal)
    errors = [m["p"] for m in messages if m["k"] == "error"]
    assert len(errors) == 1 and errors[0]["where"] == "model" and "bad magic" in errors[0]["error"]
    assert errors[0]["file"] == "model.bin"
    assert any((m["p"].get("why") or "").startswith("kept the running model") for m in messages if m["k"] == "status")
    assert fs.files["model.prev"] == bytearray(model_bytes())  # last good bytes kept
    # a valid new model replaces it
    fs.files["model.bin"] = bytearray(model_bytes(window=2))
    stat.touch("model.bin")
    application.run(HOUR)
    assert application.engine is not running and application.engine.meta["window"] == 2


def test_boot_falls_back_to_model_prev_when_model_bin_is_bad():
    fs = MemFS({"model.bin": bytearray(b"VRDT\x01truncated"), "model.prev": bytearray(model_bytes())})
    hal, fs, stat, application = new_app(Truth(), fs)
    start(application)
    assert application.engine is not None
    messages = decode_all(hal)
    assert messages[1]["k"] == "error" and "bad magic" in messages[1]["p"]["error"]
    on = [m["p"] for m in messages if m["k"] == "status" and m["p"].get("model") == "on"]
    assert on and on[0]["file"] == "model.prev"


def test_no_model_at_all_runs_rules_and_says_why():
    hal, fs, stat, application = new_app(Truth([(HOUR, 4 * HOUR, "frost")]))
    start(application).run(5 * HOUR)
    messages = decode_all(hal)
    off = [m["p"] for m in messages if m["k"] == "status" and m["p"].get("model") == "off"]
    assert off and off[0]["why"] == "rules only: no model file (model.bin, model.prev)", off
    assert ("frost_risk", "raise") in [(typ, ev) for _, typ, ev in alerts_of(messages)]


def test_board_without_a_sensor_the_model_needs_keeps_rules_and_reports_why():
    fs = MemFS({"model.bin": bytearray(model_bytes(features=("air_temp_c", "co2_ppm_rate_h")))})
    truth = Truth([(HOUR, 4 * HOUR, "frost")])
    hal, fs, stat, application = new_app(truth, fs, with_co2=False)
    start(application).run(5 * HOUR)
    messages = decode_all(hal)
    assert application.engine is None
    off = [m["p"] for m in messages if m["k"] == "status" and m["p"].get("model") == "off"]
    assert "board has no sensor for co2_ppm (model feature co2_ppm_rate_h)" == off[0]["why"]
    assert ("frost_risk", "raise") in [(typ, ev) for _, typ, ev in alerts_of(messages)]


def test_model_waits_for_a_full_window_and_says_so_once():
    fs = MemFS({"model.bin": bytearray(model_bytes(window=6))})
    hal, fs, stat, application = new_app(Truth(), fs)
    start(application).run(2 * HOUR)
    messages = decode_all(hal)
    waits = [m["p"]["why"] for m in messages if m["k"] == "status" and m["p"].get("model") == "waiting"]
    assert waits[0] == "inputs unavailable: window not full, air_temp_c_rate_h" and len(waits) == 2
    # first prediction at slot 7: the oldest of 6 rows then has a rate (a rate needs 2 points)
    assert application.engine.predictions == 24 - 6


def test_run_helper_accepts_hours():
    hal = Hal()
    fs = MemFS()
    application = appmod.run(hal, BOARD, hours=1, settings=SETTINGS, sensors=make_sensors(hal, Truth()),
                             engine_loader=fake_load, opener=fs.open, stat=MemStat(fs))
    assert hal.clock.time_s() == T0 + HOUR
    assert len([m for m in decode_all(hal) if m["k"] == "reading"]) == 12


def test_hard_fault_is_not_swallowed():
    fs = MemFS({"model.bin": bytearray(model_bytes(crash="hard"))})
    hal, fs, stat, application = new_app(Truth(), fs)
    start(application)
    with raises(HardFault):
        application.run(HOUR)


def test_bad_settings_are_named_in_error_lines_and_their_defaults_run():
    hal, fs, stat, application = new_app(Truth(), settings={"log_size": 5, "heartbeat_s": "often",
                                                            "alerts": {"frost_risk": {"raise": "cold"}}})
    start(application)
    application.run(2 * HOUR + 60)
    messages = decode_all(hal)
    errors = [m["p"]["error"] for m in messages if m["k"] == "error"]
    assert len(errors) == 3, errors
    assert [e for e in errors if e.startswith("config: unknown key 'log_size' ignored (known: feature_period_s")]
    assert "config: heartbeat_s: expected an int 10..86400, got 'often'; default 3600 used" in errors
    assert [e for e in errors if e.startswith("alerts: alerts.frost_risk.raise: expected a number")], errors
    assert application.settings["heartbeat_s"] == 3600 and application.alerts.rules["frost_risk"]["raise"] == 2.0
    assert [m for m in messages if m["p"].get("state") == "running"]  # status lines go on


def test_light_sleep_used_when_the_board_allows_it():
    calls = []
    hal, fs, stat, application = new_app(Truth(), board={"name": "x", "sleep_mode": "light",
                                                          "watchdog_timeout_ms": 8000})
    hal.lightsleep = lambda ms: (calls.append(ms), hal.clock.sleep_ms(ms))
    start(application).run(HOUR)
    assert calls and max(calls) <= 6000  # chunks no longer than 3/4 of the watchdog timeout
    assert sum(calls) >= HOUR * 1000 - 60 * 1000


def test_the_watchdog_is_fed_within_its_timeout_across_long_light_sleeps():
    hal, fs, stat, application = new_app(Truth(), board={"name": "x", "sleep_mode": "light",
                                                          "watchdog_timeout_ms": 8000})
    longest = [0]
    def lightsleep(ms):
        hal.clock.sleep_ms(ms)
        gap = (hal.clock.ticks_ms() - hal.watchdog._last) & 0x3FFFFFFF  # since the last feed
        longest[0] = max(longest[0], gap)
        assert not hal.watchdog.expired(), gap
    hal.lightsleep = lightsleep
    start(application).run(6 * HOUR)
    assert 4000 < longest[0] <= 6000, longest  # 3/4 of the timeout: 2 s left for waking up and feeding
    assert not hal.watchdog.expired()


class FailingWatchdog:
    def __init__(self, fails):
        self.fails, self.feeds = fails, 0

    def feed(self):
        if self.fails:
            self.fails -= 1
            raise OSError(5)
        self.feeds += 1


def test_a_watchdog_feed_that_raises_is_reported_and_the_loop_goes_on():
    hal, fs, stat, application = new_app(Truth(), board={"name": "x", "sleep_mode": "light",
                                                          "watchdog_timeout_ms": 8000})
    hal.watchdog = FailingWatchdog(2)  # the first sensor read's feed and its retry
    slept = []
    def lightsleep(ms):
        if not slept:
            hal.watchdog.fails = 1  # the feed after the first piece of sleep
        slept.append(ms)
        hal.clock.sleep_ms(ms)
    hal.lightsleep = lightsleep
    start(application).run(HOUR)
    errors = [m["p"] for m in decode_all(hal) if m["k"] == "error"]
    assert [e["where"] for e in errors] == ["watchdog", "watchdog"], errors
    assert errors[0]["error"] == errors[1]["error"] == "OSError: [Errno 5] EIO", errors
    assert sum(slept) >= HOUR * 1000 - 60 * 1000  # the sleeps went on
    assert hal.watchdog.feeds > 100 and len([m for m in decode_all(hal) if m["k"] == "reading"]) == 12


def test_clock_set_back_restarts_the_window_and_the_loop_goes_on():
    hal, fs, stat, application = new_app(Truth())
    start(application).run(2 * HOUR)
    hal.clock._now_ms -= 5 * HOUR * 1000  # the host sets the RTC back
    application.run(2 * HOUR)
    messages = decode_all(hal)
    assert [m for m in messages if m["k"] == "error"] == []
    assert [m["p"]["state"] for m in messages if m["p"].get("state") == "clock_set_back"] == ["clock_set_back"]
    readings = [m["t"] for m in messages if m["k"] == "reading"]
    assert len(readings) == 48 and readings[24] < readings[23]


def test_model_change_noticed_without_file_times():
    fs = MemFS({"model.bin": bytearray(model_bytes())})
    hal, fs, stat, application = new_app(Truth(), fs)
    application._stat = lambda path: (0, 0, 0, 0, 0, 0, len(fs.files[path]), 0, 0, 0)  # mtime always 0
    start(application).run(HOUR)
    first = application.engine
    same_size = model_bytes().replace(b"[0.0, 0.0]", b"[0.5, 0.0]")  # norm_mean, same length
    assert len(same_size) == len(model_bytes())
    fs.files["model.bin"] = bytearray(same_size)
    application.run(HOUR)
    assert application.engine is not first and application.engine.meta["norm_mean"] == [0.5, 0.0]


def test_a_model_written_between_feature_steps_runs_from_the_next_step():
    fs = MemFS({"model.bin": bytearray(model_bytes())})
    hal, fs, stat, application = new_app(Truth(), fs)
    start(application).run(HOUR + 120)  # two minutes past a feature step (5-minute grid)
    first = application.engine
    steps = []
    sample = application.sample
    def recorded(t):
        sample(t)
        steps.append((t, application.engine))
    application.sample = recorded
    written_t = application.now()
    fs.files["model.bin"] = bytearray(model_bytes().replace(b"[0.0, 0.0]", b"[0.5, 0.0]"))
    stat.touch("model.bin")
    application.run(HOUR)
    assert steps[0][0] - written_t <= 300 and steps[0][1] is not first, steps[:2]  # the first step after it
    assert steps[0][1].meta["norm_mean"] == [0.5, 0.0] and all(e is steps[0][1] for _, e in steps)


def test_model_with_bad_metadata_is_off_with_a_reason_not_a_crash():
    fs = MemFS({"model.bin": bytearray(model_bytes(features=("air_temp_c", "wind_speed")))})
    hal, fs, stat, application = new_app(Truth(), fs)
    start(application).run(HOUR)
    off = [m["p"] for m in decode_all(hal) if m["k"] == "status" and m["p"].get("model") == "off"]
    assert off[0]["why"] == "model metadata unusable: features: unknown feature 'wind_speed'"
    fs.files["model.bin"] = bytearray(model_bytes(norm_std=[1.0]))  # wrong length
    stat.touch("model.bin")
    application.run(HOUR)
    assert application.engine is None


def test_running_model_kept_when_the_new_one_needs_a_missing_sensor():
    fs = MemFS({"model.bin": bytearray(model_bytes())})
    hal, fs, stat, application = new_app(Truth(), fs, with_co2=False)
    start(application).run(HOUR)
    running = application.engine
    fs.files["model.bin"] = bytearray(model_bytes(features=("co2_ppm",)))
    stat.touch("model.bin")
    application.run(HOUR)
    assert application.engine is running and fs.files["model.prev"] == bytearray(model_bytes())
    kept = [m["p"]["why"] for m in decode_all(hal) if m["k"] == "status" and "kept" in (m["p"].get("why") or "")]
    assert kept == ["kept the running model; new model.bin: board has no sensor for co2_ppm (model feature co2_ppm)"]


def test_unset_clock_is_said_and_keeps_time_of_day_features_off_until_set():
    # A board after a power cut without its RTC set: board time in 2024 (before 2025).
    fs = MemFS({"model.bin": bytearray(model_bytes(features=("air_temp_c", "tod_sin"), window=2))})
    hal = Hal(start_s=1704067200)  # 2024-01-01
    stat = MemStat(fs)
    application = appmod.App(hal, BOARD, sensors=make_sensors(hal, Truth()), engine_loader=fake_load,
                             opener=fs.open, stat=stat, settings=SETTINGS)
    start(application).run(2 * HOUR)
    messages = decode_all(hal)
    assert messages[0]["p"]["state"] == "boot" and messages[0]["p"]["clock"] == "unset"
    running = [m["p"] for m in messages if m["p"].get("state") == "running"]
    assert running and all(p["clock"] == "unset" for p in running)
    waiting = [m["p"]["why"] for m in messages if m["p"].get("model") == "waiting"]
    assert waiting and "tod_sin" in waiting[-1]
    assert application.engine.predictions == 0
    hal.clock._now_ms = (T0 + 10 * HOUR) * 1000  # the host set the RTC (deploy / monitor)
    application.run(2 * HOUR)
    later = decode_all(hal)[len(messages):]
    assert {"clock": "set", "why": "time-of-day features on"} in [m["p"] for m in later if m["k"] == "status"]
    assert application.engine.predictions > 0


def test_sensors_are_read_several_times_only_for_the_feature_step():
    # between feature steps a poll watches a sensor's health with one read; the value the
    # step uses is the median of reads_per_sample reads (default 3)
    hal, fs, stat, application = new_app(Truth(), settings={"feature_period_s": 900, "log_records": 50})
    start(application)
    sht = [s for s in application.sampler.sensors if s.name == "sht31"][0]
    application.run(HOUR)
    polls, steps = HOUR // 60, HOUR // 900  # polls every 60 s, feature steps every 900 s
    assert sht.calls == (polls - steps) * 1 + steps * 3, sht.calls
    assert hal.serial.data.count(b'"k":"reading"') == steps


def test_day_memory_skips_what_happened_while_a_model_alert_was_active():
    from verdant.hal import FIRMWARE_EPOCH
    truth = Truth([(DAY + 2 * HOUR, DAY + 6 * HOUR, "frost")])
    fs = MemFS({"model.bin": bytearray(model_bytes(features=("air_temp_c_d24h", "air_temp_c_rate_h"), window=12))})
    hal, fs, stat, application = new_app(truth, fs)
    start(application).run(DAY + 12 * HOUR)
    got = alerts_of(decode_all(hal))
    assert ("cooling", "raise") in [(typ, ev) for _, typ, ev in got], got  # the model ran on the memory feature
    # model, band and sensor-fault alerts mark the greenhouse unusual; the frost rule does not
    unusual = [(t, ev) for t, typ, ev in got if typ in ("cooling", "cold_anomaly", "sensor_fault")]
    first = min(t for t, ev in unusual if ev == "raise")
    last = max(t for t, ev in unusual if ev == "clear")
    assert len([ev for _, ev in unusual if ev == "clear"]) == len([ev for _, ev in unusual if ev == "raise"]), got
    memory = application.features.memory

    def recorded(t):
        return memory._at(0, (t - FIRMWARE_EPOCH) // 900) is not None  # air_temp_c, the only memory series
    assert not recorded(first + 900) and not recorded(last - 900)   # no reference for tomorrow
    assert recorded(first - 3600) and recorded(last + 1800), got
