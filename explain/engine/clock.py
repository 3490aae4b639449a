"""A wall-clock deadline the engine polls between integration rounds, chunks and
windows. Whoever runs the engine sets it (a server, per request); the engine only
checks it, so a request past its time stops cleanly with ``ServerBusy`` - and one that
nobody waits for any more (``abandoned_when``) with ``Abandoned``."""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from typing import Optional

from ..errors import Abandoned, ServerBusy

_DEADLINE: contextvars.ContextVar = contextvars.ContextVar("explain_deadline", default=None)
_GONE: contextvars.ContextVar = contextvars.ContextVar("explain_abandoned", default=None)


@contextlib.contextmanager
def abandoned_when(flag) -> Iterator[None]:
    """Within this block, ``check_deadline()`` raises Abandoned once ``flag`` (a
    threading.Event) is set: whoever asked for the run has gone."""
    token = _GONE.set(flag)
    try:
        yield
    finally:
        _GONE.reset(token)


@contextlib.contextmanager
def deadline(seconds: Optional[float]) -> Iterator[None]:
    """Within this block, ``check_deadline()`` raises ServerBusy once ``seconds`` have
    passed (None: no deadline). Per thread/context, so concurrent requests don't mix."""
    if seconds is None:
        yield
        return
    token = _DEADLINE.set((time.monotonic() + float(seconds), float(seconds)))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def current() -> Optional[tuple]:
    """(monotonic end, seconds allowed) of the deadline in force, or None."""
    return _DEADLINE.get()


def check_deadline() -> None:
    """Raise ServerBusy if the current request ran past its deadline, Abandoned if nobody
    waits for it any more."""
    gone = _GONE.get()
    if gone is not None and gone.is_set():
        raise Abandoned("Nobody waits for this explanation any more, so it was stopped.", "Run it again.")
    now = _DEADLINE.get()
    if now is not None and time.monotonic() > now[0]:
        raise ServerBusy(
            f"This explanation ran past this server's limit of {now[1]:g} s, so it was stopped.",
            "Try a shorter text or fewer integration steps, or run the explainer locally.",
        )
