# make bench: engine and native-kernel figures side by side -> BENCHMARKS.md (host/verdant_host/bench.py).
# Builds the x64 natmod first when MPY_DIR is given; without it the natmod column says "not built".
.PHONY: bench
bench: setup natmod-if-mpy-dir
	$(PYTHON) -m verdant_host.bench --out BENCHMARKS.md
