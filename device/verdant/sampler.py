"""Sampler: when to read each sensor, which readings to trust, how healthy each sensor is.

Takes the time as an argument (never reads a clock). Each sensor (from
verdant.board.build_sensors) has .name, .quantities, .period_s and .measure() -> dict;
measure() raising (OSError, SensorError or anything else) is a failed read.

Per due sensor, poll() takes `reads` readings (sensor.reads if it has one, 1 for the
slow parts in SINGLE_READ_DRIVERS, else the sampler default) and keeps, per quantity, the median of the plausible ones. A value
that jumps more than max_step from the last accepted value is held back as a
suspected spike; it is accepted if the next sample confirms it (a real step change).
The spikes count goes up only when the reading after a held-back one is back near the
last accepted value: a fast real change (a vent opening in winter drops the air several
degrees in two readings) holds back readings too, and is no sensor fault.

Health per sensor:
  ok        every read of the last recover_after samples worked
  degraded  some reads failed or were implausible, or fewer than fail_after samples
            in a row failed, or recovering from failed
  failed    fail_after samples in a row gave nothing
Counts: samples, failures (samples with no value), bad_reads, implausible, spikes.
Reports (poll's events): an error line when a run of failed samples starts and a status
line when the health changes; for a flaky sensor, error lines and ok<->degraded status
lines come at most once per report_interval_s (changes to or from failed always come).

Example:
    sampler = Sampler(sensors)
    values, events = sampler.poll(t)     # events: status/error payloads to send
    latest = sampler.current(t)          # quantity -> value or None (stale/failed)
"""

from verdant.quantities import RANGES as DEFAULT_RANGES  # physically possible: outside is implausible

# Largest believable change between two samples; light changes fast (clouds): no limit.
_NO_RANGE = (None, None)
_HEALTH_KEYS = ("state", "samples", "failures", "bad_reads", "implausible", "spikes")  # and "error"

DEFAULT_MAX_STEP = {
    "air_temp_c": 5.0,
    "rh_pct": 25.0,
    "co2_ppm": 1500.0,
    "soil_moisture_pct": 15.0,
    "soil_temp_c": 3.0,
}

# Parts that need seconds between readings (SCD4x: 5 s periodic, DHT22: 2 s, DS18B20:
# 750 ms conversion): one read per sample, the median comes from a single value.
SINGLE_READ_DRIVERS = ("scd4x", "dht22", "ds18b20")

_BACK_AFTER_SPIKE = 2  # _believable: accepted, and the reading held back before it was a spike

OK = "ok"
DEGRADED = "degraded"
FAILED = "failed"


def median(values):
    """Median of a non-empty list of numbers (mean of the middle two for even counts)."""
    s = sorted(values)
    n = len(s)
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2.0


def median_in_place(values, n):
    """Median of values[:n], sorting that part of the list or array in place (no new list:
    the sampler calls it for every quantity of every poll)."""
    for i in range(1, n):
        v = values[i]
        j = i - 1
        while j >= 0 and values[j] > v:
            values[j + 1] = values[j]
            j -= 1
        values[j + 1] = v
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2.0


class _Slots:
    """One sensor's kept lists, indexed like sensor.quantities: the last accepted (t,
    value) and a suspected spike. Made once, reused every poll. (This sample's plausible
    reads go to the sampler's one scratch, shared by all sensors: they are sampled one
    after the other.)"""

    def __init__(self, count):
        self.accepted_t = [None] * count
        self.accepted_v = [None] * count
        self.candidate = [None] * count


def _error_text(exc):
    text = str(exc)
    return type(exc).__name__ + (": " + text if text else "")


class SensorHealth:
    def __init__(self):
        self.state = OK
        self.error_sent_at = None
        self.errors_unsent = 0
        self.status_sent_at = None
        self.samples = 0
        self.failures = 0
        self.bad_reads = 0
        self.implausible = 0
        self.spikes = 0
        self.in_a_row_failed = 0
        self.in_a_row_good = 0
        self.last_error = None

    def get(self, key, default=None):
        """As as_dict().get(key, default), without making the dict (the app's alert
        engines read the sampler's health every feature step)."""
        if key == "error":
            return self.last_error
        if key in _HEALTH_KEYS:
            return getattr(self, key)
        return default

    def __getitem__(self, key):
        if key != "error" and key not in _HEALTH_KEYS:
            raise KeyError(key)
        return self.get(key)

    def as_dict(self):
        return {"state": self.state, "samples": self.samples, "failures": self.failures,
                "bad_reads": self.bad_reads, "implausible": self.implausible, "spikes": self.spikes,
                "error": self.last_error}


