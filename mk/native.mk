# Native C kernel (device/native/): host and Cortex-M0+ test runners, natmod .mpy, fuzzing.
# See docs/native.md.
NATIVE_DIR := device/native
NATIVE_BUILD := build/native
NATIVE_CORE := $(NATIVE_DIR)/nn_model.c $(NATIVE_DIR)/nn_kernel.c
NATIVE_HEADERS := $(NATIVE_DIR)/nn_model.h $(NATIVE_DIR)/nn_kernel.h $(NATIVE_DIR)/runner/runner.h mk/native.mk
NATIVE_WARN := -std=c99 -Wall -Wextra -Werror -Wconversion -Wshadow
ARM_CC ?= arm-none-eabi-gcc
M0_FLAGS := -mcpu=cortex-m0plus -mthumb -DNN_USE_THUMB_ASM
CLANG ?= clang
FUZZ_SECONDS ?= 600
ARCH ?= x64
MPY_DIR ?=
MPY_ABI = $(shell sed -n 's/^\#define MPY_VERSION \([0-9]*\)/\1/p' $(MPY_DIR)/py/persistentcode.h).$(shell sed -n 's/^\#define MPY_SUB_VERSION \([0-9]*\)/\1/p' $(MPY_DIR)/py/persistentcode.h)

.PHONY: native-host native-qemu native-qemu-m4 native-qemu-m33 natmod natmod-if-mpy-dir fuzz native-size native-bench

# Host runner with AddressSanitizer + UBSan, any finding aborts.
native-host: $(NATIVE_BUILD)/host/nn_runner
$(NATIVE_BUILD)/host/nn_runner: $(NATIVE_CORE) $(NATIVE_HEADERS) $(NATIVE_DIR)/runner/runner.c $(NATIVE_DIR)/runner/io_stdio.c
	@mkdir -p $(@D)
	gcc $(NATIVE_WARN) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	  -o $@ $(NATIVE_CORE) $(NATIVE_DIR)/runner/runner.c $(NATIVE_DIR)/runner/io_stdio.c

# Cortex-M0+ runner for qemu-system-arm -M mps2-an385 (semihosting, no C library).
native-qemu: $(NATIVE_BUILD)/m0/nn_runner.elf
$(NATIVE_BUILD)/m0/nn_runner.elf: $(NATIVE_CORE) $(NATIVE_HEADERS) $(NATIVE_DIR)/nn_dot4_thumb.S $(NATIVE_DIR)/runner/runner.c $(NATIVE_DIR)/runner/io_semihost.c $(NATIVE_DIR)/runner/mps2_an385.ld
	@mkdir -p $(@D)
	$(ARM_CC) $(NATIVE_WARN) $(M0_FLAGS) -Os -g -ffreestanding -nostdlib -T $(NATIVE_DIR)/runner/mps2_an385.ld \
	  -o $@ $(NATIVE_CORE) $(NATIVE_DIR)/nn_dot4_thumb.S $(NATIVE_DIR)/runner/runner.c $(NATIVE_DIR)/runner/io_semihost.c -lgcc

# Cortex-M4 (mps2-an386, same memory map as the AN385) and Cortex-M33 (mps2-an505) runners:
# the DSP extension's dual 16-bit MAC (SMLAD) path of nn_kernel.c, same C API.
RUNNER_ARM_SRC := $(NATIVE_CORE) $(NATIVE_DIR)/runner/runner.c $(NATIVE_DIR)/runner/io_semihost.c
native-qemu-m4: $(NATIVE_BUILD)/m4/nn_runner.elf
$(NATIVE_BUILD)/m4/nn_runner.elf: $(RUNNER_ARM_SRC) $(NATIVE_HEADERS) $(NATIVE_DIR)/runner/mps2_an385.ld
	@mkdir -p $(@D)
	$(ARM_CC) $(NATIVE_WARN) -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -Os -g -ffreestanding -nostdlib \
	  -T $(NATIVE_DIR)/runner/mps2_an385.ld -o $@ $(RUNNER_ARM_SRC) -lgcc
native-qemu-m33: $(NATIVE_BUILD)/m33/nn_runner.elf
$(NATIVE_BUILD)/m33/nn_runner.elf: $(RUNNER_ARM_SRC) $(NATIVE_HEADERS) $(NATIVE_DIR)/runner/mps2_an505.ld
	@mkdir -p $(@D)
	$(ARM_CC) $(NATIVE_WARN) -mcpu=cortex-m33 -mthumb -mfloat-abi=soft -Os -g -ffreestanding -nostdlib \
	  -T $(NATIVE_DIR)/runner/mps2_an505.ld -o $@ $(RUNNER_ARM_SRC) -lgcc

