"""Where the explainer runs: the device a model is put on, and torch's CPU threads.

Nothing here runs on import. ``configure_threads()`` is for programs that own their
process (the app, the command line, the benchmark); the library itself never changes
torch's global settings."""

from __future__ import annotations

import os
from typing import Optional

import torch

from .. import env

THREAD_ENV = ("EXPLAIN_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
MAX_THREADS = 16  # more intra-op threads rarely help a batch-1 forward pass


def choose_device(device=None) -> torch.device:
    """``None``/"auto": CUDA when available, else the CPU; otherwise the device named."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def available_cpus() -> int:
    """CPUs this process may run on (respects affinity / container limits)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def configure_threads(threads: Optional[int] = None) -> int:
    """Set torch's intra-op threads: ``threads`` if given, else ``EXPLAIN_THREADS``; when
    the user set OMP_NUM_THREADS or MKL_NUM_THREADS, leave torch as it is; otherwise
    the CPUs available to this process (at most 16). Returns the count in effect."""
    if threads is None:
        if env.text("EXPLAIN_THREADS"):
            threads = env.whole("EXPLAIN_THREADS", 1)
        elif any(env.text(name) for name in THREAD_ENV[1:]):
            return torch.get_num_threads()
        else:
            threads = min(available_cpus(), MAX_THREADS)
    threads = max(1, int(threads))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
