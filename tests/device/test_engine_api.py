# The device engine API inside the Unix port: backend choice, input checks,
# QUANTIZE/DEQUANTIZE (float32 emulated on this double-float port), NaN/inf policy.
import sys

from engine_models import build, conv1d_model, fc_model, layer
from mpytest import approx, raises, skip
from verdant import engine
from verdant.engine import ModelError, dequantize, quantize

# The C engineer's build for this port, when present (make natmod ARCH=x64).
sys.path.append("../../dist/x64_6.3")
try:
    import verdant_nn  # noqa: F401
    NATMOD = True
except (ImportError, ValueError):
    NATMOD = False


def _identityish_model():
    # FC 2 -> 2 with weights [[1, 0], [0, 1]], multiplier 0.5 * 2^1 = 1.0: y = x - zp_in + zp_out
    spec = layer(1, (1, 1, 2), (1, 1, 2), in_zp=3, out_zp=-4, weights=bytes([1, 0, 0, 1]),
                 multipliers=[1 << 30], shifts=[1])
    return build([spec], meta=b'{"labels": ["p", "q"], "features": ["t", "rh"]}',
                 input_q=(0.5, 3), output_q=(0.25, -4))


def test_load_picks_fastest_available_backend():
    net = engine.load(fc_model())
    assert net.backend == ("natmod" if NATMOD else "viper")
    assert net.labels == ["a", "b", "c"]
    assert net.meta["window"] == 12
    assert net.arena_bytes == 8


def test_forced_backends_agree():
    net_python = engine.load(fc_model(), backend="python")
    net_viper = engine.load(fc_model(), backend="viper")
    assert net_python.backend == "python" and net_viper.backend == "viper"
    for first in range(0, 256, 7):
        data = bytes(((first + 13 * i) & 0xFF) for i in range(4))
        assert bytes(net_python.predict_int8(data)) == bytes(net_viper.predict_int8(data))


def test_unknown_backend_is_named():
    with raises(ValueError, "unknown engine backend 'gpu'"):
        engine.load(fc_model(), backend="gpu")


def test_unavailable_backend_is_named():
    if NATMOD:
        skip("verdant_nn is importable here, so natmod is available")
    with raises(ValueError, "engine backend 'natmod' unavailable: native module verdant_nn"):
        engine.load(fc_model(), backend="natmod")


def test_bad_file_refused_with_parser_message():
    buf = bytearray(fc_model())
    buf[0] = ord("X")
    with raises(ModelError, "bad magic"):
        engine.load(bytes(buf))


def test_load_from_path():
    path = "/tmp/verdant_engine_test_load_from_path.bin"
    with open(path, "wb") as f:
        f.write(fc_model())
    net = engine.load(path, backend="python")
    assert net.output_elements == 3
    import os
    os.remove(path)


def test_predict_int8_checks_exact_length():
    net = engine.load(fc_model())
    with raises(ValueError, "input has 3 bytes, the model takes 4"):
        net.predict_int8(b"\0\0\0")
    with raises(ValueError, "input has 5 bytes"):
        net.predict_int8(b"\0" * 5)


def test_predict_int8_identity_layer():
    net = engine.load(_identityish_model(), backend="python")
    out = net.predict_int8(bytes([10, (-20) & 0xFF]))
    assert bytes(out) == bytes([(10 - 3 - 4) & 0xFF, (-20 - 3 - 4) & 0xFF])


def test_predict_quantizes_and_dequantizes():
    for backend in ("python", "viper"):
        net = engine.load(_identityish_model(), backend=backend)
        # 1.0 / 0.5 = 2 -> q 5; -> y = 5 - 3 - 4 = -2 -> 0.25 * (-2 + 4) = 0.5
        # -3.3 / 0.5 = -6.6 -> -7 -> q -4 -> y -11 -> 0.25 * -7 = -1.75
        out = net.predict([1.0, -3.3])
        assert approx(out[0], 0.5, 1e-9) and approx(out[1], -1.75, 1e-9), out


def test_predict_checks_feature_count_and_nan():
    net = engine.load(_identityish_model())
    with raises(ValueError, "got 1 features, the model takes 2"):
        net.predict([1.0])
    with raises(ValueError, "feature 1 is NaN"):
        net.predict([1.0, float("nan")])


def test_predict_clamps_infinities():
    net = engine.load(_identityish_model(), backend="python")
    out = net.predict([float("inf"), float("-inf")])
    # q 127 -> y 127 - 7 = 120 -> 0.25 * 124 = 31; q -128 -> y -135 clamps -128 -> 0.25 * -124 = -31
    assert out[0] == 31.0 and out[1] == -31.0, out


