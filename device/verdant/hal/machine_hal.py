"""HAL for real boards (esp32, rp2), built on an injected `machine` module.

Everything port-specific is created lazily from the board config, so importing
this module touches no hardware, and tests drive it with a fake `machine`.

    import machine
    from verdant.board import load_board
    from verdant.hal.machine_hal import MachineHAL
    hal = MachineHAL(load_board("board.json"), machine)
    bus = hal.i2c(0)            # machine.I2C(0, sda=Pin(4), scl=Pin(5), freq=100000), cached
    hal.watchdog.feed()         # machine.WDT started on first use with the board's timeout
"""
import sys
import time as _time

# Seconds from 1970-01-01 to 2000-01-01, for ports whose time.time() counts from 2000.
_EPOCH_2000 = 946684800
_FIRMWARE_EPOCH = 1735689600  # verdant.hal.FIRMWARE_EPOCH


class MachineClock:
    """time.ticks_ms / time.time / time.sleep_ms with Unix-epoch seconds on every port."""

    def __init__(self, time_module=None):
        self._time = time_module or _time
        self.epoch_offset = _EPOCH_2000 if self._time.gmtime(0)[0] == 2000 else 0

    def ticks_ms(self):
        return self._time.ticks_ms()

    def time_s(self):
        return int(self._time.time()) + self.epoch_offset

    def fw_time_s(self):
        """Seconds since the firmware epoch (verdant.hal.FIRMWARE_EPOCH, 2025-01-01): on
        ports counting from 2000, time.time() and this stay small ints."""
        return int(self._time.time()) - (_FIRMWARE_EPOCH - self.epoch_offset)

    def sleep_ms(self, ms):
        if ms < 0:
            raise ValueError("sleep_ms: negative duration %d" % ms)
        self._time.sleep_ms(ms)

    def port_time(self, epoch_s):
        """Port-epoch seconds for Unix-epoch seconds (for RTC settings)."""
        return epoch_s - self.epoch_offset


class StreamSerial:
    """The board's serial console (USB CDC or UART REPL): bytes to sys.stdout."""

    def __init__(self, stream=None):
        stream = stream or sys.stdout
        self._buffer = getattr(stream, "buffer", None)
        self._stream = stream

    def write(self, buf):
        if self._buffer is not None:
            return self._buffer.write(buf)
        return self._stream.write(bytes(buf).decode())


class MachineHAL:
    """HAL of a real board: i2c(id), adc(pin), onewire(pin), pin(n), dht_module,
    clock, watchdog, serial, lightsleep(ms), deepsleep(ms), reset(), set_time_s(t)."""

    def __init__(self, config, machine, time_module=None, onewire_module=None, dht_module=None, serial=None):
        self.config = config
        self._machine = machine
        self.clock = MachineClock(time_module)
        self.serial = serial or StreamSerial()
        self._onewire_module = onewire_module
        self._dht_module = dht_module
        self._i2c = {}
        self._onewire = {}
        self._watchdog = None

    def pin(self, number):
        return self._machine.Pin(number)

    def i2c(self, bus_id):
        """The board's hardware I2C bus bus_id with its configured pins and frequency (cached)."""
        bus = self._i2c.get(bus_id)
        if bus is None:
            for spec in self.config["i2c"]:
                if spec["id"] == bus_id:
                    break
            else:
                raise ValueError("board %s has no I2C bus %r" % (self.config["name"], bus_id))
            m = self._machine
            bus = m.I2C(bus_id, sda=m.Pin(spec["sda"]), scl=m.Pin(spec["scl"]), freq=spec["freq"])
            self._i2c[bus_id] = bus
        return bus

    def adc(self, pin):
        """machine.ADC on pin; on ESP32 with 11 dB attenuation so read_u16 spans 0..~3.1 V."""
        if pin not in self.config["adc_pins"]:
            raise ValueError("board %s has no ADC pin %r (adc_pins %r)" % (self.config["name"], pin,
                                                                        self.config["adc_pins"]))
        m = self._machine
        if self.config["port"] == "esp32":
            return m.ADC(m.Pin(pin), atten=m.ADC.ATTN_11DB)
        return m.ADC(m.Pin(pin))

    def onewire(self, pin):
        """onewire.OneWire on pin (cached)."""
        bus = self._onewire.get(pin)
        if bus is None:
            if self._onewire_module is None:
                import onewire
                self._onewire_module = onewire
            bus = self._onewire[pin] = self._onewire_module.OneWire(self._machine.Pin(pin))
        return bus

    @property
    def dht_module(self):
        if self._dht_module is None:
            import dht
            self._dht_module = dht
        return self._dht_module

    @property
    def watchdog(self):
        """machine.WDT with the board's timeout, started on first use (it cannot be stopped)."""
        if self._watchdog is None:
            self._watchdog = self._machine.WDT(timeout=self.config["watchdog_timeout_ms"])
        return self._watchdog

    def lightsleep(self, ms):
        """Light sleep when the board config allows it, else an ordinary (busy) sleep."""
        if self.config["sleep_mode"] in ("light", "deep"):
            self._machine.lightsleep(ms)
        else:
            self.clock.sleep_ms(ms)

    def deepsleep(self, ms):
        """Deep sleep (the board restarts from boot.py); only when sleep_mode is 'deep'."""
        if self.config["sleep_mode"] != "deep":
            raise OSError("board %s: deep sleep not enabled (sleep_mode %r)" % (
                self.config["name"], self.config["sleep_mode"]))
        self._machine.deepsleep(ms)

    def reset(self):
        self._machine.reset()

    def set_time_s(self, epoch_s):
        """Sets the RTC from Unix-epoch seconds (e.g. sent by the host)."""
        t = self.clock._time.gmtime(self.clock.port_time(int(epoch_s)))
        # RTC.datetime: (year, month, day, weekday, hours, minutes, seconds, subseconds)
        self._machine.RTC().datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0))
