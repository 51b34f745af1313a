"""Base of every simulated part: physical truth, conversion timing and fault injection.

A part senses named physical quantities held as plain attributes (e.g.
`sht.temperature_c = 21.3`). When a truth feed is attached (`part.feed =
callable() -> dict`, keys as the replay CSV columns), the part pulls its
quantities from it at the start of each conversion.

Faults (set any time, cleared by assigning the opposite):
  part.nack = True            stops acknowledging (I2C parts) / disconnected
  part.bad_crc = True         corrupts every checksum it sends
  part.stick()                freezes what it reports at the current values
  part.drift(attr, per_hour)  adds a growing offset from now on
  part.out_of_range = True    reports the largest raw code it can send
  part.faults                 ScheduledFault windows in simulated time (verdant.sim.faults)
"""
from verdant.hal.sim import SimDevice


LOG_LIMIT = 64  # bounded, so a simulated week does not fill the heap
_TICKS_MASK = 0x3FFFFFFF  # ticks_ms() wraps at 2^30
_AHEAD_MS = 600000  # the longest wait a part sets (conversions, periods: seconds)


def remember(log, item):
    """Appends item to a bus/command log, keeping only the last LOG_LIMIT entries (no
    log: None)."""
    if log is None:
        return
    log.append(item)
    if len(log) > LOG_LIMIT:
        del log[0]


