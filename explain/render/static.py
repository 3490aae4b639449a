"""Self-contained renderings of an explanation for places without JavaScript: model
cards, READMEs, reports. HTML with inline styles only, SVG with its own background,
and a Markdown table. Every piece of text (the user's text, label names, the model
name) is escaped; characters XML cannot carry are shown as U+FFFD (display only)."""

from __future__ import annotations

import re
import unicodedata
from typing import Optional

from ..result import Explanation
from .caption import caption, percent
from .effect import scale as colour_scale
from .escape import html as esc
from .escape import markdown as _md
from .escape import shown_model
from .scale import AGAINST, TOWARD, colours, decimals, level, pieces

FONT = "system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"


def model_name(expl: Explanation) -> str:
    """The checkpoint as a reader should see it: a Hub ID, or a folder's last name
    (a server path says nothing to a reader and leaks the server's layout)."""
    source = shown_model(expl.checkpoint.get("source"))
    rev = expl.checkpoint.get("revision")
    return f"{source}@{rev[:10]}" if rev and "/" in source else source


def headline(expl: Explanation) -> str:
    """'<model> predicts <label> (93%)' (plain text, unescaped), rounded as the caption
    after it rounds the same probability."""
    if expl.head == "regression":
        value = next(iter(expl.probabilities.values()))
        return f"{model_name(expl)} predicts {expl.labels[0]} = {value:.4f}"
    p = expl.probabilities.get(expl.predicted, 0.0)
    return f"{model_name(expl)} predicts {expl.predicted} ({percent(p)})"


def _safe_link(link: Optional[str]) -> Optional[str]:
    return link if link and re.match(r"^https?://[^\s\"'<>]+$", link) else None


EXCERPT_CHARS = 600  # longer texts are shown as an excerpt around their strongest words
EXCERPT_RADIUS = 90  # characters of context on each side of a strong word
EXCERPT_WORDS = 5
GAP = " … "


def excerpt(expl: Explanation, segment: int = 0, limit: int = EXCERPT_CHARS) -> tuple:
    """(pieces, shortened): the (piece, score) pieces of the text (or text pair), or for a
    text longer than ``limit`` only the stretches around its strongest words, joined by
    " … " pieces (score None). Each stretch starts and ends at whitespace."""
    parts = pieces(expl, segment)
    text = expl.text if segment == 0 else (expl.text_pair or "")
    if len(text) <= limit:
        return parts, False
    top = sorted((w for w in expl.words if w.segment == segment), key=lambda w: -abs(w.score))[:EXCERPT_WORDS]
    spans = []
    for w in sorted(top, key=lambda w: w.start):
        lo, hi = max(0, w.start - EXCERPT_RADIUS), min(len(text), w.end + EXCERPT_RADIUS)
        while lo > 0 and not text[lo - 1].isspace():
            lo -= 1
        while hi < len(text) and not text[hi].isspace():
            hi += 1
        if spans and lo <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(hi, spans[-1][1]))
        else:
            spans.append((lo, hi))
    out: list = []
    for k, (lo, hi) in enumerate(spans):
        if lo > 0 or k > 0:
            out.append(("… " if k == 0 else GAP, None))
        pos = 0
        for piece, score in parts:
            a, b = max(pos, lo), min(pos + len(piece), hi)
            if a < b:
                out.append((piece[a - pos : b - pos], score))
            pos += len(piece)
    if spans and spans[-1][1] < len(text):
        out.append((" …", None))
    return [(p, s) for p, s in out if p], True


def _key_html(expl: Explanation) -> str:
    cap = caption(expl)
    swatch = '<span style="display:inline-block;width:14px;height:10px;background:{}"></span>'
    against = "".join(swatch.format(bg) for bg, _ in reversed(AGAINST))
    toward = "".join(swatch.format(bg) for bg, _ in TOWARD)
    left = cap.against if cap.against != "evidence against it" else f"evidence against {expl.target}"
    return f"blue: {esc(left)} {against}{toward} orange: {esc(cap.toward)}"


