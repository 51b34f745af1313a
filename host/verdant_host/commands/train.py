"""`verdant train`: train, quantize and export the default model with its report;
`--check REPORT.json` compares the new metrics with a committed report."""
import json
import os

from verdant_host.errors import VerdantError

# What a re-run must reproduce (absolute differences) to pass `make train-check`.
# The baseline does not depend on training: it must match exactly (same simulator, same seeds).
TOLERANCE = {"int8.accuracy": 0.02, "int8.macro_f1": 0.03, "float.accuracy": 0.02,
             "false_alarms_per_week.model": 0.1, "false_alarms_per_week.baseline": 0.001,
             "headline.model_detected": 3, "headline.model_median_latency_min": 30}


def _get(result, dotted):
    value = result
    for key in dotted.split("."):
        value = value[key]
    return value


def compare_reports(new, committed, tolerance=None):
    """List of 'metric: new vs committed' lines that differ by more than the tolerance."""
    problems = []
    for metric, tol in (tolerance or TOLERANCE).items():
        try:
            a, b = _get(new, metric), _get(committed, metric)
        except (KeyError, TypeError):
            problems.append("%s: missing in one of the reports" % metric)
            continue
        if abs(a - b) > tol:
            problems.append("%s: %.4f now vs %.4f committed (tolerance %g)" % (metric, a, b, tol))
    return problems


def train_command(out_dir, quick=False, train_seeds=None, test_seeds=None, epochs=None, check=None,
                  progress=None):
    """Run training into out_dir; with check, compare with that report.json. Returns the result."""
    from verdant_host import train
    config = train.TrainConfig.quick() if quick else train.TrainConfig()
    for name, value in (("train_seeds", train_seeds), ("test_seeds", test_seeds), ("epochs", epochs)):
        if value is not None:
            if value < 1:
                raise VerdantError("--%s must be >= 1, got %d" % (name.replace("_", "-"), value))
            setattr(config, name, value)
    committed = None
    if check:
        try:
            with open(check) as f:
                committed = json.load(f)
        except OSError as exc:
            raise VerdantError("cannot read %s: %s" % (check, exc.strerror or exc))
        except ValueError as exc:
            raise VerdantError("%s is not a JSON report: %s" % (check, exc))
    command = "verdant train" + (" --quick" if quick else "")
    result = train.train(config, out_dir, progress=progress or train.stderr_progress, command=command)
    if committed is not None:
        problems = compare_reports(result, committed)
        if problems:
            raise VerdantError("retrained model differs from %s: %s" % (check, "; ".join(problems)))
        print("train-check: metrics match %s within tolerance (%s)" % (
            check, ", ".join("%s +-%g" % kv for kv in TOLERANCE.items())))
    return result


def site_command(history_csv, out_dir, progress=None):
    """`verdant train --site HISTORY.csv --out DIR`: the site's normal-behaviour model."""
    from verdant_host import sitemodel, train
    return sitemodel.train_site(history_csv, out_dir, progress=progress or train.stderr_progress)


def _run(args):
    if args.site:
        if args.quick or args.check or args.train_seeds or args.test_seeds or args.epochs:
            raise VerdantError("--site takes only --out (the site model is a linear fit: no epochs)")
        if not args.out:
            raise VerdantError("--site needs --out DIR (the default model in models/default is not replaced)")
        result = site_command(args.site, args.out)
        print("site model: %d labels, each day of %d held back in turn for the thresholds, %d raises on the "
              "history; %s" % (len(result["labels"]), result["days"], result["history_raises"],
                               os.path.join(os.path.abspath(args.out), "report.md")))
        return
    args.out = args.out or "models/default"
    result = train_command(args.out, args.quick, args.train_seeds, args.test_seeds, args.epochs, args.check)
    print("int8 accuracy %.3f, macro F1 %.3f (float %.3f); model false alarms %.2f/week, baseline %.2f/week; "
          "files in %s" % (result["int8"]["accuracy"], result["int8"]["macro_f1"], result["float"]["accuracy"],
                           result["false_alarms_per_week"]["model"], result["false_alarms_per_week"]["baseline"],
                           os.path.abspath(args.out)))


def register(subparsers):
    p = subparsers.add_parser("train", help="train + int8-quantize + export the early-warning model and its report")
    p.add_argument("--out", default=None, help="output directory (default models/default; required with --site)")
    p.add_argument("--site", metavar="HISTORY_CSV",
                   help="train this greenhouse's own normal-behaviour model from its fault-free history "
                        "(a pulled flash log or any CSV with timestamp_s and sensor columns, 1-15 min rows, "
                        "3 days or more) into --out: model.bin and report.md")
    p.add_argument("--quick", action="store_true", help="tiny smoke run (seconds), not a useful model")
    p.add_argument("--train-seeds", type=int, help="simulated training weeks (default 240)")
    p.add_argument("--test-seeds", type=int, help="held-out simulated weeks (default 40)")
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument("--check", metavar="REPORT_JSON",
                   help="after training, fail unless the metrics match this report within tolerance")
    p.set_defaults(handler=_run)
