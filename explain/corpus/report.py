"""A dataset's explained rows summed up: what drives each label.

Reads the records the batch run writes (JSON lines, or Parquet from the Ray engine, or
any iterable of such dicts - a ``datasets.Dataset`` mapped with
``explain.corpus.hf_datasets`` included) in one pass, keeping per word only a few
numbers per text, and returns a ``DatasetReport`` (``explain.result``); rendering it as
Markdown/HTML/SVG is ``explain.render.report``'s job.

Per label (the label each row explains: its target, or ``target vs contrast``):
- the words (lowercased word units) with the highest mean signed score, the lowest, and
  the highest mean |score|, each with its count, the share of texts it appears in, a
  seeded bootstrap interval of each mean (texts resampled) and two short contexts;
- words whose sign flips across texts;
- the share of the attribution on special tokens, punctuation and names (a shortcut check)."""

from __future__ import annotations

import json
import math
import statistics
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..errors import InvalidInput
from ..result import Context, DatasetReport, LabelReport, ShortcutShare, WordStat
from .batch import need_pyarrow

FLIP_SHARE = 0.25  # a word flips when >= this share of its texts push each way
CONTEXT_CHARS = 40  # characters of text kept on each side of a word in a context
SENTENCE_END = ".!?…。！？"
OPENERS = "([{-—–¿¡*_"
QUOTES = "\"'“‘«‹„‚「『"  # a capital right after one starts a quotation

NAMES_HOW = (
    "a word that starts with a capital letter, has a lower-case letter after it, and is not at the "
    "start of the text, of a line, of a sentence (after . ! ? …) or of a quotation (right after a quote "
    "mark). A rough rule: it misses names at those starts and names written in lower case, "
    "counts other capitalised words mid-sentence (titles, 'God', German nouns) as names, ignores "
    "all-caps words, and finds nothing in scripts without capital letters."
)
PUNCTUATION_HOW = (
    "a word unit made only of Unicode punctuation (categories P*: . , ! ? ' \" - ( ) ...); "
    "symbols and emoji are not counted."
)
SPECIAL_HOW = "the tokens the tokenizer adds ([CLS], [SEP], <s>, ...), as each row's tokens mark them."
# One record is one explained text: the library explains at most 100,000 characters
# (engine.run.MAX_CHARS), so at most that many word units and (with a text pair) about
# twice that many tokens; a JSON line of a record that size is a few megabytes.
MAX_RECORD_UNITS = 100_000
MAX_RECORD_TOKENS = 250_000
MAX_LINE_BYTES = 32 * 2**20
SPECIAL_ZERO = (
    " They score exactly 0 here by construction: the baseline keeps special tokens, so they do not "
    "move along the integration path - a model leaning on them cannot show up in this check."
)


class _Record(dict):
    """A record with where it came from ("Line 3 of out.jsonl"), for messages."""

    where: str = ""


def read_records(path: Union[str, Path]) -> Iterator[dict]:
    """The records of a batch output: JSON lines (a half-written last line is skipped),
    or Parquet (a file or a folder, as the Ray engine writes it; needs pyarrow). A line
    that is not UTF-8, not JSON, nested too deeply, longer than MAX_LINE_BYTES or not a
    record is refused, naming its line."""
    path = Path(path)
    if not path.exists():
        raise InvalidInput(
            f"There is no file {str(path)!r}.", "Give the output of `explain --input FILE --output OUT.jsonl --model M`."
        )
    if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
        yield from _parquet_records(path)
        return
    fix = "Give the JSON lines written by the batch command."
    try:
        f = path.open("rb")
    except OSError as exc:
        raise InvalidInput(f"{path.name} cannot be read ({exc.strerror or type(exc).__name__}).", fix) from None
    with f:
        number = 0
        while True:
            raw = f.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            where = f"Line {number} of {path.name}"
            if len(raw) > MAX_LINE_BYTES:
                raise InvalidInput(
                    f"{where} is longer than {MAX_LINE_BYTES:,} bytes, more than one explained text "
                    "of the batch command takes.",
                    fix,
                )
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(f"{where} is not UTF-8 text (byte {exc.start + 1} cannot be read).", fix) from None
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except RecursionError:
                raise InvalidInput(f"{where} is nested too deeply to be a record.", fix) from None
            except json.JSONDecodeError:
                if line.endswith("\n"):
                    raise InvalidInput(f"{where} is not JSON.", fix) from None
                continue  # an interrupted write at the very end
            if not isinstance(rec, dict):
                raise InvalidInput(f"{where} is not a record of the batch command.", fix)
            out = _Record(rec)
            out.where = where
            yield out


