"""The virtual board must look like a MicroPython board to the stock mpremote CLI."""
import hashlib
import os
import time

import pytest
import serial

from verdant_host.vboard import VirtualBoard
from vboard_helpers import MICROPYTHON, mpremote, read_until, require_tools


@pytest.fixture
def board(tmp_path):
    require_tools()
    fs = tmp_path / "fs"
    fs.mkdir()
    vb = VirtualBoard(str(fs), speed=100.0, micropython=MICROPYTHON)
    vb.start()
    assert vb.wait_ready(), "vboard did not reach its REPL after boot"
    yield vb
    vb.stop()


def test_file_commands_of_stock_mpremote(board, tmp_path):
    payload = bytes(range(256)) * 5 + b"end"
    local = tmp_path / "blob.bin"
    local.write_bytes(payload)
    mpremote(board.port, "fs", "mkdir", ":lib", "+", "fs", "cp", str(local), ":lib/blob.bin")
    assert (tmp_path / "fs" / "lib" / "blob.bin").read_bytes() == payload

    listing = mpremote(board.port, "fs", "ls", ":lib").stdout
    assert "%d blob.bin" % len(payload) in " ".join(listing.split())
    digest = mpremote(board.port, "sha256sum", ":lib/blob.bin").stdout
    assert hashlib.sha256(payload).hexdigest() in digest

    back = tmp_path / "back.bin"
    mpremote(board.port, "fs", "cp", ":/lib/blob.bin", str(back))
    assert back.read_bytes() == payload

    mpremote(board.port, "fs", "rm", ":lib/blob.bin", "+", "fs", "rmdir", ":lib")
    assert not (tmp_path / "fs" / "lib").exists()


def test_absolute_paths_stay_inside_the_board_folder(board, tmp_path):
    out = mpremote(board.port, "exec", "import os; open('/note.txt','w').write('hi'); print(os.getcwd(), os.listdir('/'))").stdout
    assert (tmp_path / "fs" / "note.txt").read_text() == "hi"
    assert out.split() == ["/", "['note.txt']"]


def test_errors_reach_mpremote_as_tracebacks(board):
    result = mpremote(board.port, "exec", "print('before'); 1/0", check=False)
    assert result.returncode != 0
    assert "before" in result.stdout
    assert "ZeroDivisionError" in result.stdout + result.stderr


def test_long_code_goes_through_raw_paste_flow_control(board):
    # ~3 KB of source: more than ten raw-paste windows
    lines = ["v%d = %d" % (i, i * 7) for i in range(300)]
    code = "\n".join(lines) + "\nprint(sum([%s]))" % ",".join("v%d" % i for i in range(300))
    out = mpremote(board.port, "exec", code).stdout
    assert int(out.strip()) == sum(i * 7 for i in range(300))


def test_raw_paste_handshake_bytes(board):
    with serial.Serial(board.port, timeout=0.2) as port:
        port.write(b"\r\x03\r\x01")
        read_until(port, b"raw REPL; CTRL-B to exit\r\n>")
        port.write(b"\x05A\x01")
        header = port.read(4)
        assert header[:2] == b"R\x01"
        window = int.from_bytes(header[2:], "little")
        assert window > 0
        port.write(b"print(40+2)\x04")
        assert read_until(port, b"\x04") == b"\x04"  # end of data acknowledged
        assert read_until(port, b"\x04\x04>") == b"42\n\x04\x04>"


def test_main_py_runs_on_boot_and_ctrl_c_interrupts_it(board, tmp_path):
    (tmp_path / "fs" / "main.py").write_text(
        "import time\nprint('main started')\nwhile True:\n    time.sleep_ms(20)\n")
    with serial.Serial(board.port, timeout=0.2) as port:
        port.write(b"\x03\x02")  # interrupt main.py if boot already started it
        read_until(port, b">>> ")
        port.write(b"\x04")  # friendly-REPL soft reset: boot.py then main.py
        assert b"MPY: soft reboot\r\n" in read_until(port, b"main started")
        assert board.state == "executing"
    # stock mpremote interrupts the endless main.py with Ctrl-C, then works normally
    assert mpremote(board.port, "exec", "print(6*7)").stdout.strip() == "42"


