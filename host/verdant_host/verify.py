"""Check a Verdant model file bit-exactly against the tflite-micro reference.

    result = verify_model(model_bytes, tflite_bytes, samples=100)
    print(result.format()); assert result.ok

Each backend of the device engine runs the same int8 inputs (random ones, edge
ones and any given ones) and must give byte-identical outputs to tflite-micro
(TFLM's reference kernels; LiteRT's interpreter differs and is not the oracle).
Backends: `cpython` (the pure-Python engine here), `micropython-python` and
`micropython-viper` (the same engine inside the MicroPython Unix port), and the C
builds verdant_host.native_runners provides (`c-host`, `c-qemu` Cortex-M0+, `c-qemu-m4` and
`c-qemu-m33` the SMLAD path, `natmod`).
"""
import binascii
import os
import tempfile
from dataclasses import dataclass, field

import numpy as np

from verdant_host import native_runners, paths
from verdant_host.errors import BackendUnavailable, VerdantError
from verdant_host.export import export_layers
from verdant_host.model_writer import truncate_model
from verdant_host.mpy_script import run_script
from verdant_host.tflite_reader import read_tflite

BACKENDS = ("cpython", "micropython-python", "micropython-viper", "c-host", "c-qemu", "c-qemu-m4", "c-qemu-m33",
            "natmod")


# ---------------------------------------------------------------- the oracle

class TflmReference:
    """Runs int8 samples through tflite-micro, whatever the model's I/O types."""

    def __init__(self, tflite_bytes, preserve_tensors=False):
        from tflite_micro.python.tflite_micro import runtime
        config = (runtime.InterpreterConfig.kPreserveAllTensors if preserve_tensors
                  else runtime.InterpreterConfig.kAllocationRecording)
        try:
            self.interpreter = runtime.Interpreter.from_bytes(
                bytes(tflite_bytes), arena_size=max(65536, 20 * len(tflite_bytes)),
                intrepreter_config=config)
        except Exception as exc:
            raise VerdantError("tflite-micro refuses the .tflite (%s)" % exc)
        model = read_tflite(tflite_bytes)
        self.input = model.tensors[model.inputs[0]]
        self.output = model.tensors[model.outputs[0]]
        self.in_q = self._float_io_q(model, self.input, first=True)
        self.out_q = self._float_io_q(model, self.output, first=False)

    @staticmethod
    def _float_io_q(model, tensor, first):
        """(scale, zp) used to turn int8 into the float the graph takes/returns."""
        if tensor.dtype == "INT8":
            return None
        for op in model.operators:
            if first and op.op == "QUANTIZE" and op.inputs[0] == tensor.index:
                inner = model.tensors[op.outputs[0]]
                return inner.scales[0], inner.zero_points[0]
            if not first and op.op == "DEQUANTIZE" and op.outputs[0] == tensor.index:
                inner = model.tensors[op.inputs[0]]
                return inner.scales[0], inner.zero_points[0]
        raise VerdantError("%s has type %s and no QUANTIZE/DEQUANTIZE next to it"
                           % (tensor.describe(), tensor.dtype))

    def run(self, sample):
        """int8 sample bytes -> int8 output bytes."""
        q = np.frombuffer(bytes(sample), dtype=np.int8).reshape(self.input.shape)
        if self.in_q is None:
            value = q
        else:  # a float that QUANTIZE maps back to exactly q
            scale, zp = np.float32(self.in_q[0]), self.in_q[1]
            value = ((q.astype(np.int32) - zp).astype(np.float32) * scale).astype(np.float32)
        self.interpreter.set_input(value, 0)
        self.interpreter.invoke()
        out = np.asarray(self.interpreter.get_output(0))
        if self.out_q is not None:
            scale, zp = np.float32(self.out_q[0]), self.out_q[1]
            out = np.clip(np.round(out.astype(np.float64) / float(scale)) + zp, -128, 127)
        return out.astype(np.int8).tobytes()

    def tensor(self, index):
        """Bytes of an intermediate int8 tensor (needs preserve_tensors=True)."""
        return np.asarray(self.interpreter.GetTensor(index, 0)["tensor_data"]).astype(np.int8).tobytes()


def reference_outputs(tflite_bytes, inputs):
    reference = TflmReference(tflite_bytes)
    return [reference.run(sample) for sample in inputs]


# ---------------------------------------------------------------- backends

def run_cpython(model_bytes, inputs):
    """The device engine's pure-Python backend in this CPython process."""
    try:
        import verdant.engine as engine
        runner = engine.load(bytes(model_bytes), backend="python")
    except (ImportError, AttributeError) as exc:
        raise BackendUnavailable("verdant.engine.load is missing (%s)" % exc)
    return [bytes(runner.predict_int8(bytes(sample))) for sample in inputs]


