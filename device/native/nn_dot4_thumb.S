/* Inner multiply-accumulate loop of nn_kernel.c for Thumb-1 (Cortex-M0/M0+):
 * four weight rows against one input run, 16 instructions per 4 MACs. The four
 * accumulators live in high registers (r8-r11: ADD works there, MULS needs low ones).
 *
 * void nn_dot4_thumb(const int8_t *const w[4], const int8_t *x, int32_t n, int32_t zp, uint32_t acc[4]);
 * acc[r] += sum w[r][i] * (x[i] - zp), wrapping, for i in 0..n-1; n must be > 0.
 */
#if defined(__thumb__)
    .syntax unified
    .thumb
    .text
    .align 1
    .global nn_dot4_thumb
    .type nn_dot4_thumb, %function
    .thumb_func
nn_dot4_thumb:
    push {r4-r7, lr}
    mov r4, r8
    mov r5, r9
    mov r6, r10
    mov r7, r11
    push {r4-r7}
    ldr r4, [sp, #36]      /* acc: first stack argument, above 9 saved words */
    push {r4}
    negs r3, r3
    mov r12, r3            /* -zp */
    ldr r7, [r4, #0]
    mov r8, r7
    ldr r7, [r4, #4]
    mov r9, r7
    ldr r7, [r4, #8]
    mov r10, r7
    ldr r7, [r4, #12]
    mov r11, r7
    adds r4, r1, r2        /* x end */
    negs r5, r2            /* index: -n up to 0 */
    ldr r1, [r0, #4]       /* row ends */
    adds r1, r1, r2
    ldr r3, [r0, #12]
    adds r3, r3, r2
    ldr r7, [r0, #0]
    adds r7, r7, r2
    ldr r6, [r0, #8]
    adds r2, r6, r2
    mov r0, r7
1:
    ldrsb r6, [r4, r5]     /* x */
    add r6, r12            /* x - zp */
    ldrsb r7, [r0, r5]
    muls r7, r6
    add r8, r7
    ldrsb r7, [r1, r5]
    muls r7, r6
    add r9, r7
    ldrsb r7, [r2, r5]
    muls r7, r6
    add r10, r7
    ldrsb r7, [r3, r5]
    muls r7, r6
    add r11, r7
    adds r5, r5, #1
    bne 1b
    pop {r4}
    mov r7, r8
    str r7, [r4, #0]
    mov r7, r9
    str r7, [r4, #4]
    mov r7, r10
    str r7, [r4, #8]
    mov r7, r11
    str r7, [r4, #12]
    pop {r4-r7}
    mov r8, r4
    mov r9, r5
    mov r10, r6
    mov r11, r7
    pop {r4-r7, pc}
    .size nn_dot4_thumb, . - nn_dot4_thumb
#endif
