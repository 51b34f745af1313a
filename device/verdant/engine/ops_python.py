"""Pure-Python int8 kernels, the TFLM reference arithmetic (docs/int8-arithmetic.md).

Every kernel takes a parsed Layer (verdant.engine.modelfile) and reads `src`, writes
`dst`: indexable signed int8 sequences (array('b')) of at least the layer's input
and output element counts. NHWC activations, OHWI filters. Runs under MicroPython
and CPython; the viper backend reuses the logistic and softmax table builders here. A
Layer reads its fields through __getattr__ (verdant.engine.modelfile), so each kernel
reads them once per call, never per output.
"""
import array

from verdant.engine.fixedpoint import exp_on_negative_values, logistic, reciprocal
from verdant.engine.quant import (_wrap32, multiply_by_quantized_multiplier as mbqm,
                                  rounding_divide_by_pot, saturating_rounding_doubling_high_mul)
from verdant.engine.modelfile import (OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED,
                                      OP_LOGISTIC, OP_MAX_POOL_2D, OP_MEAN, OP_SOFTMAX)

_LOGISTIC_INPUT_INTEGER_BITS = 4
_SOFTMAX_DIFF_INTEGER_BITS = 5
_SOFTMAX_ACCUMULATION_INTEGER_BITS = 12


def requantize(acc, multiplier, shift, zp_out, act_min, act_max):
    """Bias-added int32 accumulator of one output channel -> clamped int8. The kernels read
    the layer's fields once per call and pass them (a Layer reads its fields from one tuple,
    verdant.engine.modelfile: too slow for once per output)."""
    y = mbqm(_wrap32(acc), multiplier, shift) + zp_out
    if y < act_min:
        return act_min
    if y > act_max:
        return act_max
    return y


def fully_connected(layer, src, dst):
    depth = layer.in_size
    zp_in = layer.zp_in
    weights = layer.weights
    bias = layer.bias
    per_channel, mults, shifts = layer.quant_channels > 1, layer.multipliers, layer.shifts
    zp_out, act_min, act_max = layer.zp_out, layer.act_min, layer.act_max
    for c in range(layer.out_c):
        base = c * depth
        acc = 0
        for d in range(depth):
            acc += weights[base + d] * (src[d] - zp_in)
        if bias is not None:
            acc += bias[c]
        k = c if per_channel else 0
        dst[c] = requantize(acc, mults[k], shifts[k], zp_out, act_min, act_max)


def conv_2d(layer, src, dst):
    in_h, in_w, in_c = layer.in_h, layer.in_w, layer.in_c
    kh, kw = layer.kernel_h, layer.kernel_w
    zp_in = layer.zp_in
    weights = layer.weights
    bias = layer.bias
    stride_h, stride_w = layer.stride_h, layer.stride_w  # pairs and triples: MicroPython builds no tuple for them
    pad_top, pad_left = layer.pad_top, layer.pad_left
    dil_h, dil_w, out_c = layer.dilation_h, layer.dilation_w, layer.out_c
    per_channel, mults, shifts = layer.quant_channels > 1, layer.multipliers, layer.shifts
    zp_out, act_min, act_max = layer.zp_out, layer.act_min, layer.act_max
    out = 0
    for out_y in range(layer.out_h):
        y0 = out_y * stride_h - pad_top
        for out_x in range(layer.out_w):
            x0 = out_x * stride_w - pad_left
            for oc in range(out_c):
                acc = 0
                for fy in range(kh):
                    y = y0 + fy * dil_h
                    if y < 0 or y >= in_h:
                        continue
                    for fx in range(kw):
                        x = x0 + fx * dil_w
                        if x < 0 or x >= in_w:
                            continue
                        s = (y * in_w + x) * in_c
                        w = ((oc * kh + fy) * kw + fx) * in_c
                        for ic in range(in_c):
                            acc += weights[w + ic] * (src[s + ic] - zp_in)
                if bias is not None:
                    acc += bias[oc]
                k = oc if per_channel else 0
                dst[out] = requantize(acc, mults[k], shifts[k], zp_out, act_min, act_max)
                out += 1


def depthwise_conv_2d(layer, src, dst):
    in_h, in_w, in_c = layer.in_h, layer.in_w, layer.in_c
    kh, kw = layer.kernel_h, layer.kernel_w
    mult = layer.depth_multiplier
    out_c = layer.out_c
    zp_in = layer.zp_in
    weights = layer.weights
    bias = layer.bias
    stride_h, stride_w = layer.stride_h, layer.stride_w  # pairs and triples: MicroPython builds no tuple for them
    pad_top, pad_left = layer.pad_top, layer.pad_left
    dil_h, dil_w = layer.dilation_h, layer.dilation_w
    per_channel, mults, shifts = layer.quant_channels > 1, layer.multipliers, layer.shifts
    zp_out, act_min, act_max = layer.zp_out, layer.act_min, layer.act_max
    out = 0
    for out_y in range(layer.out_h):
        y0 = out_y * stride_h - pad_top
        for out_x in range(layer.out_w):
            x0 = out_x * stride_w - pad_left
            for oc in range(out_c):
                ic = oc // mult  # output channel = in_channel * mult + m
                acc = 0
                for fy in range(kh):
                    y = y0 + fy * dil_h
                    if y < 0 or y >= in_h:
                        continue
                    for fx in range(kw):
                        x = x0 + fx * dil_w
                        if x < 0 or x >= in_w:
                            continue
                        acc += weights[(fy * kw + fx) * out_c + oc] * (src[(y * in_w + x) * in_c + ic] - zp_in)
                if bias is not None:
                    acc += bias[oc]
                k = oc if per_channel else 0
                dst[out] = requantize(acc, mults[k], shifts[k], zp_out, act_min, act_max)
                out += 1


