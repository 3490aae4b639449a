"""Many texts -> one JSON line each, resumable: the rows, the records and the local run.

Inputs: ``.txt`` (one text per line, blank lines skipped), ``.jsonl`` (objects with a
``text`` field, optionally ``text_pair`` and ``target``), ``.csv``/``.tsv`` (a ``text``
column, optionally ``text_pair`` and ``target`` columns) or ``.parquet`` (the same
columns; needs pyarrow). Each output line is keyed by the row's position and a hash of
its text (and pair), so a rerun after an interruption skips finished rows, and an
output written for another input or other options is refused rather than mixed. A row
that fails gets an error record and the run goes on. The Ray engine
(``explain.corpus.ray_engine``) parses files with the same functions and writes the
same records, so either engine can resume the other's output."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Optional

from ..errors import ExplainError, InvalidInput
from ..options import same_record

FORMATS = {
    ".txt": "txt",
    ".text": "txt",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
TEXT_FORMATS = ("txt", "jsonl", "csv", "tsv")


class OutputMismatch(ExplainError):
    """The output file holds results that do not belong to this input or these options."""

    code = "output_mismatch"


@dataclass(frozen=True)
class Row:
    """One input row: ``text`` (None when the row itself could not be read, see ``problem``)."""

    row: int
    text: Optional[str]
    target: Optional[str] = None
    problem: Optional[str] = None
    raw: str = ""
    text_pair: Optional[str] = None

    @property
    def key(self) -> tuple:
        text = self.text if self.text is not None else self.raw
        return (self.row, text_hash(text if self.text_pair is None else text + "\x00" + self.text_pair))


@dataclass
class Summary:
    total: int = 0
    done_before: int = 0
    ok: int = 0
    failed: int = 0
    failed_before: int = 0
    failed_rows: list = field(default_factory=list)


def text_hash(text: str) -> str:
    """Short SHA-256 of a text (lone surrogates allowed)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def input_format(path: Path, fmt: Optional[str] = None) -> str:
    """The input's format: ``fmt`` if given, else from the extension (a folder: Parquet files)."""
    fmt = fmt or FORMATS.get(Path(path).suffix.lower()) or ("parquet" if Path(path).is_dir() else None)
    if fmt not in TEXT_FORMATS + ("parquet",):
        raise InvalidInput(
            f"Cannot tell the format of {Path(path).name!r} from its extension.",
            "Name it .txt, .jsonl, .csv or .parquet, or pass --format txt|jsonl|csv|tsv|parquet.",
        )
    return fmt


def read_rows(path: Path, fmt: Optional[str] = None, column: str = "text", pair_column: str = "text_pair") -> list:
    """The rows of an input file, in order."""
    path = Path(path)
    fmt = input_format(path, fmt)
    if fmt == "parquet":
        return parquet_rows(path, column, pair_column)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"There is no input file {str(path)!r}.", "Check the path.") from None
    except IsADirectoryError:
        raise InvalidInput(f"{str(path)!r} is a folder.", "Give one file (a folder only for Parquet).") from None
    return parse_content(decode(data, path.name), fmt, column, pair_column, path.name)


def decode(data: bytes, name: str) -> str:
    """A file's bytes as text: UTF-8, a leading byte-order mark dropped, line ends made
    "\\n" as Python's text mode does (so the texts, and their hashes, are what earlier
    versions read)."""
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start}).", "Save it as UTF-8 and try again."
        ) from None


def parse_content(
    content: str, fmt: str, column: str = "text", pair_column: str = "text_pair", name: str = "the input"
) -> list:
    """The rows of a text file's content (``fmt``: txt, jsonl, csv or tsv). Row numbers
    are positions in the file: lines for txt/jsonl (blank lines keep their number),
    records for csv/tsv."""
    if fmt == "txt":
        lines = content.split("\n")
        return [Row(i, line.rstrip("\r")) for i, line in enumerate(lines) if line.strip()]
    if fmt == "jsonl":
        return [_json_row(i, line, column, pair_column) for i, line in enumerate(content.split("\n")) if line.strip()]
    reader = csv.DictReader(content.splitlines(keepends=True), delimiter="\t" if fmt == "tsv" else ",")
    if column not in (reader.fieldnames or []):
        raise InvalidInput(
            f"{name} has no {column!r} column (columns: {', '.join(reader.fieldnames or [])}).",
            "Name the text column 'text' or pass --column NAME.",
        )
    return [
        Row(
            i,
            rec.get(column) or "",
            (rec.get("target") or "").strip() or None,
            raw=json.dumps(rec),
            text_pair=rec.get(pair_column) or None,
        )
        for i, rec in enumerate(reader)
    ]


