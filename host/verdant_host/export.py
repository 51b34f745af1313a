"""Turn a full-integer .tflite into a Verdant model file (docs/model-format.md).

    data, report = export_with_report(open("model.tflite", "rb").read(), meta)
    print(report.format())

The graph must be a chain of supported int8 ops with batch 1; anything else is
refused with a VerdantError naming the operator index, the op and the tensor.
Shape-only ops are folded away, QUANTIZE at the input and DEQUANTIZE at the output
go into the header, fused activations become the layers' int8 min/max.
"""
import json
import math
from dataclasses import dataclass, field

import numpy as np

from verdant_host.errors import VerdantError
from verdant_host import op_params
from verdant_host.model_writer import (
    LayerSpec, OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED, OP_LOGISTIC,
    OP_MAX_POOL_2D, OP_MEAN, OP_NAMES, OP_SOFTMAX, arena_bytes, write_model)
from verdant_host.shape_fold import fold_static_shapes
from verdant_host.tflite_reader import read_tflite
from verdant.engine.quant import quantize_multiplier, round_half_away

SHAPE_OPS = ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")
LAYER_OPS = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "MEAN",
             "LOGISTIC", "SOFTMAX")
SUPPORTED = LAYER_OPS + SHAPE_OPS + ("QUANTIZE", "DEQUANTIZE")
# tflite enum values (schema: Padding, ActivationFunctionType)
_PADDING = {0: "SAME", 1: "VALID"}
_ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH",
                5: "SIGN_BIT"}
_OPTIONS = {"CONV_2D": "Conv2DOptionsT", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptionsT",
            "MAX_POOL_2D": "Pool2DOptionsT", "SOFTMAX": "SoftmaxOptionsT"}
_U8_MAX = 255
_U16_MAX = 65535


class _Refusal:
    """Builds the error for one operator: 'operator 3 (CONV_2D), tensor 7 'x': ...'."""

    def __init__(self, op, tensor):
        self.op = op
        self.tensor = tensor

    def __call__(self, problem, tensor=None):
        tensor = tensor or self.tensor
        where = "operator %d (%s)" % (self.op.index, self.op.op)
        if tensor is not None:
            where += ", %s" % tensor.describe()
        return VerdantError("%s: %s" % (where, problem))


@dataclass
class LayerRow:
    index: int
    op: str
    in_shape: tuple
    out_shape: tuple
    weight_bytes: int
    bias_bytes: int
    macs: int
    tensor: int = -1    # the .tflite tensor holding this layer's output


@dataclass
class ExportReport:
    """What the exporter produced: sizes in bytes and one row per layer."""
    tflite_bytes: int
    flash_bytes: int
    arena_bytes: int
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int
    layers: list = field(default_factory=list)

    def format(self):
        lines = ["%-3s %-18s %-14s %-14s %8s %6s %8s" %
                 ("#", "op", "in h,w,c", "out h,w,c", "weights", "bias", "MACs")]
        for row in self.layers:
            lines.append("%-3d %-18s %-14s %-14s %8d %6d %8d" % (
                row.index, row.op, "%d,%d,%d" % row.in_shape, "%d,%d,%d" % row.out_shape,
                row.weight_bytes, row.bias_bytes, row.macs))
        lines.append("input  scale %.9g zero point %d" % (self.input_scale, self.input_zero_point))
        lines.append("output scale %.9g zero point %d" % (self.output_scale, self.output_zero_point))
        lines.append("model file %d bytes (%.1f%% of the %d-byte .tflite)" % (
            self.flash_bytes, 100.0 * self.flash_bytes / self.tflite_bytes, self.tflite_bytes))
        lines.append("arena %d bytes" % self.arena_bytes)
        return "\n".join(lines)


def check_board_limits(report, flash_bytes, arena_bytes):
    """Refuse a model that does not fit the board's model storage or RAM budget."""
    if report.flash_bytes > flash_bytes:
        raise VerdantError("model file is %d bytes but the board allows %d; use a smaller model"
                           % (report.flash_bytes, flash_bytes))
    if report.arena_bytes > arena_bytes:
        raise VerdantError("model needs a %d-byte arena but the board allows %d; use smaller layers"
                           % (report.arena_bytes, arena_bytes))


