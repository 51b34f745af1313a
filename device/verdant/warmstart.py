"""Warm start: after a reboot, a power cut or a new model, the feature window is refilled
from the flash log's records of the last two windows, so the model runs at the next
feature step instead of hours later (its inputs are a full window of rows, and the
oldest row's rates of change need a window of samples before it).

Only with a set clock, and only records before now: a clock set back (or never set)
leaves the window empty.

Example (verdant.app.App.adopt):
    warmstart.refill(app)
"""
from verdant.hal import FIRMWARE_EPOCH


def refill(app):
    """Add the log's recent records to app.features; returns how many were added."""
    if app.log is None or not app.clock_valid:
        return 0
    features = app.features
    now = app.now()
    oldest = now - 2 * features.window * features.period_s
    added = 0
    try:
        for record in app.log.recent(2 * features.window):
            t = record["t"] - FIRMWARE_EPOCH  # the log keeps Unix seconds
            if oldest <= t < now:
                features.add(t, record["values"])
                added += 1
    except Exception as exc:  # a damaged log costs the warm start, not the boot
        app.stage_failed("warm_start", exc)
    return added
