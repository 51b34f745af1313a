"""Every check of the C model parser, with its exact message (host build, ASan + UBSan)."""
import os
import struct
import sys
import zlib

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import c_backends  # noqa: E402
from verdant_host import model_builder as builder  # noqa: E402

layer = builder.layer
L0, L1 = 64, 128  # layer record offsets


def conv_fc_layers():
    conv = layer("conv", (1, 8, 2), (1, 8, 3), in_zp=-3, out_zp=-128, act=(-128, 127), kernel=(1, 3),
                 stride=(1, 1), dilation=(1, 1), pad=(0, 1), weights=list(range(-9, 9)), bias=[1, 2, 3],
                 multipliers=[1 << 30, 1 << 30, (1 << 31) - 1], shifts=[-8, -9, -10])
    fc = layer("fc", (1, 8, 3), (1, 1, 2), in_zp=-128, out_zp=0, weights=[1] * 48, bias=[0, 0],
               multipliers=[1 << 30], shifts=[-4])
    return [conv, fc]


BASE = builder.build(conv_fc_layers())


def field(buf, offset, fmt="<I"):
    return struct.unpack_from(fmt, buf, offset)[0]


def reject(buf):
    with pytest.raises(c_backends.CModelError) as info:
        c_backends.run_c_host(buf, [bytes(16)])
    return str(info.value)


def test_base_model_accepted():
    out = c_backends.run_c_host(BASE, [bytes(16)])
    assert len(out) == 1 and len(out[0]) == 2


def test_truncated_header():
    assert reject(BASE[:63]) == "model: truncated header: found 63, expected 64"
    assert reject(b"") == "model: truncated header: found 0, expected 64"


def test_bad_magic():
    assert reject(builder.patch(BASE, 0, "<4s", b"VRDX")) == "model: bad magic (expected VRDT)"


def test_version_and_header_bytes():
    assert reject(builder.patch(BASE, 4, "<H", 2)) == "model: unsupported format version: found 2, expected 1"
    assert reject(builder.patch(BASE, 6, "<H", 60)) == "model: header bytes must be 64: found 60, expected 64"


def test_file_bytes_vs_buffer_length():
    n = len(BASE)
    assert reject(BASE + b"\0") == "model: file bytes does not match the buffer length: found %d, expected %d" % (n, n + 1)


def test_crc_mismatch():
    bad = builder.patch(BASE, len(BASE) - 2, "<B", ord("x"), crc=False)  # inside the metadata
    assert reject(bad) == "model: CRC mismatch: found %d, expected %d" % (zlib.crc32(bad[16:]), field(BASE, 12))


@pytest.mark.parametrize("count", [0, 33])
def test_layer_count(count):
    assert reject(builder.patch(BASE, 16, "<H", count)) == "model: layer count must be 1..32: found %d" % count


def test_layer_record_bytes():
    assert reject(builder.patch(BASE, 18, "<H", 48)) == "model: layer record bytes must be 64: found 48, expected 64"


def test_layer_table_out_of_bounds():
    assert reject(builder.patch(BASE, 20, "<I", 128)) == "model: layer table out of bounds"
    small = builder.build([conv_fc_layers()[1]], meta=b"")
    # 31 layers claimed: the table would end far past the file.
    assert reject(builder.patch(small, 16, "<H", 31)) == "model: layer table out of bounds"


def test_metadata_out_of_bounds():
    assert reject(builder.patch(BASE, 28, "<I", field(BASE, 28) + 1)) == "model: metadata out of bounds"
    assert reject(builder.patch(BASE, 24, "<I", 100)) == "model: metadata out of bounds"  # inside the layer table


@pytest.mark.parametrize("op", [0, 8, 255])
def test_unknown_op(op):
    assert reject(builder.patch(BASE, L1, "<B", op)) == "model: unknown op (layer 1): found %d" % op


@pytest.mark.parametrize("offset,fmt", [(1, "<B"), (6, "<H"), (60, "<I")])
def test_reserved_fields(offset, fmt):
    assert reject(builder.patch(BASE, L0 + offset, fmt, 1)) == "model: reserved field not zero (layer 0)"


@pytest.mark.parametrize("offset", [8, 10, 12, 14, 16, 18])
def test_zero_shape(offset):
    assert reject(builder.patch(BASE, L1 + offset, "<H", 0)) == "model: zero in a shape (layer 1)"


