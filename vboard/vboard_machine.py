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
control = None    # set by the vboard runtime: control(line) tells the supervisor


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
    """Watchdog: the supervisor resets the board when it is not fed within the timeout
    (with `verdant vboard --watchdog`; otherwise it only counts feeds). Once created it
    runs until a hard reset, as on esp32 and rp2; creating it again restarts the count."""

    def __init__(self, id=0, timeout=5000):
        if timeout <= 0:
            raise ValueError("WDT timeout must be > 0 ms")
        self.timeout = timeout
        self.feeds = 0
        if control:
            control("W %d" % timeout)

    def feed(self):
        self.feeds += 1
        if control:
            control("F")


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
