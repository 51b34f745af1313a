"""Simulated DHT22 (behind a look-alike of the port's `dht` module) and a simulated
capacitive soil-moisture probe on an ADC (machine.ADC.read_u16 API).
"""
import errno

from verdant.sim.part import SimPart


class SimDHT22Part(SimPart):
    """The physical DHT22: produces the 5-byte frame (RH x10, T x10 with sign bit, sum).

    It needs 2 s between reads; an earlier start signal gets no answer.
    """

    TRUTH = {"temperature_c": "air_temp_c", "humidity_pct": "rh_pct"}
    NOISE = {"temperature_c": 0.2, "humidity_pct": 1.0}  # datasheet repeatability
    MIN_INTERVAL_MS = 2000

    def __init__(self, clock, temperature_c=20.0, humidity_pct=50.0):
        super().__init__(clock)
        self.temperature_c = temperature_c
        self.humidity_pct = humidity_pct
        self._last_ms = None

    def frame(self):
        now = self.now_ms()
        if self.nack or (self._last_ms is not None and now - self._last_ms < self.MIN_INTERVAL_MS):
            raise OSError(errno.ETIMEDOUT)
        self._last_ms = now
        if self.out_of_range:
            rh, t = 0xFFFF, 0x7FFF
        else:
            self.refresh()
            rh = max(0, min(0xFFFF, int(self.sensed("humidity_pct") * 10 + 0.5)))
            temp = self.sensed("temperature_c")
            t = min(0x7FFF, int(abs(temp) * 10 + 0.5)) | (0x8000 if temp < 0 else 0)
        out = bytearray((rh >> 8, rh & 0xFF, t >> 8, t & 0xFF, 0))
        out[4] = self.checksum((out[0] + out[1] + out[2] + out[3]) & 0xFF)
        return out


class SimPin:
    """A GPIO pin number with the simulated part wired to it."""

    def __init__(self, number, part=None):
        self.number = number
        self.part = part


class _SimDHT22:
    """What `dht.DHT22(pin)` gives on a port: measure(), temperature(), humidity()."""

    def __init__(self, pin):
        self.pin = pin
        self.buf = bytearray(5)

    def measure(self):
        if self.pin.part is None:
            raise OSError(errno.ETIMEDOUT)
        self.buf[:] = self.pin.part.frame()
        buf = self.buf
        if (buf[0] + buf[1] + buf[2] + buf[3]) & 0xFF != buf[4]:
            raise Exception("checksum error")  # what the port's dht module raises

    def humidity(self):
        return (self.buf[0] << 8 | self.buf[1]) * 0.1

    def temperature(self):
        t = ((self.buf[2] & 0x7F) << 8 | self.buf[3]) * 0.1
        return -t if self.buf[2] & 0x80 else t


class SimDHTModule:
    """Stands in for the port's `dht` module."""

    DHT22 = _SimDHT22


class SimSoilProbe(SimPart):
    """Capacitive probe: output falls linearly from dry_raw (0 %) to wet_raw (100 %).

    Disconnected (nack) the ADC pin is pulled to 0; out_of_range pins it at 65535.
    """

    TRUTH = {"moisture_pct": "soil_moisture_pct"}
    NOISE = {"moisture_pct": 0.5}

    def __init__(self, clock, moisture_pct=40.0, dry_raw=52000, wet_raw=22000):
        super().__init__(clock)
        self.moisture_pct = moisture_pct
        self.dry_raw = dry_raw
        self.wet_raw = wet_raw

    def read_u16(self):
        if self.nack:
            return 0
        if self.out_of_range:
            return 0xFFFF
        self.refresh()
        pct = self.sensed("moisture_pct")
        last = self._codes.get("moisture_pct")  # the last raw value, reused while the moisture is the same
        if last is None or last[0] != pct:
            raw = self.dry_raw - pct / 100 * (self.dry_raw - self.wet_raw)
            last = self._codes["moisture_pct"] = (pct, 0, max(0, min(0xFFFF, int(raw + 0.5))))
        return last[2]


class SimADC:
    """machine.ADC look-alike reading a simulated probe (or a fixed value when none)."""

    def __init__(self, probe=None, value=0):
        self.probe = probe
        self.value = value
        self.reads = 0

    def read_u16(self):
        self.reads += 1
        return self.probe.read_u16() if self.probe is not None else self.value
