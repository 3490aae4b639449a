"""Explain a text classifier's prediction: signed word attributions with layer
integrated gradients, for any transformers sequence-classification checkpoint.

    >>> from explain import explain
    >>> result = explain("The film was terrible.", "examples/minilm-rt-sentiment")
    >>> result.predicted, result.top_words(3)

The package, by layer (each imports only the ones below it; ``.importlinter`` checks):
``cli`` and ``serving`` -> ``api`` -> ``checks`` and ``checkpoints`` -> ``engine``;
``render`` beside the engine; ``result``, ``errors``, ``env`` and ``lru`` at the bottom.
"""

from .api import compare_baselines, explain
from .checkpoints import load_classifier
from .engine import Classifier, deadline
from .errors import ExplainError
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
)

__all__ = [
                     "SCHEMA_VERSION",
                     "BaselineComparison",
                     "Classifier",
                     "ExplainError",
                     "Explanation",
                     "Extras",
                     "FaithfulnessReport",
                     "TokenScore",
                     "TrustCheck",
                     "Window",
                     "WordScore",
                     "compare_baselines",
                     "deadline",
                     "explain",
                     "load_classifier",
]
