"""The immutable result of one explanation, its typed reports, and their JSON form.

Everything here is plain data (stdlib only): the engine fills it, the checks add their
reports, render and serving read it. ``Explanation.to_dict()`` is the JSON every
surface serves, versioned by ``SCHEMA_VERSION``; ``from_dict`` reads it back."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Optional

SCHEMA_VERSION = "1.4"  # 1.1: "method"; 1.2: long texts explain a weighted mean over windows
# (window "weight"), "f_input"/"f_baseline" of the explained quantity, "dtype";
# 1.3: "text_pair", "segment" of words/tokens/windows, "zero_shot"; "word_error", "word_tolerance";
# 1.4: "cache" ("hit"/"miss") is its own field, no longer a string among the "timings" seconds;
# "quantity" (the explained quantity's kind): softmax heads explain the target's log-odds by default
# 1.4 (additive): words' "unknown" (a token the tokenizer did not know, e.g. [UNK]), tokens'
# "hypothesis" (zero-shot: the candidate whose pair the token sits in), "draft" (a first, coarser
# answer sent early while the engine refines; never a final result)

HeadKind = Literal["softmax", "sigmoid", "regression"]
OutputKind = Literal["auto", "log-odds", "logit", "probability"]
BaselineKind = Literal["auto", "mask", "pad", "unk"]  # or any single token of the vocabulary
MethodKind = Literal["engine", "captum"]
Status = Literal["pass", "warn", "fail", "not run"]


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
    segment: int = 0  # 0: the text, 1: the text pair; start/end index that segment's string
    hypothesis: Optional[int] = None  # zero-shot: the candidate (index in labels) whose pair holds this token


@dataclass(frozen=True)
class WordScore:
    """A word (or punctuation mark) of the original text: ``text[start:end]`` - or of the
    text pair, ``text_pair[start:end]``, when ``segment`` is 1."""

    text: str
    start: int
    end: int
    score: float
    n_tokens: int
    segment: int = 0
    unknown: bool = False  # a token of it is the tokenizer's unknown token: the model did not see the word itself


@dataclass(frozen=True)
class Window:
    """One model-sized slice of a text. A long text's explained quantity is the weighted
    mean over its windows (``weight``: the share of the text from ``owned_start`` to
    ``owned_end``); the window's own change, error and sum are before that weight."""

    start: int  # character span of the text the model saw
    end: int
    owned_start: int  # the stretch this window stands for: up to the middles of its overlaps
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
    weight: float = 1.0  # this window's weight in the explained quantity (its stretch / the text)
    segment: int = 0  # for a pair: the segment the windows cut (start/end index its string)
    word_error: Optional[float] = None  # estimated relative error of this window's token scores


class _Record:
    """Dict-style reading (``r["source"]``, ``r.get("source")``, ``{**r}``) of a small record
    that was a plain dict before schema 1.4, so code written against the dicts still runs."""

    def keys(self) -> tuple:
        return tuple(f.name for f in dataclasses.fields(self))

    def __getitem__(self, key: str) -> Any:
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self.keys() else default

    @classmethod
    def coerce(cls, value: Any):
        """``value`` as this record (a dict from the engine or from JSON; unknown keys dropped)."""
        if isinstance(value, cls):
            return value
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in dict(value or {}).items() if k in names})


@dataclass(frozen=True)
class CheckpointInfo(_Record):
    """Which model was explained: its source (a Hub ID or a folder's name), revision, type."""

    source: str = ""
    revision: Optional[str] = None
    model_type: Optional[str] = None


@dataclass(frozen=True)
class BaselineInfo(_Record):
    """The reference the path starts from: every non-special token replaced by ``token``."""

    kind: str = "auto"
    token: Optional[str] = None
    token_id: Optional[int] = None
    description: str = ""


@dataclass(frozen=True)
class ZeroShot:
    """How a zero-shot explanation was posed: the text paired with one hypothesis per
    candidate label (the explanation's ``labels``), scored by an NLI model."""

    hypothesis_template: str
    multi_label: bool
    hypotheses: tuple
    entailment: str  # the NLI model's labels used
    contradiction: str
    model_labels: tuple


# --- reports of the trust checks (explain.checks) -------------------------------------------


