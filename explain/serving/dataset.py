"""Many texts on a public server (the page's "Many texts" tab and its /report endpoint).

A visitor's file is read within the server's limits (its size before a byte is read,
its rows before the rest is parsed), its cost estimated before it starts (refused when it
cannot finish in the time a report may run), then its rows are explained in bounded
chunks: each chunk holds the model for about ``CHUNK_S`` seconds and, before the next,
gives way while single-text visitors' explanations wait or run (``give_way``, a probe the
page supplies from Gradio's queue), so a report never keeps them waiting longer than one
chunk. A stop (the visitor's button, or the report's time limit) ends the run between
chunks and keeps every row that finished. The rows are summed up as ``explain report``
does (``explain.corpus.report``), with accuracy and a confusion table when the file gives
labels, and written as Markdown (a model-card section), HTML, SVG, CSV and JSON lines into
a folder with a random name that only this run's answer names. No Gradio here."""

from __future__ import annotations

import collections
import csv
import dataclasses
import datetime
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .. import api
from ..corpus import batch, build_report, job_options
from ..engine import deadline
from ..errors import ExplainError, InvalidInput, ServerBusy
from ..lru import BoundedLRU
from ..options import Options
from ..render import dataset as card
from ..render.report import report_svg
from ..result import DatasetReport, Explanation
from . import fairness
from .limits import ServeLimits, check_field, check_steps, check_text

Progress = Callable[[float, str], None]
FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "txt", ".text": "txt"}
TEXT_COLUMN, LABEL_COLUMN, PAIR_COLUMN = "text", "label", "text_pair"
CHUNK_S = 2.0  # estimated model time of one chunk: the longest a single-text visitor waits for a report
MAX_CHUNK = 32  # rows in one chunk at most (one packed pass)
PACKED_SHARE = 0.5  # a packed row costs about this share of the same row explained alone (first guess)
GIVE_WAY_S = 30.0  # the longest one chunk waits for other visitors' explanations before it goes anyway
POLL_S = 0.2
BOOTSTRAP = 1000  # resamples behind each interval, as the command line
EXAMPLES = 3  # example rows per label
WRONG_WORDS = 3  # each wrong row's strongest words toward its (wrong) answer
WRONG_SHOWN = 12  # rows of the wrong-answers table
RATE_KEY = "report_seconds_per_row_token"  # a model's measured packed speed (its memo)
COMMAND_LINE = (
    "or run the command line on your own machine: explain --input FILE --output rows.jsonl --model "
    "MODEL, then explain report rows.jsonl --output report.md"
)


