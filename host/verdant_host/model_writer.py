"""Write Verdant model files (format version 1, docs/model-format.md).

Host only. `write_model(layers, meta, input_q, output_q)` lays out the header, the
64-byte layer records, every int8/int32 array 4-aligned after the layer table, and
the metadata JSON, then fills in the file size, arena bytes and CRC32.

A layer is a `LayerSpec` (or a dict with the same field names). Example, a per-tensor
fully connected layer 4 -> 2 with no bias:

    LayerSpec(op=OP_FULLY_CONNECTED, in_zp=-3, out_zp=5, act_min=-128, act_max=127,
              in_shape=(1, 1, 4), out_shape=(1, 1, 2),
              weights=bytes(8), multipliers=[1 << 30], shifts=[-3])
"""
import binascii
import json
import struct
from dataclasses import dataclass, field

from verdant.engine.layout import (  # noqa: F401  (re-exported for the exporter and tests)
    FORMAT_VERSION, HEADER_BYTES, HEADER_FORMAT, LAYER_FORMAT, LAYER_RECORD_BYTES, LOGISTIC_TABLE_BYTES,
    MAGIC, MAX_LAYERS, OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED, OP_LOGISTIC, OP_MAX_POOL_2D,
    OP_MEAN, OP_NAMES, OP_SOFTMAX, arena_bytes as _arena_bytes)

_HEADER = struct.Struct(HEADER_FORMAT)
_LAYER = struct.Struct(LAYER_FORMAT)


@dataclass
class LayerSpec:
    """One layer record and its arrays. Shapes are (h, w, c); weights are raw int8
    bytes in the layout docs/model-format.md gives for the op; bias is a list of
    int32 or None; multipliers/shifts hold q values (empty for ops without)."""
    op: int
    in_shape: tuple
    out_shape: tuple
    in_zp: int = 0
    out_zp: int = 0
    act_min: int = -128
    act_max: int = 127
    kernel: tuple = (0, 0)
    stride: tuple = (0, 0)
    dilation: tuple = (0, 0)
    pad: tuple = (0, 0)
    depth_multiplier: int = 0
    weights: bytes = None
    bias: list = None
    multipliers: list = field(default_factory=list)
    shifts: list = field(default_factory=list)
    params: tuple = (0, 0, 0)


def _elements(shape):
    h, w, c = shape
    return h * w * c


def arena_bytes(layers):
    """Arena the runtime needs: 256 per LOGISTIC layer, then two activation
    buffers each as large as the largest layer input or output (rounded to 4)."""
    layers = [_as_spec(layer) for layer in layers]
    largest = max(max(_elements(l.in_shape), _elements(l.out_shape)) for l in layers)
    return _arena_bytes(largest, sum(1 for l in layers if l.op == OP_LOGISTIC))


def _as_spec(layer):
    return layer if isinstance(layer, LayerSpec) else LayerSpec(**layer)


def _expected_weight_count(spec):
    kh, kw = spec.kernel
    if spec.op == OP_FULLY_CONNECTED:
        return spec.out_shape[2] * _elements(spec.in_shape)
    if spec.op == OP_CONV_2D:
        return spec.out_shape[2] * kh * kw * spec.in_shape[2]
    if spec.op == OP_DEPTHWISE_CONV_2D:
        return kh * kw * spec.out_shape[2]
    return 0


def _check_spec(index, spec):
    where = "layer %d (%s)" % (index, OP_NAMES.get(spec.op, "op %r" % spec.op))
    if spec.op not in OP_NAMES:
        raise ValueError("%s: unknown op code" % where)
    expected = _expected_weight_count(spec)
    got = 0 if spec.weights is None else len(spec.weights)
    if got != expected:
        raise ValueError("%s: %d weight bytes, expected %d" % (where, got, expected))
    if spec.bias is not None and len(spec.bias) != spec.out_shape[2]:
        raise ValueError("%s: %d bias values, expected %d" % (where, len(spec.bias), spec.out_shape[2]))
    if len(spec.multipliers) != len(spec.shifts):
        raise ValueError("%s: %d multipliers but %d shifts" % (where, len(spec.multipliers), len(spec.shifts)))


