"""Serial protocol: one JSON object per line, shared by the board and the host monitor.

Every line is ASCII and has exactly this shape (fields in this order, no spaces):

    {"v":1,"seq":42,"t":1700000000,"k":"reading","p":{...},"crc":"89abcdef"}\n

  v    protocol version (int, currently 1)
  seq  sequence number (int), 0 at boot, +1 per line; a gap means lost lines,
       a drop to 0 means the board restarted
  t    board time, integer seconds since the epoch
  k    kind: "reading", "alert", "status" or "error"
  p    payload object (see docs/firmware.md for each kind)
  crc  CRC-32 (IEEE, as binascii.crc32 / zlib.crc32) as 8 lowercase hex digits,
       computed over the ASCII bytes of the same line WITHOUT the checksum field,
       that is over `{"v":1,...,"p":{...}}` (the text before `,"crc":` plus the
       closing `}`).

The JSON text is canonical so both ends produce identical bytes: object keys sorted,
no whitespace, non-ASCII and control characters escaped as \\uXXXX, floats written
with at most 3 decimals (trailing zeros dropped), NaN and infinities written as null.

Example:
    enc = Encoder()
    line = enc.encode(1700000000, "status", {"state": "boot"})
    message, why = decode(line)      # message["p"]["state"] == "boot", why is None
"""
from verdant.crc32 import crc32

VERSION = 1
KINDS = ("reading", "alert", "status", "error")
_CRC_PREFIX = ',"crc":"'
_CRC_SUFFIX_LEN = len(_CRC_PREFIX) + 8 + 2  # ,"crc":"xxxxxxxx"}
_HEX = "0123456789abcdef"
_HEX_BYTES = b"0123456789abcdef"
_SMALL = 1 << 29  # ints below this stay small (no heap) on every port
_INF = float("inf")


def _plain(s):
    """True when s needs no escaping (printable ASCII without quote or backslash)."""
    return _plain_bytes(s.encode())  # one bytes object; its items are small ints (no heap on a board)


def _plain_bytes(data):
    # min/max/in loop in C: a loop over the bytes here costs a board hundreds of instructions per byte
    return not data or (min(data) >= 0x20 and max(data) <= 0x7E and b'"' not in data and b"\\" not in data)


def _string(s):
    if _plain(s):  # the common case (keys, reasons): one string, no list of characters
        return '"' + s + '"'
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code > 0xFFFF:  # outside the BMP: a UTF-16 surrogate pair, as JSON requires
            code -= 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)))
        else:
            out.append("\\u%04x" % code)
    out.append('"')
    return "".join(out)


def number_text(x):
    """A number as the protocol and alert reasons write it: ints as they are; floats with
    at most 3 decimals and no trailing zeros ("-0" is "0"); NaN and infinities as null."""
    if not isinstance(x, float):
        return "%d" % x
    return _float(x)


def _float(x):
    if x != x or x in (float("inf"), float("-inf")):
        return "null"
    text = "%.3f" % x
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text


