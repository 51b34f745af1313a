"""Shape arithmetic on static shapes is folded (verdant_host.shape_fold): a dynamic-batch
Keras Flatten converts to SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE; with batch 1 the new
shape is a constant and the model exports. What cannot be folded is refused by name."""
import numpy as np
import pytest

from test_export_builder import ACT, TfliteBuilder
from verdant_host import verify
from verdant_host.errors import VerdantError
from verdant_host.export import export_with_report
from verdant_host.int8_tflite import convert_int8


def _flatten_graph(slice_input_is_activation=False):
    """x [1, 1, 4, 2] -> (SHAPE, STRIDED_SLICE, PACK) -> RESHAPE to [n, -1] -> FULLY_CONNECTED 8 -> 3."""
    b = TfliteBuilder()
    x = b.act((1, 1, 4, 2), 0.1, -3)
    shape = b.tensor((4,), "INT32")
    b.op("SHAPE", [x], [shape], "ShapeOptions", outType=2)  # INT32
    begin, end, step = (b.tensor((1,), "INT32", data=np.array([v], np.int32)) for v in (0, 1, 1))
    batch = b.tensor((), "INT32")
    b.op("STRIDED_SLICE", [x if slice_input_is_activation else shape, begin, end, step], [batch],
         "StridedSliceOptions", beginMask=0, endMask=0, ellipsisMask=0, newAxisMask=0, shrinkAxisMask=1)
    minus_one = b.tensor((), "INT32", data=np.array(-1, np.int32))
    new_shape = b.tensor((2,), "INT32")
    b.op("PACK", [batch, minus_one], [new_shape], "PackOptions", valuesCount=2, axis=0)
    flat = b.act((1, 8), 0.1, -3)
    b.op("RESHAPE", [x, new_shape], [flat], "ReshapeOptions", newShape=[])
    rng = np.random.default_rng(3)
    w = b.tensor((3, 8), "INT8", [0.01, 0.02, 0.015], 0, rng.integers(-127, 128, (3, 8), dtype=np.int8))
    y = b.act((1, 3), 0.2, 4)
    b.op("FULLY_CONNECTED", [flat, w, -1], [y], "FullyConnectedOptions", fusedActivationFunction=ACT["NONE"])
    return b.build([x], [y])


def test_flatten_shape_arithmetic_folds_into_a_constant():
    model, report = export_with_report(_flatten_graph())
    assert [(row.op, row.in_shape, row.out_shape) for row in report.layers] == [
        ("FULLY_CONNECTED", (1, 1, 8), (1, 1, 3))]


def test_shape_arithmetic_on_a_run_time_value_is_refused_naming_the_op():
    with pytest.raises(VerdantError) as err:
        export_with_report(_flatten_graph(slice_input_is_activation=True))
    assert "STRIDED_SLICE" in str(err.value)


def _dynamic_batch_depthwise_tflite():
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    keras.utils.set_random_seed(4)
    inp = keras.Input((12, 6))  # batch None: Flatten converts with SHAPE
    x = keras.layers.DepthwiseConv1D(3, depth_multiplier=2, activation="relu")(inp)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inp, keras.layers.Dense(4)(x))
    rng = np.random.default_rng(4)
    samples = [rng.normal(0, 1, (1, 12, 6)).astype(np.float32) for _ in range(16)]
    return convert_int8(model, samples)


def test_dynamic_batch_keras_depthwise_conv1d_exports_bit_exact():
    from verdant_host.tflite_reader import read_tflite
    tflite = _dynamic_batch_depthwise_tflite()
    assert "SHAPE" in [op.op for op in read_tflite(tflite).operators]  # what used to be refused
    model, report = export_with_report(tflite)
    assert [row.op for row in report.layers] == ["DEPTHWISE_CONV_2D", "FULLY_CONNECTED"]
    result = verify.verify_model(model, tflite, samples=40, backends=["cpython", "c-host", "c-qemu", "c-qemu-m4"])
    ran = [b for b in result.backends if b.skipped is None]
    assert ran and result.ok, result.format()
