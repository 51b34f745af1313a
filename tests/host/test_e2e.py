"""End to end on a virtual board: the real firmware and default model, deployed with the
real deploy path, watched by the monitor; a scripted cold spell must raise frost_risk."""
import csv
import json
import os
import sqlite3
import subprocess
import time

import pytest
import serial

from verdant_host.monitor import Monitor
from verdant_host.paths import DEFAULT_MODEL
from verdant_host.pull_logs import pull_logs
from verdant_host.vboard_session import BoardSession
from vboard_helpers import MICROPYTHON, mpremote, require_tools

T0 = 1768867200                       # 2026-01-20 00:00 UTC
COLD_FROM, COLD_TO = T0 + 2 * 3600, T0 + 4 * 3600
RUN_UNTIL = T0 + 5 * 3600 + 1800
SPEED = 900.0
SLACK_S = 1800      # board seconds (2 s real at SPEED) for a loaded machine
FROST_RAISE_AFTER_S, FROST_CLEAR_AFTER_S = 600, 900   # frost_risk raise/clear durations (verdant.rules defaults)


def _model_period_s():
    """The default model's period_s: features, rules and readings come once per period."""
    from verdant.engine.modelfile import parse
    with open(DEFAULT_MODEL, "rb") as f:
        return parse(f.read()).meta["period_s"]


def _scripted_truth(path):
    """15 C, except 0.5 C between COLD_FROM and COLD_TO; everything else steady."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp_s", "air_temp_c", "rh_pct", "co2_ppm", "light_lux", "par_umol_m2_s",
                    "soil_moisture_pct", "soil_temp_c"])
        for t in range(T0, T0 + 8 * 3600 + 1, 60):
            cold = COLD_FROM <= t < COLD_TO
            w.writerow([t, 0.5 if cold else 15.0, 70.0, 500.0, 0.0, 0.0, 35.0, 15.0])


def _watch(port, monitor, until_t, timeout, during=None):
    deadline = time.monotonic() + timeout
    with serial.Serial(port, timeout=0.1) as line:
        if during:
            during("opened")
        while time.monotonic() < deadline:
            monitor.feed(line.read(4096))
            if during:
                during(monitor)
            if monitor.last_t is not None and monitor.last_t >= until_t:
                return True
    return False


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Deploy once, run the scripted scenario once with line noise injected; tests read the results."""
    require_tools()
    work = tmp_path_factory.mktemp("e2e")
    truth = str(work / "truth.csv")
    _scripted_truth(truth)
    session = BoardSession(str(work), truth_csv=truth, speed=SPEED, sim_t0=T0, micropython=MICROPYTHON).start()
    vb, report = session.board, session.report
    monitor = Monitor(db_path=str(work / "monitor.sqlite"))
    injected = []

    def add_noise(state):
        if state == "opened":  # only now: the port open flushes what came before
            session.run_from_start()
            return
        if state.last_t and len(injected) < 3 and state.last_t > T0 + 3600 * (len(injected) + 1):
            vb.inject_output(b"\x00\xfe#noise on the line#\r\n")
            vb.inject_output(b'{"v":1,"seq":999999,"t":0,"k":"reading","p":{},"crc":"00000000"}\n')
            injected.append(state.last_t)

    finished = _watch(vb.port, monitor, RUN_UNTIL, timeout=(RUN_UNTIL - T0) / SPEED + 60, during=add_noise)
    monitor.finish()
    yield {"board": vb, "monitor": monitor, "report": report, "finished": finished, "work": work,
           "injected": injected}
    session.stop()


def test_deploy_of_the_real_firmware_to_a_fresh_board(run):
    report = run["report"]
    assert report.model_verified
    assert {"main.py", "boot.py", "board.json", "model.bin", report.slot + "/verdant/app.mpy"} <= set(report.sent)
    assert run["finished"], "the board did not reach the end of the scripted scenario"
    db = sqlite3.connect(str(run["work"] / "monitor.sqlite"))
    models = [json.loads(p) for (p,) in db.execute("SELECT payload FROM messages WHERE kind='status'")]
    models = [s for s in models if "model" in s]
    assert any(s["model"] == "on" for s in models), models  # the deployed model ran, not the rules alone


