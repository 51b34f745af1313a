"""`verdant forget-learned` over the stock REPL transports on the virtual board: the board's
learned.bin becomes the forgotten file the firmware reads as "learn from scratch"
(tests/device/test_learnedstate.py boots the firmware on it), learned.bin.tmp goes, the
watchdog the firmware runs is fed through the session, the firmware runs again afterwards;
and `verdant deploy --forget-learned` does the same after its install."""
import json
import os
import struct
import time
import zlib

import pytest

from verdant.hal import FIRMWARE_EPOCH
from verdant_host import cli, paths
from verdant_host.vboard import VirtualBoard
from vboard_helpers import MICROPYTHON, require_tools

# main.py notes, at each start, the version byte of the learned.bin it finds (what the
# firmware would read), then feeds the watchdog it started until interrupted
MAIN = ("import machine, time\nw = machine.WDT(timeout=1500)\n"
        "try:\n    v = open('learned.bin', 'rb').read(6)[4]\nexcept OSError:\n    v = 'none'\n"
        "open('starts', 'a').write('%s ' % v)\n"
        "while True:\n    w.feed()\n    time.sleep_ms(100)\n")


def starts(fs, count, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(fs / "starts"):
            seen = open(fs / "starts").read().split()
            if len(seen) >= count:
                return seen
        time.sleep(0.05)
    return open(fs / "starts").read().split() if os.path.exists(fs / "starts") else []


def assert_forgotten(fs, before_s):
    data = open(fs / "learned.bin", "rb").read()
    assert len(data) == 48, len(data)
    magic, version, parts, written = struct.unpack_from("<4sHHi", data)
    assert (magic, version, parts) == (b"VLRN", 0, 0)
    assert before_s - FIRMWARE_EPOCH <= written <= time.time() - FIRMWARE_EPOCH + 1
    assert struct.unpack_from("<I", data, 44)[0] == zlib.crc32(data[:44])
    assert not os.path.exists(fs / "learned.bin.tmp") and not os.path.exists(fs / "learned.forget")


@pytest.mark.timeout(90)  # a board reset by its watchdog mid-session leaves the transport waiting: fail, not hang
def test_forget_learned_replaces_the_file_feeds_the_watchdog_and_restarts_the_firmware(tmp_path, capsys,
                                                                                        monkeypatch):
    require_tools()
    from verdant_host import learned_forget
    real = learned_forget.forget_on_link

    def slow_link(link, clock=time.time):  # a slow serial line: the session outlasts the watchdog's 1.5 s
        for _ in range(3):
            link.exec("print(1)")
            time.sleep(0.9)
        return real(link, clock)
    monkeypatch.setattr(learned_forget, "forget_on_link", slow_link)
    fs = tmp_path / "fs"
    fs.mkdir()
    (fs / "main.py").write_text(MAIN)
    (fs / "board.json").write_text(json.dumps({"name": "house3", "watchdog_timeout_ms": 1500}))
    (fs / "learned.bin").write_bytes(b"VLRN\x02\x00" + bytes(1314))
    (fs / "learned.bin.tmp").write_bytes(b"VLRN\x02\x00" + bytes(1342))
    vb = VirtualBoard(str(fs), micropython=MICROPYTHON, enforce_watchdog=True)
    vb.start()
    try:
        assert starts(fs, 1) == ["2"]
        before = time.time()
        assert cli.main(["forget-learned", "--port", vb.port]) == 0
        out = capsys.readouterr().out
        assert "had learned.bin and learned.bin.tmp" in out and '"learned": "forgotten"' in out, out
        assert_forgotten(fs, int(before))
        assert starts(fs, 2) == ["2", "0"], "main.py did not run again, or did not find the forgotten file"
        time.sleep(2.0)
        assert vb.watchdog_resets == 0
        # again, with ampy, on a board with nothing learned since: said so, the same file
        os.remove(fs / "learned.bin")
        assert cli.main(["forget-learned", "--port", vb.port, "--transport", "ampy"]) == 0
        assert "had no learned-state file" in capsys.readouterr().out
        assert_forgotten(fs, int(before))
        assert starts(fs, 3) == ["2", "0", "0"]
    finally:
        vb.stop()


def test_forget_learned_needs_a_port(capsys, monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    assert cli.main(["forget-learned"]) == 1
    assert "no serial port" in capsys.readouterr().err
