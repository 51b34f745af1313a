"""`verdant export` (.tflite -> model file) and `verdant verify` (model file vs tflite-micro):
parsers over verdant_host.model_files."""
import os

from verdant_host.errors import VerdantError
from verdant_host.model_files import export, verify


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
