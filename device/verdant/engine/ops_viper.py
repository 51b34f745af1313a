"""@micropython.viper int8 kernels: whole layers in native code.

One viper call per layer fills an int32 accumulator array (FULLY_CONNECTED,
CONV_2D, DEPTHWISE_CONV_2D, MEAN); a second, `requantize_all`, adds the bias, does
TFLM's MultiplyByQuantizedMultiplier and clamps into the int8 output. MAX_POOL_2D
and LOGISTIC (a 256-entry table) are single viper calls too; SOFTMAX reuses
ops_python (one row of a few elements in our models).

Viper ints are machine words: 32 bit on the boards, 64 bit on the x64 Unix port.
The code is written for 32-bit words and made word-size independent by two rules:
- no intermediate needs more than 31 bits plus sign, except accumulators, which wrap
  mod 2^32 like TFLM's int32 and are sign-extended from bit 31 with
  `(x << WRAP) >> WRAP` (WRAP = word bits - 32, so 0 on a board);
- ptr32 loads zero-extend on 64-bit ports, so signed words read back go through the
  same sign extension.
The 64-bit product of SaturatingRoundingDoublingHighMul is formed from 16-bit (and
8-bit) pieces of the magnitudes, each partial product below 2^31.

Importing this module needs MicroPython with the viper emitter; elsewhere it raises
ImportError or SyntaxError and the engine falls back to the Python backend.
"""
import array
import sys

import micropython

from verdant.engine.modelfile import (OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED,
                                      OP_LOGISTIC, OP_MAX_POOL_2D, OP_MEAN, OP_SOFTMAX)

# Shift that sign-extends bit 31 of a viper int: 32 on 64-bit ports, 0 on 32-bit boards.
WRAP = 32 if sys.maxsize > 0x7FFFFFFF else 0

# Geometry words passed to the viper kernels in one int32 array (zero point + 128
# keeps every word non-negative, so no sign extension of 32-bit loads is needed).
_W_OFF, _IN_H, _IN_W, _IN_C, _OUT_H, _OUT_W, _OUT_C = 0, 1, 2, 3, 4, 5, 6
_K_H, _K_W, _S_H, _S_W, _D_H, _D_W, _P_T, _P_L, _ZP128, _MULT = 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
_WRAP_WORD = 17
_GEOMETRY_WORDS = 18

# Requantization words (requant_params): a header, then (bias, multiplier, shift) per
# output channel (per-tensor values repeated, so the kernel has one case).
_RQ_COUNT, _RQ_CHANNELS, _RQ_ZP_OUT, _RQ_ACT_MIN, _RQ_ACT_MAX, _RQ_WRAP = 0, 1, 2, 3, 4, 5
_RQ_HEADER = 8


def geometry(layer):
    g = array.array("i", [0] * _GEOMETRY_WORDS)
    g[_W_OFF] = layer.weights_offset
    g[_IN_H], g[_IN_W], g[_IN_C] = layer.in_h, layer.in_w, layer.in_c
    g[_OUT_H], g[_OUT_W], g[_OUT_C] = layer.out_h, layer.out_w, layer.out_c
    g[_K_H], g[_K_W], g[_S_H], g[_S_W] = layer.kernel_h, layer.kernel_w, layer.stride_h, layer.stride_w
    g[_D_H], g[_D_W], g[_P_T], g[_P_L] = layer.dilation_h, layer.dilation_w, layer.pad_top, layer.pad_left
    g[_ZP128] = layer.zp_in + 128
    g[_MULT] = layer.depth_multiplier
    g[_WRAP_WORD] = WRAP
    return g


def requant_params(count, channels, zp_out, act_min, act_max, biases, multipliers, shifts, per_channel):
    """int32 words for requantize_all: `count` accumulators, channel = index % channels;
    biases (None: zero) has `channels` entries, multipliers and shifts `channels` if
    per_channel else one (per tensor)."""
    p = array.array("i", [0] * (_RQ_HEADER + 3 * channels))
    p[_RQ_COUNT], p[_RQ_CHANNELS], p[_RQ_ZP_OUT] = count, channels, zp_out
    p[_RQ_ACT_MIN], p[_RQ_ACT_MAX], p[_RQ_WRAP] = act_min, act_max, WRAP
    for c in range(channels):
        k = c if per_channel else 0
        p[_RQ_HEADER + 3 * c] = biases[c] if biases is not None else 0
        p[_RQ_HEADER + 3 * c + 1] = multipliers[k]
        p[_RQ_HEADER + 3 * c + 2] = shifts[k]
    return p