# --- the file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A visitor's file (or pasted lines), read within the limits: its rows (``batch.Row``),
    per row the label the file gives (or None), and the column that gave them ("" : none)."""

    name: str
    fmt: str
    rows: tuple
    given: tuple
    label_column: str = ""
    size: int = 0


def limits_line(limits: ServeLimits) -> str:
    """What this server takes, in one sentence (shown before anything is uploaded)."""
    return (
        f"This server explains files of up to {limits.report_max_rows:,} rows and {_size(limits.report_max_bytes)} "
        f"(CSV, TSV, JSON lines or plain text, UTF-8), each text up to {limits.max_chars:,} characters, in at "
        f"most {limits.report_deadline_s:g} s of model time per report."
    )


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.0f} KB" if n >= 2**10 else f"{n} bytes"


def too_large(limits: ServeLimits, name: str, size: Optional[int]) -> InvalidInput:
    """The refusal of a file over the size limit (``size`` None: more than it)."""
    sized = f"{size:,} bytes ({_size(size)})" if size is not None else f"more than {limits.report_max_bytes:,} bytes"
    return InvalidInput(
        f"{name} is {sized}; this server reads files of up to {limits.report_max_bytes:,} bytes "
        f"({_size(limits.report_max_bytes)}) and {limits.report_max_rows:,} rows.",
        f"Upload a part of it (its first rows), {COMMAND_LINE}.",
    )


def read_upload(
    limits: ServeLimits,
    path: Any = None,
    pasted: Any = None,
    text_column: Any = TEXT_COLUMN,
    label_column: Any = LABEL_COLUMN,
) -> Upload:
    """A file on the server's disk (as the web framework stored the upload; its name says
    its format) or pasted lines (one text per line) -> an ``Upload``. The size is checked
    before the file is read, the rows while it is parsed (parsing stops past the limit).
    ``label_column``: the column (or JSON field) with each row's label; the default "label"
    may be missing, a column named otherwise must exist."""
    text_column = _column(limits, text_column, TEXT_COLUMN, "text column")
    label_default = label_column is None or (isinstance(label_column, str) and label_column.strip() in ("", LABEL_COLUMN))
    label_column = _column(limits, label_column, "", "label column")
    if path not in (None, ""):
        if not isinstance(path, (str, os.PathLike)):
            raise InvalidInput("The file must be an uploaded file.", "Upload a CSV, TSV, JSONL or TXT file.")
        path = Path(path)
        name = path.name
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise InvalidInput(
                f"Cannot tell the format of {name!r} from its name.",
                "Name it .csv, .tsv, .jsonl or .txt (Parquet: use the command line).",
            )
        try:
            size = path.stat().st_size
            if size > limits.report_max_bytes:
                raise too_large(limits, name, size)
            with path.open("rb") as f:
                data = f.read(limits.report_max_bytes + 1)
        except OSError:
            raise InvalidInput(f"The uploaded file {name!r} could not be read.", "Upload it again.") from None
        if len(data) > limits.report_max_bytes:
            raise too_large(limits, name, None)
        content = batch.decode(data, name)
    elif pasted not in (None, ""):
        if not isinstance(pasted, str):
            raise InvalidInput("The pasted texts must be text.", "Paste one text per line.")
        name, fmt, size = "pasted texts", "txt", len(pasted.encode("utf-8", "surrogatepass"))
        if size > limits.report_max_bytes:
            raise too_large(limits, name, size)
        content = pasted.replace("\r\n", "\n").replace("\r", "\n")
    else:
        raise InvalidInput(
            "There is no file and no pasted text.", "Upload a CSV, TSV, JSONL or TXT file, or paste texts, one per line."
        )
    if fmt in ("csv", "tsv"):
        rows, given, label_column = _table_rows(
            content, fmt, text_column, label_column, label_default, name, limits.report_max_rows
        )
    elif fmt == "jsonl":
        rows, given = _json_rows(content, text_column, label_column, limits.report_max_rows, name)
    else:
        rows, given, label_column = _line_rows(content, limits.report_max_rows, name), None, ""
    if not rows:
        raise InvalidInput(f"{name} holds no text.", "Give one text per row (blank lines are skipped).")
    given = tuple(given) if given is not None else (None,) * len(rows)
    if label_column and all(g is None for g in given):
        label_column = label_column if not label_default else ""
    return Upload(name=name, fmt=fmt, rows=tuple(rows), given=given, label_column=label_column, size=size)


def _column(limits: ServeLimits, value: Any, default: str, what: str) -> str:
    check_field(limits, value, what)
    return (value or "").strip() or default


def _too_many(limits_rows: int, name: str) -> InvalidInput:
    return InvalidInput(
        f"{name} has more than {limits_rows:,} rows; this server explains at most {limits_rows:,} per report.",
        f"Upload its first {limits_rows:,} rows, {COMMAND_LINE}.",
    )


def _line_rows(content: str, max_rows: int, name: str) -> list:
    rows = []
    for i, line in enumerate(content.split("\n")):
        if line.strip():
            if len(rows) == max_rows:
                raise _too_many(max_rows, name)
            rows.append(batch.Row(i, line))
    return rows


def _label(value: Any) -> Optional[str]:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _json_rows(content: str, column: str, label_column: str, max_rows: int, name: str) -> tuple:
    rows, given = [], []
    for i, line in enumerate(content.split("\n")):
        if not line.strip():
            continue
        if len(rows) == max_rows:
            raise _too_many(max_rows, name)
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(batch.Row(i, None, problem=f"Line {i + 1} is not valid JSON ({exc.msg}).", raw=line))
            given.append(None)
            continue
        if isinstance(value, str):
            rows.append(batch.Row(i, value, raw=line))
            given.append(None)
        elif isinstance(value, dict) and isinstance(value.get(column), str):
            pair = value.get(PAIR_COLUMN)
            rows.append(batch.Row(i, value[column], raw=line, text_pair=pair if isinstance(pair, str) and pair else None))
            given.append(_label(value.get(label_column)) if label_column else None)
        else:
            rows.append(batch.Row(i, None, problem=f"Line {i + 1} has no {column!r} string field.", raw=line))
            given.append(None)
    return rows, given


def _table_rows(
    content: str, fmt: str, column: str, label_column: str, label_default: bool, name: str, max_rows: int
) -> tuple:
    reader = csv.reader(io.StringIO(content, newline=""), delimiter="\t" if fmt == "tsv" else ",")
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], [], ""
    except csv.Error as exc:
        raise InvalidInput(f"{name} is not a readable {fmt.upper()} file ({exc}).", "Check the file.") from None
    shown = ", ".join(repr(h) for h in header[:12]) + (", ..." if len(header) > 12 else "")
    if column not in header:
        raise InvalidInput(
            f"{name} has no {column!r} column (its columns: {shown}).",
            "Name the column of texts 'text', or type its name in the text column box.",
        )
    if label_column and label_column not in header:
        if not label_default:
            raise InvalidInput(
                f"{name} has no {label_column!r} column (its columns: {shown}).",
                "Type the name of the column that holds each row's label, or leave the box empty.",
            )
        label_column = ""
    at, label_at = header.index(column), header.index(label_column) if label_column else None
    pair_at = header.index(PAIR_COLUMN) if PAIR_COLUMN in header and PAIR_COLUMN != column else None
    rows, given = [], []
    try:
        for i, rec in enumerate(reader):
            if not rec or not any(c.strip() for c in rec):
                continue
            if len(rows) == max_rows:
                raise _too_many(max_rows, name)
            rows.append(
                batch.Row(
                    i,
                    _at(rec, at) or "",
                    raw=json.dumps(dict(zip(header, rec)), ensure_ascii=False),
                    text_pair=_at(rec, pair_at) or None,
                )
            )
            given.append(_label(_at(rec, label_at)) if label_at is not None else None)
    except csv.Error as exc:
        raise InvalidInput(f"{name} is not a readable {fmt.upper()} file ({exc}).", "Check the file.") from None
    return rows, given, label_column


def _at(record: list, k: Optional[int]) -> Optional[str]:
    return record[k] if k is not None and k < len(record) else None


# --- what it will cost ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """An upload on a loaded model: per row its estimated seconds (None: it will not be
    explained, see ``problems``), the tokens and the total."""

    seconds: tuple
    tokens: int
    total: float
    problems: dict  # row index in the upload -> why it is not explained
    rate: float = 0.0  # the packed rate the seconds were estimated with

    @property
    def ready(self) -> int:
        return sum(s is not None for s in self.seconds)


def packed_rate(clf) -> float:
    """Seconds per gradient row per token in packed passes: measured on this model by
    earlier reports, else the single-text rate (``fairness.rate``) times PACKED_SHARE."""
    measured = clf.memo.get(RATE_KEY)
    return float(measured) if measured else fairness.rate(clf.memo, clf.n_parameters) * PACKED_SHARE


def plan(limits: ServeLimits, clf, upload: Upload, n_steps: int = 0) -> Plan:
    """Each row checked (readable, within the character and token limits) and costed; the
    whole refused (ServerBusy) when it would run past ``limits.report_deadline_s``."""
    rate = packed_rate(clf)
    seconds: list = []
    problems: dict = {}
    tokens = 0
    for k, row in enumerate(upload.rows):
        why = row.problem
        n = 0
        if why is None:
            try:
                check_text(limits, row.text)
                n = _tokens(clf, row.text, limits)
                if row.text_pair is not None:
                    check_text(limits, row.text_pair)
                    n += _tokens(clf, row.text_pair, limits)
            except InvalidInput as exc:
                why = str(exc)
        if why is not None:
            problems[k] = why
            seconds.append(None)
            continue
        tokens += n
        seconds.append(fairness.estimate(n, clf.max_length, n_steps, "engine", False, False, rate).seconds)
    total = sum(s for s in seconds if s is not None)
    if total > limits.report_deadline_s:
        fit, spent = 0, 0.0
        for s in seconds:
            if s is not None:
                if spent + s > limits.report_deadline_s:
                    break
                spent += s
            fit += 1
        ready = sum(s is not None for s in seconds)
        raise ServerBusy(
            f"This report would take about {total:,.0f} s on this server ({ready:,} texts, {tokens:,} "
            f"tokens); a report may run for {limits.report_deadline_s:g} s.",
            f"Upload its first {fit:,} rows or shorter texts, {COMMAND_LINE}.",
        )
    return Plan(seconds=tuple(seconds), tokens=tokens, total=total, problems=problems, rate=rate)


def _tokens(clf, text: str, limits: ServeLimits) -> int:
    n = len(clf.tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])
    if n == 0:
        raise InvalidInput("This model's tokenizer finds no tokens in the text.", "Give words to explain.")
    if n > limits.max_tokens:
        raise InvalidInput(
            f"The text is {n:,} tokens long for this model; this server explains at most {limits.max_tokens:,}.",
            "Shorten it.",
        )
    return n


def estimate_line(upload: Upload, p: Plan, model: str) -> str:
    """'82 texts (2,345 tokens) on <model>: about 25 s on this server.' (plain text)."""
    skipped = len(p.problems)
    line = (
        f"{upload.name}: {len(upload.rows):,} rows, {p.ready:,} to explain ({p.tokens:,} tokens) on {model}: "
        f"about {max(1, math.ceil(p.total)):,} s of model time on this server"
    )
    if skipped:
        line += f"; {skipped:,} rows will be reported as not explained (e.g. row {_first(p.problems, upload)})"
    if upload.label_column:
        line += f"; labels from the column {upload.label_column!r}"
    return line + "."


def _first(problems: dict, upload: Upload) -> str:
    k = min(problems)
    return f"{upload.rows[k].row + 1}: {problems[k]}"


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finished:
    """A finished (or stopped) report: what the card states, the report, the evaluation, the
    example rows per label, every row's record (the JSON lines) and the files written."""

    facts: card.CardFacts
    report: DatasetReport
    evaluation: Optional[card.Evaluation]
    examples: tuple  # ExampleRow, ... grouped by label, in the model's label order
    records: tuple  # the JSON-line records, in row order
    files: dict  # kind ("md", "html", "svg", "csv", "jsonl") -> Path
    model: str  # the model as a reader names it (the model box takes it back)
    markdown: str

    def to_dict(self) -> dict:
        """The API's answer: the report's JSON, the card's facts, the evaluation, the example
        rows and the Markdown section."""
        return {
            "facts": dataclasses.asdict(self.facts),
            "report": self.report.to_dict(),
            "evaluation": None
            if self.evaluation is None
            else {**dataclasses.asdict(self.evaluation), "accuracy": self.evaluation.accuracy},
            "examples": [
                {
                    "row": x.row,
                    "label_in_file": x.given,
                    "text": x.explanation.text,
                    "predicted": x.explanation.predicted,
                    "probability": x.explanation.probabilities.get(x.explanation.predicted),
                }
                for x in self.examples
            ],
            "markdown": self.markdown,
        }


