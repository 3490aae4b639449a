"""One machine: a file of texts -> JSON lines, packed passes, resumable (the default engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from ..api import Model
from ..checkpoints import load_classifier
from ..options import Options
from . import batch
from .explainers import explainers, job_options


def explain_file(
    input: Union[str, Path],
    output: Union[str, Path],
    model: Model,
    *,
    fmt: Optional[str] = None,
    column: str = "text",
    pair_column: str = "text_pair",
    batch_size: int = 32,
    retry_failed: bool = False,
    progress: Optional[bool] = None,
    options: Optional[Options] = None,
    **overrides,
) -> batch.Summary:
    """Explain every row of ``input`` (txt, jsonl, csv/tsv, parquet) into ``output`` (JSON
    lines, one per row, appended as rows finish; a rerun resumes). ``options``/``overrides``:
    an ``explain.Options`` and/or its fields by name, as for ``explain()``. ``model``: a Hub
    ID, a folder, or a loaded Classifier."""
    rows = batch.read_rows(Path(input), fmt, column, pair_column)
    name = model if isinstance(model, (str, Path)) else getattr(model, "source", "model")
    opts = job_options(str(name), options, **overrides)
    one, many = explainers(load_classifier(model), opts)
    return batch.run(
        rows,
        Path(output),
        opts,
        one,
        retry_failed=retry_failed,
        progress=progress,
        explain_batch=many,
        batch_size=batch_size,
    )
