"""`make soak`: 30 simulated days of the firmware on a virtual board; report in SOAK.md.

The greenhouse simulator runs a random scenario (physical events only; sensor faults
belong to the sensors, not to the air) drawn with the simulator's season rules
(greenhouse.kinds_for_season, as for the model's training and test weeks): a heat wave or a
vent stuck closed in January changes nothing in a heated greenhouse, so no alert can be
expected for it. The firmware and the default model are deployed
with the real deploy path, the monitor stores everything, and at the end the flash log
is pulled. The report gives what a long run must show: no reboots or lost lines, memory
that does not drift, the sampling keeping up with the clock, and which injected events
were followed by an alert.

Example:
    result = run_soak(days=30, speed=14400, report_path="SOAK.md")
"""
import os
import shutil
import sqlite3
import statistics
import time

from verdant_host import paths
from verdant_host.errors import VerdantError
from verdant_host.monitor import Monitor
from verdant_host.monitor_view import clock as _clock
from verdant_host.pull_logs import pull_logs
from verdant_host.vboard_session import BoardSession, follow_until

TRUTH_PERIOD_S = 300
DETECTION_WINDOW_S = 6 * 3600  # an alert up to this long after an event ends counts as following it


DEFAULT_START_DOY = 20.0    # late January, as the demo


def season_kinds(start_doy, days):
    """The greenhouse (not sensor) events the simulator's season rules allow both on the
    first and on the last day of the run, so every event drawn has an effect when it comes."""
    from verdant_host import greenhouse
    last_doy = (start_doy - 1 + days) % 365 + 1
    late = greenhouse.kinds_for_season(last_doy)
    return [k for k in greenhouse.kinds_for_season(start_doy)
            if k in late and k not in greenhouse.SENSOR_FAULTS]


def soak_scenario(days, seed, start_doy=DEFAULT_START_DOY):
    from verdant_host import greenhouse
    if not days > 0:
        raise VerdantError("soak: days must be > 0, got %g" % days)
    if not 1 <= start_doy <= 365:
        raise VerdantError("soak: start day of year must be within 1..365, got %g" % start_doy)
    return greenhouse.random_scenario(seed, days=days, start_doy=start_doy, kinds=season_kinds(start_doy, days))


