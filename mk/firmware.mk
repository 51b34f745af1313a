# Firmware application (device/verdant/{app,sampler,features,alerts,protocol,flashlog}.py).

.PHONY: firmware-test firmware-bench
# Only the firmware app's tests (device tests in the Unix port + the CPython feature test).
firmware-test: setup
	$(PYTHON) -m pytest -q tests/host/test_features_host.py tests/device/test_sampler.py \
	  tests/device/test_features.py tests/device/test_alerts.py tests/device/test_rules.py \
	  tests/device/test_protocol.py tests/device/test_flashlog.py tests/device/test_app*.py \
	  tests/device/test_boot.py

# Time and heap of the app's steps and of a simulated day (figures, no pass/fail).
firmware-bench: setup
	cd tests/device && MICROPYPATH=$(CURDIR)/device:$(CURDIR)/tests/device:.frozen $(MICROPYTHON) -X heapsize=8M bench_firmware.py

# The Unix port built 32-bit from MPY_DIR (needs gcc-multilib), as the sim32 board runs:
# make unix32 MPY_DIR=/path/to/micropython-v1.28.0 -> build/unix32/micropython32
UNIX32 := build/unix32/micropython32
.PHONY: unix32 firmware-heap
unix32:
	@test -n "$(MPY_DIR)" -a -d "$(MPY_DIR)/ports/unix" || { echo "unix32: set MPY_DIR to a MicroPython v1.28.0 source tree" >&2; exit 2; }
	$(MAKE) -C $(MPY_DIR)/ports/unix MICROPY_FORCE_32BIT=1 MICROPY_PY_FFI=0 MICROPY_PY_BTREE=0 \
	  MICROPY_PY_SSL=0 FROZEN_MANIFEST= BUILD=$(abspath build/unix32/obj) PROG=$(abspath $(UNIX32))

# Heap of the whole firmware (device/main.py, sim board, default model, flash log) after
# 2 simulated days: figures for BENCHMARKS.md. MP32=path adds the 32-bit port.
MP32 ?= $(wildcard $(UNIX32))
firmware-heap:
	bash host/scripts/firmware_heap.sh $(MICROPYTHON) $(MP32)
