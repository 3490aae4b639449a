"""Self-contained renderings of an explanation for places without JavaScript: model
cards, READMEs, reports. HTML with inline styles only, SVG with its own background,
and a Markdown table. Every piece of text (the user's text, label names, the model
name) is escaped; characters XML cannot carry are shown as U+FFFD (display only)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath
from typing import Optional

from ..result import Explanation
from .escape import html as esc
from .escape import markdown as _md
from .scale import AGAINST, TOWARD, colours, level, pieces

FONT = "system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"


def model_name(expl: Explanation) -> str:
    """The checkpoint as a reader should see it: a Hub ID, or a folder's last name
    (a server path says nothing to a reader and leaks the server's layout)."""
    source = str(expl.checkpoint.get("source") or "model")
    if source.startswith(("/", ".", "~")) or "\\" in source or source.count("/") > 1:
        source = PurePath(source).name or source
    rev = expl.checkpoint.get("revision")
    return f"{source}@{rev[:10]}" if rev and "/" in source else source


def headline(expl: Explanation) -> str:
    """'<model> predicts <label> (93.1%)' (plain text, unescaped)."""
    if expl.head == "regression":
        value = next(iter(expl.probabilities.values()))
        return f"{model_name(expl)} predicts {expl.labels[0]} = {value:.4f}"
    p = expl.probabilities.get(expl.predicted, 0.0)
    return f"{model_name(expl)} predicts {expl.predicted} ({p:.1%})"


def _safe_link(link: Optional[str]) -> Optional[str]:
    return link if link and re.match(r"^https?://[^\s\"'<>]+$", link) else None


def to_html(expl: Explanation, link: Optional[str] = None) -> str:
    """One <div> with inline styles; readable on light and dark pages (own background)."""
    def coloured(segment: int) -> list:
        spans = []
        for piece, score in pieces(expl, segment):
            pair = colours(level(score))
            if pair is None:
                spans.append(esc(piece))
            else:
                spans.append(f'<span style="background:{pair[0]};color:{pair[1]};border-radius:3px" '
                             f'title="{score:+.3f}">{esc(piece)}</span>')
        return spans

    spans = coloured(0)
    second = ""
    if expl.text_pair is not None:
        second = ('<div style="font-size:12px;color:#444444">Text pair</div>'
                  f'<div style="font-size:16px;white-space:pre-wrap;margin:2px 0 6px">{"".join(coloured(1))}</div>')
    swatch = '<span style="display:inline-block;width:14px;height:10px;background:{}"></span>'
    scale = "".join(swatch.format(bg) for bg, _ in reversed(AGAINST)) + "".join(swatch.format(bg) for bg, _ in TOWARD)
    away = f"away from {esc(repr(expl.contrast))}" if expl.contrast else "away"
    footer = (f"{scale} &nbsp;blue: {away} &middot; orange: toward {esc(repr(expl.target))} &middot; "
              f"explained: {esc(expl.explained)} &middot; completeness error {expl.completeness_error:.1e}")
    link = _safe_link(link)
    if link:
        footer += f' &middot; <a href="{esc(link)}" style="color:#0b5cad">open in the explainer</a>'
    return (f'<div style="font-family:{FONT};max-width:760px;background:#ffffff;color:#111111;'
            'border:1px solid #d0d7de;border-radius:8px;padding:12px 14px;line-height:1.8">'
            f'<div style="font-size:13px;color:#444444">{esc(headline(expl))}</div>'
            f'<div style="font-size:16px;white-space:pre-wrap;margin:6px 0">{"".join(spans)}</div>'
            f'{second}<div style="font-size:12px;color:#444444">{footer}</div></div>')


# --- SVG: no browser to lay out text, so we wrap with estimated widths and pin each
# piece's width with textLength, which keeps boxes and glyphs aligned in any font.

_NARROW = set("iljI.,:;'|!`")
_SEMI = set("frt()[]{}/\\-\" ")
_WIDE = set("mwMW@%")
_SYMBOL = set("=+<>~^&#$_*")


def text_width(text: str, size: float) -> float:
    """Estimated advance of ``text`` in a sans-serif font of ``size`` px."""
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
    return em * size


def _atoms(expl: Explanation):
    """('text', piece, level) / ('space', run) / ('newline',) in text order (then the
    text pair, if any, on a line of its own)."""
    parts = pieces(expl, 0)
    if expl.text_pair is not None:
        parts += [("\n", None), ("Text pair:", None), (" ", None)] + pieces(expl, 1)
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


def _lines(expl: Explanation, size: float, width: float) -> list:
    """Greedy wrap into lines of (x, piece, level, advance); no break inside a word."""
    lines: list = [[]]
    x = 0.0
    chunk: list = []  # consecutive text atoms: unbreakable

    def flush():
        nonlocal x, chunk
        w = sum(text_width(t, size) for t, _ in chunk)
        if chunk and x > 0 and x + w > width:
            lines.append([])
            x = 0.0
        for t, lvl in chunk:
            for part in _hard_split(t, size, width):
                adv = text_width(part, size)
                if x > 0 and x + adv > width:
                    lines.append([])
                    x = 0.0
                lines[-1].append((x, part, lvl, adv))
                x += adv
        chunk = []

    for atom in _atoms(expl):
        if atom[0] == "text":
            chunk.append((atom[1], atom[2]))
            continue
        flush()
        if atom[0] == "newline":
            lines.append([])
            x = 0.0
        else:
            x += text_width(atom[1].replace("\t", "    "), size)
    flush()
    return lines


def _hard_split(text: str, size: float, width: float) -> list:
    if text_width(text, size) <= width:
        return [text]
    parts, cur = [], ""
    for ch in text:
        if cur and text_width(cur + ch, size) > width:
            parts.append(cur)
            cur = ""
        cur += ch
    return parts + [cur] if cur else parts


def to_svg(expl: Explanation, width: int = 720, size: float = 16.0) -> str:
    """A standalone SVG image of the explanation (no scripts, no external resources)."""
    pad, line_h = 16.0, size * 1.75
    lines = _lines(expl, size, width - 2 * pad)
    body = []
    y0 = pad + 30
    for i, line in enumerate(lines):
        base = y0 + i * line_h + size
        for x, part, lvl, adv in line:
            pair = colours(lvl)
            fill = "#111111"
            if pair:
                body.append(f'<rect x="{pad + x - 1:.1f}" y="{base - size * 1.02:.1f}" width="{adv + 2:.1f}" '
                            f'height="{size * 1.32:.1f}" rx="3" fill="{pair[0]}"/>')
                fill = pair[1]
            fit = f' textLength="{adv:.1f}" lengthAdjust="spacingAndGlyphs"' if len(part) > 1 else ""
            body.append(f'<text x="{pad + x:.1f}" y="{base:.1f}" fill="{fill}"{fit}>{esc(part)}</text>')
    y = y0 + len(lines) * line_h + 12
    away = f"away from {expl.contrast!r}" if expl.contrast else "away"
    key = f"blue: {away} · orange: toward {expl.target!r}"
    note = f"explained: {expl.explained} · completeness error {expl.completeness_error:.1e}"
    used = max([x + adv for line in lines for x, _, _, adv in line]
               + [text_width(headline(expl), 13), 104 + text_width(key, 12), text_width(note, 12), 300])
    width = int(min(width, used + 2 * pad + 4))
    swatches = []
    sx = pad
    for bg, _ in list(reversed(AGAINST)) + list(TOWARD):
        swatches.append(f'<rect x="{sx:.1f}" y="{y:.1f}" width="16" height="10" fill="{bg}"/>')
        sx += 16
    height = y + 36
    title = headline(expl)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
            f'viewBox="0 0 {width} {height:.0f}" font-family="{esc(FONT)}" font-size="{size:g}">'
            f'<title>{esc(title)}</title>'
            f'<rect width="100%" height="100%" rx="8" fill="#ffffff" stroke="#d0d7de"/>'
            f'<text x="{pad}" y="{pad + 12}" font-size="13" fill="#444444">{esc(_clip(title, size, width))}</text>'
            + "".join(body) + "".join(swatches)
            + f'<text x="{sx + 8:.1f}" y="{y + 9:.1f}" font-size="12" fill="#444444">{esc(_clip(key, 12, width - sx))}'
            f'</text><text x="{pad}" y="{y + 26:.1f}" font-size="12" fill="#444444">'
            f'{esc(_clip(note, 12, width))}</text></svg>')


