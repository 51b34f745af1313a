"""Start-up on a board (device/main.py): the board config, config.json, the HAL, the app.

Nothing here may turn a bad file into a boot loop:
  - board.json that does not load (torn, invalid, a bad key): an error line naming the
    file and the key, and the board runs on board.good.json, the last board.json that
    loaded (kept on every good start); with no good copy it runs without sensors;
  - config.json that is not valid JSON or has a bad key: error lines, defaults run;
  - safe mode ignores config.json (it may be what crashed the board).

Example (what device/main.py does):
    counter = BootCounter(); counter.count_boot()
    startup.run(counter)
"""
import sys

BOARD_PATH = "board.json"
safe_mode_now = False  # this start runs in safe mode (main.py: a crash now must not reset)
GOOD_BOARD_PATH = "board.good.json"
CONFIG_PATH = "config.json"
# Modules only the start needs (the board config's checks and sensor building, dropped before
# the model load; the viper backend's table builders, run at model load, dropped after it), so their
# function objects leave the heap (~1.5 KB on the 32-bit port). A later model reload
# imports ops_python again for its load.
BOOT_ONLY_MODULES = ("verdant.board", "verdant.engine.ops_python")


def _read(path, opener=open):
    try:
        f = opener(path, "rb")
    except OSError:
        return None
    try:
        return f.read()
    finally:
        f.close()


def load_board_file(path=BOARD_PATH, good_path=GOOD_BOARD_PATH, opener=open):
    """(board config or None, problem or None); keeps a good board.json as good_path."""
    import json
    from verdant.board import load_board
    data = _read(path, opener)
    try:
        if data is None:
            raise ValueError("%s: missing" % path)
        try:
            config = json.loads(data)
        except ValueError as exc:
            raise ValueError("%s: not valid JSON (%s)" % (path, exc))
        board = load_board(config, path)
    except ValueError as exc:
        problem = str(exc)
        good = _read(good_path, opener)
        if good is not None:
            try:
                return load_board(json.loads(good), good_path), problem + "; running on " + good_path
            except ValueError as good_exc:
                problem += "; %s unusable too (%s)" % (good_path, good_exc)
        return None, problem + "; running without sensors"
    if _read(good_path, opener) != data:
        try:
            f = opener(good_path, "wb")
            try:
                f.write(data)
            finally:
                f.close()
        except OSError:
            pass  # a read-only file system: no fallback copy, nothing else changes
    return board, None


def make_hal(board):
    """The HAL for where we run: the virtual board, the Unix-port sim, or a real port."""
    from verdant.serialout import StdoutOutput
    vboard_env = _vboard_env()
    if board is None:
        return BareHAL()
    if vboard_env is not None:
        hal = vboard_env.make_hal(board)
        hal.serial = StdoutOutput()  # the vboard's serial line is this process's stdout
        return hal
    if board.get("port") == "unix":
        from verdant.hal.sim import SimClock
        from verdant.sim import SIM_START_S, make_sim_hal
        hal = make_sim_hal(board, SimClock(start_s=SIM_START_S), None, log_traffic=False)
        hal.serial = StdoutOutput()
        return hal
    import machine
    from verdant.hal.machine_hal import MachineHAL
    return MachineHAL(board, machine)


def _vboard_env():
    """The virtual board's surroundings (vboard/vboard_env.py) when running on one: the
    vboard runtime installed its machine module, or a headless sim board gave a truth."""
    if sys.platform not in ("linux", "darwin"):
        return None
    import os
    on_vboard = getattr(sys.modules.get("machine"), "__name__", None) == "vboard_machine"
    if not on_vboard and not os.getenv("VBOARD_TRUTH"):
        return None  # vboard_env may be frozen into the interpreter: not a reason to use it
    try:
        import vboard_env
    except ImportError:
        return None
    return vboard_env


class BareHAL:
    """No board config: a clock and the serial line, so status lines keep coming
    (virtual time on the Unix port, as the sim board has)."""

    def __init__(self):
        import time
        from verdant.serialout import StdoutOutput
        self.serial = StdoutOutput()
        self.clock = self
        self._time = time
        if sys.platform in ("linux", "darwin"):
            from verdant.hal.sim import SimClock
            from verdant.sim import SIM_START_S
            self.clock = SimClock(start_s=SIM_START_S)

    def time_s(self):
        return int(self._time.time())

    def ticks_ms(self):
        return self._time.ticks_ms()

    def sleep_ms(self, ms):
        self._time.sleep_ms(int(ms))


