"""Monitor: decoding a dirty serial stream, gaps, reboots, storage, --exit-on, plot."""
import io
import sqlite3

import pytest

from verdant.protocol import Encoder
from verdant_host.errors import VerdantError
from verdant_host.monitor import LineDecoder, Monitor, format_event, run_monitor
from verdant_host.monitor_plot import alert_spans, plot

T0 = 1768867200


def _alert(kind, severity, event="raise", reason="test"):
    return {"type": kind, "severity": severity, "event": event, "source": "rule", "reason": reason,
            "values": {"air_temp_c": 1.5}}


def _lines(encoder, count, start_t=T0):
    return [encoder.encode(start_t + 300 * i, "reading", {"air_temp_c": 10.0 + i, "rh_pct": 60.0})
            for i in range(count)]


def test_garbage_truncated_and_corrupt_lines_are_skipped_and_counted():
    enc = Encoder()
    good = _lines(enc, 4)
    corrupt = bytearray(good[2])
    corrupt[20] ^= 0x01  # one flipped bit: checksum mismatch
    stream = (b"\x00\xff\xfeboot noise\r\n" + good[0] + good[1][:30] + b"\n" + bytes(corrupt)
              + b"MPY: soft reboot\r\n" + good[3] + good[0][:15])
    decoder = LineDecoder()
    events = []
    for i in range(0, len(stream), 7):  # arrives in small pieces, as from a UART
        events += decoder.feed(stream[i:i + 7])
    events += decoder.flush()
    decoded = [e.message["seq"] for e in events if e.kind == "message"]
    assert decoded == [0, 3]
    assert decoder.stats["garbage"] == 2      # the cut line and the corrupt one
    assert decoder.stats["partial"] == 1      # the unfinished last line
    assert decoder.stats["text"] == 2         # noise and the REPL's text
    assert decoder.stats["lost"] == 2         # seq 1 and 2 never decoded
    assert [e.detail for e in events if e.kind == "gap"] == [2]


def test_sequence_restart_is_a_reboot():
    first, second = Encoder(), Encoder()
    stream = b"".join(_lines(first, 3) + _lines(second, 2))
    decoder = LineDecoder()
    events = decoder.feed(stream)
    assert decoder.stats["reboots"] == 1 and decoder.stats["lost"] == 0
    kinds = [e.kind for e in events]
    assert kinds == ["reboot", "message", "message", "message", "reboot", "message", "message"]


def test_exit_on_triggers_only_at_or_above_the_severity():
    enc = Encoder()
    info = enc.encode(T0, "alert", _alert("vpd_low", "info"))
    warning_clear = enc.encode(T0 + 1, "alert", _alert("dry_soil", "warning", event="clear"))
    warning = enc.encode(T0 + 2, "alert", _alert("dry_soil", "warning"))
    monitor = Monitor(exit_on="warning")
    assert monitor.feed(info + warning_clear) is None
    assert monitor.feed(warning)["type"] == "dry_soil"
    code, _ = run_monitor(None, exit_on="critical", stream=io.BytesIO(info + warning), out=None)
    assert code == 0
    crit = enc.encode(T0 + 3, "alert", _alert("frost_risk", "critical"))
    code, mon = run_monitor(None, exit_on="critical", stream=io.BytesIO(info + crit + warning), out=None)
    assert code == 3 and mon.triggered["type"] == "frost_risk"
    with pytest.raises(VerdantError, match="exit-on"):
        Monitor(exit_on="fatal")


def test_store_keeps_readings_alerts_and_link_events(tmp_path):
    enc = Encoder()
    stream = b"".join(_lines(enc, 3)) + enc.encode(T0 + 900, "alert", _alert("frost_risk", "critical"))
    enc.seq += 2  # two lines lost
    stream += enc.encode(T0 + 1200, "alert", _alert("frost_risk", "critical", event="clear"))
    db = str(tmp_path / "new-folder" / "m.sqlite")  # the folder is created
    code, monitor = run_monitor(None, db_path=db, stream=io.BytesIO(stream), out=None)
    con = sqlite3.connect(db)
    temps = con.execute("SELECT t, value FROM readings WHERE quantity='air_temp_c' ORDER BY t").fetchall()
    assert temps == [(T0, 10.0), (T0 + 300, 11.0), (T0 + 600, 12.0)]
    assert con.execute("SELECT t, type, severity, event FROM alerts ORDER BY t").fetchall() == [
        (T0 + 900, "frost_risk", "critical", "raise"), (T0 + 1200, "frost_risk", "critical", "clear")]
    assert con.execute("SELECT kind, detail FROM link_events").fetchall() == [("reboot", "board booted"), ("gap", "2")]
    assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == 5
    assert "1 alert(s) raised" in monitor.summary()


def test_live_view_highlights_alerts():
    enc = Encoder()
    monitor = Monitor()
    events = monitor.decoder.feed(enc.encode(T0, "alert", _alert("frost_risk", "critical", reason="air 1.5 C")))
    alert_line = [format_event(e, colour=True) for e in events if e.kind == "message"][0]
    assert alert_line.startswith("\033[1;31m") and "ALERT frost_risk [critical] air 1.5 C" in alert_line
    plain = [format_event(e) for e in events if e.kind == "message"][0]
    assert "\033" not in plain
    reading = LineDecoder().feed(_lines(Encoder(), 1)[0])[-1]
    assert "\033" not in format_event(reading, colour=True) and "air_temp_c=10 " in format_event(reading)


