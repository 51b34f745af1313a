"""What the sensors measure of a simulated greenhouse: samples with sensor noise and the
scenario's sensor faults, written as the replay CSV; and the same sensor faults as the
virtual board's simulated parts take them (verdant.sim.faults), so a virtual board shows
the fault the scenario names.

Example:
    columns = sim.sample(period_s=300)        # measured values (noise, sensor faults) + labels
    write_csv("week.csv", columns)
    board_faults(scenario)                    # [{"kind": "sensor_stuck", "quantity": ..., ...}]
"""
import csv
import math

import numpy as np

from verdant_host.greenhouse.scenario import (HOUR_S, NORMAL, QUANTITIES, SENSOR_DRIFT, SENSOR_DROPOUT,
                                              SENSOR_FAULTS, SENSOR_SPIKES, SENSOR_STUCK, label_of)

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


def board_faults(scenario):
    """The scenario's sensor faults as verdant.sim.faults specs for a virtual board whose
    clock runs on the scenario's timestamps (the same kinds, sizes and windows as sample())."""
    faults = []
    for number, e in enumerate(scenario.events, 1):
        if e.kind not in SENSOR_FAULTS:
            continue
        spec = {"kind": e.kind, "quantity": e.sensor, "seed": number,
                "start_s": scenario.start_timestamp_s + e.start_s, "end_s": scenario.start_timestamp_s + e.end_s}
        if e.kind == SENSOR_DRIFT:
            spec["per_hour"] = _DRIFT_PER_HOUR[e.sensor]
        elif e.kind == SENSOR_SPIKES:
            spec["size"] = _SPIKE_SIZE[e.sensor]
        faults.append(spec)
    return faults
