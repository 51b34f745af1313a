# Boot counter, safe mode after repeated crashes, and device/main.py's crash handler.
import os
import sys
from verdant import app as appmod
from verdant import startup
from verdant.safemode import BootCounter
from appfakes import Truth, Hal, make_sensors, fake_load, model_bytes, MemStat, HardFault, T0, HOUR
from memfs import MemFS
from mpytest import raises

HERE = os.getcwd()  # tests/device (the runner's cwd)
BOARD = {"name": "fake", "watchdog_timeout_ms": 8000, "sleep_mode": "none"}


def test_counter_counts_resets_and_survives_a_damaged_file():
    fs = MemFS()
    counter = BootCounter("boot.json", max_boots=3, opener=fs.open)
    assert counter.count_boot() == 1 and counter.count_boot() == 2
    assert counter.safe_mode() == (False, None)
    counter.record_crash("OSError: [Errno 19] ENODEV")
    assert counter.count_boot() == 3
    safe, why = counter.safe_mode()
    assert safe and why == "3 starts in a row ended before a healthy period; last error: OSError: [Errno 19] ENODEV"
    counter.healthy()
    assert counter.count_boot() == 1
    counter.record_crash("MemoryError: out of heap")
    assert counter.count_boot() == 2
    assert counter.safe_mode() == (True, "the last start ran out of heap (MemoryError: out of heap)")
    counter.healthy()
    assert counter.read()["boots"] == 0 and counter.safe_mode()[0] is False
    fs.files["boot.json"] = bytearray(b'{"boots": 2')  # torn write
    assert counter.count_boot() == 1
    fs.files["boot.json"] = bytearray(b'[1, 2]')
    assert counter.read() == {"boots": 0}
    with raises(ValueError, "max_boots must be >= 2"):
        BootCounter(max_boots=1)


def boot_once(fs, truth):
    hal = Hal()
    counter = BootCounter("boot.json", max_boots=4, opener=fs.open)
    lines = []
    try:
        startup.boot(hal, BOARD, counter, hours=1, sensors=make_sensors(hal, truth), engine_loader=fake_load,
                    opener=fs.open, stat=MemStat(fs), out=lines.append,
                    settings={"alerts": {"remind_s": 0}, "log_records": 100, "healthy_s": 1800})
    except HardFault as exc:  # what main.py does with a crash: note it, then the board resets
        counter.record_crash("HardFault: %s" % exc)
        return "crashed", lines
    return "ran", lines


def test_repeated_crashes_end_in_safe_mode_not_a_crash_loop():
    from verdant import protocol
    fs = MemFS({"model.bin": bytearray(model_bytes(crash="hard"))})
    truth = Truth([(0, 2 * HOUR, "frost")])
    outcomes = []
    for _ in range(6):
        outcome, lines = boot_once(fs, truth)
        outcomes.append(outcome)
        if outcome == "ran":
            break
    assert outcomes == ["crashed", "crashed", "crashed", "ran"]
    messages = [protocol.decode(line)[0] for line in lines]
    boot = messages[0]["p"]
    assert boot["state"] == "boot" and boot["safe_mode"] is True and boot["boot_count"] == 4
    assert boot["why"] == ("4 starts in a row ended before a healthy period; "
                           "last error: HardFault: native kernel fault")
    model = [m["p"] for m in messages if m["k"] == "status" and "model" in m["p"]][0]
    assert model["model"] == "off" and model["why"].startswith("safe mode: 4 starts in a row")
    alerts = [(m["p"]["type"], m["p"]["event"]) for m in messages if m["k"] == "alert"]
    assert ("frost_risk", "raise") in alerts  # rules keep working in safe mode
    assert BootCounter("boot.json", opener=fs.open).read()["boots"] == 0  # healthy: next boot normal
    outcome, lines = boot_once(fs, truth)
    assert outcome == "crashed"  # the model is tried again (and here still crashes)


