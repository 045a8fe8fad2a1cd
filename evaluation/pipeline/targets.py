"""Goal attainment (*målopfyldelse*) for the targets declared on indicators.

A target states a baseline, a goal, a direction and a deadline (*resultatkrav*). Its status is
``met``, ``not_met`` or ``undecidable`` with the reason in Danish
(:func:`evaluation.metrics.targets.goal_status`):

* with an interval (an estimated effect, a level measured by a before/after analysis, or a share
  with its number of persons), the target is met only when the whole 95 % interval lies on the
  goal's side, not met when the whole interval lies on the other side, and undecidable otherwise;
* with a figure without uncertainty (a count from a register), the figure is compared with the goal;
* with no result yet, the target is undecidable ("resultatet foreligger endnu ikke").

A target says nothing about cause: a level or a change reached may have happened without the
project. Only ``goal_type: effect`` compares with a control group.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from evaluation.designs.family import get_family
from evaluation.metrics.targets import goal_status
from evaluation.results import Estimate, Result, TargetResult

__all__ = ["evaluate_target"]


def _share_ci(p: float, n: int | None) -> tuple[float, float]:
    if n is None or n <= 0 or not (0.0 <= p <= 1.0):
        return float("nan"), float("nan")
    lo, hi = proportion_confint(round(p * n), n, alpha=0.05, method="wilson")
    return float(lo), float(hi)


def _level_analysis(indicator, declared, study) -> str | None:
    """The id of the analysis that measures the levels deciding a level or relative-change target, if any.

    The declared target's ``analysis`` when its design measures levels before and after, else the
    first such analysis of the same indicator in ``study.analyses``.
    """
    if indicator.target.goal_type not in ("level", "relative_change") or study is None:
        return None
    analyses = {a.id: a for a in getattr(study, "analyses", [])}
    if declared is not None and declared.analysis:
        a = analyses.get(declared.analysis)
        return a.id if a is not None and get_family(a.design).measures_levels else None
    matching = [a.id for a in analyses.values() if a.indicator == indicator.id and get_family(a.design).measures_levels]
    return matching[0] if matching else None


def _shown_baseline(t, diag: Mapping[str, Any]) -> float | None:
    """The measured baseline of a before/after analysis when there is one, else the declared baseline."""
    measured = diag.get("measured_baseline")
    return measured if measured is not None else t.baseline


def evaluate_target(indicator, declared, study, results: Mapping[str, Result]) -> TargetResult:
    """Evaluate the target of ``indicator`` (with an optional declared ``StudyTarget`` holding results).

    For a ``level`` or ``relative_change`` target whose indicator is analysed with a design that
    measures levels before and after (``pre_post``; named by the declared target's ``analysis``,
    or the first such analysis of the indicator), the analysis' ``follow_up_level`` or
    ``relative_change`` with its interval decides the status, and the change from the measured
    baseline is reported alongside. Otherwise the declared figures (``observed``, ``n_observed``)
    are used.
    """
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
            res = results[analysis_id]
            e = get_family(res.design).main_term(res)
            status, reason = goal_status(e.estimate, e.ci_lower, e.ci_upper, t.goal, t.direction)
            est = Estimate(term="effect", estimate=e.estimate, std_error=e.std_error, statistic=e.statistic,
                           p_value=e.p_value, ci_lower=e.ci_lower, ci_upper=e.ci_upper, n=e.n,
                           method=f"effect from analysis '{analysis_id}': {e.method}",
                           n_treated=e.n_treated, n_control=e.n_control)
            diag["analysis"] = analysis_id
        observed = est.estimate
    elif (pp := _level_analysis(indicator, declared, study)) is not None:
        analysis_id = pp
        diag["analysis"] = analysis_id
        res = results.get(analysis_id)
        if res is None:
            status, reason = "undecidable", f"resultatet fra analysen «{analysis_id}» foreligger endnu ikke"
            est = Estimate(term=t.goal_type, estimate=float("nan"), method=f"no result yet from analysis '{analysis_id}'")
            observed = None
        else:
            term = "follow_up_level" if t.goal_type == "level" else "relative_change"
            e = res.estimate_for(term)
            status, reason = goal_status(e.estimate, e.ci_lower, e.ci_upper, t.goal, t.direction)
            if status == "undecidable" and not math.isnan(e.estimate) and (math.isnan(e.ci_lower) or math.isnan(e.ci_upper)):
                reason = "resultatet har intet sikkerhedsinterval, så det kan ikke afgøres, om målet er nået"
            est = Estimate(term=t.goal_type, estimate=e.estimate, std_error=e.std_error, statistic=e.statistic,
                           p_value=e.p_value, ci_lower=e.ci_lower, ci_upper=e.ci_upper, n=e.n,
                           method=f"{term} from pre/post analysis '{analysis_id}': {e.method}")
            for src, name in (("change", "change_from_baseline"), ("baseline_level", "baseline_level"),
                              ("relative_change", "relative_change_from_baseline")):
                if src == term:
                    continue
                x = res.estimate_for(src)
                extra.append(Estimate(term=name, estimate=x.estimate, std_error=x.std_error, statistic=x.statistic,
                                      p_value=x.p_value, ci_lower=x.ci_lower, ci_upper=x.ci_upper, n=x.n,
                                      method=f"{src} from pre/post analysis '{analysis_id}': {x.method}"))
            observed = e.estimate
            b = res.estimate_for("baseline_level").estimate
            measured_baseline = None if math.isnan(b) else float(b)
            diag.update({"baseline_label": res.diagnostics.get("baseline"), "follow_up_label": res.diagnostics.get("follow_up"),
                         "pairing": res.diagnostics.get("pairing"), "measured_baseline": measured_baseline,
                         "evidence_level": getattr(res, "evidence_level", None)})
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
        baseline=_shown_baseline(t, diag),
        goal=t.goal,
        observed=observed if observed is None or not (isinstance(observed, float) and math.isnan(observed)) else None,
    )
