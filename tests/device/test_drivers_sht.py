# SHT3x / SHT4x drivers against their byte-level simulations (run inside micropython).
from mpytest import approx, raises
from verdant.drivers.base import CRCError, SensorError, crc8_dallas, crc8_sensirion
from verdant.drivers.sht3x import SHT3x
from verdant.drivers.sht4x import SHT4x
from verdant.hal.sim import SimClock, SimI2C
from verdant.sim.recorder import RecordingI2C
from verdant.sim.sensirion import SimSHT3x, SimSHT4x


def _bus(part, address=0x44):
    bus = SimI2C()
    bus.attach(address, part)
    return RecordingI2C(bus)


def test_sensirion_crc_datasheet_example():
    assert crc8_sensirion(b"\xbe\xef") == 0x92


def test_dallas_crc_maxim_application_note_rom():
    # Maxim AN27 example ROM: family 0x02, serial 0x000001B81C, CRC 0xA2.
    rom = b"\x02\x1c\xb8\x01\x00\x00\x00"
    assert crc8_dallas(rom) == 0xA2
    assert crc8_dallas(rom + b"\xa2") == 0


def _bitwise_crc8(data, poly, init, msb_first):
    # the definition, one bit at a time: what the drivers' lookup tables must agree with
    crc = init
    for byte in data:
        crc ^= byte
        for _ in range(8):
            if msb_first:
                crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
            else:
                crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


def test_table_crcs_agree_with_the_bitwise_definition_for_every_byte_and_in_sequence():
    for value in range(256):
        one = bytes((value,))
        assert crc8_sensirion(one) == _bitwise_crc8(one, 0x31, 0xFF, True), value
        assert crc8_dallas(one) == _bitwise_crc8(one, 0x8C, 0, False), value
    data = bytes((i * 73 + 19) & 0xFF for i in range(40))
    for start, end in ((0, 40), (3, 5), (7, 31)):
        assert crc8_sensirion(data, start, end) == _bitwise_crc8(data[start:end], 0x31, 0xFF, True)
        assert crc8_dallas(data, start, end) == _bitwise_crc8(data[start:end], 0x8C, 0, False)


def test_sht3x_exact_bytes_and_values():
    clock = SimClock()
    part = SimSHT3x(clock, temperature_c=25.0, humidity_pct=60.0)
    bus = _bus(part)
    sensor = SHT3x(bus, sleep_ms=clock.sleep_ms)
    assert sensor.status == 0x8010
    t0 = clock.now_ms()
    reading = sensor.measure()
    # 25.0 C -> code 0x6666 (0.4 of full scale), 60 %RH -> 0x9999 (0.6): both exact.
    assert bus.writes() == [b"\xf3\x2d", b"\x24\x00"]
    assert bus.reads() == [b"\x80\x10\xe1", b"\x66\x66\x93\x99\x99\xbe"]
    assert reading == {"air_temp_c": 25.0, "rh_pct": 60.0}
    assert clock.now_ms() - t0 >= 15  # waited out the conversion


def test_sht3x_polls_until_conversion_done_and_gives_up_bounded():
    clock = SimClock()
    part = SimSHT3x(clock, temperature_c=10.0, humidity_pct=40.0)
    never_sleeps = []
    sensor = SHT3x(_bus(part), sleep_ms=never_sleeps.append)
    with raises(OSError):
        sensor.measure()  # time never advances, the part keeps NACKing
    assert never_sleeps == [16, 2, 2, 2, 2]


def test_sht3x_absent_names_address():
    with raises(OSError, "0x45"):
        SHT3x(SimI2C(), address=0x45)


def test_sht3x_faults():
    clock = SimClock()
    part = SimSHT3x(clock, temperature_c=20.0, humidity_pct=50.0)
    sensor = SHT3x(_bus(part), sleep_ms=clock.sleep_ms)
    part.bad_crc = True
    with raises(CRCError, "SHT3x measurement at 0x44: word 0 CRC"):
        sensor.measure()
    part.bad_crc = False
    part.out_of_range = True
    with raises(SensorError, "outside"):
        sensor.measure()
    part.out_of_range = False
    part.stick()
    part.temperature_c = 30.0
    assert approx(sensor.measure()["air_temp_c"], 20.0, 0.003)
    part.unstick()
    part.drift("temperature_c", 0.5)
    clock.advance_s(7200)
    assert approx(sensor.measure()["air_temp_c"], 31.0, 0.003)
    part.nack = True
    with raises(OSError):
        sensor.measure()
    part.nack = False
    part.drift("temperature_c", 0)
    assert approx(sensor.measure()["air_temp_c"], 30.0, 0.003)


def test_sht3x_follows_truth_feed():
    clock = SimClock()
    part = SimSHT3x(clock)
    part.feed = lambda: {"air_temp_c": -5.5, "rh_pct": 97.0}
    reading = SHT3x(_bus(part), sleep_ms=clock.sleep_ms).measure()
    assert approx(reading["air_temp_c"], -5.5, 0.003)
    assert approx(reading["rh_pct"], 97.0, 0.002)


def test_sht4x_exact_bytes_and_values():
    clock = SimClock()
    # RH code 0x6666 -> -6 + 125*0.4 = 44.0 %RH exactly.
    part = SimSHT4x(clock, temperature_c=25.0, humidity_pct=44.0, serial=0x12345678)
    bus = _bus(part)
    sensor = SHT4x(bus, sleep_ms=clock.sleep_ms)
    assert sensor.serial == 0x12345678
    assert sensor.measure() == {"air_temp_c": 25.0, "rh_pct": 44.0}
    assert bus.writes() == [b"\x89", b"\xfd"]
    assert bus.reads()[1] == b"\x66\x66\x93\x66\x66\x93"


def test_sht4x_crops_humidity_and_faults():
    clock = SimClock()
    part = SimSHT4x(clock, temperature_c=5.0, humidity_pct=103.0)  # code above 100 %RH
    sensor = SHT4x(_bus(part), sleep_ms=clock.sleep_ms)
    assert sensor.measure()["rh_pct"] == 100.0
    part.bad_crc = True
    with raises(CRCError):
        sensor.measure()
    part.bad_crc = False
    part.out_of_range = True
    with raises(SensorError, "outside -40..125"):
        sensor.measure()
    part.nack = True
    with raises(OSError):
        sensor.measure()


def test_sht4x_bad_serial_crc_fails_constructor_with_address():
    clock = SimClock()
    part = SimSHT4x(clock)
    part.bad_crc = True
    with raises(OSError, "0x44"):
        SHT4x(_bus(part), sleep_ms=clock.sleep_ms)
