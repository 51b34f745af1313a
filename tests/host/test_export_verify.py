"""`verdant verify`: agreement per backend, a non-zero exit on any mismatch, given
inputs, float-I/O models (QUANTIZE/DEQUANTIZE folded into the header)."""
import struct

import numpy as np
import pytest

from test_export_builder import TfliteBuilder, fc_model
from verdant_host import cli, verify
from verdant_host.errors import VerdantError
from verdant_host.export import export_tflite
from verdant_host.model_writer import with_crc


def _engine_or_skip():
    try:
        import verdant.engine as engine
        engine.load  # noqa: B018 - the device API this test drives
    except (ImportError, AttributeError) as exc:
        pytest.skip("verdant.engine.load is not there yet (%s)" % exc)


@pytest.fixture
def files(tmp_path):
    tflite, _ = fc_model(in_c=6, out_c=4, activation="RELU")
    (tmp_path / "m.tflite").write_bytes(tflite)
    (tmp_path / "m.bin").write_bytes(export_tflite(tflite))
    return tmp_path / "m.bin", tmp_path / "m.tflite"


def test_verify_reports_every_requested_backend(files, capsys):
    _engine_or_skip()
    model, tflite = files
    assert cli.main(["verify", str(model), "--tflite", str(tflite), "--samples", "7",
                     "--backend", "cpython"]) == 0
    out = capsys.readouterr().out
    assert "cpython              10/10 identical (100.0%)" in out
    assert "bit-exact with tflite-micro" in out


def test_a_changed_weight_fails_with_a_non_zero_exit(files, capsys):
    _engine_or_skip()
    model, tflite = files
    data = bytearray(model.read_bytes())
    w_off = struct.unpack_from("<I", data, 64 + 32)[0]
    data[w_off] = (data[w_off] + 100) & 0xFF      # one weight of output 0
    model.write_bytes(with_crc(data))
    assert cli.main(["verify", str(model), "--tflite", str(tflite), "--samples", "20",
                     "--backend", "cpython"]) == 1
    captured = capsys.readouterr()
    assert "verdant: outputs differ from tflite-micro" in captured.err
    assert "first diverging layer 0 (FULLY_CONNECTED)" in captured.out
    assert "(first difference at output 0)" in captured.out


def test_given_inputs_from_csv_and_npy(files, tmp_path):
    _engine_or_skip()
    model, tflite = files
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text("0.1,0.2,-0.3,1.5,2,-7\n0,0,0,0,0,0\n")
    result = cli_verify(model, tflite, csv_path)
    assert result.backends[0].total == 3 + 2
    npy_path = tmp_path / "rows.npy"
    np.save(npy_path, np.arange(-12, 12, dtype=np.int8).reshape(4, 6))
    result = cli_verify(model, tflite, npy_path)
    assert result.ok and result.backends[0].total == 3 + 4


def cli_verify(model, tflite, inputs):
    from verdant_host.model_files import verify as verify_command
    return verify_command(str(model), str(tflite), samples=0, backends=["cpython"], inputs_path=str(inputs))


def test_given_input_of_the_wrong_length(files, tmp_path):
    model, tflite = files
    npy_path = tmp_path / "rows.npy"
    np.save(npy_path, np.zeros((1, 5), np.int8))
    with pytest.raises(VerdantError, match="^a given input has 5 values, the model takes 6$"):
        cli_verify(model, tflite, npy_path)


def test_quantize_rows_rounds_half_away_from_zero():
    # scale 0.5: 0.25 / 0.5 = 0.5 -> 1, -0.25 -> -1, 0.74 -> 1.48 -> 1; then + zp 3 and clamp
    assert verify.quantize_rows([[0.25, -0.25, 0.74, 1000.0, -1000.0]], 0.5, 3) == [
        bytes(np.array([4, 2, 4, 127, -128], np.int8))]


def test_wrong_model_file_is_refused(files, tmp_path):
    model, tflite = files
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"VRDX" + model.read_bytes()[4:])
    with pytest.raises(VerdantError, match="^bad model file: "):
        verify.verify_model(bad.read_bytes(), tflite.read_bytes(), samples=1, backends=["cpython"])


def test_unknown_backend_is_named():
    tflite, _ = fc_model()
    with pytest.raises(VerdantError, match="^unknown backend 'gpu'; choose from cpython, "):
        verify.verify_model(export_tflite(tflite), tflite, samples=1, backends=["gpu"])


