"""Hugging Face ``datasets``: explain a ``Dataset`` with ``Dataset.map(batched=True)``.

    from datasets import load_dataset
    from explain.corpus.hf_datasets import DatasetExplainer, dataset_records
    from explain.corpus import build_report

    ds = load_dataset("rotten_tomatoes", split="test")
    explained = ds.map(DatasetExplainer("examples/minilm-rt-sentiment"), batched=True, batch_size=32,
                       with_indices=True)                      # num_proc=4 (and threads=1): 4 processes
    report = build_report(dataset_records(explained))

Each batch is explained with packed passes, exactly as the batch command does it; the
map adds three columns: ``explain_ok``, ``explain_result`` (the explanation's JSON, or
"") and ``explain_error`` (the error's JSON, or ""). The callable carries the model's name, not the
model: each process of ``num_proc`` loads its own copy on first use, and ``datasets``
can hash it for its cache. ``datasets`` itself is never imported here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Optional

from ..options import Options
from . import batch
from .explainers import explainers, job_options

COLUMNS = ("explain_ok", "explain_result", "explain_error")


class DatasetExplainer:
    """``fn`` for ``Dataset.map(fn, batched=True[, with_indices=True])``.

    ``column``/``pair_column``/``target_column``: where the text, an optional second
    text and an optional per-row target are; ``threads``: torch threads in each process
    (set 1 with ``num_proc`` > 1); ``device``: "cpu", "cuda", ... (default: CUDA when
    available); ``options``/``overrides``: an ``explain.Options`` and/or its fields by
    name (target, contrast, baseline, n_steps, method, candidate_labels ...), as for ``explain()``."""

    def __init__(
        self,
        model: str,
        *,
        column: str = "text",
        pair_column: Optional[str] = None,
        target_column: Optional[str] = None,
        threads: Optional[int] = None,
        device: Optional[str] = None,
        options: Optional[Options] = None,
        **overrides,
    ) -> None:
        self.model, self.column, self.pair_column, self.target_column = str(model), column, pair_column, target_column
        self.threads, self.device = threads, device
        self.options = job_options(self.model, options, **overrides)
        self._fns = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_fns"] = None  # each process loads its own model; the hash of the map stays cheap
        return state

    def _functions(self):
        if self._fns is None:
            from ..checkpoints import load_classifier

            if self.threads:
                import torch

                torch.set_num_threads(int(self.threads))
            self._fns = explainers(load_classifier(self.model, device=self.device), self.options)
        return self._fns

    def __call__(self, examples: dict, indices: Optional[list] = None) -> dict:
        if self.column not in examples:
            raise KeyError(f"The dataset has no {self.column!r} column (columns: {', '.join(examples)}); pass column=NAME.")
        texts = list(examples[self.column])
        numbers = list(indices) if indices is not None else list(range(len(texts)))
        columns = {"text": texts}
        if self.pair_column:
            columns["text_pair"] = list(examples[self.pair_column])
        if self.target_column:
            columns["target"] = list(examples[self.target_column])
        rows = batch.values_to_rows(numbers, columns)
        one, many = self._functions()
        out = {name: [] for name in COLUMNS}
        for r, got in zip(rows, batch.explain_part(rows, self.options, one, many)):
            rec = batch.record(r, self.options, got)
            out["explain_ok"].append(rec["ok"])
            # "" rather than None: a first batch of only None would give datasets a null-typed column
            out["explain_result"].append(json.dumps(rec["result"], ensure_ascii=False) if rec["ok"] else "")
            out["explain_error"].append("" if rec["ok"] else json.dumps(rec["error"], ensure_ascii=False))
        return out


def dataset_records(dataset: Iterable[dict]) -> Iterator[dict]:
    """The records ``build_report`` reads, from a dataset mapped with ``DatasetExplainer``
    (or any iterable of its rows)."""
    for k, example in enumerate(dataset):
        if "explain_ok" not in example:
            raise KeyError("This dataset has no explain_ok column: map it with DatasetExplainer first.")
        yield {
            "row": k,
            "ok": bool(example["explain_ok"]),
            "result": example["explain_result"] or None,
            "error": example["explain_error"] or None,
        }
