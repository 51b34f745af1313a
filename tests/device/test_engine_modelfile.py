# Model file parser under MicroPython: a valid file parses to the right fields and
# typed views; each documented check fails with its own message; random mutations
# (CRC recomputed so they reach the structural checks) only ever raise ModelError.
import struct

from engine_models import build, fc_model, fix_crc, layer
from mpytest import raises
from verdant.crc32 import crc32_fallback
from verdant.engine.modelfile import ModelError, crc32, parse

L0 = 64  # first layer record


def _mutated(fmt, offset, value, buf=None, crc=True):
    out = bytearray(buf if buf is not None else fc_model())
    struct.pack_into(fmt, out, offset, value)
    return fix_crc(out) if crc else out


def _fails(buf, text):
    with raises(ModelError, text):
        parse(bytes(buf))


def test_valid_file_fields_and_views():
    buf = fc_model(in_c=4, out_c=3)
    model = parse(buf)
    assert model.version == 1 and model.layer_count == 1
    assert model.input_elements == 4 and model.output_elements == 3
    assert model.labels == ["a", "b", "c"] and model.meta["window"] == 12
    fc = model.layers[0]
    assert (fc.op, fc.zp_in, fc.zp_out, fc.in_size, fc.out_c) == (1, -3, 5, 4, 3)
    expected = [((i * 37 + 11) % 255) for i in range(12)]
    assert [fc.weights[i] for i in range(12)] == [v - 256 if v > 127 else v for v in expected]
    assert [fc.bias[i] for i in range(3)] == [-100, 0, 100]
    assert [fc.shifts[i] for i in range(3)] == [-7, -8, -9]
    assert fc.multipliers[2] == (1 << 30) + 24690


def test_weights_are_views_not_copies():
    buf = bytearray(fc_model())
    model = parse(buf)
    offset = model.layers[0].weights_offset
    buf[offset] = 0x80  # change the buffer after parsing: the view must see it
    assert model.layers[0].weights[0] == -128


def test_crc32_fallback_matches_binascii():
    data = bytes(range(256)) * 3
    assert crc32_fallback(data) == crc32(data)
    assert crc32_fallback(b"123456789") == 0xCBF43926  # the standard CRC-32 check value


def test_truncated_header():
    _fails(fc_model()[:63], "truncated header: 63 bytes")
    _fails(b"", "truncated header: 0 bytes")


def test_bad_magic():
    buf = bytearray(fc_model())
    buf[0:4] = b"VRDX"
    _fails(buf, "bad magic")


def test_unsupported_version():
    _fails(_mutated("<H", 4, 2), "unsupported format version 2")


def test_header_bytes():
    _fails(_mutated("<H", 6, 60), "header bytes 60")


def test_file_bytes_vs_buffer_length():
    buf = fc_model()
    _fails(buf[:-4], "file bytes field says %d but the buffer holds %d" % (len(buf), len(buf) - 4))
    _fails(bytes(buf) + b"\0\0\0\0", "buffer holds %d" % (len(buf) + 4))


def test_crc_mismatch():
    buf = bytearray(fc_model())
    buf[-1] ^= 0x01
    _fails(buf, "CRC mismatch")


def test_layer_count():
    _fails(_mutated("<H", 16, 0), "layer count 0")
    _fails(_mutated("<H", 16, 33), "layer count 33")


def test_layer_record_bytes():
    _fails(_mutated("<H", 18, 32), "layer record bytes 32")


def test_layer_table_out_of_bounds():
    _fails(_mutated("<H", 16, 32), "layer table out of bounds")
    _fails(_mutated("<I", 20, 68), "layer table out of bounds")


def test_metadata_out_of_bounds():
    buf = fc_model()
    _fails(_mutated("<I", 28, len(buf)), "metadata out of bounds")
    _fails(_mutated("<I", 24, 0), "metadata out of bounds")  # overlaps the header


def test_unknown_op():
    _fails(_mutated("<B", L0, 9), "layer 0 (op 9): unknown op code 9")


def test_reserved_fields():
    for offset, fmt in ((1, "<B"), (6, "<H"), (60, "<I")):
        _fails(_mutated(fmt, L0 + offset, 1), "layer 0 (FULLY_CONNECTED): reserved field is 1")
    _fails(_mutated("<I", 60, 7), "reserved header field")


def test_zero_shape():
    _fails(_mutated("<H", L0 + 12, 0), "zero in shape 1x1x0")


def test_activation_min_above_max():
    _fails(_mutated("<b", L0 + 4, 10, _mutated("<b", L0 + 5, 9)), "activation min 10 > max 9")