def to_html(expl: Explanation, link: Optional[str] = None) -> str:
    """One <div> with inline styles; readable on light and dark pages (own background). A
    long text is an excerpt around its strongest words, with a link to the whole."""
    unit, places = colour_scale(expl), decimals(w.score for w in expl.words)

    def coloured(parts: list) -> list:
        spans = []
        for piece, score in parts:
            pair = colours(level(score))
            if pair is None:
                spans.append(esc(piece))
            else:
                spans.append(
                    f'<span style="background:{pair[0]};color:{pair[1]};border-radius:3px" '
                    f'title="{score * unit:+.{places}f}">{esc(piece)}</span>'
                )  # the word's own score
        return spans

    parts, short = excerpt(expl, 0)
    spans = coloured(parts)
    second = ""
    if expl.text_pair is not None:
        pair_parts, pair_short = excerpt(expl, 1)
        short = short or pair_short
        second = (
            '<div style="font-size:12px;color:#444444">Text pair</div>'
            f'<div style="font-size:16px;white-space:pre-wrap;margin:2px 0 6px">{"".join(coloured(pair_parts))}</div>'
        )
    link = _safe_link(link)
    cut = ""
    if short:
        cut = (
            '<div style="font-size:12px;color:#444444">An excerpt around the strongest words of a '
            f"{len(expl.text) + len(expl.text_pair or ''):,}-character text"
            + (
                f' - <a href="{esc(link)}" style="color:#0b5cad">open the full explanation</a>'
                if link
                else " - the full explanation is in its JSON"
            )
            + ".</div>"
        )
    footer = (
        f"{_key_html(expl)} &middot; explained: {esc(expl.explained)} &middot; completeness error "
        f"{expl.completeness_error:.1e}"
    )
    if link:
        footer += f' &middot; <a href="{esc(link)}" style="color:#0b5cad">open in the explainer</a>'
    return (
        f'<div style="font-family:{FONT};max-width:760px;background:#ffffff;color:#111111;'
        'border:1px solid #d0d7de;border-radius:8px;padding:12px 14px;line-height:1.8">'
        f'<div style="font-size:13px;color:#444444">{esc(headline(expl))}. {caption(expl).html()}</div>'
        f'<div style="font-size:16px;white-space:pre-wrap;margin:6px 0">{"".join(spans)}</div>'
        f'{second}{cut}<div style="font-size:12px;color:#444444">{footer}</div></div>'
    )


# --- SVG: no browser to lay out text, so we wrap with estimated widths. The words are set
# in a monospaced font, whose advance is known (about 0.6 em a character in every common
# one), so each piece sits at its computed place with its coloured box exactly behind it,
# drawn in the font's own widths (never stretched or squeezed to fit). Captions and notes
# are in the sans-serif font, wrapped with generous estimates.

MONO = "ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,'Liberation Mono','Courier New',monospace"
MONO_EM = 0.61  # advance of one character in em (DejaVu Sans Mono and Menlo 0.602, Courier 0.6, Consolas 0.55)

_NARROW = set("iljI.,:;'|!`")
_SEMI = set('frt()[]{}/\\-" ')
_WIDE = set("mwMW@%")
_SYMBOL = set("=+<>~^&#$_*")
_MARGIN = 1.08  # estimates run this much wide


def text_width(text: str, size: float) -> float:
    """Estimated advance of ``text`` in a sans-serif font of ``size`` px (a little wide)."""
    em = 0.0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        if unicodedata.east_asian_width(ch) in "WF":
            em += 1.0
        elif ch in _NARROW:
            em += 0.28
        elif ch in _SEMI:
            em += 0.36
        elif ch in _WIDE:
            em += 0.86
        elif ch in _SYMBOL:
            em += 0.62
        elif ch.isupper():
            em += 0.68
        elif ch.isdigit():
            em += 0.56
        else:
            em += 0.53 if ch.isascii() else 0.62
    return em * size * _MARGIN


