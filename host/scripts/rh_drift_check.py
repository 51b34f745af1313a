"""Can an RH sensor drifting 0.5 %/h be told from healthy humidity with T, RH, CO2 and PAR only?

Measures, on the GreenLight splits we may tune on (dev, dev2 with their site histories, and
the train split's fault-free greenhouses), each candidate cross-check's statistic on healthy
time against the same statistic inside the rh_sensor_drift windows:

  cap       the controller vents when the TRUE RH passes the greenhouse's rhMax: a reading
            above anything the history shows would betray a positive drift
  steps     at heating set-point steps and lamp switches the vapour content is nearly kept
            for minutes: RH after = RH before * es(T before) / es(T after); an offset d bends
            that by d * (1 - ratio)
  steady    RH change (last hour's mean - first hour's) over 4 h in which T, CO2 and PAR all
            stay put (nothing to move the humidity)
  day       RH's departure from the same quarter hour yesterday (the M_d24h feature)
  level     a site model of the vapour pressure from T, CO2, PAR and hour of day, fitted on
            the site history; its residual (as RH %, 1 h mean) changed over 10 h

A cross-check can only ship if the drift windows' values lie beyond the healthy maximum.

    PYTHONPATH=host .venv/bin/python host/scripts/rh_drift_check.py

Never reads the test splits (data/greenlight/test*): they are measured once, by the lead.
"""
import os
import sys

import numpy as np

from verdant import features as vf

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data", "greenlight")
SPLITS = ("dev", "dev2", "train")      # the only splits this reads
ROWS_PER_HOUR = 12                     # 5-minute rows
DAY_ROWS = 24 * ROWS_PER_HOUR


# the board's saturation vapour pressure (verdant.features, Buck), over arrays
saturation_kpa = np.vectorize(vf.saturation_vapour_pressure_kpa, otypes=[float])


def step_residuals(temp, rh, lag=2, min_step_c=1.5):
    """[(ratio, residual %)] at each temperature step of at least min_step_c over `lag` rows
    after a quarter hour of flat temperature: residual = RH after - RH before * ratio."""
    out = []
    for i in range(3, len(temp) - lag):
        if not np.isfinite(temp[i - 3:i + lag + 1]).all():
            continue
        if abs(temp[i + lag] - temp[i]) < min_step_c or abs(temp[i] - temp[i - 3]) > 0.3:
            continue
        ratio = saturation_kpa(temp[i]) / saturation_kpa(temp[i + lag])
        residual = rh[i + lag] - rh[i] * ratio
        if np.isfinite(residual):
            out.append((float(ratio), float(residual)))
    return out


def steady_changes(cols, usable, hours=4, tol=(0.4, 60.0, 20.0)):
    """RH change over each `hours` span of usable rows in which T, CO2 and PAR stay within tol."""
    temp, rh, co2, par = (cols[q] for q in ("air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s"))
    span, hour = hours * ROWS_PER_HOUR, ROWS_PER_HOUR
    out = []
    for i in range(span, len(rh)):
        s = slice(i - span, i + 1)
        if not usable[s].all():
            continue
        if any(np.nanmax(x[s]) - np.nanmin(x[s]) > limit for x, limit in zip((temp, co2, par), tol)):
            continue
        out.append(float(np.nanmean(rh[i - hour + 1:i + 1]) - np.nanmean(rh[i - span:i - span + hour])))
    return out


def day_departures(rh):
    """RH minus the range of the readings 24 h ago and 15 min either side (0 inside, NaN unknown)."""
    n = len(rh)
    low, high = np.full(n, np.nan), np.full(n, np.nan)
    for shift in (DAY_ROWS - 3, DAY_ROWS, DAY_ROWS + 3):
        past = np.full(n, np.nan)
        past[shift:] = rh[:-shift]
        low, high = np.fmin(low, past), np.fmax(high, past)
    out = np.where(rh < low, rh - low, np.where(rh > high, rh - high, 0.0))
    out[np.isnan(low)] = np.nan
    out[:DAY_ROWS] = np.nan  # no day behind it yet
    return out


def _level_inputs(cols):
    temp, co2, par = cols["air_temp_c"], cols["co2_ppm"], cols["par_umol_m2_s"]
    hour = (cols["timestamp_s"] % 86400) / 3600.0
    w = 2 * np.pi * hour / 24
    return np.column_stack([np.ones(len(temp)), temp, co2 / 100, par / 100,
                            np.sin(w), np.cos(w), np.sin(2 * w), np.cos(2 * w)])