def _exec_main(work, startup_module=None):
    """Run device/main.py's source in `work` as a board boot would; returns the SystemExit
    code (1: main.py asked for a reset) or None (it returned)."""
    import verdant
    with open(HERE + "/../../device/main.py") as f:
        source = f.read()
    saved = sys.modules.get("verdant.startup")
    if startup_module is not None:
        sys.modules["verdant.startup"] = startup_module
        verdant.startup = startup_module
    os.chdir(work)
    try:
        exec(source, {"__name__": "__main__"})
        return None
    except SystemExit as exc:
        return exc.args[0]
    finally:
        os.chdir(HERE)
        if startup_module is not None:
            if saved is None:
                sys.modules.pop("verdant.startup", None)
            else:
                sys.modules["verdant.startup"] = saved
            verdant.startup = saved


class _RunsOutOfHeap:
    """Stands for verdant.startup whose run() ends in MemoryError (here: while encoding)."""

    def __init__(self, real):
        self.halted = real.halted
        self.run_seconds = real.run_seconds

    def run(self, counter, seconds=None):
        self.safe_mode_now = counter.safe_mode()[0]
        raise MemoryError("memory allocation failed, allocating 2048 bytes")


def test_main_py_after_a_memory_error_resets_into_safe_mode_which_keeps_reporting():
    work = "/tmp/verdant_main_memory"
    try:
        os.mkdir(work)
    except OSError:
        pass
    for name in ("board.json", "boot.json", "board.good.json", "config.json", "verdant.log"):
        try:
            os.remove(work + "/" + name)
        except OSError:
            pass
    with open(HERE + "/../../boards/sim.json") as src, open(work + "/board.json", "w") as dst:
        dst.write(src.read())
    with open(work + "/config.json", "w") as f:
        f.write('{"heartbeat_s": 600}')
    from verdant import startup
    os.putenv("VERDANT_RUN_S", "300")  # less than healthy_s: the count stays
    try:
        assert _exec_main(work, _RunsOutOfHeap(startup)) == 1  # boot 1: MemoryError, reset
        with open(work + "/boot.json") as f:
            assert "MemoryError" in f.read()
        code = _exec_main(work)  # boot 2: safe mode at once
        assert code is None
        counter = BootCounter(work + "/boot.json")
        assert counter.read()["boots"] == 2 and counter.safe_mode()[0]
        # a crash in safe mode does not reset (that would loop): "halted" status lines instead
        assert _exec_main(work, _RunsOutOfHeap(startup)) is None
    finally:
        os.unsetenv("VERDANT_RUN_S")


def test_unwritable_boot_counter_runs_normally_and_says_so():
    from verdant import protocol

    def read_only(path, mode="r"):
        raise OSError(30)  # EROFS

    hal = Hal()
    fs = MemFS({"model.bin": bytearray(model_bytes())})
    lines = []
    startup.boot(hal, BOARD, BootCounter("boot.json", opener=read_only), hours=1,
                sensors=make_sensors(hal, Truth()), engine_loader=fake_load, opener=fs.open,
                stat=MemStat(fs), out=lines.append)
    messages = [protocol.decode(line)[0] for line in lines]
    assert messages[0]["p"]["safe_mode"] is False
    assert messages[1]["k"] == "error" and messages[1]["p"]["where"] == "boot"
    assert "boot counter unusable: OSError" in messages[1]["p"]["error"]
    assert any(m["p"].get("model") == "on" for m in messages if m["k"] == "status")


