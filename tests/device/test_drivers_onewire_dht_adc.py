# DS18B20 (1-Wire), DHT22 (port dht module) and capacitive soil moisture (ADC) drivers.
from mpytest import approx, raises
from verdant.drivers.base import CRCError, SensorError
from verdant.drivers.dht22 import DHT22
from verdant.drivers.ds18b20 import DS18B20
from verdant.drivers.soil_moisture import CapacitiveSoilMoisture
from verdant.hal.sim import SimClock
from verdant.sim.dht_adc import SimADC, SimDHT22Part, SimDHTModule, SimPin, SimSoilProbe
from verdant.sim.onewire import SimDS18B20, SimOneWire

ROM = b"\x28\xf1\xc3\x5a\x07\x00\x00\x8e"


def _onewire(*parts):
    bus = SimOneWire()
    for p in parts:
        bus.attach(p)
    return bus


def test_ds18b20_exact_bus_traffic_and_datasheet_value():
    clock = SimClock()
    part = SimDS18B20(clock, temperature_c=25.0625, serial=0x0000075AC3F1)
    assert part.rom == ROM
    bus = _onewire(part)
    probe = DS18B20(bus, sleep_ms=clock.sleep_ms)
    assert probe.address == ROM
    assert bus.log == [("reset",), ("w", b"\x55" + ROM + b"\x4e"), ("w", b"\x4b\x46\x7f")]
    del bus.log[:]
    t0 = clock.now_ms()
    assert probe.measure() == {"soil_temp_c": 25.0625}
    assert clock.now_ms() - t0 >= 750
    # datasheet table: +25.0625 C = 0x0191
    assert bus.log == [("reset",), ("w", b"\x55" + ROM + b"\x44"), ("reset",), ("w", b"\x55" + ROM + b"\xbe"),
                       ("r", b"\x91\x01\x4b\x46\x7f\xff\x0c\x10\x70")]


def test_ds18b20_negative_and_resolution():
    clock = SimClock()
    part = SimDS18B20(clock, temperature_c=-10.125)
    probe = DS18B20(_onewire(part), sleep_ms=clock.sleep_ms)
    assert probe.read_raw() == -162  # datasheet table: -10.125 C = 0xFF5E
    low = DS18B20(_onewire(part), address=part.rom, resolution=9, sleep_ms=clock.sleep_ms)
    part.temperature_c = 21.3
    t0 = clock.now_ms()
    assert low.measure() == {"soil_temp_c": 21.0}  # 9 bits: 0.5 C steps, low bits 0
    assert clock.now_ms() - t0 < 200
    with raises(ValueError, "9..12"):
        DS18B20(_onewire(part), resolution=8)


def test_ds18b20_address_checks():
    clock = SimClock()
    with raises(OSError, "0 found"):
        DS18B20(_onewire(), sleep_ms=clock.sleep_ms)
    with raises(OSError, "2 found"):
        DS18B20(_onewire(SimDS18B20(clock), SimDS18B20(clock, serial=7)), sleep_ms=clock.sleep_ms)
    bad = bytearray(ROM)
    bad[7] ^= 1
    with raises(OSError, "not a valid DS18B20 ROM"):
        DS18B20(_onewire(SimDS18B20(clock)), address=bad)


def test_ds18b20_picks_its_rom_among_two():
    clock = SimClock()
    a, b = SimDS18B20(clock, 11.0, serial=1), SimDS18B20(clock, 22.0, serial=2)
    bus = _onewire(a, b)
    assert DS18B20(bus, address=b.rom, sleep_ms=clock.sleep_ms).measure() == {"soil_temp_c": 22.0}
    assert DS18B20(bus, address=a.rom, sleep_ms=clock.sleep_ms).measure() == {"soil_temp_c": 11.0}


def test_ds18b20_faults():
    clock = SimClock()
    part = SimDS18B20(clock, temperature_c=12.5)
    probe = DS18B20(_onewire(part), sleep_ms=clock.sleep_ms)
    part.bad_crc = True
    with raises(CRCError, "scratchpad CRC"):
        probe.measure()
    part.bad_crc = False
    part.out_of_range = True
    with raises(SensorError, "outside -55..125"):
        probe.measure()
    part.out_of_range = False
    part.drift("temperature_c", 0.25)
    clock.advance_s(4 * 3600)
    assert probe.measure() == {"soil_temp_c": 13.5}
    part.nack = True
    with raises(OSError, "no presence"):
        probe.measure()


