"""Versions of the board's code on this host and of the MicroPython in use (`verdant info`)."""
import subprocess

import verdant
from verdant_host import paths
from verdant_host.errors import VerdantError


def info(micropython=None):
    """Return a dict of versions; raises VerdantError when micropython cannot run."""
    micropython = micropython or paths.micropython()
    try:
        out = subprocess.run([micropython, "-c", "import sys; print(sys.version)"],
                             capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise VerdantError("cannot run micropython at %s (%s); set MICROPYTHON=/path" % (micropython, exc))
    return {"verdant": verdant.VERSION, "device_dir": paths.DEVICE_DIR, "micropython": out}
