"""The hardware seam. Everything the firmware needs from a board comes through a HAL.

A HAL object provides (each port implements it: `sim` for the Unix port,
`machine_hal.MachineHAL` for real boards on an injected `machine` module):
  clock            .ticks_ms(), .time_s() (Unix seconds), .sleep_ms(ms)
  i2c(id)          bus with the machine.I2C methods (scan, writeto, readfrom_into, ...)
  adc(pin)         ADC with read_u16()
  onewire(pin)     1-Wire bus for DS18B20 parts
  pin(n)           digital pin
  dht_module       the port's `dht` module (DHT22)
  watchdog         .feed()
  lightsleep(ms), deepsleep(ms)   where the board config allows it
  serial           .write(bytes)
"""
