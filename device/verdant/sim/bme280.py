"""Simulated Bosch BME280: register map, chip id, calibration, forced-mode conversions.

The raw readings are found by inverting the datasheet's floating-point
compensation (section 8.1) by bisection, so the driver's integer compensation is
checked against an independent implementation.
"""
import errno
import struct

from verdant.sim.part import SimPart

# A calibration set: T and P from the BMP280 datasheet worked example (3.12),
# humidity coefficients typical of production BME280 parts.
DATASHEET_CALIBRATION = {
    "T1": 27504, "T2": 26435, "T3": -1000,
    "P1": 36477, "P2": -10685, "P3": 3024, "P4": 2855, "P5": 140, "P6": -7,
    "P7": 15500, "P8": -14600, "P9": 6000,
    "H1": 75, "H2": 362, "H3": 0, "H4": 313, "H5": 50, "H6": 30,
}


def float_temperature(adc_t, cal):
    """Datasheet double-precision temperature: returns (degC, t_fine)."""
    var1 = (adc_t / 16384.0 - cal["T1"] / 1024.0) * cal["T2"]
    var2 = (adc_t / 131072.0 - cal["T1"] / 8192.0) ** 2 * cal["T3"]
    t_fine = var1 + var2
    return t_fine / 5120.0, t_fine


def float_pressure(adc_p, t_fine, cal):
    """Datasheet double-precision pressure in Pa."""
    var1 = t_fine / 2.0 - 64000.0
    var2 = var1 * var1 * cal["P6"] / 32768.0
    var2 = var2 + var1 * cal["P5"] * 2.0
    var2 = var2 / 4.0 + cal["P4"] * 65536.0
    var1 = (cal["P3"] * var1 * var1 / 524288.0 + cal["P2"] * var1) / 524288.0
    var1 = (1.0 + var1 / 32768.0) * cal["P1"]
    p = 1048576.0 - adc_p
    p = (p - var2 / 4096.0) * 6250.0 / var1
    var1 = cal["P9"] * p * p / 2147483648.0
    var2 = p * cal["P8"] / 32768.0
    return p + (var1 + var2 + cal["P7"]) / 16.0


def float_humidity(adc_h, t_fine, cal):
    """Datasheet double-precision humidity in %RH (clamped 0..100)."""
    h = t_fine - 76800.0
    h = ((adc_h - (cal["H4"] * 64.0 + cal["H5"] / 16384.0 * h))
         * (cal["H2"] / 65536.0 * (1.0 + cal["H6"] / 67108864.0 * h * (1.0 + cal["H3"] / 67108864.0 * h))))
    h = h * (1.0 - cal["H1"] * h / 524288.0)
    return min(100.0, max(0.0, h))


def _bisect(target, f, lo, hi, increasing):
    """Smallest code in [lo, hi] whose f(code) reaches target (f monotonic)."""
    while lo < hi:
        mid = (lo + hi) // 2
        value = f(mid)
        if (value < target) if increasing else (value > target):
            lo = mid + 1
        else:
            hi = mid
    return lo


def encode_calibration(cal):
    """The 26 bytes at 0x88 and the 7 bytes at 0xE1 holding cal."""
    tp = struct.pack("<HhhHhhhhhhhh", cal["T1"], cal["T2"], cal["T3"], cal["P1"], cal["P2"], cal["P3"],
                     cal["P4"], cal["P5"], cal["P6"], cal["P7"], cal["P8"], cal["P9"])
    tp += bytes((0, cal["H1"]))
    h4, h5 = cal["H4"], cal["H5"]
    h = struct.pack("<hB", cal["H2"], cal["H3"])
    h += bytes(((h4 >> 4) & 0xFF, (h4 & 0x0F) | ((h5 & 0x0F) << 4), (h5 >> 4) & 0xFF, cal["H6"] & 0xFF))
    return tp, h


