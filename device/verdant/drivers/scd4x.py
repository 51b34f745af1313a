"""Sensirion SCD40/SCD41 photoacoustic CO2 sensor (I2C, address 0x62).

The constructor stops any running measurement (the part may still be measuring
after a soft reboot of the board), reads the serial number as a sanity check and
starts periodic measurement: a new result every 5 s. measure() waits (bounded) for
the data-ready flag, then reads CO2, temperature and humidity with their CRCs (one
transfer: the part sends all three). The temperature and humidity are the part's own,
self-heated (warmer, lower RH, the same water vapour as the air): measure() gives them
as scd4x_temp_c and scd4x_rh_pct, a reference for the air sensor's humidity
(verdant.dewpointdrift), never as the greenhouse's air_temp_c / rh_pct. Given
ticks_ms, a read soon after the last one first sleeps until the next result is nearly
due instead of polling the flag through the 5 s (each poll is a bus transfer and a CRC:
CPU time on a battery).

Usage:
    from verdant.drivers.scd4x import SCD4x
    co2 = SCD4x(i2c)
    co2.measure()      # {'co2_ppm': 612, 'scd4x_temp_c': 24.1, 'scd4x_rh_pct': 48.3}
    co2.read()         # (612, 24.1, 48.3): ppm, degC, %RH (T/RH are self-heated, not air)
"""
try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

from verdant.drivers.base import CRCError, NotReadyError, SensorError, i2c_absent
from verdant.drivers.sensirion import SensirionDevice
from verdant.quantities import BY_DRIVER
from verdant.sleeper import ticks_diff

_CMD_START_PERIODIC = const(0x21B1)
_CMD_STOP_PERIODIC = const(0x3F86)
_CMD_READ_MEASUREMENT = const(0xEC05)
_CMD_DATA_READY = const(0xE4B8)
_CMD_SERIAL = const(0x3682)
_STOP_MS = const(500)  # stop_periodic_measurement execution time
_CMD_MS = const(1)
_READY_MASK = const(0x07FF)
_POLL_MS = const(250)
_PERIOD_MS = const(5000)  # periodic measurement interval
_EARLY_MS = const(300)    # start polling this long before the next result is due
_CO2_MAX_PPM = const(40000)


class SCD4x(SensirionDevice):
    QUANTITIES = BY_DRIVER["scd4x"]

    WANTS_TICKS = True  # board.build_sensors passes the clock's ticks_ms

    def __init__(self, bus, address=0x62, sleep_ms=None, ready_timeout_ms=6000, ticks_ms=None):
        super().__init__(bus, address, sleep_ms, 3)
        self._ticks_ms = ticks_ms
        self._read_at = None  # ticks_ms() of the last result read
        self._ready_polls = max(1, ready_timeout_ms // _POLL_MS)
        try:
            self._write_command(_CMD_STOP_PERIODIC)
            self._sleep_ms(_STOP_MS)
            self._write_command(_CMD_SERIAL)
            self._sleep_ms(_CMD_MS)
            words = self._read_words(3, "SCD4x serial")
            self._write_command(_CMD_START_PERIODIC)
        except OSError as exc:
            raise i2c_absent(address, exc)
        except CRCError as exc:
            raise OSError("SCD4x at 0x%02x: serial number read failed: %s" % (address, exc))
        self.serial = (words[0] << 32) | (words[1] << 16) | words[2]
        self._reading = {"co2_ppm": None, "scd4x_temp_c": None, "scd4x_rh_pct": None}  # measure()'s dict, kept

    def data_ready(self):
        """True when a new measurement is waiting to be read."""
        self._write_command(_CMD_DATA_READY)
        self._sleep_ms(_CMD_MS)
        return self._read_words(1, "SCD4x data ready")[0] & _READY_MASK != 0

    def read(self):
        """Waits for new data (bounded) and returns (co2 ppm, temperature degC, humidity %RH)."""
        co2, raw_t, raw_rh = self._read_raw()
        return co2, -45 + 175 * raw_t / 65535, 100 * raw_rh / 65535

    def _read_raw(self):
        """Waits for new data (bounded); the kept list [co2 ppm, raw T, raw RH]."""
        if self._read_at is not None:
            since_ms = ticks_diff(self._ticks_ms(), self._read_at)
            if 0 <= since_ms < _PERIOD_MS - _EARLY_MS:  # (a read days ago may wrap negative)
                self._sleep_ms(_PERIOD_MS - _EARLY_MS - since_ms)
        for attempt in range(self._ready_polls):
            if self.data_ready():
                break
            self._sleep_ms(_POLL_MS)
        else:
            raise NotReadyError("SCD4x at 0x%02x: no data ready after %d polls" % (self.address, self._ready_polls))
        self._write_command(_CMD_READ_MEASUREMENT)
        self._sleep_ms(_CMD_MS)
        words = self._read_words(3, "SCD4x measurement")
        if self._ticks_ms is not None:
            self._read_at = self._ticks_ms()
        if not 0 < words[0] <= _CO2_MAX_PPM:
            raise SensorError("SCD4x at 0x%02x: CO2 %d ppm outside 1..40000" % (self.address, words[0]))
        return words

    def measure(self):
        """Returns {'co2_ppm': ppm, 'scd4x_temp_c': degC, 'scd4x_rh_pct': %RH} (the part's
        own, self-heated T and RH): a dict the driver keeps and updates on every call."""
        words = self._read_raw()
        reading = self._reading
        reading["co2_ppm"] = words[0]
        reading["scd4x_temp_c"] = -45 + 175 * words[1] / 65535
        reading["scd4x_rh_pct"] = 100 * words[2] / 65535
        return reading

    def stop(self):
        """Stops periodic measurement (takes 500 ms) so other commands are accepted."""
        self._write_command(_CMD_STOP_PERIODIC)
        self._sleep_ms(_STOP_MS)
