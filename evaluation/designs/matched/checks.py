"""Assumption checks of the matched comparison (registered in :mod:`evaluation.designs.checks`).

* ``balance`` (balance): the largest standardised difference on the design's final weights;
* ``overlap`` (overlap): intervention persons outside the comparison group's propensity range, and how much
  one comparison person weighs;
* ``sensemakr`` (no unmeasured confounding): robustness values and bounds from the observed covariates
  (Cinelli & Hazlett 2020) on the regression-adjusted comparison, and the E-value of the risk ratio for a
  binary outcome (:mod:`evaluation.designs._sensemakr`).
"""

from __future__ import annotations

import math

import pandas as pd
from evaluation._lazy import stats

from evaluation.designs._sensemakr import evalue_rr, sensemakr
from evaluation.designs.checks import Check, CheckContext, CheckResult, register_check
from evaluation.designs.matched.report import sensemakr_block
from evaluation.disclosure import is_small
from evaluation.exceptions import EstimationError
from evaluation.presentation.formatting import fmt_number

__all__: list[str] = []

_MATCHED = ("matched_comparison",)


def _balance(ctx: CheckContext) -> CheckResult:
    col = ctx.family.balance_column
    tab = ctx.result.tables.get("balance")
    if col is None or tab is None or col not in tab.columns or tab.empty:
        raise EstimationError("der er ingen balancetabel")
    smd = tab[col].astype(float).abs()
    if smd.isna().all():
        raise EstimationError("de standardiserede forskelle mangler")
    i = int(smd.idxmax())
    worst = float(smd[i])
    row = tab.loc[i]
    var = row["covariate"] if "covariate" in tab.columns else row.get("variable", "")
    # the study's Danish label (and the category's level), as the balance table in the report shows it
    label = str(ctx.inp.labels.get(str(var), str(var)))
    level = row.get("level") if "level" in tab.columns else None
    if level is not None and not (isinstance(level, float) and math.isnan(level)) and str(level) != "":
        label = f"{label}: {level}"
    status = "holder" if worst < 0.1 else "tvivlsom" if worst < 0.25 else "brudt"
    return CheckResult(
        status=status, number=worst, number_label_da="største standardiserede forskel efter vægtning",
        rule_da=("Den største absolutte standardiserede forskel i baggrundsforhold på de endelige vægte: holder under "
                 "0,10; tvivlsom fra 0,10 til 0,25; brudt fra 0,25 (Stuart 2010)."),
        finding_da=f"Den største standardiserede forskel efter vægtning er {fmt_number(worst, 2)} ({label}).",
        if_broken_da=("Er grupperne ikke ens på de målte baggrundsforhold, kan forskellen i resultat skyldes dem og "
                      "ikke indsatsen."),
        details={"covariate": str(var), "label_da": label},
    )


def _overlap(ctx: CheckContext) -> CheckResult:
    d = ctx.result.diagnostics
    n_t = d.get("n_treated_input")
    out = d.get("n_outside_support_treated")
    wmax = d.get("max_weight_share_control")
    if n_t is None or out is None:
        raise EstimationError("tilbøjelighedsscorerne mangler")
    share = out / n_t if n_t else float("nan")
    small = is_small(out, ctx.inp.threshold)
    status = "holder" if share < 0.01 else "tvivlsom" if share < 0.05 else "brudt"
    if status == "holder" and wmax is not None and wmax > 0.05:
        status = "tvivlsom"
    where = ("færre end " + str(ctx.inp.threshold) + " personer" if small else
             f"{fmt_number(100 * share, 1)} %")
    return CheckResult(
        status=status, number=None if small else float(share),
        number_label_da="andel af interventionsgruppen uden for sammenligningsgruppens scoreområde",
        rule_da=("Andelen af interventionsgruppen, hvis tilbøjelighedsscore ligger uden for sammenligningsgruppens: "
                 "holder under 1 % (og ingen sammenligningsperson vejer mere end 5 % af gruppen); tvivlsom under "
                 "5 %; brudt fra 5 %."),
        finding_da=(f"Uden for sammenligningsgruppens scoreområde: {where} af interventionsgruppen. Den tungeste "
                    f"sammenligningsperson vejer {fmt_number(100 * (wmax or 0), 1)} % af sammenligningsgruppen."),
        if_broken_da=("Uden overlap sammenlignes deltagere med personer, der ikke ligner dem; effekten hviler da på "
                      "modellens fremskrivning og ikke på sammenlignelige personer."),
        details={"max_weight_share_control": wmax},
    )


