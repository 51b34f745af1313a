"""Alert engine: rule alerts, sensor-failure alerts and model alerts.

Pure logic: every update takes the time (seconds) and the inputs and returns the
alert events to send, as payload dicts for protocol "alert" lines:

    {"type": "frost_risk", "severity": "critical", "event": "raise",
     "source": "rule", "reason": "air_temp_c 1.6 below 2.0 for 600 s",
     "values": {"air_temp_c": 1.6}, "threshold": 2.0}

event is "raise", "clear" or "remind" (an active alert repeated every remind_s so a
monitor that connects late learns about it). Info-level rules are advice, not alarms:
only their raise is sent, at most once per type per 24 h and at most
advisories_per_day of them per 24 h in all (the state is still tracked and listed by
active()). Sensor-fault detectors (verdant.sensorfaults) run in update_faults; a rule
whose series comes from a suspect (stuck or drifting) quantity sees no data, so a stuck
air sensor can neither raise nor clear a frost alert. Flapping is prevented three ways:
hysteresis (clear threshold on the safe side of the raise threshold), minimum
durations (raise_after_s / clear_after_s, or N consecutive model predictions) and a
cooldown: a raise comes at least cooldown_s after the previous raise of the same alert.

Example:
    engine = AlertEngine()                     # defaults from verdant.rules
    events = engine.update_rules(t, feature_row)
"""
from array import array

from verdant.protocol import number_text
from verdant.rules import load_rules, judge

DAY_S = 86400
# the measured quantities each derived rule series is computed from
_DERIVED_FROM = {"vpd_kpa": ("air_temp_c", "rh_pct"), "dew_point_margin_c": ("air_temp_c", "rh_pct"),
                 "abs_humidity_g_m3": ("air_temp_c", "rh_pct"), "dew_point_c": ("air_temp_c", "rh_pct"),
                 "dli_mol_m2": ("par_umol_m2_s", "light_lux"), "dli_prev_mol_m2": ("par_umol_m2_s", "light_lux")}


def _series_quantities(series):
    for suffix in ("_mean", "_min", "_max", "_rate_h"):
        if series.endswith(suffix):
            series = series[:-len(suffix)]
            break
    return _DERIVED_FROM.get(series, (series,))


class AlertState:
    """Raise/clear state machine for one alert, driven by (time, condition) updates."""

    def __init__(self, raise_after_s=0, clear_after_s=0, cooldown_s=0, remind_s=0):
        self.raise_after_s = raise_after_s
        self.clear_after_s = clear_after_s
        self.cooldown_s = cooldown_s
        self.remind_s = remind_s
        self.active = False
        self.raised_at = None
        self._raise_since = None
        self._clear_since = None
        self._reminded_at = None

    def update(self, t, beyond_raise, past_clear):
        """Returns "raise", "clear", "remind" or None.

        beyond_raise / past_clear None means no data: pending timers restart, the
        alert keeps its state (no data is not evidence either way).
        """
        if beyond_raise is None:
            self._raise_since = self._clear_since = None
            return self._remind(t)
        if not self.active:
            if not beyond_raise:
                self._raise_since = None
                return None
            if self._raise_since is None:
                self._raise_since = t
            if t - self._raise_since < self.raise_after_s:
                return None
            if self.raised_at is not None and t - self.raised_at < self.cooldown_s:
                return None  # rate limit: raise later if the condition still holds
            self.active = True
            self.raised_at = self._reminded_at = t
            self._clear_since = None
            return "raise"
        if past_clear:
            if self._clear_since is None:
                self._clear_since = t
            if t - self._clear_since >= self.clear_after_s:
                self.active = False
                self._raise_since = None
                return "clear"
        else:
            self._clear_since = None
        return self._remind(t)

    def _remind(self, t):
        if self.active and self.remind_s and t - self._reminded_at >= self.remind_s:
            self._reminded_at = t
            return "remind"
        return None


