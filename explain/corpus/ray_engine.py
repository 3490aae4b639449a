"""Many machines: the batch job on Ray Data (``explain --input ... --engine ray``).

Ray Data reads the input (``read_binary_files``: each file - txt, JSONL, CSV/TSV or
Parquet; for Parquet also a folder of files - is read by one Ray task and parsed by the
very function the local engine uses, so rows are numbered and hashed the same), drops the rows
an earlier run finished, and explains the rest with ``map_batches`` over a pool of
actors, one per model replica: each actor loads the model once and explains its
batches with packed passes (``explain_many``), on a GPU when the cluster has them. The
driver receives each finished batch and appends its records to the same JSON lines the
local engine writes (or to a Parquet file), so either engine resumes the other's output
and ``explain report`` reads both.

``ray`` is optional (``pip install -r requirements-ray.txt``, or the ``ray`` extra) and
imported only when this engine runs."""

from __future__ import annotations

import json
import logging
import math
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Optional, Union

from ..errors import ExplainError, InvalidInput
from ..options import Options
from . import batch
from .explainers import explainers, job_options

ROW_COLUMNS = ("row", "text_sha256", "data")  # data: the Row's fields as JSON (no NaN-for-None surprises)
ROW_FIELDS = ("text", "target", "problem", "raw", "text_pair")


class MissingDependency(ExplainError):
    """An optional package this feature needs is not installed."""

    code = "missing_dependency"


