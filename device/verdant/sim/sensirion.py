"""Simulated Sensirion parts: SHT3x, SHT4x (air T/RH) and SCD4x (CO2), byte level.

Each NACKs reads while converting, answers words as (msb, lsb, CRC-8), and NACKs
commands it does not know, as the real parts do.
"""
import errno
import math

from verdant.drivers.base import crc8_sensirion
from verdant.sim.part import SimPart

_NACK = errno.ENODEV


# commands an SCD4x accepts in periodic mode
_PERIODIC_OK = (0xEC05, 0xE4B8, 0x3F86, 0xE000)


def _nack():
    return OSError(_NACK)


def _es(temp_c):
    """Buck saturation vapour pressure, kPa: verdant.features' formula, not imported (the
    simulation environment's own heap budget, tests/host/test_simenv_budget.py)."""
    return 0.61121 * math.exp((18.678 - temp_c / 234.5) * (temp_c / (257.14 + temp_c)))


class _SensirionPart(SimPart):
    """The reply (up to 3 words with their CRCs) is kept in a buffer made once."""

    def __init__(self, clock):
        super().__init__(clock)
        self._reply = bytearray(9)
        self._reply_len = 0  # 0: nothing to send
        self._ready = self.ticks_ms()

    def _answer(self, delay_ms, count, w0, w1=0, w2=0):
        reply = self._reply
        reply[0], reply[1], reply[3], reply[4], reply[6], reply[7] = \
            w0 >> 8, w0 & 0xFF, w1 >> 8, w1 & 0xFF, w2 >> 8, w2 & 0xFF
        for j in range(0, 3 * count, 3):
            reply[j + 2] = self.checksum(crc8_sensirion(reply, j, j + 2))
        self._reply_len = 3 * count
        self._ready = self.deadline(delay_ms)

    def read_into(self, buf):
        if not self._reply_len or not self.reached(self._ready):
            raise _nack()  # nothing to send, or still converting
        reply, n = self._reply, self._reply_len
        for i in range(len(buf)):
            buf[i] = reply[i] if i < n else 0
        self._reply_len = 0

    def read(self, n):
        out = bytearray(n)
        self.read_into(out)
        return bytes(out)


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
        return self.code("temperature_c", -45, 175), self.code("humidity_pct", 0, 100)

    def write(self, data):
        self.record(data)
        if len(data) != 2:
            raise _nack()
        command = (data[0] << 8) | data[1]
        if command in self.SINGLE_SHOT_MS:
            raw_t, raw_rh = self.raw()
            self._answer(self.SINGLE_SHOT_MS[command], 2, raw_t, raw_rh)
        elif command == 0xF32D:
            self._answer(0, 1, self.status)
        elif command == 0x3041:
            self.status = 0
        elif command == 0x30A2:
            self.status = 0x0010
            self._reply_len = 0
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
        return self.code("temperature_c", -45, 175), self.code("humidity_pct", -6, 125)

    def write(self, data):
        self.record(data)
        if len(data) != 1:
            raise _nack()
        command = data[0]
        if command in self.MEASURE_MS:
            raw_t, raw_rh = self.raw()
            self._answer(self.MEASURE_MS[command], 2, raw_t, raw_rh)
        elif command == 0x89:
            self._answer(1, 2, self.serial >> 16, self.serial & 0xFFFF)
        elif command == 0x94:
            self._reply_len = 0
        else:
            raise _nack()


