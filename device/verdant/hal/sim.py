"""Unix-port HAL: a virtual clock, I2C buses with byte-level simulated devices,
a watchdog that records feeds, and a serial port that collects bytes.

Example:
    clock = SimClock(start_s=1_700_000_000)
    bus = SimI2C()
    bus.attach(0x44, my_simulated_sht31)
    bus.writeto(0x44, b"\\x24\\x00")
"""
import errno

# machine.I2C raises OSError(ENODEV) when a device does not acknowledge (ESP32, Unix).
_NACK = errno.ENODEV
_TICKS_MASK = 0x3FFFFFFF  # ticks_ms() wraps at 2^30 as on every port
_FIRMWARE_EPOCH = 1735689600  # verdant.hal.FIRMWARE_EPOCH


class SimClock:
    """Virtual time: sleeping advances it instantly, so a day runs in milliseconds.

    Kept as small ints (seconds since start_s, milliseconds within the second, wrapping
    ticks), so sleeping allocates nothing on 32-bit ports, where epoch seconds and
    milliseconds are heap objects; time_s() and now_ms() build those only when asked."""

    def __init__(self, start_s=0):
        self._start_s = int(start_s)
        self._start_fw = self._start_s - _FIRMWARE_EPOCH
        self._s = 0
        self._ms = 0
        self._ticks = (self._start_s * 1000) & _TICKS_MASK

    def ticks_ms(self):
        return self._ticks

    def time_s(self):
        return self._start_s + self._s

    def fw_time_s(self):
        """Seconds since the firmware epoch (verdant.hal.FIRMWARE_EPOCH): a small int."""
        return self._start_fw + self._s

    def now_ms(self):
        """Virtual milliseconds since the epoch, never wrapping (simulated parts use it)."""
        return (self._start_s + self._s) * 1000 + self._ms

    @property
    def _now_ms(self):  # tests set the clock through it (the host setting the RTC)
        return self.now_ms()

    @_now_ms.setter
    def _now_ms(self, value):
        self._s, self._ms = divmod(int(value) - self._start_s * 1000, 1000)
        self._ticks = int(value) & _TICKS_MASK

    def sleep_ms(self, ms):
        if ms < 0:
            raise ValueError("sleep_ms: negative duration %d" % ms)
        ms = int(ms)
        self._ticks = (self._ticks + ms) & _TICKS_MASK
        ms += self._ms
        if ms < 1000:
            self._ms = ms
        else:
            self._s += ms // 1000
            self._ms = ms % 1000

    def advance_s(self, seconds):
        self.sleep_ms(int(seconds * 1000))


class SimDevice:
    """Base for simulated I2C parts. Subclasses implement write(data) and read(n).

    Set .nack = True to make the part stop acknowledging (disconnected / dead).
    """

    nack = False

    def write(self, data):
        raise NotImplementedError

    def read(self, n):
        raise NotImplementedError

    def read_into(self, buf):
        """Fills buf (what the bus's readfrom_into asks); parts with a kept reply override
        it to answer without allocating."""
        data = self.read(len(buf))
        for i in range(len(buf)):
            buf[i] = data[i]


class SimI2C:
    """An I2C bus with the machine.I2C API, routing bytes to simulated devices."""

    def __init__(self):
        self._devices = {}

    def attach(self, address, device):
        if not 0x08 <= address <= 0x77:
            raise ValueError("I2C address 0x%02x outside 0x08..0x77" % address)
        self._devices[address] = device

    def _device(self, address):
        device = self._devices.get(address)
        if device is None or device.nack:
            raise OSError(_NACK)
        return device

    def scan(self):
        return sorted(a for a, d in self._devices.items() if not d.nack)

    def writeto(self, address, buf, stop=True):
        self._device(address).write(buf)  # the caller's buffer: parts copy what they keep
        return len(buf)

    def readfrom_into(self, address, buf, stop=True):
        self._device(address).read_into(buf)

    def readfrom(self, address, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(address, buf)
        return bytes(buf)

    def writeto_mem(self, address, memaddr, buf, addrsize=8):
        self.writeto(address, _mem_address(memaddr, addrsize) + bytes(buf))

    def readfrom_mem_into(self, address, memaddr, buf, addrsize=8):
        self.writeto(address, _mem_address(memaddr, addrsize), False)
        self.readfrom_into(address, buf)

    def readfrom_mem(self, address, memaddr, nbytes, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(address, memaddr, buf, addrsize)
        return bytes(buf)


def _mem_address(memaddr, addrsize):
    if addrsize == 8:
        return bytes((memaddr & 0xFF,))
    if addrsize == 16:
        return bytes(((memaddr >> 8) & 0xFF, memaddr & 0xFF))
    raise ValueError("addrsize must be 8 or 16, got %d" % addrsize)


class SimWatchdog:
    """Records feeds; expired() tells whether the timeout passed since the last feed
    (counted on the clock's ticks_ms: small ints)."""

    def __init__(self, clock, timeout_ms):
        self._clock = clock
        self.timeout_ms = timeout_ms
        self.feeds = 0
        self._last = clock.ticks_ms()

    def feed(self):
        self.feeds += 1
        self._last = self._clock.ticks_ms()

    def expired(self):
        return (self._clock.ticks_ms() - self._last) & _TICKS_MASK > self.timeout_ms


class SimSerial:
    """Collects what the firmware writes to its serial port."""

    def __init__(self):
        self.data = bytearray()

    def write(self, buf):
        self.data.extend(buf)
        return len(buf)

    def lines(self):
        return bytes(self.data).decode().splitlines()
