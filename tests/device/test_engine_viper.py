# The viper backend against the pure-Python backend on many random layers, inside
# the Unix port. Both must give identical int8 outputs (the Python kernels are
# themselves checked against tflite-micro by tests/host/test_engine_ops_oracle.py).
import array

from engine_models import build, layer
from mpytest import skip
from verdant.engine.modelfile import parse
from verdant.engine.ops_python import PythonLayers

try:
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


def _quant(rng, channels):
    q = channels if rng.below(2) else 1
    return [rng.between(1 << 30, (1 << 31) - 1) for _ in range(q)], [rng.between(-14, -4) for _ in range(q)]


def _act(rng, zp_out):
    low = rng.between(-128, max(-128, zp_out))
    return (low, rng.between(low, 127))


def random_layer(rng):
    op = rng.between(1, 4)
    in_h, in_w, in_c = rng.between(1, 7), rng.between(1, 7), rng.between(1, 4)
    zp_in, zp_out = rng.between(-128, 127), rng.between(-128, 127)
    if op == 1:
        out_c = rng.between(1, 6)
        depth = in_h * in_w * in_c
        m, s = _quant(rng, out_c)
        return layer(1, (in_h, in_w, in_c), (1, 1, out_c), in_zp=zp_in, out_zp=zp_out, act=_act(rng, zp_out),
                     weights=rng.int8s(out_c * depth, -127), multipliers=m, shifts=s,
                     bias=[rng.between(-20000, 20000) for _ in range(out_c)] if rng.below(2) else None)
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
    m, s = _quant(rng, out_c)
    return layer(op, (in_h, in_w, in_c), (out_h, out_w, out_c), in_zp=zp_in, out_zp=zp_out, act=_act(rng, zp_out),
                 weights=weights, depth_multiplier=multiplier, multipliers=m, shifts=s,
                 bias=[rng.between(-20000, 20000) for _ in range(out_c)] if rng.below(3) else None, **common)


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