class Folders:
    """Where reports' files go: one folder per run with a random name (mode 0700) under a
    private folder of this process, the oldest removed beyond ``keep``. Only the run's own
    answer names its folder."""

    def __init__(self, keep: int = 32, parent: Optional[Path] = None) -> None:
        self.keep = max(1, int(keep))
        self.parent = parent
        self.root: Optional[Path] = None
        self.made: collections.deque = collections.deque()
        self.lock = threading.Lock()

    def new(self) -> Path:
        with self.lock:
            if self.root is None or not self.root.is_dir():
                self.root = Path(tempfile.mkdtemp(prefix="explain-reports-", dir=self.parent))
            folder = Path(tempfile.mkdtemp(dir=self.root))
            self.made.append(folder)
            while len(self.made) > self.keep:
                shutil.rmtree(self.made.popleft(), ignore_errors=True)
            return folder


@dataclass(frozen=True)
class Shown:
    """What the page keeps of a session's last report: the model as the visitor named it and
    its example rows' texts (a click opens one), never its rows."""

    model: str
    texts: tuple


@dataclass
class Sessions:
    """Per visitor session: the stop flags of its reports (waiting or running) and what its
    last one showed."""

    limits: ServeLimits
    stops: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    finished: Optional[BoundedLRU] = None

    def __post_init__(self) -> None:
        if self.finished is None:
            self.finished = BoundedLRU(
                self.limits.sessions, self.limits.sessions * EXAMPLES * 64, weight=lambda shown: max(1, len(shown.texts))
            )

    def start(self, session: Optional[str], claimed: bool = False) -> threading.Event:
        """A new run's stop flag, kept beside the session's other runs (waiting or running)."""
        flag = threading.Event()
        if session:
            with self.lock:
                runs = self.stops.pop(session, [])
                runs.append([flag, claimed])
                self.stops[session] = runs[-8:]
                while len(self.stops) > 4 * self.limits.sessions:
                    self.stops.pop(next(iter(self.stops)))
        return flag

    def current(self, session: Optional[str]) -> threading.Event:
        """The stop flag of a run about to start: the oldest one ``start`` made for the session
        that no run has taken yet (set already when the visitor pressed stop while it waited),
        else a new one."""
        if session:
            with self.lock:
                for run in self.stops.get(session, ()):
                    if not run[1]:
                        run[1] = True
                        return run[0]
        return self.start(session, claimed=True)

    def stop(self, session: Optional[str]) -> bool:
        """Ask every report of the session, running or waiting, to stop (a running one after
        its current chunk)."""
        with self.lock:
            runs = list(self.stops.get(session, ())) if session else []
        for flag, _ in runs:
            flag.set()
        return bool(runs)

    def done(self, session: Optional[str], flag: threading.Event, result: Optional[Finished]) -> None:
        with self.lock:
            runs = self.stops.get(session) if session else None
            if runs is not None:
                runs[:] = [run for run in runs if run[0] is not flag]
                if not runs:
                    self.stops.pop(session)
        if session and result is not None:
            self.finished.put(session, Shown(result.model, tuple(x.explanation.text for x in result.examples)))

    def last(self, session: Optional[str]) -> Optional[Shown]:
        return self.finished.get(session) if session else None


