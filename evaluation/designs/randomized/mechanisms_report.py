"""The randomized comparison's report parts on *why*: take-up and the complier effect (CACE).

Kept apart from :mod:`evaluation.designs.randomized.report` so the report's layout and these
sections can change independently. Every sentence here states a number of the (disclosure-controlled)
bundle or a status derived from it by a rule stated in the text; tests/claims.py checks them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evaluation.designs.randomized.compliance import CACE_TERMS, STATUS_DA, compliance_checks
from evaluation.presentation.formatting import fmt_ci, fmt_int, fmt_number, fmt_p, fmt_pct, is_missing
from evaluation.presentation.markdown import DASH, md_table
from evaluation.presentation.phrases import interval_phrase, scale_for, signed_phrase

if TYPE_CHECKING:  # pragma: no cover
    from evaluation.results import AnalysisRecord, Bundle

__all__ = ["compliance_section", "CACE_LABEL_DA", "ITT_LABEL_DA", "IV_LABEL_DA"]

CACE_LABEL_DA = "Effekt for dem, der tog imod indsatsen (CACE)"
IV_LABEL_DA = "Effekt pr. enhed deltagelse (instrumentvariabel)"
ITT_LABEL_DA = "Effekt af at blive tilbudt indsatsen (intention-to-treat)"



def _itt(rec: "AnalysisRecord", family):
    return family.main_term(rec.result)


def _estimate_text(e, mult: float, unit: str, dec: int) -> str:
    """"3,1 procentpoint lavere (95 %-sikkerhedsinterval …)"."""
    if is_missing(e.estimate):
        return "kan ikke offentliggøres (for få personer)"
    return (f"{signed_phrase(e.estimate * mult, unit, dec)} "
            f"({interval_phrase(e.ci_lower * mult, e.ci_upper * mult, unit, dec)})")


def _same_take_up_before(rec: "AnalysisRecord", bundle: "Bundle"):
    """An earlier analysis of the bundle with the same take-up column, persons and first stage (its assumption
    table holds for this one too), or None."""
    d = rec.result.diagnostics
    for a in bundle.analyses:
        if a.id == rec.id:
            return None
        o = a.result.diagnostics
        if (o.get("take_up_column") == d.get("take_up_column") and o.get("first_stage_f") == d.get("first_stage_f")
                and o.get("n_analysed") == d.get("n_analysed") and o.get("take_up_one_sided") == d.get("take_up_one_sided")):
            return a
    return None


def compliance_section(rec: "AnalysisRecord", bundle: "Bundle", family, names: dict[str, str]) -> str:
    """'Deltagelse og effekt for dem, der tog imod indsatsen' for one analysis with a declared take-up column."""
    res = rec.result
    cace = next((e for e in res.estimates if e.term in CACE_TERMS), None)
    take = res.tables.get("take_up")
    if cace is None or take is None:
        return ""
    mult, unit, dec = scale_for(rec.unit, getattr(res, "outcome_type", "continuous"))
    itt = _itt(rec, family)
    out = [f"## Deltagelse og effekt for dem, der tog imod indsatsen: {rec.indicator_label}\n"]
    binary = "n_took_up" in take.columns
    sentences = []
    for _, r in take.iterrows():
        who = names.get(str(r["group"]), str(r["group"])).lower() + "n"
        if not binary:
            sentences.append(f"I {who} var den gennemsnitlige deltagelse {fmt_number(r['mean'], 2)}.")
        elif is_missing(r["n_took_up"]):
            sentences.append(f"I {who} kan antallet, der tog imod indsatsen, ikke vises (for få personer).")
        elif int(r["n_took_up"]) == 0:
            sentences.append(f"Ingen af de {fmt_int(r['n'])} i {who} tog imod indsatsen.")
        else:
            sentences.append(f"I {who} tog {fmt_int(r['n_took_up'])} af {fmt_int(r['n'])} "
                             f"({fmt_pct(r['share'], 0)}) imod indsatsen.")
    out.append(" ".join(sentences) + "\n")
    label = CACE_LABEL_DA if cace.term == "cace" else IV_LABEL_DA
    what = "Effekten for dem, der tog imod indsatsen," if cace.term == "cace" else "Effekten pr. enhed deltagelse"
    parts = []
    for subject, e in (("Effekten af at blive tilbudt indsatsen (intention-to-treat)", itt), (what, cace)):
        if is_missing(e.estimate):
            parts.append(f"{subject} kan ikke offentliggøres (for få personer).")
        else:
            parts.append(f"{subject} er {_estimate_text(e, mult, unit, dec)}.")
    if not is_missing(cace.estimate):
        parts.append("Den er beregnet med lodtrækningen som instrument for deltagelsen (to-trins mindste kvadraters "
                     "metode), så den sammenligner dem, der tog imod indsatsen, fordi de blev tilbudt den, med de "
                     "tilsvarende personer i kontrolgruppen.")
    out.append(" ".join(parts) + "\n")
    rows = []
    for name, e in ((ITT_LABEL_DA, itt), (label, cace)):
        rows.append((name, DASH if is_missing(e.estimate) else f"{fmt_number(e.estimate * mult, dec)} {unit}".strip(),
                     DASH if is_missing(e.ci_lower) else fmt_ci(e.ci_lower * mult, e.ci_upper * mult, dec),
                     DASH if is_missing(e.p_value) else fmt_p(e.p_value)))
    out.append(md_table(["Estimat", "Effekt", "95\u00a0%-sikkerhedsinterval", "p-værdi"], rows, align="lrrr"))
    checks = compliance_checks(res)
    earlier = _same_take_up_before(rec, bundle)
    if earlier is not None:
        out.append(f"Forudsætningerne og deres status er de samme som for «{earlier.indicator_label}» ovenfor (samme "
                   "personer og samme deltagelse).\n")
        return "\n".join(out)
    out.append("Effekten for dem, der tog imod indsatsen, hviler på tre forudsætninger ud over lodtrækningen. "
               "Tabellen viser, hvad data siger om hver af dem, og den status, reglen under tabellen giver.\n")
    rows = [(c["name_da"], c["finding_da"], f"**{STATUS_DA[c['status']]}**") for c in checks]
    out.append(md_table(["Forudsætning", "Hvad data viser", "Status"], rows, align="lll"))
    out.append("Regler: " + "; ".join(f"*{c['name_da'].split(' (')[-1].rstrip(')')}* {c['rule_da']}" for c in checks) + ".\n")
    rel = next(c for c in checks if c["id"] == "take_up_relevance")
    if rel["status"] in ("tvivlsom", "brudt"):
        out.append(f"**Advarsel:** Lodtrækningen flytter deltagelsen for lidt (F = {fmt_number(rel['number'], 1)}), så "
                   "effekten for dem, der tog imod indsatsen, er usikker og kan være skæv. Læg vægt på effekten af tilbuddet.\n")
    out.append("Hvis eksklusionsrestriktionen ikke holder – hvis tilbuddet i sig selv påvirker resultatet, også for dem, "
               "der ikke tog imod indsatsen – kan effekten for dem, der tog imod indsatsen, være over- eller "
               "undervurderet. Effekten af tilbuddet (intention-to-treat) bygger kun på lodtrækningen og gælder stadig.\n")
    return "\n".join(out)
