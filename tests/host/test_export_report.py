"""Exporter output checked against numbers computed here from the graph's own
dimensions, scales and docs/int8-arithmetic.md's formulas (not from the exporter's helpers)."""
import math
import struct

import numpy as np
import pytest

from test_export_builder import ACT, PAD, TfliteBuilder, fc_model
from verdant.engine.quant import quantize_multiplier
from verdant_host import cli
from verdant_host.export import export_with_report


def _align4(n):
    return n + (-n) % 4


def _layer(buf, index):
    return buf[64 + 64 * index:128 + 64 * index]


def _q_arrays(buf, index):
    rec = _layer(buf, index)
    q = struct.unpack_from("<H", rec, 30)[0]
    m_off, s_off = struct.unpack_from("<II", rec, 40)
    return list(struct.unpack_from("<%di" % q, buf, m_off)), list(struct.unpack_from("<%di" % q, buf, s_off))


def test_fc_per_channel_sizes_and_multipliers():
    tflite, weights = fc_model(in_c=6, out_c=4, per_channel=True, bias=True)
    data, report = export_with_report(tflite)
    # header + 1 record + weights + bias + 4 multipliers + 4 shifts + "{}" padded
    expected_file = 64 + 64 + _align4(24) + 16 + 16 + 16 + 4
    assert report.flash_bytes == len(data) == expected_file
    assert report.tflite_bytes == len(tflite)
    assert report.arena_bytes == 2 * 8          # two buffers of max(6, 4) -> 8
    assert report.layers[0].macs == 24 and report.layers[0].weight_bytes == 24
    w_off = struct.unpack_from("<I", _layer(data, 0), 32)[0]
    assert data[w_off:w_off + 24] == weights.tobytes()
    from verdant_host.tflite_reader import read_tflite
    scales = read_tflite(tflite).tensors[1].scales
    expected = [quantize_multiplier(float(np.float32(0.05)) * s / float(np.float32(0.1))) for s in scales]
    assert _q_arrays(data, 0) == ([m for m, _ in expected], [s for _, s in expected])


def test_fc_per_tensor_multiplier_uses_the_float32_product():
    tflite, _ = fc_model(in_c=6, out_c=4, per_channel=False, bias=False)
    data, report = export_with_report(tflite)
    assert report.flash_bytes == 64 + 64 + 24 + 4 + 4 + 4
    product = float(np.float32(0.05) * np.float32(0.004))
    double_product = float(np.float32(0.05)) * float(np.float32(0.004))
    assert product != double_product  # the case tells the two formulas apart
    m, s = quantize_multiplier(product / float(np.float32(0.1)))
    assert _q_arrays(data, 0) == ([m], [s])
    assert struct.unpack_from("<I", _layer(data, 0), 36)[0] == 0  # no bias


def _activation_bytes(activation, out_scale, out_zp):
    tflite, _ = fc_model(activation=activation, out_scale=out_scale, out_zp=out_zp)
    return struct.unpack_from("<bb", _layer(export_with_report(tflite)[0], 0), 4)


def test_fused_activation_ranges():
    assert _activation_bytes("NONE", 0.05, -100) == (-128, 127)
    assert _activation_bytes("RELU", 0.05, -100) == (-100, 127)
    # 6 / 0.05 = 120 -> -100 + 120
    assert _activation_bytes("RELU6", 0.05, -100) == (-100, 20)
    # 6 / 0.01 = 600: clamped to 127
    assert _activation_bytes("RELU6", 0.01, -100) == (-100, 127)
    # 6 / 0.048 = 125 -> 125 - 128
    assert _activation_bytes("RELU6", 0.048, -128) == (-128, -3)


