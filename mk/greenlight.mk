# Physics-grounded scenarios from GreenLight (Katzin 2021 tomato glasshouse, real Bleiswijk
# weather) and the field scores of the firmware on them (docs/training.md).
# greenlight 2.0.5 pins numpy 1.26, so it gets its own venv under build/.
GL_VENV ?= build/greenlight-venv
GL_DATA ?= data/greenlight
GL_COUNT ?= 24
GL_TRAIN_COUNT ?= 8
GL_SEED ?= 11

.PHONY: greenlight-venv greenlight-data greenlight-site-data field-eval train-sets

$(GL_VENV)/bin/python:
	python3 -m venv $(GL_VENV)
	$(GL_VENV)/bin/pip install -q greenlight==2.0.5

greenlight-venv: $(GL_VENV)/bin/python

# About 40 s per simulated 4 days on one core: ~20 min for the test split. Resumable (finished
# scenarios are kept); the committed data/greenlight/ is what this makes.
greenlight-data: $(GL_VENV)/bin/python
	nice -n 10 $(GL_VENV)/bin/python host/scripts/greenlight_scenarios.py --split test --count $(GL_COUNT) --seed $(GL_SEED) --out $(GL_DATA)/test
	nice -n 10 $(GL_VENV)/bin/python host/scripts/greenlight_scenarios.py --split train --count $(GL_TRAIN_COUNT) --seed $(GL_SEED) --out $(GL_DATA)/train

# Each test greenhouse fault-free for the 4 days before its scenario: the site history that
# `verdant train --site` learns from in the site-adapted field evaluation.
greenlight-site-data: $(GL_VENV)/bin/python
	nice -n 10 $(GL_VENV)/bin/python host/scripts/greenlight_scenarios.py --split test --count $(GL_COUNT) --seed $(GL_SEED) --site-days 4 --out $(GL_DATA)/test_site

# The per-sensor-set models (models/sets/) from the GreenLight train split (a minute or two).
train-sets:
	PYTHONPATH=host nice -n 10 $(PYTHON) -m verdant_host.setmodels --data $(GL_DATA)/train --out models/sets

# The firmware (rules, sensor-fault detectors, normal band; MODEL= to add a model) against the
# four-threshold baseline on the held-out GreenLight scenarios.
field-eval:
	PYTHONPATH=host nice -n 10 $(PYTHON) -m verdant_host.fieldeval $(GL_DATA)/test $(if $(MODEL),--model $(MODEL),--auto) --site $(GL_DATA)/test_site --report models/default/report.md
