# The board payload: everything under device/ that goes onto a board, as a MicroPython
# manifest (tools/manifestfile.py). `verdant deploy` copies exactly these modules
# (compiled with mpy-cross) plus the entry points main.py and boot.py; a firmware
# build can freeze the same list into flash:
#   make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=$PWD/device/manifest.py
# Option sim=True (the virtual board, port "unix") adds the simulated sensor parts.
# tests/host/test_manifest.py fails when a module under device/ is not declared here.
options.defaults(sim=False)

package("verdant", files=[
    "__init__.py", "alerts.py", "app.py", "board.py", "crc32.py", "features.py",
    "flashlog.py", "normalband.py", "outputs.py", "protocol.py", "quantities.py", "rules.py",
    "safemode.py", "saferetry.py", "sampler.py", "sensors.py", "convwait.py", "sensorfaults.py", "dewpointdrift.py", "learnedstate.py",
    # the app's parts: start-up, settings, model slot and metadata, status, output, sleep
    "modelmeta.py", "modelslot.py", "serialout.py", "settings.py", "sleeper.py", "startup.py",
    "status.py", "sun.py", "warmstart.py",
    # MQTT out over Wi-Fi, the flash outbox while offline
    "mqtt.py", "mqtt_publish.py", "mqtt_topics.py", "outbox.py", "wifi.py",
    # sensor drivers
    "drivers/__init__.py", "drivers/base.py", "drivers/sensirion.py",
    "drivers/aht20.py", "drivers/bh1750.py", "drivers/bme280.py", "drivers/dht22.py",
    "drivers/ds18b20.py", "drivers/scd4x.py", "drivers/sht3x.py", "drivers/sht4x.py",
    "drivers/soil_moisture.py",
    # the int8 engine (the native module verdant_nn.mpy ships beside it when built)
    "engine/__init__.py", "engine/fixedpoint.py", "engine/layout.py", "engine/modelfile.py",
    "engine/ops_python.py", "engine/ops_viper.py", "engine/quant.py",
    # the hardware seam of real boards
    "hal/__init__.py", "hal/machine_hal.py",
])

if options.sim:
    package("verdant", files=[
        "hal/sim.py",
        "sim/__init__.py", "sim/part.py", "sim/faults.py", "sim/recorder.py",
        "sim/aosong_rohm.py", "sim/bme280.py", "sim/dht_adc.py", "sim/onewire.py",
        "sim/sensirion.py",
    ])
