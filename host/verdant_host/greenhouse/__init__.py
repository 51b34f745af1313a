"""Greenhouse simulator: indoor climate driven by outdoor weather and actuators,
with labelled injected events. Deterministic from a seed. Three parts: the scenario
(scenario.py), the physics (physics.py) and what sensors measure (sampling.py).

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
    board_faults(scenario)                    # the sensor faults for a virtual board
"""
from verdant_host.greenhouse.scenario import *  # noqa: F401,F403
from verdant_host.greenhouse.scenario import (  # noqa: F401  (names tests and tools use)
    _EVENT_TIMING, _SENSOR_FAULT_WEIGHT, kinds_for_season, label_of, random_scenario, seasonal_mean_temp_c)
from verdant_host.greenhouse.physics import (  # noqa: F401
    GreenhouseTruth, Simulation, outdoor_weather, saturation_vapour_pressure_pa, simulate, vapour_density_g_m3)
from verdant_host.greenhouse.sampling import (  # noqa: F401
    CSV_COLUMNS, board_faults, sample_columns, write_csv)
