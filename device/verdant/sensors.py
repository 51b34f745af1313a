"""The fitted sensors of a board config (verdant.board checks the config): Sensor objects the
sampler polls with measure(), built by build_sensors(config, hal). Apart from verdant.board so
the config checks leave the heap once the app runs (verdant.startup.BOOT_ONLY_MODULES).

The drivers wait for their conversions through one ConversionWait per board: in light sleep
where the board config allows it (sleep_mode light/deep) and the wait is long enough to be
worth it, else a busy sleep; long waits in watchdog-sized pieces, the watchdog fed before each.

Runs on the board (MicroPython) and on the host (CPython) alike.
"""
from verdant.quantities import of_sensor

# A driver's wait this long or longer is spent in light sleep (when the board config allows
# it). Getting in and out of light sleep costs under a millisecond: ESP-IDF budgets 212-476 us
# of software and 60 us of hardware time to leave it on an ESP32 (esp_hw_support/sleep_modes.c,
# DEFAULT_SLEEP_OUT_OVERHEAD_US, DEFAULT_HARDWARE_OUT_OVERHEAD_US); MicroPython's rp2 lightsleep
# keeps the crystal running as clk_ref and on waking re-locks the system PLL and reconfigures
# the clocks (ports/rp2/modmachine.c, clocks_extra.c), and itself falls back to a plain delay at
# 1 ms or less. From 10 ms at most a tenth of a wait goes on getting in and out; shorter waits
# (the 1-2 ms command and poll waits, an SHT4x's 9 ms) stay busy.
LIGHT_WAIT_MIN_MS = 10

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


class ConversionWait:
    """The drivers' sleep_ms on a board: wait(ms) for a sensor's conversion.

    Waits shorter than LIGHT_WAIT_MIN_MS are busy sleeps (clock.sleep_ms). Longer ones go in
    pieces of at most 3/4 of the board's watchdog timeout (the app's sleeper rule: a quarter to
    spare for waking and feeding), the watchdog fed before each piece: a driver's bounded
    polling can add up to more than the timeout within one read (an SCD4x with no data: 4.7 s
    to its next result, then up to 6 s of ready polls), which the sampler's feed after each read
    does not cover. Each piece is hal.lightsleep when the board config's sleep_mode is light or
    deep (deep is light sleep in the firmware, see verdant.app) and the hal has one; else busy.
    A light sleep that ends early (on rp2 any interrupt ends it: the USB controller's, while a
    host has the port open) is followed by another for the rest, counted on ticks_ms, so a
    sensor is never read before its conversion time.

    The watchdog is looked up at each long wait, not here: MachineHAL starts it at its first use.
    ticks_ms wraps at 2^30 on every port (verdant.sleeper.ticks_diff)."""

    def __init__(self, config, hal):
        self._hal = hal
        self._busy = hal.clock.sleep_ms
        self._ticks_ms = hal.clock.ticks_ms
        light = getattr(hal, "lightsleep", None) if config.get("sleep_mode") in ("light", "deep") else None
        self._light = light or self._busy
        self.chunk_ms = max(LIGHT_WAIT_MIN_MS, config.get("watchdog_timeout_ms", 8000) * 3 // 4)

    def wait(self, ms):
        """Waits ms milliseconds (a driver's conversion time). Few locals: this frame stays
        off the heap on 32-bit ports (more than 11 words is a heap block per call)."""
        if ms < LIGHT_WAIT_MIN_MS:
            self._busy(ms)
            return
        start = self._ticks_ms()
        left = ms
        while left > 0:
            wdt = getattr(self._hal, "watchdog", None)  # (MachineHAL starts it at the first use)
            if wdt is not None:
                wdt.feed()
            self._light(left if left < self.chunk_ms else self.chunk_ms)
            left = ms - (((self._ticks_ms() - start + 0x20000000) & 0x3FFFFFFF) - 0x20000000)  # ticks_diff


def build_sensors(config, hal):
    """Sensor objects for config['sensors'], their buses taken from the hal.

    The hal provides i2c(id), adc(pin), onewire(pin), pin(n), dht_module, clock.sleep_ms
    and clock.ticks_ms, and lightsleep(ms) and watchdog where it has them; the drivers wait
    through one ConversionWait (on the simulated clock the waits pass at once).
    """
    waiter = ConversionWait(config, hal)
    return [Sensor(s["name"], s["driver"], of_sensor(s), s["period_s"],
                   _factory(config, s, hal, waiter)) for s in config["sensors"]]


def _factory(config, spec, hal, waiter):
    module, cls, kind, addresses, options = DRIVERS[spec["driver"]]

    def make():
        driver_class = getattr(__import__("verdant.drivers." + module, None, None, (cls,)), cls)
        kwargs = dict(spec.get("options", {}))
        if kind != "adc":
            kwargs["sleep_ms"] = waiter.wait
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
