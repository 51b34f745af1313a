# The app with the real int8 engine and the committed default model on the sim board.
from verdant import app as appmod
from appfakes import Truth, CheckingSerial, T0, HOUR, DAY
from memfs import MemFS
from mpytest import skip

MODELS = ("../../models/default/model.bin",)


def setup():
    try:
        from verdant.board import load_board
        from verdant.sim import make_sim_hal
        from verdant.hal.sim import SimClock
        from verdant import engine
    except ImportError as exc:
        skip("sim board or engine not available: %s" % exc)
    model = None
    for path in MODELS:
        try:
            with open(path, "rb") as f:
                model = f.read()
            break
        except OSError:
            pass
    if model is None:
        skip("no committed default model at models/default/model.bin")
    board = load_board("../../boards/sim.json")
    hal = make_sim_hal(board, SimClock(start_s=T0), Truth([(DAY + 2 * HOUR, DAY + 6 * HOUR, "frost")]))
    hal.serial = CheckingSerial()
    return board, hal, model


class Stat:
    def __init__(self, fs):
        self.fs = fs
        self.version = 0

    def __call__(self, path):
        if path not in self.fs.files:
            raise OSError(2)
        return (0, 0, 0, 0, 0, 0, len(self.fs.files[path]), 0, self.version, 0)


def test_default_model_runs_then_a_corrupt_update_is_refused():
    board, hal, model = setup()
    fs = MemFS({"model.bin": bytearray(model)})
    stat = Stat(fs)
    application = appmod.App(hal, board, opener=fs.open, stat=stat)
    application.boot_status()
    application.load_model()
    running = application.engine
    assert running is not None, hal.serial.kept
    assert application.features.period_s == running.meta["period_s"]
    assert application.alerts.settings["model_threshold"] == running.meta["alert_threshold"]
    application.run(DAY)
    damaged = bytearray(model)
    damaged[len(damaged) // 2] ^= 0x40  # one flipped bit in the weights
    fs.files["model.bin"] = damaged
    stat.version += 1
    application.run(DAY)
    serial = hal.serial
    assert serial.problems == []
    errors = [m["p"] for m in serial.kept if m["k"] == "error"]
    assert len(errors) == 1 and errors[0]["where"] == "model" and "CRC" in errors[0]["error"], errors
    assert application.engine is running  # the previous model keeps running
    assert fs.files["model.prev"] == bytearray(model)
    model_status = [m["p"] for m in serial.kept if m["k"] == "status" and "model" in m["p"]]
    assert [s["model"] for s in model_status if s.get("why") in ("loaded", "all inputs available")] == ["on", "running"]
    assert ("frost_risk", "raise") in [(m["p"]["type"], m["p"]["event"]) for m in serial.kept if m["k"] == "alert"]


def test_boot_with_a_corrupt_model_bin_uses_model_prev():
    board, hal, model = setup()
    fs = MemFS({"model.bin": bytearray(model[:100]), "model.prev": bytearray(model)})
    application = appmod.App(hal, board, opener=fs.open, stat=Stat(fs))
    application.boot_status()
    application.load_model()
    assert application.engine is not None
    error = [m["p"] for m in hal.serial.kept if m["k"] == "error"][0]
    assert error["file"] == "model.bin" and error["where"] == "model"
    on = [m["p"] for m in hal.serial.kept if m["k"] == "status" and m["p"].get("model") == "on"][0]
    assert on["file"] == "model.prev" and on["backend"] in ("natmod", "viper", "python")


def test_a_model_bin_without_heap_at_boot_runs_from_a_later_check():
    # the boot is the heap's peak: a MemoryError reading model.bin then is not a bad file
    board, hal, model = setup()
    fs = MemFS({"model.bin": bytearray(model)})
    short = [2]  # the first two reads of model.bin find no heap (the boot, the first check)

    class NoHeapFile:  # its buffer cannot be had: the read's allocation fails as a board's would
        def readinto(self, buf):
            return 0

        def seek(self, pos, whence=0):
            raise MemoryError

        def close(self):
            pass

    def opener(path, mode="r"):
        if path == "model.bin" and "r" in mode and short[0]:
            short[0] -= 1
            return NoHeapFile()
        return fs.open(path, mode)

    stat = Stat(fs)
    stat.version = 1  # modification times: the signature needs no read
    application = appmod.App(hal, board, opener=opener, stat=stat)
    application.boot_status()
    application.load_model()
    assert application.engine is None
    application.run(DAY)
    assert application.engine is not None and short[0] == 0
    kept = hal.serial.kept
    errors = [m["p"] for m in kept if m["k"] == "error"]
    assert len(errors) == 1 and errors[0]["file"] == "model.bin" and "MemoryError" in errors[0]["error"], errors
    off = [m["p"]["why"] for m in kept if m["k"] == "status" and m["p"].get("model") == "off"]
    assert off == ["rules only: no heap for the model file at boot, tried again at the next check (model.bin, "
                   "model.prev)"], off
    assert fs.files["model.prev"] == bytearray(model)  # it ran, so it is now the fallback too


def _model_off_status(fs_files):
    board, hal, model = setup()
    fs = MemFS(fs_files)
    application = appmod.App(hal, board, opener=fs.open, stat=Stat(fs))
    application.boot_status()
    application.load_model()
    application.run(HOUR)
    assert application.engine is None and hal.serial.counts["status"] >= 2  # boot, model, heartbeats
    off = [m["p"] for m in hal.serial.kept if m["k"] == "status" and m["p"].get("model") == "off"]
    from verdant import status
    beat = status.heartbeat(application, application.now())  # what the hourly status line says
    assert beat["model"] == "off"
    return off[-1]["why"], beat["model_why"]


def test_a_rules_only_board_says_so_and_why_in_its_status_and_heartbeat():
    note = "deploy found no model for the sensors air_temp_c, rh_pct (default.bin asked for)"
    why, beat = _model_off_status({"model.none": bytearray(note.encode())})
    assert why == beat == "rules only: " + note, (why, beat)
    why, beat = _model_off_status({})
    assert why == beat == "rules only: no model file (model.bin, model.prev)", (why, beat)
    why, beat = _model_off_status({"model.bin": bytearray(b"VRDM garbage")})
    assert why == beat == "rules only: no loadable model file (model.bin, model.prev)", (why, beat)


def _reboot_after_a_power_cut(keep_log):
    """A day of running, a 20-minute power cut, a new boot; returns the second boot's lines."""
    board, hal, model = setup()
    fs = MemFS({"model.bin": bytearray(model)})
    first = appmod.App(hal, board, opener=fs.open, stat=Stat(fs))
    first.boot_status()
    first.load_model()
    first.run(DAY)
    if not keep_log:
        del fs.files["verdant.log"]
    hal.clock.sleep_ms(20 * 60 * 1000)
    hal.serial = CheckingSerial()
    second = appmod.App(hal, board, opener=fs.open, stat=Stat(fs))
    second.boot_status()
    second.load_model()
    second.run(2 * HOUR)
    assert second.engine is not None and hal.serial.problems == []
    return [m["p"] for m in hal.serial.kept if m["k"] == "status" and "model" in m["p"]]


def test_after_a_power_cut_the_model_runs_at_once_from_the_flash_log():
    statuses = _reboot_after_a_power_cut(keep_log=True)
    assert [s for s in statuses if s["model"] == "waiting"] == [], statuses
    # without the log the window starts empty: the model waits for its inputs
    statuses = _reboot_after_a_power_cut(keep_log=False)
    assert [s for s in statuses if s["model"] == "waiting"], statuses
