# Simulator, training and replay (docs/training.md).
TRAIN_OUT ?= models/default
TRAIN_CHECK_OUT ?= build/train-check
SIM_CSV ?= build/sim/greenhouse.csv
SIM_DAYS ?= 7
SIM_SEED ?= 1
REPLAY_CSV ?= $(SIM_CSV)
REPLAY_BOARD ?= sim

.PHONY: train train-quick train-check site-full simulate replay

# Train, quantize, export and report the default model into models/default (a few minutes on 2 cores).
train: setup
	$(VENV)/bin/verdant train --out $(TRAIN_OUT)

# A smoke run in seconds: the whole pipeline on tiny data (not a useful model).
train-quick: setup
	$(VENV)/bin/verdant train --quick --out build/train-quick

# Retrain from scratch and fail unless the metrics match the committed report within tolerance;
# then check the committed model file bit-exactly against tflite-micro on every backend present.
train-check: setup
	$(VENV)/bin/verdant train --out $(TRAIN_CHECK_OUT) --check $(TRAIN_OUT)/report.json
	$(VENV)/bin/verdant verify $(TRAIN_OUT)/model.bin --tflite $(TRAIN_OUT)/model.tflite

# The site-model tests at full size (7 days of history, 25 epochs; make test trains a small one).
site-full: setup
	VERDANT_SITE_FULL=1 nice -n 10 $(PYTHON) -m pytest -q tests/host/test_sitemodel.py

simulate: setup
	@mkdir -p $(dir $(SIM_CSV))
	$(VENV)/bin/verdant simulate $(SIM_CSV) --days $(SIM_DAYS) --seed $(SIM_SEED)

replay: setup
	$(VENV)/bin/verdant replay $(REPLAY_CSV) --board $(REPLAY_BOARD)
