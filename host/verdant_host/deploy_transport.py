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

_VERIFY_MODEL_CODE = """import gc, sys
if %r and %r not in sys.path:
    sys.path.insert(0, %r)
gc.collect()
try:
    from verdant import engine
    _m = engine.load(%r)
    print('MODEL-OK', _m.backend)
except Exception as e:
    print('MODEL-ERR', type(e).__name__, e)
"""


_INSTALL_CODE = _HASHES_CODE.split("for _p in")[0] + """import os
for _t, _d, _h in %r:
    if _vh(_t) != _h:
        print('BAD', _d)
        continue
    try:
        os.remove(_d)
    except OSError:
        pass
    os.rename(_t, _d)
"""

_COPY_CODE = """_s = open(%r, 'rb')
_c = open(%r, 'wb')
_b = bytearray(512)
while True:
    _n = _s.readinto(_b)
    if not _n:
        break
    _c.write(_b if _n == 512 else _b[:_n])
_s.close()
_c.close()
"""

_RTC_CODE = """try:
    import machine
    machine.RTC().datetime(%r)
    print('RTC-SET')
except (ImportError, AttributeError) as e:
    print('RTC-NONE', e)
"""


def rtc_datetime(epoch_s):
    """machine.RTC().datetime() tuple for a Unix time, in UTC: (year, month, day, weekday
    (Monday 0), hours, minutes, seconds, subseconds)."""
    import time
    t = time.gmtime(int(epoch_s))
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_wday, t.tm_hour, t.tm_min, t.tm_sec, 0)


class BoardLink:
    """Deploy operations on top of run(code) -> output bytes (subclasses provide it).

    feed_watchdog(ms): a board whose firmware started its hardware watchdog keeps it
    running through the REPL session (esp32 and rp2 cannot stop it), so from then on every
    piece of code sent feeds it first."""

    _feed = ""

    def run(self, code):
        raise NotImplementedError

    def exec(self, code):
        return self.run(self._feed + code)

    def feed_watchdog(self, timeout_ms):
        """Feed the board's watchdog (timeout_ms, as the firmware set it) on every exec."""
        self.run("import machine\n_vwdt = machine.WDT(timeout=%d)\n_vwdt.feed()" % int(timeout_ms))
        self._feed = "_vwdt.feed()\n"

    def install(self, entries):
        """Rename each (temporary path, final path, sha256) into place when the board's copy
        of the temporary file has that hash; returns the final paths whose copy did not."""
        if not entries:
            return []
        out = self.exec(_INSTALL_CODE % (list(entries),)).decode().splitlines()
        return [line[4:].strip() for line in out if line.startswith("BAD ")]

    def copy(self, src, dst):
        """Copy a file on the board (no bytes over the serial line)."""
        self.exec(_COPY_CODE % (src, dst))

    def read_text(self, path):
        """A small text file from the board, or None when it is absent."""
        out = self.exec("try:\n print(repr(open(%r).read()))\nexcept OSError:\n print(None)\n" % path)
        text = out.decode().strip().splitlines()
        import ast
        return ast.literal_eval(text[-1]) if text else None

    def set_rtc(self, epoch_s):
        """Set the board's RTC to the given Unix time (UTC); False when the port has no RTC."""
        return b"RTC-SET" in self.exec(_RTC_CODE % (rtc_datetime(epoch_s),))

    def resume_firmware(self):
        """Leave the REPL so the firmware runs again (soft reset: boot.py, then main.py)."""
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

    def list_dir(self, folder):
        """Names in a folder on the board ([] when it is absent)."""
        out = self.exec("import os\ntry:\n for _e in os.ilistdir(%r):\n  print(_e[0])\nexcept OSError:\n pass\n"
                        % folder)
        return [line.strip() for line in out.decode().splitlines() if line.strip()]

    def remove_tree(self, path):
        """Remove a file or a folder with everything in it (absent: nothing to do)."""
        self.exec("import os\ndef _vr(p):\n try:\n  entries = list(os.ilistdir(p))\n except OSError:\n"
                  "  try:\n   os.remove(p)\n  except OSError:\n   pass\n  return\n for e in entries:\n"
                  "  _vr(p + '/' + e[0])\n os.rmdir(p)\n_vr(%r)\n" % path)

    def remove(self, path):
        self.exec("import os\ntry:\n os.remove(%r)\nexcept OSError:\n pass\n" % path)

    def replace(self, src, dst):
        """Rename src over dst (FAT cannot rename onto an existing file: remove it first)."""
        self.exec("import os\ntry:\n os.rename(%r, %r)\nexcept OSError:\n os.remove(%r)\n os.rename(%r, %r)\n"
                  % (src, dst, dst, src, dst))

    def verify_model(self, path, firmware_dir=None):
        """Load the model with the firmware's parser on the board (the firmware in
        firmware_dir when given); None if fine, else the error."""
        output = self.exec(_VERIFY_MODEL_CODE % (firmware_dir, firmware_dir, firmware_dir, path)).decode().strip().splitlines()
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
    def __init__(self, port, baudrate=115200, command="deploy"):
        self.command = command  # the verdant command using the link, named in its errors
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport
        self._errors = (TransportError, OSError)
        try:
            self.transport = SerialTransport(port, baudrate=baudrate)
            self.transport.enter_raw_repl(soft_reset=True)  # stops main.py; a clean interpreter
        except self._errors as exc:
            raise VerdantError("%s: cannot reach the board REPL on %s (%s); is it connected "
                               "and not in use by another program?" % (command, port, exc))
        self._reset_done = False

    def run(self, code):
        from mpremote.transport import TransportExecError
        try:
            return self.transport.exec(code)
        except TransportExecError as exc:
            raise VerdantError("%s: board error: %s" % (self.command, exc.error_output.strip().splitlines()[-1]))
        except self._errors as exc:
            raise VerdantError("%s: lost the board REPL (%s)" % (self.command, exc))

    def hard_reset(self):
        self.transport.exec_raw_no_follow("import machine\nmachine.reset()")
        self._reset_done = True

    def resume_firmware(self):
        self.transport.exit_raw_repl()
        self.transport.serial.write(b"\x04")  # friendly-REPL Ctrl-D: soft reset runs main.py
        self._reset_done = True

    def close(self):
        try:
            if not self._reset_done:
                self.transport.exit_raw_repl()
            self.transport.close()
        except Exception:  # closing a port whose board went away: nothing left to do
            pass


