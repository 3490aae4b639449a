"""Explain a text classifier's prediction: signed word attributions with layer
integrated gradients, for any transformers sequence-classification checkpoint.

    >>> from explain import explain
    >>> result = explain("The film was terrible.", "examples/minilm-rt-sentiment")
    >>> result.predicted, result.top_words(3)

The package, by layer (each imports only the ones below it; ``.importlinter`` checks):
``cli`` and ``serving`` -> ``corpus`` (a whole dataset: engines and the report) -> ``api``
-> ``checks`` and ``checkpoints`` -> ``engine``; ``render`` beside the engine; ``result``,
``errors``, ``env`` and ``lru`` at the bottom.
"""

from .api import compare_baselines, explain, explain_labels, explain_many, explain_zero_shot
from .checkpoints import load_classifier
from .engine import Classifier, deadline
from .errors import ExplainError
from .options import Options
from .result import (
    SCHEMA_VERSION,
    BaselineComparison,
    Explanation,
    Extras,
    FaithfulnessReport,
    TokenScore,
    TrustCheck,
    Window,
    WordScore,
    ZeroShot,
)

__all__ = [
    "explain",
    "explain_many",
    "explain_labels",
    "explain_zero_shot",
    "compare_baselines",
    "load_classifier",
    "deadline",
    "Options",
    "Classifier",
    "Explanation",
    "Extras",
    "TokenScore",
    "WordScore",
    "Window",
    "FaithfulnessReport",
    "BaselineComparison",
    "TrustCheck",
    "ZeroShot",
    "ExplainError",
    "SCHEMA_VERSION",
]
