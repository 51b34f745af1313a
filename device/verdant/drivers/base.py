"""Shared pieces of the sensor drivers: errors, CRC-8 checks, the default sleep.

A failed reading raises OSError (bus level: NACK, timeout) or SensorError (the
part answered but the data cannot be trusted). The sampler treats both as a
failed reading, so drivers never return made-up values.
"""
try:
    from time import sleep_ms as default_sleep_ms
except ImportError:  # CPython (host tools import the same modules)
    import time as _time

    def default_sleep_ms(ms):
        _time.sleep(ms / 1000)


class SensorError(Exception):
    """The sensor answered, but the reading is unusable (bad CRC, busy, out of range)."""


class CRCError(SensorError):
    """A checksum sent by the sensor does not match its data."""


class NotReadyError(SensorError):
    """The sensor did not finish a measurement within the bounded wait."""


def _crc8_table(poly, msb_first):
    """The CRC-8 of every byte value, one 8-bit step each: a lookup per byte instead of
    eight shifts (the drivers check a CRC on every reading, awake time on a battery)."""
    table = bytearray(256)
    for value in range(256):
        crc = value
        for _ in range(8):
            if msb_first:
                crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
            else:
                crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table[value] = crc
    return bytes(table)


_SENSIRION = _crc8_table(0x31, True)
_DALLAS = _crc8_table(0x8C, False)


def crc8_sensirion(data, start=0, end=None):
    """CRC-8 used by Sensirion and Aosong parts: polynomial 0x31, init 0xFF, no reflection.

    crc8_sensirion(b"\\xbe\\xef") == 0x92 (Sensirion datasheet example).
    """
    table = _SENSIRION
    crc = 0xFF
    if end is None:
        end = len(data)
    for i in range(start, end):
        crc = table[crc ^ data[i]]
    return crc


def crc8_dallas(data, start=0, end=None):
    """Dallas/Maxim 1-Wire CRC-8: polynomial x^8+x^5+x^4+1 (0x31 reflected = 0x8C), init 0.

    Running it over data followed by its CRC byte gives 0.
    """
    table = _DALLAS
    crc = 0
    if end is None:
        end = len(data)
    for i in range(start, end):
        crc = table[crc ^ data[i]]
    return crc


def check_words(buf, words, where, address=None, out=None):
    """Checks Sensirion 16-bit words each followed by their CRC; returns the words as a list
    (`out`, a list of `words` items, when given: filled in place, nothing allocated).

    buf holds 3 bytes per word (msb, lsb, crc). Raises CRCError naming `where`, the
    I2C address when given, and the word.
    """
    if out is None:
        out = [0] * words
    j = 0  # (few locals, the CRC inline: this frame stays off the heap on 32-bit ports)
    while j < 3 * words:
        if _SENSIRION[_SENSIRION[0xFF ^ buf[j]] ^ buf[j + 1]] != buf[j + 2]:  # crc8_sensirion(buf, j, j + 2)
            _crc_error(buf, j, where, address)
        out[j // 3] = (buf[j] << 8) | buf[j + 1]
        j += 3
    return out


def _crc_error(buf, j, where, address):
    crc = crc8_sensirion(buf, j, j + 2)
    at = "" if address is None else " at 0x%02x" % address
    raise CRCError("%s%s: word %d CRC 0x%02x, expected 0x%02x" % (where, at, j // 3, buf[j + 2], crc))


def i2c_absent(address, exc):
    """The OSError a constructor raises when the part does not answer at `address`."""
    return OSError("no sensor answering at I2C address 0x%02x (%s)" % (address, exc))
