"""The app's status: the boot and hourly status line payloads and the flash log flags."""
try:
    import gc
except ImportError:  # pragma: no cover
    gc = None

from verdant import VERSION
from verdant.flashlog import FLAG_SAFE_MODE, FLAG_MODEL_OFF, FLAG_SENSOR_FAILED, FLAG_ALERT_ACTIVE
from verdant.hal import FIRMWARE_EPOCH


def _unix(t):
    """A line's board time field: Unix seconds for the app's firmware seconds."""
    return None if t is None else t + FIRMWARE_EPOCH


def boot(app):
    line = {"state": "boot", "version": VERSION, "board": app.board.get("name", "?"),
            "boot_count": app.boot_count, "safe_mode": app.safe_mode, "why": app.safe_reason,
            "sensors": [s.name for s in app.sampler.sensors], "clock": "set" if app.clock_valid else "unset",
            "log": None if app.log is None else app.log.recovered}
    if app.safe_mode:  # board time of the next try of normal mode (None: stays until fixed)
        line["retry_t"] = _unix(app.retry_at)
    return line


def heartbeat(app, t):
    mem = None
    if gc is not None and hasattr(gc, "mem_free"):
        gc.collect()
        mem = gc.mem_free()
    health = {}
    for name, h in app.sampler.health.items():
        health[name] = h.state
    line = {"state": "running", "uptime_s": t - app.started_at, "mem_free": mem, "health": health,
            "active_alerts": app.alerts.active(), "model": "on" if app.engine is not None else "off",
            "clock": "set" if app.clock_valid else "unset", "errors": app.errors}
    gates = app.alerts.gates_note() if app.engine is not None else None
    if gates is not None:
        line["gates"] = gates  # a model's sun gates: the sun at the board's place, or clock hours
    if app.engine is None and app.model.state is not None:
        line["model_why"] = app.model.state[1]  # e.g. "rules only: deploy found no model for ..."
    if app.safe_mode:
        line["safe_mode"], line["why"], line["retry_t"] = True, app.safe_reason, _unix(app.retry_at)
    return line


def flags(app):
    """FLAG_* bits of the flash log record."""
    bits = FLAG_SAFE_MODE if app.safe_mode else 0
    if app.engine is None:
        bits |= FLAG_MODEL_OFF
    for h in app.sampler.health.values():
        if h.state == "failed":
            bits |= FLAG_SENSOR_FAILED
    if app.alerts.active():
        bits |= FLAG_ALERT_ACTIVE
    return bits
