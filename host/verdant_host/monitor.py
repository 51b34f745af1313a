"""Read a board's serial line: decode protocol lines, skip junk, notice lost lines and
reboots, show a readable live view, store everything in SQLite.

The byte stream is split into lines by LineDecoder (pure: bytes in, events out), so it
is tested with fed bytes; Monitor adds the store (monitor_store: board and session
columns, alerts committed at once) and the view (monitor_view: cleaned text), and keeps
one decoder and session per board, so one Monitor can also take a whole fleet's lines
(the MQTT subscriber). run_monitor() (monitor_serial) watches a serial port and
survives it going away.

Example:
    decoder = LineDecoder()
    for event in decoder.feed(b'garbage\\n{"v":1,"seq":0,...}\\n'):
        print(event.kind, event.message)
    print(decoder.stats)     # {"lines": 1, "garbage": 1, "text": 0, "lost": 0, "reboots": 0, "partial": 0}
"""
from verdant_host.errors import VerdantError
from verdant_host.monitor_store import Store
from verdant_host.monitor_view import clock as _clock, format_event  # noqa: F401  (re-exported)
from verdant.protocol import decode

SEVERITIES = ("info", "warning", "critical")
MAX_LINE_BYTES = 4096  # longer without a newline: junk, dropped and counted as partial


class Event:
    """One thing the monitor noticed: kind is "message", "text", "garbage", "gap", "reboot"
    or "link" (the port went away or came back)."""

    def __init__(self, kind, message=None, text=None, detail=None):
        self.kind = kind
        self.message = message  # decoded protocol dict for "message"
        self.text = text        # the raw line for "text"/"garbage"
        self.detail = detail    # why garbage / how many lines lost
        self.board = None       # set by Monitor
        self.session = None
        self.show_board = False

    def __repr__(self):
        return "Event(%s, %r)" % (self.kind, self.message or self.text or self.detail)


class LineDecoder:
    """Bytes from the serial line -> Events. Never raises on bad input."""

    def __init__(self):
        self._buf = bytearray()
        self._skipping = False  # inside an overlong line: drop bytes up to its newline
        self._last_seq = None
        self.stats = {"lines": 0, "garbage": 0, "text": 0, "lost": 0, "reboots": 0, "partial": 0}

    def feed(self, data):
        events = []
        self._buf.extend(data)
        while True:
            end = self._buf.find(b"\n")
            if self._skipping:
                if end < 0:
                    self._buf.clear()
                    return events
                del self._buf[:end + 1]
                self._skipping = False
                continue
            if end < 0:
                if len(self._buf) > MAX_LINE_BYTES:  # counted once, however long it goes on
                    self.stats["partial"] += 1
                    events.append(Event("garbage", text=bytes(self._buf[:80]),
                                        detail="line longer than %d bytes, dropped" % MAX_LINE_BYTES))
                    self._buf.clear()
                    self._skipping = True
                return events
            line = bytes(self._buf[:end])
            del self._buf[:end + 1]
            events.extend(self._line(line))

    def flush(self):
        """End of stream: a last line without its newline is a partial line."""
        events = []
        if self._buf.strip() and not self._skipping:
            self.stats["partial"] += 1
            events.append(Event("garbage", text=bytes(self._buf[:80]), detail="partial line at end of stream"))
        self._buf.clear()
        self._skipping = False
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
        events.append(Event("message", message=message, text=line))
        return events


