"""The app page around Gradio's components (stdlib only; strings the app hands to Gradio):
the caption panel above the words (the sentence, a key that names the label, a button to
jump to the next strong word, and each word's score, rank and window as data for the
page's script), the inline error panel, the character counter, the sigmoid heads' present
labels, the page's CSS (full-opacity colours per theme) and its script.

Every text shown here goes through ``escape``; the script reads the data attribute as
JSON and writes only text (``textContent``) and attributes, never markup."""

from __future__ import annotations

import json
from importlib import resources
from typing import Optional

from ..result import Explanation, WordsHidden
from . import escape
from .caption import amount, caption, percent, present_labels
from .effect import scale as colour_scale
from .scale import (
    AGAINST,
    APP_AGAINST,
    APP_TOWARD,
    DARK_AGAINST,
    DARK_TOWARD,
    TOWARD,
    decimals,
    level,
    pieces,
)

STRENGTHS = ("weak", "medium", "strong")
TOP_WORDS = 10  # the jump button goes through this many of the strongest words, strongest first


def _asset(name: str) -> str:
    """A file of the page's (assets/: its CSS and script), shipped as package data."""
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def _style_match(hex_colour: str) -> str:
    """An attribute selector for a word Gradio painted in ``hex_colour``: its style starts
    "background-color: rgba(R" - no comma, because Gradio's CSS scoping splits selectors at
    every comma, even inside quotes. The first channel tells the six colours apart."""
    red = int(hex_colour.lstrip("#")[:2], 16)
    return f'[style*="rgba({red}"]'


def _level_class(lvl: int) -> str:
    return f"explain-lvl-{'t' if lvl > 0 else 'a'}{abs(lvl)}"


def css() -> str:
    """The page's CSS: Gradio paints highlighted words at half opacity, which on a dark page
    makes the strongest words the faintest; each category's style is matched by the colour
    Gradio writes and replaced with the full-opacity colour of its level for the theme."""
    keys = [_style_match(k) for k in APP_TOWARD + APP_AGAINST]
    assert len(set(keys)) == len(keys), "the color_map colours must differ in their red channel"
    rules = []  # one selector per rule: Gradio scopes each rule, and mangles selector lists
    for colours_, light, dark, side in ((APP_TOWARD, TOWARD, DARK_TOWARD, "t"), (APP_AGAINST, AGAINST, DARK_AGAINST, "a")):
        for k, key in enumerate(colours_):
            for selector in (f".explain-words .token.highlighted{_style_match(key)}", f".explain-lvl-{side}{k + 1}"):
                rules.append(
                    f"{selector} {{ background-color: {light[k][0]} !important; color: {light[k][1]} !important; }}"
                )
                rules.append(
                    f".dark {selector} {{ background-color: {dark[k][0]} !important; color: {dark[k][1]} !important; }}"
                )
    return "\n".join(rules) + "\n" + _CSS


_CSS = _asset("page.css")