def mono_width(text: str, size: float) -> float:
    """Advance of ``text`` in the monospaced font (wide East Asian characters count two)."""
    cells = sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return cells * MONO_EM * size


def _atoms(parts: list):
    """('text', piece, level) / ('space', run) / ('newline',) in order."""
    for piece, score in parts:
        lvl = level(score)
        for part in re.split(r"(\r\n|\n|\r|[^\S\r\n]+)", piece):
            if not part:
                continue
            if part in ("\n", "\r", "\r\n"):
                yield ("newline",)
            elif not part.strip():
                yield ("space", part)
            else:
                yield ("text", part, lvl)


def _svg_parts(expl: Explanation) -> tuple:
    """The pieces the image shows (an excerpt of a long text; the text pair on a line of its
    own) and whether they are an excerpt."""
    parts, short = excerpt(expl, 0)
    if expl.text_pair is not None:
        second, pair_short = excerpt(expl, 1)
        parts = parts + [("\n", None), ("Text pair:", None), (" ", None)] + second
        short = short or pair_short
    return parts, short


def _lines(parts: list, size: float, width: float) -> list:
    """Greedy wrap into lines of (x, piece, level, advance); no break inside a word."""
    lines: list = [[]]
    x = 0.0
    chunk: list = []  # consecutive text atoms: unbreakable

    def flush():
        nonlocal x, chunk
        w = sum(mono_width(t, size) for t, _ in chunk)
        if chunk and x > 0 and x + w > width:
            lines.append([])
            x = 0.0
        for t, lvl in chunk:
            for part in _hard_split(t, size, width):
                adv = mono_width(part, size)
                if x > 0 and x + adv > width:
                    lines.append([])
                    x = 0.0
                lines[-1].append((x, part, lvl, adv))
                x += adv
        chunk = []

    for atom in _atoms(parts):
        if atom[0] == "text":
            chunk.append((atom[1], atom[2]))
            continue
        flush()
        if atom[0] == "newline":
            lines.append([])
            x = 0.0
        else:
            x += mono_width(atom[1].replace("\t", "    "), size)
    flush()
    return lines


def _hard_split(text: str, size: float, width: float) -> list:
    if mono_width(text, size) <= width:
        return [text]
    parts, cur = [], ""
    for ch in text:
        if cur and mono_width(cur + ch, size) > width:
            parts.append(cur)
            cur = ""
        cur += ch
    return parts + [cur] if cur else parts


def _wrap_plain(text: str, size: float, width: float) -> list:
    """A plain line of text wrapped at spaces into lines of estimated width <= ``width``."""
    lines, cur = [], ""
    for word in text.split(" "):
        trial = f"{cur} {word}" if cur else word
        if cur and text_width(trial, size) > width:
            lines.append(cur)
            cur = word
        else:
            cur = trial
    return lines + ([cur] if cur else [])