def test_soft_reset_clears_state_and_hard_reset_reruns_main(board, tmp_path):
    (tmp_path / "fs" / "main.py").write_text(
        "f = open('boots.txt', 'a'); f.write('x'); f.close()\n")
    boots_file = tmp_path / "fs" / "boots.txt"
    mpremote(board.port, "exec", "kept = 1")
    result = mpremote(board.port, "exec", "print(kept)", check=False)  # mpremote soft-resets first
    assert result.returncode != 0 and "NameError" in result.stdout + result.stderr
    assert not boots_file.exists()  # a raw-REPL soft reset does not run main.py

    assert mpremote(board.port, "exec", "import machine; print(machine.reset_cause())").stdout.strip() == "1"
    mpremote(board.port, "reset")
    deadline = time.monotonic() + 10
    while not boots_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert boots_file.read_text() == "x"
    # after machine.reset() the cause is HARD_RESET, and it stays so across soft reboots
    assert mpremote(board.port, "exec", "import machine; print(machine.reset_cause())").stdout.strip() == "2"


def test_sys_exit_in_raw_repl_soft_resets(board):
    with serial.Serial(board.port, timeout=0.2) as port:
        port.write(b"\r\x03\r\x01")
        read_until(port, b"raw REPL; CTRL-B to exit\r\n>")
        boots = board.boots
        port.write(b"import sys; sys.exit()\x04")
        out = read_until(port, b"raw REPL; CTRL-B to exit\r\n>")
        assert out.startswith(b"OK\x04\x04") and b"MPY: soft reboot\r\n" in out
        assert board.boots == boots + 1


def test_board_clock_runs_at_the_chosen_speed_only_while_the_board_sleeps(board):
    # a clock sleep of 10 board seconds takes 1/100 of that in real time and moves the
    # board clock by 10 s; time awake (here a plain sleep of the interpreter) runs at real
    # speed, so a loaded host cannot push the board's samples later
    code = ("import vboard_env, time\nc = vboard_env.clock\n"
            "a = c.now_ms(); s = time.ticks_ms(); c.sleep_ms(10000); e = time.ticks_ms(); b = c.now_ms()\n"
            "r0 = time.ticks_ms(); time.sleep_ms(200); r1 = time.ticks_ms(); d = c.now_ms()\n"
            "print(b - a, time.ticks_diff(e, s), d - b, time.ticks_diff(r1, r0))")
    slept_board_ms, slept_real_ms, awake_board_ms, awake_real_ms = (
        int(x) for x in mpremote(board.port, "exec", code).stdout.split())
    assert 10000 / 100 * 0.95 <= slept_real_ms < 10000 / 10
    assert 10000 <= slept_board_ms <= 10000 + slept_real_ms + 50
    assert awake_real_ms - 2 <= awake_board_ms <= awake_real_ms + 50  # two millisecond clocks: rounding


def test_board_clock_goes_on_across_a_hard_reset(board):
    code = "import vboard_env\nvboard_env.clock.sleep_ms(100000)\nprint(vboard_env.clock.time_s())"
    before = int(mpremote(board.port, "exec", code).stdout.split()[-1])
    boots = board.boots
    mpremote(board.port, "reset")
    deadline = time.monotonic() + 10
    while board.boots == boots and time.monotonic() < deadline:
        time.sleep(0.05)
    assert board.wait_ready()
    after = int(mpremote(board.port, "exec", "import vboard_env; print(vboard_env.clock.time_s())").stdout.split()[-1])
    assert before <= after <= before + 60
    assert abs(board.board_time_s() - after) <= 5


def test_friendly_repl_echoes_and_runs_blocks(board):
    with serial.Serial(board.port, timeout=0.2) as port:
        port.write(b"\x02")
        read_until(port, b">>> ")
        time.sleep(0.2)
        port.reset_input_buffer()
        port.write(b"for i in range(2):\r print(i * 5)\r\r")
        out = read_until(port, b"5\n>>> ")
        assert out.startswith(b"for i in range(2):\r\n... ")
        assert out.endswith(b"0\n5\n>>> ")


def test_interpreter_crash_loop_halts_instead_of_spinning(tmp_path):
    require_tools()
    fake = tmp_path / "broken-micropython"
    fake.write_text("#!/bin/sh\n[ \"$1\" = -c ] && { echo 1.0.0; exit 0; }\nexit 3\n")
    fake.chmod(0o755)
    with VirtualBoard(str(tmp_path / "fs"), micropython=str(fake)) as vb:
        deadline = time.monotonic() + 5
        while vb.state != "stopped" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert vb.state == "stopped"
        assert vb.boots <= 5
        with serial.Serial(vb.port, timeout=0.2) as port:
            port.write(b"\r\x01")
            assert port.read(100) == b""  # a halted board answers nothing


