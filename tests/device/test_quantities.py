# The one vocabulary: every driver's quantities, units and ranges come from verdant.quantities.
from verdant import quantities
from verdant.board import DRIVERS


def test_every_driver_has_quantities_with_a_unit_and_a_range():
    assert sorted(quantities.BY_DRIVER) == sorted(DRIVERS)
    for driver, names in quantities.BY_DRIVER.items():
        assert names, driver
        for name in names:
            assert name in quantities.UNITS and name in quantities.RANGES, (driver, name)
            low, high = quantities.RANGES[name]
            assert low < high


def test_driver_classes_declare_the_same_quantities():
    for driver, (module, cls, _, _, _) in DRIVERS.items():
        mod = __import__("verdant.drivers." + module, None, None, [cls])
        assert getattr(mod, cls).QUANTITIES == quantities.of_driver(driver), driver


def test_a_sensor_entry_narrows_its_driver():
    assert quantities.of_sensor({"driver": "bme280"}) == ("air_temp_c", "rh_pct", "pressure_hpa")
    assert quantities.of_sensor({"driver": "bme280", "quantities": ["air_temp_c"]}) == ("air_temp_c",)


def test_greenhouse_order_is_the_flash_log_order():
    from verdant.features import QUANTITIES
    assert quantities.GREENHOUSE == QUANTITIES
    assert quantities.GREENHOUSE[:2] == ("air_temp_c", "rh_pct") and len(quantities.GREENHOUSE) == 7
