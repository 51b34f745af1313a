"""Greenhouse truth for the virtual board's simulated sensors: the greenhouse simulator
(verdant_host.greenhouse) sampled onto a CSV that the board side (vboard_env.CsvTruth) reads.

Columns: timestamp_s (board time, epoch seconds) then one column per physical quantity.

Example:
    scenario = demo_scenario()                 # 48 h in winter, heating fails the first night
    start_s = write_truth_csv("truth.csv", scenario)
"""
import csv
import os

from verdant_host.errors import VerdantError
from verdant.quantities import TIME_COLUMN

TRUTH_PERIOD_S = 60


def demo_scenario(days=2.0, fault="heating_failure", seed=7):
    """A winter scenario with one injected fault starting at 22:00 on the first night."""
    from verdant_host import greenhouse
    events = []
    if fault:
        try:
            events.append(greenhouse.Event(fault, 22 * 3600.0, 7 * 3600.0,
                                           "air_temp_c" if fault in greenhouse.SENSOR_FAULTS else None))
        except ValueError as exc:
            raise VerdantError("vboard: bad fault %r (%s)" % (fault, exc))
    return greenhouse.Scenario(seed=seed, days=float(days), start_doy=20.0, events=events)


def write_truth_csv(path, scenario, period_s=TRUTH_PERIOD_S):
    """Simulate the scenario and write its truth every period_s; returns the start time (s)."""
    from verdant_host import greenhouse
    if period_s <= 0:
        raise VerdantError("vboard: truth period must be > 0 s, got %r" % period_s)
    truth = greenhouse.simulate(scenario).truth()
    start, end = int(truth.start_s), int(truth.end_s)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([TIME_COLUMN] + list(greenhouse.QUANTITIES))
        for t in range(start, end + 1, int(period_s)):
            values = truth(t)
            writer.writerow([t] + ["%.4f" % values[q] for q in greenhouse.QUANTITIES])
    return start


def board_inputs(folder, days=2.0, fault="heating_failure", seed=7, period_s=TRUTH_PERIOD_S, scenario=None):
    """What a virtual board needs from a greenhouse scenario (the demo's by default):
    (truth CSV path, start time, sensor faults for the simulated parts)."""
    from verdant_host.greenhouse import board_faults
    scenario = scenario or demo_scenario(days=days, fault=fault, seed=seed)
    truth_csv = os.path.join(folder, "truth.csv")
    start_s = write_truth_csv(truth_csv, scenario, period_s)
    return truth_csv, start_s, board_faults(scenario)


def truth_csv_start(path):
    """First time of an existing truth / replay CSV (the board clock starts there)."""
    try:
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            if not header or header[0] != TIME_COLUMN:
                raise VerdantError("vboard: %s: first column must be %s, got %r" % (path, TIME_COLUMN, header[:1]))
            return int(float(next(reader)[0]))
    except (OSError, StopIteration, ValueError, IndexError) as exc:
        raise VerdantError("vboard: cannot read truth CSV %s (%s)" % (path, exc))
