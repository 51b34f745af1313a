# The viper backend against the pure-Python backend on many random layers, inside
# the Unix port. Both must give identical int8 outputs (the Python kernels are
# themselves checked against tflite-micro by tests/host/test_engine_ops_oracle.py).
# The viper requantization (32-bit pieces) is also checked alone against
# verdant.engine.quant on extreme multipliers, shifts and accumulators.
import array
import gc

from engine_models import build, conv1d_model, layer
from mpytest import skip
from verdant.engine.modelfile import parse
from verdant.engine.ops_python import PythonLayers
from verdant.engine.quant import (INT32_MAX, INT32_MIN, _wrap32, multiply_by_quantized_multiplier,
                                  saturating_rounding_doubling_high_mul)

try:
    from verdant.engine import ops_viper
    from verdant.engine.ops_viper import ViperLayers
except (ImportError, SyntaxError) as exc:
    ViperLayers = None
    VIPER_MISSING = str(exc)


class Rng:
    """Small deterministic generator (same sequence on every port)."""

    def __init__(self, seed):
        self.state = seed

    def below(self, n):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.state >> 8) % n

    def between(self, low, high):
        return low + self.below(high - low + 1)

    def int8s(self, n, low=-128, high=127):
        return bytes((self.between(low, high) & 0xFF) for _ in range(n))


def _window_out(size, kernel, stride, dilation, same):
    effective = (kernel - 1) * dilation + 1
    if same:
        out = (size + stride - 1) // stride
        return out, max(0, (out - 1) * stride + effective - size) // 2
    return (size - effective) // stride + 1, 0


def _quant(rng, channels, extreme=False):
    q = channels if rng.below(2) else 1
    if not extreme:
        return [rng.between(1 << 30, (1 << 31) - 1) for _ in range(q)], [rng.between(-14, -4) for _ in range(q)]
    # the ends of the format's ranges: multiplier 0, 2^30, 2^31-1; shifts -31..30
    multipliers = [(0, 1 << 30, INT32_MAX, rng.between(1 << 30, INT32_MAX))[rng.below(4)] for _ in range(q)]
    return multipliers, [rng.between(-31, 30) for _ in range(q)]


def _act(rng, zp_out):
    low = rng.between(-128, max(-128, zp_out))
    return (low, rng.between(low, 127))


def _bias(rng, out_c, extreme):
    if extreme:  # near +-2^31: the int32 sum wraps like TFLM's
        return [(rng.between(INT32_MAX - 40000, INT32_MAX), rng.between(INT32_MIN, INT32_MIN + 40000),
                 rng.between(-20000, 20000))[rng.below(3)] for _ in range(out_c)]
    return [rng.between(-20000, 20000) for _ in range(out_c)]


def random_layer(rng, extreme=False):
    op = rng.between(1, 4)
    in_h, in_w, in_c = rng.between(1, 7), rng.between(1, 7), rng.between(1, 4)
    zp_in, zp_out = rng.between(-128, 127), rng.between(-128, 127)
    if op == 1:
        out_c = rng.between(1, 6)
        depth = in_h * in_w * in_c
        m, s = _quant(rng, out_c, extreme)
        return layer(1, (in_h, in_w, in_c), (1, 1, out_c), in_zp=zp_in, out_zp=zp_out, act=_act(rng, zp_out),
                     weights=rng.int8s(out_c * depth, -127), multipliers=m, shifts=s,
                     bias=_bias(rng, out_c, extreme) if rng.below(2) else None)
    kh, kw = rng.between(1, min(3, in_h)), rng.between(1, min(3, in_w))
    sh, sw = rng.between(1, 2), rng.between(1, 2)
    dh = dw = 1
    if op != 4 and rng.below(3) == 0:
        dh, dw = rng.between(1, 2), rng.between(1, 2)
    same = rng.below(2) == 1
    if not same and ((kh - 1) * dh + 1 > in_h or (kw - 1) * dw + 1 > in_w):
        same = True
    out_h, pad_t = _window_out(in_h, kh, sh, dh, same)
    out_w, pad_l = _window_out(in_w, kw, sw, dw, same)
    common = {"kernel": (kh, kw), "stride": (sh, sw), "dilation": (dh, dw), "pad": (pad_t, pad_l)}
    if op == 4:
        return layer(4, (in_h, in_w, in_c), (out_h, out_w, in_c), in_zp=zp_in, out_zp=zp_in,
                     act=_act(rng, zp_in), **common)
    if op == 2:
        out_c = rng.between(1, 4)
        weights = rng.int8s(out_c * kh * kw * in_c, -127)
        multiplier = 0
    else:
        multiplier = rng.between(1, 3)
        out_c = in_c * multiplier
        weights = rng.int8s(kh * kw * out_c, -127)
    m, s = _quant(rng, out_c, extreme)
    return layer(op, (in_h, in_w, in_c), (out_h, out_w, out_c), in_zp=zp_in, out_zp=zp_out, act=_act(rng, zp_out),
                 weights=weights, depth_multiplier=multiplier, multipliers=m, shifts=s,
                 bias=_bias(rng, out_c, extreme) if rng.below(3) else None, **common)


