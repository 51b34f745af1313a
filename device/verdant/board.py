"""Board configuration: load and validate boards/<name>.json (the fitted sensors: verdant.sensors).

A board config is data only (see docs/boards.md for every key). load_board()
checks every key and raises BoardConfigError naming the file and the key:
    boards/pico.json: sensors[1].address: expected int 0x08..0x77, got '0x44'
verdant.sensors.build_sensors(config, hal) turns the `sensors` list into Sensor objects
that the sampler polls with measure().

Runs on the board (MicroPython) and on the host (CPython) alike.
"""
import json

from verdant.drivers.base import crc8_dallas
from verdant.quantities import of_driver
from verdant.settings import LOCATION_RANGES, location_problem
# the fitted sensors live in verdant.sensors (kept while the app runs; this module is dropped
# after the start, verdant.startup.BOOT_ONLY_MODULES); names kept here for callers of old
from verdant.sensors import DRIVERS, Sensor, _rom_bytes, build_sensors  # noqa: F401

PORT_ARCHES = {
    "esp32": ("xtensawin", "rv32imc"),
    "rp2": ("armv6m", "armv7emsp"),
    "unix": ("x64", "x86", "armv7m"),
}
PORT_SLEEP_MODES = {"esp32": ("none", "light", "deep"), "rp2": ("none", "light"), "unix": ("none",)}
# Longest watchdog timeout each port accepts (rp2: 24-bit counter at 1 MHz / 2 = 8388 ms).
PORT_MAX_WATCHDOG_MS = {"esp32": 3600000, "rp2": 8388, "unix": 3600000}

_TOP_KEYS = ("name", "description", "port", "arch", "micropython", "heap_bytes", "model_limits", "i2c", "adc_pins",
             "onewire_pin", "dht_pin", "sensors", "watchdog_timeout_ms", "sleep_mode", "latitude_deg", "longitude_deg")
_OPTIONAL_TOP = ("description", "heap_bytes", "latitude_deg", "longitude_deg")
_SENSOR_KEYS = ("name", "driver", "bus", "address", "pin", "period_s", "quantities", "options")


class BoardConfigError(ValueError):
    """A board config is missing a key or has a bad value; the message names both."""


class _Checker:
    def __init__(self, source):
        self.source = source

    def fail(self, key, message):
        raise BoardConfigError("%s: %s: %s" % (self.source, key, message))

    def int_in(self, key, value, low, high, hexa=False):
        if not _is_int(value) or not low <= value <= high:
            shown = ("0x%02x..0x%02x" % (low, high)) if hexa else ("%d..%d" % (low, high))
            self.fail(key, "expected int %s, got %r" % (shown, value))
        return value

    def text(self, key, value):
        if not isinstance(value, str) or not value:
            self.fail(key, "expected a non-empty string, got %r" % (value,))
        return value

    def one_of(self, key, value, choices):
        if value not in choices:
            self.fail(key, "expected one of %s, got %r" % (", ".join(choices), value))
        return value

    def mapping(self, key, value, allowed, required):
        if not isinstance(value, dict):
            self.fail(key, "expected an object, got %r" % (value,))
        for k in value:
            if k not in allowed:
                self.fail(key, "unknown key %r (allowed: %s)" % (k, ", ".join(allowed)))
        for k in required:
            if k not in value:
                self.fail(key, "missing key %r" % k)
        return value

    def array(self, key, value):
        if not isinstance(value, list):
            self.fail(key, "expected a list, got %r" % (value,))
        return value


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def load_board(config, source=None):
    """Validates a board config (dict, or path to a JSON file) and returns it as a dict.

    Raises BoardConfigError naming the file (or `source`) and the offending key.
    """
    if isinstance(config, str):
        source = source or config
        try:
            with open(config) as f:
                config = json.load(f)
        except OSError as exc:
            raise BoardConfigError("%s: cannot read: %s" % (source, exc))
        except ValueError as exc:
            raise BoardConfigError("%s: not valid JSON: %s" % (source, exc))
    c = _Checker(source or "board config")
    required = [k for k in _TOP_KEYS if k not in _OPTIONAL_TOP]
    c.mapping("(top level)", config, _TOP_KEYS, required)
    c.text("name", config["name"])
    if "description" in config:
        c.text("description", config["description"])
    port = c.one_of("port", config["port"], tuple(PORT_ARCHES))
    c.one_of("arch", config["arch"], PORT_ARCHES[port])
    c.text("micropython", config["micropython"])
    if "heap_bytes" in config:  # the heap the firmware may use on this board (its budget)
        c.int_in("heap_bytes", config["heap_bytes"], 32768, 1 << 30)
    limits = c.mapping("model_limits", config["model_limits"], ("flash_bytes", "ram_bytes"),
                       ("flash_bytes", "ram_bytes"))
    for k in ("flash_bytes", "ram_bytes"):
        c.int_in("model_limits." + k, limits[k], 1024, 1 << 30)
    c.int_in("watchdog_timeout_ms", config["watchdog_timeout_ms"], 1000, PORT_MAX_WATCHDOG_MS[port])
    c.one_of("sleep_mode", config["sleep_mode"], PORT_SLEEP_MODES[port])
    for key in LOCATION_RANGES:  # the site's place: sun gates (verdant.settings)
        if key in config and location_problem(key, config[key]):
            c.fail(key, location_problem(key, config[key]))
    if ("latitude_deg" in config) != ("longitude_deg" in config):
        c.fail("latitude_deg" if "latitude_deg" not in config else "longitude_deg",
               "missing: latitude_deg and longitude_deg go together")
    pins = {}  # pin -> key that uses it, to catch a pin wired twice

    def claim(key, pin):
        c.int_in(key, pin, 0, 255)
        if pin in pins:
            c.fail(key, "pin %d already used by %s" % (pin, pins[pin]))
        pins[pin] = key

    i2c_ids = []
    for i, bus in enumerate(c.array("i2c", config["i2c"])):
        key = "i2c[%d]" % i
        c.mapping(key, bus, ("id", "sda", "scl", "freq"), ("id", "sda", "scl", "freq"))
        c.int_in(key + ".id", bus["id"], 0, 7)
        if bus["id"] in i2c_ids:
            c.fail(key + ".id", "I2C bus %d declared twice" % bus["id"])
        i2c_ids.append(bus["id"])
        claim(key + ".sda", bus["sda"])
        claim(key + ".scl", bus["scl"])
        c.int_in(key + ".freq", bus["freq"], 10000, 1000000)
    adc_pins = c.array("adc_pins", config["adc_pins"])
    for i, pin in enumerate(adc_pins):
        claim("adc_pins[%d]" % i, pin)
    for key in ("onewire_pin", "dht_pin"):
        if config[key] is not None:
            claim(key, config[key])
    _check_sensors(c, config, i2c_ids, adc_pins)
    return config


