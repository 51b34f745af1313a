# The simulated parts and the sim board HAL themselves: truth feeds, faults, bus rules.
from mpytest import approx, raises
from verdant.board import load_board
from verdant.hal.sim import SimClock, SimI2C
from verdant.sim import make_sim_hal, truth_reader
from verdant.sim.onewire import SimDS18B20, SimOneWire, make_rom
from verdant.sim.sensirion import SimSCD4x, SimSHT3x


def test_truth_reader_accepts_dict_callable_and_at_object():
    clock = SimClock(start_s=50)
    assert truth_reader(None, clock) is None
    assert truth_reader({"co2_ppm": 1}, clock)() == {"co2_ppm": 1}
    assert truth_reader(lambda t: {"t": t}, clock)() == {"t": 50}

    class Replay:
        def at(self, t):
            return {"t": t * 2}

    clock.advance_s(10)
    assert truth_reader(Replay(), clock)() == {"t": 120}
    with raises(TypeError, "truth must be"):
        truth_reader(42, clock)


def test_missing_or_none_truth_keeps_last_value():
    clock = SimClock()
    part = SimSHT3x(clock, temperature_c=10.0, humidity_pct=30.0)
    env = {"air_temp_c": 12.0, "rh_pct": None}
    part.feed = lambda: env
    part.refresh()
    assert (part.temperature_c, part.humidity_pct) == (12.0, 30.0)


def test_stuck_part_ignores_feed_and_drift_needs_known_quantity():
    clock = SimClock()
    part = SimSHT3x(clock, temperature_c=10.0)
    env = {"air_temp_c": 11.0}
    part.feed = lambda: env
    part.stick()
    env["air_temp_c"] = 25.0
    part.refresh()
    assert part.sensed("temperature_c") == 11.0
    part.unstick()
    part.refresh()
    assert part.sensed("temperature_c") == 25.0
    with raises(ValueError, "no quantity 'co2_ppm'"):
        part.drift("co2_ppm", 5)
    part.drift("humidity_pct", 1.0)
    clock.advance_s(1800)
    assert approx(part.sensed("humidity_pct"), 50.5, 1e-9)


def test_sht3x_part_nacks_unknown_command_and_early_read():
    clock = SimClock()
    bus = SimI2C()
    bus.attach(0x44, SimSHT3x(clock))
    with raises(OSError):
        bus.writeto(0x44, b"\x12\x34")
    bus.writeto(0x44, b"\x24\x00")
    with raises(OSError):
        bus.readfrom(0x44, 6)  # still converting (15 ms)
    clock.sleep_ms(15)
    assert len(bus.readfrom(0x44, 6)) == 6
    with raises(OSError):
        bus.readfrom(0x44, 6)  # nothing left to read


def test_scd4x_part_refuses_commands_while_periodic():
    clock = SimClock()
    bus = SimI2C()
    part = SimSCD4x(clock)
    bus.attach(0x62, part)
    bus.writeto(0x62, b"\x21\xb1")
    with raises(OSError):
        bus.writeto(0x62, b"\x36\x82")  # get_serial_number is refused in periodic mode
    bus.writeto(0x62, b"\x3f\x86")
    with raises(OSError):
        bus.writeto(0x62, b"\x36\x82")  # still stopping (500 ms)
    clock.sleep_ms(500)
    bus.writeto(0x62, b"\x36\x82")
    assert part.commands == [b"\x21\xb1", b"\x36\x82", b"\x3f\x86", b"\x36\x82", b"\x36\x82"]


def test_onewire_presence_and_pull_up():
    clock = SimClock()
    wire = SimOneWire()
    assert not wire.reset()
    with raises(OSError, "no presence"):
        wire.reset(required=True)
    buf = bytearray(3)
    wire.readinto(buf)
    assert buf == b"\xff\xff\xff"
    part = SimDS18B20(clock)
    wire.attach(part)
    assert wire.reset()
    assert wire.scan() == [bytearray(part.rom)]
    wire.reset()
    wire.write(b"\x33")  # read ROM
    wire.readinto(buf)
    assert bytes(buf) == part.rom[:3]
    assert make_rom(0x28, 0x0000075AC3F1) == b"\x28\xf1\xc3\x5a\x07\x00\x00\x8e"


def test_make_sim_hal_wires_every_sensor_of_the_sim_board():
    config = load_board("../../boards/sim.json")
    hal = make_sim_hal(config)
    assert sorted(hal.parts) == ["air", "co2", "light", "soil", "soil_temp"]
    assert hal.i2c(0).scan() == [0x23, 0x44, 0x62]
    assert hal.onewire(22).scan() == [bytearray(hal.parts["soil_temp"].rom)]
    assert hal.adc(26).probe is hal.parts["soil"]
    assert hal.watchdog.timeout_ms == 30000
    with raises(ValueError, "no I2C bus 3"):
        hal.i2c(3)
    with raises(ValueError, "no ADC on pin 27"):
        hal.adc(27)
    with raises(ValueError, "no 1-Wire bus on pin 4"):
        hal.onewire(4)
    with raises(OSError, "deep-sleep"):
        hal.deepsleep(10)
    t0 = hal.clock.now_ms()
    hal.lightsleep(1500)
    assert hal.clock.now_ms() - t0 == 1500


