"""The C kernel (host build, ASan + UBSan) against a Python reference written from
docs/int8-arithmetic.md, on seeded random layers of every op; LOGISTIC and SOFTMAX
against float maths (within 1) plus docs/int8-arithmetic.md's exact vector; a few models also on
the Cortex-M0+ (QEMU) and natmod builds.
"""
import math
import os
import random
import struct
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import c_backends  # noqa: E402
from verdant_host import model_builder as builder  # noqa: E402
from verdant.engine.quant import multiply_by_quantized_multiplier as mbqm, quantize_multiplier  # noqa: E402

layer = builder.layer


def s8(b):
    return b - 256 if b > 127 else b


def to_bytes(values):
    return bytes(v & 0xFF for v in values)


def clamp(v, lo, hi):
    return lo if v < lo else hi if v > hi else v


# ---------------------------------------------------------------- Python reference (docs/int8-arithmetic.md 2)

def ref_requant(lay, acc, c):
    q = 0 if len(lay["multipliers"]) == 1 else c
    acc = acc + (lay["bias"][c] if lay["bias"] is not None else 0)
    acc = (acc + (1 << 31)) % (1 << 32) - (1 << 31)  # int32 wrap, as the C (and TFLM) accumulator
    return clamp(mbqm(acc, lay["multipliers"][q], lay["shifts"][q]) + lay["out_zp"], *lay["act"])


def ref_fc(lay, x):
    depth = len(x)
    return [ref_requant(lay, sum(lay["weights"][c * depth + d] * (x[d] - lay["in_zp"]) for d in range(depth)), c)
            for c in range(lay["out_shape"][2])]


def ref_window(lay, x, per_tap):
    (ih, iw, ic), (oh, ow, oc) = lay["in_shape"], lay["out_shape"]
    (kh, kw), (sh, sw), (pt, pl) = lay["kernel"], lay["stride"], lay["pad"]
    dh, dw = lay["dilation"] if lay["op"] != 4 else (1, 1)
    out = []
    for oy in range(oh):
        for ox in range(ow):
            taps = [(ky, kx, oy * sh - pt + ky * dh, ox * sw - pl + kx * dw) for ky in range(kh) for kx in range(kw)]
            taps = [t for t in taps if 0 <= t[2] < ih and 0 <= t[3] < iw]
            out.extend(per_tap(taps, lambda iy, ix, c: x[(iy * iw + ix) * ic + c]))
    return out


def ref_conv(lay, x):
    ic, oc, kw = lay["in_shape"][2], lay["out_shape"][2], lay["kernel"][1]
    kh = lay["kernel"][0]
    w = lay["weights"]

    def per_pixel(taps, at):
        return [ref_requant(lay, sum(w[((o * kh + ky) * kw + kx) * ic + c] * (at(iy, ix, c) - lay["in_zp"])
                                     for ky, kx, iy, ix in taps for c in range(ic)), o) for o in range(oc)]
    return ref_window(lay, x, per_pixel)


