"""Assumption checks run with each analysis, and the status of every declared assumption (issue 14).

:func:`analysis_checks` runs, for one analysis, the registered checks (:mod:`evaluation.designs.checks`)
that apply to its design automatically and those a declared assumption names (by ``checks`` or ``kind``);
:func:`assess_assumptions` then gives every assumption of the theory a status from its checks (the worst
verdict), or says why it cannot be tested. The result is the bundle's ``robustness`` field, which the
report section "Hvor robust er resultatet?" and the logic-model diagram read.
"""

from __future__ import annotations

from typing import Any, Mapping

from evaluation.designs.checks import (
    KINDS,
    STATUS_DA,
    UNTESTABLE_DA,
    CheckContext,
    CheckResult,
    checks_for,
    get_check,
    run_check,
    worst_status,
)

__all__ = ["analysis_checks", "assess_assumptions"]


def _concerns(asm, analysis_id: str) -> bool:
    return not asm.analyses or analysis_id in asm.analyses


def analysis_checks(study, analysis, inp, result) -> list[dict[str, Any]]:
    """The check records of one analysis (before disclosure control; checks publish no small cells)."""
    fam = analysis.family
    wanted: dict[str, bool] = {}  # check id -> automatic only (skip silently when it does not apply)
    for c in checks_for(analysis.design, automatic=True):
        wanted.setdefault(c.id, True)
    for asm in study.theory.assumptions:
        if not _concerns(asm, analysis.id):
            continue
        for cid in asm.checks:
            c = get_check(cid)
            if c.applies_to(analysis.design):
                wanted[cid] = False
        if asm.kind and not asm.checks:
            for c in checks_for(analysis.design, kinds=[asm.kind]):
                wanted[c.id] = False
    out = []
    for cid in sorted(wanted):
        c = get_check(cid)
        ctx = CheckContext(inp=inp, result=result, family=fam, params=dict(analysis.check_params.get(cid) or {}))
        if wanted[cid] and c.applies is not None and c.applies(ctx):
            continue
        res = run_check(c, ctx)
        out.append({"analysis": analysis.id, "check": c.id, "name_da": c.name_da, "kinds": list(c.kinds),
                    **res.to_dict()})
    return out


def _link_consequence(theory, asm) -> str:
    nodes = {n.id: n.label for n in theory.nodes}
    mechs = {m.id: m.label for m in theory.mechanisms}
    links = [lk for lk in theory.links if asm.id in lk.assumptions]
    if not links:
        return ""
    parts = []
    for lk in links:
        via = f" (mekanismen «{mechs[lk.mechanism]}»)" if lk.mechanism in mechs else ""
        parts.append(f"«{nodes.get(lk.from_, lk.from_)}» → «{nodes.get(lk.to, lk.to)}»{via}")
    return ("Hvis antagelsen ikke holder, brydes forbindelsen " + " og ".join(parts)
            + "; resultatet kan da ikke forventes ad den vej.")


def _join(sentences) -> str:
    """Distinct sentences in order: whole sentences side by side, fragments separated by semicolons."""
    out = ""
    for x in dict.fromkeys(str(s).strip() for s in sentences if s):
        out = x if not out else f"{out} {x}" if out.endswith((".", "!", "?")) else f"{out}; {x}"
    return out


def _indicator_test(asm, targets: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> CheckResult | None:
    """An assumption's own test (indicator + threshold) against the indicator's measured level, when measured."""
    if asm.test is None:
        return None
    from evaluation.presentation.formatting import fmt_number

    t = asm.test
    tr = targets.get(t.indicator)
    name = (labels or {}).get(t.indicator, t.indicator)  # the indicator's Danish label, not its id
    op = "mindst" if t.direction == "at_least" else "højst"
    rule = f"Indikatoren skal være {op} {fmt_number(t.threshold, 2)} (antagelsens egen test)."
    if tr is None:
        return CheckResult.untestable(
            f"Antagelsen testes med indikatoren «{name}» ({op} {fmt_number(t.threshold, 2)}), men indikatoren "
            "er ikke målt i data endnu.", rule_da=rule)
    est = next((e for e in tr.result.estimates if e.term in ("follow_up_level", "level")), None)
    if est is None or est.estimate is None or est.estimate != est.estimate:
        return CheckResult.untestable(f"Indikatoren «{name}» har intet målt niveau.", rule_da=rule)
    v, lo, hi = est.estimate, est.ci_lower, est.ci_upper
    ok = v >= t.threshold if t.direction == "at_least" else v <= t.threshold
    sure = (lo is not None and hi is not None and lo == lo and hi == hi
            and ((lo >= t.threshold) if t.direction == "at_least" else (hi <= t.threshold)))
    status = "holder" if ok and sure else "tvivlsom" if ok or not sure else "brudt"
    return CheckResult(status=status, number=float(v), rule_da=rule + " Holder når hele sikkerhedsintervallet "
                       "opfylder det; brudt når hele intervallet ikke gør; ellers tvivlsom.",
                       finding_da=f"Målt: {fmt_number(v, 2)}.", number_label_da="målt niveau")


def assess_assumptions(study, check_records: list[dict[str, Any]], targets: Mapping[str, Any]) -> dict[str, Any]:
    """The bundle's ``robustness`` field: every check record, and a status per declared assumption."""
    assumptions = []
    used: set[int] = set()
    for asm in study.theory.assumptions:
        mine = []
        for i, r in enumerate(check_records):
            if not _concerns(asm, r["analysis"]):
                continue
            if r["check"] in asm.checks or (asm.kind and not asm.checks and asm.kind in r["kinds"]):
                mine.append(i)
                used.add(i)
        own = _indicator_test(asm, targets, {i.id: i.label for i in study.theory.indicators})
        statuses = [check_records[i]["status"] for i in mine] + ([own.status] if own is not None else [])
        status = worst_status(statuses)
        reason = ""
        if status == "kan_ikke_testes":
            if mine:
                reason = _join(check_records[i]["finding_da"] for i in mine)
            elif own is not None:
                reason = own.finding_da
            elif asm.kind in UNTESTABLE_DA:
                reason = UNTESTABLE_DA[asm.kind]
            elif asm.kind:
                reason = (f"Ingen af studiets analyser har et tjek for «{KINDS.get(asm.kind, asm.kind)}» "
                          "(designet kan ikke belyse det).")
            else:
                reason = UNTESTABLE_DA["programme"]
        if_broken = asm.if_broken or next((check_records[i]["if_broken_da"] for i in mine if check_records[i]["if_broken_da"]),
                                          "") or (own.if_broken_da if own is not None else "") or _link_consequence(study.theory, asm)
        assumptions.append({
            "id": asm.id, "description": asm.description, "criticality": asm.criticality, "kind": asm.kind,
            "status": status, "status_da": STATUS_DA[status], "checks": mine,
            "own_test": own.to_dict() if own is not None else None,
            "reason_da": reason, "if_broken_da": if_broken,
        })
    design_checks = [i for i in range(len(check_records)) if i not in used]
    return {"checks": check_records, "assumptions": assumptions, "design_checks": design_checks}