def require_ray() -> ModuleType:
    """The ``ray`` module with Ray Data, or a clear message saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise MissingDependency(
            "--engine ray needs Ray Data, which is not installed (it is not in requirements.txt, the Space's set).",
            'Install it with: pip install -r requirements-ray.txt (or pip install ".[ray]"), e.g. in a venv made with '
            "--system-site-packages; or leave out --engine ray to explain on this machine.",
        ) from None
    return ray


def _is_uri(path: str) -> bool:
    return "://" in path


def _worker_model(model) -> str:
    """What each actor loads: a Hub ID as given, a local folder as an absolute path (the
    actors do not share the driver's working directory)."""
    if not isinstance(model, (str, Path)):
        raise InvalidInput(
            "The Ray engine needs a Hub ID or a folder, not a model already in memory.",
            "Each actor loads its own copy: pass the ID or the folder's path.",
        )
    path = Path(model).expanduser()
    return str(path.resolve()) if path.exists() else str(model)


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A ``host:port`` address must answer: Ray itself waits for a missing cluster for
    minutes without saying why."""
    host, sep, port = address.rpartition(":")
    if address == "auto" or not sep or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout).close()
    except OSError as exc:
        raise InvalidInput(
            f"Nothing answers at {address!r} ({exc.strerror or exc}).",
            "Give the head node's address as `ray status` there shows it (HOST:6379), or 'auto' on "
            "a node of the cluster; or leave out --ray-address to start a local Ray.",
        ) from None


@contextmanager
def connected(
    address: Optional[str] = None, num_cpus: Optional[int] = None, ship_package: bool = True
) -> Iterator[ModuleType]:
    """Ray for the duration: the running one, the cluster at ``address`` (``auto`` or a
    head's ``host:port``), or a new local one with ``num_cpus``.
    ``ship_package``: send this ``explain`` package to the workers (they still need torch
    and transformers); shut down or disconnect afterwards only what was started here."""
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    runtime_env = {"py_modules": [str(Path(__file__).resolve().parents[1])]} if ship_package else None
    kwargs = dict(runtime_env=runtime_env, log_to_driver=False, logging_level=logging.WARNING)
    if address:
        _check_reachable(address)
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InvalidInput(
                f"Could not connect to the Ray cluster at {address!r} ({first[:300]}).",
                "Check the address (`ray status` on the head node shows it; 'auto' finds a cluster started on "
                "this machine). A cluster with token authentication on (Ray 2.60 turns it on for the clusters "
                "ray.init() starts) also needs RAY_AUTH_MODE=token here and its token in RAY_AUTH_TOKEN or "
                "~/.ray/auth_token.",
            ) from None
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, **kwargs)
    try:
        yield ray
    finally:
        ray.shutdown()


def _parse_files(files: dict, fmt: str, column: str, pair_column: str) -> dict:
    """Ray task: whole files -> their rows, by the local engine's own parsers (rows
    numbered within each file; ``_shift`` numbers them on across files)."""
    rows, paths = [], []
    for data, path in zip(files["bytes"], files["path"]):
        name = Path(str(path)).name
        if fmt == "parquet":
            got = batch.parquet_bytes_rows(bytes(data), name, column, pair_column)
        else:
            got = batch.parse_content(batch.decode(bytes(data), name), fmt, column, pair_column, name)
        rows += got
        paths += [str(path)] * len(got)
    return {**_row_columns(rows), "path": paths}


def _shift(columns: dict, offsets: dict) -> dict:
    """Ray task: rows numbered within their file -> numbered across the files."""
    return {
        **{k: columns[k] for k in ROW_COLUMNS},
        "row": [int(r) + offsets[str(p)] for r, p in zip(columns["row"], columns["path"])],
    }


def _row_columns(rows: list) -> dict:
    return {
        "row": [r.row for r in rows],
        "text_sha256": [r.key[1] for r in rows],
        "data": [json.dumps([getattr(r, f) for f in ROW_FIELDS], ensure_ascii=False) for r in rows],
    }


def _rows_of(columns: dict) -> list:
    return [
        batch.Row(int(row), **dict(zip(ROW_FIELDS, json.loads(str(data)))))
        for row, data in zip(columns["row"], columns["data"])
    ]


def _drop_done(columns: dict, done: frozenset) -> dict:
    keep = [k for k, key in enumerate(zip(columns["row"], columns["text_sha256"])) if (int(key[0]), str(key[1])) not in done]
    return {name: [columns[name][k] for k in keep] for name in ROW_COLUMNS}


class Explainer:
    """One model replica (a Ray Data actor): loads the model once, then turns batches of
    rows into the records the local engine writes (``line``: the JSON line)."""

    def __init__(self, model: str, options: dict, threads: Optional[int] = None, device: str = "cpu") -> None:
        import torch

        from ..checkpoints import load_classifier

        if threads:
            torch.set_num_threads(int(threads))
        self.options = options
        clf = load_classifier(model, device=device)
        # The checkpoint as the user named it (a folder was made absolute for the workers),
        # so the records are the local engine's. This process's own copy: safe to set.
        clf.source = options["model"] if Path(model).is_absolute() else clf.source
        self.one, self.many = explainers(clf, options)

    def __call__(self, columns: dict) -> dict:
        rows = _rows_of(columns)
        got = batch.explain_part(rows, self.options, self.one, self.many)
        records = [batch.record(r, self.options, g) for r, g in zip(rows, got)]
        return {
            "row": [r.row for r in rows],
            "ok": [rec["ok"] for rec in records],
            "line": [json.dumps(rec, ensure_ascii=False) for rec in records],
        }


def plan(
    resources: dict, workers: Optional[int], cpus_per_worker: float = 1, gpus_per_worker: Optional[float] = None
) -> tuple:
    """(replicas, GPUs per replica) for a cluster's resources: a GPU each when the
    cluster has GPUs (unless told otherwise), and by default as many replicas as the
    GPUs - or the CPUs - allow."""
    gpus = (1 if resources.get("GPU", 0) > 0 else 0) if gpus_per_worker is None else gpus_per_worker
    if workers is None:
        workers = resources.get("GPU", 0) // gpus if gpus else resources.get("CPU", 1) // max(cpus_per_worker, 1e-9)
    return max(1, int(workers)), gpus


def _explain_error(exc: BaseException) -> Optional[ExplainError]:
    """The ExplainError behind a Ray error (a task's or an actor's), if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ExplainError):
            return exc
        exc = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__
    return None


