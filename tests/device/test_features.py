# Features under the Unix port (the host test checks the same module against references).
from verdant import features as F
from mpytest import raises, approx


def test_feature_names_cover_every_series_and_stat():
    names = F.FEATURE_NAMES
    assert len(names) == len(set(names)) == len(F.SERIES) * 5 + len(F.EXTRA) + len(F.MEMORY) * 2
    assert "vpd_kpa_rate_h" in names and "tod_cos" in names


def test_row_has_every_feature_and_none_for_missing():
    state = F.FeatureState(300, 4)
    row = state.add(1700000000, {"air_temp_c": 21.0, "rh_pct": 70.0, "co2_ppm": float("nan")})
    assert sorted(row) == sorted(F.FEATURE_NAMES)
    assert row["co2_ppm"] is None and row["soil_moisture_pct"] is None
    assert row["vpd_kpa"] is not None and row["air_temp_c_rate_h"] is None  # one point: no slope


def test_same_slot_replaces_and_going_back_in_time_is_refused():
    state = F.FeatureState(300, 4)
    state.add(600, {"air_temp_c": 1.0})
    row = state.add(700, {"air_temp_c": 2.0})
    assert len(state.rows(4)) == 1 and row["air_temp_c_mean"] == 2.0
    with raises(ValueError, "before the last sample"):
        state.add(10, {"air_temp_c": 2.0})


def test_window_slides_and_long_gap_empties_it():
    state = F.FeatureState(60, 3)
    for i in range(5):
        row = state.add(60 * i, {"air_temp_c": float(i)})
    assert row["air_temp_c_min"] == 2.0 and approx(row["air_temp_c_rate_h"], 60.0, 1e-9)
    row = state.add(60 * 100, {"air_temp_c": 9.0})
    assert state.rows(3) == [None, None, row]
    assert row["air_temp_c_mean"] == 9.0


def test_bad_parameters_named():
    with raises(ValueError, "period_s"):
        F.FeatureState(0, 3)
    with raises(ValueError, "unknown feature 'foo'"):
        F.missing_inputs("foo", [])


def test_memory_features_compare_with_yesterday_and_an_hour_ago():
    names = ["air_temp_c_d24h", "air_temp_c_d1h", "par_umol_m2_s_d24h"]
    state = F.FeatureState(300, 1, needed=names)
    t0 = 1700000000 - 1700000000 % 900
    row = None
    # yesterday: 20 C all day except 25 C from 12:00 to 13:00; light from a lux sensor
    for i in range(288):
        t = t0 + i * 300
        temp = 25.0 if 144 <= i < 156 else 20.0
        row = state.add(t, {"air_temp_c": temp, "light_lux": 1000.0})
        if i == 0:
            assert row["air_temp_c_d24h"] is None and row["air_temp_c_d1h"] is None
        if i == 20:  # an hour ago the sensors were settling: not recorded
            assert row["air_temp_c_d1h"] is None
        if i == 200:  # a day not yet recorded
            assert row["air_temp_c_d1h"] == 0.0 and row["air_temp_c_d24h"] is None
    day = t0 + 86400
    row = state.add(day, {"air_temp_c": 17.5, "light_lux": 1000.0})
    assert row["air_temp_c_d24h"] is None   # the first hour after the start was not recorded (settling)
    row = state.add(day + 7200, {"air_temp_c": 17.5, "light_lux": 1000.0})
    assert approx(row["air_temp_c_d24h"], -2.5, 1e-4) and row["par_umol_m2_s_d24h"] == 0.0
    # 12:00 today at 22 C: inside yesterday's range around that time (20 at 11:45, 25 at 12:00)
    state.add(day + 144 * 300 - 300, {"air_temp_c": 22.0, "light_lux": 1000.0})
    row = state.add(day + 144 * 300, {"air_temp_c": 22.0, "light_lux": 1000.0})
    assert row["air_temp_c_d24h"] == 0.0
    row = state.add(day + 152 * 300, {"air_temp_c": 26.5, "light_lux": 3000.0})
    assert approx(row["air_temp_c_d24h"], 1.5, 1e-4)   # 25 C from 12:15 to 13:00 yesterday
    assert approx(row["par_umol_m2_s_d24h"], 2000 * F.LUX_TO_PAR, 1e-3)
    assert row["air_temp_c_d1h"] is None           # nothing recorded an hour ago (a gap)
    assert sorted(row) == sorted(names)            # only what was asked for


def test_memory_features_need_their_sensor():
    assert F.missing_inputs("par_umol_m2_s_d24h", ["light_lux"]) == []
    assert F.missing_inputs("par_umol_m2_s", ["light_lux"]) == ["par_umol_m2_s"]
    assert F.missing_inputs("par_umol_m2_s_mean", ["light_lux"]) == ["par_umol_m2_s"]
    assert F.missing_inputs("vpd_kpa_d1h", ["air_temp_c"]) == ["rh_pct"]
    assert F.missing_inputs("co2_ppm_d24h", ["co2_ppm"]) == []


def test_memory_does_not_record_while_told_not_to():
    state = F.FeatureState(300, 1, needed=["air_temp_c_d24h"])
    t0 = 1700000000 - 1700000000 % 900
    for i in range(300):
        state.remember = not (100 <= i < 140)   # a fault (an alert active) from 8:20 to 11:40
        state.add(t0 + i * 300, {"air_temp_c": 5.0 if 100 <= i < 140 else 20.0})
    state.remember = True
    row = state.add(t0 + 86400 + 120 * 300, {"air_temp_c": 20.0})
    assert row["air_temp_c_d24h"] is None      # not compared with the fault's cold air
    row = state.add(t0 + 86400 + 160 * 300, {"air_temp_c": 21.0})
    assert approx(row["air_temp_c_d24h"], 1.0, 1e-4)
