"""App settings: defaults, config.json, and what a bad value becomes (never a crash).

merge() takes the settings given (config.json's object, or a dict from a test or the
host) and the board config, and returns the settings to run with plus a list of
problems, one text per bad key; a bad key is ignored (its default runs) and the app
sends one error line per problem. So a typo in config.json costs that one setting,
not the board.

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
    "model_check_s": 60,        # how often model.bin is checked for a new version
    "sleep_chunk_ms": 6000,     # longest sleep between watchdog feeds (each wake-up costs awake time)
    "log_records": 2000,
    "sleep": "none",            # none | light | deep (deep is treated as light, see docs)
}
# (lowest, highest) for the integer settings
_RANGES = {
    "feature_period_s": (1, 86400), "feature_window": (1, 288), "utc_offset_s": (-50400, 50400),
    "reads_per_sample": (1, 15), "healthy_s": (1, 86400), "heartbeat_s": (10, 86400),
    "safe_retry_s": (60, 604800), "safe_retry_max_s": (60, 604800),
    "model_check_s": (1, 86400), "sleep_chunk_ms": (10, 3600000), "log_records": (1, 1000000),
}
SLEEP_MODES = ("none", "light", "deep")


def _check(key, value):
    """None when value is fine for key, else what is wrong."""
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
            problems.append("%s: %s: %s; default %r used" % (source, key, why, DEFAULTS[key]))
            continue
        settings[key] = value
    if board.get("sleep_mode"):
        settings["sleep"] = board["sleep_mode"]
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
