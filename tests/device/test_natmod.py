# The verdant_nn native module (dist/x64_*/verdant_nn.mpy) inside the MicroPython Unix port.
# Build it first: make natmod ARCH=x64 MPY_DIR=/path/to/micropython (docs/native.md).
import gc
import os
import sys

from mpytest import raises, skip
from verdant_host import model_builder as builder

_DIST = "../../dist"


def _module():
    try:
        names = [d for d in os.listdir(_DIST) if d.startswith("x64_")]
    except OSError:
        names = []
    for name in sorted(names, reverse=True):
        path = _DIST + "/" + name
        if "verdant_nn.mpy" in os.listdir(path):
            if path not in sys.path:
                sys.path.insert(0, path)
            import verdant_nn
            return verdant_nn
    skip("dist/x64_*/verdant_nn.mpy not built: run `make natmod ARCH=x64 MPY_DIR=...`")


def _ready(model):
    nn = _module()
    arena = bytearray(nn.check(model))
    nn.init(model, arena)
    return nn, arena


def test_check_returns_arena_bytes():
    nn = _module()
    model = builder.tiny_fc()
    assert nn.check(model) == 8
    sig = builder.layer("logistic", (1, 1, 5), (1, 1, 5), out_zp=-128, params=(1 << 30, 3, 100))
    assert nn.check(builder.build([sig])) == 256 + 2 * 8  # table + two buffers of 5 rounded to 8


def test_run_tiny_fc():
    # Worked by hand in tests/host/test_native_backends.py.
    model = builder.tiny_fc()
    nn, arena = _ready(model)
    out = bytearray(2)
    nn.run(model, arena, bytes([0, 1, 2]), out)
    assert out == bytes([8, 3])
    nn.run(model, arena, bytearray([127, 128, 129]), out)
    assert out == bytes([7, 83])
    nn.run(memoryview(model), arena, memoryview(bytes([0, 1, 2])), memoryview(out))
    assert out == bytes([8, 3])


def test_bad_model_message():
    nn = _module()
    bad = builder.patch(builder.tiny_fc(), 4, "<H", 2)
    with raises(ValueError, "model: unsupported format version: found 2, expected 1"):
        nn.check(bad)
    with raises(ValueError, "model: truncated header: found 3, expected 64"):
        nn.init(b"abc", bytearray(8))
    crc_bad = builder.patch(builder.tiny_fc(), len(builder.tiny_fc()) - 1, "<B", 0, crc=False)
    with raises(ValueError, "model: CRC mismatch"):
        nn.check(crc_bad)


def test_crc_is_checked_once_per_load():
    # check verifies the CRC unless told the caller did; init and run never compute it
    nn = _module()
    crc_bad = builder.patch(builder.tiny_fc(), len(builder.tiny_fc()) - 1, "<B", 0, crc=False)
    with raises(ValueError, "model: CRC mismatch"):
        nn.check(crc_bad, True)
    assert nn.check(crc_bad, False) == 8
    arena = bytearray(8)
    nn.init(crc_bad, arena)
    nn.run(crc_bad, arena, bytes(3), bytearray(2))


def test_guard_per_run_still_refuses_a_broken_structure():
    model = builder.tiny_fc()
    nn, arena = _ready(model)
    changed = builder.patch(model, 64 + 18, "<H", 9, crc=False)  # the layer's out_c: 2 -> 9
    with raises(ValueError, "model: "):
        nn.run(changed, arena, bytes(3), bytearray(2))


def test_unaligned_model_buffer_runs_the_same():
    # arrays are read as words when the buffer is 4-aligned, byte by byte otherwise
    model = builder.tiny_fc()
    nn, arena = _ready(model)
    shifted = memoryview(b"\0" + model)[1:]
    for x in (bytes([0, 1, 2]), bytes([127, 128, 129])):
        want, got = bytearray(2), bytearray(2)
        nn.run(model, arena, x, want)
        nn.run(shifted, arena, x, got)
        assert got == want


def test_argument_checks():
    model = builder.tiny_fc()
    nn, arena = _ready(model)
    out = bytearray(2)
    with raises(ValueError, "arena must be a bytearray of exactly check(model) bytes"):
        nn.run(model, bytearray(9), bytes(3), out)
    with raises(ValueError, "arena must be a bytearray of exactly check(model) bytes"):
        nn.init(model, bytearray(7))
    with raises(ValueError, "input must have exactly the model's input elements"):
        nn.run(model, arena, bytes(4), out)
    with raises(ValueError, "output must be a bytearray of exactly the model's output elements"):
        nn.run(model, arena, bytes(3), bytearray(3))
    with raises(ValueError, "input and output must not overlap the arena"):
        nn.run(model, arena, bytes(3), memoryview(arena)[:2])
    with raises(TypeError):
        nn.run(model, arena, bytes(3))  # 3 arguments
    with raises(TypeError):
        nn.check(12)  # no buffer protocol
    with raises(TypeError):
        nn.run(model, arena, bytes(3), bytes(2))  # read-only output


def test_no_heap_allocation_per_inference():
    model = builder.tiny_fc()
    nn, arena = _ready(model)
    inp, out = bytes([0, 1, 2]), bytearray(2)
    run = nn.run
    run(model, arena, inp, out)
    gc.collect()
    before = gc.mem_alloc()
    for _ in range(200):
        run(model, arena, inp, out)
    assert gc.mem_alloc() - before == 0
