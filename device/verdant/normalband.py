"""Equipment-fault early warning from the greenhouse's own recent normal: per quantity and
hour of day, the range seen on the previous two days; a reading well outside it, held
for hold_s, raises a warning. Air temperature is compared with the whole previous days'
range (by day it follows the sun); CO2 with the same hour +-1 h (dosing follows the
clock and the light). CO2 too low is judged only in light (PAR > 50 or the lux
equivalent): dosing runs by day, and at dusk CO2 falls on its own. (heating failure,
vents stuck, CO2 dosing off or stuck open show as air or CO2 far from what this
greenhouse does at this hour.)

Early tiers (EARLY) do not wait for the full margin: a reading a little outside the band
and moving away fast, for a short hold, is the fault's physics, not the weather: in the
dark, after its first DUSK_S (the lamps-off drop the heating catches: neither learned nor
judged cold), the air falling 1 C/h below the lowest the heating held (heating failure); CO2
rising 400 ppm/h (a valve stuck open doses at full capacity); CO2 in light falling
30 ppm/h over an hour below its usual level while RH is not falling (dosing holds it
there: dosing off; venting, which growers let CO2 fall for, dries the air). A board with
no light sensor gets no co2_low_anomaly and no early cold tier, one with no RH sensor no
early CO2-low tier. The CO2-low tier waits for two recorded days (CO2_LEVEL_DAYS): with one,
"this hour's lowest" is a single morning, and the next morning's draw-down differs from it by more
than the tier's margin with the light and the night's level (GreenLight dev4 0, dev3_site 08, dev4_site 18: 33-93 ppm
under it, falling 32-60 ppm/h, on healthy day-1 mornings). The cold tier's hold starts again when
the dark air rose more than AIR_BACK_UP_C since the reading before: a heater that stopped does not
warm the air back, while a screen moving at night drops it 1-1.5 C for 10-15 min before the heating
brings it back (dev2_site 14 and 15, 21:00). CO2's full margin above waits for two recorded days
too: one evening's highest is no band for a level set by when the screens closed and the vents shut
(GreenLight train 35's day-1 evening climbed 385 ppm over it, slowly); a valve stuck open on day 1
is the early tier's fast rise.

Held, then dropped (no site model needed): dosing holds CO2 in light flat at its set point, so
readings 30 to 60 min old within STEADY_RANGE_PPM of each other, all in light, are CO2 held
there; the median of the last three readings more than HELD_DROP_PPM under the lowest of them,
and under the band's low at this hour, while RH is not falling, is dosing that stopped: it raises
co2_low_anomaly at once, without waiting for the early tier's hour-long fall. (Healthy GreenLight
greenhouses, all dev splits, their site histories and train, 240 files: the median of three never
went more than 23 ppm under a held level in those conditions but on dev4_site 18, 35 ppm, a
morning the sun came out on; host/scripts/dosing_signatures.py.) A morning drawdown
from a CO2 that rose overnight was not held; venting is left to the band's full margin as before.
Not when the light now is LIGHT_ROSE times the held half hour's mean: the sun out after a dull
spell makes the crop draw CO2 down faster than dosing at its capacity adds it (dev4_site 18: PAR
from 124 to 300, 35 ppm under the level it paused at); the light at dosing off rose at most 1.19x
on the tuned-on splits (lamps, a brightening sky). With a site model's set point (co2_hold), a level
held more than its shortfall above it is not dosing's (dosing adds CO2 only under its set point):
it is the night's CO2 the crop draws down (GreenLight dev5 00's day-1 morning: flat at 791 ppm for
half an hour, set point 672, then on down), and its fall is no dosing off.

With a site model (metadata night_hold, verdant_host.sitecontrol) the level the heating holds
the air at in the dark is known, and how far under it the history's healthy evenings ever
dipped while falling, while the air comes down to it (lamps off; a day set point, which the
heating runs on a clock, held into the dark and then dropped to the night's: GreenLight dev5 20 fell
3 C from 18:10, 1.4 h after dusk, 0.5 C under the level) and in the settled night, after an hour
of dark and half an hour with the air within NIGHT_NEAR_C of the level (a screen moving): the air
in the dark further under it than that (x 3, at least 0.3 C) and still falling 1 C/h over 15 min,
two readings in a row, raises cold_anomaly without waiting for the lowest of the last 2 days minus the early tier's margin.

With a site model (metadata co2_hold, verdant_host.sitecontrol) the CO2 set point the
greenhouse's dosing holds in light is known: the median of the last three readings below it by
more than its history ever fell (x 1.5, at least 30 ppm), in light with RH not falling, raises
co2_low_anomaly at once, when it has also fallen over the last hour (HOLD_FALL_PPM) or is at the
outdoor air's level (below DOSED_PPM): dosing off lets photosynthesis draw CO2 down, while a
grower's lower set point holds it flat at the new level, above the outdoor air's. The band's
CO2-low in light is judged the same way.

A set point the grower changed is followed: dosing holds CO2 in light flat at a level,
whatever the level; without dosing, photosynthesis draws it down below the outdoor air's. An hour
in light (RH not falling) whose CO2 stays within STEADY_RANGE_PPM, changes less than
STEADY_CHANGE_PPM from its start to its end and sits above DOSED_PPM is a steady hour; steady hours
at one level off the site model's set point, ADOPT_HOURS of them on ADOPT_DAYS days, make that level
the new set point (an info "note" says so once) and clear an active co2_low_anomaly. A falling,
drawn-down CO2 (dosing off) gives no steady hour. After a lowered set point is followed, the band's
CO2 low is at most the new set point less its shortfall: the days recorded at the old one (and the
hours of them kept out while the change looked like dosing off) would take the next dawn's draw-down
to the new level for dosing off.

Pure logic: update(t, current, suspects) once per feature period returns alert payloads

    {"type": "cold_anomaly", "severity": "warning", "event": "raise", "source": "band",
     "reason": "air_temp_c 11.2 is 4.3 below 15.5, the lowest at this hour on the last 2 days: heating failure or vents stuck open?",
     "values": {"air_temp_c": 11.2, "band_low": 15.5, "band_high": 24.1}}

Memory: 2 days x 24 hourly (min, max) per watched quantity. A day is used once it has
at least MIN_HOURS hours recorded, so a board's first day has no band and no alerts.
Settling: a board started with nothing learned (a fresh install, `verdant forget-learned`, a
refused file) reads its enclosure first; readings of its first SETTLE_S are judged but not
recorded. verdant.learnedstate ends the settling when it reads back a learned hour (a reboot):
a power cut does not blind the band. The settling counts the time between updates (at most
SETTLE_GAP_S each), not the clock, so a clock set during it neither ends nor stalls it; it is not
kept in flash: a reboot before the band recorded an hour settles again. The
day records survive a reboot or a power cut: verdant.learnedstate writes them to flash
each hour and reads back those of today and the two days before at boot, so the band
judges from the first step after a restart (a board whose file is missing, damaged or
stale is blind for its first day again; the rates' last hour is not kept, so the early
tiers and the CO2-low check, which wants CO2 drawn down over an hour, wait up to 40 min). A set
point followed from steady hours, and the steady hours counted towards one, are kept in the same
file with the site model's set point they were followed from: a board restarted under another
site model starts again from that model's. The rates keep the last hour of readings (KEEP_S) per quantity. While an alert
is active the day's record is frozen, so a fault lasting into
the next day does not become "normal". Hours are UTC + utc_offset_s.
"""