class AmpyLink(BoardLink):
    def __init__(self, port, baudrate=115200, command="deploy"):
        self.command = command  # the verdant command using the link, named in its errors
        from ampy.pyboard import Pyboard, PyboardError
        self._error = PyboardError
        try:
            self.board = Pyboard(port, baudrate=baudrate)
            self.board.enter_raw_repl()
        except (PyboardError, OSError) as exc:
            raise VerdantError("%s: ampy cannot reach the board REPL on %s (%s)" % (command, port, exc))
        self._reset_done = False

    def run(self, code):
        try:
            return self.board.exec_(code)
        except self._error as exc:
            detail = exc.args[2] if len(exc.args) > 2 else exc
            if isinstance(detail, bytes):
                detail = detail.decode(errors="replace")
            raise VerdantError("%s: board error: %s" % (self.command, str(detail).strip().splitlines()[-1]))

    def hard_reset(self):
        self.board.exec_raw_no_follow("import machine\nmachine.reset()")
        self._reset_done = True

    def resume_firmware(self):
        self.board.exit_raw_repl()
        self.board.serial.write(b"\x04")  # friendly-REPL Ctrl-D: soft reset runs main.py
        self._reset_done = True

    def close(self):
        try:
            if not self._reset_done:
                self.board.exit_raw_repl()
            self.board.close()
        except Exception:  # closing a port whose board went away: nothing left to do
            pass


TRANSPORTS = {"mpremote": MpremoteLink, "ampy": AmpyLink}


def open_transport(name, port, baudrate=115200, command="deploy"):
    """A link to the board's raw REPL for `verdant <command>` (deploy, pull-logs, secrets,
    forget-learned), which its errors name."""
    if name not in TRANSPORTS:
        raise VerdantError("%s: unknown transport %r; use one of %s" % (command, name, ", ".join(TRANSPORTS)))
    from verdant_host.port_lock import PortLock
    lock = PortLock(port, "verdant " + command).acquire()  # PortBusy when a monitor holds it
    try:
        link = TRANSPORTS[name](port, baudrate, command)
    except BaseException:
        lock.release()
        raise
    link.port_lock = lock
    return link