def _evalue(ctx: CheckContext) -> dict:
    """The E-value (VanderWeele & Ding 2017) of the risk ratio the analysis reports: the design's weighted/matched
    intervention mean over the comparison mean its estimate implies (their difference is the reported estimate),
    and the E-value of the risk ratio's confidence limit closest to 1.

    The risk ratio's interval is a delta-method interval on the log scale from the design's own standard error of
    the difference (so it carries the design's variance method: sandwich, clusters, bootstrap …):
    Var(log RR) = v1/p1² + v0/p0², with v1 the intervention mean's weighted variance and v0 = SE² − v1, the
    comparison mean's share of the difference's variance when the groups are independent samples (floored at 0)."""
    it = ctx.result.internals
    p1, p0 = it.get("mean_treated"), it.get("mean_comparison")
    if p1 is None or p0 is None or not (p1 > 0 and p0 > 0):
        return {}
    rr = p1 / p0
    out = {"risk_ratio": rr, "mean_treated": p1, "mean_comparison": p0}
    se, v1 = it.get("std_error"), it.get("var_mean_treated")
    if se is not None and v1 is not None and math.isfinite(se):
        v0 = max(float(se) ** 2 - float(v1), 0.0)
        se_log = math.sqrt(v1 / p1**2 + v0 / p0**2)
        z = float(stats.norm.ppf(0.5 + ctx.inp.fit.conf_level / 2))
        lo, hi = rr * math.exp(-z * se_log), rr * math.exp(z * se_log)
        ev, ev_ci = evalue_rr(rr, lo, hi)
        out.update({"risk_ratio_lower": lo, "risk_ratio_upper": hi, "evalue": ev, "evalue_ci": ev_ci})
    else:
        out["evalue"] = evalue_rr(rr)[0]
    return out


