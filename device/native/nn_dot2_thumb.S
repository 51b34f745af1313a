/* Inner multiply-accumulate loop of nn_kernel.c for Thumb (Cortex-M0+ and up).
 * GCC -Os spills in this loop on Thumb-1; by hand it is 10 instructions per 2 MACs.
 *
 * void nn_dot2_thumb(const int8_t *w0_end, const int8_t *w1_end, const int8_t *x_end,
 *                    int32_t minus_n, int32_t minus_zp, uint32_t acc[2]);
 * acc[0] += sum w0[i] * (x[i] - zp), acc[1] += sum w1[i] * (x[i] - zp), wrapping,
 * for i from -n to -1 relative to the end pointers; n must be > 0.
 */
#if defined(__thumb__)
    .syntax unified
    .thumb
    .text
    .align 1
    .global nn_dot2_thumb
    .type nn_dot2_thumb, %function
    .thumb_func
nn_dot2_thumb:
    push {r4-r7, lr}
    mov r4, r8
    push {r4}
    ldr r4, [sp, #24]      /* minus_zp: first stack argument, above 6 saved words */
    mov r8, r4
    ldr r4, [sp, #28]      /* acc */
    push {r4}
    ldr r5, [r4, #4]
    ldr r4, [r4, #0]
1:
    ldrsb r6, [r2, r3]     /* x */
    add r6, r8             /* x - zp */
    ldrsb r7, [r0, r3]
    muls r7, r6
    adds r4, r4, r7
    ldrsb r7, [r1, r3]
    muls r7, r6
    adds r5, r5, r7
    adds r3, r3, #1
    bne 1b
    pop {r6}
    str r4, [r6, #0]
    str r5, [r6, #4]
    pop {r4}
    mov r8, r4
    pop {r4-r7, pc}
    .size nn_dot2_thumb, . - nn_dot2_thumb
#endif
