"""Shared pytest set-up. The host tests import the board's code as the `verdant` package
(host/verdant links to device/verdant), from the install or PYTHONPATH=host."""
import os
import tempfile


def pytest_configure(config):
    # Side by side (pytest-xdist), each worker gets its own temp folder: port locks live
    # there and are named after the port's path, and a pty closed by one worker's test
    # (a monitor still waiting for it, holding its lock) is reused by the other's board.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        os.environ["TMPDIR"] = tempfile.mkdtemp(prefix="verdant-tests-%s-" % worker)
        tempfile.tempdir = None
