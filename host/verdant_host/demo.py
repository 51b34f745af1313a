"""`make demo`: the firmware on a fresh virtual board, 48 simulated hours with a fault.

Steps: simulate the greenhouse (winter, heating fails the first night), start a virtual
board on a pseudo-terminal, deploy firmware + board config + the committed default model
with the real deploy path (mpremote), restart the board clock at the scenario start and
hard-reset the board, watch its serial line with the monitor's live view, then print a
summary of the alerts (what, when, why) against the injected fault. The board stops at
the end or on Ctrl-C; nothing is left running.

Example:
    run_demo(speed=3600)        # about a minute for 48 simulated hours
"""
import os
import shutil
import subprocess
import sys
import time

from verdant_host import paths, vboard_scenario
from verdant_host.deploy import deploy
from verdant_host.errors import VerdantError
from verdant_host.monitor import Monitor, _clock
from verdant_host.vboard import VirtualBoard


def run_demo(board="sim", model=None, speed=3600.0, days=2.0, fault="heating_failure", work_dir=None,
             out=sys.stdout, db_path=None):
    """Run the demo; returns the Monitor (alerts, stats). Raises VerdantError."""
    model = model or paths.DEFAULT_MODEL
    if not os.path.exists(model):
        raise VerdantError("demo: model %s not found (make train writes models/default/)" % model)
    work_dir = work_dir or paths.build_dir("demo")
    fs_dir = os.path.join(work_dir, "fs")
    shutil.rmtree(fs_dir, ignore_errors=True)  # a fresh board every time
    os.makedirs(fs_dir)
    truth_csv = os.path.join(work_dir, "truth.csv")
    scenario = vboard_scenario.demo_scenario(days=days, fault=fault)
    start_s = vboard_scenario.write_truth_csv(truth_csv, scenario)
    end_s = start_s + int(days * 86400)
    say = lambda text: print(text, file=out, flush=True)  # noqa: E731
    for event in scenario.events:
        say("demo: scenario: %.0f h from %s, injected %s %s .. %s" % (
            days * 24, _clock(start_s), event.kind, _clock(start_s + event.start_s), _clock(start_s + event.end_s)))

    vb = VirtualBoard(fs_dir, speed=speed, truth_csv=truth_csv, sim_t0=start_s,
                      log=lambda msg: say("demo: " + msg))
    monitor = None
    try:
        port = vb.start()
        say("demo: virtual board on %s (filesystem %s, clock x%g)" % (port, fs_dir, speed))
        began = time.monotonic()
        report = deploy(board, port, model, reset=False, build_dir=os.path.join(work_dir, "build"))
        say(report.summary())
        say("demo: deployed in %.1f s; resetting the board at the scenario start" % (time.monotonic() - began))
        monitor = Monitor(db_path, out=out, reading_every_s=3 * 3600, board="vboard")
        import serial
        with serial.Serial(port, timeout=0.1) as line:
            vb.reset_clock(start_s)
            _hard_reset(port)
            deadline = time.monotonic() + (end_s - start_s) / speed + 30
            while time.monotonic() < deadline:
                monitor.feed(line.read(4096))
                if monitor.last_t is not None and monitor.last_t >= end_s:
                    break
        monitor.finish()
    except KeyboardInterrupt:
        say("demo: interrupted")
    finally:
        vb.stop()
    if monitor is not None:
        say(summary(monitor, scenario, start_s))
        if db_path:
            shown = os.path.relpath(db_path) if not os.path.relpath(db_path).startswith("..") else db_path
            say("demo: readings and alerts stored in %s\n      plot them: verdant plot --db %s --out %s"
                % (shown, shown, os.path.join(os.path.dirname(shown), "plot.png")))
    return monitor


def _hard_reset(port):
    """Hard reset through stock mpremote, as a user would (main.py then starts)."""
    mpremote = os.path.join(os.path.dirname(sys.executable), "mpremote")
    result = subprocess.run([mpremote if os.path.exists(mpremote) else "mpremote", "connect", port, "reset"],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise VerdantError("demo: mpremote reset failed: %s" % result.stderr.strip())


def summary(monitor, scenario, start_s):
    """What was injected, which alerts came, when and why, and how long after the fault."""
    lines = ["", "==== demo summary ===="]
    faults = [(start_s + e.start_s, start_s + e.end_s, e.kind) for e in scenario.events]
    for begin, end, kind in faults:
        lines.append("injected: %s from %s to %s" % (kind, _clock(begin), _clock(end)))
    raised = [a for a in monitor.alerts if a[3] == "raise"]
    if not raised:
        lines.append("alerts: none raised")
    for t, kind, severity, _, reason in raised:
        after = ""
        for begin, end, fault_kind in faults:
            if begin <= t <= end + 6 * 3600:
                after = " (%.1f h after %s began)" % ((t - begin) / 3600.0, fault_kind)
        lines.append("alert: %s  %s [%s]%s\n       why: %s" % (_clock(t), kind, severity, after, reason))
    cleared = [a for a in monitor.alerts if a[3] == "clear"]
    for t, kind, severity, _, reason in cleared:
        lines.append("clear: %s  %s" % (_clock(t), kind))
    lines.append(monitor.summary(with_alerts=False))
    return "\n".join(lines)
