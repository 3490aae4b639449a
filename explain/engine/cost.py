"""What a run will take on one model, from the engine's own passes: seconds per gradient
row per token, measured on every run (the calibration's first) and remembered per
classifier; before any run, a guess from the parameter count. Used to decide whether a
first, coarser answer is worth sending early (``run``: ``draft``)."""

from __future__ import annotations

# Seconds per gradient row per token per parameter on a 2-core CPU, one thread (the
# bundled model): the guess before a model's own passes are timed.
PRIOR_SECONDS_PER_PARAMETER = 2.5e-11
MEMO_KEY = "engine_seconds_per_row_token"


def estimated_seconds(clf, row_tokens: int) -> float:
    """Seconds for ``row_tokens`` (gradient rows x their tokens) on ``clf``."""
    rate = clf.memo.get(MEMO_KEY)
    if rate is None:
        rate = PRIOR_SECONDS_PER_PARAMETER * max(1, int(clf.n_parameters))
    return float(rate) * max(0, int(row_tokens))


def learn(clf, seconds: float, row_tokens: int) -> None:
    """Remember the rate of the latest timed gradient passes (a busy moment passes with the
    next run; the latest is what the next request will most likely see)."""
    if seconds > 0 and row_tokens > 0:
        clf.memo[MEMO_KEY] = seconds / row_tokens