class CountState:
    """Raise after n consecutive detections, clear after n consecutive misses; a raise
    comes at least cooldown_s after the previous raise."""

    def __init__(self, consecutive, remind_s=0, cooldown_s=0):
        self.consecutive = consecutive
        self.remind_s = remind_s
        self.cooldown_s = cooldown_s
        self.active = False
        self.hits = 0
        self.misses = 0
        self.raised_at = None
        self._reminded_at = None

    def update(self, t, detected, gone):
        if not self.active:
            self.hits = self.hits + 1 if detected else 0
            if self.hits >= self.consecutive:
                if self.raised_at is not None and t - self.raised_at < self.cooldown_s:
                    return None  # rate limit: raise later if detections go on
                self.active = True
                self.misses = 0
                self.raised_at = self._reminded_at = t
                return "raise"
            return None
        self.misses = self.misses + 1 if gone else 0
        if self.misses >= self.consecutive:
            self.active = False
            self.hits = 0
            return "clear"
        if self.remind_s and t - self._reminded_at >= self.remind_s:
            self._reminded_at = t
            return "remind"
        return None


def _fmt(x):
    return number_text(x) if isinstance(x, (int, float)) else str(x)


def gates_note(sun_gates, site):
    """What a model's sun gates follow on this board, for the status line and the replay
    (None without sun gates): the sun at the board's place, or the model's clock hours."""
    if not sun_gates:
        return None
    if site is None:
        return "clock hours of the training site (set latitude_deg/longitude_deg for sun-based gates)"
    return "sun at %.2f, %.2f" % (site[0], site[1])