class SimSCD4x(_SensirionPart):
    """SCD40/SCD41: periodic measurement every 5 s, data-ready flag, 9-byte result.

    In periodic mode it accepts only read_measurement, get_data_ready_status,
    stop_periodic_measurement and set_ambient_pressure; other commands are NACKed.
    temperature_c and humidity_pct are what its own sensor reads. Fed from the air (a
    truth feed), it heats itself: it reads self_heating_c above the air, and the RH of
    the same water vapour at that temperature (the self-heating its default 4 C
    temperature offset leaves, a typical mounting; 0 reads the air as it is).
    """

    TRUTH = {"co2_ppm": "co2_ppm", "temperature_c": "air_temp_c", "humidity_pct": "rh_pct"}
    NOISE = {"co2_ppm": 10.0, "temperature_c": 0.1, "humidity_pct": 0.4}  # repeatability
    PERIOD_MS = 5000
    SELF_HEATING_C = 1.5

    def __init__(self, clock, co2_ppm=420.0, temperature_c=20.0, humidity_pct=50.0,
                 serial=(0xF896, 0x9F07, 0x3BB4), self_heating_c=SELF_HEATING_C):
        super().__init__(clock)
        self.co2_ppm = co2_ppm
        self.temperature_c = temperature_c
        self.humidity_pct = humidity_pct
        self.self_heating_c = self_heating_c
        self.serial = serial
        self.periodic = False
        self._next_result = self.ticks_ms()  # ticks_ms of the next periodic result
        self._busy_until = None  # ticks_ms until which a command is still executing; None once past

    def data_ready(self):
        return self.periodic and self.reached(self._next_result)

    def refresh(self):
        """The air from the feed, as the self-heated part reads it (same vapour pressure)."""
        if self.feed is None or self._stuck is not None:
            return
        env = self.feed()
        co2 = env.get("co2_ppm")
        if co2 is not None and co2 == co2:
            self.co2_ppm = co2
        temp, rh = env.get("air_temp_c"), env.get("rh_pct")
        if temp is None or temp != temp:
            return
        chip = temp + self.self_heating_c
        self.temperature_c = chip
        if rh is not None and rh == rh:
            self.humidity_pct = rh * _es(temp) / _es(chip)

    def raw(self):
        if self.out_of_range:
            return 0xFFFF, 0xFFFF, 0xFFFF
        self.refresh()
        return (max(0, min(0xFFFF, int(self.sensed("co2_ppm") + 0.5))),
                self.code("temperature_c", -45, 175), self.code("humidity_pct", 0, 100))

    def write(self, data):
        self.record(data)
        if self._busy_until is not None:
            if not self.reached(self._busy_until):
                raise _nack()  # still executing the previous command (e.g. stop takes 500 ms)
            self._busy_until = None  # past: a deadline kept would come round again with the ticks
        if len(data) < 2:
            raise _nack()
        command = (data[0] << 8) | data[1]
        if self.periodic and command not in _PERIODIC_OK:
            raise _nack()
        if command == 0x21B1:  # start_periodic_measurement: first result after one period
            self.periodic = True
            self._next_result = self.deadline(self.PERIOD_MS)
        elif command == 0x3F86:  # stop_periodic_measurement
            self.periodic = False
            self._reply_len = 0
            self._busy_until = self.deadline(500)
        elif command == 0xE4B8:  # get_data_ready_status: low 11 bits non-zero when ready
            self._answer(1, 1, 0x8006 if self.data_ready() else 0x8000)
        elif command == 0xEC05:  # read_measurement
            if not self.data_ready():
                raise _nack()  # datasheet: no data -> NACK on the read header
            late = (self.ticks_ms() - self._next_result) & 0x3FFFFFFF
            self._next_result = self.deadline(self.PERIOD_MS - late % self.PERIOD_MS)  # on the 5 s grid
            self._answer_measurement()
        elif command == 0x3682:  # get_serial_number
            self._answer(1, 3, self.serial[0], self.serial[1], self.serial[2])
        elif command == 0x3646:  # reinit
            self._busy_until = self.deadline(30)
        else:
            raise _nack()

    def _answer_measurement(self):
        if self.out_of_range:
            self._answer(1, 3, 0xFFFF, 0xFFFF, 0xFFFF)
            return
        self.refresh()
        co2 = self.sensed("co2_ppm")
        last = self._codes.get("co2_ppm")
        if last is None or last[0] != co2:
            last = self._codes["co2_ppm"] = (co2, 0, max(0, min(0xFFFF, int(co2 + 0.5))))
        self._answer(1, 3, last[2], self.code("temperature_c", -45, 175), self.code("humidity_pct", 0, 100))
