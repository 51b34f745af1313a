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

static char *append_u32(char *out, char *end, uint32_t value) {
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value);
    while (n && out < end) {
        *out++ = digits[--n];
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
        p = append_text(p, end, " (layer ");
        p = append_u32(p, end, (uint32_t)err->layer);
        p = append_text(p, end, ")");
    }
    if (err->values >= 1) {
        uint32_t found = err->found;
        p = append_text(p, end, ": found ");
        if (err->found_is_signed && (int32_t)found < 0) {
            p = append_text(p, end, "-");
            found = 0u - found;
        }
        p = append_u32(p, end, found);
    }
    if (err->values == 2) {
        p = append_text(p, end, ", expected ");
        p = append_u32(p, end, err->expected);
    }
    *p = '\0';
    return (size_t)(p - out);
}

static nn_status fail(nn_error *err, nn_status status, int32_t layer) {
    err->status = status;
    err->layer = layer;
    err->values = 0;
    err->found_is_signed = 0;
    err->found = 0;
    err->expected = 0;
    return status;
}

static nn_status fail_values(nn_error *err, nn_status status, int32_t layer, uint32_t found, uint32_t expected) {
    fail(err, status, layer);
    err->values = 2;
    err->found = found;
    err->expected = expected;
    return status;
}

static nn_status fail_found(nn_error *err, nn_status status, int32_t layer, uint32_t found, int is_signed) {
    fail(err, status, layer);
    err->values = 1;
    err->found_is_signed = is_signed;
    err->found = found;
    return status;
}

static uint64_t shape_elements(const uint8_t *shape) {
    return (uint64_t)nn_rd16(shape) * nn_rd16(shape + 2) * nn_rd16(shape + 4);
}

static void keep_max_rounded4(uint64_t n, uint64_t *max_so_far) {
    uint64_t r = (n + 3u) & ~(uint64_t)3u;
    if (r > *max_so_far) {
        *max_so_far = r;
    }
}

/* One spatial dimension of a windowed op must be exactly TFLM's SAME or VALID padding. */
static int window_dim_ok(uint32_t in, uint32_t out, uint32_t kernel, uint32_t stride, uint32_t dilation, uint32_t pad) {
    uint32_t effective = (kernel - 1u) * dilation + 1u;
    if (out == (in + stride - 1u) / stride) {
        uint32_t needed = (out - 1u) * stride + effective;
        uint32_t total = needed > in ? needed - in : 0u;
        if (pad == total / 2u) {
            return 1;
        }
    }
    return pad == 0u && in >= effective && out == (in - effective) / stride + 1u;
}

static int op_has_weights(uint32_t op) {
    return op == NN_OP_FULLY_CONNECTED || op == NN_OP_CONV_2D || op == NN_OP_DEPTHWISE_CONV_2D;
}

static int op_has_window(uint32_t op) {
    return op == NN_OP_CONV_2D || op == NN_OP_DEPTHWISE_CONV_2D || op == NN_OP_MAX_POOL_2D;
}

static int32_t rd_i32(const uint8_t *p) {
    return (int32_t)nn_rd32(p);
}

/* Window geometry, depth multiplier and zero points the op requires. */
static int window_params_ok(const uint8_t *rec, uint32_t op) {
    const uint8_t *k = rec + NN_L_KERNEL_H;
    int i;
    if (op_has_window(op)) {
        for (i = 0; i < 6; i++) { /* kernel, stride, dilation >= 1 */
            if (k[i] == 0) {
                return 0;
            }
        }
        if (op == NN_OP_MAX_POOL_2D && (k[4] != 1 || k[5] != 1 || rec[NN_L_IN_ZP] != rec[NN_L_OUT_ZP])) {
            return 0;
        }
    }
    if ((op == NN_OP_LOGISTIC || op == NN_OP_SOFTMAX) && (int8_t)rec[NN_L_OUT_ZP] != -128) {
        return 0;
    }
    return (op == NN_OP_DEPTHWISE_CONV_2D) == (nn_rd16(rec + NN_L_DEPTH_MULT) != 0);
}

/* p0..p2: in range for LOGISTIC and SOFTMAX (shift counts must stay valid), zero otherwise. */
static int op_params_ok(const uint8_t *rec, uint32_t op) {
    int32_t p0 = rd_i32(rec + NN_L_P0), p1 = rd_i32(rec + NN_L_P1), p2 = rd_i32(rec + NN_L_P2);
    if (op == NN_OP_LOGISTIC) {
        return p0 >= 0 && p1 >= -31 && p1 <= 30 && p2 >= 0;
    }
    if (op == NN_OP_SOFTMAX) {
        return p0 >= 0 && p1 >= 0 && p1 <= 31 && p2 <= 0;
    }
    return p0 == 0 && p1 == 0 && p2 == 0;
}

