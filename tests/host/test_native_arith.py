"""The kernel's fixed-point helpers on edge and random operands, both high_mul variants.

On Cortex-M0/M0+ (Thumb-1, no 32x32->64 multiply) the kernel computes gemmlowp's
SaturatingRoundingDoublingHighMul from four 32-bit products (NN_HIGH_MUL_32) instead of
one int64 product, and RoundingHalfSum in 32 bits. Here a small driver that includes
nn_kernel.c is built twice on the host (gcc, ASan + UBSan), once per variant, and
high_mul, the requantization, exp_negative and one_over_one_plus_x are compared with the
engine's Python versions (verdant/engine/quant.py, fixedpoint.py, written from gemmlowp).
"""
import os
import random
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NATIVE = os.path.join(REPO, "device", "native")
sys.path.insert(0, os.path.join(REPO, "device"))

from verdant.engine.fixedpoint import exp_on_negative_values, one_over_one_plus_x_for_x_in_0_1  # noqa: E402
from verdant.engine.quant import multiply_by_quantized_multiplier, saturating_rounding_doubling_high_mul  # noqa: E402

DRIVER = r"""
#include <stdio.h>
#include "nn_kernel.c"
/* stdin: lines "h a b" (high_mul), "e a integer_bits" (exp_negative), "o a 0"
 * (one_over_one_plus_x) or "q x multiplier shift"; stdout: one result per line */
int main(void) {
    char kind;
    long a, b, c;
    while (scanf(" %c %ld %ld", &kind, &a, &b) == 3) {
        if (kind == 'h') {
            printf("%ld\n", (long)high_mul((int32_t)a, (int32_t)b));
        } else if (kind == 'e') {
            printf("%ld\n", (long)exp_negative((int32_t)a, (int32_t)b));
        } else if (kind == 'o') {
            printf("%ld\n", (long)one_over_one_plus_x((int32_t)a));
        } else if (scanf(" %ld", &c) == 1) {
            printf("%ld\n", (long)nn_multiply_by_quantized_multiplier((int32_t)a, (int32_t)b, (int32_t)c));
        }
    }
    return 0;
}
"""

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
EDGES = [I32_MIN, I32_MIN + 1, -(1 << 30), -(1 << 16) - 1, -(1 << 16), -(1 << 15), -65535, -2, -1, 0, 1, 2,
         (1 << 15) - 1, 1 << 15, 65535, 1 << 16, (1 << 30) - 1, 1 << 30, I32_MAX - 1, I32_MAX]


def operands():
    rng = random.Random(2026)
    pairs = [(a, b) for a in EDGES for b in EDGES]
    pairs += [(rng.randint(I32_MIN, I32_MAX), rng.randint(I32_MIN, I32_MAX)) for _ in range(3000)]
    # products at rounding ties: a*b = k*2^31 + 2^30 exactly (a = 2^15 * odd, b = 2^15 * odd)
    pairs += [(rng.choice([-1, 1]) * (2 * rng.randint(0, 16383) + 1) << 15, (2 * rng.randint(0, 16383) + 1) << 15)
              for _ in range(500)]
    quants = [(x, m, s) for x in EDGES for m in (0, 1 << 30, I32_MAX, 1518500250) for s in (-31, -12, -1, 0, 1, 7, 30)]
    quants += [(rng.randint(I32_MIN, I32_MAX), rng.randint(1 << 30, I32_MAX), rng.randint(-31, 30))
               for _ in range(2000)]
    # requantization products at rounding ties (x = odd * 2^15, multiplier = odd * 2^15 >= 2^30)
    quants += [(rng.choice([-1, 1]) * (2 * rng.randint(0, 1 << 15) + 1) << 15,
                (2 * rng.randint(1 << 14, (1 << 15) - 1) + 1) << 15, rng.randint(-31, 30)) for _ in range(1000)]
    # exp_negative takes a <= 0 (Q4.27 for LOGISTIC, Q5.26 for SOFTMAX); one_over_one_plus_x
    # takes [0, 1) in Q0.31 but is defined on every int32 (gemmlowp's RoundingHalfSum).
    exps = [(a, bits) for bits in (4, 5) for a in [v for v in EDGES if v <= 0] + [rng.randint(I32_MIN, 0) for _ in range(400)]]
    ones = EDGES + [rng.randint(0, I32_MAX) for _ in range(400)] + [rng.randint(I32_MIN, -1) for _ in range(100)]
    return pairs, quants, exps, ones


def build(tmp, name, extra):
    src = os.path.join(tmp, "driver.c")
    with open(src, "w") as f:
        f.write(DRIVER)
    exe = os.path.join(tmp, name)
    cmd = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function", "-O1", "-g",
           "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-I", NATIVE, *extra,
           "-o", exe, src, os.path.join(NATIVE, "nn_model.c")]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return exe


@pytest.mark.parametrize("variant", ["int64", "high_mul_32"])
def test_high_mul_and_requantization_match_gemmlowp(tmp_path, variant):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    exe = build(str(tmp_path), variant, ["-DNN_HIGH_MUL_32"] if variant == "high_mul_32" else [])
    pairs, quants, exps, ones = operands()
    text = "".join("h %d %d\n" % p for p in pairs) + "".join("q %d %d %d\n" % q for q in quants)
    text += "".join("e %d %d\n" % e for e in exps) + "".join("o %d 0\n" % a for a in ones)
    proc = subprocess.run([exe], input=text, capture_output=True, text=True, check=True)
    got = [int(v) for v in proc.stdout.split()]
    want = [saturating_rounding_doubling_high_mul(a, b) for a, b in pairs]
    want += [multiply_by_quantized_multiplier(x, m, s) for x, m, s in quants]
    want += [exp_on_negative_values(a, bits) for a, bits in exps]
    want += [one_over_one_plus_x_for_x_in_0_1(a) for a in ones]
    assert len(got) == len(want)
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
    assert not bad, "%s: %d mismatches, first %r (operands %r)" % (
        variant, len(bad), bad[0], (pairs + quants + exps + [(a,) for a in ones])[bad[0][0]])
