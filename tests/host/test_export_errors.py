"""Every exporter refusal, with its exact message (operator index, op, tensor)."""
import numpy as np
import pytest

from test_export_builder import ACT, PAD, TfliteBuilder, fc_model
from verdant_host.errors import VerdantError
from verdant_host.export import ExportReport, check_board_limits, export_tflite

SUPPORTED_LIST = ("FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, MEAN, LOGISTIC, "
                  "SOFTMAX, RESHAPE, EXPAND_DIMS, SQUEEZE, QUANTIZE, DEQUANTIZE")


def _refused(tflite, meta=None):
    with pytest.raises(VerdantError) as err:
        export_tflite(tflite, meta)
    return str(err.value)


def _weights(b, shape, scale=0.01, zp=0, qdim=0):
    return b.tensor(shape, "INT8", scale, zp, np.ones(shape, np.int8), qdim)


def _conv_graph(padding=PAD["SAME"], stride=(1, 1), in_shape=(1, 1, 5, 2), out_shape=(1, 1, 5, 3),
                w_shape=(3, 1, 3, 2), activation="NONE"):
    b = TfliteBuilder()
    x = b.act(in_shape, 0.1, 0)
    w = _weights(b, w_shape)
    y = b.act(out_shape, 0.2, 1)
    b.op("CONV_2D", [x, w, -1], [y], "Conv2DOptions", padding=padding, strideH=stride[0],
         strideW=stride[1], dilationHFactor=1, dilationWFactor=1,
         fusedActivationFunction=ACT[activation])
    return b.build([x], [y])


def test_bytes_that_are_not_tflite():
    assert _refused(b"\x00" * 64) == "not a .tflite file: missing the TFL3 flatbuffer identifier"


def test_unsupported_op_names_index_op_and_tensor():
    b = TfliteBuilder()
    x = b.act((1, 4), 0.1, 0)
    w = _weights(b, (4, 4))
    h = b.act((1, 4), 0.1, 2, )
    y = b.act((1, 4), 1 / 128, 0)
    b.op("FULLY_CONNECTED", [x, w, -1], [h], "FullyConnectedOptions")
    b.op("TANH", [h], [y])
    assert _refused(b.build([x], [y])) == (
        "operator 1 (TANH), tensor 2 't2': unsupported op; Verdant supports " + SUPPORTED_LIST)


def test_batch_above_one():
    tflite, _ = fc_model(batch=2)
    assert _refused(tflite) == ("operator 0 (FULLY_CONNECTED), tensor 0 't0': batch 2 > 1; "
                                "export the model with batch size 1")


@pytest.mark.parametrize("activation", ["TANH", "RELU_N1_TO_1"])
def test_unsupported_fused_activation(activation):
    tflite, _ = fc_model(activation=activation)
    assert _refused(tflite) == ("operator 0 (FULLY_CONNECTED), tensor 0 't0': fused activation %s "
                                "is not supported (NONE, RELU, RELU6 are)" % activation)


def test_unknown_padding():
    assert _refused(_conv_graph(padding=2)) == (
        "operator 0 (CONV_2D), tensor 0 't0': padding 2 is not supported (SAME, VALID are)")


def test_stride_outside_a_byte():
    assert _refused(_conv_graph(stride=(1, 300), out_shape=(1, 1, 1, 3))) == (
        "operator 0 (CONV_2D), tensor 0 't0': stride width 300 is outside 1..255")


def test_output_shape_that_padding_does_not_give():
    assert _refused(_conv_graph(padding=PAD["VALID"])) == (
        "operator 0 (CONV_2D), tensor 2 't2': output [1, 1, 5, 3] does not match VALID padding, "
        "kernel and stride (expected h 1, w 3)")


def test_grouped_convolution():
    assert _refused(_conv_graph(w_shape=(3, 1, 3, 1))) == (
        "operator 0 (CONV_2D), tensor 1 't1': weights [3, 1, 3, 1] do not match input channels 2 "
        "and output channels 3 (grouped convolution is not supported)")


def test_int16_activation():
    b = TfliteBuilder()
    x = b.act((1, 4), 0.1, 0, dtype="INT16")
    w = _weights(b, (2, 4))
    y = b.act((1, 2), 0.1, 0, dtype="INT16")
    b.op("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions")
    assert _refused(b.build([x], [y])) == (
        "operator 0 (FULLY_CONNECTED), tensor 0 't0': tensor type INT16; only int8 activations are "
        "supported (convert with full-integer quantization)")