def layer_requant_params(layer):
    if layer.op == OP_MEAN:  # one multiplier for all channels, no bias
        return requant_params(layer.in_c, layer.in_c, layer.zp_out, layer.act_min, layer.act_max,
                              None, layer.multipliers, layer.shifts, False)
    return requant_params(layer.out_size, layer.out_c, layer.zp_out, layer.act_min, layer.act_max,
                          layer.bias, layer.multipliers, layer.shifts, layer.quant_channels > 1)


# In the viper functions below, g is the array made by geometry(): g[0] weights offset,
# g[1..3] input h/w/c, g[4..6] output h/w/c, g[7..14] kernel, stride, dilation, padding,
# g[15] input zero point + 128, g[16] depth multiplier, g[17] WRAP. An int8 byte b is read signed
# as (b ^ 128) - 128.

@micropython.viper
def requantize_all(acc: ptr32, dst: ptr8, p: ptr32):
    """dst[i] = clamp(MBQM(wrap32(acc[i] + bias[c]), M[c], shift[c]) + zp_out), c = i % channels."""
    ws = int(p[5])
    two30 = 0x3FFFFFFF
    two30 += 1                      # 2^30 and above are not small ints on 32-bit ports:
    int32_max = two30 + (two30 - 1)  # build them at run time, never as literals
    int32_min = 0 - int32_max - 1
    count = int(p[0])
    channels = int(p[1])
    zp_out = (int(p[2]) << ws) >> ws
    act_min = (int(p[3]) << ws) >> ws
    act_max = (int(p[4]) << ws) >> ws
    c = 0
    for i in range(count):
        k = 8 + 3 * c
        x = ((int(acc[i]) + int(p[k])) << ws) >> ws           # int32 accumulator + bias, wrapped
        b = int(p[k + 1])                                     # multiplier (a signed int32)
        b = (b << ws) >> ws
        shift = (int(p[k + 2]) << ws) >> ws
        right = 0
        if shift > 0:
            x = (x << (shift + ws)) >> ws                     # int32 left shift, wrapped
        else:
            right = 0 - shift
        # SaturatingRoundingDoublingHighMul(x, b): (x*b + nudge) / 2^31 truncated, from
        # 16-bit pieces of |x| and |b| (|.| <= 2^31, masked so 32-bit wrap is harmless).
        if x == b and x == int32_min:
            q = int32_max
        else:
            neg = 0
            ua = x
            if x < 0:
                ua = 0 - x
                neg = 1
            ub = b
            if b < 0:
                ub = 0 - b
                neg ^= 1
            ah = (ua >> 16) & 0xFFFF
            al = ua & 0xFFFF
            bh = (ub >> 16) & 0xFFFF
            bl = ub & 0xFFFF
            hl = ah * bl                                      # each partial product < 2^31
            lh = al * bh
            l1 = (al >> 8) * bl
            t0 = (al & 255) * bl + ((l1 & 255) << 8)          # bits 0.. of the product
            t1 = (l1 >> 8) + (hl & 0xFFFF) + (lh & 0xFFFF) + (t0 >> 16)   # bits 16..
            high = ah * bh + (hl >> 16) + (lh >> 16) + (t1 >> 16)         # bits 32..
            low31 = ((t1 & 0x7FFF) << 16) | (t0 & 0xFFFF)
            # nudge 2^30 (1 - 2^30 for a negative product) carries into bit 31 or not
            q = (high << 1) + ((t1 >> 15) & 1)
            if low31 >= two30 + neg:
                q += 1
            if neg:
                q = 0 - q
        # RoundingDivideByPOT(q, right), half away from zero
        if right > 0:
            mask = (1 << right) - 1
            threshold = mask >> 1
            if q < 0:
                threshold += 1
            remainder = q & mask
            q = q >> right
            if remainder > threshold:
                q += 1
        # bound q so adding the zero point cannot wrap a 32-bit word; any |q| this big
        # clamps to the same activation bound anyway (|zp_out| <= 128)
        if q > two30:
            q = two30
        elif q < 0 - two30:
            q = 0 - two30
        y = q + zp_out
        if y < act_min:
            y = act_min
        if y > act_max:
            y = act_max
        dst[i] = y
        c += 1
        if c == channels:
            c = 0


