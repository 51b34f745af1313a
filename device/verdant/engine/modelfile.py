"""Parser for Verdant model files, format version 1 (docs/model-format.md).

    from verdant.engine.modelfile import parse
    model = parse(open("model.bin", "rb").read())
    model.layers[0].weights[3]      # int8 weight, read in place from the buffer

Runs under MicroPython and CPython. Every check of the format document is made
before anything is used, in the documented order, and never reads outside the
buffer; a bad file raises ModelError naming the field or the layer.
Weights, biases, multipliers and shifts are typed views of the buffer (no copies).
"""
import json
import struct

try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

try:
    import uctypes  # MicroPython: typed views through the buffer's address
except ImportError:
    uctypes = None

from verdant.modelmeta import check_meta
from verdant.crc32 import crc32  # noqa: F401  (re-exported: tests and fuzzers use modelfile.crc32)

from verdant.engine.layout import (  # noqa: F401  (re-exported: the format's names)
    FORMAT_VERSION, HEADER_BYTES, HEADER_FORMAT as _HEADER_FORMAT, LAYER_FORMAT as _LAYER_FORMAT,
    LAYER_RECORD_BYTES, LOGISTIC_TABLE_BYTES, MAGIC, MAX_LAYERS, OP_CONV_2D, OP_DEPTHWISE_CONV_2D,
    OP_FULLY_CONNECTED, OP_LOGISTIC, OP_MAX_POOL_2D, OP_MEAN, OP_NAMES, OP_SOFTMAX, arena_bytes)

_INT32_MAX = const(0x7FFFFFFF)
_MULTIPLIER_MIN = const(0x40000000)


class ModelError(ValueError):
    """The model file is malformed; the message names the field or layer."""


# ---- CRC32 ---------------------------------------------------------------

# ---- typed views of the buffer ------------------------------------------

_HAS_CAST = hasattr(memoryview, "cast")  # CPython


class UnpackView:
    """Indexable typed view read with struct (ports without uctypes; slow but no copy)."""

    def __init__(self, buf, offset, count, code, size):
        self.buf = buf
        self.offset = offset
        self.count = count
        self.format = "<" + code
        self.size = size

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        if not 0 <= index < self.count:
            raise IndexError("view index out of range")
        return struct.unpack_from(self.format, self.buf, self.offset + index * self.size)[0]


def int8_view(buf, offset, count):
    """Indexable signed-int8 view of buf[offset:offset+count] (no copy)."""
    if uctypes is not None:
        layout = {"a": (uctypes.ARRAY | 0, uctypes.INT8 | count)}
        return uctypes.struct(uctypes.addressof(buf) + offset, layout, uctypes.LITTLE_ENDIAN).a
    if _HAS_CAST:
        return memoryview(buf)[offset:offset + count].cast("b")
    return UnpackView(buf, offset, count, "b", 1)


def int32_view(buf, offset, count):
    """Indexable little-endian int32 view of count values at offset (no copy)."""
    if uctypes is not None:
        layout = {"a": (uctypes.ARRAY | 0, uctypes.INT32 | count)}
        return uctypes.struct(uctypes.addressof(buf) + offset, layout, uctypes.LITTLE_ENDIAN).a
    if _HAS_CAST and struct.pack("=i", 1) == struct.pack("<i", 1):
        return memoryview(buf)[offset:offset + 4 * count].cast("i")
    return UnpackView(buf, offset, count, "i", 4)


# ---- model objects --------------------------------------------------------

# The layer record's fields in LAYER_FORMAT order (the three "_reserved" ones make .reserved).
_LAYER_FIELDS = ("op", "_reserved1", "zp_in", "zp_out", "act_min", "act_max", "_reserved6",
                 "in_h", "in_w", "in_c", "out_h", "out_w", "out_c",
                 "kernel_h", "kernel_w", "stride_h", "stride_w",
                 "dilation_h", "dilation_w", "pad_top", "pad_left",
                 "depth_multiplier", "quant_channels",
                 "weights_offset", "bias_offset", "multipliers_offset", "shifts_offset",
                 "p0", "p1", "p2", "_reserved60")


