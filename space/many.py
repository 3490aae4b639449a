"""The "Many texts" tab: a file of texts (or pasted lines) -> what drives each label, as a
model-card section (``explain.serving.dataset`` does the work; this is its Gradio glue).

Its layout (``build_many_tab``), its named outputs (``ManyPanels``, ``ReportAnswer``) and
its event functions (``ManyPage``, bound to one ``ReportService``). A report runs in its
own concurrency group (one at a time on the server) and gives way, between its chunks, to
the model group's events (single-text visitors); its estimate has a group of its own too,
so that it never counts as, or replaces, the page's own explanations in the per-visitor
cap; the stop button runs outside the queue and ends the run after its current chunk,
keeping what finished. The public API endpoint
is /report (a file and options -> the report's JSON and its files)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, NamedTuple

import gradio as gr

from explain.render import dataset as card
from explain.render import escape, page
from explain.render.report import report_html
from explain.serving.dataset import LABEL_COLUMN, TEXT_COLUMN, Finished, ReportService, limits_line

from .events import PRIVATE, Events
from .handlers import _fatal, plain_message, session_of, user_error
from .internals import from_page, group_busy

log = logging.getLogger("explain.app")
REPORT_GROUP = "report"  # reports run one at a time, beside the model group
ESTIMATE_GROUP = "report_estimate"  # what a file will cost, said before it runs
FILE_TYPES = [".csv", ".tsv", ".jsonl", ".txt"]


def _named(cls):
    cls.unchanged = classmethod(lambda c: c(*(gr.skip() for _ in c._fields)))
    return cls


@_named
class ManyPanels(NamedTuple):
    """What a report fills on the tab, in this order."""

    status: Any  # the file's size and cost, then how the run ended (HTML)
    error: Any  # the inline error (HTML)
    summary: Any  # the card's facts, accuracy and confusion, the per-label report (HTML)
    examples: Any  # a few explained rows per label (Dataset of HTML; a click opens one)
    full: Any  # the full per-label report, as ``explain report`` writes it (HTML)
    markdown: Any  # the model-card section to copy (Textbox with a copy button)
    files: Any  # the downloads (File, several)
    result: Any  # the report as JSON (hidden; the API's answer)


class ReportAnswer(NamedTuple):
    """What /report returns."""

    report: Any  # JSON: facts, report, evaluation, examples, markdown
    files: Any  # report.md, report.html, report.svg, rows.csv, rows.jsonl


class OneText(NamedTuple):
    """The single-text tab's parts that an example row fills."""

    tabs: Any
    text: Any
    checkpoint: Any
    target: Any
    contrast: Any
    task: Any
    loaded: Any


def _hint(text: str) -> str:
    return f'<p class="explain-hint">{escape.html(text, quote=False)}</p>' if text else ""


