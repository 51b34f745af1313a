"""Shared helpers for tests that drive a virtual board with the real mpremote CLI."""
import os
import subprocess
import sys
import time

import pytest

from verdant_host import paths

REPO = paths.REPO_DIR
VENV_BIN = os.path.dirname(sys.executable)
MPREMOTE = os.path.join(VENV_BIN, "mpremote")
MICROPYTHON = paths.micropython()


def require_tools():
    if not os.path.exists(MICROPYTHON):
        pytest.skip("micropython Unix port not found at %s (set MICROPYTHON)" % MICROPYTHON)
    if not os.path.exists(MPREMOTE):
        pytest.skip("mpremote not installed next to %s" % sys.executable)


def mpremote(port, *args, timeout=60, check=True):
    """Run the stock mpremote CLI against the port; returns the CompletedProcess."""
    result = subprocess.run([MPREMOTE, "connect", port, *args], capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError("mpremote %s failed (%d):\n%s\n%s" % (
            " ".join(args), result.returncode, result.stdout, result.stderr))
    return result


def read_until(serial_port, ending, timeout=10):
    """Read from a pyserial port until `ending` arrives; returns everything read."""
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(ending) and time.monotonic() < deadline:
        data += serial_port.read(1)
    return data


def processes_in(folder):
    """PIDs of processes whose working directory is folder (the vboard's interpreter)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.readlink("/proc/%s/cwd" % pid) == folder:
                    found.append(int(pid))
            except OSError:
                pass
    return found
