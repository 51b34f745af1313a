"""Training windows from simulated greenhouses, built with the board's own sampler and
feature code (verdant.sampler, verdant.features) the way verdant.app drives them, so the
model sees exactly what the firmware computes.

Sensor readings every SENSOR_PERIOD_S go through the Sampler (plausibility, spike
rejection, stale values); every PERIOD_S the app adds the sampler's current values to the
FeatureState. A sample at such a time t is the model input the board builds at t: the
last WINDOW feature rows, each restricted to FEATURES, time-major.
Its label (LABELS) is early-warning: the greenhouse event in progress at t or starting
within the next HORIZON_S, "normal" otherwise. Sensor faults are labelled "normal": the
model does not learn them (see LABELS), the sampler's health checks report them.
Samples whose input the board could not build (missing slots or values, e.g. during a
sensor dropout) are left out, as the firmware does not run the model then.

    data = build_dataset(range(8), days=7)
    data.x.shape          # (n, WINDOW * len(FEATURES)), raw (not normalized)
"""
from dataclasses import dataclass

import numpy as np

from verdant import features as vf
from verdant.sampler import Sampler
from verdant_host import greenhouse

PERIOD_S = 900          # one feature row per 15 min: boards sampling every 1-15 min fill every slot
WINDOW = 12             # 3 hours of context; also the app's default feature window (rates over 3 h)
SENSOR_PERIOD_S = 300   # simulated sensor readings
HORIZON_S = 2700         # a window is labelled with an event starting within the next 45 min
FEATURES = ("air_temp_c", "air_temp_c_rate_h", "rh_pct", "vpd_kpa", "co2_ppm", "co2_ppm_rate_h",
            "light_lux", "soil_moisture_pct", "soil_moisture_pct_rate_h", "tod_sin", "tod_cos")


# The classes the model learns: normal and the seven greenhouse events. Sensor faults are
# left to the sampler (plausibility, stuck/dropout health reports, sensor_failure alerts):
# as one model class they were neither learnable (a stuck or drifting sensor looks like a
# quiet greenhouse for hours; recall 0.34) nor harmless (0.45 false alarms per week).
LABELS = (greenhouse.NORMAL,) + tuple(k for k in greenhouse.EVENT_KINDS if k not in greenhouse.SENSOR_FAULTS)


def label_samples(t_rel, events, horizon_s=HORIZON_S):
    """(y, event_id) per sample time (seconds from the scenario start): the class of the
    greenhouse event in progress or starting within horizon_s, 0 (normal) otherwise;
    event_id is the event's number in the scenario (1-based, 0 = none)."""
    t_rel = np.asarray(t_rel, dtype=float)
    y = np.zeros(len(t_rel), dtype=np.int64)
    event_id = np.zeros(len(t_rel), dtype=np.int64)
    for number, e in enumerate(events, 1):
        if e.kind in greenhouse.SENSOR_FAULTS:
            continue
        on = (t_rel >= e.start_s - horizon_s) & (t_rel < e.end_s)
        y[on] = LABELS.index(e.kind)
        event_id[on] = number
    return y, event_id


@dataclass
class Dataset:
    x: np.ndarray           # (n, WINDOW * F) float32, raw feature values
    y: np.ndarray           # (n,) int class index into labels
    t: np.ndarray           # (n,) unix seconds of each sample
    event_id: np.ndarray    # (n,) event number within its scenario (0 = none)
    scenario: np.ndarray    # (n,) index of the scenario in `scenarios`
    scenarios: list         # greenhouse.Scenario per index
    labels: tuple = LABELS
    features: tuple = FEATURES
    window: int = WINDOW
    period_s: int = PERIOD_S

    def __len__(self):
        return len(self.y)


class RowSensor:
    """A sensor for verdant.sampler that returns the current row's value of one quantity
    (NaN/None = the sensor gave nothing, a failed read)."""
    reads = 1

    def __init__(self, quantity, period_s):
        self.name = quantity
        self.quantities = (quantity,)
        self.period_s = period_s
        self.value = None

    def measure(self):
        if self.value is None or self.value != self.value:
            raise OSError("no reading")
        return {self.name: self.value}


def rows_to_samples(timestamps, readings, names=FEATURES, period_s=PERIOD_S, window=WINDOW):
    """Feed readings (dict quantity -> array, NaN = missing) through the firmware's sampler
    and features, as verdant.app does.

    Returns (steps, x, keep): steps are the indices of the rows where the app runs a
    feature step (the first row at or after each period boundary); x[j] is the raw model
    input there (NaN when the board could not build it) and keep[j] says whether it could.
    """
    timestamps = np.asarray(timestamps).astype(np.int64)
    spacing = int(np.median(np.diff(timestamps))) if len(timestamps) > 1 else period_s
    sensors = [RowSensor(q, max(1, spacing)) for q in readings]
    sampler = Sampler(sensors)
    state = vf.FeatureState(period_s=period_s, window=window)
    zeros, ones = [0.0] * len(names), [1.0] * len(names)
    columns = [readings[q].tolist() for q in readings]
    steps, rows_x, keep = [], [], []
    next_feature_t = None
    for i, t in enumerate(timestamps.tolist()):
        for sensor, column in zip(sensors, columns):
            sensor.value = column[i]
        sampler.poll(t)
        if next_feature_t is None:
            next_feature_t = t
        if t < next_feature_t:
            continue
        next_feature_t = (t // period_s + 1) * period_s
        state.add(t, sampler.current(t))
        floats, _missing = vf.build_vector(state.rows(window), list(names), zeros, ones, window)
        steps.append(i)
        keep.append(floats is not None)
        rows_x.append(floats if floats is not None else [np.nan] * (window * len(names)))
    x = np.array(rows_x, dtype=np.float32).reshape(len(steps), window * len(names))
    return np.array(steps, dtype=np.int64), x, np.array(keep, dtype=bool)


def scenario_samples(scenario, names=FEATURES, period_s=PERIOD_S, window=WINDOW):
    """(x, y, t, event_id) for one scenario, keeping only samples the board could build."""
    cols = greenhouse.simulate(scenario).sample(SENSOR_PERIOD_S)
    readings = {q: cols[q] for q in greenhouse.QUANTITIES}
    steps, x, keep = rows_to_samples(cols["timestamp_s"], readings, names, period_s, window)
    t = cols["timestamp_s"][steps]
    y, event_id = label_samples(t - scenario.start_timestamp_s, scenario.events)
    return x[keep], y[keep], t[keep], event_id[keep]


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
    return Dataset(x, y, t, event_id, which, scenarios, LABELS, tuple(names), window, period_s)


def normalization(x, n_features):
    """Per-feature mean and std over every time step of every sample (std floored at 1e-3)."""
    flat = x.reshape(-1, n_features).astype(np.float64)
    mean = flat.mean(axis=0)
    std = np.maximum(flat.std(axis=0), 1e-3)
    return mean, std


def normalize(x, mean, std):
    window = x.shape[1] // len(mean)
    return ((x - np.tile(mean, window)) / np.tile(std, window)).astype(np.float32)
