"""A dataset report (``explain.result.DatasetReport``) for people: Markdown for a model
card, a static HTML page part with inline styles and inline SVG charts, and a
standalone SVG chart. No scripts, no external resources; every piece of text (words,
contexts, labels, model names) goes through the one escaper."""

from __future__ import annotations

from typing import Optional

from ..result import DatasetReport, LabelReport, WordStat
from .escape import cell, shown_model
from .escape import html as esc
from .escape import markdown as _md
from .scale import AGAINST, TOWARD

FONT = "system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
ORANGE, BLUE = TOWARD[2][0], AGAINST[2][0]


def md(text) -> str:
    """One-line Markdown text, escaped (for table cells and list items)."""
    return _md(text, inline=True)


def signed(x: Optional[float], digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:+.{digits}f}"


def plain(x: Optional[float], digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def word_name(w: WordStat) -> str:
    """The word as shown (plain text): a text pair's words are marked."""
    return w.word + (" (pair)" if w.segment == 1 else "")


def cell_word(w: WordStat) -> str:
    """The word as a table cell shows it: formula-safe (``escape.cell``), not yet escaped."""
    return cell(word_name(w))


def _context_start(c) -> tuple:
    """(before, word) of a context with whichever starts it formula-safe."""
    return (cell(c.before), c.word) if c.before else ("", cell(c.word))


def headline(report: DatasetReport) -> str:
    """'What drives each label: <models> on <source>' (plain text, unescaped)."""
    models = ", ".join(shown_model(m) for m in report.models) or "no model"
    return f"What drives each label: {models}" + (f" on {report.source}" if report.source else "")


def counts_line(report: DatasetReport) -> str:
    """Rows read, explained and failed (plain text)."""
    line = f"{report.rows} rows: {report.explained} explained, {report.failed} failed"
    if report.errors:
        line += " (" + ", ".join(f"{code}: {n}" for code, n in report.errors.items()) + ")"
    return line


def label_line(lab: LabelReport) -> str:
    """The label's counts and trust numbers (plain text)."""
    error = f"median completeness error {lab.median_error:.1e}" if lab.median_error is not None else ""
    parts = [
        f"{lab.texts} texts (predicted in {lab.predicted})",
        f"explained: {lab.explained}",
        f"{lab.eligible} of {lab.distinct} distinct words ranked",
        error,
        f"{lab.not_converged} not converged" if lab.not_converged else "",
    ]
    return "; ".join(p for p in parts if p)


# --- Markdown -------------------------------------------------------------------------------


def _md_contexts(w: WordStat) -> str:
    return " · ".join(
        f"{md(_context_start(c)[0])}**{md(_context_start(c)[1])}**{md(c.after)} ({c.score:+.2f})" for c in w.contexts
    )


def _md_words(title: str, words: tuple, report: DatasetReport, by_abs: bool = False) -> list:
    if not words:
        return [f"**{md(title)}**: none among the ranked words.", ""]
    ci = f"{report.confidence:.0%} CI"
    head = (
        f"| word | mean \\|score\\| ({ci}) | mean score | texts (share) | count | contexts |"
        if by_abs
        else f"| word | mean score ({ci}) | mean \\|score\\| | texts (share) | count | contexts |"
    )
    lines = [f"**{md(title)}**", "", head, "|---|---|---|---|---|---|"]
    for w in words:
        if by_abs:
            first = (f"{plain(w.mean_abs)} ({plain(w.abs_low)} to {plain(w.abs_high)})", signed(w.mean))
        else:
            first = (f"{signed(w.mean)} ({signed(w.mean_low)} to {signed(w.mean_high)})", plain(w.mean_abs))
        lines.append(
            f"| {md(cell_word(w))} | {first[0]} | {first[1]} | {w.texts} ({w.share:.1%}) | {w.count} | {_md_contexts(w)} |"
        )
    return lines + [""]


def _md_flips(lab: LabelReport) -> list:
    if not lab.flips:
        return ["**Words that flip sign**: none among the ranked words.", ""]
    lines = [
        "**Words that flip sign** (toward in some texts, against in others)",
        "",
        "| word | texts toward / against | mean score | mean \\|score\\| | contexts (toward · against) |",
        "|---|---|---|---|---|",
    ]
    for w in lab.flips:
        lines.append(
            f"| {md(cell_word(w))} | {w.positive} / {w.negative} of {w.texts} | {signed(w.mean)} | "
            f"{plain(w.mean_abs)} | {_md_contexts(w)} |"
        )
    return lines + [""]


def _md_shortcuts(lab: LabelReport) -> list:
    lines = [
        "**Shortcut check**: where the attribution lands",
        "",
        "| kind | occurrences (share of units) | share of \\|attribution\\| | mean score | most frequent |",
        "|---|---|---|---|---|",
    ]
    for s in lab.shortcuts:
        seen = md(cell(", ".join(f"{t} ×{n}" for t, n in s.examples))) or "none"
        lines.append(
            f"| {md(s.kind)} | {s.units} ({s.unit_share:.1%}) | {s.attribution_share:.1%} | {signed(s.mean)} | {seen} |"
        )
    lines.append("")
    lines += [f"- *{md(s.kind.capitalize())}*: {md(s.how)}" for s in lab.shortcuts]
    return lines + [""]


def report_markdown(report: DatasetReport) -> str:
    """The report as Markdown (GitHub / Hugging Face model cards): a section per label."""
    out = [f"## {md(headline(report))}", "", md(counts_line(report)) + ".", ""]
    if report.options:
        shown = ", ".join(f"{k}={v}" for k, v in report.options.items() if k != "model" and v is not None)
        if shown:
            out += [f"Options: {md(shown)}.", ""]
    for lab in report.labels:
        out += [f"### {md(lab.label)}", "", md(label_line(lab)) + ".", ""]
        out += _md_words(f"Pushes toward {lab.label} (highest mean score)", lab.toward, report)
        out += _md_words(f"Pushes against {lab.label} (lowest mean score)", lab.against, report)
        out += _md_words("Strongest either way (highest mean |score|)", lab.strongest, report, by_abs=True)
        out += _md_flips(lab)
        out += _md_shortcuts(lab)
    if not report.labels:
        out += ["No explained rows.", ""]
    out += ["How the numbers are made:", ""] + [f"- {md(n)}" for n in report.notes]
    return "\n".join(out).rstrip() + "\n"


# --- SVG chart --------------------------------------------------------------------------------


def _chart(lab: LabelReport, report: DatasetReport, width: int, x0: float, y0: float) -> tuple:
    """SVG elements of one label's chart (toward words above, against words below, bars
    from zero with interval whiskers) and its height."""
    words = list(lab.toward) + list(lab.against)
    row_h, name_w, pad = 20.0, 170.0, 8.0
    el = [
        f'<text x="{x0:.1f}" y="{y0 + 14:.1f}" font-size="14" font-weight="600" fill="#111111">'
        f"{esc(lab.label)}: mean score per occurrence ({report.confidence:.0%} interval)</text>"
    ]
    if not words:
        el.append(f'<text x="{x0:.1f}" y="{y0 + 34:.1f}" font-size="12" fill="#444444">no ranked words</text>')
        return el, 44.0
    reach = max(max(abs(w.mean_low), abs(w.mean_high), abs(w.mean)) for w in words) or 1.0
    plot_w = width - name_w - 2 * pad - 56  # the values' column on the right
    zero = x0 + name_w + plot_w / 2
    scale = (plot_w / 2) / reach
    top = y0 + 24
    for k, w in enumerate(words):
        y = top + k * row_h + (6 if k >= len(lab.toward) else 0)
        colour = ORANGE if w.mean > 0 else BLUE
        left, right = sorted((zero, zero + w.mean * scale))
        el.append(
            f'<text x="{x0 + name_w - 6:.1f}" y="{y + 14:.1f}" font-size="12" text-anchor="end" '
            f'fill="#111111">{esc(word_name(w))}</text>'
        )
        el.append(
            f'<rect x="{left:.1f}" y="{y + 4:.1f}" width="{max(right - left, 0.5):.1f}" height="12" '
            f'fill="{colour}"><title>{esc(word_name(w))}: {w.mean:+.3f} ({w.mean_low:+.3f} to '
            f"{w.mean_high:+.3f}), {w.texts} texts</title></rect>"
        )
        lo, hi = zero + w.mean_low * scale, zero + w.mean_high * scale
        el.append(
            f'<path d="M{lo:.1f} {y + 10:.1f}H{hi:.1f}M{lo:.1f} {y + 6:.1f}V{y + 14:.1f}M{hi:.1f} '
            f'{y + 6:.1f}V{y + 14:.1f}" stroke="#111111" stroke-width="1" fill="none"/>'
        )
        el.append(
            f'<text x="{x0 + width - 2 * pad:.1f}" y="{y + 14:.1f}" font-size="11" text-anchor="end" '
            f'fill="#444444">{w.mean:+.2f}</text>'
        )
    bottom = top + len(words) * row_h + (6 if lab.against and lab.toward else 0)
    el.append(f'<path d="M{zero:.1f} {top:.1f}V{bottom:.1f}" stroke="#6e7781" stroke-width="1"/>')
    return el, bottom - y0 + 8


def report_svg(report: DatasetReport, width: int = 720) -> str:
    """A standalone SVG image: one chart per label (no scripts, own white background)."""
    pad, y, body = 14.0, 14.0, []
    body.append(
        f'<text x="{pad}" y="{y + 14:.1f}" font-size="15" font-weight="600" fill="#111111">{esc(headline(report))}</text>'
    )
    body.append(
        f'<text x="{pad}" y="{y + 32:.1f}" font-size="12" fill="#444444">{esc(counts_line(report))}; '
        f"orange: toward the label, blue: against</text>"
    )
    y += 46
    for lab in report.labels:
        el, h = _chart(lab, report, width, pad, y)
        body += el
        y += h + 10
    height = y + pad
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" font-family="{esc(FONT)}" role="img">'
        f"<title>{esc(headline(report))}</title>"
        f'<rect width="100%" height="100%" fill="#ffffff"/>{"".join(body)}</svg>'
    )


