"""Reading the EXPLAIN_* settings an operator gives in the environment (stdlib only).

The one parser every layer uses: a number that does not parse is the default, never a
crash at start-up. Nothing reads the environment at import time; callers ask when they
build their settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Optional


def number(name: str, default: float, env: Optional[Mapping[str, str]] = None) -> float:
    """``float(env[name])``, or ``default`` when unset, empty or not a number."""
    raw = (os.environ if env is None else env).get(name, "")
    try:
        return float(raw) if str(raw).strip() else float(default)
    except ValueError:
        return float(default)


def whole(name: str, default: int, env: Optional[Mapping[str, str]] = None) -> int:
    """``number()`` as an int (1e3 and 1000.0 are accepted)."""
    return int(number(name, default, env))


def text(name: str, default: str = "", env: Optional[Mapping[str, str]] = None) -> str:
    return str((os.environ if env is None else env).get(name, default) or default).strip()


def flag(name: str, env: Optional[Mapping[str, str]] = None) -> bool:
    """True for 1/true/yes/on (any case)."""
    return text(name, "", env).lower() in ("1", "true", "yes", "on")
