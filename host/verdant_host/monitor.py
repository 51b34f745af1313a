"""Read a board's serial line: decode protocol lines, skip junk, notice lost lines and
reboots, show a readable live view, store everything in SQLite.

The byte stream is split into lines by LineDecoder (pure: bytes in, events out), so it
is tested with fed bytes; Monitor adds the store and the view; run_monitor() opens a
pyserial port.

Example:
    decoder = LineDecoder()
    for event in decoder.feed(b'garbage\\n{"v":1,"seq":0,...}\\n'):
        print(event.kind, event.message)
    print(decoder.stats)     # {"lines": 1, "garbage": 1, "text": 0, "lost": 0, "reboots": 0, "partial": 0}
"""
import json
import os
import sqlite3
import sys
import time

from verdant_host import DEVICE_DIR  # noqa: F401  (puts the shared device code on sys.path)
from verdant_host.errors import VerdantError
from verdant.protocol import decode

SEVERITIES = ("info", "warning", "critical")
MAX_LINE_BYTES = 4096  # longer without a newline: junk, dropped and counted as partial


class Event:
    """One thing the monitor noticed: kind is "message", "text", "garbage", "gap" or "reboot"."""

    def __init__(self, kind, message=None, text=None, detail=None):
        self.kind = kind
        self.message = message  # decoded protocol dict for "message"
        self.text = text        # the raw line for "text"/"garbage"
        self.detail = detail    # why garbage / how many lines lost

    def __repr__(self):
        return "Event(%s, %r)" % (self.kind, self.message or self.text or self.detail)


class LineDecoder:
    """Bytes from the serial line -> Events. Never raises on bad input."""

    def __init__(self):
        self._buf = bytearray()
        self._last_seq = None
        self.stats = {"lines": 0, "garbage": 0, "text": 0, "lost": 0, "reboots": 0, "partial": 0}

    def feed(self, data):
        events = []
        self._buf.extend(data)
        while True:
            end = self._buf.find(b"\n")
            if end < 0:
                if len(self._buf) > MAX_LINE_BYTES:
                    self.stats["partial"] += 1
                    events.append(Event("garbage", text=bytes(self._buf[:80]), detail="line too long, dropped"))
                    self._buf.clear()
                return events
            line = bytes(self._buf[:end])
            del self._buf[:end + 1]
            events.extend(self._line(line))

    def flush(self):
        """End of stream: a last line without its newline is a partial line."""
        events = []
        if self._buf.strip():
            self.stats["partial"] += 1
            events.append(Event("garbage", text=bytes(self._buf), detail="partial line at end of stream"))
        self._buf.clear()
        return events

    def _line(self, line):
        line = line.rstrip(b"\r")
        if not line.strip():
            return []
        message, why = decode(line)
        if message is None:
            if b'{"v":' in line:  # a protocol line that arrived damaged or cut short
                self.stats["garbage"] += 1
                return [Event("garbage", text=line, detail=why)]
            self.stats["text"] += 1  # REPL banner, traceback, boot text: shown, not stored as data
            return [Event("text", text=line, detail=why)]
        events = []
        seq = message["seq"]
        if self._last_seq is not None:
            if seq == 0 or seq <= self._last_seq:
                self.stats["reboots"] += 1
                events.append(Event("reboot", detail="sequence restarted at %d after %d" % (seq, self._last_seq)))
            elif seq > self._last_seq + 1:
                lost = seq - self._last_seq - 1
                self.stats["lost"] += lost
                events.append(Event("gap", detail=lost))
        elif seq == 0:
            events.append(Event("reboot", detail="board booted"))
        self._last_seq = seq
        self.stats["lines"] += 1
        events.append(Event("message", message=message))
        return events


