"""Heap budgets: the whole firmware (device/main.py's path: app, the sim board's five
sensors, the default model, flash log, protocol) for two simulated days.

On the 32-bit Unix port with the firmware frozen in (`make unix32 MPY_DIR=...`, the
sim32 board) it must run in the board's heap_bytes (96 KB). Without MPY_DIR that part
skips. CI always runs the same measurement on the x64 port (modules from source), where
the heap the firmware's data needs is held to the 32-bit data budget scaled by the
x64/32-bit factor (docs/firmware.md#heap-budgets, BENCHMARKS.md)."""
import json
import os
import shutil
import subprocess

import pytest

from verdant_host.make_lock import run_make

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "tests", "device", "budget_firmware.py")
UNIX32 = os.path.join(REPO, "build", "unix32", "micropython32")
TWO_DAYS = 172800
# Measured with budget_firmware.py (BENCHMARKS.md "Firmware heap"): the heap the frozen
# firmware's modules take on the 32-bit port, and x64/32-bit for the firmware's data.
FROZEN_CODE_32 = 32900
X64_DATA_FACTOR = 1.87
# The firmware's data (steady max - code) after issue 11's heap work (session 7: the sensor-fault
# detectors' state and the feature window in arrays, model layers' fields in one tuple;
# docs/firmware.md#heap-budgets): 44 400 B on the frozen 32-bit port and 96 512 B on x64 from
# source (47 488 and 100 928 B before), each bound about 1 KB of board heap above it, so a
# regression that size fails here. Session 8's normal-band settling and dusk state (a fresh
# start's first 70 min, the first half hour of the dark) brought x64 to 98 528 B with MPY_DIR
# set; the 32-bit bound still holds, so only the x64 one moves.
DATA_32_MAX = 45400
DATA_X64_MAX = 99000


def heap_budget(board):
    with open(os.path.join(REPO, "boards", board + ".json")) as f:
        return json.load(f)["heap_bytes"]


def measure(micropython, fs, path, heap):
    proc = subprocess.run([micropython, "-X", "heapsize=%d" % heap, SCRIPT, str(TWO_DAYS)], cwd=fs,
                          env=dict(os.environ, MICROPYPATH=path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "MemoryError" not in proc.stdout
    return json.loads(proc.stdout.strip().split("\n")[-1])


@pytest.fixture
def fs(tmp_path):
    shutil.copy(os.path.join(REPO, "boards", "sim.json"), tmp_path / "board.json")
    shutil.copy(os.path.join(REPO, "models", "default", "model.bin"), tmp_path / "model.bin")
    return str(tmp_path)


def _stale(binary, folders):
    """The first .py under these repo folders newer than the binary, or None."""
    built = os.path.getmtime(binary)
    for folder in folders:
        for root, _, files in os.walk(os.path.join(REPO, folder)):
            for name in files:
                if name.endswith(".py") and os.path.getmtime(os.path.join(root, name)) > built:
                    return os.path.join(root, name)
    return None


def built_with_mpy_dir(binary, target, folders, what):
    """binary, (re)built by `make target MPY_DIR=...` when it is missing or older than the
    code frozen into it (folders); skips saying why when that is needed and MPY_DIR is unset."""
    if not os.path.exists(binary) or _stale(binary, folders):
        mpy_dir = os.environ.get("MPY_DIR")
        if not mpy_dir:
            why = "missing" if not os.path.exists(binary) else "older than %s" % _stale(binary, folders)
            pytest.skip("%s: %s is %s; set MPY_DIR (make %s MPY_DIR=...)" % (what, binary, why, target))
        proc = run_make([target, "MPY_DIR=" + mpy_dir], timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
    return binary


@pytest.fixture(scope="module")
def unix32():
    """The frozen 32-bit Unix port (the firmware and the vboard runtime frozen in)."""
    return built_with_mpy_dir(UNIX32, "unix32", ("device", "vboard"), "32-bit budget")


def _assert_runs_flat(figures):
    assert figures["model"] is True and figures["errors"] == 0
    # flat: the second day needs no more heap than the first (1 KB for the timing of collections)
    assert figures["steady_second_day_max"] <= figures["steady_first_day_max"] + 1024, figures


def test_whole_firmware_runs_two_days_in_the_sim32_heap_budget(unix32, fs):
    budget = heap_budget("sim32")
    figures = measure(unix32, fs, ".frozen", budget)  # the interpreter's heap is the budget
    _assert_runs_flat(figures)
    assert figures["heap"] <= budget
    assert abs(figures["code"] - FROZEN_CODE_32) < 4096, "update FROZEN_CODE_32 (and docs): %r" % figures
    data = figures["steady_max"] - figures["code"]
    assert data <= DATA_32_MAX, "firmware data %d B on the 32-bit port > %d B: %r" % (data, DATA_32_MAX, figures)


def test_whole_firmware_data_within_the_scaled_budget_on_x64(fs):
    micropython = os.environ.get("MICROPYTHON") or os.path.join(REPO, ".venv", "bin", "micropython")
    if not os.path.exists(micropython):
        pytest.skip("micropython Unix port not found at %s" % micropython)
    figures = measure(micropython, fs, os.path.join(REPO, "device"), 2_000_000)
    _assert_runs_flat(figures)
    data_budget = (heap_budget("sim32") - FROZEN_CODE_32) * X64_DATA_FACTOR
    data = figures["steady_max"] - figures["code"]
    assert data <= data_budget, "firmware data %d B on x64 > %d B (96 KB budget scaled): %r" % (
        data, data_budget, figures)
    assert data <= DATA_X64_MAX, "firmware data %d B on x64 > %d B (measured after issue 11's heap work): %r" % (
        data, DATA_X64_MAX, figures)


def test_sim32_virtual_board_two_days_in_96kb_alerts_the_heating_failure(unix32, tmp_path):
    # The bar: the 32-bit port, the sim32 board's 96 KB heap, a real deploy over the
    # serial line, two simulated days with a heating failure the first night.
    from verdant_host.demo import run_demo
    import io
    out = io.StringIO()
    monitor = run_demo(board="sim32", speed=14400, days=2.0, work_dir=str(tmp_path), out=out, micropython=unix32)
    text = out.getvalue()
    assert "heap %d bytes" % heap_budget("sim32") in text
    assert "MemoryError" not in text and "safe_mode=True" not in text
    assert text.count("model=on") >= 40  # every hourly status line after boot
    raised = [a[1] for a in monitor.alerts if a[3] == "raise"]
    assert "heating_failure" in raised, raised
