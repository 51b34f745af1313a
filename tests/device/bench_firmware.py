# Firmware benchmark for the MicroPython Unix port (`make firmware-bench`): time and heap
# of the app's steps (features, model input + inference, protocol line, flash log record)
# and of a whole simulated day on the sim board. Figures only; no pass/fail.
import gc
import time

from verdant import features as F
from verdant.flashlog import FlashLog
from verdant.protocol import Encoder
from memfs import MemFS

T0 = 1767225600
READING = {"air_temp_c": 21.35, "rh_pct": 68.2, "co2_ppm": 612.0, "light_lux": 15800.0,
           "soil_moisture_pct": 38.5, "soil_temp_c": 17.25}


def timed(label, runs, func):
    func()
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    start = time.ticks_us()
    for _ in range(runs):
        func()
    elapsed = time.ticks_diff(time.ticks_us(), start)
    allocated = gc.mem_alloc() - before
    gc.enable()
    print("%-34s %9.1f us  %7d bytes allocated per call" % (label, elapsed / runs, allocated // runs))


def main():
    state = F.FeatureState(900, 12)
    t = [T0]

    def add():
        t[0] += 900
        state.add(t[0], READING)
    timed("FeatureState.add (12-slot window)", 20, add)

    names = ["air_temp_c", "air_temp_c_rate_h", "rh_pct", "vpd_kpa", "co2_ppm", "co2_ppm_rate_h",
             "light_lux", "soil_moisture_pct", "soil_moisture_pct_rate_h", "tod_sin", "tod_cos"]
    ones = [1.0] * len(names)
    zeros = [0.0] * len(names)
    timed("build_vector (12 x 11 features)", 20, lambda: F.build_vector(state.rows(12), names, zeros, ones, 12))

    enc = Encoder()
    payload = dict(READING)
    payload.update({"vpd_kpa": 0.806, "dew_point_c": 15.19, "dli_mol_m2": 3.279})
    timed("protocol reading line", 50, lambda: enc.encode(T0, "reading", payload))

    fs = MemFS()
    log = FlashLog("v.log", 2000, opener=fs.open)
    timed("flash log record (RAM file)", 50, lambda: log.append(T0, READING, 0))

    try:
        from verdant import engine
        with open("../../models/default/model.bin", "rb") as f:
            net = engine.load(f.read())
        floats = [0.1] * (12 * len(net.meta["features"]))
        timed("default model predict (%s)" % net.backend, 20, lambda: net.predict(floats))
    except (ImportError, OSError) as exc:
        print("default model predict: skipped (%s)" % exc)

    try:
        from verdant.board import load_board
        from verdant.sim import make_sim_hal
        from verdant.hal.sim import SimClock
        from verdant import app
    except ImportError as exc:
        print("sim board day: skipped (%s)" % exc)
        return

    class Sink:
        def write(self, buf):
            return len(buf)

    board = load_board("../../boards/sim.json")
    hal = make_sim_hal(board, SimClock(start_s=T0), lambda t: dict(READING))
    hal.serial = Sink()
    fs = MemFS()
    try:
        with open("../../models/default/model.bin", "rb") as f:
            fs.files["model.bin"] = bytearray(f.read())
    except OSError:
        pass
    application = app.App(hal, board, opener=fs.open, stat=lambda p: (0,) * 6 + (1, 0, 1, 0))
    application.boot_status()
    application.load_model()
    gc.collect()
    free = gc.mem_free()
    start = time.ticks_ms()
    application.run(86400)
    elapsed = time.ticks_diff(time.ticks_ms(), start)
    gc.collect()
    print("one simulated day on the sim board  %9d ms wall, %d lines, model %s, heap free change %d bytes"
          % (elapsed, application.lines_sent, "on" if application.engine else "off", gc.mem_free() - free))


main()
