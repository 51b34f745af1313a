"""Outbox: protocol lines waiting for the broker, kept in flash so nothing is lost while
Wi-Fi or the broker is down, or across a reboot; sent in order on reconnect.

Two files beside the flash log:
  <path>        the lines, appended as they were sent on the serial line ("\\n"-ended)
  <path>.pos    how many bytes of <path> the broker has acknowledged (decimal text)
The cursor is saved after each acknowledged batch, so a power cut repeats at most one
batch (delivery is at least once; seq and t identify a repeat). When everything is
sent both files are emptied. When the unsent lines would pass max_bytes, the oldest
are dropped and counted in .dropped, so a long outage never fills the flash.
A torn last line (power cut during an append) is cut off when the outbox opens.

Example:
    box = Outbox("outbox.dat")
    box.append(line)
    for line in box.peek(20): ...publish...; box.advance(sum of their lengths)
"""
try:
    import os
except ImportError:  # pragma: no cover
    import uos as os

CHUNK = 1024
MAX_LINE = 4096


def _size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return 0


class Outbox:
    def __init__(self, path, max_bytes=65536):
        if max_bytes < 2 * MAX_LINE:
            raise ValueError("outbox: max_bytes must be at least %d, got %r" % (2 * MAX_LINE, max_bytes))
        self.path = path
        self.pos_path = path + ".pos"
        self.max_bytes = max_bytes
        self.dropped = 0
        self.size = _size(path)
        self.pos = self._read_pos()
        self._cut_torn_tail()
        if self.pos > self.size:
            self.pos = 0  # the cursor is newer than the data (should not happen): resend all

    def _read_pos(self):
        try:
            with open(self.pos_path) as f:
                return max(0, int(f.read().strip() or "0"))
        except (OSError, ValueError):
            return 0

    def _save_pos(self):
        with open(self.pos_path, "w") as f:
            f.write("%d\n" % self.pos)

    def _cut_torn_tail(self):
        if not self.size:
            return
        with open(self.path, "rb") as f:
            f.seek(max(0, self.size - MAX_LINE))
            tail = f.read()
        if tail.endswith(b"\n"):
            return
        # the tail ends without a newline: keep up to the last complete line
        self._rewrite(self.size - len(tail) + tail.rfind(b"\n") + 1)

    def _rewrite(self, keep_until, start=0):
        """Keep bytes [start, keep_until) of the data file and make pos relative to start."""
        tmp = self.path + ".tmp"
        with open(self.path, "rb") as src, open(tmp, "wb") as dst:
            src.seek(start)
            left = keep_until - start
            while left > 0:
                chunk = src.read(min(CHUNK, left))
                if not chunk:
                    break
                dst.write(chunk)
                left -= len(chunk)
        try:
            os.rename(tmp, self.path)
        except OSError:  # FAT does not rename over an existing file (littlefs does)
            os.remove(self.path)
            os.rename(tmp, self.path)
        self.pos = max(0, min(self.pos, keep_until) - start)
        self.size = keep_until - start
        self._save_pos()

    def pending(self):
        return self.pos < self.size

    def append(self, line):
        if not line.endswith(b"\n"):
            line = line + b"\n"
        if len(line) > MAX_LINE:
            self.dropped += 1
            return
        if self.size + len(line) > self.max_bytes:
            self._make_room(len(line))
        with open(self.path, "ab") as f:
            f.write(line)
        self.size += len(line)

    def _make_room(self, need):
        """Drop what was sent, then the oldest unsent lines, until need bytes fit."""
        start = self.pos
        target = self.max_bytes // 2  # compact to half, so this does not run on every append
        with open(self.path, "rb") as f:
            while self.size - start + need > target:
                f.seek(start)
                block = f.read(CHUNK)
                if not block:
                    break
                cut = block.rfind(b"\n")
                if cut < 0:
                    start += len(block)
                    continue
                self.dropped += block[:cut + 1].count(b"\n")
                start += cut + 1
        if start > self.pos:
            self.pos = start
        self._rewrite(self.size, self.pos)

    def peek(self, limit=20):
        """Up to `limit` unsent lines (each with its "\\n"), oldest first."""
        lines = []
        if not self.pending():
            return lines
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            data = f.read(min(self.size - self.pos, MAX_LINE * 2))
        start = 0
        while len(lines) < limit:
            end = data.find(b"\n", start)
            if end < 0:
                break
            lines.append(data[start:end + 1])
            start = end + 1
        return lines

    def advance(self, nbytes):
        """The broker has the next nbytes: move the cursor (and empty the files when all is sent)."""
        self.pos = min(self.size, self.pos + nbytes)
        if self.pos >= self.size:
            with open(self.path, "wb"):
                pass
            self.pos = self.size = 0
        self._save_pos()
