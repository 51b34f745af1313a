# Engine benchmark for the MicroPython Unix port (`make engine-bench`): time and heap
# per inference for each available backend, on the committed default model and on
# a Conv1D-shaped model built here. Figures only; no pass/fail.
import gc
import sys
import time

sys.path.append("../../dist/x64_6.3")

from engine_models import conv1d_model  # noqa: E402
from verdant import engine  # noqa: E402


def measure(net, runs):
    data = bytes(((i * 7) & 0xFF) for i in range(net.input_elements))
    net.predict_int8(data)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    start = time.ticks_us()
    for _ in range(runs):
        net.predict_int8(data)
    elapsed = time.ticks_diff(time.ticks_us(), start)
    allocated = gc.mem_alloc() - before
    gc.enable()
    return elapsed // runs, allocated // runs


def main():
    models = [("conv1d", conv1d_model())]
    try:
        with open("../../models/default/model.bin", "rb") as f:
            models.insert(0, ("default", f.read()))
    except OSError:
        print("models/default/model.bin missing: skipped")
    for name, buf in models:
        for backend in engine.BACKENDS:
            try:
                net = engine.load(buf, backend=backend)
            except ValueError as exc:
                print("%-8s %-7s unavailable (%s)" % (name, backend, exc))
                continue
            runs = 200 if backend == "natmod" else 10
            us, heap = measure(net, runs)
            print("%-8s %-7s %8d us/inference %7d heap bytes/inference  (arena %d B)"
                  % (name, backend, us, heap, net.arena_bytes))


main()