def _data(expl: Explanation, refining: bool = False) -> str:
    """Each word's place, score, rank, level, segment, number (1-based) and whether the
    tokenizer knew it, the windows' boundaries, and the texts, as compact JSON for the
    page's script (tooltips, window marks, jumps, the words a click hides)."""
    scale = colour_scale(expl) or 1.0
    order = sorted(range(len(expl.words)), key=lambda i: -abs(expl.words[i].score))
    rank = {i: r + 1 for r, i in enumerate(order)}
    words = [
        [w.start, w.end, round(w.score, 10), rank[i], level(w.score / scale), w.segment, i + 1, int(w.unknown)]
        for i, w in enumerate(expl.words)
    ]
    windowed = expl.windows[0].segment if expl.windows else 0
    windows = [[w.owned_start, k + 1] for k, w in enumerate(expl.windows)] if len(expl.windows) > 1 else []
    cap = caption(expl)
    return json.dumps(
        {
            "text": expl.text,
            "pair": expl.text_pair,
            "words": words,
            "windows": windows,
            "decimals": decimals(w.score for w in expl.words),
            "window_segment": windowed,
            "target": expl.target,
            "toward": cap.toward,
            "against": against_text(expl),
            "n": len(words),
            "draft": refining,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def against_text(expl: Explanation) -> str:
    """What a blue word is, naming the label ("evidence against positive"), for places
    where "it" would not say which."""
    against = caption(expl).against
    return f"evidence against {expl.target}" if against == "evidence against it" else against


def caption_panel(expl: Explanation, refining: bool = False) -> str:
    """The caption above the words: what the colours explain and what the model says, how
    far the words move it from where it starts (in probabilities), a key naming the label and
    saying what the deepest colour means, the jump button and the data for tooltips.
    ``refining``: a first, coarser answer, said so at the top (a click on a word waits for
    the final one)."""
    cap = caption(expl)
    chips_against = "".join(f'<span class="explain-chip {_level_class(-k)}">{STRENGTHS[k - 1]}</span>' for k in (3, 2, 1))
    chips_toward = "".join(f'<span class="explain-chip {_level_class(k)}">{STRENGTHS[k - 1]}</span>' for k in (1, 2, 3))
    against = against_text(expl)
    top = min(TOP_WORDS, sum(1 for w in expl.words if w.score != 0))
    jump = (
        f'<button type="button" id="explain-jump" class="explain-jump" data-top="{top}">Next top word ↓ ({top})</button>'
        if top
        else ""
    )
    effect = f'<p class="explain-effect">{escape.html(cap.effect, quote=False)}</p>' if cap.effect else ""
    note = f" {cap.note}" if cap.note else ""
    banner = (
        '<p class="explain-refining" role="status">Refining... these first colours come from a coarse pass; '
        "the final ones follow in a moment.</p>"
        if refining
        else ""
    )
    return (
        f'<div class="explain-caption{" explain-draft" if refining else ""}" '
        f'data-explain="{escape.html(_data(expl, refining))}">{banner}'
        f'<p class="explain-caption-text">{cap.sentence_html()}</p>{effect}'
        f'<div class="explain-legend" role="note" aria-label="colour key">'
        f'<span class="explain-legend-end">← {escape.html(against)}</span>{chips_against}{chips_toward}'
        f'<span class="explain-legend-end">{escape.html(cap.toward)} →</span>{jump}</div>'
        f'<p class="explain-hint">{escape.html(cap.strength, quote=False)} Hover over or tap a word for its '
        "score; click it (or press Enter on it) to see the model's answer without it."
        f"{escape.html(note, quote=False)}</p></div>"
    )


def verify_hint() -> str:
    """The verify panel before any check: what a click on a word does."""
    return (
        '<div class="explain-verify" aria-live="polite"><p class="explain-hint">Check the colours yourself: click '
        "a word (or press Enter on it) to see what the model says without it, or hide the top 3 words.</p></div>"
    )


def verify_panel(h: WordsHidden) -> str:
    """What the model says with some words hidden, beside what the colours predicted."""
    names = [w.text.strip() for w in h.words]
    shown = ", ".join(f"“{n}”" for n in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    # One decimal on every number of the check, so that the model's answer and the claim compare.
    fmt = lambda v: (
        "n/a" if v is None else f"{v:.4g}" if h.unit == "value" else amount(v, h.unit) if h.unit == "share" else f"{v:.1%}"
    )
    if h.measured is not None and h.before is not None:
        said = (
            f"the model says {escape.html(h.target, quote=False)} {fmt(h.measured)} "
            f"(with {'them' if len(names) > 1 else 'it'}: {fmt(h.before)})"
        )
    else:
        top = max(h.probabilities, key=h.probabilities.get)
        said = f"the model says {escape.html(top, quote=False)} {percent(h.probabilities[top])}"
    claim = f" The word scores predicted about {fmt(h.claimed)}." if h.claimed is not None and h.measured is not None else ""
    flip = (
        f" The prediction becomes <strong>{escape.html(h.predicted, quote=False)}</strong>."
        if h.predicted != h.target and h.unit != "value" and h.probabilities.get(h.target, 1.0) < 0.5
        else ""
    )
    return (
        f'<div class="explain-verify" aria-live="polite"><p><strong>Without {escape.html(shown, quote=False)}</strong>'
        f": {said}.{claim}{flip}</p></div>"
    )


def verify_message(message: str) -> str:
    """The verify panel when the check could not be made: why, in a line."""
    return f'<div class="explain-verify" aria-live="polite"><p>{escape.html(message, quote=False)}</p></div>'


def see_result_link() -> str:
    """On a phone: a link under the Explain button to the result below the form (shown once
    there is a result)."""
    return '<a class="explain-see" href="#results" hidden>See the result ↓</a>'


def empty_caption() -> str:
    return '<div class="explain-caption"><p class="explain-caption-text">Explain a text to see its words here.</p></div>'


def error_panel(message: str, kept: bool, title: str = "Could not explain this.") -> str:
    """The inline error at the top of the results: the message (escaped here, once) and,
    when a previous result stays on the page, that it is the previous one."""
    old = " The result below, dimmed, is from your previous request." if kept else ""
    return (
        f'<div class="explain-error" role="alert"><strong>{escape.html(title, quote=False)}</strong> '
        f"{escape.html(message, quote=False)}{old}</div>"
    )


def counter(limit: int, n: int = 0) -> str:
    """The character counter under the text box (the page's script keeps it live)."""
    over = n > limit
    return (
        f'<div class="explain-count{" over" if over else ""}" data-limit="{int(limit)}" aria-live="polite">'
        f"{n:,} / {limit:,} characters</div>"
    )


def words_html(expl: Explanation, segment: int = 0) -> str:
    """The text (or text pair) with each word's level as a class the page's CSS colours for
    its theme, and its score as a tooltip."""
    out = []
    unit, places = colour_scale(expl), decimals(w.score for w in expl.words)
    for piece, score in pieces(expl, segment):
        lvl = level(score)
        if lvl == 0:
            out.append(escape.html(piece, quote=False))
        else:
            out.append(
                f'<span class="{_level_class(lvl)}" title="{score * unit:+.{places}f}">'
                f"{escape.html(piece, quote=False)}</span>"
            )
    return "".join(out)


def present_panel(explanations) -> str:
    """For a sigmoid head with several labels: each present label's words (labels over 50%,
    most probable first); empty for other heads or when no label is present."""
    explanations = [e for e in explanations or () if e.head == "sigmoid" and len(e.labels) > 1]
    if not explanations:
        return ""
    present = set(present_labels(explanations[0]))
    shown = [e for e in explanations if e.target in present]
    if not shown:
        return (
            '<div class="explain-present"><p>No label is present (none over 50%); each label is scored on its own.</p></div>'
        )
    blocks = []
    for e in shown:
        cap = caption(e)
        blocks.append(
            f"<h4>{escape.html(e.target)} - present ({percent(e.probabilities[e.target])})</h4>"
            f'<p class="explain-hint">Orange: {escape.html(cap.toward)}. Blue: {escape.html(cap.against)}.</p>'
            f'<div class="explain-text">{words_html(e)}</div>'
        )
    missing = sorted(present - {e.target for e in shown})
    more = (
        f'<p class="explain-hint">Also present, not explained here (pick it as the label to explain): '
        f"{escape.html(', '.join(missing))}.</p>"
        if missing
        else ""
    )
    return (
        '<div class="explain-present"><p><strong>Words for every present label</strong> (each label is scored '
        "on its own; the colours of each block explain that label).</p>" + "".join(blocks) + more + "</div>"
    )


def example_html(text: str, expected: Optional[str], predicted: Optional[tuple], lang: Optional[str] = None) -> str:
    """An example text's button: the label a reader expects and whether the model agrees
    (its own prediction) - a wrong one says so and invites a look at why - then the text."""
    shown = escape.html(text if len(text) <= 160 else text[:159].rstrip() + "…", quote=False)
    where = f' <span class="explain-lang">({escape.html(lang)})</span>' if lang else ""
    if predicted is None:
        mark = (
            f'<span class="explain-mark">expected {escape.html(expected)}</span>'
            if expected
            else '<span class="explain-mark">no expected label</span>'
        )
    else:
        label, p = predicted
        got = f"{escape.html(label)} ({percent(p)})"
        if expected is None:
            mark = f'<span class="explain-mark">no clear sentiment; the model says {got}</span>'
        elif label == expected:
            mark = f'<span class="explain-mark explain-right">✓ {escape.html(expected)}: the model agrees</span>'
        else:
            mark = (
                f'<span class="explain-mark explain-wrong">✗ expected {escape.html(expected)}, the model says '
                f"{got}: see why the model gets this wrong</span>"
            )
    return f'<span class="explain-example">{mark}<br>{shown}{where}</span>'


def chip_html(chip: dict) -> str:
    """A well-known checkpoint's button: its ID, what it is, its labels and its size."""
    bits = [
        chip.get("what"),
        f"labels: {chip['labels']}" if chip.get("labels") else "",
        chip.get("size"),
        "reads a text pair" if chip.get("pair") else "",
    ]
    return (
        f'<span class="explain-example"><strong>{escape.html(chip["id"], quote=False)}</strong><br>'
        f"{escape.html(' · '.join(b for b in bits if b), quote=False)}</span>"
    )


# The page's script (Gradio runs it once on load). It reads the caption's data attribute
# and decorates the HighlightedText words it finds: tabindex, an aria-label and a tooltip
# with score and rank, the start of each window, the jump button; it marks the explained
# label in the probability panel, keeps the character counter live, and on a narrow
# screen scrolls the results into view when a run starts. Text only: no innerHTML.
SCRIPT = _asset("page.js")
