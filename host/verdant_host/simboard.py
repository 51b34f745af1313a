"""A headless virtual board: the firmware application (verdant.app) in the MicroPython
Unix port, simulated sensors fed by a truth CSV, the vboard's scaled clock, and the
outputs the board's own secrets.json configures (MQTT). No pseudo-terminal and no
deploy, so many of them start in a second: used by the MQTT tests and `make fleet-demo`.
Its serial lines go to serial.log in its folder (one protocol line each, as on a board;
a file, so many boards never block on a full pipe).

Example:
    board = SimBoard("build/fleet/b1", truth_csv, board_id="b1", broker_url="mqtt://127.0.0.1:1883",
                     speed=600, seconds=6 * 3600)
    board.start(); board.wait()
"""
import json
import os
import shutil
import subprocess
import time

from verdant_host import paths
from verdant_host.errors import VerdantError
from verdant_host.vboard_scenario import truth_csv_start

DEFAULT_MODEL = paths.DEFAULT_MODEL

_MAIN = """
import sys
from verdant import app, startup
from verdant.board import load_board
board = load_board("board.json")
hal = startup.make_hal(board)
outputs, problem = startup.configured_outputs(hal, board)
options = {"boot_problem": problem} if problem else {}
a = app.run(hal, board, seconds=%(seconds)d, outputs=outputs, **options)
for o in outputs:
    o.idle()
    sys.stderr.write("simboard: published=%%d queued=%%d dropped=%%d failures=%%d connects=%%d\\n" %% (
        o.published, o.outbox.size - o.outbox.pos, o.outbox.dropped, o.failures, o.connects))
"""


def write_secrets(fs_dir, broker_url, board_id, **mqtt):
    """secrets.json for a virtual board (a real board gets it with mpremote cp)."""
    mqtt = dict(mqtt, url=broker_url, board_id=board_id)
    with open(os.path.join(fs_dir, "secrets.json"), "w") as f:
        json.dump({"mqtt": mqtt}, f)


class SimBoard:
    def __init__(self, fs_dir, truth_csv, board_id=None, broker_url=None, speed=600.0, seconds=3600,
                 start_s=None, board="sim", model=DEFAULT_MODEL, micropython=None, mqtt_options=None,
                 fresh=True):
        self.fs_dir = os.path.abspath(fs_dir)
        self.truth_csv = os.path.abspath(truth_csv)
        self.speed = float(speed)
        self.seconds = int(seconds)
        self.start_s = truth_csv_start(truth_csv) if start_s is None else int(start_s)
        self.micropython = micropython or paths.micropython()
        if not os.path.exists(self.micropython):
            raise VerdantError("simboard: micropython not found at %s; set MICROPYTHON=/path" % self.micropython)
        if fresh:
            shutil.rmtree(self.fs_dir, ignore_errors=True)
        os.makedirs(self.fs_dir, exist_ok=True)
        board_path = paths.board_config(board)
        shutil.copy(board_path, os.path.join(self.fs_dir, "board.json"))
        if model and not os.path.exists(os.path.join(self.fs_dir, "model.bin")):
            shutil.copy(model, os.path.join(self.fs_dir, "model.bin"))
        if broker_url:
            write_secrets(self.fs_dir, broker_url, board_id or "vboard", **(mqtt_options or {}))
        self.process = None
        self.stderr_text = ""

    def start(self, real_t0_ns=None):
        env = dict(os.environ)
        env["MICROPYPATH"] = os.pathsep.join([paths.DEVICE_DIR, paths.VBOARD_RUNTIME_DIR, ".frozen"])
        env["VBOARD_SIM_T0"] = str(self.start_s)
        env["VBOARD_REAL_T0_NS"] = str(real_t0_ns or time.time_ns())
        env["VBOARD_SPEED"] = repr(self.speed)
        env["VBOARD_TRUTH"] = self.truth_csv
        self.serial_log = os.path.join(self.fs_dir, "serial.log")
        self._stdout = open(self.serial_log, "wb")
        self.process = subprocess.Popen([self.micropython, "-X", "heapsize=4M", "-c",
                                         _MAIN % {"seconds": self.seconds}],
                                        cwd=self.fs_dir, env=env, stdout=self._stdout, stderr=subprocess.PIPE)
        return self

    def running(self):
        return self.process is not None and self.process.poll() is None

    def wait(self, timeout=None):
        """(serial bytes, stderr text) once the board's run ends."""
        _, err = self.process.communicate(timeout=timeout)
        self._stdout.close()
        self.stderr_text = err.decode(errors="replace")
        if self.process.returncode != 0:
            raise VerdantError("simboard %s exited with %d: %s" % (self.fs_dir, self.process.returncode,
                                                                   self.stderr_text[-500:]))
        with open(self.serial_log, "rb") as f:
            return f.read(), self.stderr_text

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