def test_ds18b20_conversion_not_done_and_power_on_85():
    clock = SimClock()
    part = SimDS18B20(clock)
    hasty = DS18B20(_onewire(part), sleep_ms=lambda ms: None)
    with raises(SensorError, "conversion not done"):
        hasty.measure()

    def brown_out_while_converting(ms):
        clock.sleep_ms(ms)
        part.power_cycle()

    unlucky = DS18B20(_onewire(part), sleep_ms=brown_out_while_converting)
    with raises(SensorError, "85.0 C power-on"):
        unlucky.measure()


def _dht(part, clock):
    return DHT22(SimPin(15, part), dht_module=SimDHTModule, sleep_ms=clock.sleep_ms)


def test_dht22_values_including_negative():
    clock = SimClock()
    part = SimDHT22Part(clock, temperature_c=-3.4, humidity_pct=81.2)
    clock.advance_s(2)
    sensor = _dht(part, clock)
    clock.advance_s(2)
    reading = sensor.measure()
    assert approx(reading["air_temp_c"], -3.4, 1e-9)
    assert approx(reading["rh_pct"], 81.2, 1e-9)


def test_dht22_too_fast_read_retries_after_2s():
    clock = SimClock()
    part = SimDHT22Part(clock, temperature_c=20.0, humidity_pct=40.0)
    sensor = _dht(part, clock)
    t0 = clock.now_ms()
    assert approx(sensor.measure()["rh_pct"], 40.0, 1e-9)  # first attempt times out, retry works
    assert clock.now_ms() - t0 == 2000


def test_dht22_faults():
    clock = SimClock()
    part = SimDHT22Part(clock, temperature_c=20.0, humidity_pct=40.0)
    sensor = _dht(part, clock)
    clock.advance_s(3)
    part.bad_crc = True
    with raises(CRCError, "pin 15"):
        sensor.measure()
    part.bad_crc = False
    clock.advance_s(3)
    part.out_of_range = True
    with raises(SensorError, "outside"):
        sensor.measure()
    part.out_of_range = False
    clock.advance_s(3)
    part.nack = True
    with raises(OSError):
        sensor.measure()
    with raises(OSError, "pin 15"):
        _dht(part, clock)
    with raises(OSError, "pin 4"):
        DHT22(SimPin(4), dht_module=SimDHTModule, sleep_ms=clock.sleep_ms)


def test_soil_moisture_calibration_and_clamping():
    clock = SimClock()
    probe = SimSoilProbe(clock, moisture_pct=25.0, dry_raw=52000, wet_raw=22000)
    adc = SimADC(probe)
    soil = CapacitiveSoilMoisture(adc, dry=52000, wet=22000, samples=4)
    assert soil.measure() == {"soil_moisture_pct": 25.0}  # raw 44500
    assert adc.reads == 4
    fixed = CapacitiveSoilMoisture(SimADC(value=53500), dry=52000, wet=22000)
    assert fixed.measure() == {"soil_moisture_pct": 0.0}  # slightly drier than "dry": clamped
    fixed = CapacitiveSoilMoisture(SimADC(value=20000), dry=52000, wet=22000)
    assert fixed.measure() == {"soil_moisture_pct": 100.0}


def test_soil_moisture_faults_and_bad_calibration():
    clock = SimClock()
    probe = SimSoilProbe(clock, moisture_pct=60.0)
    soil = CapacitiveSoilMoisture(SimADC(probe), dry=52000, wet=22000)
    probe.nack = True  # unplugged: pin pulled to 0
    with raises(SensorError, "raw 0 far outside"):
        soil.measure()
    probe.nack = False
    probe.out_of_range = True
    with raises(SensorError, "65535"):
        soil.measure()
    probe.out_of_range = False
    probe.stick()
    probe.moisture_pct = 10.0
    assert approx(soil.measure()["soil_moisture_pct"], 60.0, 0.01)
    with raises(ValueError, "both 30000"):
        CapacitiveSoilMoisture(SimADC(), dry=30000, wet=30000)
    with raises(ValueError, "dry must be an int 0..65535"):
        CapacitiveSoilMoisture(SimADC(), dry=70000, wet=1000)


def test_dht22_frame_matches_datasheet_examples():
    # AM2302 datasheet: 65.2 %RH = 0x028C, 35.1 C = 0x015F, checksum 0xEE; -10.1 C = 0x8065.
    clock = SimClock()
    part = SimDHT22Part(clock, temperature_c=35.1, humidity_pct=65.2)
    assert part.frame() == b"\x02\x8c\x01\x5f\xee"
    clock.advance_s(2)
    part.temperature_c = -10.1
    frame = part.frame()
    assert frame[2:4] == b"\x80\x65"
    clock.advance_s(2)
    module_sensor = SimDHTModule.DHT22(SimPin(15, part))
    module_sensor.measure()
    assert approx(module_sensor.temperature(), -10.1, 1e-9)
