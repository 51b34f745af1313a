# BME280 driver: datasheet compensation values and the byte-level simulated part.
from mpytest import approx, raises
from verdant.drivers.base import SensorError
from verdant.drivers.bme280 import BME280, compensate_humidity, compensate_pressure, compensate_temperature
from verdant.hal.sim import SimClock, SimI2C
from verdant.sim.bme280 import DATASHEET_CALIBRATION, SimBME280, float_humidity, float_temperature
from verdant.sim.recorder import RecordingI2C

CAL = DATASHEET_CALIBRATION


def _sensor(part, address=0x76):
    bus = SimI2C()
    bus.attach(address, part)
    rec = RecordingI2C(bus)
    return BME280(rec, address=address, sleep_ms=part.clock.sleep_ms), rec


def test_temperature_matches_datasheet_worked_example():
    # BMP280 datasheet 3.12: adc_T 519888 -> t_fine 128422, T 25.08 C.
    centi_c, t_fine = compensate_temperature(519888, CAL)
    assert t_fine == 128422
    assert centi_c == 2508


def test_pressure_matches_datasheet_worked_example():
    # Same example: adc_P 415148 -> 100653.27 Pa (the datasheet's floating-point result;
    # the 64-bit integer code agrees to within its 1/256 Pa resolution plus rounding).
    pressure_q24_8 = compensate_pressure(415148, 128422, CAL)
    assert approx(pressure_q24_8 / 256, 100653.27, 0.05)


def test_humidity_integer_code_agrees_with_datasheet_float_formula():
    for adc_t in (400000, 519888, 600000):
        _, t_fine = compensate_temperature(adc_t, CAL)
        _, t_fine_f = float_temperature(adc_t, CAL)
        for adc_h in (20000, 27000, 30000, 36000):
            expected = float_humidity(adc_h, t_fine_f, CAL)
            assert approx(compensate_humidity(adc_h, t_fine, CAL) / 1024, expected, 0.02), (adc_t, adc_h)


def test_humidity_clamps_to_0_and_100():
    _, t_fine = compensate_temperature(519888, CAL)
    assert compensate_humidity(0, t_fine, CAL) == 0
    assert compensate_humidity(0xFFFF, t_fine, CAL) == 100 << 10


def test_init_and_measure_bytes_on_the_bus():
    clock = SimClock()
    sensor, rec = _sensor(SimBME280(clock))
    assert sensor.calibration == CAL
    assert rec.writes()[:3] == [b"\xd0", b"\xe0\xb6", b"\xf3"]
    assert rec.writes()[3:] == [b"\x88", b"\xe1", b"\xf2\x01", b"\xf5\x00"]
    del rec.log[:]
    sensor.measure()
    # forced mode, T and P oversampling x1: 001 001 01; then status, then 8 data bytes
    assert rec.writes() == [b"\xf4\x25", b"\xf3", b"\xf7"]
    assert len(rec.reads()[-1]) == 8


def test_measure_recovers_the_physical_truth():
    clock = SimClock()
    part = SimBME280(clock, temperature_c=18.4, humidity_pct=71.5, pressure_hpa=987.6)
    sensor, _ = _sensor(part)
    reading = sensor.measure()
    assert approx(reading["air_temp_c"], 18.4, 0.011)
    assert approx(reading["rh_pct"], 71.5, 0.05)
    assert approx(reading["pressure_hpa"], 987.6, 0.02)
    part.temperature_c, part.humidity_pct, part.pressure_hpa = -12.0, 20.0, 1040.0
    reading = sensor.measure()
    assert approx(reading["air_temp_c"], -12.0, 0.011)
    assert approx(reading["rh_pct"], 20.0, 0.05)
    assert approx(reading["pressure_hpa"], 1040.0, 0.02)


def test_wrong_chip_or_absent_is_oserror_naming_address():
    clock = SimClock()
    with raises(OSError, "chip id 0x58"):
        _sensor(SimBME280(clock, chip_id=0x58))
    with raises(OSError, "0x77"):
        BME280(SimI2C(), address=0x77)


def test_faults():
    clock = SimClock()
    part = SimBME280(clock, temperature_c=22.0)
    sensor, _ = _sensor(part, 0x77)
    part.out_of_range = True
    with raises(SensorError, "outside -40..85"):
        sensor.measure()
    part.out_of_range = False
    part.stick()
    part.temperature_c = 35.0
    assert approx(sensor.measure()["air_temp_c"], 22.0, 0.011)
    part.unstick()
    part.drift("pressure_hpa", -1.5)
    clock.advance_s(4 * 3600)
    assert approx(sensor.measure()["pressure_hpa"], 1013.25 - 6.0, 0.02)
    part.nack = True
    with raises(OSError):
        sensor.measure()
    part.nack = False
    part.regs[0xE0] = 0
    part.write(b"\xe0\xb6")  # the part resets behind the driver's back: results read "skipped"
    part.write(b"\xf2\x00")
    with raises(SensorError, "skipped"):
        sensor.measure()


def test_polling_is_bounded_when_time_stands_still():
    clock = SimClock()
    part = SimBME280(clock)
    bus = SimI2C()
    bus.attach(0x76, part)
    time_flows = [True]

    def sleep_ms(ms):
        if time_flows[0]:
            clock.sleep_ms(ms)

    sensor = BME280(bus, sleep_ms=sleep_ms)
    time_flows[0] = False  # the conversion never ends
    with raises(SensorError, "still measuring"):
        sensor.measure()
