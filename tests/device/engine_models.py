# Builds Verdant model files inside MicroPython for the device engine tests.
# The project's writer (host/verdant_host/model_writer.py) needs CPython
# (dataclasses), so device tests use this small struct-based equivalent; the host
# tests use the real writer, and test_engine_device_vs_host checks both agree.
import struct

try:
    from binascii import crc32
except ImportError:
    from verdant.engine.modelfile import crc32

HEADER = "<4sHHIIHHIIIIfifiIII"
LAYER = "<BBbbbbH3H3H8BHHIIIIiiiI"


def layer(op, in_shape, out_shape, **fields):
    """A layer dict; fields: in_zp, out_zp, act (min, max), kernel, stride, dilation,
    pad, depth_multiplier, weights (bytes), bias (list), multipliers, shifts, params."""
    spec = {"op": op, "in_shape": in_shape, "out_shape": out_shape, "in_zp": 0, "out_zp": 0,
            "act": (-128, 127), "kernel": (0, 0), "stride": (0, 0), "dilation": (0, 0),
            "pad": (0, 0), "depth_multiplier": 0, "weights": None, "bias": None,
            "multipliers": [], "shifts": [], "params": (0, 0, 0)}
    spec.update(fields)
    return spec


def _elements(shape):
    return shape[0] * shape[1] * shape[2]


def _align(body):
    while len(body) % 4:
        body.append(0)


def build(layers, meta=b"{}", input_q=None, output_q=None):
    """Model file bytes; input_q/output_q default to (0.05, first in_zp) / (0.05, last out_zp)."""
    input_q = input_q or (0.05, layers[0]["in_zp"])
    output_q = output_q or (0.05, layers[-1]["out_zp"])
    table_end = 64 + 64 * len(layers)
    body = bytearray()
    records = bytearray()

    def add(raw):
        if raw is None:
            return 0
        _align(body)
        offset = table_end + len(body)
        body.extend(raw)
        return offset

    for spec in layers:
        q = len(spec["multipliers"])
        w_off = add(spec["weights"])
        b_off = add(None if spec["bias"] is None else struct.pack("<%di" % len(spec["bias"]), *spec["bias"]))
        m_off = add(struct.pack("<%di" % q, *spec["multipliers"])) if q else 0
        s_off = add(struct.pack("<%di" % q, *spec["shifts"])) if q else 0
        k, s, d, p = spec["kernel"], spec["stride"], spec["dilation"], spec["pad"]
        records.extend(struct.pack(
            LAYER, spec["op"], 0, spec["in_zp"], spec["out_zp"], spec["act"][0], spec["act"][1], 0,
            spec["in_shape"][0], spec["in_shape"][1], spec["in_shape"][2],
            spec["out_shape"][0], spec["out_shape"][1], spec["out_shape"][2],
            k[0], k[1], s[0], s[1], d[0], d[1], p[0], p[1], spec["depth_multiplier"], q,
            w_off, b_off, m_off, s_off, spec["params"][0], spec["params"][1], spec["params"][2], 0))
    meta_off = add(meta)
    _align(body)
    largest = 0
    logistic = 0
    for spec in layers:
        largest = max(largest, _elements(spec["in_shape"]), _elements(spec["out_shape"]))
        logistic += spec["op"] == 6
    arena = 256 * logistic + 2 * ((largest + 3) & ~3)
    total = 64 + len(records) + len(body)
    header = struct.pack(HEADER, b"VRDT", 1, 64, total, 0, len(layers), 64, 64, meta_off, len(meta), arena,
                         input_q[0], input_q[1], output_q[0], output_q[1],
                         _elements(layers[0]["in_shape"]), _elements(layers[-1]["out_shape"]), 0)
    return fix_crc(bytearray(header) + records + body)


def fix_crc(buf):
    """Recompute the header CRC in place (bytearray) and return it."""
    struct.pack_into("<I", buf, 12, crc32(bytes(buf[16:])) & 0xFFFFFFFF)
    return buf


def fc_model(in_c=4, out_c=3, seed=1):
    """A small valid per-channel FULLY_CONNECTED model with bias."""
    weights = bytes(((i * 37 + seed * 11) % 255) for i in range(in_c * out_c))
    return build([layer(1, (1, 1, in_c), (1, 1, out_c), in_zp=-3, out_zp=5, weights=weights,
                        bias=[100 * (i - 1) for i in range(out_c)],
                        multipliers=[(1 << 30) + 12345 * i for i in range(out_c)],
                        shifts=[-7 - (i % 3) for i in range(out_c)])],
                 meta=b'{"labels": ["a", "b", "c"], "window": 12}')


def conv1d_model():
    # 24 steps x 6 features -> conv k3 x16 SAME -> maxpool 2 -> conv k3 x16 -> mean -> FC 9 -> softmax
    w1 = bytes(((i * 29) % 251) for i in range(16 * 3 * 6))
    w2 = bytes(((i * 31) % 253) for i in range(16 * 3 * 16))
    w3 = bytes(((i * 37) % 255) for i in range(9 * 16))
    return build([
        layer(2, (1, 24, 6), (1, 24, 16), in_zp=-3, out_zp=-128, kernel=(1, 3), stride=(1, 1), dilation=(1, 1),
              pad=(0, 1), weights=w1, bias=[50] * 16, multipliers=[1 << 30] * 16, shifts=[-9] * 16, act=(-128, 127)),
        layer(4, (1, 24, 16), (1, 12, 16), in_zp=-128, out_zp=-128, kernel=(1, 2), stride=(1, 2), dilation=(1, 1)),
        layer(2, (1, 12, 16), (1, 12, 16), in_zp=-128, out_zp=-100, kernel=(1, 3), stride=(1, 1), dilation=(1, 1),
              pad=(0, 1), weights=w2, multipliers=[1 << 30], shifts=[-10]),
        layer(5, (1, 12, 16), (1, 1, 16), in_zp=-100, out_zp=-90, multipliers=[1431655765], shifts=[-3]),
        layer(1, (1, 1, 16), (1, 1, 9), in_zp=-90, out_zp=10, weights=w3, multipliers=[1 << 30] * 9, shifts=[-7] * 9),
        layer(7, (1, 1, 9), (1, 1, 9), in_zp=10, out_zp=-128, params=(1 << 30, 23, -248)),
    ])
