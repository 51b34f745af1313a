"""The fixed-threshold baseline the model is compared with: the alarms a simple
greenhouse alarm box raises from the latest readings alone."""
import numpy as np

# (quantity, "below"/"above", threshold): what a grower would set on an alarm box.
THRESHOLDS = (
    ("air_temp_c", "below", 8.0),          # cold: frost night, heating failure, vent open in winter
    ("air_temp_c", "above", 32.0),         # heat: heat wave, vent stuck closed
    ("co2_ppm", "above", 1200.0),          # CO2 dosing fault
    ("soil_moisture_pct", "below", 25.0),  # irrigation failure
    ("rh_pct", "above", 97.0),             # condensation / disease risk
)

# Used by the field evaluation (fieldeval.py) beside THRESHOLDS: CO2 low as well, and
# every violation (and missing data) held 15 minutes before the box rings.
EXTRA_THRESHOLDS = (
    ("co2_ppm", "below", 250.0),           # CO2 depleted: dosing off on a sunny day
)
PERSISTENCE_S = 900


def threshold_alarms(columns):
    """Boolean per sample: any threshold violated (missing values never alarm)."""
    n = len(columns["timestamp_s"])
    alarm = np.zeros(n, dtype=bool)
    for quantity, side, limit in THRESHOLDS:
        v = np.asarray(columns[quantity], dtype=float)
        with np.errstate(invalid="ignore"):
            alarm |= (v < limit) if side == "below" else (v > limit)
    return alarm


def debounce(flags, consecutive=2):
    """True from the `consecutive`-th sample of every run of True values on."""
    flags = np.asarray(flags, dtype=bool)
    out = np.zeros_like(flags)
    run = 0
    for i, f in enumerate(flags.tolist()):
        run = run + 1 if f else 0
        out[i] = run >= consecutive
    return out