def _check_sensors(c, config, i2c_ids, adc_pins):
    names = []
    used = {}  # (bus, address or pin) -> sensor key
    for i, s in enumerate(c.array("sensors", config["sensors"])):
        key = "sensors[%d]" % i
        c.mapping(key, s, _SENSOR_KEYS, ("name", "driver", "bus", "period_s"))
        name = c.text(key + ".name", s["name"])
        if name in names:
            c.fail(key + ".name", "sensor name %r used twice" % name)
        names.append(name)
        driver = c.one_of(key + ".driver", s["driver"], tuple(sorted(DRIVERS)))
        module, cls, kind, addresses, options = DRIVERS[driver]
        bus = s["bus"]
        if kind == "i2c":
            wanted = tuple("i2c%d" % n for n in i2c_ids)
            if not wanted:
                c.fail(key + ".bus", "driver %s needs an I2C bus but the board declares none" % driver)
            c.one_of(key + ".bus", bus, wanted)
            if "address" not in s:
                c.fail(key, "missing key 'address'")
            address = c.int_in(key + ".address", s["address"], 0x08, 0x77, hexa=True)
            if address not in addresses:
                c.fail(key + ".address", "%s answers at %s, got 0x%02x" % (
                    driver, " or ".join("0x%02x" % a for a in addresses), address))
            spot = (bus, address)
        else:
            c.one_of(key + ".bus", bus, (kind,))
            spot = (bus, s.get("address"), s.get("pin"))
        if kind == "adc":
            if "pin" not in s:
                c.fail(key, "missing key 'pin'")
            if s["pin"] not in adc_pins:
                c.fail(key + ".pin", "expected one of adc_pins %r, got %r" % (adc_pins, s["pin"]))
        elif "pin" in s:
            c.fail(key + ".pin", "only ADC sensors take a pin (%s uses %s_pin)" % (driver, kind))
        if kind in ("onewire", "dht") and config[kind + "_pin"] is None:
            c.fail(key + ".bus", "driver %s needs %s_pin, which is null" % (driver, kind))
        if kind == "onewire" and "address" in s:
            rom = s["address"]
            if not isinstance(rom, str) or len(rom) != 16 or not _is_hex(rom) or rom[:2] != "28":
                c.fail(key + ".address", "expected a DS18B20 ROM as 16 hex digits starting 28, got %r" % (rom,))
            rom_bytes = _rom_bytes(rom)
            if crc8_dallas(rom_bytes, 0, 7) != rom_bytes[7]:
                c.fail(key + ".address", "ROM %s has a bad CRC byte (expected %02x)" % (rom, crc8_dallas(rom_bytes, 0, 7)))
        elif kind in ("dht", "adc") and "address" in s:
            c.fail(key + ".address", "%s sensors have no address" % kind)
        if spot in used:
            c.fail(key, "same %s as %s" % ("address" if kind == "i2c" else "connection", used[spot]))
        used[spot] = key
        period = s["period_s"]
        if not (_is_int(period) or isinstance(period, float)) or not 1 <= period <= 86400:
            c.fail(key + ".period_s", "expected a number of seconds 1..86400, got %r" % (period,))
        if "quantities" in s:
            quantities = c.array(key + ".quantities", s["quantities"])
            if not quantities:
                c.fail(key + ".quantities", "expected at least one quantity")
            for q in quantities:
                c.one_of(key + ".quantities", q, of_driver(driver))
        opts = s.get("options", {})
        required = [k for k in options if options[k][0]]
        c.mapping(key + ".options", opts, tuple(options), required)
        for k in opts:
            c.int_in("%s.options.%s" % (key, k), opts[k], options[k][1], options[k][2])
        if driver == "soil_moisture" and opts["dry"] == opts["wet"]:
            c.fail(key + ".options", "dry and wet calibration are both %d" % opts["dry"])


def _is_hex(text):
    for ch in text:
        if ch not in "0123456789abcdefABCDEF":
            return False
    return True
