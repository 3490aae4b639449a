"""Progress a visitor can follow during one request: each phase (loading or downloading
the checkpoint, explaining - with its windows -, the faithfulness curves, the baseline
comparison) reports what it does, and a phase whose length is only estimated moves its
bar with the time spent against the estimate, never past the phase's end. Downloads
report the megabytes that have arrived in the checkpoint's cache folder.

The engine does not report per integration round; what is shown between two phases is
the estimate, and it says so ("about N s")."""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Optional

Progress = Callable[[float, str], None]
EVERY_S = 0.5


@contextlib.contextmanager
def ticking(
    progress: Optional[Progress], start: float, end: float, what: str, estimate_s: float, every_s: float = EVERY_S
) -> Iterator[None]:
    """Report ``what`` at ``start``, then every ``every_s`` seconds a fraction moved toward
    ``end`` by the time spent over ``estimate_s`` (stopping short of it), until the block
    ends. The reports run in a thread with this context (Gradio's progress needs it)."""
    if progress is None:
        yield
        return
    progress(start, what)
    if estimate_s <= every_s:
        yield
        return
    t0 = time.monotonic()

    def tick() -> Optional[tuple]:
        spent = time.monotonic() - t0
        left = max(estimate_s - spent, 0.0)
        note = f"about {left:.0f} s left" if left >= 1 else "finishing"
        return start + (end - start) * min(spent / estimate_s, 0.95), f"{what}... {note}"

    with _every(progress, tick, every_s, "explain-progress"):
        yield


def folder_bytes(folder: Path) -> int:
    """Bytes under ``folder`` so far (partial downloads included; 0 when it is missing)."""
    total = 0
    try:
        for path in Path(folder).rglob("*"):
            try:
                if path.is_file() and not path.is_symlink():
                    total += path.stat().st_size
            except OSError:
                continue
    except OSError:
        return 0
    return total


def hub_folder(cache_dir: str, checkpoint: str) -> Optional[Path]:
    """Where the Hub cache keeps ``org/name[@revision]`` (None for anything else)."""
    repo = (checkpoint or "").strip().split("@")[0]
    if repo.count("/") != 1 or not all(repo.split("/")):
        return None
    return Path(cache_dir) / ("models--" + repo.replace("/", "--"))


@contextlib.contextmanager
def watching_download(
    progress: Optional[Progress], folder: Optional[Path], name: str, at: float, every_s: float = EVERY_S
) -> Iterator[None]:
    """While the block runs, report the megabytes that arrived in ``folder`` (a checkpoint's
    cache folder) since it started: "Downloading org/name: 123 MB so far"."""
    if progress is None or folder is None:
        yield
        return
    before = folder_bytes(folder)

    def watch() -> Optional[tuple]:
        got = folder_bytes(folder) - before
        return (at, f"Downloading {name}: {got / 2**20:,.0f} MB so far") if got > 0 else None

    with _every(progress, watch, every_s, "explain-download"):
        yield


@contextlib.contextmanager
def _every(progress: Progress, report: Callable[[], Optional[tuple]], every_s: float, name: str) -> Iterator[None]:
    """While the block runs, every ``every_s`` seconds pass ``report()``'s (fraction, text)
    to ``progress`` (None: nothing to say yet), from a thread with this context (Gradio's
    progress needs it). A progress display must never break the request: its first
    failure stops the reports."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            try:
                got = report()
                if got is not None:
                    progress(*got)
            except Exception:  # noqa: BLE001 - see the docstring
                return

    ctx = contextvars.copy_context()
    thread = threading.Thread(target=ctx.run, args=(loop,), daemon=True, name=name)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(2 * every_s)