def test_quantize_rounds_half_away_from_zero():
    assert quantize(1.25, 0.5, 0) == 3     # 2.5 -> 3
    assert quantize(-1.25, 0.5, 0) == -3   # -2.5 -> -3
    assert quantize(0.75, 0.5, 0) == 2     # 1.5 -> 2
    assert quantize(0.7, 0.5, 0) == 1      # 1.4 -> 1
    assert quantize(100.0, 0.5, 10) == 127
    assert quantize(-100.0, 0.5, -10) == -128
    assert quantize(1e300, 1e-30, 0) == 127 and quantize(-1e300, 1.0, 0) == -128


def test_quantize_emulates_float32():
    # 0.5 - 2^-30 is a double just below 0.5; as float32 it is exactly 0.5, which
    # roundf takes to 1. A double-only computation would give 0.
    assert quantize(0.5 - 2.0 ** -30, 1.0, 0) == 1
    # 0.25 / float32(0.1) = 2.4999999627 rounds to float32 2.5, a tie -> 3
    assert quantize(0.25, 0.1, 0) == 3


def test_dequantize_is_float32():
    assert dequantize(5, 0.5, 3) == 1.0
    assert dequantize(1, 0.1, 0) == 0.10000000149011612  # float32(0.1)


def test_natmod_matches_python_backend():
    if not NATMOD:
        skip("native module verdant_nn not built/importable (make natmod ARCH=x64)")
    models = [fc_model(), conv1d_model()]
    try:
        with open("../../models/default/model.bin", "rb") as f:
            models.append(f.read())
    except OSError:
        pass
    for buf in models:
        net_native = engine.load(buf, backend="natmod")
        net_python = engine.load(buf, backend="python")
        assert net_native.backend == "natmod"
        n = net_native.input_elements
        for first in range(0, 256, 9):
            data = bytes(((first + 29 * i) & 0xFF) for i in range(n))
            assert bytes(net_native.predict_int8(data)) == bytes(net_python.predict_int8(data))
        floats = [0.01 * ((7 * i) % 50 - 25) for i in range(n)]
        assert list(net_native.predict(floats)) == list(net_python.predict(floats))


def test_natmod_inference_allocates_nothing():
    if not NATMOD:
        skip("native module verdant_nn not built/importable (make natmod ARCH=x64)")
    import gc
    net = engine.load(conv1d_model(), backend="natmod")
    data = bytes(range(net.input_elements))
    net.predict_int8(data)
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        for _ in range(50):
            net.predict_int8(data)
        allocated = gc.mem_alloc() - before
    finally:
        gc.enable()
    assert allocated == 0, "natmod predict_int8 allocated %d bytes in 50 calls" % allocated


def test_model_too_big_for_memory_is_a_model_error():
    # a valid file whose activations (2 x 4000 x 4000 bytes) cannot fit the 8 MB test heap
    pool = layer(4, (4000, 4000, 1), (2000, 2000, 1), kernel=(2, 2), stride=(2, 2), dilation=(1, 1))
    with raises(ModelError, "more than this board has free"):
        engine.load(build([pool]), backend="python")


def test_backends_agree_on_randomly_mutated_valid_models():
    # Byte mutations of the layer table and arrays (CRC fixed): whatever still parses
    # (odd multipliers, shifts, zero points, activation ranges...) must give the same
    # output on every available backend.
    from engine_models import fix_crc
    backends = ["natmod", "viper", "python"] if NATMOD else ["viper", "python"]
    state = 11
    compared = 0
    for original in (conv1d_model(), fc_model()):
        for _ in range(150):
            buf = bytearray(original)
            for _ in range(2):
                state = (state * 1103515245 + 12345) & 0x7FFFFFFF
                position = 64 + state % (len(buf) - 64)
                buf[position] ^= 1 << ((state >> 16) % 8)
            fix_crc(buf)
            try:
                nets = [engine.load(bytes(buf), backend=name) for name in backends]
            except ModelError:
                continue
            if nets[0].arena_bytes > 50000:
                continue
            data = bytes(((state >> (i % 16)) + 7 * i) & 0xFF for i in range(nets[0].input_elements))
            outputs = [bytes(net.predict_int8(data)) for net in nets]
            for name, out in zip(backends[1:], outputs[1:]):
                assert out == outputs[0], "%s differs from %s: %r vs %r" % (name, backends[0], out, outputs[0])
            compared += 1
    assert compared > 100, compared
