"""QuantizeMultiplier and MultiplyByQuantizedMultiplier against their definitions.

The expected values are derived by hand from docs/int8-arithmetic.md (frexp, round half
away from zero, double rounding), and the random checks use an independent
reference written with exact fractions.
"""
import math
import random
from fractions import Fraction

import pytest

from verdant.engine.quant import multiply_by_quantized_multiplier, quantize_multiplier

# (M, expected (multiplier, shift)), each worked out from M = q * 2^e, q in [0.5, 1).
QUANTIZE_MULTIPLIER_EDGES = [
    (0.0, (0, 0)),                       # zero is special-cased
    (1e-10, (0, 0)),                     # 1e-10 = 0.859 * 2^-33, e < -31
    (2.0 ** -31, (1 << 30, -30)),        # 0.5 * 2^-30
    (2.0 ** -32, (1 << 30, -31)),        # 0.5 * 2^-31, the last representable exponent
    (2.0 ** -33, (0, 0)),                # 0.5 * 2^-32, e < -31
    (0.5, (1 << 30, 0)),
    (1.0, (1 << 30, 1)),                 # 0.5 * 2^1
    (1.0 - 2.0 ** -40, (1 << 30, 1)),    # q*2^31 rounds to 2^31: halve, e + 1
    (0.75, (3 << 29, 0)),
    (3.0, (3 << 29, 2)),                 # M > 1: 0.75 * 2^2
    (1000.0, (2097152000, 10)),          # 0.9765625 * 2^10, q*2^31 exact
]


@pytest.mark.parametrize("real, expected", QUANTIZE_MULTIPLIER_EDGES)
def test_quantize_multiplier_edges(real, expected):
    assert quantize_multiplier(real) == expected


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_quantize_multiplier_rejects_bad_input(bad):
    with pytest.raises(ValueError, match="finite and >= 0"):
        quantize_multiplier(bad)


def _round_half_away(x):
    return int(math.copysign(math.floor(abs(x) + Fraction(1, 2)), x)) if x else 0


def reference_mbqm(x, multiplier, shift):
    """Double rounding from the definition, with exact fractions."""
    left, right = max(shift, 0), max(-shift, 0)
    a = ((x << left) + (1 << 31)) % (1 << 32) - (1 << 31)  # int32 wrap
    if a == multiplier == -(1 << 31):
        high = (1 << 31) - 1
    else:
        high = math.floor(Fraction(a * multiplier, 1 << 31) + Fraction(1, 2))  # round half up
    return _round_half_away(Fraction(high, 1 << right))


def test_rounding_tie_with_negative_product():
    # -2956 * 1696766344 / 2^31 = -2335.59 -> high mul -2336; -2336 / 2^6 = -36.5 is a
    # tie, rounded away from zero -> -37 (TFLM's result).
    assert multiply_by_quantized_multiplier(-2956, 1696766344, -6) == -37
    assert reference_mbqm(-2956, 1696766344, -6) == -37
    # single rounding of the exact product would give -36: the tie goes the other way
    exact = Fraction(-2956 * 1696766344, 1 << 37)
    assert _round_half_away(exact) == -36


def test_mbqm_matches_exact_reference_on_random_values():
    rng = random.Random(1234)
    for _ in range(20000):
        x = rng.randint(-(1 << 31), (1 << 31) - 1) if rng.random() < 0.3 else rng.randint(-70000, 70000)
        multiplier = rng.choice([0, 1 << 30, (1 << 31) - 1, rng.randint(1 << 30, (1 << 31) - 1)])
        shift = rng.randint(-31, 30) if rng.random() < 0.5 else rng.randint(-12, 3)
        assert multiply_by_quantized_multiplier(x, multiplier, shift) == reference_mbqm(x, multiplier, shift), \
            (x, multiplier, shift)


def test_mbqm_ties_at_every_right_shift():
    # x * m / 2^31 lands exactly on .5 multiples of 2^R for m = 2^30 (i.e. x/2).
    for right in range(1, 12):
        for x in (-(3 << right), -(1 << right) - 2, (1 << right) + 2, 3 << right, -1, 1):
            assert multiply_by_quantized_multiplier(x, 1 << 30, -right) == reference_mbqm(x, 1 << 30, -right)
