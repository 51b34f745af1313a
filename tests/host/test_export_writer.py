"""model_writer: the bytes it writes, read back field by field at the offsets of
docs/model-format.md (decoded here with struct, independently of the writer)."""
import binascii
import json
import struct

import pytest

from verdant_host.model_writer import (LayerSpec, OP_FULLY_CONNECTED, OP_LOGISTIC,
                                       OP_MAX_POOL_2D, truncate_model, write_model, with_crc)


def _fc(in_c=5, out_c=3, bias=True, per_channel=True):
    q = out_c if per_channel else 1
    return LayerSpec(op=OP_FULLY_CONNECTED, in_shape=(1, 1, in_c), out_shape=(1, 1, out_c),
                     in_zp=-7, out_zp=4, act_min=-20, act_max=127,
                     weights=bytes(range(in_c * out_c)),
                     bias=[-(1 << 31), 5, (1 << 31) - 1][:out_c] if bias else None,
                     multipliers=[(1 << 30) + i for i in range(q)], shifts=[-i for i in range(q)])


def test_header_fields_at_documented_offsets():
    layers = [_fc(), LayerSpec(op=OP_LOGISTIC, in_shape=(1, 1, 3), out_shape=(1, 1, 3),
                               in_zp=4, out_zp=-128, params=(123456, 7, -9))]
    meta = {"labels": ["a", "b", "c"], "window": 12}
    buf = write_model(layers, meta, input_q=(0.5, -7), output_q=(1 / 256, -128))
    assert buf[0:4] == b"VRDT"
    assert struct.unpack_from("<HH", buf, 4) == (1, 64)
    assert struct.unpack_from("<I", buf, 8)[0] == len(buf)
    assert struct.unpack_from("<I", buf, 12)[0] == binascii.crc32(buf[16:])
    assert struct.unpack_from("<HHI", buf, 16) == (2, 64, 64)
    meta_off, meta_len = struct.unpack_from("<II", buf, 24)
    assert json.loads(buf[meta_off:meta_off + meta_len].decode()) == meta
    # one logistic table + two buffers of the largest tensor (5 elements -> 8)
    assert struct.unpack_from("<I", buf, 32)[0] == 256 + 2 * 8
    assert struct.unpack_from("<fifi", buf, 36) == (0.5, -7, 1 / 256, -128)
    assert struct.unpack_from("<III", buf, 52) == (5, 3, 0)
    assert len(buf) % 4 == 0


def test_layer_record_and_arrays_are_aligned_and_hold_the_values():
    spec = _fc()
    buf = write_model([spec])
    rec = buf[64:128]
    assert rec[0] == OP_FULLY_CONNECTED and rec[1] == 0
    assert struct.unpack_from("<bbbb", rec, 2) == (-7, 4, -20, 127)
    assert struct.unpack_from("<3H3H", rec, 8) == (1, 1, 5, 1, 1, 3)
    assert struct.unpack_from("<HH", rec, 28) == (0, 3)
    w_off, b_off, m_off, s_off = struct.unpack_from("<IIII", rec, 32)
    for off in (w_off, b_off, m_off, s_off):
        assert off % 4 == 0 and off >= 128
    assert buf[w_off:w_off + 15] == bytes(range(15))
    assert list(struct.unpack_from("<3i", buf, b_off)) == spec.bias
    assert list(struct.unpack_from("<3i", buf, m_off)) == spec.multipliers
    assert list(struct.unpack_from("<3i", buf, s_off)) == [0, -1, -2]


def test_missing_bias_and_weightless_layers_write_zero_offsets():
    pool = LayerSpec(op=OP_MAX_POOL_2D, in_shape=(1, 1, 3), out_shape=(1, 1, 3),
                     kernel=(1, 1), stride=(1, 1))
    buf = write_model([_fc(bias=False, per_channel=False), pool])
    assert struct.unpack_from("<I", buf, 64 + 36)[0] == 0
    assert struct.unpack_from("<H", buf, 64 + 30)[0] == 1
    assert struct.unpack_from("<HIIII", buf, 128 + 30) == (0, 0, 0, 0, 0)


def test_with_crc_repairs_a_mutated_file():
    buf = bytearray(write_model([_fc()]))
    buf[64 + 1] = 9
    assert struct.unpack_from("<I", buf, 12)[0] != binascii.crc32(bytes(buf[16:]))
    fixed = with_crc(buf)
    assert struct.unpack_from("<I", fixed, 12)[0] == binascii.crc32(fixed[16:])


@pytest.mark.parametrize("change, message", [
    (dict(weights=bytes(14)), "layer 0 (FULLY_CONNECTED): 14 weight bytes, expected 15"),
    (dict(bias=[1, 2]), "layer 0 (FULLY_CONNECTED): 2 bias values, expected 3"),
    (dict(shifts=[0]), "layer 0 (FULLY_CONNECTED): 3 multipliers but 1 shifts"),
    (dict(op=99), "layer 0 (op 99): unknown op code"),
])
def test_inconsistent_layer_is_refused(change, message):
    spec = _fc()
    for key, value in change.items():
        setattr(spec, key, value)
    with pytest.raises(ValueError) as err:
        write_model([spec])
    assert str(err.value) == message


def test_layer_count_limits():
    with pytest.raises(ValueError, match="a model has 1..32 layers, got 0"):
        write_model([])


def test_truncate_model_keeps_the_first_layers_and_fixes_the_header():
    pool = LayerSpec(op=OP_MAX_POOL_2D, in_shape=(1, 1, 3), out_shape=(1, 1, 3),
                     kernel=(1, 1), stride=(1, 1), in_zp=4, out_zp=4)
    logistic = LayerSpec(op=OP_LOGISTIC, in_shape=(1, 1, 3), out_shape=(1, 1, 3),
                         in_zp=4, out_zp=-128, params=(1, 2, 3))
    full = write_model([_fc(in_c=9), pool, logistic])
    assert struct.unpack_from("<I", full, 32)[0] == 256 + 2 * 12
    cut = truncate_model(full, 2)
    assert struct.unpack_from("<H", cut, 16)[0] == 2
    assert struct.unpack_from("<I", cut, 32)[0] == 2 * 12      # no logistic table any more
    assert struct.unpack_from("<i", cut, 48)[0] == 4           # pool's output zero point
    assert struct.unpack_from("<I", cut, 56)[0] == 3
    assert struct.unpack_from("<I", cut, 12)[0] == binascii.crc32(cut[16:])
    assert cut[64:192] == full[64:192]
    with pytest.raises(ValueError, match="cannot keep 4 of 3 layers"):
        truncate_model(full, 4)
