/* Verdant int8 kernel: the seven ops with TFLM's reference integer arithmetic. */
#include "nn_kernel.h"

#define I32_MAX ((int32_t)0x7fffffff)
#define I32_MIN (-I32_MAX - 1)

/* Wrapping int32 add/sub/shift: defined behaviour for any input a fuzzer can craft. */
static int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static int32_t wrap_shl(int32_t a, int32_t n) { return (int32_t)((uint32_t)a << n); }

/* Thumb-1 (Cortex-M0/M0+) has no 32x32->64 multiply: a 64-bit product there is a libgcc
 * call (__aeabi_lmul) that a dynamic module must carry. There high_mul uses four 32-bit
 * products instead (also selectable with -DNN_HIGH_MUL_32 to test it on the host). */
#if defined(__ARM_ARCH_6M__) && !defined(NN_HIGH_MUL_32)
#define NN_HIGH_MUL_32 1
#endif

/* gemmlowp SaturatingRoundingDoublingHighMul. gemmlowp adds 2^30 (or 1 - 2^30 when the
 * product is negative) and divides by 2^31 truncating; for every product that equals
 * floor((ab + 2^30) / 2^31). (>> of a negative value is arithmetic on every supported
 * compiler: GCC and Clang define it so.) */
#if defined(__GNUC__)
#define NN_INLINE __attribute__((always_inline)) inline
#else
#define NN_INLINE inline
#endif
static NN_INLINE int32_t high_mul_inline(int32_t a, int32_t b) {
    if (a == I32_MIN && b == I32_MIN) {
        return I32_MAX;
    }
#if defined(NN_HIGH_MUL_32)
    {
        /* a = ah*2^16 + al, b = bh*2^16 + bl (al, bl unsigned 16-bit): ab = high*2^32 + low */
        uint32_t al = (uint32_t)a & 0xffffu, bl = (uint32_t)b & 0xffffu, lo = al * bl, t, low;
        int32_t ah = a >> 16, bh = b >> 16, m1 = ah * (int32_t)bl, m2 = (int32_t)al * bh, high;
        t = (lo >> 16) + ((uint32_t)m1 & 0xffffu) + ((uint32_t)m2 & 0xffffu);
        high = ah * bh + (m1 >> 16) + (m2 >> 16) + (int32_t)(t >> 16);
        low = (t << 16) | (lo & 0xffffu);
        /* floor((high*2^32 + low + 2^30) / 2^31), low split so nothing overflows */
        return wrap_add(wrap_shl(high, 1), (int32_t)((low >> 31) + (((low & 0x7fffffffu) + 0x40000000u) >> 31)));
    }
#else
    return (int32_t)(((int64_t)a * b + (1 << 30)) >> 31);
#endif
}

/* One out-of-line copy for the table ops; requantize inlines its own. */
NN_NOINLINE static int32_t high_mul(int32_t a, int32_t b) {
    return high_mul_inline(a, b);
}

/* high_mul for a multiplier b >= 0 (every valid requantization multiplier), inlined in
 * requantize. On Thumb-1 three fewer steps than the general split: with a = ah*2^16 + al,
 * b = bh*2^16 + bl (al, bl, bh unsigned; bh < 2^15), floor((ab + 2^30) / 2^31) =
 * 2*ah*bh + floor((ah*bl + al*bh + floor(al*bl / 2^16) + 2^14) / 2^15) (the dropped
 * fraction of al*bl / 2^16 cannot carry past a multiple of 2^15), where ah*bl fits an
 * int32 and the rest a uint32 below 2^31, so the last floor adds the two parts' floors
 * and the carry of their remainders. */
