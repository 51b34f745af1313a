"""One program at a time on a board's serial port.

`verdant monitor` holds the lock while it watches a port; deploy and pull-logs take it
for their session, so a deploy started beside a running monitor stops at once with a
clear message instead of hanging and leaving the board in the raw REPL. The lock is an
flock on a small file named after the port's real path in the temp folder (holding the
owner's pid and what it does), so it is released by the kernel even when the owner is
killed. Ports that are not files (tests' streams) are not locked.

Example:
    with PortLock("/dev/ttyACM0", "verdant monitor"):
        ...
"""
import os
import re
import tempfile
import time

from verdant_host.errors import VerdantError

try:
    import fcntl
except ImportError:  # Windows: no flock; the serial port itself is exclusive there
    fcntl = None


class PortBusy(VerdantError):
    pass


# How long acquire() waits for a holder that is letting go (a monitor stopping, a deploy
# ending) before it says the port is busy.
WAIT_S = 1.0


def lock_path(port):
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.realpath(port))
    return os.path.join(tempfile.gettempdir(), "verdant-port%s.lock" % name)


class PortLock:
    def __init__(self, port, purpose):
        self.port = port
        self.purpose = purpose
        self.path = lock_path(port)
        self._fd = None

    def acquire(self, wait_s=WAIT_S):
        if fcntl is None or self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() < deadline:  # a holder that is just letting go
                    time.sleep(0.05)
                    continue
            owner = os.read(fd, 200).decode(errors="replace").strip() or "another program"
            os.close(fd)
            raise PortBusy("%s is in use by %s; stop it first (only one program can talk to a board at a time)"
                           % (self.port, owner))
        os.ftruncate(fd, 0)
        os.write(fd, ("%s (pid %d)" % (self.purpose, os.getpid())).encode())
        self._fd = fd
        return self

    def release(self):
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            os.close(fd)  # closing drops the flock

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
