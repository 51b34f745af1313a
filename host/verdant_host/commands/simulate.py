"""`verdant simulate`: write a simulated greenhouse scenario as a replay CSV
(a parser over verdant_host.greenhouse.csvfile)."""
import sys

from verdant_host import greenhouse
from verdant_host.greenhouse.csvfile import parse_event, simulate_csv


def _run(args):
    events = [parse_event(e) for e in args.event] if args.event else (None if not args.no_events else [])
    rows, scenario = simulate_csv(args.output, args.seed, args.days, args.start_doy, args.period, events)
    if args.output != "-":
        print("wrote %d rows to %s (day of year %g)" % (rows, args.output, scenario.start_doy), file=sys.stderr)
        for e in scenario.events:
            print("  %-20s at %6.1f h for %5.1f h%s" % (e.kind, e.start_s / 3600, e.duration_s / 3600,
                                                       " (" + e.sensor + ")" if e.sensor else ""), file=sys.stderr)


def register(subparsers):
    p = subparsers.add_parser("simulate", help="simulate a greenhouse and write a replay CSV with event labels")
    p.add_argument("output", help="CSV file to write ('-' for stdout)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same data)")
    p.add_argument("--days", type=float, default=2.0, help="simulated days (default 2)")
    p.add_argument("--start-doy", type=float, help="day of year the simulation starts (1..365; default from seed)")
    p.add_argument("--period", type=int, default=300, help="sample period in seconds (default 300)")
    p.add_argument("--event", action="append", metavar="KIND@START_H[+DUR_H][:SENSOR]",
                   help="inject this event instead of random ones (repeatable); kinds: "
                   + ", ".join(greenhouse.EVENT_KINDS))
    p.add_argument("--no-events", action="store_true", help="simulate normal operation only")
    p.set_defaults(handler=_run)
