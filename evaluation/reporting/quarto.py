"""Write a study's Danish report as a Quarto project and render it.

The report only displays the results bundle (``results/<slug>/results.json``, read once into a
typed :class:`~evaluation.results.Bundle`); it never re-estimates. This module is the skeleton:
its sections are generic, and every design-specific sentence — headline, who took part, method,
effects, body sections, caveats — comes from the analysis's design family
(:attr:`evaluation.designs.family.Family.report`). The ``.qmd`` uses markdown that both Quarto
and plain pandoc understand (YAML front matter, pipe tables, fenced divs, figures as files), so
both renderers give the same document. Sections that do not apply to a study are left out rather
than printed empty.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from evaluation.reporting.robustness import section_robustness
from evaluation.designs.family import families, get_family
from evaluation.presentation.formatting import (
    evidence_level_text,
    fmt_ci,
    fmt_date,
    fmt_dkk,
    fmt_int,
    fmt_number,
    fmt_p,
    fmt_pct,
    is_missing,
)
from evaluation.presentation.markdown import DASH, md_table
from evaluation.presentation.phrases import (
    interval_in_parentheses,
    period_label,
    scale_for,
)
from evaluation.reporting.render import render_project
from evaluation.reporting.time_sections import economy_section, economy_summary_line, effects_time_sections
from evaluation.exceptions import StaleReportError
from evaluation.results import AnalysisRecord, Bundle, load_bundle, output_lock, replace_dir
from evaluation.results import bundle_fingerprint as _fingerprint_of

__all__ = ["build_report", "write_report_project", "made_from", "MADE_FROM", "report_markdown", "headline_sentence", "STATUS_LABELS"]

STATUS_LABELS = {"met": "Opfyldt", "not_met": "Ikke opfyldt", "undecidable": "Kan ikke afgøres endnu"}
DIRECTION_LABELS = {"increase": "stige", "decrease": "falde"}
CRITICALITY_LABELS = {"high": "Høj", "medium": "Middel", "low": "Lav"}
CMO_STATUS = {"initial": "Foreløbig", "refined": "Justeret", "refuted": "Afkræftet"}
HORIZON_LABELS = {"short": "kort sigt", "medium": "mellemlang sigt", "long": "lang sigt"}


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


def _yaml_str(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(str(text), ensure_ascii=False)


def _fmt_value(x: Any, mult: float, dec: int) -> str:
    return DASH if is_missing(x) else fmt_number(float(x) * mult, dec)


def _parts(rec: AnalysisRecord):
    return get_family(rec.design).report


def _present_families(b: Bundle):
    """The families of the bundle's analyses, from the least to the most trustworthy design."""
    present = {a.design for a in b.analyses}
    return sorted((f for f in families() if f.design in present), key=lambda f: (f.evidence_level, f.design))


def headline_sentence(analysis: AnalysisRecord | Mapping[str, Any], bundle: Bundle | None = None) -> str:
    """One plain-Danish sentence with the main estimate of an analysis and its interval (from its family)."""
    rec = analysis if isinstance(analysis, AnalysisRecord) else AnalysisRecord.from_dict(analysis)
    return _parts(rec).headline(rec, bundle)


# ---------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------


def _section_headline(b: Bundle) -> str:
    heads = b.headline_analyses() or list(b.analyses[:2])
    out = ["# Hovedresultater {#hovedresultater}\n"]
    if heads:
        for a in heads:
            out.extend(_parts(a).headline_lines(a, b))
        out.append("")
        levels = sorted({a.result.evidence_level for a in heads if a.result.evidence_level >= 1}, reverse=True)
        for lvl in levels:
            if lvl == 1:
                out.append("::: {.callout-warning title=\"Evidensniveau\"}\n**Evidensniveau 1 af 5:** "
                           f"{evidence_level_text(1)}. Rapporten viser, hvordan tallet udviklede sig, og om målet blev nået "
                           "– ikke om projektet var årsagen.\n:::\n")
                continue
            out.append(f"::: {{.callout-note title=\"Evidensniveau\"}}\n**Evidensniveau {lvl} af 5:** {evidence_level_text(lvl)}\n:::\n")
    if b.targets and not heads:
        out.append(
            "::: {.callout-warning title=\"Evidensniveau\"}\n**Evidensniveau 1 af 5:** "
            f"{evidence_level_text(1)}. Rapporten viser, om målene blev nået – ikke om projektet var årsagen.\n:::\n"
        )
    econ = economy_summary_line(b)
    if econ:
        out.append(econ + " Se afsnittet *Økonomi*.\n")
    if b.targets:
        counts = {k: sum(1 for t in b.targets if t.result.status == k) for k in STATUS_LABELS}
        parts = [f"{counts[k]} {STATUS_LABELS[k].lower()}" for k in STATUS_LABELS if counts[k]]
        out.append(f"**Målopfyldelse:** {len(b.targets)} mål i alt – " + ", ".join(parts) + ". Se afsnittet *Målopfyldelse*.\n")
    if not heads and not b.targets:
        out.append("Der er endnu ingen kvantitative resultater for projektet.\n")
    return "\n".join(out)


