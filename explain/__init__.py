"""Explain a text classifier's prediction: signed word attributions with layer
integrated gradients, for any transformers sequence-classification checkpoint.

    >>> from explain import explain
    >>> result = explain("The film was terrible.", "examples/minilm-rt-sentiment")
    >>> result.predicted, result.top_words(3)
"""

from .core import explain
from .errors import ExplainError
from .loading import Classifier, load_classifier
from .result import SCHEMA_VERSION, Explanation, TokenScore, WordScore, Window

__all__ = ["explain", "load_classifier", "Classifier", "Explanation", "TokenScore", "WordScore", "Window",
           "ExplainError", "SCHEMA_VERSION"]
