"""Rate-limited logging of repeated events, such as refusals under a flood (stdlib only).

The first event of a kind is logged in full; after that, at most one summary line per
interval and kind ("refused (busy) 1,580 times in the last 60 s"), written when the next
event of that kind comes after the interval (or at ``flush()``): no thread, no timer. A
kind that stayed quiet for a whole interval is logged in full again. The clock is
injectable, so a test needs no sleeping.

    book = Logbook(logging.getLogger("explain.app"))
    book.note("refused (busy)", "refused (busy): visitor %s has %d events queued", key, n)

``note(logger, kind, message, *args)`` uses one shared book per logger."""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_INTERVAL_S = 60.0
MAX_KINDS = 256  # kinds remembered at once (a kind is a short fixed text; the oldest go first)


@dataclass
class _Kind:
    since: float  # when the current interval began (its first line was written)
    count: int = 0  # events since then not written


class Logbook:
    """Logs to ``logger`` at ``level``: each kind's first event in full, then one summary
    line per ``interval_s``. ``clock``: seconds, monotonic (tests pass their own)."""

    def __init__(
        self,
        logger: logging.Logger,
        interval_s: float = DEFAULT_INTERVAL_S,
        level: int = logging.INFO,
        clock: Callable[[], float] = time.monotonic,
        max_kinds: int = MAX_KINDS,
    ) -> None:
        self.logger = logger
        self.interval_s = float(interval_s)
        self.level = level
        self.clock = clock
        self.max_kinds = max(1, int(max_kinds))
        self._kinds: collections.OrderedDict[str, _Kind] = collections.OrderedDict()
        self._lock = threading.Lock()

    def note(self, kind: str, message: str, *args: object) -> bool:
        """Count one event of ``kind``; log ``message % args`` if it is the first of its
        kind (or the first after a quiet interval), or a summary line if an interval has
        passed since the last line. Returns whether a line was written."""
        now = self.clock()
        with self._lock:
            state = self._kinds.get(kind)
            if state is None or (now - state.since >= self.interval_s and state.count == 0):
                self._kinds[kind] = _Kind(since=now)
                self._kinds.move_to_end(kind)
                while len(self._kinds) > self.max_kinds:
                    self._kinds.popitem(last=False)
                line = (message, args)
            else:
                state.count += 1
                if now - state.since < self.interval_s:
                    return False
                line = self._summary(kind, state, now)
                state.since, state.count = now, 0
        self.logger.log(self.level, line[0], *line[1])
        return True

    def flush(self) -> int:
        """Write the summary of every kind with events not yet written (at shutdown, or
        when a caller wants the counts now). Returns the number of lines written."""
        now = self.clock()
        with self._lock:
            lines = [self._summary(kind, state, now) for kind, state in self._kinds.items() if state.count]
            for state in self._kinds.values():
                if state.count:
                    state.since, state.count = now, 0
        for message, args in lines:
            self.logger.log(self.level, message, *args)
        return len(lines)

    @staticmethod
    def _summary(kind: str, state: _Kind, now: float) -> tuple:
        n = state.count
        return "%s %s time%s in the last %.0f s", (kind, f"{n:,}", "" if n == 1 else "s", now - state.since)


_BOOKS: dict = {}
_BOOKS_LOCK = threading.Lock()


def book(logger: logging.Logger) -> Logbook:
    """The shared Logbook of ``logger`` (made on first use, default interval)."""
    with _BOOKS_LOCK:
        found = _BOOKS.get(logger.name)
        if found is None:
            found = _BOOKS[logger.name] = Logbook(logger)
        return found


def note(logger: logging.Logger, kind: str, message: str, *args: object) -> bool:
    """``book(logger).note(kind, message, *args)``."""
    return book(logger).note(kind, message, *args)