class Store:
    """SQLite: every message, readings (one row per quantity) and alerts."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, received_s REAL, t INTEGER, seq INTEGER,
                                         kind TEXT, payload TEXT);
    CREATE TABLE IF NOT EXISTS readings (t INTEGER, quantity TEXT, value REAL);
    CREATE TABLE IF NOT EXISTS alerts (t INTEGER, type TEXT, severity TEXT, event TEXT, source TEXT,
                                       reason TEXT, payload TEXT);
    CREATE TABLE IF NOT EXISTS link_events (received_s REAL, kind TEXT, detail TEXT);
    CREATE INDEX IF NOT EXISTS readings_t ON readings (quantity, t);
    """

    def __init__(self, path):
        try:
            folder = os.path.dirname(os.path.abspath(path))
            os.makedirs(folder, exist_ok=True)
            self.db = sqlite3.connect(path)
            self.db.executescript(self.SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise VerdantError("monitor: cannot open database %s (%s)" % (path, exc))
        self._pending = 0

    def add(self, event):
        now = time.time()
        if event.kind == "message":
            m = event.message
            payload = m["p"]
            self.db.execute("INSERT INTO messages (received_s, t, seq, kind, payload) VALUES (?,?,?,?,?)",
                            (now, m["t"], m["seq"], m["k"], json.dumps(payload, sort_keys=True)))
            if m["k"] == "reading" and isinstance(payload, dict):
                self.db.executemany("INSERT INTO readings VALUES (?,?,?)",
                                    [(m["t"], q, v) for q, v in sorted(payload.items())
                                     if isinstance(v, (int, float)) and not isinstance(v, bool)])
            elif m["k"] == "alert" and isinstance(payload, dict):
                self.db.execute("INSERT INTO alerts VALUES (?,?,?,?,?,?,?)",
                                (m["t"], payload.get("type"), payload.get("severity"), payload.get("event"),
                                 payload.get("source"), payload.get("reason"), json.dumps(payload, sort_keys=True)))
        elif event.kind in ("gap", "reboot", "garbage"):
            self.db.execute("INSERT INTO link_events VALUES (?,?,?)", (now, event.kind, str(event.detail)))
        else:
            return
        self._pending += 1
        if self._pending >= 50:
            self.commit()

    def commit(self):
        self.db.commit()
        self._pending = 0

    def close(self):
        self.commit()
        self.db.close()


# ---- live view --------------------------------------------------------------------------

_COLOURS = {"critical": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m", "dim": "\033[2m",
            "ok": "\033[32m"}
_RESET = "\033[0m"


def _clock(t):
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))


def _short(value):
    return "%.1f" % value if isinstance(value, float) else str(value)


def format_event(event, colour=False):
    """One line for people, or None for events not worth a line. Alerts stand out."""
    def paint(style, text):
        return _COLOURS[style] + text + _RESET if colour else text

    if event.kind == "text":
        return paint("dim", "  | " + event.text.decode(errors="replace"))
    if event.kind == "garbage":
        return paint("dim", "  ? skipped damaged line (%s)" % event.detail)
    if event.kind == "gap":
        return paint("warning", "  ! %d line(s) lost" % event.detail)
    if event.kind == "reboot":
        return paint("warning", "  ! board restarted (%s)" % event.detail)
    m = event.message
    p = m["p"] if isinstance(m["p"], dict) else {"value": m["p"]}
    when = _clock(m["t"])
    if m["k"] == "reading":
        return "%s  reading  %s" % (when, "  ".join("%s=%s" % (k, _short(v)) for k, v in sorted(p.items())))
    if m["k"] == "alert":
        severity = p.get("severity", "info")
        marker = {"raise": "ALERT", "clear": "clear", "remind": "still"}.get(p.get("event"), p.get("event"))
        text = "%s  %-5s %s [%s] %s" % (when, marker, p.get("type"), severity, p.get("reason", ""))
        if p.get("event") == "clear":
            return paint("ok", text)
        return paint(severity if severity in _COLOURS else "warning", text)
    if m["k"] == "error":
        return paint("warning", "%s  error    %s" % (when, json.dumps(p, sort_keys=True)))
    if m["k"] == "status":
        return "%s  status   %s" % (when, _status_text(p))
    return "%s  %-8s %s" % (when, m["k"], json.dumps(p, sort_keys=True))


def _status_text(p):
    """The parts of a status payload people look at; anything unusual is kept."""
    parts = []
    for key in ("state", "model", "why", "board", "version", "boot_count", "safe_mode", "mem_free", "uptime_s"):
        if key in p and p[key] not in (None, False):
            parts.append("%s=%s" % (key, p[key]))
    if p.get("active_alerts"):
        parts.append("active=%s" % ",".join(p["active_alerts"]))
    health = p.get("health")
    if isinstance(health, dict):
        bad = ["%s:%s" % (k, v) for k, v in sorted(health.items()) if v != "ok"]
        parts.append("sensors " + (" ".join(bad) if bad else "ok"))
    rest = {k: v for k, v in p.items() if k not in ("state", "model", "why", "board", "version", "boot_count",
                                                     "safe_mode", "mem_free", "uptime_s", "active_alerts",
                                                     "health", "errors", "sensors", "log")}
    if rest:
        parts.append(json.dumps(rest, sort_keys=True))
    return "  ".join(parts) or "{}"


