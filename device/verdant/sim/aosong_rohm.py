"""Simulated AHT20 (air T/RH) and BH1750 (light) parts, byte level."""
import errno

from verdant.drivers.base import crc8_sensirion
from verdant.sim.part import SimPart


def _nack():
    return OSError(errno.ENODEV)


class SimAHT20(SimPart):
    """AHT20: status byte (busy bit 7, calibrated bit 3), 80 ms conversion, CRC'd 7-byte result.

    calibrated=False models a part whose calibration must be loaded with 0xBE 0x08 0x00.
    """

    TRUTH = {"temperature_c": "air_temp_c", "humidity_pct": "rh_pct"}
    NOISE = {"temperature_c": 0.1, "humidity_pct": 0.1}
    MEASURE_MS = 75

    def __init__(self, clock, temperature_c=20.0, humidity_pct=50.0, calibrated=True):
        super().__init__(clock)
        self.temperature_c = temperature_c
        self.humidity_pct = humidity_pct
        self.calibrated = calibrated
        self.ignore_init = False  # fault: calibration never sticks
        self._data = bytes(5)
        self._ready_ms = 0

    def _status(self):
        busy = 0x80 if self.now_ms() < self._ready_ms else 0
        return busy | (0x08 if self.calibrated else 0) | 0x10

    def _convert(self):
        if self.out_of_range:
            rh, t = 0xFFFFF, 0xFFFFF
        else:
            self.refresh()
            rh = _code20(self.sensed("humidity_pct") / 100)
            t = _code20((self.sensed("temperature_c") + 50) / 200)
        self._data = bytes((rh >> 12, (rh >> 4) & 0xFF, ((rh & 0x0F) << 4) | (t >> 16), (t >> 8) & 0xFF, t & 0xFF))
        self._ready_ms = self.now_ms() + self.MEASURE_MS

    def write(self, data):
        self.record(data)
        data = bytes(data)
        if data == b"\xac\x33\x00":
            self._convert()
        elif data == b"\xbe\x08\x00":
            self.calibrated = self.calibrated or not self.ignore_init
        elif data == b"\xba":
            self._ready_ms = 0
        elif data != b"\x71":
            raise _nack()

    def read(self, n):
        frame = bytes((self._status(),)) + self._data
        frame += bytes((self.checksum(crc8_sensirion(frame)),))
        return frame[:n]


def _code20(fraction):
    code = int(fraction * (1 << 20) + 0.5)
    return 0 if code < 0 else 0xFFFFF if code > 0xFFFFF else code


class SimBH1750(SimPart):
    """BH1750: opcodes for power, reset, one-time/continuous modes and MTreg; 16-bit result.

    A read before the conversion ends returns the previous result, as the part does.
    """

    TRUTH = {"lux": "light_lux"}
    NOISE = {"lux": 1.0}

    def __init__(self, clock, lux=500.0):
        super().__init__(clock)
        self.lux = lux
        self.powered = False
        self.mtreg = 69
        self._result = 0
        self._pending = None
        self._ready = self.ticks_ms()

    def write(self, data):
        self.record(data)
        if len(data) != 1:
            raise _nack()
        op = data[0]
        if op == 0x00:
            self.powered = False
        elif op == 0x01:
            self.powered = True
        elif op == 0x07:
            self._result = 0
        elif op & 0xF8 == 0x40:
            self.mtreg = (self.mtreg & 0x1F) | ((op & 0x07) << 5)
        elif op & 0xE0 == 0x60:
            self.mtreg = (self.mtreg & 0xE0) | (op & 0x1F)
        elif op in (0x10, 0x11, 0x13, 0x20, 0x21, 0x23):
            if self.powered:  # measurement commands are ignored while powered down
                self._start(op)
        else:
            raise _nack()

    def _start(self, op):
        if self.out_of_range:
            raw = 0xFFFF
        else:
            self.refresh()
            gain = self.mtreg * (2 if op in (0x11, 0x21) else 1)  # resolution x MTreg
            lux = self.sensed("lux")
            last = self._codes.get("lux")
            if last is None or last[0] != lux or last[1] != gain:
                last = self._codes["lux"] = (lux, gain, max(0, min(0xFFFF, int(lux * 1.2 * gain / 69 + 0.5))))
            raw = last[2]
        self._pending = raw
        self._ready = self.deadline(120 * self.mtreg // 69)
        if op & 0x20:
            self.powered = False  # one-time modes power down after the result

    def read_into(self, buf):
        if self._pending is not None and self.reached(self._ready):
            self._result, self._pending = self._pending, None
        if len(buf) > 0:
            buf[0] = self._result >> 8
        if len(buf) > 1:
            buf[1] = self._result & 0xFF
        for i in range(2, len(buf)):
            buf[i] = 0xFF  # nothing driving the bus past the 2-byte result

    def read(self, n):
        out = bytearray(2)
        self.read_into(out)
        return bytes(out)[:n]