class Layer:
    """One layer record. Shapes are (h, w, c); arrays are typed views or None.

    The record's fields (op, zp_in, in_h, ..., p2, reserved) are read from the one tuple
    the record unpacked into: an attribute each made every layer's attribute table about
    450 B of a board's heap. The lookup is slow, so the kernels read each field once per
    call (verdant.engine.ops_python), not per output."""

    def __init__(self, index, fields):
        self.fields = fields
        self.index = index
        self.in_size = fields[7] * fields[8] * fields[9]
        self.out_size = fields[10] * fields[11] * fields[12]
        self.weights = None
        self.bias = None
        self.multipliers = None
        self.shifts = None

    def __getattr__(self, name):
        if name == "fields" or name.startswith("__"):  # not set yet (copies, pickling): no recursion
            raise AttributeError(name)
        f = self.fields
        if name == "reserved":
            return (f[1], f[6], f[30])
        try:
            return f[_LAYER_FIELDS.index(name)]
        except ValueError:
            raise AttributeError(name)

    @property
    def name(self):
        return OP_NAMES.get(self.op, "op %d" % self.op)

    def where(self):
        return "layer %d (%s)" % (self.index, self.name)


class Model:
    """A parsed model: header fields, `layers`, `meta` (dict), and `buf`."""

    def __init__(self, buf, header):
        (magic, self.version, self.header_bytes, self.file_bytes, self.crc, self.layer_count,
         self.layer_record_bytes, self.layers_offset, self.meta_offset, self.meta_bytes,
         self.arena_bytes, self.input_scale, self.input_zero_point, self.output_scale,
         self.output_zero_point, self.input_elements, self.output_elements,
         self.reserved) = header
        self.buf = buf
        self.layers = []
        self.meta = {}

    @property
    def labels(self):
        return self.meta.get("labels", [])


def required_arena_bytes(layers):
    """256 per LOGISTIC layer plus two buffers of the largest tensor, each rounded to 4."""
    largest = 0
    logistic = 0
    for layer in layers:
        largest = max(largest, layer.in_size, layer.out_size)
        if layer.op == OP_LOGISTIC:
            logistic += 1
    return arena_bytes(largest, logistic)


# ---- checks ---------------------------------------------------------------

def _fail(message):
    raise ModelError("model: " + message)


def parse(buf):
    """Check a model file completely and return a Model. Raises ModelError."""
    try:
        size = len(buf)
    except TypeError:
        raise ModelError("model: expected a bytes-like buffer, got %s" % type(buf).__name__)
    if size < HEADER_BYTES:
        _fail("truncated header: %d bytes, need %d" % (size, HEADER_BYTES))
    model = Model(buf, struct.unpack_from(_HEADER_FORMAT, buf, 0))
    _check_header(model, buf, size)
    table_end = model.layers_offset + LAYER_RECORD_BYTES * model.layer_count
    for index in range(model.layer_count):
        fields = struct.unpack_from(_LAYER_FORMAT, buf, model.layers_offset + LAYER_RECORD_BYTES * index)
        layer = Layer(index, fields)
        previous = model.layers[index - 1] if index else None
        _check_layer(layer, previous, buf, size, table_end)
        model.layers.append(layer)
    _check_model_totals(model)
    model.meta = _decode_meta(buf, model.meta_offset, model.meta_bytes)
    try:
        check_meta(model.meta, model.input_elements, model.output_elements)
    except ValueError as exc:
        _fail(str(exc))
    return model


