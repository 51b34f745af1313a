"""Greenhouse physics: indoor climate driven by outdoor weather and actuators, on the
scenario's time grid. Deterministic from the scenario's seed.

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
    sim = simulate(scenario)
    truth = sim.truth()                       # truth(t) -> dict of physical values at time t
"""
import math
from dataclasses import dataclass

import numpy as np

from verdant_host.greenhouse.scenario import (
    CO2_DOSING_FAULT, DAY_S, FROST_NIGHT, HEAT_WAVE, HEATING_FAILURE, HOUR_S, IRRIGATION_FAILURE, LATITUDE_DEG,
    OUTDOOR_CO2_PPM, QUANTITIES, SPIN_UP_S, VENT_STUCK_CLOSED, VENT_STUCK_OPEN, Scenario, seasonal_mean_temp_c)


def saturation_vapour_pressure_pa(temp_c):
    """Tetens formula over water."""
    return 610.78 * np.exp(17.27 * temp_c / (temp_c + 237.3))


def vapour_density_g_m3(temp_c, rh_pct):
    return saturation_vapour_pressure_pa(temp_c) * rh_pct / 100.0 / (461.5 * (temp_c + 273.15)) * 1000.0


def _svp_scalar(temp_c):
    return 610.78 * math.exp(17.27 * temp_c / (temp_c + 237.3))


def _sat_density_scalar(temp_c):
    return _svp_scalar(temp_c) / (461.5 * (temp_c + 273.15)) * 1000.0


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
        from verdant_host.greenhouse.sampling import sample_columns
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
