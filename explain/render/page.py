"""The app page around Gradio's components (stdlib only; strings the app hands to Gradio):
the caption panel above the words (the sentence, a key that names the label, a button to
jump to the next strong word, and each word's score, rank and window as data for the
page's script), the inline error panel, the character counter, the sigmoid heads' present
labels, the page's CSS (full-opacity colours per theme) and its script.

Every text shown here goes through ``escape``; the script reads the data attribute as
JSON and writes only text (``textContent``) and attributes, never markup."""

from __future__ import annotations

import json
from typing import Optional

from ..result import Explanation
from . import escape
from .caption import caption, percent, present_labels
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


def _rgba(hex_colour: str) -> str:
    """How Gradio writes a color_map colour into a highlighted word's style (half opacity)."""
    h = hex_colour.lstrip("#")
    return "rgba({}, {}, {}, 0.5)".format(*(int(h[i:i + 2], 16) for i in (0, 2, 4)))


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
    for colours_, light, dark, side in ((APP_TOWARD, TOWARD, DARK_TOWARD, "t"),
                                        (APP_AGAINST, AGAINST, DARK_AGAINST, "a")):
        for k, key in enumerate(colours_):
            for selector in (f".explain-words .token.highlighted{_style_match(key)}", f".explain-lvl-{side}{k + 1}"):
                rules.append(f"{selector} {{ background-color: {light[k][0]} !important; "
                             f"color: {light[k][1]} !important; }}")
                rules.append(f".dark {selector} {{ background-color: {dark[k][0]} !important; "
                             f"color: {dark[k][1]} !important; }}")
    return "\n".join(rules) + _CSS


_CSS = """
.explain-words .token { margin: 0; padding: 0 1px; border-radius: 3px; }
.explain-words .textfield { line-height: 1.9; }
#words { max-height: min(28rem, 62vh); overflow-y: auto !important; }
#words-area { position: relative; }
#caption { position: sticky; top: 0; z-index: 5; background: var(--background-fill-primary);
  padding: 4px 2px 6px; }
.explain-caption-text { margin: 0 0 4px; font-size: var(--text-md); }
.explain-legend { display: flex; flex-wrap: wrap; align-items: center; gap: 3px; font-size: var(--text-sm); }
.explain-legend-end { color: var(--body-text-color-subdued); margin: 0 4px; }
.explain-chip { padding: 0 6px; border-radius: 3px; font-size: var(--text-xs); }
.explain-jump { margin-left: auto; font-size: var(--text-sm); padding: 2px 10px; border-radius: 6px;
  border: 1px solid var(--border-color-primary); background: var(--button-secondary-background-fill);
  color: var(--button-secondary-text-color); cursor: pointer; }
.explain-jump[disabled] { opacity: .5; cursor: default; }
.explain-hint { margin: 4px 0 0; font-size: var(--text-xs); color: var(--body-text-color-subdued); }
.explain-words .token.explain-window { box-shadow: inset 3px 0 0 var(--body-text-color); }
.explain-words .token.explain-window::before { content: "window " attr(data-window) " \\2192 ";
  font-size: var(--text-xs); color: var(--body-text-color); background: var(--background-fill-secondary);
  border: 1px solid var(--border-color-primary); border-radius: 3px; margin-right: 3px; padding: 0 3px; }
.explain-words .token:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 1px; }
.explain-words .token.explain-jumped { outline: 2px solid var(--color-accent); outline-offset: 1px; }
#explain-tip { position: fixed; z-index: 1000; max-width: 24rem; padding: 4px 8px; border-radius: 6px;
  background: #1f2937; color: #ffffff; font-size: 13px; line-height: 1.4; pointer-events: none;
  box-shadow: 0 2px 8px rgba(0, 0, 0, .3); }
.dark #explain-tip { background: #f4f4f5; color: #111111; }
.explain-error { border: 1px solid #b91c1c; background: #fef2f2; color: #7f1d1d; padding: 10px 12px;
  border-radius: 8px; }
.dark .explain-error { background: #3b1212; color: #fee2e2; border-color: #f87171; }
#results:has(.explain-error) .explain-result { opacity: .45; filter: grayscale(.6); transition: opacity .2s; }
.explain-target-row { outline: 2px solid var(--color-accent); outline-offset: 2px; border-radius: 4px; }
.explain-target-row::after { content: "explained"; font-size: var(--text-xxs); margin-left: 6px;
  padding: 0 4px; border-radius: 3px; background: var(--color-accent); color: #ffffff; }
.explain-multi [data-testid="label-output-value"] { display: none; }
.explain-count { font-size: var(--text-sm); color: var(--body-text-color-subdued); text-align: right; }
.explain-count.over { color: #b91c1c; font-weight: 600; }
.dark .explain-count.over { color: #fca5a5; }
.explain-present h4 { margin: 10px 0 2px; }
.explain-present .explain-text { white-space: pre-wrap; line-height: 1.9; }
.explain-present .explain-text span[class^="explain-lvl"] { border-radius: 3px; padding: 0 1px; }
#model-card p { margin: 0; font-size: var(--text-sm); }
.explain-example { display: block; text-align: left; font-size: var(--text-sm); line-height: 1.35; }
.explain-mark { font-size: var(--text-xs); color: var(--body-text-color-subdued); }
.explain-mark.explain-right { color: #15803d; }
.dark .explain-mark.explain-right { color: #86efac; }
.explain-mark.explain-wrong { color: #b91c1c; font-weight: 600; }
.dark .explain-mark.explain-wrong { color: #fca5a5; }
.explain-lang { color: var(--body-text-color-subdued); }
@media (max-width: 640px) { #words { max-height: 55vh; } .explain-jump { margin-left: 0; } }
"""