def explain_file_ray(
    input: Union[str, Path],
    output: Union[str, Path],
    model: Union[str, Path],
    *,
    fmt: Optional[str] = None,
    column: str = "text",
    pair_column: str = "text_pair",
    batch_size: int = 32,
    retry_failed: bool = False,
    progress: Optional[bool] = None,
    address: Optional[str] = None,
    workers: Optional[int] = None,
    cpus_per_worker: float = 1,
    gpus_per_worker: Optional[float] = None,
    num_cpus: Optional[int] = None,
    ship_package: bool = True,
    options: Optional[Options] = None,
    **overrides,
) -> batch.Summary:
    """Explain every row of ``input`` on Ray Data into ``output`` (JSON lines, resumable,
    or ``.parquet``), with the records the local engine writes (``explain_file``).

    ``address``: a running cluster (default: a new local Ray with ``num_cpus``, or the
    Ray this process already started). ``workers``: model replicas (default: as many as
    the cluster's GPUs, or CPUs / ``cpus_per_worker``). ``gpus_per_worker``: default 1
    when the cluster has GPUs, else 0. ``options``/``overrides``: an ``explain.Options``
    and/or its fields by name, as for ``explain()``."""
    ray = require_ray()
    source, output = str(input), Path(output)
    fmt = batch.input_format(Path(source), fmt)
    if not _is_uri(source) and not Path(source).exists():
        raise InvalidInput(f"There is no input file {source!r}.", "Check the path.")
    if fmt != "parquet" and not _is_uri(source) and Path(source).is_dir():
        raise InvalidInput(f"{source!r} is a folder.", "Give one file (a folder only for Parquet).")
    to_parquet = output.suffix.lower() in (".parquet", ".pq")
    if to_parquet and output.exists():
        raise InvalidInput(
            f"{output} exists. A Parquet output is written in one go and cannot be resumed.",
            "Remove it, or write JSON lines (.jsonl), which a rerun resumes.",
        )
    opts = job_options(str(model), options, **overrides)
    worker_model = _worker_model(model)
    data_logger = logging.getLogger("ray.data")
    level = data_logger.level
    try:
        with connected(address, num_cpus, ship_package) as ray:
            data_logger.setLevel(logging.ERROR)  # not even "progress bars disabled": ours shows
            ray.data.DataContext.get_current().enable_progress_bars = False
            return _run(
                ray,
                source,
                fmt,
                output,
                to_parquet,
                opts,
                worker_model,
                column,
                pair_column,
                batch_size,
                retry_failed,
                progress,
                workers,
                cpus_per_worker,
                gpus_per_worker,
            )
    except Exception as exc:
        cause = _explain_error(exc)
        if cause is not None and cause is not exc:
            raise cause from None
        raise
    finally:
        data_logger.setLevel(level)


def _read(ray, source: str, fmt: str, column: str, pair_column: str):
    """The input as a materialized dataset of rows (ROW_COLUMNS). Each file is read by one
    Ray task and parsed whole, so rows are numbered as the local engine numbers them (a
    folder of Parquet files: in sorted path order, numbered on from file to file)."""
    extensions = ["parquet"] if fmt == "parquet" and (_is_uri(source) or Path(source).is_dir()) else None
    files = ray.data.read_binary_files(source, include_paths=True, file_extensions=extensions)
    rows = files.map_batches(
        _parse_files, fn_kwargs=dict(fmt=fmt, column=column, pair_column=pair_column), batch_size=1, batch_format="numpy"
    ).materialize()
    counts: dict = {}
    for b in rows.select_columns(["path"]).iter_batches(batch_size=None, batch_format="numpy"):
        for path in b["path"]:
            counts[str(path)] = counts.get(str(path), 0) + 1
    if len(counts) <= 1:
        return rows.select_columns(list(ROW_COLUMNS))
    offsets, total = {}, 0
    for path in sorted(counts):
        offsets[path], total = total, total + counts[path]
    return rows.map_batches(_shift, fn_kwargs=dict(offsets=offsets), batch_size=4096, batch_format="numpy").materialize()


