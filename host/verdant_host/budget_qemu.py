"""The heap budget on a real 32-bit core: the firmware on MicroPython's `qemu` port
(MPS2_AN385, Cortex-M3, its stock heap of about 139 KB) built with the firmware frozen
in (`make qemu-frozen MPY_DIR=...`: code in flash, as a board with a custom build runs
it), the sim32 board config (the five sensors of `sim`) with their simulated parts, the default model on the viper
backend, a RAM flash log; board.json and model.bin come in a ROMFS image.

(The same firmware as .mpy files in the ROMFS image does not fit: on this port their
bytecode and viper machine code are loaded into the heap, 46 KB after the app's imports
and 116 KB once the model is loaded, and the first sample ran out of heap.)

It runs SETTLE_S of board time (the feature window fills, the model runs), collects,
then RUN_S more, and reports the heap in use after a collection at the end, the most in
use seen before the app's per-step collections, the largest free block, and errors:

    {"backend": "viper", "model": true, "errors": 0, "imports": 20123, "loaded": 45678,
     "in_use": 61234, "peak": 80123, "heap": 138000, "max_free_block": 20480}

imports: heap after the app's imports; loaded: after the model is loaded; heap: what the
firmware had (the port's heap, or the budget).

tests/host/test_budget_qemu.py holds "peak" to the sim32 board's heap_bytes (96 KB).
"""
import os
import tempfile

from verdant_host import paths
from verdant_host.bench_energy import ROMFS_ADDR, run_on_qemu

QEMU_FROZEN = paths.build_dir("qemu-frozen", "firmware.elf")
SETTLE_S = 4 * 3600
RUN_S = 44 * 3600  # two days in all

_SCRIPT = """
import gc, micropython, os, sys, uctypes, vfs
vfs.mount(vfs.VfsRom(uctypes.bytearray_at(%(addr)d, %(size)d)), '/rom')
gc.collect()
ballast = None
if %(budget)d:  # leave the firmware exactly the budget: the rest of the heap in one block
    ballast = bytearray(gc.mem_alloc() + gc.mem_free() - %(budget)d - 64)
gc.collect()
base = gc.mem_alloc()
from verdant import app as appmod
from verdant.board import load_board
from verdant.sim import make_sim_hal
from verdant.hal.sim import SimClock
from memfs import MemFS
board = load_board('/rom/board.json')
gc.collect()
print('IMPORTED', gc.mem_alloc() - base, gc.mem_free())
env = {'air_temp_c': 21.5, 'rh_pct': 64.0, 'co2_ppm': 650.0, 'light_lux': 12000.0,
       'soil_moisture_pct': 38.0, 'soil_temp_c': 18.0}
hal = make_sim_hal(board, SimClock(start_s=1767225600 + 8 * 3600), env, log_traffic=False)
fs = MemFS()
class Discard:  # model.prev, learned.bin: a board keeps them in flash; copies in this RAM file system would be heap
    def write(self, data):
        return len(data)
    def close(self):
        pass
def opener(path, mode='rb'):  # ROMFS is read-only: the flash log goes to a small RAM file system
    if path.endswith('model.prev') or 'learned.bin' in path:
        if 'w' in mode:
            return Discard()
        raise OSError(2)
    return open(path, mode) if path.startswith('/rom/') else fs.open(path, mode)
def stat(path):  # ROMFS has no modification times
    st = os.stat(path)
    return st[:8] + (1767225600,) + st[9:]
error_lines = []
def out(line):
    if b'"k":"error"' in line and len(error_lines) < 3:
        error_lines.append(bytes(line))
app = appmod.App(hal, board, out=out, opener=opener, stat=stat, model_path='/rom/model.bin',
                 settings={'log_records': 64})
peak = [0]
collect = app.collect
def measured_collect():
    peak[0] = max(peak[0], gc.mem_alloc() - base)
    collect()
app.collect = measured_collect
app.boot_status()
app.load_model()
gc.collect()
print('LOADED', gc.mem_alloc() - base, gc.mem_free(), app.engine.backend if app.engine else None)
app.run(%(settle)d)
app.run(%(run)d)
gc.collect()
print('BUDGET', app.engine.backend if app.engine else 'none', app.errors, gc.mem_alloc() - base, peak[0],
      gc.mem_alloc() + gc.mem_free() - base)
micropython.mem_info()
for line in error_lines:
    print('ERRORLINE', line)
"""


def data_romfs(repo, board):
    """ROMFS image bytes with board.json and model.bin (the code is frozen in the firmware)."""
    from mpremote.romfs import VfsRomWriter
    rom = VfsRomWriter()
    with open(os.path.join(repo, "boards", board + ".json"), "rb") as f:
        rom.mkfile("board.json", f.read())
    with open(os.path.join(repo, "models", "default", "model.bin"), "rb") as f:
        rom.mkfile("model.bin", f.read())
    return rom.finalise()


def measure(repo, firmware=QEMU_FROZEN, board="sim32", budget=0, timeout=600):
    """The figures above (a dict), or None when the frozen qemu firmware is not built.
    budget > 0: a ballast block takes the rest of the heap first, so the firmware has
    exactly `budget` bytes (a MemoryError then raises RuntimeError here)."""
    if not os.path.exists(firmware):
        return None
    with tempfile.TemporaryDirectory() as workdir:
        image = data_romfs(repo, board)
        out, err = run_on_qemu(firmware, image, workdir,
                               _SCRIPT % {"addr": ROMFS_ADDR, "size": len(image), "settle": SETTLE_S,
                                          "run": RUN_S, "budget": budget}, timeout)
    words = [line.split() for line in out.splitlines() if line.startswith("BUDGET ")]
    if err.strip() or not words:
        raise RuntimeError("firmware on the qemu port failed:\n%s%s" % (out[-2000:], err[-2000:]))
    backend, errors, in_use, peak, heap = words[-1][1:6]
    imported = [line.split() for line in out.splitlines() if line.startswith("IMPORTED ")]
    loaded = [line.split() for line in out.splitlines() if line.startswith("LOADED ")]
    error_lines = [line[10:] for line in out.splitlines() if line.startswith("ERRORLINE ")]
    max_free = [line for line in out.splitlines() if "max free sz" in line]
    blocks = int(max_free[-1].rsplit(":", 1)[1]) if max_free else None
    return {"backend": backend, "model": backend != "none", "errors": int(errors), "in_use": int(in_use),
            "imports": int(imported[-1][1]) if imported else None, "loaded": int(loaded[-1][1]) if loaded else None,
            "peak": int(peak), "heap": int(heap), "error_lines": error_lines, "max_free_block": None if blocks is None else blocks * 16}
