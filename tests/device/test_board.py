# Board configs: every shipped board loads; validation errors name the file and key;
# build_sensors on the sim board reads the simulated truth end to end.
from mpytest import approx, raises
from verdant.board import BoardConfigError, Sensor, build_sensors, load_board
from verdant.drivers.base import CRCError
from verdant.hal.sim import SimClock
from verdant.sim import make_sim_hal

BOARDS = ("esp32_devkitc", "esp32c3", "pico", "pico_w", "pico2", "sim")
ARCHES = {"esp32_devkitc": "xtensawin", "esp32c3": "rv32imc", "pico": "armv6m", "pico_w": "armv6m",
          "pico2": "armv7emsp", "sim": "x64"}
ROOT = "../../boards/"  # tests run with tests/device as the working directory


def _board(name="sim"):
    return load_board(ROOT + name + ".json")


def test_all_six_boards_load_with_their_arch():
    for name in BOARDS:
        config = _board(name)
        assert config["name"] == name
        assert config["arch"] == ARCHES[name], name


def _broken(edit, name="pico"):
    config = _board(name)
    edit(config)
    return config


def _error(config, source="boards/pico.json"):
    with raises(BoardConfigError) as r:
        load_board(config, source)
    return str(r.value)


def test_address_as_string_is_named_with_file_and_key():
    config = _broken(lambda c: c["sensors"][1].__setitem__("address", "0x44"))
    assert _error(config) == "boards/pico.json: sensors[1].address: expected int 0x08..0x77, got '0x44'"


def test_error_messages_name_each_key():
    cases = [
        (lambda c: c.pop("arch"), "(top level): missing key 'arch'"),
        (lambda c: c.__setitem__("colour", "red"), "(top level): unknown key 'colour'"),
        (lambda c: c.__setitem__("arch", "xtensawin"), "arch: expected one of armv6m, armv7emsp, got 'xtensawin'"),
        (lambda c: c.__setitem__("port", "stm32"), "port: expected one of"),
        (lambda c: c.__setitem__("watchdog_timeout_ms", 9000), "watchdog_timeout_ms: expected int 1000..8388, got 9000"),
        (lambda c: c.__setitem__("sleep_mode", "deep"), "sleep_mode: expected one of none, light, got 'deep'"),
        (lambda c: c["model_limits"].pop("ram_bytes"), "model_limits: missing key 'ram_bytes'"),
        (lambda c: c["i2c"][0].__setitem__("freq", 5), "i2c[0].freq: expected int 10000..1000000, got 5"),
        (lambda c: c["i2c"][0].__setitem__("scl", 4), "i2c[0].scl: pin 4 already used by i2c[0].sda"),
        (lambda c: c.__setitem__("onewire_pin", 26), "onewire_pin: pin 26 already used by adc_pins[0]"),
        (lambda c: c["sensors"][0].__setitem__("driver", "sht99"), "sensors[0].driver: expected one of aht20,"),
        (lambda c: c["sensors"][0].__setitem__("address", 0x40), "sensors[0].address: sht3x answers at 0x44 or 0x45, got 0x40"),
        (lambda c: c["sensors"][0].__setitem__("bus", "i2c1"), "sensors[0].bus: expected one of i2c0, got 'i2c1'"),
        (lambda c: c["sensors"][1].__setitem__("name", "air"), "sensors[1].name: sensor name 'air' used twice"),
        (lambda c: c["sensors"][0].__setitem__("period_s", 0), "sensors[0].period_s: expected a number of seconds 1..86400, got 0"),
        (lambda c: c["sensors"][0].__setitem__("period_s", True), "sensors[0].period_s: expected a number"),
        (lambda c: c["sensors"][3].__setitem__("pin", 29), "sensors[3].pin: expected one of adc_pins [26, 27, 28], got 29"),
        (lambda c: c["sensors"][3]["options"].pop("wet"), "sensors[3].options: missing key 'wet'"),
        (lambda c: c["sensors"][3]["options"].__setitem__("wet", 52000), "sensors[3].options: dry and wet calibration are both 52000"),
        (lambda c: c["sensors"][2].__setitem__("options", {"mtreg": 300}), "sensors[2].options.mtreg: expected int 31..254, got 300"),
        (lambda c: c["sensors"][0].__setitem__("quantities", ["co2_ppm"]), "sensors[0].quantities: expected one of air_temp_c, rh_pct"),
        (lambda c: c["sensors"][4].__setitem__("address", "10f1c35a0700008e"), "sensors[4].address: expected a DS18B20 ROM"),
        (lambda c: c["sensors"][4].__setitem__("address", "28f1c35a07000000"), "sensors[4].address: ROM 28f1c35a07000000 has a bad CRC byte (expected 8e)"),
        (lambda c: c.__setitem__("onewire_pin", None), "sensors[4].bus: driver ds18b20 needs onewire_pin, which is null"),
        (lambda c: c["sensors"].append({"name": "air2", "driver": "sht3x", "bus": "i2c0", "address": 68,
                                        "period_s": 60}), "sensors[5]: same address as sensors[0]"),
    ]
    for edit, expected in cases:
        message = _error(_broken(edit))
        assert message.startswith("boards/pico.json: " + expected), (expected, message)