def _parquet_records(path: Path) -> Iterator[dict]:
    pa = need_pyarrow("Reading a Parquet output")
    try:
        table = pa.parquet.read_table(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InvalidInput(
            f"{path.name} is not a readable Parquet file or folder ({type(exc).__name__}).",
            "Give the Parquet output of `explain --engine ray ...`.",
        ) from None
    for batch in table.to_batches():
        yield from batch.to_pylist()


def is_punctuation(word: str) -> bool:
    """Every character is Unicode punctuation (P*)."""
    return bool(word) and all(unicodedata.category(ch).startswith("P") for ch in word)


def at_sentence_start(text: str, start: int) -> bool:
    """Only spaces, brackets and dashes between ``start`` and the start of the text, a
    line break, a sentence end (. ! ? …) or an opening quotation mark."""
    k = start - 1
    while k >= 0:
        ch = text[k]
        if ch == "\n" or ch in QUOTES:
            return True
        if ch.isspace() or ch in OPENERS:
            k -= 1
            continue
        return ch in SENTENCE_END
    return True


def is_name(text: str, start: int, end: int) -> bool:
    """The names rule of the shortcut check (see NAMES_HOW)."""
    word = text[start:end]
    if not word or unicodedata.category(word[0]) not in ("Lu", "Lt"):
        return False
    if not any(ch.islower() for ch in word[1:]):
        return False
    return not at_sentence_start(text, start)


def context(text: str, start: int, end: int, score: float, row: int, width: int = CONTEXT_CHARS) -> Context:
    """``text[start:end]`` with up to ``width`` characters either side, cut at spaces,
    '…' where cut, line breaks as spaces."""
    before, after = text[max(0, start - width) : start], text[end : end + width]
    if start > width:
        cut = before.find(" ")
        before = "…" + (before[cut + 1 :] if 0 <= cut < len(before) - 1 else before)
    if end + width < len(text):
        cut = after.rfind(" ")
        after = (after[:cut] if cut > 0 else after) + "…"
    flat = lambda s: " ".join(s.split("\n"))
    return Context(row=row, before=flat(before), word=flat(text[start:end]), after=flat(after), score=float(score))


@dataclass
class _Best:
    """The two strongest occurrences, from different rows, by some key."""

    picks: list = field(default_factory=list)  # [(key, row, Context)]

    def offer(self, key: float, row: int, make) -> None:
        if len(self.picks) == 2 and key <= self.picks[-1][0]:
            return
        for k, (old, r, _) in enumerate(self.picks):
            if r == row:
                if key > old:
                    self.picks[k] = (key, row, make())
                    self.picks.sort(key=lambda p: -p[0])
                return
        self.picks.append((key, row, make()))
        self.picks.sort(key=lambda p: -p[0])
        del self.picks[2:]

    def contexts(self) -> tuple:
        return tuple(c for _, _, c in self.picks)


@dataclass
class _Word:
    """Per text containing the word: its row, summed score, summed |score|, occurrences."""

    rows: list = field(default_factory=list)
    sums: list = field(default_factory=list)
    abs_sums: list = field(default_factory=list)
    counts: list = field(default_factory=list)
    high: _Best = field(default_factory=_Best)
    low: _Best = field(default_factory=_Best)
    strong: _Best = field(default_factory=_Best)


@dataclass
class _Kind:
    units: int = 0
    abs_sum: float = 0.0
    signed: float = 0.0
    seen: Counter = field(default_factory=Counter)

    def add(self, text: str, score: float) -> None:
        self.units += 1
        self.abs_sum += abs(score)
        self.signed += score
        self.seen[text] += 1


@dataclass
class _Label:
    label: str
    explained: Counter = field(default_factory=Counter)
    texts: int = 0
    predicted: int = 0
    words: int = 0
    tokens: int = 0
    not_converged: int = 0
    errors: list = field(default_factory=list)
    vocab: dict = field(default_factory=dict)  # (segment, word) -> _Word
    special: _Kind = field(default_factory=_Kind)
    punctuation: _Kind = field(default_factory=_Kind)
    names: _Kind = field(default_factory=_Kind)
    word_abs: float = 0.0

    def add(self, result: dict, row: int) -> None:
        self.texts += 1
        self.explained[str(result.get("explained", ""))] += 1
        self.predicted += result.get("predicted") == result.get("target")
        self.not_converged += not result.get("converged", True)
        if result.get("completeness_error") is not None:
            self.errors.append(float(result["completeness_error"]))
        for token in result.get("tokens") or ():
            self.tokens += 1
            if token.get("special"):
                self.special.add(str(token.get("token", "")), float(token.get("score") or 0.0))
        strings = (result.get("text") or "", result.get("text_pair") or "")
        here: dict = {}
        for w in result.get("words", ()):
            segment = int(w.get("segment", 0))
            source, start, end = strings[segment], int(w["start"]), int(w["end"])
            word, score = str(w["text"]), float(w["score"])
            self.words += 1
            self.word_abs += abs(score)
            if is_punctuation(word):
                self.punctuation.add(word.lower(), score)
            elif is_name(source, start, end):
                self.names.add(word.lower(), score)
            key = (segment, word.lower())
            acc = here.setdefault(key, [0.0, 0.0, 0, None, None, None])
            acc[0] += score
            acc[1] += abs(score)
            acc[2] += 1
            spot = (score, source, start, end)
            if acc[3] is None or score > acc[3][0]:
                acc[3] = spot
            if acc[4] is None or score < acc[4][0]:
                acc[4] = spot
            if acc[5] is None or abs(score) > abs(acc[5][0]):
                acc[5] = spot
        for key, (total, total_abs, n, high, low, strong) in here.items():
            stat = self.vocab.get(key)
            if stat is None:
                stat = self.vocab[key] = _Word()
            stat.rows.append(row)
            stat.sums.append(total)
            stat.abs_sums.append(total_abs)
            stat.counts.append(n)
            for best, spot, rank in (
                (stat.high, high, high[0]),
                (stat.low, low, -low[0]),
                (stat.strong, strong, abs(strong[0])),
            ):
                best.offer(rank, row, lambda spot=spot: context(spot[1], spot[2], spot[3], spot[0], row))


_FIX = "Give the output of the batch command (explain --input FILE --output OUT.jsonl), unchanged."


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _object(value, what: str, where: str) -> Optional[dict]:
    """A record's ``options``, ``error`` or ``result``: an object, its JSON, or None."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except RecursionError:
            raise InvalidInput(f"{where}: its {what} is nested too deeply.", _FIX) from None
        except json.JSONDecodeError:
            raise InvalidInput(f"{where}: its {what} is not JSON.", _FIX) from None
    if value is not None and not isinstance(value, dict):
        raise InvalidInput(f"{where}: its {what} is not an object.", _FIX)
    return value


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _result_problem(result: dict) -> Optional[str]:
    """What is wrong with an explained row's result, in words (None: nothing). Checks
    every field the report reads, and the record's size."""
    text, pair = result.get("text"), result.get("text_pair")
    if not isinstance(text, str):
        return "its text is not a string"
    if pair is not None and not isinstance(pair, str):
        return "its text_pair is not a string"
    words, tokens = result.get("words"), result.get("tokens") or []
    if not isinstance(words, list):
        return "its words are not a list"
    if not isinstance(tokens, list):
        return "its tokens are not a list"
    if len(words) > MAX_RECORD_UNITS:
        return (
            f"it has {len(words):,} word units; one explained text has at most {MAX_RECORD_UNITS:,} (the "
            "explainer's longest text)"
        )
    if len(tokens) > MAX_RECORD_TOKENS:
        return f"it has {len(tokens):,} tokens; one explained text has at most {MAX_RECORD_TOKENS:,}"
    for i, w in enumerate(words, 1):
        if not isinstance(w, dict):
            return f"word {i} is not an object"
        missing = next((k for k in ("text", "start", "end", "score") if k not in w), None)
        if missing:
            return f"word {i} has no {missing!r}"
        segment = w.get("segment", 0)
        if segment not in (0, 1) or isinstance(segment, bool):
            return f"word {i} has the segment {_shown(segment)} (0: the text, 1: the text pair)"
        source = text if segment == 0 else (pair or "")
        start, end = w["start"], w["end"]
        if not (_whole(start) and _whole(end) and 0 <= start <= end <= len(source)):
            return f"word {i}'s start and end ({_shown(start)}, {_shown(end)}) are not a span of its text"
        if not isinstance(w["text"], str):
            return f"word {i}'s text is not a string"
        if not _number(w["score"]):
            return f"word {i}'s score {_shown(w['score'])} is not a number"
    for i, t in enumerate(tokens, 1):
        if not isinstance(t, dict):
            return f"token {i} is not an object"
        if t.get("score") is not None and not _number(t["score"]):
            return f"token {i}'s score {_shown(t['score'])} is not a number"
    error = result.get("completeness_error")
    if error is not None and not _number(error):
        return f"its completeness_error {_shown(error)} is not a number"
    if result.get("checkpoint") is not None and not isinstance(result["checkpoint"], dict):
        return "its checkpoint is not an object"
    return None


def _means(sums, abs_sums, counts) -> tuple:
    n = float(np.sum(counts))
    return float(np.sum(sums) / n), float(np.sum(abs_sums) / n)


def bootstrap_interval(sums, abs_sums, counts, resamples: int, confidence: float, rng) -> tuple:
    """Percentile intervals of the per-occurrence mean score and mean |score|, resampling
    the texts that contain the word (each text with all its occurrences) ``resamples``
    times: each resample draws as many texts as there are, with replacement, with
    ``rng.integers``. Returns (low, high, abs_low, abs_high)."""
    s, a, c = (np.asarray(x, dtype=np.float64) for x in (sums, abs_sums, counts))
    n = len(s)
    mean, mean_abs = _means(s, a, c)
    if n < 2 or resamples < 1:
        return mean, mean, mean_abs, mean_abs
    chunk = max(1, 1_000_000 // n)  # bound the index matrix to ~8 MB
    signed, absolute = [], []
    for first in range(0, resamples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, resamples - first), n))
        total = c[idx].sum(axis=1)
        signed.append(s[idx].sum(axis=1) / total)
        absolute.append(a[idx].sum(axis=1) / total)
    q = [50 * (1 - confidence), 50 * (1 + confidence)]
    low, high = np.percentile(np.concatenate(signed), q)
    abs_low, abs_high = np.percentile(np.concatenate(absolute), q)
    return float(low), float(high), float(abs_low), float(abs_high)


