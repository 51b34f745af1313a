"""Sensirion SHT30/SHT31/SHT35 air temperature and humidity sensor (I2C).

Single-shot, high repeatability, no clock stretching: the part NACKs reads until
the conversion is done (max 15.5 ms), so the driver waits, then polls a few times.

Usage:
    from verdant.drivers.sht3x import SHT3x
    sensor = SHT3x(i2c, address=0x44)
    sensor.measure()   # {'air_temp_c': 21.3, 'rh_pct': 55.0}
"""
try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

from verdant.drivers.base import CRCError, SensorError, i2c_absent
from verdant.drivers.sensirion import SensirionDevice
from verdant.quantities import BY_DRIVER

_CMD_MEASURE_HIGH = const(0x2400)  # single shot, high repeatability, no clock stretching
_CMD_READ_STATUS = const(0xF32D)
_CMD_SOFT_RESET = const(0x30A2)
_MEASURE_MS = const(16)  # datasheet max 15.5 ms at high repeatability
_POLL_MS = const(2)
_POLL_ATTEMPTS = const(5)
_T_MIN_C = const(-40)
_T_MAX_C = const(125)


class SHT3x(SensirionDevice):
    QUANTITIES = BY_DRIVER["sht3x"]

    def __init__(self, bus, address=0x44, sleep_ms=None):
        super().__init__(bus, address, sleep_ms, 2)
        self._reading = {"air_temp_c": None, "rh_pct": None}  # measure()'s dict, kept
        try:
            self._write_command(_CMD_READ_STATUS)
            self.status = self._read_words(1, "SHT3x status")[0]
        except OSError as exc:
            raise i2c_absent(address, exc)
        except CRCError as exc:
            raise OSError("SHT3x at 0x%02x: status read failed: %s" % (address, exc))

    def read_raw(self):
        """Runs one conversion; returns the raw (temperature, humidity) 16-bit codes."""
        words = self.read_raw_words()
        return words[0], words[1]

    def read_raw_words(self):
        """read_raw() into the driver's kept 2-word list (no tuple per read)."""
        self._write_command(_CMD_MEASURE_HIGH)
        self._sleep_ms(_MEASURE_MS)
        return self._read_words(2, "SHT3x measurement", _POLL_ATTEMPTS, _POLL_MS)

    def measure(self):
        """Returns {'air_temp_c': degC, 'rh_pct': % relative humidity}: a dict the driver
        keeps and updates on every call (no dict per reading); copy it to keep it."""
        raw_t, raw_rh = self.read_raw_words()
        temp_c = (175 * raw_t - 45 * 65535) / 65535  # one float operation (floats are heap objects on boards)
        rh = 100 * raw_rh / 65535
        if not _T_MIN_C <= temp_c <= _T_MAX_C:
            raise SensorError("SHT3x at 0x%02x: temperature %.2f C outside -40..125" % (self.address, temp_c))
        reading = self._reading
        reading["air_temp_c"] = temp_c
        reading["rh_pct"] = rh
        return reading

    def reset(self):
        """Soft reset (the part is ready again after 1.5 ms)."""
        self._write_command(_CMD_SOFT_RESET)
        self._sleep_ms(2)
