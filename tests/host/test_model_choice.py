"""Sensor-set model choice: replay and deploy run the shipped model the sensors can feed
(the one using most of them), or none with a reason; deploy never refuses a board over it."""
import pytest

from verdant_host import model_choice
from verdant_host.deploy import load_board_config
from verdant_host.errors import VerdantError
from deploy_helpers import tiny_model


@pytest.fixture
def models(tmp_path):
    out = {}
    for name, features in (("t_rh", ("air_temp_c", "rh_pct", "vpd_kpa")),
                           ("t_rh_co2", ("air_temp_c", "rh_pct", "co2_ppm_rate_h")),
                           ("t_rh_co2_light", ("air_temp_c", "rh_pct", "co2_ppm", "dli_mol_m2"))):
        path = tmp_path / (name + ".bin")
        path.write_bytes(tiny_model(name=name, features=features))
        out[name] = str(path)
    return out


def test_the_most_specific_fitting_model_is_chosen(models):
    all_models = list(models.values())
    path, why = model_choice.choose(["air_temp_c", "rh_pct"], all_models)
    assert path == models["t_rh"] and "t_rh" in why
    path, _ = model_choice.choose(["air_temp_c", "rh_pct", "co2_ppm"], all_models)
    assert path == models["t_rh_co2"]
    # PAR or lux both feed the light features (the daily light integral)
    for light in ("par_umol_m2_s", "light_lux"):
        path, _ = model_choice.choose(["air_temp_c", "rh_pct", "co2_ppm", light], all_models)
        assert path == models["t_rh_co2_light"], light


def test_no_fitting_model_says_why(models):
    path, why = model_choice.choose(["soil_moisture_pct"], list(models.values()))
    assert path is None
    assert "no model fits" in why and "air_temp_c" in why and "rules" in why


def test_deploy_picks_a_fitting_model_or_goes_rules_only_without_refusing(models, monkeypatch):
    config = load_board_config("sim")
    config = dict(config, sensors=[{"driver": "sht31", "quantities": ["air_temp_c", "rh_pct"]}])
    needs_co2 = tiny_model(name="needs_co2", features=("air_temp_c", "co2_ppm"))
    monkeypatch.setattr(model_choice, "candidates", lambda: list(models.values()))
    data, note = model_choice.for_board(needs_co2, "needs_co2.bin", config)
    assert data == open(models["t_rh"], "rb").read()
    assert "co2_ppm" in note and "t_rh" in note
    monkeypatch.setattr(model_choice, "candidates", lambda: [models["t_rh_co2"]])
    data, note = model_choice.for_board(needs_co2, "needs_co2.bin", config)
    assert data is None and note.startswith("WARNING") and "rules" in note
    fits = tiny_model(name="fits", features=("air_temp_c", "rh_pct"))
    assert model_choice.for_board(fits, "fits.bin", config) == (fits, None)
    # flash and RAM limits still refuse
    small = dict(config, model_limits={"flash_bytes": 10, "ram_bytes": 10 ** 6})
    with pytest.raises(VerdantError, match="flash"):
        model_choice.for_board(fits, "fits.bin", small)
