"""Features shared by the board and the host's training code (one source of truth).

Pure and deterministic: every function takes time and readings as arguments.
Runs under MicroPython (board, Unix port) and CPython (training, replay).

Physics (all temperatures in degC, relative humidity in %):
  saturation vapour pressure  Buck (1996) over water:
      es(T) = 0.61121 * exp((18.678 - T/234.5) * T / (257.14 + T))      [kPa]
  vapour pressure deficit     vpd = es(T) * (1 - RH/100)                    [kPa]
  dew point                   Magnus with Sonntag (1990) constants a=17.62, b=243.12:
      g = ln(RH/100) + a*T/(b+T);  Td = b*g / (a - g)                        [degC]
  dew point margin            T - Td                                          [degC]
  absolute humidity           e / (Rv * (T + 273.15)), Rv = 461.5 J/(kg K)     [g/m3]
  PAR from lux (no PAR sensor) sunlight: 1 lux = 0.0185 umol/m2/s (Thimijan & Heins 1983)
  daily light integral        sum of PAR * dt since local midnight             [mol/m2]
      (left rectangle rule: each sample's PAR holds until the next sample,
       for at most DLI_MAX_GAP_S; longer gaps add nothing and mark the day incomplete)
  time of day                 sin / cos of 2*pi * local seconds of day / 86400

Rolling window: FeatureState keeps `window` slots of `period_s` seconds (slot =
t // period_s). A slot with no sample stays None (explicit missing sample), a
quantity no sensor measured is None in that slot. Window statistics use present
values only; a statistic with too few values is None, never 0.

Feature names, for each series S in SERIES:
  S (latest value), S_mean, S_min, S_max, S_rate_h (least-squares slope, units/hour)
plus dew_point_c, dli_mol_m2 (today so far), dli_prev_mol_m2 (yesterday's total,
None when yesterday was not fully covered), par_from_lux (1 when PAR was estimated
from lux, 0 when measured), tod_sin, tod_cos.

Departures from the greenhouse's own recent behaviour, for each series M in MEMORY
(DayMemory: the last value of each 15-minute slot over the last 25 hours, in
preallocated arrays):
  M_d24h   distance of the value now from the range of yesterday's values around this
           time (the 15-minute slots 24 h ago and either side of it): 0 inside it,
           negative below, positive above; None until a day has been recorded
  M_d1h    the value now minus the value an hour ago
PAR's (par_umol_m2_s_d24h, _d1h) use PAR estimated from lux when no PAR sensor is fitted.

Model input (build_vector): the last `window` feature rows, oldest first, each row
the model's feature list in order, each value normalized as (x - mean) / std.
So the input has window * len(features) floats, time-major. The board runs
FeatureState(model period_s, model window), one add() per period with the sampler's
latest values; training must build its windows the same way.

Example:
    state = FeatureState(period_s=300, window=12)
    row = state.add(1700000000, {"air_temp_c": 21.0, "rh_pct": 80.0})
    row["vpd_kpa"]            # 0.497...
    floats, missing = build_vector(state.rows(12), ["air_temp_c", "vpd_kpa"],
                                   [20.0, 1.0], [5.0, 0.5])
"""
import math
from array import array

from verdant.quantities import GREENHOUSE as QUANTITIES  # the one list of greenhouse quantities

DERIVED = ("vpd_kpa", "dew_point_margin_c", "abs_humidity_g_m3")
SERIES = QUANTITIES + DERIVED
# The window's values are kept in an array of the port's float width (exact: floats in, the
# same floats out), not as float objects in a dict per slot.
_WINDOW_CODE = "d" if (1.0 + 2.0 ** -40) != 1.0 else "f"
STATS = ("", "_mean", "_min", "_max", "_rate_h")
EXTRA = ("dew_point_c", "dli_mol_m2", "dli_prev_mol_m2", "par_from_lux", "tod_sin", "tod_cos")
MEMORY = ("air_temp_c", "rh_pct", "co2_ppm", "vpd_kpa", "par_umol_m2_s")
MEMORY_STATS = ("_d24h", "_d1h")
MEMORY_SLOT_S = 900     # DayMemory resolution
MEMORY_DAYS = 1         # days of memory the d24h range spans
MEMORY_SETTLE_S = 3600  # nothing recorded in the first hour after a start: sensors and climate settle
MEMORY_SLOTS = 100      # > MEMORY_DAYS x 96 slots + 1 slot either side + the slot being filled

