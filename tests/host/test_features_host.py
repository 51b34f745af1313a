"""verdant.features under CPython, checked against independently computed values.

References: Wagner & Pruss (2002) IAPWS saturation pressure of water, tabulated
saturated absolute humidity, numpy least squares. The MicroPython Unix port must
give the same rows as CPython for the same samples.
"""
import json
import math
import os
import subprocess

import numpy as np
import pytest

from verdant import features as F
from verdant_host import paths

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def iapws_saturation_kpa(temp_c):
    """Wagner & Pruss (2002) saturation vapour pressure of water, kPa (IAPWS reference)."""
    tc, pc = 647.096, 22064.0
    t = temp_c + 273.15
    th = 1.0 - t / tc
    a = (-7.85951783, 1.84408259, -11.7866497, 22.6807411, -15.9618719, 1.80122502)
    s = a[0] * th + a[1] * th ** 1.5 + a[2] * th ** 3 + a[3] * th ** 3.5 + a[4] * th ** 4 + a[5] * th ** 7.5
    return pc * math.exp(tc / t * s)


def reference_dew_point(temp_c, rh_pct):
    target = iapws_saturation_kpa(temp_c) * rh_pct / 100.0
    lo, hi = -60.0, temp_c
    for _ in range(100):
        mid = (lo + hi) / 2
        if iapws_saturation_kpa(mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@pytest.mark.parametrize("temp_c", [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0])
def test_buck_saturation_pressure_within_0_1_percent_of_iapws(temp_c):
    ours = F.saturation_vapour_pressure_kpa(temp_c)
    ref = iapws_saturation_kpa(temp_c)
    assert abs(ours - ref) / ref < 1e-3, (temp_c, ours, ref)


def test_saturation_pressure_matches_handbook_table():
    # CRC Handbook values, kPa
    for temp_c, ref in ((0.01, 0.61165), (20.0, 2.3393), (25.0, 3.1699), (30.0, 4.2470)):
        assert abs(F.saturation_vapour_pressure_kpa(temp_c) - ref) / ref < 1e-3


@pytest.mark.parametrize("temp_c,rh", [(5, 95), (12, 60), (20, 80), (25, 40), (30, 90), (38, 25)])
def test_magnus_dew_point_close_to_iapws_inversion(temp_c, rh):
    assert abs(F.dew_point_c(temp_c, rh) - reference_dew_point(temp_c, rh)) < 0.2


def test_dew_point_equals_temperature_at_saturation_and_margin_feature():
    assert abs(F.dew_point_c(17.0, 100.0) - 17.0) < 1e-9
    row = F.FeatureState(300, 4).add(0, {"air_temp_c": 20.0, "rh_pct": 50.0})
    assert abs(row["dew_point_margin_c"] - (20.0 - reference_dew_point(20.0, 50.0))) < 0.2


def test_vpd_against_iapws():
    for temp_c, rh in ((25.0, 50.0), (18.0, 85.0), (32.0, 30.0)):
        ref = iapws_saturation_kpa(temp_c) * (1 - rh / 100)
        assert abs(F.vpd_kpa(temp_c, rh) - ref) < 0.005


def test_absolute_humidity_matches_saturated_air_table():
    # g/m3 of saturated air (engineering toolbox / psychrometric tables)
    for temp_c, ref in ((0, 4.85), (10, 9.40), (20, 17.30), (30, 30.38), (40, 51.19)):
        assert abs(F.absolute_humidity_g_m3(temp_c, 100.0) - ref) / ref < 0.006, temp_c


def test_missing_inputs_give_none_not_zero():
    assert F.vpd_kpa(None, 50) is None
    assert F.dew_point_c(20, 0) is None
    row = F.FeatureState(60, 5).add(1000, {"air_temp_c": 20.0})
    assert row["rh_pct"] is None and row["vpd_kpa"] is None and row["co2_ppm_mean"] is None
    assert row["air_temp_c"] == 20.0
    assert row["dli_mol_m2"] is None  # no light sensor at all


def test_rate_is_least_squares_slope_per_hour_like_numpy():
    rng = np.random.default_rng(4)
    state = F.FeatureState(300, 12)
    temps = 20 + 0.02 * np.arange(12) + rng.normal(0, 0.3, 12)
    t0 = 1_700_000_100
    for i, temp in enumerate(temps):
        row = state.add(t0 + 300 * i, {"air_temp_c": float(temp)})
    slope = np.polyfit(300.0 * np.arange(12), temps, 1)[0] * 3600
    assert abs(row["air_temp_c_rate_h"] - slope) < 1e-9
    assert abs(row["air_temp_c_mean"] - temps.mean()) < 1e-9
    assert row["air_temp_c_min"] == temps.min() and row["air_temp_c_max"] == temps.max()


def test_a_missed_slot_is_filled_with_the_one_before_and_a_long_gap_blocks_the_model_vector():
    assert F.GAP_FILL_SLOTS == 2
    state = F.FeatureState(300, 6)
    for i in (0, 1, 2, 4, 5):  # slot 3 never sampled (a reboot): filled with slot 2's row
        state.add(3000 + 300 * i, {"air_temp_c": 20.0 + i})
    rows = state.rows(6)
    assert len(rows) == 6 and rows[3] is rows[2] and rows[3]["air_temp_c"] == 22.0
    floats, missing = F.build_vector(rows, ["air_temp_c"], [20.0], [2.0], window=6)
    assert missing == [] and floats == [0.0, 0.5, 1.0, 1.0, 2.0, 2.5]
    # rate over sampled values only: points 0,1,2,4,5 on a line of 1 degC / 300 s
    assert abs(state.rows(1)[0]["air_temp_c_rate_h"] - 12.0) < 1e-9

    state = F.FeatureState(300, 6)
    for i in (0, 1, 5):  # three slots missed: a real gap, the window must refill
        state.add(3000 + 300 * i, {"air_temp_c": 20.0 + i})
    rows = state.rows(6)
    assert rows[2:5] == [None, None, None]
    floats, missing = F.build_vector(rows, ["air_temp_c"], [20.0], [2.0], window=6)
    assert floats is None and "window: 3 missing slots" in missing


def test_the_board_model_input_fills_the_same_slots_as_build_vector():
    names = ["air_temp_c", "air_temp_c_rate_h"]
    meta = {"features": names, "norm_mean": [20.0, 0.0], "norm_std": [2.0, 4.0], "window": 4, "period_s": 300}
    board = F.FeatureState.for_model(meta)
    host = F.FeatureState(300, 4)
    for i in (0, 1, 3, 4, 5, 9, 10, 11, 12, 14):  # gaps of 1, 3 and 1 slots
        reading = {"air_temp_c": 18.0 + 0.5 * i}
        board.add(3000 + 300 * i, reading)
        host.add(3000 + 300 * i, reading)
        expected, _ = F.build_vector(host.rows(4), names, meta["norm_mean"], meta["norm_std"], window=4)
        got, _ = board.model.vector()
        assert (got is None and expected is None) or list(got) == expected, i
    assert got is not None


def test_build_vector_normalizes_time_major_in_model_order():
    state = F.FeatureState(60, 3)
    for i in range(3):
        state.add(60 * i, {"air_temp_c": 10.0 + i, "rh_pct": 50.0 + 10 * i})
    floats, missing = F.build_vector(state.rows(3), ["rh_pct", "air_temp_c"], [50.0, 10.0], [10.0, 2.0], 3)
    assert missing == []
    assert floats == [0.0, 0.0, 1.0, 0.5, 2.0, 1.0]


def test_build_vector_names_unavailable_features_and_bad_metadata():
    state = F.FeatureState(60, 2)
    state.add(0, {"air_temp_c": 10.0})
    state.add(60, {"air_temp_c": 11.0})
    floats, missing = F.build_vector(state.rows(2), ["air_temp_c", "co2_ppm_rate_h"], [0, 0], [1, 1], 2)
    assert floats is None and missing == ["co2_ppm_rate_h"]
    with pytest.raises(ValueError, match="norm_std\\[1\\] for co2_ppm must be > 0"):
        F.build_vector([], ["air_temp_c", "co2_ppm"], [0, 0], [1, 0])
    with pytest.raises(ValueError, match="unknown feature 'wind_speed'"):
        F.build_vector([], ["wind_speed"], [0], [1])


def test_missing_inputs_for_board_quantities():
    assert F.missing_inputs("vpd_kpa_mean", ["air_temp_c"]) == ["rh_pct"]
    assert F.missing_inputs("dli_mol_m2", ["light_lux"]) == []
    assert F.missing_inputs("dli_mol_m2", ["air_temp_c"]) == ["par_umol_m2_s or light_lux"]
    assert F.missing_inputs("tod_sin", []) == []


def test_daily_light_integral_constant_par_and_lux_conversion():
    state = F.FeatureState(300, 4)
    start = 86400 * 19000  # local midnight (utc offset 0)
    for i in range(2 * 288 + 1):
        row = state.add(start + 300 * i, {"light_lux": 500.0 / 0.0185})
    # day 2 is fully covered (day 1 is not: nothing is known before the first sample)
    assert abs(row["dli_prev_mol_m2"] - 43.2) < 1e-6
    assert row["par_from_lux"] == 1.0
    assert abs(row["dli_mol_m2"] - 0.0) < 1e-9


def test_light_gap_longer_than_an_hour_marks_the_day_incomplete():
    state = F.FeatureState(300, 4)
    start = 86400 * 19000
    t = start
    while t < start + 2 * 86400 + 1:
        if not (start + 30000 < t < start + 40000):
            row = state.add(t, {"par_umol_m2_s": 100.0})
        if t == start + 86400 + 43200:
            assert row["dli_prev_mol_m2"] is None  # day 1 had a 10000 s hole
        t += 300
    assert abs(row["dli_prev_mol_m2"] - 100.0 * 86400 / 1e6) < 1e-9  # day 2 fully covered
    assert row["par_from_lux"] == 0.0


def test_time_of_day_uses_local_offset():
    s, c = F.time_of_day(86400 * 5 + 6 * 3600)
    assert abs(s - 1.0) < 1e-12 and abs(c) < 1e-12
    s, c = F.time_of_day(86400 * 5, utc_offset_s=-6 * 3600)  # 18:00 local
    assert abs(s + 1.0) < 1e-12


def test_micropython_gives_the_same_rows_as_cpython():
    mp = paths.micropython()
    if not os.path.exists(mp):
        pytest.skip("micropython Unix port not found at %s" % mp)
    script = (
        "import json\nfrom verdant import features as F\n"
        "s = F.FeatureState(300, 6, 3600)\nout = []\n"
        "for i in range(40):\n"
        "    r = {'air_temp_c': 15 + (i % 7) * 0.7, 'rh_pct': 60 + (i % 5) * 5, 'co2_ppm': 400 + i,\n"
        "         'light_lux': None if i % 9 == 0 else 1000.0 * (i % 4)}\n"
        "    if i % 11 != 3:\n"
        "        out.append(s.add(1700000000 + 300 * i, r))\n"
        "print(json.dumps(out))\n")
    env = dict(os.environ, MICROPYPATH=os.path.join(REPO, "device"))
    proc = subprocess.run([mp, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    mp_rows = json.loads(proc.stdout)
    ns = {}
    exec(script.replace("print(json.dumps(out))\n", ""), ns)
    assert len(mp_rows) == len(ns["out"])
    for mine, theirs in zip(ns["out"], mp_rows):
        assert set(mine) == set(theirs)
        for key, value in mine.items():
            if value is None:
                assert theirs[key] is None, key
            else:
                assert abs(value - theirs[key]) < 1e-9 * max(1.0, abs(value)), key


from hypothesis import given, settings, strategies as st


@settings(max_examples=200, deadline=None)
@given(st.floats(-30, 50), st.floats(1, 100), st.floats(1, 100))
def test_psychrometric_relations_hold_everywhere(temp_c, rh_a, rh_b):
    lo, hi = min(rh_a, rh_b), max(rh_a, rh_b)
    assert F.dew_point_c(temp_c, hi) <= temp_c + 1e-9
    assert F.dew_point_c(temp_c, lo) <= F.dew_point_c(temp_c, hi) + 1e-12
    assert 0 <= F.vpd_kpa(temp_c, hi) <= F.vpd_kpa(temp_c, lo) + 1e-12
    assert F.absolute_humidity_g_m3(temp_c, lo) <= F.absolute_humidity_g_m3(temp_c, hi) + 1e-12


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.one_of(st.none(), st.floats(-10, 40))), min_size=1, max_size=40))
def test_missing_inputs_never_become_numbers(steps):
    state = F.FeatureState(300, 6)
    t = 1_700_000_000
    for gap, temp in steps:
        t += 300 * gap
        row = state.add(t, {"air_temp_c": temp})
        assert row["rh_pct"] is None and row["vpd_kpa"] is None and row["co2_ppm_rate_h"] is None
        assert (row["air_temp_c"] is None) == (temp is None)
        present = [r for r in state.rows(6) if r is not None and r["air_temp_c"] is not None]
        if not present:
            assert row["air_temp_c_mean"] is None
        assert len(state.rows(6)) <= 6


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.one_of(st.none(), st.floats(-10, 40)),
                          st.one_of(st.none(), st.floats(20, 100))), min_size=1, max_size=30))
