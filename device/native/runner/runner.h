/* Test runner: checks a model file, then runs it on every input vector in a file.
 * The same runner_main builds for the host (stdio) and for Cortex-M under QEMU
 * (semihosting); each build provides the runner_io_* functions. */
#ifndef VERDANT_NN_RUNNER_H
#define VERDANT_NN_RUNNER_H

#include <stddef.h>

/* Exit statuses. */
#define RUNNER_OK 0
#define RUNNER_MODEL_REJECTED 2
#define RUNNER_IO_ERROR 3
#define RUNNER_BAD_INPUT 4

/* Reads a whole file into buf (at most cap bytes). Returns its length or -1. */
long runner_io_read(const char *path, unsigned char *buf, size_t cap);
/* Writes len bytes as the whole file. Returns 0 or -1. */
int runner_io_write(const char *path, const unsigned char *buf, size_t len);
/* Prints a line to the error stream. */
void runner_io_error(const char *text);

int runner_main(const char *model_path, const char *input_path, const char *output_path);

#endif
