"""The virtual board's surroundings (imported as `vboard_env` inside the vboard):
a clock running `speed` times faster than real time while the board sleeps, and the greenhouse truth
(a CSV written by the supervisor) that the simulated sensors measure.

Example (board code running on the vboard):
    import vboard_env
    hal = vboard_env.make_hal(config)     # verdant.sim.make_sim_hal with this clock/truth
    hal.clock.sleep_ms(60_000)            # returns after 60 s / speed of real time
"""
import os
import struct
import time


try:
    from vboard_os import host_open
except ImportError:  # imported outside the vboard (tests under CPython)
    host_open = open


# verdant.quantities.TIME_COLUMN: this module runs before any firmware is on the board,
# so it cannot import verdant (tests/host/test_vboard.py checks the two agree).
TIME_COLUMN = "timestamp_s"


def _env_float(name, default):
    value = os.getenv(name)
    return float(value) if value else default


class ScaledClock:
    """Board time runs `speed` times faster than real time while the board sleeps and at
    real speed while it is awake (computing, at the REPL), so the firmware's samples land
    on the same board times however loaded the host is:
        board time = sim_t0 + time slept (board) + time awake (real)
    Each sleep tells the supervisor the board time (control line "T <s>"), so the clock
    goes on where it was after a reset.

    Same interface as verdant.hal.sim.SimClock, so the sim HAL accepts it."""

    def __init__(self, sim_t0_s, real_t0_ns, speed, report=None):
        if speed <= 0:
            raise ValueError("clock speed must be > 0, got %r" % speed)
        self.sim_t0_s = sim_t0_s
        self.real_t0_ns = real_t0_ns
        self.speed = speed
        self.report = report        # report(line) -> supervisor, or None
        self._slept_ms = 0          # board ms spent in sleep_ms
        self._slept_real_ns = 0     # the real time those sleeps took
        self._reported_s = None

    def _now_ms_float(self):
        awake_ns = time.time_ns() - self.real_t0_ns - self._slept_real_ns
        return self.sim_t0_s * 1000 + self._slept_ms + awake_ns / 1e6

    def time_s(self):
        return int(self._now_ms_float() // 1000)

    def now_ms(self):
        """Board milliseconds since the epoch, never wrapping (simulated parts use it)."""
        return int(self._now_ms_float())

    @property
    def _now_ms(self):  # what verdant.hal.sim.SimWatchdog reads
        return int(self._now_ms_float())

    def ticks_ms(self):
        return int(self._now_ms_float()) & 0x3FFFFFFF

    def sleep_ms(self, ms):
        if ms < 0:
            raise ValueError("sleep_ms: negative duration %d" % ms)
        began = time.time_ns()
        time.sleep_us(int(ms * 1000 / self.speed))
        self._slept_real_ns += time.time_ns() - began
        self._slept_ms += ms
        if self.report is not None:
            now_s = self.time_s()
            if now_s != self._reported_s:
                self._reported_s = now_s
                self.report("T %d" % now_s)

    def advance_s(self, seconds):
        self.sleep_ms(int(seconds * 1000))


def _number(text):
    try:
        return float(text)
    except ValueError:  # empty cell (missing reading) or a text column (label, event)
        return float("nan")


class CsvTruth:
    """truth(t) -> dict of values at board time t (the last row at or before t).

    The CSV's first column is timestamp_s (as in the replay CSVs of `verdant simulate`
    and `verdant pull-logs`), rows sorted by time; columns with text in them (labels)
    are dropped. The rows stay on the host's disk, not in the board's heap: the CSV is
    turned once into fixed-size binary records (path + ".rows", reused while the CSV's
    size is the same) that each lookup reads with seek (a few hundred bytes of heap)."""

    def __init__(self, path):
        with host_open(path) as f:
            header = f.readline().strip().split(",")
            if not header or header[0] != TIME_COLUMN:
                raise ValueError("%s: first column must be %s, got %r" % (path, TIME_COLUMN, header[:1]))
            size = f.seek(0, 2)
        names = header[1:]
        self._rows_path = path + ".rows"
        text_columns = self._header_of_rows(size)
        if text_columns is None:
            text_columns = self._write_rows(path, len(header), size)
        self._keep = [i for i in range(len(names)) if i not in text_columns]
        self.names = [names[i] for i in self._keep]
        self._record = 8 + 4 * len(names)
        self._format = "<d%df" % len(names)
        self._file = host_open(self._rows_path, "rb")
        self._count = (self._file.seek(0, 2) - 64) // self._record
        if self._count < 1:
            raise ValueError("%s: no rows" % path)
        self._first = self._time(0)
        self._env = {}  # what __call__ returns, filled in place

    def _header_of_rows(self, csv_size):
        """Text-column indexes when path.rows is there for a CSV of this size, else None."""
        try:
            with host_open(self._rows_path, "rb") as f:
                head = f.read(64)
        except OSError:
            return None
        fields = head.rstrip(b"\x00").decode().split()  # the header is NUL-padded to 64 bytes
        if len(fields) < 2 or fields[0] != "vrows" or fields[1] != str(csv_size):
            return None
        return [int(x) for x in fields[2:]]

    def _write_rows(self, path, width, csv_size):
        """Convert to a temporary name, then rename: boards sharing a truth never read a
        half-written file."""
        text_columns = []
        temporary = "%s.%d.tmp" % (self._rows_path, time.time_ns() % 1000000007)
        with host_open(path) as src, host_open(temporary, "wb") as out:
            out.write(bytes(64))  # the header last
            src.readline()
            for line in src:
                fields = line.strip().split(",")
                if len(fields) != width:
                    continue
                values = [_number(text) for text in fields[1:]]
                for i in range(len(values)):
                    if values[i] != values[i] and fields[i + 1] and i not in text_columns:
                        text_columns.append(i)
                out.write(struct.pack("<d%df" % len(values), float(fields[0]), *values))
            head = " ".join(["vrows", str(csv_size)] + [str(i) for i in text_columns]).encode()
            out.seek(0)
            out.write(head + bytes(64 - len(head)))
        getattr(os, "_host_os", os).rename(temporary, self._rows_path)  # vboard_os maps os into the board
        return text_columns

    def _read(self, i):
        self._file.seek(64 + i * self._record)
        return struct.unpack(self._format, self._file.read(self._record))

    def _time(self, i):
        self._file.seek(64 + i * self._record)
        return struct.unpack("<d", self._file.read(8))[0]

    def _index(self, t):
        lo, hi = 0, self._count - 1
        if t <= self._first:
            return 0
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._time(mid) <= t:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def __call__(self, t):
        """The row at t as a dict kept by the reader and updated in place (a new dict of
        every column per read would be a 300-byte block in the board's small heap)."""
        row = self._read(self._index(t))
        env = self._env
        names, keep = self.names, self._keep
        for j in range(len(names)):
            env[names[j]] = row[1 + keep[j]]
        return env


def _report_to_supervisor(line):
    try:
        import vboard_machine
    except ImportError:  # a board process without the vboard runtime (verdant_host.simboard)
        return
    if vboard_machine.control:
        vboard_machine.control(line)


clock = ScaledClock(int(_env_float("VBOARD_SIM_T0", 0)),  # the supervisor always sets it
                    int(_env_float("VBOARD_REAL_T0_NS", time.time_ns())),
                    _env_float("VBOARD_SPEED", 1.0), report=_report_to_supervisor)
_truth_path = os.getenv("VBOARD_TRUTH")
truth = CsvTruth(_truth_path) if _truth_path else None


def sensor_faults():
    """The scenario's sensor faults (verdant.sim.faults specs) the supervisor passed, or []."""
    text = os.getenv("VBOARD_FAULTS")
    if not text:
        return []
    import json
    return json.loads(text)


def make_hal(config):
    """The board HAL: simulated sensors from the board config, fed by the truth CSV, with
    the scenario's sensor faults on their parts."""
    if truth is None:
        raise OSError("vboard started without a truth source (--scenario or --replay)")
    from verdant.sim import make_sim_hal
    # with each part's datasheet noise: real sensors never repeat a reading exactly for hours
    return make_sim_hal(config, clock, truth, faults=sensor_faults() or None, noise=True, log_traffic=False)