def _sensemakr(ctx: CheckContext) -> CheckResult:
    opts = ctx.inp.options
    frame = ctx.inp.frame
    spec = ctx.family.groups(opts)
    if spec is None or frame is None:
        raise EstimationError("grupperne kan ikke findes")
    covs = list(getattr(opts, "covariates", []) or [])
    exact = list(getattr(opts, "exact", []) or [])
    d = frame[frame[spec.column].isin([spec.treated, spec.control])].copy()
    d["_d"] = (d[spec.column] == spec.treated).astype(float)
    y = ctx.inp.outcome
    numeric = [c for c in covs if pd.api.types.is_numeric_dtype(d[c]) and not pd.api.types.is_bool_dtype(d[c])]
    alpha = 1 - ctx.inp.fit.conf_level
    sm = sensemakr(d, y, "_d", covs + exact, benchmarks=numeric, kd=(1,), alpha=alpha)
    labels = ctx.inp.labels
    # the bound that comes closest to undoing the effect: the smallest adjusted t in the estimate's direction (a
    # bound that flips the sign is worse than one that only makes it uncertain)
    sign = 1.0 if sm.estimate >= 0 else -1.0
    worst = min(sm.bounds, key=lambda b: sign * b.adjusted_t if b.adjusted_t == b.adjusted_t else -math.inf) \
        if sm.bounds else None
    details = {
        "estimate": sm.estimate, "se": sm.se, "t": sm.t, "dof": sm.dof, "partial_r2": sm.partial_r2,
        "rv_q": sm.rv_q, "rv_qa": sm.rv_qa, "q": sm.q, "alpha": sm.alpha,
        "bounds": [{"benchmark": b.benchmark, "label_da": labels.get(b.benchmark, b.benchmark), "kd": b.kd,
                    "r2dz_x": b.r2dz_x, "r2yz_dx": b.r2yz_dx, "adjusted_estimate": b.adjusted_estimate,
                    "adjusted_lower": b.adjusted_lower, "adjusted_upper": b.adjusted_upper} for b in sm.bounds],
        "model": "OLS af resultatet på gruppe, " + ", ".join(str(labels.get(c, c)) for c in covs + exact),
    }
    if getattr(ctx.result, "outcome_type", "") == "binary":
        details.update(_evalue(ctx))
    rv_pct = fmt_number(100 * sm.rv_qa, 1)
    rule = ("Robusthedsværdien RV (Cinelli & Hazlett 2020) er, hvor stor en del af den uforklarede variation i både "
            "deltagelse og resultat en ikke-målt forskel skal forklare, før effekten ikke længere er statistisk "
            "sikker. Holder når en ikke-målt forskel lige så stærk som det stærkeste målte baggrundsforhold ikke "
            "fjerner den statistisk sikre effekt; ellers tvivlsom. Om der findes sådanne forskelle, kan ikke testes.")
    if sm.rv_qa <= 0:
        return CheckResult(
            status="kan_ikke_testes", number=0.0, number_label_da="robusthedsværdi RV (q = 1, α = 0,05)",
            rule_da=rule,
            finding_da=("Den regressionsjusterede forskel er ikke statistisk sikker; der er ingen effekt for en "
                        "ikke-målt forskel at forklare væk (robusthedsværdi 0)."),
            if_broken_da="Konklusionen «ingen påviselig effekt» kan også skyldes ikke-målte forskelle i begge retninger.",
            details=details)
    # safe: every benchmark's adjusted interval stays on the estimate's side of 0
    safe = all((b.adjusted_lower > 0) if sign > 0 else (b.adjusted_upper < 0) for b in sm.bounds)
    wtxt = ""
    if worst is not None:
        wtxt = (f" En ikke-målt forskel lige så stærk som «{labels.get(worst.benchmark, worst.benchmark)}» ville give "
                f"{ctx.effect_text(worst.adjusted_estimate)} (interval "
                f"{ctx.effect_text(worst.adjusted_lower, worst.adjusted_upper)}).")
    return CheckResult(
        status="holder" if safe else "tvivlsom", number=float(sm.rv_qa),
        number_label_da="robusthedsværdi RV (q = 1, α = 0,05)", rule_da=rule,
        finding_da=(f"Ikke-målte forskelle, der forklarer mindre end {rv_pct} % af den resterende variation i både "
                    f"deltagelse og resultat, kan ikke fjerne den statistisk sikre effekt." + wtxt),
        if_broken_da=(f"Findes en ikke-målt forskel, der forklarer mere end {rv_pct} % af variationen i både deltagelse "
                      "og resultat, kan effekten ikke skelnes fra 0."),
        details=details,
    )


register_check(Check(
    id="balance", kinds=("balance",), name_da="Balance efter vægtning", run=_balance, designs=_MATCHED,
    description="Largest absolute standardised difference on the final weights (holder < 0.10, tvivlsom < 0.25).",
))
register_check(Check(
    id="overlap", kinds=("overlap",), name_da="Overlap i tilbøjelighedsscore", run=_overlap, designs=_MATCHED,
    description="Share of intervention persons outside the comparison group's propensity range; largest weight share.",
))
register_check(Check(
    id="sensemakr", kinds=("no_unmeasured_confounding",), name_da="Følsomhed for ikke-målte forskelle",
    run=_sensemakr, designs=_MATCHED,
    description="Cinelli-Hazlett robustness values and 1x benchmark bounds from each numeric covariate on the "
                "regression-adjusted comparison (OLS of outcome on group, covariates and exact strata); E-value for a binary outcome.",
    report_block=sensemakr_block,
))
