"""Goal attainment (*målopfyldelse*) for the targets declared on indicators.

A target states its kind (``goal_type``: a level, an absolute change from the baseline, a relative
change, an effect against a comparison group, or none at all), a goal, a direction and a deadline
(*resultatkrav*). Its status is ``met``, ``not_met`` or ``undecidable`` with the reason in Danish
(:func:`evaluation.metrics.targets.goal_status`), or ``no_target`` for an indicator followed without a
target (*intet måltal*):

* with an interval (an estimated effect, a level or change measured by a before/after analysis, or a
  share with its number of persons), the target is met only when the whole interval (95 %, or the analysis's own level) lies on the
  goal's side, not met when the whole interval lies on the other side, and undecidable otherwise;
* a census (``census: true``: the whole population is counted, not a sample) and a figure without
  uncertainty (a count from a register) are compared with the goal as they are, without an interval;
* with no result, the target is undecidable ("resultatet foreligger ikke").

Why an undecidable target could not be decided is kept in ``diagnostics["undecided_because"]``
(``interval``, ``no_result``, ``no_interval``, ``no_baseline``, ``no_assessment`` or ``assessed``), so
the report can say it in words that fit the deadline; where the figures come from is kept in
``diagnostics["provenance"]`` (the declared target's, else the analysed data source's).

A target says nothing about cause: a level or a change reached may have happened without the
project. Only ``goal_type: effect`` compares with a comparison group.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from evaluation._lazy import confint_proportions_2indep, proportion_confint

from evaluation.designs.family import get_family
from evaluation.metrics.targets import goal_status
from evaluation.results import Estimate, Result, TargetResult

__all__ = ["evaluate_target"]

NAN = float("nan")

#: the pre/post analysis term that decides a target of each kind
_LEVEL_TERMS = {"level": "follow_up_level", "absolute_change": "change", "relative_change": "relative_change"}
#: the other pre/post terms reported alongside, under the target's own names
_EXTRA_TERMS = (("change", "change_from_baseline"), ("baseline_level", "baseline_level"),
                ("relative_change", "relative_change_from_baseline"))


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _share_ci(p: float, n: int | None) -> tuple[float, float]:
    if n is None or n <= 0 or not (0.0 <= p <= 1.0):
        return NAN, NAN
    lo, hi = proportion_confint(round(p * n), n, alpha=0.05, method="wilson")
    return float(lo), float(hi)


def _diff_ci(observed: float, n_obs: int | None, baseline: float, n_base: int | None) -> tuple[float, float]:
    """Newcombe's hybrid score interval for the difference of two independent shares (follow-up − baseline)."""
    if not n_obs or not n_base:
        return NAN, NAN
    lo, hi = confint_proportions_2indep(round(observed * n_obs), n_obs, round(baseline * n_base), n_base,
                                        method="newcomb", compare="diff")
    return float(lo), float(hi)


def _level_analysis(indicator, declared, study) -> str | None:
    """The id of the analysis that measures the levels deciding a level or change target, if any.

    The declared target's ``analysis`` when its design measures levels before and after, else the
    first such analysis of the same indicator in ``study.analyses``.
    """
    if indicator.target.goal_type not in _LEVEL_TERMS or study is None:
        return None
    analyses = {a.id: a for a in getattr(study, "analyses", [])}
    if declared is not None and declared.analysis:
        a = analyses.get(declared.analysis)
        return a.id if a is not None and get_family(a.design).measures_levels else None
    matching = [a.id for a in analyses.values() if a.indicator == indicator.id and get_family(a.design).measures_levels]
    return matching[0] if matching else None


def _provenance(declared, study, analysis_id: str | None) -> str | None:
    """Where the target's figures come from: the declared target's provenance, else the analysed data source's."""
    if declared is not None and getattr(declared, "provenance", None):
        return declared.provenance
    if analysis_id and study is not None:
        a = next((x for x in getattr(study, "analyses", []) if x.id == analysis_id), None)
        src = getattr(study, "data", {}).get(getattr(a, "data", None)) if a is not None else None
        return getattr(src, "provenance", None)
    return None


def _decide(value: float, lo: float, hi: float, t, level: float = 0.95) -> tuple[str, str, str | None]:
    """(status, reason, why undecided) of a value with an optional interval (at ``level``) against the target's goal."""
    status, reason = goal_status(value, lo, hi, t.goal, t.direction, level)
    if status != "undecidable":
        return status, reason, None
    if _missing(value):
        return status, reason, "no_result"
    if _missing(lo) or _missing(hi):
        return status, "resultatet har intet sikkerhedsinterval, så det kan ikke afgøres, om målet er nået", "no_interval"
    return status, reason, "interval"


