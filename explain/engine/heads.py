"""Classification heads: logits -> probabilities, targets, and the explained quantity."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional, Union, get_args

import torch

from ..errors import InvalidInput
from ..result import HeadKind, OutputKind

SOFTMAX, SIGMOID, REGRESSION = get_args(HeadKind)
OUTPUTS = get_args(OutputKind)


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
_JOINERS = ("\u200c", "\u200d")


def hidden_character(text: str) -> Optional[str]:
    """The first control, bidi or invisible format character in ``text``, named (e.g.
    "U+200B ZERO WIDTH SPACE"), else None: in a label it would make two labels that look
    the same differ, or reorder what is shown around it."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch not in _JOINERS:
            return f"U+{ord(ch):04X} {unicodedata.name(ch, 'a control character')}"
    return None


def label_key(label: str) -> str:
    """What makes two typed labels the same one: compatibility forms (NFKC), joiners
    dropped, case folded, spaces collapsed."""
    text = unicodedata.normalize("NFKC", label)
    for joiner in _JOINERS:
        text = text.replace(joiner, "")
    return " ".join(text.casefold().split())


def check_label_text(text: str, what: str) -> None:
    """Refuse a typed label name (``what``: e.g. "candidate label") with a control, bidi or
    invisible character in it."""
    hidden = hidden_character(text)
    if hidden is not None:
        raise InvalidInput(f"The {what} {text!r} contains an invisible or control character ({hidden}).",
                           "Type the label as plain visible text.")


def candidate_list(candidate_labels) -> list:
    """Zero-shot candidate labels (a list, or one comma-separated string) -> the labels,
    stripped. Refuses none, labels with control, bidi or invisible characters, and labels
    that are the same once normalised (``label_key``: case, width, spaces, joiners)."""
    if isinstance(candidate_labels, str):
        candidate_labels = candidate_labels.split(",")
    labels = [str(c).strip() for c in (candidate_labels or []) if str(c).strip()]
    if not labels:
        raise InvalidInput("No candidate labels were given.", "Give labels like 'sports, politics, cooking'.")
    seen: dict = {}
    for label in labels:
        check_label_text(label, "candidate label")
        key = label_key(label)
        if not key:
            raise InvalidInput(f"The candidate label {label!r} has nothing visible in it.",
                               "Give labels like 'sports, politics, cooking'.")
        if key in seen:
            same = f"{seen[key]!r} and {label!r} are" if seen[key] != label else f"{label!r} is"
            raise InvalidInput(f"The candidate labels repeat: {same} the same label.", "Give each label once.")
        seen[key] = label
    return labels


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
    """What the attributions add up to: a scalar per row computed from logits."""

    head: str
    target: int
    contrast: Optional[int] = None
    output: str = "logit"  # "logit" or "probability"

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        if self.output == "probability" and self.head != REGRESSION:
            values = probabilities(logits, self.head)
        else:
            values = logits
        out = values[:, self.target]
        if self.contrast is not None:
            out = out - values[:, self.contrast]
        return out

    def values(self, logits: torch.Tensor) -> torch.Tensor:
        """(groups, 1 sequence, labels) -> (groups,)."""
        return self(logits[:, 0, :])

    def describe(self, labels: Sequence[str]) -> str:
        name = labels[self.target]
        if self.head == REGRESSION:
            base = "the regression output"
        elif self.output == "probability":
            base = f"the probability of '{name}'"
        elif self.head == SIGMOID:
            base = f"the log-odds (logit) of '{name}'"
        else:
            base = f"the logit of '{name}'"
        if self.contrast is not None:
            other = labels[self.contrast]
            what = "probability" if self.output == "probability" else ("log-odds" if self.head == SIGMOID else "logit")
            return f"the {what} of '{name}' minus the {what} of '{other}'"
        return base


def make_quantity(head: str, labels: Sequence[str], target_index: int,
                  contrast=None, output: str = "auto") -> Quantity:
    if output not in OUTPUTS:
        raise InvalidInput(f"Unknown output {output!r}.", f"Use one of: {', '.join(OUTPUTS)}.")
    contrast_index = resolve_label(contrast, labels, "contrast label")
    if contrast_index is not None and contrast_index == target_index:
        raise InvalidInput("The contrast label is the target label itself.",
                           "Pick a different label to contrast with, or none.")
    if head == REGRESSION and contrast_index is not None:
        raise InvalidInput("A regression model has one output; there is nothing to contrast with.",
                           "Leave the contrast label empty.")
    return Quantity(head, target_index, contrast_index, "logit" if output == "auto" else output)


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

    def describe(self, labels: Sequence[str]) -> str:
        name = labels[self.target]
        if self.multi_label or self.candidates == 1:
            return f"the entailment-vs-contradiction log-odds of '{name}' (its hypothesis paired with the text)"
        return (f"the log of the score of '{name}': its entailment logit's log-softmax over the "
                f"{self.candidates} candidates' hypotheses")


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
        raise InvalidInput("Zero-shot classification needs an NLI model, one whose labels include entailment and "
                           "contradiction (or not_entailment); this model's labels are "
                           f"{', '.join(repr(str(n)) for n in labels[:8])}{', …' if len(labels) > 8 else ''}.",
                           "Use an NLI checkpoint, e.g. facebook/bart-large-mnli or "
                           "cross-encoder/nli-deberta-v3-small, or leave the candidate labels empty to explain this "
                           "model's own labels.")
    entail = next((i for i, k in enumerate(keys) if k.startswith("entail")), len(labels) - 1)
    return entail, (len(labels) - 1 if entail == 0 else 0)
