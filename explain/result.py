"""The immutable result of one explanation and its JSON form."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Optional

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class TokenScore:
    """One model token. ``start``/``end`` index the original text (None for special tokens)."""

    index: int
    token: str
    token_id: int
    start: Optional[int]
    end: Optional[int]
    score: float
    special: bool = False
    window: int = 0


@dataclass(frozen=True)
class WordScore:
    """A word (or punctuation mark) of the original text: ``text[start:end]``."""

    text: str
    start: int
    end: int
    score: float
    n_tokens: int


@dataclass(frozen=True)
class Window:
    """One model-sized slice of a long text, explained on its own."""

    start: int  # character span of the text the model saw
    end: int
    owned_start: int  # characters whose scores come from this window
    owned_end: int
    n_tokens: int
    steps: int
    completeness_error: float
    converged: bool
    f_input: float
    f_baseline: float
    sum_attributions: float
    forward_rows: int = 0  # forward-only rows spent (no gradient): ends of a fixed rule, predictions
    rounds: int = 0  # sequential batched passes of gradient rows (each may be chunked for memory)


@dataclass(frozen=True)
class Explanation:
    """Everything one explanation says; ``to_dict()`` is plain JSON."""

    text: str
    checkpoint: dict
    head: str  # "softmax" | "sigmoid" | "regression"
    labels: tuple
    probabilities: dict  # label -> probability (softmax/sigmoid) or value (regression)
    predicted: str
    target: str
    contrast: Optional[str]
    explained: str  # the quantity the scores add up to, in words
    baseline: dict
    steps: int
    tolerance: float
    converged: bool
    completeness_error: float  # relative, path-matched; max over windows
    tokens: tuple
    words: tuple
    windows: tuple
    timings: dict
    device: str
    schema_version: str = SCHEMA_VERSION
    extras: dict = field(default_factory=dict)  # optional add-ons (faithfulness, ...)

    @property
    def sum_attributions(self) -> float:
        return float(sum(w.sum_attributions for w in self.windows))

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["labels"] = list(self.labels)
        return _jsonable(out)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def replace(self, **changes: Any) -> "Explanation":
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict) -> "Explanation":
        """Inverse of ``to_dict()`` (e.g. a result read back from JSON to render it again)."""
        data = dict(data)
        known = {f.name for f in dataclasses.fields(cls)}
        data["labels"] = tuple(data.get("labels", ()))
        data["tokens"] = tuple(TokenScore(**t) for t in data.get("tokens", ()))
        data["words"] = tuple(WordScore(**w) for w in data.get("words", ()))
        data["windows"] = tuple(Window(**w) for w in data.get("windows", ()))
        return cls(**{k: v for k, v in data.items() if k in known})

    def top_words(self, k: int = 5) -> list:
        """The k words with the largest absolute score, largest first."""
        return sorted(self.words, key=lambda w: -abs(w.score))[:k]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    return value
