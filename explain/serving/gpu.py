"""ZeroGPU: on a Hugging Face Space with a ZeroGPU (the ``spaces`` package installed), the
functions that run a model must be wrapped with ``spaces.GPU``, which attaches a GPU for
the duration of each call. Elsewhere (``spaces`` not importable) they stay as they are."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Optional


def on_gpu(fn: Callable, duration: Optional[int] = None) -> Callable:
    """``spaces.GPU(fn)`` (with ``duration`` seconds, if given) when the ``spaces`` package
    can be imported; ``fn`` itself otherwise."""
    try:
        spaces = importlib.import_module("spaces")
    except ImportError:
        return fn
    decorator = getattr(spaces, "GPU", None)
    if decorator is None:
        return fn
    return decorator(duration=duration)(fn) if duration else decorator(fn)
