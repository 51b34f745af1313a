"""Verdant model file layout, format version 1 (docs/model-format.md): the constants and
struct strings that the parser (modelfile.py), the exporter's writer
(verdant_host/model_writer.py) and the test builder (verdant_host/model_builder.py)
share. The C parser keeps its own copy in device/native/nn_model.h;
tests/host/test_model_layout.py checks that the two agree.
"""
try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

MAGIC = b"VRDT"
FORMAT_VERSION = const(1)
HEADER_BYTES = const(64)
LAYER_RECORD_BYTES = const(64)
MAX_LAYERS = const(32)
LOGISTIC_TABLE_BYTES = const(256)
FILE_SUFFIX = ".bin"  # the one model file extension (models/default/model.bin)

OP_FULLY_CONNECTED = const(1)
OP_CONV_2D = const(2)
OP_DEPTHWISE_CONV_2D = const(3)
OP_MAX_POOL_2D = const(4)
OP_MEAN = const(5)
OP_LOGISTIC = const(6)
OP_SOFTMAX = const(7)
OP_NAMES = {
    1: "FULLY_CONNECTED", 2: "CONV_2D", 3: "DEPTHWISE_CONV_2D", 4: "MAX_POOL_2D",
    5: "MEAN", 6: "LOGISTIC", 7: "SOFTMAX",
}

# Header: magic, version, header bytes, file bytes, crc32 (of bytes 16..end), layer count,
# layer record bytes, layers offset, meta offset, meta bytes, arena bytes, input scale,
# input zero point, output scale, output zero point, input elements, output elements, reserved.
HEADER_FORMAT = "<4sHHIIHHIIIIfifiIII"
# Layer record: op, reserved, zp in, zp out, act min, act max, reserved, in shape (h, w, c),
# out shape, kernel h/w, stride h/w, dilation h/w, pad top/left, depth multiplier,
# quantized channels, weights/bias/multipliers/shifts offsets, p0, p1, p2, reserved.
LAYER_FORMAT = "<BBbbbbH3H3H8BHHIIIIiiiI"
CRC_OFFSET = const(12)    # the CRC field; the CRC covers bytes CRC_START..end
CRC_START = const(16)


def round4(n):
    return (n + 3) & ~3


def arena_bytes(largest_elements, logistic_layers):
    """Arena the runtime needs: 256 per LOGISTIC layer, then two activation buffers, each
    as large as the largest layer input or output (element count, rounded up to 4)."""
    return LOGISTIC_TABLE_BYTES * logistic_layers + 2 * round4(largest_elements)
