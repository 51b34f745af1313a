"""Physics-grounded scenario generator: GreenLight (Katzin 2021 tomato glasshouse) driven by
real Bleiswijk weather, randomized per greenhouse, with injected equipment and sensor faults.

Runs in its own venv (greenlight 2.0.5 pins numpy 1.26), made by `make greenlight-data`:
    build/greenlight-venv/bin/python host/scripts/greenlight_scenarios.py --split test --out data/greenlight/test

Each scenario is one CSV (5-minute rows) with what a commercial greenhouse's sensors give:
    timestamp_s, air_temp_c, rh_pct, co2_ppm, par_umol_m2_s     (readings, faults applied)
    fault                                                        (the active fault's name, '' when none)
and manifest.json lists every scenario: seed, greenhouse parameters, weather window, fault
type, start and end. Deterministic: the same --split/--count/--seed gives the same bytes.

What differs between greenhouses (randomized): boiler capacity, lamps or none, heating
setpoints, ventilation dead zone and humidity band, thermal screen set points, CO2
set point, weather start day (the split picks disjoint weather windows) with outdoor
temperature shifted and solar radiation scaled.

Faults: equipment faults override a control input from the fault start on (boiler off,
roof vents fully open, vents shut, CO2 valve fully open, CO2 dosing off); sensor faults
corrupt the readings (temperature stuck, RH drift 0.5 %/h, bursts of spikes, dropout).
Every scenario gets sensor noise and quantization like a real sensor (0.01 degC, 0.01 %,
1 ppm, 1 umol).

PAR: GreenLight gives PAR above the canopy in W/m2; 1 W/m2 PAR = 4.57 umol/m2/s (sunlight,
McCree 1972); the same factor is used for the lamps.
"""
import argparse
import json
import math
import os
import sys
import tempfile

import numpy as np

PAR_UMOL_PER_W = 4.57
# The bundled weather starts 2009-10-20; the scenarios are dated the same day of the year in
# 2025 (a board treats a clock before 2025 as unset and turns time-of-day features off).
T0_UNIX = 1760918400          # 2025-10-20 00:00 UTC
WEATHER_T0_UNIX = 1255996800  # 2009-10-20 00:00 UTC, the start of the bundled weather
STEP_S = 300
# weather windows (days since the start of the bundled data) per split: disjoint, so the
# test greenhouses see weather the training ones never saw
# test weather, never trained on. "dev" is the split the rules were tuned on (seed 11);
# "test" is a fresh one made after that (other seed: other greenhouses, weather days, faults
# times), looked at only to report. The bundled weather has 111 days, so dev and test draw
# from the same window.
SPLIT_DAYS = {"train": (0, 50), "dev": (55, 105), "test": (55, 105)}
EQUIPMENT_FAULTS = ("heating_failure", "vent_stuck_open", "vent_stuck_closed", "co2_valve_stuck_open",
                    "co2_dosing_off")
SENSOR_FAULTS = ("temp_sensor_stuck", "rh_sensor_drift", "sensor_dropout", "spikes")
FAULTS = EQUIPMENT_FAULTS + SENSOR_FAULTS
MIN_CO2_SET_POINT = 450.0     # --co2-change-ppm: a grower who doses keeps above outdoor air


def smooth_step(t_day):
    """GreenLight expression: 0 before t_day (days since start), 1 after (steep logistic)."""
    return "(1 / (1 + exp(-2000 * (time_state - %.6f))))" % t_day


def greenhouse_params(rng):
    lamps = bool(rng.random() < 0.6)
    return {
        "boiler_w_m2": round(float(rng.uniform(120, 300)), 1),
        "lamps": lamps,
        "lamp_w_m2": round(float(rng.uniform(50, 120)), 1) if lamps else 0.0,
        "t_day_c": round(float(rng.uniform(18.0, 21.0)), 1),
        "t_night_c": round(float(rng.uniform(15.0, 18.5)), 1),
        "vent_dead_zone_c": round(float(rng.uniform(3.0, 7.0)), 1),
        "rh_max_pct": round(float(rng.uniform(80.0, 90.0)), 1),
        "screen_day_c": round(float(rng.uniform(3.0, 8.0)), 1),
        "screen_night_c": round(float(rng.uniform(7.0, 12.0)), 1),
        "co2_day_ppm": round(float(rng.uniform(600.0, 1000.0)), 0),
        "t_out_shift_c": round(float(rng.uniform(-3.0, 3.0)), 2),
        "solar_scale": round(float(rng.uniform(0.7, 1.3)), 2),
    }


