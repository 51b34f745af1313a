"""Sensor-fault detectors: stuck, spikes, drift and intermittent dropout, per quantity.

Pure logic, like verdant.alerts: update(t, current, health) takes the time, the
sampler's latest values (quantity -> value or None) and its health report, once per
feature period, and returns "sensor_fault" alert payloads:

    {"type": "sensor_fault", "severity": "warning", "event": "raise", "source": "sensor",
     "reason": "air_temp_c stuck at 4.2 for 1800 s while rh_pct moved",
     "values": {"sensor": "air", "quantity": "air_temp_c", "fault": "stuck", "value": 4.2}}

Detectors (thresholds in DEFAULTS, board config "alerts": {"sensor_faults": {...}}):
  stuck    the same reading for stuck_s (and stuck_samples updates) while another quantity moved more than its
           MOVE threshold in that span, and the quantity is expected to move now; values at a
           sensor's floor (light 0 or dim at night, RH 0/100 at saturation) are not evidence.
           Light needs light_stuck_s (2 h): lamps hold it steady for long spells (GreenLight's
           noisy lamp light once read the same six times in a row), and a frozen light reading
           endangers no crop. Once the hours around now have been seen, the run needed for the
           other quantities is as long as comes by
           chance less than once in 50000 readings given how often readings repeated there,
           taken as at least MIN_REPEAT_PCT % (three hours of readings without a repeat do
           not prove repeats rarer), so at least 6 readings and 15 min: a sensor whose
           readings always change is stuck sooner, a coarse one that often repeats needs a
           longer run. The other quantity's move (MOVE) only shows the board reads live
           sensors; the run length is the evidence. Clears
           after clear_samples different readings in a row.
           Expected to move: in this hour of the day and the hours either side, the last time
           they were seen whole, at least stuck_habit_pct % of the readings differed from the one before (CO2 can sit exactly
           flat all night with dosing off and vents shut, and so can a coarse sensor); for an
           hour not seen yet, the quantity is air temperature or RH (never still to the last
           digit in a greenhouse) or its readings were noisy before the run began (their steps
           changed direction in half of the last 12: sensor noise, which a stuck sensor loses).
           Only the readings taken while expected to move count towards the run. CO2 at the
           outdoor level (380-440 ppm) is no evidence either (a ventilated greenhouse).
  spikes   a reading more than SPIKE_STEP from the median of its two neighbours on each
           side while at least three of those four agree (known two samples later; bursts
           of back-to-back spikes count, a real step change does not; a lone spike, whose
           neighbours on each side agree, is known one sample later), or a reading the
           sampler held back as a spike (health "spikes" count went up); spike_count of them within
           spike_window_s raise (two spikes: four jumps out and back, the issue's "three or more
           implausible jumps within hours"), none for spike_window_s clears.
  drift    physical cross-check: RH reading 100 % (saturated) while the air is warming
           faster than drift_warming_c_h and the vapour pressure that RH implies climbs
           with it is not condensation but a drifting sensor; also RH outside 0..100 or
           a dew point above the air temperature. Raise after drift_s, clear after drift_s
           of consistent readings. With an SCD4x beside the air sensor (scd4x_temp_c,
           scd4x_rh_pct: every board we ship), slow drift inside the plausible range too:
           the air sensor's RH against the humidity the SCD4x's vapour implies at the air
           temperature (verdant.dewpointdrift: offset learned over dew_point_learn_s, raised
           after dew_point_drift_s past a threshold from the parts' datasheets, only while
           the air temperature is steady), naming the sensor that departs from its own
           history, or both. A drifting SCD4x is raised on scd4x_rh_pct and leaves the
           rules their rh_pct. Without it, slow drift needs the site model's residual:
           see docs/training.md.
  dropout  a quantity missing in at least dropout_min of the last dropout_window samples
           while its sensor is not "failed" (a failed sensor already raises
           sensor_failure); clears when the window has no gap.
With a site model (verdant_host.sitehabits), its history presets the hourly habits, gives
the stuck run from the sensor's repeat rate measured over days instead of the 8 % floor, and
a jump limit beyond anything the history did in 5 minutes: three such jumps within
spike_window_s, not all one way, are spikes (the issue's "three implausible jumps"),
known at the third jump instead of at the second spike's return.
Soil probes are left out of the stuck check: their readings hold still for hours.

A stuck or drifting quantity is "suspect": AlertEngine blanks the rule series computed
from it (a stuck air sensor then cannot clear or hide a frost alert), and a stuck air
temperature is raised at critical severity because frost and heat rules are blind.
"""
from array import array

try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

