"""The virtual board: a pseudo-terminal that behaves like a MicroPython board's USB serial
port, with the MicroPython Unix port behind it running in the board's filesystem folder.

This is the pty supervisor: it owns the pseudo-terminal, the interpreter process and the
boot sequence, and feeds the host's bytes to the board side of the REPL protocol
(verdant_host.vboard_repl: friendly, raw and raw-paste REPL). Soft reset (Ctrl-D, or
SystemExit in the raw REPL: "MPY: soft reboot", boot.py, then main.py in friendly mode
only), Ctrl-C interrupting running code, and hard reset (machine.reset(): the interpreter
restarts and runs boot.py and main.py) happen here. The interpreter process
(vboard/vboard_runtime.py) receives complete pieces of code and runs them; a soft or hard
reset starts a new process, so no state survives.

Example:
    board = VirtualBoard("build/vboard/fs", speed=3600, truth_csv="truth.csv")
    port = board.start()          # "/dev/pts/7": use it with mpremote, pyserial, ...
    ...
    board.stop()
"""
import errno
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty

from verdant_host import paths
from verdant_host.errors import VerdantError
from verdant_host.vboard_repl import EXECUTING, FRIENDLY, RAW, STOPPED, ReplProtocol
from verdant.sim import SIM_START_S

SOFT_REBOOT = b"MPY: soft reboot\r\n"
MAX_CONSECUTIVE_CRASHES = 3
POWER_ON_RESET, HARD_RESET, WDT_RESET = 1, 2, 3  # machine.PWRON_RESET, HARD_RESET, WDT_RESET
FROZEN_MODULES = ("vboard_runtime.py", "vboard_machine.py", "vboard_os.py", "vboard_env.py")



