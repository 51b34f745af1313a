/* Verdant int8 kernel: the seven ops with TFLM's reference integer arithmetic. */
#include "nn_kernel.h"

#define I32_MAX ((int32_t)0x7fffffff)
#define I32_MIN (-I32_MAX - 1)

/* Wrapping int32 add/sub/shift: defined behaviour for any input a fuzzer can craft. */
static int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static int32_t wrap_shl(int32_t a, int32_t n) { return (int32_t)((uint32_t)a << n); }

/* gemmlowp SaturatingRoundingDoublingHighMul. */
static int32_t high_mul(int32_t a, int32_t b) {
    int64_t ab;
    if (a == I32_MIN && b == I32_MIN) {
        return I32_MAX;
    }
    ab = (int64_t)a * b;
    ab += ab >= 0 ? (1 << 30) : 1 - (1 << 30);
    return (int32_t)(ab / ((int64_t)1 << 31)); /* C division truncates, as gemmlowp */
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent, ties away from zero; exponent 0..31. */
static int32_t divide_by_pot(int32_t x, int32_t exponent) {
    int32_t mask = (int32_t)((1u << exponent) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0);
    return (x >> exponent) + (remainder > threshold);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent. */
static int32_t saturating_shl(int32_t x, int32_t exponent) {
    int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold) {
        return I32_MAX;
    }
    if (x < -threshold) {
        return I32_MIN;
    }
    return wrap_shl(x, exponent);
}

int32_t nn_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
    int32_t left = shift > 0 ? shift : 0;
    return divide_by_pot(high_mul(wrap_shl(x, left), multiplier), shift > 0 ? 0 : -shift);
}

/* gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl, Q0.31. */
static int32_t exp_quarter(int32_t a) {
    const int32_t exp_minus_eighth = 1895147668, one_third = 715827883;
    int32_t x = wrap_add(a, 1 << 28);
    int32_t x2 = high_mul(x, x), x3 = high_mul(x2, x), x4 = high_mul(x2, x2);
    int32_t poly = divide_by_pot(wrap_add(high_mul(wrap_add(divide_by_pot(x4, 2), x3), one_third), x2), 1);
    return wrap_add(exp_minus_eighth, high_mul(exp_minus_eighth, wrap_add(x, poly)));
}

