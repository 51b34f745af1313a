"""Simulated sensor parts for the Unix port, answering at the byte level, and the
`sim` board's HAL built from a board config.

    from verdant.board import load_board, build_sensors
    from verdant.hal.sim import SimClock
    from verdant.sim import make_sim_hal
    config = load_board("boards/sim.json")
    clock = SimClock(start_s=1_700_000_000)
    hal = make_sim_hal(config, clock, truth=lambda t: {"air_temp_c": 21.0, "rh_pct": 60.0})
    sensors = build_sensors(config, hal)
    hal.parts["air"].nack = True        # inject a fault into the part behind sensor "air"
"""
from verdant.hal.sim import SimClock, SimI2C, SimSerial, SimWatchdog
from verdant.sim.dht_adc import SimADC, SimDHTModule, SimPin

# 2026-01-01 00:00 UTC: day 1 of the simulated year (host greenhouse simulator) and the
# virtual board's clock when nothing else sets it.
SIM_START_S = 1767225600

# driver -> (module under verdant.sim, class); imported only for the parts a board has
_PARTS = {"sht3x": ("sensirion", "SimSHT3x"), "sht4x": ("sensirion", "SimSHT4x"), "scd4x": ("sensirion", "SimSCD4x"),
          "aht20": ("aosong_rohm", "SimAHT20"), "bh1750": ("aosong_rohm", "SimBH1750"),
          "bme280": ("bme280", "SimBME280"), "soil_moisture": ("dht_adc", "SimSoilProbe"),
          "ds18b20": ("onewire", "SimDS18B20"), "dht22": ("dht_adc", "SimDHT22Part")}


def _part_class(driver):
    if driver not in _PARTS:
        raise ValueError("sim board cannot simulate driver %r" % (driver,))
    module, name = _PARTS[driver]
    return getattr(__import__("verdant.sim." + module, None, None, (name,)), name)


def truth_reader(truth, clock):
    """A no-argument callable giving the environment dict now, or None without a truth.

    truth may be: None; a dict (constant environment); a callable truth(t_s) -> dict;
    or an object with .at(t_s) -> dict. t_s is the simulated clock's epoch seconds.
    Keys are the replay CSV columns; a missing or None value leaves the part's
    last value unchanged.
    """
    if truth is None:
        return None
    if isinstance(truth, dict):
        return lambda: truth
    if hasattr(truth, "at"):
        return _once_per_second(truth.at, clock)
    if callable(truth):
        return _once_per_second(truth, clock)
    raise TypeError("truth must be a dict, a callable truth(t_s) or an object with .at(t_s), got %r" % (truth,))


def _once_per_second(at, clock):
    """at(t_s), asked once per board second: the parts converting in the same second
    share one environment dict (a truth read allocates a row and a dict)."""
    last = [None, None]  # board second, environment

    def read():
        t = clock.time_s()
        if t != last[0]:
            last[1] = at(t)
            last[0] = t
        return last[1]
    return read


class SimHAL:
    """The `sim` board: the HAL attributes plus .parts (sensor name -> simulated part)."""

    def __init__(self, config, clock):
        self.config = config
        self.clock = clock
        self.serial = SimSerial()
        self.watchdog = SimWatchdog(clock, config["watchdog_timeout_ms"])
        self.dht_module = SimDHTModule
        self.parts = {}
        self._i2c = {bus["id"]: SimI2C() for bus in config["i2c"]}
        self._adc = {pin: SimADC() for pin in config["adc_pins"]}
        self._onewire = None
        if config["onewire_pin"] is not None:
            from verdant.sim.onewire import SimOneWire
            self._onewire = SimOneWire()
        self._dht_pin = SimPin(config["dht_pin"]) if config["dht_pin"] is not None else None

    def i2c(self, bus_id):
        try:
            return self._i2c[bus_id]
        except KeyError:
            raise ValueError("sim board has no I2C bus %r" % (bus_id,))

    def adc(self, pin):
        try:
            return self._adc[pin]
        except KeyError:
            raise ValueError("sim board has no ADC on pin %r" % (pin,))

    def onewire(self, pin):
        if self._onewire is None or pin != self.config["onewire_pin"]:
            raise ValueError("sim board has no 1-Wire bus on pin %r" % (pin,))
        return self._onewire

    def pin(self, number):
        if self._dht_pin is not None and number == self._dht_pin.number:
            return self._dht_pin
        return SimPin(number)

    def lightsleep(self, ms):
        self.clock.sleep_ms(ms)

    def deepsleep(self, ms):
        raise OSError("sim board does not deep-sleep (sleep_mode must be none or light)")


def make_sim_hal(config, clock=None, truth=None, faults=None, noise=False, log_traffic=True):
    """Builds the HAL of a board config with a simulated part behind every fitted sensor.

    config: a validated board config (verdant.board.load_board); clock: a SimClock
    (a new one at t=0 when None); truth: the physical environment, see truth_reader();
    faults: sensor faults scheduled in simulated time, see verdant.sim.faults;
    noise: True adds each part's typical (datasheet repeatability) noise, deterministic;
    log_traffic: False keeps no bus/command logs (they are for tests; a running board
    keeps its heap).
    """
    clock = clock or SimClock()
    hal = SimHAL(config, clock)
    feed = truth_reader(truth, clock)
    for spec in config["sensors"]:
        part = _attach(hal, config, spec, clock)
        part.feed = feed
        if not log_traffic:
            part.commands = None
        if noise:
            part.set_noise(seed=len(hal.parts) + 1)
        hal.parts[spec["name"]] = part
    if not log_traffic and hal._onewire is not None:
        hal._onewire.log = None
    if faults:
        from verdant.sim.faults import attach_faults
        attach_faults(hal, faults)
    return hal


def _attach(hal, config, spec, clock):
    driver = spec["driver"]
    cls = _part_class(driver)
    if driver == "soil_moisture":
        opts = spec["options"]
        part = cls(clock, dry_raw=opts["dry"], wet_raw=opts["wet"])
        hal.adc(spec["pin"]).probe = part
    elif driver == "ds18b20":
        rom = spec.get("address")  # hex, bus order: family, 6 serial bytes LSB first, CRC
        serial = _serial_from_rom_hex(rom) if rom else 0x0000075AC3F1 + len(hal.parts)
        part = cls(clock, serial=serial)
        hal.onewire(config["onewire_pin"]).attach(part)
    elif driver == "dht22":
        part = cls(clock)
        hal.pin(config["dht_pin"]).part = part
    else:
        part = cls(clock)
        hal.i2c(int(spec["bus"][3:])).attach(spec["address"], part)
    return part


def _serial_from_rom_hex(rom):
    """The 48-bit serial number inside a ROM code written as 16 hex digits in bus order."""
    out = 0
    for i in range(6):
        out |= int(rom[2 + 2 * i:4 + 2 * i], 16) << (8 * i)
    return out