LUX_TO_PAR = 0.0185  # umol/m2/s per lux, sunlight
DLI_MAX_GAP_S = 3600
# Up to this many missed slots in a row (a reboot, a power cut, a lost sample) are filled
# with the row before them, as a sensor holds its last value: one missed sample would
# otherwise stop the model for a whole window (3 h for the default model). Longer gaps
# stay gaps (the window must refill).
GAP_FILL_SLOTS = 2
RV_J_KG_K = 461.5
MAGNUS_A = 17.62
MAGNUS_B = 243.12
DAY_S = 86400

# Which measured quantities each derived series needs (a feature is computable on a
# board only if these are fitted). dli and par_from_lux need PAR *or* lux.
_NEEDS = {
    "vpd_kpa": ("air_temp_c", "rh_pct"),
    "dew_point_margin_c": ("air_temp_c", "rh_pct"),
    "abs_humidity_g_m3": ("air_temp_c", "rh_pct"),
    "dew_point_c": ("air_temp_c", "rh_pct"),
}
_LIGHT = ("dli_mol_m2", "dli_prev_mol_m2", "par_from_lux")


def feature_names():
    """Every feature this module computes, in a fixed order."""
    names = []
    for series in SERIES:
        for suffix in STATS:
            names.append(series + suffix)
    names.extend(EXTRA)
    for series in MEMORY:
        for suffix in MEMORY_STATS:
            names.append(series + suffix)
    return names


FEATURE_NAMES = tuple(feature_names())


def _base_series(name):
    for suffix in ("_mean", "_min", "_max", "_rate_h") + MEMORY_STATS:
        if name.endswith(suffix) and name[:-len(suffix)] in SERIES:
            return name[:-len(suffix)]
    return name


def missing_inputs(name, fitted):
    """Quantities a board lacks for feature `name`, given its fitted quantities.

    Returns a list (empty when the board can compute the feature).
    Raises ValueError for a name this module does not compute.
    """
    if name not in FEATURE_NAMES:
        raise ValueError("features: unknown feature %r" % name)
    base = _base_series(name)
    # the light integrals and PAR's memory take PAR estimated from lux; PAR itself does not
    lux_will_do = base in _LIGHT or (base == "par_umol_m2_s" and name[len(base):] in MEMORY_STATS)
    if base in _LIGHT or base == "par_umol_m2_s":
        if "par_umol_m2_s" in fitted or (lux_will_do and "light_lux" in fitted):
            return []
        return ["par_umol_m2_s or light_lux" if lux_will_do else "par_umol_m2_s"]
    if base in ("tod_sin", "tod_cos"):
        return []
    needs = _NEEDS.get(base, (base,))
    return [q for q in needs if q not in fitted]


# ---- psychrometrics (pure functions, None in -> None out) ----

def saturation_vapour_pressure_kpa(temp_c):
    """Buck (1996) saturation vapour pressure over water, kPa."""
    if temp_c is None:
        return None
    return 0.61121 * math.exp((18.678 - temp_c / 234.5) * (temp_c / (257.14 + temp_c)))


def vpd_kpa(temp_c, rh_pct):
    """Vapour pressure deficit in kPa; None when an input is missing."""
    if temp_c is None or rh_pct is None:
        return None
    return saturation_vapour_pressure_kpa(temp_c) * (1.0 - _clamp_rh(rh_pct) / 100.0)


def dew_point_c(temp_c, rh_pct):
    """Magnus dew point (Sonntag 1990 constants), degC; None when RH is 0 or missing."""
    if temp_c is None or rh_pct is None:
        return None
    rh = _clamp_rh(rh_pct)
    if rh <= 0.0:
        return None
    g = math.log(rh / 100.0) + MAGNUS_A * temp_c / (MAGNUS_B + temp_c)
    return MAGNUS_B * g / (MAGNUS_A - g)


def absolute_humidity_g_m3(temp_c, rh_pct):
    """Water vapour density in g/m3 (ideal gas, Buck es)."""
    if temp_c is None or rh_pct is None:
        return None
    e_pa = saturation_vapour_pressure_kpa(temp_c) * 1000.0 * _clamp_rh(rh_pct) / 100.0
    return e_pa / (RV_J_KG_K * (temp_c + 273.15)) * 1000.0