def _check_header(model, buf, size):
    if bytes(buf[0:4]) != MAGIC:
        _fail("bad magic %r, expected %r" % (bytes(buf[0:4]), MAGIC))
    if model.version != FORMAT_VERSION:
        _fail("unsupported format version %d (this parser reads %d)" % (model.version, FORMAT_VERSION))
    if model.header_bytes != HEADER_BYTES:
        _fail("header bytes %d, expected %d" % (model.header_bytes, HEADER_BYTES))
    if model.file_bytes != size:
        _fail("file bytes field says %d but the buffer holds %d (truncated or padded file?)"
              % (model.file_bytes, size))
    actual = crc32(memoryview(buf)[16:])
    if actual != model.crc:
        _fail("CRC mismatch: header 0x%08x, contents 0x%08x (corrupt file)" % (model.crc, actual))
    if not 1 <= model.layer_count <= MAX_LAYERS:
        _fail("layer count %d, must be 1..%d" % (model.layer_count, MAX_LAYERS))
    if model.layer_record_bytes != LAYER_RECORD_BYTES:
        _fail("layer record bytes %d, expected %d" % (model.layer_record_bytes, LAYER_RECORD_BYTES))
    table_end = model.layers_offset + LAYER_RECORD_BYTES * model.layer_count
    if model.layers_offset != HEADER_BYTES or table_end > size:
        _fail("layer table out of bounds: offset %d, %d records, file %d bytes"
              % (model.layers_offset, model.layer_count, size))
    if model.meta_offset < table_end or model.meta_offset + model.meta_bytes > size:
        _fail("metadata out of bounds: offset %d, %d bytes, layer table ends at %d, file %d bytes"
              % (model.meta_offset, model.meta_bytes, table_end, size))
    if model.reserved != 0:
        _fail("reserved header field at offset 60 is %d, must be 0" % model.reserved)
    for what, scale, zero_point in (("input", model.input_scale, model.input_zero_point),
                                    ("output", model.output_scale, model.output_zero_point)):
        if not (scale > 0.0 and scale < float("inf")):  # also rejects NaN
            _fail("%s scale %r must be finite and > 0" % (what, scale))
        if not -128 <= zero_point <= 127:
            _fail("%s zero point %d outside -128..127" % (what, zero_point))


def _layer_fail(layer, message):
    raise ModelError("model: %s: %s" % (layer.where(), message))


def _check_layer(layer, previous, buf, size, table_end):
    if layer.op not in OP_NAMES:
        _layer_fail(layer, "unknown op code %d" % layer.op)
    for value in layer.reserved:
        if value:
            _layer_fail(layer, "reserved field is %d, must be 0" % value)
    if 0 in (layer.in_h, layer.in_w, layer.in_c, layer.out_h, layer.out_w, layer.out_c):
        _layer_fail(layer, "zero in shape %dx%dx%d -> %dx%dx%d" % (
            layer.in_h, layer.in_w, layer.in_c, layer.out_h, layer.out_w, layer.out_c))
    if layer.act_min > layer.act_max:
        _layer_fail(layer, "activation min %d > max %d" % (layer.act_min, layer.act_max))
    if previous is not None:
        _check_chain(layer, previous)
    _check_output_shape(layer)
    _check_quant_channels(layer)
    _check_arrays(layer, buf, size, table_end)
    _check_quant_values(layer)
    _check_op_params(layer)


def _check_chain(layer, previous):
    same_shape = (layer.in_h, layer.in_w, layer.in_c) == (previous.out_h, previous.out_w, previous.out_c)
    if layer.op == OP_FULLY_CONNECTED:
        same_shape = layer.in_size == previous.out_size
    if not same_shape:
        _layer_fail(layer, "input %dx%dx%d does not match layer %d output %dx%dx%d" % (
            layer.in_h, layer.in_w, layer.in_c, previous.index,
            previous.out_h, previous.out_w, previous.out_c))


def _window_ok(in_size, out_size, kernel, stride, dilation, pad):
    """True when (out_size, pad) is TFLM's VALID or SAME result for this window."""
    effective = (kernel - 1) * dilation + 1
    if pad == 0 and in_size >= effective and out_size == (in_size - effective) // stride + 1:
        return True
    same_out = (in_size + stride - 1) // stride
    total = max(0, (same_out - 1) * stride + effective - in_size)
    return out_size == same_out and pad == total // 2