def _section_project(b: Bundle, figures: Mapping[str, str]) -> str:
    s, t = b.study, b.theory
    tg = t["target_group"]
    out = ["# Projektet og programteorien {#projektet}\n"]
    if s.get("summary"):
        out.append(s["summary"].strip() + "\n")
    rows = [
        ("Projektholder", s["operator"]),
        ("Bevilget af", f"{s['funder']['name']} ({s['funder']['type']})"),
        ("Bevillingsdato", fmt_date(s["funder"].get("decision_date")) if s["funder"].get("decision_date") else DASH),
        ("Projektperiode", f"{fmt_date(s['period']['start'])} – {fmt_date(s['period']['end'])}"),
        ("Bevilling", fmt_dkk(s["budget_dkk"]) if s.get("budget_dkk") is not None else DASH),
    ]
    if s.get("catalogue_number") is not None:
        rows.append(("Nummer i projektkataloget", str(s["catalogue_number"])))
    out.append(md_table(["Projektoplysninger", ""], rows, align="ll"))
    out.append("## Målgruppe\n")
    out.append(tg["description"].strip() + "\n")
    if tg.get("inclusion"):
        out.append("**Hvem kan deltage:**\n\n" + "\n".join(f"- {x}" for x in tg["inclusion"]) + "\n")
    if tg.get("exclusion"):
        out.append("**Hvem kan ikke deltage:**\n\n" + "\n".join(f"- {x}" for x in tg["exclusion"]) + "\n")
    if tg.get("expected_n"):
        out.append(f"Forventet antal deltagere: {fmt_int(tg['expected_n'])}.\n")
    out.append("## Programteori\n")
    out.append(
        "Programteorien viser, hvordan projektets ressourcer og aktiviteter forventes at føre til resultater. "
        "Hver pil er forklaret af en mekanisme (M1, M2 …) eller markeret som et direkte skridt.\n"
    )
    if "logic_model" in figures:
        out.append(f"![Programteori (logikmodel) for {s['title']}]({figures['logic_model']}){{width=100%}}\n")
    if t.get("mechanisms"):
        out.append("### Mekanismer\n")
        rows = [(f"M{i + 1}", m["label"], m["resource"], m["reasoning"]) for i, m in enumerate(t["mechanisms"])]
        out.append(md_table(["", "Mekanisme", "Hvad indsatsen tilbyder", "Hvordan deltagerne reagerer"], rows, align="llll"))
    if t.get("context") or t.get("moderators"):
        out.append("### Kontekst og moderatorer\n")
        rows = [("Kontekst", c["description"]) for c in t.get("context", [])]
        rows += [("Moderator (for hvem)", m["label"]) for m in t.get("moderators", [])]
        out.append(md_table(["Type", "Beskrivelse"], rows, align="ll"))
    if t.get("cmo"):
        out.append("### CMO-konfigurationer\n")
        ctx = {c["id"]: c["description"] for c in t.get("context", [])}
        mech = {m["id"]: m["label"] for m in t.get("mechanisms", [])}
        nodes = {n["id"]: n["label"] for n in t["nodes"]}
        rows = [
            ("; ".join(ctx.get(c, c) for c in cm["context"]) or DASH, mech.get(cm["mechanism"], cm["mechanism"]),
             nodes.get(cm["outcome"], cm["outcome"]), CMO_STATUS[cm["status"]])
            for cm in t["cmo"]
        ]
        out.append(md_table(["Kontekst", "Mekanisme", "Resultat", "Status"], rows, align="llll"))
    if t.get("assumptions"):
        out.append("### Antagelser\n")
        inds = {i["id"]: i["label"] for i in t.get("indicators", [])}
        rows = []
        for a in t["assumptions"]:
            test = DASH
            if a.get("test"):
                op = "mindst" if a["test"]["direction"] == "at_least" else "højst"
                test = f"{inds.get(a['test']['indicator'], a['test']['indicator'])}: {op} {fmt_number(a['test']['threshold'], 2)}"
            rows.append((a["description"], CRITICALITY_LABELS[a["criticality"]], test))
        out.append(md_table(["Antagelse", "Betydning", "Hvordan den testes"], rows, align="lll"))
    if t.get("indicators"):
        out.append("### Indikatorer\n")
        nodes = {n["id"]: n for n in t["nodes"]}
        rows = []
        for i in t["indicators"]:
            node = nodes.get(i["outcome"], {})
            how = f"Metrik «{i['metric']['name']}»" if i.get("metric") else f"Kvalitativ: {i['qualitative']['method']}"
            hor = HORIZON_LABELS.get(node.get("horizon") or "", "")
            rows.append((node.get("label", i["outcome"]) + (f" ({hor})" if hor else ""), i["label"], how))
        out.append(md_table(["Resultat", "Indikator", "Måles med"], rows, align="lll"))
    return "\n".join(out)