def dumps(value):
    """Canonical JSON text of value (dict, list, tuple, str, int, float, bool, None)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return "%d" % value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join([dumps(v) for v in value]) + "]"
    if isinstance(value, dict):
        parts = []
        for key in sorted(value):
            if not isinstance(key, str):
                raise TypeError("protocol: object key %r is not a string" % (key,))
            parts.append(_string(key) + ":" + dumps(value[key]))
        return "{" + ",".join(parts) + "}"
    raise TypeError("protocol: cannot encode %s value %r" % (type(value).__name__, value))


def _hex8(n):
    return "".join([_HEX[(n >> shift) & 0xF] for shift in (28, 24, 20, 16, 12, 8, 4, 0)])


def encode_line(seq, t, kind, payload):
    """The full line (str, ending in \\n) for one message."""
    if kind not in KINDS:
        raise ValueError("protocol: unknown kind %r (expected one of %s)" % (kind, ", ".join(KINDS)))
    body = '{"v":%d,"seq":%d,"t":%d,"k":"%s","p":%s}' % (VERSION, seq, int(t), kind, dumps(payload))
    return body[:-1] + _CRC_PREFIX + _hex8(crc32(body.encode())) + '"}\n'


_HEAD = b'{"v":' + str(VERSION).encode() + b',"seq":'
_KIND_TEXT = {}  # kind -> ',"k":"kind","p":'
for _kind in KINDS:
    _KIND_TEXT[_kind] = b',"k":"' + _kind.encode() + b'","p":'

# verdant.hal.FIRMWARE_EPOCH (1735689600) split so that no step is a heap int on 32-bit ports
_EPOCH_HIGH = 17356
_EPOCH_LOW = 89600


class Encoder:
    """Numbers lines: encode() returns the next line as bytes and advances .seq.

    The line is built in a buffer kept from line to line, so one encode() makes small
    objects (numbers, keys) and one block of the line's length (the returned bytes)
    instead of several line-sized strings: on a fragmented board heap a line-sized
    block is what fails first. Same bytes as encode_line()."""

    def __init__(self, seq=0, size=512, firmware_time=False):
        self.seq = seq
        # firmware_time: encode() takes firmware seconds (verdant.hal.FIRMWARE_EPOCH) and
        # writes Unix seconds, the line's meaning, without a heap int on 32-bit ports
        self.firmware_time = firmware_time
        self._buf = bytearray(size)
        self._view = memoryview(self._buf)
        self._n = 0

    def encode(self, t, kind, payload):
        """The next line as bytes (a new object of the line's length)."""
        return bytes(self.encode_view(t, kind, payload))

    def encode_view(self, t, kind, payload):
        """The next line as a memoryview of the encoder's kept buffer: nothing of the
        line's length is allocated, and it is valid only until the next encode. For
        outputs that write it out at once (the serial port): on a small, fragmented
        heap a line-sized block is what fails first."""
        kind_text = _KIND_TEXT.get(kind)
        if kind_text is None:
            raise ValueError("protocol: unknown kind %r (expected one of %s)" % (kind, ", ".join(KINDS)))
        self._n = 0
        self._put(_HEAD)
        self._int(self.seq)
        self._put(b',"t":')
        if self.firmware_time:
            self._unix_time(int(t))
        else:
            self._int(int(t))
        self._put(kind_text)
        self._value(payload)
        crc = crc32(b"}", crc32(self._view[:self._n]))  # over the body: the text so far plus "}"
        self._put(b',"crc":"00000000"}\n')
        at = self._n - 11  # the 8 hex digits
        shift = 28
        while shift >= 0:
            self._buf[at] = _HEX_BYTES[(crc >> shift) & 0xF]
            at += 1
            shift -= 4
        self.seq += 1
        return self._view[:self._n]

    def _room(self, size):
        """Advance past size bytes (to be filled by the caller); returns where they start."""
        start = self._n
        end = start + size
        if end > len(self._buf):  # a long line: a bigger buffer, kept for the next ones
            bigger = bytearray(max(end, 2 * len(self._buf)))
            bigger[:start] = self._view[:start]
            self._buf, self._view = bigger, memoryview(bigger)
        self._n = end
        return start

    def _put(self, data):
        start = self._n
        end = start + len(data)
        if end > len(self._buf):
            self._room(len(data))
        else:  # (_room inline: one call less per piece of every line)
            self._n = end
        self._view[start:end] = data

    def _value(self, value):
        if isinstance(value, float):  # first: most payload values are floats
            self._float(value)
        elif value is None:
            self._put(b"null")
        elif value is True:
            self._put(b"true")
        elif value is False:
            self._put(b"false")
        elif isinstance(value, int):
            self._int(value)
        elif isinstance(value, str):
            self._string(value)
        elif isinstance(value, (list, tuple)):
            self._put(b"[")
            first = True
            for item in value:
                if not first:
                    self._put(b",")
                first = False
                self._value(item)
            self._put(b"]")
        elif isinstance(value, dict):
            self._put(b"{")
            first = True
            for key in sorted(value):
                if not isinstance(key, str):
                    raise TypeError("protocol: object key %r is not a string" % (key,))
                if not first:
                    self._put(b",")
                first = False
                self._string(key)
                self._put(b":")
                self._value(value[key])
            self._put(b"}")
        else:
            raise TypeError("protocol: cannot encode %s value %r" % (type(value).__name__, value))

    def _int(self, n):
        if not -_SMALL < n < _SMALL:  # a heap int anyway on a 32-bit port: format it
            self._put(b"%d" % n)
            return
        if n < 0:
            self._put(b"-")
            n = -n
        digits = 1
        top = 10
        while n >= top:
            digits += 1
            top *= 10
        self._room(digits)  # then the digits from the right (no heap)
        at = self._n - 1
        while digits:  # (a while loop: range() would be a heap object)
            self._buf[at] = 0x30 + n % 10
            n //= 10
            at -= 1
            digits -= 1

    def _unix_time(self, t):
        """Unix seconds for firmware seconds t, written as two small ints: the epoch's
        high digits plus carry, then five digits."""
        low = t + _EPOCH_LOW
        high = _EPOCH_HIGH + low // 100000
        if high <= 0:
            self._int(t + _EPOCH_HIGH * 100000 + _EPOCH_LOW)  # before 1970 + 1 day: rare, any int
            return
        low %= 100000
        self._int(high)
        at = self._room(5) + 4
        digits = 5
        while digits:  # from the right, zero-padded
            self._buf[at] = 0x30 + low % 10
            low //= 10
            at -= 1
            digits -= 1

    def _float(self, x):
        """As _float(): 3 decimals at most, no trailing zeros, "-0" as "0", null for NaN/inf."""
        if x != x or x == _INF or x == -_INF:
            self._put(b"null")
            return
        start = self._n
        self._put(b"%.3f" % x)
        buf, n = self._buf, self._n
        while buf[n - 1] == 0x30:  # "%.3f" always has a ".", so this stops there
            n -= 1
        if buf[n - 1] == 0x2E:
            n -= 1
        if n - start == 2 and buf[start] == 0x2D and buf[start + 1] == 0x30:  # "-0"
            buf[start] = 0x30
            n -= 1
        self._n = n

    def _string(self, s):
        data = s.encode()
        if _plain_bytes(data):
            start = self._room(len(data) + 2)  # the quotes and the text in one piece
            buf = self._buf
            buf[start] = 0x22
            self._view[start + 1:self._n - 1] = data
            buf[self._n - 1] = 0x22
        else:
            self._put(_string(s).encode())


def decode(line):
    """Parse one received line. Returns (message dict, None) or (None, reason).

    Tolerant: bytes or str; leading noise before `{"v":` and trailing whitespace or
    \\r\\n are ignored. Never raises on bad input.
    """
    import json
    if isinstance(line, (bytes, bytearray)):
        try:
            line = bytes(line).decode()
        except Exception:
            return None, "not UTF-8 text"
    line = line.strip()
    if not line:
        return None, "empty line"
    start = line.find('{"v":')
    if start < 0:
        return None, "not a protocol line (no '{\"v\":' start)"
    line = line[start:]
    crc_at = line.rfind(_CRC_PREFIX)
    if crc_at < 0:
        return None, "truncated or no checksum field"
    if len(line) - crc_at != _CRC_SUFFIX_LEN or not line.endswith('"}'):
        return None, "truncated or malformed checksum field"
    claimed = line[crc_at + len(_CRC_PREFIX):crc_at + len(_CRC_PREFIX) + 8]
    for ch in claimed:
        if ch not in _HEX:
            return None, "checksum field %r is not 8 lowercase hex digits" % claimed
    body = line[:crc_at] + "}"
    computed = _hex8(crc32(body.encode()))
    if computed != claimed:
        return None, "checksum mismatch: line says %s, computed %s" % (claimed, computed)
    try:
        message = json.loads(body)
    except Exception:
        return None, "checksum matches but the JSON is invalid"
    return _check_fields(message)


def _check_fields(message):
    if not isinstance(message, dict):
        return None, "line is not a JSON object"
    for name, kinds in (("v", int), ("seq", int), ("t", int), ("k", str), ("p", dict)):
        if name not in message:
            return None, "missing field %r" % name
        if not isinstance(message[name], kinds) or isinstance(message[name], bool):
            return None, "field %r has the wrong type" % name
    if message["v"] != VERSION:
        return None, "unsupported protocol version %d (this side speaks %d)" % (message["v"], VERSION)
    if message["k"] not in KINDS:
        return None, "unknown kind %r" % message["k"]
    return message, None
