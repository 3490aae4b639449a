"""Classification heads: logits -> probabilities, targets, and the explained quantity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional, Union, get_args

import torch

from ..errors import InvalidInput
from ..options import candidate_list, check_label_text, hidden_character, label_key  # noqa: F401 - re-exported
from ..result import HeadKind

SOFTMAX, SIGMOID, REGRESSION = get_args(HeadKind)


def head_kind(config) -> HeadKind:
    """As transformers' text-classification pipeline scores it: regression only when the
    config says so; sigmoid for multi-label heads and for one output without a
    problem_type (cross-encoders, rerankers); softmax otherwise."""
    problem = getattr(config, "problem_type", None)
    if problem == "regression":
        return REGRESSION
    if problem == "multi_label_classification" or int(config.num_labels) == 1:
        return SIGMOID
    return SOFTMAX


def label_names(config) -> list[str]:
    n = int(config.num_labels)
    id2label = getattr(config, "id2label", None) or {}
    names = [str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(n)]
    if len(set(names)) != len(names):  # duplicate names would make targets ambiguous
        names = [f"{name} ({i})" for i, name in enumerate(names)]
    return names


def probabilities(logits: torch.Tensor, head: str) -> torch.Tensor:
    """Per-label probabilities (or the raw value for regression), last dim = labels."""
    if head == SOFTMAX:
        return torch.softmax(logits.float(), dim=-1)
    if head == SIGMOID:
        return torch.sigmoid(logits.float())
    return logits.float()


# --- label names a person types ---------------------------------------------------------------

# Joiners stay: some scripts (Persian, the Indic ones) and emoji sequences need them
# inside a word; two labels differing only by one are still the same label.


def resolve_label(value: Union[str, int, None], labels: Sequence[str], what: str = "target") -> Optional[int]:
    """A label given by name (case-insensitive) or index -> its index. A name with a
    control, bidi or invisible character is refused as such."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        check_label_text(value.strip(), what)
    if isinstance(value, bool):
        raise InvalidInput(f"The {what} {value!r} is not a label.", f"Use one of: {', '.join(labels)}.")
    if isinstance(value, int):
        if 0 <= value < len(labels):
            return value
    else:
        text = str(value).strip()
        exact = [i for i, name in enumerate(labels) if name == text]
        if exact:
            return exact[0]
        folded = [i for i, name in enumerate(labels) if name.lower() == text.lower()]
        if len(folded) == 1:
            return folded[0]
        if text.lstrip("-").isdigit() and 0 <= int(text) < len(labels):
            return int(text)
    raise InvalidInput(
        f"The model has no label {value!r} to use as {what}.",
        f"Use one of: {', '.join(labels)} (or its index 0-{len(labels) - 1}).",
    )


@dataclass(frozen=True)
class Quantity:
    """What the attributions add up to: a scalar per row computed from logits.

    ``output``: "log-odds" - the target's log-odds, log(p / (1 - p)): for a softmax head its
    logit minus the log-sum-exp of the other labels' (with two labels, exactly the
    difference of the two logits), for a sigmoid head its logit; it rises exactly when the
    probability shown rises. "logit" - the raw logit (a softmax logit can rise while its
    probability falls, when another label's rises more). "probability" - the probability.
    With a contrast: the target's minus the contrast's (for logits: log(p_t / p_c))."""

    head: str
    target: int
    contrast: Optional[int] = None
    output: str = "log-odds"

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        if self.output == "probability" and self.head != REGRESSION:
            values = probabilities(logits, self.head)
        else:
            values = logits
        out = values[:, self.target]
        if self.contrast is not None:
            return out - values[:, self.contrast]
        if self.output == "log-odds" and self.head == SOFTMAX:
            others = torch.cat([values[:, : self.target], values[:, self.target + 1 :]], dim=1)
            out = out - torch.logsumexp(others, dim=1)
        return out

    def values(self, logits: torch.Tensor) -> torch.Tensor:
        """(groups, 1 sequence, labels) -> (groups,)."""
        return self(logits[:, 0, :])

    @property
    def kind(self) -> str:
        """The quantity's kind, as the result states it (a reader turns it into what is shown)."""
        if self.head == REGRESSION:
            return "value"
        if self.contrast is not None:
            return "probability difference" if self.output == "probability" else "log-ratio"
        if self.output == "probability":
            return "probability"
        return "log-odds" if self.output == "log-odds" or self.head == SIGMOID else "logit"

    def describe(self, labels: Sequence[str]) -> str:
        name = labels[self.target]
        if self.head == REGRESSION:
            return "the regression output"
        if self.contrast is not None:
            other = labels[self.contrast]
            if self.output == "probability":
                return f"the probability of '{name}' minus the probability of '{other}'"
            if self.head == SIGMOID:
                return f"the log-odds of '{name}' minus the log-odds of '{other}'"
            return f"the logit of '{name}' minus the logit of '{other}' (the log of p('{name}') / p('{other}'))"
        if self.output == "probability":
            return f"the probability of '{name}'"
        if self.head == SIGMOID:
            return f"the log-odds (logit) of '{name}'"
        if self.output == "log-odds":
            return f"the log-odds of '{name}', log(p / (1 - p))"
        return f"the logit of '{name}'"


