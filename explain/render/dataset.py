"""A dataset report as a model-card section (the "Many texts" tab, its downloads and the
/report endpoint): the facts a reader needs to cite it (model, revision, data, method,
date), the accuracy and confusion table when the file gave labels, the words that most
often drive the wrong answers, and a few explained rows per label - around the per-label
report of ``explain.render.report``.

Stdlib only. Every piece of visitor or model text is escaped for where it goes (HTML,
Markdown) and, in table cells a spreadsheet may read (CSV, and the cells of HTML and
Markdown tables, which a spreadsheet pastes as cells), made inert against formula
injection (``escape.cell``)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Optional

from ..result import DatasetReport, Explanation
from . import escape
from .caption import percent
from .escape import cell
from .escape import html as esc
from .page import words_html
from .report import FONT, cell_word, label_line, report_html, report_markdown, signed


@dataclass(frozen=True)
class CardFacts:
    """What a model card must state to be cited: the model (as a reader names it), its
    revision, the data (its name and size), the method and when it was made."""

    model: str
    revision: str  # a Hub commit, or a local folder's weights digest, or "unknown"
    data: str  # the file's name (or "pasted texts")
    rows: int  # rows read
    explained: int
    failed: int
    method: str  # in words: the attribution method, steps, baseline, what is explained
    date: str  # ISO date (UTC)
    stopped: str = ""  # why the run ended early ("" : it did not)


@dataclass(frozen=True)
class WrongWord:
    """A word that pushed rows toward a wrong answer: ``predicted`` where the file says ``given``."""

    given: str
    predicted: str
    word: str
    texts: int  # wrong rows whose strongest words (toward the prediction) include it
    mean: float  # its mean score in those rows


@dataclass(frozen=True)
class Evaluation:
    """The model's answers against the labels a file gives (the rows explained and labelled)."""

    column: str
    labelled: int  # explained rows with a label
    matched: int  # of them, with a label the model has
    correct: int
    how: str  # how the file's labels were matched to the model's
    labels: tuple  # the model's labels, in its order
    confusion: tuple  # ((given, predicted, rows), ...) every cell with rows
    unknown: tuple = ()  # ((a label of the file the model does not have, rows), ...)
    wrong_words: tuple = ()  # WrongWord, ...

    @property
    def accuracy(self) -> Optional[float]:
        return self.correct / self.matched if self.matched else None


@dataclass(frozen=True)
class ExampleRow:
    """One explained row shown as an example: the row's number (1 = the first), its label in
    the file (or None) and its explanation."""

    row: int
    given: Optional[str]
    explanation: Explanation


# --- Markdown (a model card) ---------------------------------------------------------------


def _md(text) -> str:
    """A Markdown table cell or inline text: formula-safe, then escaped."""
    return escape.markdown(cell(str(text)), inline=True)


def facts_lines(f: CardFacts) -> list:
    """The facts as (name, value) pairs of plain text."""
    data = f"{f.data}: {f.rows:,} rows, {f.explained:,} explained" + (f", {f.failed:,} failed" if f.failed else "")
    rows = [("Model", f.model), ("Revision", f.revision), ("Data", data), ("Method", f.method), ("Date", f.date)]
    if f.stopped:
        rows.append(("Stopped early", f.stopped))
    return rows


def accuracy_line(e: Evaluation) -> str:
    """'Accuracy 87.5% (70 of 80 rows with a label the model has; column label)' (plain)."""
    if not e.matched:
        return (
            f"No row's label (column {e.column}) is one of the model's labels ({', '.join(e.labels)}), so there "
            "is no accuracy."
        )
    line = f"Accuracy {percent(e.accuracy)} ({e.correct:,} of {e.matched:,} rows; labels from the column {e.column}"
    line += f", matched {e.how})" if e.how else ")"
    if e.unknown:
        shown = ", ".join(f"{v} ({n})" for v, n in e.unknown[:5])
        line += f". {e.labelled - e.matched:,} rows have labels the model does not have: {shown}"
    return line


def _confusion_grid(e: Evaluation) -> tuple:
    given = [g for g in e.labels if any(c[0] == g for c in e.confusion)]
    counts = {(g, p): n for g, p, n in e.confusion}
    return given, counts


