"""Bounds on one request and on what a public server keeps, enforced on the server (a
direct API call bypasses every limit a browser form sets): text length in characters
before tokenizing and in tokens after, the type of every field, short option strings,
integration steps, the request's deadline (which the engine polls, see
``explain.engine.clock``), the request body's size, sessions kept, and each visitor's
share of the queue."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from .. import env
from ..errors import InvalidInput
from ..options import candidate_list, hidden_character

PUBLIC_MAX_STEPS = 128  # the largest fixed step count on a public Space unless the operator says otherwise
_READABLE = ("L", "N", "P", "S")  # Unicode categories of letters, digits, punctuation and symbols


def public(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Running as a public service: EXPLAIN_PUBLIC=1, or on a Hugging Face Space (SPACE_ID)."""
    return env.flag("EXPLAIN_PUBLIC", environ) or bool(env.text("SPACE_ID", "", environ))


@dataclass(frozen=True)
class ServeLimits:
    """What one visitor may ask of a public server; ``from_env()`` reads EXPLAIN_*."""

    max_chars: int = 20_000
    max_tokens: int = 4_096
    deadline_s: float = 60.0
    max_steps: int = 512
    max_field_chars: int = 256  # checkpoint ID, label names, baseline token
    queue_size: int = 100  # all visitors' waiting events (each visitor may hold a few: client_queue)
    concurrency: int = 1
    sessions: int = 32  # browser tabs / API calls whose last values Gradio keeps
    client_queue: int = 2  # events one visitor may have waiting or running (0: no cap)
    proxy_hops: int = 0  # trusted proxies in front (their X-Forwarded-For names the visitor)
    load_deadline_s: float = 120.0  # loading one checkpoint
    failed_ttl_s: float = 600.0  # how long a checkpoint that failed to load is refused from memory
    downloads_mb: float = 200.0  # the share panel's download folder
    max_labels: int = 4  # labels explained at once for the page's switch (most probable first)
    max_candidates: int = 10  # zero-shot candidate labels in one request
    report_max_rows: int = 500  # rows of one file on the "Many texts" tab / the /report endpoint
    report_max_bytes: int = 256 * 1024  # its size, refused before it is read
    report_deadline_s: float = 180.0  # one report's model time (estimated before it starts; then it stops)

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> ServeLimits:
        d = cls()
        is_public = public(environ)
        return cls(
            max_chars=env.whole("EXPLAIN_MAX_CHARS", d.max_chars, environ),
            max_tokens=env.whole("EXPLAIN_MAX_TOKENS", d.max_tokens, environ),
            deadline_s=env.number("EXPLAIN_DEADLINE_S", d.deadline_s, environ),
            max_steps=env.whole("EXPLAIN_MAX_STEPS", PUBLIC_MAX_STEPS if is_public else d.max_steps, environ),
            queue_size=env.whole("EXPLAIN_QUEUE_SIZE", d.queue_size, environ),
            concurrency=env.whole("EXPLAIN_CONCURRENCY", d.concurrency, environ),
            sessions=max(1, env.whole("EXPLAIN_SESSIONS", d.sessions, environ)),
            client_queue=max(0, env.whole("EXPLAIN_CLIENT_QUEUE", d.client_queue, environ)),
            proxy_hops=max(
                0, env.whole("EXPLAIN_PROXY_HOPS", 1 if env.text("SPACE_ID", "", environ) else d.proxy_hops, environ)
            ),
            load_deadline_s=env.number("EXPLAIN_LOAD_DEADLINE_S", d.load_deadline_s, environ),
            failed_ttl_s=env.number("EXPLAIN_FAILED_TTL_S", d.failed_ttl_s, environ),
            downloads_mb=env.number("EXPLAIN_DOWNLOADS_MB", d.downloads_mb, environ),
            max_labels=max(1, env.whole("EXPLAIN_MAX_LABELS", d.max_labels, environ)),
            max_candidates=max(1, env.whole("EXPLAIN_MAX_CANDIDATES", d.max_candidates, environ)),
            report_max_rows=max(1, env.whole("EXPLAIN_REPORT_MAX_ROWS", d.report_max_rows, environ)),
            report_max_bytes=max(1, env.whole("EXPLAIN_REPORT_MAX_BYTES", d.report_max_bytes, environ)),
            report_deadline_s=env.number("EXPLAIN_REPORT_DEADLINE_S", d.report_deadline_s, environ),
        )

    @property
    def max_body_bytes(self) -> int:
        """The largest request body: the longest text written entirely as JSON \\u escapes
        of surrogate pairs (12 bytes for one character), plus 64 KiB for the other fields;
        at least a report's file (``report_max_bytes``) with the same 64 KiB."""
        return max(12 * self.max_chars, self.report_max_bytes) + 64 * 1024


def check_text(limits: ServeLimits, text: Any) -> None:
    """A string of valid Unicode, within the length limit, with something readable in it."""
    if not isinstance(text, str):
        raise InvalidInput(f"The text must be a string, not {_kind(text)}.", "Send the text to explain.")
    if len(text) > limits.max_chars:
        raise InvalidInput(
            f"The text has {len(text):,} characters; this server explains at most {limits.max_chars:,}.",
            "Shorten the text, or run the explainer locally.",
        )
    _check_unicode(text, "The text")
    if not text.strip():
        raise InvalidInput("The text is empty.", "Type or paste a sentence to explain.")
    if not any(unicodedata.category(ch)[0] in _READABLE for ch in text):
        raise InvalidInput(
            "The text has nothing readable in it: only spaces, control characters or invisible (zero-width) characters.",
            "Type or paste words to explain.",
        )


