"""I2C plumbing shared by the Sensirion drivers (SHT3x, SHT4x, SCD4x): commands,
CRC-checked 16-bit words and bounded polling for results.
"""
from verdant.drivers.base import check_words, default_sleep_ms


class SensirionDevice:
    """Base: holds the bus, address, sleep function and preallocated buffers."""

    def __init__(self, bus, address, sleep_ms, max_words):
        self._bus = bus
        self.address = address
        self._sleep_ms = sleep_ms or default_sleep_ms
        self._cmd = bytearray(2)
        self._cmd1 = memoryview(self._cmd)[:1]
        self._buf = bytearray(3 * max_words)
        self._views = {}
        self._words = {}  # word count -> the kept list _read_words fills and returns

    def _write_command(self, command, nbytes=2):
        """Sends an 8-bit (nbytes=1) or 16-bit command."""
        if nbytes == 1:
            self._cmd[0] = command
            self._bus.writeto(self.address, self._cmd1)
        else:
            self._cmd[0], self._cmd[1] = command >> 8, command & 0xFF
            self._bus.writeto(self.address, self._cmd)

    def _read_words(self, words, where, attempts=1, poll_ms=0):
        """Reads `words` CRC-checked words; retries a NACK (part still busy) `attempts` times.
        Returns a list kept by the driver: unpack it, do not hold on to it."""
        # (a small frame: on 32-bit ports one of more than 11 words is a heap block per call)
        view = self._views.get(words) or self._view(words)
        if attempts == 1:
            self._bus.readfrom_into(self.address, view)
        else:
            self._read_polling(view, attempts, poll_ms)
        return self._checked(view, words, where)

    def _view(self, words):
        view = self._views[words] = memoryview(self._buf)[:3 * words]
        self._words[words] = [0] * words
        return view

    def _read_polling(self, view, attempts, poll_ms):
        for attempt in range(attempts):
            try:
                self._bus.readfrom_into(self.address, view)
                return
            except OSError:
                if attempt == attempts - 1:
                    raise
                self._sleep_ms(poll_ms)

    def _checked(self, view, words, where):
        return check_words(view, words, where, self.address, self._words[words])