def test_float_io_model_puts_quantize_and_dequantize_in_the_header():
    b = TfliteBuilder()
    x = b.tensor((1, 4), "FLOAT32")
    xq = b.act((1, 4), 0.03, -9)
    w = b.tensor((3, 4), "INT8", [0.01, 0.02, 0.015], 0, np.arange(-6, 6, dtype=np.int8).reshape(3, 4))
    yq = b.act((1, 3), 0.07, 11)
    y = b.tensor((1, 3), "FLOAT32")
    b.op("QUANTIZE", [x], [xq])
    b.op("FULLY_CONNECTED", [xq, w, -1], [yq], "FullyConnectedOptions")
    b.op("DEQUANTIZE", [yq], [y])
    tflite = b.build([x], [y])
    data = export_tflite(tflite)
    assert struct.unpack_from("<fifi", data, 36) == (
        float(np.float32(0.03)), -9, float(np.float32(0.07)), 11)
    assert struct.unpack_from("<H", data, 16)[0] == 1
    _engine_or_skip()
    result = verify.verify_model(data, tflite, samples=20, backends=["cpython"])
    assert result.ok, result.format()


def test_expand_dims_and_squeeze_fold_away_and_still_match_tflite_micro():
    """EXPAND_DIMS -> CONV_2D (SAME, stride 2, dilation 2) -> SQUEEZE -> MEAN -> LOGISTIC."""
    rng = np.random.default_rng(7)
    b = TfliteBuilder()
    x = b.act((1, 9, 2), 0.04, 17)
    axis = b.tensor((1,), "INT32", data=np.array([1], np.int32))
    x4 = b.act((1, 1, 9, 2), 0.04, 17)
    w = b.tensor((3, 1, 3, 2), "INT8", [0.011, 0.007, 0.02], 0,
                 rng.integers(-127, 128, (3, 1, 3, 2), dtype=np.int8))
    bias = b.tensor((3,), "INT32", 0.0004, 0, np.array([300, -2000, 45], np.int32))
    c4 = b.act((1, 1, 5, 3), 0.03, -20)
    c3 = b.act((1, 5, 3), 0.03, -20)
    axes = b.tensor((1,), "INT32", data=np.array([1], np.int32))
    m = b.act((1, 3), 0.02, 5)
    y = b.act((1, 3), 1 / 256, -128)
    b.op("EXPAND_DIMS", [x, axis], [x4])
    b.op("CONV_2D", [x4, w, bias], [c4], "Conv2DOptions", padding=0, strideH=1, strideW=2,
         dilationHFactor=1, dilationWFactor=2, fusedActivationFunction=0)
    b.op("SQUEEZE", [c4], [c3], "SqueezeOptions", squeezeDims=[1])
    b.op("MEAN", [c3, axes], [m], "ReducerOptions", keepDims=False)
    b.op("LOGISTIC", [m], [y])
    tflite = b.build([x], [y])
    data = export_tflite(tflite)
    assert struct.unpack_from("<H", data, 16)[0] == 3
    assert [data[64 + 64 * i] for i in range(3)] == [2, 5, 6]
    # SAME, stride 2, dilated kernel 5: out 5, total (5-1)*2 + 5 - 9 = 4, left pad 2
    assert struct.unpack_from("<8B", data, 64 + 20) == (1, 3, 1, 2, 1, 2, 0, 2)
    _engine_or_skip()
    result = verify.verify_model(data, tflite, samples=40, backends=["cpython"])
    assert result.ok, result.format()


def test_non_finite_given_inputs_are_refused():
    with pytest.raises(VerdantError, match="^input row 1 holds a non-finite value"):
        verify.quantize_rows([[0.0, 1.0], [float("nan"), 0.0]], 0.5, 0)


def test_missing_micropython_is_a_skip_with_the_reason(files, capsys, monkeypatch, tmp_path):
    model, tflite = files
    missing = str(tmp_path / "no-micropython")
    monkeypatch.setenv("MICROPYTHON", missing)
    assert cli.main(["verify", str(model), "--tflite", str(tflite), "--samples", "2",
                     "--backend", "micropython-viper"]) == 1
    captured = capsys.readouterr()
    assert "micropython-viper    skipped: no micropython Unix port at %s" % missing in captured.out
    assert "verdant: no backend could run; see the reasons above" in captured.err


def test_micropython_backends_agree(files):
    model, tflite = files
    result = verify.verify_model(model.read_bytes(), tflite.read_bytes(), samples=10,
                                 backends=["micropython-python", "micropython-viper"])
    for backend in result.backends:
        if backend.skipped:
            pytest.skip(backend.skipped)
        assert backend.agreed == backend.total == 13
