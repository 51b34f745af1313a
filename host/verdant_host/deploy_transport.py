"""The board side of a deploy, over mpremote's or ampy's serial REPL transport.

Both give us "run this code in the raw REPL and return its output"; everything a deploy
needs (hash files, write a file in chunks, check a model with the board's own parser,
rename, reset) is built on that one primitive, so the two transports behave the same.

Example:
    with open_transport("mpremote", "/dev/pts/3") as link:
        print(link.hashes(["main.py"]))          # {"main.py": "ab12..." or None}
"""
from verdant_host.errors import VerdantError

CHUNK_BYTES = 512  # per raw-REPL exec; small enough for a board's compiler heap

_HASHES_CODE = """import hashlib, binascii
def _vh(p):
    try:
        f = open(p, 'rb')
    except OSError:
        return None
    h = hashlib.sha256()
    b = bytearray(512)
    m = memoryview(b)
    while True:
        n = f.readinto(b)
        if not n:
            break
        h.update(m[:n])
    f.close()
    return binascii.hexlify(h.digest()).decode()
for _p in %r:
    print(_p, _vh(_p))
"""

_VERIFY_MODEL_CODE = """import gc
gc.collect()
try:
    from verdant import engine
    _m = engine.load(%r)
    print('MODEL-OK', _m.backend)
except Exception as e:
    print('MODEL-ERR', type(e).__name__, e)
"""


class BoardLink:
    """Deploy operations on top of exec(code) -> output bytes (subclasses provide it)."""

    def exec(self, code):
        raise NotImplementedError

    def hashes(self, paths):
        """{path: sha256 hex or None when the file is absent} for paths on the board."""
        out = {}
        for line in self.exec(_HASHES_CODE % (list(paths),)).decode().splitlines():
            path, _, digest = line.strip().rpartition(" ")
            if path:
                out[path] = None if digest == "None" else digest
        return out

    def list_files(self, folder):
        """Every file under folder on the board, as paths relative to the root ("" if absent)."""
        code = ("import os\ndef _vl(d):\n try:\n  entries = list(os.ilistdir(d))\n except OSError:\n  return\n"
                " for e in entries:\n  p = d + '/' + e[0]\n  if e[1] & 0x4000:\n   _vl(p)\n  else:\n   print(p)\n"
                "_vl(%r)\n" % folder)
        return [line.strip() for line in self.exec(code).decode().splitlines() if line.strip()]

    def mkdir(self, path):
        self.exec("import os\ntry:\n os.mkdir(%r)\nexcept OSError as e:\n if e.args[0] != 17:\n  raise\n" % path)

    def write_file(self, path, data, progress=None):
        self.exec("f=open(%r,'wb')\nw=f.write" % path)
        for start in range(0, len(data), CHUNK_BYTES):
            self.exec("w(%r)" % bytes(data[start:start + CHUNK_BYTES]))
            if progress:
                progress(path, min(start + CHUNK_BYTES, len(data)), len(data))
        self.exec("f.close()")

    def remove(self, path):
        self.exec("import os\ntry:\n os.remove(%r)\nexcept OSError:\n pass\n" % path)

    def replace(self, src, dst):
        """Rename src over dst (FAT cannot rename onto an existing file: remove it first)."""
        self.exec("import os\ntry:\n os.rename(%r, %r)\nexcept OSError:\n os.remove(%r)\n os.rename(%r, %r)\n"
                  % (src, dst, dst, src, dst))

    def verify_model(self, path):
        """Load the model with the firmware's parser on the board; None if fine, else the error."""
        output = self.exec(_VERIFY_MODEL_CODE % path).decode().strip().splitlines()
        last = output[-1] if output else ""
        if last.startswith("MODEL-OK"):
            return None
        return last[len("MODEL-ERR "):] if last.startswith("MODEL-ERR") else "no answer from the board: %r" % output

    def hard_reset(self):
        raise NotImplementedError

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        lock = getattr(self, "port_lock", None)
        if lock is not None:
            lock.release()


class MpremoteLink(BoardLink):
    def __init__(self, port, baudrate=115200):
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport
        self._errors = (TransportError, OSError)
        try:
            self.transport = SerialTransport(port, baudrate=baudrate)
            self.transport.enter_raw_repl(soft_reset=True)  # stops main.py; a clean interpreter
        except self._errors as exc:
            raise VerdantError("deploy: cannot reach the board REPL on %s (%s); is it connected "
                               "and not in use by another program?" % (port, exc))
        self._reset_done = False

    def exec(self, code):
        from mpremote.transport import TransportExecError
        try:
            return self.transport.exec(code)
        except TransportExecError as exc:
            raise VerdantError("deploy: board error: %s" % exc.error_output.strip().splitlines()[-1])
        except self._errors as exc:
            raise VerdantError("deploy: lost the board REPL (%s)" % exc)

    def hard_reset(self):
        self.transport.exec_raw_no_follow("import machine\nmachine.reset()")
        self._reset_done = True

    def close(self):
        try:
            if not self._reset_done:
                self.transport.exit_raw_repl()
            self.transport.close()
        except Exception:  # closing a port whose board went away: nothing left to do
            pass


class AmpyLink(BoardLink):
    def __init__(self, port, baudrate=115200):
        from ampy.pyboard import Pyboard, PyboardError
        self._error = PyboardError
        try:
            self.board = Pyboard(port, baudrate=baudrate)
            self.board.enter_raw_repl()
        except (PyboardError, OSError) as exc:
            raise VerdantError("deploy: ampy cannot reach the board REPL on %s (%s)" % (port, exc))
        self._reset_done = False

    def exec(self, code):
        try:
            return self.board.exec_(code)
        except self._error as exc:
            detail = exc.args[2] if len(exc.args) > 2 else exc
            if isinstance(detail, bytes):
                detail = detail.decode(errors="replace")
            raise VerdantError("deploy: board error: %s" % str(detail).strip().splitlines()[-1])

    def hard_reset(self):
        self.board.exec_raw_no_follow("import machine\nmachine.reset()")
        self._reset_done = True

    def close(self):
        try:
            if not self._reset_done:
                self.board.exit_raw_repl()
            self.board.close()
        except Exception:  # closing a port whose board went away: nothing left to do
            pass


TRANSPORTS = {"mpremote": MpremoteLink, "ampy": AmpyLink}


def open_transport(name, port, baudrate=115200):
    if name not in TRANSPORTS:
        raise VerdantError("deploy: unknown transport %r; use one of %s" % (name, ", ".join(TRANSPORTS)))
    from verdant_host.port_lock import PortLock
    lock = PortLock(port, "verdant deploy/pull-logs").acquire()  # PortBusy when a monitor holds it
    try:
        link = TRANSPORTS[name](port, baudrate)
    except BaseException:
        lock.release()
        raise
    link.port_lock = lock
    return link
