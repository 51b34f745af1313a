# Verdant: `make demo` runs the main job on the virtual board, `make test` runs all tests.
# Both set up .venv on their own.

SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
# Any MicroPython Unix-port executable; the pinned wheel provides one on x86_64 Linux.
MICROPYTHON ?= $(abspath $(VENV)/bin/micropython)
export MICROPYTHON
SETUP_STAMP := $(VENV)/.setup-stamp
PYTEST_ARGS ?=
# A test that hangs fails after this many seconds instead of stalling the run (a device
# module runs whole in its first item, up to 900 s).
PYTEST_TIMEOUT ?= 1200
# Test files run side by side on this many processes (pytest-xdist), one file per process
# so a module's fixtures (a virtual board, a broker) are set up once; 0 runs in one process.
PYTEST_WORKERS ?= 2

.PHONY: help setup test demo clean
help:
	@echo "make demo    run the virtual-board demo with the committed default model"
	@echo "make test    set up .venv and run every test"
	@echo "make setup   create .venv and install pinned dependencies (idempotent)"

setup: $(SETUP_STAMP)

$(SETUP_STAMP): host/requirements.txt host/pyproject.toml host/scripts/setup_system.sh
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r host/requirements.txt
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps -e host
	bash host/scripts/setup_system.sh
	@touch $@

# One pytest run: host tests under CPython, device tests inside the micropython Unix port.
test: setup
	$(PYTHON) -m pytest tests --timeout=$(PYTEST_TIMEOUT) -n $(PYTEST_WORKERS) --dist loadfile \
	    --durations=15 $(PYTEST_ARGS)

clean:
	rm -rf build dist .pytest_cache

# Each area of the project adds its own targets in mk/*.mk.
-include $(sort $(wildcard mk/*.mk))
