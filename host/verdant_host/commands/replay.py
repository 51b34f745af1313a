"""`verdant replay FILE.csv --board sim`: the alert lines the board would send for a CSV."""
import sys

from verdant_host import replay as replay_mod


def _run(args):
    kinds = None if args.all else ("alert",)
    model = None if args.no_model else args.model
    note = None
    if model is None:
        note = "no model (--no-model): rules and sensor-fault detectors only"
    elif model == "auto":
        from verdant_host import model_choice
        present = model_choice.csv_quantities(args.csv)
        if present is not None:
            model, note = model_choice.choose(present)
        else:
            model = replay_mod.DEFAULT_MODEL
    else:
        note = "model %s (given)" % model
    lines, problems = replay_mod.replay_file(args.csv, args.board, model, kinds)
    if note:
        print("replay: " + note, file=sys.stderr)
    for problem in problems:
        print(problem, file=sys.stderr)
    for line in lines:
        sys.stdout.write(line if line.endswith("\n") else line + "\n")
    print("replay: %d lines%s, %d bad rows skipped" % (len(lines), "" if args.all else " (alerts)", len(problems)),
          file=sys.stderr)


def register(subparsers):
    p = subparsers.add_parser("replay", help="run a CSV of readings through the firmware and print its alert lines")
    p.add_argument("csv", help="CSV with timestamp_s and sensor columns (see docs/training.md)")
    p.add_argument("--board", default="sim", help="board config name in boards/ or a JSON path (default sim)")
    p.add_argument("--model", default="auto",
                   help="model file (default: the shipped model that fits the CSV's columns, see "
                        "docs/training.md; none fits -> rules only)")
    p.add_argument("--no-model", action="store_true", help="rules only, no model")
    p.add_argument("--all", action="store_true", help="print every line (readings, status), not only alerts")
    p.set_defaults(handler=_run)