def max_pool_2d(layer, src, dst):
    in_h, in_w, channels = layer.in_h, layer.in_w, layer.in_c
    stride_h, stride_w = layer.stride_h, layer.stride_w  # pairs and triples: MicroPython builds no tuple for them
    pad_top, pad_left = layer.pad_top, layer.pad_left
    kh, kw = layer.kernel_h, layer.kernel_w
    act_min, act_max = layer.act_min, layer.act_max
    out = 0
    for out_y in range(layer.out_h):
        y0 = out_y * stride_h - pad_top
        y_start = max(0, y0)
        y_end = min(in_h, y0 + kh)
        for out_x in range(layer.out_w):
            x0 = out_x * stride_w - pad_left
            x_start = max(0, x0)
            x_end = min(in_w, x0 + kw)
            for c in range(channels):
                best = -128
                for y in range(y_start, y_end):
                    for x in range(x_start, x_end):
                        v = src[(y * in_w + x) * channels + c]
                        if v > best:
                            best = v
                dst[out] = min(max(best, act_min), act_max)
                out += 1


def mean(layer, src, dst):
    """Global average over h and w; the file holds the count-adjusted M', s'."""
    channels = layer.in_c
    count = layer.in_h * layer.in_w
    offset = layer.zp_in * count
    mult, shift = layer.multipliers[0], layer.shifts[0]
    zp_out, act_min, act_max = layer.zp_out, layer.act_min, layer.act_max
    for c in range(channels):
        acc = 0
        for i in range(c, count * channels, channels):
            acc += src[i]
        dst[c] = requantize(acc - offset, mult, shift, zp_out, act_min, act_max)


def logistic_table(layer, table):
    """Fill table[q + 128] with TFLM's integer logistic of input byte q (256 entries)."""
    radius = layer.p2
    for q in range(-128, 128):
        x = q - layer.zp_in
        if x <= -radius:
            y = -128
        elif x >= radius:
            y = 127
        else:
            x_q4 = mbqm(x, layer.p0, layer.p1)
            y = rounding_divide_by_pot(logistic(x_q4, _LOGISTIC_INPUT_INTEGER_BITS), 31 - 8) - 128
            y = min(max(y, -128), 127)
        table[q + 128] = y
    return table


def apply_table(table, src, dst, count):
    for i in range(count):
        dst[i] = table[src[i] + 128]


def softmax_exp_table(layer):
    """exp(beta * s_in * d) in Q0.31 at index -d, for d = 0, -1, ..., -255 (int32 array).
    Entries below diff_min are never read (softmax checks -d <= -diff_min first)."""
    table = array.array("i", bytes(4 * 256))
    for k in range(min(256, -layer.p2 + 1)):
        scaled = saturating_rounding_doubling_high_mul(_wrap32(-k * (1 << layer.p1)), layer.p0)
        table[k] = exp_on_negative_values(scaled, _SOFTMAX_DIFF_INTEGER_BITS)
    return table


def softmax(layer, exp_table, src, dst):
    """TFLM integer softmax over the last dimension, for each of h*w rows."""
    depth = layer.in_c
    max_distance = -layer.p2  # inputs further than this below the row max contribute 0
    accum_shift = _SOFTMAX_ACCUMULATION_INTEGER_BITS
    for start in range(0, layer.in_size, depth):
        end = start + depth
        row_max = -128
        for i in range(start, end):
            if src[i] > row_max:
                row_max = src[i]
        sum_of_exps = 0
        for i in range(start, end):
            k = row_max - src[i]
            if k <= max_distance:
                sum_of_exps += rounding_divide_by_pot(exp_table[k], accum_shift)  # Rescale to Q12.19
        scale, bits_over_unit = reciprocal(_wrap32(sum_of_exps), accum_shift)
        for i in range(start, end):
            k = row_max - src[i]
            if k > max_distance:
                dst[i] = -128
                continue
            y = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scale, exp_table[k]),
                                       bits_over_unit + 31 - 8) - 128
            dst[i] = min(max(y, -128), 127)


class PythonLayers:
    """Runs a parsed model's layers with the pure-Python kernels."""

    def __init__(self, model):
        self.steps = []
        for layer in model.layers:
            if layer.op == OP_LOGISTIC:
                table = logistic_table(layer, array.array("b", bytes(256)))
                self.steps.append((_run_table, layer, table))
            elif layer.op == OP_SOFTMAX:
                self.steps.append((softmax, layer, softmax_exp_table(layer)))
            else:
                self.steps.append((_KERNELS[layer.op], layer, None))

    def run(self, src, dst):
        """Run every layer, ping-ponging between src and dst; return the buffer holding the output."""
        for kernel, layer, extra in self.steps:
            if extra is None:
                kernel(layer, src, dst)
            else:
                kernel(layer, extra, src, dst)
            src, dst = dst, src
        return src


def _run_table(layer, table, src, dst):
    apply_table(table, src, dst, layer.in_size)


_KERNELS = {
    OP_FULLY_CONNECTED: fully_connected,
    OP_CONV_2D: conv_2d,
    OP_DEPTHWISE_CONV_2D: depthwise_conv_2d,
    OP_MAX_POOL_2D: max_pool_2d,
    OP_MEAN: mean,
}
