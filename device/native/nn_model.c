/* Parser and checker for Verdant model files (docs/model-format.md, version 1). */
#include "nn_model.h"

static const char *const status_texts[NN_ERR_COUNT] = {
    "ok",
    "truncated header",
    "bad magic (expected VRDT)",
    "unsupported format version",
    "header bytes must be 64",
    "file bytes does not match the buffer length",
    "CRC mismatch",
    "layer count must be 1..32",
    "layer record bytes must be 64",
    "layer table out of bounds",
    "metadata out of bounds",
    "reserved header field not zero",
    "input or output scale not finite and > 0",
    "input or output zero point outside -128..127",
    "unknown op",
    "reserved field not zero",
    "zero in a shape",
    "activation min > max",
    "input shape does not match the previous layer's output",
    "kernel, stride, dilation, depth multiplier or zero points invalid for the op",
    "output shape inconsistent with op parameters",
    "quantization channels invalid",
    "weights array misaligned, out of bounds or wrongly present/absent",
    "bias array misaligned, out of bounds or wrongly present",
    "multipliers array misaligned, out of bounds or wrongly present/absent",
    "shifts array misaligned, out of bounds or wrongly present/absent",
    "multiplier out of range",
    "shift out of range",
    "LOGISTIC/SOFTMAX parameters out of range, or p0..p2 set for another op",
    "header input elements do not match the first layer",
    "header output elements do not match the last layer",
    "header input zero point differs from the first layer's",
    "header output zero point differs from the last layer's",
    "arena bytes do not match the model",
};

const char *nn_status_text(nn_status status) {
    return (unsigned)status < NN_ERR_COUNT ? status_texts[status] : "unknown error";
}

uint32_t nn_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint32_t nn_crc32(const uint8_t *data, size_t len) {
    /* Nibble table: 64 bytes instead of 1 KB, two lookups per byte. */
    static const uint32_t nibble[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
        0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
        0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
    };
    uint32_t crc = 0xffffffffu;
    size_t i;
    for (i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ nibble[crc & 15u];
        crc = (crc >> 4) ^ nibble[crc & 15u];
    }
    return ~crc;
}

static char *append_text(char *out, char *end, const char *text) {
    while (*text && out < end) {
        *out++ = *text++;
    }
    return out;
}

/* label, then value in decimal (with a '-' when is_signed and negative as int32). Digits by
 * repeated subtraction of powers of ten: no division helper on Cortex-M0. */
static char *append_number(char *out, char *end, const char *label, uint32_t value, int is_signed) {
    uint32_t powers[10];
    int n = 0;
    out = append_text(out, end, label);
    if (is_signed && (int32_t)value < 0) {
        out = append_text(out, end, "-");
        value = 0u - value;
    }
    powers[0] = 1u;
    while (n < 9 && powers[n] * 10u <= value) {
        powers[n + 1] = powers[n] * 10u;
        n++;
    }
    for (; n >= 0 && out < end; n--) {
        char digit = '0';
        while (value >= powers[n]) {
            value -= powers[n];
            digit++;
        }
        *out++ = digit;
    }
    return out;
}

size_t nn_error_format(const nn_error *err, char *out, size_t out_size) {
    char *p = out, *end;
    if (out_size == 0) {
        return 0;
    }
    end = out + out_size - 1;
    p = append_text(p, end, "model: ");
    p = append_text(p, end, nn_status_text(err->status));
    if (err->layer >= 0) {
        p = append_number(p, end, " (layer ", (uint32_t)err->layer, 0);
        p = append_text(p, end, ")");
    }
    if (err->values >= 1) {
        p = append_number(p, end, ": found ", err->found, err->found_is_signed);
    }
    if (err->values == 2) {
        p = append_number(p, end, ", expected ", err->expected, 0);
    }
    *p = '\0';
    return (size_t)(p - out);
}