def _data(expl: Explanation) -> str:
    """Each word's place, score, rank, level, segment and whether the tokenizer knew it,
    the windows' boundaries, and the texts, as compact JSON for the page's script
    (tooltips, window marks, jumps)."""
    scale = max((abs(w.score) for w in expl.words), default=0.0) or 1.0
    order = sorted(range(len(expl.words)), key=lambda i: -abs(expl.words[i].score))
    rank = {i: r + 1 for r, i in enumerate(order)}
    words = [[w.start, w.end, round(w.score, 10), rank[i], level(w.score / scale), w.segment, int(w.unknown)]
             for i, w in enumerate(expl.words)]
    windowed = expl.windows[0].segment if expl.windows else 0
    windows = [[w.owned_start, k + 1] for k, w in enumerate(expl.windows)] if len(expl.windows) > 1 else []
    cap = caption(expl)
    return json.dumps({"text": expl.text, "pair": expl.text_pair, "words": words, "windows": windows,
                       "decimals": decimals(w.score for w in expl.words),
                       "window_segment": windowed, "target": expl.target, "toward": cap.toward,
                       "against": against_text(expl), "n": len(words)}, ensure_ascii=False, separators=(",", ":"))


def against_text(expl: Explanation) -> str:
    """What a blue word is, naming the label ("evidence against positive"), for places
    where "it" would not say which."""
    against = caption(expl).against
    return f"evidence against {expl.target}" if against == "evidence against it" else against