def need_pyarrow(what: str = "Reading Parquet") -> ModuleType:
    """pyarrow, or a clear message saying how to get it."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise InvalidInput(
            f"{what} needs pyarrow, which is not installed.",
            "pip install pyarrow (it comes with the Ray extra: pip install -r requirements-ray.txt), "
            "or use a .jsonl or .csv file.",
        ) from None
    return pyarrow


def parquet_rows(path: Path, column: str = "text", pair_column: str = "text_pair") -> list:
    """The rows of a Parquet file, or of a folder of them (its ``*.parquet`` files in
    sorted path order, numbered on from one file to the next)."""
    need_pyarrow()
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"There is no input file {str(path)!r}.", "Check the path.")
    files = sorted(str(f) for f in path.rglob("*.parquet")) if path.is_dir() else [str(path)]
    if not files:
        raise InvalidInput(f"The folder {str(path)!r} holds no .parquet file.", "Check the path.")
    rows: list = []
    for name in files:
        rows += parquet_bytes_rows(Path(name).read_bytes(), Path(name).name, column, pair_column, first=len(rows))
    return rows


def parquet_bytes_rows(data: bytes, name: str, column: str = "text", pair_column: str = "text_pair", first: int = 0) -> list:
    """The rows of one Parquet file's bytes, numbered from ``first``."""
    pa = need_pyarrow()
    try:
        table = pa.parquet.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"{name} is not a readable Parquet file ({exc}).", "Check the file.") from None
    if column not in table.column_names:
        raise InvalidInput(
            f"{name} has no {column!r} column (columns: {', '.join(table.column_names)}).",
            "Name the text column 'text' or pass --column NAME.",
        )
    wanted = [c for c in (column, pair_column, "target") if c in table.column_names]
    values = table.select(wanted).to_pydict()
    values["text"] = values.pop(column)
    if pair_column in values and pair_column != "text_pair":
        values["text_pair"] = values.pop(pair_column)
    return values_to_rows(range(first, first + table.num_rows), values, "text", "text_pair")


def values_to_rows(numbers: Iterable[int], columns: dict, column: str = "text", pair_column: str = "text_pair") -> list:
    """Rows from columns of values (Parquet, Ray batches), numbered by ``numbers``."""
    texts = list(columns[column])
    pairs = columns.get(pair_column)
    pairs = [None] * len(texts) if pairs is None else list(pairs)
    targets = columns.get("target")
    targets = [None] * len(texts) if targets is None else list(targets)
    rows = []
    for i, text, pair, target in zip(numbers, texts, pairs, targets):
        i = int(i)
        raw = json.dumps({column: text, pair_column: pair, "target": target}, ensure_ascii=False, default=str)
        if not isinstance(text, str):
            rows.append(Row(i, None, problem=f"Row {i} has no {column!r} string.", raw=raw))
        elif pair is not None and not isinstance(pair, str):
            rows.append(Row(i, None, problem=f"Row {i}: {pair_column!r} must be a string.", raw=raw))
        else:
            rows.append(Row(i, text, None if target in (None, "") else str(target), raw=raw, text_pair=pair or None))
    return rows


def _json_row(i: int, line: str, column: str, pair_column: str = "text_pair") -> Row:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return Row(i, None, problem=f"Line {i + 1} is not valid JSON ({exc.msg}).", raw=line)
    if isinstance(value, str):
        return Row(i, value, raw=line)
    if not isinstance(value, dict) or not isinstance(value.get(column), str):
        return Row(i, None, problem=f"Line {i + 1} has no {column!r} string field.", raw=line)
    target, pair = value.get("target"), value.get(pair_column)
    if pair is not None and not isinstance(pair, str):
        return Row(i, None, problem=f"Line {i + 1}: {pair_column!r} must be a string.", raw=line)
    return Row(i, value[column], None if target in (None, "") else str(target), raw=line, text_pair=pair or None)


