"""Pure-Python int8 kernels against tflite-micro, op by op (CPython).

Each case is built twice from the same float scales and int8 weights: as a one-op
.tflite run in the TFLM reference interpreter (the oracle), and as a Verdant model
file run by verdant.engine.ops_python. Outputs must be identical.
"""
import array
import zlib

import numpy as np
import pytest

from tflm_oracle import (OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED, OP_LOGISTIC,
                         OP_MAX_POOL_2D, OP_MEAN, OP_SOFTMAX, OpCase, run_tflm, tflite_model,
                         verdant_model)
from verdant_host import op_params as prepare
from verdant.engine.modelfile import parse
from verdant.engine.ops_python import PythonLayers


def run_python(model_buf, inputs):
    model = parse(model_buf)
    layers = PythonLayers(model)
    size = max(max(l.in_size, l.out_size) for l in model.layers)
    outputs = []
    for flat in inputs:
        src = array.array("b", [int(v) for v in flat] + [0] * (size - len(flat)))
        dst = array.array("b", bytes(size))
        result = layers.run(src, dst)
        outputs.append(np.array(result[:model.output_elements], dtype=np.int8))
    return outputs


def random_inputs(rng, case, count):
    n = int(np.prod(case.in_shape))
    inputs = [rng.integers(-128, 128, n) for _ in range(count)]
    inputs.append(np.full(n, -128))
    inputs.append(np.full(n, 127))
    return inputs


def assert_same_as_tflm(case, inputs):
    expected = run_tflm(tflite_model(case), inputs)
    got = run_python(verdant_model(case), inputs)
    for i, (want, have) in enumerate(zip(expected, got)):
        mismatch = np.nonzero(want != have)[0]
        assert mismatch.size == 0, "input %d: first mismatch at %d: TFLM %d, ours %d" % (
            i, mismatch[0], want[mismatch[0]], have[mismatch[0]])
    return expected