def to_svg(expl: Explanation, width: int = 720, size: float = 15.0) -> str:
    """A standalone SVG image of the explanation (no scripts, no external resources): the
    caption on top, the words (an excerpt of a long text), a key that names the label."""
    pad, line_h = 16.0, size * 1.75
    inner = width - 2 * pad
    parts, short = _svg_parts(expl)
    lines = _lines(parts, size, inner)
    cap = caption(expl)
    head = [(headline(expl) + ".", 13, "#111111")] + [
        (t, 13, "#444444") for t in _wrap_plain(" ".join(p for p in (cap.plain_sentence(), cap.note) if p), 13, inner)
    ]
    head_lines = [(line, 13, fill) for text, _, fill in head for line in _wrap_plain(text, 13, inner)]
    body = []
    y_head = pad + 12
    for i, (line, fs, fill) in enumerate(head_lines):
        body.append(f'<text x="{pad}" y="{y_head + i * 18:.1f}" font-size="{fs}" fill="{fill}">{esc(line)}</text>')
    y0 = y_head + len(head_lines) * 18 - 4
    for i, line in enumerate(lines):
        base = y0 + i * line_h + size
        for x, part, lvl, adv in line:
            pair = colours(lvl)
            fill = "#111111"
            if pair:
                body.append(
                    f'<rect x="{pad + x - 1:.1f}" y="{base - size * 1.02:.1f}" width="{adv + 2:.1f}" '
                    f'height="{size * 1.32:.1f}" rx="3" fill="{pair[0]}"/>'
                )
                fill = pair[1]
            body.append(
                f'<text x="{pad + x:.1f}" y="{base:.1f}" fill="{fill}" font-family="{esc(MONO)}" '
                f'xml:space="preserve">{esc(part)}</text>'
            )
    y = y0 + len(lines) * line_h + 12
    against = cap.against if cap.against != "evidence against it" else f"evidence against {expl.target}"
    swatches = []
    sx = pad
    for bg, _ in list(reversed(AGAINST)) + list(TOWARD):
        swatches.append(f'<rect x="{sx:.1f}" y="{y:.1f}" width="16" height="10" fill="{bg}"/>')
        sx += 16
    notes = [
        f"blue (left): {against} · orange (right): {cap.toward}",
        f"explained: {expl.explained}; completeness error {expl.completeness_error:.1e}",
    ]
    if short:
        notes.append("An excerpt around the strongest words; the full explanation is at its link.")
    note_lines = [t for n in notes for t in _wrap_plain(n, 12, inner)]
    used = max(
        [x + adv for line in lines for x, _, _, adv in line]
        + [text_width(t, 13) for t, _, _ in head_lines]
        + [text_width(t, 12) for t in note_lines]
        + [300]
    )
    width = int(min(width, used + 2 * pad + 4))
    height = y + 22 + 16 * len(note_lines)
    title = f"{headline(expl)}. {cap.text()}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" font-family="{esc(FONT)}" font-size="{size:g}">'
        f"<title>{esc(title)}</title>"
        f'<rect width="100%" height="100%" rx="8" fill="#ffffff" stroke="#d0d7de"/>'
        + "".join(body)
        + "".join(swatches)
        + "".join(
            f'<text x="{pad}" y="{y + 26 + 16 * i:.1f}" font-size="12" fill="#444444">{esc(t)}</text>'
            for i, t in enumerate(note_lines)
        )
        + "</svg>"
    )


def to_markdown(expl: Explanation, link: Optional[str] = None, top: int = 8) -> str:
    """A Markdown block for a model card: headline and caption, the text quoted (an excerpt
    around the strongest words of a long text, with a link to the whole), the strongest
    words."""

    def quote(parts: list) -> str:
        text = "".join(p for p, _ in parts)
        return "\n".join("> " + _md(line) if line.strip() else ">" for line in text.splitlines())

    parts, short = excerpt(expl, 0)
    quoted = quote(parts)
    if expl.text_pair is not None:
        second, pair_short = excerpt(expl, 1)
        short = short or pair_short
        quoted += "\n>\n> Text pair: " + quote(second)[2:]
    cap = caption(expl)
    against = cap.against if cap.against != "evidence against it" else f"evidence against {expl.target}"
    rows = [
        f"| {_md(w.text.replace(chr(10), ' '))}{' (text pair)' if w.segment else ''} | {w.score:+.4f} | "
        f"{_md(cap.toward if w.score > 0 else against)} |"
        for w in expl.top_words(top)
    ]
    link = _safe_link(link)
    out = [f"**{_md(headline(expl))}.** {cap.markdown()}", "", quoted, ""]
    if short:
        out += [
            f"_An excerpt around the strongest words of a {len(expl.text) + len(expl.text_pair or ''):,}-character "
            "text" + (f"; [open the full explanation]({link})._" if link else "._"),
            "",
        ]
    out += [
        f"Explained: {_md(expl.explained)}; completeness error {expl.completeness_error:.1e}.",
        "",
        "| word | attribution | reads as |",
        "|---|---:|---|",
        *rows,
    ]
    if link:
        out += ["", f"[Open this explanation in the explainer]({link})"]
    return "\n".join(out)
