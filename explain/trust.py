"""Can I trust this explanation? A plain-language summary of the checks beside a result:
completeness (the arithmetic), faithfulness against random words (does the model really
use the top words?) and baseline dependence (does the story change with the reference?).

The wording lives here so the app, the CLI and the API say the same thing. Thresholds
are rules of thumb, stated in the sentences, not statistical tests."""

from __future__ import annotations

import html
import math
from typing import Optional

from .result import Explanation

PASS, WARN, FAIL, NOT_RUN = "pass", "warn", "fail", "not run"
AGREE, PARTLY = 0.7, 0.4  # lowest Kendall tau between baselines: agree at >= AGREE, differ below PARTLY
MIN_GAIN = 0.01  # comprehensiveness must beat random by more than this (probability units) and one sd
CURVES = {"deletion": "deletion (top words)", "random_deletion": "deletion (random words)",
          "insertion": "insertion (top words)", "random_insertion": "insertion (random words)"}
_MARK = {PASS: "**✓ pass**", WARN: "**! caution**", FAIL: "**✗ fail**", NOT_RUN: "**– not run**"}


def trust_summary(expl: Explanation, baselines: Optional[dict] = None) -> list[dict]:
    """One item per check: ``{"check", "status" (pass/warn/fail/not run), "text"}``.
    Reads ``expl.extras["faithfulness"]`` and the baseline comparison (``baselines`` or
    ``expl.extras["baselines"]``) when they were computed."""
    comparison = baselines if baselines is not None else expl.extras.get("baselines")
    return [_completeness(expl), _faithfulness(expl.extras.get("faithfulness")), _baselines(comparison)]


def with_trust(expl: Explanation, baselines: Optional[dict] = None) -> Explanation:
    """``expl`` with the comparison (if given) and the summary in its extras (for the JSON)."""
    extras = dict(expl.extras)
    if baselines is not None:
        extras["baselines"] = baselines
    extras["trust"] = trust_summary(expl, baselines)
    return expl.replace(extras=extras)


def trust_markdown(items: list[dict]) -> str:
    """The summary as a short Markdown list (user text inside is HTML-escaped)."""
    ran = [i for i in items if i["status"] != NOT_RUN]
    good = sum(i["status"] == PASS for i in ran)
    head = f"**Can I trust this?** {good} of {len(ran)} check{'s' if len(ran) != 1 else ''} passed"
    lines = [head] + [f"- {_MARK[i['status']]} {html.escape(i['text'], quote=False)}" for i in items]
    return "\n".join(lines)


def comparison_markdown(comparison: Optional[dict]) -> str:
    """The baseline comparison as Markdown: each baseline's strongest words, then the
    pairwise rank agreement. Empty string when there is none."""
    if not comparison:
        return ""
    lines = [f"**Baselines compared** (explaining {html.escape(comparison['explained'], quote=False)})", "",
             "| baseline | completeness error | strongest words |", "|---|---|---|"]
    for b in comparison["baselines"]:
        words = ", ".join(f"{_cell(t)} ({s:+.3f})" for t, s in b["top_words"][:3])
        lines.append(f"| {_cell(b['baseline'])} | {b['completeness_error']:.1e} | {words} |")
    if comparison["pairs"]:
        lines += ["", "| pair | Kendall tau | Spearman |", "|---|---|---|"]
        for p in comparison["pairs"]:
            lines.append(f"| {_cell(p['a'])} vs {_cell(p['b'])} | {p['kendall_tau']:.2f} | {p['spearman']:.2f} |")
    for s in comparison.get("skipped", []):
        if s.get("duplicate"):
            continue
        lines.append(f"\n_{_cell(s['baseline'])} not run: {_cell(s['reason'])}_")
    return "\n".join(lines)


def _cell(text: str) -> str:
    """User or tokenizer text, inert inside a Markdown table."""
    out = html.escape(str(text), quote=False)
    for ch in "\\|*_`[]":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ")


