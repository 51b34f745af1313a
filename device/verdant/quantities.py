"""The vocabulary: every quantity a sensor measures, its unit, its physically possible
range, and which quantities each sensor driver measures. Board configs, drivers, the
sampler, the features, the flash log and the host tools all use these names.

Example:
    from verdant.quantities import GREENHOUSE, RANGES, of_driver
    of_driver("bme280")        # ("air_temp_c", "rh_pct", "pressure_hpa")
    of_driver("scd4x")         # ("co2_ppm", "scd4x_temp_c", "scd4x_rh_pct")
    RANGES["rh_pct"]           # (0.0, 100.0)
"""

# The greenhouse quantities a model input, the flash log and a training CSV carry, in
# that order (flash log records store them by position: append, never reorder).
GREENHOUSE = ("air_temp_c", "rh_pct", "co2_ppm", "light_lux", "par_umol_m2_s",
              "soil_moisture_pct", "soil_temp_c")
# The time column of every CSV (truth, replay, flash log, simulator): board time, epoch s.
TIME_COLUMN = "timestamp_s"
# Measured too, but not a greenhouse series (the BME280's pressure).
OTHER = ("pressure_hpa",)
# A second sensor's view of the air, for cross-checks only (verdant.dewpointdrift): the
# SCD4x's own temperature and humidity (self-heated: warmer, lower RH, the same vapour).
# No model, rule, feature, reading line or flash log record uses them.
REFERENCE = ("scd4x_temp_c", "scd4x_rh_pct")

UNITS = {
    "air_temp_c": "degC", "rh_pct": "%RH", "co2_ppm": "ppm", "light_lux": "lx",
    "par_umol_m2_s": "umol/m2/s", "soil_moisture_pct": "%", "soil_temp_c": "degC",
    "pressure_hpa": "hPa", "scd4x_temp_c": "degC", "scd4x_rh_pct": "%RH",
}

# Physically possible ranges: outside them a reading is implausible, not a greenhouse state.
RANGES = {
    "air_temp_c": (-40.0, 80.0),
    "rh_pct": (0.0, 100.0),
    "co2_ppm": (0.0, 40000.0),
    "light_lux": (0.0, 200000.0),
    "par_umol_m2_s": (0.0, 3000.0),
    "soil_moisture_pct": (0.0, 100.0),
    "soil_temp_c": (-30.0, 70.0),
    "pressure_hpa": (300.0, 1100.0),
    "scd4x_temp_c": (-40.0, 80.0),
    "scd4x_rh_pct": (0.0, 100.0),
}

_AIR = ("air_temp_c", "rh_pct")
# What each driver (verdant.drivers, board config "driver") measures, in its read order.
BY_DRIVER = {
    "sht3x": _AIR, "sht4x": _AIR, "aht20": _AIR, "dht22": _AIR,
    "bme280": _AIR + ("pressure_hpa",),
    "bh1750": ("light_lux",),
    "scd4x": ("co2_ppm",) + REFERENCE,
    "ds18b20": ("soil_temp_c",),
    "soil_moisture": ("soil_moisture_pct",),
}


def of_driver(driver):
    """The quantities a driver measures; KeyError for an unknown driver."""
    return BY_DRIVER[driver]


def of_sensor(sensor_config):
    """The quantities one board-config sensor entry provides ("quantities" narrows its driver's)."""
    return tuple(sensor_config.get("quantities") or BY_DRIVER[sensor_config["driver"]])
