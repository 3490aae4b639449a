"""Bounds on one request, enforced on the server (a direct API call bypasses every
limit a browser form sets): text length in characters before tokenizing and in tokens
after, short option strings, integration steps, and a wall-clock deadline checked
between integration rounds and windows."""

from __future__ import annotations

import contextlib
import contextvars
import os
import time
from dataclasses import dataclass
from typing import Iterator, Optional

from .errors import InvalidInput, ServerBusy

_DEADLINE: contextvars.ContextVar = contextvars.ContextVar("explain_deadline", default=None)


def _env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class ServeLimits:
    """What one visitor may ask of a public server; ``from_env()`` reads EXPLAIN_*."""

    max_chars: int = 20_000
    max_tokens: int = 4_096
    deadline_s: float = 60.0
    max_steps: int = 512
    max_field_chars: int = 256        # checkpoint ID, label names, baseline token
    queue_size: int = 16
    concurrency: int = 1

    @classmethod
    def from_env(cls) -> "ServeLimits":
        return cls(max_chars=int(_env("EXPLAIN_MAX_CHARS", 20_000)), max_tokens=int(_env("EXPLAIN_MAX_TOKENS", 4_096)),
                   deadline_s=_env("EXPLAIN_DEADLINE_S", 60.0), max_steps=int(_env("EXPLAIN_MAX_STEPS", 512)),
                   queue_size=int(_env("EXPLAIN_QUEUE_SIZE", 16)), concurrency=int(_env("EXPLAIN_CONCURRENCY", 1)))


def check_request(limits: ServeLimits, text, *fields, n_steps=0) -> None:
    """Refuse an oversized request before any model work (cheap checks only)."""
    if not isinstance(text, str):
        raise InvalidInput(f"The text must be a string, not {type(text).__name__}.", "Send the text to explain.")
    if len(text) > limits.max_chars:
        raise InvalidInput(f"The text has {len(text):,} characters; this server explains at most "
                           f"{limits.max_chars:,}.", "Shorten the text, or run the explainer locally.")
    for value in fields:
        if value is not None and (not isinstance(value, str) or len(value) > limits.max_field_chars):
            shown = str(value)[:40] + ("…" if len(str(value)) > 40 else "")
            raise InvalidInput(f"The option {shown!r} is too long or not text (at most "
                               f"{limits.max_field_chars} characters).", "Give a model ID or label name.")
    try:
        steps = float(n_steps or 0)
    except (TypeError, ValueError):
        raise InvalidInput(f"Integration steps must be a number, not {n_steps!r}.", "Use 0 for adaptive.") from None
    if not 0 <= steps <= limits.max_steps or steps != int(steps):
        raise InvalidInput(f"Integration steps must be a whole number from 0 to {limits.max_steps}, not {n_steps}.",
                           "Use 0 for adaptive steps.")


def check_tokens(tokenizer, text: str, max_tokens: Optional[int]) -> int:
    """Count the text's tokens; refuse more than ``max_tokens`` (None: no limit)."""
    n = len(tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])
    if max_tokens is not None and n > max_tokens:
        raise InvalidInput(f"The text is {n:,} tokens long for this model; this server explains at most "
                           f"{max_tokens:,}.", "Shorten the text, or run the explainer locally.")
    return n


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


def check_deadline() -> None:
    """Raise ServerBusy if the current request ran past its deadline."""
    current = _DEADLINE.get()
    if current is not None and time.monotonic() > current[0]:
        raise ServerBusy(f"This explanation ran past this server's limit of {current[1]:g} s, so it was stopped.",
                         "Try a shorter text or fewer integration steps, or run the explainer locally.")
