"""The host imports the very same device modules (one source of truth), as a package,
with nothing added to sys.path; verdant_host.paths is the one place that knows where
things are."""
import os
import subprocess
import sys

import verdant
import verdant.hal.sim as sim
from verdant_host import paths

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_device_package_comes_from_device_dir():
    assert os.path.realpath(os.path.dirname(verdant.__file__)) == os.path.join(os.path.realpath(REPO), "device", "verdant")
    assert paths.DEVICE_DIR == os.path.join(REPO, "device") and paths.REPO_DIR == REPO


def test_importing_the_host_library_leaves_sys_path_alone():
    code = ("import sys; before = list(sys.path)\n"
            "import verdant_host, verdant_host.deploy, verdant_host.replay, verdant_host.pull_logs\n"
            "print(sys.path == before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True", out.stderr


def test_micropython_lookup_order(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROPYTHON", "/opt/mp/micropython")
    assert paths.micropython() == "/opt/mp/micropython"
    monkeypatch.delenv("MICROPYTHON")
    venv = os.path.join(os.path.dirname(sys.executable), "micropython")
    if os.path.exists(venv):
        assert paths.micropython() == venv
    else:  # no wheel: PATH, else the venv's path for the error message
        found = paths.micropython()
        assert found == venv or os.path.basename(found) == "micropython"


def test_board_config_names_and_paths():
    assert paths.board_config("pico") == os.path.join(REPO, "boards", "pico.json")
    assert paths.board_config("x/my.json") == "x/my.json"
    assert "sim" in paths.board_names() and "pico" in paths.board_names()
    assert os.path.exists(paths.DEFAULT_MODEL) and paths.DEFAULT_MODEL.endswith(paths.MODEL_SUFFIX)


def test_sim_clock_behaves_the_same_under_cpython():
    clock = sim.SimClock(start_s=10)
    clock.sleep_ms(1500)
    assert clock.time_s() == 11
