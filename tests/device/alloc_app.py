# The app the allocation benches measure (bench_sample_alloc.py, bench_stage_alloc.py):
# the sim board's firmware from board.json and model.bin in the current folder, run until
# the window is full, every sensor sampled and the model running; and a run with the
# collector off, so gc.mem_alloc() counts every byte allocated.
import gc

from verdant import startup
from verdant.app import App
from verdant.board import load_board


class _SerialLike:  # a board's serial port: written at once, so it is handed the encoder's buffer
    writes_at_once = True

    @staticmethod
    def write(line):
        pass


class _NoCollect:  # the app collects before each feature step and each status line: counting needs it not to
    mem_free = gc.mem_free

    @staticmethod
    def collect():
        pass


def warm_app():
    board = load_board("board.json")
    app = App(startup.make_hal(board), board)
    app.outputs = [_SerialLike()]
    app.load_model()
    app.run(6 * 3600)  # window full, every sensor sampled, model running
    return app


def bytes_allocated_running(app, seconds):
    """Bytes allocated while the app runs `seconds` of board time with every collection off."""
    import verdant.app
    import verdant.status
    verdant.app.gc = verdant.status.gc = _NoCollect
    app.collect = _NoCollect.collect  # the app's per-step collection (App.collect)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    app.run(seconds)
    used = gc.mem_alloc() - before
    gc.enable()
    verdant.app.gc = verdant.status.gc = gc
    app.collect = gc.collect
    return used