def _run(layers_class, model, data):
    size = max(max(l.in_size, l.out_size) for l in model.layers)
    src = array.array("b", bytes(size))
    for i in range(len(data)):
        v = data[i]
        src[i] = v - 256 if v > 127 else v
    out = layers_class(model).run(src, array.array("b", bytes(size)))
    return bytes((out[i] & 0xFF) for i in range(model.output_elements))


def test_viper_equals_python_on_random_single_layers():
    if ViperLayers is None:
        skip("viper emitter not available: " + VIPER_MISSING)
    rng = Rng(7)
    counts = {}
    for case in range(300):
        spec = random_layer(rng)
        counts[spec["op"]] = counts.get(spec["op"], 0) + 1
        model = parse(build([spec]))
        for _ in range(2):
            data = rng.int8s(model.input_elements)
            want = _run(PythonLayers, model, data)
            got = _run(ViperLayers, model, data)
            assert got == want, "case %d op %d: python %r viper %r" % (case, spec["op"], want, got)
    assert min(counts.values()) > 40, counts  # every MAC op really exercised


def test_viper_equals_python_with_extreme_multipliers_shifts_and_biases():
    if ViperLayers is None:
        skip("viper emitter not available: " + VIPER_MISSING)
    rng = Rng(2024)
    distinct = set()
    for case in range(300):
        spec = random_layer(rng, extreme=True)
        model = parse(build([spec]))
        for _ in range(2):
            data = rng.int8s(model.input_elements)
            want = _run(PythonLayers, model, data)
            distinct.add(want)
            assert _run(ViperLayers, model, data) == want, "case %d op %d" % (case, spec["op"])
    assert len(distinct) > 400, len(distinct)  # not just saturated outputs


def test_viper_long_runs_hit_every_unrolled_tail():
    # FC depths 1..40 and 1-D convs with 1..20 input channels: the 8- and 4-wide
    # unrolled loops with every remainder
    if ViperLayers is None:
        skip("viper emitter not available: " + VIPER_MISSING)
    rng = Rng(5)
    for depth in range(1, 41):
        spec = layer(1, (1, 1, depth), (1, 1, 3), in_zp=rng.between(-128, 127), out_zp=0,
                     weights=rng.int8s(3 * depth, -127), multipliers=[1 << 30], shifts=[-6])
        model = parse(build([spec]))
        data = rng.int8s(depth)
        assert _run(ViperLayers, model, data) == _run(PythonLayers, model, data), depth
    for in_c in range(1, 21):
        spec = layer(2, (1, 9, in_c), (1, 9, 2), in_zp=rng.between(-128, 127), kernel=(1, 3), stride=(1, 1),
                     dilation=(1, 1), pad=(0, 1), weights=rng.int8s(2 * 3 * in_c, -127),
                     multipliers=[1 << 30], shifts=[-7])
        model = parse(build([spec]))
        data = rng.int8s(model.input_elements)
        assert _run(ViperLayers, model, data) == _run(PythonLayers, model, data), in_c


