"""Model files from and against .tflite files: export() writes the model file of a
full-integer .tflite, verify() checks one bit-exactly against tflite-micro, read_inputs()
reads extra inputs for it. `verdant export` and `verdant verify` are thin parsers over these.

Example:
    report = export("model.tflite", "model.bin", "meta.json")
    print(verify("model.bin", "model.tflite", samples=200).format())
"""
import csv
import json

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