def _section_participants(b: Bundle) -> str:
    primary = b.primary
    if primary is None:
        return ""
    return _parts(primary).participants(primary, b)


def _section_method(b: Bundle) -> str:
    out = ["# Metode {#metode}\n"]
    for design in sorted({a.design for a in b.analyses}):
        out.append(f"**Design:** {get_family(design).label_da}.\n")
    if b.analyses:
        out.append("## Definition af resultatmålene\n")
        seen: set[str] = set()
        for a in b.analyses:
            if a.indicator in seen:
                continue
            seen.add(a.indicator)
            primary = any(x.primary for x in b.analyses if x.indicator == a.indicator)
            out.append(f"**{a.indicator_label}** ({'primært' if primary else 'sekundært'} mål). {a.definition_da}\n")
        out.append("## Estimand og usikkerhed\n")
        rows = []
        for a in b.analyses:
            parts = _parts(a)
            shown = [e for e in parts.shown_terms(a.result) if not e.term.startswith("placebo")]
            methods = "; ".join(dict.fromkeys(parts.method_da(a, e, b.labels) for e in shown))
            rows.append((a.indicator_label, parts.estimand_text(a), methods))
        out.append(md_table(["Mål", "Hvad der estimeres", "Metode og sikkerhedsinterval"], rows, align="lll"))
        out.append("De præcise tekniske metodebeskrivelser står i bilaget.\n")
        effects = any(get_family(a.design).is_effect for a in b.analyses)
        out.append(
            "Alle sikkerhedsintervaller er 95\u00a0%-sikkerhedsintervaller: hvis undersøgelsen blev gentaget mange gange, "
            f"ville 95\u00a0% af intervallerne indeholde den sande {'effekt' if effects else 'værdi'}.\n"
        )
        for fam in families():
            records = [a for a in b.analyses if a.design == fam.design]
            if records:
                out.extend(fam.report.method_notes(records))
    out.append(
        f"**Forhåndsregistrering:** evalueringsplanen (study.yaml) har fingeraftrykket {_hash_text(b.config_hash)[:25]}…; "
        "det fulde fingeraftryk står i bilaget. Ændres planen, ændres fingeraftrykket.\n"
    )
    return "\n".join(out)


def _section_bodies(b: Bundle, figures: Mapping[str, str], slot: str) -> str:
    """The families' own sections for one place in the report (before the effects, after the subgroups)."""
    out = []
    for fam in families():
        records = [a for a in b.analyses if a.design == fam.design]
        if records and fam.report.body_slot == slot:
            text = fam.report.body(records, b, figures)
            if text:
                out.append(text)
    return "\n".join(out)