def test_main_py_runs_the_app_on_the_unix_port_sim_board():
    # A board folder like a deploy leaves it: main.py, board.json, model.bin; the device
    # code comes from MICROPYPATH. The app runs on virtual time until `timeout` stops it.
    if not hasattr(sys, "executable") or not sys.executable:
        from mpytest import skip
        skip("no sys.executable to start a second interpreter")
    work = "/tmp/verdant_main_run"
    try:
        os.mkdir(work)
    except OSError:
        pass
    for name in ("boot.json", "verdant.log", "model.prev", "out.txt", "model.bin"):
        try:
            os.remove(work + "/" + name)
        except OSError:
            pass
    with open(HERE + "/../../boards/sim.json") as src, open(work + "/board.json", "w") as dst:
        dst.write(src.read())
    try:
        with open(HERE + "/../../models/default/model.bin", "rb") as src, open(work + "/model.bin", "wb") as dst:
            dst.write(src.read())
    except OSError:
        pass  # no committed model: the app runs rules only
    device = HERE + "/../../device"
    os.system("cd %s && MICROPYPATH=%s timeout 4 %s %s/main.py > out.txt 2>&1" % (work, device, sys.executable, device))
    from verdant import protocol
    with open(work + "/out.txt", "rb") as f:
        lines = f.read().split(b"\n")[:-1]
    assert len(lines) > 20, lines[:5]
    messages = []
    for line in lines:
        message, why = protocol.decode(line)
        assert why is None, (why, line)
        messages.append(message)
    assert messages[0]["p"]["state"] == "boot" and messages[0]["p"]["boot_count"] == 1
    assert [m["seq"] for m in messages] == list(range(len(messages)))
    assert [m for m in messages if m["k"] == "error"] == []
    assert os.stat(work + "/verdant.log")[6] == 32 + 2000 * 44


def test_retry_policy_back_off_doubles_up_to_the_cap():
    from verdant.safemode import retry_delay_s
    delays = [retry_delay_s(n, 21600, 172800) for n in range(6)]
    assert delays == [21600, 43200, 86400, 172800, 172800, 172800]
    assert retry_delay_s(40, 21600, 172800) == 172800  # no overflow, no long loop
    assert retry_delay_s(1, 600, 1000) == 1000  # the cap even when it is no power of two


def test_safe_mode_after_memory_error_is_retried_and_a_healthy_normal_period_resets_the_back_off():
    fs = MemFS()
    counter = BootCounter("boot.json", max_boots=3, opener=fs.open, rename=fs.rename)
    counter.count_boot()
    counter.record_crash("MemoryError: memory allocation failed, allocating 300 bytes")
    counter.count_boot()
    assert counter.safe_mode()[0] and counter.transient()
    assert counter.retries(counter.read()) == 0
    counter.healthy(safe_mode=True)  # safe mode ran healthy: the back-off is kept (0 here)
    counter.schedule_retry()  # the retry time came: next start normal
    assert sorted(fs.files) == ["boot.json"]  # written through boot.json.tmp and a rename
    counter.count_boot()
    assert counter.safe_mode() == (False, None)
    counter.record_crash("MemoryError: again")  # the retry failed: back to safe mode, longer back-off
    counter.count_boot()
    assert counter.safe_mode()[0] and counter.transient() and counter.retries(counter.read()) == 1
    counter.record_crash("MemoryError: in safe mode")  # a second crash of the same retry counts once
    assert counter.retries(counter.read()) == 1
    counter.healthy(safe_mode=True)
    assert counter.read() == {"boots": 0, "retries": 1}
    counter.schedule_retry()
    counter.count_boot()
    counter.record_crash("OSError: [Errno 5] EIO")  # any crash in a retry, not only MemoryError
    counter.count_boot()
    safe, why = counter.safe_mode()
    assert safe and why == "the retry of normal mode crashed (OSError: [Errno 5] EIO)"
    assert counter.transient() and counter.retries(counter.read()) == 2
    counter.schedule_retry()
    counter.count_boot()
    counter.healthy(safe_mode=False)  # normal mode ran healthy: the back-off starts again
    assert counter.read() == {"boots": 0}


def test_safe_mode_after_repeated_crashes_is_not_retried():
    fs = MemFS()
    counter = BootCounter("boot.json", max_boots=3, opener=fs.open, rename=fs.rename)
    for _ in range(3):
        counter.count_boot()
        counter.record_crash("ValueError: bad board")
    counter.count_boot()
    assert counter.safe_mode()[0] and not counter.transient()