@micropython.viper
def fully_connected_acc(model: ptr8, src: ptr8, acc: ptr32, g: ptr32):
    w = int(g[0])
    depth = int(g[1]) * int(g[2]) * int(g[3])
    zp = int(g[15]) - 128
    blocks = depth >> 3
    for c in range(int(g[6])):
        total = 0
        d = 0
        for _ in range(blocks):  # unrolled by 8: the loop overhead costs more than the MAC
            total += ((((int(model[w]) ^ 128) - 128) * (((int(src[d]) ^ 128) - 128) - zp))
                      + (((int(model[w + 1]) ^ 128) - 128) * (((int(src[d + 1]) ^ 128) - 128) - zp))
                      + (((int(model[w + 2]) ^ 128) - 128) * (((int(src[d + 2]) ^ 128) - 128) - zp))
                      + (((int(model[w + 3]) ^ 128) - 128) * (((int(src[d + 3]) ^ 128) - 128) - zp))
                      + (((int(model[w + 4]) ^ 128) - 128) * (((int(src[d + 4]) ^ 128) - 128) - zp))
                      + (((int(model[w + 5]) ^ 128) - 128) * (((int(src[d + 5]) ^ 128) - 128) - zp))
                      + (((int(model[w + 6]) ^ 128) - 128) * (((int(src[d + 6]) ^ 128) - 128) - zp))
                      + (((int(model[w + 7]) ^ 128) - 128) * (((int(src[d + 7]) ^ 128) - 128) - zp)))
            w += 8
            d += 8
        while d < depth:
            total += ((int(model[w]) ^ 128) - 128) * (((int(src[d]) ^ 128) - 128) - zp)
            w += 1
            d += 1
        acc[c] = total


@micropython.viper
def conv_2d_acc(model: ptr8, src: ptr8, acc: ptr32, g: ptr32):
    w_off = int(g[0])
    in_h = int(g[1])
    in_w = int(g[2])
    in_c = int(g[3])
    out_h = int(g[4])
    out_w = int(g[5])
    out_c = int(g[6])
    kh = int(g[7])
    kw = int(g[8])
    sh = int(g[9])
    sw = int(g[10])
    dh = int(g[11])
    dw = int(g[12])
    pt = int(g[13])
    pl = int(g[14])
    zp = int(g[15]) - 128
    o = 0
    for oy in range(out_h):
        y0 = oy * sh - pt
        for ox in range(out_w):
            x0 = ox * sw - pl
            # With dilation 1 the valid taps of a filter row are one contiguous run of
            # (taps x in_c) bytes in both the input and the OHWI filter.
            if dw == 1:
                fx_first = 0 - x0 if x0 < 0 else 0
                fx_end = in_w - x0 if in_w - x0 < kw else kw
                runs = 1 if fx_end > fx_first else 0
                run = (fx_end - fx_first) * in_c
            else:
                fx_first = 0
                runs = kw
                run = in_c
            for oc in range(out_c):
                total = 0
                for fy in range(kh):
                    y = y0 + fy * dh
                    if y < 0 or y >= in_h:
                        continue
                    for t in range(runs):
                        fx = fx_first + t
                        x = x0 + fx * dw
                        if x < 0 or x >= in_w:
                            continue
                        s = (y * in_w + x) * in_c
                        wi = w_off + ((oc * kh + fy) * kw + fx) * in_c
                        end = s + run
                        while s + 4 <= end:
                            total += ((((int(model[wi]) ^ 128) - 128) * (((int(src[s]) ^ 128) - 128) - zp))
                                      + (((int(model[wi + 1]) ^ 128) - 128) * (((int(src[s + 1]) ^ 128) - 128) - zp))
                                      + (((int(model[wi + 2]) ^ 128) - 128) * (((int(src[s + 2]) ^ 128) - 128) - zp))
                                      + (((int(model[wi + 3]) ^ 128) - 128) * (((int(src[s + 3]) ^ 128) - 128) - zp)))
                            wi += 4
                            s += 4
                        while s < end:
                            total += ((int(model[wi]) ^ 128) - 128) * (((int(src[s]) ^ 128) - 128) - zp)
                            wi += 1
                            s += 1
                acc[o] = total
                o += 1


