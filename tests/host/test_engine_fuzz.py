"""A bounded atheris run of the Python model parser (only ModelError may escape).

The harness is tests/host/fuzz_engine_parser.py; `make fuzz-py` runs it longer.
"""
import os
import subprocess
import sys

import pytest

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_engine_parser.py")
RUNS = 3000


def test_parser_fuzz_bounded(tmp_path):
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, HARNESS, "--write-seeds", str(corpus)], check=True, timeout=60)
    assert len(os.listdir(corpus)) == 3
    proc = subprocess.run([sys.executable, HARNESS, "-runs=%d" % RUNS, "-seed=1", str(corpus)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    log = proc.stderr[-3000:]
    assert proc.returncode == 0, "fuzzer found an input raising something other than ModelError:\n" + log
    assert "Done %d runs" % RUNS in proc.stderr, log
