"""The one way the host starts a MicroPython process (verdant_host.mpy_script)."""
import os

import pytest

from verdant_host import paths
from verdant_host.errors import BackendUnavailable
from verdant_host.mpy_script import run_script


def test_the_search_path_is_what_was_given():
    if not os.path.exists(paths.micropython()):
        pytest.skip("micropython Unix port not found at %s" % paths.micropython())
    out = run_script("import verdant, sys; print(verdant.VERSION); print(sys.path)", [paths.DEVICE_DIR])
    version, search = out.stdout.splitlines()
    assert out.returncode == 0 and version and paths.DEVICE_DIR in search
    assert run_script("import verdant").returncode != 0  # nothing found without the search path


def test_a_missing_interpreter_is_an_unavailable_backend(tmp_path):
    with pytest.raises(BackendUnavailable, match="no micropython Unix port at"):
        run_script("print(1)", micropython=str(tmp_path / "nope"))
