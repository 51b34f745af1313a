"""ops_viper as a 32-bit board runs it, against the pure-Python kernels.

The MicroPython in this suite is the x64 Unix port (64-bit viper ints), so the
device tests cannot see 32-bit wrap-around bugs. tests/host/viper32.py runs the
viper functions under CPython with 32-bit word semantics; here we first check that
harness on small viper functions written in this file (including kernels that only
work with 64-bit words, which it must catch), then compare ops_viper under it with
ops_python (the TFLM reference, itself checked against tflite-micro) on seeded
random layers of every op, requantization at the int32 edges and the default model.
"""
import array
import os
import random
import subprocess
import sys

from verdant_host import paths

import pytest

import viper32
from verdant import engine
from verdant.engine.modelfile import parse
from verdant.engine.ops_python import PythonLayers
from verdant.engine.quant import INT32_MAX, INT32_MIN, _wrap32, multiply_by_quantized_multiplier, \
    saturating_rounding_doubling_high_mul
from verdant_host.model_writer import (LayerSpec, OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED,
                                       OP_LOGISTIC, OP_MAX_POOL_2D, OP_MEAN, OP_NAMES, OP_SOFTMAX, write_model)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPS_VIPER = os.path.join(REPO, "device", "verdant", "engine", "ops_viper.py")
DEFAULT_MODEL = os.path.join(REPO, "models", "default", "model.bin")
MICROPYTHON = paths.micropython()


@pytest.fixture(scope="module")
def ops32():
    """ops_viper with its viper functions running on 32-bit words."""
    return viper32.load_module(OPS_VIPER)


def viper_source(body):
    return "import micropython\n\n" + body


# ---- the harness itself ----------------------------------------------------------------------

ARITHMETIC = viper_source('''
@micropython.viper
def add(a: int, b: int) -> int:
    return a + b

@micropython.viper
def mul(a: int, b: int) -> int:
    return a * b

@micropython.viper
def sub(a: int, b: int) -> int:
    return a - b

@micropython.viper
def neg(a: int) -> int:
    return 0 - a if a > 0 else -a

@micropython.viper
def shl(a: int, n: int) -> int:
    return a << n

@micropython.viper
def shr(a: int, n: int) -> int:
    x = a
    x >>= n
    return x

@micropython.viper
def identity(a: int) -> int:
    return a
''')


def test_harness_wraps_every_result_to_a_32_bit_word():
    v = viper32.load_source(ARITHMETIC, "arith.py")
    assert v.add(INT32_MAX, 1) == INT32_MIN
    assert v.sub(INT32_MIN, 1) == INT32_MAX
    assert v.mul(1 << 16, 1 << 16) == 0
    assert v.mul(1 << 16, (1 << 15) + 1) == INT32_MIN + (1 << 16)
    assert v.mul(-1, INT32_MIN) == INT32_MIN
    assert v.neg(INT32_MIN) == INT32_MIN
    assert v.shl(1, 31) == INT32_MIN
    assert v.shl(3, 31) == INT32_MIN
    assert v.shl(0x12345678, 8) == 0x34567800
    # arguments truncated like mp_obj_get_int_truncated, results signed
    assert v.identity((1 << 32) + 5) == 5
    assert v.identity(1 << 31) == INT32_MIN
    assert v.identity(-(1 << 32) - 1) == -1
    with pytest.raises(TypeError, match="can't convert float"):
        v.identity(1.5)


def test_harness_right_shift_is_arithmetic():
    v = viper32.load_source(ARITHMETIC, "arith.py")
    assert v.shr(-8, 1) == -4
    assert v.shr(-1, 31) == -1
    assert v.shr(INT32_MIN, 31) == -1
    assert v.shr(INT32_MAX, 30) == 1
    assert v.shr(-5, 0) == -5


def test_harness_refuses_shift_counts_outside_0_to_31():
    v = viper32.load_source(ARITHMETIC, "arith.py")
    with pytest.raises(viper32.ShiftCountError, match=r"arith.py:\d+ in shl: shift count 32"):
        v.shl(1, 32)
    with pytest.raises(viper32.ShiftCountError, match="in shr: shift count -1"):
        v.shr(1, -1)


