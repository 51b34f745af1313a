"""`os` as the virtual board provides it (imported as `os` inside the vboard).

The board's filesystem folder is the root: "/main.py" means <folder>/main.py.
ilistdir() yields (name, type, inode, size) as board filesystems do.
"""
import builtins
import os as _host_os
from os import *  # noqa: F401,F403 (everything else behaves as on the Unix port)

ROOT = _host_os.getcwd()
host_open = builtins.open  # the vboard's own files (truth CSV) live outside the board folder


def _path(path):
    if isinstance(path, str) and path.startswith("/"):
        return ROOT + path.rstrip("/") if path.strip("/") else ROOT
    return path


def getcwd():
    cwd = _host_os.getcwd()
    if cwd == ROOT:
        return "/"
    return cwd[len(ROOT):] if cwd.startswith(ROOT + "/") else cwd


def chdir(path):
    _host_os.chdir(_path(path))


def ilistdir(path="."):
    base = _path(path) or "."
    for entry in _host_os.ilistdir(base):
        name, kind = entry[0], entry[1]
        size = 0
        if kind == 0x8000:
            size = _host_os.stat(base + "/" + name)[6]
        yield (name, kind, entry[2], size)


def listdir(path="."):
    return [entry[0] for entry in ilistdir(path)]


def stat(path):
    return _host_os.stat(_path(path))


def statvfs(path):
    return _host_os.statvfs(_path(path))


def remove(path):
    _host_os.remove(_path(path))


def unlink(path):
    _host_os.remove(_path(path))


def rename(old, new):
    _host_os.rename(_path(old), _path(new))


def mkdir(path):
    _host_os.mkdir(_path(path))


def rmdir(path):
    _host_os.rmdir(_path(path))


def sync():
    pass


def dupterm(stream=None, index=0):
    return None


def uname():
    return ("vboard", "vboard", "1.0", "vboard", "Verdant vboard with unix")


def open_in_root(builtin_open):
    """Wrap builtins.open so absolute paths land in the board folder."""
    def board_open(file, *args, **kwargs):
        return builtin_open(_path(file), *args, **kwargs)
    return board_open
