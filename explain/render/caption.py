"""What the colours mean, in one wording for every surface: the app's caption above the
words, the terminal, and the static HTML, SVG and Markdown of model cards.

``caption(expl)`` is the one function that words it. It names the label the colours
explain next to what the model predicts (they differ when a target is chosen), says what
an orange and a blue word are for this explanation (with a contrast, blue is evidence
for the contrast label, not "away from" it), and, for sigmoid heads, which labels are
present and that their scores are independent. Renderers only format it."""

from __future__ import annotations

from dataclasses import dataclass

from ..result import Explanation
from . import escape
from .effect import effect, floored, near_tie, scale, windows_leaning

PRESENT = 0.5  # a sigmoid head's label is present above this probability (as the pipeline reads it)


@dataclass(frozen=True)
class Caption:
    """``sentence``: ((text, is_label), ...) - what is explained and what the model says;
    ``effect``: where the label stands with every word hidden and where the words take it
    (and a near-tie), in probabilities; ``toward``/``against``: what an orange/blue word is;
    ``strength``: what the deepest colour means; ``note``: a further sentence or ""."""

    sentence: tuple
    toward: str
    against: str
    note: str = ""
    effect: str = ""
    strength: str = ""

    def text(self) -> str:
        """One plain line (terminal, SVG, logs)."""
        return " ".join(p for p in (self.plain_sentence(), self.effect, self.key(), self.strength, self.note) if p)

    def plain_sentence(self) -> str:
        """The first sentence alone, plain."""
        return self._sentence(str, str)

    def key(self) -> str:
        return f"Orange: {self.toward}. Blue: {self.against}."

    def markdown(self) -> str:
        esc = lambda s: escape.markdown(s, inline=True)
        parts = [
            self._sentence(esc, lambda s: f"**{esc(s)}**"),
            esc(self.effect),
            f"**Orange**: {esc(self.toward)}. **Blue**: {esc(self.against)}.",
            esc(self.strength),
            esc(self.note),
        ]
        return " ".join(p for p in parts if p)

    def sentence_html(self) -> str:
        """The first sentence alone, as HTML (the label names bold)."""
        esc = lambda s: escape.html(s, quote=False)
        return self._sentence(esc, lambda s: f"<strong>{esc(s)}</strong>")

    def html(self, key: bool = True) -> str:
        """The caption as HTML (``key``: with the colour key and what the deepest colour means)."""
        esc = lambda s: escape.html(s, quote=False)
        parts = [self._sentence(esc, lambda s: f"<strong>{esc(s)}</strong>"), esc(self.effect)]
        if key:
            parts += [
                f"<strong>Orange</strong>: {esc(self.toward)}. <strong>Blue</strong>: {esc(self.against)}.",
                esc(self.strength),
            ]
        return " ".join(p for p in parts + [esc(self.note)] if p)

    def _sentence(self, plain, label) -> str:
        return "".join(label(text) if is_label else plain(text) for text, is_label in self.sentence)


def percent(p: float) -> str:
    """88%, or one decimal near the ends (99.7%, 0.4%) where rounding would say 100% or 0%."""
    return f"{p:.1%}" if p > 0.99 or p < 0.01 else f"{p:.0%}"


def present_labels(expl: Explanation) -> list:
    """A sigmoid head's labels over 50%, most probable first."""
    ranked = sorted(expl.probabilities.items(), key=lambda kv: -kv[1])
    return [name for name, p in ranked if p > PRESENT]


def caption(expl: Explanation) -> Caption:
    """What the colours of ``expl`` mean: the label explained, the model's answer, how much
    the words move it and from where, what orange and blue stand for and how deep a colour
    gets."""
    base = _caption(expl)
    notes = [n for n in (base.note, windows_note(expl)) if n]
    return Caption(base.sentence, base.toward, base.against, " ".join(notes), effect_sentence(expl), strength_sentence(expl))


def amount(value: float, unit: str) -> str:
    """A shown value in its unit: 95% (probability, score), 60:40 (a share), 0.4213 (value)."""
    if unit == "value":
        return f"{value:.4g}"
    if unit == "share":
        a = round(100 * value)
        return f"{a}:{100 - a}"
    return percent(value)


def effect_sentence(expl: Explanation) -> str:
    """'With every word hidden the model says positive 95%; your words bring it down to 79%.'
    (in the unit the page shows), a negligible effect said plainly, and a near-tie flagged."""
    e = effect(expl)
    out = ""
    if e.start is not None and e.end is not None:
        start, end = amount(e.start, e.unit), amount(e.end, e.unit)
        if e.unit == "share":
            where = f"{e.label} against {e.contrast} stand at"
        elif e.unit == "value":
            where = "the model's value is"
        elif e.unit == "score":
            where = f"{e.label} scores"
        else:
            where = f"the model says {e.label}"
        if e.negligible:
            out = (
                f"The words barely matter to this model here: with every word hidden {where} {start}, and your "
                f"text leaves it at {end}."
            )
        else:
            way = "up to" if e.end > e.start else "down to" if e.end < e.start else "back to"
            out = f"With every word hidden {where} {start}; your words bring it {way} {end}."
    elif expl.f_input is not None and expl.f_baseline is not None:
        out = (
            f"The word scores add up to how far your words move {expl.explained}: from {expl.f_baseline:+.2f} "
            f"with every word hidden to {expl.f_input:+.2f}."
        )
    tie = near_tie(expl)
    if tie is not None and expl.contrast is None:
        a, b, pa, pb = tie
        out += f" Near tie: {a} {percent(pa)}, {b} {percent(pb)} - a small change to the text could flip the prediction."
    return out.strip()