def boot(hal, board, counter, hours=None, **options):
    """Count this start, choose normal or safe mode, and run (options as for verdant.app.run())."""
    from verdant.app import run as run_app
    try:
        boots = counter.count_boot()
        safe, why = counter.safe_mode()
    except Exception as exc:  # e.g. a read-only file system: run normally rather than crash-loop
        boots, safe, why = None, False, None
        options.setdefault("boot_problem", "boot counter unusable: %s: %s" % (type(exc).__name__, exc))
    return run_app(hal, board, hours=hours, boot_count=boots, boot_counter=counter,
                   safe_mode=why if safe else None, **options)


def configured_outputs(hal, board):
    """([outputs], problem or None): MQTT when secrets.json is on the board (verdant.outputs)."""
    try:
        from verdant.outputs import from_board_files
        return from_board_files(hal, board), None
    except MemoryError:
        raise
    except Exception as exc:  # a broken secrets file must not stop the serial line and the log
        return [], "outputs: %s: %s" % (type(exc).__name__, exc)


def read_model_early(path):
    """model.bin's bytes, read before the app's modules are imported, or None. Its buffer must
    be one piece of the file's size, and the imports leave the free heap in holes (modules sent
    as .mpy files put their code on the heap): a virtual board with 124 KB free after them had
    no 9.8 KB piece. A file that cannot be read now is read again by the model slot."""
    from verdant.modelslot import read_whole
    try:
        f = open(path, "rb")
    except OSError:
        return None
    try:
        return read_whole(f)
    except (OSError, MemoryError):
        return None
    finally:
        f.close()


def run(counter, board_path=BOARD_PATH, config_path=CONFIG_PATH, good_path=GOOD_BOARD_PATH, seconds=None):
    """Start the app for this boot (counted already) and run it (forever when seconds is None)."""
    from verdant.settings import read_json
    boots, why = None, None
    problems = []
    if counter is not None:
        try:
            boots = counter.read()["boots"]
            safe, why = counter.safe_mode()
        except Exception as exc:
            problems.append("boot counter unusable: %s: %s" % (type(exc).__name__, exc))
    global safe_mode_now
    safe_mode_now = why is not None
    board, problem = load_board_file(board_path, good_path)
    if problem:
        problems.append(problem)
    settings = None
    if why is None:
        settings, problem = read_json(config_path)
        if problem:
            problems.append(problem)
    hal = make_hal(board)
    model_bytes = None
    if why is None:  # (no model in safe mode)
        from verdant.hal import storage_path
        model_bytes = read_model_early(storage_path(hal, "model.bin"))
    outputs = []
    if why is None and board is not None:  # no extra outputs in safe mode
        outputs, problem = configured_outputs(hal, board)
        if problem:
            problems.append(problem)
    from verdant.app import App  # after the early read: it imports most of the firmware
    app = App(hal, board or {"name": "?"}, sensors=[] if board is None else None, settings=settings,
              safe_mode=why, boot_count=boots, boot_counter=counter, outputs=outputs,
              boot_problem="; ".join(problems) if problems else None)
    app.boot_status()
    forget_modules(BOOT_ONLY_MODULES[:1])  # the config checks go before the model load, the boot's peak
    app.load_model(model_bytes)
    model_bytes = None  # the engine keeps what it needs
    forget_modules(BOOT_ONLY_MODULES[1:])
    app.prepare_detectors()
    return app.run(seconds)


def forget_modules(names):
    """Drop modules from sys.modules and their package (MicroPython only: CPython tests keep
    theirs); their objects go at the next collection unless something still holds them."""
    if sys.implementation.name != "micropython":
        return
    for name in names:
        if sys.modules.pop(name, None) is None:
            continue
        package, _, leaf = name.rpartition(".")
        parent = sys.modules.get(package)
        if parent is not None and leaf in dir(parent):
            delattr(parent, leaf)
    import gc
    gc.collect()


def run_seconds():
    """Board seconds to run before returning (tests and benchmarks on the Unix port set
    VERDANT_RUN_S); None on a board: forever."""
    if sys.platform not in ("linux", "darwin"):
        return None
    import os
    value = os.getenv("VERDANT_RUN_S")
    return int(value) if value else None


def halted(why, lines=None, period_ms=60000):
    """Last resort after a crash in safe mode: no reset (that would loop), a status line
    every period_ms until a fix is deployed or the board is power-cycled. lines: stop
    after that many (tests)."""
    import time
    from verdant.serialout import StdoutOutput
    from verdant.protocol import Encoder
    encoder, out = Encoder(), StdoutOutput()
    sent = 0
    while lines is None or sent < lines:
        out.write(encoder.encode(int(time.time()), "status", {"state": "halted", "safe_mode": True, "why": why}))
        sent += 1
        if lines is None:
            time.sleep_ms(period_ms)
