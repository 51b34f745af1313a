"""Training windows from simulated greenhouses, built with the board's own feature code
(verdant.features), so the model sees exactly what the firmware computes.

A sample at time t is the model input the board would build at t: the last WINDOW
feature rows (one per PERIOD_S slot), each restricted to FEATURES, time-major.
Its label is the event in progress at t (greenhouse.LABELS; "normal" outside events).
Samples whose input the board could not build (missing slots or values, e.g. during a
sensor dropout) are left out, as the firmware does not run the model then.

    data = build_dataset(range(8), days=7)
    data.x.shape          # (n, WINDOW * len(FEATURES)), raw (not normalized)
"""
from dataclasses import dataclass

import numpy as np

from verdant import features as vf
from verdant_host import greenhouse

PERIOD_S = 900          # one feature row per 15 min: boards sampling every 1-15 min fill every slot
WINDOW = 8              # 2 hours of context
FEATURES = ("air_temp_c", "air_temp_c_rate_h", "rh_pct", "vpd_kpa", "co2_ppm", "co2_ppm_rate_h",
            "light_lux", "soil_moisture_pct", "soil_moisture_pct_rate_h", "tod_sin", "tod_cos")


@dataclass
class Dataset:
    x: np.ndarray           # (n, WINDOW * F) float32, raw feature values
    y: np.ndarray           # (n,) int class index into labels
    t: np.ndarray           # (n,) unix seconds of each sample
    event_id: np.ndarray    # (n,) event number within its scenario (0 = none)
    scenario: np.ndarray    # (n,) index of the scenario in `scenarios`
    scenarios: list         # greenhouse.Scenario per index
    labels: tuple = greenhouse.LABELS
    features: tuple = FEATURES
    window: int = WINDOW
    period_s: int = PERIOD_S

    def __len__(self):
        return len(self.y)


def rows_to_samples(timestamps, readings, names=FEATURES, period_s=PERIOD_S, window=WINDOW):
    """Feed readings (dict quantity -> array, NaN = missing) through verdant.features.

    Returns (x, keep): x[i] is the raw model input at timestamps[i] (NaN when the board
    could not build it) and keep[i] says whether it could.
    """
    state = vf.FeatureState(period_s=period_s, window=window)
    zeros, ones = [0.0] * len(names), [1.0] * len(names)
    n = len(timestamps)
    x = np.full((n, window * len(names)), np.nan, dtype=np.float32)
    keep = np.zeros(n, dtype=bool)
    columns = {q: readings[q].tolist() for q in readings}
    for i, t in enumerate(timestamps.tolist()):
        state.add(t, {q: columns[q][i] for q in columns})
        floats, _missing = vf.build_vector(state.rows(window), list(names), zeros, ones, window)
        if floats is not None:
            x[i] = floats
            keep[i] = True
    return x, keep


def scenario_samples(scenario, names=FEATURES, period_s=PERIOD_S, window=WINDOW):
    """(x, y, t, event_id) for one scenario, keeping only samples the board could build."""
    cols = greenhouse.simulate(scenario).sample(period_s)
    readings = {q: cols[q] for q in greenhouse.QUANTITIES}
    x, keep = rows_to_samples(cols["timestamp_s"], readings, names, period_s, window)
    index = {name: i for i, name in enumerate(greenhouse.LABELS)}
    y = np.array([index[label] for label in cols["label"]], dtype=np.int64)
    return x[keep], y[keep], cols["timestamp_s"][keep], cols["event_id"][keep]


def build_dataset(seeds, days=7.0, names=FEATURES, period_s=PERIOD_S, window=WINDOW, progress=None):
    """Samples from one random scenario per seed. progress(i, n) is called after each one."""
    seeds = list(seeds)
    parts, scenarios = [], []
    for i, seed in enumerate(seeds):
        scenario = greenhouse.random_scenario(seed, days=days)
        scenarios.append(scenario)
        x, y, t, event_id = scenario_samples(scenario, names, period_s, window)
        parts.append((x, y, t, event_id, np.full(len(y), i, dtype=np.int64)))
        if progress:
            progress(i + 1, len(seeds))
    if not parts:
        raise ValueError("build_dataset: no seeds given")
    x, y, t, event_id, which = (np.concatenate([p[k] for p in parts]) for k in range(5))
    return Dataset(x, y, t, event_id, which, scenarios, greenhouse.LABELS, tuple(names), window, period_s)


def normalization(x, n_features):
    """Per-feature mean and std over every time step of every sample (std floored at 1e-3)."""
    flat = x.reshape(-1, n_features).astype(np.float64)
    mean = flat.mean(axis=0)
    std = np.maximum(flat.std(axis=0), 1e-3)
    return mean, std


def normalize(x, mean, std):
    window = x.shape[1] // len(mean)
    return ((x - np.tile(mean, window)) / np.tile(std, window)).astype(np.float32)