def test_branching_graph_is_not_a_chain():
    b = TfliteBuilder()
    x = b.act((1, 4), 0.1, 0)
    w = _weights(b, (4, 4))
    h1 = b.act((1, 4), 0.1, 0)
    h2 = b.act((1, 4), 0.1, 0)
    b.op("FULLY_CONNECTED", [x, w, -1], [h1], "FullyConnectedOptions")
    b.op("FULLY_CONNECTED", [x, w, -1], [h2], "FullyConnectedOptions")
    assert _refused(b.build([x], [h2])) == (
        "operator 1 (FULLY_CONNECTED), tensor 0 't0': does not take the output of the previous "
        "operator (tensor 2 't2'); only chain graphs are supported")


def test_weights_computed_at_run_time_are_a_second_activation():
    b = TfliteBuilder()
    x = b.act((1, 4), 0.1, 0)
    w = b.act((4, 4), 0.1, 0)
    y = b.act((1, 4), 0.1, 0)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions")
    assert _refused(b.build([x], [y])) == (
        "operator 0 (FULLY_CONNECTED), tensor 1 't1': second activation input; only chain graphs "
        "are supported")


def test_asymmetric_weights():
    b = TfliteBuilder()
    x = b.act((1, 4), 0.1, 0)
    w = _weights(b, (2, 4), zp=3)
    y = b.act((1, 2), 0.1, 0)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions")
    assert _refused(b.build([x], [y])) == (
        "operator 0 (FULLY_CONNECTED), tensor 1 't1': weights must be symmetric (zero point 0)")


def test_per_axis_weights_along_the_wrong_axis():
    b = TfliteBuilder()
    x = b.act((1, 2), 0.1, 0)
    w = _weights(b, (2, 2), scale=[0.01, 0.02], qdim=1)
    y = b.act((1, 2), 0.1, 0)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions")
    assert _refused(b.build([x], [y])) == (
        "operator 0 (FULLY_CONNECTED), tensor 1 't1': weights are quantized along axis 1, expected 0")


def test_fully_connected_over_several_rows():
    tflite, _ = fc_model(in_shape=(1, 2, 6))
    assert _refused(tflite) == (
        "operator 0 (FULLY_CONNECTED), tensor 1 't1': weights take 6 inputs but the input has 12 "
        "elements (FULLY_CONNECTED over several rows is not supported)")


def test_mean_over_channels():
    b = TfliteBuilder()
    x = b.act((1, 1, 4, 3), 0.1, 0)
    axes = b.tensor((1,), "INT32", data=np.array([3], np.int32))
    y = b.act((1, 1, 4), 0.1, 0)
    b.op("MEAN", [x, axes], [y], "ReducerOptions", keepDims=False)
    assert _refused(b.build([x], [y])) == (
        "operator 0 (MEAN), tensor 1 't1': MEAN over axes [3] of a rank-4 tensor; only the global "
        "average over H and W is supported")


def test_logistic_output_quantization():
    b = TfliteBuilder()
    x = b.act((1, 3), 0.1, 0)
    y = b.act((1, 3), 1 / 128, 0)
    b.op("LOGISTIC", [x], [y])
    assert _refused(b.build([x], [y])) == (
        "operator 0 (LOGISTIC), tensor 1 't1': LOGISTIC output must have scale 1/256 and zero point "
        "-128, has 0.0078125 and 0")


def test_max_pool_that_requantizes():
    b = TfliteBuilder()
    x = b.act((1, 1, 4, 2), 0.1, 0)
    y = b.act((1, 1, 2, 2), 0.1, 5)
    b.op("MAX_POOL_2D", [x], [y], "Pool2DOptions", padding=PAD["VALID"], strideH=1, strideW=2,
         filterHeight=1, filterWidth=2)
    message = _refused(b.build([x], [y]))
    assert message.startswith("operator 0 (MAX_POOL_2D), tensor 1 't1': MAX_POOL_2D must keep the "
                              "quantization (input (0.10000000149011612, 0), output ")


def test_quantize_inside_the_graph():
    b = TfliteBuilder()
    x = b.act((1, 4), 0.1, 0)
    w = _weights(b, (4, 4))
    h = b.act((1, 4), 0.1, 0)
    y = b.act((1, 4), 0.2, 0)
    b.op("FULLY_CONNECTED", [x, w, -1], [h], "FullyConnectedOptions")
    b.op("QUANTIZE", [h], [y])
    assert _refused(b.build([x], [y])) == (
        "operator 1 (QUANTIZE), tensor 2 't2': QUANTIZE is only supported on the float model input")


def test_two_model_inputs():
    b = TfliteBuilder()
    x = b.act((1, 4), 0.1, 0)
    x2 = b.act((1, 4), 0.1, 0)
    w = _weights(b, (4, 4))
    y = b.act((1, 4), 0.1, 0)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions")
    assert _refused(b.build([x, x2], [y])) == (
        "the model has 2 inputs and 1 outputs; Verdant runs one input and one output")


