"""What to explain and how: one set of names for every surface (the Python API, the
command line, job records, the server's requests), each value checked when an ``Options``
is made, and the rules on which options go together in one place, ``validate()``, which
every surface asks. Plain data (stdlib only)."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Optional, Union, get_args

from .errors import InvalidInput
from .result import MethodKind, OutputKind

DEFAULT_TOLERANCE = 1e-2
DEFAULT_WORD_TOLERANCE = 0.1  # the (conservative) estimate of the token scores' relative L2 error; see quadrature
DEFAULT_MAX_STEPS = 256
DEFAULT_TEMPLATE = "This example is {}."
CAPTUM_DEFAULT_STEPS = 50  # Captum's own default
OUTPUTS = get_args(OutputKind)
METHODS = get_args(MethodKind)
FIRST_ROUNDS = ("calibrated", "lobatto")
PRECISIONS = ("auto", "float32", "bfloat16")
# Names other surfaces used before there was one vocabulary (the command line's flags, old
# job records): accepted on the way in, never written.
ALIASES = {"steps": "n_steps", "labels": "candidate_labels", "template": "hypothesis_template"}

Label = Union[str, int, None]


@dataclass(frozen=True)
class Options:
    """What to explain and how; each value checked on construction (hashable: a cache key).

    What: ``target``/``contrast`` - label names or indices (default: the predicted label,
    no contrast); ``output`` - "auto" explains the target's log-odds (for a softmax head its
    logit minus the log-sum-exp of the others': it moves with the probability shown; the
    value for regression), "log-odds" the same, "logit" the raw logit, "probability" the
    probability. Zero-shot (with an NLI model):
    ``candidate_labels`` - a list or a comma-separated string; ``hypothesis_template`` -
    one '{}' where the label goes; ``multi_label`` - score each label on its own.

    How: ``baseline`` - auto, mask, pad, unk or a token; ``method`` - "engine" (adaptive
    until the completeness error is under ``tolerance`` and the estimated relative error
    of the token scores under ``word_tolerance``, at most ``max_steps`` gradient rows; or a
    fixed Gauss-Legendre rule of ``n_steps``) or "captum" (Captum's own
    LayerIntegratedGradients, ``n_steps`` nodes, default 50); ``first_round`` - where the
    adaptive rule's first points go, "calibrated" (the model's own layout) or "lobatto";
    ``max_tokens`` - the window length for long texts (default: the model's limit);
    ``precision`` - "auto" (bfloat16 gradient rows only on a big model, on hardware that
    has it, after a check that the word error stays within bound), "float32" or "bfloat16"."""

    target: Label = None
    contrast: Label = None
    output: str = "auto"
    candidate_labels: Optional[tuple] = None
    hypothesis_template: str = DEFAULT_TEMPLATE
    multi_label: bool = False
    baseline: str = "auto"
    method: str = "engine"
    n_steps: Optional[int] = None
    tolerance: float = DEFAULT_TOLERANCE
    word_tolerance: Optional[float] = DEFAULT_WORD_TOLERANCE
    max_steps: int = DEFAULT_MAX_STEPS
    max_tokens: Optional[int] = None
    first_round: str = "calibrated"
    precision: str = "auto"

    def __post_init__(self) -> None:
        _choice(self.output, OUTPUTS, "output")
        _choice(self.method, METHODS, "method")
        _choice(self.first_round, FIRST_ROUNDS, "first_round")
        _choice(self.precision, PRECISIONS, "precision")
        for name in ("target", "contrast"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
                raise InvalidInput(
                    f"The {name} must be a label name or index, not {type(value).__name__}.",
                    "Give the label's name (or its index), or leave it empty.",
                )
        if not isinstance(self.baseline, str):
            raise InvalidInput(
                f"The baseline must be text, not {type(self.baseline).__name__}.", "Use auto, mask, pad, unk or a token."
            )
        self._set("tolerance", _fraction(self.tolerance, "tolerance", DEFAULT_TOLERANCE))
        if self.word_tolerance is not None:
            self._set("word_tolerance", _fraction(self.word_tolerance, "word_tolerance", DEFAULT_WORD_TOLERANCE))
        if self.n_steps is not None:
            self._set("n_steps", whole_number(self.n_steps, "n_steps", "Leave it empty for adaptive steps."))
        self._set("max_steps", whole_number(self.max_steps, "max_steps", f"The default is {DEFAULT_MAX_STEPS}."))
        if self.max_tokens is not None:
            self._set("max_tokens", whole_number(self.max_tokens, "max_tokens", "Leave it empty."))
        if not isinstance(self.multi_label, bool):
            raise InvalidInput(f"multi_label must be true or false, not {self.multi_label!r}.", "The default is False.")
        self._set("candidate_labels", candidates(self.candidate_labels))
        if (
            not isinstance(self.hypothesis_template, str)
            or self.hypothesis_template.count("{}") != 1
            or any(ch in self.hypothesis_template.replace("{}", "") for ch in "{}")
        ):
            raise InvalidInput(
                f"The hypothesis template {self.hypothesis_template!r} must contain '{{}}' exactly "
                "once, where the label goes, and no other braces.",
                f"Use e.g. {DEFAULT_TEMPLATE!r}.",
            )

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    @property
    def zero_shot(self) -> bool:
        return self.candidate_labels is not None

    @property
    def steps(self) -> Optional[int]:
        """The fixed node count in force (Captum's default for method="captum")."""
        return self.n_steps if self.n_steps is not None or self.method != "captum" else CAPTUM_DEFAULT_STEPS

    def validate(self, *, text_pair: bool = False) -> Options:
        """The rules on which options go together (for one request; ``text_pair``: it has a
        second text). Returns self; raises InvalidInput saying what to change."""
        if self.zero_shot:
            if text_pair:
                raise InvalidInput(
                    "A zero-shot query pairs the text with one hypothesis per candidate label, so it takes no text pair.",
                    "Clear the text pair or the candidate labels.",
                )
            if self.contrast not in (None, ""):
                raise InvalidInput("A zero-shot explanation has no contrast label.", "Leave the contrast empty.")
            if self.method == "captum":
                raise InvalidInput(
                    "Captum's method explains one text or pair; a zero-shot query moves every "
                    "candidate's pair along one path.",
                    "Use method 'engine' for zero-shot labels.",
                )
        return self

    def but(self, **changes) -> Options:
        """A copy with ``changes`` (names as in ``with_overrides``)."""
        return with_overrides(self, **changes)

    def record(self) -> dict:
        """The options as a job's output lines record them: the values that differ from the
        defaults, by their one name (labels as a list)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value != f.default:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


def with_overrides(options: Optional[Options] = None, **overrides) -> Options:
    """``options`` (default: the defaults) with ``overrides`` by name; an old name (e.g.
    ``steps``) is read as its new one, an unknown name is an error that lists the known."""
    names = {f.name for f in fields(Options)}
    given = {}
    for key, value in overrides.items():
        name = ALIASES.get(key, key)
        if name not in names:
            raise InvalidInput(f"Unknown option {key!r}.", f"Options are: {', '.join(sorted(names))}.")
        if name in given:
            raise InvalidInput(f"The option {name!r} was given twice (as {key!r} too).", "Give it once.")
        given[name] = value
    base = options if options is not None else Options()
    if not isinstance(base, Options):
        raise InvalidInput(
            f"options must be an explain.Options, not {type(base).__name__}.",
            "Build one with explain.Options(...), or pass the options as keyword arguments.",
        )
    return dataclasses.replace(base, **given) if given else base


def from_record(record: Mapping[str, Any]) -> Options:
    """The Options of a job record (old names read as new ones; ``model`` ignored)."""
    return with_overrides(None, **{k: v for k, v in record.items() if k != "model"})


def same_record(a: Any, b: Any) -> bool:
    """Do two job records (``{"model": ..., **Options.record()}``) describe the same job?
    Records from before the options had one set of names compare by meaning."""
    if not isinstance(a, Mapping) or not isinstance(b, Mapping) or a.get("model") != b.get("model"):
        return False
    try:
        return from_record(a) == from_record(b)
    except InvalidInput:
        return False


def candidates(value: Any) -> Optional[tuple]:
    """Zero-shot candidate labels: None (not zero-shot), or a comma-separated string or a
    sequence of names -> a tuple of distinct, stripped names (``candidate_list``'s rules)."""
    if value is None:
        return None
    if not isinstance(value, (str, list, tuple)):
        raise InvalidInput(
            f"The candidate labels must be a list or a comma-separated string, not {type(value).__name__}.",
            "Give them like 'sports, politics, cooking'.",
        )
    if not isinstance(value, str) and not all(isinstance(n, str) for n in value):
        raise InvalidInput("Every candidate label must be text.", "Give them like ['sports', 'politics'].")
    return tuple(candidate_list(value))


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
        raise InvalidInput(
            f"The {what} {text!r} contains an invisible or control character ({hidden}).",
            "Type the label as plain visible text.",
        )


def candidate_list(candidate_labels) -> list:
    """Zero-shot candidate labels (a list, or one comma-separated string) -> the labels,
    stripped. Refuses none, labels with control, bidi or invisible characters, and labels
    that are the same once normalised (``label_key``: case, width, spaces, joiners)."""
    if isinstance(candidate_labels, str):
        candidate_labels = candidate_labels.split(",")
    labels = [str(c).strip() for c in (candidate_labels or []) if str(c).strip()]
    if not labels:
        raise InvalidInput(
            "The candidate labels are empty: no label was given.", "Give labels like 'sports, politics, cooking'."
        )
    seen: dict = {}
    for label in labels:
        check_label_text(label, "candidate label")
        key = label_key(label)
        if not key:
            raise InvalidInput(
                f"The candidate label {label!r} has nothing visible in it.", "Give labels like 'sports, politics, cooking'."
            )
        if key in seen:
            same = f"{seen[key]!r} and {label!r} are" if seen[key] != label else f"{label!r} is"
            raise InvalidInput(f"The candidate labels repeat: {same} the same label.", "Give each label once.")
        seen[key] = label
    return labels


def _choice(value: Any, allowed: tuple, name: str) -> None:
    if value not in allowed:
        raise InvalidInput(f"Unknown {name} {value!r}.", f"Use one of: {', '.join(allowed)}.")


def _fraction(value: Any, name: str, default: float) -> float:
    try:
        ok = not isinstance(value, bool) and 0 < float(value) < 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidInput(f"{name} must be between 0 and 1, got {value!r}.", f"The default is {default:g}.")
    return float(value)


def whole_number(value: Any, name: str, fix: str) -> int:
    try:
        whole = not isinstance(value, bool) and float(value).is_integer() and value >= 1
    except (TypeError, ValueError):
        whole = False
    if not whole:
        raise InvalidInput(f"{name} must be a whole number of at least 1, got {value!r}.", fix)
    return int(value)
