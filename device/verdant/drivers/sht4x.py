"""Sensirion SHT40/SHT41/SHT45 air temperature and humidity sensor (I2C).

One-byte commands; the part NACKs reads while it converts (max 8.3 ms at high
precision). The serial number read in the constructor proves a SHT4x answers.

Usage:
    from verdant.drivers.sht4x import SHT4x
    sensor = SHT4x(i2c)          # address 0x44 (SHT4x-A), 0x45 or 0x46 for B/C variants
    sensor.measure()             # {'air_temp_c': 21.3, 'rh_pct': 55.0}
"""
try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

from verdant.drivers.base import CRCError, SensorError, i2c_absent
from verdant.drivers.sensirion import SensirionDevice
from verdant.quantities import BY_DRIVER

_CMD_MEASURE_HIGH = const(0xFD)
_CMD_READ_SERIAL = const(0x89)
_CMD_SOFT_RESET = const(0x94)
_MEASURE_MS = const(9)  # datasheet max 8.3 ms at high precision
_SERIAL_MS = const(1)
_POLL_MS = const(2)
_POLL_ATTEMPTS = const(5)


class SHT4x(SensirionDevice):
    QUANTITIES = BY_DRIVER["sht4x"]

    def __init__(self, bus, address=0x44, sleep_ms=None):
        super().__init__(bus, address, sleep_ms, 2)
        try:
            self._write_command(_CMD_READ_SERIAL, 1)
            self._sleep_ms(_SERIAL_MS)
            high, low = self._read_words(2, "SHT4x serial", _POLL_ATTEMPTS, _POLL_MS)
        except OSError as exc:
            raise i2c_absent(address, exc)
        except CRCError as exc:
            raise OSError("SHT4x at 0x%02x: serial number read failed: %s" % (address, exc))
        self.serial = (high << 16) | low

    def read_raw(self):
        """Runs one high-precision conversion; returns raw (temperature, humidity) codes."""
        self._write_command(_CMD_MEASURE_HIGH, 1)
        self._sleep_ms(_MEASURE_MS)
        words = self._read_words(2, "SHT4x measurement", _POLL_ATTEMPTS, _POLL_MS)
        return words[0], words[1]

    def measure(self):
        """Returns {'air_temp_c': degC, 'rh_pct': %RH cropped to 0..100 as the datasheet advises}."""
        raw_t, raw_rh = self.read_raw()
        temp_c = -45 + 175 * raw_t / 65535
        rh = -6 + 125 * raw_rh / 65535
        if not -40 <= temp_c <= 125:
            raise SensorError("SHT4x at 0x%02x: temperature %.2f C outside -40..125" % (self.address, temp_c))
        return {"air_temp_c": temp_c, "rh_pct": min(100.0, max(0.0, rh))}

    def reset(self):
        """Soft reset (max 1 ms)."""
        self._write_command(_CMD_SOFT_RESET, 1)
        self._sleep_ms(1)
