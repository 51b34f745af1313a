"""The soak draws only events that show an effect in its season (as training does)."""
import pytest

from verdant_host import greenhouse
from verdant_host.errors import VerdantError
from verdant_host.soak import soak_scenario


def _kinds(scenario):
    return {e.kind for e in scenario.events}


def test_a_winter_soak_has_no_heat_waves_or_closed_vents_and_no_sensor_faults():
    drawn = set()
    for seed in range(5):
        drawn |= _kinds(soak_scenario(30, seed, start_doy=20))
    assert greenhouse.HEAT_WAVE not in drawn
    assert greenhouse.VENT_STUCK_CLOSED not in drawn
    assert not drawn & set(greenhouse.SENSOR_FAULTS)
    assert greenhouse.HEATING_FAILURE in drawn or greenhouse.FROST_NIGHT in drawn


def test_a_summer_soak_can_bring_heat_waves_but_no_frost():
    drawn = set()
    for seed in range(5):
        drawn |= _kinds(soak_scenario(30, seed, start_doy=200))
    assert greenhouse.HEAT_WAVE in drawn
    assert greenhouse.FROST_NIGHT not in drawn


@pytest.mark.parametrize("days, doy, message", [
    (0, 20, "soak: days must be > 0, got 0"),
    (30, 0, "soak: start day of year must be within 1..365, got 0"),
    (30, 400, "soak: start day of year must be within 1..365, got 400"),
])
def test_bad_soak_arguments_are_refused_by_name(days, doy, message):
    with pytest.raises(VerdantError) as exc:
        soak_scenario(days, 1, start_doy=doy)
    assert str(exc.value) == message
