"""The monitor's SQLite store: every message, readings, alerts, link events and sessions,
with the board and session of each row.

A session is one run of one board as the monitor saw it: it starts when the monitor
first hears the board and again after every reboot, so two boards, or two runs of one
board, never mix. Alert rows are committed at once; other rows within commit_every_s
(tick() is called by the read loop even when nothing arrives). Values of unexpected
types (a list as severity, an int beyond 64 bits) are stored as JSON text.
Databases written before the board/session columns existed are upgraded in place.
"""
import json
import os
import sqlite3
import time

from verdant_host.errors import VerdantError

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (id INTEGER PRIMARY KEY, board TEXT, started_s REAL, reason TEXT);
CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, received_s REAL, t INTEGER, seq INTEGER,
                                     kind TEXT, payload TEXT, board TEXT, session INTEGER);
CREATE TABLE IF NOT EXISTS readings (t INTEGER, quantity TEXT, value REAL, board TEXT, session INTEGER);
CREATE TABLE IF NOT EXISTS alerts (t INTEGER, type TEXT, severity TEXT, event TEXT, source TEXT,
                                   reason TEXT, payload TEXT, board TEXT, session INTEGER);
CREATE TABLE IF NOT EXISTS link_events (received_s REAL, kind TEXT, detail TEXT, board TEXT, session INTEGER);
"""
INDEXES = """
CREATE INDEX IF NOT EXISTS readings_board_t ON readings (board, quantity, t);
CREATE INDEX IF NOT EXISTS alerts_board_t ON alerts (board, t);
"""
_INT64 = (-(1 << 63), (1 << 63) - 1)


def cell(value):
    """A value SQLite stores as it is, or its JSON text."""
    if value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        # beyond 64 bits: quoted, or SQLite would turn the digits back into an inexact REAL
        return value if _INT64[0] <= value <= _INT64[1] else json.dumps(str(value))
    return json.dumps(value, sort_keys=True, default=str)


def number(value):
    """A reading value as a float, or None when it is not a usable number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if value == value and abs(value) != float("inf") else None


class Store:
    def __init__(self, path, commit_every_s=2.0, clock=time.monotonic):
        try:
            folder = os.path.dirname(os.path.abspath(path))
            os.makedirs(folder, exist_ok=True)
            self.db = sqlite3.connect(path)
            self.db.executescript(SCHEMA)
            self._upgrade()
            self.db.executescript(INDEXES)
            self.db.commit()
        except (sqlite3.Error, OSError) as exc:
            raise VerdantError("monitor: cannot open database %s (%s)" % (path, exc))
        self.path = path
        self.commit_every_s = commit_every_s
        self.clock = clock
        self._pending = 0
        self._first_pending_at = None

    def _upgrade(self):
        for table in ("messages", "readings", "alerts", "link_events"):
            columns = [row[1] for row in self.db.execute("PRAGMA table_info(%s)" % table)]
            for name, kind in (("board", "TEXT"), ("session", "INTEGER")):
                if name not in columns:
                    self.db.execute("ALTER TABLE %s ADD COLUMN %s %s" % (table, name, kind))

    def new_session(self, board, reason):
        cur = self.db.execute("INSERT INTO sessions (board, started_s, reason) VALUES (?,?,?)",
                              (cell(board), time.time(), cell(reason)))
        self._dirty()
        return cur.lastrowid

    def add(self, event, board=None, session=None):
        now = time.time()
        urgent = False
        if event.kind == "message":
            m = event.message
            payload = m["p"]
            self.db.execute("INSERT INTO messages (received_s, t, seq, kind, payload, board, session) "
                            "VALUES (?,?,?,?,?,?,?)",
                            (now, cell(m["t"]), cell(m["seq"]), cell(m["k"]),
                             json.dumps(payload, sort_keys=True, default=str), board, session))
            if m["k"] == "reading" and isinstance(payload, dict):
                rows = [(cell(m["t"]), cell(q), number(v), board, session) for q, v in sorted(payload.items())
                        if number(v) is not None]
                self.db.executemany("INSERT INTO readings (t, quantity, value, board, session) VALUES (?,?,?,?,?)",
                                    rows)
            elif m["k"] == "alert" and isinstance(payload, dict):
                self.db.execute("INSERT INTO alerts (t, type, severity, event, source, reason, payload, board, "
                                "session) VALUES (?,?,?,?,?,?,?,?,?)",
                                (cell(m["t"]), cell(payload.get("type")), cell(payload.get("severity")),
                                 cell(payload.get("event")), cell(payload.get("source")),
                                 cell(payload.get("reason")), json.dumps(payload, sort_keys=True, default=str),
                                 board, session))
                urgent = True
        elif event.kind in ("gap", "reboot", "garbage", "link"):
            self.db.execute("INSERT INTO link_events (received_s, kind, detail, board, session) VALUES (?,?,?,?,?)",
                            (now, event.kind, str(event.detail), board, session))
        else:
            return
        self._dirty()
        if urgent:
            self.commit()  # an alert is on disk before anything else happens
        else:
            self.tick()

    def _dirty(self):
        self._pending += 1
        if self._first_pending_at is None:
            self._first_pending_at = self.clock()

    def tick(self):
        """Commit when rows have waited commit_every_s."""
        if self._pending and self.clock() - self._first_pending_at >= self.commit_every_s:
            self.commit()

    def commit(self):
        self.db.commit()
        self._pending = 0
        self._first_pending_at = None

    @property
    def pending(self):
        return self._pending

    def close(self):
        self.commit()
        self.db.close()
