"""Simulated 1-Wire bus (the port's onewire.OneWire API) and DS18B20 thermometers.

The bus routes bytes to devices the way the wire does: a reset, a ROM command
(match 0x55 + 8 bytes, skip 0xCC, read 0x33), then a function command. scan()
returns the ROMs of the present devices directly instead of running the bitwise
search algorithm (the driver only consumes its result).
"""
from verdant.drivers.base import crc8_dallas
from verdant.sim.part import SimPart, remember


class SimOneWire:
    """onewire.OneWire look-alike: reset, readbit, readbyte, readinto, writebyte, write, select_rom, scan."""

    def __init__(self):
        self.devices = []
        self.log = []  # last transfers: ('reset',) / ('w', bytes) / ('r', bytes) in bus order

    def attach(self, device):
        self.devices.append(device)

    def _present(self):
        return [d for d in self.devices if not d.nack]

    def reset(self, required=False):
        if self.log is not None:
            remember(self.log, ("reset",))
        present = False
        for d in self.devices:
            if not d.nack:
                d.bus_reset()
                present = True
        if required and not present:
            raise OSError("OneWire: no presence pulse")
        return present

    def write(self, buf):
        if self.log is not None:
            remember(self.log, ("w", bytes(buf)))
        for b in buf:
            for d in self.devices:
                if not d.nack:
                    d.receive(b)

    def writebyte(self, value):
        self.write(bytes((value,)))

    def readinto(self, buf):
        for i in range(len(buf)):
            value = 0xFF  # the pull-up: nobody driving the wire reads as ones
            for d in self.devices:
                if not d.nack:
                    value &= d.send()
            buf[i] = value
        if self.log is not None:
            remember(self.log, ("r", bytes(buf)))

    def readbyte(self):
        buf = bytearray(1)
        self.readinto(buf)
        return buf[0]

    def readbit(self):
        bit = 1
        for d in self.devices:
            if not d.nack:
                bit &= d.send_bit()
        return bit

    def select_rom(self, rom):
        self.reset()
        self.write(b"\x55" + bytes(rom))

    def scan(self):
        return [bytearray(d.rom) for d in self._present()]

    def crc8(self, data):
        return crc8_dallas(data)


def make_rom(family, serial):
    body = bytes((family,)) + bytes((serial >> (8 * i)) & 0xFF for i in range(6))
    return body + bytes((crc8_dallas(body),))


class SimDS18B20(SimPart):
    """DS18B20: scratchpad, resolution 9..12 bits, conversion 93.75..750 ms, 85 C power-on value."""

    TRUTH = {"temperature_c": "soil_temp_c"}
    NOISE = {"temperature_c": 0.03}
    CONVERT_MS = {0: 94, 1: 188, 2: 375, 3: 750}

    def __init__(self, clock, temperature_c=15.0, serial=0x0000075AC3F1):
        super().__init__(clock)
        self.temperature_c = temperature_c
        self.rom = make_rom(0x28, serial)
        self.power_cycle()

    def power_cycle(self):
        """Power lost and back (brown-out): scratchpad back to its 85 C reset value."""
        # temp lsb/msb = 85 C, TH, TL, config (12 bit), reserved FF, 0C, 10
        self.scratch = bytearray(b"\x50\x05\x4b\x46\x7f\xff\x0c\x10")
        self._stage = "idle"
        self._rx = bytearray(8)  # bytes received in this stage (match ROM: 8, write scratchpad: 3)
        self._rx_len = 0
        self._tx = bytearray(9)  # what the part sends next: a ROM (8) or the scratchpad + CRC (9)
        self._tx_len = self._tx_pos = 0
        self._ready = self.ticks_ms()
        self._pending = None

    def bus_reset(self):
        self._stage = "rom"
        self._rx_len = self._tx_len = self._tx_pos = 0

    def _send_bytes(self, data):
        self._tx[:len(data)] = data
        self._tx_len, self._tx_pos = len(data), 0

    def receive(self, byte):
        stage = self._stage
        if stage == "rom":
            if byte == 0x55:
                self._stage, self._rx_len = "match", 0
            elif byte == 0xCC:
                self._stage = "function"
            elif byte == 0x33:
                self._stage = "idle"
                self._send_bytes(self.rom)
            else:
                self._stage = "idle"
        elif stage == "match":
            self._rx[self._rx_len] = byte
            self._rx_len += 1
            if self._rx_len == 8:
                self._stage = "function" if self._rx == self.rom else "idle"
        elif stage == "function":
            self._function(byte)
        elif stage == "write_scratch":
            self._rx[self._rx_len] = byte
            self._rx_len += 1
            if self._rx_len == 3:
                self.scratch[2:5] = self._rx[:3]
                self._stage = "idle"

    def _function(self, byte):
        self._stage = "idle"
        if byte == 0x44:
            self._start_conversion()
        elif byte == 0xBE:
            self._latch()
            self._send_bytes(self.scratch)
            self._tx[8] = self.checksum(crc8_dallas(self.scratch))
            self._tx_len = 9
        elif byte == 0x4E:
            self._stage, self._rx_len = "write_scratch", 0

    def _start_conversion(self):
        bits = (self.scratch[4] >> 5) & 3
        if self.out_of_range:
            raw = 0x07FF  # 127.94 C: beyond the 125 C maximum
        else:
            self.refresh()
            temp = self.sensed("temperature_c")
            last = self._codes.get("temperature_c")  # reused while the temperature is the same
            if last is None or last[0] != temp or last[1] != bits:
                raw = int(temp * 16 + (0.5 if temp >= 0 else -0.5))
                raw &= ~((1 << (3 - bits)) - 1)  # undefined low bits read 0 at lower resolution
                last = self._codes["temperature_c"] = (temp, bits, raw)
            raw = last[2]
        self._pending = raw & 0xFFFF
        self._ready = self.deadline(self.CONVERT_MS[bits])

    def _latch(self):
        if self._pending is not None and self.reached(self._ready):
            self.scratch[0], self.scratch[1] = self._pending & 0xFF, self._pending >> 8
            self._pending = None

    def send(self):
        if self._tx_pos < self._tx_len:
            self._tx_pos += 1
            return self._tx[self._tx_pos - 1]
        return 0xFF

    def send_bit(self):
        return 1 if self.reached(self._ready) else 0  # 0 while converting