def _section_effects(b: Bundle, figures: Mapping[str, str]) -> str:
    effects = [a for a in b.analyses if get_family(a.design).is_effect]
    if not effects:
        return ""
    out = ["# Effekter {#effekter}\n"]
    rows = []
    for a in effects:
        rows.extend(_parts(a).effect_rows(a))
    lottery = all(get_family(a.design).random_assignment for a in effects)
    sizes = "Antal (int. / kontrol)" if lottery else "Antal (deltagere / sammenligning)"
    out.append(md_table(["Mål", "Estimat", "Effekt", "95\u00a0%-sikkerhedsinterval", "p-værdi", sizes], rows, align="llrrrr"))
    out.append("Andele er vist som forskelle i procentpoint. Negative tal betyder, at deltagerne (interventionsgruppen) lå lavest.\n")
    for key, fig in sorted(figures.items()):
        if key.startswith("forest"):
            out.append(f"![Effekter med 95\u00a0%-sikkerhedsintervaller]({fig}){{width=90%}}\n")
    if "time_course" in figures:
        out.append("## Tidsforløb\n")
        out.append(
            "Figuren viser, hvor stor en andel af hver gruppe der var selvforsørgende (uden offentlig ydelse) i hver uge "
            "efter starten. Uger med for få personer er udeladt.\n"
        )
        out.append(f"![Andel selvforsørgende uge for uge efter start]({figures['time_course']}){{width=90%}}\n")
    for a in b.analyses:
        extra = _parts(a).effects_extra(a, b, figures)
        if extra:
            out.append(extra)
    time = effects_time_sections(b, figures)
    if time:
        out.append(time)
    return "\n".join(out)


def _section_subgroups(b: Bundle) -> str:
    blocks = []
    mod_vars = {m["id"]: m.get("variable") or "" for m in b.theory.get("moderators", [])}
    for a in b.analyses:
        res = a.result
        sub = res.tables.get("subgroups")
        if sub is None or not len(sub):
            continue
        mult, unit, dec = scale_for(a.unit, res.outcome_type)
        rows = []
        for _, r in sub.iterrows():
            var = mod_vars.get(r["moderator"], r["moderator"])
            rows.append((r["moderator_label"], b.value_label(var, r["level"]), "Forhåndsangivet" if r["prespecified"] else "Udforskende",
                         _fmt_value(r["estimate"], mult, dec), DASH if is_missing(r["ci_lower"]) else fmt_ci(r["ci_lower"] * mult, r["ci_upper"] * mult, dec),
                         DASH if is_missing(r.get("p_interaction_holm")) else fmt_p(r["p_interaction_holm"])))
        blocks.append(f"## {a.indicator_label}\n\n" + md_table(
            ["Moderator", "Gruppe", "Type", f"Effekt ({unit})" if unit else "Effekt", "95\u00a0%-sikkerhedsinterval", "Interaktion (Holm)"], rows, align="lllrrr"))
    if not blocks:
        return ""
    intro = (
        "# Hvordan og for hvem {#for-hvem}\n\n"
        "Effekten er opgjort for de undergrupper, programteorien på forhånd pegede på (moderatorer). "
        "Interaktionstesten viser, om effekten er forskellig mellem undergrupperne; p-værdierne er Holm-korrigeret "
        "for flere test (forhåndsangivne og udforskende test hver for sig). Udforskende undergrupper stod ikke i "
        "programteorien på forhånd; de skal læses som idéer til at undersøge, ikke som resultater. "
        "Undergrupper med for få personer vises ikke.\n\n"
    )
    return intro + "\n".join(blocks)


