# The whole firmware's heap on the sim board, measured from inside the interpreter (the
# budget test, tests/host/test_budget.py, and `make firmware-heap` run it):
# device/main.py's path (verdant.startup.run with the sim board's five sensors, the
# default model, the flash log, the protocol) for RUN_S board seconds in the folder it
# is started in (board.json, model.bin there). Prints one JSON line last:
#   code   heap after importing what the firmware imports (module objects; bytecode too
#          unless the modules are frozen), after a collection
#   steady heap in use after the collection each hourly status line makes: min, and max
#          over the first and the second half of the run
#   peak   the largest heap in use seen before any collection
import gc
import json
import sys

RUN_S = int(sys.argv[1]) if len(sys.argv) > 1 else 172800
gc.collect()
start = gc.mem_alloc()
# everything the sim board's firmware imports, first, so "code" is all of it
for name in ("verdant.startup", "verdant.app", "verdant.status", "verdant.safemode", "verdant.board",
             "verdant.sim", "verdant.sim.sensirion", "verdant.sim.aosong_rohm", "verdant.sim.onewire",
             "verdant.drivers.sht3x", "verdant.drivers.scd4x", "verdant.drivers.bh1750",
             "verdant.drivers.soil_moisture", "verdant.drivers.ds18b20", "verdant.convwait", "verdant.engine",
             "verdant.engine.ops_viper", "verdant.outputs"):
    __import__(name)
from verdant import startup, status  # noqa: E402
from verdant.safemode import BootCounter  # noqa: E402
gc.collect()
code = gc.mem_alloc() - start
# aggregated as it runs (a list of every figure would itself grow in the heap measured)
figures = {"peak": 0, "first_max": 0, "second_max": 0, "min": None}
heartbeat = status.heartbeat


def measured(application, t):
    figures["peak"] = max(figures["peak"], gc.mem_alloc() - start)  # before heartbeat's collection
    payload = heartbeat(application, t)
    used = gc.mem_alloc() - start
    half = "first_max" if t - application.started_at < RUN_S // 2 else "second_max"
    figures[half] = max(figures[half], used)
    figures["min"] = used if figures["min"] is None else min(figures["min"], used)
    return payload


status.heartbeat = measured
counter = BootCounter()
counter.count_boot()
done = startup.run(counter, seconds=RUN_S)
print(json.dumps({"code": code, "steady_max": max(figures["first_max"], figures["second_max"]),
                  "steady_min": figures["min"], "steady_first_day_max": figures["first_max"],
                  "steady_second_day_max": figures["second_max"],
                  "peak": figures["peak"], "model": done.engine is not None,
                  "errors": done.errors, "heap": gc.mem_alloc() + gc.mem_free()}))
