"""The options of a job over many texts, and the functions that explain its rows.

One place builds them for every engine (the local run, each Ray actor, a
``datasets.map`` worker), so the same options give the same explanations, and the
options dict written into each output line is the same whichever engine wrote it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Optional, Union

from ..api import explain, explain_many
from ..options import Options, from_record, with_overrides


def job_options(model: str, options: Optional[Options] = None, **overrides) -> dict:
    """The options recorded in every output line (a rerun must give the same ones to
    resume): the model as the user wrote it, and every option that differs from its
    default, by its one name (``explain.Options``; old names such as ``steps`` are read)."""
    return {"model": str(model), **with_overrides(options, **overrides).validate().record()}


def explainers(clf, options: Mapping) -> tuple[Callable, Optional[Callable]]:
    """``(explain_one(row, target), explain_batch(rows, targets) or None)`` for a loaded
    classifier and a job's options. The batch function packs texts of similar length
    into shared passes (texts and pairs with the engine; zero-shot and Captum go one by
    one) and returns per row an Explanation or the error it raised."""
    opts = from_record(options)

    def one(row, target: Union[str, int, None]):
        return explain(row.text, clf, opts, text_pair=row.text_pair, target=target)

    if opts.zero_shot or opts.method != "engine":
        return one, None

    def many(rows, targets):
        return explain_many(
            [r.text for r in rows], clf, opts, text_pairs=[r.text_pair for r in rows], targets=targets, errors="return"
        )

    return one, many
