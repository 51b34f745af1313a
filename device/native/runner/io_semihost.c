/* Cortex-M build of the runner for QEMU mps2-an385: files through ARM semihosting,
 * no C library. Reads model.bin and input.bin, writes output.bin (QEMU's working
 * directory), exits with the runner's status. */
#include <stdint.h>

#include "runner.h"

enum { SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE0 = 0x04, SYS_WRITE = 0x05, SYS_READ = 0x06,
       SYS_FLEN = 0x0c, SYS_EXIT_EXTENDED = 0x20 };
enum { MODE_RB = 1, MODE_WB = 5 };

static int32_t semihost(int32_t op, const void *arg) {
    register int32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static uint32_t text_length(const char *s) {
    uint32_t n = 0;
    while (s[n]) {
        n++;
    }
    return n;
}

static int32_t open_file(const char *path, int32_t mode) {
    uint32_t args[3];
    args[0] = (uint32_t)(uintptr_t)path;
    args[1] = (uint32_t)mode;
    args[2] = text_length(path);
    return semihost(SYS_OPEN, args);
}

static void close_file(int32_t handle) {
    uint32_t args[1];
    args[0] = (uint32_t)handle;
    semihost(SYS_CLOSE, args);
}

long runner_io_read(const char *path, unsigned char *buf, size_t cap) {
    uint32_t args[3];
    int32_t handle = open_file(path, MODE_RB), len;
    if (handle < 0) {
        return -1;
    }
    args[0] = (uint32_t)handle;
    len = semihost(SYS_FLEN, args);
    if (len < 0 || (size_t)len > cap) {
        close_file(handle);
        return -1;
    }
    args[1] = (uint32_t)(uintptr_t)buf;
    args[2] = (uint32_t)len;
    if (semihost(SYS_READ, args) != 0) { /* returns the bytes NOT read */
        len = -1;
    }
    close_file(handle);
    return len;
}

int runner_io_write(const char *path, const unsigned char *buf, size_t len) {
    uint32_t args[3];
    int32_t handle = open_file(path, MODE_WB), left;
    if (handle < 0) {
        return -1;
    }
    args[0] = (uint32_t)handle;
    args[1] = (uint32_t)(uintptr_t)buf;
    args[2] = (uint32_t)len;
    left = semihost(SYS_WRITE, args);
    close_file(handle);
    return left == 0 ? 0 : -1;
}

void runner_io_error(const char *text) {
    semihost(SYS_WRITE0, text);
    semihost(SYS_WRITE0, "\n");
}

static void exit_with(int status) {
    uint32_t args[2];
    args[0] = 0x20026u; /* ADP_Stopped_ApplicationExit */
    args[1] = (uint32_t)status;
    for (;;) {
        semihost(SYS_EXIT_EXTENDED, args);
    }
}

/* Startup: zero .bss, run, exit through semihosting. */
extern uint32_t __bss_start__, __bss_end__, __stack_top__;

void reset_handler(void) {
    uint32_t *p;
    for (p = &__bss_start__; p < &__bss_end__; p++) {
        *p = 0;
    }
    exit_with(runner_main("model.bin", "input.bin", "output.bin"));
}

static void fault_handler(void) {
    runner_io_error("runner: hard fault");
    exit_with(99);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__stack_top__, reset_handler, fault_handler, fault_handler,
    fault_handler, fault_handler, fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0,
    fault_handler, fault_handler,
};

/* GCC may emit calls to these even without a C library. */
void *memset(void *dst, int value, size_t n) {
    unsigned char *d = dst;
    while (n--) {
        *d++ = (unsigned char)value;
    }
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}
