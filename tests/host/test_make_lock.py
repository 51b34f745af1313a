"""run_make: one make at a time across processes (two xdist workers once built the same
qemu runner at once and one booted a half-written ELF)."""
import fcntl
import os
import threading

from verdant_host import paths
from verdant_host.make_lock import run_make


def test_run_make_waits_for_the_lock_holder_then_runs():
    finished = threading.Event()
    results = []

    def build():
        results.append(run_make(["--version"]))
        finished.set()

    os.makedirs(paths.build_dir(), exist_ok=True)
    with open(paths.build_dir(".make.lock"), "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        worker = threading.Thread(target=build)
        worker.start()
        assert not finished.wait(0.5), "make ran while another process held the build lock"
        fcntl.flock(held, fcntl.LOCK_UN)
    assert finished.wait(30), "make did not run once the lock was free"
    worker.join()
    assert results[0].returncode == 0 and "Make" in results[0].stdout
