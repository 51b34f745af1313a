"""Aosong AHT20 air temperature and humidity sensor (I2C, address 0x38).

The status byte's calibration bit must be set before measuring (the driver sends
the initialisation command once if not); the busy bit is polled after a trigger;
the 7-byte result ends with a CRC-8 (poly 0x31, init 0xFF).

Usage:
    from verdant.drivers.aht20 import AHT20
    sensor = AHT20(i2c)
    sensor.measure()     # {'air_temp_c': 21.3, 'rh_pct': 55.0}
"""
try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

from verdant.drivers.base import CRCError, NotReadyError, SensorError, crc8_sensirion, default_sleep_ms, i2c_absent
from verdant.quantities import BY_DRIVER

_CMD_STATUS = const(0x71)
_CMD_INIT = b"\xbe\x08\x00"
_CMD_TRIGGER = b"\xac\x33\x00"
_CMD_SOFT_RESET = const(0xBA)
_STATUS_BUSY = const(0x80)
_STATUS_CALIBRATED = const(0x08)
_POWER_UP_MS = const(40)
_INIT_MS = const(10)
_MEASURE_MS = const(80)
_POLL_MS = const(10)
_POLL_ATTEMPTS = const(5)
_FULL_SCALE = const(1 << 20)


class AHT20:
    QUANTITIES = BY_DRIVER["aht20"]

    def __init__(self, bus, address=0x38, sleep_ms=None):
        self._bus = bus
        self.address = address
        self._sleep_ms = sleep_ms or default_sleep_ms
        self._one = bytearray(1)
        self._buf = bytearray(7)
        try:
            self._sleep_ms(_POWER_UP_MS)
            if not self.status() & _STATUS_CALIBRATED:
                self._bus.writeto(address, _CMD_INIT)
                self._sleep_ms(_INIT_MS)
                calibrated = self.status() & _STATUS_CALIBRATED
            else:
                calibrated = True
        except OSError as exc:
            raise i2c_absent(address, exc)
        if not calibrated:
            raise OSError("AHT20 at 0x%02x: calibration bit still clear after init" % address)

    def status(self):
        """Reads the status byte (bit 7 busy, bit 3 calibrated)."""
        self._one[0] = _CMD_STATUS
        self._bus.writeto(self.address, self._one)
        self._bus.readfrom_into(self.address, self._one)
        return self._one[0]

    def read_raw(self):
        """Triggers a conversion; returns the raw 20-bit (humidity, temperature) codes."""
        buf = self._buf
        self._bus.writeto(self.address, _CMD_TRIGGER)
        self._sleep_ms(_MEASURE_MS)
        for attempt in range(_POLL_ATTEMPTS):
            self._bus.readfrom_into(self.address, buf)
            if not buf[0] & _STATUS_BUSY:
                break
            self._sleep_ms(_POLL_MS)
        else:
            raise NotReadyError("AHT20 at 0x%02x: still busy after %d polls" % (self.address, _POLL_ATTEMPTS))
        crc = crc8_sensirion(buf, 0, 6)
        if crc != buf[6]:
            raise CRCError("AHT20 at 0x%02x: CRC 0x%02x, expected 0x%02x" % (self.address, buf[6], crc))
        humidity = (buf[1] << 12) | (buf[2] << 4) | (buf[3] >> 4)
        temperature = ((buf[3] & 0x0F) << 16) | (buf[4] << 8) | buf[5]
        return humidity, temperature

    def measure(self):
        """Returns {'air_temp_c': degC, 'rh_pct': %RH}."""
        raw_rh, raw_t = self.read_raw()
        temp_c = raw_t * 200 / _FULL_SCALE - 50
        if not -40 <= temp_c <= 85:
            raise SensorError("AHT20 at 0x%02x: temperature %.2f C outside -40..85" % (self.address, temp_c))
        return {"air_temp_c": temp_c, "rh_pct": raw_rh * 100 / _FULL_SCALE}

    def reset(self):
        """Soft reset (max 20 ms)."""
        self._one[0] = _CMD_SOFT_RESET
        self._bus.writeto(self.address, self._one)
        self._sleep_ms(20)