def _section_targets(b: Bundle) -> str:
    if not b.targets:
        return ""
    out = ["# Målopfyldelse {#maal}\n"]
    out.append(
        "Et mål (resultatkrav) er opfyldt, når hele 95\u00a0%-sikkerhedsintervallet ligger på den rigtige side af målet. "
        "Et mål, der er nået, siger i sig selv ikke, at projektet var årsagen – kun en sammenligning med en "
        "sammenligningsgruppe kan vise det.\n"
    )
    rows: list[tuple] = []
    qual: list[tuple] = []
    for t in b.targets:
        tg, r = t.target, t.result
        mult, unit, dec = scale_for(t.unit, "continuous")
        if unit == "procentpoint":  # a level of a share is in per cent; only differences are in percentage points
            unit = "%"
        e = r.estimates[0]
        kind = {"effect": "Effekt", "level": "Niveau", "relative_change": "Relativ ændring"}[tg["goal_type"]]
        if tg.get("goal") is None:  # qualitative requirement: own table below
            qual.append((t.label, tg.get("requirement") or DASH, f"**{STATUS_LABELS[r.status]}**", r.reason))
            continue
        if tg["goal_type"] == "relative_change":
            goal_txt, res_txt = fmt_pct(tg["goal"], 1), DASH if is_missing(e.estimate) else fmt_pct(e.estimate, 1)
            base = DASH if tg.get("baseline") is None else fmt_number(tg["baseline"] * mult, dec)
        else:
            goal_txt = f"{fmt_number(tg['goal'] * mult, dec)} {unit}".strip()
            res_txt = DASH if is_missing(e.estimate) else f"{fmt_number(e.estimate * mult, dec)} {unit}".strip()
            base_v = r.baseline if r.baseline is not None else tg.get("baseline")
            base = DASH if base_v is None else f"{fmt_number(base_v * mult, dec)} {unit}".strip()
        ci_mult = 1 if tg["goal_type"] == "relative_change" else mult
        ci = DASH if is_missing(e.ci_lower) else fmt_ci(e.ci_lower * ci_mult, e.ci_upper * ci_mult, dec)
        rows.append((t.label, kind, base, f"{DIRECTION_LABELS[tg['direction']]} til {goal_txt}", res_txt, ci,
                     f"**{STATUS_LABELS[r.status]}**"))
    if rows:
        out.append(md_table(["Indikator", "Type", "Udgangspunkt", "Mål", "Resultat", "95\u00a0%-sikkerhedsinterval", "Status"], rows, align="lllllll"))
    if qual:
        out.append("## Kvalitative resultatkrav\n")
        out.append(md_table(["Indikator", "Resultatkrav", "Status", "Begrundelse"], qual, align="llll"))
    details = []
    for t in b.targets:
        tg = t.target
        bits = []
        if tg.get("goal") is not None:
            bits.append(f"*Status:* {STATUS_LABELS[t.result.status].lower()} – {t.result.reason}.")
        src = t.result.diagnostics or {}
        if src.get("baseline_label") and src.get("follow_up_label"):
            bits.append(f"*Resultatet* er målt på persondata i før/efter-analysen ({period_label(src['baseline_label'])} "
                        f"til {period_label(src['follow_up_label'])}); udgangspunktet er den målte andel.")
        for e in t.result.estimates:
            if e.term == "relative_change_from_baseline" and not is_missing(e.estimate) and not is_missing(e.ci_lower):
                bits.append(f"*Relativ ændring:* {fmt_pct(e.estimate, 1)} "
                            f"{interval_in_parentheses(e.ci_lower * 100, e.ci_upper * 100, 1, '%')}.")
            if e.term == "change_from_baseline" and not is_missing(e.estimate):
                bits.append(f"*Ændring fra udgangspunktet:* {fmt_number(e.estimate * 100, 1)} procentpoint "
                            f"{interval_in_parentheses(e.ci_lower * 100, e.ci_upper * 100, 1)}.")
        if tg.get("requirement") and tg.get("goal") is not None:
            bits.append(f"*Resultatkrav:* {tg['requirement']}")
        if tg.get("measurement_method"):
            bits.append(f"*Målemetode:* {tg['measurement_method'].rstrip('.')}.")
        if tg.get("follow_up"):
            bits.append(f"*Opfølgning:* {tg['follow_up'].rstrip('.')}.")
        if tg.get("deadline"):
            bits.append(f"*Frist:* {fmt_date(tg['deadline'])}.")
        if bits:
            details.append(f"- **{t.label}.** " + " ".join(bits))
    if details:
        out.append("\n".join(details) + "\n")
    return "\n".join(out)


