"""Greenhouse simulator: determinism, physical sanity of each injected event, CSV format."""
import csv
import io
import math

import numpy as np
import pytest

from verdant_host import greenhouse as g

HOUR = 3600


def run_pair(kind, doy, start_h, duration_h, days=2.0, seed=5):
    """The same weather with and without one event."""
    base = g.simulate(g.Scenario(seed=seed, days=days, start_doy=doy))
    hit = g.simulate(g.Scenario(seed=seed, days=days, start_doy=doy,
                                events=[g.Event(kind, start_h * HOUR, duration_h * HOUR)]))
    window = (base.t >= start_h * HOUR) & (base.t < (start_h + duration_h) * HOUR)
    return base, hit, window


def test_same_seed_gives_identical_data_and_other_seed_differs():
    a = g.simulate(g.random_scenario(11, days=3)).sample(300)
    b = g.simulate(g.random_scenario(11, days=3)).sample(300)
    c = g.simulate(g.random_scenario(12, days=3)).sample(300)
    for q in g.QUANTITIES:
        np.testing.assert_array_equal(a[q], b[q])
    assert not np.allclose(a["air_temp_c"], c["air_temp_c"], equal_nan=True)


def test_values_stay_physical_without_faults():
    for seed in range(6):
        sim = g.simulate(g.Scenario(seed=seed, days=3, start_doy=1 + 60 * seed))
        v = sim.truth_values
        assert (v["rh_pct"] >= 0).all() and (v["rh_pct"] <= 100).all()
        assert (v["co2_ppm"] > 300).all() and (v["co2_ppm"] < 1200).all()
        assert (v["soil_moisture_pct"] > 25).all() and (v["soil_moisture_pct"] < 45).all()
        assert (v["air_temp_c"] > 5).all() and (v["air_temp_c"] < 40).all()
        night = sim.outdoor["radiation_w_m2"] == 0
        assert (v["light_lux"][night] == 0).all() and (v["par_umol_m2_s"][night] == 0).all()
        assert v["light_lux"].max() > 5000


def test_light_is_brighter_in_summer_than_winter():
    winter = g.simulate(g.Scenario(seed=1, days=2, start_doy=355)).truth_values["par_umol_m2_s"]
    summer = g.simulate(g.Scenario(seed=1, days=2, start_doy=172)).truth_values["par_umol_m2_s"]
    assert summer.max() > 1.5 * winter.max()


def test_heating_failure_on_a_winter_night_falls_toward_outdoor():
    base, hit, w = run_pair(g.HEATING_FAILURE, doy=20, start_h=20, duration_h=10)  # 20:00-06:00
    t_in, t_out = hit.truth_values["air_temp_c"][w], hit.outdoor["air_temp_c"][w]
    assert base.truth_values["air_temp_c"][w].min() > 12
    assert t_in[-1] < t_in[0] - 8
    # the gap to outdoor shrinks: heat is no longer supplied
    assert (t_in[-1] - t_out[-1]) < 0.5 * (t_in[0] - t_out[0])


def test_vent_stuck_open_in_winter_lowers_temperature_co2_and_rh():
    base, hit, w = run_pair(g.VENT_STUCK_OPEN, doy=20, start_h=30, duration_h=10)
    for q in ("air_temp_c", "co2_ppm", "rh_pct"):
        assert hit.truth_values[q][w].mean() < base.truth_values[q][w].mean(), q
    assert abs(hit.truth_values["co2_ppm"][w][-1] - g.OUTDOOR_CO2_PPM) < 30


def test_vent_stuck_closed_on_a_summer_day_overheats_and_humidifies():
    base, hit, w = run_pair(g.VENT_STUCK_CLOSED, doy=190, start_h=33, duration_h=8)
    assert hit.truth_values["air_temp_c"][w].max() > base.truth_values["air_temp_c"][w].max() + 5
    assert hit.truth_values["rh_pct"][w].mean() > base.truth_values["rh_pct"][w].mean() + 5


def test_co2_dosing_fault_builds_up_co2_overnight():
    base, hit, w = run_pair(g.CO2_DOSING_FAULT, doy=20, start_h=30, duration_h=10)
    assert hit.truth_values["co2_ppm"][w].max() > 1200 > base.truth_values["co2_ppm"][w].max()


def test_irrigation_failure_dries_the_soil():
    base, hit, w = run_pair(g.IRRIGATION_FAILURE, doy=150, start_h=6, duration_h=60, days=4)
    assert base.truth_values["soil_moisture_pct"][w].min() > 30
    assert hit.truth_values["soil_moisture_pct"][w].min() < 22


def test_frost_night_and_heat_wave_move_outdoor_and_indoor_temperature():
    base, hit, w = run_pair(g.FROST_NIGHT, doy=20, start_h=28, duration_h=17)
    assert hit.outdoor["air_temp_c"][w].min() < base.outdoor["air_temp_c"][w].min() - 8
    assert hit.truth_values["air_temp_c"][w].min() < base.truth_values["air_temp_c"][w].min() - 5
    base, hit, w = run_pair(g.HEAT_WAVE, doy=190, start_h=6, duration_h=70, days=4)
    assert hit.truth_values["air_temp_c"][w].max() > base.truth_values["air_temp_c"][w].max() + 4


