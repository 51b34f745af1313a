"""`machine` as the virtual board provides it (imported as `machine` inside the vboard).

reset() restarts the board like a power cycle: boot.py and main.py run again.
"""
import os
import sys

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

HardReset = None  # set by the vboard runtime; raising it ends the interpreter run


def reset():
    """Hard reset: the supervisor restarts the interpreter and runs main.py."""
    raise HardReset()


def soft_reset():
    raise SystemExit


def reset_cause():
    return int(os.getenv("VBOARD_RESET_CAUSE") or PWRON_RESET)


def unique_id():
    return b"vboard01"


def freq(hz=None):
    return 160000000


def idle():
    pass


class WDT:
    """Watchdog: counts feeds; the vboard does not enforce the timeout."""

    def __init__(self, id=0, timeout=5000):
        if timeout <= 0:
            raise ValueError("WDT timeout must be > 0 ms")
        self.timeout = timeout
        self.feeds = 0

    def feed(self):
        self.feeds += 1


class Pin:
    """Output pins only remember their value (status LED and the like)."""

    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self._value = value or 0

    def value(self, v=None):
        if v is None:
            return self._value
        self._value = 1 if v else 0

    def on(self):
        self._value = 1

    def off(self):
        self._value = 0

    def __call__(self, v=None):
        return self.value(v)
