"""App settings: defaults, config.json, and what a bad value becomes (never a crash).

merge() takes the settings given (config.json's object, or a dict from a test or the
host) and the board config, and returns the settings to run with plus a list of
problems, one text per bad key; a bad key is ignored (its default runs) and the app
sends one error line per problem. So a typo in config.json costs that one setting,
not the board.

The site's place (latitude_deg, longitude_deg: degrees, north and east positive) comes
from config.json or else from the board config; with it, a model's sun gates follow the
sun there (verdant.sun, verdant.alerts); without it (None) they fall back to the model's
clock hours and the status line says so. The two go together: one without the other, or
one out of range, is a problem naming the key and the board runs without a place.

Example:
    settings, alerts, problems = merge({"heartbeat_s": 600, "log_sise": 10}, board)
    problems   # ["config: unknown key 'log_sise' ignored (known: ...)"]
"""

DEFAULTS = {
    "feature_period_s": 300,    # features, model and reading lines every 5 min (model metadata wins)
    "feature_window": 12,       # slots in the window without a model (a model's own window wins)
    "utc_offset_s": 0,
    "reads_per_sample": 3,
    "healthy_s": 600,           # uptime after which the boot counter is reset
    "safe_retry_s": 21600,      # uptime in safe mode (after a MemoryError) before normal mode is tried again
    "safe_retry_max_s": 172800, # the back-off doubles per failed retry up to this
    "heartbeat_s": 3600,        # status line with health and memory
    "model_check_s": 60,        # model.bin checked for a new version at the feature steps, at most this often
    "sleep_chunk_ms": 6000,     # longest sleep between watchdog feeds (each wake-up costs awake time)
    "log_records": 2000,
    "sleep": "none",            # none | light | deep (deep is treated as light, see docs)
    "latitude_deg": None,       # the site's place for sun gates (None: the model's clock hours)
    "longitude_deg": None,
}
LOCATION_RANGES = {"latitude_deg": (-90.0, 90.0), "longitude_deg": (-180.0, 180.0)}
# (lowest, highest) for the integer settings
_RANGES = {
    "feature_period_s": (1, 86400), "feature_window": (1, 288), "utc_offset_s": (-50400, 50400),
    "reads_per_sample": (1, 15), "healthy_s": (1, 86400), "heartbeat_s": (10, 86400),
    "safe_retry_s": (60, 604800), "safe_retry_max_s": (60, 604800),
    "model_check_s": (1, 86400), "sleep_chunk_ms": (10, 3600000), "log_records": (1, 1000000),
}
SLEEP_MODES = ("none", "light", "deep")


def location_problem(key, value):
    """None when value is a latitude_deg / longitude_deg in range, else what is wrong."""
    low, high = LOCATION_RANGES[key]
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        return "expected degrees %g..%g (%s positive), got %r" % (low, high, "north" if key == "latitude_deg" else "east",
                                                                  value)
    return None


def _check(key, value):
    """None when value is fine for key, else what is wrong."""
    if key in LOCATION_RANGES:
        return location_problem(key, value)
    if key == "sleep":
        return None if value in SLEEP_MODES else "expected one of %s, got %r" % (", ".join(SLEEP_MODES), value)
    low, high = _RANGES[key]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        return "expected an int %d..%d, got %r" % (low, high, value)
    return None


def merge(given, board, source="config"):
    """(settings, alert overrides or None, problems) from the given settings and the board."""
    settings = dict(DEFAULTS)
    problems = []
    place_refused = False
    alerts = board.get("alerts")
    if given is not None and not isinstance(given, dict):
        problems.append("%s: expected an object, got %s; running on defaults" % (source, type(given).__name__))
        given = None
    for key, value in (given or {}).items():
        if key == "alerts":
            alerts = value
            continue
        if key not in DEFAULTS:
            problems.append("%s: unknown key %r ignored (known: %s)" % (source, key, ", ".join(sorted(DEFAULTS))))
            continue
        why = _check(key, value)
        if why is not None:
            if key in LOCATION_RANGES:
                problems.append("%s: %s: %s; no place: sun gates on the model's clock hours" % (source, key, why))
                place_refused = True
            else:
                problems.append("%s: %s: %s; default %r used" % (source, key, why, DEFAULTS[key]))
            continue
        settings[key] = value
    if board.get("sleep_mode"):
        settings["sleep"] = board["sleep_mode"]
    if settings["latitude_deg"] is None and settings["longitude_deg"] is None:
        for key in LOCATION_RANGES:  # the board config's place (load_board checked it)
            settings[key] = board.get(key)
    if (settings["latitude_deg"] is None) != (settings["longitude_deg"] is None):
        if not place_refused:  # (a refused key was said above)
            problems.append("%s: latitude_deg and longitude_deg go together, got only %s; no place: sun gates "
                            "on the model's clock hours" % (source, "latitude_deg" if settings["longitude_deg"] is None
                                                            else "longitude_deg"))
        settings["latitude_deg"] = settings["longitude_deg"] = None
    watchdog_ms = board.get("watchdog_timeout_ms")
    if watchdog_ms:  # a quarter of the timeout (2 s on a Pico's 8 s) left for waking up and feeding
        settings["sleep_chunk_ms"] = min(settings["sleep_chunk_ms"], watchdog_ms * 3 // 4)
    return settings, alerts, problems


def read_json(path, opener=open):
    """(object, None), (None, None) when the file is absent, or (None, problem) when the
    file cannot be read or is not valid JSON."""
    import json
    try:
        f = opener(path, "r")
    except OSError:
        return None, None
    try:
        return json.loads(f.read()), None
    except ValueError as exc:
        return None, "%s: not valid JSON (%s); running on defaults" % (path, exc)
    except OSError as exc:
        return None, "%s: cannot read (%s); running on defaults" % (path, exc)
    finally:
        f.close()
