"""A virtual board running the deployed firmware on a simulated greenhouse: the one setup
the demo, the soak and the end-to-end tests share. A fresh board filesystem, the
scenario's truth CSV and sensor faults, the real deploy path (mpremote), then, when the
caller is listening, the board clock back to the scenario start and a hard reset so
main.py starts the firmware.

Example:
    with BoardSession("build/demo", scenario=demo_scenario(), speed=3600) as session:
        with serial.Serial(session.port, timeout=0.1) as line:
            session.run_from_start()
            ...                                  # read protocol lines until session.end_s
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from verdant_host import paths, vboard_scenario, vboard_target
from verdant_host.deploy import deploy, load_board_config
from verdant_host.errors import VerdantError
from verdant_host.vboard import VirtualBoard


def hard_reset(port):
    """Hard reset through stock mpremote, as a user would (main.py then starts)."""
    mpremote = os.path.join(os.path.dirname(sys.executable), "mpremote")
    result = subprocess.run([mpremote if os.path.exists(mpremote) else "mpremote", "connect", port, "reset"],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise VerdantError("mpremote reset failed: %s" % result.stderr.strip())


class BoardSession:
    """scenario (greenhouse.Scenario) or truth_csv (an existing truth/replay CSV) feeds the
    board; model defaults to the committed one. start() deploys and returns self; the
    DeployReport is .report, the serial device .port, the scenario's span start_s..end_s."""

    def __init__(self, work_dir, scenario=None, truth_csv=None, speed=3600.0, board="sim", model=None,
                 truth_period_s=vboard_scenario.TRUTH_PERIOD_S, log=None, micropython=None, sim_t0=None,
                 heap_bytes=None):
        if (scenario is None) == (truth_csv is None):
            raise VerdantError("a board session needs a scenario or a truth CSV (one of them)")
        self.work_dir = work_dir
        self.scenario = scenario
        self.truth_csv = truth_csv
        self.speed = speed
        self.board_name = board
        self.model = model or paths.DEFAULT_MODEL
        self.truth_period_s = truth_period_s
        self.log = log
        self.micropython = micropython
        self.heap_bytes = heap_bytes  # None: the board config's budget (verdant_host.vboard_target)
        self.sim_t0 = sim_t0
        self.board = self.port = self.report = None
        self.start_s = self.end_s = None

    def start(self):
        if not os.path.exists(self.model):
            raise VerdantError("model %s not found (make train writes models/default/)" % self.model)
        fs_dir = os.path.join(self.work_dir, "fs")
        shutil.rmtree(fs_dir, ignore_errors=True)  # a fresh board every time
        os.makedirs(fs_dir)
        faults = None
        if self.scenario is not None:
            self.truth_csv, self.start_s, faults = vboard_scenario.board_inputs(
                self.work_dir, period_s=self.truth_period_s, scenario=self.scenario)
            self.end_s = self.start_s + int(self.scenario.days * 86400)
        else:
            self.start_s = self.sim_t0 if self.sim_t0 is not None else vboard_scenario.truth_csv_start(self.truth_csv)
        # the board's interpreter and heap budget, and its config on the Unix port's arch
        self.micropython, self.heap_bytes, note = vboard_target.interpreter_for(
            load_board_config(self.board_name), self.micropython, self.heap_bytes)
        if note and self.log:
            self.log(note)
        board_config = vboard_target.virtual_config(self.board_name, self.work_dir, self.micropython)
        self.board = VirtualBoard(fs_dir, speed=self.speed, truth_csv=self.truth_csv, sim_t0=self.start_s,
                                  faults=faults, log=self.log, micropython=self.micropython,
                                  heap_bytes=self.heap_bytes)
        try:
            self.port = self.board.start()
            self.board.wait_ready()  # boot.py / main.py of an empty board done
            self.report = deploy(board_config, self.port, self.model, reset=False,
                                 build_dir=os.path.join(self.work_dir, "build"))
        except BaseException:
            self.stop()
            raise
        return self

    def run_from_start(self):
        """Board clock back to the scenario start, then a hard reset: the firmware starts."""
        self.board.reset_clock(self.start_s)
        hard_reset(self.port)

    def stop(self):
        if self.board is not None:
            self.board.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def serve(fs_dir="build/vboard/fs", speed=3600.0, replay=None, days=2.0, fault="heating_failure",
          seed=7, port_file=None, link=None, heap_bytes=None, micropython=None, out=sys.stdout, board="sim"):
    """`verdant vboard`: a virtual board on a pseudo-terminal, fed by the demo's greenhouse
    scenario (its sensor faults on the simulated parts) or a replay CSV, served until
    SIGINT/SIGTERM; the user deploys to it. board: the config whose interpreter and heap
    budget it gets unless micropython / heap_bytes say otherwise (vboard_target). Returns 0."""
    micropython, heap_bytes, note = vboard_target.interpreter_for(load_board_config(board), micropython, heap_bytes)
    if note:
        print("vboard: " + note, file=sys.stderr, flush=True)
    work = tempfile.mkdtemp(prefix="vboard-truth")
    faults = None
    if replay:
        truth_csv = os.path.abspath(replay)
        start_s = vboard_scenario.truth_csv_start(truth_csv)
    else:  # --fault sensor_*: the simulated part misbehaves
        truth_csv, start_s, faults = vboard_scenario.board_inputs(work, days=days, fault=fault, seed=seed)
    board = VirtualBoard(fs_dir, speed=speed, truth_csv=truth_csv, sim_t0=start_s, faults=faults,
                         heap_bytes=heap_bytes, micropython=micropython,
                         log=lambda msg: print(msg, file=sys.stderr, flush=True))
    stop = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.append(1) or board.stop())
    try:
        port = board.start()
        if link:
            if os.path.islink(link):
                os.unlink(link)
            os.symlink(port, link)
        if port_file:
            with open(port_file + ".tmp", "w") as f:
                f.write(port + "\n")
            os.replace(port_file + ".tmp", port_file)
        print("vboard: serial port %s (filesystem %s, clock x%g, truth %s, heap %s, %s)"
              % (port, os.path.abspath(fs_dir), speed, replay or "greenhouse simulator",
                 "%d bytes" % heap_bytes if heap_bytes else "unlimited", micropython), file=out, flush=True)
        board.wait()
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
        signal.signal(signal.SIGTERM, previous)
        for path in (link, port_file):
            if path and os.path.lexists(path):
                os.unlink(path)
        shutil.rmtree(work, ignore_errors=True)  # truth.csv and the board's truth.csv.rows
    return 0


def follow_until(line, monitor, end_s, stall_s=60.0, tick=None):
    """Feed the serial line to the monitor until board time end_s, or until the board's
    time has not moved for stall_s real seconds (it hangs or crash-loops). A virtual board
    runs as fast as its sleeps allow, and its awake time at real speed, so the real time a
    run takes is not known in advance. tick(monitor) is called after every read. Returns
    True when end_s was reached."""
    last_t, moved = None, time.monotonic()
    while True:
        monitor.feed(line.read(4096))
        if tick:
            tick(monitor)
        if monitor.last_t is not None and monitor.last_t >= end_s:
            return True
        if monitor.last_t != last_t:
            last_t, moved = monitor.last_t, time.monotonic()
        elif time.monotonic() - moved > stall_s:
            return False

