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
from evaluation.presentation.phrases import ci_label, common_level, interval_phrase, scale_for, signed_phrase

if TYPE_CHECKING:  # pragma: no cover
    from evaluation.results import AnalysisRecord, Bundle

__all__ = ["compliance_section", "mechanisms_section", "CACE_LABEL_DA", "ITT_LABEL_DA", "IV_LABEL_DA", "MEDIATION_LABELS_DA",
           "SEQUENTIAL_IGNORABILITY_DA", "excludes_zero"]

CACE_LABEL_DA = "Effekt for dem, der tog imod indsatsen (CACE)"
IV_LABEL_DA = "Effekt pr. enhed deltagelse (instrumentvariabel)"
ITT_LABEL_DA = "Effekt af at blive tilbudt indsatsen (intention-to-treat)"



def _itt(rec: "AnalysisRecord", family):
    return family.main_term(rec.result)


def _estimate_text(e, mult: float, unit: str, dec: int, level: float = 0.95) -> str:
    """"3,1 procentpoint lavere (95 %-sikkerhedsinterval …)", at the result's confidence ``level``."""
    if is_missing(e.estimate):
        return "kan ikke offentliggøres (for få personer)"
    return (f"{signed_phrase(e.estimate * mult, unit, dec)} "
            f"({interval_phrase(e.ci_lower * mult, e.ci_upper * mult, unit, dec, level=level)})")


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
    before = _same_take_up_before(rec, bundle)
    if before is not None:  # the same take-up was described for an earlier analysis: say so instead of repeating it
        sentences = [f"Deltagelsen er den samme som i analysen af «{before.indicator_label}» ovenfor."]
    out.append(" ".join(sentences) + "\n")
    label = CACE_LABEL_DA if cace.term == "cace" else IV_LABEL_DA
    what = "Effekten for dem, der tog imod indsatsen," if cace.term == "cace" else "Effekten pr. enhed deltagelse"
    parts = []
    for subject, e in (("Effekten af at blive tilbudt indsatsen (intention-to-treat)", itt), (what, cace)):
        if is_missing(e.estimate):
            parts.append(f"{subject} kan ikke offentliggøres (for få personer).")
        else:
            parts.append(f"{subject} er {_estimate_text(e, mult, unit, dec, res.conf_level)}.")
    if not is_missing(cace.estimate) and before is not None:
        parts.append("Den er beregnet som ovenfor.")
    elif not is_missing(cace.estimate):
        parts.append("Den er beregnet med lodtrækningen som instrument for deltagelsen (to-trins mindste kvadraters "
                     "metode), så den sammenligner dem, der tog imod indsatsen, fordi de blev tilbudt den, med de "
                     "tilsvarende personer i kontrolgruppen.")
    out.append(" ".join(parts) + "\n")
    rows = []
    for name, e in ((ITT_LABEL_DA, itt), (label, cace)):
        rows.append((name, DASH if is_missing(e.estimate) else f"{fmt_number(e.estimate * mult, dec)} {unit}".strip(),
                     DASH if is_missing(e.ci_lower) else fmt_ci(e.ci_lower * mult, e.ci_upper * mult, dec),
                     DASH if is_missing(e.p_value) else fmt_p(e.p_value)))
    out.append(md_table(["Estimat", "Effekt", ci_label(res.conf_level), "p-værdi"], rows, align="lrrr"))
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


# ---------------------------------------------------------------------------
# mechanisms: mediation analyses of the links that name a mediator
# ---------------------------------------------------------------------------

MEDIATION_LABELS_DA = {
    "acme": "Gennem mekanismen (ACME)",
    "ade": "Direkte (ADE)",
    "total_effect": "Samlet effekt",
    "prop_mediated": "Andel gennem mekanismen",
}
SEQUENTIAL_IGNORABILITY_DA = ("Analysen forudsætter, at intet umålt forhold påvirker både mediatoren og resultatet, når der "
                              "er taget højde for lodtrækningen og baggrundsforholdene (sekventiel ignorabilitet). Det kan "
                              "ikke testes med data; følsomhedsanalysen viser, hvor stærkt et sådant forhold skulle være "
                              "for at fjerne den indirekte effekt.")


def _mediation_rows(rec: "AnalysisRecord") -> dict[str, dict[str, dict]]:
    """mediator → term → row of the published mediation table."""
    t = rec.result.tables.get("mediation")
    out: dict[str, dict[str, dict]] = {}
    if t is None:
        return out
    for _, r in t.iterrows():
        out.setdefault(str(r["mediator"]), {})[str(r["term"])] = r.to_dict()
    return out


