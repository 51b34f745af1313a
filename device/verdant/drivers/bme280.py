"""Bosch BME280 temperature, humidity and pressure sensor (I2C, address 0x76 or 0x77).

Forced mode, 1x oversampling for all three, filter off: one conversion per
measure() (max 9.3 ms), then the part sleeps. Compensation is the datasheet's
integer code (section 4.2.3/8.2): 32-bit temperature (0.01 degC), 64-bit pressure
(Q24.8 Pa) and 32-bit humidity (Q22.10 %RH), using the factory calibration read
in the constructor. Python ints do not overflow; C's truncating division and
arithmetic shifts are reproduced exactly.

Usage:
    from verdant.drivers.bme280 import BME280
    sensor = BME280(i2c, address=0x76)
    sensor.measure()   # {'air_temp_c': 21.37, 'rh_pct': 55.2, 'pressure_hpa': 1008.4}
"""
try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

import struct

from verdant.drivers.base import NotReadyError, SensorError, default_sleep_ms, i2c_absent
from verdant.quantities import BY_DRIVER

_REG_CALIB_TP = const(0x88)  # 0x88..0xA1: dig_T1..dig_P9, reserved, dig_H1
_REG_CHIP_ID = const(0xD0)
_REG_RESET = const(0xE0)
_REG_CALIB_H = const(0xE1)  # 0xE1..0xE7: dig_H2..dig_H6
_REG_CTRL_HUM = const(0xF2)
_REG_STATUS = const(0xF3)
_REG_CTRL_MEAS = const(0xF4)
_REG_CONFIG = const(0xF5)
_REG_DATA = const(0xF7)  # press[3], temp[3], hum[2]
_CHIP_ID = const(0x60)
_RESET_WORD = const(0xB6)
_STATUS_MEASURING = const(0x08)
_STATUS_IM_UPDATE = const(0x01)
_OVERSAMPLE_X1 = const(1)
_MODE_FORCED = const(1)
_MEASURE_MS = const(10)  # datasheet max 9.3 ms with 1x oversampling of T, P and H
_POLL_MS = const(2)
_POLL_ATTEMPTS = const(10)
_SKIPPED_20BIT = const(0x80000)  # value of a skipped T/P measurement
_SKIPPED_16BIT = const(0x8000)


