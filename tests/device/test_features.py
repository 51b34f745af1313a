# Features under the Unix port (the host test checks the same module against references).
from verdant import features as F
from mpytest import raises, approx


def test_feature_names_cover_every_series_and_stat():
    names = F.FEATURE_NAMES
    assert len(names) == len(set(names)) == len(F.SERIES) * 5 + len(F.EXTRA)
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
