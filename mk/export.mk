# Exporter and bit-exact checks (docs/export.md).
# make bitexact        the CI subset of random converted models against tflite-micro, every backend
# make bitexact-full   the full run (240 models, 53 inputs each); takes several minutes
# make verify-model MODEL=m.bin TFLITE=m.tflite [SAMPLES=200]
SAMPLES ?= 200

.PHONY: bitexact bitexact-full verify-model

bitexact: setup
	$(PYTHON) -m pytest -q tests/host/test_bitexact.py

bitexact-full: setup
	VERDANT_BITEXACT_FULL=1 $(PYTHON) -m pytest -q tests/host/test_bitexact.py

verify-model: setup
	@test -n "$(MODEL)" -a -n "$(TFLITE)" || { echo "usage: make verify-model MODEL=m.bin TFLITE=m.tflite"; exit 2; }
	$(VENV)/bin/verdant verify $(MODEL) --tflite $(TFLITE) --samples $(SAMPLES)