def read_done(output: Path, rows: Iterable, options: dict, retry_failed: bool = False) -> tuple:
    """(finished keys, keys finished with an error) from an earlier run's output.
    ``rows``: the input's Rows, or their keys ``(row, text_sha256)``.

    Drops a half-written last line and, with ``retry_failed``, earlier error records
    (rewriting the file atomically). Refuses an output made for other rows or options."""
    output = Path(output)
    if not output.exists():
        return set(), set()
    wanted = {r if isinstance(r, tuple) else r.key for r in rows}
    keep, done, failed, dropped = [], set(), set(), 0
    with output.open(encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
                key = (int(rec["row"]), str(rec["text_sha256"]))
            except (ValueError, KeyError, TypeError):
                dropped += 1  # an interrupted write
                continue
            if not same_record(rec.get("options"), options):
                raise OutputMismatch(
                    f"{output} holds results made with other options ({rec.get('options')}).",
                    "Use a new --output file, or the same options as before.",
                )
            if key not in wanted:
                raise OutputMismatch(
                    f"{output} holds a result for row {key[0]} whose text is not in this input.",
                    "It was written for another input: use a new --output file.",
                )
            if not rec.get("ok") and retry_failed:
                dropped += 1
                continue
            keep.append(line if line.endswith("\n") else line + "\n")
            done.add(key)
            if not rec.get("ok"):
                failed.add(key)
    if dropped:
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=output.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(keep)
        os.replace(tmp, output)
    return done, failed


def run(
    rows: list,
    output: Path,
    options: dict,
    explain_one: Callable,
    *,
    retry_failed: bool = False,
    progress: Optional[bool] = None,
    explain_batch: Optional[Callable] = None,
    batch_size: int = 32,
) -> Summary:
    """Explain every unfinished row, appending one JSON line per row to ``output`` as soon
    as it is done. ``explain_batch(rows, targets)`` (packed: many rows per pass) returns
    per row an Explanation or the exception it raised; a batch that fails as a whole is
    redone row by row with ``explain_one(row, target)``, so one bad row never takes its
    neighbours down. The progress bar shows texts/s and the time left."""
    from tqdm.auto import tqdm

    done, failed_before = read_done(output, rows, options, retry_failed)
    todo = [r for r in rows if r.key not in done]
    summary = Summary(total=len(rows), done_before=len(rows) - len(todo), failed_before=len(failed_before))
    summary.failed_rows = sorted(k[0] for k in failed_before)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(
        total=len(rows),
        initial=summary.done_before,
        unit="text",
        disable={True: False, False: True}.get(progress),
        dynamic_ncols=True,
        desc="explaining",
    )
    size = max(1, int(batch_size)) if explain_batch is not None else 1
    with Path(output).open("a", encoding="utf-8") as out:
        for start in range(0, len(todo), size):
            part = todo[start : start + size]
            for r, got in zip(part, explain_part(part, options, explain_one, explain_batch)):
                if isinstance(got, BaseException):
                    summary.failed += 1
                    summary.failed_rows.append(r.row)
                else:
                    summary.ok += 1
                out.write(json.dumps(record(r, options, got), ensure_ascii=False) + "\n")
            out.flush()
            # Once per batch: a packed batch finishes all at once, and per-row updates
            # would show a first rate (and time left) of one text per batch.
            bar.set_postfix(failed=summary.failed + summary.failed_before, refresh=False)
            bar.update(len(part))
    bar.close()
    summary.failed_rows.sort()
    return summary


def explain_part(rows: list, options: dict, explain_one: Callable, explain_batch: Optional[Callable]) -> list:
    """Per row, its Explanation or the exception it raised (a row the reader could not
    read gets its problem as an InvalidInput)."""
    out: list = [None] * len(rows)
    ready = []
    for k, r in enumerate(rows):
        if r.problem:
            out[k] = InvalidInput(r.problem, "Fix that line of the input and run again.")
        else:
            ready.append(k)
    targets = [rows[k].target or options.get("target") for k in ready]
    if explain_batch is not None and len(ready) > 1:
        try:
            for k, got in zip(ready, explain_batch([rows[k] for k in ready], targets)):
                out[k] = got
            return out
        except BaseException as exc:  # the batch as a whole failed: find the culprit row by row
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
    for k, target in zip(ready, targets):
        try:
            out[k] = explain_one(rows[k], target)
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            out[k] = exc
    return out


def record(r: Row, options: dict, got) -> dict:
    """The output line of one row: its key, the options, and the result or the error."""
    rec = {"row": r.row, "text_sha256": r.key[1], "options": options}
    if isinstance(got, BaseException):
        rec.update(ok=False, text=r.text if r.text is not None else r.raw, error=error_record(got))
    else:
        rec.update(ok=True, result=got.to_dict())
    return rec


def error_record(exc: BaseException) -> dict:
    """A user error as its own dict; anything else as its type and message."""
    if isinstance(exc, ExplainError):
        return exc.to_dict()
    return {"error": "internal", "message": f"{type(exc).__name__}: {exc}"[:500], "problem": "", "fix": ""}