def word_rng(seed: int, label: str, segment: int, word: str) -> np.random.Generator:
    """The random stream of one word's bootstrap: fixed by the seed, the label and the
    word alone, so a word's interval does not depend on which other words are shown."""
    code = lambda s: zlib.crc32(s.encode("utf-8", "surrogatepass"))
    return np.random.default_rng([int(seed), code(label), int(segment), code(word)])


def build_report(
    records: Iterable[dict],
    *,
    source: str = "",
    top_k: int = 10,
    min_texts: int = 5,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    labels: Optional[Iterable[str]] = None,
) -> DatasetReport:
    """Sum up explained rows per label (see the module's docstring). ``records``: the
    batch output's records (dicts with ``ok`` and ``result`` - a dict or its JSON - or
    ``error``). Only words in at least ``min_texts`` texts are ranked; each list keeps
    ``top_k``. ``labels``: only these labels (default: every label explained)."""
    if top_k < 1 or min_texts < 1 or bootstrap < 0 or not 0 < confidence < 1:
        raise InvalidInput(
            "top_k and min_texts must be at least 1, bootstrap at least 0, confidence in (0, 1).",
            "Use e.g. --top 10 --min-texts 5 --bootstrap 1000 --confidence 0.95.",
        )
    groups: dict = {}
    errors: Counter = Counter()
    seen, options_seen, models = set(), [], Counter()
    rows = explained = failed = duplicates = 0
    for position, rec in enumerate(records):
        where = getattr(rec, "where", "") or f"Record {position}"
        if not isinstance(rec, dict):
            raise InvalidInput(f"{where} is not a record of the batch command.", _FIX)
        rec = dict(rec)
        row = rec.get("row", position)
        if isinstance(row, bool) or not isinstance(row, int):
            raise InvalidInput(f"{where} has the row {_shown(row)}, which is not a whole number.", _FIX)
        where = f"{where} (row {row})" if "row" in rec else where
        sha = rec.get("text_sha256")
        if sha is not None and not isinstance(sha, str):
            raise InvalidInput(f"{where} has a text_sha256 that is not a string.", _FIX)
        key = (row, sha)
        if key[1] is not None:
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
        rows += 1
        opts = _object(rec.get("options"), "options", where)
        if opts is not None and opts not in options_seen:
            options_seen.append(opts)
        if not rec.get("ok"):
            failed += 1
            err = _object(rec.get("error"), "error", where) or {}
            errors[str(err.get("error", "unknown"))] += 1
            continue
        result = _object(rec.get("result"), "result", where)
        if not isinstance(result, dict) or "words" not in result:
            raise InvalidInput(
                f"{where} holds no explanation.", "Give the output of the batch command (or of explain.corpus.hf_datasets)."
            )
        problem = _result_problem(result)
        if problem:
            raise InvalidInput(f"{where}: {problem}.", _FIX)
        explained += 1
        checkpoint = result.get("checkpoint") or {}
        models[str(checkpoint.get("source") or (opts or {}).get("model") or "")] += 1
        label = str(result.get("target"))
        if result.get("contrast") is not None:
            label = f"{label} vs {result['contrast']}"
        try:
            groups.setdefault(label, _Label(label)).add(result, row)
        except (KeyError, ValueError, TypeError, AttributeError, IndexError, RecursionError) as exc:
            raise InvalidInput(f"{where} could not be read ({type(exc).__name__}).", _FIX) from None
    wanted = None if labels is None else [str(x) for x in labels]
    if wanted is not None:
        missing = [x for x in wanted if x not in groups]
        if missing:
            raise InvalidInput(
                f"No row explains {', '.join(map(repr, missing))} (labels explained: "
                f"{', '.join(map(repr, sorted(groups))) or 'none'}).",
                "Pick one of those labels.",
            )
    order = wanted if wanted is not None else sorted(groups, key=lambda g: (-groups[g].texts, g))
    label_reports = tuple(_finish(groups[g], top_k, min_texts, bootstrap, confidence, seed) for g in order)
    notes = [
        "Rows are grouped by the label they explain: each row's target (the predicted label unless a target was "
        "given), or 'target vs contrast'.",
        "Words are each explanation's word units, lowercased. A word's mean is over its occurrences; 'texts' is "
        "how many texts of the label contain it, 'share' that number over the label's texts.",
        f"Intervals: {confidence:.0%} bootstrap percentile intervals of each mean, from {bootstrap} resamples of the "
        f"texts that contain the word (seed {seed}).",
        f"Only words in at least {min_texts} texts of a label are ranked.",
        f"Flips: words whose summed score in a text is positive in at least {FLIP_SHARE:.0%} of their texts and "
        f"negative in at least {FLIP_SHARE:.0%}, strongest (mean |score|) first.",
        "Shortcut check: the share of the sum of |score| (over word units and special tokens) that lands on each "
        "kind of unit, beside that kind's share of the units.",
    ]
    if duplicates:
        notes.append(f"{duplicates} duplicate records (the same row and text twice) were counted once.")
    if len(options_seen) > 1:
        notes.append(f"The rows were made with {len(options_seen)} different option sets; they are summed together.")
    return DatasetReport(
        source=str(source),
        models=tuple(m for m, _ in models.most_common()),
        rows=rows,
        explained=explained,
        failed=failed,
        errors=dict(errors.most_common()),
        options=options_seen[0] if options_seen else {},
        labels=label_reports,
        top_k=top_k,
        min_texts=min_texts,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        notes=tuple(notes),
    )