#if defined(__GNUC__) && !defined(__clang__)
/* A dynamic native module has no memcpy to call: keep GCC from turning the loop into one. */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
void nn_load_words(const uint8_t *buf, uint32_t *words) {
    uint32_t i;
    if (((uintptr_t)buf & 3u) == 0u) { /* the usual case (a heap buffer): 16 word copies */
        typedef uint32_t word_alias
#if defined(__GNUC__)
            __attribute__((may_alias))
#endif
            ;
        const word_alias *in = (const word_alias *)(const void *)buf;
        word_alias *out = (word_alias *)words;
        for (i = 0; i < 16u; i++) {
            out[i] = in[i];
        }
        return;
    }
    /* Byte stores (char may alias anything): the words are then fully written for any reader. */
    for (i = 0; i < 64u; i++) {
        ((uint8_t *)words)[i] = buf[i];
    }
}

/* The failing check; err->layer is set by the caller (-1 while checking the header). */
NN_NOINLINE static nn_status fail(nn_error *err, nn_status status) {
    err->status = status;
    err->values = 0;
    err->found_is_signed = 0;
    err->found = 0;
    err->expected = 0;
    return status;
}

NN_NOINLINE static nn_status fail_values(nn_error *err, nn_status status, uint32_t found, uint32_t expected) {
    fail(err, status);
    err->values = 2;
    err->found = found;
    err->expected = expected;
    return status;
}

NN_NOINLINE static nn_status fail_found(nn_error *err, nn_status status, uint32_t found, int is_signed) {
    fail(err, status);
    err->values = 1;
    err->found_is_signed = is_signed;
    err->found = found;
    return status;
}

#define NN_SATURATED 0xffffffffu

/* a * b for b < 2^16, or NN_SATURATED when it does not fit 32 bits. Sizes saturate instead
 * of wrapping: a saturated size never fits a file, a buffer or the arena check. Two 32-bit
 * products, so Cortex-M0 needs no 64-bit multiply helper. */
NN_NOINLINE static uint32_t mul_sat(uint32_t a, uint32_t b) {
    uint32_t high = (a >> 16) * b, low = (a & 0xffffu) * b;
    if (high >> 16) {
        return NN_SATURATED;
    }
    high <<= 16;
    return low > NN_SATURATED - high ? NN_SATURATED : high + low;
}

static uint32_t elements(const uint16_t *shape) {
    return mul_sat((uint32_t)shape[0] * shape[1], shape[2]);
}

static uint32_t rounded4(uint32_t n) {
    return n > NN_SATURATED - 3u ? NN_SATURATED : (n + 3u) & ~3u;
}

/* One spatial dimension of a windowed op must be exactly TFLM's VALID or SAME padding.
 * VALID: out = (in - effective) / stride + 1; SAME: out = ceil(in / stride), pad = half the
 * excess of the taps over the input. Written as products (all below 2^24: u16 sizes, u8
 * strides) so no division helper is needed. */
static int window_dim_ok(uint32_t in, uint32_t out, uint32_t kernel, uint32_t stride, uint32_t dilation, uint32_t pad) {
    uint32_t effective = (kernel - 1u) * dilation + 1u, before = (out - 1u) * stride, needed = before + effective;
    if (pad == 0u && in >= needed && in - effective < before + stride) {
        return 1;
    }
    return before < in && in <= before + stride && pad == (needed > in ? needed - in : 0u) / 2u;
}

/* What each op requires of its record, indexed by op (0 and 8+ are rejected before use). */
#define OP_WEIGHTED 1u   /* weights required, bias optional, 1 or out_c quantization channels */
#define OP_WINDOW 2u     /* kernel, stride, dilation >= 1; output size from VALID/SAME padding */
#define OP_CHANNELWISE 4u /* out_c = in_c * max(depth multiplier, 1) */
#define OP_FLAT 8u       /* output 1 x 1 x c */
#define OP_TABLE 16u     /* LOGISTIC/SOFTMAX: output shape = input shape, output zero point -128 */
#define OP_ONE_QUANT 32u /* exactly 1 quantization channel (MEAN) */
static const uint8_t op_rules[8] = {
    0u,
    OP_WEIGHTED | OP_FLAT,                     /* FULLY_CONNECTED */
    OP_WEIGHTED | OP_WINDOW,                   /* CONV_2D */
    OP_WEIGHTED | OP_WINDOW | OP_CHANNELWISE,  /* DEPTHWISE_CONV_2D */
    OP_WINDOW | OP_CHANNELWISE,                /* MAX_POOL_2D */
    OP_FLAT | OP_CHANNELWISE | OP_ONE_QUANT,   /* MEAN */
    OP_TABLE,                                  /* LOGISTIC */
    OP_TABLE,                                  /* SOFTMAX */
};

