"""Greenhouse scenarios: the simulated site and year, the event kinds and their labels,
and random scenarios (events placed one after another with normal gaps between them).

Example:
    scenario = random_scenario(seed=3, days=7)
    Scenario(seed=1, days=2, start_doy=20, events=[Event(HEATING_FAILURE, 22 * 3600.0, 7 * 3600.0)])
"""
import math
from dataclasses import dataclass, field

import numpy as np

from verdant.quantities import GREENHOUSE
from verdant.sim import SIM_START_S

# Epoch of day-of-year 1 (2026-01-01 00:00 UTC); the simulated site keeps solar time = UTC.
YEAR_START_S = SIM_START_S
DAY_S = 86400
HOUR_S = 3600
SPIN_UP_S = 12 * HOUR_S
LATITUDE_DEG = 52.0
OUTDOOR_CO2_PPM = 415.0

QUANTITIES = GREENHOUSE  # the columns a scenario produces, in the flash log's order

HEATING_FAILURE = "heating_failure"
VENT_STUCK_OPEN = "vent_stuck_open"
VENT_STUCK_CLOSED = "vent_stuck_closed"
IRRIGATION_FAILURE = "irrigation_failure"
CO2_DOSING_FAULT = "co2_dosing_fault"
FROST_NIGHT = "frost_night"
HEAT_WAVE = "heat_wave"
SENSOR_STUCK = "sensor_stuck"
SENSOR_DRIFT = "sensor_drift"
SENSOR_DROPOUT = "sensor_dropout"
SENSOR_SPIKES = "sensor_spikes"
SENSOR_FAULTS = (SENSOR_STUCK, SENSOR_DRIFT, SENSOR_DROPOUT, SENSOR_SPIKES)
EVENT_KINDS = (HEATING_FAILURE, VENT_STUCK_OPEN, VENT_STUCK_CLOSED, IRRIGATION_FAILURE,
               CO2_DOSING_FAULT, FROST_NIGHT, HEAT_WAVE) + SENSOR_FAULTS
NORMAL = "normal"
SENSOR_FAULT = "sensor_fault"
# Classes the model learns: the four sensor faults are one class.
LABELS = (NORMAL, HEATING_FAILURE, VENT_STUCK_OPEN, VENT_STUCK_CLOSED, IRRIGATION_FAILURE,
          CO2_DOSING_FAULT, FROST_NIGHT, HEAT_WAVE, SENSOR_FAULT)
FAULTY_SENSORS = ("air_temp_c", "rh_pct", "co2_ppm", "soil_moisture_pct")


def label_of(kind):
    """Model class of an event kind (sensor faults share one class)."""
    if kind in SENSOR_FAULTS:
        return SENSOR_FAULT
    if kind in EVENT_KINDS or kind == NORMAL:
        return kind
    raise ValueError("unknown event kind %r; expected one of %s" % (kind, ", ".join(EVENT_KINDS)))


@dataclass
class Event:
    """One injected event: kind, start and duration in seconds from the scenario start.
    `sensor` names the quantity a sensor fault hits (None otherwise)."""
    kind: str
    start_s: float
    duration_s: float
    sensor: str = None

    @property
    def end_s(self):
        return self.start_s + self.duration_s

    def __post_init__(self):
        label_of(self.kind)
        if self.duration_s <= 0:
            raise ValueError("event %s: duration must be > 0 s, got %r" % (self.kind, self.duration_s))
        if self.kind in SENSOR_FAULTS and self.sensor not in FAULTY_SENSORS:
            raise ValueError("event %s: sensor must be one of %s, got %r"
                             % (self.kind, ", ".join(FAULTY_SENSORS), self.sensor))


@dataclass
class Scenario:
    """What to simulate: `days` from day-of-year `start_doy` (1..365), with `events`."""
    seed: int
    days: float = 7.0
    start_doy: float = 30.0
    events: list = field(default_factory=list)
    step_s: int = 60

    @property
    def start_timestamp_s(self):
        return YEAR_START_S + int(round((self.start_doy - 1) * DAY_S))


