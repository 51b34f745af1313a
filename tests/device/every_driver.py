# One sensor of every driver, as a board config's "sensors" list: the shared board of the
# tests that put every part on one simulated board (fault matrix, conversion waits).


def every_driver_sensors(adc_pin):
    """The sensors list: two I2C buses (i2c0, i2c1), DHT, 1-Wire and the soil probe on adc_pin."""
    return [
        {"name": "sht3x", "driver": "sht3x", "bus": "i2c0", "address": 0x44, "period_s": 60},
        {"name": "sht4x", "driver": "sht4x", "bus": "i2c1", "address": 0x44, "period_s": 60},
        {"name": "aht20", "driver": "aht20", "bus": "i2c0", "address": 0x38, "period_s": 60},
        {"name": "bme280", "driver": "bme280", "bus": "i2c0", "address": 0x76, "period_s": 60},
        {"name": "bh1750", "driver": "bh1750", "bus": "i2c0", "address": 0x23, "period_s": 60},
        {"name": "scd4x", "driver": "scd4x", "bus": "i2c1", "address": 0x62, "period_s": 60},
        {"name": "dht22", "driver": "dht22", "bus": "dht", "period_s": 60},
        {"name": "ds18b20", "driver": "ds18b20", "bus": "onewire", "period_s": 300},
        {"name": "soil", "driver": "soil_moisture", "bus": "adc", "pin": adc_pin, "period_s": 300,
         "options": {"dry": 52000, "wet": 22000}},
    ]