def test_chain_that_does_not_end_at_the_output():
    b = TfliteBuilder()
    x = b.act((1, 4), 0.1, 0)
    w = _weights(b, (4, 4))
    y = b.act((1, 4), 0.1, 0)
    other = b.act((1, 4), 0.1, 0)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions")
    assert _refused(b.build([x], [other])) == (
        "the operator chain ends at tensor 2 't2', not at the model output tensor 3")


def test_reshape_that_changes_the_layout_before_a_convolution():
    b = TfliteBuilder()
    x = b.act((1, 1, 4, 2), 0.1, 0)
    p = b.act((1, 1, 4, 2), 0.1, 0)
    shape = b.tensor((4,), "INT32", data=np.array([1, 1, 2, 4], np.int32))
    r = b.act((1, 1, 2, 4), 0.1, 0)
    y = b.act((1, 1, 2, 4), 0.1, 0)
    b.op("MAX_POOL_2D", [x], [p], "Pool2DOptions", padding=PAD["VALID"], strideH=1, strideW=1,
         filterHeight=1, filterWidth=1)
    b.op("RESHAPE", [p, shape], [r])
    b.op("MAX_POOL_2D", [r], [y], "Pool2DOptions", padding=PAD["VALID"], strideH=1, strideW=1,
         filterHeight=1, filterWidth=1)
    assert _refused(b.build([x], [y])) == (
        "operator 2 (MAX_POOL_2D), tensor 3 't3': input h,w,c [1, 2, 4] differs from the previous "
        "layer's output [1, 4, 2] (a reshape that changes the layout is not supported)")


def test_graph_without_compute_layer():
    b = TfliteBuilder()
    x = b.act((1, 4), 0.1, 0)
    shape = b.tensor((3,), "INT32", data=np.array([1, 2, 2], np.int32))
    y = b.act((1, 2, 2), 0.1, 0)
    b.op("RESHAPE", [x, shape], [y])
    assert _refused(b.build([x], [y])) == "the model has no compute layer"


def test_metadata_labels_must_match_outputs():
    tflite, _ = fc_model(out_c=4)
    # the one metadata validator (verdant.modelmeta, as the parser and the board use it)
    assert _refused(tflite, {"labels": ["a", "b"]}) == "metadata labels: 2 labels for 4 model outputs"


def test_metadata_must_be_an_object():
    tflite, _ = fc_model()
    assert _refused(tflite, ["a"]) == "metadata must be a JSON object, got list"


def test_board_limits():
    report = ExportReport(tflite_bytes=1000, flash_bytes=300, arena_bytes=64, input_scale=1.0,
                          input_zero_point=0, output_scale=1.0, output_zero_point=0)
    check_board_limits(report, flash_bytes=300, arena_bytes=64)
    with pytest.raises(VerdantError, match="^model file is 300 bytes but the board allows 299; "):
        check_board_limits(report, flash_bytes=299, arena_bytes=64)
    with pytest.raises(VerdantError, match="^model needs a 64-byte arena but the board allows 63; "):
        check_board_limits(report, flash_bytes=300, arena_bytes=63)


def test_operator_pointing_at_a_missing_tensor():
    b = TfliteBuilder()
    x = b.act((1, 4), 0.1, 0)
    y = b.act((1, 4), 1 / 256, -128)
    b.op("LOGISTIC", [x], [9])
    assert _refused(b.build([x], [y])) == "operator 0 refers to tensor 9 but the graph has 2 tensors"


def test_convolution_without_its_options():
    b = TfliteBuilder()
    x = b.act((1, 1, 4, 2), 0.1, 0)
    w = _weights(b, (2, 1, 1, 2))
    y = b.act((1, 1, 4, 2), 0.1, 0)
    b.op("CONV_2D", [x, w, -1], [y])
    assert _refused(b.build([x], [y])) == "operator 0 (CONV_2D), tensor 0 't0': missing Conv2DOptions"


def test_scales_too_far_apart_for_a_shift():
    # s_in * s_w / s_out = 1e6 * 0.004 / 1e-7 = 4e10 = 0.582 * 2^36: shift 36 > 30
    tflite, _ = fc_model(in_scale=1e6, out_scale=1e-7, per_channel=False)
    assert _refused(tflite) == ("operator 0 (FULLY_CONNECTED), tensor 3 't3': requantization shift 36 "
                                "is outside -31..30 (scales too far apart)")


def test_weight_scale_that_is_not_finite():
    b = TfliteBuilder()
    x = b.act((1, 2), 0.1, 0)
    w = _weights(b, (2, 2), scale=[0.01, float("inf")])
    y = b.act((1, 2), 0.1, 0)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions")
    assert _refused(b.build([x], [y])) == (
        "operator 0 (FULLY_CONNECTED), tensor 1 't1': weight scales must be finite and > 0")