def caption_panel(expl: Explanation) -> str:
    """The caption above the words: what the colours explain, a key naming the label, the
    jump button and the data for tooltips."""
    cap = caption(expl)
    chips_against = "".join(f'<span class="explain-chip {_level_class(-k)}">{STRENGTHS[k - 1]}</span>'
                            for k in (3, 2, 1))
    chips_toward = "".join(f'<span class="explain-chip {_level_class(k)}">{STRENGTHS[k - 1]}</span>'
                           for k in (1, 2, 3))
    against = against_text(expl)
    strong = sum(1 for piece, score in pieces(expl, 0) + (pieces(expl, 1) if expl.text_pair is not None else [])
                 if abs(level(score)) == 3)
    jump = (f'<button type="button" id="explain-jump" class="explain-jump" data-strong="{strong}">'
            f"Next strong word ↓ ({strong})</button>" if strong else "")
    note = (f" The text was read in {len(expl.windows)} overlapping windows; each window's start is marked."
            if len(expl.windows) > 1 else "")
    return (f'<div class="explain-caption" data-explain="{escape.html(_data(expl))}">'
            f'<p class="explain-caption-text">{cap.html()}</p>'
            f'<div class="explain-legend" role="note" aria-label="colour key">'
            f'<span class="explain-legend-end">← {escape.html(against)}</span>{chips_against}{chips_toward}'
            f'<span class="explain-legend-end">{escape.html(cap.toward)} →</span>{jump}</div>'
            '<p class="explain-hint">Hover over or tap a word for its score and rank; uncoloured words have under '
            f"10% of the strongest word's score.{escape.html(note)}</p></div>")


def empty_caption() -> str:
    return '<div class="explain-caption"><p class="explain-caption-text">Explain a text to see its words here.</p></div>'


def error_panel(message: str, kept: bool, title: str = "Could not explain this.") -> str:
    """The inline error at the top of the results: the message (escaped here, once) and,
    when a previous result stays on the page, that it is the previous one."""
    old = (" The result below, dimmed, is from your previous request." if kept else "")
    return (f'<div class="explain-error" role="alert"><strong>{escape.html(title, quote=False)}</strong> '
            f"{escape.html(message, quote=False)}{old}</div>")


def counter(limit: int, n: int = 0) -> str:
    """The character counter under the text box (the page's script keeps it live)."""
    over = n > limit
    return (f'<div class="explain-count{" over" if over else ""}" data-limit="{int(limit)}" aria-live="polite">'
            f"{n:,} / {limit:,} characters</div>")


def words_html(expl: Explanation, segment: int = 0) -> str:
    """The text (or text pair) with each word's level as a class the page's CSS colours for
    its theme, and its score as a tooltip."""
    out = []
    for piece, score in pieces(expl, segment):
        lvl = level(score)
        if lvl == 0:
            out.append(escape.html(piece, quote=False))
        else:
            out.append(f'<span class="{_level_class(lvl)}" title="{score:+.3f} of the strongest">'
                       f"{escape.html(piece, quote=False)}</span>")
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
        return ('<div class="explain-present"><p>No label is present (none over 50%); each label is scored on its '
                "own.</p></div>")
    blocks = []
    for e in shown:
        cap = caption(e)
        blocks.append(f"<h4>{escape.html(e.target)} - present ({percent(e.probabilities[e.target])})</h4>"
                      f'<p class="explain-hint">Orange: {escape.html(cap.toward)}. Blue: {escape.html(cap.against)}.</p>'
                      f'<div class="explain-text">{words_html(e)}</div>')
    missing = sorted(present - {e.target for e in shown})
    more = (f"<p class=\"explain-hint\">Also present, not explained here (pick it as the label to explain): "
            f"{escape.html(', '.join(missing))}.</p>" if missing else "")
    return ('<div class="explain-present"><p><strong>Words for every present label</strong> (each label is scored '
            "on its own; the colours of each block explain that label).</p>" + "".join(blocks) + more + "</div>")


