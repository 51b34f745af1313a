"""Runs Verdant model files through the native C kernel, three ways.

    run_c_host(model_bytes, inputs)  gcc build with AddressSanitizer + UBSan
    run_c_qemu(model_bytes, inputs)  Cortex-M0+ build under qemu-system-arm (mps2-an385)
    run_c_qemu_m4 / run_c_qemu_m33   Cortex-M4 (mps2-an386) / Cortex-M33 (mps2-an505) builds:
                                     the DSP extension's dual-MAC (SMLAD) path
    run_natmod(model_bytes, inputs)  dist/x64_*/verdant_nn.mpy in the MicroPython Unix port

inputs: a list of int8 input vectors (bytes, 1 byte per element). Each returns a list
of output bytes, one per input. A model the C parser rejects raises CModelError with
the parser's message. A missing tool or .mpy raises BackendUnavailable with the reason.
The runners are built with `make native-host` / `make native-qemu[-m4|-m33]` (mk/native.mk).
"""
import os
import shutil
import subprocess
import struct
import tempfile

from verdant_host import paths
from verdant_host.errors import BackendUnavailable
from verdant_host.make_lock import run_make
from verdant_host.mpy_script import run_script

REPO = paths.REPO_DIR
HOST_RUNNER = paths.build_dir("native", "host", "nn_runner")
QEMU_RUNNER = paths.build_dir("native", "m0", "nn_runner.elf")
MODEL_REJECTED = 2
QEMU_TIMEOUT_S = 120


class CModelError(ValueError):
    """The C parser refused the model; str() is its message."""


def _build(target, tools):
    for tool in tools:
        if shutil.which(tool) is None:
            raise BackendUnavailable("%s not found (install it: see host/scripts/setup_system.sh)" % tool)
    proc = run_make([target])
    if proc.returncode != 0:
        raise RuntimeError("make %s failed:\n%s%s" % (target, proc.stdout, proc.stderr))


def _check_inputs(inputs):
    if not inputs:
        raise ValueError("inputs: give at least one input vector")
    size = len(inputs[0])
    if any(len(x) != size for x in inputs):
        raise ValueError("inputs: all input vectors must have the same length")
    return size


def _split(data, count):
    if count == 0 or len(data) % count:
        raise RuntimeError("runner wrote %d bytes for %d inputs" % (len(data), count))
    step = len(data) // count
    return [bytes(data[i * step:(i + 1) * step]) for i in range(count)]


def _run_files(model_bytes, inputs, run):
    _check_inputs(inputs)
    with tempfile.TemporaryDirectory(prefix="verdant-c-") as tmp:
        for name, data in (("model.bin", model_bytes), ("input.bin", b"".join(bytes(x) for x in inputs))):
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(data)
        proc = run(tmp)
        message = (proc.stdout + proc.stderr).strip()
        if proc.returncode == MODEL_REJECTED:
            raise CModelError(message.splitlines()[-1] if message else "model rejected")
        if proc.returncode != 0:
            raise RuntimeError("C runner exited %d:\n%s" % (proc.returncode, message))
        with open(os.path.join(tmp, "output.bin"), "rb") as f:
            return _split(f.read(), len(inputs))


def run_c_host(model_bytes, inputs):
    """Host build (gcc -fsanitize=address,undefined): list of output bytes."""
    _build("native-host", ["gcc", "make"])
    return _run_files(model_bytes, inputs, lambda tmp: subprocess.run(
        [HOST_RUNNER, "model.bin", "input.bin", "output.bin"], cwd=tmp, capture_output=True, text=True,
        timeout=QEMU_TIMEOUT_S))


# make target, QEMU machine and cpu, runner ELF
QEMU_BOARDS = {
    "m0": ("native-qemu", "mps2-an385", "cortex-m3", QEMU_RUNNER),
    "m4": ("native-qemu-m4", "mps2-an386", "cortex-m4", os.path.join(REPO, "build", "native", "m4", "nn_runner.elf")),
    "m33": ("native-qemu-m33", "mps2-an505", "cortex-m33", os.path.join(REPO, "build", "native", "m33", "nn_runner.elf")),
}


def _run_qemu(board, model_bytes, inputs):
    target, machine, cpu, elf = QEMU_BOARDS[board]
    _build(target, ["arm-none-eabi-gcc", "qemu-system-arm", "make"])
    cmd = ["qemu-system-arm", "-M", machine, "-cpu", cpu, "-nographic", "-monitor", "none",
           "-serial", "none", "-semihosting-config", "enable=on,target=native", "-kernel", elf]
    return _run_files(model_bytes, inputs, lambda tmp: subprocess.run(
        cmd, cwd=tmp, capture_output=True, text=True, timeout=QEMU_TIMEOUT_S))


def run_c_qemu(model_bytes, inputs):
    """Cortex-M0+ build (arm-none-eabi-gcc -mcpu=cortex-m0plus, Thumb-1 MAC loop) on mps2-an385."""
    return _run_qemu("m0", model_bytes, inputs)


def run_c_qemu_m4(model_bytes, inputs):
    """Cortex-M4 build (SMLAD dual-MAC path) on qemu-system-arm mps2-an386."""
    return _run_qemu("m4", model_bytes, inputs)


def run_c_qemu_m33(model_bytes, inputs):
    """Cortex-M33 build (SMLAD dual-MAC path) on qemu-system-arm mps2-an505."""
    return _run_qemu("m33", model_bytes, inputs)


def natmod_path():
    """Path of the x64 verdant_nn.mpy or None."""
    from verdant_host.deploy import native_module_path
    return native_module_path("x64")



_NATMOD_SCRIPT = """
import sys
import verdant_nn
model = open('model.bin', 'rb').read()
data = open('input.bin', 'rb').read()
try:
    arena = bytearray(verdant_nn.check(model))
except ValueError as e:
    print(e)
    sys.exit(2)
verdant_nn.init(model, arena)
n_in = %d
out = bytearray(%d)
f = open('output.bin', 'wb')
for i in range(0, len(data), n_in):
    verdant_nn.run(model, arena, data[i:i + n_in], out)
    f.write(out)
f.close()
"""


def run_natmod(model_bytes, inputs):
    """dist/x64_*/verdant_nn.mpy under the MicroPython Unix port: list of output bytes."""
    mpy = natmod_path()
    if mpy is None:
        raise BackendUnavailable("dist/x64_*/verdant_nn.mpy not built: run `make natmod ARCH=x64 MPY_DIR=...` (docs/native.md)")
    n_in = len(inputs[0]) if inputs else 0
    n_out = struct.unpack_from("<I", model_bytes, 56)[0] if len(model_bytes) >= 64 else 0
    script = _NATMOD_SCRIPT % (n_in, n_out)
    return _run_files(model_bytes, inputs, lambda tmp: run_script(
        script, [os.path.dirname(mpy)], cwd=tmp, timeout=QEMU_TIMEOUT_S))


BACKENDS = {"c_host": run_c_host, "c_qemu": run_c_qemu, "c_qemu_m4": run_c_qemu_m4,
            "c_qemu_m33": run_c_qemu_m33, "natmod": run_natmod}
