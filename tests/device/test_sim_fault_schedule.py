# Sensor faults scheduled in simulated time (make_sim_hal(..., faults=[...])).
from mpytest import approx, raises
from verdant.board import build_sensors, load_board
from verdant.drivers.base import CRCError, SensorError
from verdant.hal.sim import SimClock
from verdant.sim import make_sim_hal

from verdant.sim import SIM_START_S as T0  # 2026-01-01 00:00 UTC
HOUR = 3600
ENV = {"air_temp_c": 20.0, "rh_pct": 60.0, "co2_ppm": 600, "light_lux": 1000.0,
       "soil_moisture_pct": 40.0, "soil_temp_c": 15.0}


def _board(faults):
    config = load_board("../../boards/sim.json")
    clock = SimClock(start_s=T0)
    env = dict(ENV)
    hal = make_sim_hal(config, clock, env, faults)
    return {s.name: s for s in build_sensors(config, hal)}, hal, clock, env


def _at(clock, t_s):
    clock.sleep_ms(t_s * 1000 - clock.now_ms())


def test_dropout_window_fails_readings_only_inside_it():
    sensors, hal, clock, env = _board([{"kind": "sensor_dropout", "sensor": "soil", "start_s": T0 + HOUR,
                                        "end_s": T0 + 2 * HOUR}])
    assert sensors["soil"].measure() == {"soil_moisture_pct": 40.0}
    _at(clock, T0 + HOUR)
    with raises(SensorError, "disconnected"):
        sensors["soil"].measure()
    _at(clock, T0 + 2 * HOUR)
    assert sensors["soil"].measure() == {"soil_moisture_pct": 40.0}


def test_i2c_dropout_nacks_and_bad_crc_window():
    sensors, hal, clock, env = _board([
        {"kind": "dropout", "quantity": "light_lux", "start_s": T0 + 60, "end_s": T0 + 120},
        {"kind": "bad_crc", "sensor": "air", "start_s": T0 + 60, "end_s": T0 + 120}])
    sensors["light"].measure()
    sensors["air"].measure()
    _at(clock, T0 + 60)
    assert 0x23 not in hal.i2c(0).scan()
    with raises(OSError):
        sensors["light"].measure()
    with raises(CRCError):
        sensors["air"].measure()
    _at(clock, T0 + 120)
    assert 0x23 in hal.i2c(0).scan()
    assert approx(sensors["air"].measure()["air_temp_c"], 20.0, 0.01)


def test_stuck_window_freezes_at_its_start_then_follows_truth_again():
    sensors, hal, clock, env = _board([{"kind": "stuck", "quantity": "air_temp_c", "start_s": T0 + HOUR,
                                        "end_s": T0 + 3 * HOUR}])
    _at(clock, T0 + HOUR)
    assert approx(sensors["air"].measure()["air_temp_c"], 20.0, 0.01)
    env["air_temp_c"] = 5.0
    _at(clock, T0 + 2 * HOUR)
    assert approx(sensors["air"].measure()["air_temp_c"], 20.0, 0.01)
    _at(clock, T0 + 3 * HOUR)
    assert approx(sensors["air"].measure()["air_temp_c"], 5.0, 0.01)


def test_drift_window_grows_from_its_start():
    sensors, hal, clock, env = _board([{"kind": "drift", "quantity": "rh_pct", "per_hour": 3.0,
                                        "start_s": T0 + HOUR, "end_s": T0 + 5 * HOUR}])
    _at(clock, T0 + 3 * HOUR)
    reading = sensors["air"].measure()
    assert approx(reading["rh_pct"], 66.0, 0.01)
    assert approx(reading["air_temp_c"], 20.0, 0.01)  # only the named quantity drifts
    _at(clock, T0 + 6 * HOUR)
    assert approx(sensors["air"].measure()["rh_pct"], 60.0, 0.01)


