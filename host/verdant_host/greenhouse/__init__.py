"""Greenhouse simulator: indoor climate driven by outdoor weather and actuators,
with labelled injected events. Deterministic from a seed. Three parts: the scenario
(scenario.py), the physics (physics.py) and what sensors measure (sampling.py).

The physics and its controllers are described in physics.py.

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