static int output_shape_ok(const uint8_t *rec, uint32_t op) {
    const uint8_t *in = rec + NN_L_IN_SHAPE, *out = rec + NN_L_OUT_SHAPE, *k = rec + NN_L_KERNEL_H;
    uint32_t in_h = nn_rd16(in), in_w = nn_rd16(in + 2), in_c = nn_rd16(in + 4);
    uint32_t out_h = nn_rd16(out), out_w = nn_rd16(out + 2), out_c = nn_rd16(out + 4);
    switch (op) {
        case NN_OP_FULLY_CONNECTED:
            return out_h == 1u && out_w == 1u;
        case NN_OP_MEAN:
            return out_h == 1u && out_w == 1u && out_c == in_c;
        case NN_OP_LOGISTIC:
        case NN_OP_SOFTMAX:
            return out_h == in_h && out_w == in_w && out_c == in_c;
        default:
            break;
    }
    if (op == NN_OP_MAX_POOL_2D && out_c != in_c) {
        return 0;
    }
    if (op == NN_OP_DEPTHWISE_CONV_2D && out_c != in_c * nn_rd16(rec + NN_L_DEPTH_MULT)) {
        return 0;
    }
    return window_dim_ok(in_h, out_h, k[0], k[2], k[4], k[6]) && window_dim_ok(in_w, out_w, k[1], k[3], k[5], k[7]);
}

static int array_ok(uint32_t offset, uint64_t bytes, uint32_t table_end, size_t len) {
    return (offset & 3u) == 0u && offset >= table_end && (uint64_t)offset + bytes <= (uint64_t)len;
}

/* Checks one layer record; prev_out is the previous layer's output shape or NULL. */
static nn_status check_layer(const uint8_t *buf, size_t len, uint32_t table_end, int32_t index,
    const uint8_t *prev_out, nn_error *err) {
    const uint8_t *rec = buf + NN_HEADER_BYTES + (uint32_t)index * NN_LAYER_BYTES;
    uint32_t op = rec[NN_L_OP];
    uint32_t q = nn_rd16(rec + NN_L_QUANT_CHANNELS);
    uint32_t out_c = nn_rd16(rec + NN_L_OUT_SHAPE + 4);
    uint32_t weights = nn_rd32(rec + NN_L_WEIGHTS), bias = nn_rd32(rec + NN_L_BIAS);
    uint32_t mults = nn_rd32(rec + NN_L_MULTIPLIERS), shifts = nn_rd32(rec + NN_L_SHIFTS);
    uint64_t weight_bytes = 0;
    uint32_t i;

    if (op < NN_OP_FULLY_CONNECTED || op > NN_OP_SOFTMAX) {
        return fail_found(err, NN_ERR_OP, index, op, 0);
    }
    if (rec[NN_L_RESERVED1] || nn_rd16(rec + NN_L_RESERVED6) || nn_rd32(rec + NN_L_RESERVED60)) {
        return fail(err, NN_ERR_RESERVED, index);
    }
    for (i = 0; i < 12; i += 2) {
        if (nn_rd16(rec + NN_L_IN_SHAPE + i) == 0) {
            return fail(err, NN_ERR_ZERO_SHAPE, index);
        }
    }
    if ((int8_t)rec[NN_L_ACT_MIN] > (int8_t)rec[NN_L_ACT_MAX]) {
        return fail(err, NN_ERR_ACTIVATION_RANGE, index);
    }
    if (prev_out) {
        uint64_t prev_elements = shape_elements(prev_out), in_elements = shape_elements(rec + NN_L_IN_SHAPE);
        int same_shape = 1;
        for (i = 0; i < 6; i++) {
            same_shape &= prev_out[i] == rec[NN_L_IN_SHAPE + i];
        }
        if (op == NN_OP_FULLY_CONNECTED ? prev_elements != in_elements : !same_shape) {
            return fail(err, NN_ERR_SHAPE_CHAIN, index);
        }
    }
    if (!window_params_ok(rec, op)) {
        return fail(err, NN_ERR_WINDOW_PARAMS, index);
    }
    if (!output_shape_ok(rec, op)) {
        return fail(err, NN_ERR_OUTPUT_SHAPE, index);
    }
    if (op_has_weights(op) ? (q != 1u && q != out_c) : op == NN_OP_MEAN ? q != 1u : q != 0u) {
        return fail_found(err, NN_ERR_QUANT_CHANNELS, index, q, 0);
    }

    /* Arrays: required ones non-zero and in bounds, optional bias, others absent. */
    if (op == NN_OP_FULLY_CONNECTED) {
        uint64_t depth = shape_elements(rec + NN_L_IN_SHAPE);
        /* Cap so the product cannot wrap; such a layer never fits in a buffer anyway. */
        weight_bytes = depth >> 32 ? ~(uint64_t)0 : (uint64_t)out_c * depth;
    } else if (op == NN_OP_CONV_2D) {
        weight_bytes = (uint64_t)out_c * rec[NN_L_KERNEL_H] * rec[NN_L_KERNEL_W] * nn_rd16(rec + NN_L_IN_SHAPE + 4);
    } else if (op == NN_OP_DEPTHWISE_CONV_2D) {
        weight_bytes = (uint64_t)out_c * rec[NN_L_KERNEL_H] * rec[NN_L_KERNEL_W];
    }
    if (op_has_weights(op) ? weights == 0 || !array_ok(weights, weight_bytes, table_end, len) : weights != 0) {
        return fail(err, NN_ERR_WEIGHTS_ARRAY, index);
    }
    if (bias != 0 && (!op_has_weights(op) || !array_ok(bias, (uint64_t)out_c * 4u, table_end, len))) {
        return fail(err, NN_ERR_BIAS_ARRAY, index);
    }
    if (q != 0u ? mults == 0 || !array_ok(mults, (uint64_t)q * 4u, table_end, len) : mults != 0) {
        return fail(err, NN_ERR_MULTIPLIERS_ARRAY, index);
    }
    if (q != 0u ? shifts == 0 || !array_ok(shifts, (uint64_t)q * 4u, table_end, len) : shifts != 0) {
        return fail(err, NN_ERR_SHIFTS_ARRAY, index);
    }

    for (i = 0; i < q; i++) { /* per channel: multiplier, then shift */
        int32_t m = rd_i32(buf + mults + 4u * i), s = rd_i32(buf + shifts + 4u * i);
        if (m < 0 || (m != 0 && m < (1 << 30) && op != NN_OP_MEAN)) {
            return fail_found(err, NN_ERR_MULTIPLIER, index, (uint32_t)m, 1);
        }
        if (s < -31 || s > 30) {
            return fail_found(err, NN_ERR_SHIFT, index, (uint32_t)s, 1);
        }
    }
    if (!op_params_ok(rec, op)) {
        return fail(err, NN_ERR_OP_PARAMS, index);
    }
    return NN_OK;
}

