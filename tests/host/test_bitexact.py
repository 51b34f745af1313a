"""The property test: random converted Keras models, exported, must give
byte-identical int8 outputs to tflite-micro on every engine backend available.

CI runs a subset of seeds; VERDANT_BITEXACT_FULL=1 (or `make bitexact-full`) runs
the full set of more than 200 models with more inputs each.
"""
import functools
import os

import pytest

from backends import RUNNERS
from verdant_host import verify
from verdant_host.export import export_with_report
from verdant_host.tflite_reader import read_tflite

FULL = os.environ.get("VERDANT_BITEXACT_FULL") == "1"
SEEDS = range(240) if FULL else range(36)
SAMPLES = 50 if FULL else 20
LAYER_OPS = {"FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "MEAN",
             "LOGISTIC", "SOFTMAX"}


@functools.lru_cache(maxsize=None)
def converted(seed):
    """(case, model file bytes, inputs, tflite-micro outputs) for one seed."""
    from verdant_host.random_models import random_case
    case = random_case(seed)
    model, _ = export_with_report(case.tflite_bytes)
    elements = int.from_bytes(model[52:56], "little")
    zero_point = int.from_bytes(model[40:44], "little", signed=True)
    inputs = verify.make_inputs(elements, SAMPLES, seed=seed, zero_point=zero_point)
    return case, model, inputs, verify.reference_outputs(case.tflite_bytes, inputs)


@pytest.mark.parametrize("backend", list(RUNNERS))
@pytest.mark.parametrize("seed", SEEDS)
def test_backend_is_bit_exact_with_tflite_micro(seed, backend):
    case, model, inputs, expected = converted(seed)
    runner = RUNNERS[backend]
    result = verify.compare(backend, runner, model, case.tflite_bytes, inputs, expected)
    assert result.skipped is None, result.skipped
    assert result.agreed == result.total, "seed %d (%s), backend %s: %d/%d identical; %s" % (
        seed, case.description, backend, result.agreed, result.total, result.describe_first_mismatch())


def test_the_seeds_cover_every_op_and_both_quantization_modes():
    ops, modes, zero_points = set(), set(), set()
    for seed in SEEDS:
        case, model, _, _ = converted(seed)
        tflite = read_tflite(case.tflite_bytes)
        ops.update(op.op for op in tflite.operators)
        modes.add(case.per_channel)
        zero_points.add(tflite.tensors[tflite.inputs[0]].zero_points[0])
        assert len(model) < len(case.tflite_bytes), "seed %d: model file not smaller" % seed
    assert LAYER_OPS <= ops, "never drawn: %s" % sorted(LAYER_OPS - ops)
    assert modes == {True, False}
    assert -128 in zero_points and len(zero_points) >= 6


def test_a_wrong_backend_is_caught_with_the_layer_that_diverges():
    """The comparison itself can fail: a backend that is off by one from layer 1 on."""
    for seed in SEEDS:
        case, model, inputs, expected = converted(seed)
        if int.from_bytes(model[16:18], "little") >= 3:
            break
    runner = RUNNERS["cpython"]

    def off_by_one_after_layer_0(model_bytes, samples):
        outputs = runner(model_bytes, samples)
        if int.from_bytes(model_bytes[16:18], "little") < 2:
            return outputs
        return [bytes((b + 1) & 0xFF for b in out) for out in outputs]

    result = verify.compare("broken", off_by_one_after_layer_0, model, case.tflite_bytes, inputs, expected)
    assert result.agreed == 0 and result.total == len(inputs)
    assert result.first_bad_layer.startswith("1 (")
    assert "input 0: tflite-micro" in result.describe_first_mismatch()


def test_the_same_seed_gives_the_same_model():
    """Same layers, weights and quantization (Keras' tensor names differ run to run)."""
    from verdant_host.random_models import random_case
    first, second = random_case(3), random_case(3)
    assert first.description == second.description
    assert export_with_report(first.tflite_bytes)[0] == export_with_report(second.tflite_bytes)[0]