# --- HTML -------------------------------------------------------------------------------------

_CELL = "border-bottom:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top"


def _html_contexts(w: WordStat) -> str:
    return "<br>".join(
        f"{esc(_context_start(c)[0])}<b>{esc(_context_start(c)[1])}</b>{esc(c.after)} "
        f'<span style="color:#57606a">({c.score:+.2f})</span>'
        for c in w.contexts
    )


def _html_table(head: list, rows: list) -> str:
    th = "".join(f'<th style="{_CELL}">{h}</th>' for h in head)
    body = "".join("<tr>" + "".join(f'<td style="{_CELL}">{c}</td>' for c in row) + "</tr>" for row in rows)
    return f'<table style="border-collapse:collapse;font-size:13px;margin:4px 0 12px"><tr>{th}</tr>{body}</table>'


def _html_words(title: str, words: tuple, report: DatasetReport, by_abs: bool = False) -> str:
    heading = f'<div style="font-weight:600;margin-top:8px">{esc(title)}</div>'
    if not words:
        return heading + '<div style="color:#57606a">none among the ranked words</div>'
    ci = f"{report.confidence:.0%} CI"
    head = [
        "word",
        f"mean |score| ({ci})" if by_abs else f"mean score ({ci})",
        "mean score" if by_abs else "mean |score|",
        "texts (share)",
        "count",
        "contexts",
    ]
    rows = []
    for w in words:
        main = (
            f"{plain(w.mean_abs)} ({plain(w.abs_low)} to {plain(w.abs_high)})"
            if by_abs
            else f"{signed(w.mean)} ({signed(w.mean_low)} to {signed(w.mean_high)})"
        )
        rows.append(
            [
                esc(cell_word(w)),
                main,
                signed(w.mean) if by_abs else plain(w.mean_abs),
                f"{w.texts} ({w.share:.1%})",
                str(w.count),
                _html_contexts(w),
            ]
        )
    return heading + _html_table([esc(h) for h in head], rows)


