"""The op-level oracle: single-op int8 .tflite models run in tflite-micro.

`OpCase` describes one quantized op (shapes, scales, zero points, weights, options).
`tflite_model(case)` builds the flatbuffer directly with the TFLite schema's object
API, `run_tflm(model, inputs)` runs it in the TFLM reference interpreter, and
`verdant_layer(case)` gives the same op as a Verdant layer record, with the
multipliers derived from the float scales as docs/int8-arithmetic.md states. Tests
then compare our kernels with TFLM on the same int8 inputs.
"""
from dataclasses import dataclass, field

import flatbuffers
import numpy as np
from tflite_micro.python.tflite_micro import runtime
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from verdant_host import op_params as prepare
from verdant.engine.quant import quantize_multiplier
from verdant_host.model_writer import (LayerSpec, OP_CONV_2D, OP_DEPTHWISE_CONV_2D,
                                       OP_FULLY_CONNECTED, OP_LOGISTIC, OP_MAX_POOL_2D,
                                       OP_MEAN, OP_SOFTMAX, write_model)

ACTIVATIONS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
_BUILTIN = {
    OP_FULLY_CONNECTED: schema.BuiltinOperator.FULLY_CONNECTED,
    OP_CONV_2D: schema.BuiltinOperator.CONV_2D,
    OP_DEPTHWISE_CONV_2D: schema.BuiltinOperator.DEPTHWISE_CONV_2D,
    OP_MAX_POOL_2D: schema.BuiltinOperator.MAX_POOL_2D,
    OP_MEAN: schema.BuiltinOperator.MEAN,
    OP_LOGISTIC: schema.BuiltinOperator.LOGISTIC,
    OP_SOFTMAX: schema.BuiltinOperator.SOFTMAX,
}


@dataclass
class OpCase:
    """One int8 op. in_shape is (h, w, c); FULLY_CONNECTED uses (1, 1, D).
    weights: int8 array in the tflite layout (FC [C][D], conv OHWI, depthwise 1HWC);
    weight_scales: one per output channel, or a single one (per tensor)."""
    op: int
    in_shape: tuple
    in_scale: float
    in_zp: int
    out_scale: float = 1.0 / 256
    out_zp: int = -128
    weights: np.ndarray = None
    weight_scales: list = None
    bias: np.ndarray = None
    out_channels: int = 0
    kernel: tuple = (1, 1)
    stride: tuple = (1, 1)
    dilation: tuple = (1, 1)
    padding: str = "VALID"
    depth_multiplier: int = 1
    activation: str = "NONE"
    beta: float = 1.0
    extra: dict = field(default_factory=dict)

    def f32(self, x):
        return float(np.float32(x))


def _out_size(size, kernel, stride, dilation, padding):
    effective = (kernel - 1) * dilation + 1
    if padding == "SAME":
        out = (size + stride - 1) // stride
        total = max(0, (out - 1) * stride + effective - size)
        return out, total // 2
    return (size - effective) // stride + 1, 0


def out_shape(case):
    h, w, c = case.in_shape
    if case.op == OP_FULLY_CONNECTED:
        return (1, 1, case.out_channels)
    if case.op == OP_MEAN:
        return (1, 1, c)
    if case.op in (OP_LOGISTIC, OP_SOFTMAX):
        return (h, w, c)
    oh, _ = _out_size(h, case.kernel[0], case.stride[0], case.dilation[0], case.padding)
    ow, _ = _out_size(w, case.kernel[1], case.stride[1], case.dilation[1], case.padding)
    if case.op == OP_CONV_2D:
        return (oh, ow, case.out_channels)
    if case.op == OP_DEPTHWISE_CONV_2D:
        return (oh, ow, c * case.depth_multiplier)
    return (oh, ow, c)


# ---- tflite flatbuffer --------------------------------------------------

def _quant(scales, zero_points, dimension=0):
    q = schema.QuantizationParametersT()
    q.scale = [float(np.float32(s)) for s in scales]
    q.zeroPoint = [int(z) for z in zero_points]
    q.quantizedDimension = dimension
    return q


def _tensor(shape, tensor_type, buffer, name, quantization):
    t = schema.TensorT()
    t.shape = list(shape)
    t.type = tensor_type
    t.buffer = buffer
    t.name = name
    t.quantization = quantization
    return t


