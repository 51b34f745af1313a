"""The heap budget on an emulated Cortex-M3: MicroPython's qemu port (MPS2_AN385, stock
heap about 139 KB) built with the firmware frozen in (`make qemu-frozen MPY_DIR=...`),
left exactly the sim32 board's heap_bytes (96 KB) by a ballast block, runs the whole
firmware (the five sensors of sim with their simulated parts, the default model on the
viper backend, a RAM flash log) for two simulated days (verdant_host.budget_qemu).
Without MPY_DIR (and no firmware built) it skips."""
import shutil

import pytest

from test_budget import REPO, built_with_mpy_dir, heap_budget

from verdant_host import budget_qemu


@pytest.fixture(scope="module")
def qemu_firmware():
    if shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm not installed (make setup installs it)")
    return built_with_mpy_dir(budget_qemu.QEMU_FROZEN, "qemu-frozen", ("device",), "qemu budget")


def test_two_days_in_the_96kb_budget_on_a_cortex_m3(qemu_firmware):
    budget = heap_budget("sim32")
    figures = budget_qemu.measure(REPO, qemu_firmware, budget=budget)  # a MemoryError raises here
    assert figures["model"] and figures["backend"] in ("viper", "natmod"), figures
    assert figures["errors"] == 0 and figures["error_lines"] == [], figures
    assert figures["heap"] <= budget and figures["in_use"] < figures["heap"], figures
    assert figures["imports"] < 32 * 1024, figures  # frozen: module objects only (measured 21 104 B)