class AlertEngine:
    """All alerts of one board. overrides: the board config's "alerts" object. site:
    (latitude_deg, longitude_deg) of the board's place, or None (verdant.settings)."""

    def __init__(self, overrides=None, sensor_of=None, detectors=True, site=None):
        self.rules, self.settings = load_rules(overrides)
        self.site = site
        self.faults = self.band = None
        if detectors:  # left out in safe mode: the rules alone, imported and run in the least memory
            from verdant.sensorfaults import SensorFaults
            from verdant.normalband import NormalBand
            self.faults = SensorFaults((overrides or {}).get("sensor_faults"), sensor_of)
            self.band = NormalBand((overrides or {}).get("normal_band"))
        self._advice_sent = {}       # info rule -> time of its last sent raise
        self._advice_times = []      # times of sent advisories in the last 24 h
        self._advice_pending = {}    # info rules raised but not yet told (over the daily cap)
        self._overrides = overrides or {}
        s = self.settings
        self._rule_states = {}
        for name, rule in self.rules.items():
            if rule["enabled"]:
                self._rule_states[name] = AlertState(rule["raise_after_s"], rule["clear_after_s"],
                                                     s["cooldown_s"], s["remind_s"])
        self._sensor_states = {}
        self._model_states = {}
        self._gates = {}             # model label -> (quantity, "below"/"above", 24 hourly limits)
        self._meta = None            # the metadata the gates' limits are kept in (shifted in place by _follow_co2)
        self._sun_gates = {}         # model label -> True: only while the sun is up, False: only while down
        # the sun's day at the board's place (verdant.sun.daylight, worked out once a day): sunrise,
        # sunset, the day's start and end, firmware seconds (small ints: no allocation per step)
        self._sunrise = self._sunset = self._sun_from = self._sun_until = 0

    def adopt_model(self, meta):
        """Take a model's own detection threshold and debounce (metadata alert_threshold,
        alert_consecutive) unless the board's "alerts" overrides set them; model_clear
        drops to 0.7 x the threshold when it would exceed it."""
        s = self.settings
        for meta_key, setting in (("alert_threshold", "model_threshold"), ("alert_consecutive", "model_consecutive")):
            if meta_key in meta and setting not in self._overrides:
                s[setting] = meta[meta_key]
        if s["model_clear"] > s["model_threshold"]:
            s["model_clear"] = s["model_threshold"] * 0.7
        if self.faults is not None and meta.get("sensor_habits"):
            self.faults.adopt_site(meta["sensor_habits"])  # a site model's history of its sensors
        band = self.band
        if band is not None:
            band.adopt_site(meta.get("co2_hold"))  # the CO2 set point its dosing holds, or none
            band.adopt_night_hold(meta.get("night_hold"))  # the air its heating holds in the dark, or none
        self._gates = {}
        self._sun_gates = {}
        for label, side in (meta.get("sun_gates") or {}).items():
            self._sun_gates[label] = side == "up"
        levels = meta.get("levels") or {}
        for label, (q, side) in (meta.get("label_gates") or {}).items():
            pair, key = levels[q], "low" if side == "below" else "high"
            if not isinstance(pair[key], array):
                # in place: the parsed list of floats goes (each float is a heap object on a board)
                pair[key] = array("f", pair[key])
            self._gates[label] = (q, side, pair[key])
        fresh, self._meta = meta is not self._meta, meta
        if fresh and band is not None and band.co2_hold is not None and band.co2_hold[0] != band.co2_site[0]:
            # a set point the band keeps from an earlier copy of this site model (adopt_site): these
            # gates are the file's, not yet shifted (the same metadata again, a clock set back, has them shifted)
            self._follow_co2(band.co2_site[0], band.co2_hold[0])

    def _outside(self, t, label, row):
        """A site model's label counts only while its quantity is outside what the site's history
        held at this hour (+-1 h): a change faster than forecast that brings the air back into its
        usual range (vents or screens taking a warm morning's surplus away) is no fault."""
        if self.site is not None and label in self._sun_gates:
            # the sun at the board's place replaces the hourly gate (the training site's clock hours)
            return self._sun_up(t) == self._sun_gates[label]
        gate = self._gates.get(label)
        if gate is None:
            return True
        q, side, limits = gate
        v = row.get(q) if row else None
        if v is None:
            return False
        limit = limits[(t // 3600) % 24]
        return v < limit if side == "below" else v > limit

    def _sun_up(self, t):
        """Is the sun up at the board's place at firmware time t: sunrise and sunset worked out
        once a day (verdant.sun.daylight, ~1 KB of float garbage on a 32-bit board), then two
        integer comparisons per prediction."""
        if not self._sun_from <= t < self._sun_until:
            from verdant.hal import FIRMWARE_EPOCH
            from verdant.sun import daylight
            self._sunrise, self._sunset, self._sun_from, self._sun_until = daylight(
                t, self.site[0], self.site[1], FIRMWARE_EPOCH)
        return self._sunrise <= t < self._sunset

    def gates_note(self):
        """gates_note for the adopted model on this board."""
        return gates_note(self._sun_gates, self.site)

    def active(self):
        """Sorted list of the active alert types."""
        names = [n for n, st in self._rule_states.items() if st.active]
        names += ["sensor_failure:" + n for n, st in self._sensor_states.items() if st.active]
        names += [n for n, st in self._model_states.items() if st.active]
        if self.faults is not None:
            names += self.faults.active()
            names += list(self.band.active)
        return sorted(names)

    def unusual(self):
        """True while a model, normal-band or sensor-fault alert is active: the greenhouse (or
        a sensor) is not doing what it usually does, so it is no reference for tomorrow
        (the features' DayMemory does not record it)."""
        for st in self._model_states.values():
            if st.active:
                return True
        if self.faults is not None:
            if self.band.active:
                return True
            if self.faults.any_active():
                return True
        return False

    def update_faults(self, t, current, health=None):
        """Sensor-fault detectors on the sampler's latest values (verdant.sensorfaults), then
        the equipment check against this greenhouse's recent normal (verdant.normalband)."""
        if self.faults is None:
            return []
        events = self.faults.update(t, current, health)
        band = self.band.update(t, current, self.faults.suspects())
        for event in band:
            if event["event"] == "note" and event["type"] == "co2_set_point":
                self._follow_co2(event["values"]["was_ppm"], event["values"]["co2_ppm"])
        return events + band

    def _follow_co2(self, was, now):
        """The board took a new CO2 set point (verdant.normalband): the site model's CO2 gates
        follow it where that closes them (lows down for a lower set point, highs up for a higher
        one), in the hours the history's CO2 was dosed (limit above DOSED_PPM, not the nights at
        the outdoor level); else every hour at a lower set point would open the drop gate."""
        from verdant.normalband import DOSED_PPM
        done = []
        for q, side, limits in self._gates.values():
            if q != "co2_ppm" or (side == "below") != (now < was) or any(limits is seen for seen in done):
                continue
            done.append(limits)   # two labels may share one array
            for h in range(24):
                if limits[h] > DOSED_PPM:
                    limits[h] += now - was

    def _advice(self, t, name, state, event):
        """An info rule's event to send: its raise, possibly later (daily caps), nothing else."""
        if event == "raise":
            self._advice_pending[name] = True
        if not state.active:
            self._advice_pending.pop(name, None)
            return None
        if name not in self._advice_pending or not self._advice_allowed(t, name):
            return None
        del self._advice_pending[name]
        return "raise"

    def _advice_allowed(self, t, name):
        """True when an info-level raise of rule `name` may be sent now (and records it)."""
        while self._advice_times and t - self._advice_times[0] >= DAY_S:
            self._advice_times.pop(0)
        last = self._advice_sent.get(name)
        if last is not None and t - last < DAY_S:
            return False
        if len(self._advice_times) >= self.settings["advisories_per_day"]:
            return False
        self._advice_sent[name] = t
        self._advice_times.append(t)
        return True

    def update_rules(self, t, row):
        """Evaluate every enabled rule on a feature row (verdant.features)."""
        events = []
        suspects = self.faults.suspects() if self.faults is not None else ()
        for name, state in self._rule_states.items():
            rule = self.rules[name]
            value = row.get(rule["series"])
            if suspects:
                for q in _series_quantities(rule["series"]):
                    if q in suspects:
                        value = None  # a stuck or drifting sensor is no evidence either way
            beyond, past = judge(rule, value)
            event = state.update(t, beyond, past)
            if rule["severity"] == "info":
                event = self._advice(t, name, state, event)
            if event is None:
                continue
            back = "above" if rule["when"] == "below" else "below"
            if event == "clear":
                reason = "%s %s back %s %s" % (rule["series"], _fmt(value), back, _fmt(rule["clear"]))
                threshold = rule["clear"]
            elif event == "remind":
                reason = "still active: %s %s, clears %s %s" % (
                    rule["series"], _fmt(value) if value is not None else "n/a", back, _fmt(rule["clear"]))
                threshold = rule["clear"]
            else:
                reason = "%s %s %s %s for %d s" % (rule["series"], _fmt(value) if value is not None else "n/a",
                                                   rule["when"], _fmt(rule["raise"]), t - state._raise_since
                                                   if state._raise_since is not None else 0)
                threshold = rule["raise"]
            events.append({"type": name, "severity": rule["severity"], "event": event,
                           "source": "rule", "reason": reason,
                           "values": {rule["series"]: value}, "threshold": threshold})
        return events

    def update_sensors(self, t, health):
        """health: {sensor name: {"state": "ok"|"degraded"|"failed", "error": str, ...}}."""
        events = []
        for name, info in health.items():
            state = self._sensor_states.get(name)
            if state is None:
                state = self._sensor_states[name] = AlertState(0, 0, self.settings["cooldown_s"],
                                                                self.settings["remind_s"])
            failed = info.get("state") == "failed"
            event = state.update(t, failed, not failed)
            if event is None:
                continue
            reason = ("sensor %s failed: %s" % (name, info.get("error") or "no readings")) if failed \
                else "sensor %s recovered" % name
            events.append({"type": "sensor_failure", "severity": self.settings["sensor_failure_severity"],
                           "event": event, "source": "sensor", "reason": reason,
                           "values": {"sensor": name, "health": info.get("state"),
                                      "failures": info.get("failures", 0)}})
        return events

    def update_model(self, t, labels, probabilities, row=None):
        """Model alerts from one prediction (class probabilities in label order)."""
        if len(labels) != len(probabilities):
            raise ValueError("model gave %d probabilities for %d labels" % (len(probabilities), len(labels)))
        s = self.settings
        events = []
        for label, p in zip(labels, probabilities):
            if label in s["model_ignore_labels"]:
                continue
            state = self._model_states.get(label)
            if state is None:
                state = self._model_states[label] = CountState(int(s["model_consecutive"]), s["remind_s"],
                                                               s["cooldown_s"])
            detected = p >= s["model_threshold"] and self._outside(t, label, row)
            event = state.update(t, detected, p < s["model_clear"])
            if event is None:
                continue
            if event == "clear":
                reason = "model %s p=%.2f below %.2f for %d predictions" % (label, p, s["model_clear"], state.consecutive)
            elif event == "remind":
                reason = "model %s still active, p=%.2f" % (label, p)
            else:
                reason = "model %s p=%.2f >= %.2f for %d predictions" % (label, p, s["model_threshold"], state.consecutive)
            values = {}
            if row:
                for key in ("air_temp_c", "rh_pct", "co2_ppm", "soil_moisture_pct", "vpd_kpa"):
                    if row.get(key) is not None:
                        values[key] = row[key]
            events.append({"type": label, "severity": s["model_severity"], "event": event,
                           "source": "model", "reason": reason, "confidence": p, "values": values})
        return events
