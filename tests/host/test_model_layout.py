"""One model-layout module (verdant.engine.layout) for the Python parser, the exporter's
writer and the test builder; the C parser's copy (device/native/nn_model.h) must agree."""
import os
import re
import struct

from verdant.engine import layout
from verdant_host import model_builder, paths

NN_MODEL_H = os.path.join(paths.DEVICE_DIR, "native", "nn_model.h")


def _c_header():
    with open(NN_MODEL_H) as f:
        text = f.read()
    defines = {name: int(value) for name, value in re.findall(r"#define NN_(\w+) (\d+)u", text)}
    ops = {name: int(value) for name, value in re.findall(r"NN_OP_(\w+) = (\d+)", text)}
    return defines, ops


def test_the_c_header_agrees_with_the_layout_module():
    defines, ops = _c_header()
    assert defines["FORMAT_VERSION"] == layout.FORMAT_VERSION
    assert defines["HEADER_BYTES"] == layout.HEADER_BYTES
    assert defines["LAYER_BYTES"] == layout.LAYER_RECORD_BYTES
    assert defines["MAX_LAYERS"] == layout.MAX_LAYERS
    assert defines["LOGISTIC_TABLE_BYTES"] == layout.LOGISTIC_TABLE_BYTES
    assert ops == {name: code for code, name in layout.OP_NAMES.items()}


def test_struct_strings_fill_the_records_exactly():
    assert struct.calcsize(layout.HEADER_FORMAT) == layout.HEADER_BYTES
    assert struct.calcsize(layout.LAYER_FORMAT) == layout.LAYER_RECORD_BYTES
    for name, code in layout.OP_NAMES.items():
        assert getattr(layout, "OP_" + code) == name


def test_builder_layout():
    buf = model_builder.tiny_fc()
    assert buf[:4] == layout.MAGIC
    assert struct.unpack_from("<I", buf, 8)[0] == len(buf) and len(buf) % 4 == 0
    crc = struct.unpack_from("<I", buf, layout.CRC_OFFSET)[0]
    assert crc == __import__("zlib").crc32(buf[layout.CRC_START:])
    # weights, bias, multipliers, shifts follow the table, 4-aligned
    for field in (32, 36, 40, 44):
        off = struct.unpack_from("<I", buf, 64 + field)[0]
        assert off >= 128 and off % 4 == 0
    assert struct.unpack_from("<I", buf, 32)[0] == 8  # 2 buffers of max(3, 2) rounded to 4


def test_arena_rule():
    assert layout.arena_bytes(3, 0) == 8
    assert layout.arena_bytes(24 * 16, 1) == 256 + 2 * 384
