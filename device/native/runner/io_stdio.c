/* Host build of the runner: `nn_runner MODEL INPUTS OUTPUTS`. */
#include <stdio.h>

#include "runner.h"

long runner_io_read(const char *path, unsigned char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f) {
        return -1;
    }
    n = fread(buf, 1, cap, f);
    if (n == cap && fgetc(f) != EOF) {
        n = (size_t)-1;
    }
    fclose(f);
    return n == (size_t)-1 ? -1 : (long)n;
}

int runner_io_write(const char *path, const unsigned char *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f) {
        return -1;
    }
    ok = fwrite(buf, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

void runner_io_error(const char *text) {
    fprintf(stderr, "%s\n", text);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL INPUTS OUTPUTS\n", argv[0]);
        return RUNNER_IO_ERROR;
    }
    return runner_main(argv[1], argv[2], argv[3]);
}