def test_replay_csv_feeds_the_board_truth(tmp_path):
    require_tools()
    replay = tmp_path / "replay.csv"
    replay.write_text("timestamp_s,air_temp_c,rh_pct,label\n"
                      "1000,12.5,,normal\n1060,13.25,61,frost_night\n1120,14,62,normal\n")
    with VirtualBoard(str(tmp_path / "fs"), speed=1.0, truth_csv=str(replay), sim_t0=1000,
                      micropython=MICROPYTHON) as vb:
        assert vb.wait_ready()
        code = ("import vboard_env as v; t = v.truth\n"
                "print(t.names, t(999)['air_temp_c'], t(1060)['air_temp_c'], t(1119)['rh_pct'], t(5000)['rh_pct'])\n"
                "print(t(1000)['rh_pct'] != t(1000)['rh_pct'])")
        lines = mpremote(vb.port, "exec", code).stdout.splitlines()
    assert lines[0] == "['air_temp_c', 'rh_pct'] 12.5 13.25 61.0 62.0"
    assert lines[1] == "True"  # an empty cell is a missing value (NaN)


def test_mpremote_run_and_explicit_soft_reset(board, tmp_path):
    script = tmp_path / "job.py"
    script.write_text("import sys\nprint('ran on', sys.platform, sum(range(10)))\n")
    assert mpremote(board.port, "run", str(script)).stdout.strip() == "ran on linux 45"
    boots = board.boots
    out = mpremote(board.port, "exec", "marker = 7", "+", "soft-reset", "+", "exec",
                   "print('marker' in globals())").stdout
    assert out.strip() == "False"
    assert board.boots >= boots + 2  # the automatic soft reset on connect, then the explicit one


def test_the_vboard_runtime_reads_the_projects_time_column():
    # vboard_env runs before any firmware is deployed, so it keeps its own copy
    from verdant.quantities import TIME_COLUMN
    from verdant_host import paths
    with open(os.path.join(paths.VBOARD_RUNTIME_DIR, "vboard_env.py")) as f:
        assert 'TIME_COLUMN = "%s"' % TIME_COLUMN in f.read()


def test_fault_sensor_stuck_freezes_the_air_reading_in_its_window(tmp_path):
    """`verdant vboard --fault sensor_stuck`: the scenario's stuck air sensor reaches the
    simulated part, so the board reads one value all through the window."""
    import shutil
    from verdant_host import paths, vboard_scenario
    require_tools()
    truth_csv, start_s, faults = vboard_scenario.board_inputs(str(tmp_path), fault="sensor_stuck")
    (window,) = faults
    assert window["kind"] == "sensor_stuck" and window["quantity"] == "air_temp_c"
    fs = tmp_path / "fs"
    shutil.copytree(os.path.join(paths.DEVICE_DIR, "verdant"), fs / "lib" / "verdant")
    shutil.copy(paths.board_config("sim"), fs / "board.json")
    first, last = window["start_s"] - 2 * 3600, window["end_s"] + 2 * 3600
    vb = VirtualBoard(str(fs), speed=14400, truth_csv=truth_csv, sim_t0=first, micropython=MICROPYTHON,
                      faults=faults)
    vb.start()
    try:
        code = ("import vboard_env\nfrom verdant.board import load_board, build_sensors\n"
                "cfg = load_board('board.json')\n"
                "air = [s for s in build_sensors(cfg, vboard_env.make_hal(cfg)) if 'air_temp_c' in s.quantities][0]\n"
                "c = vboard_env.clock\n"
                "while c.time_s() < %d:\n"
                "    print('R', c.time_s(), air.measure()['air_temp_c'])\n"
                "    c.sleep_ms(300000)\n" % last)
        out = mpremote(vb.port, "exec", code, timeout=60).stdout
    finally:
        vb.stop()
    readings = [(int(t), float(v)) for _, t, v in (line.split() for line in out.splitlines() if line.startswith("R "))]
    inside = {v for t, v in readings if window["start_s"] + 60 <= t < window["end_s"]}
    outside = {v for t, v in readings if t < window["start_s"] or t >= window["end_s"] + 60}
    assert len([t for t, _ in readings if window["start_s"] + 60 <= t < window["end_s"]]) >= 20
    assert len(inside) == 1, sorted(inside)
    assert len(outside) > 3  # the same sensor varies outside the window
