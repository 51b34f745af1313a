"""The hardware seam. Everything the firmware needs from a board comes through a HAL.

A HAL object has these attributes (each port provides them):
  clock     .ticks_ms() -> int, .time_s() -> int (seconds since epoch), .sleep_ms(ms)
  i2c(name) -> bus with the machine.I2C methods (scan, writeto, readfrom_into, ...)
  watchdog  .feed()
  serial    .write(bytes)
Ports: `sim` (Unix port, simulated devices) and `machine_hal` (real boards).
"""