def test_unreadable_or_invalid_json_names_the_file():
    with raises(BoardConfigError, "boards/nope.json: cannot read"):
        load_board("boards/nope.json")
    with raises(BoardConfigError, "not valid JSON"):
        load_board("test_board.py")


def test_ds18b20_rom_address_is_used_by_sim_and_driver():
    config = _board("sim")
    config["sensors"][4]["address"] = "28f1c35a0700008e"
    load_board(config)
    clock = SimClock(start_s=1000)
    hal = make_sim_hal(config, clock, {"soil_temp_c": 9.5})
    assert hal.parts["soil_temp"].rom == b"\x28\xf1\xc3\x5a\x07\x00\x00\x8e"
    soil_temp = build_sensors(config, hal)[4]
    assert soil_temp.measure() == {"soil_temp_c": 9.5}


def _truth(t_s):
    hour = (t_s - 1000) / 3600
    return {"air_temp_c": 15.0 + hour, "rh_pct": 70.0, "co2_ppm": 800 + 10 * hour,
            "light_lux": 2000.0, "soil_moisture_pct": 35.0, "soil_temp_c": 12.25}


def test_sim_board_sensors_read_the_truth_feed():
    config = _board("sim")
    clock = SimClock(start_s=1000)
    hal = make_sim_hal(config, clock, _truth)
    sensors = build_sensors(config, hal)
    assert [s.name for s in sensors] == ["air", "co2", "light", "soil", "soil_temp"]
    assert sensors[0].quantities == ("air_temp_c", "rh_pct")
    assert sensors[3].period_s == 300
    readings = {}
    for s in sensors:
        readings.update(s.measure())
    assert approx(readings["air_temp_c"], 15.0, 0.01)
    assert approx(readings["rh_pct"], 70.0, 0.01)
    assert approx(readings["light_lux"], 2000.0, 0.5)
    assert approx(readings["soil_moisture_pct"], 35.0, 0.01)
    assert readings["soil_temp_c"] == 12.25
    assert 800 <= readings["co2_ppm"] <= 802  # first CO2 result comes 5 s after start
    clock.advance_s(7200)
    assert approx(sensors[0].measure()["air_temp_c"], 17.0, 0.05)
    assert 819 <= sensors[1].measure()["co2_ppm"] <= 821


def test_truth_object_with_at_and_fault_injection_through_parts():
    class Greenhouse:
        def at(self, t_s):
            return {"air_temp_c": 4.0, "rh_pct": 95.0}

    config = _board("sim")
    clock = SimClock()
    hal = make_sim_hal(config, clock, Greenhouse())
    air = build_sensors(config, hal)[0]
    assert approx(air.measure()["rh_pct"], 95.0, 0.01)
    hal.parts["air"].bad_crc = True
    with raises(CRCError):
        air.measure()


def test_sensor_absent_at_boot_fails_then_recovers():
    config = _board("sim")
    clock = SimClock()
    hal = make_sim_hal(config, clock, {"light_lux": 150.0})
    light = build_sensors(config, hal)[2]
    hal.parts["light"].nack = True
    with raises(OSError, "0x23"):
        light.measure()
    assert light.device is None
    hal.parts["light"].nack = False
    assert approx(light.measure()["light_lux"], 150.0, 0.5)


def test_quantities_subset_is_honoured():
    config = _board("sim")
    config["sensors"][0] = {"name": "air", "driver": "bme280", "bus": "i2c0", "address": 0x76,
                            "period_s": 60, "quantities": ["pressure_hpa"]}
    load_board(config)
    hal = make_sim_hal(config, SimClock(), {"pressure_hpa": 990.0})
    barometer = build_sensors(config, hal)[0]
    assert barometer.quantities == ("pressure_hpa",)
    reading = barometer.measure()
    assert list(reading) == ["pressure_hpa"]
    assert approx(reading["pressure_hpa"], 990.0, 0.02)


def test_esp32c3_dht_board_builds_and_reads():
    config = _board("esp32c3")
    config["port"], config["arch"], config["sleep_mode"] = "unix", "x64", "none"
    load_board(config)
    clock = SimClock()
    hal = make_sim_hal(config, clock, {"air_temp_c": -2.5, "rh_pct": 88.0})
    air = build_sensors(config, hal)[0]
    reading = air.measure()
    assert approx(reading["air_temp_c"], -2.5, 1e-9)
    assert approx(reading["rh_pct"], 88.0, 1e-9)
    assert isinstance(air, Sensor)
