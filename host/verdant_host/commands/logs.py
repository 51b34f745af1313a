"""`verdant pull-logs`: the board's flash log as a replay CSV."""
import os

from verdant_host.errors import VerdantError
from verdant_host.pull_logs import pull_logs


def _run(args):
    if not args.port:
        raise VerdantError("pull-logs: no serial port; pass --port /dev/ttyUSB0 (or PORT=... with make)")
    result = pull_logs(args.port, args.out, transport=args.transport, raw_copy=args.raw)
    print("pull-logs: %d record(s) written to %s (%d damaged slot(s) skipped)"
          % (result["records"], args.out, result["bad_slots"]))
    return 0


def register(subparsers):
    p = subparsers.add_parser("pull-logs", help="copy the board's flash log and decode it to a replay CSV")
    p.add_argument("--port", default=os.environ.get("PORT"), help="serial port ($PORT)")
    p.add_argument("--out", default="build/pulled-log.csv", help="replay CSV to write")
    p.add_argument("--raw", help="also keep the raw log file here")
    p.add_argument("--transport", default=os.environ.get("TRANSPORT", "mpremote"), choices=("mpremote", "ampy"))
    p.set_defaults(handler=_run)
