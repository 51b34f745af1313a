# MachineHAL against a fake `machine` module (the real one only exists on boards).
import time

from mpytest import approx, raises
from verdant.board import build_sensors, load_board
from verdant.hal.machine_hal import MachineHAL
from verdant.hal.sim import SimClock, SimI2C
from verdant.sim.dht_adc import SimADC, SimDHT22Part, SimDHTModule, SimSoilProbe
from verdant.sim.onewire import SimDS18B20, SimOneWire
from verdant.sim.sensirion import SimSCD4x, SimSHT3x
from verdant.sim.aosong_rohm import SimBH1750

EPOCH_2000 = 946684800


class FakeTime:
    """time module of a port; epoch_year 2000 for ports counting from 2000."""

    def __init__(self, clock, epoch_year=1970):
        self.clock = clock
        self.offset = EPOCH_2000 if epoch_year == 2000 else 0

    def ticks_ms(self):
        return self.clock.ticks_ms()

    def time(self):
        return self.clock.time_s() - self.offset

    def sleep_ms(self, ms):
        self.clock.sleep_ms(ms)

    def gmtime(self, t):
        return time.gmtime(t + self.offset)


class FakeMachine:
    """Records what the HAL asks of `machine`; hands out simulated buses."""

    def __init__(self, clock):
        self.calls = []
        self.clock = clock
        self.i2c_bus = SimI2C()
        self.adc_probe = SimSoilProbe(clock, moisture_pct=30.0)
        machine = self

        class Pin:
            def __init__(self, number):
                self.number = number

            def __repr__(self):
                return "Pin(%d)" % self.number

        class I2C:
            def __new__(cls, bus_id, sda, scl, freq):
                machine.calls.append(("I2C", bus_id, sda.number, scl.number, freq))
                return machine.i2c_bus

        class ADC:
            ATTN_11DB = 3

            def __new__(cls, pin, atten=None):
                machine.calls.append(("ADC", pin.number, atten))
                return SimADC(machine.adc_probe)

        class WDT:
            def __init__(self, timeout):
                machine.calls.append(("WDT", timeout))
                self.feeds = 0

            def feed(self):
                self.feeds += 1

        class RTC:
            def datetime(self, value):
                machine.calls.append(("RTC.datetime", value))

        self.Pin, self.I2C, self.ADC, self.WDT, self.RTC = Pin, I2C, ADC, WDT, RTC

    def lightsleep(self, ms):
        self.calls.append(("lightsleep", ms))
        self.clock.sleep_ms(ms)  # time passes in light sleep as in any other

    def deepsleep(self, ms):
        self.calls.append(("deepsleep", ms))

    def reset(self):
        self.calls.append(("reset",))


def _board(name):
    return load_board("../../boards/%s.json" % name)


def _hal(name="pico", epoch_year=1970):
    clock = SimClock(start_s=1700000000)
    machine = FakeMachine(clock)
    return MachineHAL(_board(name), machine, time_module=FakeTime(clock, epoch_year)), machine, clock


def test_i2c_bus_uses_board_pins_once():
    hal, machine, _ = _hal("pico")
    assert hal.i2c(0) is hal.i2c(0)
    assert machine.calls == [("I2C", 0, 4, 5, 100000)]
    with raises(ValueError, "no I2C bus 1"):
        hal.i2c(1)


def test_adc_attenuation_on_esp32_only():
    hal, machine, _ = _hal("esp32_devkitc")
    hal.adc(34)
    hal2, machine2, _ = _hal("pico")
    hal2.adc(26)
    assert machine.calls == [("ADC", 34, 3)]
    assert machine2.calls == [("ADC", 26, None)]
    with raises(ValueError, "no ADC pin 5"):
        hal2.adc(5)


def test_watchdog_started_lazily_with_board_timeout():
    hal, machine, _ = _hal("pico")
    assert machine.calls == []
    hal.watchdog.feed()
    hal.watchdog.feed()
    assert machine.calls == [("WDT", 8000)]
    assert hal.watchdog.feeds == 2