def test_spikes_are_deterministic_and_about_as_frequent_as_asked():
    def run():
        sensors, hal, clock, env = _board([{"kind": "spikes", "quantity": "co2_ppm", "size": 1500,
                                            "probability": 0.25, "start_s": T0, "end_s": T0 + 10 * HOUR}])
        values = []
        for _ in range(200):
            clock.advance_s(60)
            try:
                values.append(sensors["co2"].measure()["co2_ppm"])
            except SensorError:
                values.append(None)  # a spike below 0 ppm is sent as 0, which the driver rejects
        return values

    first = run()
    assert first == run()
    ups, downs = first.count(2100), first.count(None)
    assert ups + downs + first.count(600) == 200
    assert ups > 10 and downs > 10, (ups, downs)
    assert 25 <= ups + downs <= 75, (ups, downs)


def test_out_of_range_window():
    sensors, hal, clock, env = _board([{"kind": "out_of_range", "sensor": "soil_temp", "start_s": T0,
                                        "end_s": T0 + 600}])
    with raises(SensorError, "outside -55..125"):
        sensors["soil_temp"].measure()
    _at(clock, T0 + 600)
    assert sensors["soil_temp"].measure() == {"soil_temp_c": 15.0}


def test_bad_fault_lists_name_the_entry():
    config = load_board("../../boards/sim.json")
    cases = [
        ({"kind": "melt", "sensor": "air", "start_s": 0, "end_s": 1}, "faults[0].kind: expected one of"),
        ({"kind": "stuck", "sensor": "fan", "start_s": 0, "end_s": 1}, "faults[0].sensor: no sensor named 'fan'"),
        ({"kind": "stuck", "quantity": "pressure_hpa", "start_s": 0, "end_s": 1},
         "faults[0].quantity: no sensor on this board measures 'pressure_hpa'"),
        ({"kind": "stuck", "start_s": 0, "end_s": 1}, "faults[0]: give sensor or quantity"),
        ({"kind": "stuck", "sensor": "air", "start_s": 5, "end_s": 5}, "faults[0]: end_s 5 must be after start_s 5"),
        ({"kind": "stuck", "sensor": "air", "start_s": "soon", "end_s": 5}, "faults[0].start_s: expected seconds"),
        ({"kind": "drift", "sensor": "air", "per_hour": 1, "start_s": 0, "end_s": 1},
         "faults[0]: drift on sensor 'air' needs a quantity (air_temp_c, rh_pct)"),
        ({"kind": "drift", "sensor": "soil", "start_s": 0, "end_s": 1}, "faults[0].per_hour: drift needs a number"),
        ({"kind": "stuck", "sensor": "air", "start_s": 0, "end_s": 1, "colour": 1}, "faults[0]: unknown key 'colour'"),
    ]
    for spec, expected in cases:
        with raises(ValueError, expected):
            make_sim_hal(config, SimClock(), None, [spec])


def test_stuck_window_on_one_quantity_leaves_the_other_following_truth():
    sensors, hal, clock, env = _board([{"kind": "stuck", "quantity": "rh_pct", "start_s": T0, "end_s": T0 + HOUR}])
    sensors["air"].measure()
    env["air_temp_c"], env["rh_pct"] = 25.0, 90.0
    clock.advance_s(600)
    reading = sensors["air"].measure()
    assert approx(reading["air_temp_c"], 25.0, 0.01)
    assert approx(reading["rh_pct"], 60.0, 0.01)


def test_noise_is_deterministic_with_datasheet_size_and_off_when_stuck():
    config = load_board("../../boards/sim.json")

    def run(faults=None):
        clock = SimClock(start_s=T0)
        hal = make_sim_hal(config, clock, dict(ENV), faults, noise=True)
        air = build_sensors(config, hal)[0]
        values = []
        for _ in range(300):
            clock.advance_s(60)
            values.append(air.measure()["air_temp_c"])
        return values

    values = run()
    assert values == run()
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    assert approx(mean, 20.0, 0.01)
    assert 0.025 < sd < 0.055, sd  # SHT3x repeatability 0.04 C (plus 0.003 C code steps)
    stuck = run([{"kind": "stuck", "sensor": "air", "start_s": T0, "end_s": T0 + 2 * 86400}])
    assert len(set(stuck)) == 1


def test_set_noise_rejects_unknown_quantity():
    from verdant.sim.sensirion import SimSHT3x
    with raises(ValueError, "no quantity 'lux'"):
        SimSHT3x(SimClock()).set_noise({"lux": 1.0})