nn_status nn_model_check(const uint8_t *buf, size_t len, int verify_crc, nn_model *model, nn_error *err) {
    uint32_t n, table_end, meta_off, meta_bytes, arena_in_file, logistic = 0;
    uint64_t max_activation = 0, arena;
    const uint8_t *prev_out = 0, *last;
    uint32_t i;

    if (len < NN_HEADER_BYTES) {
        return fail_values(err, NN_ERR_TRUNCATED_HEADER, -1, (uint32_t)len, NN_HEADER_BYTES);
    }
    if (buf[0] != 'V' || buf[1] != 'R' || buf[2] != 'D' || buf[3] != 'T') {
        return fail(err, NN_ERR_MAGIC, -1);
    }
    if (nn_rd16(buf + NN_H_VERSION) != NN_FORMAT_VERSION) {
        return fail_values(err, NN_ERR_VERSION, -1, nn_rd16(buf + NN_H_VERSION), NN_FORMAT_VERSION);
    }
    if (nn_rd16(buf + NN_H_HEADER_BYTES) != NN_HEADER_BYTES) {
        return fail_values(err, NN_ERR_HEADER_BYTES, -1, nn_rd16(buf + NN_H_HEADER_BYTES), NN_HEADER_BYTES);
    }
    if ((uint64_t)nn_rd32(buf + NN_H_FILE_BYTES) != (uint64_t)len) {
        return fail_values(err, NN_ERR_FILE_BYTES, -1, nn_rd32(buf + NN_H_FILE_BYTES), (uint32_t)len);
    }
    if (verify_crc) {
        uint32_t crc = nn_crc32(buf + 16, len - 16u);
        if (crc != nn_rd32(buf + NN_H_CRC)) {
            return fail_values(err, NN_ERR_CRC, -1, crc, nn_rd32(buf + NN_H_CRC));
        }
    }
    n = nn_rd16(buf + NN_H_LAYER_COUNT);
    if (n < 1u || n > NN_MAX_LAYERS) {
        return fail_found(err, NN_ERR_LAYER_COUNT, -1, n, 0);
    }
    if (nn_rd16(buf + NN_H_LAYER_BYTES) != NN_LAYER_BYTES) {
        return fail_values(err, NN_ERR_LAYER_RECORD_BYTES, -1, nn_rd16(buf + NN_H_LAYER_BYTES), NN_LAYER_BYTES);
    }
    table_end = NN_HEADER_BYTES + n * NN_LAYER_BYTES;
    if (nn_rd32(buf + NN_H_LAYERS_OFFSET) != NN_HEADER_BYTES || table_end > len) {
        return fail(err, NN_ERR_LAYER_TABLE, -1);
    }
    meta_off = nn_rd32(buf + NN_H_META_OFFSET);
    meta_bytes = nn_rd32(buf + NN_H_META_BYTES);
    if (meta_off < table_end || (uint64_t)meta_off + meta_bytes > (uint64_t)len) {
        return fail(err, NN_ERR_METADATA, -1);
    }
    if (nn_rd32(buf + NN_H_RESERVED) != 0) {
        return fail(err, NN_ERR_HEADER_RESERVED, -1);
    }
    for (i = 0; i < 2; i++) { /* input, then output: float32 bits of a finite positive number */
        uint32_t scale = nn_rd32(buf + NN_H_INPUT_SCALE + 8u * i);
        int32_t zp = (int32_t)nn_rd32(buf + NN_H_INPUT_ZP + 8u * i);
        if (scale == 0u || scale >= 0x7f800000u) {
            return fail(err, NN_ERR_SCALE, -1);
        }
        if (zp < -128 || zp > 127) {
            return fail_found(err, NN_ERR_ZERO_POINT, -1, (uint32_t)zp, 1);
        }
    }
    for (i = 0; i < n; i++) {
        const uint8_t *rec = buf + NN_HEADER_BYTES + i * NN_LAYER_BYTES;
        nn_status status = check_layer(buf, len, table_end, (int32_t)i, prev_out, err);
        if (status != NN_OK) {
            return status;
        }
        keep_max_rounded4(shape_elements(rec + NN_L_IN_SHAPE), &max_activation);
        keep_max_rounded4(shape_elements(rec + NN_L_OUT_SHAPE), &max_activation);
        logistic += rec[NN_L_OP] == NN_OP_LOGISTIC;
        prev_out = rec + NN_L_OUT_SHAPE;
    }
    last = buf + NN_HEADER_BYTES + (n - 1u) * NN_LAYER_BYTES;
    if ((uint64_t)nn_rd32(buf + NN_H_INPUT_ELEMENTS) != shape_elements(buf + NN_HEADER_BYTES + NN_L_IN_SHAPE)) {
        return fail_values(err, NN_ERR_INPUT_ELEMENTS, -1, nn_rd32(buf + NN_H_INPUT_ELEMENTS),
            (uint32_t)shape_elements(buf + NN_HEADER_BYTES + NN_L_IN_SHAPE));
    }
    if ((uint64_t)nn_rd32(buf + NN_H_OUTPUT_ELEMENTS) != shape_elements(last + NN_L_OUT_SHAPE)) {
        return fail_values(err, NN_ERR_OUTPUT_ELEMENTS, -1, nn_rd32(buf + NN_H_OUTPUT_ELEMENTS),
            (uint32_t)shape_elements(last + NN_L_OUT_SHAPE));
    }
    if ((int32_t)nn_rd32(buf + NN_H_INPUT_ZP) != (int8_t)buf[NN_HEADER_BYTES + NN_L_IN_ZP]) {
        return fail(err, NN_ERR_INPUT_ZERO_POINT, -1);
    }
    if ((int32_t)nn_rd32(buf + NN_H_OUTPUT_ZP) != (int8_t)last[NN_L_OUT_ZP]) {
        return fail(err, NN_ERR_OUTPUT_ZERO_POINT, -1);
    }
    arena = (uint64_t)logistic * NN_LOGISTIC_TABLE_BYTES + 2u * max_activation;
    arena_in_file = nn_rd32(buf + NN_H_ARENA_BYTES);
    if ((uint64_t)arena_in_file != arena) {
        return fail_values(err, NN_ERR_ARENA_BYTES, -1, arena_in_file, (uint32_t)arena);
    }
    model->buf = buf;
    model->layer_count = n;
    model->logistic_count = logistic;
    model->activation_bytes = (uint32_t)max_activation;
    model->arena_bytes = arena_in_file;
    model->input_elements = nn_rd32(buf + NN_H_INPUT_ELEMENTS);
    model->output_elements = nn_rd32(buf + NN_H_OUTPUT_ELEMENTS);
    return NN_OK;
}