def level_changes(site, cols, hours=10):
    """Residual of a least-squares vapour-pressure model fitted on the site history, applied
    to the scenario: as RH %, 1 h trailing mean, minus itself `hours` earlier."""
    def vapour(c):
        return c["rh_pct"] / 100 * saturation_kpa(c["air_temp_c"])
    x_fit, y_fit = _level_inputs(site), vapour(site)
    ok = np.all(np.isfinite(x_fit), axis=1) & np.isfinite(y_fit)
    weights = np.linalg.lstsq(x_fit[ok], y_fit[ok], rcond=None)[0]
    residual = (vapour(cols) - _level_inputs(cols) @ weights) / saturation_kpa(cols["air_temp_c"]) * 100
    residual = np.nan_to_num(residual)
    hour = ROWS_PER_HOUR
    mean = np.convolve(residual, np.ones(hour) / hour, mode="full")[:len(residual)]
    change = np.full(len(mean), np.nan)
    span = hours * hour
    change[span:] = mean[span:] - mean[:-span]
    return change


def _scenarios(split):
    from verdant_host.fieldeval import load_manifest, read_columns
    if split not in SPLITS:
        raise SystemExit("rh_drift_check: %s is not a split to tune on" % split)
    folder = os.path.join(DATA, split)
    for meta in load_manifest(folder):
        if split == "train" and meta["index"] % 4 != 3:
            continue  # the train split's fault-free greenhouses only
        cols = read_columns(os.path.join(folder, "scenario_%02d.csv" % meta["index"]))
        site_path = os.path.join(DATA, split + "_site", "site_%02d.csv" % meta["index"])
        site = read_columns(site_path) if os.path.exists(site_path) else None
        t = cols["timestamp_s"] - meta["t0_unix"]
        healthy = np.array([f == "" for f in cols["fault"]]) & (
            t < (meta["fault_start_s"] if meta["fault"] else np.inf))
        drift = (t >= meta["fault_start_s"]) & (t < meta["fault_end_s"]) if meta["fault"] == "rh_sensor_drift" else None
        yield meta, cols, site, healthy, drift


def measure():
    """{check: (healthy values, {"split idx": drift-window values})}."""
    checks = {name: ([], {}) for name in ("cap", "steps", "steady", "day", "level")}

    def add(name, healthy_values, key=None, drift_values=None):
        checks[name][0].extend(healthy_values)
        if key is not None:
            checks[name][1][key] = list(drift_values)

    for split in SPLITS:
        for meta, cols, site, healthy, drift in _scenarios(split):
            key = "%s %d" % (split, meta["index"]) if drift is not None else None
            temp, rh = cols["air_temp_c"], cols["rh_pct"]
            if drift is not None:
                # how far above the highest reading before the fault the drifting reading goes
                add("cap", [], key, [float(np.nanmax(rh[drift]) - np.nanmax(rh[healthy]))])
            steps = step_residuals(np.where(healthy, temp, np.nan), rh)
            add("steps", [r / (1 - k) for k, r in steps])
            if drift is not None:
                inside = step_residuals(np.where(drift, temp, np.nan), np.where(drift, rh, np.nan))
                add("steps", [], key, [r / (1 - k) for k, r in inside])
            add("steady", steady_changes(cols, healthy))
            if drift is not None:
                add("steady", [], key, steady_changes(cols, drift))
            # yesterday from the site history where there is one (dev, dev2), else the scenario's own
            n_site = len(site["rh_pct"]) if site is not None else 0
            departures = day_departures(np.concatenate([site["rh_pct"], rh]) if n_site else rh)[n_site:]
            add("day", departures[healthy & np.isfinite(departures)].tolist())
            if drift is not None:
                add("day", [], key, departures[drift & np.isfinite(departures)].tolist())
            if site is not None:
                changes = level_changes(site, cols)
                add("level", changes[healthy & np.isfinite(changes)].tolist())
                if drift is not None:
                    add("level", [], key, changes[drift & np.isfinite(changes)].tolist())
    return checks


def table(checks):
    """Markdown: each check's healthy range (1st-99th percentile and extremes) and the range in
    each drift window; a check separates only if a drift window leaves the healthy extremes."""
    lines = ["| check | healthy n | healthy p1 .. p99 | healthy min .. max | drift windows: min .. max (n) |",
             "| --- | --- | --- | --- | --- |"]
    for name, (healthy, drift) in checks.items():
        if name == "cap":  # the drifting reading's top minus the top before the fault
            lines.append("| cap (window max - pre-fault max) | - | - | - | %s |" % ", ".join(
                "%s: %+.1f" % (k, v[0]) for k, v in sorted(drift.items())))
            continue
        h = np.array(healthy)
        cells = ", ".join("%s: %s (%d)" % (k, "%.1f .. %.1f" % (min(v), max(v)) if v else "-", len(v))
                          for k, v in sorted(drift.items()))
        lines.append("| %s | %d | %.1f .. %.1f | %.1f .. %.1f | %s |" % (
            name, len(h), np.percentile(h, 1), np.percentile(h, 99), h.min(), h.max(), cells))
    return "\n".join(lines)


def main():
    print(table(measure()))


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(HERE, ".."))
    main()