/* gemmlowp exp_on_negative_values for a Q(integer_bits) input (4 or 5), Q0.31 result. */
static int32_t exp_negative(int32_t a, int32_t integer_bits) {
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    int32_t fraction_bits = 31 - integer_bits;
    int32_t quarter = (int32_t)1 << (fraction_bits - 2);
    int32_t a_mod_quarter_minus_quarter = wrap_sub(a & (quarter - 1), quarter);
    int32_t result = exp_quarter(saturating_shl(a_mod_quarter_minus_quarter, integer_bits));
    int32_t remainder = wrap_sub(a_mod_quarter_minus_quarter, a);
    int32_t k;
    for (k = 0; k < 7; k++) { /* exponent k - 2: multiply by exp(-2^(k-2)) */
        if (integer_bits > k - 2 && (remainder & ((int32_t)1 << (fraction_bits + k - 2)))) {
            result = high_mul(result, barrel[k]);
        }
    }
    return a == 0 ? I32_MAX : result;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 in and out, Newton-Raphson. */
static int32_t one_over_one_plus_x(int32_t a) {
    int64_t sum = (int64_t)a + I32_MAX;
    int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = wrap_add(1515870810, high_mul(half_denominator, -1010580540)); /* 48/17 - 32/17 d, Q2.29 */
    int i;
    for (i = 0; i < 3; i++) {
        int32_t error = wrap_sub(1 << 29, high_mul(half_denominator, x));
        x = wrap_add(x, saturating_shl(high_mul(x, error), 2));
    }
    return saturating_shl(x, 1);
}

int8_t nn_logistic_value(int32_t input, int32_t zero_point, int32_t multiplier, int32_t left_shift, int32_t radius) {
    int32_t centred = input - zero_point, q4, positive, result;
    if (centred <= -radius) {
        return -128;
    }
    if (centred >= radius) {
        return 127;
    }
    q4 = nn_multiply_by_quantized_multiplier(centred, multiplier, left_shift);
    if (q4 == 0) {
        result = 1 << 30;
    } else {
        positive = one_over_one_plus_x(exp_negative(q4 > 0 ? -q4 : q4, 4));
        result = q4 > 0 ? positive : wrap_sub(I32_MAX, positive);
    }
    result = divide_by_pot(result, 23) - 128;
    return (int8_t)(result > 127 ? 127 : result < -128 ? -128 : result);
}

/* Layer record accessors. */
#define REC_U8(rec, off) ((uint32_t)(rec)[off])
#define REC_I8(rec, off) ((int32_t)(int8_t)(rec)[off])
#define REC_U16(rec, off) nn_rd16((rec) + (off))
#define REC_I32(rec, off) ((int32_t)nn_rd32((rec) + (off)))

typedef struct {
    const uint8_t *model;
    const uint8_t *rec;
    const int8_t *in;
    int8_t *out;
    uint32_t in_h, in_w, in_c, out_h, out_w, out_c;
    int32_t in_zp, out_zp, act_min, act_max;
} layer_ctx;

static int8_t clamp_output(const layer_ctx *l, int32_t value) {
    value += l->out_zp;
    return (int8_t)(value < l->act_min ? l->act_min : value > l->act_max ? l->act_max : value);
}

/* acc + bias, requantized with channel c's multiplier (or the single one), clamped. */
static int8_t requantize(const layer_ctx *l, uint32_t acc, uint32_t c) {
    uint32_t bias = nn_rd32(l->rec + NN_L_BIAS), mults = nn_rd32(l->rec + NN_L_MULTIPLIERS);
    uint32_t shifts = nn_rd32(l->rec + NN_L_SHIFTS);
    uint32_t q = REC_U16(l->rec, NN_L_QUANT_CHANNELS) == 1u ? 0u : c;
    if (bias) {
        acc += nn_rd32(l->model + bias + 4u * c);
    }
    return clamp_output(l, nn_multiply_by_quantized_multiplier((int32_t)acc,
        (int32_t)nn_rd32(l->model + mults + 4u * q), (int32_t)nn_rd32(l->model + shifts + 4u * q)));
}

#if defined(NN_USE_THUMB_ASM) && defined(__thumb__)
/* nn_dot2_thumb.S: the build defines NN_USE_THUMB_ASM when it assembles that file. */
void nn_dot2_thumb(const int8_t *w0_end, const int8_t *w1_end, const int8_t *x_end, int32_t minus_n,
    int32_t minus_zp, uint32_t acc[2]);
#endif

/* The inner loop: two weight rows against one input run, acc[r] += sum w_r[i]*(x[i] - zp),
 * wrapping. Counts a negative index up to zero: load, load, sub, mul, add per row. */
static void dot2(const int8_t *w0, const int8_t *w1, const int8_t *x, int32_t n, int32_t zp, uint32_t acc[2]) {
    if (n <= 0) {
        return;
    }
#if defined(NN_USE_THUMB_ASM) && defined(__thumb__)
    nn_dot2_thumb(w0 + n, w1 + n, x + n, -n, -zp, acc);
#else
    {
        uint32_t a0 = acc[0], a1 = acc[1];
        int32_t i;
        w0 += n;
        w1 += n;
        x += n;
        for (i = -n; i != 0; i++) {
            int32_t v = x[i] - zp;
            a0 += (uint32_t)(w0[i] * v);
            a1 += (uint32_t)(w1[i] * v);
        }
        acc[0] = a0;
        acc[1] = a1;
    }
#endif
}

static void fully_connected(const layer_ctx *l) {
    const int8_t *w = (const int8_t *)(l->model + nn_rd32(l->rec + NN_L_WEIGHTS));
    int32_t depth = (int32_t)(l->in_h * l->in_w * l->in_c);
    uint32_t c;
    for (c = 0; c < l->out_c; c += 2u) {
        uint32_t acc[2] = {0u, 0u};
        int pair = c + 1u < l->out_c;
        const int8_t *row = w + (int32_t)c * depth;
        dot2(row, pair ? row + depth : row, l->in, depth, l->in_zp, acc);
        l->out[c] = requantize(l, acc[0], c);
        if (pair) {
            l->out[c + 1u] = requantize(l, acc[1], c + 1u);
        }
    }
}

/* First and one-past-last tap index k with origin + k*dilation inside [0, size). */
static void tap_range(int32_t origin, int32_t dilation, int32_t kernel, int32_t size, int32_t *first, int32_t *end) {
    int32_t k0 = 0, k1 = kernel;
    while (k0 < kernel && origin + k0 * dilation < 0) {
        k0++;
    }
    while (k1 > k0 && origin + (k1 - 1) * dilation >= size) {
        k1--;
    }
    *first = k0;
    *end = k1;
}

static void conv_2d(const layer_ctx *l) {
    const uint8_t *r = l->rec;
    const int8_t *w = (const int8_t *)(l->model + nn_rd32(r + NN_L_WEIGHTS));
    int32_t kh = (int32_t)REC_U8(r, NN_L_KERNEL_H), kw = (int32_t)REC_U8(r, NN_L_KERNEL_W);
    int32_t sh = (int32_t)REC_U8(r, NN_L_STRIDE_H), sw = (int32_t)REC_U8(r, NN_L_STRIDE_W);
    int32_t dh = (int32_t)REC_U8(r, NN_L_DILATION_H), dw = (int32_t)REC_U8(r, NN_L_DILATION_W);
    int32_t in_w = (int32_t)l->in_w, in_c = (int32_t)l->in_c, filter = kh * kw * in_c;
    int32_t oy, ox, ky, kx, ky0, ky1, kx0, kx1;
    uint32_t c;
    int8_t *out = l->out;
    for (oy = 0; oy < (int32_t)l->out_h; oy++) {
        int32_t iy0 = oy * sh - (int32_t)REC_U8(r, NN_L_PAD_TOP);
        tap_range(iy0, dh, kh, (int32_t)l->in_h, &ky0, &ky1);
        for (ox = 0; ox < (int32_t)l->out_w; ox++) {
            int32_t ix0 = ox * sw - (int32_t)REC_U8(r, NN_L_PAD_LEFT);
            tap_range(ix0, dw, kw, in_w, &kx0, &kx1);
            for (c = 0; c < l->out_c; c += 2u) {
                uint32_t acc[2] = {0u, 0u};
                int pair = c + 1u < l->out_c;
                const int8_t *f0 = w + (int32_t)c * filter, *f1 = pair ? f0 + filter : f0;
                for (ky = ky0; ky < ky1; ky++) {
                    const int8_t *row = l->in + (iy0 + ky * dh) * in_w * in_c;
                    int32_t tap = ky * kw;
                    if (dw == 1) { /* the in-bounds taps of a row are one contiguous run */
                        int32_t at = (tap + kx0) * in_c;
                        dot2(f0 + at, f1 + at, row + (ix0 + kx0) * in_c, (kx1 - kx0) * in_c, l->in_zp, acc);
                    } else {
                        for (kx = kx0; kx < kx1; kx++) {
                            int32_t at = (tap + kx) * in_c;
                            dot2(f0 + at, f1 + at, row + (ix0 + kx * dw) * in_c, in_c, l->in_zp, acc);
                        }
                    }
                }
                *out++ = requantize(l, acc[0], c);
                if (pair) {
                    *out++ = requantize(l, acc[1], c + 1u);
                }
            }
        }
    }
}

static void depthwise_conv_2d(const layer_ctx *l) {
    const uint8_t *r = l->rec;
    const int8_t *w = (const int8_t *)(l->model + nn_rd32(r + NN_L_WEIGHTS));
    int32_t kh = (int32_t)REC_U8(r, NN_L_KERNEL_H), kw = (int32_t)REC_U8(r, NN_L_KERNEL_W);
    int32_t sh = (int32_t)REC_U8(r, NN_L_STRIDE_H), sw = (int32_t)REC_U8(r, NN_L_STRIDE_W);
    int32_t dh = (int32_t)REC_U8(r, NN_L_DILATION_H), dw = (int32_t)REC_U8(r, NN_L_DILATION_W);
    int32_t in_w = (int32_t)l->in_w, in_c = (int32_t)l->in_c, out_c = (int32_t)l->out_c;
    int32_t mult = (int32_t)REC_U16(r, NN_L_DEPTH_MULT);
    int32_t oy, ox, oc, ky, kx, ky0, ky1, kx0, kx1;
    int8_t *out = l->out;
    for (oy = 0; oy < (int32_t)l->out_h; oy++) {
        int32_t iy0 = oy * sh - (int32_t)REC_U8(r, NN_L_PAD_TOP);
        tap_range(iy0, dh, kh, (int32_t)l->in_h, &ky0, &ky1);
        for (ox = 0; ox < (int32_t)l->out_w; ox++) {
            int32_t ix0 = ox * sw - (int32_t)REC_U8(r, NN_L_PAD_LEFT);
            tap_range(ix0, dw, kw, in_w, &kx0, &kx1);
            for (oc = 0; oc < out_c; oc++) {
                uint32_t acc = 0u;
                int32_t ic = oc / mult;
                for (ky = ky0; ky < ky1; ky++) {
                    for (kx = kx0; kx < kx1; kx++) {
                        int32_t x = l->in[((iy0 + ky * dh) * in_w + ix0 + kx * dw) * in_c + ic] - l->in_zp;
                        acc += (uint32_t)(w[(ky * kw + kx) * out_c + oc] * x);
                    }
                }
                *out++ = requantize(l, acc, (uint32_t)oc);
            }
        }
    }
}

static void max_pool_2d(const layer_ctx *l) {
    const uint8_t *r = l->rec;
    int32_t kh = (int32_t)REC_U8(r, NN_L_KERNEL_H), kw = (int32_t)REC_U8(r, NN_L_KERNEL_W);
    int32_t sh = (int32_t)REC_U8(r, NN_L_STRIDE_H), sw = (int32_t)REC_U8(r, NN_L_STRIDE_W);
    int32_t in_w = (int32_t)l->in_w, in_c = (int32_t)l->in_c;
    int32_t oy, ox, c, ky, kx, ky0, ky1, kx0, kx1;
    int8_t *out = l->out;
    for (oy = 0; oy < (int32_t)l->out_h; oy++) {
        int32_t iy0 = oy * sh - (int32_t)REC_U8(r, NN_L_PAD_TOP);
        tap_range(iy0, 1, kh, (int32_t)l->in_h, &ky0, &ky1);
        for (ox = 0; ox < (int32_t)l->out_w; ox++) {
            int32_t ix0 = ox * sw - (int32_t)REC_U8(r, NN_L_PAD_LEFT);
            tap_range(ix0, 1, kw, in_w, &kx0, &kx1);
            for (c = 0; c < in_c; c++) {
                int32_t best = -128;
                for (ky = ky0; ky < ky1; ky++) {
                    for (kx = kx0; kx < kx1; kx++) {
                        int32_t v = l->in[((iy0 + ky) * in_w + ix0 + kx) * in_c + c];
                        best = v > best ? v : best;
                    }
                }
                /* Same quantization in and out: clamp only. */
                *out++ = (int8_t)(best < l->act_min ? l->act_min : best > l->act_max ? l->act_max : best);
            }
        }
    }
}

static void mean(const layer_ctx *l) {
    uint32_t count = l->in_h * l->in_w, c, i;
    for (c = 0; c < l->in_c; c++) {
        uint32_t sum = 0u;
        for (i = 0; i < count; i++) {
            int32_t v = l->in[i * l->in_c + c];
            sum += (uint32_t)v;
        }
        sum -= (uint32_t)l->in_zp * count;
        l->out[c] = clamp_output(l, nn_multiply_by_quantized_multiplier((int32_t)sum,
            (int32_t)nn_rd32(l->model + nn_rd32(l->rec + NN_L_MULTIPLIERS)),
            (int32_t)nn_rd32(l->model + nn_rd32(l->rec + NN_L_SHIFTS))));
    }
}

/* Softmax's exp(beta * s_in * diff) in Q0.31 for diff = x - row max (TFLM's Q5.26 input). */
static int32_t softmax_exp(int32_t diff, int32_t multiplier, int32_t left_shift) {
    return exp_negative(high_mul(wrap_shl(diff, left_shift), multiplier), 5);
}

static void softmax(const layer_ctx *l) {
    int32_t multiplier = REC_I32(l->rec, NN_L_P0), left_shift = REC_I32(l->rec, NN_L_P1);
    int32_t diff_min = REC_I32(l->rec, NN_L_P2), depth = (int32_t)l->in_c;
    uint32_t rows = l->in_h * l->in_w, row;
    for (row = 0; row < rows; row++) {
        const int8_t *x = l->in + row * (uint32_t)depth;
        int8_t *y = l->out + row * (uint32_t)depth;
        int32_t max = -128, c, headroom = 0, bits_over_unit, exponent, scale;
        uint32_t sum = 0u; /* Q12.19 */
        for (c = 0; c < depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        for (c = 0; c < depth; c++) {
            if (x[c] - max >= diff_min) {
                sum += (uint32_t)divide_by_pot(softmax_exp(x[c] - max, multiplier, left_shift), 12);
            }
        }
        while (headroom < 32 && !(sum & (0x80000000u >> headroom))) {
            headroom++;
        }
        bits_over_unit = 12 - headroom;
        scale = one_over_one_plus_x((int32_t)((headroom < 32 ? sum << headroom : 0u) - 0x80000000u));
        exponent = bits_over_unit + 31 - 8;
        exponent = exponent > 31 ? 31 : exponent; /* only reachable past 4096 classes */
        for (c = 0; c < depth; c++) {
            int32_t v = -128;
            if (x[c] - max >= diff_min) {
                v = divide_by_pot(high_mul(scale, softmax_exp(x[c] - max, multiplier, left_shift)), exponent) - 128;
                v = v > 127 ? 127 : v;
            }
            y[c] = (int8_t)v;
        }
    }
}

void nn_init(const nn_model *model, uint8_t *arena) {
    uint32_t i, table = 0;
    int32_t q;
    for (i = 0; i < model->layer_count; i++) {
        const uint8_t *rec = model->buf + NN_HEADER_BYTES + i * NN_LAYER_BYTES;
        if (rec[NN_L_OP] != NN_OP_LOGISTIC) {
            continue;
        }
        for (q = -128; q < 128; q++) {
            arena[table * 256u + (uint32_t)(q + 128)] = (uint8_t)nn_logistic_value(q, REC_I8(rec, NN_L_IN_ZP),
                REC_I32(rec, NN_L_P0), REC_I32(rec, NN_L_P1), REC_I32(rec, NN_L_P2));
        }
        table++;
    }
}

void nn_run(const nn_model *model, uint8_t *arena, const int8_t *input, int8_t *output) {
    int8_t *buffers[2];
    const uint8_t *table = arena;
    uint32_t i, e;
    layer_ctx l;
    buffers[0] = (int8_t *)(arena + model->logistic_count * NN_LOGISTIC_TABLE_BYTES);
    buffers[1] = buffers[0] + model->activation_bytes;
    l.model = model->buf;
    l.in = input;
    for (i = 0; i < model->layer_count; i++) {
        const uint8_t *r = model->buf + NN_HEADER_BYTES + i * NN_LAYER_BYTES;
        l.rec = r;
        l.out = i + 1u == model->layer_count ? output : buffers[i & 1u];
        l.in_h = REC_U16(r, NN_L_IN_SHAPE);
        l.in_w = REC_U16(r, NN_L_IN_SHAPE + 2);
        l.in_c = REC_U16(r, NN_L_IN_SHAPE + 4);
        l.out_h = REC_U16(r, NN_L_OUT_SHAPE);
        l.out_w = REC_U16(r, NN_L_OUT_SHAPE + 2);
        l.out_c = REC_U16(r, NN_L_OUT_SHAPE + 4);
        l.in_zp = REC_I8(r, NN_L_IN_ZP);
        l.out_zp = REC_I8(r, NN_L_OUT_ZP);
        l.act_min = REC_I8(r, NN_L_ACT_MIN);
        l.act_max = REC_I8(r, NN_L_ACT_MAX);
        switch (r[NN_L_OP]) {
            case NN_OP_FULLY_CONNECTED:
                fully_connected(&l);
                break;
            case NN_OP_CONV_2D:
                conv_2d(&l);
                break;
            case NN_OP_DEPTHWISE_CONV_2D:
                depthwise_conv_2d(&l);
                break;
            case NN_OP_MAX_POOL_2D:
                max_pool_2d(&l);
                break;
            case NN_OP_MEAN:
                mean(&l);
                break;
            case NN_OP_LOGISTIC:
                for (e = 0; e < l.in_h * l.in_w * l.in_c; e++) {
                    l.out[e] = (int8_t)table[(uint8_t)(l.in[e] + 128)];
                }
                table += NN_LOGISTIC_TABLE_BYTES;
                break;
            default:
                softmax(&l);
                break;
        }
        l.in = l.out;
    }
}
