"""SIGTERM, SIGHUP and Ctrl-C all become one :class:`~faultlab.errors.Interrupted`.

A CI time-out, ``timeout``, ``docker stop`` of a runner container, a systemd stop, a closed
terminal and Ctrl-C must all end a run the same way: faults reverted, what was measured
collected, the manifest marked incomplete. :func:`interruptible` installs handlers that raise
:class:`Interrupted` once; further signals during the clean-up that follows are ignored (a
second Ctrl-C must not abort a revert half-way; SIGKILL remains the hard stop, and
``faultlab clean`` removes what it leaves).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from faultlab.errors import Interrupted

SIGNALS = tuple(s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None), signal.SIGINT) if s is not None)


class _State:
    """Shared by nested :func:`interruptible` blocks: one interruption per process."""

    raised: str | None = None


def _handler(signum: int, frame: Any) -> None:
    if _State.raised is not None:  # already stopping: let the clean-up finish
        return
    _State.raised = signal.Signals(signum).name
    raise Interrupted(_State.raised)


@contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, SIGTERM/SIGHUP/SIGINT raise :class:`Interrupted` (main thread only).

    Nested blocks are fine: the outermost restores the previous handlers on exit. Outside the
    main thread (signals cannot be handled there) the block does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    outermost = all(p is not _handler for p in previous.values())
    if outermost:
        _State.raised = None
    for s in SIGNALS:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        if outermost:
            for s, handler in previous.items():
                signal.signal(s, handler)
            _State.raised = None
