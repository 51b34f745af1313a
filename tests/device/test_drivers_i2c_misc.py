# AHT20, BH1750 and SCD4x drivers against their byte-level simulations.
from mpytest import approx, raises
from verdant.drivers.aht20 import AHT20
from verdant.drivers.base import CRCError, NotReadyError, SensorError
from verdant.drivers.bh1750 import BH1750
from verdant.drivers.scd4x import SCD4x
from verdant.hal.sim import SimClock, SimI2C
from verdant.sim.aosong_rohm import SimAHT20, SimBH1750
from verdant.sim.recorder import RecordingI2C
from verdant.sim.sensirion import SimSCD4x


def _bus(part, address):
    bus = SimI2C()
    bus.attach(address, part)
    return RecordingI2C(bus)


def test_aht20_exact_bytes_and_values():
    clock = SimClock()
    # 25 C -> 0x60000 (75/200 of 2^20), 50 %RH -> 0x80000: both exact.
    part = SimAHT20(clock, temperature_c=25.0, humidity_pct=50.0)
    bus = _bus(part, 0x38)
    sensor = AHT20(bus, sleep_ms=clock.sleep_ms)
    assert sensor.measure() == {"air_temp_c": 25.0, "rh_pct": 50.0}
    assert bus.writes() == [b"\x71", b"\xac\x33\x00"]
    assert bus.reads() == [b"\x18", b"\x18\x80\x00\x06\x00\x00\x23"]


def test_aht20_loads_calibration_when_bit_clear():
    clock = SimClock()
    part = SimAHT20(clock, calibrated=False)
    bus = _bus(part, 0x38)
    AHT20(bus, sleep_ms=clock.sleep_ms)
    assert bus.writes() == [b"\x71", b"\xbe\x08\x00", b"\x71"]
    assert part.calibrated


def test_aht20_calibration_that_never_sticks_is_oserror():
    clock = SimClock()
    part = SimAHT20(clock, calibrated=False)
    part.ignore_init = True
    with raises(OSError, "calibration"):
        AHT20(_bus(part, 0x38), sleep_ms=clock.sleep_ms)


def test_aht20_busy_polling_is_bounded():
    clock = SimClock()
    sensor = AHT20(_bus(SimAHT20(clock), 0x38), sleep_ms=lambda ms: None)
    with raises(NotReadyError, "busy"):
        sensor.measure()


def test_aht20_faults():
    clock = SimClock()
    part = SimAHT20(clock, temperature_c=12.0, humidity_pct=70.0)
    sensor = AHT20(_bus(part, 0x38), sleep_ms=clock.sleep_ms)
    part.bad_crc = True
    with raises(CRCError, "0x38"):
        sensor.measure()
    part.bad_crc = False
    part.out_of_range = True
    with raises(SensorError, "outside -40..85"):
        sensor.measure()
    part.out_of_range = False
    part.drift("humidity_pct", -2.0)
    clock.advance_s(3 * 3600)
    assert approx(sensor.measure()["rh_pct"], 64.0, 0.001)
    part.nack = True
    with raises(OSError):
        sensor.measure()
    with raises(OSError, "0x38"):
        AHT20(_bus(part, 0x38), sleep_ms=clock.sleep_ms)


def test_bh1750_exact_bytes_and_value():
    clock = SimClock()
    part = SimBH1750(clock, lux=1000.0)  # raw = 1000 * 1.2 = 1200 = 0x04B0
    bus = _bus(part, 0x23)
    sensor = BH1750(bus, sleep_ms=clock.sleep_ms)
    t0 = clock.now_ms()
    assert sensor.measure() == {"light_lux": 1000.0}
    assert clock.now_ms() - t0 == 180
    # power on, MTreg 69 = 0b010_00101 as 0x40|0b010 and 0x60|0b00101, power on, one-time H-res
    assert bus.writes() == [b"\x01", b"\x42", b"\x65", b"\x01", b"\x20"]
    assert bus.reads() == [b"\x04\xb0"]


def test_bh1750_mtreg_scales_counts():
    clock = SimClock()
    part = SimBH1750(clock, lux=100.0)
    sensor = BH1750(_bus(part, 0x23), mtreg=138, sleep_ms=clock.sleep_ms)
    assert part.mtreg == 138
    assert sensor.read_raw() == 240  # twice the counts of MTreg 69
    assert sensor.measure() == {"light_lux": 100.0}
    with raises(ValueError, "31..254"):
        BH1750(_bus(part, 0x23), mtreg=20)


def test_bh1750_saturation_autoranges_then_recovers():
    clock = SimClock()
    part = SimBH1750(clock, lux=90000.0)  # beyond 54612 lx, the MTreg 69 full scale
    sensor = BH1750(_bus(part, 0x23), sleep_ms=clock.sleep_ms)
    assert approx(sensor.measure()["light_lux"], 90000.0, 2.0)
    assert sensor.mtreg == 31
    part.lux = 500.0
    assert approx(sensor.measure()["light_lux"], 500.0, 2.0)
    assert sensor.mtreg == 69


def test_bh1750_faults():
    clock = SimClock()
    part = SimBH1750(clock, lux=300.0)
    sensor = BH1750(_bus(part, 0x23), sleep_ms=clock.sleep_ms)
    part.out_of_range = True
    with raises(SensorError, "saturated"):
        sensor.measure()
    part.out_of_range = False
    part.stick()
    part.lux = 10.0
    assert approx(sensor.measure()["light_lux"], 300.0, 0.5)
    part.unstick()
    part.nack = True
    with raises(OSError):
        sensor.measure()
    with raises(OSError, "0x5c"):
        BH1750(SimI2C(), address=0x5C)


