"""The monitor left running: one test per failure seen in the field (issue 12)."""
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tty

import pytest

from verdant.protocol import Encoder, encode_line
from verdant_host.errors import VerdantError
from verdant_host.monitor import LineDecoder, Monitor, run_monitor
from verdant_host.monitor_store import Store
from verdant_host.monitor_view import format_event, clean
from verdant_host.port_lock import PortLock

T0 = 1768867200
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def reading(enc, i):
    return enc.encode(T0 + 300 * i, "reading", {"air_temp_c": 10.0 + i})


def alert(enc, t, kind="frost_risk", severity="critical", event="raise"):
    return enc.encode(t, "alert", {"type": kind, "severity": severity, "event": event, "reason": "test"})


def count(db_path, sql):
    db = sqlite3.connect(db_path)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


class Pty:
    """A pseudo-terminal behind a stable path (a symlink), like /dev/serial/by-id/..."""

    def __init__(self, link):
        self.link = link
        self.master = None

    def plug(self):
        self.master, slave = os.openpty()
        tty.setraw(slave)
        name = os.ttyname(slave)
        os.close(slave)
        tmp = self.link + ".new"
        os.symlink(name, tmp)
        os.replace(tmp, self.link)
        return self

    def unplug(self):
        os.close(self.master)
        self.master = None
        os.remove(self.link)

    def write(self, data):
        os.write(self.master, data)


def wait_until(predicate, timeout_s=10):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_port_gone_and_back_keeps_rows_and_reconnects(tmp_path):
    port = Pty(str(tmp_path / "ttyACM0")).plug()
    db = str(tmp_path / "m.sqlite")
    done, result, notes = threading.Event(), {}, []

    def watch():
        result["r"] = run_monitor(port.link, db, out=io.StringIO(), stop=done.is_set, say=notes.append)

    thread = threading.Thread(target=watch)
    thread.start()
    enc = Encoder()
    try:
        assert wait_until(lambda: any("watching" in n for n in notes))  # open: writes now reach it
        port.write(b"".join(reading(enc, i) for i in range(5)) + alert(enc, T0 + 1500) + b'{"v":1,"seq":6,"t')
        assert wait_until(lambda: count(db, "SELECT count(*) FROM alerts") == 1)  # committed at once
        port.unplug()  # native USB board resets: the port vanishes
        assert wait_until(lambda: any("went away" in n for n in notes))
        time.sleep(0.8)
        port.plug()
        assert wait_until(lambda: any("is back" in n for n in notes))
        reboot = Encoder()
        port.write(b"".join(reading(reboot, i) for i in range(3)))
        assert wait_until(lambda: count(db, "SELECT count(*) FROM messages") == 9, 6)
    finally:
        done.set()
        thread.join(10)
    code, monitor = result["r"]
    assert code == 0 and not thread.is_alive()
    assert monitor.stats["partial"] == 1 and monitor.stats["reboots"] == 1 and monitor.stats["lines"] == 9
    assert count(db, "SELECT count(*) FROM link_events WHERE kind = 'link'") == 2
    assert count(db, "SELECT count(DISTINCT session) FROM readings") == 2
    assert count(db, "SELECT count(*) FROM readings WHERE board = 'ttyACM0'") == 8


def test_the_port_lock_makes_deploy_and_pull_logs_refuse_clearly(tmp_path):
    port = Pty(str(tmp_path / "ttyUSB0")).plug()
    from verdant_host.deploy_transport import open_transport
    from verdant_host.pull_logs import pull_logs
    with PortLock(port.link, "verdant monitor"):
        with pytest.raises(VerdantError, match=r"ttyUSB0 is in use by verdant monitor \(pid %d\)" % os.getpid()):
            open_transport("mpremote", port.link)
        with pytest.raises(VerdantError, match="in use by verdant monitor"):
            pull_logs(port.link, str(tmp_path / "out.csv"))
        with pytest.raises(VerdantError, match="in use by verdant monitor"):
            run_monitor(port.link, None, out=io.StringIO(), duration=0.1)
    lock = PortLock(port.link, "again").acquire()  # released: free again
    lock.release()
    port.unplug()


