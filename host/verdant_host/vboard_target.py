"""Which interpreter and heap a virtual board gets for a board config, and the config a
virtual board can run for any board.

A virtual board is the MicroPython Unix port. For the `sim` board (x64) it is the
pinned wheel's interpreter, modules deployed as .mpy files (code in the heap), heap
`heap_bytes` of boards/sim.json. For every other board it is the 32-bit Unix port with
the firmware frozen in (`make unix32 MPY_DIR=...`, build/unix32/micropython32) when
built, with the board's own heap budget (`heap_bytes`), so the board's RAM is what the
firmware gets; without it the wheel's interpreter with an unlimited heap, said so.

Example:
    micropython, heap, note = interpreter_for(load_board_config("pico"))
    config_path = virtual_config("pico", "build/demo")    # pico's sensors, the vboard's arch
"""
import json
import os
import subprocess

from verdant_host import paths
from verdant_host.errors import VerdantError

UNIX32 = paths.build_dir("unix32", "micropython32")


def has_frozen_firmware(micropython):
    """True when the interpreter has the firmware frozen in (make unix32)."""
    try:
        return subprocess.run([micropython, "-c", "import sys; sys.path.append('.frozen'); import verdant.startup"],
                              capture_output=True, timeout=20,
                              env=dict(os.environ, MICROPYPATH="")).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def interpreter_for(config, micropython=None, heap_bytes=None):
    """(micropython path, heap bytes or None, note or None) for a virtual board running
    this board config. Raises VerdantError when the board needs the 32-bit port and it
    is not built."""
    note = None
    if micropython is None:
        if config["arch"] == "x64":
            micropython = paths.micropython()
        elif os.path.exists(UNIX32):
            micropython = UNIX32
        elif config["arch"] == "x86":
            raise VerdantError("vboard: board %s runs on the 32-bit Unix port: build it with "
                               "`make unix32 MPY_DIR=/path/to/micropython-v1.28.0` (or give --micropython)"
                               % config["name"])
        else:
            micropython = paths.micropython()
            note = ("no 32-bit Unix port built (make unix32 MPY_DIR=...): %s runs on %s with an unlimited heap"
                    % (config["name"], micropython))
    if heap_bytes is None and note is None and "heap_bytes" in config:
        if config["arch"] == "x64" or has_frozen_firmware(micropython):
            heap_bytes = config["heap_bytes"]
        else:
            note = "%s has no firmware frozen in: heap not limited to %s's %d bytes" % (
                micropython, config["name"], config["heap_bytes"])
    return micropython, heap_bytes, note


def interpreter_arch(micropython):
    """The native arch the interpreter runs .mpy files for (from sys.implementation._mpy)."""
    from verdant_host.deploy import decode_mpy_abi
    try:
        out = subprocess.run([micropython, "-c", "import sys; print(sys.implementation._mpy)"],
                             capture_output=True, text=True, timeout=20).stdout.split()
        value = int(out[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        raise VerdantError("vboard: cannot ask %s for its .mpy arch (%s)" % (micropython, exc))
    return decode_mpy_abi(value & 0xFF, value >> 8)[0]


def virtual_config(board, work_dir, micropython=None):
    """Path of a board config for a virtual board: `board`'s sensors, buses and budget on
    the Unix port (its arch, no light sleep). `sim` and `sim32` are returned as they are."""
    from verdant_host.deploy import load_board_config
    config = load_board_config(board)
    if config["port"] == "unix":
        return paths.board_config(board)
    micropython = micropython or interpreter_for(config)[0]
    config = dict(config, port="unix", arch=interpreter_arch(micropython), sleep_mode="none",
                  description="%s on a virtual board (%s)" % (config["name"], config.get("description", "")))
    os.makedirs(work_dir, exist_ok=True)
    path = os.path.join(work_dir, "board-%s.json" % config["name"])
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    return path