def _rng(*key):
    """A generator seeded from the test parameters (stable across runs, unlike hash())."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _weights(rng, shape):
    return rng.integers(-127, 128, shape)


def _scales(rng, count, low=0.002, high=0.05):
    return list(np.exp(rng.uniform(np.log(low), np.log(high), count)))


# ---- FULLY_CONNECTED --------------------------------------------------------

@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("activation", ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])
def test_fully_connected(per_channel, with_bias, activation):
    rng = _rng((per_channel, with_bias, activation))
    for _ in range(3):
        depth, channels = int(rng.integers(1, 24)), int(rng.integers(1, 9))
        case = OpCase(op=OP_FULLY_CONNECTED, in_shape=(1, 1, depth), in_scale=float(rng.uniform(0.01, 0.2)),
                      in_zp=int(rng.integers(-128, 128)), out_scale=float(rng.uniform(0.02, 0.3)),
                      out_zp=int(rng.integers(-128, 128)), out_channels=channels,
                      weights=_weights(rng, (channels, depth)),
                      weight_scales=_scales(rng, channels if per_channel else 1),
                      bias=rng.integers(-3000, 3000, channels) if with_bias else None, activation=activation)
        assert_same_as_tflm(case, random_inputs(rng, case, 6))


@pytest.mark.parametrize("in_zp", [-128, 127])
def test_fully_connected_extreme_input_zero_points(in_zp):
    rng = np.random.default_rng(in_zp & 0xFF)
    case = OpCase(op=OP_FULLY_CONNECTED, in_shape=(1, 1, 16), in_scale=0.05, in_zp=in_zp, out_scale=0.4,
                  out_zp=3, out_channels=5, weights=_weights(rng, (5, 16)), weight_scales=_scales(rng, 5),
                  bias=rng.integers(-500, 500, 5))
    assert_same_as_tflm(case, random_inputs(rng, case, 8))


@pytest.mark.parametrize("sign", [1, -1])
def test_fully_connected_accumulator_near_int32_limits(sign):
    rng = np.random.default_rng(7 if sign > 0 else 8)
    depth = 4
    max_acc = depth * 127 * 255
    bias = sign * ((1 << 31) - 1 - max_acc)
    # real multiplier 2^-25 keeps an accumulator near 2^31 inside int8 after scaling
    case = OpCase(op=OP_FULLY_CONNECTED, in_shape=(1, 1, depth), in_scale=2.0 ** -5, in_zp=0,
                  out_scale=2.0 ** 10, out_zp=0, out_channels=2,
                  weights=np.full((2, depth), 127 * sign), weight_scales=[2.0 ** -10, 2.0 ** -10],
                  bias=np.array([bias, bias]))
    outputs = assert_same_as_tflm(case, random_inputs(rng, case, 6))
    assert any(abs(int(v)) >= 60 for out in outputs for v in out)  # the large values really arrive


# ---- CONV_2D / DEPTHWISE_CONV_2D ---------------------------------------------

CONV_GEOMETRIES = [
    # (in h, w, c), kernel, stride, dilation, padding
    ((6, 6, 2), (4, 4), (1, 1), (1, 1), "SAME"),    # total padding 3: odd, 1 before / 2 after
    ((5, 7, 3), (3, 3), (1, 1), (1, 1), "VALID"),
    ((7, 8, 2), (3, 3), (2, 2), (1, 1), "SAME"),
    ((7, 8, 2), (3, 2), (2, 3), (1, 1), "VALID"),
    ((1, 12, 3), (1, 5), (1, 1), (1, 1), "SAME"),   # the Conv1D form: H = 1
    ((1, 12, 3), (1, 3), (1, 2), (1, 1), "VALID"),
    ((8, 8, 2), (3, 3), (1, 1), (2, 2), "SAME"),    # dilation
    ((8, 9, 1), (2, 3), (1, 1), (3, 2), "VALID"),
]


@pytest.mark.parametrize("geometry", CONV_GEOMETRIES)
@pytest.mark.parametrize("per_channel", [True, False])
def test_conv_2d(geometry, per_channel):
    in_shape, kernel, stride, dilation, padding = geometry
    rng = _rng((geometry, per_channel))
    out_c = 3
    case = OpCase(op=OP_CONV_2D, in_shape=in_shape, in_scale=0.04, in_zp=int(rng.integers(-20, 20)),
                  out_scale=float(rng.uniform(0.05, 0.3)), out_zp=int(rng.integers(-30, 30)), out_channels=out_c,
                  weights=_weights(rng, (out_c, kernel[0], kernel[1], in_shape[2])),
                  weight_scales=_scales(rng, out_c if per_channel else 1), bias=rng.integers(-2000, 2000, out_c),
                  kernel=kernel, stride=stride, dilation=dilation, padding=padding,
                  activation="RELU" if per_channel else "NONE")
    assert_same_as_tflm(case, random_inputs(rng, case, 3))


@pytest.mark.parametrize("geometry", CONV_GEOMETRIES)
@pytest.mark.parametrize("depth_multiplier", [1, 2, 3])
def test_depthwise_conv_2d(geometry, depth_multiplier):
    in_shape, kernel, stride, dilation, padding = geometry
    rng = _rng((geometry, depth_multiplier))
    out_c = in_shape[2] * depth_multiplier
    case = OpCase(op=OP_DEPTHWISE_CONV_2D, in_shape=in_shape, in_scale=0.03, in_zp=int(rng.integers(-20, 20)),
                  out_scale=float(rng.uniform(0.02, 0.2)), out_zp=int(rng.integers(-30, 30)),
                  weights=_weights(rng, (1, kernel[0], kernel[1], out_c)),
                  weight_scales=_scales(rng, out_c if depth_multiplier != 2 else 1),
                  bias=None if depth_multiplier == 3 else rng.integers(-2000, 2000, out_c),
                  kernel=kernel, stride=stride, dilation=dilation, padding=padding, depth_multiplier=depth_multiplier,
                  activation="RELU6")
    assert_same_as_tflm(case, random_inputs(rng, case, 3))


# ---- MAX_POOL_2D / MEAN --------------------------------------------------------

@pytest.mark.parametrize("geometry", [g for g in CONV_GEOMETRIES if g[3] == (1, 1)])
@pytest.mark.parametrize("activation", ["NONE", "RELU"])
def test_max_pool_2d(geometry, activation):
    in_shape, kernel, stride, _, padding = geometry
    rng = _rng((geometry, activation))
    zp = int(rng.integers(-50, 50))
    case = OpCase(op=OP_MAX_POOL_2D, in_shape=in_shape, in_scale=0.05, in_zp=zp, out_scale=0.05, out_zp=zp,
                  kernel=kernel, stride=stride, padding=padding, activation=activation)
    assert_same_as_tflm(case, random_inputs(rng, case, 4))


@pytest.mark.parametrize("in_shape", [(1, 1, 3), (3, 3, 2), (5, 6, 3), (1, 12, 4), (16, 16, 2), (1, 300, 2)])
@pytest.mark.parametrize("scales", [(0.05, 0.03), (0.02, 0.02), (0.1, 0.001), (0.001, 0.5)])
def test_mean(in_shape, scales):
    rng = _rng((in_shape, scales))
    case = OpCase(op=OP_MEAN, in_shape=in_shape, in_scale=scales[0], in_zp=int(rng.integers(-128, 128)),
                  out_scale=scales[1], out_zp=int(rng.integers(-128, 128)))
    assert_same_as_tflm(case, random_inputs(rng, case, 5))


# ---- LOGISTIC / SOFTMAX ---------------------------------------------------------

ALL_BYTES = [np.arange(-128, 128)]


def test_logistic_documented_case():
    # docs/int8-arithmetic.md: s_in 0.032280128449201584, zp -59, q 12 -> 104 in TFLM (a float table says 105)
    case = OpCase(op=OP_LOGISTIC, in_shape=(1, 1, 256), in_scale=0.032280128449201584, in_zp=-59)
    out = assert_same_as_tflm(case, ALL_BYTES)[0]
    assert out[12 + 128] == 104


def test_logistic_sweeps_all_inputs_for_many_scales_and_zero_points():
    rng = np.random.default_rng(2024)
    scales = list(np.exp(rng.uniform(np.log(1e-3), np.log(2.0), 40))) + [1 / 16, 0.1, 1 / 256, 0.5]
    for scale in scales:
        zp = int(rng.integers(-128, 128))
        case = OpCase(op=OP_LOGISTIC, in_shape=(1, 1, 256), in_scale=float(scale), in_zp=zp)
        assert_same_as_tflm(case, ALL_BYTES)


@pytest.mark.parametrize("depth", [1, 3, 256])
def test_softmax_rows(depth):
    rng = np.random.default_rng(depth)
    for scale in (0.004, 0.05, 0.25, 1.0):
        case = OpCase(op=OP_SOFTMAX, in_shape=(3, 1, depth), in_scale=scale, in_zp=int(rng.integers(-128, 128)))
        assert_same_as_tflm(case, random_inputs(rng, case, 4))


def test_softmax_differences_at_diff_min():
    # scale 1.0 -> multiplier 2^30, shift 27 -> diff_min = -floor(31 * 2^26 / 2^27) = -15
    assert prepare.softmax_params(1.0) == (1 << 30, 27, -15)
    case = OpCase(op=OP_SOFTMAX, in_shape=(1, 1, 6), in_scale=1.0, in_zp=0)
    row = [100, 100 - 14, 100 - 15, 100 - 16, 100 - 1, -128]
    out = assert_same_as_tflm(case, [np.array(row)])[0]
    assert out[3] == -128 and out[5] == -128  # below diff_min: exactly zero probability


def test_softmax_with_beta():
    rng = np.random.default_rng(5)
    case = OpCase(op=OP_SOFTMAX, in_shape=(2, 1, 10), in_scale=0.1, in_zp=5, beta=0.5)
    assert_same_as_tflm(case, random_inputs(rng, case, 4))


def test_fully_connected_multiplier_extremes():
    # per-channel real multipliers from 2^-21 (shift -20) to 6 (shift +3)
    rng = _rng("multiplier extremes")
    weight_scales = [2.0 ** -20, 1e-6, 0.003, 0.5, 3.0, 12.0]
    case = OpCase(op=OP_FULLY_CONNECTED, in_shape=(1, 1, 3), in_scale=0.02, in_zp=-7, out_scale=0.04, out_zp=1,
                  out_channels=6, weights=rng.integers(-3, 4, (6, 3)), weight_scales=weight_scales,
                  bias=rng.integers(-5, 6, 6))
    assert_same_as_tflm(case, random_inputs(rng, case, 20))


def test_random_windowed_layers():
    rng = _rng("random windowed layers")
    for _ in range(25):
        op = [OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_MAX_POOL_2D][int(rng.integers(0, 3))]
        in_shape = (int(rng.integers(1, 8)), int(rng.integers(1, 8)), int(rng.integers(1, 4)))
        kernel = (int(rng.integers(1, in_shape[0] + 1)), int(rng.integers(1, in_shape[1] + 1)))
        stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        padding = "SAME" if rng.integers(0, 2) else "VALID"
        zp = int(rng.integers(-128, 128))
        case = OpCase(op=op, in_shape=in_shape, in_scale=float(rng.uniform(0.01, 0.1)), in_zp=zp,
                      out_scale=float(rng.uniform(0.01, 0.5)), out_zp=int(rng.integers(-128, 128)),
                      kernel=kernel, stride=stride, padding=padding,
                      activation=["NONE", "RELU", "RELU6"][int(rng.integers(0, 3))])
        if op == OP_MAX_POOL_2D:
            case.out_scale, case.out_zp = case.in_scale, zp
        elif op == OP_CONV_2D:
            case.out_channels = int(rng.integers(1, 5))
            case.weights = _weights(rng, (case.out_channels, kernel[0], kernel[1], in_shape[2]))
            case.weight_scales = _scales(rng, case.out_channels)
            case.bias = rng.integers(-5000, 5000, case.out_channels)
        else:
            case.depth_multiplier = int(rng.integers(1, 4))
            out_c = in_shape[2] * case.depth_multiplier
            case.weights = _weights(rng, (1, kernel[0], kernel[1], out_c))
            case.weight_scales = _scales(rng, out_c)
            case.bias = rng.integers(-5000, 5000, out_c)
        assert_same_as_tflm(case, random_inputs(rng, case, 2))


def test_random_scales_for_mean_softmax_logistic():
    # scales over four decades: MEAN multipliers far from 1 and counts up to 4096,
    # SOFTMAX with diff_min from -3968 down to -15 (most inputs cut off), LOGISTIC radii
    rng = _rng("random scales")
    for _ in range(12):
        h, w = int(rng.integers(1, 65)), int(rng.integers(1, 65))
        case = OpCase(op=OP_MEAN, in_shape=(h, w, 2), in_scale=float(np.exp(rng.uniform(-7, 1))),
                      in_zp=int(rng.integers(-128, 128)), out_scale=float(np.exp(rng.uniform(-7, 1))),
                      out_zp=int(rng.integers(-128, 128)))
        assert_same_as_tflm(case, random_inputs(rng, case, 2))
    for _ in range(12):
        case = OpCase(op=OP_SOFTMAX, in_shape=(2, 1, int(rng.integers(2, 40))), in_scale=float(np.exp(rng.uniform(-6, 1))),
                      in_zp=int(rng.integers(-128, 128)), beta=float(rng.choice([1.0, 0.3, 2.0])))
        assert_same_as_tflm(case, random_inputs(rng, case, 3))
    for _ in range(12):
        case = OpCase(op=OP_LOGISTIC, in_shape=(1, 1, 256), in_scale=float(np.exp(rng.uniform(-7, 2.0))),
                      in_zp=int(rng.integers(-128, 128)))
        assert_same_as_tflm(case, ALL_BYTES)
