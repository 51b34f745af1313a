"""Safe mode's way back: safe mode entered for a transient cause (a MemoryError) tries
normal mode again after a back-off (verdant.safemode.retry_delay_s), by a board reset.

Functions of the running App (its settings, boot counter, clock and outputs): the app
calls retry_time() at start and on_step() on every loop step (the healthy mark that
clears the boot counter, then the retry when its time has come).
"""
from verdant.settings import DEFAULTS, _check as check_setting

_KEYS = ("safe_retry_s", "safe_retry_max_s")


def _kept_setting(state, key, default):
    """A retry setting normal mode kept in boot.json (safe mode does not read config.json)."""
    value = state.get(key)
    return value if value is not None and check_setting("safe_" + key, value) is None else default


def retry_time(app):
    """Board time at which safe mode for a transient cause tries normal mode again (None: never)."""
    if not app.safe_mode or app.boot_counter is None:
        return None
    try:
        if not app.boot_counter.transient():
            return None
        state = app.boot_counter.read()
    except Exception as exc:  # an unreadable counter: stay in safe mode, say why
        app.problems.append("safe mode retry off: %s: %s" % (type(exc).__name__, exc))
        return None
    from verdant.safemode import retry_delay_s  # safe mode only
    base, cap = app.settings["safe_retry_s"], app.settings["safe_retry_max_s"]
    base, cap = _kept_setting(state, "retry_s", base), _kept_setting(state, "retry_max_s", cap)
    return app.started_at + retry_delay_s(app.boot_counter.retries(state), base, cap)


def on_step(app, t):
    """The healthy mark once the board has run healthy_s, then the retry when due."""
    if not app.healthy_reported and t - app.started_at >= app.settings["healthy_s"]:
        _healthy(app)  # (its named handler there: a frame with one is a heap block per call on 32-bit ports)
    if app.retry_at is not None and t >= app.retry_at:
        retry_normal_mode(app, t)


def _healthy(app):
    app.healthy_reported = True
    if app.boot_counter is not None:
        try:
            app.boot_counter.healthy(app.safe_mode, *kept_settings(app.settings))
        except OSError as exc:
            app.report_error("boot", exc)


def kept_settings(settings):
    """(safe_retry_s, safe_retry_max_s) for boot.json, None for a default (the usual case)."""
    return [None if settings[k] == DEFAULTS[k] else settings[k] for k in _KEYS]


def retry_normal_mode(app, t):
    """Safe mode ran healthy until its retry time: note the retry and reset the board."""
    try:
        app.boot_counter.schedule_retry()
    except Exception as exc:  # no note, no retry: a reset now would come back in normal mode unrecorded
        app.retry_at = None
        app.report_error("boot", exc)
        return
    app.send("status", {"state": "reset", "safe_mode": True, "why": "retrying normal mode after "
                        "%d s in safe mode" % (t - app.started_at)}, t)
    reset = getattr(app.hal, "reset", None)
    if reset is None:
        try:
            import machine
            reset = machine.reset
        except (ImportError, AttributeError):  # the plain Unix port: exit 1 asks for a restart
            import sys
            reset = lambda: sys.exit(1)  # noqa: E731
    reset()
