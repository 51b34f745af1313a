"""Builds Verdant model files (docs/model-format.md v1) for tests and benchmarks: the one
builder that runs under both CPython and the MicroPython Unix port (the exporter's
model_writer needs CPython). The layout comes from verdant.engine.layout, as the
parser's and the writer's do.

layer(...) describes one layer; build([...]) lays out header, layer table and 4-aligned
arrays, fills in arena bytes and the CRC. Any field can be overridden afterwards with
patch() to make a deliberately broken file.

    buf = build([layer("fc", (1, 1, 3), (1, 1, 2), weights=[1, -2, 3, 4, 5, -6],
                       multipliers=[1 << 30], shifts=[-2])])
"""
import struct

try:
    from binascii import crc32
except ImportError:  # pragma: no cover - every port we test has binascii.crc32
    from verdant.crc32 import crc32

from verdant.engine.layout import (CRC_OFFSET, CRC_START, FORMAT_VERSION, HEADER_BYTES, HEADER_FORMAT,
                                   LAYER_FORMAT, LAYER_RECORD_BYTES, MAGIC, OP_LOGISTIC, arena_bytes)

OPS = {"fc": 1, "conv": 2, "dwconv": 3, "maxpool": 4, "mean": 5, "logistic": 6, "softmax": 7}


def layer(op, in_shape, out_shape, in_zp=0, out_zp=0, act=(-128, 127), kernel=(0, 0), stride=(0, 0),
          dilation=(0, 0), pad=(0, 0), depth_multiplier=0, weights=None, bias=None, multipliers=None,
          shifts=None, params=(0, 0, 0)):
    """One layer record as a dict. op: a short name ("fc", "conv", ...) or the op code;
    weights: int8 list or bytes; bias/multipliers/shifts: int lists (None = absent)."""
    return {"op": OPS.get(op, op), "in_shape": tuple(in_shape), "out_shape": tuple(out_shape), "in_zp": in_zp,
            "out_zp": out_zp, "act": tuple(act), "kernel": tuple(kernel), "stride": tuple(stride),
            "dilation": tuple(dilation), "pad": tuple(pad), "depth_multiplier": depth_multiplier,
            "weights": weights, "bias": bias, "multipliers": multipliers, "shifts": shifts, "params": tuple(params)}


def elements(shape):
    return shape[0] * shape[1] * shape[2]


def _pack_ints(code, values):
    if values is None:
        return None
    if code == "b" and isinstance(values, (bytes, bytearray)):
        return bytes(values)
    return struct.pack("<%d%s" % (len(values), code), *values)


def build(layers, meta=b'{"name": "test"}', input_q=None, output_q=None):
    """The complete model file as bytes. input_q/output_q: (scale, zero point) of the
    header; by default (0.05, the first layer's in_zp) and (1/256, the last layer's out_zp)."""
    n = len(layers)
    input_q = input_q or (0.05, layers[0]["in_zp"])
    output_q = output_q or (0.00390625, layers[-1]["out_zp"])
    table_end = HEADER_BYTES + LAYER_RECORD_BYTES * n
    blobs = bytearray()
    offsets = []

    def place(data):
        if data is None:
            return 0
        while len(blobs) % 4:
            blobs.append(0)
        at = table_end + len(blobs)
        blobs.extend(data)
        return at

    largest = 0
    logistic = 0
    for lay in layers:
        offsets.append((place(_pack_ints("b", lay["weights"])), place(_pack_ints("i", lay["bias"])),
                        place(_pack_ints("i", lay["multipliers"])), place(_pack_ints("i", lay["shifts"]))))
        largest = max(largest, elements(lay["in_shape"]), elements(lay["out_shape"]))
        logistic += lay["op"] == OP_LOGISTIC
    meta_offset = place(meta)
    while len(blobs) % 4:
        blobs.append(0)
    total = table_end + len(blobs)
    out = bytearray(total)
    struct.pack_into(HEADER_FORMAT, out, 0, MAGIC, FORMAT_VERSION, HEADER_BYTES, total, 0, n, LAYER_RECORD_BYTES,
                     HEADER_BYTES, meta_offset, len(meta), arena_bytes(largest, logistic),
                     input_q[0], input_q[1], output_q[0], output_q[1],
                     elements(layers[0]["in_shape"]), elements(layers[-1]["out_shape"]), 0)
    for i, lay in enumerate(layers):
        q = len(lay["multipliers"]) if lay["multipliers"] is not None else 0
        w, b, m, s = offsets[i]
        k, st, d, p = lay["kernel"], lay["stride"], lay["dilation"], lay["pad"]
        struct.pack_into(LAYER_FORMAT, out, HEADER_BYTES + LAYER_RECORD_BYTES * i,
                         lay["op"], 0, lay["in_zp"], lay["out_zp"], lay["act"][0], lay["act"][1], 0,
                         lay["in_shape"][0], lay["in_shape"][1], lay["in_shape"][2],
                         lay["out_shape"][0], lay["out_shape"][1], lay["out_shape"][2],
                         k[0], k[1], st[0], st[1], d[0], d[1], p[0], p[1],
                         lay["depth_multiplier"], q, w, b, m, s,
                         lay["params"][0], lay["params"][1], lay["params"][2], 0)
    out[table_end:] = blobs
    return bytes(fix_crc(out))


def fix_crc(buf):
    """Recomputes the CRC field (in place when buf is a bytearray); returns the bytearray."""
    out = buf if isinstance(buf, bytearray) else bytearray(buf)
    struct.pack_into("<I", out, CRC_OFFSET, crc32(bytes(out[CRC_START:])) & 0xFFFFFFFF)
    return out


def patch(buf, offset, fmt, *values, crc=True):
    """A copy of buf with struct fmt values written at offset (CRC fixed unless crc=False)."""
    buf = bytearray(buf)
    struct.pack_into(fmt, buf, offset, *values)
    return bytes(fix_crc(buf)) if crc else bytes(buf)


def tiny_fc():
    """A 3 -> 2 per-tensor FULLY_CONNECTED with bias: the smallest valid model."""
    return build([layer("fc", (1, 1, 3), (1, 1, 2), in_zp=-3, out_zp=5, weights=[1, -2, 3, 4, 5, -6],
                        bias=[10, -20], multipliers=[1 << 30], shifts=[-2])])
