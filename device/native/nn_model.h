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

/* The header and a layer record as C structs: every field is naturally aligned in the file,
 * so these have no padding. nn_load_* fill them with byte loads (buffer alignment does not
 * matter). The format is little-endian and so are all supported targets. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nn_model: little-endian targets only"
#endif

typedef struct {
    uint8_t magic[4];
    uint16_t version, header_bytes;
    uint32_t file_bytes, crc;
    uint16_t layer_count, layer_bytes;
    uint32_t layers_offset, meta_offset, meta_bytes, arena_bytes;
    uint32_t input_scale_bits; /* float32 bits: the C side never computes with them */
    int32_t input_zero_point;
    uint32_t output_scale_bits;
    int32_t output_zero_point;
    uint32_t input_elements, output_elements, reserved;
} nn_header;

typedef struct {
    uint8_t op, reserved1;
    int8_t in_zp, out_zp, act_min, act_max;
    uint16_t reserved6;
    uint16_t in_shape[3], out_shape[3]; /* h, w, c */
    uint8_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
    uint16_t depth_multiplier, quant_channels;
    uint32_t weights, bias, multipliers, shifts; /* absolute file offsets, 0 = none */
    int32_t p0, p1, p2;
    uint32_t reserved60;
} nn_layer;

/* Unions, so the words loaded by nn_load_words are read as fields without aliasing issues. */
typedef union {
    nn_header h;
    uint32_t words[16];
} nn_header_words;

typedef union {
    nn_layer l;
    uint32_t words[16];
} nn_layer_words;

typedef char nn_header_is_64_bytes[sizeof(nn_header) == NN_HEADER_BYTES ? 1 : -1];
typedef char nn_layer_is_64_bytes[sizeof(nn_layer) == NN_LAYER_BYTES ? 1 : -1];

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

/* What nn_model_check checks besides the structure (header, layer table, shapes, arrays in
 * bounds: always, so running a model that passed any level stays memory safe). */
#define NN_CHECK_VALUES 0u /* + per-channel multiplier and shift values: at load, CRC already checked */
#define NN_CHECK_CRC 1u    /* + the CRC: everything (a file not seen before) */
#define NN_CHECK_GUARD 2u  /* structure only: the cheap guard before each run of a model checked at
                              load (the kernel clamps shifts, so changed values stay defined) */

/* Runs the checks of docs/model-format.md that flags asks for on buf[0, len).
 * Returns NN_OK and fills *model, or the first failing check and fills *err. */
nn_status nn_model_check(const uint8_t *buf, size_t len, uint32_t flags, nn_model *model, nn_error *err);

/* Short English text for a status, e.g. "CRC mismatch". */
const char *nn_status_text(nn_status status);

/* Writes "model: <text>[ (layer i)][: found x[, expected y]]" into out (always NUL-terminated,
 * truncated to out_size). Returns the length written. */
size_t nn_error_format(const nn_error *err, char *out, size_t out_size);

/* CRC32 (IEEE 802.3, as zlib.crc32) of data[0, len). */
uint32_t nn_crc32(const uint8_t *data, size_t len);

/* Loads the 64 bytes at buf as 16 little-endian words, e.g. into nn_layer_words.words. */
void nn_load_words(const uint8_t *buf, uint32_t *words);

/* Layer record i of a model buffer: read in place when the buffer is 4-aligned (the usual
 * case: a heap buffer), else copied into *copy. */
static inline const nn_layer *nn_layer_at(const uint8_t *buf, uint32_t i, nn_layer_words *copy) {
    const uint8_t *at = buf + NN_HEADER_BYTES + i * NN_LAYER_BYTES;
    if (((uintptr_t)at & 3u) == 0u) {
        return (const nn_layer *)(const void *)at; /* only ever read, never stored through */
    }
    nn_load_words(at, copy->words);
    return &copy->l;
}

/* Not inlined: one copy instead of one per caller (and fewer register spills in the
 * caller) keeps the code small on Cortex-M0. */
#if defined(__GNUC__)
#define NN_NOINLINE __attribute__((noinline))
#else
#define NN_NOINLINE
#endif

/* Little-endian reads that work at any alignment. */
static inline uint32_t nn_rd16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }
uint32_t nn_rd32(const uint8_t *p); /* one out-of-line copy for parser and kernel */

#endif