def test_model_input_of_a_board_state_equals_build_vector_over_full_rows(steps):
    # The board computes only its model's features and normalizes each slot once; the
    # host builds training inputs from every feature with build_vector: same numbers.
    names = ["air_temp_c", "air_temp_c_rate_h", "vpd_kpa", "rh_pct_mean", "tod_sin"]
    meta = {"features": names, "norm_mean": [20.0, 0.0, 1.0, 60.0, 0.0], "norm_std": [5.0, 2.0, 0.5, 10.0, 1.0],
            "window": 4, "period_s": 300}
    board = F.FeatureState.for_model(meta, also=("co2_ppm",))
    full = F.FeatureState(300, 4)
    t = 1_767_225_600
    for gap, temp, rh in steps:
        t += 300 * gap
        reading = {"air_temp_c": temp, "rh_pct": rh, "co2_ppm": 500.0}
        row = board.add(t, reading)
        full.add(t, reading)
        assert set(row) == set(names) | {"co2_ppm"}  # nothing else computed
        expected, missing = F.build_vector(full.rows(4), names, meta["norm_mean"], meta["norm_std"], 4)
        got, got_missing = board.model.vector()
        assert (got is None) == (expected is None)
        if got is not None:
            assert got == expected
        else:
            assert sorted(got_missing) == sorted(missing)