def test_activation_range():
    assert reject(builder.patch(BASE, L0 + 4, "<bb", 5, 4)) == "model: activation min > max (layer 0)"
    assert c_backends.run_c_host(builder.patch(BASE, L0 + 4, "<bb", 4, 4), [bytes(16)])  # equal is fine


def test_shape_chain():
    msg = "model: input shape does not match the previous layer's output (layer 1)"
    assert reject(builder.patch(BASE, L1 + 12, "<H", 4)) == msg  # FC: 32 elements != 24
    # FC accepts any shape with the same element count.
    assert c_backends.run_c_host(builder.patch(BASE, L1 + 8, "<3H", 2, 4, 3), [bytes(16)])
    pool = layer("maxpool", (1, 8, 3), (1, 4, 3), in_zp=-128, out_zp=-128, kernel=(1, 2), stride=(1, 2),
                 dilation=(1, 1))
    chain = builder.build([conv_fc_layers()[0], pool])
    assert reject(builder.patch(chain, L1 + 8, "<3H", 2, 4, 3)) == msg  # other ops need the same shape


WINDOW = "model: kernel, stride, dilation, depth multiplier or zero points invalid for the op (layer %d)"
OP_PARAMS = "model: LOGISTIC/SOFTMAX parameters out of range, or p0..p2 set for another op (layer %d)"


@pytest.mark.parametrize("offset,fmt,value", [
    (22, "<B", 0),            # conv stride 0
    (20, "<B", 0),            # conv kernel 0
    (24, "<B", 0),            # conv dilation 0
    (28, "<H", 1),            # depth multiplier on conv
])
def test_window_params(offset, fmt, value):
    assert reject(builder.patch(BASE, L0 + offset, fmt, value)) == WINDOW % 0


def test_window_params_logistic_softmax_pool():
    sig = builder.build([layer("logistic", (1, 1, 4), (1, 1, 4), out_zp=-128, params=(1 << 30, 3, 100))])
    assert reject(builder.patch(sig, L0 + 3, "<b", 0)) == WINDOW % 0  # output zp must be -128
    pool = builder.build([layer("maxpool", (1, 8, 3), (1, 4, 3), in_zp=5, out_zp=5, kernel=(1, 2), stride=(1, 2),
                                dilation=(1, 1))])
    assert reject(builder.patch(pool, L0 + 3, "<b", 6)) == WINDOW % 0  # zero points differ
    assert reject(builder.patch(pool, L0 + 24, "<B", 2)) == WINDOW % 0  # pooling has no dilation
    dw = builder.build([layer("dwconv", (1, 8, 2), (1, 8, 4), kernel=(1, 3), stride=(1, 1), dilation=(1, 1),
                              pad=(0, 1), depth_multiplier=2, weights=[1] * 12, multipliers=[1 << 30], shifts=[0])])
    assert c_backends.run_c_host(dw, [bytes(16)])
    assert reject(builder.patch(dw, L0 + 28, "<H", 0)) == WINDOW % 0  # depthwise needs a multiplier


def test_op_params():
    assert reject(builder.patch(BASE, L1 + 48, "<i", 7)) == OP_PARAMS % 1  # p0 on FC
    sig = builder.build([layer("logistic", (1, 1, 4), (1, 1, 4), out_zp=-128, params=(1 << 30, 3, 100))])
    assert reject(builder.patch(sig, L0 + 52, "<i", 31)) == OP_PARAMS % 0  # left shift > 30
    assert reject(builder.patch(sig, L0 + 56, "<i", -1)) == OP_PARAMS % 0  # negative radius
    soft = builder.build([layer("softmax", (1, 1, 4), (1, 1, 4), out_zp=-128, params=(1 << 30, 3, -100))])
    assert reject(builder.patch(soft, L0 + 56, "<i", 1)) == OP_PARAMS % 0  # diff_min > 0
    assert reject(builder.patch(soft, L0 + 52, "<i", -1)) == OP_PARAMS % 0  # negative left shift
    assert reject(builder.patch(soft, L0 + 48, "<i", -5)) == OP_PARAMS % 0  # negative multiplier


def test_header_reserved_scales_zero_points():
    assert reject(builder.patch(BASE, 60, "<I", 1)) == "model: reserved header field not zero"
    for offset in (36, 44):
        for scale in (0.0, -1.0, float("inf"), float("nan")):
            assert reject(builder.patch(BASE, offset, "<f", scale)) == "model: input or output scale not finite and > 0"
    assert reject(builder.patch(BASE, 40, "<i", 128)) == "model: input or output zero point outside -128..127: found 128"
    assert reject(builder.patch(BASE, 48, "<i", -129)) == "model: input or output zero point outside -128..127: found -129"