/* Window geometry, depth multiplier and zero points the op requires. */
static int window_params_ok(const nn_layer *l, uint32_t rules) {
    const uint8_t *window = (const uint8_t *)l + offsetof(nn_layer, kernel_h); /* ..dilation_w: 6 bytes */
    uint32_t i;
    if (rules & OP_WINDOW) {
        for (i = 0; i < 6u; i++) {
            if (!window[i]) {
                return 0;
            }
        }
        if (l->op == NN_OP_MAX_POOL_2D && (l->dilation_h != 1 || l->dilation_w != 1 || l->in_zp != l->out_zp)) {
            return 0;
        }
    }
    if ((rules & OP_TABLE) && l->out_zp != -128) {
        return 0;
    }
    return (l->op == NN_OP_DEPTHWISE_CONV_2D) == (l->depth_multiplier != 0);
}

static int output_shape_ok(const nn_layer *l, uint32_t rules) {
    const uint16_t *in = l->in_shape, *out = l->out_shape;
    uint32_t multiplier = l->depth_multiplier ? l->depth_multiplier : 1u;
    if ((rules & OP_CHANNELWISE) && out[2] != in[2] * multiplier) {
        return 0;
    }
    if (rules & OP_FLAT) {
        return out[0] == 1u && out[1] == 1u;
    }
    if (rules & OP_TABLE) {
        return out[0] == in[0] && out[1] == in[1] && out[2] == in[2];
    }
    return window_dim_ok(in[0], out[0], l->kernel_h, l->stride_h, l->dilation_h, l->pad_top) &&
           window_dim_ok(in[1], out[1], l->kernel_w, l->stride_w, l->dilation_w, l->pad_left);
}

/* p0..p2: in range for LOGISTIC and SOFTMAX (shift counts must stay valid), zero otherwise. */
static int op_params_ok(const nn_layer *l) {
    if (l->op == NN_OP_LOGISTIC) {
        return l->p0 >= 0 && l->p1 >= -31 && l->p1 <= 30 && l->p2 >= 0;
    }
    if (l->op == NN_OP_SOFTMAX) {
        return l->p0 >= 0 && l->p1 >= 0 && l->p1 <= 31 && l->p2 <= 0;
    }
    return (l->p0 | l->p1 | l->p2) == 0;
}

