"""Can I trust this explanation? A plain-language summary of the checks beside a result:
completeness (the arithmetic), faithfulness against random words (does the model really
use the top words?) and baseline dependence (does the story change with the reference?).

The verdicts live here so the app, the CLI and the API say the same thing (rendered by
``explain.render``). Thresholds are rules of thumb, stated in the sentences, not
statistical tests."""

from __future__ import annotations

import math
from typing import Optional, get_args

from ..result import BaselineComparison, Explanation, FaithfulnessReport, Status, TrustCheck

PASS, WARN, FAIL, NOT_RUN = get_args(Status)
AGREE, PARTLY = 0.7, 0.4  # lowest Kendall tau between baselines: agree at >= AGREE, differ below PARTLY
MIN_GAIN = 0.01  # comprehensiveness must beat random by more than this (probability units) and one sd


def trust_summary(expl: Explanation, baselines: Optional[BaselineComparison] = None) -> tuple:
    """One TrustCheck per check (completeness, faithfulness, baselines). Reads
    ``expl.extras.faithfulness`` and the baseline comparison (``baselines`` or
    ``expl.extras.baselines``) when they were computed."""
    comparison = baselines if baselines is not None else expl.extras.baselines
    return (_completeness(expl), _faithfulness(expl.extras.faithfulness), _baselines(comparison))


def with_trust(expl: Explanation, baselines: Optional[BaselineComparison] = None) -> Explanation:
    """``expl`` with the comparison (if given) and the summary in its extras (for the JSON)."""
    if baselines is not None:
        expl = expl.with_extras(baselines=baselines)
    return expl.with_extras(trust=trust_summary(expl))


def _completeness(expl: Explanation) -> TrustCheck:
    err, tol = expl.completeness_error, expl.tolerance
    change = ""
    if expl.f_input is not None and expl.f_baseline is not None:
        change = f" ({expl.f_baseline:+.3f} at the baseline, {expl.f_input:+.3f} for your text)"
    if expl.converged and err <= tol:
        text = (
            f"Completeness met: the word scores add up to the change in {expl.explained}{change} from the "
            f"baseline to your text within {100 * err:.2g}% (tolerance {tol:.0%}). This checks the "
            "arithmetic, not whether the model relies on these words."
        )
        return TrustCheck("completeness", PASS, text)
    text = (
        f"Completeness NOT met: the word scores miss the change in {expl.explained}{change} by {err:.1%} "
        f"(tolerance {tol:.0%}); use more integration steps before trusting small differences."
    )
    return TrustCheck("completeness", FAIL, text)


def _faithfulness(report: Optional[FaithfulnessReport]) -> TrustCheck:
    if not report:
        return TrustCheck(
            "faithfulness",
            NOT_RUN,
            "Faithfulness not checked: turn on the faithfulness check (API: faithfulness=True) "
            "to test whether removing the top words changes the prediction more than removing "
            "random words.",
        )
    if report.skipped:
        return TrustCheck("faithfulness", NOT_RUN, report.skipped)
    comp, suff = report.comprehensiveness, report.sufficiency
    rand = report.random
    r_comp, r_sd, r_suff = rand.comprehensiveness, rand.comprehensiveness_std, rand.sufficiency
    what = report.measured
    scale = (
        1.0
        if report.head != "regression"
        else max(abs(report.full), abs(report.empty), abs(report.full - report.empty), 1e-12)
    )
    noise = max(r_sd or 0.0, MIN_GAIN * scale)
    gain = comp - r_comp
    numbers = (
        f"removing the top-ranked words lowers {what} by {comp:.3f} on average over the ERASER "
        f"bins (AOPC comprehensiveness), random words by {r_comp:.3f}"
        + (f" (sd {r_sd:.3f} over {rand.permutations} orders)" if r_sd is not None else "")
        + f". Sufficiency (full text minus top words only; lower is better): {suff:.3f}, "
        f"random {r_suff:.3f}."
    )
    if gain > noise:
        status, verdict = PASS, "Faithful: the highlighted words matter to the model more than random ones"
    elif gain > 0:
        status, verdict = WARN, "Barely better than random: read the ranking with care"
    else:
        status, verdict = FAIL, "Not faithful: the top-ranked words matter no more than random ones"
    return TrustCheck("faithfulness", status, f"{verdict} - {numbers}")


def _baselines(comparison: Optional[BaselineComparison]) -> TrustCheck:
    if not comparison:
        return TrustCheck(
            "baselines",
            NOT_RUN,
            "Baseline dependence not checked: turn on 'compare baselines' to see whether the "
            "ranking changes with the reference token (mask / pad / unk).",
        )
    pairs = [p for p in comparison.pairs if not math.isnan(p.kendall_tau)]
    if not pairs:
        return TrustCheck(
            "baselines", NOT_RUN, "Baseline dependence not checked: this tokenizer offers only one usable baseline token."
        )
    worst = min(pairs, key=lambda p: p.kendall_tau)
    tau = worst.kendall_tau
    detail = f"lowest Kendall tau {tau:.2f} ({worst.a} vs {worst.b}; {len(pairs)} pair(s))"
    if tau >= AGREE:
        return TrustCheck(
            "baselines", PASS, f"Baselines agree: the word ranking hardly depends on the reference token - {detail}."
        )
    if tau >= PARTLY:
        return TrustCheck(
            "baselines", WARN, f"Baselines partly agree: the strongest words are likely stable, the rest less so - {detail}."
        )
    return TrustCheck(
        "baselines",
        FAIL,
        f"Baselines disagree: the story depends on the reference token, so read the scores as "
        f"relative to that choice - {detail}.",
    )
