"""Maxim DS18B20 1-Wire thermometer (soil temperature probe).

Takes a OneWire bus object with the port's onewire.OneWire API (reset, write,
readinto, readbit, scan) and the 8-byte ROM code as its address; with one
DS18B20 on the bus the address can be left out and is found by scan().
Every ROM and scratchpad is checked with the Dallas CRC-8.

Usage:
    import onewire, machine
    from verdant.drivers.ds18b20 import DS18B20
    probe = DS18B20(onewire.OneWire(machine.Pin(22)))
    probe.measure()     # {'soil_temp_c': 14.5625}
"""
try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

from verdant.drivers.base import CRCError, SensorError, crc8_dallas, default_sleep_ms
from verdant.quantities import BY_DRIVER

_FAMILY_DS18B20 = const(0x28)
_CMD_MATCH_ROM = const(0x55)
_CMD_CONVERT_T = const(0x44)
_CMD_READ_SCRATCH = const(0xBE)
_CMD_WRITE_SCRATCH = const(0x4E)
_POWER_ON_RAW = const(0x0550)  # 85.0 C: the reset value, seen when no conversion ran
_CONVERT_MS = (94, 188, 375, 750)  # by resolution 9..12 bits (datasheet max)
_POLL_MS = const(10)
_POLL_ATTEMPTS = const(10)


def rom_hex(rom):
    return "".join("%02x" % b for b in rom)


class DS18B20:
    QUANTITIES = BY_DRIVER["ds18b20"]

    def __init__(self, bus, address=None, resolution=12, sleep_ms=None):
        if resolution not in (9, 10, 11, 12):
            raise ValueError("DS18B20 resolution must be 9..12 bits, got %r" % (resolution,))
        self._bus = bus
        self._sleep_ms = sleep_ms or default_sleep_ms
        self.resolution = resolution
        if address is None:
            found = [rom for rom in bus.scan() if rom[0] == _FAMILY_DS18B20]
            if len(found) != 1:
                raise OSError("DS18B20: %d found on the 1-Wire bus; give address= (ROM code)" % len(found))
            address = found[0]
        address = bytes(address)
        if len(address) != 8 or crc8_dallas(address, 0, 7) != address[7] or address[0] != _FAMILY_DS18B20:
            raise OSError("DS18B20: address %s is not a valid DS18B20 ROM code" % rom_hex(address))
        self.address = address
        self._select = bytearray(b"\x55" + address + b"\x00")  # match ROM + function byte
        self._scratch = bytearray(9)
        self._reading = {"soil_temp_c": None}  # measure()'s dict, kept
        config = ((resolution - 9) << 5) | 0x1F
        self._command(_CMD_WRITE_SCRATCH, bytes((0x4B, 0x46, config)))  # TH, TL: unused alarms

    def _command(self, function, extra=None):
        if not self._bus.reset():
            raise OSError("DS18B20 %s: no presence pulse (disconnected?)" % rom_hex(self.address))
        self._select[9] = function
        self._bus.write(self._select)
        if extra:
            self._bus.write(extra)

    def read_raw(self):
        """Runs one conversion and returns the signed raw count (1/16 degC)."""
        self._command(_CMD_CONVERT_T)
        self._sleep_ms(_CONVERT_MS[self.resolution - 9])
        for attempt in range(_POLL_ATTEMPTS):
            if self._bus.readbit():  # reads 1 once the conversion is done
                break
            self._sleep_ms(_POLL_MS)
        else:
            raise SensorError("DS18B20 %s: conversion not done" % rom_hex(self.address))
        self._command(_CMD_READ_SCRATCH)
        buf = self._scratch
        self._bus.readinto(buf)
        if buf[4] == 0xFF and buf[8] == 0xFF:
            raise OSError("DS18B20 %s: read all ones (disconnected?)" % rom_hex(self.address))
        crc = crc8_dallas(buf, 0, 8)
        if crc != buf[8]:
            raise CRCError("DS18B20 %s: scratchpad CRC 0x%02x, expected 0x%02x" % (rom_hex(self.address), buf[8], crc))
        raw = buf[0] | (buf[1] << 8)
        return raw - 0x10000 if raw & 0x8000 else raw

    def measure(self):
        """Returns {'soil_temp_c': degC}: a dict the driver keeps and updates on every call."""
        raw = self.read_raw()
        if raw == _POWER_ON_RAW:
            raise SensorError("DS18B20 %s: 85.0 C power-on value, conversion did not run" % rom_hex(self.address))
        temp_c = raw / 16
        if not -55 <= temp_c <= 125:
            raise SensorError("DS18B20 %s: %.2f C outside -55..125" % (rom_hex(self.address), temp_c))
        self._reading["soil_temp_c"] = temp_c
        return self._reading
