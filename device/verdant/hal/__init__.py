"""The hardware seam. Everything the firmware needs from a board comes through a HAL.

A HAL object provides (each port implements it: `sim` for the Unix port,
`machine_hal.MachineHAL` for real boards on an injected `machine` module):
  clock            .ticks_ms(), .time_s() (Unix seconds), .sleep_ms(ms), and optionally
                   .fw_time_s() (firmware seconds, below: a small int all the way)
  i2c(id)          bus with the machine.I2C methods (scan, writeto, readfrom_into, ...)
  adc(pin)         ADC with read_u16()
  onewire(pin)     1-Wire bus for DS18B20 parts
  pin(n)           digital pin
  dht_module       the port's `dht` module (DHT22)
  watchdog         .feed()
  lightsleep(ms), deepsleep(ms)   where the board config allows it
  conversion_wait  set by verdant.sensors.build_sensors with the first driver: the drivers'
                   sleep_ms (verdant.convwait: light sleep where the config allows it)
  serial           .write(bytes)
"""

# Firmware time: seconds since 2025-01-01 00:00 UTC, what the app computes with. It stays
# below 2^30 until 2059, so a small int on 32-bit ports, where Unix seconds (above 2^30)
# are a heap object per value. The protocol and the flash log convert back to Unix
# seconds at the boundary. A multiple of 86400: days and time of day are unchanged.
FIRMWARE_EPOCH = 1735689600


def storage_path(hal, name):
    """A file's path on the board's storage (hal.storage, a folder, when the HAL has one)."""
    storage = getattr(hal, "storage", "") or ""
    return storage.rstrip("/") + "/" + name if storage else name


def firmware_clock(clock):
    """A no-argument function giving clock's time in firmware seconds: clock.fw_time_s
    when the clock has one (no heap int on the way), else from time_s()."""
    fw = getattr(clock, "fw_time_s", None)
    if fw is not None:
        return fw
    return lambda: clock.time_s() - FIRMWARE_EPOCH
