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

PRESENT = 0.5  # a sigmoid head's label is present above this probability (as the pipeline reads it)


@dataclass(frozen=True)
class Caption:
    """``sentence``: ((text, is_label), ...) - what is explained and what the model says;
    ``toward``/``against``: what an orange/blue word is; ``note``: a second sentence or ""."""

    sentence: tuple
    toward: str
    against: str
    note: str = ""

    def text(self) -> str:
        """One plain line (terminal, SVG, logs)."""
        return " ".join(p for p in (self.plain_sentence(), self.key(), self.note) if p)

    def plain_sentence(self) -> str:
        """The first sentence alone, plain."""
        return self._sentence(str, str)

    def key(self) -> str:
        return f"Orange: {self.toward}. Blue: {self.against}."

    def markdown(self) -> str:
        esc = lambda s: escape.markdown(s, inline=True)
        parts = [self._sentence(esc, lambda s: f"**{esc(s)}**"),
                 f"**Orange**: {esc(self.toward)}. **Blue**: {esc(self.against)}."]
        return " ".join(parts + ([esc(self.note)] if self.note else []))

    def html(self) -> str:
        esc = lambda s: escape.html(s, quote=False)
        parts = [self._sentence(esc, lambda s: f"<strong>{esc(s)}</strong>"),
                 f"<strong>Orange</strong>: {esc(self.toward)}. <strong>Blue</strong>: {esc(self.against)}."]
        return " ".join(parts + ([esc(self.note)] if self.note else []))

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
    """What the colours of ``expl`` mean: the label explained, the model's answer, and
    what orange and blue stand for."""
    t, c = expl.target, expl.contrast
    p_target = expl.probabilities.get(t)
    zero_shot = " among the candidate labels" if expl.zero_shot is not None else ""
    if expl.head == "regression":
        value = next(iter(expl.probabilities.values()), float("nan"))
        return Caption((("Explaining the predicted value of ", False), (t, True), (f": {value:.4g}.", False)),
                       "pushes the value up", "pushes it down")
    if expl.head == "sigmoid" and len(expl.labels) == 1:
        return Caption((("Explaining ", False), (t, True), (f": score {percent(p_target or 0.0)} (the sigmoid of the "
                                                               "model's one output).", False)),
                       "pushes the score up", "pushes it down")
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
        note = (f"Labels present (> 50%): {listed}. Each label is scored on its own, so the scores are "
                "independent and need not add up to 100%.")
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
    shown = ", ".join(f"\"{t if len(t) <= 24 else t[:23] + '…'}\"" for t in unknown[:3])
    more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
    return (f"Unknown to the tokenizer (the model saw only an unknown token there): {shown}{more}.")


def _zero_shot_note(expl: Explanation) -> str:
    z = expl.zero_shot
    if z is None:
        return ""
    return (f"Each candidate label was scored as the hypothesis \"{z.hypothesis_template}\" after the text; the "
            "colours are on the text's words.")