def test_harness_refuses_literals_that_are_not_32_bit_small_ints():
    assert viper32.load_source(viper_source(
        "@micropython.viper\ndef f() -> int:\n    return 0x3FFFFFFF + -0x3FFFFFFF\n"), "ok.py").f() == 0
    with pytest.raises(viper32.LiteralError, match=r"big.py:6 in f: literal 1073741824 is not a small int"):
        viper32.load_source(viper_source(
            "@micropython.viper\ndef f() -> int:\n    x = 1\n    return x + 0x40000000\n"), "big.py")
    with pytest.raises(viper32.LiteralError, match="literal 1073741824"):
        viper32.load_source(viper_source(
            "@micropython.viper\ndef f() -> int:\n    return -1073741824\n"), "neg.py")
    # a const() is substituted into viper code, so it is a literal there
    with pytest.raises(viper32.LiteralError, match="literal 2147483647"):
        viper32.load_source("from micropython import const\nimport micropython\nBIG = const((1 << 31) - 1)\n"
                            "@micropython.viper\ndef f() -> int:\n    return BIG\n", "const.py")
    small = viper32.load_source("from micropython import const\nimport micropython\nSMALL = const(1 << 29)\n"
                                "@micropython.viper\ndef f() -> int:\n    return SMALL + SMALL\n", "const.py")
    assert small.f() == 1 << 30  # built at run time: fine


POINTERS = viper_source('''
@micropython.viper
def load8(p: ptr8, i: int) -> int:
    return p[i]

@micropython.viper
def load16(p: ptr16, i: int) -> int:
    return int(p[i])

@micropython.viper
def load32(p: ptr32, i: int) -> int:
    return int(p[i])

@micropython.viper
def store8(p: ptr8, i: int, v: int):
    p[i] = v

@micropython.viper
def store32(p: ptr32, i: int, v: int):
    p[i] = v

@micropython.viper
def bump32(p: ptr32, i: int):
    p[i] += 1
''')


def test_harness_pointer_loads_and_stores_behave_like_the_hardware():
    v = viper32.load_source(POINTERS, "ptr.py")
    raw = bytearray(b"\xff\x80\x01\x00\xff\xff\xff\xff\x00\x00\x00\x80")
    assert v.load8(raw, 0) == 255 and v.load8(raw, 1) == 128          # ldrb zero-extends
    assert v.load16(raw, 0) == 0x80FF                                  # ldrh zero-extends
    assert v.load32(raw, 1) == -1 and v.load32(raw, 2) == INT32_MIN    # the word, signed
    v.store8(raw, 2, 0x1FE)                                            # strb keeps the low byte
    v.store8(raw, 3, -1)
    assert raw[:5] == b"\xff\x80\xfe\xff\xff"
    words = array.array("i", [0, 0])
    v.store32(words, 0, (1 << 32) + 7)                                 # truncated at the boundary
    v.store32(words, 1, INT32_MAX)
    v.bump32(words, 1)                                                 # wraps in the word
    assert list(words) == [7, INT32_MIN]


def test_harness_flags_accesses_outside_the_buffer_and_stores_into_bytes():
    v = viper32.load_source(POINTERS, "ptr.py")
    with pytest.raises(viper32.MemoryAccessError, match=r"load8\(p\): ptr8\[4\] is outside its 4-byte buffer"):
        v.load8(bytearray(4), 4)
    with pytest.raises(viper32.MemoryAccessError, match=r"ptr8\[-1\]"):
        v.load8(bytearray(4), -1)
    with pytest.raises(viper32.MemoryAccessError, match=r"ptr32\[1\] is outside its 7-byte buffer"):
        v.load32(bytearray(7), 1)  # the second word would end at byte 8
    with pytest.raises(viper32.MemoryAccessError, match="read-only"):
        v.store8(b"abc", 0, 1)


@pytest.mark.parametrize("body, message", [
    ("def f(a: uint) -> int:\n    return 1\n", "argument a annotated 'uint'"),
    ("def f(a) -> int:\n    return 1\n", "argument a annotated None"),
    ("def f(p: ptr8) -> int:\n    return len(p)\n", "call of len"),
    ("def f(a: int) -> int:\n    return a / 2\n", "operator Div"),
    ("def f(a: int) -> int:\n    return a ** 2\n", "operator Pow"),
    ("def f(a: int) -> int:\n    return a + LIMIT\n", "global 'LIMIT' is a Python object"),
    ("def f(a: int):\n    x = 1.5\n", "float literal"),
    ("def f(a: int):\n    for x in (1, 2):\n        pass\n", "for loops other than over range"),
])
def test_harness_refuses_what_it_does_not_model(body, message):
    with pytest.raises(viper32.NotModelledError, match=message.replace("(", r"\(").replace("*", r"\*")):
        viper32.load_source("import micropython\nLIMIT = 5\n@micropython.viper\n" + body, "unmodelled.py").f(1)