def test_alerts_commit_at_once_other_rows_on_a_timer(tmp_path):
    now = [100.0]
    db = str(tmp_path / "s.sqlite")
    monitor = Monitor(None)
    monitor.store = Store(db, commit_every_s=2.0, clock=lambda: now[0])
    enc = Encoder()
    monitor.feed(reading(enc, 0) + reading(enc, 1))
    assert count(db, "SELECT count(*) FROM messages") == 0  # waiting for the timer
    monitor.feed(alert(enc, T0 + 600))
    assert count(db, "SELECT count(*) FROM messages") == 3 and count(db, "SELECT count(*) FROM alerts") == 1
    monitor.feed(reading(enc, 3))
    now[0] += 1.9
    monitor.tick()
    assert count(db, "SELECT count(*) FROM messages") == 3
    now[0] += 0.2
    monitor.tick()  # the read loop ticks even when nothing arrives
    assert count(db, "SELECT count(*) FROM messages") == 4
    monitor.finish()


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_commit_every_row(tmp_path, signame):
    port = Pty(str(tmp_path / "tty")).plug()
    db = str(tmp_path / "m.sqlite")
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "host"))
    proc = subprocess.Popen([sys.executable, "-m", "verdant_host.cli", "monitor", "--port", port.link, "--db", db],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    shown, notes = [], []
    reader = threading.Thread(target=lambda: shown.extend(iter(proc.stdout.readline, b"")))
    reader.start()
    noter = threading.Thread(target=lambda: notes.extend(iter(proc.stderr.readline, b"")))
    noter.start()
    assert wait_until(lambda: any(b"watching" in n for n in notes), 30)  # port open (pyserial flushes at open)
    enc = Encoder()
    port.write(b"".join(reading(enc, i) for i in range(60)))
    assert wait_until(lambda: sum(b"reading" in line for line in shown) == 60), shown[-3:]
    proc.send_signal(getattr(signal, signame))
    assert proc.wait(10) == 0
    reader.join(5)
    assert count(db, "SELECT count(*) FROM messages") == 60  # none lost, though the timer had not run
    noter.join(5)
    assert any(("stopped by %s" % signame).encode() in n for n in notes)
    assert any(b"60 line(s) decoded" in line for line in shown)
    port.unplug()


def test_unexpected_field_types_are_stored_as_text(tmp_path):
    db = str(tmp_path / "odd.sqlite")
    out = io.StringIO()
    monitor = Monitor(db, exit_on="warning", out=out)
    huge = 2 ** 70
    lines = [encode_line(0, T0, "alert", {"type": {"a": 1}, "severity": ["critical"], "event": "raise",
                                          "reason": 5, "source": None}),
             encode_line(1, huge, "reading", {"air_temp_c": huge, "rh_pct": [1], "co2_ppm": 400}),
             encode_line(2, T0, "status", {"active_alerts": "frost", "health": 3}),
             encode_line(huge, T0, "error", {"where": "x"})]
    for line in lines:
        monitor.feed(line.encode())
    monitor.finish()
    assert monitor.stats["lines"] == 4 and monitor.triggered is None  # a list is no severity
    d = sqlite3.connect(db)
    assert d.execute("SELECT type, severity, reason FROM alerts").fetchall() == [('{"a": 1}', '["critical"]', "5")]
    assert d.execute("SELECT t FROM messages WHERE seq = 1").fetchone() == ('"%d"' % huge,)
    assert d.execute("SELECT seq FROM messages WHERE kind = 'error'").fetchone() == ('"%d"' % huge,)
    assert sorted(d.execute("SELECT quantity, value FROM readings")) == [("air_temp_c", float(huge)),
                                                                        ("co2_ppm", 400.0)]
    assert len(out.getvalue().splitlines()) == 6  # 4 messages, the boot, the seq jump


def test_an_overlong_line_is_counted_once():
    decoder = LineDecoder()
    enc = Encoder()
    events = []
    chunk = b"x" * 65536
    for _ in range(80):  # 5 MB without a newline
        events += decoder.feed(chunk)
    events += decoder.feed(b"tail of it\n" + reading(enc, 0))
    assert decoder.stats["partial"] == 1 and decoder.stats["lines"] == 1
    assert [e.kind for e in events] == ["garbage", "reboot", "message"]


def test_control_sequences_are_stripped_before_printing():
    decoder = LineDecoder()
    enc = Encoder()
    evil = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x9b1m\x00bell\x07"
    events = decoder.feed(b"\x1b[2Jboot text\x1b[?25l\r\n" + enc.encode(T0, "alert", {
        "type": "frost" + evil, "severity": "critical", "event": "raise", "reason": evil}))
    printed = [format_event(e, colour=False) for e in events if e.kind in ("text", "message")]
    assert printed[0] == "  | boot text"
    assert "frostredbell" in printed[1] and printed[1].count("redbell") == 2
    for line in printed + [format_event(events[-1], colour=True)[7:-4]]:
        assert not any(ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in line), repr(line)
    assert clean("a\tb") == "a b"


def test_board_and_session_columns_keep_boards_and_runs_apart(tmp_path):
    db = str(tmp_path / "fleet.sqlite")
    monitor = Monitor(db, show_board=True, out=io.StringIO())
    a, b = Encoder(), Encoder()
    monitor.feed(reading(a, 0) + reading(a, 1), board="north")
    monitor.feed(reading(b, 0), board="south")
    a2 = Encoder()  # north reboots
    monitor.feed(reading(a2, 0), board="north")
    monitor.finish()
    d = sqlite3.connect(db)
    sessions = d.execute("SELECT id, board, reason FROM sessions ORDER BY id").fetchall()
    assert [s[1] for s in sessions] == ["north", "south", "north"]
    rows = d.execute("SELECT board, session, count(*) FROM readings GROUP BY board, session ORDER BY session").fetchall()
    assert rows == [("north", sessions[0][0], 2), ("south", sessions[1][0], 1), ("north", sessions[2][0], 1)]
    assert "[south]" in monitor.out.getvalue()


def test_an_old_database_is_upgraded_in_place(tmp_path):
    db = str(tmp_path / "old.sqlite")
    old = sqlite3.connect(db)
    old.executescript("CREATE TABLE readings (t INTEGER, quantity TEXT, value REAL);"
                      "INSERT INTO readings VALUES (1, 'air_temp_c', 3.0);")
    old.commit()
    old.close()
    monitor = Monitor(db, board="b")
    monitor.feed(reading(Encoder(), 0))
    monitor.finish()
    assert sqlite3.connect(db).execute("SELECT t, board FROM readings ORDER BY t").fetchall() == [
        (1, None), (T0, "b")]


def test_the_port_lock_waits_for_a_holder_that_is_letting_go(tmp_path):
    import threading
    port = str(tmp_path / "ttyACM7")
    open(port, "w").close()
    holder = PortLock(port, "verdant monitor").acquire()
    threading.Timer(0.3, holder.release).start()  # the monitor stops a moment later
    began = time.monotonic()
    lock = PortLock(port, "verdant deploy/pull-logs").acquire()
    assert 0.25 <= time.monotonic() - began < 1.0
    lock.release()