def _two_fc(second_in=3, second_in_shape=None):
    w = bytes(12)
    first = layer(1, (1, 1, 4), (1, 1, 3), weights=w, multipliers=[1 << 30], shifts=[-1])
    second = layer(2, second_in_shape or (1, 1, second_in), (1, 1, 2), weights=bytes(2 * second_in),
                   kernel=(1, 1), stride=(1, 1), dilation=(1, 1), multipliers=[1 << 30], shifts=[-1])
    return build([first, second])


def test_shape_chain():
    _fails(_two_fc(second_in=5), "layer 1 (CONV_2D): input 1x1x5 does not match layer 0 output 1x1x3")


def test_fc_accepts_any_shape_with_same_element_count():
    conv = layer(2, (2, 3, 1), (2, 3, 1), weights=bytes(1), kernel=(1, 1), stride=(1, 1), dilation=(1, 1),
                 multipliers=[1 << 30], shifts=[0])
    fc = layer(1, (1, 1, 6), (1, 1, 2), weights=bytes(12), multipliers=[1 << 30], shifts=[0])
    assert parse(build([conv, fc])).layers[1].in_size == 6


def test_output_shape_consistent_with_op():
    _fails(_mutated("<H", L0 + 14, 2), "output must be 1x1xC")
    # conv 5x5, kernel 3, stride 1: VALID gives 3, SAME gives 5 (pad 1); 4 is neither
    conv = layer(2, (5, 5, 1), (4, 5, 1), weights=bytes(9), kernel=(3, 3), stride=(1, 1), dilation=(1, 1),
                 pad=(0, 1), multipliers=[1 << 30], shifts=[0])
    _fails(build([conv]), "output h 4 with pad top 0 is neither VALID nor SAME")
    conv["out_shape"], conv["pad"] = (5, 5, 1), (0, 1)  # SAME size but pad top 0 instead of 1
    _fails(build([conv]), "output h 5 with pad top 0")
    conv["pad"] = (1, 1)
    assert parse(build([conv])).layers[0].pad_top == 1
    dw = layer(3, (3, 3, 2), (3, 3, 5), weights=bytes(5), kernel=(1, 1), stride=(1, 1), dilation=(1, 1),
               depth_multiplier=2, multipliers=[1 << 30], shifts=[0])
    _fails(build([dw]), "output channels 5 != input channels 2 x depth multiplier 2")
    pool = layer(4, (4, 4, 2), (2, 2, 2), in_zp=1, out_zp=2, kernel=(2, 2), stride=(2, 2), dilation=(1, 1))
    _fails(build([pool]), "input zero point 1 differs from output zero point 2")
    logistic = layer(6, (1, 1, 4), (1, 1, 4), out_zp=0, params=(1 << 30, 3, 100))
    _fails(build([logistic]), "output zero point 0, must be -128")


def test_quantization_channels():
    _fails(_mutated("<H", L0 + 30, 2), "quantization channels 2, expected 1 or 3")
    pool = layer(4, (4, 4, 2), (2, 2, 2), kernel=(2, 2), stride=(2, 2), dilation=(1, 1),
                 multipliers=[1 << 30], shifts=[0])
    _fails(build([pool]), "quantization channels 1, expected 0")


def _fc_with(multiplier, shift, op_mean=False):
    if op_mean:
        spec = layer(5, (2, 2, 3), (1, 1, 3), multipliers=[multiplier], shifts=[shift])
    else:
        spec = layer(1, (1, 1, 2), (1, 1, 1), weights=bytes(2), multipliers=[multiplier], shifts=[shift])
    return build([spec])


def test_multiplier_range():
    assert parse(_fc_with(0, 0)).layers[0].multipliers[0] == 0
    assert parse(_fc_with((1 << 31) - 1, 0)).layers[0].multipliers[0] == (1 << 31) - 1
    _fails(_fc_with((1 << 30) - 1, 0), "multiplier 1073741823 of channel 0")
    _fails(_fc_with(-5, 0), "multiplier -5 of channel 0")
    assert parse(_fc_with(12345, -3, op_mean=True)).layers[0].multipliers[0] == 12345  # MEAN: [0, 2^31-1]
    _fails(_fc_with(-1, 0, op_mean=True), "multiplier -1 of channel 0")


def test_shift_range():
    assert parse(_fc_with(1 << 30, -31)).layers[0].shifts[0] == -31
    assert parse(_fc_with(1 << 30, 30)).layers[0].shifts[0] == 30
    _fails(_fc_with(1 << 30, 31), "shift 31 of channel 0 outside [-31, 30]")
    _fails(_fc_with(1 << 30, -32), "shift -32 of channel 0")


