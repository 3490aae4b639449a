"""Checkpoint (Hub ID, local folder, or a model in memory) -> a ready Classifier, cached.

Hub IDs go through ``hub`` (checked metadata, allow-listed download) and then
``folder`` (safe loading) - one Hub download at a time. Loaded classifiers live in a small
LRU cache bounded in count and parameter bytes; an operator resizes it with
``CACHE.resize``. Checkpoints that failed for a reason of their own are remembered for
a while by a server that asks (``FailureMemo``), and a server can give each load a deadline."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Optional, Union

from ..engine import Classifier
from ..engine.device import choose_device
from ..errors import (
    BrokenCheckpoint,
    CheckpointNotFound,
    CheckpointTooLarge,
    ExplainError,
    InvalidInput,
    NotAClassifier,
    ServerBusy,
    UnsafeCheckpoint,
    UnsupportedModel,
)
from ..lru import BoundedLRU
from .folder import load_folder
from .hub import HubPolicy, fetch_checkpoint
from .hubcache import HubCache, in_use
from .rules import looks_like_path, parse_repo_id
from .sizing import warm as warm_sizing

DEFAULT_CACHE_MODELS = 3
DEFAULT_CACHE_BYTES = 3 * 2**30


def classifier_cache(max_entries: int = DEFAULT_CACHE_MODELS, max_bytes: int = DEFAULT_CACHE_BYTES) -> BoundedLRU:
    """An LRU of loaded classifiers weighed in parameter bytes (the newest always stays)."""
    return BoundedLRU(max_entries, max_bytes, weight=lambda clf: clf.nbytes, keep_newest=True)


CACHE = classifier_cache()
_FETCH_LOCK = threading.Lock()
# Loads running at once, abandoned ones (past their deadline) included: a slow load keeps
# its slot until it really ends, so a flood of slow checkpoints cannot pile up in memory.
LOAD_SLOTS = 2
_LOAD_SLOTS = threading.BoundedSemaphore(LOAD_SLOTS)
# What a checkpoint itself gets wrong (as opposed to a busy Hub or a typo): worth remembering.
_REMEMBERED = (BrokenCheckpoint, UnsafeCheckpoint, NotAClassifier, CheckpointTooLarge, UnsupportedModel)
# ... and, for a Hub repo, remembered for every revision of it: too large or too slow is what
# a hostile repo would otherwise make the server measure again under each branch or tag (the
# others stay per revision: a repo's refs/pr/N often holds the safetensors its main lacks).
_REMEMBERED_PER_REPO = (CheckpointTooLarge,)


class FailureMemo:
    """Checkpoints that failed to load, remembered for ``ttl_s`` seconds so that the same
    broken, hostile or too-slow checkpoint costs one load, not one per request. Bounded
    in entries; the oldest go first."""

    def __init__(self, ttl_s: float = 600.0, max_entries: int = 1024) -> None:
        self.ttl_s = float(ttl_s)
        self._items: BoundedLRU = BoundedLRU(max_entries, float("inf"), weight=lambda _: 1)

    def check(self, *keys: Hashable) -> None:
        """Raise the remembered error for the first of ``keys`` with one (a fresh error,
        saying so), if any."""
        for key in keys:
            found = self._items.get(key) if self.ttl_s > 0 else None
            if found is None:
                continue
            when, exc = found
            age = time.monotonic() - when
            if age >= self.ttl_s:
                continue
            note = (
                f"(This server found that {age:.0f} s ago and tries this checkpoint again "
                f"{self.ttl_s - age:.0f} s from now.)"
            )
            raise type(exc)(exc.problem, f"{exc.fix} {note}".strip())

    def remember(self, key: Hashable, exc: ExplainError) -> None:
        if self.ttl_s > 0:
            self._items.put(key, (time.monotonic(), exc))

    def clear(self) -> None:
        self._items.clear()


def load_classifier(
    source: Union[str, Path, Classifier, tuple],
    *,
    revision: Optional[str] = None,
    device=None,
    allow_local: bool = True,
    hub_policy: Optional[HubPolicy] = None,
    max_parameters: Optional[int] = None,
    load_deadline_s: Optional[float] = None,
    failures: Optional[FailureMemo] = None,
) -> Classifier:
    """A Hub ID (``org/name`` or ``org/name@revision``), a local folder, a Classifier, or
    ``(model, tokenizer)`` -> a ready Classifier. Hub IDs and folders are cached.
    ``allow_local=False`` (a public server): the string is a Hub ID and never touches
    the disk, not even to ask whether such a folder exists. ``max_parameters``: the
    largest local checkpoint (Hub ones: ``hub_policy``). ``load_deadline_s``: a load
    running longer is answered with an error at that moment (it finishes in the
    background, unused); given one (a server), a folder's implied parameters are counted
    in the sizing child and its tokenizer files bounded, under ``hub_policy``'s limits as
    Hub checkpoints always are. ``failures`` (a server's): checkpoints that failed for a
    reason of their own, too slow included, are refused from memory for a while (a Hub
    repo too large or too slow: under every revision)."""
    if isinstance(source, Classifier):
        return source
    if isinstance(source, tuple) and len(source) == 2:
        return Classifier.from_objects(*source, device=device)
    if not isinstance(source, (str, Path)) or not str(source).strip():
        raise InvalidInput("No checkpoint was given.", "Give a Hub ID like 'org/name' or a local folder.")
    text = str(source).strip()
    key = (text, revision, str(choose_device(device)), allow_local)
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    path_like = looks_like_path(text)
    if path_like and not allow_local:
        raise InvalidInput(
            f"{text!r} is a path on the server; this app loads Hub IDs only.", "Type a Hub model ID like 'org/name'."
        )
    local = Path(text).expanduser()
    server = load_deadline_s is not None  # a server: visitor-chosen loads, each under its limits
    repo_key = None
    if allow_local and (path_like or local.is_dir()):
        if not local.exists():
            raise CheckpointNotFound(f"There is no folder {text!r}.", "Check the path, or give a Hub ID like 'org/name'.")
        policy = (hub_policy or HubPolicy.from_env()) if server else None
        load = lambda: load_folder(
            local,
            device=device,
            max_parameters=max_parameters,
            sizing=policy.sizing if policy else None,
            max_tokenizer_bytes=policy.max_tokenizer_bytes if policy else None,
        )
        what = local.name
        memo_key = key[:2] + key[3:]
    else:
        repo_id, rev = parse_repo_id(text, revision)  # refuse bad IDs before anything else
        load = lambda: load_hub_classifier(text, revision=revision, policy=hub_policy, device=device)
        what = text
        # The Hub spells IDs case-insensitively: 'Org/Name@main' is 'org/name'.
        memo_key = ("hub", repo_id.lower(), rev or "main")
        repo_key = ("hub repo", repo_id.lower())
    if failures is not None:
        failures.check(memo_key, *([repo_key] if repo_key else []))
    try:
        clf = _within(load_deadline_s, what, load)
    except _REMEMBERED as exc:
        if failures is not None:
            failures.remember(memo_key, exc)
            if repo_key is not None and isinstance(exc, _REMEMBERED_PER_REPO):
                failures.remember(repo_key, exc)
        raise
    CACHE.put(key, clf)
    return clf


def _within(seconds: Optional[float], what: str, load: Callable[[], Classifier]) -> Classifier:
    """``load()``, answered by ``seconds`` at the latest (None: inline, no limit). Python
    cannot stop a thread: a load past its deadline finishes in the background holding one
    of LOAD_SLOTS, and its result is dropped."""
    if seconds is None:
        return load()
    if not _LOAD_SLOTS.acquire(timeout=30):
        raise ServerBusy("Other models are being loaded right now.", "Try again in a minute.")
    box: dict = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["value"] = load()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller (or dropped, if it gave up waiting)
            box["error"] = exc
        finally:
            _LOAD_SLOTS.release()
            done.set()

    threading.Thread(target=work, name="explain-load", daemon=True).start()
    if not done.wait(max(0.0, float(seconds))):
        raise CheckpointTooLarge(
            f"Loading {what} took longer than this server's limit of {seconds:g} s.",
            "Pick a smaller model, or run the explainer locally.",
        )
    if "error" in box:
        raise box["error"]
    return box["value"]


def load_hub_classifier(
    text: str, *, revision: Optional[str] = None, policy: Optional[HubPolicy] = None, device=None
) -> Classifier:
    """Fetch (checked) and load a Hub classifier. One download at a time (downloads and
    cache eviction never race, and a flood of new IDs queues instead of filling disk);
    the lock is released before the load, which may be slow, and the snapshot being
    loaded is kept from eviction meanwhile."""
    policy = policy or HubPolicy.from_env()
    repo_id, rev = parse_repo_id(text, revision)  # refuse bad IDs before waiting for the lock
    warm_sizing()  # its imports run while this waits for the lock and asks the Hub
    if not _FETCH_LOCK.acquire(timeout=policy.lock_wait_s):
        raise ServerBusy("Another model is being downloaded right now.", "Try again in a minute.")
    try:
        folder, sha, repo_id = fetch_checkpoint(text, revision=revision, policy=policy)
        pinned = contextlib.ExitStack()
        pinned.enter_context(in_use(repo_id, sha))  # before the lock goes: no download may evict it
    finally:
        _FETCH_LOCK.release()
    with pinned:
        clf = load_folder(
            folder,
            source=repo_id,
            revision=sha,
            device=device,
            max_parameters=policy.max_parameters,
            sizing=policy.sizing,
            max_tokenizer_bytes=policy.max_tokenizer_bytes,
        )
        cache = HubCache(policy.cache_dir, policy.cache_max_bytes)
        cache.mark_verified(repo_id, sha, {"parameters": clf.n_parameters}, rev)
        return clf