/* Checks one layer record; prev is the previous layer or NULL. */
NN_NOINLINE static nn_status check_layer(const uint8_t *buf, size_t len, uint32_t table_end, const nn_layer *l, const nn_layer *prev, uint32_t flags, nn_error *err) {
    uint32_t op = l->op, q = l->quant_channels, out_c = l->out_shape[2], i;
    uint32_t in_elements = elements(l->in_shape), weight_bytes = 0;
    uint32_t rules, weighted, array_bytes[4];

    if (op < NN_OP_FULLY_CONNECTED || op > NN_OP_SOFTMAX) {
        return fail_found(err, NN_ERR_OP, op, 0);
    }
    rules = op_rules[op];
    weighted = rules & OP_WEIGHTED;
    if (l->reserved1 || l->reserved6 || l->reserved60) {
        return fail(err, NN_ERR_RESERVED);
    }
    for (i = 0; i < 3u; i++) {
        if (!l->in_shape[i] || !l->out_shape[i]) {
            return fail(err, NN_ERR_ZERO_SHAPE);
        }
    }
    if (l->act_min > l->act_max) {
        return fail(err, NN_ERR_ACTIVATION_RANGE);
    }
    if (prev && (op == NN_OP_FULLY_CONNECTED ? elements(prev->out_shape) != in_elements
                 : prev->out_shape[0] != l->in_shape[0] || prev->out_shape[1] != l->in_shape[1] ||
                   prev->out_shape[2] != l->in_shape[2])) {
        return fail(err, NN_ERR_SHAPE_CHAIN);
    }
    if (!window_params_ok(l, rules)) {
        return fail(err, NN_ERR_WINDOW_PARAMS);
    }
    if (!output_shape_ok(l, rules)) {
        return fail(err, NN_ERR_OUTPUT_SHAPE);
    }
    if (weighted ? (q != 1u && q != out_c) : q != ((rules & OP_ONE_QUANT) ? 1u : 0u)) {
        return fail_found(err, NN_ERR_QUANT_CHANNELS, q, 0);
    }
    if (op == NN_OP_FULLY_CONNECTED) {
        weight_bytes = mul_sat(in_elements, out_c);
    } else if (weighted) {
        weight_bytes = mul_sat((uint32_t)l->kernel_h * l->kernel_w * out_c, op == NN_OP_CONV_2D ? l->in_shape[2] : 1u);
    }
    /* weights, bias, multipliers, shifts: u32 file offsets at record bytes 32..47, 0 = absent.
     * Absent is fine only for the bias or an array of 0 bytes (no weights, no channels);
     * present arrays must be wanted (bytes > 0), 4-aligned, after the layer table, in the file. */
    array_bytes[0] = weight_bytes; /* > 0 exactly for the weighted ops */
    array_bytes[1] = weighted ? 4u * out_c : 0u;
    array_bytes[2] = array_bytes[3] = 4u * q;
    for (i = 0; i < 4u; i++) {
        uint32_t offset = (&l->weights)[i], bytes = array_bytes[i]; /* weights, bias, multipliers, shifts */
        if (offset == 0u ? bytes != 0u && i != 1u
                         : bytes == 0u || (offset & 3u) != 0u || offset < table_end || offset > len || bytes > len - offset) {
            return fail(err, (nn_status)(NN_ERR_WEIGHTS_ARRAY + i));
        }
    }
    for (i = 0; i < ((flags & NN_CHECK_GUARD) ? 0u : q); i++) { /* per channel: multiplier, then shift */
        int32_t m = (int32_t)nn_rd32(buf + l->multipliers + 4u * i), s = (int32_t)nn_rd32(buf + l->shifts + 4u * i);
        if (m < 0 || (m != 0 && m < (1 << 30) && op != NN_OP_MEAN)) {
            return fail_found(err, NN_ERR_MULTIPLIER, (uint32_t)m, 1);
        }
        if (s < -31 || s > 30) {
            return fail_found(err, NN_ERR_SHIFT, (uint32_t)s, 1);
        }
    }
    if (!op_params_ok(l)) {
        return fail(err, NN_ERR_OP_PARAMS);
    }
    return NN_OK;
}

