"""`make` one at a time across processes.

Two test workers asking for the same runner at once would both rebuild it, and one could
boot an ELF the other is still writing (CI saw qemu start a zeroed image and lock up).
Under this lock the second `make` finds the target up to date and leaves it alone.

Example:
    from verdant_host.make_lock import run_make
    proc = run_make(["native-qemu-m33"])      # subprocess.CompletedProcess, text output
"""
import fcntl
import os
import subprocess

from verdant_host import paths


def run_make(args, timeout=None):
    """`make -s --no-print-directory *args` in the repository, holding build/.make.lock."""
    os.makedirs(paths.build_dir(), exist_ok=True)
    with open(paths.build_dir(".make.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return subprocess.run(["make", "-s", "--no-print-directory"] + list(args), cwd=paths.REPO_DIR,
                                  capture_output=True, text=True, timeout=timeout)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
