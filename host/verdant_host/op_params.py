"""Layer parameters computed from float scales exactly as TFLM's Prepare does.

Host side of the engine: the exporter calls these at export time; boards only see integers.
Scales are the float32 values stored in the .tflite, passed as Python floats;
all arithmetic is in double precision like TFLM's.

    logistic_params(input_scale)               -> (p0, p1, p2) for a LOGISTIC record
    softmax_params(input_scale, beta=1.0)      -> (p0, p1, p2) for a SOFTMAX record
    mean_params(input_scale, output_scale, n)  -> (M', s') for a MEAN record
"""
import math

from verdant.engine.quant import quantize_multiplier, round_half_away

_LOGISTIC_INPUT_INTEGER_BITS = 4
_SOFTMAX_DIFF_INTEGER_BITS = 5


def _check_scale(name, scale):
    if not (scale > 0.0 and math.isfinite(scale)):
        raise ValueError("%s must be finite and > 0, got %r" % (name, scale))


def calculate_input_radius(input_integer_bits, input_left_shift, total_signed_bits=31):
    """TFLM CalculateInputRadius: the largest |input| that does not saturate."""
    if input_left_shift < 0:
        raise ValueError("input left shift %d < 0: the input scale is too small" % input_left_shift)
    max_input_rescaled = (1.0 * ((1 << input_integer_bits) - 1)
                          * (1 << (total_signed_bits - input_integer_bits)) / (1 << input_left_shift))
    return int(math.floor(max_input_rescaled))


def logistic_params(input_scale):
    """(input multiplier, input left shift, input range radius) of TFLM's int8 Logistic."""
    _check_scale("logistic input scale", input_scale)
    real = float(input_scale) * float(1 << (31 - _LOGISTIC_INPUT_INTEGER_BITS))
    q, left_shift = math.frexp(real)
    multiplier = round_half_away(q * (1 << 31))  # TFLM does not renormalize here
    if multiplier > (1 << 31) - 1:
        raise ValueError("logistic input scale %r gives multiplier 2^31, which TFLM overflows" % input_scale)
    if left_shift > 30:
        # TFLM's radius is 0 here (every input saturates); the model format allows shifts <= 30
        raise ValueError("logistic input scale %r >= 8 is not supported (left shift %d > 30)"
                         % (input_scale, left_shift))
    return multiplier, left_shift, calculate_input_radius(_LOGISTIC_INPUT_INTEGER_BITS, left_shift)


def softmax_params(input_scale, beta=1.0):
    """(input multiplier, input left shift, diff_min) of TFLM's int8 Softmax."""
    _check_scale("softmax input scale", input_scale)
    real = min(float(beta) * float(input_scale) * float(1 << (31 - _SOFTMAX_DIFF_INTEGER_BITS)),
               float((1 << 31) - 1))
    multiplier, left_shift = quantize_multiplier(real)
    if left_shift < 0:
        raise ValueError("softmax beta*scale %r is too small (TFLM needs a multiplier >= 1)" % real)
    diff_min = -calculate_input_radius(_SOFTMAX_DIFF_INTEGER_BITS, left_shift)
    return multiplier, left_shift, diff_min


def mean_params(input_scale, output_scale, count):
    """(M', s') for MEAN over `count` elements: QuantizeMultiplier(s_in/s_out), then
    the count folded in as TFLM's QuantizedMeanOrSum does."""
    _check_scale("mean input scale", input_scale)
    _check_scale("mean output scale", output_scale)
    if count < 1:
        raise ValueError("mean element count must be >= 1, got %r" % count)
    multiplier, shift = quantize_multiplier(float(input_scale) / float(output_scale))
    k = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << k) // count, shift - k