def _cell(r: dict, mult: float, dec: int) -> str:
    if r is None or is_missing(r.get("estimate")):
        return DASH
    ci = "" if is_missing(r.get("ci_lower")) else f" ({fmt_ci(r['ci_lower'] * mult, r['ci_upper'] * mult, dec)})"
    return f"{fmt_number(r['estimate'] * mult, dec)}{ci}"


def excludes_zero(r: dict | None) -> bool:
    """Whether a published row's interval lies on one side of zero."""
    if r is None or is_missing(r.get("ci_lower")) or is_missing(r.get("ci_upper")):
        return False
    return float(r["ci_lower"]) > 0 or float(r["ci_upper"]) < 0


def mechanisms_section(records: list["AnalysisRecord"], bundle: "Bundle", figures) -> str:
    """'Mekanismer: hvorfor virkede indsatsen?' — every mechanism measured by a mediator, with the ACME, ADE, total
    effect and share mediated of each analysed outcome, and the sensitivity to mediator–outcome confounding."""
    with_med = [a for a in records if a.result.tables.get("mediation") is not None
                or any((d or {}).get("skipped") for d in (a.result.diagnostics.get("mediation") or {}).values())]
    if not with_med:
        return ""
    theory = bundle.theory
    mechs = {m["id"]: (i + 1, m) for i, m in enumerate(theory.get("mechanisms", []))}
    nodes = {n["id"]: n["label"] for n in theory["nodes"]}
    inds = {i["id"]: i for i in theory.get("indicators", [])}
    sims = sorted({(a.result.diagnostics.get("mediation") or {}).get(m, {}).get("sims") for a in with_med
                   for m in (a.result.diagnostics.get("mediation") or {})} - {None})
    out = ["# Mekanismer: hvorfor virkede indsatsen? {#mekanismer}\n",
           "Programteorien siger, gennem hvilke mekanismer indsatsen skal føre til resultaterne. Hvor en mekanisme er målt "
           "med en indikator (en mediator), deler analysen effekten op i den del, der går gennem mekanismen (den indirekte "
           "effekt, ACME), og resten (den direkte effekt, ADE). Metoden er Imai, Keele og Yamamoto (2010) med lineære "
           "modeller og de samme baggrundsforhold som effektanalysen"
           + (f"; sikkerhedsintervallerne er bootstrap-intervaller med {fmt_int(sims[0])} trækninger.\n" if len(sims) == 1
              else ".\n")]
    links = theory.get("links", [])
    by_mediator: dict[str, list["AnalysisRecord"]] = {}
    for a in with_med:
        for m in (a.result.diagnostics.get("mediation") or {}):
            by_mediator.setdefault(m, []).append(a)
    for mediator, recs in by_mediator.items():
        info0 = (recs[0].result.diagnostics.get("mediation") or {})[mediator]
        link = links[info0["link_index"]] if info0.get("link_index") is not None else {}
        no, mech = mechs.get(info0.get("mechanism"), (None, {"label": info0.get("mechanism"), "resource": "", "reasoning": ""}))
        ind = inds.get(mediator, {"label": mediator})
        out.append(f"## Mekanisme M{no}: {mech['label']}\n" if no else f"## Mekanisme: {mech['label']}\n")
        bits = [f"*Pilen i programteorien:* «{nodes.get(link.get('from'), link.get('from'))}» → «{nodes.get(link.get('to'), link.get('to'))}»."]
        if mech.get("resource"):
            bits.append(f"*Hvad indsatsen tilbyder:* {mech['resource'].rstrip('.')}.")
        if mech.get("reasoning"):
            bits.append(f"*Hvordan deltagerne reagerer:* {mech['reasoning'].rstrip('.')}.")
        bits.append(f"*Målt ved:* «{ind['label']}».")
        out.append(" ".join(bits) + "\n")
        rows_first = _mediation_rows(recs[0]).get(mediator, {})
        mi, mc = rows_first.get("mediator_intervention"), rows_first.get("mediator_control")
        if mi is not None and mc is not None:
            binary = str(mi.get("method", "")).startswith("share")
            if binary:
                vi = DASH if is_missing(mi["estimate"]) else fmt_pct(mi["estimate"], 0)
                vc = DASH if is_missing(mc["estimate"]) else fmt_pct(mc["estimate"], 0)
                out.append(f"Andelen med «{ind['label'][0].lower() + ind['label'][1:]}» var {vi} i interventionsgruppen og "
                           f"{vc} i kontrolgruppen.\n")
            else:
                out.append(f"Gennemsnittet af «{ind['label'][0].lower() + ind['label'][1:]}» var "
                           f"{fmt_number(mi['estimate'], 2)} i interventionsgruppen og {fmt_number(mc['estimate'], 2)} i "
                           "kontrolgruppen.\n")
        table = []
        sentences = []
        for a in recs:
            info = (a.result.diagnostics.get("mediation") or {})[mediator]
            if info.get("skipped"):
                sentences.append(f"- **{a.indicator_label}:** mekanismen er ikke analyseret, fordi mediatoren mangler for "
                                 "for få personer til, at antallet kan vises.")
                continue
            rows = _mediation_rows(a).get(mediator, {})
            mult, unit, dec = scale_for(a.unit, getattr(a.result, "outcome_type", "continuous"))
            tot = rows.get("total_effect")
            prop = rows.get("prop_mediated") if excludes_zero(tot) else None
            prop_txt = DASH if prop is None or is_missing(prop.get("estimate")) else (
                f"{fmt_pct(prop['estimate'], 0)} ({fmt_ci(prop['ci_lower'] * 100, prop['ci_upper'] * 100, 0)}\u00a0%)")
            table.append((a.indicator_label + (f" ({unit})" if unit else ""), _cell(rows.get("acme"), mult, dec),
                          _cell(rows.get("ade"), mult, dec), _cell(tot, mult, dec), prop_txt))
            acme = rows.get("acme")
            if acme is None or is_missing(acme.get("estimate")):
                sentences.append(f"- **{a.indicator_label}:** den indirekte effekt kan ikke offentliggøres.")
                continue
            est = acme["estimate"] * mult
            s = [f"- **{a.indicator_label}:** Den del af effekten, der går gennem mekanismen, er "
                 f"{signed_phrase(est, unit, dec)} ({interval_phrase(acme['ci_lower'] * mult, acme['ci_upper'] * mult, unit, dec, level=a.result.conf_level)})."]
            if excludes_zero(acme):
                s.append(f"Intervallet udelukker nul ({fmt_p(acme['p_value'])}): en del af effekten går gennem mekanismen.")
            else:
                s.append(f"Vi kan ikke udelukke, at ingen del af effekten på «{a.indicator_label}» går gennem mekanismen.")
            rho0 = info.get("rho_at_zero")
            if rho0 is None:
                s.append("Ingen korrelation mellem −1 og 1 mellem fejlleddene i mediator- og resultatmodellen ville gøre den "
                         "indirekte effekt nul.")
            else:
                s.append(f"Den indirekte effekt ville være nul, hvis et umålt forhold skabte en korrelation på ρ = "
                         f"{fmt_number(rho0, 2)} mellem fejlleddene i mediator- og resultatmodellen – fx et forhold, der "
                         f"forklarede {fmt_pct(abs(rho0), 0)} af den uforklarede variation i både mediatoren og resultatet.")
            sentences.append(" ".join(s))
        if table:
            out.append(md_table(["Resultat", MEDIATION_LABELS_DA["acme"], MEDIATION_LABELS_DA["ade"],
                                 MEDIATION_LABELS_DA["total_effect"], MEDIATION_LABELS_DA["prop_mediated"]], table,
                                align="lrrrr"))
            lvl = common_level(a.result.conf_level for a in recs)
            cis = ci_label(lvl, plural=True) if lvl is not None else "sikkerhedsintervaller på hver analyses niveau"
            out.append(f"Tallene i parentes er {cis}. Andelen gennem mekanismen vises kun, når den "
                       "samlede effekt er sikkert forskellig fra nul.\n")
        out.append("\n".join(sentences) + "\n")
        out.append(SEQUENTIAL_IGNORABILITY_DA + "\n")
        for a in recs:
            key = f"mediation_{a.id}_{mediator}"
            if key in figures:
                out.append(f"![Følsomhed af den indirekte effekt på «{a.indicator_label}» for umålte forhold]({figures[key]})"
                           "{width=80%}\n")
            elif a.result.tables.get("mediation_sensitivity") is not None and a.primary:
                out.append(f"Følsomhedsfiguren for «{a.indicator_label}» er udeladt, fordi den indirekte effekt ikke kan "
                           "beregnes for nogen værdi af korrelationen ρ.\n")
    return "\n".join(out)
