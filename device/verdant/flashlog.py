"""Flash log: fixed-size binary records in a ring buffer file of bounded size.

File layout (little-endian):
  header, 32 bytes at offset 0
    0  4s   magic b"VLOG"
    4  u16  format version (1)
    6  u16  record bytes (44)
    8  u32  capacity: number of record slots
    12 u32  next sequence number (the record written next)
    16 12s  reserved, zero
    28 u32  CRC-32 of header bytes 0..27
  capacity record slots of 44 bytes each; record seq lives in slot seq % capacity
    0  u32  sequence number
    4  u32  time, seconds since the epoch
    8  7 x f32 readings in QUANTITIES order; NaN = missing
    36 u16  flags (FLAG_* below)
    38 u16  reserved, zero
    40 u32  CRC-32 of record bytes 0..39

An append writes the record into its slot first, then the header with the next
sequence number. A power cut can tear either write:
  - a torn record fails its CRC and is skipped by readers; the header still points
    at its slot, so the next append rewrites it (only that record is lost);
  - a torn header fails its CRC; opening then scans every slot for the newest valid
    record. An intact record newer than the header is found by checking the slot the
    header points at.

Example:
    log = FlashLog("verdant.log", capacity=2000)
    log.append(t, {"air_temp_c": 21.5, "rh_pct": 70.0}, FLAG_MODEL_OFF)
    records, bad = read_log(open("verdant.log", "rb").read())
    text = records_to_csv(records)            # the replay CSV
"""
import struct

from verdant.crc32 import crc32
from verdant.features import QUANTITIES
from verdant.protocol import number_text

MAGIC = b"VLOG"
VERSION = 1
HEADER_BYTES = 32
RECORD_BYTES = 44
_HEADER = "<4sHHII12s"
_RECORD = "<II7fHH"

FLAG_SAFE_MODE = 1
FLAG_MODEL_OFF = 2
FLAG_SENSOR_FAILED = 4
FLAG_ALERT_ACTIVE = 8
FLAG_NAMES = ((FLAG_SAFE_MODE, "safe_mode"), (FLAG_MODEL_OFF, "model_off"),
              (FLAG_SENSOR_FAILED, "sensor_failed"), (FLAG_ALERT_ACTIVE, "alert_active"))

_NAN = float("nan")


class FlashLogError(ValueError):
    """The log file cannot be used (wrong format, not a Verdant log)."""


def pack_header(capacity, next_seq):
    body = struct.pack(_HEADER, MAGIC, VERSION, RECORD_BYTES, capacity, next_seq, bytes(12))
    return body + struct.pack("<I", crc32(body))


def unpack_header(data):
    """(capacity, next_seq) or None when the header is torn / not a Verdant log."""
    if len(data) < HEADER_BYTES:
        return None
    body = bytes(data[:28])
    if struct.unpack("<I", data[28:32])[0] != crc32(body):
        return None
    magic, version, record_bytes, capacity, next_seq, _ = struct.unpack(_HEADER, body)
    if magic != MAGIC or version != VERSION or record_bytes != RECORD_BYTES or capacity < 1:
        return None
    return capacity, next_seq


def pack_record(seq, t, values, flags=0):
    """44 bytes for one record; values maps quantity -> number or None."""
    floats = []
    for q in QUANTITIES:
        v = values.get(q)
        floats.append(_NAN if v is None else float(v))
    body = struct.pack(_RECORD, seq & 0xFFFFFFFF, int(t) & 0xFFFFFFFF,
                       floats[0], floats[1], floats[2], floats[3], floats[4], floats[5], floats[6],
                       flags & 0xFFFF, 0)[:40]
    return body + struct.pack("<I", crc32(body))


def unpack_record(data):
    """Record dict {seq, t, values, flags} or None when the CRC does not match."""
    if len(data) < RECORD_BYTES:
        return None
    if struct.unpack("<I", data[40:44])[0] != crc32(bytes(data[:40])):
        return None
    fields = struct.unpack(_RECORD, bytes(data[:40]))
    values = {}
    for i, q in enumerate(QUANTITIES):
        v = fields[2 + i]
        values[q] = None if v != v else v
    return {"seq": fields[0], "t": fields[1], "values": values, "flags": fields[9]}


def read_log(data):
    """Decode a whole log file's bytes. Returns (records sorted by seq, bad slot count).

    Never-written (all zero) slots are not counted as bad; torn ones are.
    Raises FlashLogError when the header is torn and the size does not fit the format.
    """
    header = unpack_header(data)
    if header is None:
        if len(data) < HEADER_BYTES or (len(data) - HEADER_BYTES) % RECORD_BYTES:
            raise FlashLogError("flash log: header invalid and size %d is not 32 + n x 44 bytes" % len(data))
        capacity = (len(data) - HEADER_BYTES) // RECORD_BYTES
    else:
        capacity = header[0]
    records = []
    bad = 0
    blank = bytes(RECORD_BYTES)
    for slot in range(capacity):
        start = HEADER_BYTES + slot * RECORD_BYTES
        chunk = data[start:start + RECORD_BYTES]
        if len(chunk) < RECORD_BYTES:
            break
        record = unpack_record(chunk)
        if record is None:
            if bytes(chunk) != blank:
                bad += 1
        elif record["seq"] % capacity == slot:
            records.append(record)
        else:
            bad += 1
    records.sort(key=lambda r: r["seq"])
    return records, bad


