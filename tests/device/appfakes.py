# Fakes for app tests: a greenhouse truth with injected faults, sensors reading it,
# a model file format and engine, a HAL on the sim clock.
import json

from verdant import protocol
from verdant.hal.sim import SimClock, SimSerial, SimWatchdog

from verdant.sim import SIM_START_S as T0  # 2026-01-01 00:00 UTC
HOUR = 3600
DAY = 86400


class Truth:
    """Smooth day/night greenhouse with scheduled events (start_s, end_s, name)."""

    def __init__(self, events=()):
        self.events = list(events)

    def active(self, t, name):
        for start, end, n in self.events:
            if n == name and T0 + start <= t < T0 + end:
                return True
        return False

    def __call__(self, t):
        sec = (t - T0) % DAY
        day_part = 1.0 - abs(sec - DAY / 2) / (DAY / 2)  # 0 at midnight, 1 at noon
        temp = 14.0 + 10.0 * day_part
        if self.active(t, "frost"):
            temp = -1.0
        rh = 75.0 - 15.0 * day_part
        # a real sensor's CO2 is never exactly flat (the stuck detector would rightly say so)
        co2 = 1800.0 + (t // 300) % 5 if self.active(t, "co2_high") else 600.0 - 150 * day_part
        lux = 30000.0 * max(0.0, day_part - 0.3)
        soil = 12.0 if self.active(t, "dry_soil") else 40.0
        return {"air_temp_c": temp, "rh_pct": rh, "co2_ppm": co2, "light_lux": lux, "soil_moisture_pct": soil}


class TruthSensor:
    def __init__(self, name, quantities, period_s, clock, truth, fail_name=None):
        self.name = name
        self.quantities = quantities
        self.period_s = period_s
        self.clock = clock
        self.truth = truth
        self.fail_name = fail_name
        self.calls = 0

    def measure(self):
        self.calls += 1
        t = self.clock.time_s()
        if self.fail_name and self.truth.active(t, self.fail_name):
            raise OSError(19)
        values = self.truth(t)
        return dict((q, values[q]) for q in self.quantities)


class Hal:
    def __init__(self, start_s=T0):
        self.clock = SimClock(start_s=start_s)
        self.watchdog = SimWatchdog(self.clock, 8000)
        self.serial = SimSerial()


def make_sensors(hal, truth, with_co2=True):
    sensors = [TruthSensor("sht31", ["air_temp_c", "rh_pct"], 60, hal.clock, truth, "sht_dead"),
               TruthSensor("bh1750", ["light_lux"], 60, hal.clock, truth),
               TruthSensor("soil", ["soil_moisture_pct"], 300, hal.clock, truth)]
    if with_co2:
        sensors.append(TruthSensor("scd41", ["co2_ppm"], 300, hal.clock, truth))
    return sensors


MAGIC = b"FAKEMODEL"


class FakeEngine:
    """Detects cooling: p(cooling) from the normalized air temperature rate."""
    backend = "fake"

    def __init__(self, meta):
        self.meta = meta
        self.labels = meta["labels"]
        self.predictions = 0
        self.crash = meta.get("crash")

    def predict(self, floats):
        self.predictions += 1
        if self.crash == "hard":
            raise HardFault("native kernel fault")
        rate = floats[-1]  # last feature of the newest row: air_temp_c_rate_h normalized
        p = 0.95 if rate < -2.0 else 0.05
        return [1.0 - p, p]


class HardFault(BaseException):
    """Stands for a crash no guard can catch (native fault, watchdog reset)."""


def model_bytes(features=("air_temp_c", "air_temp_c_rate_h"), window=3, period_s=300, **extra):
    meta = {"features": list(features), "norm_mean": [0.0] * len(features),
            "norm_std": [1.0] * len(features), "labels": ["normal", "cooling"],
            "window": window, "period_s": period_s}
    meta.update(extra)
    return MAGIC + json.dumps(meta).encode()


def fake_load(data):
    data = bytes(data)
    if not data.startswith(MAGIC):
        raise ValueError("model file: bad magic %r (expected b'VRDT')" % data[:4])
    try:
        meta = json.loads(data[len(MAGIC):])
    except Exception:
        raise ValueError("model file: metadata is not valid JSON")
    return FakeEngine(meta)


class MemStat:
    """os.stat stand-in for MemFS: size and a change counter as mtime."""

    def __init__(self, fs):
        self.fs = fs
        self.versions = {}

    def touch(self, path):
        self.versions[path] = self.versions.get(path, 0) + 1

    def __call__(self, path):
        if path not in self.fs.files:
            raise OSError(2)
        return (0, 0, 0, 0, 0, 0, len(self.fs.files[path]), 0, self.versions.get(path, 0), 0)


class CheckingSerial:
    """Decodes every line as it is written (checksum, fields, consecutive seq) and keeps
    only what tests need, so a long run does not fill the heap with output."""

    def __init__(self, keep_readings=10):
        from verdant import protocol
        self._decode = protocol.decode
        self.keep_readings = keep_readings
        self.kept = []
        self.counts = {}
        self.problems = []
        self.next_seq = 0
        self.last_reading = None
        self.heartbeat_mem = []  # mem_free of each "running" status line
        self._partial = b""

    def write(self, buf):
        lines = (self._partial + bytes(buf)).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            message, why = self._decode(line)
            if why is not None:
                self.problems.append(why)
                continue
            if message["seq"] != self.next_seq:
                self.problems.append("seq %d after %d" % (message["seq"], self.next_seq - 1))
            self.next_seq = message["seq"] + 1
            kind = message["k"]
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if kind == "status" and message["p"].get("state") == "running":
                self.heartbeat_mem.append(message["p"]["mem_free"])
                continue
            if kind == "reading":
                self.last_reading = message
                if self.counts[kind] > self.keep_readings:
                    continue
            self.kept.append(message)
        return len(buf)


def decode_all(hal):
    """Every protocol message the board wrote to its serial line (each must decode)."""
    messages = []
    for line in bytes(hal.serial.data).split(b"\n")[:-1]:
        message, why = protocol.decode(line)
        assert why is None, (why, line)
        messages.append(message)
    return messages