from array import array

try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

from verdant.features import LUX_TO_PAR

DAY_S = 86400
EMPTY_LO = 3.0e38
EMPTY_HI = -3.0e38
HOUR_S = 3600
MIN_HOURS = 20

# quantity: (type below, margin below, type above, margin above, what it suggests below, above)
WATCH = {
    "air_temp_c": ("cold_anomaly", 1.5, "heat_anomaly", 4.0,
                   "heating failure or vents stuck open?", "vents stuck closed or heating stuck on?"),
    "co2_ppm": ("co2_low_anomaly", 150.0, "co2_high_anomaly", 300.0,
                "CO2 dosing off?", "CO2 valve stuck open or no ventilation?"),
}
DEFAULTS = {"hold_s": 900, "clear_s": 1800, "utc_offset_s": 0}
# Early tiers: a reading already past the band by `past` and still moving away faster than
# `per_h` per hour (measured over the last `span_s`) for `hold_s` is not waiting for the full
# margin and hold. (quantity, side): (past, per_h, span_s, hold_s, when)
#  - air in the dark falling 1 C/h, 0.4 C below the lowest the heating held: heating failure;
#  - CO2 rising 400 ppm/h over 15 min, 100 ppm above the highest at this hour: a valve stuck
#    open doses at full capacity, far faster than dosing starts in a morning;
#  - CO2 in light falling 30 ppm/h over an hour, 30 ppm below the lowest at this hour while
#    RH is not falling: dosing holds it there, so a steady fall is dosing off (a dusk fall is
#    not in light; vents opened for humidity or heat, when growers let CO2 go, dry the air).
# The 10 min hold (three readings in a row at 5 min) outlasts a pair of back-to-back spikes.
EARLY = {
    ("air_temp_c", "low"): (0.4, 1.0, 1800, 600, "dark"),
    ("co2_ppm", "high"): (100.0, 400.0, 900, 600, None),
    ("co2_ppm", "low"): (30.0, 30.0, 3600, 600, "bright"),
}
# A site model's night hold (adopt_night_hold): (fall per hour, over span_s, readings in a row,
# dark this long (s) is the settled night: its own margin)
NIGHT_HOLD = (1.0, 900, 2, 3600)
# ... once the air has also been within NEAR_C above the night level for NEAR_S: warmer, the heating is still
# on its day set point (it runs on a clock and can hold into the dark) or the air is coming down from it; the
# heating (full power 1 C under its set point: its P-band) stops that fall and brings the air back within half
# an hour of it coming near the level (GreenLight dev5 20: lowest 15 min after, back at the level after 30)
NIGHT_NEAR_C, NIGHT_NEAR_S = 1.0, 1800
WHOLE_DAY = ("air_temp_c",)
_IN_LIGHT = const(-1)          # _dark_since outside a dark spell (in one: the spell's first time)
_NO_LIGHT_READING = const(-2)
KEEP_S = 3600           # readings kept for the rates: the longest span_s
KEEP_STEP_S = 240       # at most one kept reading per this (about one per 5-minute step)
VENT_RH_FALL = 1.5      # %/h over the last hour: RH falling faster is the vents open, not dosing off
CO2_LEVEL_DAYS = 2      # the CO2-low early tier and the CO2-high full margin want this many recorded days
AIR_BACK_UP_C = 0.15    # the air in the dark back up this much since the last reading (2x the difference
                        # of two readings' noise): the heating works (a screen's cold air mixed in), no early cold tier
