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


class _Track:
    """History of one quantity: the stuck run, recent values, spike times, gaps."""

    def __init__(self):
        self.run_value = None      # value of the current run of identical readings
        self.run_since = None
        self.prev = []             # last four present values, oldest first (kept list)
        self.spikes = []           # times of detected spikes
        self.counted = 0           # bits: which of prev were counted as a spike already
        self.present = []          # last dropout_window samples: True present / False missing
        self.active = {}           # fault -> raised at
        self.clear_hits = {}       # fault -> consecutive samples past clear
        self.raise_since = {}      # fault -> time the raise condition began
        self.active_value = None   # the reading a raised "stuck" is stuck at
        self.run_count = 0
        self.habit = bytearray(b"\xff" * 24)  # hour of day -> % of readings that changed, the last time
        self.hour = None           # the hour being counted: (hour number, readings, changes)
        self.hour_n = self.hour_changed = 0
        self.last = None           # previous present reading and the sign of its step
        self.last_sign = 0
        self.flips = 0             # bits: which of the last 12 steps changed direction
        self.noisy_before_run = False
        self.expected_count = 0    # identical readings of the run taken while expected to move
        self.expected_since = None
        self.site_run = 0          # run needed measured on the site's history (0: the board's own rule)
        self.site_jump = 0         # a 5-minute change beyond anything the site's history did (0: none known)
        self.jumps = None          # times of the last (at most 3) such jumps (a list with a site model) ...
        self.jump_dirs = None      # ... and their directions (+1 / -1)