class Sampler:
    def __init__(self, sensors, reads=3, ranges=None, max_step=None, fail_after=3, recover_after=2,
                 after_read=None, report_interval_s=3600):
        if reads < 1 or fail_after < 1 or recover_after < 1:
            raise ValueError("Sampler: reads, fail_after and recover_after must be >= 1")
        self.sensors = list(sensors)
        self.reads = reads
        # the module's tables themselves unless overridden (read only: a copy is heap on a board)
        self.ranges = DEFAULT_RANGES
        if ranges:
            self.ranges = dict(DEFAULT_RANGES)
            self.ranges.update(ranges)
        self.max_step = DEFAULT_MAX_STEP
        if max_step:
            self.max_step = dict(DEFAULT_MAX_STEP)
            self.max_step.update(max_step)
        self.fail_after = fail_after
        self.recover_after = recover_after
        self.after_read = after_read  # called after every measure() (the app feeds its watchdog)
        # a flaky sensor would flood the serial line: error lines and ok<->degraded status
        # lines come at most once per report_interval_s per sensor (failed always reported)
        self.report_interval_s = report_interval_s
        self.health = {}
        self._next_due = {}
        self._slots = {}  # sensor name -> _Slots
        self._events = []  # kept: poll() returns a copy only when something happened
        most_quantities = most_reads = 1
        for sensor in self.sensors:
            if sensor.name in self.health:
                raise ValueError("Sampler: two sensors named %r" % sensor.name)
            if not sensor.period_s > 0:
                raise ValueError("Sampler: sensor %s period_s must be > 0, got %r" % (sensor.name, sensor.period_s))
            self.health[sensor.name] = SensorHealth()
            self._next_due[sensor.name] = None
            self._slots[sensor.name] = _Slots(len(sensor.quantities))
            most_quantities = max(most_quantities, len(sensor.quantities))
            most_reads = max(most_reads, self._reads_of(sensor))
        # this sample's plausible reads per quantity and their counts, for whichever sensor
        # is being sampled (one scratch for all: sensors are sampled one after the other)
        self._reads = [[0.0] * most_reads for _ in range(most_quantities)]
        self._counts = [0] * most_quantities

    def quantities(self):
        """Every quantity some fitted sensor measures."""
        out = []
        for sensor in self.sensors:
            for q in sensor.quantities:
                if q not in out:
                    out.append(q)
        return out

    def next_due(self, t):
        """Earliest time (>= t) a sensor is due (t when one was never sampled)."""
        earliest = None
        for d in self._next_due.values():  # (no list: the app asks at every wake-up)
            if d is None:
                return t
            if earliest is None or d < earliest:
                earliest = d
        return t if earliest is None or earliest < t else earliest

    def _reads_of(self, sensor):
        return getattr(sensor, "reads", None) or (
            1 if getattr(sensor, "driver", None) in SINGLE_READ_DRIVERS else self.reads)

    def poll(self, t):
        """Sample every due sensor. Returns (values {quantity: value}, events).

        events: list of (kind, payload) with kind "status" (health changes) or
        "error" (the first failed sample of a run, with the exception text); () when none.
        """
        values = {}
        return values, self._poll(t, values)

    def poll_events(self, t, reads=None):
        """poll() without the values dict (the app reads current() at its feature steps):
        the events only, () when nothing happened. reads: at most this many reads per
        sensor (the app asks for 1 between its feature steps: those polls watch the
        sensors' health, and only the feature step's value needs a median)."""
        return self._poll(t, None, reads)

    def _poll(self, t, values, reads=None):
        # one function for the whole poll, each due sensor sampled in its loop: a method per
        # sensor would make a frame this size a heap block per sensor on 32-bit ports
        events = self._events
        events.clear()
        for sensor in self.sensors:
            due = self._next_due[sensor.name]
            period = sensor.period_s
            if due is not None and due - t > period:
                due = None  # the clock was set back: sample now and restart the schedule
            if due is not None and t < due:
                continue
            # stay on the period grid; after a long stall, restart from now
            self._next_due[sensor.name] = t + period if due is None or t - due >= period else due + period
            health = self.health[sensor.name]
            health.samples += 1
            slots = self._slots[sensor.name]
            counts, scratch = self._counts, self._reads
            quantities = sensor.quantities
            for i in range(len(quantities)):
                counts[i] = 0
            bad = 0
            error = None
            count = self._reads_of(sensor)
            if reads is not None and reads < count:
                count = reads
            for _ in range(count):
                try:
                    reading = sensor.measure()
                except MemoryError:  # the heap, not the sensor: up to the app (safe mode), no false sensor alert
                    raise
                except Exception as exc:  # any driver failure is a failed read, never fatal
                    bad += 1
                    error = _error_text(exc)
                    continue
                finally:
                    if self.after_read is not None:
                        self.after_read()
                read_ok = True
                for i in range(len(quantities)):
                    q = quantities[i]
                    v = reading.get(q)
                    if v is None or v != v:
                        read_ok = False
                        continue
                    low, high = self.ranges.get(q, _NO_RANGE)
                    if low is not None and not low <= v <= high:
                        health.implausible += 1
                        read_ok = False
                        error = "%s %r outside %r..%r" % (q, v, low, high)
                        continue
                    kept, n = scratch[i], counts[i]
                    if n < len(kept):
                        kept[n] = v
                    else:
                        kept.append(v)
                    counts[i] = n + 1
                if not read_ok:
                    bad += 1
            health.bad_reads += bad
            got = False
            max_step = self.max_step
            accepted_t, accepted_v, candidate = slots.accepted_t, slots.accepted_v, slots.candidate
            for i in range(len(quantities)):
                n = counts[i]
                if not n:
                    continue
                got = True
                v = scratch[i][0] if n == 1 else median_in_place(scratch[i], n)  # (between feature steps: 1 read)
                # _believable's common answers here (fresh, within max_step, nothing held back), without a call
                step = max_step.get(quantities[i])
                last_t = accepted_t[i]
                if step is None or last_t is None or t - last_t > 3 * sensor.period_s:
                    candidate[i] = None
                    verdict = True
                elif -step <= v - accepted_v[i] <= step and candidate[i] is None:
                    verdict = True
                else:
                    verdict = self._believable(t, sensor, slots, i, v)
                if verdict:
                    accepted_t[i] = t
                    accepted_v[i] = v
                    if values is not None and quantities[i] not in values:
                        values[quantities[i]] = v
                    if verdict == _BACK_AFTER_SPIKE:
                        health.spikes += 1
            before = health.state
            if not got:
                health.failures += 1
                health.in_a_row_failed += 1
                health.in_a_row_good = 0
                health.last_error = error or "no values"
                health.state = FAILED if health.in_a_row_failed >= self.fail_after else DEGRADED
                if health.in_a_row_failed == 1:
                    if health.error_sent_at is None or t - health.error_sent_at >= self.report_interval_s:
                        payload = {"where": "sensor", "sensor": sensor.name, "error": health.last_error}
                        if health.errors_unsent:
                            payload["unreported_runs"] = health.errors_unsent
                        events.append(("error", payload))
                        health.error_sent_at = t
                        health.errors_unsent = 0
                    else:
                        health.errors_unsent += 1
            else:
                health.in_a_row_failed = 0
                if bad == 0:
                    health.in_a_row_good += 1
                else:
                    health.in_a_row_good = 0
                    health.last_error = error
                if health.state == FAILED or bad:
                    health.state = DEGRADED
                elif health.in_a_row_good >= self.recover_after:
                    health.state = OK
            if health.state != before:
                involves_failed = FAILED in (health.state, before)
                if involves_failed or health.status_sent_at is None or \
                        t - health.status_sent_at >= self.report_interval_s:
                    payload = {"sensor": sensor.name, "health": health.state, "was": before,
                               "failures": health.failures, "bad_reads": health.bad_reads}
                    if health.state != OK:
                        payload["error"] = health.last_error
                    events.append(("status", payload))
                    if not involves_failed:
                        health.status_sent_at = t
        return list(events) if events else ()

    def _believable(self, t, sensor, slots, i, v):
        step = self.max_step.get(sensor.quantities[i])
        last_t = slots.accepted_t[i]
        if step is None or last_t is None or t - last_t > 3 * sensor.period_s:
            slots.candidate[i] = None
            return True
        if -step <= v - slots.accepted_v[i] <= step:
            held = slots.candidate[i]
            slots.candidate[i] = None
            return True if held is None else _BACK_AFTER_SPIKE  # the held-back reading was a spike
        candidate = slots.candidate[i]
        if candidate is not None and -step <= v - candidate <= step:
            slots.candidate[i] = None  # confirmed: a real step change
            return True
        slots.candidate[i] = v
        return False

    def current(self, t, max_age_periods=2):
        """quantity -> latest accepted value no older than max_age_periods sensor periods.

        The first fitted sensor that has a fresh value wins; None when none has.
        """
        out = {}
        for sensor in self.sensors:
            slots = self._slots[sensor.name]
            quantities = sensor.quantities
            for i in range(len(quantities)):
                q = quantities[i]
                if out.get(q) is not None:
                    continue
                last_t = slots.accepted_t[i]
                fresh = last_t is not None and t - last_t <= max_age_periods * sensor.period_s
                out[q] = slots.accepted_v[i] if fresh else None
        return out

    def health_report(self):
        """{sensor name: health dict} for the alert engine and status lines."""
        return dict((name, h.as_dict()) for name, h in self.health.items())
