# Every driver on one simulated board, through build_sensors, against every fault
# its part can show: disconnection, bad CRC, out of range, stuck value and drift.
from mpytest import approx, raises
from every_driver import every_driver_sensors
from verdant.board import build_sensors, load_board
from verdant.drivers.base import CRCError, SensorError
from verdant.hal.sim import SimClock
from verdant.sim import SIM_START_S, make_sim_hal

CONFIG = {
    "name": "all_parts", "port": "unix", "arch": "x64", "micropython": "1.28.0",
    "model_limits": {"flash_bytes": 65536, "ram_bytes": 65536},
    "i2c": [{"id": 0, "sda": 0, "scl": 1, "freq": 100000}, {"id": 1, "sda": 2, "scl": 3, "freq": 400000}],
    "adc_pins": [26], "onewire_pin": 22, "dht_pin": 15,
    "sensors": every_driver_sensors(26),
    "watchdog_timeout_ms": 30000, "sleep_mode": "none",
}
ENV = {"air_temp_c": 21.0, "rh_pct": 60.0, "co2_ppm": 700, "light_lux": 800.0, "soil_moisture_pct": 45.0,
       "soil_temp_c": 16.0, "pressure_hpa": 1000.0}
# sensor -> (the part attribute to drift, the reading it shows up in, tolerance of the reading)
CHECKED = {
    "sht3x": ("temperature_c", "air_temp_c", 0.01), "sht4x": ("temperature_c", "air_temp_c", 0.01),
    "aht20": ("temperature_c", "air_temp_c", 0.01), "bme280": ("temperature_c", "air_temp_c", 0.011),
    "bh1750": ("lux", "light_lux", 0.5), "scd4x": ("co2_ppm", "co2_ppm", 0.5),
    "dht22": ("temperature_c", "air_temp_c", 0.051), "ds18b20": ("temperature_c", "soil_temp_c", 0.07),
    "soil": ("moisture_pct", "soil_moisture_pct", 0.01),
}
WITHOUT_CRC = ("bme280", "bh1750", "soil")


def _board():
    env = dict(ENV)
    clock = SimClock(start_s=SIM_START_S)
    config = load_board(CONFIG)
    hal = make_sim_hal(config, clock, env)
    sensors = {s.name: s for s in build_sensors(config, hal)}
    return sensors, hal, clock, env


def _read(sensor, clock):
    clock.advance_s(sensor.period_s)  # the sampler's pace: lets DHT22/SCD4x have new data
    return sensor.measure()


def test_every_driver_reads_the_truth():
    sensors, hal, clock, env = _board()
    for name, (attr, quantity, tol) in CHECKED.items():
        reading = _read(sensors[name], clock)
        assert approx(reading[quantity], ENV[quantity], tol), (name, reading)
        assert sorted(reading) == sorted(sensors[name].quantities), name


def test_every_driver_reports_disconnection_as_oserror_and_recovers():
    sensors, hal, clock, env = _board()
    for name in CHECKED:
        _read(sensors[name], clock)
        hal.parts[name].nack = True
        if name == "soil":
            with raises(SensorError, "disconnected"):  # an ADC cannot NACK: the pin reads 0
                _read(sensors[name], clock)
        else:
            with raises(OSError):
                _read(sensors[name], clock)
        hal.parts[name].nack = False
        _read(sensors[name], clock)


def test_every_checksummed_driver_raises_crc_error():
    sensors, hal, clock, env = _board()
    for name in CHECKED:
        if name in WITHOUT_CRC:
            continue
        _read(sensors[name], clock)
        hal.parts[name].bad_crc = True
        with raises(CRCError):
            _read(sensors[name], clock)
        hal.parts[name].bad_crc = False


def test_every_driver_rejects_out_of_range_codes():
    sensors, hal, clock, env = _board()
    for name in CHECKED:
        _read(sensors[name], clock)
        hal.parts[name].out_of_range = True
        with raises(SensorError):
            _read(sensors[name], clock)
        hal.parts[name].out_of_range = False


def test_stuck_parts_repeat_and_drifting_parts_drift():
    sensors, hal, clock, env = _board()
    for name, (attr, quantity, tol) in CHECKED.items():
        part = hal.parts[name]
        first = _read(sensors[name], clock)[quantity]
        part.stick()
        env[quantity] = ENV[quantity] * 0.5
        assert approx(_read(sensors[name], clock)[quantity], first, tol), name
        part.unstick()
        assert approx(_read(sensors[name], clock)[quantity], ENV[quantity] * 0.5, tol), name
        env[quantity] = ENV[quantity]
        part.drift(attr, 4.0)
        clock.advance_s(1800)  # + half an hour (plus the read's own period) of drift
        start = clock.now_ms()
        value = _read(sensors[name], clock)[quantity]
        hours = (clock.now_ms() - start) / 3600000 + 0.5
        assert approx(value, ENV[quantity] + 4.0 * hours, tol), (name, value)
        part.drift(attr, 0)
