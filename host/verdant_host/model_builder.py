"""Builds Verdant model files (docs/model-format.md v1) for tests and benchmarks.

Runs under CPython (host tests import it) and the MicroPython Unix port (natmod
tests). A test helper only: the real writer is the exporter's model_writer.
layer(...) describes one layer; build([...]) lays out header, layer table and
4-aligned arrays, fills in arena bytes and the CRC. Any field can be overridden
afterwards with patch() to make a deliberately broken file.
"""
import struct

try:
    from binascii import crc32
except ImportError:  # pragma: no cover - every port we test has binascii.crc32
    crc32 = None

OPS = {"fc": 1, "conv": 2, "dwconv": 3, "maxpool": 4, "mean": 5, "logistic": 6, "softmax": 7}


def layer(op, in_shape, out_shape, in_zp=0, out_zp=0, act=(-128, 127), kernel=(0, 0), stride=(0, 0),
          dilation=(0, 0), pad=(0, 0), depth_mult=0, weights=None, bias=None, mults=None, shifts=None,
          params=(0, 0, 0)):
    """One layer record as a dict; weights: int8 list, bias/mults/shifts: int lists (None = absent)."""
    return {"op": OPS[op], "in_shape": tuple(in_shape), "out_shape": tuple(out_shape), "in_zp": in_zp,
            "out_zp": out_zp, "act": tuple(act), "kernel": tuple(kernel), "stride": tuple(stride),
            "dilation": tuple(dilation), "pad": tuple(pad), "depth_mult": depth_mult, "weights": weights,
            "bias": bias, "mults": mults, "shifts": shifts, "params": tuple(params)}


def elements(shape):
    return shape[0] * shape[1] * shape[2]


def arena_bytes(layers):
    biggest = 0
    for lay in layers:
        for shape in (lay["in_shape"], lay["out_shape"]):
            biggest = max(biggest, (elements(shape) + 3) & ~3)
    return 256 * sum(1 for lay in layers if lay["op"] == 6) + 2 * biggest


def build(layers, meta=b'{"name": "test"}', input_scale=0.05, output_scale=0.00390625):
    """The complete model file as bytes (header zero points from the first and last layer)."""
    n = len(layers)
    input_q = (input_scale, layers[0]["in_zp"])
    output_q = (output_scale, layers[-1]["out_zp"])
    table_end = 64 + 64 * n
    blobs = bytearray()
    offsets = []

    def place(data):
        if data is None:
            return 0
        while (table_end + len(blobs)) % 4:
            blobs.append(0)
        at = table_end + len(blobs)
        blobs.extend(data)
        return at

    for lay in layers:
        w = place(None if lay["weights"] is None else struct.pack("<%db" % len(lay["weights"]), *lay["weights"]))
        b = place(None if lay["bias"] is None else struct.pack("<%di" % len(lay["bias"]), *lay["bias"]))
        m = place(None if lay["mults"] is None else struct.pack("<%di" % len(lay["mults"]), *lay["mults"]))
        s = place(None if lay["shifts"] is None else struct.pack("<%di" % len(lay["shifts"]), *lay["shifts"]))
        offsets.append((w, b, m, s))
    meta_offset = place(meta)
    total = table_end + len(blobs)
    out = bytearray(total)
    struct.pack_into("<4sHHII", out, 0, b"VRDT", 1, 64, total, 0)
    struct.pack_into("<HHIIII", out, 16, n, 64, 64, meta_offset, len(meta), arena_bytes(layers))
    struct.pack_into("<fifiIII", out, 36, input_q[0], input_q[1], output_q[0], output_q[1],
                     elements(layers[0]["in_shape"]), elements(layers[-1]["out_shape"]), 0)
    for i, lay in enumerate(layers):
        q = len(lay["mults"]) if lay["mults"] is not None else 0
        w, b, m, s = offsets[i]
        struct.pack_into("<BBbbbbH3H3H8BHHIIIIiiiI", out, 64 + 64 * i,
                         lay["op"], 0, lay["in_zp"], lay["out_zp"], lay["act"][0], lay["act"][1], 0,
                         lay["in_shape"][0], lay["in_shape"][1], lay["in_shape"][2],
                         lay["out_shape"][0], lay["out_shape"][1], lay["out_shape"][2],
                         lay["kernel"][0], lay["kernel"][1], lay["stride"][0], lay["stride"][1],
                         lay["dilation"][0], lay["dilation"][1], lay["pad"][0], lay["pad"][1],
                         lay["depth_mult"], q, w, b, m, s,
                         lay["params"][0], lay["params"][1], lay["params"][2], 0)
    out[table_end:] = blobs
    return fix_crc(out)


def fix_crc(buf):
    """Recomputes the CRC field of a (possibly patched) file; returns bytes."""
    buf = bytearray(buf)
    struct.pack_into("<I", buf, 12, crc32(bytes(buf[16:])) & 0xFFFFFFFF)
    return bytes(buf)


def patch(buf, offset, fmt, *values, crc=True):
    """A copy of buf with struct fmt values written at offset (CRC fixed unless crc=False)."""
    buf = bytearray(buf)
    struct.pack_into(fmt, buf, offset, *values)
    return fix_crc(buf) if crc else bytes(buf)


def tiny_fc():
    """A 3 -> 2 per-tensor FULLY_CONNECTED with bias: the smallest valid model."""
    return build([layer("fc", (1, 1, 3), (1, 1, 2), in_zp=-3, out_zp=5, weights=[1, -2, 3, 4, 5, -6],
                        bias=[10, -20], mults=[1 << 30], shifts=[-2])])


def test_builder_layout():
    buf = tiny_fc()
    assert buf[:4] == b"VRDT"
    assert struct.unpack_from("<I", buf, 8)[0] == len(buf)
    assert struct.unpack_from("<I", buf, 12)[0] == crc32(buf[16:]) & 0xFFFFFFFF
    # weights, bias, multipliers, shifts follow the table, 4-aligned
    for field in (32, 36, 40, 44):
        off = struct.unpack_from("<I", buf, 64 + field)[0]
        assert off >= 128 and off % 4 == 0
    assert struct.unpack_from("<I", buf, 32)[0] == 8  # 2 buffers of max(3, 2) rounded to 4
