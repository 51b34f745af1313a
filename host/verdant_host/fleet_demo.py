"""`make fleet-demo BOARDS=N`: a fleet on a real broker, end to end, on this machine.

Starts a private Mosquitto on a free 127.0.0.1 port, N headless virtual boards (simboard:
the firmware in the Unix port, publishing through its own MQTT code) each on a simulated
winter greenhouse with a different fault, and one fleet monitor (fleet.FleetWatcher)
storing every line in one SQLite file with board and session columns. Ends with

    fleet: N boards, M messages, K alerts, L lost

M: protocol lines stored; K: alerts raised; L: lines the boards sent (their serial
logs) that never reached the database, plus sequence gaps. Exit status 1 when L > 0.
"""
import os
import shutil
import sys
import time

from verdant.protocol import decode
from verdant_host import paths, vboard_scenario
from verdant_host.broker import Broker
from verdant_host.errors import VerdantError
from verdant_host.fleet import FleetWatcher
from verdant_host.simboard import SimBoard

FAULTS = ("heating_failure", "vent_stuck_open", "irrigation_failure", "co2_dosing_fault", "sensor_stuck",
          "frost_night", None)


def sent_lines(serial_bytes):
    return [m for m in (decode(line)[0] for line in serial_bytes.split(b"\n")) if m is not None]


def run_fleet(boards=3, hours=30.0, speed=7200.0, work_dir=None, db_path=None, broker_url=None, out=sys.stdout,
              drain_s=20.0):
    """Run the fleet; returns a dict of figures (boards, messages, alerts, lost, seconds, rate)."""
    if boards < 1:
        raise VerdantError("fleet-demo: BOARDS must be at least 1, got %r" % boards)
    work_dir = os.path.abspath(work_dir or paths.build_dir("fleet"))
    shutil.rmtree(work_dir, ignore_errors=True)
    os.makedirs(work_dir)
    db_path = db_path or os.path.join(work_dir, "fleet.sqlite")
    if os.path.exists(db_path):
        os.remove(db_path)
    say = lambda text: print(text, file=out, flush=True)  # noqa: E731
    broker = None
    if broker_url is None:
        broker = Broker(work_dir=os.path.join(work_dir, "mosquitto")).start()
        broker_url = broker.url
        say("fleet: Mosquitto on %s" % broker_url)
    sims = []
    watcher = None
    try:
        watcher = FleetWatcher(broker_url, db_path, out=out).start()
        days = hours / 24.0 + 0.2
        for i in range(boards):
            fault = FAULTS[i % len(FAULTS)]
            truth = os.path.join(work_dir, "truth-%02d.csv" % (i + 1))
            start = vboard_scenario.write_truth_csv(truth, vboard_scenario.demo_scenario(days, fault, seed=7 + i))
            board_id = "gh-%02d" % (i + 1)
            sims.append((board_id, fault, SimBoard(os.path.join(work_dir, board_id), truth, board_id=board_id,
                                                   broker_url=broker_url, speed=speed, seconds=int(hours * 3600),
                                                   start_s=start)))
            say("fleet: %s simulates %s" % (board_id, fault or "a healthy greenhouse"))
        began = time.monotonic()
        t0 = time.time_ns()
        for _, _, sim in sims:
            sim.start(real_t0_ns=t0)
        while any(sim.running() for _, _, sim in sims):
            watcher.pump()
        sent = {}
        for board_id, _, sim in sims:
            sent[board_id] = sent_lines(sim.wait()[0])
        expected = sum(len(v) for v in sent.values())
        deadline = time.monotonic() + drain_s
        while watcher.received < expected and time.monotonic() < deadline:
            watcher.pump()
        seconds = time.monotonic() - began
        stats = watcher.monitor.stats
        alerts = sum(1 for a in watcher.monitor.alerts if a[3] == "raise")
        watcher.close()
        watcher = None
        received = _received_seqs(db_path)
        missing = sum(len(set(m["seq"] for m in lines) - received.get(board_id, set()))
                      for board_id, lines in sent.items())
        lost = missing + stats["lost"]
        figures = {"boards": boards, "messages": stats["lines"], "alerts": alerts, "lost": lost,
                   "sent": expected, "seconds": seconds, "rate": stats["lines"] / seconds if seconds else 0.0}
        say("fleet: database %s (plot it: verdant plot --db %s --out %s)" % (
            db_path, db_path, os.path.join(work_dir, "fleet.png")))
        say("fleet: %d boards x %.0f simulated h at x%g in %.1f s: %.0f messages/s"
            % (boards, hours, speed, seconds, figures["rate"]))
        say("fleet: %d boards, %d messages, %d alerts, %d lost" % (boards, stats["lines"], alerts, lost))
        return figures
    finally:
        for _, _, sim in sims:
            sim.stop()
        if watcher is not None:
            watcher.close()
        if broker is not None:
            broker.close()


def _received_seqs(db_path):
    import sqlite3
    db = sqlite3.connect(db_path)
    try:
        got = {}
        for board, seq in db.execute("SELECT board, seq FROM messages"):
            got.setdefault(board, set()).add(seq)
        return got
    finally:
        db.close()
