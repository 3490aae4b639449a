"""Can the explanation be trusted? Deletion/insertion curves and AOPC against random
words (``faithfulness``), re-explaining under other baseline tokens (``baselines``),
and plain-language verdicts (``trust``). Runs the engine, never the public API."""

from .baselines import compare_baselines, kendall_tau, spearman
from .faithfulness import evaluate_faithfulness, hide_words
from .trust import trust_summary, with_trust

__all__ = [
    "compare_baselines",
    "evaluate_faithfulness",
    "hide_words",
    "kendall_tau",
    "spearman",
    "trust_summary",
    "with_trust",
]