def test_header_zero_points_match_layers():
    assert reject(builder.patch(BASE, 40, "<i", 4)) == "model: header input zero point differs from the first layer's"
    assert reject(builder.patch(BASE, 48, "<i", 4)) == "model: header output zero point differs from the last layer's"


OUTPUT_SHAPE = "model: output shape inconsistent with op parameters (layer %d)"


def test_output_shape():
    assert reject(builder.patch(BASE, L0 + 16, "<H", 7)) == OUTPUT_SHAPE % 0  # SAME needs 8 wide
    assert reject(builder.patch(BASE, L0 + 27, "<B", 0)) == OUTPUT_SHAPE % 0  # SAME k=3 pads 1, not 0
    valid = builder.patch(builder.patch(BASE, L0 + 16, "<H", 6), L0 + 27, "<B", 0)  # VALID: 6 wide, pad 0
    assert reject(valid) == "model: input shape does not match the previous layer's output (layer 1)"
    assert reject(builder.patch(BASE, L1 + 14, "<H", 2)) == OUTPUT_SHAPE % 1  # FC output is 1x1xC
    soft = builder.build([layer("softmax", (1, 1, 4), (1, 1, 4), out_zp=-128, params=(1 << 30, 3, -100))])
    assert reject(builder.patch(soft, L0 + 18, "<H", 5)) == OUTPUT_SHAPE % 0


def test_quantization_channels():
    assert reject(builder.patch(BASE, L0 + 30, "<H", 2)) == "model: quantization channels invalid (layer 0): found 2"
    assert reject(builder.patch(BASE, L1 + 30, "<H", 0)) == "model: quantization channels invalid (layer 1): found 0"


WEIGHTS = "model: weights array misaligned, out of bounds or wrongly present/absent (layer %d)"
BIAS = "model: bias array misaligned, out of bounds or wrongly present (layer %d)"
MULTS = "model: multipliers array misaligned, out of bounds or wrongly present/absent (layer %d)"
SHIFTS = "model: shifts array misaligned, out of bounds or wrongly present/absent (layer %d)"


def test_arrays():
    w = field(BASE, L0 + 32)
    assert reject(builder.patch(BASE, L0 + 32, "<I", w + 1)) == WEIGHTS % 0
    assert reject(builder.patch(BASE, L0 + 32, "<I", 0)) == WEIGHTS % 0
    assert reject(builder.patch(BASE, L0 + 32, "<I", 128)) == WEIGHTS % 0  # overlaps the layer table
    assert reject(builder.patch(BASE, L1 + 32, "<I", (len(BASE) - 40) & ~3)) == WEIGHTS % 1  # runs past the end
    assert reject(builder.patch(BASE, L1 + 36, "<I", len(BASE))) == BIAS % 1
    assert reject(builder.patch(BASE, L0 + 40, "<I", 0)) == MULTS % 0
    assert reject(builder.patch(BASE, L0 + 44, "<I", field(BASE, L0 + 44) + 2)) == SHIFTS % 0
    pool = builder.build([layer("maxpool", (1, 8, 3), (1, 4, 3), kernel=(1, 2), stride=(1, 2), dilation=(1, 1))])
    assert reject(builder.patch(pool, L0 + 32, "<I", 128)) == WEIGHTS % 0  # no weights for pooling
    assert reject(builder.patch(pool, L0 + 44, "<I", 128)) == SHIFTS % 0


def test_missing_bias_is_fine():
    assert c_backends.run_c_host(builder.patch(BASE, L0 + 36, "<I", 0), [bytes(16)])


@pytest.mark.parametrize("value,shown", [(5, "5"), (-1, "-1"), ((1 << 30) - 1, "1073741823"), (-(1 << 31), "-2147483648")])
def test_multiplier_range(value, shown):
    at = field(BASE, L0 + 40) + 8  # third channel
    assert reject(builder.patch(BASE, at, "<i", value)) == "model: multiplier out of range (layer 0): found " + shown
    assert c_backends.run_c_host(builder.patch(BASE, at, "<i", 0), [bytes(16)])  # zero is allowed


