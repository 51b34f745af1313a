# Serial protocol: exact bytes, checksum, tolerant decode of damaged lines.
from verdant import protocol
from verdant.crc32 import crc32, crc32_fallback
from mpytest import raises


def test_crc32_check_value_both_implementations():
    assert crc32(b"123456789") == 0xCBF43926
    assert crc32_fallback(b"123456789") == 0xCBF43926
    assert crc32(b"") == 0


def test_status_line_exact_bytes():
    enc = protocol.Encoder(seq=7)
    line = enc.encode(1700000123, "status", {"state": "boot", "boot_count": 2, "safe_mode": False})
    body = '{"v":1,"seq":7,"t":1700000123,"k":"status","p":{"boot_count":2,"safe_mode":false,"state":"boot"}}'
    expected = body[:-1] + ',"crc":"%08x"}\n' % crc32_fallback(body.encode())
    assert line == expected.encode()
    assert enc.seq == 8


def test_floats_nan_and_strings_are_canonical():
    text = protocol.dumps({"b": [1.25, 2.0, -0.0001, float("nan"), 1e-9], "a": 'q"\\\n\u00e9', "c": None})
    assert text == '{"a":"q\\"\\\\\\u000a\\u00e9","b":[1.25,2,0,null,0],"c":null}'


def test_decode_roundtrip_every_kind():
    enc = protocol.Encoder()
    for kind in protocol.KINDS:
        line = enc.encode(5, kind, {"x": 1.5, "name": kind})
        message, why = protocol.decode(line)
        assert why is None, why
        assert message["k"] == kind and message["p"]["x"] == 1.5 and message["t"] == 5


def test_decode_rejects_damaged_lines_with_reasons():
    line = protocol.Encoder().encode(9, "reading", {"air_temp_c": 21.5})
    assert protocol.decode(b"")[1] == "empty line"
    assert "not a protocol line" in protocol.decode(b"ets Jun  8 2016 rst:0x1")[1]
    assert "checksum" in protocol.decode(line[:-12])[1]
    flipped = line.replace(b"21.5", b"21.6")
    assert "checksum mismatch" in protocol.decode(flipped)[1]
    badhex = line[:-4] + b'X"}\n'
    assert protocol.decode(badhex)[0] is None
    assert protocol.decode(b"\xff\xfe{")[1] == "not UTF-8 text"


def test_every_truncation_is_refused():
    line = protocol.Encoder().encode(9, "alert", {"type": "frost_risk", "event": "raise"})
    for n in range(len(line) - 1):  # the last byte is the newline
        message, why = protocol.decode(line[:n])
        assert message is None and why, n


def test_every_single_byte_corruption_is_refused():
    line = protocol.Encoder().encode(3, "status", {"state": "ok"})
    text = line.rstrip(b"\n")
    for i in range(len(text)):
        damaged = bytearray(text)
        damaged[i] = damaged[i] ^ 0x01
        assert protocol.decode(bytes(damaged))[0] is None, i


def test_leading_noise_and_crlf_tolerated():
    line = protocol.Encoder().encode(3, "status", {"state": "ok"})
    message, why = protocol.decode(b"\x00garbage" + line.rstrip(b"\n") + b"\r\n")
    assert why is None and message["p"]["state"] == "ok"


def test_valid_checksum_but_wrong_fields_is_refused():
    body = '{"v":2,"seq":1,"t":1,"k":"status","p":{}}'
    line = body[:-1] + ',"crc":"%08x"}' % crc32(body.encode())
    assert "version 2" in protocol.decode(line)[1]
    body = '{"v":1,"seq":1,"t":1,"k":"chat","p":{}}'
    line = body[:-1] + ',"crc":"%08x"}' % crc32(body.encode())
    assert "unknown kind" in protocol.decode(line)[1]
    body = '{"v":1,"t":1,"k":"status","p":{}}'
    line = body[:-1] + ',"crc":"%08x"}' % crc32(body.encode())
    assert "missing field 'seq'" in protocol.decode(line)[1]


def test_encode_refuses_unknown_kind_and_unencodable_values():
    with raises(ValueError, "unknown kind 'log'"):
        protocol.encode_line(0, 0, "log", {})
    with raises(TypeError, "cannot encode"):
        protocol.dumps({"a": object()})


def test_every_example_line_in_the_docs_decodes():
    try:
        with open("../../docs/firmware.md") as f:
            text = f.read()
    except OSError:
        from mpytest import skip
        skip("docs/firmware.md not found")
    lines = [line for line in text.split("\n") if line.startswith('{"v":1,')]
    kinds = set()
    for line in lines:
        message, why = protocol.decode(line)
        assert why is None, (why, line)
        kinds.add(message["k"])
        # re-encoding the payload gives the same bytes (canonical form)
        again = protocol.encode_line(message["seq"], message["t"], message["k"], message["p"])
        assert again.rstrip("\n") == line, line
    assert kinds == set(protocol.KINDS)


class _Lcg:
    def __init__(self, seed):
        self.x = seed

    def below(self, n):
        self.x = (1103515245 * self.x + 12345) & 0x7FFFFFFF
        return self.x % n


def test_decode_never_raises_on_random_garbage_and_mutations():
    rng = _Lcg(11)
    good = protocol.Encoder().encode(1767225600, "alert", {"type": "dry_soil", "values": {"soil_moisture_pct": 12.5}})
    accepted = 0
    for _ in range(1500):
        if rng.below(2):
            line = bytes(rng.below(256) for _ in range(rng.below(120)))
        else:
            line = bytearray(good)
            for _ in range(1 + rng.below(4)):
                op = rng.below(3)
                i = rng.below(len(line))
                if op == 0:
                    line[i] = rng.below(256)
                elif op == 1:
                    line = line[:i] + line[i + 1:]
                else:
                    line = line[:i] + bytes((rng.below(256),)) + line[i:]
            line = bytes(line)
        message, why = protocol.decode(line)
        assert (message is None) != (why is None)
        if message is not None:
            accepted += 1
            assert message["p"]["type"] == "dry_soil"  # only harmless changes (e.g. noise before '{') pass
    assert accepted < 50