def _fmt(v):
    return "" if v is None else number_text(v)


CSV_COLUMNS = ("timestamp_s",) + QUANTITIES + ("flags",)


def records_to_csv(records):
    """Replay CSV text (header line, then one line per record; empty cell = missing)."""
    lines = [",".join(CSV_COLUMNS)]
    for r in records:
        cells = ["%d" % r["t"]]
        for q in QUANTITIES:
            cells.append(_fmt(r["values"].get(q)))
        cells.append("%d" % r["flags"])
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


class FlashLog:
    """Appends records to the ring buffer file at `path` (created when absent or unusable).

    opener: function like open(path, mode) (tests inject a RAM file system that can
    simulate power cuts). An existing valid log keeps its own capacity.
    """

    def __init__(self, path, capacity=2000, opener=open):
        if capacity < 1:
            raise ValueError("FlashLog: capacity must be >= 1, got %r" % capacity)
        self.path = path
        self.opener = opener
        self.capacity = capacity
        self.next_seq = 0
        self.recovered = None  # how the write position was found: "header", "scan" or "new"
        self._open_existing() or self._create()

    def _read_all(self):
        try:
            f = self.opener(self.path, "rb")
        except OSError:
            return None
        try:
            return f.read()
        finally:
            f.close()

    def _open_existing(self):
        """Find the write position reading the header and single records (a board has no
        room for the whole file). A file shorter than its header's capacity (truncated)
        is extended back to it."""
        try:
            f = self.opener(self.path, "rb")
        except OSError:
            return False
        try:
            header = unpack_header(f.read(HEADER_BYTES))
            size = f.seek(0, 2)
            if header is not None:
                self.capacity, self.next_seq = header
                self.recovered = "header"
                while True:  # a record written just before a power cut, header not yet updated
                    f.seek(HEADER_BYTES + (self.next_seq % self.capacity) * RECORD_BYTES)
                    record = unpack_record(f.read(RECORD_BYTES))
                    if record is None or record["seq"] != self.next_seq:
                        break
                    self.next_seq += 1
            else:
                if size < HEADER_BYTES + RECORD_BYTES or (size - HEADER_BYTES) % RECORD_BYTES:
                    return False
                self.capacity = (size - HEADER_BYTES) // RECORD_BYTES
                newest = -1
                f.seek(HEADER_BYTES)
                for slot in range(self.capacity):
                    record = unpack_record(f.read(RECORD_BYTES))
                    if record is not None and record["seq"] % self.capacity == slot and record["seq"] > newest:
                        newest = record["seq"]
                self.next_seq = newest + 1
                self.recovered = "scan"
        finally:
            f.close()
        full = HEADER_BYTES + self.capacity * RECORD_BYTES
        if size < full:
            while size < full:  # extend in small pieces: no big buffer on a board
                n = min(full - size, RECORD_BYTES * 16)
                self._write_at(size, bytes(n))
                size += n
            self.recovered += "+extended"
        if self.recovered.startswith("scan"):
            self._write_at(0, pack_header(self.capacity, self.next_seq))
        return True

    def _create(self):
        f = self.opener(self.path, "wb")
        try:
            f.write(pack_header(self.capacity, 0))
            blank = bytes(RECORD_BYTES * 16)
            left = self.capacity * RECORD_BYTES
            while left > 0:
                n = min(left, len(blank))
                f.write(blank[:n])
                left -= n
        finally:
            f.close()
        self.next_seq = 0
        self.recovered = "new"

    def _write_at(self, offset, data):
        f = self.opener(self.path, "r+b")
        try:
            f.seek(offset)
            f.write(data)
            if hasattr(f, "flush"):
                f.flush()
        finally:
            f.close()

    def append(self, t, values, flags=0):
        """Write one record; returns its sequence number."""
        seq = self.next_seq
        slot = seq % self.capacity
        self._write_at(HEADER_BYTES + slot * RECORD_BYTES, pack_record(seq, t, values, flags))
        self.next_seq = seq + 1
        self._write_at(0, pack_header(self.capacity, self.next_seq))
        return seq

    def recent(self, count):
        """The newest `count` valid records, oldest first, read one at a time (a board has
        no room for the whole file)."""
        found = []
        first = max(0, self.next_seq - min(count, self.capacity))
        try:
            f = self.opener(self.path, "rb")
        except OSError:
            return found
        try:
            for seq in range(first, self.next_seq):
                f.seek(HEADER_BYTES + (seq % self.capacity) * RECORD_BYTES)
                record = unpack_record(f.read(RECORD_BYTES))
                if record is not None and record["seq"] == seq:
                    found.append(record)
        finally:
            f.close()
        return found

    def records(self):
        """Every valid record in the file, oldest first."""
        data = self._read_all()
        return read_log(data)[0] if data is not None else []
