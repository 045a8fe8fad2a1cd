"""Assumption checks every comparison design shares (registered in :mod:`evaluation.designs.checks`).

* ``attrition`` (attrition): is the outcome missing more often in one group than the other?
* ``sutva`` (no spill-over): cannot be tested with outcome data; it says so and why.
"""

from __future__ import annotations

from evaluation._lazy import stats

from evaluation.designs.checks import UNTESTABLE_DA, Check, CheckContext, CheckResult, register_check
from evaluation.disclosure import is_small
from evaluation.exceptions import EstimationError
from evaluation.presentation.formatting import fmt_number

__all__: list[str] = []


def _groups_apply(ctx: CheckContext) -> str | None:
    spec = ctx.family.groups(ctx.inp.options)
    if spec is None or ctx.inp.frame is None or ctx.inp.outcome is None:
        return "Designet sammenligner ikke to grupper af personer med et resultatmål, så frafald kan ikke opgøres pr. gruppe."
    return None


def _attrition(ctx: CheckContext) -> CheckResult:
    spec = ctx.family.groups(ctx.inp.options)
    f = ctx.inp.frame
    y = ctx.inp.outcome
    if spec.column not in f.columns or y not in f.columns:
        raise EstimationError("gruppe- eller resultatkolonnen mangler")
    counts = {}
    for side, lab in (("t", spec.treated), ("c", spec.control)):
        g = f[f[spec.column] == lab]
        counts[side] = (int(len(g)), int(g[y].isna().sum()))
    (nt, mt), (nc, mc) = counts["t"], counts["c"]
    if nt == 0 or nc == 0:
        raise EstimationError("en af grupperne er tom")
    st, sc = mt / nt, mc / nc
    diff = st - sc
    overall = (mt + mc) / (nt + nc)
    p = float(stats.fisher_exact([[mt, nt - mt], [mc, nc - mc]])[1]) if (mt + mc) > 0 else 1.0
    if abs(diff) < 0.05 and overall < 0.20:
        status = "holder"
    elif abs(diff) >= 0.10 or (p < 0.05 and abs(diff) >= 0.05):
        status = "brudt"
    else:
        status = "tvivlsom"
    th = ctx.inp.threshold
    hidden = any(is_small(m, th) for m in (mt, mc))
    if hidden:
        finding = (f"Resultatmålet mangler for færre end {th} personer i mindst én gruppe; samlet mangler "
                   f"{fmt_number(100 * overall, 0)} %.") if (mt + mc) >= th else (
                   f"Resultatmålet mangler for færre end {th} personer i alt.")
        number = None
    else:
        finding = (f"Resultatmålet mangler for {fmt_number(100 * st, 1)} % i interventionsgruppen og "
                   f"{fmt_number(100 * sc, 1)} % i den anden gruppe (forskel {fmt_number(100 * diff, 1)} "
                   f"procentpoint; Fishers test p = {fmt_number(p, 2)}).")
        number = float(diff)
    return CheckResult(
        status=status, number=number, number_label_da="forskel i andel uden resultatmål (interventions- minus anden gruppe)",
        rule_da=("Holder når forskellen i andelen uden resultatmål er under 5 procentpoint og under 20 % mangler i alt; "
                 "brudt når forskellen er mindst 10 procentpoint, eller mindst 5 og statistisk sikker (Fisher, p < 0,05); "
                 "ellers tvivlsom."),
        finding_da=finding,
        if_broken_da=("Mangler resultatet oftere i den ene gruppe, sammenlignes ikke længere ens grupper; effekten kan "
                      "være skæv i den retning, de manglende personer trækker."),
        details={"overall_missing_share": None if hidden and (mt + mc) < th else overall},
    )


def _sutva(ctx: CheckContext) -> CheckResult:
    return CheckResult.untestable(
        UNTESTABLE_DA["sutva"],
        if_broken_da=("Har sammenligningsgruppen fået dele af indsatsen, er forskellen mellem grupperne mindre end "
                      "indsatsens egentlige effekt (effekten undervurderes)."),
    )


register_check(Check(
    id="attrition", kinds=("attrition",), name_da="Frafald fordelt på grupper", run=_attrition, applies=_groups_apply,
    description="Differential missingness of the outcome between the compared groups (Fisher's exact test).",
))
register_check(Check(
    id="sutva", kinds=("sutva",), name_da="Ingen smitte mellem grupperne", run=_sutva, automatic=False,
    description="Spill-over between the groups cannot be seen in outcome data: always 'kan_ikke_testes' with the reason.",
))