def _check_window(layer, dilated):
    for name, value in (("kernel h", layer.kernel_h), ("kernel w", layer.kernel_w),
                        ("stride h", layer.stride_h), ("stride w", layer.stride_w),
                        ("dilation h", layer.dilation_h), ("dilation w", layer.dilation_w)):
        if value < 1:
            _layer_fail(layer, "%s is %d, must be >= 1" % (name, value))
    if not dilated and (layer.dilation_h != 1 or layer.dilation_w != 1):
        _layer_fail(layer, "dilation must be 1x1, got %dx%d" % (layer.dilation_h, layer.dilation_w))
    if not _window_ok(layer.in_h, layer.out_h, layer.kernel_h, layer.stride_h, layer.dilation_h, layer.pad_top):
        _layer_fail(layer, "output h %d with pad top %d is neither VALID nor SAME for input h %d, "
                    "kernel %d, stride %d, dilation %d" % (layer.out_h, layer.pad_top, layer.in_h,
                                                           layer.kernel_h, layer.stride_h, layer.dilation_h))
    if not _window_ok(layer.in_w, layer.out_w, layer.kernel_w, layer.stride_w, layer.dilation_w, layer.pad_left):
        _layer_fail(layer, "output w %d with pad left %d is neither VALID nor SAME for input w %d, "
                    "kernel %d, stride %d, dilation %d" % (layer.out_w, layer.pad_left, layer.in_w,
                                                           layer.kernel_w, layer.stride_w, layer.dilation_w))


def _check_output_shape(layer):
    op = layer.op
    if op in (OP_FULLY_CONNECTED, OP_MEAN):
        if layer.out_h != 1 or layer.out_w != 1:
            _layer_fail(layer, "output must be 1x1xC, got %dx%dx%d" % (layer.out_h, layer.out_w, layer.out_c))
    if op == OP_MEAN and layer.out_c != layer.in_c:
        _layer_fail(layer, "output channels %d differ from input channels %d" % (layer.out_c, layer.in_c))
    if op == OP_CONV_2D:
        _check_window(layer, True)
    elif op == OP_DEPTHWISE_CONV_2D:
        if layer.depth_multiplier < 1 or layer.out_c != layer.in_c * layer.depth_multiplier:
            _layer_fail(layer, "output channels %d != input channels %d x depth multiplier %d"
                        % (layer.out_c, layer.in_c, layer.depth_multiplier))
        _check_window(layer, True)
    elif op == OP_MAX_POOL_2D:
        if layer.out_c != layer.in_c:
            _layer_fail(layer, "output channels %d differ from input channels %d" % (layer.out_c, layer.in_c))
        if layer.zp_in != layer.zp_out:
            _layer_fail(layer, "input zero point %d differs from output zero point %d"
                        % (layer.zp_in, layer.zp_out))
        _check_window(layer, False)
    elif op in (OP_LOGISTIC, OP_SOFTMAX):
        if (layer.in_h, layer.in_w, layer.in_c) != (layer.out_h, layer.out_w, layer.out_c):
            _layer_fail(layer, "output shape must equal input shape")
        if layer.zp_out != -128:
            _layer_fail(layer, "output zero point %d, must be -128" % layer.zp_out)
    if op != OP_DEPTHWISE_CONV_2D and layer.depth_multiplier != 0:
        _layer_fail(layer, "depth multiplier %d, must be 0 for this op" % layer.depth_multiplier)


def _check_quant_channels(layer):
    q = layer.quant_channels
    if layer.op in (OP_FULLY_CONNECTED, OP_CONV_2D, OP_DEPTHWISE_CONV_2D):
        ok = q == 1 or q == layer.out_c
        expected = "1 or %d" % layer.out_c
    elif layer.op == OP_MEAN:
        ok = q == 1
        expected = "1"
    else:
        ok = q == 0
        expected = "0"
    if not ok:
        _layer_fail(layer, "quantization channels %d, expected %s" % (q, expected))


def _weight_count(layer):
    if layer.op == OP_FULLY_CONNECTED:
        return layer.out_c * layer.in_size
    if layer.op == OP_CONV_2D:
        return layer.out_c * layer.kernel_h * layer.kernel_w * layer.in_c
    if layer.op == OP_DEPTHWISE_CONV_2D:
        return layer.kernel_h * layer.kernel_w * layer.out_c
    return 0


def _check_array(layer, name, offset, nbytes, required, size, table_end):
    if offset == 0:
        if required:
            _layer_fail(layer, "%s offset is 0 but the op needs %s" % (name, name))
        return False
    if not nbytes:
        _layer_fail(layer, "%s offset %d given but the op has no %s" % (name, offset, name))
    if offset % 4:
        _layer_fail(layer, "%s offset %d not 4-aligned" % (name, offset))
    if offset < table_end or offset + nbytes > size:
        _layer_fail(layer, "%s at %d..%d out of bounds (arrays lie in %d..%d)"
                    % (name, offset, offset + nbytes, table_end, size))
    return True