def _finish(g: _Label, top_k: int, min_texts: int, bootstrap: int, confidence: float, seed: int) -> LabelReport:
    eligible = {key: w for key, w in g.vocab.items() if len(w.counts) >= min_texts}
    means = {key: _means(w.sums, w.abs_sums, w.counts) for key, w in eligible.items()}
    by_word = lambda key: (key[1], key[0])
    toward = sorted((k for k in eligible if means[k][0] > 0), key=lambda k: (-means[k][0], by_word(k)))[:top_k]
    against = sorted((k for k in eligible if means[k][0] < 0), key=lambda k: (means[k][0], by_word(k)))[:top_k]
    strongest = sorted(eligible, key=lambda k: (-means[k][1], by_word(k)))[:top_k]

    def flips(w: _Word) -> bool:
        n = len(w.sums)
        return sum(s > 0 for s in w.sums) >= FLIP_SHARE * n and sum(s < 0 for s in w.sums) >= FLIP_SHARE * n

    flipping = sorted((k for k, w in eligible.items() if flips(w)), key=lambda k: (-means[k][1], by_word(k)))[:top_k]
    intervals: dict = {}

    def stat(key, contexts: tuple) -> WordStat:
        w = eligible[key]
        if key not in intervals:
            # In row order, so that the same rows give the same interval whatever order
            # they were written in (engines write rows as they finish).
            order = sorted(range(len(w.rows)), key=w.rows.__getitem__)
            intervals[key] = bootstrap_interval(
                [w.sums[i] for i in order],
                [w.abs_sums[i] for i in order],
                [w.counts[i] for i in order],
                bootstrap,
                confidence,
                word_rng(seed, g.label, key[0], key[1]),
            )
        low, high, abs_low, abs_high = intervals[key]
        mean, mean_abs = means[key]
        return WordStat(
            word=key[1],
            segment=key[0],
            count=int(sum(w.counts)),
            texts=len(w.counts),
            share=len(w.counts) / g.texts,
            mean=mean,
            mean_low=low,
            mean_high=high,
            mean_abs=mean_abs,
            abs_low=abs_low,
            abs_high=abs_high,
            positive=sum(s > 0 for s in w.sums),
            negative=sum(s < 0 for s in w.sums),
            contexts=contexts,
        )

    total = g.word_abs + g.special.abs_sum

    def share(kind: _Kind, name: str, units_of: int, how: str) -> ShortcutShare:
        return ShortcutShare(
            kind=name,
            units=kind.units,
            unit_share=kind.units / units_of if units_of else 0.0,
            attribution_share=kind.abs_sum / total if total else 0.0,
            mean=kind.signed / kind.units if kind.units else None,
            how=how,
            examples=tuple((t, n) for t, n in sorted(kind.seen.items(), key=lambda x: (-x[1], x[0]))[:5]),
        )

    special_how = SPECIAL_HOW + (SPECIAL_ZERO if g.special.units and g.special.abs_sum == 0 else "")
    return LabelReport(
        label=g.label,
        explained=g.explained.most_common(1)[0][0] if g.explained else "",
        texts=g.texts,
        predicted=g.predicted,
        words=g.words,
        distinct=len(g.vocab),
        eligible=len(eligible),
        not_converged=g.not_converged,
        median_error=statistics.median(g.errors) if g.errors else None,
        toward=tuple(stat(k, eligible[k].high.contexts()) for k in toward),
        against=tuple(stat(k, eligible[k].low.contexts()) for k in against),
        strongest=tuple(stat(k, eligible[k].strong.contexts()) for k in strongest),
        flips=tuple(stat(k, eligible[k].high.contexts()[:1] + eligible[k].low.contexts()[:1]) for k in flipping),
        shortcuts=(
            share(g.special, "special tokens", g.tokens, special_how),
            share(g.punctuation, "punctuation", g.words, PUNCTUATION_HOW),
            share(g.names, "names", g.words, NAMES_HOW),
        ),
    )


def dataset_report(source: Union[str, Path, Iterable[dict]], **kwargs) -> DatasetReport:
    """``build_report`` of a batch output file (JSON lines or Parquet), or of records
    already in memory (a list of dicts, a mapped ``datasets.Dataset``)."""
    if isinstance(source, (str, Path)):
        return build_report(read_records(source), source=Path(source).name, **kwargs)
    return build_report(source, **kwargs)