def test_unset_clock_turns_time_of_day_features_off():
    state = F.FeatureState(300, 2, needed=("tod_sin", "tod_cos", "dli_mol_m2", "air_temp_c"))
    state.clock_valid = False
    row = state.add(1000, {"air_temp_c": 20.0, "light_lux": 1000.0})
    assert row["tod_sin"] is None and row["tod_cos"] is None and row["dli_mol_m2"] is None
    state.clock_valid = True
    row = state.add(1300, {"air_temp_c": 20.0, "light_lux": 1000.0})
    assert row["tod_sin"] is not None and row["dli_mol_m2"] is not None and row["air_temp_c"] == 20.0


def test_quantized_model_input_is_the_quantized_float_input():
    # With the engine's quantizer the board keeps int8 bytes per slot, not floats: the
    # assembled bytes are exactly the float input quantized element by element.
    def quantize(x):
        return max(-128, min(127, int(math.floor(x * 16 + 0.5)))) & 0xFF
    names = ["air_temp_c", "air_temp_c_rate_h", "rh_pct"]
    meta = {"features": names, "norm_mean": [20.0, 0.0, 60.0], "norm_std": [5.0, 2.0, 10.0], "window": 3,
            "period_s": 300}
    floats_state = F.FeatureState.for_model(meta)
    bytes_state = F.FeatureState.for_model(meta, quantize=quantize)
    t = 1_767_225_600
    for i, gap in enumerate([1, 1, 2, 1, 1, 1, 1, 3, 1, 1]):
        t += 300 * gap
        if i == 5:
            t += 1  # a second sample in the same slot replaces the first
            t -= 300
        reading = {"air_temp_c": 15.0 + i * 0.7, "rh_pct": None if i == 6 else 70.0 - i}
        floats_state.add(t, reading)
        bytes_state.add(t, reading)
        floats, missing = floats_state.model.vector()
        got, got_missing = bytes_state.model.vector()
        assert got_missing == missing
        if floats is not None:
            assert list(got) == [quantize(x) for x in floats]
