/* Verdant int8 kernel: runs a checked model (nn_model.h) in one call.
 *
 * Portable C99, no heap, no floats, no MicroPython headers. The arithmetic is TFLM's
 * int8 reference arithmetic (docs/int8-arithmetic.md), bit for bit.
 * The caller owns all memory: the model buffer (read in place, any alignment) and an
 * arena of exactly model->arena_bytes bytes, laid out as
 *   [256 bytes per LOGISTIC layer: lookup tables][activation buffer A][activation buffer B].
 */
#ifndef VERDANT_NN_KERNEL_H
#define VERDANT_NN_KERNEL_H

#include "nn_model.h"

/* Builds the LOGISTIC lookup tables in the arena. Call once after nn_model_check. */
void nn_init(const nn_model *model, uint8_t *arena);

/* Runs every layer: input has model->input_elements int8 values, output receives
 * model->output_elements. input and output must not overlap the arena. */
void nn_run(const nn_model *model, uint8_t *arena, const int8_t *input, int8_t *output);

/* TFLM fixed-point helpers, exposed for tests. */
int32_t nn_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift);
int8_t nn_logistic_value(int32_t input, int32_t zero_point, int32_t multiplier, int32_t left_shift, int32_t radius);

#endif
