"""Make a board forget what its detectors learned (learned.bin, verdant.learnedstate: the
normal band's days, the RH cross-check's dew-point offset, a CO2 set point it followed),
for a change the board cannot see itself: an RH or CO2 sensor swapped for another of the
same model (the old dew-point offset would be applied to the new one), a greenhouse
rebuilt or replanted, a board moved to another house under the same name.

Over one REPL session (which stops the firmware: nothing it holds in RAM is written back)
the board's learned.bin.tmp is removed and learned.bin is replaced, written aside and
renamed over it once its hash checks, by a "forgotten" file: a learned-state header of
version 0 with no parts and its CRC. The restarted firmware reads it, says so in a status
line ({"learned":"forgotten","why":"cleared by verdant forget-learned: ..."}) and learns
from scratch; its first hourly write replaces the file. Cut off midway, the board keeps
the old file or has the forgotten one (or, cut between FAT's remove and rename, none: it
learns from scratch too, without the status line).

MicroPython-compatible down to forgotten_file() (the device tests read its file with the
board's own code); the transport is imported only where a board is reached.

Example:
    forget_learned("/dev/ttyUSB0")      # {"had": ["learned.bin"], "port": "/dev/ttyUSB0"}
"""
import struct
import time

from verdant.crc32 import crc32
from verdant.hal import FIRMWARE_EPOCH

LEARNED_REMOTE = "learned.bin"         # verdant.learnedstate.FILE, in the board's root
STAGING = "learned.forget"
# verdant.learnedstate's 44-byte header: magic, version (0: forgotten), parts (none), written at
# (firmware seconds), utc_offset_s, board key (none: any board), the band's 6 day numbers (-1 none)
_HEAD = "<4sHHiiI6i"


def forgotten_file(unix_s):
    """The 48 bytes that replace learned.bin: a header of version 0 with no parts, then its CRC-32."""
    head = struct.pack(_HEAD, b"VLRN", 0, 0, int(unix_s) - FIRMWARE_EPOCH, 0, 0, -1, -1, -1, -1, -1, -1)
    return head + struct.pack("<I", crc32(head))


def forget_on_link(link, clock=time.time):
    """On an open BoardLink (verdant_host.deploy_transport): the forgotten file in place of
    learned.bin, learned.bin.tmp removed. Returns the learned-state files the board had."""
    import hashlib
    from verdant_host.errors import VerdantError
    tmp = LEARNED_REMOTE + ".tmp"
    had = [path for path, digest in sorted(link.hashes([LEARNED_REMOTE, tmp]).items()) if digest is not None]
    link.remove(tmp)  # first: a board finding no learned.bin reads a leftover learned.bin.tmp
    data = forgotten_file(clock())
    link.write_file(STAGING, data)
    if link.install([(STAGING, LEARNED_REMOTE, hashlib.sha256(data).hexdigest())]):
        link.remove(STAGING)
        raise VerdantError("forget-learned: the board's copy of the forgotten file does not match what was sent "
                           "(bytes lost on the serial line?); %s is unchanged, run it again" % LEARNED_REMOTE)
    return had


def forget_learned(port, transport="mpremote", baudrate=115200, clock=time.time, resume=True):
    """forget_on_link over a session of its own; resume (default) restarts the firmware (a soft
    reset runs main.py), which then says it learns from scratch. Returns {"had": [...], "port": port}."""
    from verdant_host.deploy_transport import open_transport
    with open_transport(transport, port, baudrate, "forget-learned") as link:
        try:
            _feed_watchdog(link)
            had = forget_on_link(link, clock)
        finally:
            if resume:
                link.resume_firmware()
    return {"had": had, "port": port}


def _feed_watchdog(link):
    """A watchdog the firmware started keeps running through the REPL session (esp32, rp2): fed
    on every exec, at the timeout the board's own board.json gives (none: nothing to feed)."""
    import json
    try:
        timeout = json.loads(link.read_text("board.json") or "{}").get("watchdog_timeout_ms")
    except ValueError:
        return  # a torn board.json: the board runs on board.good.json; the session is short
    if timeout:
        link.feed_watchdog(timeout)
