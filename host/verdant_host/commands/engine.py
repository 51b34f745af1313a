"""`verdant export` (.tflite -> model file) and `verdant verify` (model file vs tflite-micro)."""
import csv
import json
import os

import numpy as np

from verdant_host.errors import VerdantError


def _read(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise VerdantError("cannot read %s %s (%s)" % (what, path, exc.strerror or exc))


def export(tflite_path, out_path, meta_path=None):
    """Write the model file for tflite_path to out_path; returns the ExportReport."""
    from verdant_host.export import export_with_report
    meta = None
    if meta_path:
        try:
            meta = json.loads(_read(meta_path, "metadata file").decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise VerdantError("metadata file %s is not valid JSON (%s)" % (meta_path, exc))
    data, report = export_with_report(_read(tflite_path, ".tflite file"), meta)
    try:
        with open(out_path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise VerdantError("cannot write %s (%s)" % (out_path, exc.strerror or exc))
    return report


def read_inputs(path, model_bytes):
    """Given inputs: a .npy of int8 rows (used as they are) or of floats, or a CSV
    of float rows (no header); floats are quantized with the model's input scale."""
    from verdant_host.verify import model_input_q, quantize_rows
    if path.endswith(".npy"):
        try:
            rows = np.load(path)
        except (OSError, ValueError) as exc:
            raise VerdantError("cannot read inputs %s (%s)" % (path, exc))
        rows = rows.reshape(rows.shape[0], -1) if rows.ndim > 1 else rows.reshape(1, -1)
        if rows.dtype == np.int8:
            return [row.tobytes() for row in rows]
    else:
        try:
            with open(path, newline="") as f:
                rows = [[float(v) for v in line] for line in csv.reader(f) if line]
        except (OSError, ValueError) as exc:
            raise VerdantError("cannot read inputs %s as CSV of numbers (%s)" % (path, exc))
    if not len(rows):
        raise VerdantError("inputs file %s holds no rows" % path)
    scale, zero_point = model_input_q(model_bytes)
    return quantize_rows(rows, scale, zero_point)


def verify(model_path, tflite_path, samples=100, backends=None, inputs_path=None, seed=0):
    """Compare every (or the chosen) backend with tflite-micro; returns a VerifyResult."""
    from verdant_host.verify import verify_model
    model = _read(model_path, "model file")
    tflite = _read(tflite_path, ".tflite file")
    inputs = read_inputs(inputs_path, model) if inputs_path else None
    if samples < 0:
        raise VerdantError("--samples must be >= 0, got %d" % samples)
    return verify_model(model, tflite, samples=samples, backends=backends, inputs=inputs, seed=seed)


def _run_export(args):
    report = export(args.tflite, args.out, args.meta)
    print(report.format())
    print("wrote %s" % os.path.abspath(args.out))


def _run_verify(args):
    result = verify(args.model, args.tflite, args.samples, args.backend or None, args.inputs, args.seed)
    print(result.format())
    if not result.ok:
        ran = [b for b in result.backends if b.skipped is None]
        if not ran:
            raise VerdantError("no backend could run; see the reasons above")
        raise VerdantError("outputs differ from tflite-micro; see the first mismatch above")
    print("all backends that ran are bit-exact with tflite-micro")


def register(subparsers):
    from verdant_host.verify import BACKENDS
    p = subparsers.add_parser("export", help="convert a full-integer .tflite into a Verdant model file")
    p.add_argument("tflite", help="input .tflite (int8, batch 1, chain of supported ops)")
    p.add_argument("out", help="output model file (.bin)")
    p.add_argument("--meta", help="JSON file with metadata (features, norm_mean, norm_std, labels, window)")
    p.set_defaults(handler=_run_export)

    p = subparsers.add_parser("verify", help="check a model file bit-exactly against tflite-micro")
    p.add_argument("model", help="model file (.bin)")
    p.add_argument("--tflite", required=True, help="the .tflite it was exported from")
    p.add_argument("--samples", type=int, default=100, help="random inputs (plus 3 edge inputs; default 100)")
    p.add_argument("--backend", action="append", choices=BACKENDS,
                   help="backend to check (repeatable; default: every available one)")
    p.add_argument("--inputs", help="extra inputs: .npy (int8 or float rows) or CSV of float rows")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    p.set_defaults(handler=_run_verify)