class SensorFaults:
    """All detectors of one board. sensor_of: quantity -> sensor name (for the alert text)."""

    def __init__(self, overrides=None, sensor_of=None):
        self.settings = _settings(overrides)
        self.sensor_of = dict(sensor_of or {})
        self.rh_driver = None        # the RH sensor's driver (the SCD4x cross-check's threshold)
        self._dew = None             # verdant.dewpointdrift's state, made when an SCD4x reads
        self._dew_quantity = None    # the quantity its raised drift is on, while raised
        self.tracks = {}
        self._history = {}           # quantity -> [(t, value)] spanning stuck_s, for "others moved"
        self._spike_counts = {}      # sensor name -> last seen sampler spike count

    def adopt_site(self, habits):
        """The site model's measured sensor habits (metadata "sensor_habits", made by
        verdant_host.sitehabits from the site's history): per quantity the hourly habit
        (changed_pct, 24 values, the board's own measurements replace them hour by hour)
        the stuck run (stuck_run) and the largest believable 5-minute change (jump_limit)."""
        for q, habit in habits.items():
            tr = self.tracks.get(q)
            if tr is None:
                tr = self.tracks[q] = _Track()
            pct = habit.get("changed_pct")
            if pct is not None:
                for h in range(24):
                    tr.habit[h] = pct[h]
            tr.site_run = habit.get("stuck_run", 0)
            tr.site_jump = habit.get("jump_limit", 0)
            if tr.site_jump and tr.jumps is None:
                tr.jumps, tr.jump_dirs = [], []

    def suspects(self):
        """Quantities whose readings are not to be trusted now (stuck or drifting)."""
        out = []
        for q, tr in self.tracks.items():
            if "stuck" in tr.active or "drift" in tr.active:
                out.append(q)
        return out

    def active(self):
        names = []
        for q, tr in self.tracks.items():
            for fault in tr.active:
                names.append("sensor_fault:%s:%s" % (q, fault))
        return sorted(names)

    def update(self, t, current, health=None):
        s = self.settings
        events = []
        sampler_spikes = self._sampler_spikes(health)
        for q in WATCHED:  # every quantity's reading of this step first: "while others moved" sees them
            if q in current:
                self._remember(t, q, current.get(q))
        for q in WATCHED:
            if q not in current:
                continue
            v = current.get(q)
            tr = self.tracks.get(q)
            if tr is None:
                tr = self.tracks[q] = _Track()
            self._dropout(t, q, v, tr, health, events)
            if v is None:
                continue
            self._habit(t, v, tr)
            if self._stuck_watched(q):
                self._stuck(t, q, v, tr, events)
            self._spike(t, q, v, tr, sampler_spikes.get(self.sensor_of.get(q, q), 0), events)
        self._drift(t, current, events)
        self._dew_point_drift(t, current, events)
        return events

    def _stuck_watched(self, q):
        return q not in SOIL  # soil readings legitimately hold still for hours

    # ---- bookkeeping ----
    def _remember(self, t, q, v):
        hist = self._history.setdefault(q, [])
        hist.append((t, v))
        horizon = t - self.settings["stuck_s"] - 1
        while len(hist) > 2 and hist[1][0] <= horizon:
            hist.pop(0)

    def _habit(self, t, v, tr):
        """Counts, per hour of the day, how many readings differ from the one before, and
        which steps change direction (noise)."""
        hour = t // 3600
        if hour != tr.hour:
            # an hour spent in a suspect run (identical readings where it was expected to move)
            # is not learned as this hour's habit: a stuck sensor would teach stillness
            if tr.hour is not None and tr.hour_n >= 3 and tr.expected_count < 3:
                tr.habit[tr.hour % 24] = tr.hour_changed * 100 // tr.hour_n
            tr.hour, tr.hour_n, tr.hour_changed = hour, 0, 0
        if tr.last is None:
            tr.last = v
            return
        sign = (v > tr.last) - (v < tr.last)
        tr.hour_n += 1
        if sign:
            tr.hour_changed += 1
            tr.flips = ((tr.flips << 1) | (1 if sign == -tr.last_sign else 0)) & 0xFFF
            tr.last_sign = sign
        tr.last = v

    def _habit_near(self, t, tr):
        """Mean % of changed readings in this hour and the hours either side, the last time
        they were seen (None when none of them was)."""
        hour, total, n = (t // 3600) % 24, 0, 0
        for step in (-1, 0, 1):
            pct = tr.habit[(hour + step) % 24]
            if pct != _UNKNOWN:
                total += pct
                n += 1
        return total // n if n else None

    def _expected_to_move(self, t, q, tr):
        """Moving in this hour and the hours either side the last time (dawn and dusk, when
        dosing starts and stops, shift from day to day); before any is known, see the
        module docstring."""
        hour = (t // 3600) % 24
        lowest = tr.habit[hour]
        if lowest == _UNKNOWN:
            return q in ALWAYS_MOVING or tr.noisy_before_run
        for step in (-1, 1):
            pct = tr.habit[(hour + step) % 24]
            if pct < lowest:
                lowest = pct
        return lowest >= self.settings["stuck_habit_pct"]

    def _moved_since(self, q, since):
        """Other quantities (not soil, not q) that moved more than MOVE since `since`."""
        moved = []
        for other, hist in self._history.items():
            limit = MOVE.get(other)
            if other == q or limit is None:
                continue
            lo = hi = None
            for t, v in hist:
                if t < since or v is None:
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

    def _event(self, t, q, tr, fault, event, reason, value, events, severity=None):
        if event == "raise":
            tr.active[fault] = t
        else:
            tr.active.pop(fault, None)
        tr.clear_hits.pop(fault, None)
        tr.raise_since.pop(fault, None)
        sev = severity or self.settings["severity"]
        events.append({"type": "sensor_fault", "severity": sev, "event": event, "source": "sensor",
                       "reason": reason,
                       "values": {"sensor": self.sensor_of.get(q, q), "quantity": q, "fault": fault,
                                  "value": value}})

    def _clear_after(self, tr, fault, ok, needed):
        """Count consecutive clear samples; True once `needed` in a row."""
        if not ok:
            tr.clear_hits[fault] = 0
            return False
        tr.clear_hits[fault] = tr.clear_hits.get(fault, 0) + 1
        return tr.clear_hits[fault] >= needed

    # ---- detectors ----
    def _stuck(self, t, q, v, tr, events):
        s = self.settings
        if tr.run_value is None or v != tr.run_value:
            tr.run_value, tr.run_since, tr.run_count = v, t, 0
            flips, n = tr.flips, 0
            while flips:
                n += flips & 1
                flips >>= 1
            tr.noisy_before_run = n >= NOISY_FLIPS
            tr.expected_count, tr.expected_since = 0, None
        tr.run_count += 1
        if "stuck" in tr.active:
            if self._clear_after(tr, "stuck", v != tr.active_value, s["clear_samples"]):
                self._event(t, q, tr, "stuck", "clear", "%s moving again (%s)" % (q, _fmt(v)), v, events)
            return
        if v in FLOORS.get(q, ()) or v <= DIM.get(q, -1e30):
            return
        lo_hi = LEVELS.get(q)
        if lo_hi is not None and lo_hi[0] <= v <= lo_hi[1]:
            return
        # only the readings taken while the quantity was expected to move count (a CO2 flat all
        # night is not stuck when dosing time comes and it has not started moving yet)
        if not self._expected_to_move(t, q, tr):
            tr.expected_count, tr.expected_since = 0, None
            return
        tr.expected_count += 1
        if tr.expected_since is None:
            tr.expected_since = t
        span, samples = (s["light_stuck_s"] if q in LIGHT else s["stuck_s"]), s["stuck_samples"]
        changed = self._habit_near(t, tr) if q not in LIGHT else None
        if tr.site_run:
            # the run this sensor's repeat rate, measured on the site's history, makes rarer than
            # once in 50000 readings (verdant_host.sitehabits)
            span, samples = 900, tr.site_run
        elif changed is not None:
            # readings around this hour changed `changed` % of the time: as many identical
            # readings as come by chance less than once in 50000 (at least 15 min)
            span, samples = 900, RUNS_FOR[max(100 - changed, MIN_REPEAT_PCT)]
        if t - tr.expected_since < span or tr.expected_count < samples:
            return
        moved = self._moved_since(q, tr.run_since)
        if not moved:
            return
        severity = s["stuck_air_temp_severity"] if q == "air_temp_c" else None
        blind = "; frost and heat rules cannot see the air" if q == "air_temp_c" else ""
        reason = "%s stuck at %s for %d s while %s moved%s" % (q, _fmt(v), t - tr.run_since, ", ".join(moved), blind)
        tr.active_value = v
        self._event(t, q, tr, "stuck", "raise", reason, v, events, severity)

    def _spike(self, t, q, v, tr, held_back, events):
        s = self.settings
        step = SPIKE_STEP.get(q)
        prev = tr.prev
        if step is not None and len(prev) == 4:
            # the middle of the last five readings is a spike when it is far from the median of the
            # other four and at least three of those agree (so back-to-back spikes count, and a
            # real step change, where the others split in two groups, does not)
            a, b, c, d = _sorted4(prev[0], prev[1], prev[3], v)  # no lists: this runs every step
            m = (b + c) / 2
            half = step / 2
            agree = (abs(a - m) <= half) + (abs(b - m) <= half) + (abs(c - m) <= half) + (abs(d - m) <= half)
            if abs(prev[2] - m) > step and agree >= 3 and not tr.counted & 4:
                tr.spikes.append(t)
            # a lone spike is known one sample sooner: the reading before and this one agree and
            # the one between is far from both, on the same side
            x = prev[3]
            if (abs(prev[2] - v) <= half and abs(x - prev[2]) > step and abs(x - v) > step
                    and (x > v) == (x > prev[2])):
                tr.spikes.append(t)
                tr.counted |= 8
        for _ in range(held_back):
            tr.spikes.append(t)
        jumped = self._site_jumps(t, v, tr) if tr.site_jump and prev else False
        if jumped:
            tr.spikes.append(t)
        if len(prev) < 4:  # the last four readings, oldest first, in a list kept per quantity
            prev.append(v)
        else:
            prev[0], prev[1], prev[2], prev[3] = prev[1], prev[2], prev[3], v
            tr.counted >>= 1  # bit i: prev[i] already counted as a spike
        window = s["spike_window_s"]
        while tr.spikes and t - tr.spikes[0] > window:
            tr.spikes.pop(0)
        if "spikes" in tr.active:
            if not tr.spikes:
                self._event(t, q, tr, "spikes", "clear", "%s: no spike for %d s" % (q, window), v, events)
            return
        if jumped:
            reason = "%s: 3 jumps out and back beyond %s in 5 min (more than anything in the site's history) within %d s" % (
                q, _fmt(tr.site_jump), t - tr.jumps[0])
            del tr.jumps[:]
            del tr.jump_dirs[:]
            self._event(t, q, tr, "spikes", "raise", reason, v, events)
        elif len(tr.spikes) >= s["spike_count"]:
            reason = "%s: %d spikes (implausible jumps out and back) within %d s" % (q, len(tr.spikes), t - tr.spikes[0])
            self._event(t, q, tr, "spikes", "raise", reason, v, events)

    def _site_jumps(self, t, v, tr):
        """True when this reading makes the third jump beyond the site's jump_limit within
        spike_window_s and the three are not all one way (out and back: a sensor; a real fast
        change, a vent opening in winter, goes one way)."""
        d = v - tr.prev[-1]
        if -tr.site_jump <= d <= tr.site_jump:
            return False
        tr.jumps.append(t)
        tr.jump_dirs.append(1 if d > 0 else -1)
        if len(tr.jumps) > 3:
            tr.jumps.pop(0)
            tr.jump_dirs.pop(0)
        while tr.jumps and t - tr.jumps[0] > self.settings["spike_window_s"]:
            tr.jumps.pop(0)
            tr.jump_dirs.pop(0)
        dirs = tr.jump_dirs
        return len(dirs) == 3 and (dirs[0] != dirs[1] or dirs[1] != dirs[2])

    def _dropout(self, t, q, v, tr, health, events):
        s = self.settings
        tr.present.append(v is not None)
        if len(tr.present) > s["dropout_window"]:
            tr.present.pop(0)
        sensor = self.sensor_of.get(q, q)
        info = health.get(sensor) if health else None
        failed = info is not None and info.get("state") == "failed"
        if failed:
            tr.present = []  # a failed sensor is sensor_failure's; count gaps afresh after it
        gaps = tr.present.count(False)
        if "dropout" in tr.active:
            if gaps == 0 or failed:  # a failed sensor is reported as sensor_failure instead
                self._event(t, q, tr, "dropout", "clear", "%s: readings complete again" % q, v, events)
            return
        if not failed and gaps >= s["dropout_min"] and v is not None:
            reason = "%s missing in %d of the last %d samples" % (q, gaps, len(tr.present))
            self._event(t, q, tr, "dropout", "raise", reason, v, events)

    def _drift(self, t, current, events):
        """RH consistency with the air temperature (see the module docstring)."""
        if self._dew_quantity == "rh_pct":
            return  # the SCD4x cross-check raised this track's drift: it clears it
        temp, rh = current.get("air_temp_c"), current.get("rh_pct")
        tr = self.tracks.get("rh_pct")
        if tr is None or temp is None or rh is None:
            return
        hist = self._history.get("air_temp_c") or []
        warming = None
        if len(hist) >= 2 and hist[0][1] is not None and hist[-1][0] > hist[0][0]:
            warming = (temp - hist[0][1]) * 3600.0 / (hist[-1][0] - hist[0][0])
        rh_hist = self._history.get("rh_pct") or []
        rh_rising = len(rh_hist) >= 2 and rh_hist[0][1] is not None and rh >= rh_hist[0][1]
        bad = rh > 100.0 or rh < 0.0 or (
            rh >= 99.5 and rh_rising and warming is not None and warming > self.settings["drift_warming_c_h"])
        if "drift" in tr.active:
            if self._clear_after(tr, "drift", not bad, max(1, self.settings["drift_s"] // 300)):
                self._event(t, "rh_pct", tr, "drift", "clear", "rh_pct consistent with air_temp_c again", rh, events)
            return
        if not bad:
            tr.raise_since.pop("drift", None)
            return
        since = tr.raise_since.setdefault("drift", t)
        if t - since >= self.settings["drift_s"]:
            reason = "rh_pct %s not physically consistent with air_temp_c %s (warming %s C/h) for %d s" % (
                _fmt(rh), _fmt(temp), _fmt(warming) if warming is not None else "n/a", t - since)
            self._event(t, "rh_pct", tr, "drift", "raise", reason, rh, events)

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
            tr = self.tracks.get(q)
            if tr is not None and tr.active and not (q == self._dew_quantity and len(tr.active) == 1):
                return
        from verdant import dewpointdrift as cross  # loaded once, only on a board with an SCD4x
        verdict = cross.check(self.dew_state(), t, temp, rh, ref_temp, ref_rh)
        if verdict is None:
            return
        air, ref = self.sensor_of.get("rh_pct", "rh_pct"), self.sensor_of.get("scd4x_rh_pct", "scd4x")
        if verdict == "clear":
            q, self._dew_quantity = self._dew_quantity, None
            tr = self.tracks[q]
            self._event(t, q, tr, "drift", "clear", cross.clear_reason(self._dew, ref), current.get(q), events)
            return
        q, reason, extra = cross.raised(self._dew, t, rh, air, ref)
        tr = self.tracks.get(q)
        if tr is None:
            tr = self.tracks[q] = _Track()
        self._dew_quantity = q
        self._event(t, q, tr, "drift", "raise", reason, current.get(q), events)
        events[-1]["values"].update(extra)