def ref_dwconv(lay, x):
    oc, kw, mult = lay["out_shape"][2], lay["kernel"][1], lay["depth_multiplier"]
    w = lay["weights"]

    def per_pixel(taps, at):
        return [ref_requant(lay, sum(w[(ky * kw + kx) * oc + o] * (at(iy, ix, o // mult) - lay["in_zp"])
                                     for ky, kx, iy, ix in taps), o) for o in range(oc)]
    return ref_window(lay, x, per_pixel)


def ref_maxpool(lay, x):
    ic = lay["in_shape"][2]

    def per_pixel(taps, at):
        return [clamp(max([-128] + [at(iy, ix, c) for _, _, iy, ix in taps]), *lay["act"]) for c in range(ic)]
    return ref_window(lay, x, per_pixel)


def ref_mean(lay, x):
    ih, iw, ic = lay["in_shape"]
    n = ih * iw
    return [clamp(mbqm(sum(x[i * ic + c] for i in range(n)) - lay["in_zp"] * n, lay["multipliers"][0], lay["shifts"][0])
                  + lay["out_zp"], *lay["act"]) for c in range(ic)]


REFERENCE = {1: ref_fc, 2: ref_conv, 3: ref_dwconv, 4: ref_maxpool, 5: ref_mean}


def ref_model(layers, x):
    for lay in layers:
        x = REFERENCE[lay["op"]](lay, x)
    return x


# ---------------------------------------------------------------- random layers

def rand_quant(rng, channels, per_channel):
    n = channels if per_channel else 1
    mults, shifts = [], []
    for _ in range(n):
        m, s = quantize_multiplier(rng.choice([rng.uniform(1e-4, 0.02), rng.uniform(0.02, 1.5), 1e-9]))
        mults.append(m)
        shifts.append(max(-31, min(30, s)))
    return mults, shifts


def rand_act(rng, out_zp):
    return rng.choice([(-128, 127), (max(-128, out_zp), 127), (max(-128, out_zp), min(127, out_zp + 40)), (-5, -5)])


def window_geometry(rng, size, kernel, stride, dilation, same):
    eff = (kernel - 1) * dilation + 1
    if same:
        out = -(-size // stride)
        return out, max(0, (out - 1) * stride + eff - size) // 2
    return (size - eff) // stride + 1, 0


def rand_window_layer(rng, op, in_shape):
    ih, iw, ic = in_shape
    while True:
        kh, kw = rng.randint(1, 3), rng.randint(1, 4)
        sh, sw = rng.randint(1, 2), rng.randint(1, 3)
        dh, dw = (1, 1) if op == "maxpool" or rng.random() < 0.6 else (rng.randint(1, 2), rng.randint(1, 3))
        same = rng.random() < 0.5
        if not same and (ih < (kh - 1) * dh + 1 or iw < (kw - 1) * dw + 1):
            continue
        oh, pt = window_geometry(rng, ih, kh, sh, dh, same)
        ow, pl = window_geometry(rng, iw, kw, sw, dw, same)
        break
    in_zp, out_zp = rng.randint(-128, 127), rng.randint(-128, 127)
    if op == "maxpool":
        return layer(op, in_shape, (oh, ow, ic), in_zp=in_zp, out_zp=in_zp, act=rand_act(rng, in_zp),
                     kernel=(kh, kw), stride=(sh, sw), dilation=(1, 1), pad=(pt, pl))
    mult = rng.randint(1, 3) if op == "dwconv" else 0
    oc = ic * mult if op == "dwconv" else rng.randint(1, 5)
    nweights = kh * kw * oc * (1 if op == "dwconv" else ic)
    mults, shifts = rand_quant(rng, oc, rng.random() < 0.7)
    return layer(op, in_shape, (oh, ow, oc), in_zp=in_zp, out_zp=out_zp, act=rand_act(rng, out_zp),
                 kernel=(kh, kw), stride=(sh, sw), dilation=(dh, dw), pad=(pt, pl), depth_multiplier=mult,
                 weights=[rng.randint(-127, 127) for _ in range(nweights)],
                 bias=None if rng.random() < 0.2 else [rng.randint(-5000, 5000) for _ in range(oc)],
                 multipliers=mults, shifts=shifts)


def rand_fc_layer(rng, in_shape, out_c=None):
    depth = in_shape[0] * in_shape[1] * in_shape[2]
    oc = out_c or rng.randint(1, 9)
    out_zp = rng.randint(-128, 127)
    mults, shifts = rand_quant(rng, oc, rng.random() < 0.6)
    return layer("fc", in_shape, (1, 1, oc), in_zp=rng.randint(-128, 127), out_zp=out_zp,
                 act=rand_act(rng, out_zp), weights=[rng.randint(-127, 127) for _ in range(oc * depth)],
                 bias=None if rng.random() < 0.2 else [rng.randint(-20000, 20000) for _ in range(oc)],
                 multipliers=mults, shifts=shifts)


def rand_mean_layer(rng, in_shape):
    mults, shifts = rand_quant(rng, 1, False)
    out_zp = rng.randint(-128, 127)
    return layer("mean", in_shape, (1, 1, in_shape[2]), in_zp=rng.randint(-128, 127), out_zp=out_zp,
                 act=rand_act(rng, out_zp), multipliers=[mults[0] >> rng.randint(0, 3)], shifts=shifts)


def random_model(seed):
    """A random chain: a few window ops, then mean or FC, then FC."""
    rng = random.Random(seed)
    shape = (rng.randint(1, 4), rng.randint(1, 9), rng.randint(1, 4))
    layers = []
    for _ in range(rng.randint(0, 3)):
        lay = rand_window_layer(rng, rng.choice(["conv", "dwconv", "maxpool"]), shape)
        layers.append(lay)
        shape = lay["out_shape"]
    if rng.random() < 0.4 and layers:
        layers.append(rand_mean_layer(rng, shape))
        shape = layers[-1]["out_shape"]
    layers.append(rand_fc_layer(rng, shape))
    # Chain zero points: each layer's input zp is the previous layer's output zp.
    for prev, lay in zip(layers, layers[1:]):
        lay["in_zp"] = prev["out_zp"]
        if lay["op"] == 4:
            lay["out_zp"] = lay["in_zp"]
            lay["act"] = rand_act(rng, lay["out_zp"])
    return layers, rng


def random_inputs(rng, layers, count):
    n = builder.elements(layers[0]["in_shape"])
    return [[rng.randint(-128, 127) for _ in range(n)] for _ in range(count)]


# ---------------------------------------------------------------- tests

@pytest.mark.parametrize("seed", range(60))
def test_random_models_match_reference(seed):
    layers, rng = random_model(seed)
    inputs = random_inputs(rng, layers, 4)
    got = c_backends.run_c_host(builder.build(layers), [to_bytes(x) for x in inputs])
    for x, out in zip(inputs, got):
        assert [s8(b) for b in out] == ref_model(layers, x), "seed %d input %r" % (seed, x)


@pytest.mark.parametrize("op", ["conv", "dwconv", "maxpool"])
@pytest.mark.parametrize("seed", range(15))
def test_single_window_layer_matches_reference(op, seed):
    rng = random.Random(1000 + seed)
    lay = rand_window_layer(rng, op, (rng.randint(1, 6), rng.randint(1, 10), rng.randint(1, 5)))
    inputs = random_inputs(rng, [lay], 3)
    got = c_backends.run_c_host(builder.build([lay]), [to_bytes(x) for x in inputs])
    assert [[s8(b) for b in out] for out in got] == [ref_model([lay], x) for x in inputs]


@pytest.mark.parametrize("backend", ["c_host", "c_qemu"])
def test_depthwise_multiplier_across_channel_chunks(backend):
    # 9 input channels x depth multiplier 3 = 27 outputs: the kernel runs channels 16 at a
    # time, so the second chunk starts in the middle of input channel 5's three outputs.
    rng = random.Random(77)
    lay = layer("dwconv", (1, 4, 9), (1, 4, 27), in_zp=3, out_zp=-2, kernel=(1, 3), stride=(1, 1),
                dilation=(1, 1), pad=(0, 1), depth_multiplier=3, weights=[rng.randint(-127, 127) for _ in range(3 * 27)],
                bias=[rng.randint(-5000, 5000) for _ in range(27)],
                multipliers=[rng.randint(1 << 30, (1 << 31) - 1) for _ in range(27)], shifts=[-9] * 27)
    inputs = random_inputs(rng, [lay], 3)
    got = c_backends.BACKENDS[backend](builder.build([lay]), [to_bytes(x) for x in inputs])
    assert [[s8(b) for b in out] for out in got] == [ref_model([lay], x) for x in inputs]


def test_rounding_tie_with_negative_product():
    # docs/int8-arithmetic.md: m 1696766344, shift -6, acc -2956 -> -37. FC with one weight 1, x - zp = -2956 via bias.
    lay = layer("fc", (1, 1, 1), (1, 1, 1), weights=[1], bias=[-2956], multipliers=[1696766344], shifts=[-6])
    assert c_backends.run_c_host(builder.build([lay]), [bytes([0])]) == [to_bytes([-37])]


def test_accumulator_near_int32_limits():
    # 2 channels whose sums sit just below +2^31 and at -2^31 after the bias; multiplier 2^30, shift -24.
    x = [127] * 16  # in_zp -128: x - zp = 255
    base = 127 * 255 * 16
    lay = layer("fc", (1, 1, 16), (1, 1, 2), in_zp=-128, weights=[127] * 16 + [-127] * 16,
                bias=[(1 << 31) - 1 - base, -(1 << 31) + base], multipliers=[1 << 30], shifts=[-24])
    got = c_backends.run_c_host(builder.build([lay]), [to_bytes(x)])
    assert [s8(b) for b in got[0]] == ref_fc(lay, x) == [64, -64]


def sigmoid_params(scale):
    # TFLM logistic Prepare: multiplier/shift of scale * 2^27, radius from CalculateInputRadius(4, shift, 31).
    q, shift = math.frexp(scale * (1 << 27))
    multiplier = int(round(q * (1 << 31)))
    radius = math.floor(15.0 * (1 << 27) / (1 << shift))
    return multiplier, shift, radius


def test_logistic_design_vector():
    # docs/int8-arithmetic.md: s_in 0.032280128449201584, zp -59, q 12 -> 104 (a float-built table gives 105).
    m, s, r = sigmoid_params(0.032280128449201584)
    lay = layer("logistic", (1, 1, 1), (1, 1, 1), in_zp=-59, out_zp=-128, params=(m, s, r))
    assert c_backends.run_c_host(builder.build([lay]), [bytes([12])]) == [to_bytes([104])]


@pytest.mark.parametrize("scale,zp", [(0.032280128449201584, -59), (0.1, 0), (0.01, 100), (0.5, -128), (0.004, 5)])
def test_logistic_sweep_close_to_float(scale, zp):
    m, s, r = sigmoid_params(scale)
    lay = layer("logistic", (1, 1, 256), (1, 1, 256), in_zp=zp, out_zp=-128, params=(m, s, r))
    out = c_backends.run_c_host(builder.build([lay]), [bytes(range(256))])[0]
    previous = -129
    for b in range(256):
        q = s8(b)
        want = clamp(round(256.0 / (1.0 + math.exp(-scale * (q - zp)))) - 128, -128, 127)
        got = s8(out[b])
        assert abs(got - want) <= 1, (q, got, want)
    for q in range(-128, 128):  # monotonic in q
        got = s8(out[q & 0xFF])
        assert got >= previous
        previous = got


def softmax_params(scale, beta=1.0):
    # TFLM softmax Prepare: QuantizeMultiplierGreaterThanOne(beta*s*2^26), diff_min = -radius(5, shift).
    m, shift = quantize_multiplier(min(beta * scale * (1 << 26), (1 << 31) - 1.0))
    return m, shift, -math.floor(31.0 * (1 << 26) / (1 << shift))


@pytest.mark.parametrize("depth", [1, 3, 10, 256])
@pytest.mark.parametrize("scale", [0.05, 0.2, 1 / 16])
def test_softmax_close_to_float(depth, scale):
    rng = random.Random(depth)
    m, s, dmin = softmax_params(scale)
    lay = layer("softmax", (1, 2, depth), (1, 2, depth), in_zp=rng.randint(-20, 20), out_zp=-128,
                params=(m, s, dmin))
    x = [rng.randint(-128, 127) for _ in range(2 * depth)]
    out = [s8(b) for b in c_backends.run_c_host(builder.build([lay]), [to_bytes(x)])[0]]
    for row in range(2):
        xs = x[row * depth:(row + 1) * depth]
        top = max(xs)
        exps = [math.exp(scale * (v - top)) if v - top >= dmin else 0.0 for v in xs]
        for c in range(depth):
            want = clamp(round(256 * exps[c] / sum(exps)) - 128, -128, 127)
            assert abs(out[row * depth + c] - want) <= 1, (row, c, out[row * depth + c], want)


def test_softmax_diff_min_cutoff():
    # With a large scale, diff_min is a small negative number: differences below it give -128
    # exactly and do not count in the sum; at diff_min they do.
    m, s, dmin = softmax_params(4.0)
    assert -128 < dmin < 0
    x = [100, 100 + dmin, 100 + dmin - 1]
    lay = layer("softmax", (1, 1, 3), (1, 1, 3), out_zp=-128, params=(m, s, dmin))
    out = [s8(b) for b in c_backends.run_c_host(builder.build([lay]), [to_bytes(x)])[0]]
    assert out[2] == -128
    assert out[0] == 127  # exp(4*dmin) is negligible: the max takes all
    assert out[1] == -128  # counted, but rounds to zero probability


@pytest.mark.parametrize("backend", ["c_qemu", "c_qemu_m4", "c_qemu_m33", "natmod"])
def test_other_builds_match_host(backend):
    cases = [random_model(seed) for seed in (3, 7, 11, 19)]
    m, s, r = sigmoid_params(0.05)
    sig = ([layer("logistic", (1, 1, 256), (1, 1, 256), in_zp=3, out_zp=-128, params=(m, s, r))],
           random.Random(1))
    sm = softmax_params(0.1)
    soft = ([layer("softmax", (1, 1, 40), (1, 1, 40), in_zp=3, out_zp=-128, params=sm)], random.Random(2))
    # requantization edges (the Thumb-1 build has it in assembly): per-channel multipliers across
    # [2^30, 2^31), every shift from -31 to 30, biases near +-2^31, activation ranges
    rng = random.Random(5)
    n = 62
    edge = ([layer("fc", (1, 1, 24), (1, 1, n), in_zp=-7, out_zp=rng.randint(-128, 127), act=(-100, 90),
                   weights=[rng.randint(-127, 127) for _ in range(24 * n)],
                   bias=[rng.choice([-(1 << 31), (1 << 31) - 1, 0, rng.randint(-(1 << 31), (1 << 31) - 1)]) for _ in range(n)],
                   multipliers=[rng.choice([1 << 30, (1 << 31) - 1, rng.randint(1 << 30, (1 << 31) - 1)]) for _ in range(n)],
                   shifts=[s for s in range(-31, 31)])], random.Random(6))
    for layers, rng in cases + [sig, soft, edge]:
        model = builder.build(layers)
        inputs = [to_bytes(x) for x in random_inputs(rng, layers, 3)]
        assert c_backends.BACKENDS[backend](model, inputs) == c_backends.run_c_host(model, inputs)


def run_ops_python(model_bytes, inputs):
    """The engine's pure-Python kernels (device/verdant/engine/ops_python.py) on the same file."""
    import array
    from verdant.engine.modelfile import parse
    from verdant.engine.ops_python import PythonLayers
    model = parse(model_bytes)
    layers = PythonLayers(model)
    size = max(max(lay.in_size, lay.out_size) for lay in model.layers)
    outputs = []
    for x in inputs:
        src = array.array("b", list(x) + [0] * (size - len(x)))
        out = layers.run(src, array.array("b", bytes(size)))
        outputs.append([int(v) for v in out[:model.output_elements]])
    return outputs


@pytest.mark.parametrize("seed", range(20))
def test_random_models_match_ops_python(seed):
    pytest.importorskip("verdant.engine.ops_python")
    layers, rng = random_model(500 + seed)
    shape, zp = layers[-1]["out_shape"], layers[-1]["out_zp"]
    head = seed % 3  # none, LOGISTIC or SOFTMAX on top
    if head == 1:
        layers.append(layer("logistic", shape, shape, in_zp=zp, out_zp=-128, params=sigmoid_params(rng.uniform(0.01, 0.3))))
    elif head == 2:
        layers.append(layer("softmax", shape, shape, in_zp=zp, out_zp=-128, params=softmax_params(rng.uniform(0.01, 0.3))))
    inputs = random_inputs(rng, layers, 3)
    model = builder.build(layers)
    got = c_backends.run_c_host(model, [to_bytes(x) for x in inputs])
    assert [[s8(b) for b in out] for out in got] == run_ops_python(model, inputs)


@pytest.mark.parametrize("op", ["fc", "mean"])
def test_unused_window_fields_are_ignored(op):
    # FULLY_CONNECTED and MEAN have no window: kernel/stride/dilation/pad bytes (record
    # offsets 20..27) may hold anything (the format does not require zeros) and change nothing.
    rng = random.Random(op)
    lay = rand_fc_layer(rng, (2, 3, 2)) if op == "fc" else rand_mean_layer(rng, (2, 3, 2))
    model = builder.build([lay])
    x = [rng.randint(-128, 127) for _ in range(12)]
    want = c_backends.run_c_host(model, [to_bytes(x)])
    assert [s8(b) for b in want[0]] == ref_model([lay], x)
    for values in [(3, 0, 0, 0, 0, 0, 0, 64), (0, 0, 0, 0, 0, 0, 9, 0), (255,) * 8]:
        assert c_backends.run_c_host(builder.patch(model, 64 + 20, "<8B", *values), [to_bytes(x)]) == want


def test_mutated_models_match_ops_python():
    # Bit flips in the layer table and arrays (CRC fixed): whatever the Python parser still
    # accepts (odd zero points, activation ranges, unused fields, multipliers...) must give
    # the same output in C (ASan + UBSan) as in the engine's pure-Python kernels.
    pytest.importorskip("verdant.engine.ops_python")
    from verdant.engine.modelfile import ModelError, parse
    rng = random.Random(99)
    compared = 0
    for seed in range(6):
        layers, _ = random_model(700 + seed)
        shape, zp = layers[-1]["out_shape"], layers[-1]["out_zp"]
        head = "softmax" if seed % 2 else "logistic"
        params = softmax_params(0.1) if seed % 2 else sigmoid_params(0.1)
        layers.append(layer(head, shape, shape, in_zp=zp, out_zp=-128, params=params))
        original = builder.build(layers)
        for _ in range(120):
            buf = bytearray(original)
            for _ in range(2):  # half the flips in the layer table
                end = 64 + 64 * len(layers) if rng.random() < 0.5 else len(buf)
                buf[rng.randrange(64, end)] ^= 1 << rng.randrange(8)
            buf = builder.fix_crc(buf)
            try:
                model = parse(buf)
            except ModelError:
                continue
            if model.arena_bytes > 50000:
                continue
            x = [rng.randint(-128, 127) for _ in range(model.input_elements)]
            got = c_backends.run_c_host(buf, [to_bytes(x)])
            assert [s8(b) for b in got[0]] == run_ops_python(buf, [x])[0], "seed %d, file %s" % (seed, buf.hex())
            compared += 1
    assert compared > 40, compared
