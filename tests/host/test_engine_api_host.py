"""The engine package under CPython: the host imports the same device code.

Also checks that the test/bench model builder (verdant_host.model_builder) writes the
same bytes as the exporter's writer, and the prepare helpers against
values worked out by hand from TFLM's Prepare formulas.
"""
import math

import pytest

from verdant import engine
from verdant_host import op_params as prepare
from verdant.engine.modelfile import ModelError, parse
from verdant_host.model_writer import LayerSpec, OP_FULLY_CONNECTED, OP_CONV_2D, OP_SOFTMAX, write_model

from verdant_host import model_builder as engine_models  # the MicroPython-side builder, on CPython


def _fc_spec():
    return LayerSpec(op=OP_FULLY_CONNECTED, in_shape=(1, 1, 3), out_shape=(1, 1, 2), in_zp=-1, out_zp=2,
                     weights=bytes([1, 2, 3, 255, 254, 253]), bias=[7, -7],
                     multipliers=[1 << 30, (1 << 30) + 1], shifts=[-3, -4])


def test_the_builder_writes_the_same_bytes_as_the_writer():
    conv = LayerSpec(op=OP_CONV_2D, in_shape=(1, 1, 2), out_shape=(1, 1, 3), in_zp=2, out_zp=-1,
                     kernel=(1, 1), stride=(1, 1), dilation=(1, 1), weights=bytes(range(6)),
                     multipliers=[1 << 30], shifts=[-2])
    ours = write_model([conv, _fc_spec()], {"labels": ["x", "y"]}, input_q=(0.5, 2), output_q=(0.25, 2))
    theirs = engine_models.build(
        [engine_models.layer(2, (1, 1, 2), (1, 1, 3), in_zp=2, out_zp=-1, kernel=(1, 1), stride=(1, 1),
                             dilation=(1, 1), weights=bytes(range(6)), multipliers=[1 << 30], shifts=[-2]),
         engine_models.layer(1, (1, 1, 3), (1, 1, 2), in_zp=-1, out_zp=2, weights=bytes([1, 2, 3, 255, 254, 253]),
                             bias=[7, -7], multipliers=[1 << 30, (1 << 30) + 1], shifts=[-3, -4])],
        meta=b'{"labels":["x","y"]}', input_q=(0.5, 2), output_q=(0.25, 2))
    assert bytes(theirs) == ours


def test_python_backend_on_cpython():
    buf = write_model([_fc_spec()], {"labels": ["a", "b"]}, input_q=(0.5, -1), output_q=(0.25, 2))
    net = engine.load(buf)
    assert net.backend == "python"  # no natmod, no viper under CPython
    assert net.labels == ["a", "b"]
    # acc0 = 1*(4+1) + 2*(0+1) + 3*(-2+1) + 7 = 11; MBQM(11, 2^30, -3):
    # 11 * 2^30 / 2^31 = 5.5 -> 6 (half up), 6 / 8 = 0.75 -> 1, + 2 = 3
    out = net.predict_int8(bytes([4, 0, 254]))
    assert out[0] == 3


def test_viper_unavailable_on_cpython_is_named():
    buf = write_model([_fc_spec()], {}, input_q=(0.5, -1), output_q=(0.25, 2))
    with pytest.raises(ValueError, match="engine backend 'viper' unavailable: viper emitter not available"):
        engine.load(buf, backend="viper")


def test_load_refuses_bad_file_with_parser_message():
    buf = bytearray(write_model([_fc_spec()], {}, input_q=(0.5, -1), output_q=(0.25, 2)))
    buf[4] = 9
    with pytest.raises(ModelError, match="unsupported format version 9"):
        engine.load(bytes(buf))


def test_quantize_policy_on_cpython():
    assert engine.quantize(0.5 - 2.0 ** -30, 1.0, 0) == 1  # float32(x) is 0.5 -> 1
    assert engine.quantize(float("inf"), 0.1, 0) == 127
    assert engine.quantize(float("-inf"), 0.1, 0) == -128
    assert engine.quantize(3.5e38, 1.0, 0) == 127  # beyond float32 max: float32(x) = inf
    with pytest.raises(ValueError):
        engine.quantize(float("nan"), 0.1, 0)


def test_logistic_params_by_hand():
    # scale 1/16: real = 2^-4 * 2^27 = 2^23 = 0.5 * 2^24 -> multiplier 2^30, shift 24,
    # radius = floor(15 * 2^27 / 2^24) = 120
    assert prepare.logistic_params(1 / 16) == (1 << 30, 24, 120)
    # scale 0.1 (as float32): real = 0.100000001490116 * 2^27 = 13421773.0 = 0.8 * 2^24
    s = 0.10000000149011612
    m = int(math.floor(s * 2 ** 27 / 2 ** 24 * 2 ** 31 + 0.5))
    assert prepare.logistic_params(s) == (m, 24, 120)


def test_softmax_params_by_hand():
    # scale 1/256: real = 2^-8 * 2^26 = 2^18 = 0.5 * 2^19 -> (2^30, 19); diff_min = -floor(31 * 2^26 / 2^19) = -3968
    assert prepare.softmax_params(1 / 256) == (1 << 30, 19, -3968)
    # beta halves the real multiplier: 2^17 -> shift 18, diff_min doubles
    assert prepare.softmax_params(1 / 256, beta=0.5) == (1 << 30, 18, -7936)


def test_mean_params_by_hand():
    # s_in/s_out = 1 -> (2^30, 1); n = 4 -> k = min(2, 32, 32) = 2; M' = 2^32 / 4 = 2^30; s' = -1
    assert prepare.mean_params(0.5, 0.5, 4) == (1 << 30, -1)
    # n = 12: k = 3, M' = floor(2^33 / 12) = 715827882, s' = -2
    assert prepare.mean_params(0.5, 0.5, 12) == (715827882, -2)
    with pytest.raises(ValueError, match="count must be >= 1"):
        prepare.mean_params(0.5, 0.5, 0)


def test_logistic_params_refuse_scales_the_format_cannot_hold():
    # scale 8 -> 8 * 2^27 = 0.5 * 2^31: shift 31 > 30 (TFLM would saturate every input)
    assert prepare.logistic_params(7.99)[1] == 30
    with pytest.raises(ValueError, match="logistic input scale 8.0 >= 8 is not supported"):
        prepare.logistic_params(8.0)


def test_prepare_rejects_bad_scales():
    with pytest.raises(ValueError, match="finite and > 0"):
        prepare.logistic_params(0.0)
    with pytest.raises(ValueError, match="finite and > 0"):
        prepare.softmax_params(float("nan"))


def test_softmax_model_parses_with_prepared_params():
    params = prepare.softmax_params(0.05)
    spec = LayerSpec(op=OP_SOFTMAX, in_shape=(1, 1, 4), out_shape=(1, 1, 4), in_zp=3, out_zp=-128, params=params)
    model = parse(write_model([spec], {}, input_q=(0.05, 3), output_q=(1 / 256, -128)))
    assert (model.layers[0].p0, model.layers[0].p1, model.layers[0].p2) == params
