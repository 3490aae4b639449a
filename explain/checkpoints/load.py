"""Checkpoint (Hub ID, local folder, or a model in memory) -> a ready Classifier, cached.

Hub IDs go through ``hub`` (checked metadata, allow-listed download) and then
``folder`` (safe loading) - one Hub load at a time. Loaded classifiers live in a small
LRU cache bounded in count and parameter bytes; an operator resizes it with
``CACHE.resize``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Optional, Union

from ..engine import Classifier
from ..engine.device import choose_device
from ..errors import CheckpointNotFound, InvalidInput, ServerBusy
from ..lru import BoundedLRU
from .folder import load_folder
from .hub import HubPolicy, fetch_checkpoint
from .hubcache import HubCache
from .rules import looks_like_path, parse_repo_id

DEFAULT_CACHE_MODELS = 3
DEFAULT_CACHE_BYTES = 3 * 2**30


def classifier_cache(max_entries: int = DEFAULT_CACHE_MODELS, max_bytes: int = DEFAULT_CACHE_BYTES) -> BoundedLRU:
    """An LRU of loaded classifiers weighed in parameter bytes (the newest always stays)."""
    return BoundedLRU(max_entries, max_bytes, weight=lambda clf: clf.nbytes, keep_newest=True)


CACHE = classifier_cache()
_FETCH_LOCK = threading.Lock()


def load_classifier(source: Union[str, Path, Classifier, tuple], *, revision: Optional[str] = None,
                    device=None, allow_local: bool = True, hub_policy: Optional[HubPolicy] = None) -> Classifier:
    """A Hub ID (``org/name`` or ``org/name@revision``), a local folder, a Classifier, or
    ``(model, tokenizer)`` -> a ready Classifier. Hub IDs and folders are cached.
    ``allow_local=False`` (a public server): the string is a Hub ID and never touches
    the disk, not even to ask whether such a folder exists."""
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
        raise InvalidInput(f"{text!r} is a path on the server; this app loads Hub IDs only.",
                           "Type a Hub model ID like 'org/name'.")
    local = Path(text).expanduser()
    if allow_local and (path_like or local.is_dir()):
        if not local.exists():
            raise CheckpointNotFound(f"There is no folder {text!r}.", "Check the path, or give a Hub ID like 'org/name'.")
        clf = load_folder(local, device=device)
    else:
        clf = load_hub_classifier(text, revision=revision, policy=hub_policy, device=device)
    CACHE.put(key, clf)
    return clf


def load_hub_classifier(text: str, *, revision: Optional[str] = None, policy: Optional[HubPolicy] = None,
                        device=None) -> Classifier:
    """Fetch (checked) and load a Hub classifier. One Hub load at a time: downloads and
    cache eviction never race, and a flood of new IDs queues instead of filling disk."""
    policy = policy or HubPolicy.from_env()
    repo_id, rev = parse_repo_id(text, revision)  # refuse bad IDs before waiting for the lock
    if not _FETCH_LOCK.acquire(timeout=policy.lock_wait_s):
        raise ServerBusy("Another model is being downloaded right now.", "Try again in a minute.")
    try:
        folder, sha, repo_id = fetch_checkpoint(text, revision=revision, policy=policy)
        clf = load_folder(folder, source=repo_id, revision=sha, device=device)
        cache = HubCache(policy.cache_dir, policy.cache_max_bytes)
        cache.mark_verified(repo_id, sha, {"parameters": clf.n_parameters}, rev)
        return clf
    finally:
        _FETCH_LOCK.release()