_MICROPYTHON_SCRIPT = """
import sys, binascii
import verdant.engine as engine
from verdant.engine import modelfile
f = open(%r, 'rb'); model = f.read(); f.close()
modelfile.parse(model)
try:
    runner = engine.load(model, backend=%r)
except (ValueError, ImportError, AttributeError) as exc:
    print('UNAVAILABLE', exc)
    sys.exit(0)
print('BACKEND', runner.backend)
f = open(%r)
for line in f:
    line = line.strip()
    if line:
        print('OUT', binascii.hexlify(bytes(runner.predict_int8(binascii.unhexlify(line)))).decode())
f.close()
"""



def run_micropython(model_bytes, inputs, backend="python", micropython=None, timeout=600):
    """One micropython Unix-port process runs every input through the engine forced
    to `backend`; results come back as hex lines."""
    with tempfile.TemporaryDirectory(prefix="verdant-verify-") as tmp:
        model_path = os.path.join(tmp, "model.bin")
        inputs_path = os.path.join(tmp, "inputs.hex")
        with open(model_path, "wb") as f:
            f.write(bytes(model_bytes))
        with open(inputs_path, "w") as f:
            f.writelines(binascii.hexlify(bytes(s)).decode() + "\n" for s in inputs)
        script = _MICROPYTHON_SCRIPT % (model_path, backend, inputs_path)
        proc = run_script(script, [paths.DEVICE_DIR], micropython, heap_bytes=64 << 20, timeout=timeout)
    lines = proc.stdout.splitlines()
    for line in lines:
        if line.startswith("UNAVAILABLE "):
            raise BackendUnavailable("micropython engine has no %s backend: %s" % (backend, line[12:]))
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        raise VerdantError("micropython %s backend failed: %s" % (backend, " | ".join(tail)))
    actual = [line.split()[1] for line in lines if line.startswith("BACKEND ")]
    if actual != [backend]:
        raise BackendUnavailable("the engine ran backend %s instead of %s" % (actual, backend))
    outputs = [binascii.unhexlify(line[4:]) for line in lines if line.startswith("OUT ")]
    if len(outputs) != len(inputs):
        raise VerdantError("micropython %s backend returned %d outputs for %d inputs"
                           % (backend, len(outputs), len(inputs)))
    return outputs


def _c_runner(runner):
    return lambda model_bytes, inputs: [bytes(out) for out in runner(model_bytes, inputs)]


RUNNERS = {
    "cpython": run_cpython,
    "micropython-python": lambda model, inputs: run_micropython(model, inputs, "python"),
    "micropython-viper": lambda model, inputs: run_micropython(model, inputs, "viper"),
    "c-host": _c_runner(native_runners.run_c_host),
    "c-qemu": _c_runner(native_runners.run_c_qemu),
    "c-qemu-m4": _c_runner(native_runners.run_c_qemu_m4),
    "c-qemu-m33": _c_runner(native_runners.run_c_qemu_m33),
    "natmod": _c_runner(native_runners.run_natmod),
}


# ---------------------------------------------------------------- inputs and comparison

def make_inputs(element_count, samples, seed=0, zero_point=0):
    """Edge inputs (all -128, all 127, all zero point) then `samples` random ones."""
    rng = np.random.default_rng(seed)
    edges = [bytes([v & 0xFF]) * element_count for v in (-128, 127, zero_point)]
    rand = [rng.integers(-128, 128, element_count, dtype=np.int8).tobytes() for _ in range(samples)]
    return edges + rand


def quantize_rows(rows, scale, zero_point):
    """Float rows -> int8 bytes: clamp(roundf(x / float32(s)) + zp), half away from zero."""
    values = np.asarray(rows, dtype=np.float32)
    if not np.all(np.isfinite(values)):
        row = int(np.argwhere(~np.isfinite(np.atleast_2d(values)))[0][0])
        raise VerdantError("input row %d holds a non-finite value (NaN or inf)" % row)
    values = values / np.float32(scale)
    rounded = np.sign(values) * np.floor(np.abs(values) + np.float32(0.5))
    return [bytes(np.clip(row + zero_point, -128, 127).astype(np.int8).tobytes())
            for row in np.atleast_2d(rounded)]


