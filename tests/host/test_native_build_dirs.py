"""The natmod build writes only under build/ and dist/: device/native holds sources only
(`make test MPY_DIR=...` builds the module before the tests, so leftovers would show here)."""
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NATIVE = os.path.join(REPO, "device", "native")
SOURCE_ENDINGS = (".c", ".h", ".S", ".ld", ".mk", ".cmake", "Makefile")


def test_device_native_holds_only_sources():
    strays = []
    for folder, dirs, files in os.walk(NATIVE):
        strays += [os.path.relpath(os.path.join(folder, d), REPO) for d in dirs if d.startswith(".") or d == "build"]
        strays += [os.path.relpath(os.path.join(folder, f), REPO) for f in files if not f.endswith(SOURCE_ENDINGS)]
    assert not strays, "build output in the source tree: %s" % strays