class _Blob:
    """The growing file body; every array starts 4-aligned."""

    def __init__(self, start):
        self.start = start
        self.data = bytearray()

    def add(self, raw):
        if raw is None:
            return 0
        self.data.extend(bytes((-len(self.data)) % 4))
        offset = self.start + len(self.data)
        self.data.extend(raw)
        return offset


def write_model(layers, meta=None, input_q=(1.0, 0), output_q=(1.0, 0)):
    """Build a model file. layers: LayerSpec or dicts; meta: JSON-able dict;
    input_q/output_q: (scale, zero_point) of the header. Returns bytes."""
    specs = [_as_spec(layer) for layer in layers]
    if not 1 <= len(specs) <= MAX_LAYERS:
        raise ValueError("a model has 1..%d layers, got %d" % (MAX_LAYERS, len(specs)))
    for index, spec in enumerate(specs):
        _check_spec(index, spec)
    table_end = HEADER_BYTES + LAYER_RECORD_BYTES * len(specs)
    blob = _Blob(table_end)
    records = bytearray()
    for spec in specs:
        weights_off = blob.add(None if spec.weights is None else bytes(spec.weights))
        bias_off = blob.add(None if spec.bias is None else struct.pack("<%di" % len(spec.bias), *spec.bias))
        q = len(spec.multipliers)
        mult_off = blob.add(struct.pack("<%di" % q, *spec.multipliers)) if q else 0
        shift_off = blob.add(struct.pack("<%di" % q, *spec.shifts)) if q else 0
        records += _LAYER.pack(
            spec.op, 0, spec.in_zp, spec.out_zp, spec.act_min, spec.act_max, 0,
            *spec.in_shape, *spec.out_shape,
            spec.kernel[0], spec.kernel[1], spec.stride[0], spec.stride[1],
            spec.dilation[0], spec.dilation[1], spec.pad[0], spec.pad[1],
            spec.depth_multiplier, q, weights_off, bias_off, mult_off, shift_off,
            spec.params[0], spec.params[1], spec.params[2], 0)
    meta_raw = json.dumps(meta if meta is not None else {}, separators=(",", ":")).encode("utf-8")
    meta_off = blob.add(meta_raw)
    blob.data.extend(bytes((-len(blob.data)) % 4))
    body = records + blob.data
    file_bytes = HEADER_BYTES + len(body)
    header = _HEADER.pack(
        MAGIC, FORMAT_VERSION, HEADER_BYTES, file_bytes, 0, len(specs), LAYER_RECORD_BYTES,
        HEADER_BYTES, meta_off, len(meta_raw), arena_bytes(specs),
        float(input_q[0]), int(input_q[1]), float(output_q[0]), int(output_q[1]),
        _elements(specs[0].in_shape), _elements(specs[-1].out_shape), 0)
    return with_crc(header + bytes(body))


def with_crc(buf):
    """Return buf with the header CRC32 recomputed over bytes [16, end); tests use it
    to build files that are wrong in exactly one field."""
    out = bytearray(buf)
    struct.pack_into("<I", out, 12, binascii.crc32(bytes(out[16:])) & 0xFFFFFFFF)
    return bytes(out)


def truncate_model(buf, count):
    """The model file cut down to its first `count` layers (arrays stay in place;
    header output elements, arena bytes and CRC follow). Used to compare a backend
    with the reference layer by layer."""
    buf = bytearray(buf)
    layers = struct.unpack_from("<H", buf, 16)[0]
    if not 1 <= count <= layers:
        raise ValueError("cannot keep %d of %d layers" % (count, layers))
    shapes, logistic = [], 0
    for index in range(count):
        record = HEADER_BYTES + LAYER_RECORD_BYTES * index
        if buf[record] == OP_LOGISTIC:
            logistic += 1
        dims = struct.unpack_from("<3H3H", buf, record + 8)
        shapes.append((dims[0] * dims[1] * dims[2], dims[3] * dims[4] * dims[5]))
    last = HEADER_BYTES + LAYER_RECORD_BYTES * (count - 1)
    largest = max(max(pair) for pair in shapes)
    struct.pack_into("<H", buf, 16, count)
    struct.pack_into("<I", buf, 32, _arena_bytes(largest, logistic))
    struct.pack_into("<fi", buf, 44, 1.0, struct.unpack_from("<b", buf, last + 3)[0])
    struct.pack_into("<I", buf, 56, shapes[-1][1])
    return with_crc(buf)
