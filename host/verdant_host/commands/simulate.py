"""`verdant simulate`: write a simulated greenhouse scenario as a replay CSV."""
import sys

from verdant_host import greenhouse
from verdant_host.errors import VerdantError


def parse_event(text):
    """KIND@START_H[+DURATION_H][:SENSOR], e.g. heating_failure@20+8 or sensor_drift@5+6:rh_pct."""
    spec, _, sensor = text.partition(":")
    kind, at, timing = spec.partition("@")
    if not at:
        raise VerdantError("event %r: expected KIND@START_H[+DURATION_H][:SENSOR], e.g. heating_failure@20+8" % text)
    start, _, duration = timing.partition("+")
    try:
        start_h = float(start)
        duration_h = float(duration) if duration else 6.0
    except ValueError:
        raise VerdantError("event %r: start and duration must be hours (numbers)" % text)
    try:
        return greenhouse.Event(kind, start_h * 3600, duration_h * 3600, sensor or None)
    except ValueError as exc:
        raise VerdantError("event %r: %s" % (text, exc))


def simulate(out, seed=0, days=2.0, start_doy=None, period_s=300, events=None):
    """Simulate and write the CSV to `out` (a path, or '-' for stdout). Returns the row count.
    events=None draws random events for the season; a list (maybe empty) uses exactly those."""
    if days <= 0:
        raise VerdantError("--days must be > 0, got %g" % days)
    if start_doy is not None and not 1 <= start_doy <= 365:
        raise VerdantError("--start-doy must be within 1..365, got %g" % start_doy)
    if period_s < 60 or period_s % 60:
        raise VerdantError("--period must be a multiple of 60 s, got %g" % period_s)
    if events is None:
        scenario = greenhouse.random_scenario(seed, days=days, start_doy=start_doy)
    else:
        scenario = greenhouse.Scenario(seed=seed, days=days,
                                       start_doy=30.0 if start_doy is None else start_doy, events=events)
        for e in events:
            if e.end_s > days * 86400:
                raise VerdantError("event %s ends after the simulated %g days" % (e.kind, days))
    columns = greenhouse.simulate(scenario).sample(period_s)
    try:
        if out == "-":
            return greenhouse.write_csv(sys.stdout, columns), scenario
        return greenhouse.write_csv(out, columns), scenario
    except OSError as exc:
        raise VerdantError("cannot write %s: %s" % (out, exc.strerror or exc))


def _run(args):
    events = [parse_event(e) for e in args.event] if args.event else (None if not args.no_events else [])
    rows, scenario = simulate(args.output, args.seed, args.days, args.start_doy, args.period, events)
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
