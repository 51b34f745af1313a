# Bytes allocated by the firmware (figures for BENCHMARKS.md, `make firmware-heap`):
#  - per 15-minute sample of the whole app on the sim board (sensor polls every minute,
#    features, model, rules, reading line, flash log), with the collector off;
#  - per inference of the default model: Engine.predict(floats) warm, and the app's own
#    path (predict_quantized on the int8 window the features keep).
# Run in a folder holding board.json (boards/sim.json) and model.bin:
#   MICROPYPATH=<repo>/device micropython -X heapsize=8M bench_sample_alloc.py
import gc

from verdant import startup
from verdant.app import App
from verdant.board import load_board

board = load_board("board.json")
hal = startup.make_hal(board)
app = App(hal, board)
class _SerialLike:  # a board's serial port: written at once, so it is handed the encoder's buffer
    writes_at_once = True

    @staticmethod
    def write(line):
        pass


app.outputs = [_SerialLike()]
app.load_model()
app.run(6 * 3600)  # window full, every sensor sampled, model running
period = app.features.period_s


class _NoCollect:  # the app collects before each feature step and status line: counting needs it not to
    mem_free = gc.mem_free

    @staticmethod
    def collect():
        pass


import verdant.app  # noqa: E402
import verdant.status  # noqa: E402
verdant.app.gc = verdant.status.gc = _NoCollect
app.collect = _NoCollect.collect  # the app's per-step collection (App.collect)
gc.collect()
gc.disable()
before = gc.mem_alloc()
app.run(4 * period)
per_sample = (gc.mem_alloc() - before) // 4
gc.enable()
verdant.app.gc = verdant.status.gc = gc
app.collect = gc.collect
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
