"""The RH drift separability checks (host/scripts/rh_drift_check.py) on synthetic traces whose
answer is known from physics: each check sees an additive RH offset or ramp where there is
one and nothing on a healthy trace."""
import os
import sys

import numpy as np
import pytest

from verdant_host import paths

sys.path.insert(0, os.path.join(paths.REPO_DIR, "host", "scripts"))
import rh_drift_check as rdc  # noqa: E402

ES_15C, ES_20C = 1.7057, 2.3389  # saturation vapour pressure, kPa (psychrometric tables)


def test_saturation_pressure_matches_tables():
    assert rdc.saturation_kpa(15.0) == pytest.approx(ES_15C, abs=0.002)
    assert rdc.saturation_kpa(20.0) == pytest.approx(ES_20C, abs=0.002)


def _heating_step(offset):
    """30 min at 15 C then 20 C, the air's vapour (1.2 kPa) unchanged; RH read `offset` high."""
    temp = np.array([15.0] * 6 + [20.0] * 6)
    rh = np.where(temp < 17, 120.0 / ES_15C, 120.0 / ES_20C) + offset
    return temp, rh


def test_step_residual_is_zero_when_vapour_is_kept_and_bent_by_an_offset():
    (ratio, residual), = rdc.step_residuals(*_heating_step(0.0), lag=1)
    assert ratio == pytest.approx(ES_15C / ES_20C, abs=0.002)
    assert residual == pytest.approx(0.0, abs=0.1)
    (_, bent), = rdc.step_residuals(*_heating_step(6.0), lag=1)
    assert bent == pytest.approx(6.0 * (1 - ES_15C / ES_20C), abs=0.1)  # 1.6 %: why steps cannot tell


def _steady(hours, rh_per_hour=0.0, temp_jump=0.0):
    n = hours * rdc.ROWS_PER_HOUR + 1
    rows = np.arange(n)
    cols = {"air_temp_c": np.where(rows > n // 2, 18.0 + temp_jump, 18.0), "co2_ppm": np.full(n, 700.0),
            "par_umol_m2_s": np.zeros(n), "rh_pct": 70.0 + rh_per_hour * rows / rdc.ROWS_PER_HOUR}
    return cols, np.ones(n, dtype=bool)


def test_steady_change_sees_a_ramp_only_while_nothing_else_moves():
    assert rdc.steady_changes(*_steady(4)) == [pytest.approx(0.0)]
    # last hour's mean minus the first hour's: 37 rows apart at 0.5 %/h
    assert rdc.steady_changes(*_steady(4, rh_per_hour=0.5)) == [pytest.approx(0.5 * 37 / 12)]
    assert rdc.steady_changes(*_steady(4, rh_per_hour=0.5, temp_jump=1.0)) == []


def test_day_departure_is_zero_on_a_repeated_day_and_the_offset_beyond_yesterday():
    day = 70 + 10 * np.sin(np.arange(rdc.DAY_ROWS) * 2 * np.pi / rdc.DAY_ROWS)
    same = rdc.day_departures(np.concatenate([day, day]))
    assert np.isnan(same[:rdc.DAY_ROWS]).all() and np.nanmax(np.abs(same)) == 0.0
    shifted = rdc.day_departures(np.concatenate([day, day + 5.0]))[rdc.DAY_ROWS + 3:-3]  # yesterday whole
    assert shifted.min() > 4.0 and shifted.max() <= 5.0  # 5 above yesterday, less the 15-min slope


def _greenhouse(days, ramp_from=None):
    """Vapour pressure exactly linear in T, CO2 and PAR; RH from it, plus a 0.5 %/h ramp."""
    n = days * rdc.DAY_ROWS
    t = 1760918400 + 300 * np.arange(n)
    phase = 2 * np.pi * np.arange(n) / rdc.DAY_ROWS
    temp = 18 + 3 * np.sin(phase) + 0.7 * np.sin(5.3 * phase)
    co2 = 700 + 150 * np.cos(1.7 * phase)
    par = np.maximum(0.0, 300 * np.sin(phase))
    vapour = 0.4 + 0.05 * temp + 0.0002 * co2 + 0.0003 * par
    rh = vapour / ES_20C * 100 * ES_20C / rdc.saturation_kpa(temp)
    if ramp_from is not None:
        rh = rh + np.where(np.arange(n) >= ramp_from, 0.5 * (np.arange(n) - ramp_from) / rdc.ROWS_PER_HOUR, 0.0)
    return {"timestamp_s": t, "air_temp_c": temp, "co2_ppm": co2, "par_umol_m2_s": par, "rh_pct": rh}


def test_level_residual_is_flat_on_the_site_and_climbs_with_a_ramp():
    site = _greenhouse(3)
    healthy = rdc.level_changes(site, _greenhouse(2))
    assert np.nanmax(np.abs(healthy)) < 0.05
    drifting = rdc.level_changes(site, _greenhouse(2, ramp_from=100))
    assert drifting[100 + 11 * rdc.ROWS_PER_HOUR] == pytest.approx(5.0, abs=0.1)  # 10 h of 0.5 %/h


def test_refuses_the_test_splits():
    with pytest.raises(SystemExit, match="not a split to tune on"):
        next(rdc._scenarios("test"))