def check_pair(limits: ServeLimits, pair: Any, text: str) -> Optional[str]:
    """The optional second text of a pair: None or "" (none), else a readable string; the
    text and the pair together stay within the length limit (so the request body does too)."""
    if pair is None or pair == "":
        return None
    if not isinstance(pair, str):
        raise InvalidInput(
            f"The text pair must be a string, not {_kind(pair)}.",
            "Send the second text (a hypothesis, a passage) as a string, or leave it empty.",
        )
    if len(text) + len(pair) > limits.max_chars:
        raise InvalidInput(
            f"The text and the text pair have {len(text) + len(pair):,} characters together; this "
            f"server explains at most {limits.max_chars:,}.",
            "Shorten them, or run the explainer locally.",
        )
    _check_unicode(pair, "The text pair")
    if not pair.strip() or not any(unicodedata.category(ch)[0] in _READABLE for ch in pair):
        raise InvalidInput(
            "The text pair has nothing readable in it.",
            "Type the second text (a hypothesis, a passage), or leave it empty for one text.",
        )
    return pair


def check_candidates(limits: ServeLimits, value: Any) -> Optional[list]:
    """Zero-shot candidate labels: None or "" (not zero-shot), else a comma-separated string
    of at most ``max_candidates`` distinct labels of at most ``max_field_chars`` each."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(
            f"The candidate labels must be one string of comma-separated labels, not {_kind(value)}.",
            "Send them like 'sports, politics, cooking'.",
        )
    _check_unicode(value, "The candidate labels")
    given = [c for c in value.split(",") if c.strip()]
    if not given:
        raise InvalidInput("The candidate labels are empty.", "Give labels like 'sports, politics, cooking'.")
    if len(given) > limits.max_candidates:
        raise InvalidInput(
            f"{len(given)} candidate labels were given; this server explains at most {limits.max_candidates} at once.",
            "Give fewer labels.",
        )
    labels = candidate_list(given)  # no hidden characters, no repeats once normalised
    long = next((c for c in labels if len(c) > limits.max_field_chars), None)
    if long is not None:
        raise InvalidInput(
            f"The candidate label {_shown(long)} is too long (at most {limits.max_field_chars} characters).",
            "Give short label names.",
        )
    return labels


def check_template(limits: ServeLimits, value: Any, default: str) -> str:
    """A zero-shot hypothesis template (None or "": ``default``) within the field limits;
    its form (one '{}', no other braces) is ``Options``'s rule."""
    if value is None or value == "":
        return default
    check_field(limits, value, "hypothesis template")
    return value


def check_field(limits: ServeLimits, value: Any, what: str = "option") -> None:
    """A short option string (a model ID, a label name, a baseline token); None means the default."""
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidInput(
            f"The {what} {_shown(value)} is not text ({_kind(value)}).",
            "Give a model ID, a label name or a baseline token as a string.",
        )
    if len(value) > limits.max_field_chars:
        raise InvalidInput(
            f"The {what} {_shown(value)} is too long (at most {limits.max_field_chars} characters).",
            "Give a model ID or label name.",
        )
    _check_unicode(value, f"The {what} {_shown(value)}")
    hidden = hidden_character(value)
    if hidden is not None:
        raise InvalidInput(
            f"The {what} {_shown(value)} contains an invisible or control character ({hidden}).",
            "Type it as plain visible text.",
        )


def check_steps(limits: ServeLimits, n_steps: Any) -> int:
    """Integration steps: a whole number from 0 (adaptive) to the server's maximum, given
    as a number (None: 0). Returns it as an int; nothing is rounded."""
    if n_steps is None:
        return 0
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, float)):
        raise InvalidInput(
            f"Integration steps must be a number, not {_kind(n_steps)} {_shown(n_steps)}.",
            f"Send a whole number from 0 (adaptive) to {limits.max_steps}.",
        )
    if not math.isfinite(n_steps) or not 0 <= n_steps <= limits.max_steps or n_steps != int(n_steps):
        raise InvalidInput(
            f"Integration steps must be a whole number from 0 to {limits.max_steps}, not {n_steps}.",
            "Use 0 for adaptive steps.",
        )
    return int(n_steps)


def check_flag(value: Any, what: str) -> bool:
    """A checkbox: true or false (None: false)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(
            f"The {what} option must be true or false, not {_kind(value)} {_shown(value)}.", "Send true or false."
        )
    return value


def check_tokens(tokenizer, text: str, max_tokens: Optional[int]) -> int:
    """Count the text's tokens; refuse none at all, or more than ``max_tokens`` (None: no limit)."""
    n = len(tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])
    if n == 0:
        raise InvalidInput(
            "This model's tokenizer finds no tokens in the text, so there is nothing to explain.",
            "Type or paste words to explain.",
        )
    if max_tokens is not None and n > max_tokens:
        raise InvalidInput(
            f"The text is {n:,} tokens long for this model; this server explains at most {max_tokens:,}.",
            "Shorten the text, or run the explainer locally.",
        )
    return n


def _check_unicode(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(
            f"{what} is not valid Unicode: character {exc.start + 1:,} is a lone surrogate "
            f"(U+{ord(text[exc.start]):04X}), half of a pair that is missing.",
            "Send the text as valid UTF-8; in JSON, \\ud800-\\udfff escapes must come in pairs.",
        ) from None


def _kind(value: Any) -> str:
    names = {
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    shown = repr(value) if not isinstance(value, str) else repr(value.encode("utf-8", "backslashreplace").decode())
    return shown[:40] + ("…" if len(shown) > 40 else "")
