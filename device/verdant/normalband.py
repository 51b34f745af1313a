"""Equipment-fault early warning from the greenhouse's own recent normal: per quantity and
hour of day, the range seen on the previous two days; a reading well outside it, held
for hold_s, raises a warning (heating failure, vents stuck, CO2 dosing off or stuck open
show as air or CO2 far from what this greenhouse does at this hour).

Pure logic: update(t, current, suspects) once per feature period returns alert payloads

    {"type": "cold_anomaly", "severity": "warning", "event": "raise", "source": "band",
     "reason": "air_temp_c 11.2 is 4.3 below 15.5, the lowest at this hour on the last 2 days: heating failure or vents stuck open?",
     "values": {"air_temp_c": 11.2, "band_low": 15.5, "band_high": 24.1}}

Memory: 2 days x 24 hourly (min, max) per watched quantity. A day is used once it has
at least MIN_HOURS hours recorded, so the first day after a (re)start has no band and
no alerts. While an alert is active the day's record is frozen, so a fault lasting into
the next day does not become "normal". Hours are UTC + utc_offset_s.
"""

DAY_S = 86400
HOUR_S = 3600
MIN_HOURS = 20

# quantity: (type below, margin below, type above, margin above, what it suggests below, above)
WATCH = {
    "air_temp_c": ("cold_anomaly", 3.0, "heat_anomaly", 4.0,
                   "heating failure or vents stuck open?", "vents stuck closed or heating stuck on?"),
    "co2_ppm": ("co2_low_anomaly", 150.0, "co2_high_anomaly", 300.0,
                "CO2 dosing off?", "CO2 valve stuck open or no ventilation?"),
}
DEFAULTS = {"hold_s": 900, "clear_s": 1800, "utc_offset_s": 0}


def _fmt(x):
    return ("%.1f" % x) if isinstance(x, float) else str(x)


class _Day:
    def __init__(self, day):
        self.day = day
        self.lo = [None] * 24
        self.hi = [None] * 24

    def add(self, hour, v):
        lo = self.lo[hour]
        self.lo[hour] = v if lo is None or v < lo else lo
        hi = self.hi[hour]
        self.hi[hour] = v if hi is None or v > hi else hi

    def usable(self):
        n = 0
        for x in self.lo:
            if x is not None:
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
        self.days = {}          # quantity -> [older _Day, newer _Day, today _Day]
        self.active = {}        # alert type -> raised at
        self._since = {}        # alert type -> time its condition began (raise) or ended (clear)

    def band(self, q, t):
        """(low, high) seen at this hour (+-1 h) on the previous two usable days, or None."""
        local = int(t) + int(self.settings["utc_offset_s"])
        hour = (local % DAY_S) // HOUR_S
        lo = hi = None
        for d in self.days.get(q, [])[:-1]:
            if not d.usable():
                continue
            for h in (hour - 1, hour, hour + 1):
                a, b = d.lo[h % 24], d.hi[h % 24]
                if a is not None:
                    lo = a if lo is None or a < lo else lo
                    hi = b if hi is None or b > hi else hi
        return None if lo is None else (lo, hi)

    def _record(self, q, t, v):
        local = int(t) + int(self.settings["utc_offset_s"])
        day = local // DAY_S
        days = self.days.setdefault(q, [])
        if not days or days[-1].day != day:
            days.append(_Day(day))
            while len(days) > 3:
                days.pop(0)
        frozen = False
        for typ in (WATCH[q][0], WATCH[q][2]):
            if typ in self.active:
                frozen = True
        if not frozen:
            days[-1].add((local % DAY_S) // HOUR_S, v)

    def update(self, t, current, suspects=()):
        events = []
        for q, (low_type, low_margin, high_type, high_margin, low_hint, high_hint) in WATCH.items():
            v = current.get(q)
            if v is None or q in suspects:
                continue
            band = self.band(q, t)
            if band is not None:
                lo, hi = band
                self._judge(t, low_type, v < lo - low_margin, v > lo - low_margin / 2, events,
                            "%s %s is %s below %s, the lowest at this hour on the last 2 days: %s"
                            % (q, _fmt(v), _fmt(lo - v), _fmt(lo), low_hint), q, v, band)
                self._judge(t, high_type, v > hi + high_margin, v < hi + high_margin / 2, events,
                            "%s %s is %s above %s, the highest at this hour on the last 2 days: %s"
                            % (q, _fmt(v), _fmt(v - hi), _fmt(hi), high_hint), q, v, band)
            self._record(q, t, v)
        return events

    def _judge(self, t, typ, beyond, back, events, reason, q, v, band):
        s = self.settings
        if typ not in self.active:
            if not beyond:
                self._since.pop(typ, None)
                return
            since = self._since.setdefault(typ, t)
            if t - since < s["hold_s"]:
                return
            self.active[typ] = t
            self._since.pop(typ, None)
            event = "raise"
        else:
            if not back:
                self._since.pop(typ, None)
                return
            since = self._since.setdefault(typ, t)
            if t - since < s["clear_s"]:
                return
            del self.active[typ]
            self._since.pop(typ, None)
            event = "clear"
            reason = "%s %s back within its usual range" % (q, _fmt(v))
        events.append({"type": typ, "severity": "warning", "event": event, "source": "band", "reason": reason,
                       "values": {q: v, "band_low": band[0], "band_high": band[1]}})
