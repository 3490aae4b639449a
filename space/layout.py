"""Groups of the page's components that app.py lays out in one call each: the experts'
accordion, the share panel, and the examples with their events. Each returns its components by name (the share panel as a
``Sharing``, the same tuple its event fills), so app.py stays a page you can read top to
bottom."""

from __future__ import annotations

import gradio as gr

from explain.render import page
from explain.render.views import CURVES
from explain.serving import catalog

from .events import PRIVATE, Events
from .handlers import Page
from .panels import Sharing


def experts(curve_colours: list) -> tuple:
    """The experts' accordion: (details, the checks in full, the faithfulness curves, the
    curves' end points in words, the baseline comparison)."""
    with gr.Accordion("Details for experts: the numbers, the checks, the curves", open=False, elem_id="expert"):
        details = gr.Markdown(elem_id="details", label="Details")
        trust_details = gr.Markdown(label="Checks in full")
        curves = gr.LinePlot(
            x="percent",
            y="value",
            color="curve",
            label="Faithfulness curves",
            x_title="words hidden or kept, % of the text's words",
            y_title="measured value",
            color_map=dict(zip(CURVES.values(), curve_colours)),
        )
        note = gr.Markdown(visible=False, label="Curves in words")
        comparison = gr.Markdown(label="Baselines compared")
    return details, trust_details, curves, note, comparison


def sharing(download) -> Sharing:
    """The "Share / embed" accordion: the deep link, a badge, embeds, the static rendering
    and its preview, the downloads (``download``: the result's own button, made beside it)."""
    with gr.Accordion("Share / embed", open=False, elem_id="share"):
        link = gr.Textbox(label="Link that opens this explanation (it runs on load)", buttons=["copy"], elem_id="share-link")
        badge = gr.Code(label="Badge for a model card (Markdown)", language="markdown", lines=1)
        iframe = gr.Code(label="Embed this explanation (iframe)", language="html", lines=1)
        web_component = gr.Code(label="Embed the app (Gradio web component; opens the app's defaults)", language="html")
        static = gr.Code(
            label="Static rendering: HTML with inline styles, no JavaScript (for a model card)",
            language="html",
            lines=3,
            max_lines=8,
        )
        preview = gr.HTML(label="Preview of the static rendering", elem_id="share-preview")
        files = gr.File(label="Downloads: SVG image, HTML and Markdown", file_count="multiple", interactive=False)
    return Sharing(link, badge, iframe, web_component, static, preview, files, download)


def examples(page_: Page, events: Events, text, checkpoint, target, contrast, task, loaded) -> None:
    """Example texts (on the bundled model; each with the label a reader expects and whether
    the model agrees, the ones it gets wrong marked) and well-known Hub checkpoints (what
    each is, its labels and size); a click fills the form and runs it (texts) or loads the
    model (checkpoints)."""
    examples = page_.example_texts()
    if examples:
        texts = gr.Dataset(
            components=["html"],
            samples=[[page.example_html(*e)] for e in examples],
            type="index",
            label="Example texts on the bundled model: the label a reader expects, and whether the model agrees",
            samples_per_page=8,
            elem_id="example-texts",
        )
        picked = texts.click(page_.pick_example, [texts], [text, checkpoint, target, contrast, task], queue=False, **PRIVATE)
        events.loading(events.explaining(picked, "run_example"), checkpoint, loaded)
    models = page_.models()
    if models:
        chips = gr.Dataset(
            components=["html"],
            samples=[[page.chip_html(catalog.chip(m))] for m in models],
            type="index",
            label="Well-known Hub checkpoints (a click loads one; the first time it is downloaded, with its progress in MB)",
            samples_per_page=4,
            elem_id="hub-models",
        )
        events.loading(chips.click(page_.pick_model, [chips], [checkpoint], queue=False, **PRIVATE), checkpoint, loaded)