def test_ops_viper_sees_a_32_bit_port(ops32):
    # its word-size switch must pick the board's value, and every viper function is emulated
    assert ops32.WRAP == 0
    with open(OPS_VIPER) as f:
        source = f.read()
    decorated = [line for line in source.splitlines() if line.strip() == "@micropython.viper"]
    assert len(decorated) == len(ops32.VIPER32_FUNCTIONS) >= 9
    assert "requantize_all" in ops32.VIPER32_FUNCTIONS and "softmax_viper" in ops32.VIPER32_FUNCTIONS


# ---- the harness catches kernels that only work with 64-bit words ------------------------------

# Two kernels as a 64-bit-minded author might write them: the 64-bit Unix port gives the
# right answers (checked below when micropython is here), a 32-bit board does not.
SIXTY_FOUR_BIT_KERNELS = viper_source('''
@micropython.viper
def doubling_high_mul(a: int, b: int) -> int:
    """SaturatingRoundingDoublingHighMul for a, b >= 0 with one wide product."""
    nudge = 1 << 30
    return (a * b + nudge) >> 31

@micropython.viper
def mean_of_words(p: ptr32, n: int) -> int:
    total = 0
    for i in range(n):
        total += int(p[i])
    return total // n
''')
SIXTY_FOUR_BIT_CASES = [("doubling_high_mul", (1 << 20, 1 << 20)), ("doubling_high_mul", (12345, 678901)),
                        ("doubling_high_mul", (INT32_MAX, INT32_MAX)),
                        ("mean_of_words", (array.array("i", [INT32_MAX, INT32_MAX, 1]), 3)),
                        ("mean_of_words", (array.array("i", [2000000000, 2000000000]), 2))]


