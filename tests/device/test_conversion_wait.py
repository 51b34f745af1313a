# The drivers' conversion waits (verdant.convwait.ConversionWait): light sleep on a board whose
# config allows it, busy sleeps on one that does not, watchdog-sized pieces, same readings.
from mpytest import approx
from every_driver import every_driver_sensors
from verdant.board import build_sensors, load_board
from verdant.hal.sim import SimClock
from verdant.convwait import LIGHT_WAIT_MIN_MS, ConversionWait
from verdant.sim import SIM_START_S, make_sim_hal

ENV = {"air_temp_c": 21.0, "rh_pct": 60.0, "co2_ppm": 700, "light_lux": 800.0, "soil_moisture_pct": 45.0,
       "soil_temp_c": 16.0, "pressure_hpa": 1000.0}


def _config(sleep_mode, watchdog_ms=8000):
    # every driver with a conversion wait, on an ESP32 config (the Unix port has no light sleep)
    return load_board({
        "name": "waits", "port": "esp32", "arch": "xtensawin", "micropython": "1.28.0",
        "model_limits": {"flash_bytes": 65536, "ram_bytes": 65536},
        "i2c": [{"id": 0, "sda": 21, "scl": 22, "freq": 100000}, {"id": 1, "sda": 18, "scl": 19, "freq": 100000}],
        "adc_pins": [34], "onewire_pin": 4, "dht_pin": 15,
        "sensors": every_driver_sensors(34),
        "watchdog_timeout_ms": watchdog_ms, "sleep_mode": sleep_mode,
    })


class Recorder:
    """The sim board's clock.sleep_ms and lightsleep, recording each call with the watchdog's
    state at its end (hal.watchdog is the SimWatchdog: expired() after the timeout unfed)."""

    def __init__(self, hal):
        self.busy, self.light, self.expired = [], [], False
        self.advance_ms = clock_sleep = hal.clock.sleep_ms  # time passing between reads

        def sleep_ms(ms):
            self.busy.append(ms)
            clock_sleep(ms)
            self.expired = self.expired or hal.watchdog.expired()

        def lightsleep(ms):
            self.light.append(ms)
            clock_sleep(ms)
            self.expired = self.expired or hal.watchdog.expired()

        hal.clock.sleep_ms = sleep_ms
        hal.lightsleep = lightsleep


def _board(sleep_mode, watchdog_ms=8000):
    clock = SimClock(start_s=SIM_START_S)
    config = _config(sleep_mode, watchdog_ms)
    hal = make_sim_hal(config, clock, dict(ENV))
    recorder = Recorder(hal)  # before build_sensors: the drivers' wait takes the calls then
    return {s.name: s for s in build_sensors(config, hal)}, hal, clock, recorder


def _read_all(sensors, hal, recorder):
    readings = {}
    for name in sorted(sensors):
        recorder.advance_ms(60000)  # the sampler's pace: DHT22 and SCD4x have new data
        hal.watchdog.feed()  # (the app's loop feeds it before sleeping)
        readings[name] = dict(sensors[name].measure())
    return readings


def test_conversion_waits_light_sleep_on_a_light_sleep_board_and_stay_busy_without():
    light_sensors, light_hal, _, light = _board("light")
    busy_sensors, busy_hal, _, busy = _board("none")
    ds18b20_light = light_sensors["ds18b20"]
    ds18b20_light.measure()
    assert light.light == [750] and light.busy == []  # the 12-bit conversion, asleep
    busy_sensors["ds18b20"].measure()
    assert busy.busy == [750] and busy.light == []
    light_readings = _read_all(light_sensors, light_hal, light)
    busy_readings = _read_all(busy_sensors, busy_hal, busy)
    # the simulated parts answer the same: the waits were as long, only spent differently
    assert light_readings == busy_readings
    assert approx(light_readings["ds18b20"]["soil_temp_c"], 16.0, 0.07)
    assert approx(light_readings["sht3x"]["air_temp_c"], 21.0, 0.01)
    assert light_readings["scd4x"]["co2_ppm"] == 700
    assert not busy.light and not light.expired and not busy.expired
    # the long waits slept; only the short command and poll waits stayed awake
    assert light.light and min(light.light) >= LIGHT_WAIT_MIN_MS
    assert light.busy and max(light.busy) < LIGHT_WAIT_MIN_MS
    assert sum(light.light) + sum(light.busy) == sum(busy.busy)


def test_a_wait_longer_than_the_watchdog_allows_goes_in_fed_pieces():
    sensors, hal, clock, recorder = _board("light", watchdog_ms=2000)  # pieces of at most 1500 ms
    scd4x = sensors["scd4x"]
    scd4x.measure()
    del recorder.light[:]
    recorder.advance_ms(100)
    scd4x.measure()  # 0.1 s after the last result: sleeps 4.6 s to the next, then polls it
    assert recorder.light[:4] == [1500, 1500, 1500, 100]
    assert max(recorder.light) <= 1500 and not recorder.expired


def test_a_stuck_scd4x_polling_past_the_watchdog_timeout_never_starves_it():
    # 4.7 s to the next result, then 6 s of ready polls: longer than a Pico's 8 s in one read
    sensors, hal, clock, recorder = _board("light", watchdog_ms=8000)
    scd4x = sensors["scd4x"]
    scd4x.measure()
    part = hal.parts["scd4x"]
    part.data_ready = lambda: False  # the part never has data again
    start = clock.now_ms()
    try:
        scd4x.measure()
    except Exception:
        pass
    else:
        assert False, "no error from a part without data"
    assert clock.now_ms() - start > 8000 and not recorder.expired


def test_a_light_sleep_that_ends_early_is_followed_by_one_for_the_rest():
    clock = SimClock(start_s=SIM_START_S)
    pieces, feeds = [], []

    class Hal:
        pass

    hal = Hal()
    hal.clock = clock

    def woken_halfway(ms):  # rp2: an interrupt ends lightsleep early
        pieces.append(ms)
        clock.sleep_ms(ms // 2 if ms > 100 else ms)

    hal.lightsleep = woken_halfway
    hal.watchdog = Hal()
    hal.watchdog.feed = lambda: feeds.append(clock.ticks_ms())
    wait = ConversionWait({"sleep_mode": "light", "watchdog_timeout_ms": 8000}, hal).wait
    start = clock.now_ms()
    wait(800)
    assert clock.now_ms() - start == 800
    assert pieces == [800, 400, 200, 100] and len(feeds) == 4


def test_short_waits_stay_busy_and_leave_the_watchdog_alone():
    clock = SimClock(start_s=SIM_START_S)
    asked = []

    class Hal:
        clock = None

        @property
        def watchdog(self):  # MachineHAL starts the watchdog on first use
            asked.append("watchdog")
            return None

        def lightsleep(self, ms):
            asked.append(("light", ms))
            self.clock.sleep_ms(ms)

    hal = Hal()
    hal.clock = clock
    waiter = ConversionWait({"sleep_mode": "light", "watchdog_timeout_ms": 8000}, hal)
    assert asked == []  # not started by building the sensors
    waiter.wait(LIGHT_WAIT_MIN_MS - 1)
    assert asked == []
    waiter.wait(LIGHT_WAIT_MIN_MS)  # a long wait: the watchdog (none on this hal) before the light sleep
    assert asked == ["watchdog", ("light", LIGHT_WAIT_MIN_MS)]