@micropython.viper
def depthwise_conv_2d_acc(model: ptr8, src: ptr8, acc: ptr32, g: ptr32):
    w_off = int(g[0])
    in_h = int(g[1])
    in_w = int(g[2])
    in_c = int(g[3])
    out_h = int(g[4])
    out_w = int(g[5])
    out_c = int(g[6])
    kh = int(g[7])
    kw = int(g[8])
    sh = int(g[9])
    sw = int(g[10])
    dh = int(g[11])
    dw = int(g[12])
    pt = int(g[13])
    pl = int(g[14])
    zp = int(g[15]) - 128
    mult = int(g[16])
    o = 0
    for oy in range(out_h):
        y0 = oy * sh - pt
        for ox in range(out_w):
            x0 = ox * sw - pl
            for oc in range(out_c):
                acc[o + oc] = 0
            # taps outside, channels inside: each tap is a contiguous row of out_c
            # weights; int32 sums wrap the same in any order
            for fy in range(kh):
                y = y0 + fy * dh
                if y < 0 or y >= in_h:
                    continue
                for fx in range(kw):
                    x = x0 + fx * dw
                    if x < 0 or x >= in_w:
                        continue
                    s = (y * in_w + x) * in_c
                    wi = w_off + (fy * kw + fx) * out_c
                    oc = o
                    if mult == 1:
                        for ic in range(in_c):
                            acc[oc + ic] = int(acc[oc + ic]) + (((int(model[wi + ic]) ^ 128) - 128)
                                                                * (((int(src[s + ic]) ^ 128) - 128) - zp))
                        continue
                    for ic in range(in_c):
                        v = ((int(src[s + ic]) ^ 128) - 128) - zp
                        for m in range(mult):  # output channel ic * mult + m
                            acc[oc] = int(acc[oc]) + ((int(model[wi]) ^ 128) - 128) * v
                            wi += 1
                            oc += 1
            o += out_c


@micropython.viper
def mean_acc(src: ptr8, acc: ptr32, g: ptr32):
    """acc[c] = sum over h, w of (input - zp) for each channel c."""
    channels = int(g[3])
    count = int(g[1]) * int(g[2])
    zp = int(g[15]) - 128
    for c in range(channels):
        total = 0
        i = c
        for _ in range(count):
            total += (int(src[i]) ^ 128) - 128
            i += channels
        acc[c] = total - zp * count


@micropython.viper
def max_pool_2d_viper(src: ptr8, dst: ptr8, g: ptr32, act_range: int):
    in_h = int(g[1])
    in_w = int(g[2])
    channels = int(g[3])
    out_h = int(g[4])
    out_w = int(g[5])
    kh = int(g[7])
    kw = int(g[8])
    sh = int(g[9])
    sw = int(g[10])
    pt = int(g[13])
    pl = int(g[14])
    act_min = (act_range >> 8) - 128    # act_range packs (min + 128) << 8 | (max + 128)
    act_max = (act_range & 255) - 128
    o = 0
    for oy in range(out_h):
        y0 = oy * sh - pt
        y_start = y0 if y0 > 0 else 0
        y_end = y0 + kh if y0 + kh < in_h else in_h
        for ox in range(out_w):
            x0 = ox * sw - pl
            x_start = x0 if x0 > 0 else 0
            x_end = x0 + kw if x0 + kw < in_w else in_w
            for c in range(channels):
                best = -128
                for y in range(y_start, y_end):
                    for x in range(x_start, x_end):
                        v = (int(src[(y * in_w + x) * channels + c]) ^ 128) - 128
                        if v > best:
                            best = v
                if best < act_min:
                    best = act_min
                if best > act_max:
                    best = act_max
                dst[o] = best
                o += 1