def run_soak(days=30.0, speed=14400.0, seed=11, model=None, board="sim", work_dir=None, report_path="SOAK.md",
             progress=print, start_doy=DEFAULT_START_DOY):
    model = model or paths.DEFAULT_MODEL
    if not os.path.exists(model):
        raise VerdantError("soak: model %s not found" % model)
    work_dir = work_dir or paths.build_dir("soak")
    scenario = soak_scenario(days, seed, start_doy)
    shutil.rmtree(work_dir, ignore_errors=True)
    db_path = os.path.join(work_dir, "monitor.sqlite")
    session = BoardSession(work_dir, scenario=scenario, speed=speed, board=board, model=model,
                           truth_period_s=TRUTH_PERIOD_S, log=progress)
    began = time.monotonic()
    try:
        session.start()
        port, start_s, end_s = session.port, session.start_s, session.end_s
        monitor = Monitor(db_path)
        import serial
        with serial.Serial(port, timeout=0.2) as line:
            session.run_from_start()
            next_note = [start_s + 86400]

            def note_days(monitor):
                if monitor.last_t is not None and monitor.last_t >= next_note[0]:
                    progress("soak: day %d of %d" % ((monitor.last_t - start_s) // 86400, days))
                    next_note[0] += 86400
            follow_until(line, monitor, end_s, tick=note_days)
        monitor.finish()
        pulled = pull_logs(port, os.path.join(work_dir, "pulled-log.csv"))
    finally:
        session.stop()
    real_s = time.monotonic() - began
    text = report(scenario, start_s, end_s, db_path, monitor, pulled, speed, real_s, model, days)
    with open(report_path, "w") as f:
        f.write(text)
    return text


def _mem_series(db):
    import json
    out = []
    for t, payload in db.execute("SELECT t, payload FROM messages WHERE kind='status' ORDER BY t"):
        p = json.loads(payload)
        if isinstance(p, dict) and isinstance(p.get("mem_free"), int):
            out.append((t, p["mem_free"]))
    return out


def report(scenario, start_s, end_s, db_path, monitor, pulled, speed, real_s, model, days):
    db = sqlite3.connect(db_path)
    stats = monitor.decoder.stats
    reading_ts = [t for (t,) in db.execute("SELECT t FROM messages WHERE kind='reading' ORDER BY t")]
    gaps = [b - a for a, b in zip(reading_ts, reading_ts[1:])]
    errors = db.execute("SELECT payload, count(*) FROM messages WHERE kind='error' GROUP BY payload "
                        "ORDER BY count(*) DESC LIMIT 5").fetchall()
    n_errors = db.execute("SELECT count(*) FROM messages WHERE kind='error'").fetchone()[0]
    alerts = db.execute("SELECT type, severity, count(*) FROM alerts WHERE event='raise' GROUP BY type, severity "
                        "ORDER BY count(*) DESC").fetchall()
    raises = db.execute("SELECT t, type FROM alerts WHERE event='raise' ORDER BY t").fetchall()
    mem = _mem_series(db)
    reached = monitor.last_t or start_s
    truth = _truth_columns(scenario)
    lines = ["# Soak test: %g simulated days on the virtual board" % days, "",
             "Generated by `make soak` (`verdant soak`) on %s UTC. Model `%s`, board `sim`, clock x%g "
             "(%.0f s real for the run)." % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                                             os.path.relpath(model, paths.REPO_DIR), speed, real_s), "",
             ] + _explanation(scenario) + [
             "## Link and firmware health", "",
             "| measure | value |", "| --- | --- |",
             "| board time reached | %s (%.1f of %g days) |" % (_clock(reached), (reached - start_s) / 86400.0, days),
             "| protocol lines decoded | %d |" % stats["lines"],
             "| damaged lines skipped / partial / other text | %d / %d / %d |" % (stats["garbage"], stats["partial"], stats["text"]),
             "| lines lost (sequence gaps) | %d |" % stats["lost"],
             "| board restarts seen | %d |" % stats["reboots"],
             "| readings | %d |" % len(reading_ts),
             "| reading interval median / max (board s) | %s / %s |" % (
                 statistics.median_low(gaps) if gaps else "-", max(gaps) if gaps else "-"),  # an interval seen
             "| error lines | %d |" % n_errors,
             "| mem_free first / min / last (bytes) | %s |" % (
                 "%d / %d / %d" % (mem[0][1], min(m for _, m in mem), mem[-1][1]) if mem else "no status lines"),
             "| flash log records pulled / damaged slots | %d / %d |" % (pulled["records"], pulled["bad_slots"]),
             ""]
    if errors:
        lines += ["Most frequent error lines:", ""] + ["- %d x `%s`" % (n, p) for p, n in errors] + [""]
    lines += ["## Alerts raised", "", "| alert | severity | raises |", "| --- | --- | --- |"]
    lines += ["| %s | %s | %d |" % row for row in alerts] or ["| none | | |"]
    lines += ["", "## Injected events and the alerts that followed", "",
              "An event counts as detected when an alert of the same type is raised between its start and "
              "%d h after its end. Other alerts raised in that span are listed too." % (DETECTION_WINDOW_S // 3600), "",
              "| event | start | end | greenhouse air min / max (C) | same-type alert | other alerts in the span |",
              "| --- | --- | --- | --- | --- | --- |"]
    detected = 0
    for event in scenario.events:
        begin, end = start_s + event.start_s, start_s + event.end_s
        during = [(t, kind) for t, kind in raises if begin <= t <= end + DETECTION_WINDOW_S]
        same = [t for t, kind in during if kind == event.kind]
        others = sorted({kind for _, kind in during if kind != event.kind})
        if same:
            detected += 1
        air = truth["air_temp_c"][(truth["timestamp_s"] >= begin) & (truth["timestamp_s"] < end)]
        lines.append("| %s | %s | %s | %.1f / %.1f | %s | %s |" % (
            event.kind, _clock(begin), _clock(end), air.min(), air.max(),
            "after %.1f h" % ((same[0] - begin) / 3600.0) if same else "none",
            ", ".join(others) or "-"))
    lines += ["", "%d of %d injected events were detected by an alert of their own type." % (
        detected, len(scenario.events)), ""]
    from verdant_host.dataset import HORIZON_S, LABELS
    spans = [(start_s + e.start_s - HORIZON_S, start_s + e.end_s + DETECTION_WINDOW_S) for e in scenario.events]
    model_raises = [(t, kind) for t, kind in raises if kind in LABELS]
    stray = [(t, kind) for t, kind in model_raises if not any(a <= t <= b for a, b in spans)]
    lines += ["Model alerts (the model's classes): %d raises, %d of them outside every event's span "
              "(45 min before its start to 6 h after its end)%s." % (
                  len(model_raises), len(stray),
                  ": " + ", ".join("%s at %s" % (kind, _clock(t)) for t, kind in stray) if stray else ""), ""]
    vpd_raises = sum(n for kind, _, n in alerts if kind == "vpd_low")
    if vpd_raises:
        lines += ["`vpd_low` is the firmware's threshold rule (VPD below 0.3 kPa for 1 h, severity info), not the "
                  "model: %d raises; the simulated greenhouse air (truth, without sensor noise) had %d spells of "
                  "VPD below 0.3 kPa lasting 1 h or more in the %g days (humid nights)." % (
                      vpd_raises, _low_vpd_spells(truth), days), ""]
    return "\n".join(lines)


def _explanation(scenario):
    from verdant_host import greenhouse
    return ["## What this measures", "",
            "The firmware and the default model run for %g simulated days on the virtual board (MicroPython Unix "
            "port, simulated I2C/ADC/1-Wire sensors reading the greenhouse simulator's truth with their own noise, "
            "readings every 60-300 s, one feature row and model run per 15 min), deployed and monitored with the "
            "real tools. It shows what a long run must: no restarts or lost lines, memory that does not drift, "
            "sampling that keeps up with the clock, a readable flash log, and the alerts that followed the "
            "injected greenhouse events." % scenario.days, "",
            "The run starts on day %d of the year (seasonal mean outdoor temperature %.1f C). Its events are drawn by "
            "`greenhouse.random_scenario` with the season rules the model's training and test weeks use "
            "(`greenhouse.kinds_for_season`, checked on the first and the last day): here %s. Sensor faults are "
            "left out (they are the sampler's job). Out-of-season events are not injected: in a January soak "
            "that drew them anyway, five heat waves left the heated greenhouse at 12-26 C and two vents stuck "
            "closed at 15-18 C (vents stay shut below 24 C in winter anyway), far from any heat threshold, and "
            "no training or test week has such events below a 12 C seasonal mean; neither the model nor a "
            "threshold can be expected to flag them. `verdant soak --start-doy 200` runs a summer soak (heat "
            "waves, vents stuck closed)." % (
                int(scenario.start_doy), float(greenhouse.seasonal_mean_temp_c(scenario.start_doy)),
                ", ".join(sorted({e.kind for e in scenario.events})) or "none"), "",
            "Detection here is a single board run with the board's own sensor noise, so it is a sanity check of the "
            "firmware path, not a measurement of the model: the model's detection rates, latencies and false "
            "alarms are in `models/default/report.md` (40 held-out simulated weeks).", ""]


def _truth_columns(scenario):
    """The simulated greenhouse without sensor noise, every TRUTH_PERIOD_S (for the event table)."""
    from verdant_host import greenhouse
    return greenhouse.simulate(scenario).sample(TRUTH_PERIOD_S, noise=False)


def _low_vpd_spells(truth, below_kpa=0.3, hold_s=3600):
    """Spells of VPD below below_kpa lasting hold_s or more (what the vpd_low rule waits for)."""
    from verdant.features import vpd_kpa
    spells, run_s = 0, 0
    for temp, rh in zip(truth["air_temp_c"].tolist(), truth["rh_pct"].tolist()):
        if vpd_kpa(temp, rh) < below_kpa:
            run_s += TRUTH_PERIOD_S
            if run_s == hold_s:
                spells += 1
        else:
            run_s = 0
    return spells