def test_bh1750_too_short_wait_reads_previous_result():
    clock = SimClock()
    part = SimBH1750(clock, lux=1000.0)
    BH1750(_bus(part, 0x23), sleep_ms=clock.sleep_ms).measure()
    part.lux = 2000.0
    hasty = BH1750(_bus(part, 0x23), sleep_ms=lambda ms: None)
    assert hasty.measure() == {"light_lux": 1000.0}


def test_scd4x_datasheet_serial_and_exact_measurement_bytes():
    clock = SimClock()
    part = SimSCD4x(clock, co2_ppm=612, temperature_c=25.0, humidity_pct=60.0)
    bus = _bus(part, 0x62)
    sensor = SCD4x(bus, sleep_ms=clock.sleep_ms)
    # Sensirion SCD4x datasheet example serial: 0xf896 0x31 0x9f07 0xc2 0x3bb4 0x52.
    assert bus.reads() == [b"\xf8\x96\x31\x9f\x07\xc2\x3b\xb4\x52"]
    assert sensor.serial == 0xF8969F073BB4
    assert bus.writes() == [b"\x3f\x86", b"\x36\x82", b"\x21\xb1"]
    co2, temp_c, rh = sensor.read()
    assert (co2, temp_c, rh) == (612, 25.0, 60.0)
    assert bus.reads()[-1] == b"\x02\x64\x27\x66\x66\x93\x99\x99\xbe"
    # polled data ready (not ready) every 250 ms until the first 5 s period ended
    assert bus.writes().count(b"\xe4\xb8") == 21
    assert bus.reads()[1] == b"\x80\x00\xa2"
    assert bus.reads()[-2] == b"\x80\x06\x04"
    assert bus.writes()[-1] == b"\xec\x05"


def test_scd4x_measure_gives_its_own_temperature_and_humidity_from_the_same_transfer():
    clock = SimClock()
    part = SimSCD4x(clock, co2_ppm=612, temperature_c=25.0, humidity_pct=60.0)
    bus = _bus(part, 0x62)
    sensor = SCD4x(bus, sleep_ms=clock.sleep_ms)
    reading = sensor.measure()
    # the datasheet's example words 0x6666 and 0x9999 are 25.0 C and 60.0 %RH
    assert reading == {"co2_ppm": 612, "scd4x_temp_c": 25.0, "scd4x_rh_pct": 60.0}, reading
    assert sorted(reading) == sorted(SCD4x.QUANTITIES)
    assert bus.reads()[-1] == b"\x02\x64\x27\x66\x66\x93\x99\x99\xbe"  # one 9-byte read gave all three
    assert bus.writes().count(b"\xec\x05") == 1  # one read_measurement command
    part.temperature_c, part.humidity_pct = 31.5, 42.0
    clock.advance_s(5)
    again = sensor.measure()
    assert again is reading  # the driver's kept dict
    assert approx(reading["scd4x_temp_c"], 31.5, 0.003) and approx(reading["scd4x_rh_pct"], 42.0, 0.002), reading


def test_scd4x_new_value_each_period_and_ready_timeout():
    clock = SimClock()
    part = SimSCD4x(clock, co2_ppm=800)
    sensor = SCD4x(_bus(part, 0x62), sleep_ms=clock.sleep_ms)
    assert sensor.measure()["co2_ppm"] == 800
    part.co2_ppm = 1500
    clock.advance_s(5)
    assert sensor.measure()["co2_ppm"] == 1500
    impatient = SCD4x(_bus(part, 0x62), sleep_ms=clock.sleep_ms, ready_timeout_ms=1000)
    part.periodic = False  # the part lost power and came back idle: data never becomes ready
    with raises(NotReadyError, "4 polls"):
        impatient.measure()


def test_scd4x_with_ticks_sleeps_to_the_next_result_instead_of_polling_and_never_waits_when_it_is_there():
    clock = SimClock()
    part = SimSCD4x(clock, co2_ppm=700)
    bus = _bus(part, 0x62)
    sensor = SCD4x(bus, sleep_ms=clock.sleep_ms, ticks_ms=clock.ticks_ms)
    assert sensor.measure()["co2_ppm"] == 700
    polls_first = bus.writes().count(b"\xe4\xb8")
    part.co2_ppm = 720
    assert sensor.measure()["co2_ppm"] == 720  # right after: the next 5 s result
    assert bus.writes().count(b"\xe4\xb8") - polls_first <= 3
    clock.advance_s(60)
    before_ms, polls = clock.now_ms(), bus.writes().count(b"\xe4\xb8")
    part.co2_ppm = 740
    assert sensor.measure()["co2_ppm"] == 740  # long after: ready at once, no sleep
    assert bus.writes().count(b"\xe4\xb8") - polls == 1
    assert clock.now_ms() - before_ms <= 5


def test_scd4x_faults():
    clock = SimClock()
    part = SimSCD4x(clock, co2_ppm=450)
    sensor = SCD4x(_bus(part, 0x62), sleep_ms=clock.sleep_ms)
    part.bad_crc = True
    with raises(CRCError, "data ready"):
        sensor.measure()
    part.bad_crc = False
    clock.advance_s(5)
    part.out_of_range = True
    with raises(SensorError, "outside 1..40000"):
        sensor.measure()
    part.out_of_range = False
    clock.advance_s(5)
    part.drift("co2_ppm", 100)
    clock.advance_s(3600)
    assert sensor.measure()["co2_ppm"] == 550
    part.nack = True
    with raises(OSError):
        sensor.measure()
    with raises(OSError, "0x62"):
        SCD4x(_bus(part, 0x62), sleep_ms=clock.sleep_ms)
