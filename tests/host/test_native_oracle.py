"""The C kernel (host build, ASan + UBSan) against tflite-micro, op by op.

Single-op .tflite models built by tests/host/tflm_oracle.py run in the TFLM reference
interpreter; the same op as a Verdant model file runs through run_c_host. Outputs
must be identical: LOGISTIC sweeps of all 256 inputs for many scales and zero points,
SOFTMAX rows of length 1, 3 and 256 and at diff_min, FC at multiplier extremes,
random windowed layers and MEAN.
"""
import os
import sys
import zlib

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

tflm_oracle = pytest.importorskip("tflm_oracle")
import c_backends  # noqa: E402
from tflm_oracle import (OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED, OP_LOGISTIC,  # noqa: E402
                         OP_MAX_POOL_2D, OP_MEAN, OP_SOFTMAX, OpCase, run_tflm, tflite_model, verdant_model)

ALL_BYTES = [np.arange(-128, 128)]


def _rng(key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def random_inputs(rng, case, count):
    n = int(np.prod(case.in_shape))
    return [rng.integers(-128, 128, n) for _ in range(count)] + [np.full(n, -128), np.full(n, 127)]


def assert_c_same_as_tflm(case, inputs):
    expected = run_tflm(tflite_model(case), inputs)
    got = c_backends.run_c_host(verdant_model(case), [np.asarray(x, dtype=np.int8).tobytes() for x in inputs])
    for i, (want, have) in enumerate(zip(expected, got)):
        have = np.frombuffer(have, dtype=np.int8)
        bad = np.nonzero(want != have)[0]
        assert bad.size == 0, "input %d, element %d: TFLM %d, C %d" % (i, bad[0], want[bad[0]], have[bad[0]])
    return expected


def test_logistic_documented_case():
    case = OpCase(op=OP_LOGISTIC, in_shape=(1, 1, 256), in_scale=0.032280128449201584, in_zp=-59)
    assert assert_c_same_as_tflm(case, ALL_BYTES)[0][12 + 128] == 104


def test_logistic_sweeps_all_inputs_for_many_scales_and_zero_points():
    rng = np.random.default_rng(77)
    scales = list(np.exp(rng.uniform(np.log(1e-3), np.log(8.0), 30))) + [1 / 16, 0.1, 1 / 256, 0.5]
    for scale in scales:
        case = OpCase(op=OP_LOGISTIC, in_shape=(1, 1, 256), in_scale=float(scale), in_zp=int(rng.integers(-128, 128)))
        assert_c_same_as_tflm(case, ALL_BYTES)


@pytest.mark.parametrize("depth", [1, 3, 256])
def test_softmax_rows(depth):
    rng = np.random.default_rng(depth + 100)
    for scale in (0.004, 0.05, 0.25, 1.0):
        case = OpCase(op=OP_SOFTMAX, in_shape=(3, 1, depth), in_scale=scale, in_zp=int(rng.integers(-128, 128)))
        assert_c_same_as_tflm(case, random_inputs(rng, case, 4))


def test_softmax_at_diff_min():
    case = OpCase(op=OP_SOFTMAX, in_shape=(1, 1, 6), in_scale=1.0, in_zp=0)  # diff_min -15
    out = assert_c_same_as_tflm(case, [np.array([100, 86, 85, 84, 99, -128])])[0]
    assert out[3] == -128 and out[5] == -128


def test_fully_connected_multiplier_extremes_and_per_tensor():
    rng = _rng("fc")
    for weight_scales in ([2.0 ** -20, 1e-6, 0.003, 0.5, 3.0, 12.0], [0.02]):
        case = OpCase(op=OP_FULLY_CONNECTED, in_shape=(1, 1, 7), in_scale=0.02, in_zp=-7, out_scale=0.04, out_zp=1,
                      out_channels=6, weights=rng.integers(-127, 128, (6, 7)), weight_scales=weight_scales,
                      bias=rng.integers(-500, 500, 6), activation="RELU6")
        assert_c_same_as_tflm(case, random_inputs(rng, case, 10))


def test_random_windowed_layers():
    rng = _rng("windowed")
    for _ in range(30):
        op = [OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_MAX_POOL_2D][int(rng.integers(0, 3))]
        in_shape = (int(rng.integers(1, 8)), int(rng.integers(1, 9)), int(rng.integers(1, 4)))
        kernel = (int(rng.integers(1, in_shape[0] + 1)), int(rng.integers(1, in_shape[1] + 1)))
        zp = int(rng.integers(-128, 128))
        case = OpCase(op=op, in_shape=in_shape, in_scale=float(rng.uniform(0.01, 0.1)), in_zp=zp,
                      out_scale=float(rng.uniform(0.01, 0.5)), out_zp=int(rng.integers(-128, 128)), kernel=kernel,
                      stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))),
                      padding="SAME" if rng.integers(0, 2) else "VALID",
                      activation=["NONE", "RELU", "RELU6"][int(rng.integers(0, 3))])
        if op == OP_MAX_POOL_2D:
            case.out_scale, case.out_zp = case.in_scale, zp
        elif op == OP_CONV_2D:
            case.out_channels = int(rng.integers(1, 6))
            case.weights = rng.integers(-127, 128, (case.out_channels, kernel[0], kernel[1], in_shape[2]))
            case.weight_scales = list(rng.uniform(0.001, 0.05, case.out_channels if rng.integers(0, 2) else 1))
            case.bias = rng.integers(-5000, 5000, case.out_channels)
        else:
            case.depth_multiplier = int(rng.integers(1, 4))
            out_c = in_shape[2] * case.depth_multiplier
            case.weights = rng.integers(-127, 128, (1, kernel[0], kernel[1], out_c))
            case.weight_scales = list(rng.uniform(0.001, 0.05, out_c))
            case.bias = None if rng.integers(0, 3) == 0 else rng.integers(-5000, 5000, out_c)
        assert_c_same_as_tflm(case, random_inputs(rng, case, 2))


def test_mean_random_scales():
    rng = _rng("mean")
    for _ in range(10):
        case = OpCase(op=OP_MEAN, in_shape=(int(rng.integers(1, 40)), int(rng.integers(1, 40)), 2),
                      in_scale=float(np.exp(rng.uniform(-7, 1))), in_zp=int(rng.integers(-128, 128)),
                      out_scale=float(np.exp(rng.uniform(-7, 1))), out_zp=int(rng.integers(-128, 128)))
        assert_c_same_as_tflm(case, random_inputs(rng, case, 2))