def _section_economy(b: Bundle) -> str:
    if b.economy:
        return economy_section(b)
    budget = b.study.get("budget_dkk")
    if not budget or not b.analyses:
        return ""
    primary = b.primary
    res = primary.result
    e = get_family(primary.design).main_term(res)
    n_t = e.n_treated
    if not n_t:
        return ""
    out = ["# Økonomi {#oekonomi}\n"]
    per = budget / n_t
    out.append(f"Bevillingen på {fmt_dkk(budget)} svarer til {fmt_dkk(round(per))} pr. deltager i interventionsgruppen ({fmt_int(n_t)} personer).\n")
    mult, unit, dec = scale_for(primary.unit, res.outcome_type)
    cost_unit = b.report_options.get("cost_unit")
    # a share of weeks in a window (benefit dependency) is turned into weeks: share × window length
    weeks = primary.weeks_per_unit
    scale = float(weeks) if weeks else 1.0
    if weeks:
        unit = "uger"
    can_cost = weeks or (res.outcome_type != "binary" and primary.unit != "andel")
    if not is_missing(e.ci_lower) and (e.ci_lower > 0 or e.ci_upper < 0) and can_cost:
        total = abs(e.estimate) * n_t * scale
        lo, hi = sorted([abs(e.ci_lower) * n_t * scale, abs(e.ci_upper) * n_t * scale])
        if weeks:
            fewer = e.estimate < 0
            unit = f"{'færre' if fewer else 'flere'} uger på offentlig forsørgelse"
            cost_unit = f"{'sparet' if fewer else 'ekstra'} uge på offentlig forsørgelse"
        out.append(
            f"Effekten svarer til {fmt_number(total, 0)} {unit} i alt for deltagerne "
            f"{interval_in_parentheses(lo, hi, 0)}, dvs. {fmt_dkk(round(budget / total))} pr. {cost_unit or unit} "
            f"(mellem {fmt_dkk(round(budget / hi))} og {fmt_dkk(round(budget / lo))}).\n"
        )
    elif not can_cost:
        out.append("Det primære mål er en andel af personer, så der beregnes ingen pris pr. enhed af effekten.\n")
    else:
        out.append("Da effekten på det primære mål ikke er sikkert påvist, beregnes ingen pris pr. opnået effekt.\n")
    return "\n".join(out)


def _section_caveats(b: Bundle) -> str:
    out = ["# Forbehold {#forbehold}\n"]
    present = _present_families(b)
    # every design's identifying assumption, once per assumption (the DiD designs share theirs)
    by_assumption: dict[str, list[str]] = {}
    for fam in present:
        if fam.assumption_da:
            by_assumption.setdefault(fam.assumption_da, []).append(fam.short_da or fam.design)
    for assumption, names in by_assumption.items():
        who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " og " + names[-1]
        out.append(f"- **Forudsætning ({who}):** {assumption}.")
    for fam in present:
        out.extend(fam.report.caveats([a for a in b.analyses if a.design == fam.design], b))
    for a in b.analyses:
        e = get_family(a.design).main_term(a.result)
        if a.mde and not is_missing(e.ci_lower) and e.ci_lower <= 0 <= e.ci_upper:
            out.append(
                f"- **{a.indicator_label}** viste ingen sikker effekt. {a.mde['sentence_da']} "
                "Mindre effekter kan derfor ikke udelukkes."
            )
    if b.targets:
        out.append("- Målopfyldelse uden sammenligningsgruppe siger ikke noget om årsag: målet kunne være nået uden projektet.")
    warns = sorted({w for a in b.analyses for w in a.warnings})
    for w in warns:
        out.append(f"- Advarsel fra beregningen: {w}")
    out.append(
        f"- Ingen tal i rapporten bygger på færre end {b.threshold} personer; sådanne celler er "
        "erstattet af «–» (diskretionering), og der vises aldrig oplysninger om enkeltpersoner."
    )
    return "\n".join(out) + "\n"


def _hash_text(h: str) -> str:
    """A SHA-256 fingerprint in groups of 16 hex digits, so it wraps in narrow columns."""
    algo, _, digest = h.partition(":")
    return f"{algo}: " + " ".join(digest[i:i + 16] for i in range(0, len(digest), 16))


