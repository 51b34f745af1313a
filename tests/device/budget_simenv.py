# Heap the virtual board's simulation environment takes in the board's own heap (issue
# 10: at most 8 KB): the modules of the simulated parts and buses and vboard_env (their
# module objects and classes; bytecode too unless frozen), the scaled clock, the truth
# reader and the sim HAL with a simulated part behind each sensor of board.json, after
# the parts ran a few conversions, measured from inside the interpreter after a
# collection. The firmware's own modules (drivers, board config) and the vboard runtime's
# machine shim are imported first and not counted. Run in a folder holding board.json with VBOARD_TRUTH naming a truth CSV
# (timestamp_s first, as `verdant simulate` writes); prints one JSON line:
#   {"modules": B, "objects": B, "total": B}
import gc
import json

from verdant.board import DRIVERS, build_sensors, load_board  # firmware: not counted

board = load_board("board.json")
for spec in board["sensors"]:
    __import__("verdant.drivers." + DRIVERS[spec["driver"]][0])
try:  # the vboard runtime's machine shim (the scaled clock reports through it): runtime, not counted
    import vboard_machine  # noqa: F401
except ImportError:
    pass
gc.collect()
start = gc.mem_alloc()
import vboard_env  # noqa: E402  (the scaled clock and the truth reader, made at import)
import verdant.hal.sim  # noqa: E402,F401
import verdant.sim  # noqa: E402,F401
for spec in board["sensors"]:
    verdant.sim._part_class(spec["driver"])  # the part modules this board needs
gc.collect()
modules = gc.mem_alloc() - start
hal = vboard_env.make_hal(board)
sensors = build_sensors(board, hal)
for _ in range(3):  # the parts convert a few times (kept buffers, cached codes, truth rows)
    for sensor in sensors:
        sensor.measure()
    hal.clock.sleep_ms(60000)
for sensor in sensors:
    sensor.device = None  # the drivers are the firmware's, not the environment's
sensors = None
gc.collect()
objects = gc.mem_alloc() - start - modules
print(json.dumps({"modules": modules, "objects": objects, "total": modules + objects}))
