"""Greenhouse simulator: indoor climate driven by outdoor weather and actuators,
with labelled injected events. Deterministic from a seed.

Physics (per square metre of floor, explicit Euler at `step_s`, default 60 s):
- air temperature: C_air dT/dt = solar sensible gain + heating - (cover U + ventilation)(T - T_out)
  - exchange with a soil/structure node that buffers it (so a heating failure cools over hours);
- humidity: vapour density balance: transpiration (radiation + VPD driven, reduced by dry
  soil) - ventilation exchange - condensation on the cold cover, capped at saturation;
- CO2: dosing (day, vents nearly closed) + respiration - photosynthesis - ventilation exchange;
- soil moisture: evapotranspiration, drip irrigation pulses in daytime below a set point;
- light: clear-sky sun from latitude/day-of-year/hour, clouds, cover transmission;
  lux = 110 lx per W/m2 of global radiation, PAR = 2.15 umol/m2/s per W/m2 (0.47 PAR
  fraction x 4.57 umol/J).
Controllers: heating setpoint 18 C day / 16 C night (proportional), vents opening from
24 C and for humidity above 85 %RH, CO2 dosing to 800 ppm.

Example:
    scenario = random_scenario(seed=3, days=7)
    sim = simulate(scenario)
    columns = sim.sample(period_s=300)        # measured values (noise, sensor faults) + labels
    write_csv("week.csv", columns)
    truth = sim.truth()                       # truth(t) -> dict of physical values at time t
"""
import csv
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


def saturation_vapour_pressure_pa(temp_c):
    """Tetens formula over water."""
    return 610.78 * np.exp(17.27 * temp_c / (temp_c + 237.3))


def vapour_density_g_m3(temp_c, rh_pct):
    return saturation_vapour_pressure_pa(temp_c) * rh_pct / 100.0 / (461.5 * (temp_c + 273.15)) * 1000.0


def _svp_scalar(temp_c):
    return 610.78 * math.exp(17.27 * temp_c / (temp_c + 237.3))


def _sat_density_scalar(temp_c):
    return _svp_scalar(temp_c) / (461.5 * (temp_c + 273.15)) * 1000.0


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


# ---- outdoor weather ---------------------------------------------------------------

def _smooth_noise(rng, n, tau_steps, std):
    """AR(1) noise with time constant tau_steps and stationary std."""
    a = math.exp(-1.0 / tau_steps)
    w = rng.normal(0.0, std * math.sqrt(1 - a * a), n)
    out = np.empty(n)
    x = rng.normal(0.0, std)
    for i in range(n):  # n is hourly, small
        x = a * x + w[i]
        out[i] = x
    return out


def _event_mask(t, event, ramp_in_s=0.0, ramp_out_s=0.0):
    """0..1 weight of an event over time, with linear ramps at both ends."""
    w = np.zeros_like(t)
    inside = (t >= event.start_s) & (t < event.end_s + ramp_out_s)
    w[inside] = 1.0
    if ramp_in_s > 0:
        w = np.minimum(w, np.clip((t - event.start_s) / ramp_in_s, 0, 1))
    if ramp_out_s > 0:
        w = np.minimum(w, np.clip((event.end_s + ramp_out_s - t) / ramp_out_s, 0, 1))
    return w * inside


def outdoor_weather(scenario, t, rng):
    """Outdoor air temperature, vapour density, global radiation and cloud cover at times t."""
    first_hour = int(math.floor(t[0] / HOUR_S)) - 1
    hours = int(math.ceil(t[-1] / HOUR_S)) + 2 - first_hour
    t_hours = (first_hour + np.arange(hours)) * HOUR_S
    cloud = 1 / (1 + np.exp(-(_smooth_noise(rng, hours, 8.0, 1.6) + 0.3)))
    anomaly = _smooth_noise(rng, hours, 60.0, 2.5)
    rh_noise = _smooth_noise(rng, hours, 6.0, 6.0)
    cloud = np.interp(t, t_hours, cloud)
    anomaly = np.interp(t, t_hours, anomaly)
    rh_noise = np.interp(t, t_hours, rh_noise)

    doy = scenario.start_doy + t / DAY_S
    hour = (t + (scenario.start_doy - 1) * DAY_S) % DAY_S / HOUR_S
    offset = np.zeros_like(t)
    for event in scenario.events:
        if event.kind == FROST_NIGHT:
            w = _event_mask(t, event, 6 * HOUR_S, 4 * HOUR_S)
            depth = 16.0 + 4.0 * rng.random()
            offset -= depth * w
            cloud = cloud * (1 - w) + 0.02 * w
        elif event.kind == HEAT_WAVE:
            w = _event_mask(t, event, 12 * HOUR_S, 8 * HOUR_S)
            offset += (8.0 + 3.0 * rng.random()) * w
            cloud = cloud * (1 - w) + 0.05 * w

    decl = math.radians(23.44) * np.sin(2 * np.pi * (284 + doy) / 365.0)
    lat = math.radians(LATITUDE_DEG)
    hour_angle = np.radians(15.0 * (hour - 12.0))
    sin_elev = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    clear_sky = 1000.0 * np.clip(sin_elev, 0, None) ** 1.2
    radiation = clear_sky * (1 - 0.72 * cloud ** 3)

    # Clear days swing more; minimum near 04:00, maximum near 15:00.
    amplitude = 2.5 + 5.0 * (1 - cloud)
    diurnal = np.sin(2 * np.pi * (hour - 9.0) / 24.0)
    temp = seasonal_mean_temp_c(doy) + anomaly + amplitude * diurnal + offset
    rh = np.clip(78.0 - 18.0 * diurnal + rh_noise, 30.0, 100.0)
    return temp, vapour_density_g_m3(temp, rh), radiation, cloud


