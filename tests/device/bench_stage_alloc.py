# Bytes the whole app allocates per 15-minute sample on the sim board, stage by stage
# (figures for BENCHMARKS.md and the bound in tests/host/test_sample_alloc.py).
# Each stage is wrapped (fixed-arity closures: the wrappers allocate nothing) and its
# gc.mem_alloc() delta summed with the collector off; stages nest, so "sensor drivers"
# includes "simulated parts" and "sample step" includes the stages below it.
# Run in a folder holding board.json (boards/sim.json) and model.bin:
#   MICROPYPATH=<repo>/device micropython -X heapsize=8M bench_stage_alloc.py [SAMPLES]
# Prints one JSON line: {"samples": N, "period_s": 900, "per_sample": {stage: bytes}}.
import gc
import json
import sys

from alloc_app import bytes_allocated_running, warm_app

SAMPLES = int(sys.argv[1]) if len(sys.argv) > 1 else 4
app = warm_app()
hal = app.hal
period = app.features.period_s
totals = {}


def _add(name, used):
    totals[name] = totals.get(name, 0) + used


def wrap0(obj, attr, name):
    inner = getattr(obj, attr)

    def measured():
        start = gc.mem_alloc()
        result = inner()
        _add(name, gc.mem_alloc() - start)
        return result
    setattr(obj, attr, measured)


def wrap1(obj, attr, name):
    inner = getattr(obj, attr)

    def measured(a):
        start = gc.mem_alloc()
        result = inner(a)
        _add(name, gc.mem_alloc() - start)
        return result
    setattr(obj, attr, measured)


def wrap2(obj, attr, name):
    inner = getattr(obj, attr)

    def measured(a, b):
        start = gc.mem_alloc()
        result = inner(a, b)
        _add(name, gc.mem_alloc() - start)
        return result
    setattr(obj, attr, measured)


def wrap3(obj, attr, name):
    inner = getattr(obj, attr)

    def measured(a, b, c):
        start = gc.mem_alloc()
        result = inner(a, b, c)
        _add(name, gc.mem_alloc() - start)
        return result
    setattr(obj, attr, measured)


SIM = "simulated parts and buses"
for bus in hal._i2c.values():
    wrap2(bus, "writeto", SIM)
    wrap2(bus, "readfrom_into", SIM)
if hal._onewire is not None:
    wrap0(hal._onewire, "reset", SIM)
    wrap1(hal._onewire, "write", SIM)
    wrap1(hal._onewire, "readinto", SIM)
    wrap0(hal._onewire, "readbit", SIM)
for adc in hal._adc.values():
    wrap0(adc, "read_u16", SIM)
for sensor in app.sampler.sensors:
    wrap0(sensor, "measure", "sensor drivers")
wrap2(app.sampler, "poll_events", "sensor polls (sampler)")
wrap1(app, "sample", "sample step (below)")
wrap1(app, "_check_clock", "clock check")
wrap1(app.sampler, "current", "current values")
wrap3(app.alerts, "update_faults", "sensor-fault detectors")
wrap2(app.features, "add", "features")
wrap2(app.alerts, "update_rules", "rules")
wrap2(app, "_predict", "model (vector, inference, model alerts)")
wrap2(app.alerts, "update_sensors", "sensor-health alerts")
wrap3(app, "send", "protocol lines")
if app.log is not None:
    wrap3(app.log, "append", "flash log")

wrap1(app.model, "poll", "model file check")
wrap1(app, "sleep_until", "sleep")
wrap1(app, "heartbeat", "hourly status line")


whole = bytes_allocated_running(app, SAMPLES * period)
per_sample = {"whole app": whole // SAMPLES}
for name in totals:
    per_sample[name] = totals[name] // SAMPLES
per_sample["sensor drivers without simulated parts"] = per_sample.get("sensor drivers", 0) - per_sample.get(SIM, 0)
per_sample["whole app without simulated parts"] = per_sample["whole app"] - per_sample.get(SIM, 0)
print(json.dumps({"samples": SAMPLES, "period_s": period, "engine": app.engine.backend if app.engine else None,
                  "per_sample": per_sample}))