@micropython.viper
def softmax_viper(src: ptr8, dst: ptr8, exp_table: ptr32, g: ptr32, diff_min: int):
    """TFLM integer softmax over each row of in_c elements (ops_python.softmax, with
    fixedpoint.reciprocal inlined: the SRDHM calls run through one shared body)."""
    # inputs further than this below the row max contribute 0; distances never exceed
    # 255, and -diff_min could overflow a 32-bit word
    max_distance = 255 if diff_min < -255 else 0 - diff_min
    ws = int(g[17])
    depth = int(g[3])
    size = int(g[1]) * int(g[2]) * depth
    two30 = 0x3FFFFFFF
    two30 += 1                      # no literals of 2^30 or more (see requantize_all)
    int32_max = two30 + (two30 - 1)
    int32_min = 0 - int32_max - 1
    start = 0
    while start < size:
        end = start + depth
        row_max = -128
        for i in range(start, end):
            v = (int(src[i]) ^ 128) - 128
            if v > row_max:
                row_max = v
        total = 0
        for i in range(start, end):
            k = row_max - ((int(src[i]) ^ 128) - 128)
            if k <= max_distance:
                e = int(exp_table[k])                          # Q0.31, >= 0
                total += (e >> 12) + (1 if (e & 4095) > 2047 else 0)   # to Q12.19, rounded
        total = (total << ws) >> ws
        # GetReciprocal(total, 12): headroom = leading zeros of the uint32
        headroom = 0
        if total == 0:
            headroom = 32
            shifted = int32_min
        else:
            if total > 0:
                probe = total
                while probe < two30:
                    probe <<= 1
                    headroom += 1
                headroom += 1
            shifted = ((total << headroom) & int32_max)       # minus the leading one
        # one_over_one_plus_x_for_x_in_0_1(shifted): half_denominator = RoundingHalfSum(a, INT32_MAX)
        half = (shifted >> 1) + two30 if shifted >= 0 else 0 - 1
        x = 0
        t = 0
        for step in range(7):  # SRDHM operands: (half, -32/17), then 3 x ((half, x), (x, t))
            if step == 0:
                a = half
                b = 0 - 1010580540
            elif step & 1:
                a = half
                b = x
            else:
                a = x
                b = t
            # SaturatingRoundingDoublingHighMul(a, b), as in requantize_all
            if a == b and a == int32_min:
                p = int32_max
            else:
                neg = 0
                ua = a
                if a < 0:
                    ua = 0 - a
                    neg = 1
                ub = b
                if b < 0:
                    ub = 0 - b
                    neg ^= 1
                ah = (ua >> 16) & 0xFFFF
                al = ua & 0xFFFF
                bh = (ub >> 16) & 0xFFFF
                bl = ub & 0xFFFF
                hl = ah * bl
                lh = al * bh
                l1 = (al >> 8) * bl
                t0 = (al & 255) * bl + ((l1 & 255) << 8)
                t1 = (l1 >> 8) + (hl & 0xFFFF) + (lh & 0xFFFF) + (t0 >> 16)
                high = ah * bh + (hl >> 16) + (lh >> 16) + (t1 >> 16)
                low31 = ((t1 & 0x7FFF) << 16) | (t0 & 0xFFFF)
                p = (high << 1) + ((t1 >> 15) & 1)
                if low31 >= two30 + neg:
                    p += 1
                if neg:
                    p = 0 - p
            if step == 0:
                x = ((two30 + 442128986 + p) << ws) >> ws    # 48/17 (1515870810) - 32/17 * half, Q2.29
            elif step & 1:
                t = ((0x20000000 - p) << ws) >> ws            # 1 - half * x
            else:                                             # x += SaturatingShiftLeft(x * t, 2)
                if p > 0x1FFFFFFF:
                    p = int32_max
                elif p < 0 - 0x1FFFFFFF:
                    p = int32_min
                else:
                    p = p << 2
                x = ((x + p) << ws) >> ws
        if x > 0x3FFFFFFF:                                    # SaturatingShiftLeft(x, 1)
            scale = int32_max
        elif x < 0 - 0x3FFFFFFF:
            scale = int32_min
        else:
            scale = x << 1
        exponent = 12 - headroom + 31 - 8
        for i in range(start, end):
            k = row_max - ((int(src[i]) ^ 128) - 128)
            if k > max_distance:
                dst[i] = -128
                continue
            a = scale
            b = int(exp_table[k])
            if a == b and a == int32_min:
                p = int32_max
            else:
                neg = 0
                ua = a
                if a < 0:
                    ua = 0 - a
                    neg = 1
                ub = b
                ah = (ua >> 16) & 0xFFFF
                al = ua & 0xFFFF
                bh = (ub >> 16) & 0xFFFF
                bl = ub & 0xFFFF
                hl = ah * bl
                lh = al * bh
                l1 = (al >> 8) * bl
                t0 = (al & 255) * bl + ((l1 & 255) << 8)
                t1 = (l1 >> 8) + (hl & 0xFFFF) + (lh & 0xFFFF) + (t0 >> 16)
                high = ah * bh + (hl >> 16) + (lh >> 16) + (t1 >> 16)
                low31 = ((t1 & 0x7FFF) << 16) | (t0 & 0xFFFF)
                p = (high << 1) + ((t1 >> 15) & 1)
                if low31 >= two30 + neg:
                    p += 1
                if neg:
                    p = 0 - p
            # RoundingDivideByPOT(p, exponent); exponents of 32 and more leave 0 (or
            # -1 for INT32_MIN >> 32), as the Python reference's exact integers do
            if exponent >= 32:
                p = 0 - 1 if (p == int32_min and exponent == 32) else 0
            elif exponent > 0:
                mask = (1 << exponent) - 1
                threshold = mask >> 1
                if p < 0:
                    threshold += 1
                remainder = p & mask
                p = p >> exponent
                if remainder > threshold:
                    p += 1
            y = p - 128
            if y < -128:
                y = -128
            if y > 127:
                y = 127
            dst[i] = y
        start = end


