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

# The Unix port built 32-bit from MPY_DIR (needs gcc-multilib), as the sim32 board runs,
# with the firmware frozen in (device/manifest.py, sim parts included) and the virtual
# board's runtime (vboard/): code in "flash", so the heap holds what a board's heap holds.
#   make unix32 MPY_DIR=/path/to/micropython-v1.28.0   -> build/unix32/micropython32
# UNIX32_FROZEN= (empty) builds it without the firmware, as the lead's plain 32-bit port.
UNIX32_BUILD := $(abspath build/unix32)
UNIX32 := $(UNIX32_BUILD)/micropython32
UNIX32_FROZEN ?= 1
.PHONY: unix32 firmware-heap
unix32:
	@test -n "$(MPY_DIR)" -a -d "$(MPY_DIR)/ports/unix" || { echo "unix32: set MPY_DIR to a MicroPython v1.28.0 source tree" >&2; exit 2; }
	@mkdir -p $(UNIX32_BUILD)/no-micropython-lib
	@echo 'include("$(CURDIR)/device/manifest.py", sim=True)' > $(UNIX32_BUILD)/manifest.py
	@for m in vboard_runtime vboard_machine vboard_os vboard_env; do \
	  echo "module(\"$$m.py\", base_path=\"$(CURDIR)/vboard\")" >> $(UNIX32_BUILD)/manifest.py; done
	@echo "micropython-lib is not used by the Verdant manifest" > $(UNIX32_BUILD)/no-micropython-lib/README.md
	$(MAKE) -C $(MPY_DIR)/mpy-cross
	$(MAKE) -C $(MPY_DIR)/ports/unix MICROPY_FORCE_32BIT=1 MICROPY_PY_FFI=0 MICROPY_PY_BTREE=0 \
	  MICROPY_PY_SSL=0 BUILD=$(UNIX32_BUILD)/obj PROG=micropython32 MPY_CROSS_FLAGS=-march=x86 \
	  $(if $(UNIX32_FROZEN),FROZEN_MANIFEST=$(UNIX32_BUILD)/manifest.py MPY_LIB_DIR=$(UNIX32_BUILD)/no-micropython-lib,FROZEN_MANIFEST=)
	cp $(UNIX32_BUILD)/obj/micropython32 $(UNIX32)
	@echo "unix32: $(UNIX32)"

# Heap of the whole firmware (sim board, default model, flash log, protocol) for 2
# simulated days, bytes per sample and per inference: figures for BENCHMARKS.md
# ("Firmware heap"). The 32-bit frozen port is measured too when built (make unix32).
MP32 ?= $(wildcard $(UNIX32))
firmware-heap:
	bash host/scripts/firmware_heap.sh $(MICROPYTHON) $(MP32)

# MicroPython's qemu port (MPS2_AN385, Cortex-M3, its stock ~139 KB heap) with the firmware
# frozen in (device/manifest.py, sim parts included), built from MPY_DIR into build/:
# tests/host/test_budget_qemu.py runs the whole firmware on it (code in flash, as on a
# board with a custom build) and holds its heap to the sim32 budget.
#   make qemu-frozen MPY_DIR=/path/to/micropython-v1.28.0   -> build/qemu-frozen/firmware.elf
QEMU_FROZEN_BUILD := $(abspath build/qemu-frozen)
.PHONY: qemu-frozen
qemu-frozen:
	@test -n "$(MPY_DIR)" -a -d "$(MPY_DIR)/ports/qemu" || { echo "qemu-frozen: set MPY_DIR to a MicroPython v1.28.0 source tree" >&2; exit 2; }
	@mkdir -p $(QEMU_FROZEN_BUILD)/no-micropython-lib
	@echo 'include("$(CURDIR)/device/manifest.py", sim=True)' > $(QEMU_FROZEN_BUILD)/manifest.py
	@echo 'module("memfs.py", base_path="$(CURDIR)/tests/device")' >> $(QEMU_FROZEN_BUILD)/manifest.py
	@echo "micropython-lib is not used by the Verdant manifest" > $(QEMU_FROZEN_BUILD)/no-micropython-lib/README.md
	$(MAKE) -C $(MPY_DIR)/mpy-cross
	$(MAKE) -C $(MPY_DIR)/ports/qemu BOARD=MPS2_AN385 BUILD=$(QEMU_FROZEN_BUILD)/obj \
	  FROZEN_MANIFEST=$(QEMU_FROZEN_BUILD)/manifest.py MPY_LIB_DIR=$(QEMU_FROZEN_BUILD)/no-micropython-lib
	cp $(QEMU_FROZEN_BUILD)/obj/firmware.elf $(QEMU_FROZEN_BUILD)/firmware.elf
	@echo "qemu-frozen: $(QEMU_FROZEN_BUILD)/firmware.elf"
