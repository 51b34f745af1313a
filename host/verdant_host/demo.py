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
import sys
import time

from verdant_host import paths, vboard_scenario
from verdant_host.monitor import Monitor
from verdant_host.monitor_serial import SignalFlags
from verdant_host.monitor_view import clock as _clock
from verdant_host.vboard_session import BoardSession, follow_until


def _interrupted(flags):
    if flags.received:
        raise KeyboardInterrupt


def run_demo(board="sim", model=None, speed=3600.0, days=2.0, fault="heating_failure", work_dir=None,
             out=sys.stdout, db_path=None, micropython=None, heap_bytes=None):
    """Run the demo; returns the Monitor (alerts, stats). Raises VerdantError.

    board: any board config; the virtual board runs its sensors with the interpreter and
    heap verdant_host.vboard_target picks (micropython / heap_bytes override them)."""
    work_dir = work_dir or paths.build_dir("demo")
    scenario = vboard_scenario.demo_scenario(days=days, fault=fault)
    start_s = scenario.start_timestamp_s
    say = lambda text: print(text, file=out, flush=True)  # noqa: E731
    for event in scenario.events:
        say("demo: scenario: %.0f h from %s, injected %s %s .. %s" % (
            days * 24, _clock(start_s), event.kind, _clock(start_s + event.start_s), _clock(start_s + event.end_s)))

    session = BoardSession(work_dir, scenario=scenario, speed=speed, board=board, model=model,
                           log=lambda msg: say("demo: " + msg), micropython=micropython, heap_bytes=heap_bytes)
    monitor = None
    try:
        began = time.monotonic()
        session.start()
        say("demo: virtual board on %s (filesystem %s, clock x%g, heap %s)" % (
            session.port, session.board.fs_dir, speed,
            "%d bytes" % session.heap_bytes if session.heap_bytes else "unlimited"))
        say(session.report.summary())
        say("demo: deployed in %.1f s; resetting the board at the scenario start" % (time.monotonic() - began))
        monitor = Monitor(db_path, out=out, reading_every_s=3 * 3600, board="vboard")
        import serial
        # Ctrl-C only sets a flag the follow loop checks after every read: a KeyboardInterrupt
        # raised by the default handler inside a finalizer or a callback is printed as ignored and
        # lost (the demo then ran on to its end), and an inherited SIG_IGN is replaced
        with serial.Serial(session.port, timeout=0.1) as line, SignalFlags(("SIGINT",)) as ctrl_c:
            session.run_from_start()
            follow_until(line, monitor, session.end_s, tick=lambda _: _interrupted(ctrl_c))
        _interrupted(ctrl_c)  # a Ctrl-C during the reset or after the last read
        monitor.finish()
    except KeyboardInterrupt:
        say("demo: interrupted")
    finally:
        session.stop()
    if monitor is not None:
        say(summary(monitor, scenario, start_s))
        if db_path:
            shown = os.path.relpath(db_path) if not os.path.relpath(db_path).startswith("..") else db_path
            say("demo: readings and alerts stored in %s\n      plot them: verdant plot --db %s --out %s"
                % (shown, shown, os.path.join(os.path.dirname(shown), "plot.png")))
    return monitor


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