def evaluation_markdown(e: Evaluation) -> str:
    """Accuracy, the confusion table (rows: the file's label, columns: the model's answer)
    and the words that most often drive the wrong answers."""
    out = ["### Accuracy and confusion", "", _md(accuracy_line(e)) + ".", ""]
    given, counts = _confusion_grid(e)
    if given:
        out += [
            "| label in the file \\\\ model says | " + " | ".join(_md(p) for p in e.labels) + " |",
            "|---|" + "---|" * len(e.labels),
        ]
        for g in given:
            out.append(f"| {_md(g)} | " + " | ".join(str(counts.get((g, p), 0)) for p in e.labels) + " |")
        out.append("")
    out += ["### Words that most often drive the wrong answers", ""]
    if not e.wrong_words:
        out += [
            "None: the model got every labelled row right." if e.matched and e.correct == e.matched else "None to show.",
            "",
        ]
        return "\n".join(out)
    out += [
        "Each wrong row's three words that pushed hardest toward the model's (wrong) answer, counted over the wrong rows.",
        "",
        "| model says (label in the file) | word | wrong rows | mean score |",
        "|---|---|---|---|",
    ]
    for w in e.wrong_words:
        out.append(f"| {_md(w.predicted)} ({_md(w.given)}) | {_md(w.word)} | {w.texts} | {w.mean:+.3f} |")
    return "\n".join(out + [""])


def card_markdown(facts: CardFacts, report: DatasetReport, evaluation: Optional[Evaluation] = None) -> str:
    """The section to paste into a model card: the report's title, the facts, accuracy and
    confusion when labels were given, then the per-label report as ``explain report`` writes it."""
    body = report_markdown(report)
    title, rest = body.split("\n", 1)  # report_markdown starts with its "## headline" line
    out = [title, "", "| | |", "|---|---|"]
    out += [f"| {name} | {_md(value)} |" for name, value in facts_lines(facts)]
    out.append("")
    if evaluation is not None:
        out += [evaluation_markdown(evaluation)]
    # The per-label sections one level down, under this section's own heading (a heading line
    # is the only line that starts with '#': escaped text never does).
    sections = "\n".join("#" + line if line.startswith("### ") else line for line in rest.lstrip("\n").split("\n"))
    out += ["### What drives each label", "", sections]
    return "\n".join(out).rstrip() + "\n"


# --- HTML (the page and the HTML download) ------------------------------------------------------

_CELL = "border-bottom:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top"


def _h(text) -> str:
    """An HTML table cell's text: formula-safe, then escaped."""
    return esc(cell(str(text)))


def _table(head: list, rows: list, caption: str = "") -> str:
    th = "".join(f'<th scope="col" style="{_CELL}">{h}</th>' for h in head)
    body = "".join("<tr>" + "".join(f'<td style="{_CELL}">{c}</td>' for c in row) + "</tr>" for row in rows)
    cap = f'<caption style="text-align:left;font-weight:600;padding:4px 0">{caption}</caption>' if caption else ""
    return f'<table style="border-collapse:collapse;font-size:13px;margin:4px 0 12px">{cap}<tr>{th}</tr>{body}</table>'


def facts_html(f: CardFacts) -> str:
    rows = [[esc(name), _h(value)] for name, value in facts_lines(f)]
    return _table(["", ""], rows)


def evaluation_html(e: Evaluation) -> str:
    """Accuracy, the confusion table and the wrong answers' words, as one <div> with inline styles."""
    out = [f'<p style="margin:4px 0"><strong>{esc(accuracy_line(e))}.</strong></p>']
    given, counts = _confusion_grid(e)
    if given:
        head = ["label in the file \\ model says"] + [_h(p) for p in e.labels]
        rows = [[_h(g)] + [str(counts.get((g, p), 0)) for p in e.labels] for g in given]
        out.append(_table(head, rows, "Confusion: rows are the file's labels, columns the model's answers"))
    if e.wrong_words:
        rows = [
            [f"{_h(w.predicted)} ({_h(w.given)})", f"<b>{_h(w.word)}</b>", str(w.texts), f"{w.mean:+.3f}"]
            for w in e.wrong_words
        ]
        out.append(
            _table(
                ["model says (label in the file)", "word", "wrong rows", "mean score"],
                rows,
                "Words that most often drive the wrong answers (each wrong row's three strongest words "
                "toward the model's answer)",
            )
        )
    elif e.matched:
        out.append('<p style="margin:4px 0">No wrong answer among the labelled rows.</p>')
    return "<div>" + "".join(out) + "</div>"


