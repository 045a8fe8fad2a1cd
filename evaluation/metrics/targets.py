"""Goal attainment (*målopfyldelse*) for targets declared on indicators.

A target states a baseline, a goal, a direction and a deadline (*resultatkrav*). Its status is
``met``, ``not_met`` or ``undecidable`` with the reason in Danish:

* with an interval (an estimated effect, or a share with its number of persons), the target is
  met only when the whole 95 % interval lies on the goal's side, not met when the whole
  interval lies on the other side, and undecidable otherwise;
* with a figure without uncertainty (a count from a register), the figure is compared with the goal;
* with no result yet, the target is undecidable ("resultatet foreligger endnu ikke").

A target says nothing about cause: a level or a change reached may have happened without the
project. Only ``goal_type: effect`` compares with a control group.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from ..results import Estimate, Result, TargetResult

__all__ = ["evaluate_target", "goal_status", "main_term"]

_PREFERRED_TERMS = ("adjusted_difference", "difference_in_proportions", "difference_in_means", "att_overall", "did",
                    "twfe", "att", "ate", "ato")


def main_term(result: Result) -> Estimate:
    """The headline estimate of an effect result (adjusted difference when there is one)."""
    terms = {e.term: e for e in result.estimates}
    for t in _PREFERRED_TERMS:
        if t in terms:
            return terms[t]
    return result.estimates[0]


def goal_status(value: float, lo: float | None, hi: float | None, goal: float, direction: str) -> tuple[str, str]:
    """Compare a result (with optional interval) with a goal; return ``(status, reason in Danish)``."""
    if direction not in ("increase", "decrease"):
        raise ValueError(f"direction must be 'increase' or 'decrease', got {direction!r}")
    better = (lambda x: x >= goal) if direction == "increase" else (lambda x: x <= goal)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undecidable", "resultatet foreligger endnu ikke (eller er diskretioneret)"
    has_ci = lo is not None and hi is not None and not math.isnan(lo) and not math.isnan(hi)
    if not has_ci:
        if better(value):
            return "met", "resultatet når målet"
        return "not_met", "resultatet når ikke målet"
    if better(lo) and better(hi):
        return "met", "hele 95 %-sikkerhedsintervallet ligger på den rigtige side af målet"
    if not better(lo) and not better(hi):
        return "not_met", "hele 95 %-sikkerhedsintervallet ligger på den forkerte side af målet"
    side = "når målet" if better(value) else "når ikke målet"
    return "undecidable", (
        f"punktestimatet {side}, men sikkerhedsintervallet rummer både værdier, der opfylder, "
        "og værdier, der ikke opfylder målet"
    )


def _share_ci(p: float, n: int | None) -> tuple[float, float]:
    if n is None or n <= 0 or not (0.0 <= p <= 1.0):
        return float("nan"), float("nan")
    lo, hi = proportion_confint(round(p * n), n, alpha=0.05, method="wilson")
    return float(lo), float(hi)


def evaluate_target(indicator, declared, study, results: Mapping[str, Result]) -> TargetResult:
    """Evaluate the target of ``indicator`` (with an optional declared ``StudyTarget`` holding results)."""
    t = indicator.target
    label = indicator.label
    diag: dict[str, Any] = {"goal_type": t.goal_type, "direction": t.direction}
    est: Estimate
    extra: list[Estimate] = []
    if t.goal is None:  # a qualitative requirement: the declared assessment is the result
        if declared is not None and declared.assessment is not None:
            status = declared.assessment
            reason = declared.evidence or "vurderet kvalitativt"
        else:
            status, reason = "undecidable", "der foreligger endnu ingen vurdering"
        est = Estimate(term="assessment", estimate=float("nan"), method="qualitative assessment")
        observed = None
    elif t.goal_type == "effect":
        analysis_id = declared.analysis if declared is not None and declared.analysis else None
        if analysis_id is None:
            matching = [a.id for a in study.analyses if a.indicator == indicator.id]
            analysis_id = matching[0] if matching else None
        if analysis_id is None or analysis_id not in results:
            status, reason = "undecidable", "ingen analyse af indikatoren er erklæret"
            est = Estimate(term="effect", estimate=float("nan"), method="no analysis")
        else:
            e = main_term(results[analysis_id])
            status, reason = goal_status(e.estimate, e.ci_lower, e.ci_upper, t.goal, t.direction)
            est = Estimate(term="effect", estimate=e.estimate, std_error=e.std_error, statistic=e.statistic,
                           p_value=e.p_value, ci_lower=e.ci_lower, ci_upper=e.ci_upper, n=e.n,
                           method=f"effect from analysis '{analysis_id}': {e.method}",
                           n_treated=e.n_treated, n_control=e.n_control)
            diag["analysis"] = analysis_id
        observed = est.estimate
    else:
        observed = declared.observed if declared is not None else None
        n_obs = declared.n_observed if declared is not None else None
        baseline = t.baseline if t.baseline is not None else (declared.baseline if declared is not None else None)
        if observed is None:
            status, reason = "undecidable", "resultatet foreligger endnu ikke"
            est = Estimate(term=t.goal_type, estimate=float("nan"), method="no result yet")
        elif t.goal_type == "level":
            lo, hi = _share_ci(observed, n_obs) if indicator.unit == "andel" else (float("nan"), float("nan"))
            status, reason = goal_status(observed, lo, hi, t.goal, t.direction)
            method = "observed share, Wilson score interval" if not math.isnan(lo) else "observed figure (no interval: whole population or n unknown)"
            est = Estimate(term="level", estimate=float(observed), ci_lower=lo, ci_upper=hi, n=int(n_obs or 0), method=method)
            n_base = declared.n_baseline if declared is not None else None
            if baseline is not None and indicator.unit == "andel" and n_obs and n_base:
                # the change from baseline to follow-up, with a Newcombe interval (two independent measurements)
                dlo, dhi = confint_proportions_2indep(round(observed * n_obs), n_obs, round(baseline * n_base), n_base,
                                                      method="newcomb", compare="diff")
                extra.append(Estimate(term="change_from_baseline", estimate=float(observed - baseline), ci_lower=float(dlo),
                                      ci_upper=float(dhi), n=int(n_obs + n_base),
                                      method="difference of two independent shares (follow-up − baseline), Newcombe hybrid score interval"))
        else:  # relative change from baseline
            if baseline in (None, 0):
                status, reason = "undecidable", "der er ikke angivet et udgangspunkt (baseline) at måle ændringen fra"
                est = Estimate(term="relative_change", estimate=float("nan"), method="no baseline")
            else:
                rel = (observed - baseline) / baseline
                lo = hi = float("nan")
                n_base = declared.n_baseline if declared is not None else None
                method = "relative change (follow-up − baseline) / baseline, no interval (population figures)"
                if indicator.unit == "andel" and n_obs and n_base:
                    dlo, dhi = confint_proportions_2indep(round(observed * n_obs), n_obs, round(baseline * n_base), n_base,
                                                         method="newcomb", compare="diff")
                    lo, hi = float(dlo) / baseline, float(dhi) / baseline
                    method = "relative change of a share, Newcombe interval for the difference divided by the baseline"
                status, reason = goal_status(rel, lo, hi, t.goal, t.direction)
                est = Estimate(term="relative_change", estimate=float(rel), ci_lower=lo, ci_upper=hi,
                               n=int(n_obs or 0), method=method)
    return TargetResult(
        estimand=f"goal attainment for '{label}' ({t.goal_type}, {t.direction})",
        estimates=(est, *extra),
        diagnostics=diag,
        target_id=indicator.id,
        status=status,
        reason=reason,
        baseline=t.baseline,
        goal=t.goal,
        observed=observed if observed is None or not (isinstance(observed, float) and math.isnan(observed)) else None,
    )