def _options(case):
    act = ACTIVATIONS[case.activation]
    pad = schema.Padding.SAME if case.padding == "SAME" else schema.Padding.VALID
    if case.op == OP_FULLY_CONNECTED:
        o = schema.FullyConnectedOptionsT()
        o.fusedActivationFunction = act
        return schema.BuiltinOptions.FullyConnectedOptions, o
    if case.op == OP_CONV_2D:
        o = schema.Conv2DOptionsT()
        o.padding, o.fusedActivationFunction = pad, act
        o.strideH, o.strideW = case.stride
        o.dilationHFactor, o.dilationWFactor = case.dilation
        return schema.BuiltinOptions.Conv2DOptions, o
    if case.op == OP_DEPTHWISE_CONV_2D:
        o = schema.DepthwiseConv2DOptionsT()
        o.padding, o.fusedActivationFunction = pad, act
        o.strideH, o.strideW = case.stride
        o.dilationHFactor, o.dilationWFactor = case.dilation
        o.depthMultiplier = case.depth_multiplier
        return schema.BuiltinOptions.DepthwiseConv2DOptions, o
    if case.op == OP_MAX_POOL_2D:
        o = schema.Pool2DOptionsT()
        o.padding, o.fusedActivationFunction = pad, act
        o.strideH, o.strideW = case.stride
        o.filterHeight, o.filterWidth = case.kernel
        return schema.BuiltinOptions.Pool2DOptions, o
    if case.op == OP_MEAN:
        o = schema.ReducerOptionsT()
        o.keepDims = True
        return schema.BuiltinOptions.ReducerOptions, o
    if case.op == OP_SOFTMAX:
        o = schema.SoftmaxOptionsT()
        o.beta = case.beta
        return schema.BuiltinOptions.SoftmaxOptions, o
    return 0, None


def tflite_model(case):
    """Serialized single-op int8 .tflite for case."""
    h, w, c = case.in_shape
    oh, ow, oc = out_shape(case)
    buffers = [schema.BufferT()]  # buffer 0 is the empty sentinel
    tensors = []

    def add_const(data, shape, tensor_type, name, quantization):
        b = schema.BufferT()
        b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
        buffers.append(b)
        tensors.append(_tensor(shape, tensor_type, len(buffers) - 1, name, quantization))
        return len(tensors) - 1

    if case.op == OP_FULLY_CONNECTED:
        in_dims, out_dims = [1, h * w * c], [1, oc]
    else:
        in_dims, out_dims = [1, h, w, c], [1, oh, ow, oc]
    tensors.append(_tensor(in_dims, schema.TensorType.INT8, 0, "input", _quant([case.in_scale], [case.in_zp])))
    inputs = [0]
    if case.op in (OP_FULLY_CONNECTED, OP_CONV_2D, OP_DEPTHWISE_CONV_2D):
        scales = case.weight_scales
        dimension = 3 if case.op == OP_DEPTHWISE_CONV_2D else 0
        wq = _quant(scales, [0] * len(scales), dimension if len(scales) > 1 else 0)
        inputs.append(add_const(case.weights.astype(np.int8), case.weights.shape,
                                schema.TensorType.INT8, "weights", wq))
        bias = case.bias
        if bias is None and case.op != OP_FULLY_CONNECTED:
            # TFLM's conv kernels crash without a bias tensor; a zero bias is the same op
            bias = np.zeros(oc, dtype=np.int32)
        if bias is not None:
            bias_scales = [float(np.float32(case.in_scale) * np.float32(s)) for s in scales]
            bq = _quant(bias_scales, [0] * len(bias_scales), 0)
            inputs.append(add_const(bias.astype("<i4"), [oc], schema.TensorType.INT32, "bias", bq))
        else:
            inputs.append(-1)
    elif case.op == OP_MEAN:
        inputs.append(add_const(np.array([1, 2], dtype="<i4"), [2], schema.TensorType.INT32, "axis", None))
    tensors.append(_tensor(out_dims, schema.TensorType.INT8, 0, "output",
                           _quant([case.out_scale], [case.out_zp])))
    output_index = len(tensors) - 1

    op = schema.OperatorT()
    op.opcodeIndex = 0
    op.inputs = inputs
    op.outputs = [output_index]
    op.builtinOptionsType, op.builtinOptions = _options(case)
    subgraph = schema.SubGraphT()
    subgraph.tensors = tensors
    subgraph.inputs = [0]
    subgraph.outputs = [output_index]
    subgraph.operators = [op]
    code = schema.OperatorCodeT()
    code.builtinCode = _BUILTIN[case.op]
    code.deprecatedBuiltinCode = min(_BUILTIN[case.op], 127)
    code.version = 1
    model = schema.ModelT()
    model.version = 3
    model.operatorCodes = [code]
    model.subgraphs = [subgraph]
    model.buffers = buffers
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def run_tflm(model_bytes, inputs):
    """Run each int8 input vector (flat) through TFLM; returns a list of flat int8 arrays."""
    interpreter = runtime.Interpreter.from_bytes(model_bytes, arena_size=1 << 20)
    shape = interpreter.get_input_details(0)["shape"]
    results = []
    for flat in inputs:
        interpreter.set_input(np.asarray(flat, dtype=np.int8).reshape(shape), 0)
        interpreter.invoke()
        results.append(np.asarray(interpreter.get_output(0)).reshape(-1).copy())
    return results


# ---- the same op as a Verdant layer ---------------------------------------

def _quantize_f32(case, value):
    """TFLM's activation-range quantize: zp + round(float32(value) / float32(scale))."""
    q = np.float32(value) / np.float32(case.out_scale)
    rounded = np.float32(np.sign(q) * np.floor(np.abs(q) + np.float32(0.5)))  # half away from zero
    return case.out_zp + int(rounded)