def test_monitor_receives_frost_alert_for_the_scripted_cold_spell(run):
    period_s = _model_period_s()
    alerts = [a for a in run["monitor"].alerts if a[1] == "frost_risk"]
    raises = [a[0] for a in alerts if a[3] == "raise"]
    clears = [a[0] for a in alerts if a[3] == "clear"]
    assert len(raises) == 1, alerts
    assert COLD_FROM + FROST_RAISE_AFTER_S <= raises[0] <= COLD_FROM + FROST_RAISE_AFTER_S + 2 * period_s + SLACK_S
    assert alerts[0][2] == "critical"
    assert len(clears) == 1
    assert COLD_TO + FROST_CLEAR_AFTER_S <= clears[0] <= COLD_TO + FROST_CLEAR_AFTER_S + 2 * period_s + SLACK_S
    # stored too
    db = sqlite3.connect(str(run["work"] / "monitor.sqlite"))
    assert db.execute("SELECT t FROM alerts WHERE type='frost_risk' AND event='raise'").fetchall() == [(raises[0],)]


def test_garbage_on_the_serial_line_is_skipped(run):
    stats = run["monitor"].decoder.stats
    assert len(run["injected"]) == 3
    assert stats["garbage"] >= 3            # the fake protocol lines with a wrong checksum
    assert stats["text"] >= 3               # the noise lines
    assert stats["lost"] == 0 and stats["reboots"] == 0
    period_s = _model_period_s()
    db = sqlite3.connect(str(run["work"] / "monitor.sqlite"))
    readings = db.execute("SELECT count(*) FROM messages WHERE kind='reading'").fetchone()[0]
    assert readings >= 0.8 * (RUN_UNTIL - T0) / period_s


def test_pull_logs_returns_the_readings_logged(run, tmp_path):
    out = tmp_path / "pulled.csv"
    result = pull_logs(run["board"].port, str(out))
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert result["records"] == len(rows) > 0
    logged = {int(r["timestamp_s"]): r for r in rows}
    db = sqlite3.connect(str(run["work"] / "monitor.sqlite"))
    seen = db.execute("SELECT t, value FROM readings WHERE quantity='air_temp_c'").fetchall()
    matched = [(t, v) for t, v in seen if t in logged]
    assert len(matched) >= 0.9 * len(seen)
    for t, value in matched:
        assert abs(float(logged[t]["air_temp_c"]) - value) < 0.01, t
    cold = [float(r["air_temp_c"]) for t, r in logged.items() if COLD_FROM + 600 <= t < COLD_TO]
    assert cold and max(cold) < 2.0


def test_corrupt_model_pushed_by_hand_is_refused_and_reported(run, tmp_path):
    vb = run["board"]
    good = open(DEFAULT_MODEL, "rb").read()
    bad = tmp_path / "model.bin"
    bad.write_bytes(good[:200] + bytes([good[200] ^ 0x55]) + good[201:])
    try:
        mpremote(vb.port, "fs", "cp", str(bad), ":model.bin")
    except subprocess.TimeoutExpired:
        # seen twice in five fresh-clone full runs on 2026-12-01 (never alone, nor under CPU load):
        # mpremote never got the raw REPL within 60 s; cause not found. The copy is this
        # test's setup, so it is tried once more; what the test checks is the board's answer
        mpremote(vb.port, "fs", "cp", str(bad), ":model.bin")
    monitor = Monitor(keep_messages=True)

    def reset_after_open(state):
        if state == "opened":
            mpremote(vb.port, "reset")

    now = vb.board_time_s()
    _watch(vb.port, monitor, now + 3 * 3600, timeout=30, during=reset_after_open)
    errors = [m["p"] for m in monitor.messages if m["k"] == "error"]
    assert any(e.get("where") == "model" and "CRC" in e.get("error", "") for e in errors), errors
    statuses = [m["p"] for m in monitor.messages if m["k"] == "status" and "model" in m["p"]]
    assert any(s["model"] == "on" for s in statuses), statuses   # the previous good model keeps running
    assert sum(1 for m in monitor.messages if m["k"] == "reading") >= 10