@dataclass
class BackendResult:
    backend: str
    agreed: int = 0
    total: int = 0
    skipped: str = None          # reason when the backend could not run
    mismatches: list = field(default_factory=list)  # (input index, expected, got)
    first_bad_layer: str = None  # "2 (CONV_2D)"

    def describe_first_mismatch(self):
        index, expected, got = self.mismatches[0]
        position = next(i for i, (a, b) in enumerate(zip(expected, got)) if a != b) \
            if len(expected) == len(got) else -1
        text = "input %d: tflite-micro %s, %s %s" % (
            index, np.frombuffer(expected, np.int8).tolist(), self.backend, np.frombuffer(got, np.int8).tolist())
        if position >= 0:
            text += " (first difference at output %d)" % position
        if self.first_bad_layer is not None:
            text += "; first diverging layer %s" % self.first_bad_layer
        return text


@dataclass
class VerifyResult:
    backends: list

    @property
    def ok(self):
        ran = [b for b in self.backends if b.skipped is None]
        return bool(ran) and all(b.agreed == b.total for b in ran)

    def format(self):
        lines = []
        for b in self.backends:
            if b.skipped is not None:
                lines.append("%-20s skipped: %s" % (b.backend, b.skipped))
                continue
            lines.append("%-20s %d/%d identical (%.1f%%)" % (
                b.backend, b.agreed, b.total, 100.0 * b.agreed / max(1, b.total)))
            if b.mismatches:
                lines.append("    " + b.describe_first_mismatch())
        return "\n".join(lines)


def first_bad_layer(runner, model_bytes, tflite_bytes, sample):
    """'index (OP)' of the first layer of the model file whose output differs from
    tflite-micro's tensor for sample; None when that cannot be told (the .tflite
    has a different layer count, or every layer agrees)."""
    _, rows, _, _ = export_layers(tflite_bytes)
    if len(rows) != int.from_bytes(bytes(model_bytes[16:18]), "little"):
        return None
    reference = TflmReference(tflite_bytes, preserve_tensors=True)
    reference.run(sample)
    for row in rows:
        prefix = truncate_model(model_bytes, row.index + 1)
        if runner(prefix, [sample])[0] != reference.tensor(row.tensor):
            return "%d (%s)" % (row.index, row.op)
    return None


def compare(backend, runner, model_bytes, tflite_bytes, inputs, expected, locate=True):
    result = BackendResult(backend)
    try:
        outputs = runner(model_bytes, inputs)
    except BackendUnavailable as exc:
        result.skipped = str(exc)
        return result
    result.total = len(inputs)
    for index, (want, got) in enumerate(zip(expected, outputs)):
        if want == got:
            result.agreed += 1
        else:
            result.mismatches.append((index, want, got))
    if result.mismatches and locate:
        result.first_bad_layer = first_bad_layer(runner, model_bytes, tflite_bytes,
                                                  inputs[result.mismatches[0][0]])
    return result


def verify_model(model_bytes, tflite_bytes, samples=100, backends=None, inputs=None, seed=0):
    """Run every requested (default: every) backend on edge, random and given int8
    inputs and compare with tflite-micro. Returns a VerifyResult."""
    from verdant.engine import modelfile
    try:
        model = modelfile.parse(bytes(model_bytes))
    except ValueError as exc:
        raise VerdantError("bad model file: %s" % exc)
    reference = TflmReference(tflite_bytes)
    del model  # parsed only to refuse a bad file before anything runs
    elements = int(np.frombuffer(bytes(model_bytes[52:56]), dtype="<u4")[0])
    if int(np.prod(reference.input.shape)) != elements:
        raise VerdantError("the model file takes %d inputs but the .tflite takes %d; wrong pair of files?"
                           % (elements, int(np.prod(reference.input.shape))))
    samples_in = make_inputs(elements, samples, seed, _input_zero_point(model_bytes))
    for sample in inputs or []:
        if len(sample) != elements:
            raise VerdantError("a given input has %d values, the model takes %d" % (len(sample), elements))
        samples_in.append(bytes(sample))
    expected = [reference.run(sample) for sample in samples_in]
    names = list(backends or BACKENDS)
    for name in names:
        if name not in RUNNERS:
            raise VerdantError("unknown backend %r; choose from %s" % (name, ", ".join(BACKENDS)))
    return VerifyResult([compare(name, RUNNERS[name], model_bytes, tflite_bytes, samples_in, expected)
                         for name in names])


def _input_zero_point(model_bytes):
    return int(np.frombuffer(bytes(model_bytes[40:44]), dtype="<i4")[0])


def model_input_q(model_bytes):
    """(scale, zero point) of the model file header's input."""
    scale = float(np.frombuffer(bytes(model_bytes[36:40]), dtype="<f4")[0])
    return scale, _input_zero_point(model_bytes)