@micropython.viper
def apply_table_viper(table: ptr8, src: ptr8, dst: ptr8, count: int):
    """dst[i] = table[src[i] + 128] (LOGISTIC)."""
    for i in range(count):
        dst[i] = table[int(src[i]) ^ 128]


@micropython.viper
def copy_bytes(dst: ptr8, src: ptr8, count: int):
    for i in range(count):
        dst[i] = src[i]


class ViperLayers:
    """Runs a parsed model with the viper kernels (SOFTMAX: exp table built in Python, rows in viper)."""

    def __init__(self, model):
        self.model = model
        self.steps = []
        acc_size = 1
        for layer in model.layers:
            op = layer.op
            if op in (OP_FULLY_CONNECTED, OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_MEAN):
                acc_size = max(acc_size, layer.out_size)
                extra = layer_requant_params(layer)
            elif op == OP_LOGISTIC:
                from verdant.engine import ops_python  # its table builders run at load only (startup frees it)
                extra = ops_python.logistic_table(layer, array.array("b", bytes(256)))
            elif op == OP_SOFTMAX:
                from verdant.engine import ops_python
                extra = ops_python.softmax_exp_table(layer)
            elif op == OP_MAX_POOL_2D:
                extra = ((layer.act_min + 128) << 8) | (layer.act_max + 128)
            else:
                extra = None
            self.steps.append((op, layer, geometry(layer), extra))
        self.acc = array.array("i", [0] * acc_size)  # preallocated int32 accumulators

    def run(self, src, dst):
        """Run every layer, ping-ponging between src and dst; return the buffer holding the output."""
        buf = self.model.buf
        acc = self.acc
        for op, layer, g, extra in self.steps:
            if op == OP_FULLY_CONNECTED:
                fully_connected_acc(buf, src, acc, g)
                requantize_all(acc, dst, extra)
            elif op == OP_CONV_2D:
                conv_2d_acc(buf, src, acc, g)
                requantize_all(acc, dst, extra)
            elif op == OP_DEPTHWISE_CONV_2D:
                depthwise_conv_2d_acc(buf, src, acc, g)
                requantize_all(acc, dst, extra)
            elif op == OP_MEAN:
                mean_acc(src, acc, g)
                requantize_all(acc, dst, extra)
            elif op == OP_MAX_POOL_2D:
                max_pool_2d_viper(src, dst, g, extra)
            elif op == OP_LOGISTIC:
                apply_table_viper(extra, src, dst, layer.in_size)
            else:
                softmax_viper(src, dst, extra, g, layer.p2)
            src, dst = dst, src
        return src

    def run_bytes(self, inp, a, b, out):
        """Engine entry: int8 bytes inp -> out through the work buffers a and b."""
        copy_bytes(a, inp, len(inp))
        result = self.run(a, b)
        copy_bytes(out, result, len(out))
