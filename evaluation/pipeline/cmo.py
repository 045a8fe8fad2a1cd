"""CMO status from evidence: each context–mechanism–outcome configuration of a study's programme theory gets a
status — understøttet, ikke understøttet or uafklaret — by a stated rule from the published results.

The evidence for a CMO (context ids, mechanism m, outcome node o):

* **outcome** — the effect estimate (the design's headline term) of every analysis of an indicator that measures o,
  read against the direction the theory expects of that indicator (``indicator.direction``, else its target's
  direction): *for* when the whole interval (at the analysis's confidence level) lies on the expected side of zero, *against* when it lies on
  the other side, *unclear* when it contains zero; an analysis whose design estimates no effect (before/after,
  survey) or whose estimate is suppressed is no evidence;
* **mechanism** — where a link explained by m names a mediator and o's analyses have a mediation analysis, its
  indirect effect (ACME), read the same way;
* **subgroups and context** — for the moderators declared on the links explained by m, the subgroup results of o's
  analyses: a Holm-corrected interaction p < 0.05 says the effect differs between the subgroups (reported, no
  change of status); the CMO's context conditions are stated as not measured;
* **assumptions** — the statuses of the assumptions on the links explained by m (holder / tvivlsom / brudt / kan
  ikke testes), from the assumption checks.

The rule (also stated in the report, :data:`RULE_DA`):

1. *ikke understøttet* — an outcome estimate or the mechanism's indirect effect lies entirely against the
   expected direction, or an assumption of high criticality on the mechanism's links is *brudt*;
2. *understøttet* — otherwise, when at least one outcome estimate is *for*, no outcome estimate is against, the
   mechanism's indirect effect (where it is measured) is *for*, and no assumption on the mechanism's links is
   *brudt* or *tvivlsom*;
3. *uafklaret* — everything else (no effect estimate of the outcome, intervals containing zero, an effect whose
   route through the mechanism is not shown, doubtful assumptions, or no expected direction declared).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from evaluation.designs.family import get_family
from evaluation.designs.checks import STATUS_DA as CHECK_STATUS_DA
from evaluation.designs.checks import worst_status
from evaluation.presentation.phrases import ci_label

__all__ = ["cmo_evidence", "assumption_statuses", "STATUS_DA", "RULE_DA", "rule_da"]

STATUS_DA = {"supported": "understøttet", "not_supported": "ikke understøttet", "undetermined": "uafklaret"}


def rule_da(level: float | None = 0.95) -> str:
    """The rule in Danish, naming the intervals' confidence ``level`` (None: the analyses' levels differ)."""
    return (
        "En CMO-konfiguration er *ikke understøttet*, når en effekt på resultatet eller den indirekte effekt gennem "
        f"mekanismen med hele sit {ci_label(level) if level is not None else 'sikkerhedsinterval'} går imod den forventede retning, eller når en antagelse med høj "
        "betydning på mekanismens pile er brudt. Den er *understøttet*, når mindst én effekt på resultatet med hele sit "
        "interval går i den forventede retning, ingen går imod, den indirekte effekt gennem mekanismen (hvor mekanismen er "
        "målt) også gør, og ingen antagelse på mekanismens pile er brudt eller tvivlsom. Ellers er den *uafklaret*. "
        "Undergrupper for mekanismens moderatorer vises, men ændrer ikke status."
    )


RULE_DA = rule_da(0.95)

_WORDS = {"increase": "stige", "decrease": "falde"}


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _verdict(lo: Any, hi: Any, direction: str) -> str:
    """for / against / unclear: where a 95 % interval lies relative to zero and the expected direction."""
    if _missing(lo) or _missing(hi):
        return "hidden"
    sign = 1.0 if direction == "increase" else -1.0
    if sign * float(lo) > 0 and sign * float(hi) > 0:
        return "for"
    if sign * float(lo) < 0 and sign * float(hi) < 0:
        return "against"
    return "unclear"


def assumption_statuses(theory: Mapping[str, Any], analyses: Iterable[Any],
                        checked: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """Each declared assumption's status: ``checked`` (assumption id → status, from the pipeline's assumption
    checks) where given; otherwise the worst verdict of the checks it names that are computed from the published
    results (each family's ``result_checks``, e.g. the complier effect's); otherwise ``None`` (not assessed)."""
    checked = dict(checked or {})
    recs = list(analyses)
    out: dict[str, dict[str, Any]] = {}
    for a in theory.get("assumptions", []):
        if a["id"] in checked:
            out[a["id"]] = {"status": checked[a["id"]], "criticality": a["criticality"], "source": "checks"}
            continue
        statuses = []
        names = set(a.get("checks") or [])
        scope = set(a.get("analyses") or []) or {r.id for r in recs}
        for r in recs:
            if r.id not in scope:
                continue
            for c in get_family(r.design).result_checks(r.result):
                if c["id"] in names:
                    statuses.append(c["status"])
        out[a["id"]] = {"status": worst_status(statuses) if statuses else None, "criticality": a["criticality"],
                        "source": "checks" if statuses else "not_assessed"}
    return out


def cmo_evidence(theory: Mapping[str, Any], analyses: Iterable[Any],
                 checked: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The status of every CMO configuration of ``theory`` (the bundle's dict) from the published ``analyses``
    (:class:`~evaluation.results.AnalysisRecord`), with the evidence and the reasons in Danish."""
    recs = list(analyses)
    inds = {i["id"]: i for i in theory.get("indicators", [])}
    nodes = {n["id"]: n["label"] for n in theory["nodes"]}
    mechs = {m["id"]: m for m in theory.get("mechanisms", [])}
    mods = {m["id"]: m for m in theory.get("moderators", [])}
    ctx = {c["id"]: c["description"] for c in theory.get("context", [])}
    a_desc = {a["id"]: a["description"] for a in theory.get("assumptions", [])}
    assumptions = assumption_statuses(theory, recs, checked)
    out = []
    for cmo in theory.get("cmo", []):
        m = mechs.get(cmo["mechanism"], {"id": cmo["mechanism"], "label": cmo["mechanism"]})
        o = cmo["outcome"]
        m_links = [ln for ln in theory.get("links", []) if ln.get("mechanism") == m["id"]]
        evidence: list[dict[str, Any]] = []
        reasons: list[str] = []
        no_direction = []
        for r in recs:
            ind = inds.get(r.indicator or "")
            if ind is None or ind["outcome"] != o:
                continue
            fam = get_family(r.design)
            direction = ind.get("direction") or (ind.get("target") or {}).get("direction")
            if not fam.is_effect:
                evidence.append({"kind": "outcome", "analysis": r.id, "verdict": "no_effect_design",
                                 "label": r.indicator_label})
                continue
            if direction is None:
                no_direction.append(r.indicator_label)
                continue
            e = fam.main_term(r.result)
            evidence.append({"kind": "outcome", "analysis": r.id, "label": r.indicator_label, "term": e.term,
                             "estimate": None if _missing(e.estimate) else e.estimate,
                             "ci_lower": None if _missing(e.ci_lower) else e.ci_lower,
                             "ci_upper": None if _missing(e.ci_upper) else e.ci_upper,
                             "direction": direction, "verdict": _verdict(e.ci_lower, e.ci_upper, direction)})
            med = r.result.tables.get("mediation")
            if med is not None:
                for _, row in med[(med["mechanism"] == m["id"]) & (med["term"] == "acme")].iterrows():
                    evidence.append({"kind": "mechanism", "analysis": r.id, "label": r.indicator_label,
                                     "mediator": row["mediator"], "estimate": None if _missing(row["estimate"]) else row["estimate"],
                                     "ci_lower": None if _missing(row["ci_lower"]) else row["ci_lower"],
                                     "ci_upper": None if _missing(row["ci_upper"]) else row["ci_upper"],
                                     "direction": direction, "verdict": _verdict(row["ci_lower"], row["ci_upper"], direction)})
            sub = r.result.tables.get("subgroups")
            link_mods = {mm for ln in m_links for mm in ln.get("moderators", [])}
            if sub is not None and len(sub) and link_mods:
                for mod_id, part in sub[sub["moderator"].isin(link_mods)].groupby("moderator", sort=False):
                    p = part["p_interaction_holm"].dropna()
                    p = float(p.iloc[0]) if len(p) else None
                    evidence.append({"kind": "subgroup", "analysis": r.id, "label": r.indicator_label, "moderator": mod_id,
                                     "moderator_label": mods.get(mod_id, {}).get("label", mod_id), "p_interaction_holm": p,
                                     "differs": p is not None and p < 0.05})
        outcome_v = [e["verdict"] for e in evidence if e["kind"] == "outcome" and e["verdict"] in ("for", "against", "unclear")]
        mech_v = [e["verdict"] for e in evidence if e["kind"] == "mechanism" and e["verdict"] in ("for", "against", "unclear")]
        a_ids = list(dict.fromkeys(a for ln in m_links for a in ln.get("assumptions", [])))
        a_stat = {a: assumptions.get(a, {}) for a in a_ids}
        broken_high = [a for a, s in a_stat.items() if s.get("status") == "brudt" and s.get("criticality") == "high"]
        broken_or_doubt = [a for a, s in a_stat.items() if s.get("status") in ("brudt", "tvivlsom")]
        if "against" in outcome_v or "against" in mech_v or broken_high:
            status = "not_supported"
        elif "for" in outcome_v and (not mech_v or all(v == "for" for v in mech_v)) and not broken_or_doubt:
            status = "supported"
        else:
            status = "undetermined"
        # reasons, in the order of the rule
        for e in evidence:
            if e["kind"] == "outcome" and e["verdict"] in ("for", "against", "unclear"):
                word = _WORDS[e["direction"]]
                txt = {"for": f"Effekten på «{e['label']}» går i den forventede retning (forventet at {word}), og "
                              "sikkerhedsintervallet udelukker nul",
                       "against": f"Effekten på «{e['label']}» går modsat den forventede retning (forventet at {word}), og "
                                  "sikkerhedsintervallet udelukker nul",
                       "unclear": f"Sikkerhedsintervallet for effekten på «{e['label']}» indeholder nul"}[e["verdict"]]
                reasons.append(txt + ".")
            elif e["kind"] == "outcome" and e["verdict"] == "hidden":
                reasons.append(f"Effekten på «{e['label']}» kan ikke offentliggøres (for få personer).")
            elif e["kind"] == "outcome" and e["verdict"] == "no_effect_design":
                reasons.append(f"«{e['label']}» er kun målt uden sammenligningsgruppe, så der er ingen effekt at vurdere.")
        for e in evidence:
            if e["kind"] == "mechanism":
                txt = {"for": "Den indirekte effekt gennem mekanismen på «{l}» går i den forventede retning, og "
                              "sikkerhedsintervallet udelukker nul.",
                       "against": "Den indirekte effekt gennem mekanismen på «{l}» går modsat den forventede retning, og "
                                  "sikkerhedsintervallet udelukker nul.",
                       "unclear": "Sikkerhedsintervallet for den indirekte effekt gennem mekanismen på «{l}» indeholder nul.",
                       "hidden": "Den indirekte effekt gennem mekanismen på «{l}» kan ikke offentliggøres."}[e["verdict"]]
                reasons.append(txt.format(l=e["label"]))
        for e in evidence:
            if e["kind"] == "subgroup" and e["p_interaction_holm"] is not None:
                reasons.append(f"Effekten på «{e['label']}» {'er forskellig' if e['differs'] else 'er ikke påviseligt forskellig'} "
                               f"mellem grupperne af «{e['moderator_label']}» (interaktionstest, Holm-korrigeret).")
        if not any(e["kind"] == "mechanism" for e in evidence) and any(e["kind"] == "outcome" for e in evidence):
            reasons.append(f"Mekanismen «{m['label']}» er ikke målt med en mediator, så status hviler på effekten på «{nodes.get(o, o)}».")
        for label in no_direction:
            reasons.append(f"Programteorien angiver ikke, om «{label}» forventes at stige eller falde.")
        if not outcome_v and not no_direction and not any(e["kind"] == "outcome" for e in evidence):
            reasons.append("Der er ingen effektanalyse af resultatet.")
        for a, s in a_stat.items():
            high = " (høj betydning)" if s.get("criticality") == "high" else ""
            if s.get("status") is not None:
                reasons.append(f"Antagelsen «{a_desc.get(a, a).rstrip('.')}»{high} {CHECK_STATUS_DA[s['status']]}.")
            else:
                reasons.append(f"Antagelsen «{a_desc.get(a, a).rstrip('.')}»{high} er ikke vurderet med data.")
        if cmo.get("context"):
            reasons.append(f"Konteksten for «{m['label']}» (" + "; ".join(ctx.get(c, c) for c in cmo["context"]) + ") er ikke målt.")
        out.append({
            "id": cmo["id"], "mechanism": m["id"], "mechanism_label": m["label"],
            "category": m.get("category") or m["label"], "outcome": o, "outcome_label": nodes.get(o, o),
            "context": list(cmo.get("context", [])), "declared_status": cmo.get("status"),
            "status": status, "status_da": STATUS_DA[status], "reasons_da": reasons, "evidence": evidence,
            "assumptions": {a: s.get("status") for a, s in a_stat.items()},
        })
    return out