@dataclass
class ReportService:
    """Reports on a public server, with its ``Service`` (models, limits, folders)."""

    service: Any  # explain.serving.Service
    folders: Folders = field(default_factory=Folders)
    sessions: Optional[Sessions] = None
    clock: Callable[[], float] = time.perf_counter
    today: Callable[[], str] = lambda: datetime.datetime.now(datetime.timezone.utc).date().isoformat()

    def __post_init__(self) -> None:
        if self.sessions is None:
            self.sessions = Sessions(self.service.limits)

    @property
    def limits(self) -> ServeLimits:
        return self.service.limits

    def read(
        self, path: Any = None, pasted: Any = None, text_column: Any = TEXT_COLUMN, label_column: Any = LABEL_COLUMN
    ) -> Upload:
        return read_upload(self.limits, path, pasted, text_column, label_column)

    def estimate(self, upload: Upload, checkpoint: Any = "", n_steps: Any = 0) -> str:
        """The cost line shown before a run (loads the model); raises the refusal when it is over."""
        clf, local = self.service.load(checkpoint)
        return estimate_line(
            upload, plan(self.limits, clf, upload, check_steps(self.limits, n_steps)), self._shown(checkpoint, clf, local)
        )

    def run(
        self,
        upload: Upload,
        checkpoint: Any = "",
        n_steps: Any = 0,
        *,
        top_k: Any = 10,
        min_texts: Any = 3,
        progress: Optional[Progress] = None,
        stop: Optional[threading.Event] = None,
        give_way: Optional[Callable[[], bool]] = None,
    ) -> Finished:
        """Explain every row of ``upload`` in chunks and sum them up (see the module's docstring).
        ``stop``: set it to end the run after the current chunk (the finished rows are kept);
        ``give_way()``: true while other visitors' explanations wait or run."""
        say = progress or (lambda fraction, what: None)
        limits = self.limits
        steps = check_steps(limits, n_steps)
        top_k, min_texts = _whole(top_k, "top_k", 1, 50), _whole(min_texts, "min_texts", 1, 10_000)
        say(0.0, "Loading the model")
        clf, local = self.service.load(checkpoint)
        p = plan(limits, clf, upload, steps)
        shown = self._shown(checkpoint, clf, local)
        options = Options(n_steps=steps or None).validate()
        recorded = job_options(shown, options)
        results: dict = {}
        for k, why in p.problems.items():
            results[k] = InvalidInput(why, "Fix that row of the file.")
        order = [k for k in range(len(upload.rows)) if k not in p.problems]
        total_est = sum(p.seconds[k] for k in order) or 1.0
        done_est = spent = 0.0
        stopped = ""
        i = 0
        pace = 1.0  # measured over estimated seconds of the last chunk
        say(0.0, f"Explaining {len(order):,} texts... about {math.ceil(p.total):,} s")
        while i < len(order):
            self._give_way(give_way, stop, say, done_est / total_est)
            if stop is not None and stop.is_set():
                stopped = f"stopped by the visitor after {i:,} of {len(order):,} texts"
                break
            if spent > limits.report_deadline_s:
                stopped = (
                    f"stopped at this server's time limit for a report ({limits.report_deadline_s:g} s) after "
                    f"{i:,} of {len(order):,} texts"
                )
                break
            chunk = _chunk(order, i, p.seconds, pace)
            rows = [upload.rows[k] for k in chunk]
            pairs = [r.text_pair for r in rows]
            t0 = self.clock()
            try:
                with deadline(limits.deadline_s):
                    got = api.explain_many(
                        [r.text for r in rows],
                        clf,
                        options,
                        text_pairs=pairs if any(x is not None for x in pairs) else None,
                        errors="return",
                        batch_size=MAX_CHUNK,
                    )
            except ExplainError as exc:
                got = [exc] * len(rows)
            seconds = self.clock() - t0
            spent += seconds
            estimated = sum(p.seconds[k] for k in chunk)
            pace = seconds / estimated if estimated > 0 and seconds > 0 else pace  # a busy machine: smaller chunks
            _learn(clf, got, seconds, estimated, p.rate)
            for k, g in zip(chunk, got):
                results[k] = g
            i += len(chunk)
            done_est += estimated
            left = spent * (total_est - done_est) / done_est if done_est else p.total
            say(
                done_est / total_est,
                f"Explained {i:,} of {len(order):,} texts... about {math.ceil(left):,} s left"
                if i < len(order)
                else f"Explained {i:,} texts; summing them up",
            )
        return self._finish(upload, clf, local, shown, recorded, results, steps, top_k, min_texts, stopped)

    def _give_way(self, busy: Optional[Callable[[], bool]], stop, say: Progress, at: float) -> None:
        if busy is None:
            return
        t0 = time.monotonic()
        told = False
        while busy() and time.monotonic() - t0 < GIVE_WAY_S and not (stop is not None and stop.is_set()):
            if not told:
                say(at, "Letting other visitors' explanations go first...")
                told = True
            time.sleep(POLL_S)

    def _shown(self, checkpoint: Any, clf, local: bool) -> str:
        """The model as a reader names it: the default's name, an operator folder's last name, a Hub ID."""
        if self.service.folders.is_default(checkpoint or ""):
            return self.service.folders.default_name()
        return Path(clf.source).name if local else str(checkpoint).strip()

    def _finish(
        self,
        upload: Upload,
        clf,
        local: bool,
        shown: str,
        recorded: dict,
        results: dict,
        steps: int,
        top_k: int,
        min_texts: int,
        stopped: str,
    ) -> Finished:
        records, explained = [], {}
        for k in sorted(results):
            got = results[k]
            if isinstance(got, Explanation):
                got = got.replace(checkpoint={**got.checkpoint, "source": shown})
                explained[k] = got
            elif isinstance(got, ExplainError):
                got = self.service.public(got)
            else:
                got = InvalidInput(
                    self.service.hide_paths(f"{type(got).__name__}: {got}"[:300]),
                    "Try again; if it persists, report it with the row.",
                )
            records.append(batch.record(upload.rows[k], recorded, got))
        report = build_report(records, source=upload.name, top_k=top_k, min_texts=min_texts, bootstrap=BOOTSTRAP, seed=0)
        evaluation = evaluate(upload, explained, list(clf.labels)) if upload.label_column else None
        examples = pick_examples(upload, explained, list(clf.labels))
        facts = card.CardFacts(
            model=shown,
            revision=_revision(clf, local),
            data=upload.name,
            rows=len(upload.rows),
            explained=report.explained,
            failed=report.failed,
            method=method_line(next(iter(explained.values()), None), steps),
            date=self.today(),
            stopped=stopped,
        )
        markdown = card.card_markdown(facts, report, evaluation)
        files = write_files(
            self.folders.new(), facts, report, evaluation, markdown, upload, records, explained, list(clf.labels)
        )
        return Finished(
            facts=facts,
            report=report,
            evaluation=evaluation,
            examples=examples,
            records=tuple(records),
            files=files,
            model=shown,
            markdown=markdown,
        )


