"""The one error type the CLI turns into `verdant: message` and a non-zero exit."""


class VerdantError(Exception):
    """A user or device error; the message says what went wrong (and a hint when useful)."""


class BackendUnavailable(Exception):
    """An engine backend cannot run here (a tool or build is missing); the message says why."""
