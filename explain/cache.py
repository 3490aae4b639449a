"""A bounded LRU cache of finished explanations.

The key is (checkpoint identity, device, text, every option that changes the result).
A checkpoint pinned to a Hub commit is identified by (source, commit), so its entries
survive the model being unloaded and loaded again; anything else (a local folder, a
model in memory) by the loaded Classifier object itself and its weights' version
counters, so neither a re-saved folder, once reloaded, nor a model trained in place
serves stale results. Explanations are immutable, so a hit returns the
stored one with only its timings replaced: ``timings["cache"] == "hit"``.
"""

from __future__ import annotations

import collections
import itertools
import os
import re
import threading
from typing import Hashable, Optional

from .result import Explanation

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_TOKENS = itertools.count(1)
_IDENTITY_LOCK = threading.Lock()


def identity(clf) -> tuple:
    """What makes two loaded classifiers give the same explanations."""
    if isinstance(clf.revision, str) and _COMMIT.match(clf.revision):
        return ("hub", clf.source, clf.revision, str(clf.device))
    with _IDENTITY_LOCK:  # a number that lives on the object (unique for the process's lifetime)
        token = getattr(clf, "_result_cache_token", None)
        if token is None:
            token = next(_TOKENS)
            setattr(clf, "_result_cache_token", token)
    # In-place changes to the weights (an optimizer step) bump the parameters' version counters.
    params = getattr(clf, "_result_cache_params", None)
    if params is None:  # listing a model's parameters walks its modules: once per classifier
        params = tuple(clf.model.parameters())
        setattr(clf, "_result_cache_params", params)
    version = sum(p._version for p in params)
    return ("object", token, version, str(clf.device))


class ResultCache:
    """At most ``max_entries`` explanations holding at most ``max_chars`` characters of
    text in all (a long text's result holds a score per token), least recently used
    evicted first."""

    def __init__(self, max_entries: int = 256, max_chars: int = 2_000_000) -> None:
        self.max_entries = max(0, int(max_entries))
        self.max_chars = int(max_chars)
        self._chars = 0
        self._items: "collections.OrderedDict[Hashable, Explanation]" = collections.OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Optional[Explanation]:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Hashable, expl: Explanation) -> None:
        if self.max_entries == 0 or len(expl.text) > self.max_chars:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._chars -= len(old.text) if old is not None else 0
            self._items[key] = expl
            self._chars += len(expl.text)
            while len(self._items) > self.max_entries or self._chars > self.max_chars:
                _, gone = self._items.popitem(last=False)
                self._chars -= len(gone.text)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


def as_hit(expl: Explanation, seconds: float) -> Explanation:
    """The stored explanation, marked as served from the cache (timings only)."""
    timings = {key: 0.0 for key in expl.timings if key.endswith("_s")}  # the same keys: nothing was computed
    timings.update(total_s=round(seconds, 6), cache="hit", computed_total_s=expl.timings.get("total_s"))
    return expl.replace(timings=timings)


RESULTS = ResultCache(int(os.environ.get("EXPLAIN_RESULT_CACHE", "256")),
                      int(os.environ.get("EXPLAIN_RESULT_CACHE_CHARS", "2000000")))
