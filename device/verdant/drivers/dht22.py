"""Aosong DHT22 / AM2302 air temperature and humidity sensor, through the port's
`dht` module (which does the timing-critical single-wire read in C).

The module is injected (the sim passes a look-alike); on a board it defaults to
`import dht`. The part needs 2 s between reads, so a retry waits 2 s. The port's
module reports a bad checksum as a bare Exception("checksum error"); the driver
turns it into CRCError.

Usage:
    import machine
    from verdant.drivers.dht22 import DHT22
    sensor = DHT22(machine.Pin(15))
    sensor.measure()    # {'air_temp_c': 21.3, 'rh_pct': 55.1}
"""
try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

from verdant.drivers.base import CRCError, SensorError, default_sleep_ms
from verdant.quantities import BY_DRIVER

_MIN_INTERVAL_MS = const(2000)


class DHT22:
    QUANTITIES = BY_DRIVER["dht22"]

    def __init__(self, pin, dht_module=None, retries=1, sleep_ms=None):
        if dht_module is None:
            import dht as dht_module
        self._sleep_ms = sleep_ms or default_sleep_ms
        self._retries = retries
        self.address = pin
        self._sensor = dht_module.DHT22(pin)
        try:  # the part has no ID: one good read proves it is there
            self._read()
        except (OSError, SensorError) as exc:
            raise OSError("DHT22 on pin %s: no valid answer (%s)" % (_pin_name(pin), exc))

    def _read(self):
        for attempt in range(self._retries + 1):
            last = attempt == self._retries
            try:
                self._sensor.measure()
                return
            except OSError:
                if last:
                    raise
            except Exception as exc:  # noqa: BLE001 - the port module's checksum error is a bare Exception
                if "checksum" not in str(exc):
                    raise
                if last:
                    raise CRCError("DHT22 on pin %s: checksum error" % _pin_name(self.address))
            self._sleep_ms(_MIN_INTERVAL_MS)

    def measure(self):
        """Returns {'air_temp_c': degC, 'rh_pct': %RH} (0.1 resolution)."""
        self._read()
        temp_c = self._sensor.temperature()
        rh = self._sensor.humidity()
        if not -40 <= temp_c <= 80 or not 0 <= rh <= 100:
            raise SensorError("DHT22 on pin %s: %.1f C / %.1f %%RH outside -40..80 C, 0..100 %%" % (
                _pin_name(self.address), temp_c, rh))
        return {"air_temp_c": temp_c, "rh_pct": rh}


def _pin_name(pin):
    return getattr(pin, "number", pin)
