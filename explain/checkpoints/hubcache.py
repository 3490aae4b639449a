"""The app's own Hub download cache: a huggingface_hub cache folder with a byte cap.

Before a download, least-recently-used snapshots are deleted (huggingface_hub's cache
scan and delete API) until the new files fit. A small marker per snapshot records that
it passed every check and when it was last used; snapshots without one (failed or
half-finished loads) are evicted first and never served offline."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

from ..errors import CheckpointTooLarge
from .rules import FORBIDDEN_SUFFIXES

# Snapshots being loaded right now (the download lock is not held during a load): never evicted.
_IN_USE: Counter = Counter()
_IN_USE_LOCK = threading.Lock()


@contextlib.contextmanager
def in_use(repo_id: str, sha: str) -> Iterator[None]:
    """Within this block, the snapshot (repo_id, sha) is never evicted to make room."""
    with _IN_USE_LOCK:
        _IN_USE[(repo_id, sha)] += 1
    try:
        yield
    finally:
        with _IN_USE_LOCK:
            _IN_USE[(repo_id, sha)] -= 1
            if _IN_USE[(repo_id, sha)] <= 0:
                del _IN_USE[(repo_id, sha)]


class HubCache:
    """A Hub cache folder bounded to ``max_bytes``, evicting least-recently-used snapshots."""

    def __init__(self, root: os.PathLike, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = int(max_bytes)

    # -- markers ---------------------------------------------------------------------
    def _marker(self, repo_id: str, sha: str) -> Path:
        return self.root / ".explain" / f"{repo_id.replace('/', '--')}--{sha}.json"

    def mark_verified(self, repo_id: str, sha: str, facts: dict, revision: Optional[str] = None) -> None:
        """Record that this snapshot passed every check (and when it was used), and which
        commit ``revision`` (default main) named, for offline use."""
        path = self._marker(repo_id, sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"repo_id": repo_id, "sha": sha, **facts}))
        self._ref(repo_id, revision).write_text(sha)

    def _ref(self, repo_id: str, revision: Optional[str]) -> Path:
        rev = (revision or "main").replace("/", "%2F")
        path = self.root / ".explain" / "refs" / f"{repo_id.replace('/', '--')}@{rev}"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def touch(self, repo_id: str, sha: str) -> None:
        path = self._marker(repo_id, sha)
        if path.exists():
            os.utime(path)

    def is_verified(self, repo_id: str, sha: str) -> bool:
        return self._marker(repo_id, sha).is_file()

    def _last_used(self, repo_id: str, sha: str) -> float:
        path = self._marker(repo_id, sha)
        return path.stat().st_mtime if path.exists() else 0.0

    # -- snapshots -------------------------------------------------------------------
    def _repo_folder(self, repo_id: str) -> Path:
        return self.root / ("models--" + repo_id.replace("/", "--"))

    def cached_snapshot(self, repo_id: str, revision: Optional[str]) -> Optional[tuple]:
        """(folder, sha) of a verified snapshot already here, without any network."""
        repo = self._repo_folder(repo_id)
        rev = revision or "main"
        sha = rev if _is_commit(rev) else None
        ref = self._ref(repo_id, rev)
        if sha is None and ref.is_file():
            sha = ref.read_text().strip()
        if not sha or not _is_commit(sha):
            return None
        folder = repo / "snapshots" / sha
        if folder.is_dir() and self.is_verified(repo_id, sha):
            return str(folder), sha
        return None

    def size(self) -> int:
        """Bytes on disk under the cache root (blobs, partial downloads included)."""
        total = 0
        for dirpath, _, names in os.walk(self.root):
            for name in names:
                path = os.path.join(dirpath, name)
                if not os.path.islink(path):
                    try:
                        total += os.path.getsize(path)
                    except OSError:
                        pass
        return total

    def make_room(self, needed: int, keep: tuple) -> int:
        """Evict least-recently-used snapshots (never ``keep`` = (repo_id, sha), nor one
        being loaded) until ``needed`` more bytes fit under the cap. Returns the number
        evicted."""
        if needed > self.max_bytes:
            raise CheckpointTooLarge(
                f"The checkpoint needs {needed:,} bytes, more than this server's whole download "
                f"cache ({self.max_bytes:,} bytes).",
                "Pick a smaller model, or run the explainer locally.",
            )
        self.root.mkdir(parents=True, exist_ok=True)
        self.drop_partial()
        if self.size() + needed <= self.max_bytes:
            return 0
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir(self.root)
        candidates = sorted(
            (self._last_used(r.repo_id, rev.commit_hash), r.repo_id, rev.commit_hash)
            for r in info.repos
            if r.repo_type == "model"
            for rev in r.revisions
            if (r.repo_id, rev.commit_hash) != tuple(keep) and (r.repo_id, rev.commit_hash) not in _IN_USE
        )
        evicted = 0
        for _, repo_id, sha in candidates:
            if self.size() + needed <= self.max_bytes:
                break
            info.delete_revisions(sha).execute()
            self._marker(repo_id, sha).unlink(missing_ok=True)
            evicted += 1
        if self.size() + needed > self.max_bytes:
            raise CheckpointTooLarge(
                "This server's download cache is full with the model being loaded.",
                "Pick a smaller model, or run the explainer locally.",
            )
        return evicted

    def drop(self, repo_id: str, sha: str) -> None:
        """Delete one snapshot (e.g. one that failed its checks after download)."""
        from huggingface_hub import scan_cache_dir

        try:
            info = scan_cache_dir(self.root)
            if any(rev.commit_hash == sha for r in info.repos if r.repo_id == repo_id for rev in r.revisions):
                info.delete_revisions(sha).execute()
        except Exception:  # noqa: BLE001 - best effort: eviction will catch it later
            pass
        self._marker(repo_id, sha).unlink(missing_ok=True)

    def drop_partial(self, older_than_s: float = 0.0) -> None:
        """Remove leftovers of killed downloads (``*.incomplete`` blobs)."""
        now = time.time()
        for path in self.root.glob("models--*/blobs/*.incomplete"):
            try:
                if now - path.stat().st_mtime >= older_than_s:
                    path.unlink()
            except OSError:
                pass

    def forbidden_files(self) -> list:
        """Every pickle or code file anywhere in the cache (should always be empty)."""
        out = []
        for dirpath, _, names in os.walk(self.root):
            out += [os.path.join(dirpath, n) for n in names if n.lower().endswith(FORBIDDEN_SUFFIXES)]
        return out

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _is_commit(rev: str) -> bool:
    return len(rev) == 40 and all(c in "0123456789abcdef" for c in rev)
