"""Engine runners for the bit-exact tests: verify's runners (python and viper under
CPython and the micropython Unix port, the C kernel on the host, on QEMU and as the
natmod), each taking (model_bytes, inputs) and returning one output bytes per input,
or skipping the test with the reason it cannot run here."""
import pytest

from verdant_host import verify
from verdant_host.errors import BackendUnavailable


def skipping(runner):
    """runner, with BackendUnavailable turned into a pytest skip that says why."""
    def run(model_bytes, inputs):
        try:
            return runner(model_bytes, inputs)
        except BackendUnavailable as exc:
            pytest.skip(str(exc))
    run.__doc__ = runner.__doc__
    return run


RUNNERS = {name: skipping(runner) for name, runner in verify.RUNNERS.items()}