def example_html(text: str, expected: Optional[str], predicted: Optional[tuple], lang: Optional[str] = None) -> str:
    """An example text's button: the label a reader expects and whether the model agrees
    (its own prediction) - a wrong one says so and invites a look at why - then the text."""
    shown = escape.html(text if len(text) <= 160 else text[:159].rstrip() + "…", quote=False)
    where = f' <span class="explain-lang">({escape.html(lang)})</span>' if lang else ""
    if predicted is None:
        mark = (f'<span class="explain-mark">expected {escape.html(expected)}</span>' if expected else
                '<span class="explain-mark">no expected label</span>')
    else:
        label, p = predicted
        got = f"{escape.html(label)} ({percent(p)})"
        if expected is None:
            mark = f'<span class="explain-mark">no clear sentiment; the model says {got}</span>'
        elif label == expected:
            mark = f'<span class="explain-mark explain-right">✓ {escape.html(expected)}: the model agrees</span>'
        else:
            mark = (f'<span class="explain-mark explain-wrong">✗ expected {escape.html(expected)}, the model says '
                    f"{got}: see why the model gets this wrong</span>")
    return f'<span class="explain-example">{mark}<br>{shown}{where}</span>'


def chip_html(chip: dict) -> str:
    """A well-known checkpoint's button: its ID, what it is, its labels and its size."""
    bits = [chip.get("what"), f"labels: {chip['labels']}" if chip.get("labels") else "", chip.get("size"),
            "reads a text pair" if chip.get("pair") else ""]
    return (f'<span class="explain-example"><strong>{escape.html(chip["id"], quote=False)}</strong><br>'
            f'{escape.html(" · ".join(b for b in bits if b), quote=False)}</span>')


