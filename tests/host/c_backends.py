"""The C kernel runners (verdant_host.native_runners) for tests: a build that cannot
run here skips the test with the reason instead of failing it."""
import pytest

from verdant_host import native_runners
from verdant_host.native_runners import CModelError, natmod_path  # noqa: F401  (tests use them)


def _skipping(runner):
    def run(model_bytes, inputs):
        try:
            return runner(model_bytes, inputs)
        except native_runners.NativeUnavailable as exc:
            pytest.skip(str(exc))
    run.__doc__ = runner.__doc__
    return run


run_c_host = _skipping(native_runners.run_c_host)
run_c_qemu = _skipping(native_runners.run_c_qemu)
run_natmod = _skipping(native_runners.run_natmod)
BACKENDS = {"c_host": run_c_host, "c_qemu": run_c_qemu, "natmod": run_natmod}
