"""Assumption checks of the difference-in-differences designs (registered in :mod:`evaluation.designs.checks`).

* ``pretrends`` (parallel trends): joint Wald test that the pre-enrolment event-time effects are zero;
* ``no_anticipation`` (no anticipation): the placebo with fake start dates, else the last pre-period effect;
* ``honest_did`` (parallel trends): Rambachan–Roth sensitivity — how large a post-enrolment violation of
  parallel trends, relative to the largest pre-enrolment one (M̄), the conclusion survives (breakdown
  value), with the smoothness (M) analysis beside it (:mod:`evaluation.designs.did._honest`).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd
from evaluation._lazy import stats

from evaluation.designs.checks import Check, CheckContext, CheckResult, register_check
from evaluation.designs.did import _honest as H
from evaluation.designs.did.report import honest_block
from evaluation.exceptions import EstimationError
from evaluation.presentation.formatting import fmt_number, fmt_p

__all__ = ["event_study_input", "PRE_WINDOW", "POST_WINDOW"]

#: event times used by the sensitivity analysis by default: the 4 pre-periods nearest enrolment and the
#: first 2 post-periods (with 2 post-periods the least-favourable critical value has an exact fast path; its cost grows steeply with the number of periods; ``params`` may widen it)
PRE_WINDOW, POST_WINDOW = 4, 2

_DID = ("did_cs", "did_twfe", "did_2x2")

_P_RULE = "holder når p ≥ 0,10; tvivlsom når 0,05 ≤ p < 0,10; brudt når p < 0,05"


def _p_status(p: float) -> str:
    return "holder" if p >= 0.10 else "tvivlsom" if p >= 0.05 else "brudt"


def event_study_input(ctx: CheckContext, *, pre_window: int = PRE_WINDOW, post_window: int = POST_WINDOW,
                      average: bool = True, post_period: int | None = None) -> tuple[H.HonestInput, list[int], str]:
    """The event-study coefficients of the analysis (reference period left out, universal base) as a
    HonestDiD input: (input, event times used, note in Danish).

    The parameter is the average of the first ``post_window`` post-enrolment effects, or, with ``post_period``
    (an event time ≥ 0), that period's effect alone: the post-periods from enrolment up to it enter the
    input (the restrictions bind the path of the violation up to it) and the weight vector picks it out."""
    res, inp = ctx.result, ctx.inp
    note = ""
    if ctx.inp.design == "did_twfe":
        if not res.internals.get("event_times"):
            raise EstimationError("den statiske TWFE-model har ingen før-perioder; angiv event_study: true")
        times = list(res.internals["event_times"])
        beta = np.array([res.estimate_for(f"e{t}").estimate for t in times])
        V = np.asarray(res.internals["vcov"])
    elif ctx.inp.design == "did_cs":
        internals = res.internals
        if internals.get("base_period") != "universal":
            # the post-enrolment effects do not depend on the base period; the pre-enrolment ones are then
            # contrasts with the period just before enrolment, as the sensitivity analysis needs
            est = ctx.family.estimator(inp.options, inp.outcome)
            est.base_period = "universal"
            refit = est.fit(inp.frame, **ctx.family.headline_fit(ctx.family.fit_kwargs(inp.fit)))
            internals = refit.internals
            note = "Beregnet med basisperiode «universal» (før-perioderne måles mod perioden lige før start)."
        times = list(internals["event_times"])
        beta = np.asarray(internals["event_estimates"], dtype=float)
        V = np.asarray(internals["vcov"])
        # universal base: the reference event time -1 - anticipation is exactly 0; leave it out
        ref = -1 - int(internals.get("anticipation", 0))
        keep = [i for i, t in enumerate(times) if t != ref]
        times = [times[i] for i in keep]
        beta, V = beta[keep], V[np.ix_(keep, keep)]
    else:
        raise EstimationError("designet har ingen hændelsesstudie med perioder før og efter start")
    pre = [i for i, t in enumerate(times) if t < 0][-pre_window:]
    if post_period is None:
        post = [i for i, t in enumerate(times) if t >= 0][:post_window]
    else:
        if post_period not in times:
            have = ", ".join(str(t) for t in times if t >= 0) or "ingen"
            raise EstimationError(f"hændelsesstudiet har ingen effekt i periode {post_period} efter start "
                                  f"(perioder efter start: {have})")
        post = [i for i, t in enumerate(times) if 0 <= t <= post_period]
    if not pre or not post:
        raise EstimationError("hændelsesstudiet mangler perioder før eller efter start")
    idx = pre + post
    if post_period is not None:
        l_vec = np.array([1.0 if times[i] == post_period else 0.0 for i in post])
    else:
        l_vec = np.full(len(post), 1 / len(post)) if average else None
    h = H.HonestInput.make(beta[idx], V[np.ix_(idx, idx)], len(pre), len(post), l_vec=l_vec)
    return h, [times[i] for i in idx], note


def _pretrends(ctx: CheckContext) -> CheckResult:
    d = ctx.result.diagnostics
    if ctx.inp.design == "did_cs":
        pt = d.get("pretrend_test") or {}
        p, df = pt.get("p_value"), pt.get("df")
        if p is None or not math.isfinite(p) or not df:
            raise EstimationError("der er ingen før-perioder at teste")
    else:
        h, times, _ = event_study_input(ctx, pre_window=10**6, post_window=1)
        b = h.betahat[:h.num_pre]
        V = h.sigma[:h.num_pre, :h.num_pre]
        W = float(b @ np.linalg.solve(V, b))
        df = h.num_pre
        p = float(stats.chi2.sf(W, df))
    status = _p_status(p)
    return CheckResult(
        status=status, number=float(p), number_label_da="p-værdi, fælles test af effekterne før start",
        rule_da=f"Fælles test af, at effekterne i de {df} perioder før start er 0; {_P_RULE}.",
        finding_da=(f"Før start afviger udviklingen {'ikke statistisk sikkert' if p >= 0.05 else 'statistisk sikkert'} "
                    f"mellem grupperne ({fmt_p(p)}). En test uden udslag beviser ikke parallelle tendenser: den har "
                    "begrænset styrke."),
        if_broken_da=("Hvis grupperne ikke ville have udviklet sig ens uden indsatsen, blander effekten indsatsen "
                      "sammen med forskellen i udvikling; se følsomhedsanalysen."),
        details={"df": int(df)},
    )


def _no_anticipation(ctx: CheckContext) -> CheckResult:
    res = ctx.result
    placebo = next((e for e in res.estimates if e.term.startswith("placebo_shift")), None)
    if placebo is not None and placebo.p_value is not None and math.isfinite(placebo.p_value):
        k = placebo.term[len("placebo_shift"):]
        p, what = float(placebo.p_value), f"placebotesten med falsk start {k} perioder før den rigtige"
        est = placebo.estimate
    else:
        tab = res.tables.get("event_study")
        base = res.diagnostics.get("base_period", "universal" if ctx.inp.design == "did_twfe" else None)
        target = -1 if base == "varying" else -2
        if tab is None or target not in set(tab["event_time"].tolist()):
            raise EstimationError("der er ingen periode før start at måle en forventningseffekt i")
        r = tab[tab["event_time"] == target].iloc[0]
        est, se = float(r["estimate"]), float(r["std_error"])
        if not (se > 0):
            raise EstimationError("standardfejlen for perioden før start mangler")
        p = float(2 * stats.norm.sf(abs(est / se)))
        what = ("ændringen i perioden lige før start" if target == -1
                else "forskellen mellem de to perioder lige før start")
    return CheckResult(
        status=_p_status(p), number=p, number_label_da="p-værdi",
        rule_da=f"Effekten målt i {what} skal være 0, når der ikke er forventningseffekt; {_P_RULE}.",
        finding_da=f"Effekten målt i {what} er {ctx.effect_text(est)} ({fmt_p(p)}).",
        if_broken_da=("Hvis borgerne ændrede sig allerede før start (forventning eller et dyk før optagelsen), "
                      "måles effekten mod et forkert udgangspunkt og kan være over- eller undervurderet."),
    )


def _honest(ctx: CheckContext) -> CheckResult:
    p = ctx.params
    k = p.get("post_period")
    h, times, note = event_study_input(ctx, pre_window=int(p.get("pre_window", PRE_WINDOW)),
                                       post_window=int(p.get("post_window", POST_WINDOW)),
                                       post_period=None if k is None else int(k))
    alpha = 1 - ctx.inp.fit.conf_level
    mbars = [0.0, 0.5, 1.0, 1.5, 2.0]
    rm = H.sensitivity(h, "relative_magnitudes", mbars, alpha=alpha)
    # smoothness: M in steps of a fifth of the largest pre-period change in slope (0 … 1x)
    pre = np.concatenate([h.betahat[:h.num_pre], [0.0]])
    curv = np.abs(np.diff(pre, 2)) if len(pre) >= 3 else np.abs(np.diff(pre))
    mmax = float(curv.max()) if curv.size and curv.max() > 0 else float(h.sd_theta)
    ms = [mmax * k / 4 for k in range(5)]
    sd = H.sensitivity(h, "smoothness", ms, alpha=alpha, breakdown_upper=2 * mmax)
    lo, hi = rm.original
    significant = not (lo <= 0 <= hi)
    bd = rm.breakdown
    level = f"{round(100 * (1 - alpha))} %"
    post_txt = (f"gennemsnittet af effekterne i de første {h.num_post} perioder efter start" if k is None
                else f"effekten i periode {int(k)} efter start" + (" (startperioden)" if int(k) == 0 else ""))
    at1 = next(r for r in rm.rows if r.m == 1.0)
    details: dict[str, Any] = {
        "parameter": post_txt, "post_period": None if k is None else int(k), "event_times": times, "num_pre": h.num_pre, "num_post": h.num_post,
        "theta": h.theta, "original": list(rm.original),
        "relative_magnitudes": {"Mbar": [r.m for r in rm.rows], "lb": [r.lb for r in rm.rows],
                                "ub": [r.ub for r in rm.rows], "breakdown": bd, "method": rm.method},
        "smoothness": {"M": [r.m for r in sd.rows], "lb": [r.lb for r in sd.rows], "ub": [r.ub for r in sd.rows],
                       "breakdown": sd.breakdown, "method": sd.method},
        "note": note,
    }
    rule = ("Følsomhedsanalyse efter Rambachan & Roth (2023): M̄ er, hvor mange gange større bruddet på parallelle "
            "tendenser efter start må være end det største brud mellem to perioder før start. Konklusionen holder "
            "når den statistisk sikre effekt består ved M̄ = 1 (brud lige så store som før start); tvivlsom når "
            "den forsvinder ved M̄ < 1.")
    if not significant:
        return CheckResult(
            status="kan_ikke_testes", number=None, rule_da=rule,
            finding_da=(f"Effekten ({post_txt}) er ikke statistisk sikker heller ikke under parallelle tendenser "
                        f"({level}-sikkerhedsinterval {ctx.effect_text(lo, hi)}); der er ingen konklusion at bryde. "
                        f"Ved M̄ = 1 er det robuste interval {ctx.effect_text(at1.lb, at1.ub)}."),
            if_broken_da="Konklusionen «ingen påviselig effekt» bliver ikke stærkere af brud på parallelle tendenser.",
            details=details)
    status = "holder" if bd >= 1.0 else "tvivlsom"
    bd_txt = (f"mindst {fmt_number(bd, 1)}" if bd >= 2.0 else fmt_number(bd, 2))
    return CheckResult(
        status=status, number=float(bd), number_label_da="nedbrydningsværdi M̄",
        rule_da=rule,
        finding_da=(f"Effekten ({post_txt}) er statistisk sikker, så længe bruddet efter start højst er {bd_txt} gange "
                    f"det største brud før start (nedbrydningsværdi). Ved M̄ = 1 er det robuste "
                    f"{level}-sikkerhedsinterval {ctx.effect_text(at1.lb, at1.ub)}."),
        if_broken_da=(f"Er bruddet på parallelle tendenser efter start mere end {bd_txt} gange det største før start, "
                      "kan effekten ikke skelnes fra 0."),
        details=details,
    )


def _needs_event_study(ctx: CheckContext) -> str | None:
    if ctx.inp.design == "did_2x2":
        return ("Med kun én periode før og én efter kan udviklingen før start ikke ses; parallelle tendenser kan "
                "ikke testes i data (kræver flere perioder før start).")
    if ctx.inp.design == "did_twfe" and not ctx.result.internals.get("event_times"):
        return ("Den statiske TWFE-model måler ikke effekter før start, så parallelle tendenser kan ikke testes med den; "
                "det kan en model med en effekt for hver periode (hændelsesstudie) eller Callaway–Sant'Anna.")
    return None


def _int_param(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _data_event_times(inp) -> list[int] | None:
    """The event times (period minus enrolment period) the analysis's data hold for enrolled persons, before
    estimating; None when the design has no event study. A TWFE event window caps them as its dummies do."""
    o, frame = inp.options, inp.frame
    cohort = getattr(o, "cohort", None)
    if frame is None or cohort is None or (inp.design == "did_twfe" and not getattr(o, "event_study", False)):
        return None
    if cohort not in frame.columns or o.time not in frame.columns:
        return None  # the family's data checks name the column
    g = pd.to_numeric(frame[cohort], errors="coerce").to_numpy(float)
    t = pd.to_numeric(frame[o.time], errors="coerce").to_numpy(float)
    if inp.design == "did_cs" and int(getattr(o, "cohort_bin", 1) or 1) > 1:
        return None  # binned enrolment periods: the estimated event times are checked when the check runs
    # never enrolled: empty or infinite, or 0 (for TWFE only when no period is numbered 0, as its design matrix does)
    zero_never = inp.design == "did_cs" or not (t == 0).any()
    never = ~np.isfinite(g) | ((g == 0) & zero_never)
    e = (t - g)[~never & np.isfinite(t)]
    if not e.size:
        return None
    ev = sorted({int(x) for x in e})
    win = getattr(o, "event_window", None)
    if inp.design == "did_twfe" and win is not None:
        lo, hi = int(win[0]), int(win[1])
        ev = sorted({min(max(x, lo), hi) for x in ev})
    return ev


def _honest_params(params: Mapping[str, Any], inp) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, least in (("pre_window", 1), ("post_window", 1), ("post_period", 0)):
        if key in params and not (_int_param(params[key]) and params[key] >= least):
            out.append((key, f"expected a whole number ≥ {least}, got {params[key]!r}"))
    if "post_period" in params and "post_window" in params:
        out.append(("post_period", "give either post_period (one period's effect) or post_window (the average of the "
                    "first periods), not both"))
    if out or inp is None or "post_period" not in params:
        return out
    ev = _data_event_times(inp)
    k = params["post_period"]
    if ev is not None:
        post = [x for x in ev if x >= 0]
        if k not in post:
            out.append(("post_period", f"event time {k} is not a period after enrolment in the data of analysis "
                        f"{inp.id!r}; its post-enrolment event times are {', '.join(map(str, post)) or 'none'}"))
    return out


register_check(Check(
    id="pretrends", kinds=("parallel_trends",), name_da="Test af udviklingen før start", run=_pretrends,
    designs=_DID, applies=_needs_event_study,
    description="Joint Wald test that the pre-enrolment event-time effects are zero (did_cs: the influence-function "
                "Wald test of the result; TWFE event study: chi-squared with the clustered covariance).",
))
register_check(Check(
    id="no_anticipation", kinds=("no_anticipation",), name_da="Ingen ændring lige før start", run=_no_anticipation,
    designs=_DID, applies=_needs_event_study,
    description="The placebo with fake start dates when declared (did_cs placebo_shift), else the event-time "
                "effect just before enrolment.",
))
register_check(Check(
    id="honest_did", kinds=("parallel_trends",), name_da="Følsomhed for brud på parallelle tendenser (HonestDiD)",
    run=_honest, designs=_DID, applies=_needs_event_study,
    description="Rambachan-Roth relative-magnitudes (C-LF) and smoothness (FLCI) robust confidence sets for the "
                "average of the first post-enrolment effects (or one chosen post-period's effect), with breakdown "
                "values; params pre_window/post_window/post_period.",
    params={"pre_window": "pre-enrolment periods used (nearest enrolment; default 4)",
            "post_window": "the parameter is the average of the first post_window post-enrolment effects (default 2)",
            "post_period": "the parameter is the effect in this event time (0 = the enrolment period) instead"},
    validate_params=_honest_params,
    report_block=honest_block,
))
