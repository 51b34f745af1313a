"""`verdant replay FILE.csv --board sim`: the alert lines the board would send for a CSV."""
import sys

from verdant_host import replay as replay_mod


def _run(args):
    kinds = None if args.all or args.format == "text" else ("alert",)  # the monitor sees every line
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
    board = replay_mod.with_place(args.board, args.latitude, args.longitude)
    lines, problems = replay_mod.replay_file(args.csv, board, model, kinds)
    if note:
        print("replay: " + note, file=sys.stderr)
    gates = replay_mod.gates_note(board, model)
    if gates:  # a model with sun gates: on the board's place, or its clock hours without one
        print("replay: gates: " + gates, file=sys.stderr)
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.format == "text":
        _print_as_monitor(lines, 0 if args.all else 3 * 3600)
    else:
        for line in lines:
            sys.stdout.write(line if line.endswith("\n") else line + "\n")
    print("replay: %d lines%s, %d bad rows skipped" % (len(lines), "" if kinds is None else " (alerts)", len(problems)),
          file=sys.stderr)


def _print_as_monitor(lines, reading_every_s):
    """What `verdant monitor` would show for these lines (same decoder and view, no colour);
    without --all one reading line per 3 board hours, as in `make demo`."""
    from verdant_host.monitor import Monitor
    monitor = Monitor(None, out=sys.stdout, colour=False, reading_every_s=reading_every_s)
    for line in lines:
        monitor.feed((line if isinstance(line, bytes) else line.encode()).rstrip(b"\n") + b"\n")
    monitor.finish()


def register(subparsers):
    p = subparsers.add_parser("replay", help="run a CSV of readings through the firmware and print its alert lines")
    p.add_argument("csv", help="CSV with timestamp_s and sensor columns (see docs/training.md)")
    p.add_argument("--board", default="sim", help="board config name in boards/ or a JSON path (default sim)")
    p.add_argument("--model", default="auto",
                   help="model file (default: the shipped model that fits the CSV's columns, see "
                        "docs/training.md; none fits -> rules only)")
    p.add_argument("--no-model", action="store_true", help="rules only, no model")
    p.add_argument("--latitude", type=float, default=None,
                   help="the site's latitude (degrees north) for the model's sun gates (default: the board config's)")
    p.add_argument("--longitude", type=float, default=None,
                   help="the site's longitude (degrees east) for the model's sun gates (default: the board config's)")
    p.add_argument("--all", action="store_true", help="print every line (readings, status), not only alerts")
    p.add_argument("--format", choices=("lines", "text"), default="lines",
                   help="lines: the protocol lines; text: what `verdant monitor` would show")
    p.set_defaults(handler=_run)