class TicksOnlyClock:
    """A clock like the virtual board's: ticks_ms (wrapping at 2^30), time_s, sleep_ms; no now_ms."""

    def __init__(self, clock):
        self._clock = clock

    def ticks_ms(self):
        return self._clock.ticks_ms()

    def time_s(self):
        return self._clock.time_s()

    def sleep_ms(self, ms):
        self._clock.sleep_ms(ms)


def test_parts_run_on_a_clock_without_now_ms_across_the_ticks_wrap():
    from verdant.drivers.sht3x import SHT3x
    base = SimClock(start_s=1073741)  # ticks_ms wraps 2^30 ms = 1073741.824 s
    clock = TicksOnlyClock(base)
    part = SimSHT3x(clock, temperature_c=20.0)
    bus = SimI2C()
    bus.attach(0x44, part)
    sensor = SHT3x(bus, sleep_ms=clock.sleep_ms)
    part.drift("temperature_c", 1.0)
    for _ in range(4):
        base.advance_s(900)
        sensor.measure()
    assert approx(sensor.measure()["air_temp_c"], 21.0, 0.003)


def test_nan_truth_is_missing_data():
    clock = SimClock()
    part = SimSHT3x(clock, temperature_c=18.0)
    part.feed = lambda: {"air_temp_c": float("nan"), "rh_pct": 40.0}
    part.refresh()
    assert (part.temperature_c, part.humidity_pct) == (18.0, 40.0)


def test_command_and_bus_logs_stay_bounded_over_long_runs():
    from verdant.sim.part import LOG_LIMIT
    clock = SimClock()
    part = SimSHT3x(clock)
    bus = SimI2C()
    bus.attach(0x44, part)
    wire = SimOneWire()
    wire.attach(SimDS18B20(clock))
    for i in range(LOG_LIMIT + 10):
        bus.writeto(0x44, b"\x30\x41")
        wire.reset()
    bus.writeto(0x44, b"\xf3\x2d")
    assert len(part.commands) == LOG_LIMIT
    assert part.commands[-1] == b"\xf3\x2d"
    assert len(wire.log) == LOG_LIMIT


def test_scd4x_part_answers_after_days_past_its_last_deadline_and_across_the_ticks_wrap():
    # the sim32 soak: a busy deadline set at start-up read as "not yet" once 2^29 ms
    # (6.2 days) had passed, so the part NACKed (ENODEV) for the next 6.2 days
    from verdant.drivers.scd4x import SCD4x
    clock = SimClock(start_s=1767225600)
    part = SimSCD4x(clock, co2_ppm=700.0)
    bus = SimI2C()
    bus.attach(0x62, part)
    busy_deadline = clock.ticks_ms() + 500  # the driver stops a running measurement first: busy 500 ms
    sensor = SCD4x(bus, sleep_ms=clock.sleep_ms)
    assert sensor.measure()["co2_ppm"] == 700
    for _ in range(16):  # 16 x 1.5 days: past the 2^29 ms half range and the 2^30 ms wrap twice
        clock.sleep_ms(36 * 3600 * 1000)
        assert sensor.measure()["co2_ppm"] == 700
        clock.sleep_ms(60000)
        assert sensor.measure()["co2_ppm"] == 700
    # a deadline kept once past comes round with the wrapping ticks (the sim32 soak: the
    # start-up busy deadline, stop + 500 ms, was "in the next 10 minutes" again 2^30 ms
    # later): 5 minutes before it comes round, the part still answers
    clock.sleep_ms((busy_deadline - 300000 - clock.ticks_ms()) & ((1 << 30) - 1))
    assert sensor.measure()["co2_ppm"] == 700
    bus.writeto(0x62, b"\x3f\x86")  # stop_periodic_measurement: busy for 500 ms
    with raises(OSError):
        bus.writeto(0x62, b"\x36\x82")  # still refused while stopping
    clock.sleep_ms(500)
    bus.writeto(0x62, b"\x36\x82")


def test_scd4x_part_fed_from_the_air_reads_it_self_heated_with_the_same_vapour():
    from verdant.drivers.scd4x import SCD4x
    from verdant.features import dew_point_c
    clock = SimClock(start_s=1767225600)
    air = {"air_temp_c": 18.0, "rh_pct": 80.0, "co2_ppm": 650.0}
    readings = []
    for heating in (1.5, 0.0):
        part = SimSCD4x(clock, self_heating_c=heating)
        part.feed = lambda: air
        bus = SimI2C()
        bus.attach(0x62, part)
        readings.append(dict(SCD4x(bus, sleep_ms=clock.sleep_ms).measure()))
    warm, bare = readings
    assert abs(warm["scd4x_temp_c"] - 19.5) < 0.01 and warm["co2_ppm"] == 650
    assert 72.0 < warm["scd4x_rh_pct"] < 74.0, warm  # 80 % x es(18) / es(19.5)
    assert abs(dew_point_c(warm["scd4x_temp_c"], warm["scd4x_rh_pct"]) - dew_point_c(18.0, 80.0)) < 0.02
    assert abs(bare["scd4x_temp_c"] - 18.0) < 0.01 and abs(bare["scd4x_rh_pct"] - 80.0) < 0.01
