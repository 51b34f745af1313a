/* The two hot loops of nn_kernel.c for Thumb-1 (Cortex-M0/M0+), where GCC -Os spills:
 *
 * nn_dot4_thumb: four weight rows against one input run, 16 instructions per 4 MACs. The
 * four accumulators live in high registers (r8-r11: ADD works there, MULS needs low ones).
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

/* nn_requant_thumb: requantizes a run of accumulators, bit for bit as nn_kernel.c's
 * requantize() for multipliers >= 0 (every valid one):
 *
 * int8_t *nn_requant_thumb(const uint32_t *acc, int8_t *out, const nn_requant_args *args);
 * args (words): bias ptr, bias step (bytes), multiplier ptr, shift ptr, quant step (bytes),
 * output zero point, activation min, activation max, end of out. Per value: acc + bias,
 * shift clamped to -31..30, left part applied, high_mul_by_multiplier's 3-product split,
 * rounding divide by 2^right, + zero point, clamp. Returns the end of out; out < end.
 */
#if defined(__thumb__)
    .text
    .align 1
    .global nn_requant_thumb
    .type nn_requant_thumb, %function
    .thumb_func
nn_requant_thumb:
    push {r4-r7, lr}
    mov r4, r8
    mov r5, r9
    mov r6, r10
    mov r7, r11
    push {r4-r7}
    mov r6, r0             /* acc */
    mov r8, r1             /* out */
    mov r7, r2             /* args */
    ldr r0, [r7, #0]
    mov r9, r0             /* bias pointer */
    ldr r0, [r7, #8]
    mov r10, r0            /* multiplier pointer */
    ldr r0, [r7, #12]
    mov r11, r0            /* shift pointer */
2:
    ldm r6!, {r1}          /* a = acc + bias */
    mov r0, r9
    ldr r2, [r0]
    adds r1, r1, r2
    ldr r2, [r7, #4]
    add r9, r2
    mov r0, r10            /* m, shift; advance both */
    ldr r4, [r0]
    mov r0, r11
    ldr r5, [r0]
    ldr r2, [r7, #16]
    add r10, r2
    add r11, r2
    cmp r5, #30            /* shift clamped to -31..30 (a valid model never needs it) */
    bgt 8f
3:
    movs r0, r5
    adds r0, #31
    bmi 9f
4:
    cmp r5, #0             /* shift > 0: a <<= shift, right = 0; else right = -shift */
    ble 5f
    lsls r1, r5
    movs r5, #0
5:
    negs r5, r5
    uxth r0, r1            /* al */
    asrs r1, r1, #16       /* ah */
    uxth r2, r4            /* bl */
    lsrs r4, r4, #16       /* bh */
    movs r3, r1
    muls r3, r2            /* x = ah * bl */
    muls r1, r4            /* ah * bh */
    muls r2, r0            /* al * bl */
    lsrs r2, r2, #16
    muls r0, r4            /* al * bh */
    adds r0, r0, r2
    movs r2, #1
    lsls r2, r2, #14
    adds r0, r0, r2        /* y = al*bh + (al*bl >> 16) + 2^14 */
    lsls r2, r3, #17
    lsrs r2, r2, #17
    lsls r4, r0, #17
    lsrs r4, r4, #17
    adds r2, r2, r4
    lsrs r2, r2, #15       /* carry of the two remainders mod 2^15 */
    asrs r3, r3, #15
    lsrs r0, r0, #15
    adds r3, r3, r0
    adds r3, r3, r2
    lsls r1, r1, #1
    adds r1, r1, r3        /* h = 2*ah*bh + floor((x + y) / 2^15) */
    movs r0, #1            /* rounding divide by 2^right, ties away from zero */
    lsls r0, r5
    subs r0, #1            /* mask */
    movs r2, r1
    ands r2, r0            /* remainder */
    asrs r0, r0, #1
    lsrs r3, r1, #31
    adds r0, r0, r3        /* threshold */
    asrs r1, r5
    cmp r2, r0
    ble 6f
    adds r1, #1
6:
    ldr r0, [r7, #20]      /* + zero point, clamp to the activation range */
    adds r1, r1, r0
    ldr r0, [r7, #24]
    cmp r1, r0
    bge 7f
    movs r1, r0
7:
    ldr r0, [r7, #28]
    cmp r1, r0
    ble 10f
    movs r1, r0
10:
    mov r0, r8
    strb r1, [r0]
    adds r0, #1
    mov r8, r0
    ldr r2, [r7, #32]
    cmp r0, r2
    bne 2b
    pop {r4-r7}
    mov r8, r4
    mov r9, r5
    mov r10, r6
    mov r11, r7
    pop {r4-r7, pc}
8:
    movs r5, #30
    b 3b
9:
    movs r5, #31
    negs r5, r5
    b 4b
    .size nn_requant_thumb, . - nn_requant_thumb
#endif
