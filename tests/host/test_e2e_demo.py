"""`verdant demo` end to end (short scenario), and Ctrl-C leaving nothing behind."""
import io
import os
import select
import signal
import subprocess
import sys
import time

from verdant_host.demo import run_demo
from vboard_helpers import REPO, processes_in, require_tools


def test_short_demo_deploys_runs_and_summarises(tmp_path):
    require_tools()
    out = io.StringIO()
    monitor = run_demo(speed=7200, days=1.0, work_dir=str(tmp_path), out=out, db_path=str(tmp_path / "m.sqlite"))
    text = out.getvalue()
    assert "injected: heating_failure from 2026-01-20 22:00" in text
    assert "==== demo summary ====" in text and "deploy: " in text
    assert monitor.decoder.stats["lines"] > 20 and monitor.decoder.stats["lost"] == 0
    assert monitor.last_t >= 1768867200 + 86400 - 900  # followed the board to the end of the day
    assert processes_in(str(tmp_path / "fs")) == []


def test_ctrl_c_stops_the_demo_and_its_board(tmp_path):
    require_tools()
    proc = subprocess.Popen([sys.executable, "-m", "verdant_host.cli", "demo", "--speed", "3600", "--work-dir",
                             str(tmp_path), "--db", str(tmp_path / "m.sqlite")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    lines = []
    deadline = time.monotonic() + 180  # deploy (mpy-cross, raw REPL) included; slow on a loaded machine
    while time.monotonic() < deadline:
        # bounded wait: a demo that goes silent fails here instead of hanging the suite
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stdout.readline()
        lines.append(line)
        if "reading" in line or not line:  # the board is running the firmware
            break
    if not any("reading" in line for line in lines):
        proc.kill()
        proc.communicate(timeout=30)
        for pid in processes_in(str(tmp_path / "fs")):  # the board the killed demo left behind
            os.kill(pid, signal.SIGKILL)
        raise AssertionError("no reading line from the demo within 180 s:\n" + "".join(lines))
    assert processes_in(str(tmp_path / "fs")), "".join(lines)
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=90)  # stopping the board and the summary: slow on a loaded machine
    assert "demo: interrupted" in rest and "==== demo summary ====" in rest
    assert proc.returncode == 0
    assert processes_in(str(tmp_path / "fs")) == []


def test_demo_runs_a_real_board_config_on_the_virtual_board(tmp_path):
    # pico's own sensors and config on the virtual board (the Unix port's arch, no light
    # sleep); its heap budget when the 32-bit port is built, else unlimited and said so.
    require_tools()
    out = io.StringIO()
    monitor = run_demo(board="pico", speed=14400, days=0.5, work_dir=str(tmp_path), out=out)
    text = out.getvalue()
    assert "ImportError" not in text and "Traceback" not in text, text[-3000:]
    assert monitor.decoder.stats["lines"] > 10
    assert "board=pico" in text
    if "heap 163840 bytes" in text:  # the 32-bit port with the firmware frozen in: pico's own budget
        assert "model=on" in text and "safe_mode=True" not in text and "MemoryError" not in text
