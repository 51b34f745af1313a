"""ROHM BH1750 ambient light sensor (I2C, address 0x23, or 0x5C with ADDR high).

One-time high-resolution measurements: lux = raw / 1.2 * 69 / MTreg. The
measurement time register (MTreg, 31..254, default 69) trades range for
resolution; when a reading saturates the driver drops MTreg to 31 (range up to
about 121 klx, full sun) and measures again.

Usage:
    from verdant.drivers.bh1750 import BH1750
    light = BH1750(i2c)
    light.measure()      # {'light_lux': 1234.2}
"""
try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

from verdant.drivers.base import SensorError, default_sleep_ms, i2c_absent
from verdant.quantities import BY_DRIVER

_POWER_ON = const(0x01)
_ONE_TIME_HIGH_RES = const(0x20)
_MTREG_HIGH_BITS = const(0x40)  # 01000_MT[7:5]
_MTREG_LOW_BITS = const(0x60)  # 011_MT[4:0]
_DEFAULT_MTREG = const(69)
_MIN_MTREG = const(31)
_MAX_MTREG = const(254)
_MAX_MEASURE_MS = const(180)  # high-resolution mode, at MTreg 69
_SATURATED = const(0xFFFF)


class BH1750:
    QUANTITIES = BY_DRIVER["bh1750"]

    def __init__(self, bus, address=0x23, mtreg=_DEFAULT_MTREG, sleep_ms=None):
        if not _MIN_MTREG <= mtreg <= _MAX_MTREG:
            raise ValueError("BH1750 mtreg must be 31..254, got %r" % (mtreg,))
        self._bus = bus
        self.address = address
        self._sleep_ms = sleep_ms or default_sleep_ms
        self._one = bytearray(1)
        self._buf = bytearray(2)
        self._default_mtreg = mtreg
        self._reading = {"light_lux": None}  # measure()'s dict, kept
        try:  # the part has no ID register: an acknowledged power-on is the sanity check
            self._command(_POWER_ON)
            self.set_mtreg(mtreg)
        except OSError as exc:
            raise i2c_absent(address, exc)

    def _command(self, opcode):
        self._one[0] = opcode
        self._bus.writeto(self.address, self._one)

    def set_mtreg(self, mtreg):
        """Sets the measurement time register (31..254); sensitivity scales with it."""
        self._command(_MTREG_HIGH_BITS | (mtreg >> 5))
        self._command(_MTREG_LOW_BITS | (mtreg & 0x1F))
        self.mtreg = mtreg

    def read_raw(self):
        """One high-resolution conversion; returns the raw 16-bit count."""
        self._command(_POWER_ON)  # one-time mode powers down after each result
        self._command(_ONE_TIME_HIGH_RES)
        self._sleep_ms((_MAX_MEASURE_MS * self.mtreg + _DEFAULT_MTREG - 1) // _DEFAULT_MTREG)
        self._bus.readfrom_into(self.address, self._buf)
        return (self._buf[0] << 8) | self._buf[1]

    def measure(self):
        """Returns {'light_lux': illuminance in lux}: a dict the driver keeps and updates."""
        raw = self.read_raw()
        if raw == _SATURATED and self.mtreg > _MIN_MTREG:
            self.set_mtreg(_MIN_MTREG)
            raw = self.read_raw()
        if raw == _SATURATED:
            raise SensorError("BH1750 at 0x%02x: saturated even at MTreg %d" % (self.address, self.mtreg))
        lux = raw * (_DEFAULT_MTREG * 10) / (12 * self.mtreg)  # raw / 1.2 * 69 / MTreg in one float operation
        if self.mtreg != self._default_mtreg and raw < 0x1000:
            self.set_mtreg(self._default_mtreg)  # dim again: full resolution next time
        self._reading["light_lux"] = lux
        return self._reading
