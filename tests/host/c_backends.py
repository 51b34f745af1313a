"""The C kernel runners (verdant_host.native_runners) for tests: a build that cannot
run here skips the test with the reason instead of failing it."""
from backends import skipping
from verdant_host import native_runners
from verdant_host.native_runners import CModelError, natmod_path  # noqa: F401  (tests use them)

run_c_host = skipping(native_runners.run_c_host)
run_c_qemu = skipping(native_runners.run_c_qemu)
run_c_qemu_m4 = skipping(native_runners.run_c_qemu_m4)
run_c_qemu_m33 = skipping(native_runners.run_c_qemu_m33)
run_natmod = skipping(native_runners.run_natmod)
BACKENDS = {"c_host": run_c_host, "c_qemu": run_c_qemu, "c_qemu_m4": run_c_qemu_m4, "c_qemu_m33": run_c_qemu_m33,
            "natmod": run_natmod}