def test_viper_softmax_equals_python_on_random_rows():
    # row lengths 1, 3, 9 and up to 256, several rows, multipliers and left shifts across
    # their whole ranges, diff_min from 0 (only the row max counts) to far below -255
    if ViperLayers is None:
        skip("viper emitter not available: " + VIPER_MISSING)
    rng = Rng(4242)
    lengths = (1, 3, 9, 256, 2, 17, 100)
    for case in range(160):
        depth = lengths[case % len(lengths)] if case < 100 else rng.between(1, 300)
        rows = (1, 1, 2, 5)[rng.below(4)]
        params = ((rng.between(0, INT32_MAX), 1 << 30, INT32_MAX, 0, 1)[rng.below(5)],
                  rng.between(0, 31), (0, -1, -248, -rng.between(0, 300), -(1 << 20), INT32_MIN)[rng.below(6)])
        zp = rng.between(-128, 127)
        model = parse(build([layer(7, (1, rows, depth), (1, rows, depth), in_zp=zp, out_zp=-128, params=params)]))
        for spread in (255, 8, 0):  # spread 0: a row of equal values
            data = rng.int8s(model.input_elements, -128 + (255 - spread) // 2, -128 + (255 - spread) // 2 + spread)
            want = _run(PythonLayers, model, data)
            assert _run(ViperLayers, model, data) == want, "case %d depth %d rows %d params %r" % (
                case, depth, rows, params)


def test_viper_logistic_and_mean_equal_python():
    if ViperLayers is None:
        skip("viper emitter not available: " + VIPER_MISSING)
    rng = Rng(808)
    for case in range(60):
        zp = rng.between(-128, 127)
        logistic = layer(6, (1, 1, 256), (1, 1, 256), in_zp=zp, out_zp=-128,
                         params=(rng.between(0, INT32_MAX), rng.between(-31, 30), rng.between(0, 3000)))
        model = parse(build([logistic]))
        data = bytes(range(256))  # every input byte
        assert _run(ViperLayers, model, data) == _run(PythonLayers, model, data), case
        h, w, c = rng.between(1, 9), rng.between(1, 9), rng.between(1, 20)
        m = (0, 1, 1 << 29, rng.between(0, INT32_MAX), INT32_MAX)[rng.below(5)]
        mean = layer(5, (h, w, c), (1, 1, c), in_zp=zp, out_zp=rng.between(-128, 127),
                     multipliers=[m], shifts=[rng.between(-31, 30)], act=_act(rng, 0))
        model = parse(build([mean]))
        data = rng.int8s(model.input_elements)
        assert _run(ViperLayers, model, data) == _run(PythonLayers, model, data), case


def _requantize_reference(acc, bias, multiplier, shift, zp_out, act_min, act_max):
    y = multiply_by_quantized_multiplier(_wrap32(acc + bias), multiplier, shift) + zp_out
    return min(max(y, act_min), act_max)


def _requantize_viper(accs, biases, multipliers, shifts, zp_out=0, act_min=-128, act_max=127):
    """requantize_all on one channel per accumulator; returns the int8 outputs."""
    n = len(accs)
    params = ops_viper.requant_params(n, n, zp_out, act_min, act_max, biases, multipliers, shifts, True)
    dst = array.array("b", bytes(n))
    ops_viper.requantize_all(array.array("i", accs), dst, params)
    return list(dst)


def test_viper_requantization_matches_quant_on_edges():
    if ViperLayers is None:
        skip("viper emitter not available: " + VIPER_MISSING)
    # the docs/int8-arithmetic.md tie with a negative product: m 1696766344, shift -6, acc -2956 -> -37
    assert _requantize_viper([-2956], [0], [1696766344], [-6]) == [-37]
    cases = []
    accs = (0, 1, -1, 2, -2, 100, -100, 12345, -12345, 1 << 20, -(1 << 20), INT32_MAX, INT32_MIN,
            INT32_MAX - 1, INT32_MIN + 1, 1 << 30, -(1 << 30), 0x5A5A5A5A, -0x5A5A5A5A)
    multipliers = (0, 1, 1 << 30, (1 << 30) + 1, 1696766344, INT32_MAX, -1, -(1 << 30), INT32_MIN, INT32_MIN + 1)
    for acc in accs:
        for m in multipliers:
            for shift in (-31, -30, -17, -6, -1, 0, 1, 2, 7, 30):
                cases.append((acc, 0, m, shift))
    for acc, bias in ((INT32_MAX, 1), (INT32_MIN, -1), (INT32_MAX, INT32_MAX), (INT32_MIN, INT32_MIN),
                      (2000000000, 500000000), (-2000000000, -500000000)):  # wrapped sums
        for m in (1 << 30, INT32_MAX, 1696766344):
            cases.append((acc, bias, m, -1))
    rng = Rng(31)
    for _ in range(3000):
        shift = rng.between(-31, 30)
        acc = rng.between(INT32_MIN, INT32_MAX) >> rng.below(32)
        m = rng.between(INT32_MIN, INT32_MAX) if rng.below(4) == 0 else rng.between(1 << 30, INT32_MAX)
        cases.append((acc if rng.below(2) else -acc, rng.between(-1000, 1000), m, shift))
    # negative ties: acc * m is an odd multiple of 2^30 (SRDHM tie) or the divide ties
    for k in range(1, 200, 2):
        cases.append((-(k << 14), 0, 1 << 16, 0))
        cases.append((-(k << 5), 0, 1 << 30, -6))
    for zp_out, act_min, act_max in ((0, -128, 127), (-128, -128, 127), (127, -128, 127), (5, -20, 30)):
        for start in range(0, len(cases), 250):
            chunk = cases[start:start + 250]
            got = _requantize_viper([c[0] for c in chunk], [c[1] for c in chunk], [c[2] for c in chunk],
                                    [c[3] for c in chunk], zp_out, act_min, act_max)
            for (acc, bias, m, shift), y in zip(chunk, got):
                want = _requantize_reference(acc, bias, m, shift, zp_out, act_min, act_max)
                assert y == want, "acc %d bias %d m %d shift %d zp %d: viper %d want %d" % (
                    acc, bias, m, shift, zp_out, y, want)


def _modular_inverse_2_31(m):
    """m^-1 mod 2^31 for odd m (Newton's iteration doubles the correct low bits)."""
    inverse = m
    for _ in range(5):
        inverse = (inverse * (2 - m * inverse)) & 0x7FFFFFFF
    return inverse


def _observed(acc, bias, m, shift):
    """The viper result with the reference value subtracted through the zero point, so
    an error of one shows as an output of +-1 instead of vanishing in the clamp."""
    want = multiply_by_quantized_multiplier(_wrap32(acc + bias), m, shift)
    got = _requantize_viper([acc], [bias], [m], [shift], zp_out=-want)[0]
    return got, want


def test_viper_requantization_exact_at_rounding_ties():
    if ViperLayers is None:
        skip("viper emitter not available: " + VIPER_MISSING)
    rng = Rng(77)
    checked = 0
    for _ in range(400):
        m = rng.between(1, INT32_MAX) | 1
        inverse = _modular_inverse_2_31(m)
        assert (m * inverse) & 0x7FFFFFFF == 1
        for delta in (-2, -1, 0, 1, 2):
            # x * m = 2^30 + delta (mod 2^31): the nudge decides the rounding
            x = (((1 << 30) + delta) * inverse) & 0x7FFFFFFF
            for acc, mult in ((x, m), (x - (1 << 31), m), (x, -m), (x - (1 << 31), -m)):
                if mult >= 0:
                    for shift in (0, -1):
                        got, want = _observed(acc, 0, mult, shift)
                        if -(1 << 30) <= want <= (1 << 30):
                            assert got == 0, "acc %d m %d shift %d: off by %d" % (acc, mult, shift, got)
                            checked += 1
                want = saturating_rounding_doubling_high_mul(acc, mult)
                got = _requantize_viper([acc], [0], [mult], [0], zp_out=-want)[0]
                assert got == 0, "SRDHM(%d, %d): off by %d" % (acc, mult, got)
    for _ in range(2000):  # every random case seen whole, not clamped
        acc = rng.between(INT32_MIN, INT32_MAX) >> rng.below(32)
        m = rng.between(0, INT32_MAX)
        got, want = _observed(acc, rng.between(-5000, 5000), m, rng.between(-31, 30))
        if -(1 << 30) <= want <= (1 << 30):
            assert got == 0, (acc, m, got, want)
            checked += 1
    assert checked > 3000, checked


def test_viper_doubling_high_mul_saturates_min_times_min():
    if ViperLayers is None:
        skip("viper emitter not available: " + VIPER_MISSING)
    # INT32_MIN * INT32_MIN is the one product that saturates; seen through the output
    # clamp, so compare at shift -31 where INT32_MAX and INT32_MIN land on 1 and -1
    assert saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN) == INT32_MAX
    assert _requantize_viper([INT32_MIN], [0], [INT32_MIN], [-31]) == [1]
    assert _requantize_viper([INT32_MIN], [0], [INT32_MIN + 1], [-31]) == [1]
    assert _requantize_viper([INT32_MIN + 1], [0], [INT32_MIN], [-31]) == [1]
    assert _requantize_viper([INT32_MIN], [0], [INT32_MAX], [-31]) == [-1]