DEFAULTS = {
    "stuck_s": 1800,
    "stuck_samples": 6,         # and this many identical readings (a coarse sensor repeats by chance)
    "stuck_habit_pct": 50,
    "light_stuck_s": 7200,
    "clear_samples": 2,
    "spike_count": 2,           # spikes (each a jump out and one back)
    "spike_window_s": 10800,
    "drift_s": 1800,
    "drift_warming_c_h": 1.0,
    "dew_point_drift_s": 3600,  # the RH cross-check with the SCD4x: departed this long
    "dew_point_learn_s": 86400,  # its offset learned over the first day
    "dropout_window": 12,
    "dropout_min": 3,
    "severity": "warning",
    "stuck_air_temp_severity": "critical",
}

# Change that counts as "moving" for the stuck check's cross-reference: a live sensor's
# noise over the run (RH +-0.3 %, CO2 +-8 ppm) is enough.
MOVE = {"air_temp_c": 0.1, "rh_pct": 0.5, "co2_ppm": 10.0, "par_umol_m2_s": 10.0, "light_lux": 500.0}
# A jump this large that comes straight back is a spike (smaller than the sampler's max_step).
SPIKE_STEP = {"air_temp_c": 2.0, "rh_pct": 8.0, "co2_ppm": 250.0, "soil_moisture_pct": 8.0, "soil_temp_c": 2.0}
# Readings at these values are a sensor's floor or ceiling, not evidence of a stuck sensor.
FLOORS = {"par_umol_m2_s": (0.0,), "light_lux": (0.0,), "rh_pct": (0.0, 100.0)}
# Light this dim (dusk, dawn, a lamp's glow) rounds to the same reading for long spells.
DIM = {"par_umol_m2_s": 5.0, "light_lux": 250.0}
# CO2 at the outdoor level: a ventilated or empty greenhouse sits there (a sensor stuck there
# while dosing runs shows as CO2 far below normal: normalband's co2_low_anomaly).
LEVELS = {"co2_ppm": (380.0, 440.0)}
# Lamps give a steady light for hours: light needs light_stuck_s.
LIGHT = ("par_umol_m2_s", "light_lux")
WATCHED = ("air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s", "light_lux", "soil_moisture_pct", "soil_temp_c")
SOIL = ("soil_moisture_pct", "soil_temp_c")
# Never still to the last digit in a greenhouse: expected to move before any habit is known.
ALWAYS_MOVING = ("air_temp_c", "rh_pct")
MIN_REPEAT_PCT = 8        # no repeat in three hours of 5-min readings (36) only proves repeats rarer than 3 in 36
NOISY_FLIPS = 6           # of the last 12 steps changing direction: sensor noise
_UNKNOWN = 255            # habit of an hour not seen whole yet
SEVERITIES = ("info", "warning", "critical")


def _settings(overrides):
    if overrides is None:
        return DEFAULTS  # shared and never written: a copy per board would be 250 B of heap
    s = dict(DEFAULTS)
    if not isinstance(overrides, dict):
        raise ValueError("alerts.sensor_faults: expected an object, got %r" % (overrides,))
    for key, value in overrides.items():
        if key not in DEFAULTS:
            raise ValueError("alerts.sensor_faults.%s: unknown setting (expected one of %s)"
                             % (key, ", ".join(sorted(DEFAULTS))))
        if key.endswith("severity"):
            if value not in SEVERITIES:
                raise ValueError("alerts.sensor_faults.%s: expected one of %s, got %r"
                                 % (key, ", ".join(SEVERITIES), value))
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError("alerts.sensor_faults.%s: expected a positive number, got %r" % (key, value))
        s[key] = value
    return s


def _sorted4(a, b, c, d):
    """Four values in ascending order, by compare-and-swap (no list)."""
    if a > b:
        a, b = b, a
    if c > d:
        c, d = d, c
    if a > c:
        a, c = c, a
    if b > d:
        b, d = d, b
    if b > c:
        b, c = c, b
    return a, b, c, d


CHANCE_PER_READING = 2e-5   # a run rarer than once in 50000 readings by chance is no chance
MIN_RUN, MAX_RUN = 3, 48


def runs_for(repeat_p, floor_p=0.01):
    """Identical readings in a row (MIN_RUN to MAX_RUN) that come by chance less than
    CHANCE_PER_READING per reading when each repeats the one before with probability
    repeat_p, taken as at least floor_p (verdant_host.sitehabits passes a lower floor: days
    of history can show rarer repeats than three hours)."""
    n, chance = 1, 1.0
    while n < MAX_RUN:
        n += 1
        chance *= max(repeat_p, floor_p)
        if chance <= CHANCE_PER_READING and n >= MIN_RUN:
            break
    return n


# runs_for for every whole percentage, made once: a lookup per step allocates nothing
# (the loop's floats would be heap objects on a board, every step for every quantity).
RUNS_FOR = bytes(runs_for(pct / 100.0) for pct in range(101))


def _fmt(x):
    return ("%.2f" % x).rstrip("0").rstrip(".") if isinstance(x, float) else str(x)