class VirtualBoard(ReplProtocol):
    """One virtual board. start() returns the serial device path; stop() ends everything.

    fs_dir: the board's filesystem (created if missing), the interpreter's cwd.
    speed: simulated seconds per real second for the board clock (vboard_env.clock).
    truth_csv: greenhouse truth for the simulated sensors (timestamp_s,<quantity>,... columns).
    sim_t0: board time (epoch seconds) at start.
    heap_bytes: interpreter heap, to mimic the board's RAM (None: Unix-port default).
    faults: sensor faults for the simulated parts (verdant.sim.faults specs, e.g. from
      greenhouse.board_faults(scenario)), in board time.
    enforce_watchdog: a machine.WDT, once created, resets the board when not fed within
      its timeout (real time), through soft resets and REPL sessions, as on esp32 and rp2;
      off by default so a busy host cannot reset a demo.
    """

    def __init__(self, fs_dir, speed=1.0, truth_csv=None, sim_t0=SIM_START_S, micropython=None,
                 heap_bytes=None, board_name="Verdant vboard", log=None, enforce_watchdog=False, faults=None):
        if speed <= 0:
            raise VerdantError("vboard: clock speed must be > 0, got %r" % speed)
        self.fs_dir = os.path.abspath(fs_dir)
        self.speed = float(speed)
        self.truth_csv = os.path.abspath(truth_csv) if truth_csv else None
        self.sim_t0 = int(sim_t0)
        self.micropython = micropython or paths.micropython()
        self.heap_bytes = heap_bytes
        self.board_name = board_name
        self.log = log or (lambda msg: None)
        ReplProtocol.__init__(self)
        self.port = None
        self.boots = 0
        self.dropped_output_bytes = 0
        self._child = None
        self._after_exec = None
        self._real_t0_ns = time.time_ns()
        self._board_s = None      # board time last reported by the interpreter, and when
        self._board_s_ns = None
        self._lock = threading.Lock()
        self._stop_requested = False
        self._thread = None
        self._frozen_dir = None
        self._deaths = 0
        self._injections = []
        self._exec_kind = None
        self._reset_cause = POWER_ON_RESET
        self.enforce_watchdog = enforce_watchdog
        self.faults = list(faults or ())
        self.watchdog_resets = 0
        self._wdt_timeout_s = None  # running watchdog: timeout and deadline (time.monotonic)
        self._wdt_deadline = None

    # ---- lifecycle -------------------------------------------------------------------
    def start(self):
        """Create the pty, boot the board (main.py runs) and return the device path."""
        if not os.path.exists(self.micropython):
            raise VerdantError("vboard: micropython not found at %s; set MICROPYTHON=/path" % self.micropython)
        os.makedirs(self.fs_dir, exist_ok=True)
        self._frozen_dir = tempfile.mkdtemp(prefix="vboard_frozen")
        # the runtime keeps sys.path entries ending in this name
        self._frozen_dir = os.path.join(self._frozen_dir, "vboard_frozen")
        os.mkdir(self._frozen_dir)
        for name in FROZEN_MODULES:
            shutil.copy(os.path.join(paths.VBOARD_RUNTIME_DIR, name), self._frozen_dir)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        attrs = termios.tcgetattr(self._slave)
        attrs[1] &= ~termios.OPOST  # no output translation: bytes pass as the board sends them
        termios.tcsetattr(self._slave, termios.TCSANOW, attrs)
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self.version = self._micropython_version()
        self._runtime_frozen = self._has_frozen_runtime()
        self._boot(hard=True)
        self._thread = threading.Thread(target=self._loop, name="vboard", daemon=True)
        self._thread.start()
        return self.port

    def stop(self):
        """Stop the interpreter and close the pty. Safe to call twice."""
        self._stop_requested = True
        if self._thread:
            self._thread.join(timeout=5)
            self._thread = None
        self._kill_child()
        for fd in ("_master", "_slave"):
            if getattr(self, fd, None) is not None:
                try:
                    os.close(getattr(self, fd))
                except OSError:
                    pass
                setattr(self, fd, None)
        if self._frozen_dir:
            shutil.rmtree(os.path.dirname(self._frozen_dir), ignore_errors=True)
            self._frozen_dir = None
        self._state = STOPPED

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def wait(self):
        """Block until stop() is called from elsewhere (or Ctrl-C)."""
        while self._thread and self._thread.is_alive():
            self._thread.join(0.5)

    def inject_output(self, data):
        """Put bytes on the serial line (line noise, for tests); sent between two whole lines."""
        with self._lock:
            self._injections.append(bytes(data))

    def reset_clock(self, sim_t0):
        """Board time restarts at sim_t0 from the next interpreter start (reset) on."""
        self.sim_t0 = int(sim_t0)
        self._real_t0_ns = time.time_ns()
        self._board_s = None

    def board_time_s(self):
        """The board's clock now: its last report plus the real time since (vboard_env.ScaledClock)."""
        if self._board_s is None:
            return self.sim_t0 + int((time.time_ns() - self._real_t0_ns) / 1e9)
        return self._board_s + int((time.time_ns() - self._board_s_ns) / 1e9)

    def wait_ready(self, timeout=10):
        """Wait until the board sits at a REPL prompt (boot finished); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._state not in (FRIENDLY, RAW) and time.monotonic() < deadline:
            time.sleep(0.01)
        return self._state in (FRIENDLY, RAW)

    @property
    def state(self):
        return self._state

    # ---- interpreter process ---------------------------------------------------------
    def _micropython_version(self):
        try:
            out = subprocess.run([self.micropython, "-c",
                                  "import sys; print('%d.%d.%d' % sys.implementation.version[:3])"],
                                 capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            raise VerdantError("vboard: cannot run micropython at %s (%s)" % (self.micropython, exc))
        return out or "?"

    def _has_frozen_runtime(self):
        """True when the interpreter has the vboard runtime frozen in (make unix32)."""
        try:
            return subprocess.run([self.micropython, "-c", "import sys; sys.path.append('.frozen'); import vboard_os"],
                                  capture_output=True, timeout=20,
                                  env=dict(os.environ, MICROPYPATH="")).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False

    def _spawn(self, reset_cause):
        if self._board_s is not None:  # the board's clock goes on where it was
            self.sim_t0, self._real_t0_ns = self.board_time_s(), time.time_ns()
            self._board_s = None
        env = dict(os.environ)
        env.update({
            "VBOARD_SPEED": repr(self.speed),
            "VBOARD_SIM_T0": str(self.sim_t0),
            "VBOARD_REAL_T0_NS": str(self._real_t0_ns),
            "VBOARD_RESET_CAUSE": str(reset_cause),
            "MICROPYPATH": "",
        })
        if self.truth_csv:
            env["VBOARD_TRUTH"] = self.truth_csv
        else:
            env.pop("VBOARD_TRUTH", None)
        if self.faults:
            env["VBOARD_FAULTS"] = json.dumps(self.faults)
        else:
            env.pop("VBOARD_FAULTS", None)
        control_read, control_write = os.pipe()
        argv = [self.micropython]
        if self.heap_bytes:
            argv += ["-X", "heapsize=%d" % self.heap_bytes]
        if self._runtime_frozen:  # in the interpreter's flash (make unix32): not in the board's heap
            argv += ["-c", "import sys; sys.path.append('.frozen'); import vboard_runtime"]
        else:
            argv.append(os.path.join(self._frozen_dir, "vboard_runtime.py"))
        # the control channel is a separate pipe; stderr joins stdout like on a board;
        # own session: a Ctrl-C typed at the supervisor's terminal is not the board's
        env["VBOARD_CONTROL_FD"] = str(control_write)
        child = subprocess.Popen(argv, cwd=self.fs_dir, env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0,
                                 pass_fds=(control_write,), start_new_session=True)
        os.close(control_write)
        os.set_blocking(child.stdout.fileno(), False)
        os.set_blocking(control_read, False)
        self._child = child
        self._control = control_read
        self._control_buf = b""
        self.boots += 1

    def _kill_child(self):
        child, self._child = self._child, None
        if child is None:
            return
        try:
            child.stdin.close()
        except OSError:
            pass
        try:
            child.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        self._drain_child_output(child)
        child.stdout.close()
        os.close(self._control)

    def _request(self, kind, payload, after):
        """Send code to the interpreter; `after(status)` runs when it finishes."""
        self._state = EXECUTING
        self._exec_kind = kind
        self._after_exec = after
        try:
            self._child.stdin.write(b"X%s %d\n" % (kind.encode(), len(payload)) + payload)
        except (BrokenPipeError, OSError):
            self._child_died()

    # ---- boot sequence ---------------------------------------------------------------
    def _boot(self, hard, raw=False, cause=None):
        self._kill_child()
        if not hard:
            self._send(SOFT_REBOOT)
        if hard:  # a soft reboot keeps the last hardware reset cause and the watchdog, as on a board
            self._reset_cause = cause or (HARD_RESET if self.boots else POWER_ON_RESET)
            self._wdt_deadline = None
        self._spawn(self._reset_cause)

        def after_boot_py(status):
            if status in ("exit", "reset"):
                return self._boot(hard=status == "reset", raw=raw)
            if raw:
                self._enter_raw()
            else:
                self._request("f", b"main.py", after_main_py)

        def after_main_py(status):
            if status in ("exit", "reset"):
                return self._boot(hard=status == "reset")
            self._enter_friendly()

        self._request("f", b"boot.py", after_boot_py)

    # ---- I/O loop --------------------------------------------------------------------
    def _loop(self):
        while not self._stop_requested:
            child = self._child
            fds = [self._master]
            if child is not None:
                fds += [child.stdout.fileno(), self._control]
            try:
                ready, _, _ = select.select(fds, [], [], 0.1)
            except (OSError, ValueError):
                continue
            if self._master in ready:
                self._read_host()
            if child is not None and self._child is child:
                if child.stdout.fileno() in ready:
                    self._drain_child_output(child)
                if self._control in ready:
                    self._read_control()
            if self._wdt_deadline is not None and self.enforce_watchdog and time.monotonic() > self._wdt_deadline:
                self.log("vboard: watchdog not fed for %g s: reset" % self._wdt_timeout_s)
                self.watchdog_resets += 1
                self._after_exec = None
                self._boot(hard=True, cause=WDT_RESET)
                continue
            if child is not None and self._child is child and child.poll() is not None:
                self._drain_child_output(child)
                self._read_control()
                if self._child is child:
                    self._child_died()

    def _read_host(self):
        try:
            data = os.read(self._master, 4096)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EIO):
                return
            raise
        for byte in data:
            if byte == 3 and self._state == EXECUTING:
                # Ctrl-C interrupts running code; the byte itself is consumed, as on a board.
                self._pending.clear()
                if self._child is not None:
                    self._child.send_signal(signal.SIGINT)
            else:
                self._pending.append(byte)
        self._process_pending()

    def _drain_child_output(self, child):
        while True:
            try:
                data = os.read(child.stdout.fileno(), 65536)
            except BlockingIOError:
                return
            except (OSError, ValueError):
                return
            if not data:
                return
            self._send(data)
            if self._injections and data.endswith(b"\n"):
                with self._lock:
                    noise, self._injections = self._injections, []
                for chunk in noise:
                    self._send(chunk)

    def _read_control(self):
        try:
            data = os.read(self._control, 4096)
        except (BlockingIOError, OSError):
            return
        self._control_buf += data
        while b"\n" in self._control_buf:
            line, self._control_buf = self._control_buf.split(b"\n", 1)
            if line.startswith(b"W "):  # machine.WDT(timeout=ms) created
                self._wdt_timeout_s = int(line[2:]) / 1000.0
                self._wdt_deadline = time.monotonic() + self._wdt_timeout_s
            elif line.startswith(b"T "):  # the board's clock after a sleep
                self._board_s, self._board_s_ns = int(line[2:]), time.time_ns()
            elif line == b"F" and self._wdt_timeout_s is not None:  # WDT.feed()
                self._wdt_deadline = time.monotonic() + self._wdt_timeout_s
            elif line.startswith(b"D "):
                self._deaths = 0
                # output written before the report is already in the pipe: pass it on first
                self._drain_child_output(self._child)
                self._finished(line[2:].decode())

    def _finished(self, status):
        if self._state != EXECUTING:
            return  # a duplicate report (Ctrl-C landed while the report was written)
        after, self._after_exec = self._after_exec, None
        if after is not None:
            after(status)
        self._process_pending()

    def _child_died(self):
        code = self._child.poll() if self._child else None
        self._after_exec = None
        self._deaths += 1
        if self._deaths > MAX_CONSECUTIVE_CRASHES:
            self.log("vboard: interpreter keeps exiting (code %s); board halted" % code)
            self._send(b"\r\nvboard: interpreter keeps exiting (code %s); halted\r\n" % str(code).encode())
            self._kill_child()
            self._state = STOPPED
            return
        self.log("vboard: interpreter exited (code %s); rebooting" % code)
        self._send(b"\r\nvboard: interpreter exited (code %s)\r\n" % str(code).encode())
        # a host tool in the raw REPL gets its raw REPL back, not a running main.py
        self._boot(hard=False, raw=self._exec_kind == "r")

    def _send(self, data):
        """Write to the serial line; like a UART nobody reads, old bytes are lost when full."""
        view = memoryview(data)
        while view:
            try:
                n = os.write(self._master, view)
                view = view[n:]
            except BlockingIOError:
                termios.tcflush(self._slave, termios.TCIFLUSH)
                try:
                    n = os.write(self._master, view)
                except BlockingIOError:
                    self.dropped_output_bytes += len(view)
                    return
                view = view[n:]
            except OSError as exc:
                if exc.errno == errno.EIO:
                    return
                raise