def test_array_offsets():
    model = parse(fc_model())
    fc = model.layers[0]
    size = len(fc_model())
    _fails(_mutated("<I", L0 + 32, fc.weights_offset + 1), "weights offset %d not 4-aligned" % (fc.weights_offset + 1))
    _fails(_mutated("<I", L0 + 36, size - 4), "bias at %d..%d out of bounds" % (size - 4, size + 8))
    _fails(_mutated("<I", L0 + 40, 60), "multipliers at 60..72 out of bounds")  # inside the header
    _fails(_mutated("<I", L0 + 44, 64), "shifts at 64..76 out of bounds")        # the layer table
    _fails(_mutated("<I", L0 + 32, 0), "weights offset is 0 but the op needs weights")
    _fails(_mutated("<I", L0 + 40, 0), "multipliers offset is 0")


def test_header_input_output_elements():
    _fails(_mutated("<I", 52, 5), "header input elements 5, first layer takes 4")
    _fails(_mutated("<I", 56, 2), "header output elements 2, last layer gives 3")


def test_arena_bytes():
    _fails(_mutated("<I", 32, 12), "arena bytes 12, the layers need 8")


def test_metadata_must_be_json_object():
    spec = layer(1, (1, 1, 2), (1, 1, 1), weights=bytes(2), multipliers=[1 << 30], shifts=[0])
    _fails(build([spec], meta=b"{not json"), "metadata is not valid UTF-8 JSON")
    _fails(build([spec], meta=b"[1, 2]"), "metadata must be a JSON object")
    assert parse(build([spec], meta=b"")).meta == {}


def test_not_a_buffer():
    with raises(ModelError, "expected a bytes-like buffer"):
        parse(12)


def _lcg(state):
    return (state * 1103515245 + 12345) & 0x7FFFFFFF


def test_random_mutations_only_raise_model_error():
    conv = layer(2, (4, 5, 2), (4, 5, 3), weights=bytes(range(54)), kernel=(3, 3), stride=(1, 1),
                 dilation=(1, 1), pad=(1, 1), bias=[1, 2, 3], multipliers=[1 << 30] * 3, shifts=[-2] * 3)
    pool = layer(4, (4, 5, 3), (2, 3, 3), kernel=(2, 2), stride=(2, 2), dilation=(1, 1), pad=(0, 0))
    fc = layer(1, (1, 1, 18), (1, 1, 4), weights=bytes(72), multipliers=[1 << 30] * 4, shifts=[-3] * 4)
    soft = layer(7, (1, 1, 4), (1, 1, 4), out_zp=-128, params=(1 << 30, 27, -15))
    original = build([conv, pool, fc, soft], meta=b'{"labels": ["w", "x", "y", "z"]}')
    parse(bytes(original))
    state = 20241122
    outcomes = {"ok": 0, "error": 0}
    for _ in range(1500):
        buf = bytearray(original)
        state = _lcg(state)
        for _ in range(1 + state % 4):
            state = _lcg(state)
            position = 4 + state % (len(buf) - 4)
            state = _lcg(state)
            buf[position] = state & 0xFF if state & 0x100 else buf[position] ^ (1 << (state % 8))
        state = _lcg(state)
        if state % 10 == 0:
            buf = buf[:state % len(buf)]
        elif state % 10 != 1:
            fix_crc(buf)
        try:
            parse(bytes(buf))
            outcomes["ok"] += 1
        except ModelError:
            outcomes["error"] += 1
    assert outcomes["error"] > 500 and outcomes["ok"] > 0, outcomes


def test_views_without_uctypes_read_the_same_values():
    # ports built without uctypes fall back to struct-based views
    from verdant.engine import modelfile
    from verdant.engine.ops_python import PythonLayers
    import array
    buf = fc_model()
    typed = parse(buf).layers[0]
    saved = modelfile.uctypes
    modelfile.uctypes = None
    try:
        plain = parse(buf).layers[0]
    finally:
        modelfile.uctypes = saved
    assert type(plain.weights).__name__ == "UnpackView"
    assert [plain.weights[i] for i in range(12)] == [typed.weights[i] for i in range(12)]
    assert [plain.bias[i] for i in range(3)] == [typed.bias[i] for i in range(3)]
    assert [plain.multipliers[i] for i in range(3)] == [typed.multipliers[i] for i in range(3)]
    with raises(IndexError, "out of range"):
        plain.weights[12]
    model = parse(buf)
    model.layers[0] = plain
    src = array.array("b", [1, -2, 3, -4])
    out_typed = PythonLayers(parse(buf)).run(array.array("b", src), array.array("b", bytes(4)))
    out_plain = PythonLayers(model).run(array.array("b", src), array.array("b", bytes(4)))
    assert list(out_typed[:3]) == list(out_plain[:3])
