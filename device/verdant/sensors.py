"""The fitted sensors of a board config (verdant.board checks the config): Sensor objects the
sampler polls with measure(), built by build_sensors(config, hal). Apart from verdant.board so
the config checks leave the heap once the app runs (verdant.startup.BOOT_ONLY_MODULES).

The drivers wait for their conversions through one verdant.convwait.ConversionWait per board
(light sleep where the board config allows it), made with the first driver.

Runs on the board (MicroPython) and on the host (CPython) alike.
"""
from verdant.quantities import of_sensor

# driver name -> (module, class, bus kind, I2C addresses it can have,
#                 options: name -> (required, lowest, highest) for the driver's keyword arguments)
DRIVERS = {
    "sht3x": ("sht3x", "SHT3x", "i2c", (0x44, 0x45), {}),
    "sht4x": ("sht4x", "SHT4x", "i2c", (0x44, 0x45, 0x46), {}),
    "aht20": ("aht20", "AHT20", "i2c", (0x38,), {}),
    "bme280": ("bme280", "BME280", "i2c", (0x76, 0x77), {}),
    "bh1750": ("bh1750", "BH1750", "i2c", (0x23, 0x5C), {"mtreg": (False, 31, 254)}),
    "scd4x": ("scd4x", "SCD4x", "i2c", (0x62,), {}),
    "dht22": ("dht22", "DHT22", "dht", (), {}),
    "ds18b20": ("ds18b20", "DS18B20", "onewire", (), {"resolution": (False, 9, 12)}),
    "soil_moisture": ("soil_moisture", "CapacitiveSoilMoisture", "adc", (),
                      {"dry": (True, 0, 65535), "wet": (True, 0, 65535), "samples": (False, 1, 64)}),
}


def _rom_bytes(rom):
    return bytes(int(rom[i:i + 2], 16) for i in range(0, 16, 2))


class Sensor:
    """One fitted sensor: what the sampler polls.

    name, driver (driver name), quantities (tuple of reading keys), period_s, and
    measure() -> dict of those quantities. The driver object (.device) is built
    on first use and rebuilt after a failed construction, so a sensor missing at
    boot reads as failed (OSError) and recovers when it is plugged in.
    """

    def __init__(self, name, driver, quantities, period_s, factory):
        self.name = name
        self.driver = driver
        self.quantities = tuple(quantities)
        self.period_s = period_s
        self.device = None
        self._all = False  # the sensor uses every quantity its driver measures
        self._factory = factory

    def measure(self):
        """Returns {quantity: value} for this sensor's quantities; raises OSError/SensorError."""
        if self.device is None:
            self.device = self._factory()
            self._all = tuple(getattr(self.device, "QUANTITIES", ())) == self.quantities
        reading = self.device.measure()
        if self._all:
            return reading  # the driver's own dict: no copy per read
        return {q: reading[q] for q in self.quantities}

    def __repr__(self):
        return "<Sensor %s %s %s every %ss>" % (self.name, self.driver, ",".join(self.quantities), self.period_s)


def build_sensors(config, hal):
    """Sensor objects for config['sensors'], their buses taken from the hal.

    The hal provides i2c(id), adc(pin), onewire(pin), pin(n), dht_module, clock.sleep_ms
    and clock.ticks_ms, and lightsleep(ms) and watchdog where it has them; the drivers wait
    through one ConversionWait (on the simulated clock the waits pass at once), made with the
    first driver and kept on the hal: its module is not in the heap at the boot's peak (the
    model load), where the sim board has a few hundred bytes to spare.
    """
    return [Sensor(s["name"], s["driver"], of_sensor(s), s["period_s"],
                   _factory(config, s, hal)) for s in config["sensors"]]


def _wait(config, hal):
    wait = getattr(hal, "conversion_wait", None)
    if wait is None:
        from verdant.convwait import ConversionWait
        wait = hal.conversion_wait = ConversionWait(config, hal).wait
    return wait


def _factory(config, spec, hal):
    module, cls, kind, addresses, options = DRIVERS[spec["driver"]]

    def make():
        driver_class = getattr(__import__("verdant.drivers." + module, None, None, (cls,)), cls)
        kwargs = dict(spec.get("options", {}))
        if kind != "adc":
            kwargs["sleep_ms"] = _wait(config, hal)
        if getattr(driver_class, "WANTS_TICKS", False):
            kwargs["ticks_ms"] = hal.clock.ticks_ms
        if kind == "i2c":
            return driver_class(hal.i2c(int(spec["bus"][3:])), address=spec["address"], **kwargs)
        if kind == "adc":
            return driver_class(hal.adc(spec["pin"]), **kwargs)
        if kind == "onewire":
            rom = spec.get("address")
            if rom is not None:
                rom = _rom_bytes(rom)
            return driver_class(hal.onewire(config["onewire_pin"]), address=rom, **kwargs)
        return driver_class(hal.pin(config["dht_pin"]), dht_module=hal.dht_module, **kwargs)

    return make