def _sixty_four_bit_references():
    """The exact results, derived by hand: SRDHM(a, b) = floor((2ab + 2^31) / 2^32) for a, b >= 0."""
    return [1 << 9, (2 * 12345 * 678901 + (1 << 31)) >> 32, INT32_MAX - 1, (2 * INT32_MAX + 1) // 3, 2000000000]


def first_mismatch(function_name, module, cases, references):
    """(arguments, got, want) of the first case of function_name where module's result
    differs from the reference, else None."""
    for (name, args), want in zip(cases, references):
        if name != function_name:
            continue
        got = getattr(module, name)(*args)
        if got != want:
            return args, got, want
    return None


def test_harness_catches_kernels_that_rely_on_64_bit_words():
    v = viper32.load_source(SIXTY_FOUR_BIT_KERNELS, "kernels64.py")
    refs = _sixty_four_bit_references()
    mismatch = first_mismatch("doubling_high_mul", v, SIXTY_FOUR_BIT_CASES, refs)
    # 2^20 * 2^20 = 2^40 wraps to 0 in a 32-bit word: (0 + 2^30) >> 31 = 0, not 512
    assert mismatch == ((1 << 20, 1 << 20), 0, 512)
    mismatch = first_mismatch("mean_of_words", v, SIXTY_FOUR_BIT_CASES, refs)
    # the sum 2^32 - 1 wraps to -1, and -1 // 3 floors to -1
    assert mismatch is not None and mismatch[1] == -1 and mismatch[2] == (2 * INT32_MAX + 1) // 3


def test_the_64_bit_unix_port_passes_those_kernels():
    # why the harness exists: the port the device tests run on computes them right
    if not os.path.exists(MICROPYTHON):
        pytest.skip("no micropython executable at %s" % MICROPYTHON)
    script = SIXTY_FOUR_BIT_KERNELS + "\nimport array\n" + "".join(
        "print(%s(%s))\n" % (name, ", ".join(repr(a) if not isinstance(a, array.array) else
                                              "array.array('i', %r)" % list(a) for a in args))
        for name, args in SIXTY_FOUR_BIT_CASES)
    out = subprocess.run([MICROPYTHON, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert [int(line) for line in out.stdout.split()] == _sixty_four_bit_references()


# ---- random layers of every op: 32-bit viper vs python -------------------------------------------

def _window(size, kernel, stride, dilation, same):
    """(out, pad) of TFLM's SAME or VALID padding."""
    effective = (kernel - 1) * dilation + 1
    if same:
        out = (size + stride - 1) // stride
        return out, max(0, (out - 1) * stride + effective - size) // 2
    return (size - effective) // stride + 1, 0


def _quant(rng, channels, extreme):
    """(multipliers, shifts), per channel or per tensor; extreme: the ends of the ranges."""
    q = channels if rng.random() < 0.5 else 1
    if not extreme:
        return [rng.randint(1 << 30, INT32_MAX) for _ in range(q)], [rng.randint(-14, -4) for _ in range(q)]
    multipliers = [rng.choice((0, 1 << 30, (1 << 30) + 1, INT32_MAX, rng.randint(1 << 30, INT32_MAX)))
                   for _ in range(q)]
    return multipliers, [rng.choice((-31, -30, -1, 0, 1, 29, 30, rng.randint(-31, 30))) for _ in range(q)]


def _bias(rng, channels, extreme):
    if rng.random() < 0.3:
        return None
    if extreme:  # near +-2^31: accumulator + bias wraps like TFLM's int32
        return [rng.choice((rng.randint(INT32_MAX - 70000, INT32_MAX), rng.randint(INT32_MIN, INT32_MIN + 70000),
                            rng.randint(-30000, 30000))) for _ in range(channels)]
    return [rng.randint(-30000, 30000) for _ in range(channels)]


def _weights(rng, n, extreme):
    if extreme and rng.random() < 0.5:  # every weight at one end: the largest accumulators
        return bytes([rng.choice((0x81, 0x7F, 0x80))]) * n
    return bytes(rng.randrange(256) for _ in range(n))


def _act(rng, zp_out):
    low = rng.randint(-128, max(-128, min(127, zp_out)))
    return low, rng.randint(low, 127)


def _window_spec(rng, op, extreme):
    in_h, in_w, in_c = rng.randint(1, 6), rng.randint(1, 7), rng.randint(1, 5)
    kh, kw = rng.randint(1, min(3, in_h)), rng.randint(1, min(3, in_w))
    sh, sw = rng.randint(1, 2), rng.randint(1, 3)
    dh = dw = 1
    if op != OP_MAX_POOL_2D and rng.random() < 0.3:
        dh, dw = rng.randint(1, 2), rng.randint(1, 2)
    same = rng.random() < 0.5 or (kh - 1) * dh + 1 > in_h or (kw - 1) * dw + 1 > in_w
    out_h, pad_t = _window(in_h, kh, sh, dh, same)
    out_w, pad_l = _window(in_w, kw, sw, dw, same)
    zp_in = rng.randint(-128, 127)
    window = dict(kernel=(kh, kw), stride=(sh, sw), dilation=(dh, dw), pad=(pad_t, pad_l))
    if op == OP_MAX_POOL_2D:
        act_min, act_max = _act(rng, zp_in)
        return LayerSpec(op, (in_h, in_w, in_c), (out_h, out_w, in_c), in_zp=zp_in, out_zp=zp_in,
                         act_min=act_min, act_max=act_max, **window)
    zp_out = rng.randint(-128, 127)
    act_min, act_max = _act(rng, zp_out)
    if op == OP_CONV_2D:
        out_c = rng.randint(1, 5)
        weights = _weights(rng, out_c * kh * kw * in_c, extreme)
        multiplier = 0
    else:
        multiplier = rng.randint(1, 3)
        out_c = in_c * multiplier
        weights = _weights(rng, kh * kw * out_c, extreme)
    m, s = _quant(rng, out_c, extreme)
    return LayerSpec(op, (in_h, in_w, in_c), (out_h, out_w, out_c), in_zp=zp_in, out_zp=zp_out, act_min=act_min,
                     act_max=act_max, depth_multiplier=multiplier, weights=weights, bias=_bias(rng, out_c, extreme),
                     multipliers=m, shifts=s, **window)


def random_spec(rng, op, extreme):
    """One valid random layer of op; extreme picks multipliers, shifts, biases and
    weights at the ends of their ranges."""
    zp_in = rng.randint(-128, 127)
    if op == OP_FULLY_CONNECTED:
        in_shape = (1, rng.randint(1, 3), rng.randint(1, 20))
        depth = in_shape[1] * in_shape[2]
        out_c = rng.randint(1, 8)
        zp_out = rng.randint(-128, 127)
        act_min, act_max = _act(rng, zp_out)
        m, s = _quant(rng, out_c, extreme)
        return LayerSpec(op, in_shape, (1, 1, out_c), in_zp=zp_in, out_zp=zp_out, act_min=act_min, act_max=act_max,
                         weights=_weights(rng, out_c * depth, extreme), bias=_bias(rng, out_c, extreme),
                         multipliers=m, shifts=s)
    if op == OP_MEAN:
        h, w, c = rng.randint(1, 12), rng.randint(1, 12), rng.randint(1, 8)
        zp_out = rng.randint(-128, 127)
        act_min, act_max = _act(rng, zp_out)
        m = rng.choice((0, 1, 1 << 29, 1 << 30, INT32_MAX, rng.randint(0, INT32_MAX)))
        shift = rng.randint(-31, 30) if extreme else rng.randint(-12, 2)
        return LayerSpec(op, (h, w, c), (1, 1, c), in_zp=zp_in, out_zp=zp_out, act_min=act_min, act_max=act_max,
                         multipliers=[m], shifts=[shift])
    if op == OP_LOGISTIC:
        radius = rng.choice((0, 1, 255, rng.randint(0, 3000), INT32_MAX)) if extreme else rng.randint(1, 3000)
        params = (rng.choice((0, INT32_MAX, rng.randint(0, INT32_MAX))) if extreme else rng.randint(1 << 30, INT32_MAX),
                  rng.randint(-31, 30) if extreme else rng.randint(18, 26), radius)
        return LayerSpec(op, (1, 1, 256), (1, 1, 256), in_zp=zp_in, out_zp=-128, params=params)
    if op == OP_SOFTMAX:
        depth = rng.choice((1, 2, 3, 9, 17, 64, 256, rng.randint(1, 300)))
        rows = rng.choice((1, 1, 2, 4))
        if extreme:
            params = (rng.choice((0, 1, 1 << 30, INT32_MAX, rng.randint(0, INT32_MAX))), rng.choice((0, 1, 30, 31)),
                      rng.choice((0, -1, -255, -256, -(1 << 20), INT32_MIN)))
        else:
            params = (rng.randint(1 << 30, INT32_MAX), rng.randint(18, 26), -rng.randint(0, 400))
        return LayerSpec(op, (1, rows, depth), (1, rows, depth), in_zp=zp_in, out_zp=-128, params=params)
    return _window_spec(rng, op, extreme)


def single_layer_model(spec):
    return parse(write_model([spec], input_q=(0.05, spec.in_zp), output_q=(0.05, spec.out_zp)))


def random_input(rng, model):
    """int8 input bytes: uniform, one extreme value, or a narrow band (equal softmax rows)."""
    n = model.input_elements
    kind = rng.randrange(4)
    if kind == 0:
        return bytes([rng.choice((0x80, 0x7F))]) * n
    if kind == 1:
        return bytes(rng.choice((0x80, 0x7F)) for _ in range(n))
    if kind == 2:
        low = rng.randint(-128, 120)
        return bytes((rng.randint(low, low + 7) & 0xFF) for _ in range(n))
    return bytes(rng.randrange(256) for _ in range(n))


def run_layers(layers_class, model, data):
    size = max(max(layer.in_size, layer.out_size) for layer in model.layers)
    src = array.array("b", bytes(size))
    for i, v in enumerate(data):
        src[i] = v - 256 if v > 127 else v
    out = layers_class(model).run(src, array.array("b", bytes(size)))
    return bytes(out[i] & 0xFF for i in range(model.output_elements))


# layers per op: (normal, extreme); SOFTMAX rows are long, LOGISTIC has all 256 inputs
CASES_PER_OP = {OP_FULLY_CONNECTED: (100, 200), OP_CONV_2D: (80, 160), OP_DEPTHWISE_CONV_2D: (80, 160),
                OP_MAX_POOL_2D: (80, 40), OP_MEAN: (60, 120), OP_LOGISTIC: (15, 25), OP_SOFTMAX: (50, 80)}


@pytest.mark.parametrize("op", sorted(CASES_PER_OP), ids=lambda op: OP_NAMES[op])
def test_viper_at_32_bits_equals_python_on_random_layers(ops32, op):
    rng = random.Random(3200 + op)
    outputs = set()
    normal, extreme = CASES_PER_OP[op]
    for case in range(normal + extreme):
        spec = random_spec(rng, op, extreme=case >= normal)
        model = single_layer_model(spec)
        for _ in range(2):
            data = bytes(range(256)) if op == OP_LOGISTIC else random_input(rng, model)
            want = run_layers(PythonLayers, model, data)
            got = run_layers(ops32.ViperLayers, model, data)
            assert got == want, "seed %d case %d: %r\ninput %s\npython %s\nviper32 %s" % (
                3200 + op, case, spec, data.hex(), want.hex(), got.hex())
            outputs.update(want)
    assert len(outputs) > 100, "only %d distinct output values: the cases saturate" % len(outputs)


def test_viper_at_32_bits_fully_connected_accumulator_wraps_like_int32(ops32):
    # 70000 products of -128 x 255: the raw sum leaves int32 and wraps inside the
    # viper accumulator itself, not only when the bias is added
    depth = 70000
    spec = LayerSpec(OP_FULLY_CONNECTED, (1, 2, depth // 2), (1, 1, 2), in_zp=-128, out_zp=3,
                     weights=b"\x80" * depth + b"\x7f\x81" * (depth // 2), bias=[123456, -98765],
                     multipliers=[1 << 30, INT32_MAX], shifts=[-20, 5])
    model = single_layer_model(spec)
    data = b"\x7f" * depth  # input 127 - zp -128 = 255
    assert -128 * 255 * depth < INT32_MIN  # the unwrapped sum really is outside int32
    want = run_layers(PythonLayers, model, data)
    assert run_layers(ops32.ViperLayers, model, data) == want
    # and the wrap changes the answer: without it output 0 would clamp to -128
    assert _wrap32(-128 * 255 * depth + 123456) > 0 and want[0] != 0x80


def test_viper_at_32_bits_softmax_on_rows_long_enough_to_fill_the_accumulator(ops32):
    # a row of n equal inputs sums to n in Q12.19: from 512 elements the reciprocal's
    # exponent reaches 32 (a shift a 32-bit word cannot do), at 4096 the int32 sum wraps
    rng = random.Random(4096)
    for depth in (511, 512, 1023, 1024, 2047, 2048, 4095, 4096, 4097):
        spec = LayerSpec(OP_SOFTMAX, (1, 1, depth), (1, 1, depth), in_zp=0, out_zp=-128,
                         params=(rng.choice((1 << 30, INT32_MAX)), rng.randint(20, 31), rng.choice((-248, INT32_MIN))))
        model = single_layer_model(spec)
        for data in (bytes([rng.randrange(256)]) * depth, bytes((rng.randint(120, 127)) for _ in range(depth))):
            want = run_layers(PythonLayers, model, data)
            assert run_layers(ops32.ViperLayers, model, data) == want, (depth, spec.params, data[:8].hex())


# ---- requantization at the int32 edges --------------------------------------------------------

def requantize32(ops32, accs, biases, multipliers, shifts, zp_out=0, act_min=-128, act_max=127):
    """requantize_all, one channel per accumulator, as a 32-bit board runs it."""
    n = len(accs)
    params = ops32.requant_params(n, n, zp_out, act_min, act_max, biases, multipliers, shifts, True)
    out = array.array("b", bytes(n))
    ops32.requantize_all(array.array("i", accs), out, params)
    return list(out)


def exact_requantize32(ops32, cases):
    """For (acc, bias, multiplier, shift) cases whose MBQM result r fits +-2^30: the viper
    result seen through zero point -r (0 when exact, so an error of 1 is not clamped away),
    with r from verdant.engine.quant."""
    refs = [multiply_by_quantized_multiplier(_wrap32(a + b), m, s) for a, b, m, s in cases]
    kept = [(c, r) for c, r in zip(cases, refs) if -(1 << 30) <= r <= (1 << 30)]
    got = []
    for (acc, bias, m, shift), r in kept:  # one call per case: the zero point is per layer
        got.append(requantize32(ops32, [acc], [bias], [m], [shift], zp_out=-r)[0])
    return [(c, r, g) for (c, r), g in zip(kept, got)]


def test_requantize_all_at_32_bits_near_int32_limits(ops32):
    rng = random.Random(31)
    near = [INT32_MAX - k for k in (0, 1, 2, 255, 65535)] + [INT32_MIN + k for k in (0, 1, 2, 255, 65535)]
    accs = near + [0, 1, -1, 1 << 30, -(1 << 30), (1 << 30) - 1, 0x5A5A5A5A, -0x5A5A5A5A]
    multipliers = (0, 1, 1 << 30, (1 << 30) + 1, 1696766344, INT32_MAX, -1, INT32_MIN, INT32_MIN + 1)
    cases = [(a, 0, m, s) for a in accs for m in multipliers for s in (-31, -30, -17, -1, 0, 1, 30)]
    cases += [(a, b, m, -1) for a in near for b in (INT32_MAX, INT32_MIN, 1, -1, 70000, -70000)
              for m in (1 << 30, INT32_MAX)]  # accumulator + bias wraps
    for _ in range(1500):
        acc = rng.randint(INT32_MIN, INT32_MAX) >> rng.randrange(32)
        cases.append((acc, rng.randint(-70000, 70000), rng.randint(INT32_MIN, INT32_MAX), rng.randint(-31, 30)))
    checked = exact_requantize32(ops32, cases)
    for (acc, bias, m, shift), r, got in checked:
        assert got == 0, "acc %d bias %d m %d shift %d: viper32 off by %d from %d" % (acc, bias, m, shift, got, r)
    assert len(checked) > 2000, len(checked)
    # and through the real clamp with the layer's zero point and activation range
    for zp_out, act_min, act_max in ((0, -128, 127), (-128, -128, 127), (127, -128, 127), (-7, -20, 30)):
        chunk = cases
        got = requantize32(ops32, [c[0] for c in chunk], [c[1] for c in chunk], [c[2] for c in chunk],
                           [c[3] for c in chunk], zp_out, act_min, act_max)
        for (acc, bias, m, shift), y in zip(chunk, got):
            r = multiply_by_quantized_multiplier(_wrap32(acc + bias), m, shift) + zp_out
            assert y == min(max(r, act_min), act_max), (acc, bias, m, shift, zp_out)


def test_requantize_all_at_32_bits_rounds_negative_ties(ops32):
    # multiplier 2^30 is 0.5, exact for even x: MBQM(x, 2^30, -r) is RoundingDivideByPOT(x / 2, r),
    # and x / 2 = -(2k+1) * 2^(r-1) over 2^r is -(k + 1/2), which rounds away to -(k + 1)
    ties = []
    for r in range(1, 32):
        for k in (0, 1, 2, 7, 1000):
            x = -(2 * k + 1) << r
            if x >= INT32_MIN:
                ties.append(((x, 0, 1 << 30, -r), -(k + 1)))
    for (acc, bias, m, shift), by_hand in ties:
        assert multiply_by_quantized_multiplier(acc, m, shift) == by_hand  # the reference agrees
    checked = exact_requantize32(ops32, [c for c, _ in ties])
    assert len(checked) == len(ties)
    assert all(got == 0 for _, _, got in checked), [c for c, _, got in checked if got][:5]
    # SRDHM ties: a * m = -(2j+1) * 2^30 exactly (odd m, a from m's inverse mod 2^31)
    rng = random.Random(77)
    srdhm_ties = []
    for _ in range(300):
        m = rng.randrange(1, INT32_MAX, 2)
        a = ((1 << 30) * pow(m, -1, 1 << 31)) % (1 << 31)  # a * m = 2^30 (mod 2^31)
        for acc, mult in ((a, m), (a - (1 << 31), m), (-a, m), (a, -m)):
            if INT32_MIN <= acc <= INT32_MAX:
                assert (acc * mult) % (1 << 31) == 1 << 30
                srdhm_ties.append((acc, 0, mult, 0))
    checked = exact_requantize32(ops32, srdhm_ties)
    assert sum(1 for (a, _, m, _), _, _ in checked if a * m < 0) > 300  # negative ties really tested
    assert all(got == 0 for _, _, got in checked), [c for c, _, got in checked if got][:5]


def test_requantize_all_at_32_bits_saturates_and_matches_design_example(ops32):
    assert saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN) == INT32_MAX
    # seen at shift -31, where INT32_MAX and INT32_MIN land on 1 and -1
    assert requantize32(ops32, [INT32_MIN, INT32_MIN, INT32_MIN], [0, 0, 0], [INT32_MIN, INT32_MAX, INT32_MIN + 1],
                        [-31, -31, -31]) == [1, -1, 1]
    # docs/int8-arithmetic.md: acc -2956, M 1696766344, shift -6 -> -37 (a negative tie on the way)
    assert requantize32(ops32, [-2956], [0], [1696766344], [-6]) == [-37]


# ---- whole models ------------------------------------------------------------------------------

@pytest.fixture
def engine32(ops32, monkeypatch):
    """verdant.engine whose backend 'viper' is ops_viper at 32 bits."""
    import verdant.engine as engine_package
    monkeypatch.setitem(sys.modules, "verdant.engine.ops_viper", ops32)
    monkeypatch.setattr(engine_package, "ops_viper", ops32, raising=False)
    return engine


def test_default_model_with_viper_at_32_bits_equals_python(engine32):
    if not os.path.exists(DEFAULT_MODEL):
        pytest.skip("no committed default model at %s" % DEFAULT_MODEL)
    with open(DEFAULT_MODEL, "rb") as f:
        buf = f.read()
    viper_net = engine32.load(buf, backend="viper")
    python_net = engine32.load(buf, backend="python")
    assert viper_net.backend == "viper" and type(viper_net._layers).__module__ == "ops_viper_32bit"
    rng = random.Random(132)
    n = viper_net.input_elements
    inputs = [b"\x80" * n, b"\x7f" * n, bytes(n), b"\x80\x7f" * (n // 2) + b"\x80" * (n % 2)]
    inputs += [bytes(rng.randrange(256) for _ in range(n)) for _ in range(16)]
    inputs += [bytes((rng.randint(-20, 20) & 0xFF) for _ in range(n)) for _ in range(10)]
    outputs = set()
    for data in inputs:
        want = bytes(python_net.predict_int8(data))
        assert bytes(viper_net.predict_int8(data)) == want, data.hex()
        outputs.add(want)
    assert len(outputs) > 10  # inputs that really move the model
    # the float path too: features at the input scale's extremes and zero
    scale, zp = viper_net.model.input_scale, viper_net.model.input_zero_point
    for features in ([0.0] * n, [(127 - zp) * scale * 2] * n, [(-128 - zp) * scale * 2] * n):
        assert list(viper_net.predict(features)) == list(python_net.predict(features))


def test_a_chain_of_every_op_with_viper_at_32_bits_equals_python(ops32):
    rng = random.Random(99)
    conv = LayerSpec(OP_CONV_2D, (1, 12, 3), (1, 12, 4), in_zp=-5, out_zp=-10, act_min=-10,
                     weights=_weights(rng, 4 * 3 * 3, False), kernel=(1, 3), stride=(1, 1), dilation=(1, 1),
                     pad=(0, 1), bias=[INT32_MAX - 100, INT32_MIN + 200, 300, 0],
                     multipliers=[INT32_MAX, 1 << 30, 1100000000, 2000000000], shifts=[-9, 3, -10, -31])
    dw = LayerSpec(OP_DEPTHWISE_CONV_2D, (1, 12, 4), (1, 5, 8), in_zp=-10, out_zp=3,
                   weights=_weights(rng, 3 * 8, False), kernel=(1, 3), stride=(1, 2), dilation=(1, 1),
                   depth_multiplier=2, multipliers=[1500000000], shifts=[-8])
    pool = LayerSpec(OP_MAX_POOL_2D, (1, 5, 8), (1, 2, 8), in_zp=3, out_zp=3, kernel=(1, 2), stride=(1, 2),
                     dilation=(1, 1))
    mean = LayerSpec(OP_MEAN, (1, 2, 8), (1, 1, 8), in_zp=3, out_zp=-2, multipliers=[1 << 29], shifts=[0])
    fc = LayerSpec(OP_FULLY_CONNECTED, (1, 1, 8), (1, 1, 5), in_zp=-2, out_zp=7, weights=_weights(rng, 40, False),
                   multipliers=[1 << 30] * 5, shifts=[-6, -7, -6, -5, -6], bias=[10, 20, 30, 40, 50])
    logistic = LayerSpec(OP_LOGISTIC, (1, 1, 5), (1, 1, 5), in_zp=7, out_zp=-128, params=(1082746816, 22, 449))
    soft = LayerSpec(OP_SOFTMAX, (1, 1, 5), (1, 1, 5), in_zp=-128, out_zp=-128, params=(1 << 30, 23, -248))
    model = parse(write_model([conv, dw, pool, mean, fc, logistic, soft], input_q=(0.05, -5), output_q=(1 / 256, -128)))
    outputs = set()
    for _ in range(25):
        data = random_input(rng, model)
        want = run_layers(PythonLayers, model, data)
        assert run_layers(ops32.ViperLayers, model, data) == want, data.hex()
        outputs.add(want)
    assert len(outputs) > 5