# ---------------------------------------------------------------- arithmetic helpers

def activation_range(activation, out_scale, out_zp):
    """TFLM CalculateActivationRangeQuantized for int8: (min, max)."""
    def quantize(limit):  # float32 divide, rounded half away from zero
        return out_zp + round_half_away(float(np.float32(limit) / np.float32(out_scale)))
    if activation == "NONE":
        return -128, 127
    if activation == "RELU":
        return max(-128, quantize(0.0)), 127
    if activation == "RELU6":
        return max(-128, quantize(0.0)), min(127, quantize(6.0))
    raise ValueError(activation)


def channel_multipliers(s_in, weight_scales, s_out, per_tensor_fc=False):
    """(multipliers, shifts) as TFLM Prepare computes them for FC/conv layers."""
    if per_tensor_fc:
        product = float(np.float32(s_in) * np.float32(weight_scales[0]))
        reals = [product / float(s_out)]
    else:
        reals = [float(s_in) * float(s_w) / float(s_out) for s_w in weight_scales]
    pairs = [quantize_multiplier(real) for real in reals]
    return [m for m, _ in pairs], [s for _, s in pairs]


def conv_padding(padding, in_size, kernel, stride, dilation):
    """(out_size, pad_before) for one spatial axis, as TFLM computes them."""
    effective = (kernel - 1) * dilation + 1
    if padding == "SAME":
        out = (in_size + stride - 1) // stride
    else:
        out = (in_size - effective) // stride + 1
    total = (out - 1) * stride + effective - in_size
    return out, max(0, total) // 2


# ---------------------------------------------------------------- graph walking

class _Graph:
    def __init__(self, tflite):
        self.tflite = tflite
        self.tensors = tflite.tensors

    def tensor(self, index):
        return self.tensors[index] if index >= 0 else None


def _hwc(tensor, refuse):
    shape = tensor.shape
    if len(shape) < 2 or len(shape) > 4:
        raise refuse("rank-%d shape %s; Verdant takes [1, C], [1, W, C] or [1, H, W, C]"
                     % (len(shape), list(shape)), tensor)
    if shape[0] != 1:
        raise refuse("batch %d > 1; export the model with batch size 1" % shape[0], tensor)
    dims = (1,) * (4 - len(shape)) + tuple(shape[1:])
    dims = dims[-3:]
    if any(d < 1 or d > _U16_MAX for d in dims):
        raise refuse("dimension out of range in shape %s" % list(shape), tensor)
    return dims


def _activation_q(tensor, refuse):
    if tensor.dtype != "INT8":
        raise refuse("tensor type %s; only int8 activations are supported (convert with "
                     "full-integer quantization)" % tensor.dtype, tensor)
    if len(tensor.scales) != 1 or len(tensor.zero_points) != 1:
        raise refuse("activation needs one scale and zero point, has %d" % len(tensor.scales), tensor)
    scale, zp = tensor.scales[0], tensor.zero_points[0]
    if not 0 < scale < math.inf or not -128 <= zp <= 127:
        raise refuse("bad quantization scale %r zero point %d" % (scale, zp), tensor)
    return scale, zp


def _constant(graph, index, refuse, dtype, what):
    tensor = graph.tensor(index)
    if tensor is None:
        raise refuse("missing %s input" % what)
    if tensor.data is None:
        raise refuse("%s is not a constant; only chains with constant weights are supported"
                     % what, tensor)
    if tensor.dtype != dtype:
        raise refuse("%s has type %s, expected %s" % (what, tensor.dtype, dtype), tensor)
    return tensor


def _weights(graph, index, refuse, channels, channel_axis):
    tensor = _constant(graph, index, refuse, "INT8", "weights")
    scales = tensor.scales
    if len(scales) not in (1, channels):
        raise refuse("weights have %d scales for %d output channels" % (len(scales), channels), tensor)
    if len(scales) > 1 and tensor.quantized_dimension != channel_axis:
        raise refuse("weights are quantized along axis %d, expected %d"
                     % (tensor.quantized_dimension, channel_axis), tensor)
    if not all(0 < s < math.inf for s in scales):
        raise refuse("weight scales must be finite and > 0", tensor)
    if any(zp != 0 for zp in tensor.zero_points):
        raise refuse("weights must be symmetric (zero point 0)", tensor)
    if len(tensor.data) != int(np.prod(tensor.shape)):
        raise refuse("weights hold %d bytes for shape %s" % (len(tensor.data), list(tensor.shape)), tensor)
    return tensor