def test_plot_draws_a_panel_per_quantity_with_alert_spans(tmp_path):
    enc = Encoder()
    stream = b"".join(_lines(enc, 12))
    stream += enc.encode(T0 + 600, "alert", _alert("frost_risk", "critical"))
    db = str(tmp_path / "m.sqlite")
    run_monitor(None, db_path=db, stream=io.BytesIO(stream), out=None)
    png = tmp_path / "p.png"
    assert plot(db, str(png)) == 2
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(VerdantError, match="no readings"):
        plot(db, str(png), ["co2_ppm"])


def test_alert_spans_pair_raise_and_clear():
    rows = [(10, "a", "critical", "raise"), (15, "b", "info", "raise"), (20, "a", "critical", "clear"),
            (25, "a", "critical", "raise")]
    assert alert_spans(rows, 100) == [("a", "critical", 10, 20, False, None), ("b", "info", 15, 100, True, None),
                                      ("a", "critical", 25, 100, True, None)]


def test_monitor_command_on_a_serial_port_exits_on_a_critical_alert(tmp_path):
    """`verdant monitor` against a virtual board whose main.py prints protocol lines."""
    import subprocess
    import sys
    from verdant_host.vboard import VirtualBoard
    from vboard_helpers import MICROPYTHON, REPO, require_tools
    require_tools()
    enc = Encoder()
    lines = []
    for i in range(200):
        if i % 5 == 4:
            lines.append(enc.encode(T0 + 60 * i, "alert", _alert("frost_risk", "critical", reason="air 1.2 C")))
        else:
            lines.append(enc.encode(T0 + 60 * i, "reading", {"air_temp_c": 3.0}))
    fs = tmp_path / "fs"
    fs.mkdir()
    (fs / "main.py").write_text("import sys, time\nLINES = %r\nfor line in LINES:\n"
                                "    sys.stdout.buffer.write(line)\n    time.sleep_ms(100)\n" % lines)
    with VirtualBoard(str(fs), micropython=MICROPYTHON) as vb:
        db = tmp_path / "m.sqlite"
        result = subprocess.run([sys.executable, "-m", "verdant_host.cli", "monitor", "--port", vb.port, "--db",
                                 str(db), "--exit-on", "critical", "--duration", "60"],
                                capture_output=True, text=True, cwd=REPO, timeout=90)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "exiting on critical alert frost_risk" in result.stderr
    assert "ALERT frost_risk [critical] air 1.2 C" in result.stdout
    con = sqlite3.connect(str(db))
    assert con.execute("SELECT type, severity FROM alerts").fetchall() == [("frost_risk", "critical")]


def test_status_lines_are_shown_compactly_with_problems_kept():
    enc = Encoder()
    line = enc.encode(T0, "status", {"state": "running", "model": "on", "mem_free": 123456, "errors": 0,
                                     "health": {"air": "ok", "co2": "failed"}, "active_alerts": ["frost_risk"]})
    text = format_event(LineDecoder().feed(line)[-1])
    assert text == "2026-01-20 00:00  status   state=running  model=on  mem_free=123456  active=frost_risk  sensors co2:failed"


def test_plot_keeps_boards_and_sessions_apart_and_shows_open_alerts(tmp_path):
    from verdant_host.monitor_plot import daily_summary, load, split_gaps, thresholds
    db = str(tmp_path / "fleet.sqlite")
    monitor = Monitor(db)
    north, south = Encoder(), Encoder()
    for i in range(4 * 288):  # four days, 5-minute readings
        monitor.feed(north.encode(T0 + 300 * i, "reading", {"air_temp_c": 10.0 + (i % 288) / 30.0}), "north")
        if i == 2 * 288:
            north = Encoder()  # north reboots on day 3
        monitor.feed(south.encode(T0 + 300 * i, "reading", {"air_temp_c": 20.0}), "south")
    monitor.feed(south.encode(T0 + 3000, "alert", _alert("frost_risk", "critical")), "south")
    monitor.finish()
    series, alerts = load(db)
    runs = sorted((board, len(ts)) for (board, _), (ts, _) in series["air_temp_c"].items())
    assert runs == [("north", 2 * 288 - 1), ("north", 2 * 288 + 1), ("south", 4 * 288)]
    assert alert_spans(alerts, T0 + 10 ** 6)[0][4] is True  # never cleared: open
    assert split_gaps([0, 300, 600, 5000, 5300], [1, 2, 3, 4, 5])[1] == [1, 2, 3, None, 4, 5]
    assert (2.0, "frost_risk < 2") in thresholds("air_temp_c")
    summary, raised = daily_summary(series, alerts)
    assert [round(d[1], 2) for d in summary["north"]] == [10.0] * 4 and sum(raised.values()) == 1
    png = tmp_path / "new" / "folder" / "month.png"  # --out folders are created
    assert plot(db, str(png)) == 1
    assert plot(db, str(tmp_path / "south.png"), board="south") == 1
    short_db = str(tmp_path / "day.sqlite")
    short = Monitor(short_db)
    short.feed(b"".join(_lines(Encoder(), 200)))
    short.finish()
    plot(short_db, str(tmp_path / "day.png"), ["air_temp_c"])  # one panel, as for the 4 days
    height = lambda p: int.from_bytes(p.read_bytes()[20:24], "big")  # noqa: E731  (PNG IHDR)
    assert height(png) > height(tmp_path / "day.png") + 50  # 4 days: the daily summary panel is added
    with pytest.raises(VerdantError, match="no monitor database"):
        plot(str(tmp_path / "absent.sqlite"), str(png))
