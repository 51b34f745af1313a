"""Read device/manifest.py, the declaration of the board payload, the way MicroPython's
tools/manifestfile.py does (package, module, include, options), so deploy copies exactly
what a frozen firmware build would contain.

Example:
    for board_path, local_path in payload(sim=True):
        print(board_path)        # "verdant/app.py", ...
"""
import os

from verdant_host import paths
from verdant_host.errors import VerdantError


class _Options:
    """`options` in a manifest: keyword arguments of include(), with defaults."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._defaults = {}

    def defaults(self, **kwargs):
        self._defaults = kwargs

    def __getattr__(self, name):
        return self._kwargs.get(name, self._defaults.get(name))


class _Manifest:
    def __init__(self):
        self.files = {}  # board path -> local path, in declaration order

    def _add(self, board_path, local_path):
        if not os.path.isfile(local_path):
            raise VerdantError("manifest: %s is declared but %s does not exist" % (board_path, local_path))
        self.files[board_path] = os.path.normpath(local_path)

    def include(self, manifest_path, **options):
        manifest_path = os.path.abspath(manifest_path)
        if os.path.isdir(manifest_path):
            manifest_path = os.path.join(manifest_path, "manifest.py")
        folder = os.path.dirname(manifest_path)

        def package(package_path, files=None, base_path=".", opt=None):
            root = os.path.join(folder, base_path)
            if files is None:
                files = []
                for top, dirs, names in os.walk(os.path.join(root, package_path)):
                    dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                    rel_top = os.path.relpath(top, os.path.join(root, package_path))
                    files += [os.path.normpath(os.path.join(rel_top, n)).replace(os.sep, "/")
                              for n in sorted(names) if n.endswith(".py")]
            for name in files:
                board_path = package_path + "/" + name
                self._add(board_path, os.path.join(root, board_path))

        def module(module_path, base_path=".", opt=None):
            self._add(module_path, os.path.join(folder, base_path, module_path))

        def include(path, **kwargs):
            self.include(os.path.join(folder, path), **kwargs)

        def unsupported(*args, **kwargs):
            raise VerdantError("manifest %s: require()/add_library() need micropython-lib, which deploy "
                               "does not fetch; vendor the module under device/" % manifest_path)

        api = {"package": package, "module": module, "include": include, "options": _Options(**options),
               "metadata": lambda **kwargs: None, "require": unsupported, "add_library": unsupported}
        try:
            with open(manifest_path) as f:
                exec(compile(f.read(), manifest_path, "exec"), api)
        except OSError as exc:
            raise VerdantError("manifest: cannot read %s (%s)" % (manifest_path, exc))


def payload(sim=False, manifest_path=None):
    """[(board path, local path)] of the modules the manifest declares, sorted."""
    manifest = _Manifest()
    manifest.include(manifest_path or paths.DEVICE_MANIFEST, sim=sim)
    return sorted(manifest.files.items())