@dataclass
class ManyPage:
    """The tab's events on ``reports``; ``model_group``: the concurrency group a report gives way to."""

    reports: ReportService
    model_group: str

    def estimate(self, file, texts, checkpoint, text_column, label_column, n_steps, request: gr.Request = None):
        """A file uploaded (or texts pasted, or the model or a column changed): its rows and
        what it will cost, or why it will be refused - before anything runs."""
        if file in (None, "") and not (isinstance(texts, str) and texts.strip()):
            return "", ""
        try:
            upload = self.reports.read(file, texts, text_column, label_column)
            line = self.reports.estimate(upload, checkpoint, n_steps)
        except BaseException as exc:
            if _fatal(exc):
                raise
            return "", page.error_panel(plain_message(exc), kept=False, title="This file cannot be explained here.")
        return _hint(line), ""

    def starting(self, request: gr.Request = None):
        """Run pressed: a stop flag for the session's run (the stop button may be pressed
        while it waits in the queue), the last error cleared."""
        self.reports.sessions.start(session_of(request))
        return _hint("Waiting for its turn..."), ""

    def stop(self, request: gr.Request = None) -> str:
        """Stop the session's report after its current chunk; what finished is reported."""
        if self.reports.sessions.stop(session_of(request)):
            return _hint("Stopping after the texts being explained now; the report will cover every text that finished.")
        return _hint("No report of yours is running.")

    def _run(self, file, texts, checkpoint, text_column, label_column, n_steps, min_texts, progress, request) -> Finished:
        session = session_of(request)
        flag = self.reports.sessions.current(session)
        finished = None
        try:
            upload = self.reports.read(file, texts, text_column, label_column)
            report = (lambda fraction, what: progress(fraction, desc=what)) if progress is not None else None
            finished = self.reports.run(
                upload,
                checkpoint,
                n_steps,
                min_texts=min_texts,
                progress=report,
                stop=flag,
                give_way=group_busy(request, self.model_group),
            )
            return finished
        finally:
            self.reports.sessions.done(session, flag, finished)

    def run(
        self,
        file,
        texts,
        checkpoint,
        text_column,
        label_column,
        n_steps,
        min_texts,
        progress=gr.Progress(),
        request: gr.Request = None,
    ):
        """The tab's run: every text explained, summed up per label (``ManyPanels``)."""
        try:
            done = self._run(file, texts, checkpoint, text_column, label_column, n_steps, min_texts, progress, request)
        except BaseException as exc:
            if _fatal(exc):
                raise
            if not from_page(request):
                raise user_error(exc, request) from None
            return tuple(
                ManyPanels.unchanged()._replace(
                    status="", error=page.error_panel(plain_message(exc), kept=False, title="Could not make the report.")
                )
            )
        f = done.facts
        ended = f"Stopped: {f.stopped}." if f.stopped else f"Done: {f.explained:,} of {f.rows:,} rows explained."
        samples = [[card.example_html(x)] for x in done.examples]
        return tuple(
            ManyPanels(
                status=_hint(ended),
                error="",
                summary=card.page_html(done.facts, done.report, done.evaluation),
                examples=gr.Dataset(samples=samples or [[""]], visible=bool(samples)),
                full=report_html(done.report),
                markdown=done.markdown,
                files=[str(p) for p in done.files.values()],
                result=done.to_dict(),
            )
        )

    def report(
        self,
        file=None,
        texts: str = "",
        model: str = "",
        text_column: str = TEXT_COLUMN,
        label_column: str = LABEL_COLUMN,
        n_steps: float = 0,
        min_texts: float = 3,
        request: gr.Request = None,
    ):
        """Explain every text of a file and sum them up per label: a model-card section.

        Args:
            file: a CSV, TSV, JSON lines or TXT file of texts (UTF-8), within the server's row and size limits.
            texts: instead of a file, texts one per line.
            model: a Hugging Face Hub ID of a sequence-classification model (empty: this app's default model).
            text_column: the column (CSV/TSV) or field (JSON lines) with the texts.
            label_column: the column or field with each row's true label, for accuracy and a confusion table
                (empty or missing "label": none).
            n_steps: integration steps per text (0: adaptive).
            min_texts: rank only words found in at least this many texts of a label.

        Returns:
            The report as JSON ("facts": model, revision, data, method, date; "report": the words that push toward
            and against each label, with counts and intervals; "evaluation": accuracy, confusion and the words behind
            wrong answers, or null; "examples"; "markdown": the model-card section) and its files: report.md,
            report.html, report.svg, rows.csv, rows.jsonl.
        """
        try:
            done = self._run(file, texts, model, text_column, label_column, n_steps, min_texts, None, request)
        except BaseException as exc:
            if _fatal(exc):
                raise
            raise user_error(exc, request) from None
        return tuple(ReportAnswer(report=done.to_dict(), files=[str(p) for p in done.files.values()]))

    def open_example(self, index, request: gr.Request = None):
        """An example row clicked: its text in the One text tab, on the report's model, that tab shown."""
        shown = self.reports.sessions.last(session_of(request))
        if shown is None or isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(shown.texts):
            return tuple(gr.skip() for _ in OneText._fields[:6])
        return gr.Tabs(selected="one"), shown.texts[index], shown.model, "", "", "one"