def _clip(text: str, size: float, width: float) -> str:
    """Shorten a header line to fit (display only; the full text is in <title>)."""
    limit = width - 40
    if text_width(text, size) <= limit:
        return text
    while text and text_width(text + "…", size) > limit:
        text = text[:-1]
    return text + "…"


def to_markdown(expl: Explanation, link: Optional[str] = None, top: int = 8) -> str:
    """A Markdown block for a model card: headline, the text quoted, the strongest words."""
    quoted = "\n".join("> " + _md(line) if line.strip() else ">" for line in expl.text.splitlines())
    if expl.text_pair is not None:
        quoted += "\n>\n> Text pair: " + "\n> ".join(_md(line) for line in expl.text_pair.splitlines())
    rows = [f"| {_md(w.text.replace(chr(10), ' '))}{' (text pair)' if w.segment else ''} | {w.score:+.4f} | "
            f"{'toward' if w.score > 0 else 'away'} |" for w in expl.top_words(top)]
    out = [f"**{_md(headline(expl))}**", "", quoted, "", f"Explained: {_md(expl.explained)}; "
           f"completeness error {expl.completeness_error:.1e}.", "",
           "| word | attribution | direction |", "|---|---:|---|", *rows]
    link = _safe_link(link)
    if link:
        out += ["", f"[Open this explanation in the explainer]({link})"]
    return "\n".join(out)
