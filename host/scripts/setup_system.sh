#!/usr/bin/env bash
# Installs the Debian packages the tests need (ARM cross compiler, newlib, QEMU, clang,
# gcc-multilib for the 32-bit Unix port, mosquitto for the MQTT tests)
# when they are missing. Safe to re-run: does nothing when all are present.
set -u
need=()
command -v arm-none-eabi-gcc >/dev/null 2>&1 || need+=(gcc-arm-none-eabi)
[ -e /usr/lib/arm-none-eabi/newlib/libc.a ] || [ -e /usr/lib/arm-none-eabi/lib/libc.a ] || need+=(libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null 2>&1 || need+=(qemu-system-arm)
command -v clang >/dev/null 2>&1 || need+=(clang)  # libFuzzer for the C parser fuzz test
if [ "$(uname -m)" = x86_64 ]; then  # 32-bit Unix port for the heap-budget tests
  compgen -G '/usr/lib/gcc/x86_64-linux-gnu/*/32/libgcc.a' >/dev/null || need+=(gcc-multilib)
fi
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || need+=(mosquitto)  # MQTT broker for the tests
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing Debian packages: ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null && exit 0
  echo "setup: apt-get could not install: ${need[*]}" >&2
else
  echo "setup: missing Debian packages: ${need[*]}" >&2
  echo "setup: install them with: sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
fi
echo "setup: the tests that need them (Cortex-M0+ on QEMU, libFuzzer) skip until they are installed." >&2
exit 0