def _section_appendix(b: Bundle, bundle_fingerprint: str | None = None) -> str:
    out = ["# Bilag {#bilag}\n", "## Sporbarhed\n"]
    rows = [("Evalueringsplan (study.yaml)", _hash_text(b.config_hash))]
    if bundle_fingerprint:
        rows.append(("Resultatfil (results.json), som rapporten er lavet fra", _hash_text(bundle_fingerprint)))
    rows += [(f"Data: {k}", _hash_text(v)) for k, v in b.data_hashes.items()]
    rows.append(("Programversion", f"evaluation {b.package_version}"))
    if b.code_list_version:
        rows.append(("Kodeliste", b.code_list_version))
    out.append(md_table(["Sporbarhed", "Fingeraftryk / version"], rows, align="ll"))
    if b.analyses:
        out.append("## Tekniske metodebeskrivelser\n")
        rows = []
        for a in b.analyses:
            res = a.result
            shown = _parts(a).shown_terms(res)
            for e in shown:
                rows.append((a.indicator_label, e.term, e.method))
            n_event = sum(1 for e in res.estimates if e not in shown and not e.term.startswith(("mean_", "share_")))
            if n_event:
                rows.append((a.indicator_label, f"{n_event} hændelsestidskoefficienter", "som ovenfor; alle tal står i results.json"))
            rows.append((a.indicator_label, "estimand", res.estimand))
        out.append(md_table(["Mål", "Estimat", "Metode (som beregnet)"], rows, align="lll"))
    notes = b.data_notes or {}
    if notes:
        out.append("## Data\n")
        for k, v in notes.items():
            out.append(f"- **{k}:** " + "; ".join(v))
        out.append("")
    out.append("## Diskretionering\n")
    log = b.disclosure["log"]
    if log:
        out.append(
            f"Celler, der bygger på færre end {b.threshold} personer, er skjult («–»), og hvor en skjult "
            "celle kunne regnes ud af totalen, er en celle mere skjult. Den fulde liste står i resultatfilen (results.json).\n"
        )
        groups: dict[tuple[str, str], int] = {}
        for e in log:
            groups[(e["table"], e["reason"])] = groups.get((e["table"], e["reason"]), 0) + 1
        rows = [(t, fmt_int(n), r) for (t, r), n in sorted(groups.items())]
        out.append(md_table(["Tabel", "Skjulte celler", "Årsag"], rows, align="lrl"))
    else:
        out.append(f"Ingen celler skulle skjules (grænse: {b.threshold} personer).\n")
    return "\n".join(out)


def report_markdown(bundle: Bundle | Mapping[str, Any], figures: Mapping[str, str] | None = None, *,
                    bundle_fingerprint: str | None = None) -> str:
    """The whole ``index.qmd`` text for a bundle (typed, or the plain dict of ``results.json``).

    ``bundle_fingerprint`` (the SHA-256 of the ``results.json`` bytes) is stated in the appendix.
    """
    b = Bundle.from_dict(bundle)
    figures = dict(figures if figures is not None else b.figures)
    s = b.study
    front = [
        "---",
        f"title: {_yaml_str(s['title'])}",
        f"subtitle: {_yaml_str('Evaluering af ' + s['operator'] + ' – rapport til ' + s['funder']['name'])}",
        "lang: da",
        "toc: true",
        'toc-title: "Indhold"',
        "number-sections: true",
        "---",
        "",
    ]
    sections = [
        _section_headline(b),
        _section_project(b, figures),
        _section_participants(b),
        _section_method(b),
        _section_bodies(b, figures, "before_effects"),
        _section_effects(b, figures),
        _section_subgroups(b),
        _section_bodies(b, figures, "after_subgroups"),
        section_robustness(b),
        _section_targets(b),
        _section_economy(b),
        _section_caveats(b),
        _section_appendix(b, bundle_fingerprint),
    ]
    return "\n".join(front) + "\n".join(x for x in sections if x) + "\n"


QUARTO_YML = """project:
  type: default
  output-dir: .
lang: da
format:
  html:
    embed-resources: true
    toc: true
    number-sections: true
  typst:
    papersize: a4
    toc: true
    number-sections: true
"""