def card_html(facts: CardFacts, report: DatasetReport, evaluation: Optional[Evaluation] = None) -> str:
    """The HTML download: the facts, the evaluation and the per-label report (inline styles, no script)."""
    head = (
        f'<div style="font-family:{FONT};max-width:980px;background:#ffffff;color:#111111;padding:8px 16px">'
        + facts_html(facts)
        + (evaluation_html(evaluation) if evaluation is not None else "")
        + "</div>"
    )
    return head + report_html(report)


def _words_table(title: str, words: tuple, confidence: float) -> str:
    if not words:
        return f'<div><strong>{esc(title)}</strong><p style="margin:4px 0">none among the ranked words</p></div>'
    rows = [
        [
            f"<b>{esc(cell_word(w))}</b>",
            f"{signed(w.mean)} ({signed(w.mean_low)} to {signed(w.mean_high)})",
            f"{w.texts} ({w.share:.0%})",
            str(w.count),
        ]
        for w in words
    ]
    return "<div>" + _table(["word", f"mean score ({confidence:.0%} CI)", "texts", "count"], rows, esc(title)) + "</div>"


def labels_html(report: DatasetReport) -> str:
    """Per label, its top words toward and against it side by side (the summary the tab
    shows; every table is in the full report)."""
    if not report.labels:
        return "<p>No explained rows.</p>"
    out = []
    for lab in report.labels:
        out.append(
            f'<h4 style="margin:12px 0 2px">{esc(lab.label)}</h4>'
            f'<div style="font-size:13px">{esc(label_line(lab))}</div>'
            '<div style="display:flex;flex-wrap:wrap;gap:0 24px">'
            + _words_table(f"Pushes toward {lab.label}", lab.toward, report.confidence)
            + _words_table(f"Pushes against {lab.label}", lab.against, report.confidence)
            + "</div>"
        )
    return "".join(out)


def page_html(facts: CardFacts, report: DatasetReport, evaluation: Optional[Evaluation] = None) -> str:
    """What the tab shows first: the facts, the evaluation, and per label its top words
    either way (the full report is ``report_html``)."""
    head = f'<h3 style="margin:4px 0">{esc(f"What drives each label: {facts.model} on {facts.data}")}</h3>'
    return (
        '<div class="explain-report">'
        + head
        + facts_html(facts)
        + (evaluation_html(evaluation) if evaluation is not None else "")
        + labels_html(report)
        + "</div>"
    )


def example_html(ex: ExampleRow) -> str:
    """An example row as the tab lists it: its number, the model's answer (and the file's
    label, and whether they agree), then its words coloured for the explained label."""
    e = ex.explanation
    p = e.probabilities.get(e.predicted, 0.0)
    said = f"row {ex.row}: the model says {esc(e.predicted)} ({percent(p)})"
    if ex.given is not None:
        agrees = ex.given == e.predicted
        said += (
            f' <span class="explain-mark {"explain-right" if agrees else "explain-wrong"}">'
            f"{'✓' if agrees else '✗'} the file says {esc(ex.given)}</span>"
        )
    return f'<span class="explain-example"><span class="explain-mark">{said}</span><br>{words_html(e)}</span>'


# --- CSV (a spreadsheet of the rows) ----------------------------------------------------------

CSV_COLUMNS = (
    "row",
    "text",
    "label_in_file",
    "predicted",
    "probability",
    "correct",
    "explained_label",
    "words_toward",
    "words_against",
    "error",
)


def rows_csv(rows: list) -> str:
    """The explained rows as CSV, one per row: ``rows`` are dicts with CSV_COLUMNS's keys
    (missing: empty). Every cell is formula-safe: a spreadsheet opening it runs nothing."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([cell("" if r.get(k) is None else str(r.get(k))) for k in CSV_COLUMNS])
    return out.getvalue()
