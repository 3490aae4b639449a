"""A whole dataset: explain every row and sum the rows up per label.

- ``batch``: input files -> rows, rows -> resumable JSON-line records (shared by every engine)
- ``explainers``: a job's options -> the functions that explain its rows
- ``local``: ``explain_file``, one machine, packed passes
- ``report``: records -> ``DatasetReport`` (what drives each label)

Sits between the command line and ``explain.api``."""

from .batch import OutputMismatch, Row, Summary, read_rows
from .explainers import explainers, job_options
from .local import explain_file
from .report import build_report, dataset_report, read_records

__all__ = ["OutputMismatch", "Row", "Summary", "build_report", "dataset_report", "explain_file", "explainers",
           "job_options", "read_records", "read_rows"]
