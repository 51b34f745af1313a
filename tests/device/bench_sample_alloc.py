# Bytes allocated by the firmware (figures for BENCHMARKS.md, `make firmware-heap`):
#  - per 15-minute sample of the whole app on the sim board (sensor polls every minute,
#    features, model, rules, reading line, flash log), with the collector off;
#  - per inference of the default model: Engine.predict(floats) warm, and the app's own
#    path (predict_quantized on the int8 window the features keep).
# Run in a folder holding board.json (boards/sim.json) and model.bin:
#   MICROPYPATH=<repo>/device micropython -X heapsize=8M bench_sample_alloc.py
import gc

from alloc_app import bytes_allocated_running, warm_app

app = warm_app()
period = app.features.period_s
per_sample = bytes_allocated_running(app, 4 * period) // 4
net = app.engine
vector = app.features.model.vector()[0]


def per_call(func, runs=20):
    func()
    gc.collect()
    gc.disable()
    start = gc.mem_alloc()
    for _ in range(runs):
        func()
    used = (gc.mem_alloc() - start) // runs
    gc.enable()
    return used


floats = [0.25] * net.input_elements
print("whole app per %d-s sample (sim board, 5 sensors): %d bytes" % (period, per_sample))
print("Engine.predict(floats) (%s) per inference: %d bytes" % (net.backend, per_call(lambda: net.predict(floats))))
print("app path predict_quantized (%s) per inference: %d bytes" % (net.backend,
                                                                   per_call(lambda: net.predict_quantized(vector))))
