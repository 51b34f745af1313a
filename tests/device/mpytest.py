# Small assertion helpers for device tests that run under the micropython Unix port.


class Skip(Exception):
    """Raise to skip a test with a reason."""


def skip(reason):
    raise Skip(reason)


class raises:
    """Context manager: the block must raise exc_type; the exception is kept in .value.

    with raises(ValueError, "bad crc") as r: ...  also checks the message contains text.
    """

    def __init__(self, exc_type, contains=None):
        self.exc_type = exc_type
        self.contains = contains
        self.value = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            raise AssertionError("expected %s, nothing was raised" % self.exc_type.__name__)
        if not issubclass(exc_type, self.exc_type):
            return False
        if self.contains is not None and self.contains not in str(exc):
            raise AssertionError("%s message %r lacks %r" % (exc_type.__name__, str(exc), self.contains))
        self.value = exc
        return True


def approx(a, b, tol=1e-6):
    """True when a and b differ by at most tol (absolute)."""
    return abs(a - b) <= tol