# Per-quantity state lives in a few preallocated arrays, one slot per quantity in the order
# the quantities were first seen, not in an object per quantity: on a 32-bit board each
# object with its lists and dicts took about 500 B of heap in pieces, and the lists that
# grew and shrank every step left holes between the step's lasting objects.
# Ints per slot (self._ints; times are board seconds, _NONE when unset):
_RUN_SINCE = const(0)       # start of the current run of identical readings
_COUNTED = const(1)         # bits: which of the last four readings were counted as a spike already
_ACTIVE = const(2)          # bits: raised faults (1 << index in FAULTS)
_CLEAR_STUCK = const(3)     # consecutive samples past clear, stuck ...
_CLEAR_DRIFT = const(4)     # ... and drift
_DRIFT_SINCE = const(5)     # when the drift raise condition began
_HOUR = const(6)            # the hour being counted (t // 3600), its readings and changes
_HOUR_N = const(7)
_HOUR_CHANGED = const(8)
_LAST_SIGN = const(9)       # sign of the last reading's step
_FLIPS = const(10)          # bits: which of the last 12 steps changed direction
_NOISY = const(11)          # 1: the readings were noisy before the current run began
_EXPECTED_COUNT = const(12)  # identical readings of the run taken while expected to move ...
_EXPECTED_SINCE = const(13)  # ... since
_SITE_RUN = const(14)       # run needed measured on the site's history (0: the board's own rule)
_PREV_N = const(15)         # last readings kept (up to 4)
_PRESENT_N = const(16)      # dropout window: samples kept, ring start
_PRESENT_HEAD = const(17)
_SPIKE_N = const(18)        # spike ring: distinct times kept, ring start, spikes in the window
_SPIKE_HEAD = const(19)
_SPIKES = const(20)
_HIST_N = const(21)         # history ring (readings spanning stuck_s): entries, ring start
_HIST_HEAD = const(22)
_INTS = const(23)
# References per slot (self._vals: the sampler's reading objects, no copies):
_RUN_VALUE = const(0)       # value of the current run of identical readings
_ACTIVE_VALUE = const(1)    # the reading a raised "stuck" is stuck at
_LAST = const(2)            # previous present reading
_PREV = const(3)            # the last four present readings, oldest first (3..6)
_SITE_JUMP = const(7)       # a 5-minute change beyond anything the site's history did (0: none known)
_VALS = const(8)
_NONE = const(-1073741823)  # an unset time (a small int on 32-bit ports)
_JUMPS = const(7)           # with a site jump limit, per slot: count, 3 times, 3 directions
FAULTS = ("stuck", "spikes", "dropout", "drift")
_F_STUCK = const(0)         # FAULTS indexes
_F_SPIKES = const(1)
_F_DROPOUT = const(2)
_F_DRIFT = const(3)
_SUSPECT_BITS = const(9)    # stuck or drift
_NEW_INTS = (0, 0, 0, 0, 0, _NONE, _NONE, 0, 0, 0, 0, 0, 0, _NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0)
# The quantities a slot is made for when first seen (scd4x_rh_pct: the RH cross-check may raise
# on it, so its slot is made with the others, not in the middle of a run).
_SLOTTED = WATCHED + ("scd4x_rh_pct",)