@dataclass(frozen=True)
class RandomReference:
    """AOPC of seeded random word orders: the yardstick for the explanation's own."""

    permutations: int
    seed: int
    comprehensiveness: Optional[float] = None
    comprehensiveness_std: Optional[float] = None
    sufficiency: Optional[float] = None
    sufficiency_std: Optional[float] = None


@dataclass(frozen=True)
class Curves:
    """Deletion/insertion curves at k removed (kept) words, ``fraction`` = k / n_words."""

    k: list
    fraction: list
    deletion: list
    insertion: list
    random_deletion: list
    random_insertion: list


@dataclass(frozen=True)
class FaithfulnessReport:
    """Deletion/insertion curves and ERASER AOPC of one explanation, or why they are missing."""

    measured: str  # the quantity on the curves, in words
    ranking: str
    removal: str
    head: HeadKind
    n_words: int
    bins: list
    bin_k: list
    random: RandomReference
    skipped: Optional[str] = None  # set when the check did not run: the reason
    full: Optional[float] = None
    empty: Optional[float] = None
    comprehensiveness: Optional[float] = None
    sufficiency: Optional[float] = None
    curve: Optional[Curves] = None
    forward_rows: Optional[int] = None
    seconds: Optional[float] = None

    @classmethod
    def from_dict(cls, data: dict) -> FaithfulnessReport:
        data = dict(data)
        data["random"] = RandomReference(**data["random"])
        if data.get("curve") is not None:
            data["curve"] = Curves(**data["curve"])
        return cls(**data)


@dataclass(frozen=True)
class BaselineRun:
    """One baseline's explanation in a comparison."""

    baseline: str  # display name, e.g. "mask ([MASK])"
    kind: str
    token: str
    completeness_error: float
    converged: bool
    top_words: list  # [[text, score], ...] strongest first


@dataclass(frozen=True)
class RankAgreement:
    a: str
    b: str
    kendall_tau: float
    spearman: float


@dataclass(frozen=True)
class SkippedBaseline:
    baseline: str
    reason: str
    duplicate: Optional[bool] = None  # True: the same token as a baseline already compared


@dataclass(frozen=True)
class BaselineComparison:
    """The same text explained under several reference tokens, and how the rankings agree."""

    target: str
    contrast: Optional[str]
    explained: str
    baselines: tuple  # BaselineRun, ...
    words: list
    scores: dict  # baseline name -> word scores, in ``words`` order
    pairs: tuple  # RankAgreement, ...
    min_kendall_tau: Optional[float]
    mean_kendall_tau: Optional[float]
    skipped: tuple = ()  # SkippedBaseline, ...

    @classmethod
    def from_dict(cls, data: dict) -> BaselineComparison:
        data = dict(data)
        data["baselines"] = tuple(BaselineRun(**b) for b in data.get("baselines", ()))
        data["pairs"] = tuple(RankAgreement(**p) for p in data.get("pairs", ()))
        data["skipped"] = tuple(SkippedBaseline(**s) for s in data.get("skipped", ()))
        return cls(**data)


@dataclass(frozen=True)
class WordsHidden:
    """What the model says with some words hidden (each of their tokens given the
    explanation's baseline token, as on the attribution path): the check a reader can make
    of the colours. ``claimed``/``measured``: the explained label's shown value (probability,
    share, score or value, as in the caption) that the word scores predict (the text's value
    minus the hidden words' scores) and that the model gives; ``before``: the text's."""

    words: tuple[WordScore, ...]
    probabilities: dict[str, float]
    predicted: str
    target: str
    before: Optional[float]
    claimed: Optional[float]
    measured: Optional[float]
    unit: str


@dataclass(frozen=True)
class TrustCheck:
    """One plain-language verdict: completeness, faithfulness or baselines."""

    check: str
    status: Status
    text: str


@dataclass(frozen=True)
class Extras:
    """Optional add-ons of an explanation; absent ones are left out of the JSON."""

    faithfulness: Optional[FaithfulnessReport] = None
    baselines: Optional[BaselineComparison] = None
    trust: Optional[tuple] = None  # TrustCheck, ...

    @classmethod
    def from_dict(cls, data: Optional[dict]) -> Extras:
        data = data or {}
        return cls(
            faithfulness=FaithfulnessReport.from_dict(data["faithfulness"]) if data.get("faithfulness") else None,
            baselines=BaselineComparison.from_dict(data["baselines"]) if data.get("baselines") else None,
            trust=tuple(TrustCheck(**t) for t in data["trust"]) if data.get("trust") is not None else None,
        )


