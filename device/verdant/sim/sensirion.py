"""Simulated Sensirion parts: SHT3x, SHT4x (air T/RH) and SCD4x (CO2), byte level.

Each NACKs reads while converting, answers words as (msb, lsb, CRC-8), and NACKs
commands it does not know, as the real parts do.
"""
import errno

from verdant.drivers.base import crc8_sensirion
from verdant.sim.part import SimPart, raw_code

_NACK = errno.ENODEV


def _nack():
    return OSError(_NACK)


def words_with_crc(part, words):
    out = bytearray()
    for w in words:
        pair = bytes((w >> 8, w & 0xFF))
        out.extend(pair)
        out.append(part.checksum(crc8_sensirion(pair)))
    return bytes(out)


class _SensirionPart(SimPart):
    def __init__(self, clock):
        super().__init__(clock)
        self._reply = None
        self._ready_ms = 0

    def _answer(self, words, delay_ms=0):
        self._reply = words_with_crc(self, words)
        self._ready_ms = self.now_ms() + delay_ms

    def read(self, n):
        if self._reply is None or self.now_ms() < self._ready_ms:
            raise _nack()  # nothing to send, or still converting
        reply, self._reply = self._reply, None
        return reply[:n] + bytes(max(0, n - len(reply)))


class SimSHT3x(_SensirionPart):
    """SHT3x: 16-bit commands; single-shot high/medium/low repeatability; status register."""

    TRUTH = {"temperature_c": "air_temp_c", "humidity_pct": "rh_pct"}
    NOISE = {"temperature_c": 0.04, "humidity_pct": 0.08}  # high repeatability
    # single shot, no clock stretching: command -> max conversion time (ms)
    SINGLE_SHOT_MS = {0x2400: 15, 0x240B: 6, 0x2416: 4}

    def __init__(self, clock, temperature_c=20.0, humidity_pct=50.0):
        super().__init__(clock)
        self.temperature_c = temperature_c
        self.humidity_pct = humidity_pct
        self.status = 0x8010  # alert pending + reset detected, as after power-up

    def raw(self):
        if self.out_of_range:
            return 0xFFFF, 0xFFFF
        self.refresh()
        return (raw_code(self.sensed("temperature_c"), -45, 175),
                raw_code(self.sensed("humidity_pct"), 0, 100))

    def write(self, data):
        self.record(data)
        if len(data) != 2:
            raise _nack()
        command = (data[0] << 8) | data[1]
        if command in self.SINGLE_SHOT_MS:
            self._answer(self.raw(), self.SINGLE_SHOT_MS[command])
        elif command == 0xF32D:
            self._answer((self.status,))
        elif command == 0x3041:
            self.status = 0
        elif command == 0x30A2:
            self.status = 0x0010
            self._reply = None
        else:
            raise _nack()


class SimSHT4x(_SensirionPart):
    """SHT4x: one-byte commands; RH encoded as -6 + 125 * code / 65535."""

    TRUTH = {"temperature_c": "air_temp_c", "humidity_pct": "rh_pct"}
    NOISE = {"temperature_c": 0.04, "humidity_pct": 0.08}  # high repeatability
    MEASURE_MS = {0xFD: 8, 0xF6: 5, 0xE0: 2}

    def __init__(self, clock, temperature_c=20.0, humidity_pct=50.0, serial=0x0F2A9C41):
        super().__init__(clock)
        self.temperature_c = temperature_c
        self.humidity_pct = humidity_pct
        self.serial = serial

    def raw(self):
        if self.out_of_range:
            return 0xFFFF, 0xFFFF
        self.refresh()
        return (raw_code(self.sensed("temperature_c"), -45, 175),
                raw_code(self.sensed("humidity_pct"), -6, 125))

    def write(self, data):
        self.record(data)
        if len(data) != 1:
            raise _nack()
        command = data[0]
        if command in self.MEASURE_MS:
            self._answer(self.raw(), self.MEASURE_MS[command])
        elif command == 0x89:
            self._answer((self.serial >> 16, self.serial & 0xFFFF), 1)
        elif command == 0x94:
            self._reply = None
        else:
            raise _nack()


class SimSCD4x(_SensirionPart):
    """SCD40/SCD41: periodic measurement every 5 s, data-ready flag, 9-byte result.

    In periodic mode it accepts only read_measurement, get_data_ready_status,
    stop_periodic_measurement and set_ambient_pressure; other commands are NACKed.
    """

    TRUTH = {"co2_ppm": "co2_ppm", "temperature_c": "air_temp_c", "humidity_pct": "rh_pct"}
    NOISE = {"co2_ppm": 10.0, "temperature_c": 0.1, "humidity_pct": 0.4}  # repeatability
    PERIOD_MS = 5000

    def __init__(self, clock, co2_ppm=420.0, temperature_c=20.0, humidity_pct=50.0,
                 serial=(0xF896, 0x9F07, 0x3BB4)):
        super().__init__(clock)
        self.co2_ppm = co2_ppm
        self.temperature_c = temperature_c
        self.humidity_pct = humidity_pct
        self.serial = serial
        self.periodic = False
        self._started_ms = 0
        self._taken = 0  # number of periods already read
        self._busy_until_ms = 0

    def _periods_done(self):
        return (self.now_ms() - self._started_ms) // self.PERIOD_MS

    def data_ready(self):
        return self.periodic and self._periods_done() > self._taken

    def raw(self):
        if self.out_of_range:
            return 0xFFFF, 0xFFFF, 0xFFFF
        self.refresh()
        return (max(0, min(0xFFFF, int(self.sensed("co2_ppm") + 0.5))),
                raw_code(self.sensed("temperature_c"), -45, 175),
                raw_code(self.sensed("humidity_pct"), 0, 100))

    def write(self, data):
        self.record(data)
        if self.now_ms() < self._busy_until_ms or len(data) < 2:
            raise _nack()  # still executing the previous command (e.g. stop takes 500 ms)
        command = (data[0] << 8) | data[1]
        periodic_ok = (0xEC05, 0xE4B8, 0x3F86, 0xE000)
        if self.periodic and command not in periodic_ok:
            raise _nack()
        if command == 0x21B1:  # start_periodic_measurement
            self.periodic = True
            self._started_ms = self.now_ms()
            self._taken = 0
        elif command == 0x3F86:  # stop_periodic_measurement
            self.periodic = False
            self._reply = None
            self._busy_until_ms = self.now_ms() + 500
        elif command == 0xE4B8:  # get_data_ready_status: low 11 bits non-zero when ready
            self._answer((0x8006 if self.data_ready() else 0x8000,), 1)
        elif command == 0xEC05:  # read_measurement
            if not self.data_ready():
                raise _nack()  # datasheet: no data -> NACK on the read header
            self._taken = self._periods_done()
            self._answer(self.raw(), 1)
        elif command == 0x3682:  # get_serial_number
            self._answer(self.serial, 1)
        elif command == 0x3646:  # reinit
            self._busy_until_ms = self.now_ms() + 30
        else:
            raise _nack()