# The page's script (Gradio runs it once on load). It reads the caption's data attribute
# and decorates the HighlightedText words it finds: tabindex, an aria-label and a tooltip
# with score and rank, the start of each window, the jump button; it marks the explained
# label in the probability panel, keeps the character counter live, and on a narrow
# screen scrolls the results into view when a run starts. Text only: no innerHTML.
SCRIPT = r"""
() => {
  if (window.__explainPage) return;
  window.__explainPage = true;
  const tip = document.createElement("div");
  tip.id = "explain-tip"; tip.hidden = true; tip.setAttribute("role", "tooltip");
  document.body.appendChild(tip);
  let jumped = -1, queued = false;
  const fmt = (s, places) => (s > 0 ? "+" : s < 0 ? "\u2212" : "") + Math.abs(s).toFixed(places || 3);
  function data() {
    const el = document.querySelector("#caption [data-explain]");
    if (!el) return null;
    try { return JSON.parse(el.getAttribute("data-explain")); } catch (e) { return null; }
  }
  function place(root, source) {
    const out = [];
    let pos = 0;
    for (const tok of root ? root.querySelectorAll(".textfield .token") : []) {
      const t = tok.querySelector(".text");
      const piece = t ? t.textContent : "";
      let at = source ? source.indexOf(piece, pos) : pos;
      if (at < 0) at = pos;
      out.push([tok, at, at + piece.length]);
      pos = at + piece.length;
    }
    return out;
  }
  function annotate() {
    queued = false;
    const d = data();
    const seen = d ? (d.text.length + ":" + d.n + ":" + d.target + ":" + (d.pair || "").length) : "";
    [["#words", 0], ["#words-pair", 1]].forEach(([sel, seg]) => {
      const root = document.querySelector(sel);
      if (!root) return;
      const source = d ? (seg === 0 ? d.text : d.pair) : null;
      const words = new Map();
      if (d) for (const w of d.words) if (w[5] === seg) words.set(w[0], w);
      const starts = d && d.window_segment === seg ? d.windows.slice(1) : [];
      for (const [tok, start, end] of place(root, source)) {
        const w = words.get(start);
        tok.classList.remove("explain-window", "explain-strong");
        tok.removeAttribute("data-window");
        if (w && source && end === w[1]) {
          const way = w[2] > 0 ? d.toward : w[2] < 0 ? d.against : "neither way";
          tok.dataset.tip = `${source.slice(w[0], w[1])}: ${fmt(w[2], d.decimals)}, rank ${w[3]} of ${d.n} (${way})` +
            (w[6] ? "; unknown to the tokenizer" : "");
          tok.setAttribute("aria-label", tok.dataset.tip);
          tok.tabIndex = 0;
          if (Math.abs(w[4]) === 3) tok.classList.add("explain-strong");
        } else {
          delete tok.dataset.tip; tok.removeAttribute("aria-label"); tok.removeAttribute("tabindex");
        }
        const mark = starts.find(([s]) => s >= start && s < Math.max(end, start + 1));
        if (mark) { tok.classList.add("explain-window"); tok.dataset.window = String(mark[1]); }
      }
    });
    if (root_seen !== seen) { root_seen = seen; jumped = -1; }
    markTarget(d);
  }
  let root_seen = "";
  function markTarget(d) {
    const panel = document.querySelector("#prediction");
    if (!panel) return;
    for (const row of panel.querySelectorAll(".explain-target-row")) row.classList.remove("explain-target-row");
    if (!d) return;
    for (const row of panel.querySelectorAll("button, .confidence-set, [data-testid='label-confidence-set']")) {
      const name = row.querySelector(".text, dt, .label-name, span");
      if (name && name.textContent.trim() === d.target) { row.classList.add("explain-target-row"); break; }
    }
  }
  function show(tok) {
    if (!tok || !tok.dataset.tip) { tip.hidden = true; return; }
    tip.textContent = tok.dataset.tip;
    tip.hidden = false;
    const r = tok.getBoundingClientRect();
    const w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = Math.max(4, Math.min(window.innerWidth - w - 4, r.left)) + "px";
    tip.style.top = (r.top - h - 6 > 0 ? r.top - h - 6 : r.bottom + 6) + "px";
  }
  const tokenOf = (e) => e.target instanceof Element ? e.target.closest(".explain-words .token") : null;
  document.addEventListener("mouseover", (e) => { const t = tokenOf(e); if (t) show(t); });
  document.addEventListener("mouseout", (e) => { if (tokenOf(e)) tip.hidden = true; });
  document.addEventListener("focusin", (e) => { const t = tokenOf(e); if (t) show(t); });
  document.addEventListener("focusout", (e) => { if (tokenOf(e)) tip.hidden = true; });
  document.addEventListener("scroll", () => { tip.hidden = true; }, true);
  document.addEventListener("click", (e) => {
    if (!(e.target instanceof Element)) return;
    const t = tokenOf(e);
    if (t) { show(t); return; }
    if (e.target.closest("#explain-jump")) {
      const strong = [...document.querySelectorAll(".explain-words .token.explain-strong")];
      if (!strong.length) return;
      for (const s of strong) s.classList.remove("explain-jumped");
      jumped = (jumped + 1) % strong.length;
      const next = strong[jumped];
      next.classList.add("explain-jumped");
      next.scrollIntoView({block: "center", behavior: "instant"});
      next.focus({preventScroll: true});
      const b = e.target.closest("#explain-jump");
      b.textContent = `Next strong word \u2193 (${jumped + 1} of ${strong.length})`;
      return;
    }
    if (e.target.closest("#explain-btn, #examples, .explain-examples") && window.innerWidth < 900) {
      setTimeout(() => { const r = document.querySelector("#results"); if (r) r.scrollIntoView({block: "start"}); },
                 150);
    }
  });
  function count() {
    const box = document.querySelector("#text textarea");
    const out = document.querySelector("#char-count .explain-count");
    if (!box || !out) return;
    const limit = Number(out.dataset.limit || 0), n = box.value.length;
    const over = limit && n > limit;
    out.classList.toggle("over", !!over);
    out.textContent = `${n.toLocaleString("en")} / ${limit.toLocaleString("en")} characters` +
      (over ? ` \u2014 ${(n - limit).toLocaleString("en")} over this server's limit: shorten the text` : "");
  }
  document.addEventListener("input", (e) => { if (e.target instanceof Element && e.target.closest("#text")) count(); });
  const observer = new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(() => { annotate(); count(); }); }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true,
                                   attributes: true, attributeFilter: ["data-explain", "value"]});
  setInterval(count, 1000);
  annotate(); count();
}
"""