def test_sensor_faults_change_measurements_not_the_truth():
    start, dur = 10 * HOUR, 6 * HOUR
    for kind in g.SENSOR_FAULTS:
        sc = g.Scenario(seed=2, days=1, start_doy=100, events=[g.Event(kind, start, dur, "air_temp_c")])
        sim = g.simulate(sc)
        clean = g.simulate(g.Scenario(seed=2, days=1, start_doy=100))
        np.testing.assert_array_equal(sim.truth_values["air_temp_c"], clean.truth_values["air_temp_c"])
        cols = sim.sample(300)
        t = cols["timestamp_s"] - sc.start_timestamp_s
        on = (t >= start) & (t < start + dur)
        v = cols["air_temp_c"][on]
        assert set(cols["label"][on]) == {g.SENSOR_FAULT}
        assert set(cols["event"][on]) == {kind + ":air_temp_c"}
        if kind == g.SENSOR_STUCK:
            assert np.ptp(v) == 0
        elif kind == g.SENSOR_DROPOUT:
            assert np.isnan(v).all()
        elif kind == g.SENSOR_DRIFT:
            assert abs(v[-1] - clean.truth_values["air_temp_c"][(start + dur) // 60 - 5]) > 2.5
        else:
            assert np.max(np.abs(np.diff(v))) > 10
        assert not np.isnan(cols["air_temp_c"][~on]).any()


def test_labels_cover_exactly_the_event_spans():
    sc = g.random_scenario(4, days=7)
    assert sc.events, "a week should hold events"
    cols = g.simulate(sc).sample(300)
    t = cols["timestamp_s"] - sc.start_timestamp_s
    for number, e in enumerate(sc.events, 1):
        inside = (t >= e.start_s) & (t < e.end_s)
        assert (cols["event_id"][inside] == number).all()
        assert (cols["label"][inside] == g.label_of(e.kind)).all()
    assert (cols["label"][cols["event_id"] == 0] == g.NORMAL).all()


def test_random_scenarios_respect_the_season_and_do_not_overlap():
    for seed in range(30):
        sc = g.random_scenario(seed, days=7)
        allowed = g.kinds_for_season(sc.start_doy)
        for a, b in zip(sc.events, sc.events[1:]):
            assert b.start_s >= a.end_s
        for e in sc.events:
            assert e.kind in allowed and e.end_s <= 7 * 86400


def test_truth_interpolates_and_rejects_times_outside():
    sim = g.simulate(g.Scenario(seed=3, days=1, start_doy=100))
    truth = sim.truth()
    t0 = sim.scenario.start_timestamp_s
    mid = truth(t0 + 90)  # between the 60 s and 120 s steps
    a, b = sim.truth_values["air_temp_c"][1], sim.truth_values["air_temp_c"][2]
    assert mid["air_temp_c"] == pytest.approx((a + b) / 2)
    assert set(mid) == set(g.QUANTITIES)
    with pytest.raises(ValueError, match="outside the simulated span"):
        truth(t0 - 1)


def test_bad_events_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="unknown event kind 'flood'"):
        g.Event("flood", 0, 10)
    with pytest.raises(ValueError, match="sensor must be one of"):
        g.Event(g.SENSOR_STUCK, 0, 10, "wind_speed")
    with pytest.raises(ValueError, match="duration must be > 0"):
        g.Event(g.HEATING_FAILURE, 0, 0)


def test_csv_has_replay_header_and_empty_cells_for_missing_values():
    sc = g.Scenario(seed=1, days=0.5, start_doy=100,
                    events=[g.Event(g.SENSOR_DROPOUT, 2 * HOUR, HOUR, "co2_ppm")])
    cols = g.simulate(sc).sample(600)
    out = io.StringIO()
    rows = g.write_csv(out, cols)
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[0][:2] == ["timestamp_s", "air_temp_c"] and "label" in lines[0]
    assert len(lines) == rows + 1 == 0.5 * 86400 / 600 + 2
    co2 = lines[0].index("co2_ppm")
    stamps = [int(r[0]) for r in lines[1:]]
    assert all(b - a == 600 for a, b in zip(stamps, stamps[1:]))
    empty = [int(r[0]) - sc.start_timestamp_s for r in lines[1:] if r[co2] == ""]
    assert empty and min(empty) >= 2 * HOUR and max(empty) < 3 * HOUR
    assert math.isclose(float(lines[1][1]), cols["air_temp_c"][0], abs_tol=0.006)


def test_simulate_cli_writes_the_requested_events(tmp_path, capsys):
    from verdant_host import cli
    out = tmp_path / "w.csv"
    assert cli.main(["simulate", str(out), "--days", "1", "--start-doy", "20", "--period", "600",
                     "--event", "sensor_drift@5+3:rh_pct"]) == 0
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 86400 // 600 + 1
    drifting = [r for r in rows if r["event"] == "sensor_drift:rh_pct"]
    assert len(drifting) == 3 * 3600 // 600 and {r["label"] for r in drifting} == {"sensor_fault"}
    assert "sensor_drift         at    5.0 h for   3.0 h (rh_pct)" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--event", "flood@3"], "verdant: event 'flood@3': unknown event kind 'flood'; expected one of "
                             + ", ".join(g.EVENT_KINDS)),
    (["--event", "heating_failure"], "verdant: event 'heating_failure': expected KIND@START_H[+DURATION_H]"
                                     "[:SENSOR], e.g. heating_failure@20+8"),
    (["--event", "heating_failure@x"], "verdant: event 'heating_failure@x': start and duration must be hours (numbers)"),
    (["--event", "heating_failure@40+10"], "verdant: event heating_failure ends after the simulated 2 days"),
    (["--days", "0"], "verdant: --days must be > 0, got 0"),
    (["--period", "90"], "verdant: --period must be a multiple of 60 s, got 90"),
    (["--start-doy", "400"], "verdant: --start-doy must be within 1..365, got 400"),
])
def test_simulate_cli_errors_are_exact(tmp_path, capsys, argv, message):
    from verdant_host import cli
    assert cli.main(["simulate", str(tmp_path / "x.csv")] + argv) == 1
    assert capsys.readouterr().err == message + "\n"