def _whole(value: Any, what: str, low: int, high: int) -> int:
    if value is None:
        return low
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or not low <= value <= high:
        raise InvalidInput(
            f"{what} must be a whole number from {low} to {high}, not {value!r}.", f"Give a number from {low} to {high}."
        )
    return int(value)


def _chunk(order: list, i: int, seconds: tuple, pace: float = 1.0) -> list:
    """Rows from ``order[i]`` on, about CHUNK_S of model time (at least one row): their
    estimated seconds times ``pace``, how much longer than estimated the last chunk took."""
    chunk, spent = [], 0.0
    for k in order[i : i + MAX_CHUNK]:
        if chunk and spent + seconds[k] * pace > CHUNK_S:
            break
        chunk.append(k)
        spent += seconds[k] * pace
    return chunk


def _learn(clf, got: list, seconds: float, estimated: float, rate_used: float) -> None:
    """Fold a chunk's time into the model's packed rate: the rate its estimate used
    (``rate_used``), times the chunk's measured over estimated seconds. Only chunks explained afresh count, from
    the second on (the first pays for warming up); the fastest seen counts, as in
    ``fairness.learn``, so a busy moment never gets a report refused that would fit."""
    fresh = [g for g in got if not isinstance(g, BaseException) and getattr(g, "cache", None) != "hit"]
    if len(fresh) != len(got) or not fresh or seconds <= 0 or estimated <= 0:
        return
    seen = clf.memo.get(RATE_KEY + "_chunks", 0) + 1
    clf.memo[RATE_KEY + "_chunks"] = seen
    if seen == 1:
        return
    rate = rate_used * seconds / estimated
    old = clf.memo.get(RATE_KEY)
    clf.memo[RATE_KEY] = rate if not old else min(old, rate)


