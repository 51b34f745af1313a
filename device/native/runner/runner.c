/* Runner logic shared by the host and the QEMU builds (see runner.h). */
#include "runner.h"

#include "../nn_kernel.h"

#define MODEL_CAP (256u * 1024u)
#define INPUT_CAP (512u * 1024u)
#define OUTPUT_CAP (512u * 1024u)
#define ARENA_CAP (256u * 1024u)

/* uint32_t arrays: 4-aligned like a MicroPython heap buffer. */
static uint32_t model_words[MODEL_CAP / 4u];
static uint32_t input_words[INPUT_CAP / 4u];
static uint32_t output_words[OUTPUT_CAP / 4u];
static uint32_t arena_words[ARENA_CAP / 4u];

int runner_main(const char *model_path, const char *input_path, const char *output_path) {
    unsigned char *model_buf = (unsigned char *)model_words;
    int8_t *inputs = (int8_t *)input_words, *outputs = (int8_t *)output_words;
    long model_len = runner_io_read(model_path, model_buf, MODEL_CAP);
    long input_len = runner_io_read(input_path, (unsigned char *)inputs, INPUT_CAP);
    nn_model model;
    nn_error err;
    char message[160];
    uint32_t count, i;

    if (model_len < 0 || input_len < 0) {
        runner_io_error("runner: cannot read the model or the input file (or it is too large)");
        return RUNNER_IO_ERROR;
    }
    if (nn_model_check(model_buf, (size_t)model_len, NN_CHECK_CRC, &model, &err) != NN_OK) {
        nn_error_format(&err, message, sizeof message);
        runner_io_error(message);
        return RUNNER_MODEL_REJECTED;
    }
    if (model.arena_bytes > ARENA_CAP || (uint32_t)input_len % model.input_elements != 0u) {
        runner_io_error("runner: arena too large or input length not a multiple of the input size");
        return RUNNER_BAD_INPUT;
    }
    count = (uint32_t)input_len / model.input_elements;
    if ((uint64_t)count * model.output_elements > OUTPUT_CAP) {
        runner_io_error("runner: too many outputs");
        return RUNNER_BAD_INPUT;
    }
    nn_init(&model, (uint8_t *)arena_words);
    for (i = 0; i < count; i++) {
        /* the per-call guard the MicroPython binding runs before every inference */
        if (nn_model_check(model_buf, (size_t)model_len, NN_CHECK_GUARD, &model, &err) != NN_OK) {
            return RUNNER_MODEL_REJECTED;
        }
        nn_run(&model, (uint8_t *)arena_words, inputs + i * model.input_elements, outputs + i * model.output_elements);
    }
    if (runner_io_write(output_path, (const unsigned char *)outputs, (size_t)count * model.output_elements) != 0) {
        runner_io_error("runner: cannot write the output file");
        return RUNNER_IO_ERROR;
    }
    return RUNNER_OK;
}