@dataclass(frozen=True)
class Explanation:
    """Everything one explanation says; ``to_dict()`` is plain JSON."""

    text: str
    checkpoint: CheckpointInfo
    head: HeadKind
    labels: tuple[str, ...]
    probabilities: dict[str, float]  # label -> probability (softmax/sigmoid) or value (regression)
    predicted: str
    target: str
    contrast: Optional[str]
    explained: str  # the quantity the scores add up to, in words
    baseline: BaselineInfo
    steps: int
    tolerance: float
    converged: bool
    completeness_error: float  # relative, path-matched, of the explained quantity
    tokens: tuple[TokenScore, ...]
    words: tuple[WordScore, ...]
    windows: tuple[Window, ...]
    timings: dict[str, float]  # seconds per phase ("total_s", "attribution_s", ...)
    device: str
    dtype: str = "float32"  # the precision the model ran in
    f_input: Optional[float] = None  # the explained quantity at the text ...
    f_baseline: Optional[float] = None  # ... and at the baseline (the scores add up to the difference)
    method: MethodKind = "engine"
    text_pair: Optional[str] = None  # the second text of a pair (words with segment 1 index it)
    word_error: Optional[float] = None  # estimated relative L2 error of the token scores (adaptive rule)
    word_tolerance: Optional[float] = None  # the bound it was refined to (None: not estimated)
    zero_shot: Optional[ZeroShot] = None  # set for a zero-shot explanation
    # What ``f_input``/``f_baseline`` and the scores are in: "log-odds" (p = sigmoid(f)), "log-ratio"
    # (a contrast's log(p_t / p_c): its share p_t / (p_t + p_c) = sigmoid(f)), "log-score" (zero-shot:
    # the score = exp(f)), "logit" (raw), "probability", "probability difference" or "value" (regression).
    quantity: str = "logit"
    cache: Literal["miss", "hit"] = "miss"  # "hit": served from the result cache, nothing computed
    draft: bool = False  # a first, coarser answer sent early (``draft=`` callback); the final result follows
    schema_version: str = SCHEMA_VERSION
    extras: Extras = field(default_factory=Extras)

    def __post_init__(self) -> None:
        object.__setattr__(self, "checkpoint", CheckpointInfo.coerce(self.checkpoint))
        object.__setattr__(self, "baseline", BaselineInfo.coerce(self.baseline))
        timings = dict(self.timings or {})
        if "cache" in timings:  # before 1.4 the cache state was a string among the seconds
            object.__setattr__(self, "cache", "hit" if timings.pop("cache") == "hit" else "miss")
        object.__setattr__(self, "timings", timings)

    @property
    def sum_attributions(self) -> float:
        """The sum of the token scores: the windows' sums, each times its weight."""
        return float(sum(w.weight * w.sum_attributions for w in self.windows))

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def replace(self, **changes: Any) -> Explanation:
        return dataclasses.replace(self, **changes)

    def with_extras(self, **changes: Any) -> Explanation:
        """A copy with some extras set (faithfulness=..., baselines=..., trust=...)."""
        return dataclasses.replace(self, extras=dataclasses.replace(self.extras, **changes))

    @classmethod
    def from_dict(cls, data: dict) -> Explanation:
        """Inverse of ``to_dict()`` (e.g. a result read back from JSON to render it again)."""
        data = dict(data)
        known = {f.name for f in dataclasses.fields(cls)}
        data["labels"] = tuple(data.get("labels", ()))
        data["tokens"] = tuple(TokenScore(**t) for t in data.get("tokens", ()))
        data["words"] = tuple(WordScore(**w) for w in data.get("words", ()))
        data["windows"] = tuple(Window(**w) for w in data.get("windows", ()))
        if data.get("zero_shot"):
            z = dict(data["zero_shot"])
            data["zero_shot"] = ZeroShot(
                **{**z, "hypotheses": tuple(z["hypotheses"]), "model_labels": tuple(z["model_labels"])}
            )
        data["extras"] = Extras.from_dict(data.get("extras"))
        return cls(**{k: v for k, v in data.items() if k in known})

    def top_words(self, k: int = 5) -> list[WordScore]:
        """The k words with the largest absolute score, largest first."""
        return sorted(self.words, key=lambda w: -abs(w.score))[:k]


