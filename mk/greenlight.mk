# Physics-grounded scenarios from GreenLight (Katzin 2021 tomato glasshouse, real Bleiswijk
# weather) and the field scores of the firmware on them (docs/training.md).
# greenlight 2.0.5 pins numpy 1.26, so it gets its own venv under build/.
GL_VENV ?= build/greenlight-venv
GL_DATA ?= data/greenlight
GL_COUNT ?= 24
GL_SEED ?= 11

.PHONY: greenlight-venv greenlight-data field-eval

$(GL_VENV)/bin/python:
	python3 -m venv $(GL_VENV)
	$(GL_VENV)/bin/pip install -q greenlight==2.0.5

greenlight-venv: $(GL_VENV)/bin/python

# About 40 s per simulated 4 days on one core: ~20 min per split. Resumable (finished
# scenarios are kept); the committed data/greenlight/ is what this makes.
greenlight-data: $(GL_VENV)/bin/python
	nice -n 10 $(GL_VENV)/bin/python host/scripts/greenlight_scenarios.py --split test --count $(GL_COUNT) --seed $(GL_SEED) --out $(GL_DATA)/test
	nice -n 10 $(GL_VENV)/bin/python host/scripts/greenlight_scenarios.py --split train --count $(GL_COUNT) --seed $(GL_SEED) --out $(GL_DATA)/train

# The firmware (rules, sensor-fault detectors, normal band; MODEL= to add a model) against the
# four-threshold baseline on the held-out GreenLight scenarios.
field-eval:
	PYTHONPATH=host $(PYTHON) -m verdant_host.fieldeval $(GL_DATA)/test $(if $(MODEL),--model $(MODEL))