class SimPart(SimDevice):
    # attribute name -> truth key (replay CSV column); subclasses fill it in.
    TRUTH = {}
    # attribute name -> typical measurement noise (standard deviation, from the datasheet's
    # repeatability figures), applied only after set_noise().
    NOISE = {}

    def __init__(self, clock):
        self.clock = clock
        self.now_ms = clock.now_ms if hasattr(clock, "now_ms") else _TickCounter(clock)
        self.ticks_ms = clock.ticks_ms  # conversion deadlines: small ints, no heap on 32-bit ports
        self._codes = {}  # attribute -> (value, raw code): the last conversion, reused while equal
        self.feed = None
        self.faults = []
        self._nack = False
        self._bad_crc = False
        self._out_of_range = False
        self.commands = []  # the last LOG_LIMIT writes seen, as bytes, so tests can assert exact traffic
        self._stuck = None
        self._drift = {}
        self._noise = None

    def _window(self, kind):
        if self.faults:
            now = self.now_ms()
            for fault in self.faults:
                if fault.kind == kind and fault.active(now):
                    return fault
        return None

    # The bus asks `nack` on every transfer; scheduled dropouts answer through it too.
    @property
    def nack(self):
        return self._nack or self._window("dropout") is not None

    @nack.setter
    def nack(self, value):
        self._nack = value

    @property
    def bad_crc(self):
        return self._bad_crc or self._window("bad_crc") is not None

    @bad_crc.setter
    def bad_crc(self, value):
        self._bad_crc = value

    @property
    def out_of_range(self):
        return self._out_of_range or self._window("out_of_range") is not None

    @out_of_range.setter
    def out_of_range(self, value):
        self._out_of_range = value

    def record(self, data):
        if self.commands is not None:
            remember(self.commands, bytes(data))

    def deadline(self, delay_ms):
        """The ticks_ms value delay_ms from now."""
        if not 0 <= delay_ms <= _AHEAD_MS:
            raise ValueError("deadline %r ms ahead: parts wait 0..%d ms" % (delay_ms, _AHEAD_MS))
        return (self.ticks_ms() + delay_ms) & _TICKS_MASK

    def reached(self, deadline):
        """True once ticks_ms() is at or past deadline. Deadlines are set at most
        _AHEAD_MS ahead, so one further ahead than that lies in the past (a plain
        half-range test would call a deadline 6.2 days old "not yet" for the next 6.2
        days). Ticks wrap every 2^30 ms (12.4 days): a part checks a deadline soon after
        setting it, or drops it once passed (SCD4x's busy time)."""
        ahead = (deadline - self.ticks_ms()) & _TICKS_MASK
        return ahead == 0 or ahead > _AHEAD_MS

    def code(self, attr, offset, span, bits=16):
        """raw_code() of what the part senses for attr; the last one is reused while the
        value is unchanged (most conversions between truth updates: no float arithmetic)."""
        value = self.sensed(attr)
        last = self._codes.get(attr)
        if last is not None and last[0] == value and last[1] == offset:
            return last[2]
        code = raw_code(value, offset, span, bits)
        self._codes[attr] = (value, offset, code)
        return code

    def stick(self):
        """Freeze the reported values at what the part senses now."""
        self._stuck = None
        self.refresh()
        self._stuck = {a: self.sensed(a) for a in self.TRUTH}

    def unstick(self):
        self._stuck = None

    def drift(self, attr, per_hour):
        """Add per_hour * hours-since-now to attr's reported value (0 stops drifting)."""
        if attr not in self.TRUTH:
            raise ValueError("%s has no quantity %r" % (type(self).__name__, attr))
        if per_hour:
            self._drift[attr] = (per_hour, self.now_ms())
        else:
            self._drift.pop(attr, None)

    def refresh(self):
        """Pull the physical truth from the feed, when one is attached."""
        if self.feed is None or self._stuck is not None:
            return
        env = self.feed()
        for attr, key in self.TRUTH.items():
            value = env.get(key)
            if value is not None and value == value:  # None or NaN: no data, keep the last value
                setattr(self, attr, value)

    def sensed(self, attr):
        """What the part measures for attr: truth, frozen or drifted by the faults."""
        if self._stuck is not None:
            return self._stuck[attr]
        value = getattr(self, attr)
        if attr in self._drift:
            per_hour, since_ms = self._drift[attr]
            value += per_hour * (self.now_ms() - since_ms) / 3600000
        frozen = False
        if self.faults:
            value, frozen = self._scheduled(attr, value)
        if self._noise is not None and attr in self._noise[0] and not frozen:
            value += self._noise[0][attr] * self._noise[1].gauss()
        return value

    def set_noise(self, sd=None, seed=1):
        """Adds deterministic noise: sd maps attributes to standard deviations
        (default: the part's NOISE figures); sd={} turns it off."""
        sd = self.NOISE if sd is None else sd
        for attr in sd:
            if attr not in self.TRUTH:
                raise ValueError("%s has no quantity %r" % (type(self).__name__, attr))
        self._noise = (sd, Random(seed)) if sd else None

    def _scheduled(self, attr, value):
        """Applies the active scheduled faults; returns (value, frozen by a stuck window)."""
        now = self.now_ms()
        frozen = False
        for fault in self.faults:
            if not fault.active(now) or not fault.affects(attr):
                continue
            if fault.kind == "stuck":
                if fault.frozen is None:
                    fault.frozen = {a: getattr(self, a) for a in self.TRUTH}
                value = fault.frozen[attr]
                frozen = True
            elif fault.kind == "drift":
                value += fault.per_hour * (now - fault.start_ms) / 3600000
            elif fault.kind == "spikes" and fault.random() < fault.probability:
                value += fault.size if fault.random() < 0.5 else -fault.size
        return value, frozen

    def checksum(self, crc):
        """The CRC byte to send: the right one, or a wrong one under the bad_crc fault."""
        return crc ^ 0x5A if self.bad_crc else crc


class Random:
    """xorshift32: the same numbers under MicroPython and CPython, for any seed."""

    def __init__(self, seed=1):
        self._state = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1

    def random(self):
        """Uniform in [0, 1)."""
        x = self._state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self._state = x
        return x / 4294967296

    def gauss(self):
        """Approximately standard normal: centred sum of four uniforms scaled to variance 1."""
        return (self.random() + self.random() + self.random() + self.random() - 2.0) * 1.7320508


class _TickCounter:
    """Milliseconds that never wrap, for clocks without now_ms() (only ticks_ms/time_s).

    Accumulates wrapped ticks_ms differences, so it must be read at least every
    2^30 ms (12 days); parts are read every few minutes.
    """

    def __init__(self, clock):
        self._clock = clock
        self._last = clock.ticks_ms()
        self._ms = clock.time_s() * 1000

    def __call__(self):
        ticks = self._clock.ticks_ms()
        self._ms += (ticks - self._last) & 0x3FFFFFFF
        self._last = ticks
        return self._ms


def raw_code(value, offset, span, bits=16):
    """Nearest raw code for value = offset + span * code / (2^bits - 1), clamped to the range."""
    full = (1 << bits) - 1
    code = int((value - offset) * full / span + 0.5)
    return 0 if code < 0 else full if code > full else code