# --- the dataset report (explain.corpus.report) ---------------------------------------------

REPORT_SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class Context:
    """A short stretch of one text around a word (``before + word + after``), from row
    ``row``, where the word scored ``score``."""

    row: int
    before: str
    word: str
    after: str
    score: float


@dataclass(frozen=True)
class WordStat:
    """One word (lowercased unit text) across the texts explaining a label.

    ``mean``: mean signed score per occurrence; ``mean_abs``: mean |score| per occurrence;
    ``*_low``/``*_high``: the bootstrap percentile interval of each mean (texts
    resampled); ``positive``/``negative``: texts where the word's summed score is > 0 / < 0."""

    word: str
    segment: int  # 0: the text, 1: the text pair
    count: int  # occurrences
    texts: int  # texts it appears in
    share: float  # texts / the label's texts
    mean: float
    mean_low: float
    mean_high: float
    mean_abs: float
    abs_low: float
    abs_high: float
    positive: int
    negative: int
    contexts: tuple = ()  # Context, ...


@dataclass(frozen=True)
class ShortcutShare:
    """How much of the attribution lands on one kind of unit (a shortcut check)."""

    kind: str  # "special tokens", "punctuation", "names"
    units: int  # occurrences of that kind
    unit_share: float  # of all units (word units; for special tokens, of all tokens)
    attribution_share: float  # of the sum of |score| over word units and special tokens
    mean: Optional[float]  # mean signed score per occurrence (None: none seen)
    how: str  # how the kind is detected, and the limits of that
    examples: tuple = ()  # [(lowercased text, occurrences), ...] most frequent first


@dataclass(frozen=True)
class LabelReport:
    """What drives one explained label (``target``, or ``target vs contrast``) across the texts."""

    label: str
    explained: str  # the quantity the scores add up to, as the rows state it
    texts: int
    predicted: int  # texts whose predicted label is this label
    words: int  # word occurrences
    distinct: int  # distinct words
    eligible: int  # distinct words in at least ``min_texts`` texts (the only ones ranked)
    not_converged: int  # texts whose completeness error stayed above its tolerance
    median_error: Optional[float]  # median relative completeness error
    toward: tuple  # WordStat, highest mean signed score first (> 0 only)
    against: tuple  # WordStat, lowest mean signed score first (< 0 only)
    strongest: tuple  # WordStat, highest mean |score| first
    flips: tuple  # WordStat, words whose sign changes across texts, strongest first
    shortcuts: tuple  # ShortcutShare, ...


@dataclass(frozen=True)
class DatasetReport:
    """A dataset's explained rows summed up per label: the JSON of ``explain report``."""

    source: str
    models: tuple  # the checkpoints the rows name
    rows: int  # records read
    explained: int  # of them with a result
    failed: int  # of them with an error record
    errors: dict  # error code -> rows
    options: dict  # the job's options (as recorded in its lines)
    labels: tuple  # LabelReport, ...
    top_k: int
    min_texts: int
    bootstrap: int  # resamples behind each interval
    confidence: float
    seed: int
    notes: tuple = ()  # how the numbers are made, in words
    schema_version: str = REPORT_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict) -> DatasetReport:
        """Inverse of ``to_dict()``."""

        def word(w: dict) -> WordStat:
            return WordStat(**{**w, "contexts": tuple(Context(**c) for c in w.get("contexts", ()))})

        def label(d: dict) -> LabelReport:
            d = dict(d)
            for key in ("toward", "against", "strongest", "flips"):
                d[key] = tuple(word(w) for w in d.get(key, ()))
            d["shortcuts"] = tuple(
                ShortcutShare(**{**s, "examples": tuple(tuple(e) for e in s.get("examples", ()))})
                for s in d.get("shortcuts", ())
            )
            return LabelReport(**d)

        data = dict(data)
        data["models"] = tuple(data.get("models", ()))
        data["labels"] = tuple(label(d) for d in data.get("labels", ()))
        data["notes"] = tuple(data.get("notes", ()))
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# Report fields left out of the JSON when unset (so a skipped check has no null curves).
_OPTIONAL_REPORTS = (Extras, FaithfulnessReport, RandomReference, SkippedBaseline)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        drop_none = isinstance(value, _OPTIONAL_REPORTS)
        return {
            f.name: _jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not (drop_none and getattr(value, f.name) is None)
        }
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    return value
