"""A whole dataset: explain every row (on this machine, on Ray Data, or inside
``datasets.Dataset.map``) and sum the rows up per label.

- ``batch``: input files -> rows, rows -> resumable JSON-line records (shared by every engine)
- ``explainers``: a job's options -> the functions that explain its rows
- ``local``: ``explain_file``, one machine, packed passes
- ``ray_engine``: ``explain_file_ray``, Ray Data actors (imports ray only when called)
- ``hf_datasets``: ``DatasetExplainer`` for ``datasets.Dataset.map(batched=True)``
- ``report``: records -> ``DatasetReport`` (what drives each label)

Sits between the command line and ``explain.api``; ``ray`` and ``datasets`` are never
imported when the package is."""

from .batch import OutputMismatch, Row, Summary, read_rows
from .explainers import explainers, job_options
from .local import explain_file
from .report import build_report, dataset_report, read_records


def explain_file_ray(*args, **kwargs) -> Summary:
    """``explain_file`` on Ray Data (see ``explain.corpus.ray_engine.explain_file_ray``)."""
    from .ray_engine import explain_file_ray as run

    return run(*args, **kwargs)


__all__ = [
    "OutputMismatch",
    "Row",
    "Summary",
    "build_report",
    "dataset_report",
    "explain_file",
    "explain_file_ray",
    "explainers",
    "job_options",
    "read_records",
    "read_rows",
]