class _Reset(BaseException):
    pass


def _reset():
    raise _Reset()


def test_app_in_safe_mode_resets_at_its_retry_time_and_the_next_start_runs_the_model():
    from verdant import protocol
    fs = MemFS({"model.bin": bytearray(model_bytes()),
                "boot.json": bytearray(b'{"boots": 1, "last_error": "MemoryError: fragmented", "retries": 1}')})
    settings = {"healthy_s": 600, "safe_retry_s": 1800, "safe_retry_max_s": 7200, "heartbeat_s": 600}

    def start(hours):
        hal = Hal()
        hal.reset = _reset
        lines = []
        try:
            startup.boot(hal, BOARD, BootCounter("boot.json", opener=fs.open, rename=fs.rename), hours=hours,
                         sensors=make_sensors(hal, Truth()), engine_loader=fake_load, opener=fs.open,
                         stat=MemStat(fs), out=lines.append, settings=settings)
            reset = False
        except _Reset:
            reset = True
        return reset, [protocol.decode(line)[0] for line in lines]

    reset, messages = start(hours=3)
    assert reset
    boot = messages[0]["p"]
    assert boot["safe_mode"] and boot["why"].startswith("the last start ran out of heap")
    assert boot["retry_t"] == T0 + 3600  # 1800 s doubled once (one failed retry before)
    running = [m["p"] for m in messages if m["p"].get("state") == "running"]
    assert running and all(p["safe_mode"] and p["retry_t"] == T0 + 3600 for p in running)
    last = messages[-1]
    assert last["t"] == T0 + 3600 and last["p"]["state"] == "reset" and last["p"]["safe_mode"]
    reset, messages = start(hours=1)  # the retry: normal mode, the model on
    assert not reset
    assert messages[0]["p"]["safe_mode"] is False and "retry_t" not in messages[0]["p"]
    assert any(m["p"].get("model") == "on" for m in messages if m["k"] == "status")
    kept = BootCounter("boot.json", opener=fs.open).read()
    assert kept == {"boots": 0, "retry_s": 1800, "retry_max_s": 7200}  # healthy: back-off reset


def test_retry_settings_from_config_json_reach_safe_mode_through_boot_json():
    # safe mode does not read config.json: normal mode's healthy period keeps the two settings
    from verdant import protocol
    fs = MemFS({"model.bin": bytearray(model_bytes())})
    hal = Hal()
    startup.boot(hal, BOARD, BootCounter("boot.json", opener=fs.open, rename=fs.rename), hours=1,
                 sensors=make_sensors(hal, Truth()), engine_loader=fake_load, opener=fs.open, stat=MemStat(fs),
                 out=lambda line: None, settings={"healthy_s": 600, "safe_retry_s": 900})
    counter = BootCounter("boot.json", opener=fs.open, rename=fs.rename)
    assert counter.read() == {"boots": 0, "retry_s": 900}
    counter.count_boot()
    counter.record_crash("MemoryError: fragmented")
    hal, lines = Hal(), []
    startup.boot(hal, BOARD, counter, hours=0.1, sensors=make_sensors(hal, Truth()), engine_loader=fake_load,
                 opener=fs.open, stat=MemStat(fs), out=lines.append)  # no settings: as safe mode runs
    assert protocol.decode(lines[0])[0]["p"]["retry_t"] == T0 + 900
    fs.files["boot.json"] = bytearray(b'{"boots": 2, "last_error": "MemoryError: x", "retry_s": "soon"}')
    hal, lines = Hal(), []
    startup.boot(hal, BOARD, counter, hours=0.1, sensors=make_sensors(hal, Truth()), engine_loader=fake_load,
                 opener=fs.open, stat=MemStat(fs), out=lines.append)
    assert protocol.decode(lines[0])[0]["p"]["retry_t"] == T0 + 21600  # a bad kept value: the default
