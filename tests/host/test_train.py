"""Smoke training (seconds): the whole pipeline from simulator to an int8 model file the
board's engine runs, plus the CLI's error messages. The full reproduction of the
committed model is `make train-check` (minutes), not part of the fast suite."""
import json
import os

import numpy as np
import pytest

from verdant_host import cli, dataset, train
from verdant_host.commands import train as train_cmd


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    messages = []
    result = train.train(train.TrainConfig.quick(), str(out), progress=messages.append)
    return str(out), result, messages


def test_quick_training_writes_model_report_and_plot(quick_run):
    out, result, messages = quick_run
    for name in train.FILES.values():
        assert os.path.getsize(os.path.join(out, name)) > 100, name
    assert any(m.startswith("epoch 1/1") for m in messages)
    with open(os.path.join(out, "report.json")) as f:
        saved = json.load(f)
    assert saved["int8"]["accuracy"] == result["int8"]["accuracy"]
    assert sum(map(sum, saved["int8"]["confusion"])) == saved["test_samples"] > 0
    assert set(saved["int8"]["per_class"]) == set(dataset.LABELS)
    with open(os.path.join(out, "report.md")) as f:
        md = f.read()
    assert "Float vs int8" in md and "False alarms per simulated week" in md and "Early warning" in md
    assert saved["decision_rule"]["validation_seeds"] == "%d..%d" % (
        train.VALIDATION_SEED_BASE, train.VALIDATION_SEED_BASE + train.TrainConfig.quick().validation_seeds - 1)
    with open(os.path.join(out, "timeline.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_model_file_runs_on_the_board_engine_like_tflite_micro(quick_run):
    engine = pytest.importorskip("verdant.engine", reason="the int8 engine (verdant.engine) is not in this tree")
    if not hasattr(engine, "load"):
        pytest.skip("verdant.engine has no load() yet")
    out, result, _ = quick_run
    with open(os.path.join(out, "model.bin"), "rb") as f:
        net = engine.load(f.read(), backend="python")
    assert list(net.labels) == list(dataset.LABELS)
    meta = net.meta
    assert meta["features"] == list(dataset.FEATURES)
    assert meta["window"] == dataset.WINDOW and meta["period_s"] == dataset.PERIOD_S
    # the decision rule chosen on validation is what the firmware's app reads from the model
    assert meta["alert_threshold"] == result["decision_rule"]["threshold"]
    assert meta["alert_consecutive"] == result["decision_rule"]["consecutive"]
    data = dataset.build_dataset([7], days=2)
    x = dataset.normalize(data.x[::25], np.array(meta["norm_mean"]), np.array(meta["norm_std"]))
    with open(os.path.join(out, "model.tflite"), "rb") as f:
        oracle = train.Int8Runner(f.read()).predict(x)
    for row, expected in zip(x, oracle):
        got = net.predict([float(v) for v in row])
        np.testing.assert_array_equal(np.array(got, dtype=np.float32), expected)
        assert abs(sum(got) - 1) < 0.05


def test_validation_seeds_are_neither_training_nor_test_seeds():
    config = train.TrainConfig()
    assert config.train_seeds <= train.VALIDATION_SEED_BASE
    assert train.VALIDATION_SEED_BASE + config.validation_seeds <= train.TEST_SEED_BASE


def test_class_weights_favour_rare_classes():
    w = train.class_weights(np.array([0] * 90 + [1] * 10), 3)
    assert w[1] > 1 > w[0] and w[2] == 0.0


def test_compare_reports_names_the_metric_out_of_tolerance():
    new = {"int8": {"accuracy": 0.80, "macro_f1": 0.7}, "float": {"accuracy": 0.8},
           "false_alarms_per_week": {"model": 0.1, "baseline": 0.15},
           "headline": {"model_detected": 80, "model_median_latency_min": 50.0}}
    same = json.loads(json.dumps(new))
    assert train_cmd.compare_reports(new, same) == []
    same["int8"]["accuracy"] = 0.85
    problems = train_cmd.compare_reports(new, same)
    assert problems == ["int8.accuracy: 0.8000 now vs 0.8500 committed (tolerance 0.02)"]
    same["int8"]["accuracy"] = 0.80
    same["false_alarms_per_week"]["baseline"] = 0.175
    assert train_cmd.compare_reports(new, same) == [
        "false_alarms_per_week.baseline: 0.1500 now vs 0.1750 committed (tolerance 0.001)"]
    del same["float"]
    assert "float.accuracy: missing in one of the reports" in train_cmd.compare_reports(new, same)


def test_cli_rejects_bad_arguments_before_training(capsys, tmp_path):
    assert cli.main(["train", "--out", str(tmp_path), "--epochs", "0"]) == 1
    assert capsys.readouterr().err == "verdant: --epochs must be >= 1, got 0\n"
    missing = tmp_path / "nope.json"
    assert cli.main(["train", "--out", str(tmp_path), "--check", str(missing)]) == 1
    assert capsys.readouterr().err == "verdant: cannot read %s: No such file or directory\n" % missing
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert cli.main(["train", "--out", str(tmp_path), "--check", str(bad)]) == 1
    assert capsys.readouterr().err.startswith("verdant: %s is not a JSON report: " % bad)
