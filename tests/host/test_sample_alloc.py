"""Bytes the whole app allocates per 15-minute sample, stage by stage
(tests/device/bench_stage_alloc.py; figures in BENCHMARKS.md "Firmware heap").

Always on the x64 Unix port (modules from source); on the frozen 32-bit port too when
it is built or MPY_DIR is given (the sim32 board). The bounds are the figures measured
after the allocation work of issue 10 plus a margin; the figures before it are in the
comments, so a regression towards them fails here."""
import json
import os
import shutil
import subprocess

import pytest

from test_budget import REPO, unix32  # noqa: F401  (the 32-bit port fixture)

SCRIPT = os.path.join(REPO, "tests", "device", "bench_stage_alloc.py")

# stage -> bytes per sample at most, x64 (before: whole 229248, sensor polls 189512, simulated parts 104448,
# sleep 480)
X64_BOUNDS = {
    "whole app": 48000,
    "sensor polls (sampler)": 25000,
    "simulated parts and buses": 8000,
    "sleep": 1000,
}
# the same on 32-bit (before: whole 161696, sensor polls 111364, simulated parts 57600, sleep 23280: epoch
# milliseconds are heap objects there)
X32_BOUNDS = {
    "whole app": 27000,
    "sensor polls (sampler)": 12500,
    "simulated parts and buses": 4000,
    "sleep": 500,
}


def stage_figures(micropython, path, tmp_path):
    shutil.copy(os.path.join(REPO, "boards", "sim.json"), tmp_path / "board.json")
    shutil.copy(os.path.join(REPO, "models", "default", "model.bin"), tmp_path / "model.bin")
    proc = subprocess.run([micropython, "-X", "heapsize=8000000", SCRIPT], cwd=str(tmp_path),
                          env=dict(os.environ, MICROPYPATH=path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    figures = json.loads(proc.stdout.strip().split("\n")[-1])
    assert figures["period_s"] == 900 and figures["engine"] == "viper", figures
    return figures["per_sample"]


def _assert_within(per_sample, bounds):
    over = {stage: (per_sample[stage], bound) for stage, bound in bounds.items() if per_sample[stage] > bound}
    assert not over, "bytes per sample above the bound (measured, bound): %r; all stages: %r" % (over, per_sample)


def test_stages_add_up(tmp_path):
    micropython = os.environ.get("MICROPYTHON") or os.path.join(REPO, ".venv", "bin", "micropython")
    if not os.path.exists(micropython):
        pytest.skip("micropython Unix port not found at %s" % micropython)
    per_sample = stage_figures(micropython, os.path.join(REPO, "device"), tmp_path)
    # no stage frees more than it allocates (a collection inside one would hide its cost)
    assert min(per_sample.values()) >= 0, per_sample
    # nested stages are parts of their parents; the top-level ones cover the whole app
    assert per_sample["sensor drivers"] >= per_sample["simulated parts and buses"] > 0
    assert per_sample["sensor polls (sampler)"] >= per_sample["sensor drivers"]
    top = per_sample["sensor polls (sampler)"] + per_sample["sample step (below)"] + per_sample["sleep"] + \
        per_sample["model file check"] + per_sample["hourly status line"]
    assert top <= per_sample["whole app"] <= top + 4096, per_sample
    _assert_within(per_sample, X64_BOUNDS)


def test_bytes_per_sample_on_the_32bit_port(unix32, tmp_path):  # noqa: F811
    _assert_within(stage_figures(unix32, ".frozen", tmp_path), X32_BOUNDS)
