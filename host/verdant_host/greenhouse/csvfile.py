"""A simulated greenhouse as a replay CSV: simulate_csv() runs a scenario (random events for
the season, or the events given) and writes what the sensors measure; parse_event() reads
the command line's KIND@START_H[+DURATION_H][:SENSOR]. `verdant simulate` is a parser over it.

Example:
    rows, scenario = simulate_csv("week.csv", seed=3, days=7)
    simulate_csv("-", events=[parse_event("heating_failure@20+8")])
"""
import sys

from verdant_host.greenhouse.physics import simulate
from verdant_host.greenhouse.sampling import write_csv
from verdant_host.greenhouse.scenario import Event, Scenario, random_scenario
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
        return Event(kind, start_h * 3600, duration_h * 3600, sensor or None)
    except ValueError as exc:
        raise VerdantError("event %r: %s" % (text, exc))


def simulate_csv(out, seed=0, days=2.0, start_doy=None, period_s=300, events=None):
    """Simulate and write the CSV to `out` (a path, or '-' for stdout). Returns the row count.
    events=None draws random events for the season; a list (maybe empty) uses exactly those."""
    if days <= 0:
        raise VerdantError("--days must be > 0, got %g" % days)
    if start_doy is not None and not 1 <= start_doy <= 365:
        raise VerdantError("--start-doy must be within 1..365, got %g" % start_doy)
    if period_s < 60 or period_s % 60:
        raise VerdantError("--period must be a multiple of 60 s, got %g" % period_s)
    if events is None:
        scenario = random_scenario(seed, days=days, start_doy=start_doy)
    else:
        scenario = Scenario(seed=seed, days=days,
                            start_doy=30.0 if start_doy is None else start_doy, events=events)
        for e in events:
            if e.end_s > days * 86400:
                raise VerdantError("event %s ends after the simulated %g days" % (e.kind, days))
    columns = simulate(scenario).sample(period_s)
    try:
        if out == "-":
            return write_csv(sys.stdout, columns), scenario
        return write_csv(out, columns), scenario
    except OSError as exc:
        raise VerdantError("cannot write %s: %s" % (out, exc.strerror or exc))
