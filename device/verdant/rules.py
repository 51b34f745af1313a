"""Threshold rules: defaults, board overrides and validation.

A rule watches one feature series and has a raise threshold and a clear threshold
on the safe side of it (hysteresis), a time the condition must hold before the alert
is raised (raise_after_s) and a time the value must stay past the clear threshold
before it clears (clear_after_s). `when` is "below" (alert when value < raise) or
"above" (alert when value > raise).

A board config overrides any field under "alerts", e.g.
    "alerts": {"frost_risk": {"raise": 1.0}, "co2_low": {"enabled": false},
               "cooldown_s": 900}
"sensor_faults" holds the sensor-fault detectors' settings (verdant.sensorfaults).
Unknown names or fields, wrong types and thresholds on the wrong side raise
ValueError naming the key.
"""

DEFAULT_RULES = {
    # name: series, when, raise, clear, raise_after_s, clear_after_s, severity
    # frost clears only after 45 min: longer than a stuck air sensor takes to be noticed
    "frost_risk": ("air_temp_c", "below", 2.0, 3.5, 600, 2700, "critical"),
    "heat_stress": ("air_temp_c", "above", 35.0, 32.0, 900, 900, "warning"),
    "disease_risk": ("rh_pct", "above", 90.0, 85.0, 10800, 1800, "warning"),
    "vpd_low": ("vpd_kpa", "below", 0.3, 0.45, 3600, 1800, "info"),
    "vpd_high": ("vpd_kpa", "above", 1.8, 1.5, 1800, 1800, "warning"),
    "dry_soil": ("soil_moisture_pct", "below", 20.0, 25.0, 1800, 1800, "warning"),
    "co2_high": ("co2_ppm", "above", 1500.0, 1200.0, 900, 900, "warning"),
    "co2_low": ("co2_ppm", "below", 250.0, 320.0, 1800, 1800, "info"),
    # agronomic advice: yesterday's daily light integral below what a fruiting crop needs
    "dli_low": ("dli_prev_mol_m2", "below", 6.0, 8.0, 0, 0, "info"),
}

# Settings of the alert engine itself (not per rule).
DEFAULT_SETTINGS = {
    "cooldown_s": 1800,          # a repeated raise of one alert waits this long after the last raise
    "remind_s": 21600,           # an active alert is repeated (event "remind") this often; 0 = never
    "sensor_failure_severity": "warning",
    "model_threshold": 0.7,      # class probability that counts as a detection
    "model_clear": 0.5,          # probability below which it counts as gone
    "model_consecutive": 3,      # detections in a row needed to raise (and misses to clear)
    "model_severity": "warning",
    "model_ignore_labels": ["normal", "none", "ok"],
    # info-level rules are advice, not alarms: each type raises at most once per day
    # (its clear and reminders are not sent), and all of them together at most
    # advisories_per_day times per day; their state still shows in status lines
    "advisories_per_day": 1,
}

SEVERITIES = ("info", "warning", "critical")
_FIELDS = ("series", "when", "raise", "clear", "raise_after_s", "clear_after_s", "severity", "enabled")


def _number(key, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("%s: expected a number, got %r" % (key, value))
    return value


def _rule_dict(fields):
    series, when, raise_at, clear_at, raise_after_s, clear_after_s, severity = fields
    return {"series": series, "when": when, "raise": raise_at, "clear": clear_at,
            "raise_after_s": raise_after_s, "clear_after_s": clear_after_s,
            "severity": severity, "enabled": True}


def _check_rule(name, rule):
    key = "alerts." + name
    if rule["when"] not in ("below", "above"):
        raise ValueError("%s.when: expected 'below' or 'above', got %r" % (key, rule["when"]))
    if rule["severity"] not in SEVERITIES:
        raise ValueError("%s.severity: expected one of %s, got %r" % (key, ", ".join(SEVERITIES), rule["severity"]))
    for field in ("raise", "clear", "raise_after_s", "clear_after_s"):
        _number(key + "." + field, rule[field])
    for field in ("raise_after_s", "clear_after_s"):
        if rule[field] < 0:
            raise ValueError("%s.%s: must be >= 0, got %r" % (key, field, rule[field]))
    if rule["when"] == "below" and not rule["clear"] > rule["raise"]:
        raise ValueError("%s.clear: must be above raise (%r) for a 'below' rule, got %r"
                         % (key, rule["raise"], rule["clear"]))
    if rule["when"] == "above" and not rule["clear"] < rule["raise"]:
        raise ValueError("%s.clear: must be below raise (%r) for an 'above' rule, got %r"
                         % (key, rule["raise"], rule["clear"]))
    if not isinstance(rule["series"], str):
        raise ValueError("%s.series: expected a feature name, got %r" % (key, rule["series"]))
    if not isinstance(rule["enabled"], bool):
        raise ValueError("%s.enabled: expected true or false, got %r" % (key, rule["enabled"]))


def load_rules(overrides=None):
    """(rules, settings) from the defaults with a board's "alerts" overrides applied."""
    rules = {}
    for name, fields in DEFAULT_RULES.items():
        rules[name] = _rule_dict(fields)
    settings = dict(DEFAULT_SETTINGS)
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        raise ValueError("alerts: expected an object, got %r" % (overrides,))
    for name, value in overrides.items():
        if name in ("sensor_faults", "normal_band"):
            continue  # validated by verdant.sensorfaults / verdant.normalband
        if name in settings:
            if name == "model_ignore_labels":
                if not isinstance(value, list):
                    raise ValueError("alerts.%s: expected a list of labels, got %r" % (name, value))
            elif name.endswith("severity"):
                if value not in SEVERITIES:
                    raise ValueError("alerts.%s: expected one of %s, got %r" % (name, ", ".join(SEVERITIES), value))
            else:
                _number("alerts." + name, value)
            settings[name] = value
            continue
        if not isinstance(value, dict):
            raise ValueError("alerts.%s: expected an object of rule fields, got %r" % (name, value))
        if name not in rules:
            missing = [f for f in _FIELDS if f not in value and f != "enabled"]
            if missing:
                raise ValueError("alerts.%s: unknown rule; a new rule needs %s" % (name, ", ".join(missing)))
            rules[name] = {"enabled": True}
        for field, field_value in value.items():
            if field not in _FIELDS:
                raise ValueError("alerts.%s.%s: unknown field (expected one of %s)"
                                 % (name, field, ", ".join(_FIELDS)))
            rules[name][field] = field_value
    for name, rule in rules.items():
        _check_rule(name, rule)
    for key in ("model_threshold", "model_clear"):
        if not 0.0 < settings[key] <= 1.0:
            raise ValueError("alerts.%s: expected a probability in (0, 1], got %r" % (key, settings[key]))
    if settings["model_clear"] > settings["model_threshold"]:
        raise ValueError("alerts.model_clear: must not exceed model_threshold (%r), got %r"
                         % (settings["model_threshold"], settings["model_clear"]))
    if int(settings["model_consecutive"]) < 1:
        raise ValueError("alerts.model_consecutive: must be >= 1, got %r" % settings["model_consecutive"])
    return rules, settings


def judge(rule, value):
    """(beyond_raise, past_clear) for one value, or (None, None) when value is None."""
    if value is None:
        return None, None
    if rule["when"] == "below":
        return value < rule["raise"], value > rule["clear"]
    return value > rule["raise"], value < rule["clear"]
