"""Bounds on one request, enforced on the server (a direct API call bypasses every
limit a browser form sets): text length in characters before tokenizing and in tokens
after, short option strings, integration steps, and the request's deadline (which the
engine polls, see ``explain.engine.clock``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from .. import env
from ..errors import InvalidInput


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
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> ServeLimits:
        d = cls()
        return cls(max_chars=env.whole("EXPLAIN_MAX_CHARS", d.max_chars, environ),
                   max_tokens=env.whole("EXPLAIN_MAX_TOKENS", d.max_tokens, environ),
                   deadline_s=env.number("EXPLAIN_DEADLINE_S", d.deadline_s, environ),
                   max_steps=env.whole("EXPLAIN_MAX_STEPS", d.max_steps, environ),
                   queue_size=env.whole("EXPLAIN_QUEUE_SIZE", d.queue_size, environ),
                   concurrency=env.whole("EXPLAIN_CONCURRENCY", d.concurrency, environ))


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