def test_conv_same_padding_with_odd_total_and_stride():
    b = TfliteBuilder()
    x = b.act((1, 1, 5, 2), 0.1, 0)
    w = b.tensor((3, 1, 4, 2), "INT8", [0.01, 0.02, 0.03], 0, np.ones((3, 1, 4, 2), np.int8))
    y = b.act((1, 1, 3, 3), 0.2, 1)
    b.op("CONV_2D", [x, w, -1], [y], "Conv2DOptions", padding=PAD["SAME"], strideH=1, strideW=2,
         dilationHFactor=1, dilationWFactor=1, fusedActivationFunction=ACT["RELU"])
    data, report = export_with_report(b.build([x], [y]))
    rec = _layer(data, 0)
    # out = ceil(5 / 2) = 3; total = (3 - 1) * 2 + 4 - 5 = 3; before = 1
    assert struct.unpack_from("<8B", rec, 20) == (1, 4, 1, 2, 1, 1, 0, 1)
    assert struct.unpack_from("<3H3H", rec, 8) == (1, 5, 2, 1, 3, 3)
    assert report.layers[0].macs == 3 * 3 * 4 * 2
    assert report.arena_bytes == 2 * 12


def test_logistic_costs_a_table_in_the_arena():
    b = TfliteBuilder()
    x = b.act((1, 5), 0.1, 0)
    w = b.tensor((3, 5), "INT8", 0.01, 0, np.ones((3, 5), np.int8))
    h = b.act((1, 3), 0.2, 0)
    y = b.act((1, 3), 1 / 256, -128)
    b.op("FULLY_CONNECTED", [x, w, -1], [h], "FullyConnectedOptions")
    b.op("LOGISTIC", [h], [y])
    data, report = export_with_report(b.build([x], [y]), {"labels": ["a", "b", "c"]})
    assert report.arena_bytes == 256 + 2 * 8
    assert struct.unpack_from("<I", data, 32)[0] == report.arena_bytes
    rec = _layer(data, 1)
    assert rec[0] == 6 and struct.unpack_from("<bb", rec, 2) == (0, -128)
    assert struct.unpack_from("<iii", rec, 48) != (0, 0, 0)


def test_mean_layer_shape_and_quantization_count():
    b = TfliteBuilder()
    x = b.act((1, 1, 6, 4), 0.1, 3)
    axes = b.tensor((2,), "INT32", data=np.array([1, 2], np.int32))
    y = b.act((1, 4), 0.05, -2)
    b.op("MEAN", [x, axes], [y], "ReducerOptions", keepDims=False)
    data, _ = export_with_report(b.build([x], [y]))
    rec = _layer(data, 0)
    assert rec[0] == 5
    assert struct.unpack_from("<3H3H", rec, 8) == (1, 6, 4, 1, 1, 4)
    (m,), (s,) = _q_arrays(data, 0)
    # M' / 2^31 * 2^s' must stay close to (s_in / s_out) / n = 2 / 6
    assert math.isclose(m / 2.0 ** 31 * 2.0 ** s, (0.1 / 0.05) / 6, rel_tol=1e-3)


def test_cli_export_prints_the_report(tmp_path, capsys):
    tflite, _ = fc_model()
    src = tmp_path / "m.tflite"
    src.write_bytes(tflite)
    meta = tmp_path / "meta.json"
    meta.write_text('{"labels": ["a", "b", "c", "d"]}')
    out = tmp_path / "m.bin"
    assert cli.main(["export", str(src), str(out), "--meta", str(meta)]) == 0
    printed = capsys.readouterr().out
    assert "FULLY_CONNECTED" in printed
    assert "model file %d bytes" % len(out.read_bytes()) in printed
    assert out.read_bytes()[:4] == b"VRDT"


def test_cli_export_errors(tmp_path, capsys):
    missing = tmp_path / "none.tflite"
    assert cli.main(["export", str(missing), str(tmp_path / "o.bin")]) == 1
    assert capsys.readouterr().err.startswith("verdant: cannot read .tflite file %s" % missing)
    tflite, _ = fc_model()
    src = tmp_path / "m.tflite"
    src.write_bytes(tflite)
    meta = tmp_path / "meta.json"
    meta.write_text("{not json")
    assert cli.main(["export", str(src), str(tmp_path / "o.bin"), "--meta", str(meta)]) == 1
    assert capsys.readouterr().err.startswith("verdant: metadata file %s is not valid JSON" % meta)