def curve_rows(expl: Explanation) -> list[dict]:
    """The faithfulness curves in long form ``{"percent", "value", "curve"}`` for a plot;
    empty when they were not computed."""
    report = expl.extras.get("faithfulness") or {}
    curve = report.get("curve")
    if not curve:
        return []
    rows = []
    for key, label in CURVES.items():
        for frac, value in zip(curve["fraction"], curve.get(key) or []):
            rows.append({"percent": round(100 * frac, 2), "value": value, "curve": label})
    return rows


def _completeness(expl: Explanation) -> dict:
    err, tol = expl.completeness_error, expl.tolerance
    if expl.converged and err <= tol:
        text = (f"Completeness met: the word scores add up to the change in {expl.explained} from the "
                f"baseline to your text within {100 * err:.2g}% (tolerance {tol:.0%}). This checks the "
                "arithmetic, not whether the model relies on these words.")
        return {"check": "completeness", "status": PASS, "text": text}
    text = (f"Completeness NOT met: the word scores miss the change in {expl.explained} by {err:.1%} "
            f"(tolerance {tol:.0%}); use more integration steps before trusting small differences.")
    return {"check": "completeness", "status": FAIL, "text": text}


def _faithfulness(report: Optional[dict]) -> dict:
    if not report:
        return {"check": "faithfulness", "status": NOT_RUN,
                "text": "Faithfulness not checked: turn on the faithfulness check (API: faithfulness=True) "
                        "to test whether removing the top words changes the prediction more than removing "
                        "random words."}
    if report.get("skipped"):
        return {"check": "faithfulness", "status": NOT_RUN, "text": report["skipped"]}
    comp, suff = report["comprehensiveness"], report["sufficiency"]
    rand = report["random"]
    r_comp, r_sd, r_suff = rand["comprehensiveness"], rand.get("comprehensiveness_std"), rand["sufficiency"]
    what = report["measured"]
    scale = 1.0 if report.get("head") != "regression" else max(abs(report["full"]), abs(report["empty"]),
                                                                   abs(report["full"] - report["empty"]), 1e-12)
    noise = max(r_sd or 0.0, MIN_GAIN * scale)
    gain = comp - r_comp
    numbers = (f"removing the top-ranked words lowers {what} by {comp:.3f} on average over the ERASER "
               f"bins (AOPC comprehensiveness), random words by {r_comp:.3f}"
               + (f" (sd {r_sd:.3f} over {rand['permutations']} orders)" if r_sd is not None else "")
               + f". Sufficiency (full text minus top words only; lower is better): {suff:.3f}, "
               f"random {r_suff:.3f}.")
    if gain > noise:
        status, verdict = PASS, "Faithful: the highlighted words matter to the model more than random ones"
    elif gain > 0:
        status, verdict = WARN, "Barely better than random: read the ranking with care"
    else:
        status, verdict = FAIL, "Not faithful: the top-ranked words matter no more than random ones"
    return {"check": "faithfulness", "status": status, "text": f"{verdict} - {numbers}"}


def _baselines(comparison: Optional[dict]) -> dict:
    if not comparison:
        return {"check": "baselines", "status": NOT_RUN,
                "text": "Baseline dependence not checked: turn on 'compare baselines' to see whether the "
                        "ranking changes with the reference token (mask / pad / unk)."}
    pairs = [p for p in comparison.get("pairs", []) if not math.isnan(p["kendall_tau"])]
    if not pairs:
        return {"check": "baselines", "status": NOT_RUN,
                "text": "Baseline dependence not checked: this tokenizer offers only one usable baseline token."}
    worst = min(pairs, key=lambda p: p["kendall_tau"])
    tau = worst["kendall_tau"]
    detail = f"lowest Kendall tau {tau:.2f} ({worst['a']} vs {worst['b']}; {len(pairs)} pair(s))"
    if tau >= AGREE:
        return {"check": "baselines", "status": PASS,
                "text": f"Baselines agree: the word ranking hardly depends on the reference token - {detail}."}
    if tau >= PARTLY:
        return {"check": "baselines", "status": WARN,
                "text": f"Baselines partly agree: the strongest words are likely stable, the rest less so - "
                        f"{detail}."}
    return {"check": "baselines", "status": FAIL,
            "text": f"Baselines disagree: the story depends on the reference token, so read the scores as "
                    f"relative to that choice - {detail}."}