def _revision(clf, local: bool) -> str:
    """A Hub commit, or for a folder on the server the digest of its weights."""
    if clf.revision:
        return str(clf.revision)
    if not local:
        return "unknown"
    digest = clf.memo.get("report_weights_sha256")
    if digest is None:
        h = hashlib.sha256()
        try:
            for path in sorted(Path(clf.source).glob("*.safetensors")):
                with path.open("rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
            digest = h.hexdigest()
        except OSError:
            digest = ""
        clf.memo["report_weights_sha256"] = digest
    return f"a folder on this server; weights sha256 {digest[:16]}" if digest else "a folder on this server"


def method_line(e: Optional[Explanation], steps: int) -> str:
    """How the scores were made, in words (from a row's explanation)."""
    how = f"{steps} integration steps" if steps else "adaptive integration steps (to a completeness error of 1%)"
    line = f"layer integrated gradients on the word embeddings (explain's engine), {how}"
    if e is not None:
        token = e.baseline.get("token")
        line += f", every word replaced by {token} on the baseline" if token else ""
        line += f"; each row explains its predicted label ({e.quantity or 'its score'})"
    return line


# --- labels: accuracy, confusion, the words behind wrong answers ------------------------------------


def match_labels(values: set, labels: list) -> tuple:
    """{a label as the file writes it: the model's label} and how they were matched: by
    name, ignoring case, or as label numbers (0 = the first label)."""
    mapping, how = {}, set()
    folded = {x.casefold(): x for x in labels}
    numbers = all(v.isdigit() and int(v) < len(labels) for v in values if v not in labels)
    for v in values:
        if v in labels:
            mapping[v] = v
            how.add("by name")
        elif v.casefold() in folded:
            mapping[v] = folded[v.casefold()]
            how.add("ignoring case")
        elif numbers and v.isdigit():
            mapping[v] = labels[int(v)]
            how.add("as label numbers: " + ", ".join(f"{n} = {x}" for n, x in enumerate(labels)))
    return mapping, "; ".join(sorted(how))


def gold_labels(upload: Upload, labels: list) -> tuple:
    """(per row the model's label its label in the file stands for, or None; how they were matched)."""
    mapping, how = match_labels({g for g in upload.given if g is not None}, labels)
    return tuple(mapping.get(g) if g is not None else None for g in upload.given), how


def evaluate(upload: Upload, explained: dict, labels: list) -> card.Evaluation:
    """The model's answers against the file's labels, over the rows explained and labelled."""
    gold, how = gold_labels(upload, labels)
    cells: collections.Counter = collections.Counter()
    unknown: collections.Counter = collections.Counter()
    wrong: dict = {}
    correct = labelled = 0
    for k in sorted(explained):
        if upload.given[k] is None:
            continue
        labelled += 1
        if gold[k] is None:
            unknown[upload.given[k]] += 1
            continue
        e = explained[k]
        cells[(gold[k], e.predicted)] += 1
        if e.predicted == gold[k]:
            correct += 1
            continue
        toward = sorted((w for w in e.words if w.score > 0), key=lambda w: -w.score)[:WRONG_WORDS]
        for word in dict.fromkeys(w.text.lower() for w in toward):
            key = (gold[k], e.predicted, word)
            n, total = wrong.get(key, (0, 0.0))
            wrong[key] = (n + 1, total + max(w.score for w in toward if w.text.lower() == word))
    ranked = sorted(wrong.items(), key=lambda kv: (-kv[1][0], -kv[1][1] / kv[1][0], kv[0]))[:WRONG_SHOWN]
    order = {x: n for n, x in enumerate(labels)}
    return card.Evaluation(
        column=upload.label_column,
        labelled=labelled,
        matched=sum(cells.values()),
        correct=correct,
        how=how,
        labels=tuple(labels),
        confusion=tuple(
            (g, p, n) for (g, p), n in sorted(cells.items(), key=lambda c: (order[c[0][0]], order.get(c[0][1], 0)))
        ),
        unknown=tuple(unknown.most_common(10)),
        wrong_words=tuple(card.WrongWord(given=g, predicted=p, word=w, texts=n, mean=t / n) for (g, p, w), (n, t) in ranked),
    )


def pick_examples(upload: Upload, explained: dict, labels: list) -> tuple:
    """Up to EXAMPLES rows per predicted label: its most confident wrong answer first (when
    the file gives labels), then its most confident rows. Each shows the file's label as
    the model's label it stands for (as written when it stands for none)."""
    gold, _ = gold_labels(upload, labels)
    out = []
    for label in labels:
        rows = sorted(
            (k for k, e in explained.items() if e.predicted == label),
            key=lambda k: (-explained[k].probabilities.get(label, 0.0), k),
        )
        wrong = [k for k in rows if gold[k] is not None and gold[k] != label][:1]
        picked = (wrong + [k for k in rows if k not in wrong])[:EXAMPLES]
        out += [
            card.ExampleRow(row=upload.rows[k].row + 1, given=gold[k] or upload.given[k], explanation=explained[k])
            for k in picked
        ]
    return tuple(out)


# --- the files ------------------------------------------------------------------------------------


def csv_rows(upload: Upload, records: list, explained: dict, labels: list) -> list:
    """One dict per row for ``render.dataset.rows_csv``."""
    by_row = {rec["row"]: rec for rec in records}
    gold, _ = gold_labels(upload, labels)
    out = []
    for k, row in enumerate(upload.rows):
        rec = by_row.get(row.row)
        e = explained.get(k)
        item = {"row": row.row + 1, "text": row.text if row.text is not None else row.raw, "label_in_file": upload.given[k]}
        if e is not None:
            ranked = sorted(e.words, key=lambda w: -w.score)
            item.update(
                predicted=e.predicted,
                probability=f"{e.probabilities.get(e.predicted, 0.0):.4f}",
                correct="" if gold[k] is None else str(gold[k] == e.predicted).lower(),
                explained_label=e.target,
                words_toward=" ".join(w.text for w in ranked[:5] if w.score > 0),
                words_against=" ".join(w.text for w in ranked[::-1][:5] if w.score < 0),
            )
        elif rec is not None:
            item["error"] = (rec.get("error") or {}).get("message", "not explained")
        else:
            item["error"] = "not explained (the run stopped before this row)"
        out.append(item)
    return out


def write_files(
    folder: Path,
    facts: card.CardFacts,
    report: DatasetReport,
    evaluation,
    markdown: str,
    upload: Upload,
    records: list,
    explained: dict,
    labels: list,
) -> dict:
    """The downloads, in ``folder``: the card section (Markdown), HTML, the SVG chart, a CSV
    of the rows and their JSON lines."""
    title = card.escape.html(f"What drives each label: {facts.model}")
    html = (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head><body>'
        f"{card.card_html(facts, report, evaluation)}</body></html>\n"
    )
    out = {
        "md": folder / "report.md",
        "html": folder / "report.html",
        "svg": folder / "report.svg",
        "csv": folder / "rows.csv",
        "jsonl": folder / "rows.jsonl",
    }
    out["md"].write_text(markdown, encoding="utf-8")
    out["html"].write_text(html, encoding="utf-8")
    out["svg"].write_text(report_svg(report) + "\n", encoding="utf-8")
    out["csv"].write_text(card.rows_csv(csv_rows(upload, records, explained, labels)), encoding="utf-8")
    out["jsonl"].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return out