def seasonal_mean_temp_c(doy):
    """Daily mean outdoor temperature of a temperate site: about 1 C late January, 19 C July."""
    return 10.0 - 9.0 * np.cos(2 * np.pi * (np.asarray(doy) - 20.0) / 365.0)


# ---- scenario generation ----------------------------------------------------------

# kind -> (min hours, max hours, preferred start hours of day or None)
_EVENT_TIMING = {
    HEATING_FAILURE: (6, 14, (16, 17, 18, 19, 20, 21, 22, 23, 0, 1, 2)),
    VENT_STUCK_OPEN: (6, 12, None),
    VENT_STUCK_CLOSED: (6, 10, (8, 9, 10, 11)),
    IRRIGATION_FAILURE: (36, 60, (6, 7, 8, 9)),
    CO2_DOSING_FAULT: (6, 12, (15, 16, 17, 18, 19, 20)),
    FROST_NIGHT: (16, 18, (14, 15, 16)),
    HEAT_WAVE: (60, 80, (5, 6, 7)),
    SENSOR_STUCK: (6, 20, None),
    SENSOR_DRIFT: (8, 20, None),
    SENSOR_DROPOUT: (2, 8, None),
    SENSOR_SPIKES: (6, 16, None),
}
_COLD_ONLY = (HEATING_FAILURE, VENT_STUCK_OPEN, FROST_NIGHT, CO2_DOSING_FAULT)
_WARM_ONLY = (VENT_STUCK_CLOSED, HEAT_WAVE)
# Each sensor fault is drawn this much less often than a greenhouse fault.
_SENSOR_FAULT_WEIGHT = 0.3


def kinds_for_season(start_doy):
    """Events that show an effect in the season: heating matters when it is cold,
    heat waves and closed vents when it is warm."""
    mean = float(seasonal_mean_temp_c(start_doy))
    return [k for k in EVENT_KINDS
            if not (k in _COLD_ONLY and mean > 10.0) and not (k in _WARM_ONLY and mean < 12.0)]


def random_scenario(seed, days=7.0, start_doy=None, kinds=None, step_s=60):
    """A scenario with events placed one after another with normal gaps between them."""
    if days <= 0:
        raise ValueError("days must be > 0, got %r" % days)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
    if start_doy is None:
        start_doy = float(rng.integers(1, 366))
    allowed = list(kinds) if kinds is not None else kinds_for_season(start_doy)
    events = []
    t = rng.uniform(14, 30) * HOUR_S
    weights = np.array([_SENSOR_FAULT_WEIGHT if k in SENSOR_FAULTS else 1.0 for k in allowed])
    while allowed:
        kind = allowed[int(rng.choice(len(allowed), p=weights / weights.sum()))]
        lo, hi, hours = _EVENT_TIMING[kind]
        if hours is not None:  # move to the next preferred hour of day
            hour = hours[int(rng.integers(len(hours)))]
            abs_s = (start_doy - 1) * DAY_S + t
            day_start = math.floor(abs_s / DAY_S) * DAY_S
            start_abs = day_start + hour * HOUR_S + rng.uniform(0, HOUR_S)
            if start_abs < abs_s:
                start_abs += DAY_S
            t = start_abs - (start_doy - 1) * DAY_S
        duration = rng.uniform(lo, hi) * HOUR_S
        if t + duration > days * DAY_S:
            break
        sensor = FAULTY_SENSORS[int(rng.integers(len(FAULTY_SENSORS)))] if kind in SENSOR_FAULTS else None
        events.append(Event(kind, float(t), float(duration), sensor))
        t += duration + rng.uniform(10, 30) * HOUR_S
    return Scenario(seed=int(seed), days=float(days), start_doy=float(start_doy), events=events, step_s=step_s)