def activation_range(case):
    low, high = -128, 127
    if case.activation == "RELU":
        low = max(low, _quantize_f32(case, 0.0))
    elif case.activation == "RELU6":
        low = max(low, _quantize_f32(case, 0.0))
        high = min(high, _quantize_f32(case, 6.0))
    elif case.activation == "RELU_N1_TO_1":
        low = max(low, _quantize_f32(case, -1.0))
        high = min(high, _quantize_f32(case, 1.0))
    return low, high


def _multipliers(case):
    s_in, s_out = float(np.float32(case.in_scale)), float(np.float32(case.out_scale))
    scales = [float(np.float32(s)) for s in case.weight_scales]
    if case.op == OP_FULLY_CONNECTED and len(scales) == 1:
        reals = [float(np.float32(s_in) * np.float32(scales[0])) / s_out]
    else:
        reals = [s_in * s / s_out for s in scales]
    pairs = [quantize_multiplier(r) for r in reals]
    return [m for m, _ in pairs], [s for _, s in pairs]


def verdant_layer(case):
    """LayerSpec equivalent to case, for verdant_host.model_writer.write_model."""
    h, w, c = case.in_shape
    oh, ow, oc = out_shape(case)
    spec = LayerSpec(op=case.op, in_shape=(h, w, c), out_shape=(oh, ow, oc),
                     in_zp=case.in_zp, out_zp=case.out_zp)
    if case.op in (OP_FULLY_CONNECTED, OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_MAX_POOL_2D):
        spec.act_min, spec.act_max = activation_range(case)
    if case.op in (OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_MAX_POOL_2D):
        _, pad_top = _out_size(h, case.kernel[0], case.stride[0], case.dilation[0], case.padding)
        _, pad_left = _out_size(w, case.kernel[1], case.stride[1], case.dilation[1], case.padding)
        spec.kernel, spec.stride, spec.pad = case.kernel, case.stride, (pad_top, pad_left)
        spec.dilation = case.dilation
    if case.op == OP_DEPTHWISE_CONV_2D:
        spec.depth_multiplier = case.depth_multiplier
    if case.op in (OP_FULLY_CONNECTED, OP_CONV_2D, OP_DEPTHWISE_CONV_2D):
        spec.weights = case.weights.astype(np.int8).tobytes()
        spec.bias = None if case.bias is None else [int(b) for b in case.bias]
        spec.multipliers, spec.shifts = _multipliers(case)
    elif case.op == OP_MEAN:
        m, s = prepare.mean_params(float(np.float32(case.in_scale)), float(np.float32(case.out_scale)), h * w)
        spec.multipliers, spec.shifts = [m], [s]
    elif case.op == OP_LOGISTIC:
        spec.params = prepare.logistic_params(float(np.float32(case.in_scale)))
    elif case.op == OP_SOFTMAX:
        spec.params = prepare.softmax_params(float(np.float32(case.in_scale)), case.beta)
    return spec


def verdant_model(case):
    """A one-layer Verdant model file for case."""
    spec = verdant_layer(case)
    return write_model([spec], {"name": "oracle case"}, input_q=(case.in_scale, case.in_zp),
                       output_q=(case.out_scale, case.out_zp))


# ---- QUANTIZE / DEQUANTIZE, for the engine's float boundary -------------------

def conversion_model(kind, scale, zero_point, count):
    """A one-op .tflite: kind 'QUANTIZE' (float32 -> int8) or 'DEQUANTIZE' (int8 -> float32)."""
    float_tensor = _tensor([1, count], schema.TensorType.FLOAT32, 0, "float", None)
    int_tensor = _tensor([1, count], schema.TensorType.INT8, 0, "int8", _quant([scale], [zero_point]))
    tensors = [float_tensor, int_tensor] if kind == "QUANTIZE" else [int_tensor, float_tensor]
    op = schema.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0], [1]
    subgraph = schema.SubGraphT()
    subgraph.tensors, subgraph.inputs, subgraph.outputs, subgraph.operators = tensors, [0], [1], [op]
    code = schema.OperatorCodeT()
    code.builtinCode = getattr(schema.BuiltinOperator, kind)
    code.deprecatedBuiltinCode = code.builtinCode
    code.version = 1
    model = schema.ModelT()
    model.version, model.operatorCodes, model.subgraphs, model.buffers = 3, [code], [subgraph], [schema.BufferT()]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def run_tflm_typed(model_bytes, values, dtype):
    """Run one input vector of the given numpy dtype; returns the flat output."""
    interpreter = runtime.Interpreter.from_bytes(model_bytes, arena_size=1 << 16)
    interpreter.set_input(np.asarray(values, dtype=dtype).reshape(1, -1), 0)
    interpreter.invoke()
    return np.asarray(interpreter.get_output(0)).reshape(-1).copy()
