"""Deploys that cannot brick: a deploy cut off anywhere leaves a board that boots the old or
the new firmware; the board's arch and .mpy ABI are checked before anything is copied; a
board whose watchdog runs takes a whole deploy; the RTC is set; pull-logs leaves the
firmware running."""
import json
import os
import shutil
import time

import pytest
import serial

from verdant_host import deploy as deploy_mod, paths
from verdant_host.deploy import check_board, deploy
from verdant_host.deploy_slots import active_slot
from verdant_host.deploy_transport import BoardLink, open_transport, rtc_datetime
from verdant_host.errors import VerdantError
from verdant_host.pull_logs import pull_logs
from verdant_host.vboard import VirtualBoard
from deploy_helpers import tiny_model
from vboard_helpers import MICROPYTHON, read_until, require_tools

# The board's main.py for these tests: it imports from the deployed firmware folder, loads
# the model with the deployed parser and says which firmware and model it booted.
BOOT_MAIN = ("import verdant\n"
             "from verdant import engine\n"
             "m = engine.load('model.bin')\n"
             "print('booted', getattr(verdant, 'DEPLOY_TEST_MARK', 'old'), m.model.meta['name'])\n")
CHANGED_MODULES = ("__init__.py", "features.py", "engine/modelfile.py", "app.py")


class Killed(BaseException):
    """The deploy process dies here (not an Exception: nothing in deploy may catch it)."""


class KillingLink:
    """A real transport whose host side dies at the n-th exec; records what each exec did."""

    def __init__(self, link, kill_at=None):
        self.link = link
        self.kill_at = kill_at
        self.calls = []  # (kind, file being written) per exec
        self._writing = None

    def exec(self, code):
        if code.startswith("f=open("):
            self._writing = code.split("'")[1]
        kind = "chunk" if code.startswith("w(") else "close" if code == "f.close()" else code.split("\n")[0][:30]
        self.calls.append((kind, self._writing))
        if self.kill_at is not None and len(self.calls) > self.kill_at:
            raise Killed()
        return self.link.exec(code)

    def __getattr__(self, name):
        attr = getattr(self.link, name)
        if name in ("write_file", "hashes", "install", "copy", "read_text", "set_rtc", "verify_model",
                    "list_dir", "list_files", "remove", "remove_tree", "mkdir", "feed_watchdog"):
            return getattr(BoardLink, name).__get__(self)  # route the operation's execs through us
        return attr

    _feed = ""

    def run(self, code):
        return self.exec(code)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is Killed:  # a killed process closes nothing gracefully: just the port
            self.link.transport.close()
            self.link.port_lock.release()
        else:
            self.link.__exit__(*exc)


@pytest.fixture(scope="module")
def firmwares(tmp_path_factory):
    """(old manifest, new manifest, build dirs): the new firmware differs in several modules."""
    require_tools()
    root = tmp_path_factory.mktemp("firmware")
    new_device = root / "device"
    shutil.copytree(paths.DEVICE_DIR, new_device, ignore=shutil.ignore_patterns("native", "__pycache__"))
    for rel in CHANGED_MODULES:
        with open(new_device / "verdant" / rel, "a") as f:
            f.write("\nDEPLOY_TEST_MARK = 'new'\n")
    main = root / "main.py"
    main.write_text(BOOT_MAIN)
    models = {}
    for name in ("m1", "m2"):
        models[name] = root / (name + ".bin")
        models[name].write_bytes(tiny_model(name, bias=3 if name == "m1" else 9, hidden=120))
    return {"old": None, "new": str(new_device / "manifest.py"), "main": str(main), "models": models,
            "build": {"old": str(root / "build-old"), "new": str(root / "build-new")}, "root": root}


def _deploy(port, fw, version, model, **kw):
    return deploy("sim", port, str(fw["models"][model]), main_py=fw["main"], build_dir=fw["build"][version],
                  manifest_path=fw[version], reset=False, **kw)


def _boot(fs_dir):
    """Power the board up on fs_dir; returns what main.py printed (b"booted <fw> <model>")."""
    vb = VirtualBoard(fs_dir, micropython=MICROPYTHON)
    port_name = vb.start()
    try:
        with serial.Serial(port_name, timeout=0.1) as port:
            port.write(b"\r\x02")  # friendly REPL: main.py has run when the prompt shows
            out = read_until(port, b">>> ", timeout=60)  # main.py runs first: slow on a loaded machine
    finally:
        vb.stop()
    return out


