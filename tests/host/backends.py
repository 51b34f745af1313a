"""Engine runners for the bit-exact tests: each takes (model_bytes, inputs) and
returns one output bytes per input, or skips the test with the reason it cannot
run here. The C engineer's tests/host/c_backends.py adds the C builds."""
import pytest

from verdant_host import verify

try:
    import c_backends
except ImportError:
    c_backends = None


def _skipping(runner):
    def run(model_bytes, inputs):
        try:
            return runner(model_bytes, inputs)
        except verify.BackendUnavailable as exc:
            pytest.skip(str(exc))
    return run


def run_python_cpython(model_bytes, inputs):
    """verdant.engine with backend='python' in this CPython process."""
    return _skipping(verify.run_cpython)(model_bytes, inputs)


def run_micropython(model_bytes, inputs, backend="python"):
    """verdant.engine inside one micropython Unix-port process, backend forced."""
    return _skipping(lambda m, i: verify.run_micropython(m, i, backend))(model_bytes, inputs)


def _c(name):
    def run(model_bytes, inputs):
        function = getattr(c_backends, name, None)
        if function is None:
            pytest.skip("tests/host/c_backends.py does not provide %s yet" % name)
        return [bytes(out) for out in function(model_bytes, inputs)]
    return run


RUNNERS = {
    "cpython": run_python_cpython,
    "micropython-python": lambda m, i: run_micropython(m, i, "python"),
    "micropython-viper": lambda m, i: run_micropython(m, i, "viper"),
    "c-host": _c("run_c_host"),
    "c-qemu": _c("run_c_qemu"),
    "natmod": _c("run_natmod"),
}