def _run(
    ray,
    source,
    fmt,
    output: Path,
    to_parquet: bool,
    opts: dict,
    worker_model: str,
    column,
    pair_column,
    batch_size: int,
    retry_failed: bool,
    progress,
    workers,
    cpus_per_worker,
    gpus_per_worker,
) -> batch.Summary:
    from tqdm.auto import tqdm

    rows = _read(ray, source, fmt, column, pair_column)
    keys = [
        (int(r), str(h))
        for b in rows.select_columns(["row", "text_sha256"]).iter_batches(batch_size=None, batch_format="numpy")
        for r, h in zip(b["row"], b["text_sha256"])
    ]
    done, failed_before = (set(), set()) if to_parquet else batch.read_done(output, keys, opts, retry_failed)
    summary = batch.Summary(total=len(keys), done_before=len(done), failed_before=len(failed_before))
    summary.failed_rows = sorted(k[0] for k in failed_before)
    todo = len(keys) - len(done)
    workers, gpus = plan(ray.cluster_resources(), workers, cpus_per_worker, gpus_per_worker)
    output.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(
        total=len(keys),
        initial=summary.done_before,
        unit="text",
        dynamic_ncols=True,
        desc="explaining",
        disable={True: False, False: True}.get(progress),
    )
    writer = _ParquetOut(output, opts) if to_parquet else None
    try:
        if todo:
            if done:
                rows = rows.map_batches(
                    _drop_done, fn_kwargs=dict(done=frozenset(done)), batch_size=4096, batch_format="numpy"
                )
            # Blocks of about one batch, ready before the actors take every CPU.
            rows = rows.repartition(max(workers, math.ceil(todo / max(1, batch_size)))).materialize()
            results = rows.map_batches(
                Explainer,
                fn_constructor_kwargs=dict(
                    model=worker_model, options=opts, threads=max(1, int(cpus_per_worker)), device="cuda" if gpus else "cpu"
                ),
                batch_size=max(1, int(batch_size)),
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=cpus_per_worker,
                num_gpus=gpus,
            )
            with writer or output.open("a", encoding="utf-8") as out:
                for got in results.iter_batches(batch_size=None, batch_format="numpy"):
                    for row, ok, line in zip(got["row"], got["ok"], got["line"]):
                        out.write(str(line) + "\n")
                        if ok:
                            summary.ok += 1
                        else:
                            summary.failed += 1
                            summary.failed_rows.append(int(row))
                    out.flush()
                    bar.update(len(got["row"]))
                    bar.set_postfix(failed=summary.failed + summary.failed_before, refresh=False)
    finally:
        bar.close()
    summary.failed_rows.sort()
    return summary


class _ParquetOut:
    """The records as a Parquet file (nested parts as JSON strings), written in row
    groups as batches arrive; complete only once closed."""

    def __init__(self, path: Path, options: dict) -> None:
        self.pa = batch.need_pyarrow("Writing Parquet")
        self.path, self.buffer, self.writer = path, [], None
        self.schema = self.pa.schema(
            [
                ("row", self.pa.int64()),
                ("text_sha256", self.pa.string()),
                ("ok", self.pa.bool_()),
                ("options", self.pa.string()),
                ("result", self.pa.string()),
                ("error", self.pa.string()),
                ("text", self.pa.string()),
            ]
        )
        self.partial = path.with_name(path.name + ".partial")

    def __enter__(self):
        self.writer = self.pa.parquet.ParquetWriter(str(self.partial), self.schema)
        return self

    def write(self, line: str) -> None:
        rec = json.loads(line)
        as_json = lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
        self.buffer.append(
            {
                "row": rec["row"],
                "text_sha256": rec["text_sha256"],
                "ok": rec["ok"],
                "options": as_json(rec["options"]),
                "result": as_json(rec.get("result")),
                "error": as_json(rec.get("error")),
                "text": rec.get("text"),
            }
        )

    def flush(self) -> None:
        if self.buffer:
            self.writer.write_table(self.pa.Table.from_pylist(self.buffer, schema=self.schema))
            self.buffer = []

    def __exit__(self, kind, value, tb) -> None:
        self.flush()
        self.writer.close()
        if kind is None:
            self.partial.replace(self.path)
        else:
            self.partial.unlink(missing_ok=True)