class Monitor:
    """Decoder + store + view. feed(bytes) returns the severity-triggered exit code or None."""

    def __init__(self, db_path=None, exit_on=None, out=None, colour=None, reading_every_s=0, keep_messages=False):
        if exit_on is not None and exit_on not in SEVERITIES:
            raise VerdantError("monitor: --exit-on must be one of %s, got %r" % (", ".join(SEVERITIES), exit_on))
        self.decoder = LineDecoder()
        self.store = Store(db_path) if db_path else None
        self.exit_on = exit_on
        self.out = out
        self.colour = colour if colour is not None else bool(out is not None and getattr(out, "isatty", lambda: False)())
        self.alerts = []     # (t, type, severity, event, reason) of every alert line
        self.triggered = None
        self.reading_every_s = reading_every_s  # live view: at most one reading line per this board time
        self._last_shown_reading_t = None
        self.last_t = None   # board time of the newest message
        self.messages = [] if keep_messages else None  # every decoded message, when asked to keep them

    def feed(self, data):
        return self._handle(self.decoder.feed(data))

    def _shown(self, event):
        if not self.reading_every_s or event.kind != "message" or event.message["k"] != "reading":
            return True
        t = event.message["t"]
        if self._last_shown_reading_t is None or t - self._last_shown_reading_t >= self.reading_every_s:
            self._last_shown_reading_t = t
            return True
        return False

    def summary(self, with_alerts=True):
        s = self.decoder.stats
        raised = [a for a in self.alerts if a[3] == "raise"]
        lines = ["monitor: %d line(s) decoded, %d damaged skipped, %d partial, %d other text, "
                 "%d lost (sequence gaps), %d reboot(s)"
                 % (s["lines"], s["garbage"], s["partial"], s["text"], s["lost"], s["reboots"]),
                 "monitor: %d alert(s) raised" % len(raised)]
        for t, kind, severity, _, reason in (raised if with_alerts else []):
            lines.append("  %s  %s [%s]: %s" % (_clock(t), kind, severity, reason))
        return "\n".join(lines)

    def finish(self):
        self._handle(self.decoder.flush())
        if self.store:
            self.store.close()
        return self.triggered

    def _handle(self, events):
        for event in events:
            if self.store:
                self.store.add(event)
            if event.kind == "message":
                self.last_t = event.message["t"]
                if self.messages is not None:
                    self.messages.append(event.message)
            if event.kind == "message" and event.message["k"] == "alert" and isinstance(event.message["p"], dict):
                p = event.message["p"]
                self.alerts.append((event.message["t"], p.get("type"), p.get("severity"), p.get("event"),
                                    p.get("reason")))
                if (self.exit_on and p.get("event") == "raise" and p.get("severity") in SEVERITIES
                        and SEVERITIES.index(p["severity"]) >= SEVERITIES.index(self.exit_on)):
                    self.triggered = self.triggered or p
            if self.out is not None and self._shown(event):
                line = format_event(event, self.colour)
                if line is not None:
                    print(line, file=self.out, flush=True)
        return self.triggered


def run_monitor(port, db_path=None, exit_on=None, duration=None, baudrate=115200, out=sys.stdout,
                stop=None, stream=None):
    """Watch a serial port (or any object with read(n)) until duration passes, stop() is true,
    or an alert of severity >= exit_on is raised. Returns (exit code, Monitor).

    Exit code 0, or 3 when an --exit-on alert arrived."""
    monitor = Monitor(db_path, exit_on, out)
    own_port = stream is None
    if own_port:
        import serial
        try:
            stream = serial.Serial(port, baudrate=baudrate, timeout=0.1)
        except (serial.SerialException, OSError) as exc:
            raise VerdantError("monitor: cannot open %s (%s)" % (port, exc))
    deadline = None if duration is None else time.monotonic() + duration
    try:
        while deadline is None or time.monotonic() < deadline:
            if stop is not None and stop():
                break
            data = stream.read(4096)
            if data:
                if monitor.feed(data):
                    break
            elif not own_port:
                break  # an injected stream (file, BytesIO) ended
    except KeyboardInterrupt:
        pass
    finally:
        if own_port:
            stream.close()
    triggered = monitor.finish()
    return (3 if triggered else 0), monitor