def par_from_lux(lux):
    """PAR (umol/m2/s) estimated from illuminance in lux, sunlight spectrum."""
    if lux is None:
        return None
    return lux * LUX_TO_PAR


def time_of_day(t, utc_offset_s=0):
    """(sin, cos) of the local time of day; t in integer seconds since the epoch."""
    seconds = (int(t) + int(utc_offset_s)) % DAY_S  # integer first: floats are 32-bit on boards
    angle = 2.0 * math.pi * seconds / DAY_S
    return math.sin(angle), math.cos(angle)


def _clamp_rh(rh):
    if rh < 0.0:
        return 0.0
    if rh > 100.0:
        return 100.0
    return rh


def slope_per_hour(times, values):
    """Least-squares slope of values over times (integer seconds) in units per hour.

    Pairs whose value is None are skipped; None when fewer than 2 values remain
    or they all share one time. Time sums stay integers (exact, and no heap objects on
    a board); slope = sum((n*t_i - St) * v_i) / (n*Stt - St^2) with t relative to the
    first time: two float operations per value (floats are heap objects on most boards).
    """
    n = 0
    t0 = None
    sum_t = sum_tt = 0
    for i in range(len(values)):
        if values[i] is None:
            continue
        if t0 is None:
            t0 = times[i]
        dt = times[i] - t0
        n += 1
        sum_t += dt
        sum_tt += dt * dt
    if n < 2:
        return None
    sxx = n * sum_tt - sum_t * sum_t
    if sxx == 0:
        return None
    total = 0.0
    for i in range(len(values)):
        v = values[i]
        if v is not None:
            total += (n * (times[i] - t0) - sum_t) * v
    return total * 3600.0 / sxx


class LightIntegrator:
    """Daily light integral in mol/m2 since local midnight, fed PAR samples in time order."""

    def __init__(self, utc_offset_s=0, max_gap_s=DLI_MAX_GAP_S):
        self.utc_offset_s = int(utc_offset_s)
        self.max_gap_s = max_gap_s
        self.day = None
        self.today = 0.0
        self.today_complete = False
        self.previous = None  # yesterday's total when yesterday was fully covered
        self.seen_light = False
        self._last_t = None
        self._last_par = None

    def _day_of(self, t):
        return (t + self.utc_offset_s) // DAY_S

    def _roll(self, new_day):
        self.previous = self.today if (self.today_complete and new_day == self.day + 1) else None
        self.day = new_day
        self.today = 0.0
        self.today_complete = True

    def add(self, t, par):
        """Account for the interval since the previous sample; par may be None.

        Returns the integral so far today (mol/m2).
        """
        t = int(t)
        if self._last_t is None:
            self.day = self._day_of(t)
            self.today_complete = False  # the part of today before the first sample is unknown
        else:
            if t <= self._last_t:
                raise ValueError("LightIntegrator: time %d not after previous %d" % (t, self._last_t))
            usable = self._last_par is not None and t - self._last_t <= self.max_gap_s
            start = self._last_t
            while True:  # split the interval at each local midnight it crosses
                day = self._day_of(start)
                if day != self.day:
                    self._roll(day)
                end = min(t, (day + 1) * DAY_S - self.utc_offset_s)
                if usable:
                    self.today += self._last_par * (end - start) / 1e6
                else:
                    self.today_complete = False
                if end >= t:
                    break
                start = end
            if self._day_of(t) != self.day:
                self._roll(self._day_of(t))
        if par is not None:
            self.seen_light = True
        self._last_t = t
        self._last_par = par
        return self.today