@pytest.fixture(scope="module")
def old_board(firmwares):
    """A board folder with the old firmware and model m1 deployed (copied for every kill)."""
    fs = firmwares["root"] / "old-fs"
    vb = VirtualBoard(str(fs), micropython=MICROPYTHON)
    vb.start()
    try:
        _deploy(vb.port, firmwares, "old", "m1")
    finally:
        vb.stop()
    assert b"booted old m1" in _boot(str(fs))
    return str(fs)


def test_a_deploy_killed_anywhere_leaves_a_board_that_boots_old_or_new(firmwares, old_board, tmp_path, monkeypatch):
    real_open = deploy_mod.open_transport
    recorder = {}

    def open_recording(*args, **kw):
        recorder["link"] = KillingLink(real_open(*args, **kw), kill_at=recorder.get("kill_at"))
        return recorder["link"]

    monkeypatch.setattr(deploy_mod, "open_transport", open_recording)
    # a whole deploy first, to know its steps
    fs = str(tmp_path / "full")
    shutil.copytree(old_board, fs)
    vb = VirtualBoard(fs, micropython=MICROPYTHON)
    vb.start()
    try:
        _deploy(vb.port, firmwares, "new", "m2")
    finally:
        vb.stop()
    assert b"booted new m2" in _boot(fs)
    calls = recorder["link"].calls

    def first(pred):
        return next(i for i, call in enumerate(calls) if pred(call))

    chunks = [i for i, (kind, path) in enumerate(calls) if kind == "chunk" and path.endswith(".mpy.tmp")]
    model_chunks = [i for i, (kind, path) in enumerate(calls) if kind == "chunk" and path == "model.new"]
    main_chunks = [i for i, (kind, path) in enumerate(calls) if kind == "chunk" and path == "main.py.tmp"]
    installs = [i for i, (kind, _) in enumerate(calls) if kind.startswith("import hashlib")]
    assert len(chunks) > 3 and len(model_chunks) > 1 and main_chunks and len(installs) >= 4
    points = sorted({0, first(lambda c: c[0].startswith("import os")), chunks[0], chunks[len(chunks) // 2],
                     chunks[-1], installs[1], installs[1] + 1, model_chunks[0], model_chunks[-1],
                     model_chunks[-1] + 2, installs[-2], main_chunks[0], installs[-1], installs[-1] + 1,
                     len(calls) - 1})
    assert len(points) >= 10
    seen = set()
    for point in points:
        fs = str(tmp_path / ("kill%d" % point))
        shutil.copytree(old_board, fs)
        recorder["kill_at"] = point
        vb = VirtualBoard(fs, micropython=MICROPYTHON)
        vb.start()
        try:
            with pytest.raises(Killed):
                _deploy(vb.port, firmwares, "new", "m2")
        finally:
            vb.stop()
        out = _boot(fs)
        booted = [line for line in out.decode(errors="replace").splitlines() if line.startswith("booted")]
        assert booted and booted[0].split()[1] in ("old", "new"), (point, calls[point], out)
        assert booted[0].split()[2] in ("m1", "m2"), (point, out)
        seen.add(booted[0].split()[1])
    assert seen == {"old", "new"}  # the kill points span the switch


def test_the_board_is_checked_before_anything_is_copied():
    class Board(BoardLink):
        def __init__(self, mpy):
            self.mpy, self.codes = mpy, []

        def run(self, code):
            self.codes.append(code)
            return b"%d\n" % self.mpy

    config = {"name": "pico", "arch": "armv6m"}
    x64_63 = 6 | (2 << 2 | 3) << 8   # sys.implementation._mpy of the x64 Unix port, v1.28
    with pytest.raises(VerdantError, match="pico is for arch armv6m but the board on this port reports x64"):
        check_board(Board(x64_63), config)
    armv6m_62 = 6 | (4 << 2 | 2) << 8
    with pytest.raises(VerdantError, match="board loads .mpy ABI 6.2 but mpy-cross emits 6.3"):
        check_board(Board(armv6m_62), config, tool_abi="6.3")
    link = Board(6 | (4 << 2 | 3) << 8)
    assert check_board(link, config, tool_abi="6.3") == ("armv6m", "6.3")
    assert all("open(" not in code for code in link.codes)


def test_a_wrong_board_config_stops_the_deploy_before_anything_is_copied(tmp_path):
    require_tools()
    config = json.load(open(paths.board_config("sim")))
    config["arch"] = "x86"  # the 32-bit Unix port's arch; this board is x64
    wrong = tmp_path / "x86.json"
    wrong.write_text(json.dumps(config))
    vb = VirtualBoard(str(tmp_path / "fs"), micropython=MICROPYTHON)
    vb.start()
    try:
        with pytest.raises(VerdantError, match="is for arch x86 but the board on this port reports x64"):
            deploy(str(wrong), vb.port, paths.DEFAULT_MODEL, build_dir=str(tmp_path / "build"), reset=False)
    finally:
        vb.stop()
    assert os.listdir(tmp_path / "fs") == []


def test_rtc_is_set_to_utc_in_machine_rtc_order():
    assert rtc_datetime(1767225600) == (2026, 1, 1, 3, 0, 0, 0, 0)  # a Thursday (Monday = 0)
    assert rtc_datetime(1767225600 + 86400 * 4 + 3723) == (2026, 1, 5, 0, 1, 2, 3, 0)

    class Board(BoardLink):
        code = None

        def run(self, code):
            Board.code = code
            return b"RTC-SET\n"

    assert Board().set_rtc(1767225600)
    assert "machine.RTC().datetime((2026, 1, 1, 3, 0, 0, 0, 0))" in Board.code


def test_a_board_whose_watchdog_runs_takes_a_whole_deploy(firmwares, tmp_path):
    fs = tmp_path / "fs"
    fs.mkdir()
    (fs / "main.py").write_text("import machine, time\nw = machine.WDT(timeout=1500)\n"
                                "while True:\n    w.feed()\n    time.sleep_ms(100)\n")
    config = json.load(open(paths.board_config("sim")))
    config["watchdog_timeout_ms"] = 1500
    board_json = tmp_path / "wdt.json"
    board_json.write_text(json.dumps(config))
    vb = VirtualBoard(str(fs), micropython=MICROPYTHON, enforce_watchdog=True)
    vb.start()
    try:
        time.sleep(0.5)  # main.py runs forever, feeding
        # the watchdog outlives the REPL session: a session that does not feed it is reset
        with open_transport("mpremote", vb.port) as link:
            link.exec("print(1)")
            time.sleep(2.5)
        assert vb.watchdog_resets == 1
        time.sleep(0.5)
        report = deploy(str(board_json), vb.port, str(firmwares["models"]["m1"]), main_py=firmwares["main"],
                        build_dir=firmwares["build"]["old"], reset=False)
        assert report.model_verified and vb.watchdog_resets == 1
        assert active_slot(open(fs / "main.py").read()) == report.slot
    finally:
        vb.stop()


def test_pull_logs_leaves_the_firmware_running(tmp_path):
    require_tools()
    from verdant.flashlog import FlashLog
    fs = tmp_path / "fs"
    fs.mkdir()
    log = FlashLog(str(fs / "verdant.log"), capacity=20)
    log.append(1767225600, {"air_temp_c": 12.5}, 0)
    # main.py notes each start, then runs until interrupted
    (fs / "main.py").write_text("import time\nopen('starts', 'a').write('x')\nwhile True:\n    time.sleep_ms(50)\n")
    vb = VirtualBoard(str(fs), micropython=MICROPYTHON)
    vb.start()

    def starts(count, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(fs / "starts") and len(open(fs / "starts").read()) >= count:
                return True
            time.sleep(0.05)
        return False

    try:
        assert starts(1)
        assert pull_logs(vb.port, str(tmp_path / "pulled.csv"))["records"] == 1
        assert starts(2), "main.py did not run again after pull-logs"
        pull_logs(vb.port, str(tmp_path / "pulled.csv"), transport="ampy")
        assert starts(3)
    finally:
        vb.stop()
