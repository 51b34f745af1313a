"""Run a piece of MicroPython code in the Unix port: the one way verify and the native
runners (and anyone else) start a MicroPython process. The module search path is given
(MICROPYPATH), never patched into the script; a missing interpreter is BackendUnavailable.

Example:
    proc = run_script("import verdant; print(verdant.VERSION)", search=[paths.DEVICE_DIR])
    proc.stdout            # "0.1.0\\n"
"""
import os
import subprocess

from verdant_host import paths
from verdant_host.errors import BackendUnavailable


def run_script(code, search=(), micropython=None, heap_bytes=None, cwd=None, timeout=600):
    """subprocess.CompletedProcess (text) of `micropython -c code` with MICROPYPATH =
    search + the port's frozen modules; BackendUnavailable when it cannot start."""
    micropython = micropython or paths.micropython()
    if not os.path.exists(micropython):
        raise BackendUnavailable("no micropython Unix port at %s (set MICROPYTHON)" % micropython)
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(list(search) + [".frozen"]))
    argv = [micropython] + (["-X", "heapsize=%d" % heap_bytes] if heap_bytes else []) + ["-c", code]
    try:
        return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackendUnavailable("cannot run %s (%s)" % (micropython, exc))
