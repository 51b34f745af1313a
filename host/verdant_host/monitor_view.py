"""The monitor's live view: one readable line per event, alerts standing out.

Everything that came from the board is cleaned before it reaches the terminal: escape
sequences and other control characters are stripped (a line from a board must never
move the cursor, change colours or set the window title), and odd field types are shown
as text instead of crashing the view.
"""
import json
import re
import time

_COLOURS = {"critical": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m", "dim": "\033[2m",
            "ok": "\033[32m"}
_RESET = "\033[0m"
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[PX^_][^\x1b]*(\x1b\\)?|.?)"
                      r"|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def clean(text):
    """text without escape sequences and control characters (tabs become spaces)."""
    if not isinstance(text, str):
        text = str(text)
    return _CONTROLS.sub("", _ESCAPES.sub("", text)).replace("\t", " ")


def clock(t):
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))
    except (OverflowError, ValueError, OSError, TypeError):
        return "t=%s" % clean(repr(t))[:24]


def _short(value):
    return "%.1f" % value if isinstance(value, float) else str(value)


def _json(value):
    return json.dumps(value, sort_keys=True, default=str)


def format_event(event, colour=False):
    """One cleaned line for people, or None for events not worth a line."""
    try:
        style, text = _describe(event)
    except (TypeError, ValueError, AttributeError, KeyError):  # odd field types: show the raw payload
        m = event.message or {}
        style, text = "warning", "%s  %-8s %s" % (clock(m.get("t")), m.get("k"), _json(m.get("p")))
    if text is None:
        return None
    text = clean(text)
    prefix = "[%s] " % clean(event.board) if getattr(event, "show_board", False) and event.board else ""
    return prefix + (_COLOURS[style] + text + _RESET if colour and style else text)


def _describe(event):
    if event.kind == "text":
        return "dim", "  | " + event.text.decode(errors="replace")
    if event.kind == "garbage":
        return "dim", "  ? skipped damaged line (%s)" % event.detail
    if event.kind == "gap":
        return "warning", "  ! %d line(s) lost" % event.detail
    if event.kind == "reboot":
        return "warning", "  ! board restarted (%s)" % event.detail
    if event.kind == "link":
        return "warning", "  ! %s" % event.detail
    m = event.message
    p = m["p"] if isinstance(m["p"], dict) else {"value": m["p"]}
    when = clock(m["t"])
    if m["k"] == "reading":
        return None, "%s  reading  %s" % (when, "  ".join("%s=%s" % (k, _short(v)) for k, v in sorted(p.items())))
    if m["k"] == "alert":
        severity = p.get("severity", "info")
        severity_key = severity if isinstance(severity, str) and severity in _COLOURS else "warning"
        event_name = p.get("event")
        marker = {"raise": "ALERT", "clear": "clear", "remind": "still"}.get(event_name, event_name) \
            if isinstance(event_name, str) else _json(event_name)
        text = "%s  %-5s %s [%s] %s" % (when, marker, p.get("type"), severity, p.get("reason", ""))
        return ("ok" if event_name == "clear" else severity_key), text
    if m["k"] == "error":
        return "warning", "%s  error    %s" % (when, _json(p))
    if m["k"] == "status":
        return None, "%s  status   %s" % (when, status_text(p))
    return None, "%s  %-8s %s" % (when, m["k"], _json(p))


_STATUS_KEYS = ("state", "model", "why", "board", "version", "boot_count", "safe_mode", "mem_free", "uptime_s")


def status_text(p):
    """The parts of a status payload people look at; anything unusual is kept."""
    parts = []
    for key in _STATUS_KEYS:
        if key in p and p[key] not in (None, False):
            parts.append("%s=%s" % (key, p[key]))
    active = p.get("active_alerts")
    if active:
        parts.append("active=%s" % ",".join(str(a) for a in active) if isinstance(active, list) else _json(active))
    health = p.get("health")
    if isinstance(health, dict):
        bad = ["%s:%s" % (k, v) for k, v in sorted(health.items()) if v != "ok"]
        parts.append("sensors " + (" ".join(bad) if bad else "ok"))
    rest = {k: v for k, v in p.items() if k not in _STATUS_KEYS + ("active_alerts", "health", "errors", "sensors",
                                                                    "log")}
    if rest:
        parts.append(_json(rest))
    return "  ".join(parts) or "{}"