nn_status nn_model_check(const uint8_t *buf, size_t len, uint32_t flags, nn_model *model, nn_error *err) {
    nn_header_words header;
    nn_layer_words records[2]; /* this layer and the previous one, alternating */
    const nn_header *h = &header.h;
    const nn_layer *prev = 0;
    uint32_t n, table_end, logistic = 0, i;
    uint32_t max_activation = 0, first_in_elements = 0;
    uint64_t arena;
    int32_t first_in_zp = 0;

    err->layer = -1;
    if (len < NN_HEADER_BYTES) {
        return fail_values(err, NN_ERR_TRUNCATED_HEADER, (uint32_t)len, NN_HEADER_BYTES);
    }
    nn_load_words(buf, header.words);
    if (h->magic[0] != 'V' || h->magic[1] != 'R' || h->magic[2] != 'D' || h->magic[3] != 'T') {
        return fail(err, NN_ERR_MAGIC);
    }
    if (h->version != NN_FORMAT_VERSION) {
        return fail_values(err, NN_ERR_VERSION, h->version, NN_FORMAT_VERSION);
    }
    if (h->header_bytes != NN_HEADER_BYTES) {
        return fail_values(err, NN_ERR_HEADER_BYTES, h->header_bytes, NN_HEADER_BYTES);
    }
    if ((uint64_t)h->file_bytes != (uint64_t)len) {
        return fail_values(err, NN_ERR_FILE_BYTES, h->file_bytes, (uint32_t)len);
    }
    if (flags & NN_CHECK_CRC) {
        uint32_t crc = nn_crc32(buf + 16, len - 16u);
        if (crc != h->crc) {
            return fail_values(err, NN_ERR_CRC, crc, h->crc);
        }
    }
    n = h->layer_count;
    if (n < 1u || n > NN_MAX_LAYERS) {
        return fail_found(err, NN_ERR_LAYER_COUNT, n, 0);
    }
    if (h->layer_bytes != NN_LAYER_BYTES) {
        return fail_values(err, NN_ERR_LAYER_RECORD_BYTES, h->layer_bytes, NN_LAYER_BYTES);
    }
    table_end = NN_HEADER_BYTES + n * NN_LAYER_BYTES;
    if (h->layers_offset != NN_HEADER_BYTES || table_end > len) {
        return fail(err, NN_ERR_LAYER_TABLE);
    }
    if (h->meta_offset < table_end || (uint64_t)h->meta_offset + h->meta_bytes > (uint64_t)len) {
        return fail(err, NN_ERR_METADATA);
    }
    if (h->reserved != 0u) {
        return fail(err, NN_ERR_HEADER_RESERVED);
    }
    for (i = 0; i < 2u; i++) { /* input, then output: float32 bits of a finite number > 0 */
        uint32_t scale = i ? h->output_scale_bits : h->input_scale_bits;
        int32_t zp = i ? h->output_zero_point : h->input_zero_point;
        if (scale == 0u || scale >= 0x7f800000u) {
            return fail(err, NN_ERR_SCALE);
        }
        if (zp < -128 || zp > 127) {
            return fail_found(err, NN_ERR_ZERO_POINT, (uint32_t)zp, 1);
        }
    }
    for (i = 0; i < n; i++) {
        uint32_t in_elements, out_elements;
        nn_status status;
        const nn_layer *layer = nn_layer_at(buf, i, &records[i & 1u]);
        err->layer = (int32_t)i;
        status = check_layer(buf, len, table_end, layer, prev, flags, err);
        if (status != NN_OK) {
            return status;
        }
        if (i == 0u) {
            first_in_elements = elements(layer->in_shape);
            first_in_zp = layer->in_zp;
        }
        /* rounding up is monotonic: round the larger of input and output once */
        in_elements = elements(layer->in_shape);
        out_elements = elements(layer->out_shape);
        in_elements = rounded4(out_elements > in_elements ? out_elements : in_elements);
        max_activation = in_elements > max_activation ? in_elements : max_activation;
        logistic += layer->op == NN_OP_LOGISTIC;
        prev = layer;
    }
    /* prev is now the last layer */
    err->layer = -1;
    if (h->input_elements != first_in_elements) {
        return fail_values(err, NN_ERR_INPUT_ELEMENTS, h->input_elements, first_in_elements);
    }
    if (h->output_elements != elements(prev->out_shape)) {
        return fail_values(err, NN_ERR_OUTPUT_ELEMENTS, h->output_elements, elements(prev->out_shape));
    }
    if (h->input_zero_point != first_in_zp) {
        return fail(err, NN_ERR_INPUT_ZERO_POINT);
    }
    if (h->output_zero_point != prev->out_zp) {
        return fail(err, NN_ERR_OUTPUT_ZERO_POINT);
    }
    arena = ((uint64_t)logistic << 8) + 2u * (uint64_t)max_activation;
    if ((uint64_t)h->arena_bytes != arena) {
        return fail_values(err, NN_ERR_ARENA_BYTES, h->arena_bytes, (uint32_t)arena);
    }
    model->buf = buf;
    model->layer_count = n;
    model->logistic_count = logistic;
    model->activation_bytes = max_activation;
    model->arena_bytes = h->arena_bytes;
    model->input_elements = h->input_elements;
    model->output_elements = h->output_elements;
    return NN_OK;
}
