/* Verdant model file (docs/model-format.md, version 1): layout constants and the parser.
 *
 * Portable C99, no heap, no MicroPython headers. The parser reads every field with
 * byte loads, so any buffer (any length, any alignment) is safe to pass.
 */
#ifndef VERDANT_NN_MODEL_H
#define VERDANT_NN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define NN_FORMAT_VERSION 1u
#define NN_HEADER_BYTES 64u
#define NN_LAYER_BYTES 64u
#define NN_MAX_LAYERS 32u
#define NN_LOGISTIC_TABLE_BYTES 256u

enum nn_op {
    NN_OP_FULLY_CONNECTED = 1,
    NN_OP_CONV_2D = 2,
    NN_OP_DEPTHWISE_CONV_2D = 3,
    NN_OP_MAX_POOL_2D = 4,
    NN_OP_MEAN = 5,
    NN_OP_LOGISTIC = 6,
    NN_OP_SOFTMAX = 7
};

/* Header field offsets. */
enum {
    NN_H_MAGIC = 0, NN_H_VERSION = 4, NN_H_HEADER_BYTES = 6, NN_H_FILE_BYTES = 8, NN_H_CRC = 12,
    NN_H_LAYER_COUNT = 16, NN_H_LAYER_BYTES = 18, NN_H_LAYERS_OFFSET = 20,
    NN_H_META_OFFSET = 24, NN_H_META_BYTES = 28, NN_H_ARENA_BYTES = 32, NN_H_INPUT_SCALE = 36,
    NN_H_INPUT_ZP = 40, NN_H_OUTPUT_SCALE = 44, NN_H_OUTPUT_ZP = 48,
    NN_H_INPUT_ELEMENTS = 52, NN_H_OUTPUT_ELEMENTS = 56, NN_H_RESERVED = 60
};

/* Layer record field offsets. */
enum {
    NN_L_OP = 0, NN_L_RESERVED1 = 1, NN_L_IN_ZP = 2, NN_L_OUT_ZP = 3, NN_L_ACT_MIN = 4,
    NN_L_ACT_MAX = 5, NN_L_RESERVED6 = 6, NN_L_IN_SHAPE = 8, NN_L_OUT_SHAPE = 14,
    NN_L_KERNEL_H = 20, NN_L_KERNEL_W = 21, NN_L_STRIDE_H = 22, NN_L_STRIDE_W = 23,
    NN_L_DILATION_H = 24, NN_L_DILATION_W = 25, NN_L_PAD_TOP = 26, NN_L_PAD_LEFT = 27,
    NN_L_DEPTH_MULT = 28, NN_L_QUANT_CHANNELS = 30, NN_L_WEIGHTS = 32, NN_L_BIAS = 36,
    NN_L_MULTIPLIERS = 40, NN_L_SHIFTS = 44, NN_L_P0 = 48, NN_L_P1 = 52, NN_L_P2 = 56,
    NN_L_RESERVED60 = 60
};

/* Parser results, in the order the checks run (the same order as the Python parser,
 * device/verdant/engine/modelfile.py). */
typedef enum {
    NN_OK = 0,
    NN_ERR_TRUNCATED_HEADER,
    NN_ERR_MAGIC,
    NN_ERR_VERSION,
    NN_ERR_HEADER_BYTES,
    NN_ERR_FILE_BYTES,
    NN_ERR_CRC,
    NN_ERR_LAYER_COUNT,
    NN_ERR_LAYER_RECORD_BYTES,
    NN_ERR_LAYER_TABLE,
    NN_ERR_METADATA,
    NN_ERR_HEADER_RESERVED,
    NN_ERR_SCALE,
    NN_ERR_ZERO_POINT,
    NN_ERR_OP,
    NN_ERR_RESERVED,
    NN_ERR_ZERO_SHAPE,
    NN_ERR_ACTIVATION_RANGE,
    NN_ERR_SHAPE_CHAIN,
    NN_ERR_WINDOW_PARAMS,
    NN_ERR_OUTPUT_SHAPE,
    NN_ERR_QUANT_CHANNELS,
    NN_ERR_WEIGHTS_ARRAY,
    NN_ERR_BIAS_ARRAY,
    NN_ERR_MULTIPLIERS_ARRAY,
    NN_ERR_SHIFTS_ARRAY,
    NN_ERR_MULTIPLIER,
    NN_ERR_SHIFT,
    NN_ERR_OP_PARAMS,
    NN_ERR_INPUT_ELEMENTS,
    NN_ERR_OUTPUT_ELEMENTS,
    NN_ERR_INPUT_ZERO_POINT,
    NN_ERR_OUTPUT_ZERO_POINT,
    NN_ERR_ARENA_BYTES,
    NN_ERR_COUNT
} nn_status;

/* What went wrong: the check, the layer (-1 for the header) and, when it helps, the
 * value found (values >= 1) and the value expected (values == 2). */
typedef struct {
    nn_status status;
    int32_t layer;
    int values;
    int found_is_signed;
    uint32_t found;
    uint32_t expected;
} nn_error;

/* A checked model: the buffer and the sizes the kernel needs. */
typedef struct {
    const uint8_t *buf;
    uint32_t layer_count;
    uint32_t logistic_count;
    uint32_t activation_bytes; /* each of the two activation buffers */
    uint32_t arena_bytes;
    uint32_t input_elements;
    uint32_t output_elements;
} nn_model;

/* Runs every check of docs/model-format.md on buf[0, len). verify_crc = 0 skips only the
 * CRC (the structure is still fully checked, so running the model stays memory safe).
 * Returns NN_OK and fills *model, or the first failing check and fills *err. */
nn_status nn_model_check(const uint8_t *buf, size_t len, int verify_crc, nn_model *model, nn_error *err);

/* Short English text for a status, e.g. "CRC mismatch". */
const char *nn_status_text(nn_status status);

/* Writes "model: <text>[ (layer i)][: found x[, expected y]]" into out (always NUL-terminated,
 * truncated to out_size). Returns the length written. */
size_t nn_error_format(const nn_error *err, char *out, size_t out_size);

/* CRC32 (IEEE 802.3, as zlib.crc32) of data[0, len). */
uint32_t nn_crc32(const uint8_t *data, size_t len);

/* Little-endian reads that work at any alignment. */
static inline uint32_t nn_rd16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }
static inline uint32_t nn_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#endif
