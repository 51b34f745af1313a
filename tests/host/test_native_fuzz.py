"""A bounded libFuzzer run of the C parser + kernel (clang -fsanitize=fuzzer,address,undefined).

Seeded with valid model files of every op. `make fuzz` runs the same target for long
(FUZZ_SECONDS). Run as a script to write the seeds: python tests/host/test_native_fuzz.py DIR
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "device"))  # verdant.engine, when run as a script

from verdant_host import model_builder as builder  # noqa: E402
from verdant_host.make_lock import run_make  # noqa: E402
FUZZER = os.path.join(REPO, "build", "native", "fuzz", "fuzz_model")
FUZZ_SECONDS = int(os.environ.get("VERDANT_FUZZ_SECONDS", "20"))


def write_seeds(directory):
    """Valid model files covering all seven ops; returns how many."""
    import test_native_kernel as kernel_tests
    os.makedirs(directory, exist_ok=True)
    models = [builder.tiny_fc()]
    for seed in range(12):
        models.append(builder.build(kernel_tests.random_model(seed)[0]))
    m, s, r = kernel_tests.sigmoid_params(0.05)
    models.append(builder.build([builder.layer("logistic", (1, 2, 3), (1, 2, 3), out_zp=-128, params=(m, s, r))]))
    models.append(builder.build([builder.layer("softmax", (1, 2, 5), (1, 2, 5), out_zp=-128,
                                               params=kernel_tests.softmax_params(0.1))]))
    rng = random.Random(5)
    models.append(builder.build([kernel_tests.rand_mean_layer(rng, (2, 3, 4))]))
    for i, model in enumerate(models):
        with open(os.path.join(directory, "seed-%02d.bin" % i), "wb") as f:
            f.write(model)
    return len(models)


def test_fuzz_parser_and_kernel_bounded():
    if shutil.which(os.environ.get("CLANG", "clang")) is None:
        pytest.skip("clang not found: libFuzzer needs it (apt-get install clang)")
    proc = run_make(["build/native/fuzz/fuzz_model"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with tempfile.TemporaryDirectory(prefix="verdant-fuzz-") as tmp:
        corpus = os.path.join(tmp, "corpus")
        assert write_seeds(corpus) >= 15
        proc = subprocess.run([FUZZER, "-max_total_time=%d" % FUZZ_SECONDS, "-max_len=4096", "-timeout=10",
                               "-rss_limit_mb=1024", "-artifact_prefix=%s/" % tmp, corpus],
                              cwd=tmp, capture_output=True, text=True, timeout=FUZZ_SECONDS + 120)
        tail = "\n".join(proc.stderr.splitlines()[-30:])
        assert proc.returncode == 0, "fuzzer found a crash:\n" + tail
        assert "Done" in proc.stderr and " runs in " in proc.stderr, tail


if __name__ == "__main__":
    print("wrote %d seeds to %s" % (write_seeds(sys.argv[1]), sys.argv[1]))
