"""The C kernel runners (verdant_host.native_runners) for tests: a build that cannot
run here skips the test with the reason instead of failing it."""
from backends import skipping
from verdant_host import native_runners
from verdant_host.native_runners import CModelError, natmod_path  # noqa: F401  (tests use them)

run_c_host = skipping(native_runners.run_c_host)
run_c_qemu = skipping(native_runners.run_c_qemu)
run_natmod = skipping(native_runners.run_natmod)
BACKENDS = {"c_host": run_c_host, "c_qemu": run_c_qemu, "natmod": run_natmod}
