"""The virtual board's surroundings (imported as `vboard_env` inside the vboard):
a clock running `speed` times faster than real time, and the greenhouse truth
(a CSV written by the supervisor) that the simulated sensors measure.

Example (board code running on the vboard):
    import vboard_env
    hal = vboard_env.make_hal(config)     # verdant.sim.make_sim_hal with this clock/truth
    hal.clock.sleep_ms(60_000)            # returns after 60 s / speed of real time
"""
import os
import time
from array import array


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
    """Board time = sim_t0 + (real time - real_t0) * speed; sleeps are shortened by speed.

    Same interface as verdant.hal.sim.SimClock, so the sim HAL accepts it."""

    def __init__(self, sim_t0_s, real_t0_ns, speed):
        if speed <= 0:
            raise ValueError("clock speed must be > 0, got %r" % speed)
        self.sim_t0_s = sim_t0_s
        self.real_t0_ns = real_t0_ns
        self.speed = speed

    def _now_ms_float(self):
        real_s = (time.time_ns() - self.real_t0_ns) / 1e9
        return self.sim_t0_s * 1000 + real_s * self.speed * 1000

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
        time.sleep_us(int(ms * 1000 / self.speed))

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
    are dropped."""

    def __init__(self, path):
        with host_open(path) as f:
            header = f.readline().strip().split(",")
            if not header or header[0] != TIME_COLUMN:
                raise ValueError("%s: first column must be %s, got %r" % (path, TIME_COLUMN, header[:1]))
            names = header[1:]
            self.times = array("d")  # epoch seconds need double precision
            columns = [array("f") for _ in names]  # float32: 4 bytes a value, long replays fit
            text_columns = set()
            for line in f:
                fields = line.strip().split(",")
                if len(fields) != len(header):
                    continue
                self.times.append(float(fields[0]))
                for i, text in enumerate(fields[1:]):
                    value = _number(text)
                    if value != value and text:
                        text_columns.add(i)
                    columns[i].append(value)
        keep = [i for i in range(len(names)) if i not in text_columns]
        self.names = [names[i] for i in keep]
        self.columns = [columns[i] for i in keep]
        if not self.times:
            raise ValueError("%s: no rows" % path)

    def _index(self, t):
        lo, hi = 0, len(self.times) - 1
        if t <= self.times[0]:
            return 0
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.times[mid] <= t:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def __call__(self, t):
        i = self._index(t)
        return {name: column[i] for name, column in zip(self.names, self.columns)}


clock = ScaledClock(int(_env_float("VBOARD_SIM_T0", 0)),  # the supervisor always sets it
                    int(_env_float("VBOARD_REAL_T0_NS", time.time_ns())),
                    _env_float("VBOARD_SPEED", 1.0))
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
    return make_sim_hal(config, clock, truth, faults=sensor_faults() or None)