def _check_arrays(layer, buf, size, table_end):
    weights = _weight_count(layer)
    has_weights = layer.op in (OP_FULLY_CONNECTED, OP_CONV_2D, OP_DEPTHWISE_CONV_2D)
    q = layer.quant_channels
    if _check_array(layer, "weights", layer.weights_offset, weights, has_weights, size, table_end):
        layer.weights = int8_view(buf, layer.weights_offset, weights)
    bias_bytes = 4 * layer.out_c if has_weights else 0
    if _check_array(layer, "bias", layer.bias_offset, bias_bytes, False, size, table_end):
        layer.bias = int32_view(buf, layer.bias_offset, layer.out_c)
    if _check_array(layer, "multipliers", layer.multipliers_offset, 4 * q, q > 0, size, table_end):
        layer.multipliers = int32_view(buf, layer.multipliers_offset, q)
    if _check_array(layer, "shifts", layer.shifts_offset, 4 * q, q > 0, size, table_end):
        layer.shifts = int32_view(buf, layer.shifts_offset, q)


def _check_quant_values(layer):
    low = 0 if layer.op == OP_MEAN else _MULTIPLIER_MIN
    for channel in range(layer.quant_channels):
        multiplier = layer.multipliers[channel]
        if multiplier != 0 and not low <= multiplier <= _INT32_MAX:
            _layer_fail(layer, "multiplier %d of channel %d outside {0} U [%d, %d]"
                        % (multiplier, channel, low, _INT32_MAX))
        shift = layer.shifts[channel]
        if not -31 <= shift <= 30:
            _layer_fail(layer, "shift %d of channel %d outside [-31, 30]" % (shift, channel))


def _check_op_params(layer):
    # Not in the format's check list, but the integer algorithms need these
    # ranges (a shift count must not be negative); TFLM's Prepare never makes others.
    if layer.op == OP_LOGISTIC:
        if not 0 <= layer.p0 <= _INT32_MAX or not -31 <= layer.p1 <= 30 or layer.p2 < 0:
            _layer_fail(layer, "LOGISTIC parameters (multiplier %d, left shift %d, radius %d) out of range"
                        % (layer.p0, layer.p1, layer.p2))
    elif layer.op == OP_SOFTMAX:
        if not 0 <= layer.p0 <= _INT32_MAX or not 0 <= layer.p1 <= 31 or layer.p2 > 0:
            _layer_fail(layer, "SOFTMAX parameters (multiplier %d, left shift %d, diff_min %d) out of range"
                        % (layer.p0, layer.p1, layer.p2))
    elif layer.p0 or layer.p1 or layer.p2:
        _layer_fail(layer, "p0..p2 must be 0 for this op, got %d, %d, %d" % (layer.p0, layer.p1, layer.p2))


def _check_model_totals(model):
    first = model.layers[0]
    last = model.layers[-1]
    if model.input_elements != first.in_size:
        _fail("header input elements %d, first layer takes %d" % (model.input_elements, first.in_size))
    if model.output_elements != last.out_size:
        _fail("header output elements %d, last layer gives %d" % (model.output_elements, last.out_size))
    if model.input_zero_point != first.zp_in:
        _fail("header input zero point %d differs from layer 0 input zero point %d"
              % (model.input_zero_point, first.zp_in))
    if model.output_zero_point != last.zp_out:
        _fail("header output zero point %d differs from layer %d output zero point %d"
              % (model.output_zero_point, last.index, last.zp_out))
    needed = required_arena_bytes(model.layers)
    if model.arena_bytes != needed:
        _fail("arena bytes %d, the layers need %d" % (model.arena_bytes, needed))


def _decode_meta(buf, offset, nbytes):
    if nbytes == 0:
        return {}
    try:
        meta = json.loads(bytes(buf[offset:offset + nbytes]).decode("utf-8"))
    except (ValueError, UnicodeError, RuntimeError):  # RuntimeError: nesting too deep
        _fail("metadata is not valid UTF-8 JSON (%d bytes at %d)" % (nbytes, offset))
    if not isinstance(meta, dict):
        _fail("metadata must be a JSON object, got %s" % type(meta).__name__)
    return meta