def evaluate_target(indicator, declared, study, results: Mapping[str, Result]) -> TargetResult:
    """Evaluate the target of ``indicator`` (with an optional declared ``StudyTarget`` holding results).

    For a ``level``, ``absolute_change`` or ``relative_change`` target whose indicator is analysed with a
    design that measures levels before and after (``pre_post``; named by the declared target's
    ``analysis``, or the first such analysis of the indicator), the analysis' ``follow_up_level``,
    ``change`` or ``relative_change`` with its interval decides the status, and the other terms are
    reported alongside. Otherwise the declared figures (``baseline``, ``observed``, ``n_observed``,
    ``n_baseline``) are used. A census target is decided on the point figure alone.
    """
    t = indicator.target
    label = indicator.label
    census = bool(getattr(t, "census", False))
    share = indicator.unit == "andel"
    diag: dict[str, Any] = {"goal_type": t.goal_type, "direction": t.direction, "census": census}
    est: Estimate
    extra: list[Estimate] = []
    why: str | None = None
    level = 0.95  # declared figures get 95 % intervals; a target read from an analysis takes the analysis's level
    analysis_for_source: str | None = None
    baseline_shown: float | None = t.baseline if t.baseline is not None else (
        declared.baseline if declared is not None and getattr(declared, "baseline", None) is not None else None)
    if t.goal_type == "none":  # followed without a target: the figure is shown, no status
        observed = declared.observed if declared is not None else None
        n_obs = declared.n_observed if declared is not None else None
        lo, hi = _share_ci(observed, n_obs) if (share and observed is not None and not census) else (NAN, NAN)
        status = "no_target"
        reason = (declared.evidence if declared is not None and getattr(declared, "evidence", None)
                  else "der er ikke sat et måltal for indikatoren")
        est = Estimate(term="level", estimate=NAN if observed is None else float(observed), ci_lower=lo, ci_upper=hi,
                       n=int(n_obs or 0), method="observed figure, no target" + (", Wilson score interval" if not math.isnan(lo) else ""))
    elif t.goal is None:  # a qualitative requirement: the declared assessment is the result
        if declared is not None and declared.assessment is not None:
            status = declared.assessment
            reason = declared.evidence or "vurderet kvalitativt"
            why = "assessed" if status == "undecidable" else None
        else:
            status, reason, why = "undecidable", "der foreligger ingen vurdering", "no_assessment"
        est = Estimate(term="assessment", estimate=NAN, method="qualitative assessment")
        observed = None
    elif t.goal_type == "effect":
        analysis_id = declared.analysis if declared is not None and declared.analysis else None
        if analysis_id is None:
            matching = [a.id for a in study.analyses if a.indicator == indicator.id]
            analysis_id = matching[0] if matching else None
        if analysis_id is None or analysis_id not in results:
            status, reason, why = "undecidable", "ingen analyse af indikatoren er erklæret", "no_result"
            est = Estimate(term="effect", estimate=NAN, method="no analysis")
        else:
            res = results[analysis_id]
            e = get_family(res.design).main_term(res)
            level = res.conf_level
            status, reason, why = _decide(e.estimate, e.ci_lower, e.ci_upper, t, level)
            est = Estimate(term="effect", estimate=e.estimate, std_error=e.std_error, statistic=e.statistic,
                           p_value=e.p_value, ci_lower=e.ci_lower, ci_upper=e.ci_upper, n=e.n,
                           method=f"effect from analysis '{analysis_id}': {e.method}",
                           n_treated=e.n_treated, n_control=e.n_control)
            diag["analysis"] = analysis_for_source = analysis_id
        observed = est.estimate
    elif (pp := _level_analysis(indicator, declared, study)) is not None:
        analysis_id = analysis_for_source = pp
        diag["analysis"] = analysis_id
        res = results.get(analysis_id)
        term = _LEVEL_TERMS[t.goal_type]
        if res is None:
            status, reason, why = "undecidable", f"resultatet fra analysen «{analysis_id}» foreligger ikke", "no_result"
            est = Estimate(term=t.goal_type, estimate=NAN, method=f"no result from analysis '{analysis_id}'")
            observed = None
        else:
            e = res.estimate_for(term)
            level = res.conf_level
            lo, hi = (NAN, NAN) if census else (e.ci_lower, e.ci_upper)
            status, reason, why = _decide(e.estimate, lo, hi, t, level)
            if census and status != "undecidable":
                reason = "hele populationen er opgjort (totaltælling), så tallet sammenlignes direkte med målet"
            method = f"{term} from pre/post analysis '{analysis_id}': {e.method}"
            est = Estimate(term=t.goal_type, estimate=e.estimate, std_error=NAN if census else e.std_error,
                           statistic=NAN if census else e.statistic, p_value=NAN if census else e.p_value,
                           ci_lower=lo, ci_upper=hi, n=e.n,
                           method=("census: compared without a sampling interval; " if census else "") + method)
            for src, name in _EXTRA_TERMS:
                if src == term:
                    continue
                x = res.estimate_for(src)
                extra.append(Estimate(term=name, estimate=x.estimate, std_error=NAN if census else x.std_error,
                                      statistic=NAN if census else x.statistic, p_value=NAN if census else x.p_value,
                                      ci_lower=NAN if census else x.ci_lower, ci_upper=NAN if census else x.ci_upper,
                                      n=x.n, method=f"{src} from pre/post analysis '{analysis_id}': {x.method}"))
            observed = e.estimate
            b = res.estimate_for("baseline_level").estimate
            f = res.estimate_for("follow_up_level").estimate
            measured_baseline = None if math.isnan(b) else float(b)
            baseline_shown = measured_baseline if measured_baseline is not None else baseline_shown
            diag.update({"baseline_label": res.diagnostics.get("baseline"), "follow_up_label": res.diagnostics.get("follow_up"),
                         "pairing": res.diagnostics.get("pairing"), "measured_baseline": measured_baseline,
                         "follow_up_level": None if math.isnan(f) else float(f),
                         "evidence_level": getattr(res, "evidence_level", None)})
    else:
        observed = declared.observed if declared is not None else None
        n_obs = declared.n_observed if declared is not None else None
        n_base = declared.n_baseline if declared is not None else None
        baseline = baseline_shown
        sampled = share and not census  # only a sampled share has a sampling interval here
        if observed is None:
            status, reason, why = "undecidable", "resultatet foreligger ikke", "no_result"
            est = Estimate(term=t.goal_type, estimate=NAN, method="no result")
        elif t.goal_type == "level":
            lo, hi = _share_ci(observed, n_obs) if sampled else (NAN, NAN)
            status, reason, why = _decide(float(observed), lo, hi, t)
            method = ("observed share, Wilson score interval" if not math.isnan(lo) else
                      "census: observed figure of the whole population, no sampling interval" if census else
                      "observed figure (no interval: whole population or n unknown)")
            est = Estimate(term="level", estimate=float(observed), ci_lower=lo, ci_upper=hi, n=int(n_obs or 0), method=method)
            if baseline is not None:
                dlo, dhi = _diff_ci(observed, n_obs, baseline, n_base) if sampled else (NAN, NAN)
                extra.append(Estimate(term="change_from_baseline", estimate=float(observed - baseline), ci_lower=dlo,
                                      ci_upper=dhi, n=int((n_obs or 0) + (n_base or 0)),
                                      method="difference of two independent shares (follow-up − baseline), Newcombe hybrid "
                                             "score interval" if not math.isnan(dlo) else "follow-up − baseline, no interval"))
        elif baseline is None or (t.goal_type == "relative_change" and baseline == 0):
            status, reason, why = "undecidable", "der er ikke angivet et udgangspunkt (baseline) at måle ændringen fra", "no_baseline"
            est = Estimate(term=t.goal_type, estimate=NAN, method="no baseline")
        elif t.goal_type == "absolute_change":
            dlo, dhi = _diff_ci(observed, n_obs, baseline, n_base) if sampled else (NAN, NAN)
            change = float(observed - baseline)
            status, reason, why = _decide(change, dlo, dhi, t)
            est = Estimate(term="absolute_change", estimate=change, ci_lower=dlo, ci_upper=dhi, n=int((n_obs or 0) + (n_base or 0)),
                           method="change (follow-up − baseline), Newcombe hybrid score interval" if not math.isnan(dlo)
                           else "change (follow-up − baseline), no interval (population figures)")
        else:  # relative change from baseline
            rel = (observed - baseline) / baseline
            lo = hi = NAN
            method = "relative change (follow-up − baseline) / baseline, no interval (population figures)"
            if sampled and n_obs and n_base:
                dlo, dhi = _diff_ci(observed, n_obs, baseline, n_base)
                lo, hi = dlo / baseline, dhi / baseline
                method = "relative change of a share, Newcombe interval for the difference divided by the baseline"
            status, reason, why = _decide(float(rel), lo, hi, t)
            est = Estimate(term="relative_change", estimate=float(rel), ci_lower=lo, ci_upper=hi,
                           n=int(n_obs or 0), method=method)
        if census and status in ("met", "not_met"):
            reason = "hele populationen er opgjort (totaltælling), så tallet sammenlignes direkte med målet"
    diag["undecided_because"] = why if status == "undecidable" else None
    diag["provenance"] = _provenance(declared, study, analysis_for_source)
    if declared is not None and getattr(declared, "observed", None) is not None and t.goal_type != "effect":
        diag["observed_figure"] = float(declared.observed)
    if declared is not None and getattr(declared, "measured_at", None) is not None:
        diag["measured_at"] = str(declared.measured_at)
    return TargetResult(
        estimand=f"goal attainment for '{label}' ({t.goal_type}, {t.direction})",
        estimates=(est, *extra),
        conf_level=level,
        diagnostics=diag,
        target_id=indicator.id,
        status=status,
        reason=reason,
        baseline=baseline_shown,
        goal=t.goal,
        observed=observed if observed is None or not (isinstance(observed, float) and math.isnan(observed)) else None,
    )