def test_random_payloads_roundtrip():
    rng = _Lcg(5)

    def value(depth):
        kind = rng.below(6 if depth < 3 else 4)
        if kind == 0:
            return rng.below(2000000) - 1000000
        if kind == 1:
            return (rng.below(2000000) - 1000000) / 1000.0  # 3 decimals survive exactly
        if kind == 2:
            return "".join(chr(32 + rng.below(300)) for _ in range(rng.below(8)))
        if kind == 3:
            return [None, True, False][rng.below(3)]
        if kind == 4:
            return [value(depth + 1) for _ in range(rng.below(4))]
        return dict(("k%d" % rng.below(50), value(depth + 1)) for _ in range(rng.below(4)))

    enc = protocol.Encoder()
    for _ in range(200):
        payload = {"x": value(0)}
        message, why = protocol.decode(enc.encode(0, "status", payload))
        assert why is None and message["p"] == payload, (why, payload)


def test_encoder_writes_the_same_bytes_as_encode_line():
    # Encoder builds lines in its own buffer; encode_line is the reference text
    payloads = [{}, {"a": 1, "b": -2, "c": 0, "d": 536870911, "e": -536870912, "f": 10 ** 12, "g": -10 ** 12},
                {"x": 1.5, "y": -0.0004, "z": 2.0, "w": -3.25, "n": float("nan"), "i": float("-inf"), "h": 1e20},
                {"s": 'q"\\\n\u00e9\U0001F331', "t": True, "f": False, "none": None, "l": [1, [2.5, "x"], ()]},
                {"long": "y" * 1500, "after": [0.001] * 40}]  # longer than the buffer: it grows
    enc = protocol.Encoder(seq=5, size=64)
    for i, payload in enumerate(payloads):
        line = enc.encode(1767225600 + i, "status", payload)
        assert line == protocol.encode_line(5 + i, 1767225600 + i, "status", payload).encode(), payload
    assert enc.encode(3, "error", {"e": 9}) == protocol.encode_line(10, 3, "error", {"e": 9}).encode()
    with raises(TypeError, "not a string"):
        enc.encode(3, "error", {"e": {1: 2}})
    assert enc.seq == 11  # a refused payload takes no sequence number


def test_encoding_a_line_allocates_one_line_sized_block_not_several():
    # On a fragmented heap the line-sized blocks fail first (the sim32 soak: a 300-byte
    # line with 18 KB free). Encoder keeps its buffer: the returned bytes are the only
    # block as long as the line; the rest are small numbers, keys and the key list.
    import gc
    payload = {"air_temp_c": 21.532, "air_rh_pct": 65.25, "co2_ppm": 612, "light_lux": 15234.5,
               "soil_vwc_pct": 31.2, "soil_temp_c": 18.75, "air_temp_c_rate_h": -0.25, "dli_mol_m2": 12.345,
               "vpd_kpa": 0.912, "dew_point_c": 14.6, "flags": ["ok", "ok"], "state": "running"}
    enc = protocol.Encoder()
    line = enc.encode(1767225600, "reading", payload)
    assert len(line) == 300
    gc.collect()
    before = gc.mem_alloc()
    enc.encode(1767225600, "reading", payload)
    used = gc.mem_alloc() - before
    # measured 2112 (x64) and 1616 (32-bit); encode_line's strings took 9632 and 6384
    assert used < 8 * len(line), used


def test_encode_view_is_the_line_without_its_copy():
    # the serial port writes a line out at once: the app hands it the encoder's buffer
    # (the sim32 soak's MemoryErrors were 333-335 byte blocks with 13 KB free)
    import gc
    payload = {"air_temp_c": 21.532, "co2_ppm": 612, "light_lux": 15234.5, "state": "running",
               "reason": "x" * 200}
    line = protocol.Encoder(seq=5).encode(1767225600, "reading", payload)
    enc = protocol.Encoder(seq=5)
    assert bytes(enc.encode_view(1767225600, "reading", payload)) == line
    assert enc.seq == 6
    gc.collect()
    before = gc.mem_alloc()
    enc.encode_view(1767225600, "reading", payload)
    viewed = gc.mem_alloc() - before
    gc.collect()
    before = gc.mem_alloc()
    enc.encode(1767225600, "reading", payload)
    copied = gc.mem_alloc() - before
    assert len(line) > 250 and viewed + len(line) <= copied, (viewed, copied, len(line))


def test_firmware_time_lines_say_unix_seconds():
    # the app counts firmware seconds (small ints on 32-bit ports); its lines must carry
    # the same Unix seconds as before: 2025-01-01 00:00 UTC is 1735689600
    from verdant.hal import FIRMWARE_EPOCH
    assert FIRMWARE_EPOCH == 1735689600
    for t_fw in (0, 1, 10399, 10400, 10401, 99999, 100000, 31536000, (1 << 30) - 1, -1, -86400,
                 -1735689600, -1735689601):
        unix = protocol.Encoder(seq=3).encode(t_fw + FIRMWARE_EPOCH, "status", {"state": "x"})
        fw = protocol.Encoder(seq=3, firmware_time=True).encode(t_fw, "status", {"state": "x"})
        assert fw == unix, (t_fw, fw, unix)
        assert protocol.decode(fw)[0]["t"] == t_fw + FIRMWARE_EPOCH