def test_viper_equals_python_on_a_chain_with_every_op():
    if ViperLayers is None:
        skip("viper emitter not available: " + VIPER_MISSING)
    rng = Rng(99)
    conv = layer(2, (1, 12, 3), (1, 12, 4), in_zp=-5, out_zp=-10, weights=rng.int8s(4 * 1 * 3 * 3, -127),
                 kernel=(1, 3), stride=(1, 1), dilation=(1, 1), pad=(0, 1), bias=[100, -200, 300, 0],
                 multipliers=[1200000000, 1300000000, 1100000000, 2000000000], shifts=[-9, -9, -10, -9],
                 act=(-10, 127))
    dw = layer(3, (1, 12, 4), (1, 6, 8), in_zp=-10, out_zp=3, weights=rng.int8s(1 * 3 * 8, -127),
               kernel=(1, 3), stride=(1, 2), dilation=(1, 1), pad=(0, 0), depth_multiplier=2,
               multipliers=[1500000000], shifts=[-8])
    dw["out_shape"] = (1, 5, 8)  # VALID: (12 - 3) // 2 + 1 = 5
    pool = layer(4, (1, 5, 8), (1, 3, 8), in_zp=3, out_zp=3, kernel=(1, 2), stride=(1, 2),
                 dilation=(1, 1), pad=(0, 0))
    pool["out_shape"] = (1, 2, 8)  # VALID: (5 - 2) // 2 + 1 = 2
    mean = layer(5, (1, 2, 8), (1, 1, 8), in_zp=3, out_zp=-2, multipliers=[1 << 29], shifts=[0])
    fc = layer(1, (1, 1, 8), (1, 1, 5), in_zp=-2, out_zp=7, weights=rng.int8s(40, -127),
               multipliers=[1 << 30] * 5, shifts=[-6, -7, -6, -5, -6], bias=[10, 20, 30, 40, 50])
    logistic = layer(6, (1, 1, 5), (1, 1, 5), in_zp=7, out_zp=-128, params=(1082746816, 22, 449))
    soft = layer(7, (1, 1, 5), (1, 1, 5), in_zp=-128, out_zp=-128, params=(1 << 30, 23, -248))
    model = parse(build([conv, dw, pool, mean, fc, logistic, soft]))
    for _ in range(20):
        data = rng.int8s(model.input_elements)
        assert _run(ViperLayers, model, data) == _run(PythonLayers, model, data)


def test_viper_inference_allocates_no_heap():
    if ViperLayers is None:
        skip("viper emitter not available: " + VIPER_MISSING)
    from verdant import engine
    net = engine.load(conv1d_model(), backend="viper")
    data = bytes(((i * 37) & 0xFF) for i in range(net.input_elements))
    want = bytes(engine.load(conv1d_model(), backend="python").predict_int8(data))
    assert bytes(net.predict_int8(data)) == want
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        for _ in range(20):
            net.predict_int8(data)
        allocated = gc.mem_alloc() - before
    finally:
        gc.enable()
    assert allocated == 0, "viper predict_int8 allocated %d bytes in 20 calls" % allocated
