"""device/ is exactly the board payload, declared once in device/manifest.py."""
import os

import pytest

from verdant_host import manifest, paths
from verdant_host.errors import VerdantError

# Under device/ but not a module a manifest lists: the entry points (files in the board's
# root), the manifest itself, and the C kernel (built into verdant_nn.mpy / firmware).
NOT_MODULES = {"main.py", "boot.py", "manifest.py"}


def _device_python_files():
    found = set()
    for root, dirs, names in os.walk(paths.DEVICE_DIR):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", "native")]
        for name in names:
            if name.endswith(".py"):
                found.add(os.path.relpath(os.path.join(root, name), paths.DEVICE_DIR).replace(os.sep, "/"))
    return found - NOT_MODULES


def test_every_module_under_device_is_declared_in_the_manifest():
    declared = {board for board, _ in manifest.payload(sim=True)}
    undeclared = _device_python_files() - declared
    assert not undeclared, "add these to device/manifest.py (or move them off device/): %s" % sorted(undeclared)


def test_real_boards_get_no_simulated_parts():
    real = {board for board, _ in manifest.payload(sim=False)}
    sim = {board for board, _ in manifest.payload(sim=True)}
    assert "verdant/app.py" in real and "verdant/engine/modelfile.py" in real
    assert sim - real == {p for p in sim if p.startswith("verdant/sim/")} | {"verdant/hal/sim.py"}
    assert not any(p.startswith("verdant/sim/") for p in real)


def test_manifest_api_package_walks_module_and_include(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    for rel in ("pkg/__init__.py", "pkg/sub/a.py", "pkg/notes.txt", "top.py"):
        (tmp_path / rel).write_text("")
    (tmp_path / "inner.py").write_text('options.defaults(extra=False)\nif options.extra:\n    module("top.py")\n')
    (tmp_path / "manifest.py").write_text('package("pkg")\ninclude("inner.py", extra=options.sim)\n')
    found = manifest.payload(sim=True, manifest_path=str(tmp_path / "manifest.py"))
    assert [board for board, _ in found] == ["pkg/__init__.py", "pkg/sub/a.py", "top.py"]
    assert [board for board, _ in manifest.payload(manifest_path=str(tmp_path / "manifest.py"))] == \
        ["pkg/__init__.py", "pkg/sub/a.py"]


def test_a_declared_file_that_is_missing_is_named(tmp_path):
    (tmp_path / "manifest.py").write_text('module("gone.py")\n')
    with pytest.raises(VerdantError, match="gone.py is declared"):
        manifest.payload(manifest_path=str(tmp_path / "manifest.py"))
