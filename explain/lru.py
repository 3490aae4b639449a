"""A thread-safe least-recently-used cache bounded in entries and in a total weight
(stdlib only): loaded classifiers weighed in parameter bytes, explanations in text
characters."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Hashable
from typing import Generic, Optional, TypeVar

V = TypeVar("V")


class BoundedLRU(Generic[V]):
    """At most ``max_entries`` values whose ``weight(value)`` sum to at most ``max_weight``;
    the least recently used go first. ``keep_newest``: the value just put stays even if it
    alone is over the weight (a model that was loaded anyway); otherwise such a value is
    not stored at all."""

    def __init__(self, max_entries: int, max_weight: float, weight: Callable[[V], float], keep_newest: bool = False) -> None:
        self.max_entries = max(0, int(max_entries))
        self.max_weight = max_weight
        self.weight = weight
        self.keep_newest = keep_newest
        self._items: collections.OrderedDict[Hashable, tuple] = collections.OrderedDict()
        self._total = 0.0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Optional[V]:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Hashable, value: V) -> None:
        w = float(self.weight(value))
        if self.max_entries == 0 or (w > self.max_weight and not self.keep_newest):
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._total -= old[1] if old is not None else 0.0
            self._items[key] = (value, w)
            self._total += w
            self._evict()

    def pop(self, key: Hashable) -> Optional[V]:
        """Remove ``key``; its value, or None when it was not kept."""
        with self._lock:
            found = self._items.pop(key, None)
            if found is None:
                return None
            self._total -= found[1]
            return found[0]

    def resize(self, max_entries: Optional[int] = None, max_weight: Optional[float] = None) -> None:
        """New bounds (an operator's settings); evicts down to them."""
        with self._lock:
            if max_entries is not None:
                self.max_entries = max(0, int(max_entries))
            if max_weight is not None:
                self.max_weight = max_weight
            self._evict()
            if self.max_entries == 0:
                self._items.clear()
                self._total = 0.0

    def _evict(self) -> None:
        """Drop least recently used entries until within bounds (lock held)."""
        floor = 1 if self.keep_newest else 0
        while len(self._items) > floor and (len(self._items) > self.max_entries or self._total > self.max_weight):
            _, (_, gone) = self._items.popitem(last=False)
            self._total -= gone

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._total = 0.0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)
