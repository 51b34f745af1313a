"""gemmlowp fixed-point functions used by TFLM's integer LOGISTIC and SOFTMAX.

Values are raw int32 of a Q(ib).(31-ib) number, held in plain ints. Arithmetic
follows gemmlowp/fixedpoint.h exactly (same constants, same rounding), so the
results match TFLM bit for bit. Runs on MicroPython and CPython.
"""
from verdant.engine.quant import (INT32_MAX, INT32_MIN, _wrap32, rounding_divide_by_pot,
                                  saturating_rounding_doubling_high_mul as mul)

# exp(-2^k) in Q0.31 for k = -2..4, as gemmlowp's barrel shifter constants.
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))
_EXP_MINUS_ONE_EIGHTH = 1895147668  # exp(-1/8) in Q0.31
_ONE_THIRD = 715827883              # 1/3 in Q0.31
_FORTY_EIGHT_OVER_17 = 1515870810   # 48/17 in Q2.29
_MINUS_32_OVER_17 = -1010580540     # -32/17 in Q2.29


def saturating_shift_left(x, exponent):
    """gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent."""
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return x << exponent


def rounding_half_sum(a, b):
    """(a + b) / 2 rounded half away from zero (C integer division truncates)."""
    total = a + b
    total += 1 if total >= 0 else -1
    half = abs(total) >> 1
    return half if total >= 0 else -half


def exp_on_interval_between_negative_one_quarter_and_0_excl(a):
    """exp(a) for a in [-1/4, 0), Q0.31 in and out (Taylor series around -1/8)."""
    x = _wrap32(a + (1 << 28))
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = rounding_divide_by_pot(_wrap32(mul(_wrap32(x4_over_4 + x3), _ONE_THIRD) + x2), 1)
    return _wrap32(_EXP_MINUS_ONE_EIGHTH + mul(_EXP_MINUS_ONE_EIGHTH, _wrap32(x + poly)))


def exp_on_negative_values(a, integer_bits):
    """exp(a) for a <= 0 given in Q(integer_bits); result in Q0.31."""
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_shift_left(a_mod_quarter_minus_one_quarter, integer_bits) if integer_bits else
        a_mod_quarter_minus_one_quarter)
    remainder = _wrap32(a_mod_quarter_minus_one_quarter - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent and remainder & (1 << (fractional_bits + exponent)):
            result = mul(result, multiplier)
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0
    if a == 0:
        result = INT32_MAX
    return result


def one_over_one_plus_x_for_x_in_0_1(a):
    """1 / (1 + a) for a in [0, 1), Q0.31 in and out (Newton-Raphson, 3 steps)."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = _wrap32(_FORTY_EIGHT_OVER_17 + mul(half_denominator, _MINUS_32_OVER_17))  # Q2.29
    for _ in range(3):
        one_minus_half_denominator_times_x = _wrap32((1 << 29) - mul(half_denominator, x))
        x = _wrap32(x + saturating_shift_left(mul(x, one_minus_half_denominator_times_x), 2))
    return saturating_shift_left(x, 1)  # x/2 in Q1.30 read as Q0.31


def logistic(a, integer_bits):
    """gemmlowp logistic(a): a in Q(integer_bits), result in Q0.31."""
    if a == 0:
        return 1 << 30
    if a > 0:
        return one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(_wrap32(-a), integer_bits))
    positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(a, integer_bits))
    return _wrap32(INT32_MAX - positive)


def count_leading_zeros32(x):
    """Leading zero bits of x as a uint32 (32 for 0)."""
    x &= 0xFFFFFFFF
    n = 32
    while x:
        x >>= 1
        n -= 1
    return n


def reciprocal(x, integer_bits):
    """TFLM GetReciprocal: (1/x scaled to Q0.31, num_bits_over_unit) for x > 0 in Q(integer_bits)."""
    headroom_plus_one = count_leading_zeros32(x)
    num_bits_over_unit = integer_bits - headroom_plus_one
    shifted_sum_minus_one = _wrap32(((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit
