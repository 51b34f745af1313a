# A RAM file system for device tests: open(path, mode) on bytearrays, with an
# optional write budget that simulates a power cut in the middle of a write.


class PowerCut(Exception):
    """Raised when the simulated supply fails during a write."""


class MemFile:
    def __init__(self, fs, path, data, writable, text=False):
        self.text = text
        self.fs = fs
        self.path = path
        self.data = data
        self.pos = 0
        self.writable = writable

    def read(self, n=-1):
        end = len(self.data) if n is None or n < 0 else min(len(self.data), self.pos + n)
        out = bytes(self.data[self.pos:end])
        self.pos = end
        return out.decode() if self.text else out

    def readinto(self, buf):
        import io  # its readinto fills any buffer (arrays of floats too), as a board file's does
        n = io.BytesIO(bytes(self.data[self.pos:self.pos + len(bytes(buf))])).readinto(buf)
        self.pos += n
        return n

    def seek(self, pos, whence=0):
        self.pos = pos if whence == 0 else (self.pos + pos if whence == 1 else len(self.data) + pos)
        return self.pos

    def write(self, buf):
        if not self.writable:
            raise OSError(9)
        buf = buf.encode() if isinstance(buf, str) else bytes(buf)
        if self.fs.budget is not None:
            allowed = min(len(buf), self.fs.budget)
            self.fs.budget -= allowed
            self._put(buf[:allowed])
            if allowed < len(buf):
                raise PowerCut("power cut after %d of %d bytes" % (allowed, len(buf)))
            return allowed
        self._put(buf)
        return len(buf)

    def _put(self, buf):
        end = self.pos + len(buf)
        if end > len(self.data):
            self.data.extend(bytes(end - len(self.data)))
        self.data[self.pos:end] = buf
        self.pos = end

    def flush(self):
        pass

    def close(self):
        pass


class MemFS:
    def __init__(self, files=None):
        self.files = dict(files or {})
        self.budget = None  # bytes that may still be written before the power cut

    def copy(self):
        return MemFS(dict((k, bytearray(v)) for k, v in self.files.items()))

    def rename(self, old, new):
        if old not in self.files:
            raise OSError(2)
        self.files[new] = self.files.pop(old)

    def open(self, path, mode="r"):
        if "w" in mode:
            self.files[path] = bytearray()
            return MemFile(self, path, self.files[path], True, "b" not in mode)
        if path not in self.files:
            raise OSError(2)
        return MemFile(self, path, self.files[path], "+" in mode or "a" in mode, "b" not in mode)