def build_many_tab(many: ManyPage, default_model: str, events: Events, one: OneText) -> ManyPanels:
    """The tab's layout and events (inside ``with gr.Tab(...)``); returns its result components."""
    limits = many.reports.limits
    gr.Markdown(
        "### What drives each label, across many texts\nUpload a file of texts (or paste them, one per line): "
        "every text is explained and the words that push toward and against each label are summed up, with "
        "counts and intervals; give each row's true label too and get the accuracy, a confusion table and "
        "the words behind the wrong answers. The result is a section for a model card (Markdown), with HTML, "
        "an SVG chart, a CSV and the explained rows (JSON lines).",
        elem_id="many-intro",
    )
    gr.HTML(_hint(limits_line(limits)), elem_id="many-limits")
    with gr.Row(equal_height=False, elem_id="many-form"):
        with gr.Column(scale=3, min_width=320):
            checkpoint = gr.Textbox(
                label="Model (a Hub ID)",
                value=default_model,
                elem_id="many-checkpoint",
                info="the same models as on the One text tab",
            )
            file = gr.File(
                label="A file of texts: CSV or TSV (a 'text' column), JSON lines or TXT (one per line)",
                file_types=FILE_TYPES,
                type="filepath",
                elem_id="many-file",
                height=120,
            )
            texts = gr.Textbox("", label="... or paste texts, one per line", lines=2, max_lines=10, elem_id="many-texts")
        with gr.Column(scale=2, min_width=280):
            text_column = gr.Textbox(TEXT_COLUMN, label="Text column", elem_id="many-text-column")
            label_column = gr.Textbox(
                LABEL_COLUMN, label="Label column (each row's true label; empty: none)", elem_id="many-label-column"
            )
            with gr.Accordion("Options", open=False, elem_id="many-options"):
                n_steps = gr.Number(
                    value=0, precision=0, minimum=0, maximum=limits.max_steps, label="Integration steps (0 = adaptive)"
                )
                min_texts = gr.Number(
                    value=3,
                    precision=0,
                    minimum=1,
                    maximum=10_000,
                    label="Rank only words found in at least this many texts of a label",
                )
            status = gr.HTML("", elem_id="many-status")
            with gr.Row(elem_id="many-actions"):
                run = gr.Button("Explain every text", variant="primary", elem_id="many-run", min_width=160)
                stop = gr.Button("Stop (keep what is done)", variant="secondary", elem_id="many-stop", min_width=160)
    with gr.Column(elem_id="many-results"):
        error = gr.HTML("", elem_id="many-error")
        summary = gr.HTML("", elem_id="many-report")
        examples = gr.Dataset(
            components=["html"],
            samples=[[""]],
            type="index",
            visible=False,
            label="Example rows per label (a click opens one in the One text tab)",
            samples_per_page=12,
            elem_id="many-examples",
        )
        with gr.Accordion(
            "The full report: every table, the chart, how the numbers are made", open=False, elem_id="many-full"
        ):
            full = gr.HTML("", elem_id="many-full-report")
        markdown = gr.Textbox(
            "",
            label="Model-card section (Markdown: copy it into a README)",
            lines=6,
            max_lines=16,
            buttons=["copy"],
            interactive=False,
            elem_id="many-markdown",
        )
        files = gr.File(
            label="Downloads: Markdown, HTML, SVG chart, CSV and JSON lines",
            file_count="multiple",
            interactive=False,
            elem_id="many-files",
        )
        result = gr.JSON(visible=False, label="Report (JSON)")
        api_report = gr.JSON(visible=False, label="report")
        api_files = gr.File(visible=False, file_count="multiple", label="files")
        api_trigger = gr.Button(visible=False)
    inputs = [file, texts, checkpoint, text_column, label_column, n_steps, min_texts]
    # The estimate reads the file and counts tokens (loading the model if it is not): in a group of its own, so
    # that it neither waits behind a report nor counts as, or replaces, the page's own explanations.
    gr.on(
        [file.change, texts.blur, checkpoint.blur, text_column.blur, label_column.blur, n_steps.blur],
        many.estimate,
        inputs[:6],
        [status, error],
        show_progress="minimal",
        concurrency_id=ESTIMATE_GROUP,
        concurrency_limit=1,
        **PRIVATE,
    )
    panels = ManyPanels(status, error, summary, examples, full, markdown, files, result)
    run.click(many.starting, None, [status, error], queue=False, **PRIVATE).then(
        many.run,
        inputs,
        list(panels),
        api_name="run_report",
        show_progress_on=[summary],
        concurrency_id=REPORT_GROUP,
        concurrency_limit=1,
        **PRIVATE,
    )
    stop.click(many.stop, None, [status], queue=False, **PRIVATE)
    api_trigger.click(
        many.report, inputs, [api_report, api_files], api_name="report", concurrency_id=REPORT_GROUP, concurrency_limit=1
    )
    picked = examples.click(
        many.open_example,
        [examples],
        [one.tabs, one.text, one.checkpoint, one.target, one.contrast, one.task],
        queue=False,
        **PRIVATE,
    )
    events.loading(events.explaining(picked, "run_report_example"), one.checkpoint, one.loaded)
    return panels