def _div_trunc(a, b):
    """C integer division (rounds toward zero); Python's // floors."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def compensate_temperature(adc_t, cal):
    """Returns (temperature in 0.01 degC, t_fine) from the raw 20-bit reading."""
    t1, t2, t3 = cal["T1"], cal["T2"], cal["T3"]
    var1 = (((adc_t >> 3) - (t1 << 1)) * t2) >> 11
    var2 = (((((adc_t >> 4) - t1) * ((adc_t >> 4) - t1)) >> 12) * t3) >> 14
    t_fine = var1 + var2
    return (t_fine * 5 + 128) >> 8, t_fine


def compensate_pressure(adc_p, t_fine, cal):
    """Returns pressure in Pa as Q24.8 (divide by 256), or None when var1 is 0 (no division)."""
    var1 = t_fine - 128000
    var2 = var1 * var1 * cal["P6"]
    var2 = var2 + ((var1 * cal["P5"]) << 17)
    var2 = var2 + (cal["P4"] << 35)
    var1 = ((var1 * var1 * cal["P3"]) >> 8) + ((var1 * cal["P2"]) << 12)
    var1 = (((1 << 47) + var1) * cal["P1"]) >> 33
    if var1 == 0:
        return None
    p = 1048576 - adc_p
    p = _div_trunc(((p << 31) - var2) * 3125, var1)
    var1 = (cal["P9"] * (p >> 13) * (p >> 13)) >> 25
    var2 = (cal["P8"] * p) >> 19
    return ((p + var1 + var2) >> 8) + (cal["P7"] << 4)


def compensate_humidity(adc_h, t_fine, cal):
    """Returns relative humidity in %RH as Q22.10 (divide by 1024), clamped to 0..100 %."""
    v = t_fine - 76800
    v = (((((adc_h << 14) - (cal["H4"] << 20) - (cal["H5"] * v)) + 16384) >> 15)
         * (((((((v * cal["H6"]) >> 10) * (((v * cal["H3"]) >> 11) + 32768)) >> 10) + 2097152)
             * cal["H2"] + 8192) >> 14))
    v = v - (((((v >> 15) * (v >> 15)) >> 7) * cal["H1"]) >> 4)
    v = 0 if v < 0 else 419430400 if v > 419430400 else v
    return v >> 12


def parse_calibration(tp, h):
    """Calibration dict from the 26 bytes at 0x88 and the 7 bytes at 0xE1."""
    names = ("T1", "T2", "T3", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9")
    cal = dict(zip(names, struct.unpack("<HhhHhhhhhhhh", tp[:24])))
    cal["H1"] = tp[25]
    cal["H2"] = struct.unpack("<h", h[0:2])[0]
    cal["H3"] = h[2]
    e4 = h[3] - 256 if h[3] > 127 else h[3]  # MSB halves are signed
    e6 = h[5] - 256 if h[5] > 127 else h[5]
    cal["H4"] = (e4 * 16) | (h[4] & 0x0F)
    cal["H5"] = (e6 * 16) | (h[4] >> 4)
    cal["H6"] = h[6] - 256 if h[6] > 127 else h[6]
    return cal


class BME280:
    QUANTITIES = BY_DRIVER["bme280"]

    def __init__(self, bus, address=0x76, sleep_ms=None):
        self._bus = bus
        self.address = address
        self._sleep_ms = sleep_ms or default_sleep_ms
        self._one = bytearray(1)
        self._data = bytearray(8)
        try:
            chip_id = self._read_byte(_REG_CHIP_ID)
        except OSError as exc:
            raise i2c_absent(address, exc)
        if chip_id != _CHIP_ID:
            raise OSError("BME280 at 0x%02x: chip id 0x%02x, expected 0x60" % (address, chip_id))
        self._write_byte(_REG_RESET, _RESET_WORD)
        self._sleep_ms(2)
        for attempt in range(_POLL_ATTEMPTS):
            if not self._read_byte(_REG_STATUS) & _STATUS_IM_UPDATE:
                break
            self._sleep_ms(_POLL_MS)
        else:
            raise OSError("BME280 at 0x%02x: calibration copy never finished" % address)
        tp = bus.readfrom_mem(address, _REG_CALIB_TP, 26)
        h = bus.readfrom_mem(address, _REG_CALIB_H, 7)
        self.calibration = parse_calibration(tp, h)
        self._write_byte(_REG_CTRL_HUM, _OVERSAMPLE_X1)  # takes effect at the next ctrl_meas write
        self._write_byte(_REG_CONFIG, 0)

    def _read_byte(self, reg):
        self._bus.readfrom_mem_into(self.address, reg, self._one)
        return self._one[0]

    def _write_byte(self, reg, value):
        self._one[0] = value
        self._bus.writeto_mem(self.address, reg, self._one)

    def read_raw(self):
        """One forced conversion; returns raw (adc_T, adc_P, adc_H)."""
        self._write_byte(_REG_CTRL_MEAS, (_OVERSAMPLE_X1 << 5) | (_OVERSAMPLE_X1 << 2) | _MODE_FORCED)
        self._sleep_ms(_MEASURE_MS)
        for attempt in range(_POLL_ATTEMPTS):
            if not self._read_byte(_REG_STATUS) & _STATUS_MEASURING:
                break
            self._sleep_ms(_POLL_MS)
        else:
            raise NotReadyError("BME280 at 0x%02x: still measuring after %d polls" % (self.address, _POLL_ATTEMPTS))
        d = self._data
        self._bus.readfrom_mem_into(self.address, _REG_DATA, d)
        adc_p = (d[0] << 12) | (d[1] << 4) | (d[2] >> 4)
        adc_t = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4)
        adc_h = (d[6] << 8) | d[7]
        return adc_t, adc_p, adc_h

    def measure(self):
        """Returns {'air_temp_c': degC, 'rh_pct': %RH, 'pressure_hpa': hPa}."""
        adc_t, adc_p, adc_h = self.read_raw()
        if adc_t == _SKIPPED_20BIT or adc_p == _SKIPPED_20BIT or adc_h == _SKIPPED_16BIT:
            raise SensorError("BME280 at 0x%02x: measurement skipped (part was reset?)" % self.address)
        cal = self.calibration
        centi_c, t_fine = compensate_temperature(adc_t, cal)
        if not -4000 <= centi_c <= 8500:
            raise SensorError("BME280 at 0x%02x: temperature %.2f C outside -40..85" % (self.address, centi_c / 100))
        pressure = compensate_pressure(adc_p, t_fine, cal)
        if pressure is None:
            raise SensorError("BME280 at 0x%02x: pressure compensation divides by zero" % self.address)
        return {"air_temp_c": centi_c / 100, "rh_pct": compensate_humidity(adc_h, t_fine, cal) / 1024,
                "pressure_hpa": pressure / 25600}