static NN_INLINE int32_t high_mul_by_multiplier(int32_t a, int32_t b) {
#if defined(NN_HIGH_MUL_32)
    if (b >= 0) {
        uint32_t al = (uint32_t)a & 0xffffu, bl = (uint32_t)b & 0xffffu, bh = (uint32_t)b >> 16;
        int32_t ah = a >> 16, x = ah * (int32_t)bl;
        uint32_t y = al * bh + ((al * bl) >> 16) + (1u << 14);
        return wrap_add(ah * (int32_t)bh * 2, wrap_add((x >> 15) + (int32_t)(y >> 15),
            (int32_t)((((uint32_t)x & 0x7fffu) + (y & 0x7fffu)) >> 15)));
    }
#endif
    return high_mul_inline(a, b);
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent, ties away from zero; exponent 0..31. */
static NN_INLINE int32_t divide_by_pot_inline(int32_t x, int32_t exponent) {
    int32_t mask = (int32_t)((1u << exponent) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0);
    return (x >> exponent) + (remainder > threshold);
}

static int32_t divide_by_pot(int32_t x, int32_t exponent) {
    return divide_by_pot_inline(x, exponent);
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
    return divide_by_pot(high_mul_by_multiplier(wrap_shl(x, left), multiplier), shift > 0 ? 0 : -shift);
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
    for (k = 0; k < integer_bits + 2; k++) { /* exponent k - 2 below integer_bits: times exp(-2^(k-2)) */
        if (remainder & ((int32_t)1 << (fraction_bits + k - 2))) {
            result = high_mul(result, barrel[k]);
        }
    }
    return a == 0 ? I32_MAX : result;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 in and out, Newton-Raphson. */
static int32_t one_over_one_plus_x(int32_t a) {
    /* gemmlowp RoundingHalfSum(a, INT32_MAX) = (a + 2^31 - 1 +/- 1) / 2 truncated, in 32 bits:
     * a + 2^31 fits a uint32; only a = INT32_MIN makes the sum negative (-1 -> -1). */
    int32_t half_denominator = a == I32_MIN ? -1 : (int32_t)(((uint32_t)a + 0x80000000u) >> 1);
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

/* A layer being run: its record, resolved pointers, and its geometry as a window op
 * (g[], indexed by the enum below: the record's shape and window fields widened to int32).
 * FULLY_CONNECTED runs as a 1x1 convolution over a 1x1xD input and MEAN as a
 * depthwise window over the whole input with every weight 1 (weights NULL). */
enum { IN_H, IN_W, IN_C, OUT_H, OUT_W, OUT_C, KERNEL_H, KERNEL_W, STRIDE_H, STRIDE_W, DILATION_H, DILATION_W,
    PAD_TOP, PAD_LEFT, GEOMETRY_FIELDS };

typedef struct {
    const nn_layer *r;
    const uint8_t *model;
    const int8_t *in, *weights;
    int8_t *out;
    /* requantization arrays (NULL bias: none); quant_step 4 per channel, 0 for one multiplier */
    const uint8_t *bias, *multipliers, *shifts;
    uint32_t quant_step;
    int aligned; /* model buffer 4-aligned: its arrays (4-aligned offsets) read as words */
    int32_t g[GEOMETRY_FIELDS];
} layer_ctx;

/* The in-bounds taps of one output pixel: rows [ky0, ky1), columns [kx0, kx1). */
typedef struct {
    int32_t iy0, ix0, ky0, ky1, kx0, kx1;
} window;

static int8_t clamp_output(const layer_ctx *l, int32_t value) {
    return (int8_t)(value < l->r->act_min ? l->r->act_min : value > l->r->act_max ? l->r->act_max : value);
}

/* One 32-bit array element: a word load when the buffer is aligned (the file's arrays are). */
typedef uint32_t nn_word_alias
#if defined(__GNUC__)
    __attribute__((may_alias))
#endif
    ;

/* acc + bias, requantized with channel c's multiplier and shift (or the single ones), clamped.
 * Each of bias, multiplier and shift is read once per output value, as an aligned word.
 * The shift was range-checked at load; clamping it again keeps the shifts defined even if
 * the buffer changed since (the per-call guard checks structure, not these values). */
/* acc + bias, requantized with channel c's multiplier and shift (or the single ones), clamped.
 * Each of bias, multiplier and shift is read once per output value, as an aligned word when
 * the buffer is aligned (the file's arrays are 4-aligned), byte by byte otherwise. The shift
 * was range-checked at load; clamping it again keeps the shifts defined even if the buffer
 * changed since (the per-call guard checks structure, not these values). */
NN_NOINLINE static int8_t requantize(const layer_ctx *l, uint32_t acc, uint32_t c) {
    uint32_t q = c * l->quant_step;
    int32_t shift, m, left, x, out_zp = l->r->out_zp;
    if (l->aligned) {
        shift = (int32_t)*(const nn_word_alias *)(const void *)(l->shifts + q);
        m = (int32_t)*(const nn_word_alias *)(const void *)(l->multipliers + q);
        acc += l->bias ? *(const nn_word_alias *)(const void *)(l->bias + 4u * c) : 0u;
    } else {
        shift = (int32_t)nn_rd32(l->shifts + q);
        m = (int32_t)nn_rd32(l->multipliers + q);
        acc += l->bias ? nn_rd32(l->bias + 4u * c) : 0u;
    }
    shift = shift < -31 ? -31 : shift > 30 ? 30 : shift;
    left = shift > 0 ? shift : 0;
    x = wrap_add(out_zp, divide_by_pot_inline(high_mul_by_multiplier(wrap_shl((int32_t)acc, left), m), left - shift));
    return (int8_t)(x < l->r->act_min ? l->r->act_min : x > l->r->act_max ? l->r->act_max : x);
}

#if defined(NN_USE_THUMB_ASM) && defined(__thumb__) && !defined(__ARM_FEATURE_DSP)
/* nn_dot4_thumb.S; the words of args are listed there. */
int8_t *nn_requant_thumb(const uint32_t *acc, int8_t *out, const uint32_t args[9]);
static const uint32_t no_bias = 0u;
#define NN_REQUANT_THUMB 1
#endif

/* acc[0..n) of output channels c.. requantized into out; returns out advanced. */
static int8_t *requantize_run(const layer_ctx *l, const uint32_t *acc, uint32_t c, int32_t n, int8_t *out) {
    int32_t i;
#if defined(NN_REQUANT_THUMB)
    if (l->aligned && n > 0) { /* the arrays read as words */
        uint32_t args[9];
        args[0] = (uint32_t)(uintptr_t)(l->bias ? l->bias + 4u * c : (const uint8_t *)&no_bias);
        args[1] = l->bias ? 4u : 0u;
        args[2] = (uint32_t)(uintptr_t)(l->multipliers + c * l->quant_step);
        args[3] = (uint32_t)(uintptr_t)(l->shifts + c * l->quant_step);
        args[4] = l->quant_step;
        args[5] = (uint32_t)(int32_t)l->r->out_zp;
        args[6] = (uint32_t)(int32_t)l->r->act_min;
        args[7] = (uint32_t)(int32_t)l->r->act_max;
        args[8] = (uint32_t)(uintptr_t)(out + n);
        return nn_requant_thumb(acc, out, args);
    }
#endif
    for (i = 0; i < n; i++) {
        *out++ = requantize(l, acc[i], c + (uint32_t)i);
    }
    return out;
}

#if defined(__ARM_FEATURE_DSP)
/* Cortex-M4/M7/M33 (DSP extension): four input bytes at a time, sign-extended in pairs
 * (SXTB16), zero point subtracted in pairs (SADD16) and two MACs per SMLAD. Every value is
 * a 16-bit signed number (x - zp in -255..255, w in -128..127) and SMLAD's accumulation
 * wraps like the portable loop, so the sums are bit for bit the same. */
#include <arm_acle.h>
typedef int32_t nn_unaligned_word
#if defined(__GNUC__)
    __attribute__((aligned(1), may_alias))
#endif
    ;
/* Four int8 at p (any alignment: Cortex-M4/M33 LDR allows it) and the same word rotated by
 * 8 bits: SXTB16 of the two gives the even and the odd bytes as two int16 each. */
static inline int32_t word_at(const int8_t *p) { return *(const nn_unaligned_word *)(const void *)p; }
static inline int32_t ror8(int32_t v) { return (int32_t)(((uint32_t)v >> 8) | ((uint32_t)v << 24)); }

static void dot4(const int8_t *const w[4], const int8_t *x, int32_t n, int32_t zp, uint32_t acc[4]) {
    int32_t a0 = (int32_t)acc[0], a1 = (int32_t)acc[1], a2 = (int32_t)acc[2], a3 = (int32_t)acc[3], i = 0;
    const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
    int16x2_t minus_zp = (int16x2_t)((uint32_t)(uint16_t)(int16_t)-zp * 0x10001u);
    for (; i + 4 <= n; i += 4) {
        int32_t xs = word_at(x + i), ws;
        int16x2_t even = __sadd16(__sxtb16(xs), minus_zp), odd = __sadd16(__sxtb16(ror8(xs)), minus_zp);
        ws = word_at(w0 + i);
        a0 = __smlad(__sxtb16(ror8(ws)), odd, __smlad(__sxtb16(ws), even, a0));
        ws = word_at(w1 + i);
        a1 = __smlad(__sxtb16(ror8(ws)), odd, __smlad(__sxtb16(ws), even, a1));
        ws = word_at(w2 + i);
        a2 = __smlad(__sxtb16(ror8(ws)), odd, __smlad(__sxtb16(ws), even, a2));
        ws = word_at(w3 + i);
        a3 = __smlad(__sxtb16(ror8(ws)), odd, __smlad(__sxtb16(ws), even, a3));
    }
    for (; i < n; i++) { /* the last 0..3 inputs; unsigned sums wrap like SMLAD's */
        int32_t v = x[i] - zp;
        a0 = (int32_t)((uint32_t)a0 + (uint32_t)(w0[i] * v));
        a1 = (int32_t)((uint32_t)a1 + (uint32_t)(w1[i] * v));
        a2 = (int32_t)((uint32_t)a2 + (uint32_t)(w2[i] * v));
        a3 = (int32_t)((uint32_t)a3 + (uint32_t)(w3[i] * v));
    }
    acc[0] = (uint32_t)a0;
    acc[1] = (uint32_t)a1;
    acc[2] = (uint32_t)a2;
    acc[3] = (uint32_t)a3;
}
#elif defined(NN_USE_THUMB_ASM) && defined(__thumb__)
/* nn_dot4_thumb.S (the build defines NN_USE_THUMB_ASM when it assembles that file); n > 0. */
void nn_dot4_thumb(const int8_t *const w[4], const int8_t *x, int32_t n, int32_t zp, uint32_t acc[4]);
#define dot4 nn_dot4_thumb
#else
/* The inner loop: four weight rows against one input run, acc[r] += sum w_r[i]*(x[i] - zp),
 * wrapping (unsigned sums: the overflow a fuzzer can provoke is defined). */
static void dot4(const int8_t *const w[4], const int8_t *x, int32_t n, int32_t zp, uint32_t acc[4]) {
    uint32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
    int32_t i;
    for (i = 0; i < n; i++) {
        int32_t v = x[i] - zp;
        a0 += (uint32_t)(w0[i] * v);
        a1 += (uint32_t)(w1[i] * v);
        a2 += (uint32_t)(w2[i] * v);
        a3 += (uint32_t)(w3[i] * v);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}
#endif

/* Dimension d (0 rows, 1 columns) of output position o: the input origin, and the first and
 * one-past-last tap k with origin + k*dilation inside the input. */
NN_NOINLINE static int32_t tap_range(const layer_ctx *l, int32_t d, int32_t o, int32_t *first, int32_t *end) {
    const int32_t *g = l->g;
    int32_t dilation = g[DILATION_H + d], kernel = g[KERNEL_H + d], size = g[IN_H + d];
    int32_t origin = o * g[STRIDE_H + d] - g[PAD_TOP + d], k0 = 0, k1 = kernel;
    while (k0 < kernel && origin + k0 * dilation < 0) {
        k0++;
    }
    while (k1 > k0 && origin + (k1 - 1) * dilation >= size) {
        k1--;
    }
    *first = k0;
    *end = k1;
    return origin;
}

/* CONV_2D and FULLY_CONNECTED, one output pixel: output channels four at a time through the
 * MAC loop (a last group of fewer reuses the first row for the missing ones, unused). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns"))) /* no memset call in a .mpy */
#endif
static int8_t *conv_pixel(const layer_ctx *l, const window *win, int8_t *out) {
    const int32_t *g = l->g;
    int32_t kw = g[KERNEL_W], dw = g[DILATION_W], in_c = g[IN_C], out_c = g[OUT_C], zp = l->r->in_zp;
    int32_t filter = g[KERNEL_H] * kw * in_c, c, r, ky, kx, rows;
    /* dilation 1: the in-bounds taps of a row are one contiguous run; else one run per tap */
    int32_t runs = dw == 1 ? 1 : win->kx1 - win->kx0, run = dw == 1 ? (win->kx1 - win->kx0) * in_c : in_c;
    int32_t row_step = g[DILATION_H] * g[IN_W] * in_c, tap_step = dw * in_c;
    const int8_t *first = l->weights, *f[4], *w[4];
    const int8_t *rows_in = l->in + (win->iy0 + win->ky0 * g[DILATION_H]) * g[IN_W] * in_c + (win->ix0 + win->kx0 * dw) * in_c;
    uint32_t acc[4];
    if (run <= 0) { /* no tap inside the input: every sum is 0 */
        runs = 0;
    }
    for (c = 0; c < out_c; c += 4, first += 4 * filter) {
        const int8_t *x_row = rows_in;
        rows = out_c - c < 4 ? out_c - c : 4;
        f[0] = first; /* a last group of fewer rows repeats its last row (unused) */
        f[1] = rows > 1 ? first + filter : first;
        f[2] = rows > 2 ? first + 2 * filter : f[1];
        f[3] = rows > 3 ? first + 3 * filter : f[2];
        for (r = 0; r < 4; r++) {
            acc[r] = 0u;
        }
        for (ky = win->ky0; ky < win->ky1; ky++, x_row += row_step) {
            const int8_t *x = x_row;
            int32_t at = (ky * kw + win->kx0) * in_c;
            for (kx = 0; kx < runs; kx++, x += tap_step, at += in_c) {
                for (r = 0; r < 4; r++) {
                    w[r] = f[r] + at;
                }
                dot4(w, x, run, zp, acc);
            }
        }
        out = requantize_run(l, acc, (uint32_t)c, rows, out);
    }
    return out;
}

/* DEPTHWISE_CONV_2D, MEAN (weights NULL: every weight 1) and MAX_POOL_2D, one output pixel.
 * Input channel ic feeds depth_multiplier consecutive output channels (1 for MEAN and pooling).
 * Channels go in chunks of CHUNK: taps outer, channels inner, one running sum (or maximum)
 * per channel, so each tap's input and weight rows are read in order. */
#define CHUNK 16
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns"))) /* no memset call in a .mpy */
#endif
NN_NOINLINE static int8_t *channelwise_pixel(const layer_ctx *l, const window *win, int8_t *out) {
    const int32_t *g = l->g;
    int32_t in_c = g[IN_C], out_c = g[OUT_C], zp = l->r->in_zp, c0, n, i, ky, kx;
    int32_t multiplier = l->r->depth_multiplier ? l->r->depth_multiplier : 1;
    int pool = l->r->op == NN_OP_MAX_POOL_2D;
    uint32_t acc[CHUNK];
    int32_t chunk_ic = 0, chunk_repeat = 0; /* input channel of the chunk's first output: no division */
    for (c0 = 0; c0 < out_c; c0 += CHUNK) {
        n = out_c - c0 < CHUNK ? out_c - c0 : CHUNK;
        for (i = 0; i < n; i++) {
            acc[i] = pool ? (uint32_t)-128 : 0u;
        }
        for (ky = win->ky0; ky < win->ky1; ky++) {
            const int8_t *row = l->in + (win->iy0 + ky * g[DILATION_H]) * g[IN_W] * in_c;
            for (kx = win->kx0; kx < win->kx1; kx++) {
                const int8_t *x = row + (win->ix0 + kx * g[DILATION_W]) * in_c;
                const int8_t *w = l->weights ? l->weights + (ky * g[KERNEL_W] + kx) * out_c + c0 : 0;
                if (multiplier != 1) { /* output channel c reads input channel c / multiplier */
                    int32_t ic = chunk_ic, repeat = chunk_repeat;
                    for (i = 0; i < n; i++) {
                        acc[i] += (uint32_t)(w[i] * (x[ic] - zp));
                        if (++repeat == multiplier) {
                            repeat = 0;
                            ic++;
                        }
                    }
                } else if (pool) {
                    for (i = 0; i < n; i++) {
                        int32_t v = x[c0 + i];
                        acc[i] = v > (int32_t)acc[i] ? (uint32_t)v : acc[i];
                    }
                } else if (w) {
                    for (i = 0; i < n; i++) {
                        acc[i] += (uint32_t)(w[i] * (x[c0 + i] - zp));
                    }
                } else {
                    for (i = 0; i < n; i++) {
                        acc[i] += (uint32_t)(x[c0 + i] - zp);
                    }
                }
            }
        }
        for (i = 0; multiplier != 1 && i < n; i++) {
            if (++chunk_repeat == multiplier) {
                chunk_repeat = 0;
                chunk_ic++;
            }
        }
        if (pool) { /* pooling keeps the quantization: clamp only */
            for (i = 0; i < n; i++) {
                *out++ = clamp_output(l, (int32_t)acc[i]);
            }
        } else {
            out = requantize_run(l, acc, (uint32_t)c0, n, out);
        }
    }
    return out;
}

/* FULLY_CONNECTED: output channels four at a time, one MAC run over the whole input each. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns"))) /* no memset call in a .mpy */
#endif
NN_NOINLINE static void fully_connected(const layer_ctx *l) {
    int32_t depth = l->g[IN_C], out_c = l->g[OUT_C], c, r;
    const int8_t *row = l->weights, *w[4];
    int8_t *out = l->out;
    uint32_t acc[4];
    for (c = 0; c < out_c; c += 4) {
        int32_t rows = out_c - c < 4 ? out_c - c : 4;
        w[0] = row; /* a last group of fewer rows repeats its last row (unused) */
        w[1] = rows > 1 ? row + depth : row;
        w[2] = rows > 2 ? row + 2 * depth : w[1];
        w[3] = rows > 3 ? row + 3 * depth : w[2];
        for (r = 0; r < 4; r++) {
            acc[r] = 0u;
        }
        row += 4 * depth;
        dot4(w, l->in, depth, l->r->in_zp, acc); /* depth >= 1: checked shapes have no zero */
        out = requantize_run(l, acc, (uint32_t)c, rows, out);
    }
}

/* The window ops share the walk over output pixels and in-bounds taps. */
NN_NOINLINE static void window_op(const layer_ctx *l) {
    window win;
    int32_t oy, ox;
    int8_t *out = l->out;
    int dense = l->r->op == NN_OP_CONV_2D || l->r->op == NN_OP_FULLY_CONNECTED;
    for (oy = 0; oy < l->g[OUT_H]; oy++) {
        win.iy0 = tap_range(l, 0, oy, &win.ky0, &win.ky1);
        for (ox = 0; ox < l->g[OUT_W]; ox++) {
            win.ix0 = tap_range(l, 1, ox, &win.kx0, &win.kx1);
            out = dense ? conv_pixel(l, &win, out) : channelwise_pixel(l, &win, out);
        }
    }
}

/* Softmax's exp(beta * s_in * diff) in Q0.31 for diff = x - row max (TFLM's Q5.26 input);
 * 0 below diff_min (p2), which TFLM leaves out of the sum and maps to -128: a term of 0
 * does both. */
static int32_t softmax_exp(const layer_ctx *l, int32_t diff) {
    if (diff < l->r->p2) {
        return 0;
    }
    return exp_negative(high_mul(wrap_shl(diff, l->r->p1), l->r->p0), 5);
}

#define SOFTMAX_KEPT 16

static void softmax(const layer_ctx *l) {
    int32_t depth = l->g[IN_C], rows = l->g[IN_H] * l->g[IN_W], row;
    for (row = 0; row < rows; row++) {
        const int8_t *x = l->in + row * depth;
        int8_t *y = l->out + row * depth;
        int32_t max = -128, c, headroom = 0, exponent, scale;
        uint32_t sum = 0u; /* Q12.19 */
        int32_t exps[SOFTMAX_KEPT]; /* the first classes' exp terms, kept for the second pass */
        for (c = 0; c < depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        for (c = 0; c < depth; c++) {
            int32_t e = softmax_exp(l, x[c] - max);
            if (c < SOFTMAX_KEPT) {
                exps[c] = e;
            }
            sum += (uint32_t)divide_by_pot(e, 12);
        }
        while (headroom < 32 && !(sum & (0x80000000u >> headroom))) {
            headroom++;
        }
        scale = one_over_one_plus_x((int32_t)((headroom < 32 ? sum << headroom : 0u) - 0x80000000u));
        exponent = 12 - headroom + 31 - 8; /* bits over unit + 23 */
        exponent = exponent > 31 ? 31 : exponent; /* only reachable past 4096 classes */
        for (c = 0; c < depth; c++) {
            int32_t v = divide_by_pot(high_mul(scale, c < SOFTMAX_KEPT ? exps[c] : softmax_exp(l, x[c] - max)), exponent) - 128;
            y[c] = (int8_t)(v > 127 ? 127 : v);
        }
    }
}

void nn_init(const nn_model *model, uint8_t *arena) {
    uint32_t i;
    int32_t q;
    nn_layer_words rec;
    for (i = 0; i < model->layer_count; i++) {
        const nn_layer *r = nn_layer_at(model->buf, i, &rec);
        if (r->op == NN_OP_LOGISTIC) {
            for (q = -128; q < 128; q++) {
                *arena++ = (uint8_t)nn_logistic_value(q, r->in_zp, r->p0, r->p1, r->p2);
            }
        }
    }
}

void nn_run(const nn_model *model, uint8_t *arena, const int8_t *input, int8_t *output) {
    int8_t *buffers[2];
    const uint8_t *table = arena, *raw;
    uint32_t i, op;
    int32_t e, k, *g;
    layer_ctx l;
    nn_layer_words rec;
    buffers[0] = (int8_t *)(arena + model->logistic_count * NN_LOGISTIC_TABLE_BYTES);
    buffers[1] = buffers[0] + model->activation_bytes;
    l.model = model->buf;
    l.aligned = ((uintptr_t)model->buf & 3u) == 0u;
    l.in = input;
    g = l.g;
    for (i = 0; i < model->layer_count; i++) {
        l.r = nn_layer_at(model->buf, i, &rec);
        raw = (const uint8_t *)l.r;
        op = l.r->op;
        l.out = i + 1u == model->layer_count ? output : buffers[i & 1u];
        l.weights = l.r->weights ? (const int8_t *)(model->buf + l.r->weights) : 0;
        l.bias = l.r->bias ? model->buf + l.r->bias : 0;
        l.multipliers = model->buf + l.r->multipliers;
        l.shifts = model->buf + l.r->shifts;
        l.quant_step = l.r->quant_channels == 1u ? 0u : 4u;
        /* in_shape, out_shape (u16 at record bytes 8..19), then kernel..pad_left (u8 at 20..27) */
        for (k = 0; k < 3; k++) { /* the record was loaded as aligned words */
            g[IN_H + k] = l.r->in_shape[k];
            g[OUT_H + k] = l.r->out_shape[k];
        }
        for (k = KERNEL_H; k < GEOMETRY_FIELDS; k++) {
            g[k] = raw[14 + k];
        }
        /* FC and MEAN ignore the record's window fields (whatever they hold). */
        if (op == NN_OP_FULLY_CONNECTED || op == NN_OP_MEAN) {
            for (k = KERNEL_H; k < PAD_TOP; k++) {
                g[k] = 1;
            }
            g[PAD_TOP] = g[PAD_LEFT] = 0;
            if (op == NN_OP_FULLY_CONNECTED) { /* 1x1 convolution over a 1x1xD input */
                g[IN_C] *= g[IN_H] * g[IN_W];
                g[IN_H] = g[IN_W] = 1;
            } else { /* one window over the whole input */
                g[KERNEL_H] = g[IN_H];
                g[KERNEL_W] = g[IN_W];
            }
        }
        if (op == NN_OP_LOGISTIC) {
            for (e = 0; e < g[IN_H] * g[IN_W] * g[IN_C]; e++) {
                l.out[e] = (int8_t)table[(uint8_t)(l.in[e] + 128)];
            }
            table += NN_LOGISTIC_TABLE_BYTES;
        } else if (op == NN_OP_FULLY_CONNECTED) {
            fully_connected(&l);
        } else if (op == NN_OP_SOFTMAX) {
            softmax(&l);
        } else {
            window_op(&l);
        }
        l.in = l.out;
    }
}