def _bias(graph, index, refuse, channels):
    if index < 0:
        return None
    tensor = _constant(graph, index, refuse, "INT32", "bias")
    if len(tensor.data) != 4 * channels:
        raise refuse("bias holds %d values for %d output channels" % (len(tensor.data) // 4, channels), tensor)
    return [int(v) for v in np.frombuffer(tensor.data, dtype="<i4")]


def _fused_activation(op, refuse):
    code = getattr(op.options, "fusedActivationFunction", 0)
    name = _ACTIVATIONS.get(code, "activation %d" % code)
    if name not in ("NONE", "RELU", "RELU6"):
        raise refuse("fused activation %s is not supported (NONE, RELU, RELU6 are)" % name)
    return name


def _padding(op, refuse):
    code = op.options.padding
    if code not in _PADDING:
        raise refuse("padding %d is not supported (SAME, VALID are)" % code)
    return _PADDING[code]


def _check_u8(refuse, **values):
    for name, value in values.items():
        if not 1 <= value <= _U8_MAX:
            raise refuse("%s %d is outside 1..%d" % (name.replace("_", " "), value, _U8_MAX))


def _fully_connected(graph, op, refuse, x, y, in_q, out_q):
    options = op.options
    if getattr(options, "weightsFormat", 0) != 0:
        raise refuse("shuffled FULLY_CONNECTED weights are not supported")
    if getattr(options, "asymmetricQuantizeInputs", False):
        raise refuse("hybrid (asymmetric input) FULLY_CONNECTED is not supported")
    in_shape, out_shape = _hwc(x, refuse), _hwc(y, refuse)
    w_index = op.inputs[1] if len(op.inputs) > 1 else -1
    w_tensor = graph.tensor(w_index)
    if w_tensor is None or len(w_tensor.shape) != 2:
        raise refuse("weights must be a 2-D [out, in] constant", w_tensor)
    channels, depth = w_tensor.shape
    elements = in_shape[0] * in_shape[1] * in_shape[2]
    if depth != elements:
        raise refuse("weights take %d inputs but the input has %d elements (FULLY_CONNECTED over "
                     "several rows is not supported)" % (depth, elements), w_tensor)
    if out_shape != (1, 1, channels):
        raise refuse("output shape %s, expected %d channels" % (list(y.shape), channels), y)
    w = _weights(graph, w_index, refuse, channels, 0)
    bias = _bias(graph, op.inputs[2] if len(op.inputs) > 2 else -1, refuse, channels)
    per_tensor = len(w.scales) == 1
    mults, shifts = channel_multipliers(in_q[0], w.scales, out_q[0], per_tensor_fc=per_tensor)
    if getattr(options, "keepNumDims", False) and len(y.shape) != len(x.shape):
        raise refuse("keep_num_dims output %s does not match input rank" % list(y.shape), y)
    act = activation_range(_fused_activation(op, refuse), out_q[0], out_q[1])
    return LayerSpec(op=OP_FULLY_CONNECTED, in_shape=in_shape, out_shape=out_shape,
                     in_zp=in_q[1], out_zp=out_q[1], act_min=act[0], act_max=act[1],
                     weights=w.data, bias=bias, multipliers=mults, shifts=shifts), channels * depth


def _conv(graph, op, refuse, x, y, in_q, out_q, depthwise):
    options = op.options
    in_shape, out_shape = _hwc(x, refuse), _hwc(y, refuse)
    if len(x.shape) != 4:
        raise refuse("%s input must be 4-D NHWC" % op.op, x)
    w_index = op.inputs[1] if len(op.inputs) > 1 else -1
    w_tensor = graph.tensor(w_index)
    if w_tensor is None or len(w_tensor.shape) != 4:
        raise refuse("weights must be a 4-D constant", w_tensor)
    out_c = out_shape[2]
    if depthwise:
        one, kh, kw, w_c = w_tensor.shape
        multiplier = options.depthMultiplier
        if one != 1 or w_c != out_c or in_shape[2] * multiplier != out_c:
            raise refuse("depthwise weights %s do not match input channels %d, depth multiplier %d "
                         "and output channels %d" % (list(w_tensor.shape), in_shape[2], multiplier, out_c),
                         w_tensor)
        w = _weights(graph, w_index, refuse, out_c, 3)
    else:
        w_o, kh, kw, w_i = w_tensor.shape
        multiplier = 0
        if w_o != out_c or w_i != in_shape[2]:
            raise refuse("weights %s do not match input channels %d and output channels %d "
                         "(grouped convolution is not supported)" % (list(w_tensor.shape), in_shape[2], out_c),
                         w_tensor)
        w = _weights(graph, w_index, refuse, out_c, 0)
    stride = (options.strideH, options.strideW)
    dilation = (options.dilationHFactor, options.dilationWFactor)
    _check_u8(refuse, kernel_height=kh, kernel_width=kw, stride_height=stride[0],
              stride_width=stride[1], dilation_height=dilation[0], dilation_width=dilation[1])
    padding = _padding(op, refuse)
    out_h, pad_top = conv_padding(padding, in_shape[0], kh, stride[0], dilation[0])
    out_w, pad_left = conv_padding(padding, in_shape[1], kw, stride[1], dilation[1])
    if (out_h, out_w) != out_shape[:2]:
        raise refuse("output %s does not match %s padding, kernel and stride (expected h %d, w %d)"
                     % (list(y.shape), padding, out_h, out_w), y)
    bias = _bias(graph, op.inputs[2] if len(op.inputs) > 2 else -1, refuse, out_c)
    mults, shifts = channel_multipliers(in_q[0], w.scales, out_q[0])
    act = activation_range(_fused_activation(op, refuse), out_q[0], out_q[1])
    spec = LayerSpec(op=OP_DEPTHWISE_CONV_2D if depthwise else OP_CONV_2D,
                     in_shape=in_shape, out_shape=out_shape, in_zp=in_q[1], out_zp=out_q[1],
                     act_min=act[0], act_max=act[1], kernel=(kh, kw), stride=stride,
                     dilation=dilation, pad=(pad_top, pad_left), depth_multiplier=multiplier,
                     weights=w.data, bias=bias, multipliers=mults, shifts=shifts)
    taps = kh * kw * (1 if depthwise else in_shape[2])
    return spec, out_h * out_w * out_c * taps


def _max_pool(op, refuse, x, y, in_q, out_q):
    options = op.options
    in_shape, out_shape = _hwc(x, refuse), _hwc(y, refuse)
    if len(x.shape) != 4:
        raise refuse("MAX_POOL_2D input must be 4-D NHWC", x)
    if in_q != out_q:
        raise refuse("MAX_POOL_2D must keep the quantization (input %r, output %r)" % (in_q, out_q), y)
    kernel = (options.filterHeight, options.filterWidth)
    stride = (options.strideH, options.strideW)
    _check_u8(refuse, filter_height=kernel[0], filter_width=kernel[1],
              stride_height=stride[0], stride_width=stride[1])
    padding = _padding(op, refuse)
    out_h, pad_top = conv_padding(padding, in_shape[0], kernel[0], stride[0], 1)
    out_w, pad_left = conv_padding(padding, in_shape[1], kernel[1], stride[1], 1)
    if (out_h, out_w, in_shape[2]) != out_shape:
        raise refuse("output %s does not match %s padding, filter and stride" % (list(y.shape), padding), y)
    act = activation_range(_fused_activation(op, refuse), out_q[0], out_q[1])
    return LayerSpec(op=OP_MAX_POOL_2D, in_shape=in_shape, out_shape=out_shape,
                     in_zp=in_q[1], out_zp=out_q[1], act_min=act[0], act_max=act[1],
                     kernel=kernel, stride=stride, dilation=(1, 1), pad=(pad_top, pad_left)), 0


def _mean(graph, op, refuse, x, y, in_q, out_q):
    in_shape, out_shape = _hwc(x, refuse), _hwc(y, refuse)
    axes_tensor = _constant(graph, op.inputs[1] if len(op.inputs) > 1 else -1, refuse, "INT32", "axes")
    rank = len(x.shape)
    axes = sorted(set(int(a) % rank for a in np.frombuffer(axes_tensor.data, dtype="<i4")))
    if rank < 3 or axes != list(range(1, rank - 1)):
        raise refuse("MEAN over axes %s of a rank-%d tensor; only the global average over H and W "
                     "is supported" % (axes, rank), axes_tensor)
    if out_shape != (1, 1, in_shape[2]):
        raise refuse("MEAN output %s, expected %d channels" % (list(y.shape), in_shape[2]), y)
    count = in_shape[0] * in_shape[1]
    try:
        multiplier, shift = op_params.mean_params(in_q[0], out_q[0], count)
    except ValueError as exc:
        raise refuse(str(exc), x)
    return LayerSpec(op=OP_MEAN, in_shape=in_shape, out_shape=out_shape, in_zp=in_q[1],
                     out_zp=out_q[1], multipliers=[multiplier], shifts=[shift]), 0


def _probability(op, refuse, x, y, in_q, out_q):
    in_shape, out_shape = _hwc(x, refuse), _hwc(y, refuse)
    if in_shape != out_shape:
        raise refuse("output shape %s differs from input %s" % (list(y.shape), list(x.shape)), y)
    if out_q != (1.0 / 256, -128):
        raise refuse("%s output must have scale 1/256 and zero point -128, has %r and %d"
                     % (op.op, out_q[0], out_q[1]), y)
    try:
        if op.op == "LOGISTIC":
            code, params = OP_LOGISTIC, op_params.logistic_params(in_q[0])
        else:
            code, params = OP_SOFTMAX, op_params.softmax_params(in_q[0], float(op.options.beta))
    except ValueError as exc:
        raise refuse(str(exc), x)
    return LayerSpec(op=code, in_shape=in_shape, out_shape=out_shape, in_zp=in_q[1],
                     out_zp=out_q[1], params=tuple(int(p) for p in params)), 0


def _check_meta(meta, input_elements, output_elements):
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise VerdantError("metadata must be a JSON object, got %s" % type(meta).__name__)
    try:
        json.dumps(meta)
    except (TypeError, ValueError) as exc:
        raise VerdantError("metadata is not JSON-serializable: %s" % exc)
    from verdant.modelmeta import check_meta  # the one validator: the parser and the board use it too
    try:
        check_meta(meta, input_elements, output_elements)
    except ValueError as exc:
        raise VerdantError(str(exc))
    return meta


def export_layers(tflite_bytes):
    """Walk the .tflite graph: (layer specs, report rows, input (scale, zp),
    output (scale, zp)). Raises VerdantError for anything unsupported."""
    tflite = fold_static_shapes(read_tflite(tflite_bytes))  # dynamic-batch reshapes: batch 1
    graph = _Graph(tflite)
    if len(tflite.inputs) != 1 or len(tflite.outputs) != 1:
        raise VerdantError("the model has %d inputs and %d outputs; Verdant runs one input and one "
                           "output" % (len(tflite.inputs), len(tflite.outputs)))
    current = graph.tensor(tflite.inputs[0])
    header_in = header_out = None
    specs, rows = [], []
    operators = tflite.operators
    for position, op in enumerate(operators):
        refuse = _Refusal(op, graph.tensor(op.inputs[0]) if op.inputs else None)
        if op.op not in SUPPORTED:
            raise refuse("unsupported op; Verdant supports %s" % ", ".join(SUPPORTED))
        if not op.inputs or op.inputs[0] != current.index:
            raise refuse("does not take the output of the previous operator (%s); only chain "
                         "graphs are supported" % current.describe())
        if len(op.outputs) != 1:
            raise refuse("has %d outputs; only chain graphs are supported" % len(op.outputs))
        for extra in op.inputs[1:]:
            tensor = graph.tensor(extra)
            if tensor is not None and tensor.data is None:
                raise refuse("second activation input; only chain graphs are supported", tensor)
        x, y = current, graph.tensor(op.outputs[0])
        if op.op == "QUANTIZE":
            if position != 0 or x.dtype != "FLOAT32":
                raise refuse("QUANTIZE is only supported on the float model input", x)
            header_in = _activation_q(y, refuse)
            _hwc(y, refuse)
        elif op.op == "DEQUANTIZE":
            if position != len(operators) - 1 or y.dtype != "FLOAT32":
                raise refuse("DEQUANTIZE is only supported at the model output", y)
            header_out = _activation_q(x, refuse)
        elif op.op in SHAPE_OPS:
            _activation_q(x, refuse)
            if _activation_q(y, refuse) != _activation_q(x, refuse):
                raise refuse("%s changes the quantization" % op.op, y)
            _hwc(y, refuse)
        else:
            in_q, out_q = _activation_q(x, refuse), _activation_q(y, refuse)
            expected_options = _OPTIONS.get(op.op)
            if expected_options and type(op.options).__name__ != expected_options:
                raise refuse("missing %s" % expected_options[:-1])
            if op.op == "FULLY_CONNECTED":
                spec, macs = _fully_connected(graph, op, refuse, x, y, in_q, out_q)
            elif op.op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                spec, macs = _conv(graph, op, refuse, x, y, in_q, out_q, op.op == "DEPTHWISE_CONV_2D")
            elif op.op == "MAX_POOL_2D":
                spec, macs = _max_pool(op, refuse, x, y, in_q, out_q)
            elif op.op == "MEAN":
                spec, macs = _mean(graph, op, refuse, x, y, in_q, out_q)
            else:
                spec, macs = _probability(op, refuse, x, y, in_q, out_q)
            if any(not -31 <= shift <= 30 for shift in spec.shifts):
                raise refuse("requantization shift %s is outside -31..30 (scales too far apart)"
                             % [shift for shift in spec.shifts if not -31 <= shift <= 30][0], y)
            if specs and spec.op != OP_FULLY_CONNECTED and spec.in_shape != specs[-1].out_shape:
                raise refuse("input h,w,c %s differs from the previous layer's output %s (a reshape "
                             "that changes the layout is not supported)"
                             % (list(spec.in_shape), list(specs[-1].out_shape)), x)
            specs.append(spec)
            rows.append(LayerRow(len(rows), OP_NAMES[spec.op], spec.in_shape, spec.out_shape,
                                 0 if spec.weights is None else len(spec.weights),
                                 0 if spec.bias is None else 4 * len(spec.bias), macs, y.index))
        current = y
    if current.index != tflite.outputs[0]:
        raise VerdantError("the operator chain ends at %s, not at the model output tensor %d"
                           % (current.describe(), tflite.outputs[0]))
    if not specs:
        raise VerdantError("the model has no compute layer")
    if header_in is None:
        header_in = _activation_q(graph.tensor(tflite.inputs[0]),
                                  _Refusal(operators[0], graph.tensor(tflite.inputs[0])))
    if header_out is None:
        header_out = _activation_q(current, _Refusal(operators[-1], current))
    if len(specs) > 32:
        raise VerdantError("the model has %d layers; the model file holds at most 32" % len(specs))
    return specs, rows, header_in, header_out


def export_with_report(tflite_bytes, meta=None):
    """Convert .tflite bytes to (model file bytes, ExportReport)."""
    specs, rows, header_in, header_out = export_layers(tflite_bytes)
    in_elements = int(np.prod(specs[0].in_shape))
    out_elements = int(np.prod(specs[-1].out_shape))
    meta = _check_meta(meta, in_elements, out_elements)
    data = write_model(specs, meta, input_q=header_in, output_q=header_out)
    report = ExportReport(tflite_bytes=len(tflite_bytes), flash_bytes=len(data),
                          arena_bytes=arena_bytes(specs),
                          input_scale=header_in[0], input_zero_point=header_in[1],
                          output_scale=header_out[0], output_zero_point=header_out[1], layers=rows)
    return data, report


def export_tflite(tflite_bytes, meta=None):
    """Convert .tflite bytes to Verdant model file bytes."""
    return export_with_report(tflite_bytes, meta)[0]