# ---- indoor climate ----------------------------------------------------------------

@dataclass
class Simulation:
    """Result of simulate(): physical truth on the internal time grid (seconds from start)."""
    scenario: Scenario
    t: np.ndarray
    truth_values: dict
    outdoor: dict

    def truth(self):
        return GreenhouseTruth(self)

    def sample(self, period_s=300, noise=True):
        """Measured values every period_s (sensor noise and sensor faults applied) and labels.
        Returns a dict of equal-length columns: timestamp_s, the QUANTITIES, label, event, event_id."""
        return sample_columns(self, period_s, noise)


class GreenhouseTruth:
    """The physical environment at any time: truth(t) -> {quantity: value}.
    t is a unix timestamp (seconds) inside the simulated span; values are interpolated
    linearly between simulation steps. Sensor faults are not in here (they belong to the
    sensors, not to the air)."""

    def __init__(self, sim):
        self._t = sim.t + sim.scenario.start_timestamp_s
        self._values = sim.truth_values
        self.start_s = float(self._t[0])
        self.end_s = float(self._t[-1])

    def __call__(self, t):
        return self.at(t)

    def at(self, t):
        if not self.start_s <= t <= self.end_s:
            raise ValueError("time %r outside the simulated span %d..%d" % (t, self.start_s, self.end_s))
        return {q: float(np.interp(t, self._t, self._values[q])) for q in QUANTITIES}