HOLD_FALL_PPM = 20.0    # below the set point and this much lower than an hour ago: drawn down, not held
HELD_FROM_S = 1800      # readings this old (up to KEEP_S) are the level dosing held ...
HELD_DROP_PPM = 30.0    # ... and the median of the last three this far under their lowest: dosing off
HELD_MIN_READINGS = 4   # kept readings in that half hour to call it held
LIGHT_ROSE = 1.5        # the light now this many times the held half hour's: the crop draws down more than dosing adds
LIGHT_KEPT = KEEP_S // KEEP_STEP_S + 5  # the light at each kept CO2 reading (a ring longer than that list gets)
# Following a changed set point (see the docstring); healthy GreenLight hours in light (dev, dev2
# and their site histories, 3627 hours): range <= 43 ppm and change <= 21 ppm in 99 %; the hours of
# dosing off above DOSED_PPM: range >= 48, change <= -33.
STEADY_RANGE_PPM = 40.0   # max - min of an hour's readings in light
STEADY_CHANGE_PPM = 25.0  # |median of its last three - median of its first three|
DOSED_PPM = 450.0         # above outdoor air (~400-420) in light only with dosing
STEADY_MIN_S = 2400       # an hour counts with readings in light over 40 min of it
ADOPT_HOURS = 4           # steady hours at the new level ...
ADOPT_DAYS = 2            # ... on this many days (one day's level may be a sunny day's dosing limit)
LO, HI, SUM, FIRST, LAST, NEW = 0, 1, 2, 3, 4, 5   # NormalBand._co2_hour
DARK_PAR = 5.0          # umol/m2/s: night (no sun, no lamps)
BRIGHT_PAR = 50.0       # daylight or lamps: CO2 dosing time
# A start with nothing learned (a fresh install, `verdant forget-learned`, a refused file): the board
# reads its enclosure first, carried in from a van or a store room, and the enclosure takes the
# greenhouse air's temperature with a time constant of some 15 min (a plastic box and its board in
# slow air): 0.1 degC left of a 10 degC step after ln(100) = 4.6 of them, about 70 min. Readings of the
# first SETTLE_S are judged and reported but not learned into the days (the lowest at any hour would
# be the enclosure's). GreenLight's start state (16.5 degC, 90 %RH, 390 ppm) settles the same way: on
# all 288 dev to dev5, train and site files the last reading more than 0.05 degC under the lowest of
# its first day after 2 h came at most 60 min after the start.
SETTLE_S = 4200
SETTLE_GAP_S = 900      # a longer step between updates (a clock set forward, a gap) counts as this much
DUSK_S = 1800           # the dark this new: the lamps' (or the sun's) heat just gone, the air drops until the
                        # heating catches it (healthy GreenLight evenings, all tuned-on files: of the 397 drops of
                        # more than 0.5 degC that turned back within the hour, 86 % were lowest within 30 min of
                        # the dark). The air is not learned then, nor judged cold: the band's lowest is the
                        # level the heating holds, not how deep this evening's drop went before it caught it
                        # (with the first evening's drop as the first day's lowest, a colder second evening's
                        # went 0.9 degC under it, train 11); a heater that stopped keeps falling past it. Only
                        # a dark spell that began after a reading in light: a start in the dark is no dusk


def _trend(rate):
    return "" if rate is None else " and moving %s per hour" % _fmt(rate)