def test_mean_multiplier_may_be_small():
    mean = layer("mean", (2, 3, 4), (1, 1, 4), multipliers=[5], shifts=[0])
    assert c_backends.run_c_host(builder.build([mean]), [bytes(24)])
    assert reject(builder.build([dict(mean, multipliers=[-5])])) == "model: multiplier out of range (layer 0): found -5"


@pytest.mark.parametrize("value", [31, -32, 1000])
def test_shift_range(value):
    at = field(BASE, L1 + 44)
    assert reject(builder.patch(BASE, at, "<i", value)) == "model: shift out of range (layer 1): found %d" % value
    assert c_backends.run_c_host(builder.patch(BASE, at, "<i", -31), [bytes(16)])
    assert c_backends.run_c_host(builder.patch(BASE, at, "<i", 30), [bytes(16)])


def test_header_elements_and_arena():
    assert (reject(builder.patch(BASE, 52, "<I", 17))
            == "model: header input elements do not match the first layer: found 17, expected 16")
    assert (reject(builder.patch(BASE, 56, "<I", 1))
            == "model: header output elements do not match the last layer: found 1, expected 2")
    arena = field(BASE, 32)
    assert arena == 2 * 24  # largest activation: the conv output, 1*8*3 = 24 bytes
    assert (reject(builder.patch(BASE, 32, "<I", arena + 4))
            == "model: arena bytes do not match the model: found %d, expected %d" % (arena + 4, arena))


def test_arena_counts_logistic_tables():
    sig = layer("logistic", (1, 1, 5), (1, 1, 5), out_zp=-128, params=(1 << 30, 3, 100))
    model = builder.build([sig, dict(sig)])
    assert field(model, 32) == 2 * 256 + 2 * 8
    assert c_backends.run_c_host(model, [bytes(5)])


def test_truncated_files_never_read_out_of_bounds():
    # Cut the file at many points and make the header agree, so the parser goes deep: the
    # ASan/UBSan build must reject each cleanly (exit status 2), never crash.
    for cut in range(64, len(BASE), 7):
        short = builder.patch(BASE[:cut], 8, "<I", cut)
        with pytest.raises(c_backends.CModelError):
            c_backends.run_c_host(short, [bytes(16)])


def _python_parser_accepts(buf):
    from verdant.engine import modelfile
    try:
        modelfile.parse(buf)
    except modelfile.ModelError as exc:
        # Only the Python parser decodes the metadata JSON (the C one bounds-checks it).
        return "json" if "metadata" in str(exc) and "JSON" in str(exc) else False
    return True


def _c_parser_accepts(buf):
    try:
        c_backends.run_c_host(buf, [bytes(16)])
    except c_backends.CModelError:
        return False
    except RuntimeError as exc:  # the runner refused the input size: the model itself was accepted
        assert "not a multiple" in str(exc), exc
    return True


def test_same_verdict_as_the_python_parser():
    # One field of a valid model set to an edge value: both parsers must agree on accept/reject.
    pytest.importorskip("verdant.engine.modelfile")
    import random
    rng = random.Random(7)
    fields = [(o, "<H") for o in (4, 6, 16, 18)] + [(o, "<I") for o in (8, 20, 24, 28, 32, 52, 56, 60)]
    fields += [(o, "<i") for o in (40, 48)]
    for base in (L0, L1):
        fields += [(base + o, "<B") for o in range(0, 2)] + [(base + o, "<b") for o in range(2, 6)]
        fields += [(base + o, "<H") for o in range(6, 20, 2)] + [(base + o, "<B") for o in range(20, 28)]
        fields += [(base + o, "<H") for o in (28, 30)] + [(base + o, "<I") for o in range(32, 48, 4)]
        fields += [(base + o, "<i") for o in range(48, 64, 4)]
    edges = {"<B": [0, 1, 2, 3, 7, 255], "<b": [-128, -3, 0, 5, 127], "<H": [0, 1, 2, 3, 8, 65535],
             "<I": [0, 4, 64, 129, 200, 1 << 31], "<i": [-(1 << 31), -129, -1, 0, 3, 128, 1 << 30]}
    checked = 0
    for offset, fmt in fields:
        for value in rng.sample(edges[fmt], 3):
            buf = builder.patch(BASE, offset, fmt, value)
            c_ok, py_ok = _c_parser_accepts(buf), _python_parser_accepts(buf)
            if py_ok == "json":
                continue
            assert c_ok == py_ok, "offset %d = %r: C %s, Python %s" % (offset, value, c_ok, py_ok)
            checked += 1
    assert checked > 200
