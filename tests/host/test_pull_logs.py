"""pull-logs over the stock REPL transports, and the `verdant vboard` command's lifecycle."""
import csv
import os
import signal
import subprocess
import sys
import time

import pytest

from verdant.flashlog import FlashLog
from verdant_host.errors import VerdantError
from verdant_host.pull_logs import pull_logs
from verdant_host.vboard import VirtualBoard
from vboard_helpers import MICROPYTHON, REPO, mpremote, processes_in, require_tools

T0 = 1768867200


@pytest.fixture
def board(tmp_path):
    require_tools()
    vb = VirtualBoard(str(tmp_path / "fs"), micropython=MICROPYTHON)
    vb.start()
    assert vb.wait_ready()
    yield vb
    vb.stop()


def test_pulled_csv_has_the_records_written_including_a_wrapped_ring(board, tmp_path):
    log = FlashLog(os.path.join(board.fs_dir, "verdant.log"), capacity=50)
    for i in range(70):  # wraps: the first 20 are overwritten
        log.append(T0 + 60 * i, {"air_temp_c": 10.0 + i / 4, "rh_pct": 55.5}, 0)
    out = tmp_path / "pulled.csv"
    for transport in ("mpremote", "ampy"):
        result = pull_logs(board.port, str(out), transport=transport)
        with open(out) as f:
            rows = list(csv.DictReader(f))
        assert result["records"] == 50 and result["bad_slots"] == 0
        assert [int(r["timestamp_s"]) for r in rows] == [T0 + 60 * i for i in range(20, 70)]
        assert [float(r["air_temp_c"]) for r in rows] == [10.0 + i / 4 for i in range(20, 70)]
        assert {r["rh_pct"] for r in rows} == {"55.5"} and {r["co2_ppm"] for r in rows} == {""}


def test_a_board_without_a_log_says_so(board, tmp_path):
    with pytest.raises(VerdantError, match="no verdant.log"):
        pull_logs(board.port, str(tmp_path / "x.csv"))


def test_vboard_command_serves_until_sigterm_and_leaves_nothing_behind(tmp_path):
    require_tools()
    fs, port_file = tmp_path / "fs", tmp_path / "port"
    proc = subprocess.Popen([sys.executable, "-m", "verdant_host.cli", "vboard", "--fs", str(fs), "--port-file",
                             str(port_file), "--days", "0.5", "--micropython", MICROPYTHON],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        port = port_file.read_text().strip()
        out = mpremote(port, "exec", "import vboard_env; t = vboard_env.truth(vboard_env.clock.time_s()); "
                                     "print(sorted(t)[:2], 0 < t['air_temp_c'] < 40)").stdout
        assert out.strip() == "['air_temp_c', 'co2_ppm'] True"
        assert processes_in(str(fs))  # the interpreter runs in the board folder
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0
    assert not port_file.exists()
    assert processes_in(str(fs)) == []


@pytest.mark.parametrize("transport", ["mpremote", "ampy"])
def test_a_board_that_is_not_there_is_named_by_the_command_that_tried(tmp_path, transport):
    # pull-logs, forget-learned and secrets share deploy's link; the error says which command failed
    from verdant_host.learned_forget import forget_learned
    port = str(tmp_path / "ttyNOPE")
    with pytest.raises(VerdantError, match=r"^pull-logs: .*cannot reach the board REPL on .*ttyNOPE"):
        pull_logs(port, str(tmp_path / "out.csv"), transport=transport)
    with pytest.raises(VerdantError, match=r"^forget-learned: .*cannot reach the board REPL on .*ttyNOPE"):
        forget_learned(port, transport=transport)
    with pytest.raises(VerdantError, match=r"^pull-logs: unknown transport 'usb'"):
        pull_logs(port, str(tmp_path / "out.csv"), transport="usb")