def _reason_text(reason):
    """A raise's reason: update() passes ("kind", values...) and the text is made only here,
    when an alert needs it (no reason strings per reading and quantity: a small heap's
    contiguous blocks)."""
    if isinstance(reason, str):
        return reason
    kind, q, v = reason[0], reason[1], reason[2]
    if kind == "held":
        hold, hint = reason[3], reason[4]
        return "%s %s (median of the last three) is %s below %s, the set point this greenhouse holds in " \
               "light: %s" % (q, _fmt(v), _fmt(hold - v), _fmt(hold), hint)
    if kind == "night":
        level, night, hint = reason[3], reason[4], reason[5]
        return "%s %s is %s below %s, the level the heating holds at night, and still falling %s per " \
               "hour: %s" % (q, _fmt(v), _fmt(level - v), _fmt(level), _fmt(-night), hint)
    if kind == "dropped":
        lowest, hint = reason[3], reason[4]
        return "%s %s (median of the last three) is %s below %s, the lowest it was held at in light 30 to 60 " \
               "minutes ago: %s" % (q, _fmt(v), _fmt(lowest - v), _fmt(lowest), hint)
    edge, when, rate, hint = reason[3], reason[4], reason[5], reason[6]
    if kind == "low":
        return "%s %s is %s below %s, the lowest %s on the last 2 days%s: %s" % (
            q, _fmt(v), _fmt(edge - v), _fmt(edge), when, _trend(rate), hint)
    return "%s %s is %s above %s, the highest %s on the last 2 days%s: %s" % (
        q, _fmt(v), _fmt(v - edge), _fmt(edge), when, _trend(rate), hint)


def _median3(a, b, c):
    return max(min(a, b), min(max(a, b), c))


def _fmt(x):
    return ("%.1f" % x) if isinstance(x, float) else str(x)


class DayRecord:
    """Hourly min/max of one quantity on one day, in preallocated float arrays (no heap
    objects per value on a board); reused in place when the day rolls over. verdant.learnedstate
    writes the arrays to flash and reads them back at boot."""

    def __init__(self):
        self.day = None
        self.lo = array("f", [EMPTY_LO] * 24)
        self.hi = array("f", [EMPTY_HI] * 24)

    def reset(self, day):
        self.day = day
        for h in range(24):
            self.lo[h] = EMPTY_LO
            self.hi[h] = EMPTY_HI

    def add(self, hour, v):
        if v < self.lo[hour]:
            self.lo[hour] = v
        if v > self.hi[hour]:
            self.hi[hour] = v

    def has(self, hour):
        return self.lo[hour] <= self.hi[hour]

    def usable(self):
        n = 0
        for h in range(24):
            if self.lo[h] <= self.hi[h]:
                n += 1
        return n >= MIN_HOURS


