"""TFLM integer requantization, shared by every backend, the exporter and the tests.

Plain integer code (MicroPython's ints are arbitrary precision). The float-to-
multiplier step runs on the host at export time; boards only see the integers.
"""
import math

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def round_half_away(x):
    """C roundf/std::round: nearest integer, ties away from zero (x is finite)."""
    r = int(x + 0.5) if x >= 0 else -int(-x + 0.5)
    # int(x + 0.5) can round up x + 0.5 itself in float; correct by the exact remainder
    if x >= 0 and r - x > 0.5:
        r -= 1
    elif x < 0 and x - r > 0.5:
        r += 1
    return r


def quantize_multiplier(real):
    """TFLM QuantizeMultiplier: real (a double) -> (multiplier, shift).

    multiplier is 0 or in [2^30, 2^31-1]; shift is a power-of-two exponent,
    positive = left. Raises ValueError for negative or non-finite input.
    """
    if real != real or real in (float("inf"), float("-inf")) or real < 0:
        raise ValueError("quantize_multiplier: multiplier must be finite and >= 0, got %r" % real)
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    scaled = q * (1 << 31)
    m = int(math.floor(scaled + 0.5))  # q > 0, so half-up is half away from zero
    if m == (1 << 31):
        m //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return m, shift


def _wrap32(x):
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


def saturating_rounding_doubling_high_mul(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 a, b (as TFLM's double rounding)."""
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    # C's int64 division truncates toward zero.
    total = ab + nudge
    q = abs(total) >> 31
    return q if total >= 0 else -q


def rounding_divide_by_pot(x, exponent):
    """gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    """TFLM MultiplyByQuantizedMultiplier (double rounding) on an int32 accumulator."""
    left = shift if shift > 0 else 0
    right = -shift if shift < 0 else 0
    return rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(_wrap32(x * (1 << left)), multiplier), right)