# Kernel + parser objects for Cortex-M0+ at -Os, to measure .text; then the same objects
# linked with libgcc the way mpy_ld links a .mpy (every section kept, libgcc members pulled
# in for undefined symbols) so helper functions count too (kernel.map lists them).
NATIVE_SIZE_OBJS := $(NATIVE_BUILD)/m0size/nn_model.o $(NATIVE_BUILD)/m0size/nn_kernel.o $(NATIVE_BUILD)/m0size/nn_dot4_thumb.o
native-size: $(NATIVE_SIZE_OBJS) $(NATIVE_BUILD)/m0size/kernel.elf
	arm-none-eabi-size -A $(NATIVE_SIZE_OBJS) | grep -E '^(\.text|\.rodata|[^ ]*\.o)'
	arm-none-eabi-size -A $(NATIVE_BUILD)/m0size/kernel.elf | grep -E '^(\.text|\.rodata|[^ ]*\.elf)'
	@echo "libgcc members linked: $$(grep -o 'libgcc\.a([^)]*)' $(NATIVE_BUILD)/m0size/kernel.map | sort -u | tr '\n' ' ')"
$(NATIVE_BUILD)/m0size/kernel.elf: $(NATIVE_SIZE_OBJS)
	$(ARM_CC) $(M0_FLAGS) -nostdlib -Wl,-e,nn_model_check -Wl,-u,nn_init -Wl,-u,nn_run -Wl,-u,nn_error_format \
	  -Wl,-Map,$(NATIVE_BUILD)/m0size/kernel.map -o $@ $^ -lgcc
$(NATIVE_BUILD)/m0size/%.o: $(NATIVE_DIR)/%.c $(NATIVE_HEADERS)
	@mkdir -p $(@D)
	$(ARM_CC) $(NATIVE_WARN) $(M0_FLAGS) -Os -ffunction-sections -c -o $@ $<
$(NATIVE_BUILD)/m0size/%.o: $(NATIVE_DIR)/%.S
	@mkdir -p $(@D)
	$(ARM_CC) $(M0_FLAGS) -c -o $@ $<

# make natmod ARCH=x64|armv6m|armv7emsp|xtensawin|rv32imc MPY_DIR=/path/to/micropython-v1.28.0
# Writes only under build/native/natmod/$(ARCH) (objects, mpy_ld cache, .mpy) and dist/.
natmod:
	@test -n "$(MPY_DIR)" -a -f "$(MPY_DIR)/py/dynruntime.mk" || { echo "natmod: set MPY_DIR to a MicroPython v1.28.0 source tree (see docs/native.md)" >&2; exit 2; }
	@mkdir -p $(NATIVE_BUILD)/natmod/$(ARCH) dist/$(ARCH)_$(MPY_ABI)
	$(MAKE) -C $(NATIVE_BUILD)/natmod/$(ARCH) -f $(abspath $(NATIVE_DIR)/Makefile) MPY_DIR=$(abspath $(MPY_DIR)) \
	  ARCH=$(ARCH) BUILD=obj PYTHON=$(abspath $(PYTHON)) MOD=verdant_nn CLEAN_EXTRA= verdant_nn.mpy
	cp $(NATIVE_BUILD)/natmod/$(ARCH)/verdant_nn.mpy dist/$(ARCH)_$(MPY_ABI)/verdant_nn.mpy
	@echo "natmod: dist/$(ARCH)_$(MPY_ABI)/verdant_nn.mpy"

# `make test` builds the x64 module first when MPY_DIR is given.
natmod-if-mpy-dir:
	@if [ -n "$(MPY_DIR)" ]; then $(MAKE) --no-print-directory natmod ARCH=x64 MPY_DIR=$(MPY_DIR); \
	else echo "natmod: MPY_DIR not set, natmod tests will be skipped"; fi
test: natmod-if-mpy-dir

# libFuzzer on the parser (+ the kernel on accepted models). make fuzz FUZZ_SECONDS=3600
$(NATIVE_BUILD)/fuzz/fuzz_model: $(NATIVE_CORE) $(NATIVE_HEADERS) $(NATIVE_DIR)/runner/fuzz_model.c
	@mkdir -p $(@D)
	$(CLANG) -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  -o $@ $(NATIVE_CORE) $(NATIVE_DIR)/runner/fuzz_model.c
fuzz: $(NATIVE_BUILD)/fuzz/fuzz_model setup
	@mkdir -p $(NATIVE_BUILD)/fuzz/corpus $(NATIVE_BUILD)/fuzz/crashes
	$(PYTHON) tests/host/test_native_fuzz.py $(NATIVE_BUILD)/fuzz/corpus
	$(NATIVE_BUILD)/fuzz/fuzz_model -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
	  -artifact_prefix=$(NATIVE_BUILD)/fuzz/crashes/ $(NATIVE_BUILD)/fuzz/corpus

# Plain -O2 host runner (no sanitizers) for instruction counts under valgrind (make bench).
native-bench: $(NATIVE_BUILD)/bench/nn_runner
$(NATIVE_BUILD)/bench/nn_runner: $(NATIVE_CORE) $(NATIVE_HEADERS) $(NATIVE_DIR)/runner/runner.c $(NATIVE_DIR)/runner/io_stdio.c
	@mkdir -p $(@D)
	gcc $(NATIVE_WARN) -O2 -g -o $@ $(NATIVE_CORE) $(NATIVE_DIR)/runner/runner.c $(NATIVE_DIR)/runner/io_stdio.c
