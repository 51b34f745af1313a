"""Replay a CSV of readings through the firmware's own code (verdant.app: sampler,
features, int8 model, rules and alert engine, serial protocol) and return the lines the
board would send.

CSV format: a header row; `timestamp_s` (unix seconds) required; any of
air_temp_c, rh_pct, co2_ppm, light_lux, par_umol_m2_s, soil_moisture_pct, soil_temp_c;
other columns (e.g. the simulator's labels) are ignored. Empty or NaN cells are missing
values (the sensor gave nothing). Rows should be 1-15 minutes apart. A bad row is
reported with its line number and skipped:
    line 17: timestamp_s 'abc' is not a number

    lines, problems = replay_file("week.csv", board="sim")
"""
import csv
import math
import os
import shutil
import tempfile

from verdant_host import paths
from verdant_host.errors import VerdantError
from verdant.quantities import GREENHOUSE
from verdant.hal import FIRMWARE_EPOCH

QUANTITIES = GREENHOUSE
MIN_SPACING_S = 60
BOARDS_DIR = paths.BOARDS_DIR
DEFAULT_MODEL = paths.DEFAULT_MODEL


def _number(text):
    """float of a cell; None for an empty or NaN cell; ValueError otherwise."""
    text = text.strip()
    if text == "" or text.lower() == "nan":
        return None
    value = float(text)
    if math.isinf(value):
        raise ValueError(text)
    return value


def read_rows(lines, problems):
    """Yield (line number, timestamp, {quantity: value or None}) from CSV text lines.

    Bad rows are appended to `problems` as "line N: ..." and skipped. Raises
    VerdantError when the header has no timestamp_s or the file is empty.
    """
    reader = csv.reader(lines)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise VerdantError("the CSV is empty; expected a header with timestamp_s")
    if "timestamp_s" not in header:
        raise VerdantError("the CSV header has no timestamp_s column (got %s)" % ", ".join(header))
    where = {name: header.index(name) for name in ("timestamp_s",) + QUANTITIES if name in header}
    if len(where) == 1:
        raise VerdantError("the CSV has no sensor column; expected some of %s" % ", ".join(QUANTITIES))
    last_t = None
    for cells in reader:
        line = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append("line %d: %d cells, the header has %d" % (line, len(cells), len(header)))
            continue
        text = cells[where["timestamp_s"]].strip()
        try:
            t = float(text)
            if t != int(t) or t < 0:
                raise ValueError
            t = int(t)
        except (ValueError, OverflowError):
            problems.append("line %d: timestamp_s %r is not a number" % (line, text) if not _is_float(text)
                            else "line %d: timestamp_s %r is not a whole number of seconds >= 0" % (line, text))
            continue
        if last_t is not None and t <= last_t:
            problems.append("line %d: timestamp_s %d is not after the previous row's %d" % (line, t, last_t))
            continue
        if last_t is not None and t - last_t < MIN_SPACING_S:
            problems.append("line %d: timestamp_s %d is only %d s after the previous row (rows must be "
                            "1-15 minutes apart)" % (line, t, t - last_t))
            continue
        values, bad = {}, None
        for q in QUANTITIES:
            if q not in where:
                continue
            try:
                values[q] = _number(cells[where[q]])
            except ValueError:
                bad = "line %d: %s %r is not a number" % (line, q, cells[where[q]].strip())
                break
        if bad:
            problems.append(bad)
            continue
        last_t = t
        yield line, t, values