class DayMemory:
    """The last value of each MEMORY_SLOT_S slot of some series over the last MEMORY_SLOTS
    slots (25 h), in preallocated arrays (no heap objects per sample on a board): what this
    greenhouse did yesterday at this time and an hour ago (the M_d24h and M_d1h features).
    A restart forgets it: those features are None for the first day after, and the first
    MEMORY_SETTLE_S after the start are not recorded (a CO2 sensor warming up, a climate
    still settling would be a false reference a day later)."""

    def __init__(self, count):
        self.start = None
        self.slots = array("i", [-1] * MEMORY_SLOTS)  # the slot (t // MEMORY_SLOT_S) each place holds
        self.values = [array("f", [0.0] * MEMORY_SLOTS) for _ in range(count)]
        self.known = [bytearray(MEMORY_SLOTS) for _ in range(count)]  # 1 where a value was recorded

    def record(self, t, k, value):
        """Series k's value at time t (the slot keeps the last one; None records nothing)."""
        if self.start is None:
            self.start = t
        if t - self.start < MEMORY_SETTLE_S:
            return
        slot = t // MEMORY_SLOT_S
        i = slot % MEMORY_SLOTS
        if self.slots[i] != slot:
            self.slots[i] = slot
            for known in self.known:
                known[i] = 0
        if value is not None:
            self.values[k][i] = value
            self.known[k][i] = 1

    def _at(self, k, slot):
        i = slot % MEMORY_SLOTS
        if slot < 0 or self.slots[i] != slot or not self.known[k][i]:
            return None
        return self.values[k][i]

    def day_departure(self, k, t, value):
        """Distance of value from the range of series k's slots 24 h before t and either side:
        0 inside, negative below, positive above; None when none was recorded."""
        if value is None:
            return None
        low = high = None
        for day in range(1, MEMORY_DAYS + 1):
            ref = (t - day * DAY_S) // MEMORY_SLOT_S
            for slot in (ref - 1, ref, ref + 1):
                x = self._at(k, slot)
                if x is not None:
                    if low is None or x < low:
                        low = x
                    if high is None or x > high:
                        high = x
        if low is None:
            return None
        if value < low:
            return value - low
        if value > high:
            return value - high
        return 0.0

    def hour_change(self, k, t, value):
        """value minus series k's value an hour before t; None when that was not recorded."""
        if value is None:
            return None
        x = self._at(k, (t - 3600) // MEMORY_SLOT_S)
        return None if x is None else value - x


def _plan(needed):
    """(series, latest, mean, min, max, rate, mean key, min key, max key, rate key) for
    each series some needed feature uses: the row keys made once, not per sample."""
    plan = []
    for series in SERIES:
        wants = [needed is None or series + suffix in needed for suffix in STATS]
        if True in wants:
            plan.append((series,) + tuple(wants) + (series + "_mean", series + "_min", series + "_max",
                                                    series + "_rate_h"))
    return plan


class FeatureState:
    """Rolling window of samples at a fixed period; add() returns the feature row.

    period_s: slot length in seconds; window: slots kept; utc_offset_s: local time
    for time of day and the DLI's midnight; needed: feature names to compute (None:
    every feature; a board computes only what its model, rules and reading lines use,
    see for_model). clock_valid False (the board clock is not set) turns the features
    that depend on the time of day off (None): tod_sin, tod_cos and the DLIs.
    """

    def __init__(self, period_s=300, window=12, utc_offset_s=0, needed=None):
        if period_s <= 0 or window < 1:
            raise ValueError("FeatureState: period_s must be > 0 and window >= 1, got %r, %r"
                             % (period_s, window))
        if needed is not None:
            for name in needed:
                if name not in FEATURE_NAMES:
                    raise ValueError("features: unknown feature %r" % name)
        self.period_s = int(period_s)
        self.window = int(window)
        self.utc_offset_s = int(utc_offset_s)
        self.needed = None if needed is None else tuple(needed)
        self._plan = _plan(self.needed)
        self._series = [p[0] for p in self._plan]
        self._extra = [name for name in EXTRA if needed is None or name in needed]
        # The window: per entry (oldest first, gaps included) its slot index and its place in the
        # value arrays (-1 for a gap). A place holds one value per series of the plan, in arrays made
        # once: the window keeps no float objects and no dict per slot (those lived for the window's
        # hours between each step's garbage, holes a small heap could not use).
        self._slots = []
        self._at = []
        ns = len(self._series)
        self._free = list(range(self.window + 1))  # places not in use (the newest takes one before the oldest leaves)
        self._window_values = array(_WINDOW_CODE, bytes((8 if _WINDOW_CODE == "d" else 4) * ns * (self.window + 1)))
        self._window_has = bytearray(ns * (self.window + 1))  # 1: a value at that place, 0: None
        self._latest = {}  # this sample's values: one dict, the same keys refilled each sample
        self._times = []   # kept lists for _row (slot times, one series' column): no lists per sample
        self._column = []
        self._rows = []    # feature rows, one per slot, same length as _slots
        self._row_kept = None  # with a model: the one row dict, refilled each sample (see _row)
        self.light = LightIntegrator(utc_offset_s)
        # (series index in DayMemory, series, d24h key or None, d1h key or None) for the memory features wanted
        self._memory_plan = []
        for series in MEMORY:
            keys = [series + suffix if needed is None or series + suffix in needed else None
                    for suffix in MEMORY_STATS]
            if keys[0] or keys[1]:
                self._memory_plan.append((len(self._memory_plan), series, keys[0], keys[1]))
        self.memory = DayMemory(len(self._memory_plan)) if self._memory_plan else None
        self.remember = True  # False: the memory features are computed but this sample is not recorded
        self.clock_valid = True
        self.model = None  # ModelInput when built by for_model

    @classmethod
    def for_model(cls, meta, also=(), utc_offset_s=0, quantize=None):
        """The state a board runs for a model (metadata checked by verdant.modelmeta):
        the model's period and window, computing only its features plus `also` (what
        the rules and reading lines use). .model builds the normalized input (int8
        bytes with `quantize`, see ModelInput)."""
        names = meta["features"]
        needed = list(names)
        for name in also:
            if name not in needed:
                needed.append(name)
        state = cls(meta.get("period_s", 300), meta.get("window", 1), utc_offset_s, needed)
        state.model = ModelInput(names, meta["norm_mean"], meta["norm_std"], state.window, quantize)
        return state

    def add(self, t, readings):
        """Add the sample taken at time t (seconds); readings maps quantity -> value or None.

        Returns the feature row (dict name -> float or None) for t's slot. Samples
        must come in time order; a second sample in the same slot replaces the first.
        """
        t = int(t)
        slot = t // self.period_s
        values = self._latest
        for q in QUANTITIES:
            v = readings.get(q)
            values[q] = None if v is None or v != v else float(v)
        temp, rh = values["air_temp_c"], values["rh_pct"]
        series = self._series
        if "vpd_kpa" in series or self.memory is not None:
            values["vpd_kpa"] = vpd_kpa(temp, rh)
        dew = None
        if "dew_point_margin_c" in series or "dew_point_c" in self._extra:
            dew = dew_point_c(temp, rh)
        if "dew_point_margin_c" in series:
            values["dew_point_margin_c"] = None if dew is None else temp - dew
        if "abs_humidity_g_m3" in series:
            values["abs_humidity_g_m3"] = absolute_humidity_g_m3(temp, rh)

        par = values["par_umol_m2_s"]
        estimated = None
        if par is not None:
            estimated = 0.0
        elif values["light_lux"] is not None:
            par = par_from_lux(values["light_lux"])
            estimated = 1.0

        if self._slots and slot <= self._slots[-1]:
            if slot < self._slots[-1]:
                raise ValueError("FeatureState: time %d is before the last sample's slot" % t)
            self._drop(-1)
            if self.model is not None:
                self.model.drop_newest()
        elif self._slots:
            last = self._slots[-1]
            fill = slot - last - 1 <= GAP_FILL_SLOTS
            for missing in range(max(last + 1, slot - self.window + 1), slot):
                self._slots.append(missing)  # no values: means, extremes and slopes skip it
                self._at.append(-1)
                self._rows.append(self._rows[-1] if fill else None)
                if self.model is not None:
                    self.model.repeat_newest() if fill else self.model.push(None)
        self._slots.append(slot)
        self._at.append(self._store(values))
        self._rows.append(None)
        if self.light._last_t is None or t > self.light._last_t:
            self.light.add(t, par)
        while len(self._slots) > self.window:
            self._drop(0)
        while self._slots and self._slots[0] <= slot - self.window:
            self._drop(0)

        row = self._row(t, values, dew, estimated)
        if self.memory is not None:
            self._remember(t, row, values, par)
        if self.model is not None:
            self.model.push(row)
        else:  # a model's state keeps only its normalized inputs, not every row (heap)
            self._rows[-1] = row
        return row

    def _store(self, values):
        """This sample's series values into a free place of the window arrays; returns the place."""
        place = self._free.pop()
        ns = len(self._series)
        for k in range(ns):
            v = values[self._series[k]]
            self._window_has[place * ns + k] = v is not None
            if v is not None:
                self._window_values[place * ns + k] = v
        return place

    def _drop(self, index):
        """Entry `index` (0 the oldest, -1 the newest) leaves the window; its place is free again."""
        self._slots.pop(index)
        self._rows.pop(index)
        place = self._at.pop(index)
        if place >= 0:
            self._free.append(place)

    def _row(self, t, latest, dew, par_estimated):
        # With a model no row outlives its sample (the model keeps its own inputs): one dict,
        # its values overwritten (same keys each sample), so a sample grows no dict table
        # (a new row regrew its table to ~40 entries each sample: the contiguous blocks a
        # small heap ran out of, MemoryError in the 96 KB sim32 demo).
        row = self._row_kept
        if row is None:
            row = {}
            if self.model is not None:
                self._row_kept = row
        slots, at, has, window_values = self._slots, self._at, self._window_has, self._window_values
        count_slots = len(slots)
        ns = len(self._series)
        times = None
        column = self._column
        k = -1
        for series, want, want_mean, want_min, want_max, want_rate, key_mean, key_min, key_max, key_rate \
                in self._plan:
            k += 1  # the series' index in a place of the window arrays
            if want:
                row[series] = latest[series]
            if not (want_mean or want_min or want_max or want_rate):
                continue
            if times is None:  # relative to the newest slot: small ints on 32-bit ports (slopes use differences)
                times = self._times
                while len(times) < count_slots:
                    times.append(0)
                    column.append(None)
                while len(times) > count_slots:
                    times.pop()
                    column.pop()
                newest = slots[-1]
                for i in range(count_slots):
                    times[i] = (slots[i] - newest) * self.period_s
            total = 0.0
            count = 0
            low = high = None
            for i in range(count_slots):
                place = at[i]
                v = window_values[place * ns + k] if place >= 0 and has[place * ns + k] else None
                column[i] = v
                if v is not None:
                    if want_mean:
                        total += v
                    count += 1
                    if low is None or v < low:
                        low = v
                    if high is None or v > high:
                        high = v
            if want_mean:
                row[key_mean] = total / count if count else None
            if want_min:
                row[key_min] = low
            if want_max:
                row[key_max] = high
            if want_rate:
                row[key_rate] = slope_per_hour(times, column)
        clock = self.clock_valid
        for name in self._extra:
            if name == "dew_point_c":
                row[name] = dew
            elif name == "dli_mol_m2":
                row[name] = self.light.today if self.light.seen_light and clock else None
            elif name == "dli_prev_mol_m2":
                row[name] = self.light.previous if clock else None
            elif name == "par_from_lux":
                row[name] = par_estimated
        if "tod_sin" in self._extra or "tod_cos" in self._extra:
            tod = time_of_day(t, self.utc_offset_s) if clock else (None, None)
            if "tod_sin" in self._extra:
                row["tod_sin"] = tod[0]
            if "tod_cos" in self._extra:
                row["tod_cos"] = tod[1]
        return row

    def _remember(self, t, row, values, par):
        """The memory features (against what was recorded before this sample), then record it."""
        memory = self.memory
        for k, series, key_day, key_hour in self._memory_plan:
            v = par if series == "par_umol_m2_s" else values[series]
            if key_day is not None:
                row[key_day] = memory.day_departure(k, t, v)
            if key_hour is not None:
                row[key_hour] = memory.hour_change(k, t, v)
            memory.record(t, k, v if self.remember else None)

    def last_slot(self):
        """Slot index (t // period_s) of the newest sample, None before the first."""
        return self._slots[-1] if self._slots else None

    def rows(self, count):
        """The last `count` slots' feature rows, oldest first; None for missing slots.

        Shorter than count until the window has filled. A state built by for_model keeps
        no rows (only its model's normalized inputs): all None.
        """
        return self._rows[-count:]


class ModelInput:
    """A model's input, kept per slot as each value is added (normalized once) and
    assembled into one preallocated buffer: floats, or with `quantize` (value -> int8
    byte, the engine's input quantizer) int8 bytes in a preallocated ring, so a board
    keeps no float objects for its window."""

    def __init__(self, names, norm_mean, norm_std, window, quantize=None):
        self.names = list(names)
        self.norm_mean = list(norm_mean)
        self.norm_std = list(norm_std)
        self.window = window
        self.quantize = quantize
        n = window * len(self.names)
        self._entries = []  # oldest first, at most window: values (or ring position), None for a missing slot
        self._missing = []  # per entry: list of missing feature names, or None
        if quantize is None:
            self.floats = [0.0] * n
        else:
            self._ring = bytearray(n)
            self._next = 0
            self.floats = bytearray(n)  # the assembled int8 input

    def push(self, row):
        entry = None
        missing = None
        if row is not None:
            n = len(self.names)
            if self.quantize is not None:
                entry = self._claim()
                base = entry * n
            else:
                entry = [None] * n
            for i in range(n):
                value = row.get(self.names[i])
                if value is None:
                    if missing is None:
                        missing = []
                    missing.append(self.names[i])
                    continue
                value = (value - self.norm_mean[i]) / self.norm_std[i]
                if self.quantize is not None:
                    self._ring[base + i] = self.quantize(value)
                else:
                    entry[i] = value
        self._append(entry, missing)

    def _claim(self):
        """The ring place for a new entry (the oldest entry's, once the window is full)."""
        entry = self._next
        self._next = (self._next + 1) % self.window
        return entry

    def _append(self, entry, missing):
        self._entries.append(entry)
        self._missing.append(missing)
        if len(self._entries) > self.window:
            self._entries.pop(0)
            self._missing.pop(0)

    def repeat_newest(self):
        """A filled slot (GAP_FILL_SLOTS): the newest entry once more."""
        if not self._entries or self._entries[-1] is None:
            self.push(None)
            return
        newest = self._entries[-1]
        if self.quantize is None:
            entry = list(newest)
        else:
            entry = self._claim()
            n = len(self.names)
            ring = self._ring
            for i in range(n):
                ring[entry * n + i] = ring[newest * n + i]
        self._append(entry, self._missing[-1])

    def drop_newest(self):
        if self._entries:
            entry = self._entries.pop()
            self._missing.pop()
            if self.quantize is not None and entry is not None:
                self._next = entry  # its ring place is free again

    def vector(self):
        """(input, None) with the time-major input in self.floats (int8 bytes when
        quantizing), or (None, missing) where missing lists what is unavailable (as
        build_vector names it)."""
        entries = self._entries
        missing = []
        if len(entries) < self.window:
            missing.append("window: %d of %d slots" % (len(entries), self.window))
        gaps = 0
        for i in range(len(entries)):
            if entries[i] is None:
                gaps += 1
            elif self._missing[i] is not None:
                for name in self._missing[i]:
                    if name not in missing:
                        missing.append(name)
        if gaps:
            missing.append("window: %d missing slots" % gaps)
        if missing:
            return None, missing
        out = self.floats
        n = len(self.names)
        k = 0
        for entry in entries:
            if self.quantize is not None:
                ring = self._ring
                for i in range(entry * n, entry * n + n):
                    out[k] = ring[i]
                    k += 1
            else:
                for value in entry:
                    out[k] = value
                    k += 1
        return out, None


def summarize_missing(missing):
    """Short text of what a model input lacks (the list build_vector or ModelInput gives)."""
    names = ["window not full" if m.startswith("window:") else m for m in missing]
    names = [n for i, n in enumerate(names) if n not in names[:i]]
    return ", ".join(names[:4]) + (" ..." if len(names) > 4 else "")


def build_vector(rows, names, norm_mean, norm_std, window=None):
    """Model input from feature rows (oldest first) following a model's metadata.

    Returns (floats, missing): floats is the normalized, time-major input when every
    required value is present, else None; missing lists what is unavailable, e.g.
    ["co2_ppm_rate_h", "window: 3 of 12 slots"]. Raises ValueError for metadata that
    does not fit together.
    """
    if window is None:
        window = 1
    if len(norm_mean) != len(names) or len(norm_std) != len(names):
        raise ValueError("features: %d feature names but %d norm_mean and %d norm_std values"
                         % (len(names), len(norm_mean), len(norm_std)))
    for i, std in enumerate(norm_std):
        if not std > 0:
            raise ValueError("features: norm_std[%d] for %s must be > 0, got %r" % (i, names[i], std))
    for name in names:
        if name not in FEATURE_NAMES:
            raise ValueError("features: model needs unknown feature %r" % name)
    rows = rows[-window:] if rows else []
    missing = []
    if len(rows) < window:
        missing.append("window: %d of %d slots" % (len(rows), window))
    if any(r is None for r in rows):
        missing.append("window: %d missing slots" % len([r for r in rows if r is None]))
    floats = []
    for row in rows:
        if row is None:
            continue
        for i, name in enumerate(names):
            value = row[name]
            if value is None:
                if name not in missing:
                    missing.append(name)
            else:
                floats.append((value - norm_mean[i]) / norm_std[i])
    if missing:
        return None, missing
    return floats, missing