def strength_sentence(expl: Explanation) -> str:
    """What the deepest colour means for this explanation (the scale is never silently relative)."""
    if not expl.words:
        return ""
    if effect(expl).negligible or floored(expl):
        return (
            "Colours stay faint: no word moves the answer much (the deepest shade would need a score of "
            f"{scale(expl):.2g} or more)."
        )
    strongest = max(expl.words, key=lambda w: abs(w.score))
    return (
        f"Deepest colour: at least 70% of the strongest word's score ({strongest.text.strip()!s} "
        f"{strongest.score:+.3g}); uncoloured: under 10% of it."
    )


def windows_note(expl: Explanation) -> str:
    """For a long text: each window explained on its own, how the scores combine, and the
    windows that lean the other way on their own."""
    n = len(expl.windows)
    if n < 2:
        return ""
    note = (
        f"The text is longer than the model reads at once, so it was read in {n} overlapping windows, each "
        "explained on its own; the colours are the windows' scores averaged, each window weighted by the share "
        "of the text it stands for - not the same as one explanation of the whole text."
    )
    leaning = windows_leaning(expl)
    if leaning:
        which = ", ".join(map(str, leaning))
        note += (
            f" On their own, window{'s' if len(leaning) > 1 else ''} {which} of {n} lean the other way about {expl.target}."
        )
    return note


def _caption(expl: Explanation) -> Caption:
    t, c = expl.target, expl.contrast
    p_target = expl.probabilities.get(t)
    zero_shot = " among the candidate labels" if expl.zero_shot is not None else ""
    if expl.head == "regression":
        value = next(iter(expl.probabilities.values()), float("nan"))
        return Caption(
            (("Explaining the predicted value of ", False), (t, True), (f": {value:.4g}.", False)),
            "pushes the value up",
            "pushes it down",
        )
    if expl.head == "sigmoid" and len(expl.labels) == 1:
        return Caption(
            (
                ("Explaining ", False),
                (t, True),
                (f": score {percent(p_target or 0.0)} (the sigmoid of the model's one output).", False),
            ),
            "pushes the score up",
            "pushes it down",
        )
    if c:
        toward, against = f"evidence for {t} over {c}", f"evidence for {c} over {t}"
        head = [("Explaining ", False), (t, True), (" rather than ", False), (c, True)]
    else:
        toward, against = f"evidence for {t}", "evidence against it"
        head = [("Explaining ", False), (t, True)]
    if expl.head == "sigmoid":
        present = present_labels(expl)
        state = "present" if (p_target or 0.0) > PRESENT else "absent"
        sign = ">" if state == "present" else "<"
        head += [(f"{zero_shot}: {state} ({percent(p_target or 0.0)} {sign} 50%).", False)]
        listed = ", ".join(present) if present else "none"
        note = (
            f"Labels present (> 50%): {listed}. Each label is scored on its own, so the scores are "
            "independent and need not add up to 100%."
        )
        zero = _zero_shot_note(expl)
        return Caption(tuple(head), toward, against, f"{note} {zero} {unknown_note(expl)}".strip())
    p_pred = expl.probabilities.get(expl.predicted, 0.0)
    if t == expl.predicted:
        pick = "top pick" if expl.zero_shot is not None else "prediction"
        head += [(f"{zero_shot}, the model's {pick} ({percent(p_pred)}).", False)]
    else:
        verb = "picks" if expl.zero_shot is not None else "predicts"
        head += [(f"{zero_shot} (the model {verb} ", False), (expl.predicted, True), (f", {percent(p_pred)}).", False)]
    return Caption(tuple(head), toward, against, f"{_zero_shot_note(expl)} {unknown_note(expl)}".strip())


def unknown_note(expl: Explanation) -> str:
    """A sentence naming the words the tokenizer did not know (read as its unknown token,
    so the model never saw them), or ""."""
    unknown = [w.text for w in expl.words if getattr(w, "unknown", False)]
    if not unknown:
        return ""
    shown = ", ".join(f'"{t if len(t) <= 24 else t[:23] + "…"}"' for t in unknown[:3])
    more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
    return f"Unknown to the tokenizer (the model saw only an unknown token there): {shown}{more}."


def _zero_shot_note(expl: Explanation) -> str:
    z = expl.zero_shot
    if z is None:
        return ""
    return (
        f'Each candidate label was scored as the hypothesis "{z.hypothesis_template}" after the text; the '
        "colours are on the text's words."
    )