def fault_window(rng, fault, days):
    """(start, end) in seconds since the scenario start: after a day of normal running,
    timed when the fault shows (heating at dusk, vents and CO2 in the morning)."""
    day = int(rng.integers(1, max(2, days - 1)))
    if fault == "heating_failure":
        hour = rng.uniform(17, 21)
    elif fault in ("vent_stuck_closed", "co2_valve_stuck_open", "co2_dosing_off"):
        hour = rng.uniform(7, 10)
    else:
        hour = rng.uniform(0, 24)
    start = int((day * 24 + hour) * 3600) // STEP_S * STEP_S
    length_h = rng.uniform(6, 16) if fault in EQUIPMENT_FAULTS else rng.uniform(8, 20)
    end = min(days * 86400 - STEP_S, start + int(length_h * 3600) // STEP_S * STEP_S)
    return start, end


def co2_set_point(p):
    """co2SpDay: the greenhouse's set point, or (with a co2_change, --co2-change-ppm) the grower's
    new one from its time on, switched with smooth_step like a fault."""
    change = p.get("co2_change")
    if not change:
        return str(p["co2_day_ppm"])
    step = smooth_step(change["at_s"] / 86400.0)
    return "(%s * (1 - %s) + %s * %s)" % (p["co2_day_ppm"], step, change["to_ppm"], step)


def model_mods(p, fault, start, end):
    mods = {
        "pBoil": {"definition": str(p["boiler_w_m2"] * 4e4)},
        "thetaLampMax": {"definition": str(p["lamp_w_m2"] if p["lamps"] else 0.0)},
        "tSpDay": {"definition": str(p["t_day_c"])},
        "tSpNight": {"definition": str(p["t_night_c"])},
        "heatDeadZone": {"definition": str(p["vent_dead_zone_c"])},
        "rhMax": {"definition": str(p["rh_max_pct"])},
        "thScrSpDay": {"definition": str(p["screen_day_c"])},
        "thScrSpNight": {"definition": str(p["screen_night_c"])},
        "co2SpDay": {"definition": co2_set_point(p)},
    }
    if fault in EQUIPMENT_FAULTS:
        on = "(%s - %s)" % (smooth_step(start / 86400.0), smooth_step(end / 86400.0))
        normal = {
            "heating_failure": ("uBoil", "proportionalControl(tAir, heatSetPoint, tHeatBand, 0, 1)", "0"),
            "vent_stuck_open": ("uRoof", "min(ventCold, max(ventHeat, ventRh))", "1"),
            "vent_stuck_closed": ("uRoof", "min(ventCold, max(ventHeat, ventRh))", "0"),
            "co2_valve_stuck_open": ("uExtCo2", "proportionalControl(co2InPpm, co2SetPoint, co2Band, 0, 1)", "1"),
            "co2_dosing_off": ("uExtCo2", "proportionalControl(co2InPpm, co2SetPoint, co2Band, 0, 1)", "0"),
        }[fault]
        name, expr, forced = normal
        mods[name] = {"definition": "(%s) * (1 - %s) + %s * %s" % (expr, on, forced, on)}
    return mods


def weather_file(p, first_day, days, folder):
    """A copy of the bundled weather from first_day on, outdoor temperature shifted, sun scaled."""
    from importlib import resources
    src = resources.files("greenlight") / "models/katzin_2021/input_data/test_data/Bleiswijk_from_20091020.csv"
    with open(str(src), encoding="latin-1") as f:
        lines = f.read().splitlines()
    header, rows = lines[:3], lines[3:]
    names = header[0].split(",")
    col = {n: i for i, n in enumerate(names)}
    out = []
    t_first = first_day * 86400
    for line in rows:
        cells = line.split(",")
        t = float(cells[col["Time"]])
        if t < t_first or t > t_first + (days + 1) * 86400:
            continue
        cells[col["Time"]] = repr(t - t_first)
        for name in ("tOut", "tSky"):
            cells[col[name]] = repr(float(cells[col[name]]) + p["t_out_shift_c"])
        for name in ("iGlob", "dayRadSum"):
            cells[col[name]] = repr(float(cells[col[name]]) * p["solar_scale"])
        out.append(",".join(cells))
    path = os.path.join(folder, "weather.csv")
    with open(path, "w", encoding="latin-1") as f:
        f.write("\n".join(header + out) + "\n")
    return path


def simulate(p, fault, start, end, first_day, days, t_end_s=None):
    """GreenLight run; returns (times s, air temp C, RH %, CO2 ppm, PAR umol/m2/s) on a 5-min grid.
    t_end_s: stop there instead of after `days` (a shorter run for a caller that needs no more)."""
    t_end = days * 86400 if t_end_s is None else int(t_end_s)
    import contextlib
    import io
    from importlib import resources
    import greenlight
    base = str(resources.files("greenlight") / "models")
    with tempfile.TemporaryDirectory() as tmp:
        weather = weather_file(p, first_day, days, tmp)
        prompt = ["katzin_2021/definition/main_katzin_2021.json", weather,
                  {"options": {"t_start": "0", "t_end": str(t_end)}},
                  model_mods(p, fault, start, end)]
        mdl = greenlight.GreenLight(base_path=base, input_prompt=prompt, output_path=os.path.join(tmp, "out.csv"))
        with contextlib.redirect_stdout(io.StringIO()):  # progress output
            mdl.load()
            mdl.solve()
        sol = mdl.full_sol
    t_sol = np.asarray(sol["Time"], dtype=float)
    order = np.argsort(t_sol, kind="stable")
    t_sol = t_sol[order]
    grid = np.arange(0, t_end, STEP_S, dtype=float)

    def series(name):
        return np.interp(grid, t_sol, np.asarray(sol[name], dtype=float)[order])

    par = (series("rParGhSun") + series("rParGhLamp")) * PAR_UMOL_PER_W
    return grid, series("tAir"), series("rhIn"), series("co2InPpm"), par


def corrupt(rng, fault, start, end, grid, temp, rh, co2, par):
    """Sensor noise and quantization everywhere; the sensor fault inside its window.
    Returns float arrays with NaN for missing readings."""
    temp = temp + rng.normal(0, 0.05, temp.size)
    rh = np.clip(rh + rng.normal(0, 0.3, rh.size), 0, 100)
    co2 = co2 + rng.normal(0, 8, co2.size)
    par = np.maximum(0.0, par * (1 + rng.normal(0, 0.02, par.size)))
    inside = (grid >= start) & (grid < end)
    idx = np.nonzero(inside)[0]
    if fault == "temp_sensor_stuck" and idx.size:
        temp[idx] = temp[idx[0]]
    elif fault == "rh_sensor_drift" and idx.size:
        sign = 1.0 if rng.random() < 0.5 else -1.0
        rh[idx] = np.clip(rh[idx] + sign * 0.5 * (grid[idx] - start) / 3600.0, 0, 100)
    elif fault == "sensor_dropout" and idx.size:
        which = [temp, rh, co2, par][int(rng.integers(0, 4))]
        which[idx] = np.nan
    elif fault == "spikes" and idx.size:
        which = int(rng.integers(0, 3))
        arr, size = [(temp, 8.0), (rh, 20.0), (co2, 600.0)][which]
        n = int(rng.integers(3, 7))
        hits = np.sort(rng.choice(idx[: max(n, min(idx.size, 36))], size=min(n, idx.size), replace=False))
        for i in hits:
            arr[i] += size * (1 if rng.random() < 0.5 else -1) * rng.uniform(0.8, 1.5)
    temp = np.round(temp, 2)
    rh = np.round(np.clip(rh, 0, 100), 2)
    co2 = np.round(co2, 0)
    par = np.round(par, 0)
    return temp, rh, co2, par


def scenario(split, index, seed):
    rng = np.random.default_rng([seed, index, 0 if split == "train" else 1])  # dev/test: by seed
    days = int(rng.integers(3, 6))
    lo, hi = SPLIT_DAYS[split]
    first_day = int(rng.integers(lo, hi - days))
    p = greenhouse_params(rng)
    # 3 of 4 scenarios carry one fault, the types in turn
    fault = "" if index % 4 == 3 else FAULTS[(index - index // 4) % len(FAULTS)]
    start, end = fault_window(rng, fault, days) if fault else (0, 0)
    return {"index": index, "seed": seed, "split": split, "days": days, "weather_first_day": first_day,
            "greenhouse": p, "fault": fault, "fault_start_s": start, "fault_end_s": end,
            "t0_unix": T0_UNIX + first_day * 86400}


def with_co2_change(meta, change_ppm, hour):
    """The scenario with its greenhouse's CO2 set point changed by change_ppm at `hour` h."""
    p = dict(meta["greenhouse"])
    p["co2_change"] = {"to_ppm": max(MIN_CO2_SET_POINT, p["co2_day_ppm"] + change_ppm),
                       "at_s": int(hour * 3600) // STEP_S * STEP_S}
    return dict(meta, greenhouse=p)


def write_csv(path, meta, grid, temp, rh, co2, par):
    start, end, fault = meta["fault_start_s"], meta["fault_end_s"], meta["fault"]

    def cell(x, fmt):
        return "" if x != x else fmt % x

    with open(path, "w") as f:
        f.write("timestamp_s,air_temp_c,rh_pct,co2_ppm,par_umol_m2_s,fault\n")
        for i, t in enumerate(grid):
            active = fault if fault and start <= t < end else ""
            f.write("%d,%s,%s,%s,%s,%s\n" % (meta["t0_unix"] + int(t), cell(temp[i], "%.2f"), cell(rh[i], "%.2f"),
                                             cell(co2[i], "%.0f"), cell(par[i], "%.0f"), active))


def site_histories(args):
    """Fault-free history of each scenario's greenhouse on the days before its scenario."""
    os.makedirs(args.out, exist_ok=True)
    for i in range(args.count):
        meta = scenario(args.split, i, args.seed)
        if args.only is not None and i != args.only:
            continue
        path = os.path.join(args.out, "site_%02d.csv" % i)
        if os.path.exists(path):
            continue
        first = meta["weather_first_day"] - args.site_days
        grid, temp, rh, co2, par = simulate(meta["greenhouse"], "", 0, 0, first, args.site_days)
        rng = np.random.default_rng([args.seed, i, 9])
        temp, rh, co2, par = corrupt(rng, "", 0, 0, grid, temp, rh, co2, par)
        hist = dict(meta, fault="", fault_start_s=0, fault_end_s=0, t0_unix=T0_UNIX + first * 86400)
        write_csv(path + ".part", hist, grid, temp, rh, co2, par)
        os.replace(path + ".part", path)
        print("%s: %d fault-free days before the scenario" % (path, args.site_days), file=sys.stderr)


def retime(folder):
    """Move CSVs written with the weather's own 2009 dates to T0_UNIX (same day of the year)."""
    shift = T0_UNIX - WEATHER_T0_UNIX
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".csv"):
            continue
        path = os.path.join(folder, name)
        with open(path) as f:
            lines = f.read().splitlines()
        if len(lines) < 2 or int(lines[1].split(",", 1)[0]) >= T0_UNIX:
            continue
        out = [lines[0]] + ["%d,%s" % (int(line.split(",", 1)[0]) + shift, line.split(",", 1)[1]) for line in lines[1:]]
        with open(path + ".part", "w") as f:
            f.write("\n".join(out) + "\n")
        os.replace(path + ".part", path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=sorted(SPLIT_DAYS), required=True)
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", type=int, default=None, help="generate just this scenario index")
    ap.add_argument("--site-days", type=int, default=0,
                    help="instead: each scenario's greenhouse, fault-free, for this many days just before its "
                         "weather window (site_NN.csv: the history `verdant train --site` learns from)")
    ap.add_argument("--co2-change-ppm", type=float, default=None,
                    help="the grower changes the CO2 set point by this much (new one at least %.0f ppm) "
                         "--co2-change-hour hours into each scenario (set-point-change scenarios; the default "
                         "output is unchanged)" % MIN_CO2_SET_POINT)
    ap.add_argument("--co2-change-hour", type=float, default=30.0,
                    help="with --co2-change-ppm: hours after the scenario start (default 30: day 1, 06:00 UTC)")
    ap.add_argument("--retime", action="store_true", help="only move 2009-dated CSVs in --out to 2025 dates")
    args = ap.parse_args(argv)
    if args.retime:
        return retime(args.out)
    if args.site_days:
        return site_histories(args)
    os.makedirs(args.out, exist_ok=True)
    manifest = []
    for i in range(args.count):
        meta = scenario(args.split, i, args.seed)
        if args.co2_change_ppm is not None:
            meta = with_co2_change(meta, args.co2_change_ppm, args.co2_change_hour)
        manifest.append(meta)
        if args.only is not None and i != args.only:
            continue
        path = os.path.join(args.out, "scenario_%02d.csv" % i)
        if os.path.exists(path) and args.only is None:
            continue  # resumable: a finished scenario is not simulated again
        grid, temp, rh, co2, par = simulate(meta["greenhouse"], meta["fault"], meta["fault_start_s"],
                                            meta["fault_end_s"], meta["weather_first_day"], meta["days"])
        rng = np.random.default_rng([args.seed, i, 7])
        temp, rh, co2, par = corrupt(rng, meta["fault"], meta["fault_start_s"], meta["fault_end_s"],
                                     grid, temp, rh, co2, par)
        write_csv(path + ".part", meta, grid, temp, rh, co2, par)
        os.replace(path + ".part", path)
        print("%s: %d days, fault %s" % (path, meta["days"], meta["fault"] or "none"), file=sys.stderr)
    command = "greenlight_scenarios.py --split %s --count %d --seed %d" % (args.split, args.count, args.seed)
    if args.co2_change_ppm is not None:
        command += " --co2-change-ppm %g --co2-change-hour %g" % (args.co2_change_ppm, args.co2_change_hour)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"command": command,
                   "scenarios": manifest}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