class SimBME280(SimPart):
    """BME280 at the register level. chip_id=0x58 models a BMP280 fitted by mistake."""

    TRUTH = {"temperature_c": "air_temp_c", "humidity_pct": "rh_pct", "pressure_hpa": "pressure_hpa"}
    NOISE = {"temperature_c": 0.01, "humidity_pct": 0.1, "pressure_hpa": 0.12}

    def __init__(self, clock, temperature_c=20.0, humidity_pct=50.0, pressure_hpa=1013.25,
                 calibration=None, chip_id=0x60):
        super().__init__(clock)
        self.temperature_c = temperature_c
        self.humidity_pct = humidity_pct
        self.pressure_hpa = pressure_hpa
        self.cal = calibration or DATASHEET_CALIBRATION
        self.regs = bytearray(256)
        self.chip_id = chip_id
        self._pointer = 0
        self._ready_ms = 0
        self._pending = None
        self._power_on()

    def _power_on(self):
        regs = self.regs
        for i in range(256):
            regs[i] = 0
        tp, h = encode_calibration(self.cal)
        regs[0x88:0x88 + 26] = tp
        regs[0xE1:0xE1 + 7] = h
        regs[0xD0] = self.chip_id
        regs[0xF7:0xFF] = b"\x80\x00\x00\x80\x00\x00\x80\x00"  # reset values: "skipped"

    def raw(self):
        """Raw (adc_T, adc_P, adc_H) for the sensed truth."""
        if self.out_of_range:
            return 0xFFFFF, 0xFFFFF, 0xFFFF
        self.refresh()
        cal = self.cal
        adc_t = _bisect(self.sensed("temperature_c"), lambda c: float_temperature(c, cal)[0], 0, 0xFFFFF, True)
        t_fine = float_temperature(adc_t, cal)[1]
        adc_p = _bisect(self.sensed("pressure_hpa") * 100, lambda c: float_pressure(c, t_fine, cal), 0, 0xFFFFF, False)
        adc_h = _bisect(self.sensed("humidity_pct"), lambda c: float_humidity(c, t_fine, cal), 0, 0xFFFF, True)
        return adc_t, adc_p, adc_h

    def _status(self):
        return 0x08 if self.now_ms() < self._ready_ms else 0

    def write(self, data):
        self.record(data)
        if not data:
            raise OSError(errno.ENODEV)
        self._pointer = data[0]
        for i in range(0, len(data) - 1, 2):  # burst write: register/value pairs
            self._write_register(data[i], data[i + 1])

    def _write_register(self, reg, value):
        if reg == 0xE0:
            if value == 0xB6:
                self._power_on()
            return
        if reg not in (0xF2, 0xF4, 0xF5):
            return  # read-only registers ignore writes
        self.regs[reg] = value
        if reg == 0xF4 and value & 0x03 in (1, 2):
            self._convert(value)

    def _convert(self, ctrl_meas):
        adc_t, adc_p, adc_h = self.raw()
        osrs_t, osrs_p, osrs_h = ctrl_meas >> 5, (ctrl_meas >> 2) & 7, self.regs[0xF2] & 7
        if not osrs_t:
            adc_t = 0x80000
        if not osrs_p:
            adc_p = 0x80000
        if not osrs_h:
            adc_h = 0x8000
        self._pending = bytes((adc_p >> 12, (adc_p >> 4) & 0xFF, (adc_p & 0x0F) << 4,
                                      adc_t >> 12, (adc_t >> 4) & 0xFF, (adc_t & 0x0F) << 4,
                                      adc_h >> 8, adc_h & 0xFF))
        self._ready_ms = self.now_ms() + 9
        self.regs[0xF4] &= 0xFC  # forced mode returns to sleep

    def read(self, n):
        if self._pending is not None and not self._status():
            self.regs[0xF7:0xFF] = self._pending  # results appear when the conversion ends
            self._pending = None
        out = bytearray(n)
        for i in range(n):
            reg = (self._pointer + i) & 0xFF
            out[i] = self._status() if reg == 0xF3 else self.regs[reg]
        return bytes(out)
