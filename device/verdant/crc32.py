"""CRC-32 (IEEE 802.3, the zlib / binascii.crc32 polynomial) for the serial protocol
and the flash log.

Uses binascii.crc32 when the port has it (Unix, ESP32, RP2 builds do) and a small
table-driven fallback otherwise; both give the same value.

Example:
    crc32(b"123456789") == 0xCBF43926
"""
try:
    from binascii import crc32 as _native_crc32
except ImportError:  # a port built without MICROPY_PY_BINASCII_CRC32
    _native_crc32 = None

_table = None


def _make_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


def crc32_fallback(data, crc=0):
    """Pure-Python CRC-32 of bytes-like `data`, continuing from `crc`."""
    global _table
    if _table is None:
        _table = _make_table()
    if not isinstance(data, (bytes, bytearray)):
        data = bytes(data)  # an array of floats or ints: its bytes, as the native CRC reads them
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = _table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc32(data, crc=0):
    """CRC-32 of bytes-like `data` as an unsigned int in [0, 2**32)."""
    if _native_crc32 is not None:
        return _native_crc32(data, crc) & 0xFFFFFFFF
    return crc32_fallback(data, crc)
