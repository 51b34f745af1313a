"""The board side of MicroPython's REPL protocol, as mpremote, ampy and people use it,
without any I/O: bytes from the host go in (feed), and the effects come out through three
methods the owner provides (the virtual board's pty supervisor, verdant_host.vboard, or a
test): _send(bytes) puts bytes on the serial line, _request(kind, code, after) runs code
("r" raw REPL, "s" friendly statement, "p" paste block) and calls after(status) with
"ok" | "exc" | "exit" (SystemExit: soft reset) | "reset" (machine.reset()), and
_boot(hard, raw) restarts the interpreter.

Modes: friendly REPL with echo, `... ` continuation and paste mode (Ctrl-E); raw REPL
(Ctrl-A), raw-paste with its flow-control window (Ctrl-E A Ctrl-A); soft reset (Ctrl-D at
an empty prompt). Ctrl-C while code runs is the owner's job (it signals the interpreter).

Example (a test):
    class Line(ReplProtocol):
        def __init__(self): super().__init__(); self.out = b""
        def _send(self, data): self.out += data
        ...
    line.feed(b"\x01")       # -> b"raw REPL; CTRL-B to exit\r\n>"
"""

RAW_REPL_BANNER = b"raw REPL; CTRL-B to exit\r\n"
RAW_PASTE_WINDOW = 256
FRIENDLY, RAW, RAW_PASTE, PASTE, EXECUTING, STOPPED = "friendly", "raw", "raw-paste", "paste", "executing", "stopped"


class ReplProtocol:
    """REPL state machine; version and board_name make the friendly banner."""

    version = "?"
    board_name = "Verdant vboard"

    def __init__(self):
        self._state = STOPPED
        self._line = bytearray()
        self._block = []
        self._pending = bytearray()
        self._paste_remain = 0

    def _send(self, data):
        raise NotImplementedError

    def _request(self, kind, payload, after):
        raise NotImplementedError

    def _boot(self, hard, raw=False):
        raise NotImplementedError

    def feed(self, data):
        """Bytes from the host; handled at once unless code is running (then they wait)."""
        self._pending.extend(data)
        self._process_pending()

    def _process_pending(self):
        while self._pending and self._state not in (EXECUTING, STOPPED):
            byte = self._pending.pop(0)
            {FRIENDLY: self._friendly_byte, RAW: self._raw_byte, RAW_PASTE: self._raw_paste_byte,
             PASTE: self._paste_byte}[self._state](byte)

    def _enter_raw(self):
        self._state = RAW
        self._line = bytearray()
        self._send(RAW_REPL_BANNER + b">")

    def _enter_friendly(self):
        self._state = FRIENDLY
        self._line = bytearray()
        self._block = []
        self._send(b"MicroPython v%s on vboard; %s with unix\r\nType \"help()\" for more information.\r\n>>> "
                   % (str(self.version).encode(), self.board_name.encode()))

    def _after_raw_exec(self, status):
        if status in ("exit", "reset"):
            return self._boot(hard=status == "reset", raw=status == "exit")
        self._state = RAW
        self._line = bytearray()
        self._send(b">")

    def _raw_byte(self, byte):
        if byte == 0x01:  # Ctrl-A: raw-paste request, or restart the raw REPL
            if len(self._line) == 2 and self._line[0] == 0x05:
                if self._line[1] == ord("A"):
                    self._send(b"R\x01" + RAW_PASTE_WINDOW.to_bytes(2, "little"))
                    self._state = RAW_PASTE
                    self._line = bytearray()
                    self._paste_remain = RAW_PASTE_WINDOW
                else:
                    self._send(b"R\x00")
                    self._line = bytearray()
                return
            self._enter_raw()
        elif byte == 0x02:  # Ctrl-B: friendly REPL
            self._send(b"\r\n")
            self._enter_friendly()
        elif byte == 0x03:
            self._line = bytearray()
        elif byte == 0x04:
            self._send(b"OK")
            if not self._line:
                self._send(b"\r\n")
                self._boot(hard=False, raw=True)
                return
            self._request("r", bytes(self._line), self._after_raw_exec)
        else:
            self._line.append(byte)

    def _raw_paste_byte(self, byte):
        if byte in (0x03, 0x04):
            self._send(b"\x04")
            if byte == 0x03:
                self._send(b"\x04Traceback (most recent call last):\r\nKeyboardInterrupt: \r\n\x04")
                self._after_raw_exec("exc")
                return
            self._request("r", bytes(self._line), self._after_raw_exec)
            return
        self._line.append(byte)
        self._paste_remain -= 1
        if self._paste_remain == 0:
            self._send(b"\x01")
            self._paste_remain = RAW_PASTE_WINDOW

    def _prompt(self):
        self._send(b"... " if self._block else b">>> ")

    def _after_friendly_exec(self, status):
        if status in ("exit", "reset"):
            return self._boot(hard=status == "reset")
        self._state = FRIENDLY
        self._line = bytearray()
        self._block = []
        self._prompt()

    def _friendly_byte(self, byte):
        if byte == 0x01:
            self._send(b"\r\n")
            self._enter_raw()
        elif byte == 0x02:
            self._send(b"\r\n")
            self._enter_friendly()
        elif byte == 0x03:
            self._line = bytearray()
            self._block = []
            self._send(b"\r\n")
            self._prompt()
        elif byte == 0x04:
            if not self._line and not self._block:
                self._send(b"\r\n")
                self._boot(hard=False)
        elif byte == 0x05:
            self._line = bytearray()
            self._state = PASTE
            self._send(b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ")
        elif byte in (0x08, 0x7F):
            if self._line:
                self._line.pop()
                self._send(b"\x08 \x08")
        elif byte == 0x0D:
            self._send(b"\r\n")
            self._friendly_line(bytes(self._line))
        elif byte >= 0x20 or byte == 0x09:
            self._line.append(byte)
            self._send(bytes([byte]))

    def _friendly_line(self, line):
        self._line = bytearray()
        if self._block:
            if line.strip():
                self._block.append(line)
                return self._prompt()
            code, self._block = b"\n".join(self._block) + b"\n", []
            return self._request("s", code, self._after_friendly_exec)
        if not line.strip():
            return self._prompt()
        if line.rstrip().endswith(b":"):
            self._block = [line]
            return self._prompt()
        self._request("s", line, self._after_friendly_exec)

    def _paste_byte(self, byte):
        if byte == 0x03:
            self._send(b"\r\n")
            self._state = FRIENDLY
            self._line = bytearray()
            self._prompt()
        elif byte == 0x04:
            self._send(b"\r\n")
            self._request("p", bytes(self._line), self._after_friendly_exec)
        else:
            if byte == 0x0D:
                self._line.append(0x0A)
                self._send(b"\r\n=== ")
            elif byte != 0x0A:
                self._line.append(byte)
                self._send(bytes([byte]))
