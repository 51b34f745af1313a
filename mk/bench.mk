# make bench: engine and native-kernel figures side by side -> BENCHMARKS.md (host/verdant_host/bench.py).
# Builds the x64 natmod first when MPY_DIR is given; without it the natmod column says "not built".
.PHONY: bench
bench: setup natmod-if-mpy-dir
	@if [ -n "$(MPY_DIR)" ]; then $(MAKE) --no-print-directory natmod ARCH=armv6m MPY_DIR=$(MPY_DIR) && \
	  $(MAKE) --no-print-directory bench-qemu-firmware MPY_DIR=$(MPY_DIR); fi
	$(PYTHON) -m verdant_host.bench --out BENCHMARKS.md $(if $(MPY_DIR),--mpy-dir $(MPY_DIR))

# MicroPython's qemu port (Cortex-M3, MPS2_AN385) with a Pico-sized heap, built inside MPY_DIR's
# own build folder: make bench counts the firmware's instructions per sample on it.
.PHONY: bench-qemu-firmware
bench-qemu-firmware:
	@test -n "$(MPY_DIR)" || { echo "bench-qemu-firmware: set MPY_DIR to a MicroPython v1.28.0 source tree" >&2; exit 2; }
	$(MAKE) -C $(MPY_DIR)/ports/qemu BOARD=MPS2_AN385 BUILD=build-MPS2_AN385-heap192k \
	  MICROPY_HEAP_SIZE=196608 FROZEN_MANIFEST=
