# Device tests for the Unix-port HAL simulation (run inside micropython).
from mpytest import raises
from verdant.hal.sim import SimClock, SimDevice, SimI2C, SimSerial, SimWatchdog


class EchoRegisters(SimDevice):
    """A tiny register file: write [reg, data...] stores, write [reg] then read returns."""

    def __init__(self):
        self.regs = bytearray(16)
        self.pointer = 0

    def write(self, data):
        self.pointer = data[0]
        for i, b in enumerate(data[1:]):
            self.regs[self.pointer + i] = b

    def read(self, n):
        return bytes(self.regs[self.pointer:self.pointer + n])


def test_clock_sleep_advances_virtual_time():
    clock = SimClock(start_s=1000)
    clock.sleep_ms(2500)
    assert clock.time_s() == 1002
    assert clock.ticks_ms() == (1002500 & 0x3FFFFFFF)


def test_clock_rejects_negative_sleep():
    with raises(ValueError, "negative"):
        SimClock().sleep_ms(-1)


def test_i2c_register_roundtrip_and_scan():
    bus = SimI2C()
    bus.attach(0x44, EchoRegisters())
    bus.writeto_mem(0x44, 3, b"\x12\x34")
    assert bus.readfrom_mem(0x44, 3, 2) == b"\x12\x34"
    assert bus.scan() == [0x44]


def test_i2c_missing_or_nacking_device_raises_enodev():
    bus = SimI2C()
    dev = EchoRegisters()
    bus.attach(0x23, dev)
    with raises(OSError) as r:
        bus.readfrom(0x40, 1)
    assert r.value.errno == 19
    dev.nack = True
    with raises(OSError):
        bus.writeto(0x23, b"\x00")
    assert bus.scan() == []


def test_i2c_rejects_reserved_address():
    with raises(ValueError, "0x78"):
        SimI2C().attach(0x78, EchoRegisters())


def test_watchdog_expires_without_feed():
    clock = SimClock()
    wdt = SimWatchdog(clock, 5000)
    clock.sleep_ms(4000)
    wdt.feed()
    clock.sleep_ms(4000)
    assert not wdt.expired()
    clock.sleep_ms(2000)
    assert wdt.expired()
    assert wdt.feeds == 1


def test_serial_collects_lines():
    s = SimSerial()
    s.write(b'{"a":1}\n')
    s.write(b'{"b":2}\n')
    assert s.lines() == ['{"a":1}', '{"b":2}']


def test_sim_clock_firmware_seconds_follow_unix_seconds():
    from verdant.hal import FIRMWARE_EPOCH
    clock = SimClock(start_s=1767225600)
    for step_ms in (0, 999, 1, 86400 * 1000, 30 * 86400 * 1000 + 7):
        clock.sleep_ms(step_ms)
        assert clock.fw_time_s() == clock.time_s() - FIRMWARE_EPOCH
        assert clock.now_ms() // 1000 == clock.time_s()
    assert 0 < clock.fw_time_s() < (1 << 30)  # a small int on every port
    clock._now_ms = 1735689600 * 1000 - 500  # set back before the epoch (as the host setting the RTC)
    assert clock.time_s() == 1735689599 and clock.fw_time_s() == -1