def _html_label(lab: LabelReport, report: DatasetReport) -> str:
    el, h = _chart(lab, report, 720, 8, 4)
    chart = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="720" height="{h + 8:.0f}" role="img" '
        f'font-family="{esc(FONT)}"><rect width="100%" height="100%" fill="#ffffff"/>{"".join(el)}</svg>'
    )
    flips = [
        [
            esc(cell_word(w)),
            f"{w.positive} / {w.negative} of {w.texts}",
            signed(w.mean),
            plain(w.mean_abs),
            _html_contexts(w),
        ]
        for w in lab.flips
    ]
    shortcuts = [
        [
            esc(s.kind),
            f"{s.units} ({s.unit_share:.1%})",
            f"{s.attribution_share:.1%}",
            signed(s.mean),
            esc(cell(", ".join(f"{t} ×{n}" for t, n in s.examples)) or "none"),
            esc(s.how),
        ]
        for s in lab.shortcuts
    ]
    return (
        f'<h3 style="margin:16px 0 4px;font-size:17px">{esc(lab.label)}</h3>'
        f'<div style="color:#444444;font-size:13px">{esc(label_line(lab))}</div>{chart}'
        + _html_words(f"Pushes toward {lab.label} (highest mean score)", lab.toward, report)
        + _html_words(f"Pushes against {lab.label} (lowest mean score)", lab.against, report)
        + _html_words("Strongest either way (highest mean |score|)", lab.strongest, report, by_abs=True)
        + '<div style="font-weight:600;margin-top:8px">Words that flip sign</div>'
        + (
            _html_table(
                ["word", "texts toward / against", "mean score", "mean |score|", "contexts (toward, against)"], flips
            )
            if flips
            else '<div style="color:#57606a">none among the ranked words</div>'
        )
        + '<div style="font-weight:600;margin-top:8px">Shortcut check: where the attribution lands</div>'
        + _html_table(
            [
                "kind",
                "occurrences (share of units)",
                "share of |attribution|",
                "mean score",
                "most frequent",
                "how it is detected",
            ],
            shortcuts,
        )
    )


def report_html(report: DatasetReport) -> str:
    """One <div> with inline styles and inline SVG charts (own white background)."""
    notes = "".join(f"<li>{esc(n)}</li>" for n in report.notes)
    labels = "".join(_html_label(lab, report) for lab in report.labels) or "<p>No explained rows.</p>"
    return (
        f'<div style="font-family:{FONT};max-width:980px;background:#ffffff;color:#111111;'
        'border:1px solid #d0d7de;border-radius:8px;padding:12px 16px;line-height:1.45">'
        f'<h2 style="margin:0 0 4px;font-size:20px">{esc(headline(report))}</h2>'
        f'<div style="color:#444444;font-size:13px">{esc(counts_line(report))}</div>{labels}'
        f'<div style="font-size:12px;color:#444444;margin-top:10px">How the numbers are made:<ul>{notes}</ul>'
        "</div></div>"
    )