#: In every report folder: which results bundle the report was made from (its fingerprint).
MADE_FROM = "report.json"


def write_report_project(bundle_dir: str | os.PathLike, project_dir: str | os.PathLike) -> Path:
    """Write the Quarto project (``_quarto.yml``, ``index.qmd``, ``figures/``, ``report.json``) for a bundle.

    The bundle is read once (``results.json`` bytes, then its figures); the report states the
    fingerprint of those bytes in its appendix and in ``report.json``.
    """
    bundle_dir, project_dir = Path(bundle_dir), Path(project_dir)
    raw = (bundle_dir / "results.json").read_bytes() if bundle_dir.is_dir() else bundle_dir.read_bytes()
    fingerprint = "sha256:" + hashlib.sha256(raw).hexdigest()
    bundle = Bundle.from_dict(json.loads(raw.decode("utf-8")))
    project_dir.mkdir(parents=True, exist_ok=True)
    figs = {}
    if (bundle_dir / "figures").is_dir():
        shutil.copytree(bundle_dir / "figures", project_dir / "figures", dirs_exist_ok=True)
        figs = dict(bundle.figures)
    (project_dir / "_quarto.yml").write_text(QUARTO_YML, encoding="utf-8")
    (project_dir / "index.qmd").write_text(report_markdown(bundle, figs, bundle_fingerprint=fingerprint), encoding="utf-8")
    (project_dir / MADE_FROM).write_text(
        json.dumps({"study": bundle.study["id"], "bundle_fingerprint": fingerprint}, indent=2, sort_keys=True) + "\n",
        encoding="utf-8")
    return project_dir


def made_from(report_dir: str | os.PathLike) -> str | None:
    """The fingerprint of the bundle the report in ``report_dir`` was made from (None: no record)."""
    f = Path(report_dir) / MADE_FROM
    try:
        return str(json.loads(f.read_text(encoding="utf-8"))["bundle_fingerprint"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def build_report(bundle_dir: str | os.PathLike, out_root: str | os.PathLike = "reports", *, engine: str = "auto",
                 formats: Sequence[str] | None = None) -> dict[str, Path]:
    """Write and render the report for a bundle into ``out_root/<slug>/`` atomically.

    The project is written and rendered in a temporary folder; only when rendering succeeds
    is it moved into place, so a failed render leaves the previous report intact. Reports of one
    study are made one at a time (:func:`~evaluation.results.output_lock`); the bundle is read under
    the bundle's own lock, and if it has changed by the time the report is ready (another run
    finished meanwhile) the report is not put in place: :class:`~evaluation.exceptions.StaleReportError`.
    """
    bundle_dir = Path(bundle_dir)
    with output_lock(bundle_dir.parent, bundle_dir.name):
        bundle = load_bundle(bundle_dir)
    slug = bundle.study["id"]
    formats = tuple(formats or bundle.report_options.get("formats") or ("html", "pdf"))
    out_root = Path(out_root)
    with output_lock(out_root, slug):
        final = out_root / slug
        tmp = Path(tempfile.mkdtemp(prefix=f".{slug}.", dir=out_root))
        try:
            with output_lock(bundle_dir.parent, bundle_dir.name):
                write_report_project(bundle_dir, tmp)
            render_project(tmp, formats=formats, engine=engine)
            made, now = made_from(tmp), _current_fingerprint(bundle_dir)
            if made != now:
                raise StaleReportError(
                    f"{bundle_dir}: the results bundle changed while its report was made (made from {made}, now "
                    f"{now}); the report was not replaced. Run 'evaluation report' again. / Resultatfilen blev ændret, "
                    "mens rapporten blev lavet; rapporten er ikke udskiftet. Kør 'evaluation report' igen."
                )
            replace_dir(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    names = {"html": "index.html", "pdf": "index.pdf"}
    return {f: final / names[f] for f in formats}


def _current_fingerprint(bundle_dir: Path) -> str | None:
    with output_lock(bundle_dir.parent, bundle_dir.name):
        try:
            return _fingerprint_of(bundle_dir)
        except OSError:
            return None
