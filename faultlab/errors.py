"""The two kinds of failure the CLI distinguishes (exit 2 and exit 1).

Errors are raised where they are detected, with a message that names the file, field,
target or value; the CLI catches them once, prints one sentence to stderr and exits.
"""


class BadInput(ValueError):
    """The user gave something invalid (a file, a field, a target, a value): exit status 2."""


class RunFailed(RuntimeError):
    """Something that was asked for could not be done, or a check failed: exit status 1."""


class Interrupted(BaseException):
    """The program was asked to stop (SIGTERM, SIGHUP or Ctrl-C): the one interruption type.

    A ``BaseException`` like ``KeyboardInterrupt``, so that ``except Exception`` blocks do not
    swallow it and every ``finally`` on the way out runs (faults are reverted there). ``reason``
    names the signal, e.g. ``"SIGTERM"``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