def simulate(scenario):
    """Run the greenhouse physics for the scenario; returns a Simulation."""
    step = float(scenario.step_s)
    if not 10 <= step <= 300:
        raise ValueError("step_s must be within 10..300 s, got %r" % scenario.step_s)
    # The controllers and heat stores settle during a spin-up before t = 0 (not returned).
    spin = int(round(SPIN_UP_S / step))
    n = int(round(scenario.days * DAY_S / step)) + 1 + spin
    t = (np.arange(n) - spin) * step
    rng = np.random.default_rng(np.random.SeedSequence([int(scenario.seed), 2]))
    t_out, x_out, radiation, cloud = outdoor_weather(scenario, t, rng)

    def active(kind):
        on = np.zeros(n, dtype=bool)
        for e in scenario.events:
            if e.kind == kind:
                on |= (t >= e.start_s) & (t < e.end_s)
        return on.tolist()

    heating_off = active(HEATING_FAILURE)
    vent_open = active(VENT_STUCK_OPEN)
    vent_closed = active(VENT_STUCK_CLOSED)
    irrigation_off = active(IRRIGATION_FAILURE)
    dosing_stuck = active(CO2_DOSING_FAULT)
    hour = ((t + (scenario.start_doy - 1) * DAY_S) % DAY_S / HOUR_S).tolist()

    # Constants per m2 floor.
    c_air = 3.0e4          # J/K: air, crop and light structure
    c_soil = 3.0e5         # J/K: soil and heavy structure node
    h_soil = 4.0           # W/K air <-> soil node
    u_cover = 6.5          # W/K cover heat loss
    height = 4.0           # m3 air per m2
    rho_cp = 1205.0        # J/(m3 K)
    heat_max = 180.0       # W heating capacity
    dose_max = 40.0        # umol CO2/s dosing capacity (about 6 g/m2/h)
    mol_air = height * 41.6
    transmission = 0.7

    temp = float(seasonal_mean_temp_c(scenario.start_doy)) + 8.0
    temp = max(temp, 17.0)
    soil_t = temp - 1.0
    x = _sat_density_scalar(temp) * 0.7
    co2 = 500.0
    theta = 38.0
    irrigating = False

    out = {q: np.empty(n) for q in QUANTITIES}
    vent_trace = np.empty(n)
    heat_trace = np.empty(n)
    t_out_l, x_out_l, rad_l, cloud_l = t_out.tolist(), x_out.tolist(), radiation.tolist(), cloud.tolist()
    for k in range(n):
        i_in = transmission * rad_l[k]
        par = 2.15 * i_in
        day = i_in > 5.0
        x_sat = _sat_density_scalar(temp)
        rh = min(100.0, 100.0 * x / x_sat)

        setpoint = 18.0 if day else 16.0
        heat = 0.0 if heating_off[k] else min(heat_max, max(0.0, 300.0 * (setpoint - temp)))
        vent = min(1.0, max(0.0, (temp - 24.0) / 4.0))
        if rh > 85.0 and temp > setpoint:
            vent = max(vent, 0.05)
        if vent_open[k]:
            vent = 1.0
        elif vent_closed[k]:
            vent = 0.0
        ach = 0.7 + 35.0 * vent                     # air changes per hour
        flow = height * ach / 3600.0                # m3/s per m2
        g_vent = rho_cp * flow

        water = min(1.0, max(0.05, (theta - 12.0) / 13.0))
        vpd_kpa = max(0.0, (x_sat - x) / x_sat * _svp_scalar(temp) / 1000.0)
        transp = water * (0.00011 * i_in + 0.006 * vpd_kpa + 0.003)   # g/m2/s

        q_sun = 0.8 * i_in - 2450.0 * transp
        # Clear nights lose extra heat by radiation to the cold sky.
        u_total = u_cover + (0.0 if day else 1.5 * (1.0 - cloud_l[k]))
        d_temp = (q_sun + heat - (u_total + g_vent) * (temp - t_out_l[k]) - h_soil * (temp - soil_t)) / c_air
        soil_t += (h_soil * (temp - soil_t) + 0.05 * i_in) / c_soil * step

        t_cover = t_out_l[k] + 0.35 * (temp - t_out_l[k]) - 2.0 * (1.0 - cloud_l[k]) * (not day)
        condense = max(0.0, 0.004 * (x - _sat_density_scalar(t_cover)))
        d_x = (transp - condense - flow * (x - x_out_l[k])) / height

        if dosing_stuck[k]:
            dose = dose_max
        elif day:
            target = 800.0 if vent < 0.2 else 450.0
            dose = min(dose_max, max(0.0, 0.05 * (target - co2)))
        else:
            dose = 0.0
        uptake = 30.0 * par / (par + 350.0) * co2 / (co2 + 350.0) * water
        d_co2 = (dose + 1.5 - uptake) / mol_air - ach / 3600.0 * (co2 - OUTDOOR_CO2_PPM)

        if not irrigation_off[k]:
            if theta < 32.0 and 6.0 <= hour[k] < 18.0:
                irrigating = True
            if theta >= 40.0 or not 6.0 <= hour[k] < 18.0:
                irrigating = False
        else:
            irrigating = False
        d_theta = -transp / 1000.0 / 0.3 + (0.25 / 60.0 if irrigating else 0.0)

        out["air_temp_c"][k] = temp
        out["rh_pct"][k] = rh
        out["co2_ppm"][k] = co2
        out["light_lux"][k] = 110.0 * i_in
        out["par_umol_m2_s"][k] = par
        out["soil_moisture_pct"][k] = theta
        out["soil_temp_c"][k] = soil_t
        vent_trace[k] = vent
        heat_trace[k] = heat

        temp += d_temp * step
        x = min(max(x + d_x * step, 0.5), _sat_density_scalar(temp))
        co2 = max(150.0, co2 + d_co2 * step)
        theta = min(60.0, max(3.0, theta + d_theta * step))

    outdoor = {"air_temp_c": t_out, "vapour_g_m3": x_out, "radiation_w_m2": radiation,
               "cloud": cloud, "vent_opening": vent_trace, "heating_w_m2": heat_trace}
    keep = slice(spin, None)
    return Simulation(scenario, t[keep], {q: v[keep] for q, v in out.items()},
                      {q: v[keep] for q, v in outdoor.items()})


# ---- measurement: sampling, noise and sensor faults --------------------------------

