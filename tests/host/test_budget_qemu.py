"""The heap budget on an emulated Cortex-M3: MicroPython's qemu port (MPS2_AN385, stock
heap about 139 KB) built with the firmware frozen in (`make qemu-frozen MPY_DIR=...`),
left exactly the sim32 board's heap_bytes (96 KB) by a ballast block, runs the whole
firmware (the five sensors of sim with their simulated parts, the default model on the
viper backend, a RAM flash log) for two simulated days (verdant_host.budget_qemu).
Without MPY_DIR (and no firmware built) it skips."""
import os
import shutil
import subprocess

import pytest

from test_budget import REPO, heap_budget

from verdant_host import budget_qemu


def _stale(binary):
    built = os.path.getmtime(binary)
    for root, _, files in os.walk(os.path.join(REPO, "device")):
        for name in files:
            if name.endswith(".py") and os.path.getmtime(os.path.join(root, name)) > built:
                return os.path.join(root, name)
    return None


@pytest.fixture(scope="module")
def qemu_firmware():
    if shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm not installed (make setup installs it)")
    firmware = budget_qemu.QEMU_FROZEN
    mpy_dir = os.environ.get("MPY_DIR")
    if not os.path.exists(firmware) or _stale(firmware):
        if not mpy_dir:
            why = "missing" if not os.path.exists(firmware) else "older than %s" % _stale(firmware)
            pytest.skip("qemu budget: %s is %s; set MPY_DIR (make qemu-frozen MPY_DIR=...)" % (firmware, why))
        proc = subprocess.run(["make", "-s", "qemu-frozen", "MPY_DIR=" + mpy_dir], cwd=REPO, capture_output=True,
                              text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
    return firmware


def test_two_days_in_the_96kb_budget_on_a_cortex_m3(qemu_firmware):
    budget = heap_budget("sim32")
    figures = budget_qemu.measure(REPO, qemu_firmware, budget=budget)  # a MemoryError raises here
    assert figures["model"] and figures["backend"] in ("viper", "natmod"), figures
    assert figures["errors"] == 0 and figures["error_lines"] == [], figures
    assert figures["heap"] <= budget and figures["in_use"] < figures["heap"], figures
    assert figures["imports"] < 32 * 1024, figures  # frozen: module objects only (measured 21 104 B)
