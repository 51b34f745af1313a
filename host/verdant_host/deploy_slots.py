"""Where the firmware lives on a board, so that a deploy cut off at any point leaves a board
that boots the old or the new firmware, never a mix.

The compiled modules (and the native module) go into a folder named after their content,
fw/<id>/ (id: the first 10 hex digits of a hash over every file's path and sha256). The
board's main.py is device/main.py with one line in front that puts that folder first on
sys.path. A deploy fills the new folder (files already on the board are copied there on
the board; each file is written to a temporary name, its hash checked, then renamed), then
board.json, boot.py and the model, and writes main.py last: renaming main.py into place
is the switch. Older folders, and firmware from before folders (lib/verdant), are removed
only after the switch.

Example:
    slot = slot_name({"verdant/app.mpy": "ab12...", ...})   # "fw/3fa2b1c0d4"
    main = main_with_slot(open("device/main.py", "rb").read(), slot)
    active_slot(main.decode())                                # "fw/3fa2b1c0d4"
"""
import hashlib

SLOT_ROOT = "fw"
LEGACY_SLOT = "lib"  # firmware deployed before slots: lib/verdant, lib/verdant_nn.mpy
_MARK = "# verdant deploy: firmware folder"


def slot_name(file_hashes):
    """fw/<id> for {path inside the slot: sha256 hex} (the same files give the same id)."""
    digest = hashlib.sha256()
    for path in sorted(file_hashes):
        digest.update(("%s %s\n" % (path, file_hashes[path])).encode())
    return "%s/%s" % (SLOT_ROOT, digest.hexdigest()[:10])


def main_with_slot(main_source, slot):
    """The board's main.py: device/main.py behind one line that puts slot first on sys.path
    (relative: a board's and the virtual board's working folder is the filesystem root)."""
    line = "import sys; sys.path.insert(0, %r)  %s\n" % (slot, _MARK)
    return line.encode() + bytes(main_source)


def active_slot(main_text):
    """The firmware folder a board's main.py points at: fw/<id>, or lib for firmware
    deployed before folders (or no main.py at all)."""
    first = (main_text or "").split("\n", 1)[0]
    if _MARK in first and "sys.path.insert(0, " in first:
        quoted = first.split("sys.path.insert(0, ", 1)[1].split(")", 1)[0]
        return quoted.strip("'\"")
    return LEGACY_SLOT


def in_slot(plan_path):
    """lib/verdant/app.mpy -> verdant/app.mpy: a planned firmware file's path inside a slot
    (None for files that live in the board's root: main.py, boot.py, board.json)."""
    return plan_path[4:] if plan_path.startswith(LEGACY_SLOT + "/") else None
