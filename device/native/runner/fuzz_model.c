/* libFuzzer target: any bytes through the model parser; accepted models run through the
 * kernel with a fixed input. Built with clang -fsanitize=fuzzer,address,undefined
 * (make fuzz, tests/host/test_native_fuzz.py). */
#include <stdlib.h>
#include <string.h>

#include "../nn_kernel.h"

/* Keeps each run short: the arena bounds every activation, so it bounds the work. */
#define FUZZ_MAX_ARENA (16u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nn_model model;
    nn_error err;
    char message[96];
    uint8_t *arena;
    int8_t *input, *output;

    if (nn_model_check(data, size, NN_CHECK_CRC, &model, &err) != NN_OK) {
        nn_error_format(&err, message, sizeof message);
    }
    /* Without the CRC check mutated files reach the deeper checks and the kernel. */
    if (nn_model_check(data, size, NN_CHECK_GUARD, &model, &err) != NN_OK) {
        nn_error_format(&err, message, sizeof message);
        return 0;
    }
    if (model.arena_bytes > FUZZ_MAX_ARENA) {
        return 0;
    }
    arena = malloc(model.arena_bytes ? model.arena_bytes : 1u);
    input = malloc(model.input_elements);
    output = malloc(model.output_elements);
    if (arena && input && output) {
        uint32_t i;
        for (i = 0; i < model.input_elements; i++) {
            input[i] = (int8_t)(i * 37u + 11u);
        }
        nn_init(&model, arena);
        nn_run(&model, arena, input, output);
    }
    free(arena);
    free(input);
    free(output);
    return 0;
}
