"""The page's outputs by name: what each event returns, as a NamedTuple whose fields are
the components it fills (the same class holds the components, at layout time, and their
values, at run time, so the two cannot drift apart), and the views that fill them from
an explanation. Gradio sends them positionally, in field order: the API's order."""

from __future__ import annotations

from typing import Any, NamedTuple

import gradio as gr
import pandas as pd

from explain.render import page
from explain.render.views import (
    comparison_markdown,
    curve_note,
    curve_rows,
    curve_titles,
    highlighted_levels,
    label_choices,
    label_scores,
    summary_markdown,
    trust_headline,
    trust_markdown,
    word_rows,
)
from explain.result import Explanation


def _named(cls):
    """Give an output tuple ``unchanged()``: every output left as it is on the page.
    (A NamedTuple cannot inherit from a mixin class, so it is attached here.)"""
    cls.unchanged = classmethod(lambda c: c(*(gr.skip() for _ in c._fields)))
    return cls


@_named
class Panels(NamedTuple):
    """The result panels of /explain, in the API's order (older callers read positions)."""

    words: Any  # the text's words, coloured (HighlightedText)
    labels: Any  # probabilities per label (Label)
    details: Any  # the numbers for experts (Markdown)
    result: Any  # the explanation as JSON
    curves: Any  # faithfulness curves (LinePlot data)
    trust: Any  # "Can I trust this?" in plain words (Markdown)
    comparison: Any  # baselines compared (Markdown)
    caption: Any  # the sentence and colour key above the words (HTML)
    words_pair: Any  # the text pair's words (HighlightedText)
    table: Any  # every word's score (Dataframe)
    switch: Any  # which explained label the words show (Radio)
    present: Any  # sigmoid heads: the words of every present label (HTML)
    error: Any  # the inline error (HTML)
    trust_details: Any  # the checks in full (Markdown)
    note: Any  # the curves' end points in words (Markdown)
    verify: Any  # what the model says with words hidden (HTML; a hint until a word is clicked)


@_named
class Sharing(NamedTuple):
    """The share panel and the download button, filled after a result."""

    link: Any
    badge: Any
    iframe: Any
    web_component: Any
    static: Any
    preview: Any
    files: Any
    download: Any

    @classmethod
    def cleared(cls) -> Sharing:
        return cls(gr.update(value="", info=None), "", "", "", "", "", None, gr.update(value=None, interactive=False))


@_named
class ModelPanels(NamedTuple):
    """What loading a checkpoint fills: the label boxes, what the model reads, its card."""

    target: Any
    contrast: Any
    task: Any
    text_pair: Any
    card: Any
    error: Any
    loaded: Any  # gr.State: {"checkpoint", "labels"} of the checkpoint whose labels are shown


@_named
class TaskPanels(NamedTuple):
    """What choosing one text, a text pair or zero-shot labels shows and hides."""

    text_pair: Any
    candidates: Any
    template: Any
    multi_label: Any
    target: Any
    contrast: Any


def values(shown: Explanation, labels) -> Panels:
    """The panels' plain values for one explanation (``labels``: every label explained with it)."""
    rows = curve_rows(shown)
    headers, table = word_rows(shown)
    return Panels(
        words=highlighted_levels(shown),
        labels=label_scores(shown),
        details=summary_markdown(shown),
        result=shown.to_dict(),
        curves=pd.DataFrame(rows) if rows else None,
        trust=trust_headline(shown),
        comparison=comparison_markdown(shown.extras.baselines),
        caption=page.caption_panel(shown),
        words_pair=highlighted_levels(shown, 1) if shown.text_pair is not None else None,
        table=pd.DataFrame(table, columns=headers),
        switch=shown.target,
        present=page.present_panel(labels),
        error="",
        trust_details=trust_markdown(shown.extras.trust),
        note=curve_note(shown),
        verify=page.verify_hint(),
    )


def for_page(shown: Explanation, labels) -> Panels:
    """As ``values``, with what the page also changes: titles, what is visible, the switch's choices."""
    plain = values(shown, labels)
    multi = shown.head == "sigmoid" and len(shown.labels) > 1
    title = "Prediction"
    if multi:
        present_now = [name for name, p in sorted(shown.probabilities.items(), key=lambda kv: -kv[1]) if p > 0.5]
        title = "Labels present (> 50%): " + (", ".join(present_now) or "none") + " - each label is scored on its own"
    elif shown.zero_shot is not None:
        title = "Zero-shot scores of the candidate labels"
    x_title, y_title = curve_titles(shown)
    choices = label_options(shown)
    pair = plain.words_pair
    return plain._replace(
        labels=gr.update(
            value=plain.labels, label=title, elem_classes=["explain-result"] + (["explain-multi"] if multi else [])
        ),
        curves=gr.update(value=plain.curves, x_title=x_title, y_title=y_title),
        words=gr.update(
            value=plain.words, label="Text (the first of the pair)" if pair is not None else "Word attributions"
        ),
        words_pair=gr.update(value=pair, visible=pair is not None),
        switch=gr.update(choices=choices, value=shown.target, visible=len(choices) > 1 and shown.head != "regression"),
        present=gr.update(value=plain.present, visible=bool(plain.present)),
        note=gr.update(value=plain.note, visible=bool(plain.note)),
    )


def label_options(shown: Explanation) -> list:
    """[(shown name, label), ...] of every label, most probable first, each with its
    probability (sigmoid heads: present or absent): the one place to pick the label explained."""
    ranked = sorted(shown.labels, key=lambda name: -shown.probabilities.get(name, 0.0))
    return label_choices([shown.replace(target=name) for name in ranked])


def draft(shown: Explanation) -> Panels:
    """A first, coarser answer while the engine refines: the words, the prediction and the
    caption (marked "refining"); everything else stays as it is until the final result."""
    pair = highlighted_levels(shown, 1) if shown.text_pair is not None else None
    return Panels.unchanged()._replace(
        words=gr.update(
            value=highlighted_levels(shown),
            label="Text (the first of the pair)" if pair is not None else "Word attributions",
        ),
        words_pair=gr.update(value=pair, visible=pair is not None),
        labels=label_scores(shown),
        caption=page.caption_panel(shown, refining=True),
        error="",
    )


def failed(message: str, kept: bool) -> Panels:
    """A failure shown on the page: the message inline at the top of the results (escaped
    once), the previous result kept (dimmed by the page's CSS), everything else unchanged."""
    return Panels.unchanged()._replace(error=page.error_panel(message, kept=kept))