def make_quantity(head: str, labels: Sequence[str], target_index: int, contrast=None, output: str = "auto") -> Quantity:
    """The explained quantity. ``output`` "auto": the log-odds (of the target, or of it
    against the contrast), the value for regression."""
    contrast_index = resolve_label(contrast, labels, "contrast label")
    if contrast_index is not None and contrast_index == target_index:
        raise InvalidInput(
            "The contrast label is the target label itself.", "Pick a different label to contrast with, or none."
        )
    if head == REGRESSION and contrast_index is not None:
        raise InvalidInput(
            "A regression model has one output; there is nothing to contrast with.", "Leave the contrast label empty."
        )
    if output == "auto":
        output = "log-odds" if head == SOFTMAX and contrast_index is None else "logit"
    return Quantity(head, target_index, contrast_index, output)


@dataclass(frozen=True)
class ZeroShotQuantity:
    """What a zero-shot explanation adds up to, from the logits of the candidates' pairs
    (text, hypothesis) at one point: single-label, a candidate's log-softmax over every
    candidate's entailment logit (the displayed score's log); multi-label, its own
    entailment-vs-contradiction log-odds."""

    target: int  # candidate index
    entailment: int  # the NLI model's label indices
    contradiction: int
    multi_label: bool
    candidates: int
    contrast: Optional[int] = None

    def values(self, logits: torch.Tensor) -> torch.Tensor:
        """(groups, candidates, model labels) -> (groups,)."""
        logits = logits.float()
        if self.multi_label or self.candidates == 1:
            return logits[:, self.target, self.entailment] - logits[:, self.target, self.contradiction]
        return torch.log_softmax(logits[:, :, self.entailment], dim=1)[:, self.target]

    @property
    def kind(self) -> str:
        return "log-odds" if self.multi_label or self.candidates == 1 else "log-score"

    def describe(self, labels: Sequence[str]) -> str:
        name = labels[self.target]
        if self.multi_label or self.candidates == 1:
            return f"the log-odds of the score of '{name}' (its hypothesis: entailed vs contradicted)"
        return f"the log of the score of '{name}' among the {self.candidates} candidate labels"


def zero_shot_scores(logits: torch.Tensor, entailment: int, contradiction: int, multi_label: bool) -> torch.Tensor:
    """The zero-shot pipeline's scores from the candidates' logits (candidates, model labels)."""
    logits = logits.float()
    if multi_label or logits.shape[0] == 1:
        pair = logits[:, [contradiction, entailment]]
        return torch.softmax(pair, dim=-1)[:, 1]
    return torch.softmax(logits[:, entailment], dim=0)


def nli_labels(labels: Sequence[str]) -> tuple:
    """(entailment, contradiction) label indices as the zero-shot pipeline picks them: the
    first label starting with "entail" (else the last), contradiction the first label
    unless entailment is, then the last. Only for an NLI model: its labels must name an
    entailment and a contradiction (or not-entailment) label, or zero-shot scores would
    be some other label read as entailment, shown as confidently as real ones."""
    keys = [" ".join(str(name).lower().replace("_", " ").replace("-", " ").split()) for name in labels]
    has_entailment = any(k.startswith("entail") for k in keys)
    has_contradiction = any(k.startswith(("contradict", "not entail", "non entail")) for k in keys)
    if not (has_entailment and has_contradiction):
        raise InvalidInput(
            "Zero-shot classification needs an NLI model, one whose labels include entailment and "
            "contradiction (or not_entailment); this model's labels are "
            f"{', '.join(repr(str(n)) for n in labels[:8])}{', …' if len(labels) > 8 else ''}.",
            "Use an NLI checkpoint, e.g. facebook/bart-large-mnli or "
            "cross-encoder/nli-deberta-v3-small, or leave the candidate labels empty to explain this "
            "model's own labels.",
        )
    entail = next((i for i, k in enumerate(keys) if k.startswith("entail")), len(labels) - 1)
    return entail, (len(labels) - 1 if entail == 0 else 0)