def test_sleep_modes_follow_board_config():
    hal, machine, clock = _hal("pico")  # sleep_mode light
    hal.lightsleep(500)
    assert machine.calls == [("lightsleep", 500)]
    with raises(OSError, "deep sleep not enabled"):
        hal.deepsleep(1000)
    config = _board("esp32_devkitc")
    config["sleep_mode"] = "deep"
    deep = MachineHAL(config, machine, time_module=FakeTime(clock))
    deep.deepsleep(60000)
    assert machine.calls[-1] == ("deepsleep", 60000)
    config["sleep_mode"] = "none"
    t0 = clock.now_ms()
    MachineHAL(config, machine, time_module=FakeTime(clock)).lightsleep(250)
    assert clock.now_ms() - t0 == 250
    assert machine.calls[-1] == ("deepsleep", 60000)


def test_clock_reports_unix_epoch_on_2000_epoch_ports():
    for year in (1970, 2000):
        hal, machine, clock = _hal("pico", epoch_year=year)
        assert hal.clock.time_s() == 1700000000
        hal.set_time_s(1700000000)  # 2023-11-14 22:13:20 UTC, a Tuesday (weekday 1)
        assert machine.calls[-1] == ("RTC.datetime", (2023, 11, 14, 1, 22, 13, 20, 0))


def test_firmware_seconds_on_both_port_epochs():
    # seconds since 2025-01-01 UTC (verdant.hal.FIRMWARE_EPOCH), what the app counts in
    for year in (1970, 2000):
        hal, machine, clock = _hal("pico", epoch_year=year)
        clock.sleep_ms((1767225600 - 1700000000) * 1000)  # to 2026-01-01 00:00 UTC
        assert hal.clock.time_s() == 1767225600
        assert hal.clock.fw_time_s() == 365 * 86400  # 2025 had 365 days


def test_reset_and_serial():
    class Sink:
        def __init__(self):
            self.buffer = self
            self.data = b""

        def write(self, b):
            self.data += bytes(b)
            return len(b)

    sink = Sink()
    clock = SimClock()
    machine = FakeMachine(clock)
    from verdant.hal.machine_hal import StreamSerial
    hal = MachineHAL(_board("pico"), machine, time_module=FakeTime(clock), serial=StreamSerial(sink))
    hal.serial.write(b'{"k":1}\n')
    hal.reset()
    assert sink.data == b'{"k":1}\n'
    assert machine.calls == [("reset",)]


def test_board_sensors_through_machine_hal():
    clock = SimClock(start_s=1700000000)
    machine = FakeMachine(clock)
    machine.i2c_bus.attach(0x44, SimSHT3x(clock, temperature_c=25.0, humidity_pct=60.0))
    machine.i2c_bus.attach(0x62, SimSCD4x(clock, co2_ppm=950, temperature_c=27.5, humidity_pct=52.0))
    machine.i2c_bus.attach(0x23, SimBH1750(clock, lux=1000.0))
    wire = SimOneWire()
    wire.attach(SimDS18B20(clock, temperature_c=18.5))

    class OneWireModule:
        @staticmethod
        def OneWire(pin):
            machine.calls.append(("OneWire", pin.number))
            return wire

    hal = MachineHAL(_board("pico"), machine, time_module=FakeTime(clock), onewire_module=OneWireModule)
    readings = {}
    for sensor in build_sensors(hal.config, hal):
        readings.update(sensor.measure())
    # the SCD4x's own (self-heated) T and RH to within its 16-bit codes
    assert abs(readings.pop("scd4x_temp_c") - 27.5) < 0.003 and abs(readings.pop("scd4x_rh_pct") - 52.0) < 0.002
    assert readings == {"air_temp_c": 25.0, "rh_pct": 60.0, "co2_ppm": 950, "light_lux": 1000.0,
                        "soil_moisture_pct": 30.0, "soil_temp_c": 18.5}
    assert ("OneWire", 22) in machine.calls


def test_dht_module_injected():
    clock = SimClock()
    machine = FakeMachine(clock)
    config = _board("esp32c3")
    hal = MachineHAL(config, machine, time_module=FakeTime(clock), dht_module=SimDHTModule)
    part = SimDHT22Part(clock, temperature_c=12.3, humidity_pct=45.6)
    pin = hal.pin(5)
    pin.part = part  # wire the simulated DHT22 to the fake pin
    hal.pin = lambda n: pin
    air = build_sensors(config, hal)[0]
    reading = air.measure()
    assert approx(reading["air_temp_c"], 12.3, 1e-9)
    assert approx(reading["rh_pct"], 45.6, 1e-9)