class NormalBand:
    def __init__(self, settings=None):
        s = dict(DEFAULTS)
        for key, value in (settings or {}).items():
            if key not in DEFAULTS:
                raise ValueError("alerts.normal_band.%s: unknown setting (expected one of %s)"
                                 % (key, ", ".join(sorted(DEFAULTS))))
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError("alerts.normal_band.%s: expected a number, got %r" % (key, value))
            s[key] = value
        self.settings = s
        self.days = {}          # quantity -> [older, newer, today DayRecord]
        self.active = {}        # alert type -> raised at
        self._since = {}        # alert type -> time its condition began (raise) or ended (clear)
        self._early_since = {}  # alert type -> time its early-tier condition began
        self._recent = {}       # quantity -> [(t, v)] over the last KEEP_S
        self._co2_light = array("f", [0.0] * LIGHT_KEPT)  # the light at each kept CO2 reading (ring, newest at _light_i)
        self._light_i = 0
        self.co2_hold = None    # a site model's (set point, shortfall) of the CO2 its dosing holds in light
        self.co2_site = None    # co2_hold as the site model gave it (learnedstate keeps a following under it)
        self._bright_steps = 0  # updates in a row in light (the set point check wants three)
        self._bright_since = -1  # time of the first update of this spell in light (-1 not in light)
        # following a changed set point (module docstring): this clock hour's CO2 in light with RH
        # steady (hour, count, first and last time; in _co2_hour its min, max, sum, median of three
        # at its start and at its end), and the steady hours off the set point (their level, the
        # running mean, in _co2_hour[NEW]; count, days, last day). Floats in an array: no heap
        # object per reading on a board.
        self._hour = -1
        self._hour_n = 0
        self._hour_t0 = self._hour_t1 = 0
        self._co2_hour = array("f", [0.0] * 6)
        self._new_hours = self._new_days = 0
        self._new_day = -1
        self.night_hold = None  # a site model's (level, dip, settled-night dip) of the air its heating holds in the dark
        self.settle_left = SETTLE_S  # s of readings still to pass before a start with nothing learned learns (0: learning)
        self._settle_t = -1     # the last update's time while settling (the time between updates is counted, not the clock)
        self._night_steps = 0   # updates in a row under it and falling (NIGHT_HOLD)
        self._dark_since = _NO_LIGHT_READING  # time of the first update of this dark spell, or why there is none
        self._near_since = -1   # time the air in this dark spell came near the night level (-1 not yet)
        self._dusk = False      # this dark spell began right after a reading in light (not at a start, nor
                                # after the light sensor's reading went missing)

    def adopt_site(self, hold):
        """A site model's CO2 set point held in light (metadata co2_hold: set_ppm, below_ppm,
        from verdant_host.sitecontrol): the median of the last three readings that far below it, in
        light and while RH is not falling (not venting), is dosing off without waiting for the
        hour-long fall of the early tier. The same set point again (the same site model re-adopted,
        as a clock set back does, or deployed anew) keeps a set point followed under it and the
        steady hours counted, as a reboot does (verdant.learnedstate)."""
        site = None if hold is None else (float(hold["set_ppm"]), float(hold["below_ppm"]))
        if site is not None and site == self.co2_site:
            return
        self.co2_hold = self.co2_site = site  # co2_site: the site model's own, kept when co2_hold follows a new one
        self._new_hours = self._new_days = 0
        self._new_day = -1

    def following(self):
        """The following of a set point as verdant.learnedstate keeps it: (the level steady hours
        are counted at, their count, on how many days, the last day (-1 none))."""
        return self._co2_hour[NEW], self._new_hours, self._new_days, self._new_day

    def resume_following(self, now, level, hours, days, day):
        """Back from verdant.learnedstate, under the site model it was kept with: the set point held
        (now) and following() as it was. True when now is a set point followed (not the site model's)."""
        self._co2_hour[NEW] = level
        self._new_hours, self._new_days, self._new_day = hours, days, day
        if abs(now - self.co2_site[0]) <= 0.01:
            return False
        self.co2_hold = (now, self.co2_site[1])
        return True

    def adopt_night_hold(self, hold):
        """A site model's night hold (metadata night_hold: level_c, below_c, settled_below_c, from
        verdant_host.sitecontrol): the air in the dark more than below_c (after an hour of dark and
        NIGHT_NEAR_S within NIGHT_NEAR_C of level_c: settled_below_c) under level_c and still falling
        (NIGHT_HOLD) is a heater that stopped, not an evening the heating catches."""
        self.night_hold = None if hold is None else (float(hold["level_c"]), float(hold["below_c"]),
                                                     float(hold["settled_below_c"]))

    def band(self, q, t):
        """(low, high) seen at this hour (+-1 h) on the previous two usable days, or None.
        Air temperature uses the whole days' range: by day it follows the sun, and only a
        fall below what the heating held at night (or a rise above the warmest) is news."""
        local = int(t) + int(self.settings["utc_offset_s"])
        hour = (local % DAY_S) // HOUR_S
        lo = hi = None
        day = local // DAY_S
        hours = range(24) if q in WHOLE_DAY else (hour - 1, hour, hour + 1)
        for d in self.days.get(q, ()):
            if d.day is None or d.day >= day or not d.usable():
                continue  # today is not part of the normal yet
            for h in hours:
                h %= 24
                if d.has(h):
                    a, b = d.lo[h], d.hi[h]
                    lo = a if lo is None or a < lo else lo
                    hi = b if hi is None or b > hi else hi
        return None if lo is None else (lo, hi)

    def band_days(self, q, t):
        """How many usable days before today the band of q has (0, 1 or 2)."""
        day = (int(t) + int(self.settings["utc_offset_s"])) // DAY_S
        n = 0
        for d in self.days.get(q, ()):
            if d.day is not None and d.day < day and d.usable():
                n += 1
        return n

    def _record(self, q, t, v):
        local = int(t) + int(self.settings["utc_offset_s"])
        day = local // DAY_S
        days = self.days.get(q)
        if days is None:
            days = self.days[q] = [DayRecord(), DayRecord(), DayRecord()]  # allocated once: day before, yesterday, today
        if days[-1].day != day:
            oldest = days.pop(0)
            oldest.reset(day)
            days.append(oldest)
        frozen = False
        for typ in (WATCH[q][0], WATCH[q][2]):
            if typ in self.active:
                frozen = True
        if not frozen and self.settle_left <= 0:
            days[-1].add((local % DAY_S) // HOUR_S, v)

    def update(self, t, current, suspects=()):
        events = []
        if self.settle_left > 0:  # (SETTLE_S) verdant.learnedstate ends it when it reads back a learned hour
            if 0 <= self._settle_t < t:
                self.settle_left = max(0, self.settle_left - min(t - self._settle_t, SETTLE_GAP_S))
            self._settle_t = t
        light = current.get("par_umol_m2_s")
        if light is None and current.get("light_lux") is not None:
            light = current["light_lux"] * LUX_TO_PAR
        dark = light is not None and light < DARK_PAR
        bright = light is not None and light > BRIGHT_PAR
        self._bright_steps = self._bright_steps + 1 if bright else 0
        if not bright:
            self._bright_since = -1
        elif self._bright_since < 0:
            self._bright_since = t
        if not dark:
            self._dark_since = _NO_LIGHT_READING if light is None else _IN_LIGHT
        elif self._dark_since < 0:
            self._dusk = self._dark_since == _IN_LIGHT
            self._dark_since = t
        dusk = dark and self._dusk and t - self._dark_since < DUSK_S  # (DUSK_S) the air neither learned nor judged cold
        rh = current.get("rh_pct")
        steady_rh = False
        if rh is not None and "rh_pct" not in suspects:
            self._remember("rh_pct", t, rh)
            rh_rate = self._rate("rh_pct", t, rh, KEEP_S)
            steady_rh = rh_rate is not None and rh_rate > -VENT_RH_FALL
        for q, (low_type, low_margin, high_type, high_margin, low_hint, high_hint) in WATCH.items():
            v = current.get(q)
            if v is None or q in suspects:
                continue
            if self._remember(q, t, v) and q == "co2_ppm":
                self._light_i = (self._light_i + 1) % LIGHT_KEPT
                self._co2_light[self._light_i] = 0.0 if light is None else light
            if q == "co2_ppm" and self.co2_hold is not None:
                self._follow(t, v, self._bright_steps >= 3 and steady_rh, events)
            band = self.band(q, t)
            hold = self.co2_hold if q == "co2_ppm" else None
            held = self._below_hold(q, t) if hold is not None and self._bright_steps >= 3 and steady_rh else None
            if held is not None:  # reasons are ("kind", values...) until an alert needs its text (_reason_text)
                reason = ("held", q, held, hold[0], low_hint)
            if band is not None:
                lo, hi = band
                if hold is not None and hold[0] < self.co2_site[0] and lo > hold[0] - hold[1]:
                    # a lowered set point followed: the days recorded at the old one, and the hours kept out
                    # while the change looked like dosing off, expect more CO2 than dosing now holds
                    lo = hold[0] - hold[1]
                when = "at any hour" if q in WHOLE_DAY else "at this hour"
                low = v < lo - low_margin and not (dusk and q == "air_temp_c")
                if q == "co2_ppm" and low and (not bright or (v >= DOSED_PPM and not self._fell(q, t))):
                    # CO2 is dosed by day; at dusk and night it falls on its own; held flat in light above the
                    # outdoor air's level it is a (new) set point, not dosing off (that draws it down)
                    low = False
                early, rate = self._early(q, "low", t, v, lo - v, dark and not dusk, bright and steady_rh)
                night = self._below_night_hold(q, t, v, dark)
                dropped = None
                if q == "co2_ppm" and held is None and steady_rh and 0 <= self._bright_since <= t - KEEP_S:
                    dropped = self._dropped(t, lo, light)
                if held is None and night is not None:
                    reason = ("night", q, v, self.night_hold[0], night, low_hint)
                elif dropped is not None:
                    reason = ("dropped", q, self._median_recent(q), dropped, low_hint)
                elif held is None:
                    reason = ("low", q, v, lo, when, rate, low_hint)
                # with a set point known, CO2 is back when dosing holds it there again
                back = v > lo - low_margin / 2 if hold is None else v > hold[0] - hold[1]
                self._judge(t, low_type, low, early, back, events, reason, q, v, band,
                            now=held is not None or night is not None or dropped is not None)
                early, rate = self._early(q, "high", t, v, v - hi, dark, bright)
                # one recorded evening is no band for CO2's slow level (when the screens closed, the vents shut):
                # with it, a valve stuck open is the fast rise of the early tier
                high = v > hi + high_margin and (q != "co2_ppm" or self.band_days(q, t) >= CO2_LEVEL_DAYS)
                self._judge(t, high_type, high, early, v < hi + high_margin / 2, events,
                            ("high", q, v, hi, when, rate, high_hint), q, v, band)
            elif hold is not None:
                # no usable day (a restart, or days an alert kept out): the site model's set point alone
                self._judge(t, low_type, False, 0, v > hold[0] - hold[1], events, reason if held is not None else "",
                            q, v, (hold[0] - hold[1], hold[0]), now=held is not None)
            if not (dusk and q == "air_temp_c"):  # the drop the heating has not caught yet is not its level
                self._record(q, t, v)
        return events

    def _early(self, q, side, t, v, past, dark, bright):
        """(the early tier's hold_s when its condition holds now else 0, the rate or None): see EARLY.
        bright: in light, and (for CO2) not venting."""
        tier = EARLY.get((q, side))
        if tier is None:
            return 0, None
        need, per_h, span, hold, when = tier
        if past <= need or (when == "dark" and not dark) or (when == "bright" and not bright):
            return 0, None
        if q == "co2_ppm" and side == "low" and self.band_days(q, t) < CO2_LEVEL_DAYS:
            return 0, None  # a single morning's draw-down is no band: the next one differs with the light and the night
        if q == "air_temp_c" and side == "low" and self._back_up(q, t, v):
            return 0, None  # a heater that stopped does not warm the dark air back
        rate = self._rate(q, t, v, span)
        if rate is None or (-rate if side == "low" else rate) <= per_h:
            return 0, None
        return hold, rate

    def _back_up(self, q, t, v):
        """True when v is more than AIR_BACK_UP_C above the kept reading before it."""
        recent = self._recent.get(q)
        if not recent:
            return False
        i = len(recent) - 1
        if recent[i][0] >= t:
            i -= 1  # v itself was kept
        return i >= 0 and v - recent[i][1] > AIR_BACK_UP_C

    def _remember(self, q, t, v):
        """Keeps a reading every KEEP_STEP_S or more (a 1-minute feature period does not make
        the list longer than a 5-minute one) over the last KEEP_S. True when v was kept."""
        recent = self._recent.get(q)
        if recent is None:
            recent = self._recent[q] = []
        kept = not recent or t - recent[-1][0] >= KEEP_STEP_S
        if kept:
            recent.append((t, v))
        while len(recent) > 2 and t - recent[1][0] >= KEEP_S:
            recent.pop(0)
        return kept

    def _rate(self, q, t, v, span):
        """Change per hour from the newest kept reading at least `span` s old to v (None when
        the oldest kept is younger than 2/3 of span)."""
        recent = self._recent.get(q)
        if not recent:
            return None
        t0 = v0 = None
        for ti, vi in recent:
            if t - ti < span:
                break
            t0, v0 = ti, vi
        if t0 is None:
            t0, v0 = recent[0]
            if t - t0 < span * 2 // 3:
                return None
        return (v - v0) * 3600.0 / (t - t0)

    def _below_hold(self, q, t):
        """The median of the last three kept readings (all in light) when it is beyond the site's CO2 set point
        shortfall (None otherwise, or without a site model, or readings older than 15 min)."""
        recent = self._recent.get(q)
        if q != "co2_ppm" or self.co2_hold is None or recent is None or len(recent) < 3 or t - recent[-3][0] > 900:
            return None
        a, b, c = recent[-1][1], recent[-2][1], recent[-3][1]
        mid = _median3(a, b, c)  # one spiking reading does not move it
        if mid >= self.co2_hold[0] - self.co2_hold[1]:
            return None
        return mid if mid < DOSED_PPM or self._fell(q, t) else None  # flat above outdoor air: a set point

    def _median_recent(self, q):
        """The median of the last three kept readings (the newest alone when fewer are kept)."""
        recent = self._recent[q]
        if len(recent) < 3:
            return recent[-1][1]
        return _median3(recent[-1][1], recent[-2][1], recent[-3][1])

    def _dropped(self, t, band_low, light):
        """The lowest of the CO2 readings HELD_FROM_S to KEEP_S old when they were held (at least
        HELD_MIN_READINGS of them, the oldest over 3/4 of KEEP_S old, within STEADY_RANGE_PPM) and the
        median of the last three is more than HELD_DROP_PPM under it and under band_low, the light now
        not LIGHT_ROSE times their mean light (the sun out after a dull spell: the crop draws CO2
        down faster than dosing at its capacity adds it); else None. The caller checks the hour was in
        light with RH not falling."""
        recent = self._recent.get("co2_ppm")
        if recent is None or len(recent) < HELD_MIN_READINGS + 3 or t - recent[0][0] < KEEP_S * 3 // 4:
            return None
        lo = EMPTY_LO
        hi = EMPTY_HI
        n = 0
        for ti, vi in recent:
            if t - ti < HELD_FROM_S:
                break
            n += 1
            if vi < lo:
                lo = vi
            if vi > hi:
                hi = vi
        if n < HELD_MIN_READINGS or hi - lo > STEADY_RANGE_PPM:
            return None
        if self.co2_hold is not None and lo > self.co2_hold[0] + self.co2_hold[1]:
            return None  # dosing adds CO2 only under its set point: flat above it is the night's CO2 drawn down
        mid = self._median_recent("co2_ppm")
        if mid >= lo - HELD_DROP_PPM or mid >= band_low:
            return None
        lit = 0.0
        for k in range(len(recent) - n, len(recent)):  # recent[i]'s light is len(recent) - 1 - i slots back in the ring
            lit += self._co2_light[(self._light_i - k) % LIGHT_KEPT]
        return None if light > LIGHT_ROSE * lit / n else lo

    def _fell(self, q, t):
        """True when the median of the last three kept readings is HOLD_FALL_PPM or more below
        that of the first three, about an hour ago: drawn down, not held at a (new) level."""
        recent = self._recent.get(q)
        if recent is None or len(recent) < 6 or t - recent[0][0] < 2400:
            return False  # no hour to tell a fall from a level
        then = _median3(recent[0][1], recent[1][1], recent[2][1])
        return then - _median3(recent[-1][1], recent[-2][1], recent[-3][1]) >= HOLD_FALL_PPM

    def _follow(self, t, v, lit, events):
        """Adds a CO2 reading to this clock hour's record (lit: in light, RH steady) and, when
        the hour rolls over, judges the hour just ended."""
        local = int(t) + int(self.settings["utc_offset_s"])
        hour = local // HOUR_S
        if hour != self._hour:
            if self._hour >= 0 and self._hour_n >= 3 and self._hour_t1 - self._hour_t0 >= STEADY_MIN_S:
                self._judge_hour(self._hour * HOUR_S // DAY_S, t, events)
            self._hour = hour
            self._hour_n = 0
        if not lit:
            return
        recent = self._recent["co2_ppm"]
        mid = v if len(recent) < 3 else _median3(recent[-1][1], recent[-2][1], recent[-3][1])
        h = self._co2_hour
        if self._hour_n == 0:
            self._hour_t0 = t
            h[LO] = h[HI] = v
            h[SUM] = 0.0
            h[FIRST] = mid
        self._hour_n += 1
        self._hour_t1 = t
        h[SUM] += v
        h[LAST] = mid
        if v < h[LO]:
            h[LO] = v
        if v > h[HI]:
            h[HI] = v

    def _judge_hour(self, day, t, events):
        """A steady hour (held flat above outdoor air: dosing works) off the set point counts
        towards its level becoming the set point."""
        h = self._co2_hour
        if h[HI] - h[LO] > STEADY_RANGE_PPM or abs(h[LAST] - h[FIRST]) > STEADY_CHANGE_PPM:
            return
        level = h[SUM] / self._hour_n
        if level < DOSED_PPM:
            return
        set_ppm, below = self.co2_hold
        if abs(level - set_ppm) <= below:
            self._new_hours = self._new_days = 0  # at the set point: nothing changed
            return
        if self._new_hours and abs(level - h[NEW]) <= below:
            self._new_hours += 1
            h[NEW] += (level - h[NEW]) / self._new_hours
        else:
            h[NEW] = level
            self._new_hours = 1
            self._new_days = 0
            self._new_day = -1
        if day != self._new_day:
            self._new_day = day
            self._new_days += 1
        if self._new_hours < ADOPT_HOURS or self._new_days < ADOPT_DAYS:
            return
        new = float(int(h[NEW] + 0.5))
        self.co2_hold = (new, below)
        self._new_hours = self._new_days = 0
        events.append({"type": "co2_set_point", "severity": "info", "event": "note", "source": "band",
                       "reason": "CO2 set point now about %d ppm (was %d): held flat there in light for %d hours "
                                 "on %d days" % (int(new), int(set_ppm + 0.5), ADOPT_HOURS, ADOPT_DAYS),
                       "values": {"co2_ppm": new, "was_ppm": set_ppm}})
        if "co2_low_anomaly" in self.active:
            self._end("co2_low_anomaly")
            events.append({"type": "co2_low_anomaly", "severity": "warning", "event": "clear", "source": "band",
                           "reason": "co2_ppm held at about %d ppm in light: the new set point, not dosing off"
                                     % int(new), "values": {"co2_ppm": new, "was_ppm": set_ppm}})

    def _below_night_hold(self, q, t, v, dark):
        """The air's rate (C/h, negative) on the NIGHT_HOLD[2]-th update in a row that it is, in the
        dark, more than the site's dip (its first hour's, or the settled night's) under its night
        level and still falling faster than NIGHT_HOLD[0] per hour over NIGHT_HOLD[1] (None
        otherwise, or without a site model)."""
        if q != "air_temp_c" or self.night_hold is None:
            return None
        per_h, span, steps, settle = NIGHT_HOLD
        level, below, settled_below = self.night_hold
        if not dark or v > level + NIGHT_NEAR_C:
            self._near_since = -1  # the evening's (or a late day set point's) fall to the night level is still to come
        elif self._near_since < 0:
            self._near_since = t
        near = self._near_since >= 0 and t - self._near_since >= NIGHT_NEAR_S
        if dark and t - self._dark_since >= settle and near:
            below = settled_below
        rate = self._rate(q, t, v, span) if dark and v < level - below else None
        self._night_steps = self._night_steps + 1 if rate is not None and -rate > per_h else 0
        return rate if self._night_steps >= steps else None

    def _end(self, typ):
        """typ is no longer active (cleared by _judge, or by following a set point): its timers start again."""
        del self.active[typ]
        self._since.pop(typ, None)
        self._early_since.pop(typ, None)

    def _judge(self, t, typ, beyond, early, back, events, reason, q, v, band, now=False):
        """early: 0, or the hold (s) of an early tier whose condition holds now; now: raise at once
        (a condition that already spans readings)."""
        s = self.settings
        if typ not in self.active:
            if not early:
                self._early_since.pop(typ, None)
            if not beyond:
                self._since.pop(typ, None)
            if not beyond and not early and not now:
                return
            held = now or (beyond and t - self._since.setdefault(typ, t) >= s["hold_s"])
            if early:
                held = held or t - self._early_since.setdefault(typ, t) >= early
            if not held:
                return
            self.active[typ] = t
            self._since.pop(typ, None)
            self._early_since.pop(typ, None)
            event = "raise"
            reason = _reason_text(reason)
        else:
            if not back:
                self._since.pop(typ, None)
                return
            since = self._since.setdefault(typ, t)
            if t - since < s["clear_s"]:
                return
            self._end(typ)
            event = "clear"
            reason = "%s %s back within its usual range" % (q, _fmt(v))
        events.append({"type": typ, "severity": "warning", "event": event, "source": "band", "reason": reason,
                       "values": {q: v, "band_low": band[0], "band_high": band[1]}})