class Monitor:
    """Decoders + store + view. feed(bytes[, board]) returns the --exit-on alert payload or None.

    board: the id stored with a serial board's rows (the fleet gives one per feed call).
    show_board: prefix live-view lines with the board (on for fleets)."""

    def __init__(self, db_path=None, exit_on=None, out=None, colour=None, reading_every_s=0, keep_messages=False,
                 board="board", show_board=False, commit_every_s=2.0, outputs=()):
        if exit_on is not None and exit_on not in SEVERITIES:
            raise VerdantError("monitor: --exit-on must be one of %s, got %r" % (", ".join(SEVERITIES), exit_on))
        self.board = board
        self.show_board = show_board
        self.decoders = {}   # board -> LineDecoder
        self.sessions = {}   # board -> current session id
        self._session_count = 0
        self.store = Store(db_path, commit_every_s) if db_path else None
        self.exit_on = exit_on
        self.out = out
        self.colour = colour if colour is not None else bool(out is not None and getattr(out, "isatty", lambda: False)())
        self.alerts = []     # (t, type, severity, event, reason) of every alert line
        self.triggered = None
        self.reading_every_s = reading_every_s  # live view: at most one reading line per this board time
        self._last_shown_reading_t = None
        self.last_t = None   # board time of the newest message
        self.messages = [] if keep_messages else None  # every decoded message, when asked to keep them
        self.outputs = list(outputs)  # e.g. the MQTT bridge: write(line) per protocol line, idle(), close()

    @property
    def decoder(self):
        """The decoder of the default board (a serial monitor has only that one)."""
        return self._decoder(self.board)

    @property
    def stats(self):
        """Decoder counts summed over every board."""
        total = dict(LineDecoder().stats)
        for decoder in self.decoders.values():
            for key, value in decoder.stats.items():
                total[key] += value
        return total

    def _decoder(self, board):
        if board not in self.decoders:
            self.decoders[board] = LineDecoder()
        return self.decoders[board]

    def feed(self, data, board=None):
        board = self.board if board is None else board
        return self._handle(self._decoder(board).feed(data), board)

    def link_event(self, detail, board=None):
        """Note that the port went away or came back (stored and shown)."""
        board = self.board if board is None else board
        events = self._decoder(board).flush()  # a line cut by the disconnect is a partial line
        events.append(Event("link", detail=detail))
        return self._handle(events, board)

    def tick(self):
        if self.store:
            self.store.tick()
        for output in self.outputs:
            output.idle()

    def _session(self, board, reason):
        if self.store:
            session = self.store.new_session(board, reason)
        else:
            self._session_count += 1
            session = self._session_count
        self.sessions[board] = session
        return session

    def _shown(self, event):
        if not self.reading_every_s or event.kind != "message" or event.message["k"] != "reading":
            return True
        t = event.message["t"]
        if self._last_shown_reading_t is None or t - self._last_shown_reading_t >= self.reading_every_s:
            self._last_shown_reading_t = t
            return True
        return False

    def summary(self, with_alerts=True):
        s = self.stats
        raised = [a for a in self.alerts if a[3] == "raise"]
        lines = ["monitor: %d line(s) decoded, %d damaged skipped, %d partial, %d other text, "
                 "%d lost (sequence gaps), %d reboot(s)"
                 % (s["lines"], s["garbage"], s["partial"], s["text"], s["lost"], s["reboots"]),
                 "monitor: %d alert(s) raised" % len(raised)]
        for t, kind, severity, _, reason in (raised if with_alerts else []):
            lines.append("  %s  %s [%s]: %s" % (_clock(t), kind, severity, reason))
        return "\n".join(lines)

    def commit(self):
        if self.store:
            self.store.commit()

    def finish(self):
        for board in list(self.decoders):
            self._handle(self.decoders[board].flush(), board)
        if self.store:
            self.store.close()
            self.store = None
        for output in self.outputs:
            output.close()
        self.outputs = []
        return self.triggered

    def _handle(self, events, board):
        for event in events:
            if event.kind == "reboot" or board not in self.sessions:
                self._session(board, event.detail if event.kind == "reboot" else "monitor started")
            event.board, event.session, event.show_board = board, self.sessions[board], self.show_board
            if self.store:
                self.store.add(event, board, event.session)
            if event.kind == "message":
                for output in self.outputs:
                    output.write(event.text + b"\n")
                self.last_t = event.message["t"]
                if self.messages is not None:
                    self.messages.append(event.message)
            if event.kind == "message" and event.message["k"] == "alert" and isinstance(event.message["p"], dict):
                p = event.message["p"]
                self.alerts.append((event.message["t"], p.get("type"), p.get("severity"), p.get("event"),
                                    p.get("reason")))
                severity = p.get("severity")
                if (self.exit_on and p.get("event") == "raise" and isinstance(severity, str)
                        and severity in SEVERITIES and SEVERITIES.index(severity) >= SEVERITIES.index(self.exit_on)):
                    self.triggered = self.triggered or p
            if self.out is not None and self._shown(event):
                line = format_event(event, self.colour)
                if line is not None:
                    print(line, file=self.out, flush=True)
        return self.triggered


from verdant_host.monitor_serial import run_monitor  # noqa: E402,F401  (re-exported)
