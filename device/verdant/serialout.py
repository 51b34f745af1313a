"""Output routes for protocol lines: objects with write(line bytes) (see verdant.app)."""


class CallOutput:
    """An output route from a function taking the line (tests, the host replay)."""

    def __init__(self, func):
        self.write = func


class SerialOutput:
    """The board's serial port (hal.serial, looked up at each line), else sys.stdout.

    It writes each line out before returning, so the app hands it the encoder's own
    buffer (a memoryview) instead of a copy."""

    writes_at_once = True

    def __init__(self, hal):
        self.hal = hal

    def write(self, line):
        serial = getattr(self.hal, "serial", None)
        return (serial or StdoutOutput()).write(line)


class StdoutOutput:
    """Protocol lines to sys.stdout (the USB/UART REPL stream on boards and the vboard)."""

    def write(self, buf):
        import sys
        out = getattr(sys.stdout, "buffer", None)
        if out is not None:
            out.write(buf)
        else:
            sys.stdout.write(bytes(buf).decode())
        return len(buf)