_NOISE_STD = {"air_temp_c": 0.1, "rh_pct": 1.0, "co2_ppm": 12.0, "light_lux": 0.02,
              "par_umol_m2_s": 0.02, "soil_moisture_pct": 0.3, "soil_temp_c": 0.1}
_RELATIVE_NOISE = ("light_lux", "par_umol_m2_s")
_DRIFT_PER_HOUR = {"air_temp_c": 0.6, "rh_pct": 3.0, "co2_ppm": 80.0, "soil_moisture_pct": 1.5}
_SPIKE_SIZE = {"air_temp_c": 15.0, "rh_pct": 30.0, "co2_ppm": 1500.0, "soil_moisture_pct": 30.0}
_LIMITS = {"rh_pct": (0.0, 100.0), "soil_moisture_pct": (0.0, 100.0), "co2_ppm": (0.0, 10000.0),
           "light_lux": (0.0, None), "par_umol_m2_s": (0.0, None)}


def sample_columns(sim, period_s=300, noise=True):
    scenario = sim.scenario
    stride = int(round(period_s / scenario.step_s))
    if stride < 1 or abs(stride * scenario.step_s - period_s) > 1e-9:
        raise ValueError("period_s %r must be a multiple of the simulation step %d s" % (period_s, scenario.step_s))
    idx = np.arange(0, len(sim.t), stride)
    t = sim.t[idx]
    rng = np.random.default_rng(np.random.SeedSequence([int(scenario.seed), 3]))
    cols = {"timestamp_s": (t + scenario.start_timestamp_s).astype(np.int64)}
    for q in QUANTITIES:
        v = sim.truth_values[q][idx].copy()
        if noise:
            std = _NOISE_STD[q]
            v = v * (1 + rng.normal(0, std, len(v))) if q in _RELATIVE_NOISE else v + rng.normal(0, std, len(v))
        cols[q] = v

    label = np.full(len(t), NORMAL, dtype=object)
    event = np.full(len(t), NORMAL, dtype=object)
    event_id = np.zeros(len(t), dtype=np.int64)
    for number, e in enumerate(scenario.events, 1):
        on = (t >= e.start_s) & (t < e.end_s)
        label[on] = label_of(e.kind)
        event[on] = e.kind + (":" + e.sensor if e.sensor else "")
        event_id[on] = number
        if e.kind in SENSOR_FAULTS:
            v = cols[e.sensor]
            if e.kind == SENSOR_STUCK:
                first = np.argmax(on) if on.any() else None
                if first is not None:
                    v[on] = v[first]
            elif e.kind == SENSOR_DRIFT:
                sign = 1.0 if rng.random() < 0.5 else -1.0
                v[on] += sign * _DRIFT_PER_HOUR[e.sensor] * (t[on] - e.start_s) / HOUR_S
            elif e.kind == SENSOR_DROPOUT:
                v[on] = np.nan
            elif e.kind == SENSOR_SPIKES:
                hit = on & (rng.random(len(t)) < 0.2)
                v[hit] += _SPIKE_SIZE[e.sensor] * rng.choice((-1.0, 1.0), int(hit.sum()))
    for q, (lo, hi) in _LIMITS.items():
        cols[q] = np.clip(cols[q], lo, hi)
    cols["label"] = label
    cols["event"] = event
    cols["event_id"] = event_id
    return cols


_DECIMALS = {"air_temp_c": 2, "rh_pct": 1, "co2_ppm": 0, "light_lux": 0, "par_umol_m2_s": 1,
             "soil_moisture_pct": 1, "soil_temp_c": 2}
CSV_COLUMNS = ("timestamp_s",) + QUANTITIES + ("label", "event", "event_id")


def write_csv(path_or_file, columns):
    """Write sampled columns in the replay CSV format (NaN -> empty cell)."""
    own = isinstance(path_or_file, str)
    f = open(path_or_file, "w", newline="") if own else path_or_file
    try:
        writer = csv.writer(f, lineterminator="\n")
        names = [c for c in CSV_COLUMNS if c in columns]
        writer.writerow(names)
        n = len(columns["timestamp_s"])
        formatted = []
        for name in names:
            values = columns[name]
            if name in _DECIMALS:
                fmt = "%." + str(_DECIMALS[name]) + "f"
                formatted.append(["" if math.isnan(v) else fmt % v for v in values.tolist()])
            else:
                formatted.append([str(v) for v in (values.tolist() if hasattr(values, "tolist") else values)])
        for row in zip(*formatted):
            writer.writerow(row)
        return n
    finally:
        if own:
            f.close()