def _is_float(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


class _ReplayClock:
    """Board time set by the replay, one CSV row at a time."""

    def __init__(self, t):
        self.t = int(t)

    def time_s(self):
        return self.t

    def ticks_ms(self):
        return (self.t * 1000) & 0x3FFFFFFF

    def sleep_ms(self, ms):
        self.t += int(ms) // 1000


class _Hal:
    def __init__(self, clock, storage):
        self.clock = clock
        self.storage = storage
        self.serial = None

    def collect(self):
        """No collection per feature step: CPython frees by reference counting, and a full
        collection with TensorFlow loaded costs ~0.4 s (a 4-day replay took 8 minutes)."""


class _CsvSensor:
    """One sensor per CSV column: measure() gives the current row's value or fails."""
    reads = 1

    def __init__(self, quantity, period_s):
        self.name = "csv_" + quantity
        self.quantities = (quantity,)
        self.period_s = period_s
        self.value = None

    def measure(self):
        if self.value is None:
            raise OSError("no value in the CSV row")
        return {self.quantities[0]: self.value}


def load_board_config(board):
    """The board config for a name in boards/ (e.g. 'sim'), a path to a JSON file, or a
    config dict (checked here too)."""
    from verdant.board import load_board
    if isinstance(board, dict):
        try:
            return load_board(dict(board), source="board config %s" % board.get("name", "?"))
        except ValueError as exc:
            raise VerdantError(str(exc))
    path = board if board.endswith(".json") or os.sep in board else os.path.join(BOARDS_DIR, board + ".json")
    if not os.path.exists(path):
        known = sorted(n[:-5] for n in os.listdir(BOARDS_DIR) if n.endswith(".json")) if os.path.isdir(BOARDS_DIR) else []
        raise VerdantError("unknown board %r; known boards: %s" % (board, ", ".join(known) or "none"))
    try:
        return load_board(path)
    except ValueError as exc:
        raise VerdantError(str(exc))


def with_place(board, latitude_deg=None, longitude_deg=None):
    """The board config (as load_board_config takes it) with the site's place set: a model's
    sun gates follow the sun there (verdant.settings). Both None: the board as it is."""
    config = load_board_config(board)
    if latitude_deg is None and longitude_deg is None:
        return config
    return load_board_config(dict(config, latitude_deg=latitude_deg, longitude_deg=longitude_deg))


def gates_note(board, model):
    """What the model's sun gates follow on this board (verdant.alerts.gates_note), or None
    when the model has none."""
    from verdant.alerts import gates_note as note
    from verdant.engine.modelfile import parse
    if model is None:
        return None
    with open(model, "rb") as f:
        meta = parse(f.read()).meta
    config = load_board_config(board)
    from verdant.settings import merge
    settings = merge(None, config)[0]
    site = None if settings["latitude_deg"] is None else (settings["latitude_deg"], settings["longitude_deg"])
    return note(meta.get("sun_gates"), site)


def replay(lines, board="sim", model=DEFAULT_MODEL, kinds=("alert",), engine_loader=None):
    """Run CSV text lines through the firmware. Returns (output lines, problems).

    kinds: which protocol line kinds to return (None = all). model: model file path, or
    None to run the rules only. engine_loader: bytes -> engine (default verdant.engine.load).
    """
    from verdant.app import App
    from verdant.protocol import decode
    config = load_board_config(board)
    problems = []
    rows = list(read_rows(lines, problems))
    if not rows:
        raise VerdantError("no usable rows in the CSV%s" % ("; " + problems[0] if problems else ""))
    present = [q for q in QUANTITIES if any(v.get(q) is not None for _, _, v in rows)]
    spacing = _typical_spacing([t for _, t, _ in rows])
    out = []
    storage = tempfile.mkdtemp(prefix="verdant-replay-")
    try:
        if model is not None:
            try:
                shutil.copyfile(model, os.path.join(storage, "model.bin"))
            except OSError as exc:
                raise VerdantError("cannot read model %s: %s" % (model, exc.strerror or exc))
        clock = _ReplayClock(rows[0][1])
        sensors = [_CsvSensor(q, spacing) for q in present]
        app = App(_Hal(clock, storage), config, sensors=sensors, engine_loader=engine_loader,
                  out=out.append)
        app.boot_status()
        app.load_model()
        for _, t, values in rows:
            clock.t = t
            for sensor in sensors:
                sensor.value = values.get(sensor.quantities[0])
            app.step(t - FIRMWARE_EPOCH)  # the app counts firmware seconds; its lines say Unix seconds
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    text = [line.decode() if isinstance(line, bytes) else line for line in out]
    if kinds is not None:
        text = [line for line in text if (decode(line)[0] or {}).get("k") in kinds]
    return text, problems


def _typical_spacing(times):
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    return gaps[len(gaps) // 2] if gaps else 300


def replay_file(path, board="sim", model=DEFAULT_MODEL, kinds=("alert",), engine_loader=None):
    try:
        with open(path, newline="") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise VerdantError("cannot read %s: %s" % (path, exc.strerror or exc))
    except UnicodeDecodeError:
        raise VerdantError("%s is not a text CSV file" % path)
    return replay(lines, board, model, kinds, engine_loader)
