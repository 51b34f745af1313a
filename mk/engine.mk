# Engine (device/verdant/engine): longer fuzzing of the Python model parser.
# FUZZ_RUNS=0 fuzzes until interrupted; crashes are written to build/fuzz-py/.
FUZZ_RUNS ?= 200000
FUZZ_PY_DIR := build/fuzz-py

.PHONY: fuzz-py engine-test
fuzz-py: setup
	mkdir -p $(FUZZ_PY_DIR)/corpus
	$(PYTHON) tests/host/fuzz_engine_parser.py --write-seeds $(FUZZ_PY_DIR)/corpus
	cd $(FUZZ_PY_DIR) && $(abspath $(PYTHON)) $(CURDIR)/tests/host/fuzz_engine_parser.py -runs=$(FUZZ_RUNS) corpus

# Only the engine's tests (host oracle + device backends).
engine-test: setup
	$(PYTHON) -m pytest -q tests/host/test_engine_*.py tests/device/test_engine_*.py

# Time and heap per inference of each backend in the Unix port (figures, no pass/fail).
.PHONY: engine-bench
engine-bench: setup
	cd tests/device && MICROPYPATH=$(CURDIR)/device:$(CURDIR)/tests/device:.frozen $(MICROPYTHON) -X heapsize=8M bench_engine.py
