"""The engine's float boundary and a whole converted model against tflite-micro.

QUANTIZE/DEQUANTIZE of verdant.engine (float32 emulated on CPython) against TFLM's
own QUANTIZE and DEQUANTIZE kernels; and the committed default model (a converted
Keras MLP) run by the Python backend against TFLM on its .tflite.
"""
import os
import zlib

import numpy as np
import pytest

from tflite_micro.python.tflite_micro import runtime
from tflm_oracle import conversion_model, run_tflm, run_tflm_typed
from verdant import engine

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_MODEL = os.path.join(REPO, "models", "default")


def _tricky_floats(rng, scale, zero_point):
    k = np.arange(-140, 140)
    ties = (k + 0.5) * np.float32(scale)                    # exact ties in float64...
    near = np.nextafter(ties.astype(np.float32), np.float32(np.inf)).astype(np.float64)
    spread = rng.uniform(-200 * scale, 200 * scale, 300)
    return np.concatenate([ties, near, spread, [0.0, -0.0, 1e-30, -1e-30]])


@pytest.mark.parametrize("scale, zero_point", [(0.1, 0), (0.08081473, -4), (1 / 256, -128), (0.37, 17), (2.5, 127)])
def test_quantize_matches_tflm(scale, zero_point):
    rng = np.random.default_rng(zlib.crc32(repr((scale, zero_point)).encode()))
    values = _tricky_floats(rng, scale, zero_point)
    scale32 = float(np.float32(scale))
    expected = run_tflm_typed(conversion_model("QUANTIZE", scale, zero_point, len(values)), values, np.float32)
    # TFLM reads float32 inputs: give ours the same float32 values
    ours = [engine.quantize(float(np.float32(v)), scale32, zero_point) for v in values]
    assert ours == [int(v) for v in expected]


@pytest.mark.parametrize("scale, zero_point", [(0.1, 0), (0.08081473, -4), (1 / 256, -128), (0.37, 17)])
def test_dequantize_matches_tflm(scale, zero_point):
    q = np.arange(-128, 128)
    expected = run_tflm_typed(conversion_model("DEQUANTIZE", scale, zero_point, 256), q, np.int8)
    scale32 = float(np.float32(scale))
    assert [engine.dequantize(int(v), scale32, zero_point) for v in q] == [float(v) for v in expected]


def test_default_model_matches_tflm():
    tflite_path = os.path.join(DEFAULT_MODEL, "model.tflite")
    model_path = os.path.join(DEFAULT_MODEL, "model.bin")
    if not (os.path.exists(tflite_path) and os.path.exists(model_path)):
        pytest.skip("models/default/model.tflite or model.bin not present")
    with open(tflite_path, "rb") as f:
        tflite = f.read()
    net = engine.load(model_path, backend="python")
    details = runtime.Interpreter.from_bytes(tflite).get_input_details(0)["quantization_parameters"]
    if (float(details["scales"][0]), int(details["zero_points"][0])) != (net.model.input_scale,
                                                                         net.model.input_zero_point):
        pytest.skip("models/default/model.tflite and model.bin come from different exports "
                    "(input quantization differs): a retrain is in progress?")
    rng = np.random.default_rng(42)
    inputs = [rng.integers(-128, 128, net.input_elements) for _ in range(40)]
    inputs += [np.clip(rng.normal(net.model.input_zero_point, 12, net.input_elements).round(), -128, 127)
               .astype(int) for _ in range(40)]  # near the zero point, like real features
    expected = run_tflm(tflite, inputs)
    for i, (x, want) in enumerate(zip(inputs, expected)):
        got = np.frombuffer(bytes(net.predict_int8(x.astype(np.int8).tobytes())), dtype=np.int8)
        assert (got == want).all(), "input %d: TFLM %s, ours %s" % (i, want, got)
