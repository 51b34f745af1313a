# Virtual board, deploy, monitor, firmware flashing, demo and soak (docs/tools.md).
BOARD ?= sim
PORT ?=
MODEL ?=
LATITUDE ?=
LONGITUDE ?=
TRANSPORT ?= mpremote
FIRMWARE ?=
EXIT_ON ?=
VBOARD_FS ?= build/vboard/fs
SPEED ?= 3600
VERDANT := $(VENV)/bin/verdant

.PHONY: vboard deploy monitor pull-logs forget-learned flash-firmware demo soak

# A virtual board on a pseudo-terminal until Ctrl-C; prints its /dev/pts/N.
vboard: setup
	$(VERDANT) vboard --fs $(VBOARD_FS) --speed $(SPEED) --port-file build/vboard/port

deploy: setup
	$(VERDANT) deploy --board $(BOARD) --port "$(PORT)" --transport $(TRANSPORT) $(if $(MODEL),--model $(MODEL)) $(if $(LATITUDE),--latitude $(LATITUDE) --longitude $(LONGITUDE))

monitor: setup
	$(VERDANT) monitor --port "$(PORT)" $(if $(EXIT_ON),--exit-on $(EXIT_ON)) $(if $(MQTT),--mqtt $(MQTT))

pull-logs: setup
	$(VERDANT) pull-logs --port "$(PORT)" --out build/pulled-log.csv

# The board forgets what its detectors learned (learned.bin): after swapping a sensor.
forget-learned: setup
	$(VERDANT) forget-learned --port "$(PORT)" --transport $(TRANSPORT)

flash-firmware: setup
	$(VERDANT) flash --board $(BOARD) --port "$(PORT)" --firmware "$(FIRMWARE)"

# The main job: firmware + default model on a fresh virtual board, 48 simulated hours.
demo: setup
	@mkdir -p build/demo
	$(VERDANT) demo --speed $(SPEED)

# 30 simulated days on the virtual board; writes SOAK.md. Not part of `make test`.
soak: setup
	$(VERDANT) soak --days 30 --report SOAK.md