class SensorFaults:
    """All detectors of one board. sensor_of: quantity -> sensor name (for the alert text)."""

    def __init__(self, overrides=None, sensor_of=None):
        s = self.settings = _settings(overrides)
        self.sensor_of = dict(sensor_of or {})
        self.rh_driver = None        # the RH sensor's driver (the SCD4x cross-check's threshold)
        self._dew = None             # verdant.dewpointdrift's state, made when an SCD4x reads
        self._dew_quantity = None    # the quantity its raised drift is on, while raised
        self._spike_counts = {}      # sensor name -> last seen sampler spike count
        self._slot = {}              # quantity -> slot
        self._names = []             # slot -> quantity
        self._ints = array("l")      # _INTS per slot
        self._vals = []              # _VALS per slot
        self._habit = bytearray()    # 24 per slot: hour of day -> % of readings that changed, the last time
        self._window = int(s["dropout_window"])
        self._present = bytearray()  # _window per slot, a ring: 1 present, 0 missing
        cap = int(s["spike_count"])
        # while not raised fewer than spike_count spikes are kept, and one step adds one time
        self._spike_cap = cap if cap >= s["spike_count"] else cap + 1
        self._spikes = array("l")    # 2 * _spike_cap per slot: a ring of (time, spikes at it)
        self._hist_cap = int(s["stuck_s"]) // 300 + 3  # widened when updates come more often
        self._hist_t = array("l")    # _hist_cap per slot, a ring of times ...
        self._hist_v = []            # ... and readings (None: missing), for "while others moved"
        self._order = b""            # slots in the order their history began (the reason's order)
        self._jumps = None           # _JUMPS per slot once a site model gives a jump limit

    def _add_slots(self, names):
        """Slots for these quantities (made once per board, when they are first seen)."""
        k = len(names)
        for q in names:
            self._slot[q] = len(self._names)
            self._names.append(q)
        self._ints = self._ints + array("l", _NEW_INTS * k)
        vals = self._vals + [None] * (_VALS * k)
        for i in range(len(vals) - _VALS * k + _SITE_JUMP, len(vals), _VALS):
            vals[i] = 0
        self._vals = vals
        self._habit = self._habit + b"\xff" * (24 * k)
        self._present = self._present + bytes(self._window * k)
        self._spikes = self._spikes + array("l", [0] * (2 * self._spike_cap * k))
        self._hist_t = self._hist_t + array("l", [0] * (self._hist_cap * k))
        self._hist_v = self._hist_v + [None] * (self._hist_cap * k)
        if self._jumps is not None:
            self._jumps = self._jumps + array("l", [0] * (_JUMPS * k))

    def prepare(self, quantities):
        """Slots for the board's quantities made now (at boot, while the heap is in one piece)
        instead of at the first update; update() still makes any it meets later."""
        names = [q for q in _SLOTTED if q in quantities and q not in self._slot]
        if names:
            self._add_slots(names)

    def _slot_of(self, q):
        i = self._slot.get(q)
        if i is None:
            self._add_slots((q,))
            i = self._slot[q]
        return i

    def adopt_site(self, habits):
        """The site model's measured sensor habits (metadata "sensor_habits", made by
        verdant_host.sitehabits from the site's history): per quantity the hourly habit
        (changed_pct, 24 values, the board's own measurements replace them hour by hour)
        the stuck run (stuck_run) and the largest believable 5-minute change (jump_limit)."""
        for q, habit in habits.items():
            i = self._slot_of(q)
            pct = habit.get("changed_pct")
            if pct is not None:
                for h in range(24):
                    self._habit[i * 24 + h] = pct[h]
            self._ints[i * _INTS + _SITE_RUN] = habit.get("stuck_run", 0)
            jump = self._vals[i * _VALS + _SITE_JUMP] = habit.get("jump_limit", 0)
            if jump and self._jumps is None:
                self._jumps = array("l", [0] * (_JUMPS * len(self._names)))

    def suspects(self):
        """Quantities whose readings are not to be trusted now (stuck or drifting)."""
        out = []
        for i in range(len(self._names)):
            if self._ints[i * _INTS + _ACTIVE] & _SUSPECT_BITS:
                out.append(self._names[i])
        return out

    def active(self):
        names = []
        for i in range(len(self._names)):
            bits = self._ints[i * _INTS + _ACTIVE]
            for f in range(4):
                if bits & (1 << f):
                    names.append("sensor_fault:%s:%s" % (self._names[i], FAULTS[f]))
        return sorted(names)

    def any_active(self):
        """True while any sensor fault is raised."""
        for i in range(len(self._names)):
            if self._ints[i * _INTS + _ACTIVE]:
                return True
        return False

    def update(self, t, current, health=None):
        events = []
        new = None
        for q in _SLOTTED:
            if q in current and q not in self._slot:
                if new is None:
                    new = []
                new.append(q)
        if new is not None:
            self._add_slots(new)
        sampler_spikes = self._sampler_spikes(health)
        for q in WATCHED:  # every quantity's reading of this step first: "while others moved" sees them
            if q in current:
                self._remember(t, self._slot[q], current.get(q))
        for q in WATCHED:
            if q not in current:
                continue
            v = current.get(q)
            i = self._slot[q]
            self._dropout(t, q, i, v, health, events)
            if v is None:
                continue
            self._habit_step(t, i, v)
            if q not in SOIL:  # soil readings legitimately hold still for hours
                self._stuck(t, q, i, v, events)
            self._spike(t, q, i, v, sampler_spikes.get(self.sensor_of.get(q, q), 0), events)
        self._drift(t, current, events)
        self._dew_point_drift(t, current, events)
        return events

    # ---- bookkeeping ----
    def _hist_index(self, i, j):
        """Index in the history arrays of slot i's j-th entry, oldest first."""
        cap = self._hist_cap
        return i * cap + (self._ints[i * _INTS + _HIST_HEAD] + j) % cap

    def _remember(self, t, i, v):
        ints, b = self._ints, i * _INTS
        n = ints[b + _HIST_N]
        if n == 0:
            self._order += bytes((i,))
        if n == self._hist_cap:
            self._widen_history()
        times, cap = self._hist_t, self._hist_cap
        k = self._hist_index(i, n)
        times[k], self._hist_v[k] = t, v
        n += 1
        head = ints[b + _HIST_HEAD]
        horizon = t - self.settings["stuck_s"] - 1
        while n > 2 and times[i * cap + (head + 1) % cap] <= horizon:
            self._hist_v[i * cap + head] = None
            head = (head + 1) % cap
            n -= 1
        ints[b + _HIST_N], ints[b + _HIST_HEAD] = n, head

    def _widen_history(self):
        """Room for more history entries per slot (updates more often than every 5 min)."""
        old, cap, ints = self._hist_cap, self._hist_cap + 4, self._ints
        times, vals = array("l", [0] * (cap * len(self._names))), [None] * (cap * len(self._names))
        for i in range(len(self._names)):
            for j in range(ints[i * _INTS + _HIST_N]):
                k = self._hist_index(i, j)
                times[i * cap + j], vals[i * cap + j] = self._hist_t[k], self._hist_v[k]
            ints[i * _INTS + _HIST_HEAD] = 0
        self._hist_t, self._hist_v, self._hist_cap = times, vals, cap

    def _habit_step(self, t, i, v):
        """Counts, per hour of the day, how many readings differ from the one before, and
        which steps change direction (noise)."""
        ints, b = self._ints, i * _INTS
        hour = t // 3600
        was = ints[b + _HOUR]
        if hour != was:
            # an hour spent in a suspect run (identical readings where it was expected to move)
            # is not learned as this hour's habit: a stuck sensor would teach stillness
            if was != _NONE and ints[b + _HOUR_N] >= 3 and ints[b + _EXPECTED_COUNT] < 3:
                self._habit[i * 24 + was % 24] = ints[b + _HOUR_CHANGED] * 100 // ints[b + _HOUR_N]
            ints[b + _HOUR], ints[b + _HOUR_N], ints[b + _HOUR_CHANGED] = hour, 0, 0
        last = self._vals[i * _VALS + _LAST]
        self._vals[i * _VALS + _LAST] = v
        if last is None:
            return
        sign = (v > last) - (v < last)
        ints[b + _HOUR_N] += 1
        if sign:
            ints[b + _HOUR_CHANGED] += 1
            ints[b + _FLIPS] = ((ints[b + _FLIPS] << 1) | (1 if sign == -ints[b + _LAST_SIGN] else 0)) & 0xFFF
            ints[b + _LAST_SIGN] = sign

    def _habit_near(self, t, i):
        """Mean % of changed readings in this hour and the hours either side, the last time
        they were seen (None when none of them was)."""
        hour, total, n = (t // 3600) % 24, 0, 0
        for step in (-1, 0, 1):
            pct = self._habit[i * 24 + (hour + step) % 24]
            if pct != _UNKNOWN:
                total += pct
                n += 1
        return total // n if n else None

    def _expected_to_move(self, t, q, i):
        """Moving in this hour and the hours either side the last time (dawn and dusk, when
        dosing starts and stops, shift from day to day); before any is known, see the
        module docstring."""
        hour = (t // 3600) % 24
        lowest = self._habit[i * 24 + hour]
        if lowest == _UNKNOWN:
            return q in ALWAYS_MOVING or self._ints[i * _INTS + _NOISY] == 1
        for step in (-1, 1):
            pct = self._habit[i * 24 + (hour + step) % 24]
            if pct < lowest:
                lowest = pct
        return lowest >= self.settings["stuck_habit_pct"]

    def _moved_since(self, q, since):
        """Other quantities (not soil, not q) that moved more than MOVE since `since`."""
        moved = []
        for i in self._order:
            other = self._names[i]
            limit = MOVE.get(other)
            if other == q or limit is None:
                continue
            lo = hi = None
            for j in range(self._ints[i * _INTS + _HIST_N]):
                k = self._hist_index(i, j)
                v = self._hist_v[k]
                if self._hist_t[k] < since or v is None:
                    continue
                lo = v if lo is None or v < lo else lo
                hi = v if hi is None or v > hi else hi
            if lo is not None and hi - lo > limit:
                moved.append(other)
        return moved

    def _sampler_spikes(self, health):
        """sensor name -> spikes the sampler held back since the previous update."""
        out = {}
        if not health:
            return out
        for name, info in health.items():
            count = (info.get("spikes", 0) or 0) if info is not None else 0  # a dict or the sampler's SensorHealth
            last = self._spike_counts.get(name)
            self._spike_counts[name] = count
            if last is not None and count > last:
                out[name] = count - last
        return out

    def _event(self, t, q, i, fault, event, reason, value, events, severity=None):
        ints, b = self._ints, i * _INTS
        if event == "raise":
            ints[b + _ACTIVE] |= 1 << fault
        else:
            ints[b + _ACTIVE] &= ~(1 << fault)
        if fault == _F_STUCK:
            ints[b + _CLEAR_STUCK] = 0
        elif fault == _F_DRIFT:
            ints[b + _CLEAR_DRIFT], ints[b + _DRIFT_SINCE] = 0, _NONE
        sev = severity or self.settings["severity"]
        events.append({"type": "sensor_fault", "severity": sev, "event": event, "source": "sensor",
                       "reason": reason,
                       "values": {"sensor": self.sensor_of.get(q, q), "quantity": q, "fault": FAULTS[fault],
                                  "value": value}})

    def _clear_after(self, k, ok, needed):
        """Count consecutive clear samples in self._ints[k]; True once `needed` in a row."""
        if not ok:
            self._ints[k] = 0
            return False
        self._ints[k] += 1
        return self._ints[k] >= needed

    # ---- detectors ----
    def _stuck(self, t, q, i, v, events):
        s, ints, vals, b, vb = self.settings, self._ints, self._vals, i * _INTS, i * _VALS
        run_value = vals[vb + _RUN_VALUE]
        if run_value is None or v != run_value:
            vals[vb + _RUN_VALUE], ints[b + _RUN_SINCE] = v, t
            flips, n = ints[b + _FLIPS], 0
            while flips:
                n += flips & 1
                flips >>= 1
            ints[b + _NOISY] = 1 if n >= NOISY_FLIPS else 0
            ints[b + _EXPECTED_COUNT], ints[b + _EXPECTED_SINCE] = 0, _NONE
        if ints[b + _ACTIVE] & (1 << _F_STUCK):
            if self._clear_after(b + _CLEAR_STUCK, v != vals[vb + _ACTIVE_VALUE], s["clear_samples"]):
                self._event(t, q, i, _F_STUCK, "clear", "%s moving again (%s)" % (q, _fmt(v)), v, events)
            return
        if v in FLOORS.get(q, ()) or v <= DIM.get(q, -1e30):
            return
        lo_hi = LEVELS.get(q)
        if lo_hi is not None and lo_hi[0] <= v <= lo_hi[1]:
            return
        # only the readings taken while the quantity was expected to move count (a CO2 flat all
        # night is not stuck when dosing time comes and it has not started moving yet)
        if not self._expected_to_move(t, q, i):
            ints[b + _EXPECTED_COUNT], ints[b + _EXPECTED_SINCE] = 0, _NONE
            return
        ints[b + _EXPECTED_COUNT] += 1
        if ints[b + _EXPECTED_SINCE] == _NONE:
            ints[b + _EXPECTED_SINCE] = t
        span, samples = (s["light_stuck_s"] if q in LIGHT else s["stuck_s"]), s["stuck_samples"]
        changed = self._habit_near(t, i) if q not in LIGHT else None
        if ints[b + _SITE_RUN]:
            # the run this sensor's repeat rate, measured on the site's history, makes rarer than
            # once in 50000 readings (verdant_host.sitehabits)
            span, samples = 900, ints[b + _SITE_RUN]
        elif changed is not None:
            # readings around this hour changed `changed` % of the time: as many identical
            # readings as come by chance less than once in 50000 (at least 15 min)
            span, samples = 900, RUNS_FOR[max(100 - changed, MIN_REPEAT_PCT)]
        if t - ints[b + _EXPECTED_SINCE] < span or ints[b + _EXPECTED_COUNT] < samples:
            return
        moved = self._moved_since(q, ints[b + _RUN_SINCE])
        if not moved:
            return
        severity = s["stuck_air_temp_severity"] if q == "air_temp_c" else None
        blind = "; frost and heat rules cannot see the air" if q == "air_temp_c" else ""
        reason = "%s stuck at %s for %d s while %s moved%s" % (
            q, _fmt(v), t - ints[b + _RUN_SINCE], ", ".join(moved), blind)
        vals[vb + _ACTIVE_VALUE] = v
        self._event(t, q, i, _F_STUCK, "raise", reason, v, events, severity)

    def _add_spikes(self, i, t, count):
        """`count` spikes at time t into slot i's ring (one entry per time)."""
        ints, b, sp, cap = self._ints, i * _INTS, self._spikes, self._spike_cap
        base, n, head = i * 2 * cap, ints[b + _SPIKE_N], ints[b + _SPIKE_HEAD]
        last = base + 2 * ((head + n - 1) % cap)
        if n and sp[last] == t:
            sp[last + 1] += count
        else:
            if n == cap:  # only while raised: then just whether any is left matters
                ints[b + _SPIKES] -= sp[base + 2 * head + 1]
                head, n = (head + 1) % cap, n - 1
            k = base + 2 * ((head + n) % cap)
            sp[k], sp[k + 1] = t, count
            ints[b + _SPIKE_N], ints[b + _SPIKE_HEAD] = n + 1, head
        ints[b + _SPIKES] += count

    def _spike(self, t, q, i, v, held_back, events):
        s, ints, vals, b, p = self.settings, self._ints, self._vals, i * _INTS, i * _VALS + _PREV
        step = SPIKE_STEP.get(q)
        n_prev, counted = ints[b + _PREV_N], ints[b + _COUNTED]
        if step is not None and n_prev == 4:
            # the middle of the last five readings is a spike when it is far from the median of the
            # other four and at least three of those agree (so back-to-back spikes count, and a
            # real step change, where the others split in two groups, does not)
            mid = vals[p + 2]
            a, b2, c, d = _sorted4(vals[p], vals[p + 1], vals[p + 3], v)
            m = (b2 + c) / 2
            half = step / 2
            agree = (abs(a - m) <= half) + (abs(b2 - m) <= half) + (abs(c - m) <= half) + (abs(d - m) <= half)
            if abs(mid - m) > step and agree >= 3 and not counted & 4:
                self._add_spikes(i, t, 1)
            # a lone spike is known one sample sooner: the reading before and this one agree and
            # the one between is far from both, on the same side
            x = vals[p + 3]
            if abs(mid - v) <= half and abs(x - mid) > step and abs(x - v) > step and (x > v) == (x > mid):
                self._add_spikes(i, t, 1)
                counted |= 8
        if held_back:
            self._add_spikes(i, t, held_back)
        jumped = self._site_jumps(t, i, v, vals[p + n_prev - 1]) if vals[i * _VALS + _SITE_JUMP] and n_prev else False
        if jumped:
            self._add_spikes(i, t, 1)
        if n_prev < 4:  # the last four readings, oldest first
            vals[p + n_prev] = v
            ints[b + _PREV_N] = n_prev + 1
        else:
            vals[p], vals[p + 1], vals[p + 2], vals[p + 3] = vals[p + 1], vals[p + 2], vals[p + 3], v
            counted >>= 1  # bit k: the k-th of the four already counted as a spike
        ints[b + _COUNTED] = counted
        window, sp, cap = s["spike_window_s"], self._spikes, self._spike_cap
        base, n, head = i * 2 * cap, ints[b + _SPIKE_N], ints[b + _SPIKE_HEAD]
        while n and t - sp[base + 2 * head] > window:
            ints[b + _SPIKES] -= sp[base + 2 * head + 1]
            head, n = (head + 1) % cap, n - 1
        ints[b + _SPIKE_N], ints[b + _SPIKE_HEAD] = n, head
        if ints[b + _ACTIVE] & (1 << _F_SPIKES):
            if not n:
                self._event(t, q, i, _F_SPIKES, "clear", "%s: no spike for %d s" % (q, window), v, events)
            return
        if jumped:
            jumps = self._jumps
            reason = "%s: 3 jumps out and back beyond %s in 5 min (more than anything in the site's history) within %d s" % (
                q, _fmt(vals[i * _VALS + _SITE_JUMP]), t - jumps[i * _JUMPS + 1])
            jumps[i * _JUMPS] = 0
            self._event(t, q, i, _F_SPIKES, "raise", reason, v, events)
        elif ints[b + _SPIKES] >= s["spike_count"]:
            reason = "%s: %d spikes (implausible jumps out and back) within %d s" % (
                q, ints[b + _SPIKES], t - sp[base + 2 * head])
            self._event(t, q, i, _F_SPIKES, "raise", reason, v, events)

    def _site_jumps(self, t, i, v, before):
        """True when this reading makes the third jump beyond the site's jump_limit within
        spike_window_s and the three are not all one way (out and back: a sensor; a real fast
        change, a vent opening in winter, goes one way). The slot's jumps: count, the last
        (at most 3) times oldest first, their directions (+1 / -1)."""
        limit = self._vals[i * _VALS + _SITE_JUMP]
        d = v - before
        if -limit <= d <= limit:
            return False
        j, o = self._jumps, i * _JUMPS
        n = j[o]
        if n == 3:
            j[o + 1], j[o + 2], j[o + 4], j[o + 5] = j[o + 2], j[o + 3], j[o + 5], j[o + 6]
            n = 2
        j[o + 1 + n], j[o + 4 + n] = t, (1 if d > 0 else -1)
        n += 1
        window = self.settings["spike_window_s"]
        while n and t - j[o + 1] > window:
            j[o + 1], j[o + 2], j[o + 4], j[o + 5] = j[o + 2], j[o + 3], j[o + 5], j[o + 6]
            n -= 1
        j[o] = n
        return n == 3 and (j[o + 4] != j[o + 5] or j[o + 5] != j[o + 6])

    def _dropout(self, t, q, i, v, health, events):
        s, ints, b, w = self.settings, self._ints, i * _INTS, self._window
        n, head, present = ints[b + _PRESENT_N], ints[b + _PRESENT_HEAD], self._present
        if n < w:
            present[i * w + n] = v is not None  # head stays 0 until the window is full
            n += 1
        elif w:
            present[i * w + head] = v is not None
            head = (head + 1) % w
        sensor = self.sensor_of.get(q, q)
        info = health.get(sensor) if health else None
        failed = info is not None and info.get("state") == "failed"
        if failed:
            n = head = 0  # a failed sensor is sensor_failure's; count gaps afresh after it
        ints[b + _PRESENT_N], ints[b + _PRESENT_HEAD] = n, head
        gaps = 0
        for k in range(i * w, i * w + n):
            if not present[k]:
                gaps += 1
        if ints[b + _ACTIVE] & (1 << _F_DROPOUT):
            if gaps == 0 or failed:  # a failed sensor is reported as sensor_failure instead
                self._event(t, q, i, _F_DROPOUT, "clear", "%s: readings complete again" % q, v, events)
            return
        if not failed and gaps >= s["dropout_min"] and v is not None:
            reason = "%s missing in %d of the last %d samples" % (q, gaps, n)
            self._event(t, q, i, _F_DROPOUT, "raise", reason, v, events)

    def _drift(self, t, current, events):
        """RH consistency with the air temperature (see the module docstring)."""
        if self._dew_quantity == "rh_pct":
            return  # the SCD4x cross-check raised this track's drift: it clears it
        temp, rh = current.get("air_temp_c"), current.get("rh_pct")
        i = self._slot.get("rh_pct")
        if i is None or temp is None or rh is None:
            return
        ints, b, times, vals = self._ints, i * _INTS, self._hist_t, self._hist_v
        air = self._slot.get("air_temp_c")
        n_air = 0 if air is None else ints[air * _INTS + _HIST_N]
        warming = None
        if n_air >= 2:
            first, last = self._hist_index(air, 0), self._hist_index(air, n_air - 1)
            if vals[first] is not None and times[last] > times[first]:
                warming = (temp - vals[first]) * 3600.0 / (times[last] - times[first])
        rh_first = vals[self._hist_index(i, 0)]
        rh_rising = ints[b + _HIST_N] >= 2 and rh_first is not None and rh >= rh_first
        bad = rh > 100.0 or rh < 0.0 or (
            rh >= 99.5 and rh_rising and warming is not None and warming > self.settings["drift_warming_c_h"])
        if ints[b + _ACTIVE] & (1 << _F_DRIFT):
            if self._clear_after(b + _CLEAR_DRIFT, not bad, max(1, self.settings["drift_s"] // 300)):
                self._event(t, "rh_pct", i, _F_DRIFT, "clear", "rh_pct consistent with air_temp_c again", rh, events)
            return
        if not bad:
            ints[b + _DRIFT_SINCE] = _NONE
            return
        if ints[b + _DRIFT_SINCE] == _NONE:
            ints[b + _DRIFT_SINCE] = t
        since = ints[b + _DRIFT_SINCE]
        if t - since >= self.settings["drift_s"]:
            reason = "rh_pct %s not physically consistent with air_temp_c %s (warming %s C/h) for %d s" % (
                _fmt(rh), _fmt(temp), _fmt(warming) if warming is not None else "n/a", t - since)
            self._event(t, "rh_pct", i, _F_DRIFT, "raise", reason, rh, events)

    def dew_state(self, new=True):
        """The RH cross-check's state (verdant.dewpointdrift), kept over reboots by
        verdant.learnedstate: made now if there is none and `new`; new=None drops it (it is
        learned again), new=False leaves it None before the first SCD4x reading."""
        if new is None:
            self._dew = None
        elif self._dew is None and new:
            from verdant import dewpointdrift as cross
            s = self.settings
            self._dew = cross.new(cross.threshold_rh(self.rh_driver), s["dew_point_drift_s"], s["dew_point_learn_s"])
        return self._dew

    def _dew_point_drift(self, t, current, events):
        """The air sensor's RH against the SCD4x's own (verdant.dewpointdrift, imported only
        on a board with both); not judged while another fault of the air sensor is raised."""
        ref_rh = current.get("scd4x_rh_pct")
        if ref_rh is None and self._dew is None:
            return
        temp, rh, ref_temp = current.get("air_temp_c"), current.get("rh_pct"), current.get("scd4x_temp_c")
        if temp is None or rh is None or ref_temp is None or ref_rh is None:
            return
        for q in ("air_temp_c", "rh_pct"):
            i = self._slot.get(q)
            bits = 0 if i is None else self._ints[i * _INTS + _ACTIVE]
            if bits and not (q == self._dew_quantity and bits & (bits - 1) == 0):
                return
        from verdant import dewpointdrift as cross  # loaded once, only on a board with an SCD4x
        verdict = cross.check(self.dew_state(), t, temp, rh, ref_temp, ref_rh)
        if verdict is None:
            return
        air, ref = self.sensor_of.get("rh_pct", "rh_pct"), self.sensor_of.get("scd4x_rh_pct", "scd4x")
        if verdict == "clear":
            q, self._dew_quantity = self._dew_quantity, None
            self._event(t, q, self._slot[q], _F_DRIFT, "clear", cross.clear_reason(self._dew, ref), current.get(q), events)
            return
        q, reason, extra = cross.raised(self._dew, t, rh, air, ref)
        i = self._slot_of(q)
        self._dew_quantity = q
        self._event(t, q, i, _F_DRIFT, "raise", reason, current.get(q), events)
        events[-1]["values"].update(extra)
