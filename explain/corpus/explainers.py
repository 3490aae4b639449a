"""The options of a job over many texts, and the functions that explain its rows.

One place builds them for every engine (the local run, each Ray actor, a
``datasets.map`` worker), so the same options give the same explanations, and the
options dict written into each output line is the same whichever engine wrote it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional, Union

from ..api import explain, explain_many, explain_zero_shot
from ..engine.run import DEFAULT_TEMPLATE


def job_options(model: str, *, target: Optional[str] = None, contrast: Optional[str] = None, baseline: str = "auto",
                steps: Optional[int] = None, method: str = "engine", labels: Optional[str] = None,
                template: str = DEFAULT_TEMPLATE, multi_label: bool = False) -> dict:
    """The options recorded in every output line (a rerun must give the same ones to
    resume). ``model`` is kept as the user wrote it."""
    options = {"model": str(model), "target": target, "contrast": contrast, "baseline": baseline, "steps": steps}
    # Only when set: outputs written before these options existed still resume.
    if method != "engine":
        options["method"] = method
    if labels is not None:
        options.update(labels=labels, template=template, multi_label=multi_label)
    return options


def explainers(clf, options: dict) -> tuple[Callable, Optional[Callable]]:
    """``(explain_one(row, target), explain_batch(rows, targets) or None)`` for a loaded
    classifier and a job's options. The batch function packs texts of similar length
    into shared passes (texts and pairs with the engine; zero-shot and Captum go one by
    one) and returns per row an Explanation or the error it raised."""
    labels = options.get("labels")
    method = options.get("method", "engine")
    contrast, baseline, steps = options.get("contrast"), options.get("baseline", "auto"), options.get("steps")

    def one(row, target: Union[str, int, None]):
        if labels is not None:
            return explain_zero_shot(row.text, clf, labels, hypothesis_template=options.get("template", DEFAULT_TEMPLATE),
                                     multi_label=bool(options.get("multi_label")), target=target, baseline=baseline,
                                     n_steps=steps)
        return explain(row.text, clf, text_pair=row.text_pair, target=target, contrast=contrast, baseline=baseline,
                       n_steps=steps, method=method)

    if labels is not None or method != "engine":
        return one, None

    def many(rows, targets):
        return explain_many([r.text for r in rows], clf, text_pairs=[r.text_pair for r in rows], targets=targets,
                            contrast=contrast, baseline=baseline, n_steps=steps, errors="return")
    return one, many
