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

import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from evaluation.reporting.robustness import section_robustness
from evaluation.data.registers.codes import default_code_list
from evaluation.metrics.registry import metric_label_da
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
from evaluation.presentation.labels import IDENTIFIER, readable_label
from evaluation.presentation.markdown import DASH, md_table
from evaluation.presentation.phrases import ci_cell, ci_header, ci_label, common_level, level_pct, result_level, scale_for
from evaluation.reporting.cmo import section_cmo_status
from evaluation.reporting.dates import report_date
from evaluation.reporting.render import render_project
from evaluation.reporting.summary import (
    PROVENANCE_DA,
    banner,
    economy_lines,
    source_name,
    summary_box,
)
from evaluation.reporting.targets import goals_overview, targets_section
from evaluation.reporting.time_sections import economy_section, economy_summary_line, effects_time_sections
from evaluation.exceptions import StaleReportError
from evaluation.results import AnalysisRecord, Bundle, load_bundle, output_lock, replace_dir
from evaluation.results import bundle_fingerprint as _fingerprint_of

__all__ = ["build_report", "write_report_project", "made_from", "MADE_FROM", "report_markdown", "headline_sentence",
           "readable_definition"]

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


def _levels_sentence(b: Bundle, what: str) -> str:
    """What the report's intervals mean, at the level(s) the analyses were planned with."""
    levels = [result_level(a.result) for a in b.analyses] or [0.95]
    lvl = common_level(levels)
    if lvl is not None:
        return (f"Alle sikkerhedsintervaller er {ci_label(lvl, plural=True)}: hvis undersøgelsen blev gentaget mange "
                f"gange, ville {level_pct(lvl)} af intervallerne indeholde den sande {what}.\n")
    per = "; ".join(f"{level_pct(x)} for {', '.join(f'«{a.indicator_label}»' for a in b.analyses if result_level(a.result) == x)}"
                    for x in sorted(set(levels), reverse=True))
    x = min(levels)
    return (f"Sikkerhedsintervallerne har det niveau, evalueringsplanen fastlagde for hver analyse ({per}): et "
            f"{ci_label(x)} ville rumme den sande {what} i {level_pct(x)} af gentagne undersøgelser, og "
            "tilsvarende for de øvrige niveauer.\n")


def readable_definition(b: Bundle, text: str) -> str:
    """A definition written by the metric library, with the data sources and columns it quotes («participants»,
    «sick_weeks_52») named for a reader: a source by what it holds and its file, a column by its label."""
    names = {name: f"«{str(src.get('path') or name).replace(chr(92), '/').rsplit('/', 1)[-1]}»"
             for name, src in b.data_sources.items()}

    def quoted(m):
        key = m.group(1)
        if key in names:
            return names[key]
        if key in (b.labels or {}):
            return f"«{b.labels[key]}»"
        if IDENTIFIER.fullmatch(key):
            return f"«{readable_label(key, capitalise=False)}»"
        return m.group(0)

    return re.sub(r"«([^«»]+)»", quoted, text or "")


_BARE_COUNT = re.compile(r"(?<![\d.,\-W])(\d{4,})(?= (?:rækker|personer|uger|svar|besvarelser|celler|klynger|personuger)\b)")


def danish_counts(text: str) -> str:
    """Counts written by the data readers ("2443 rækker indlæst") with the Danish thousands separator."""
    return _BARE_COUNT.sub(lambda m: fmt_int(int(m.group(1))), text)


#: the computation's warnings (English, from the estimators) in Danish; an unknown warning is named, not quoted
_WARNINGS_DA = (
    (re.compile(r"covariate balance after \S+ fails the rule"),
     lambda m: "balancen efter justeringen opfylder ikke reglen (standardiseret forskel under 0,1 og variansforhold mellem "
               "0,5 og 2) for alle baggrundsforhold; se tabellen over baggrundsforhold og balance."),
    (re.compile(r"(\d+) intervention person\(s\) were dropped"),
     lambda m: f"{fmt_int(int(m.group(1)))} deltagere havde ingen sammenlignelig person i samme gruppe og indgår ikke; "
               "effekten gælder de øvrige deltagere."),
    (re.compile(r"estimates suppressed \(a cell below (\d+) persons\)"),
     lambda m: f"estimaterne er skjult, fordi en celle bygger på færre end {m.group(1)} personer."),
    (re.compile(r"correlate negatively with the rest of the scale"),
     lambda m: "et eller flere spørgsmål hænger negativt sammen med resten af skalaen; det kan betyde, at de skal vendes."),
)


def warning_da(message: str) -> str:
    """A warning of the computation in Danish (the full English text stays in results.json)."""
    for pattern, text in _WARNINGS_DA:
        m = pattern.search(message)
        if m:
            return text(m)
    return "beregningen gav en teknisk advarsel; den står i resultatfilen (results.json)."


def _sentences(text: str) -> list[str]:
    """A paragraph split into its sentences (at ". " before a capital letter)."""
    return [x.strip() for x in re.split(r"(?<=[.!?])\s+(?=[A-ZÆØÅ«])", text or "") if x.strip()]


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


def _section_headline(b: Bundle, reference) -> str:
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
    goals = goals_overview(b, reference)
    if goals:
        out.append(f"**Målopfyldelse:** {goals} Se afsnittet *Målopfyldelse*.\n")
    if not heads and not b.targets:
        out.append("Der er ingen kvantitative resultater for projektet.\n")
    return "\n".join(out)


def _figure_width(figure_dir: str | os.PathLike | None, rel: str, dpi: int = 200) -> float | None:
    """The width in inches of a PNG figure saved at ``dpi`` (read from its header), or None when unknown."""
    if figure_dir is None:
        return None
    path = Path(figure_dir) / rel
    try:
        head = path.read_bytes()[:24]
    except OSError:
        return None
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(head[16:20], "big") / dpi


def _section_project(b: Bundle, figures: Mapping[str, str], figure_dir: str | os.PathLike | None = None) -> str:
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
    parts = sorted((k for k in figures if k == "logic_model" or k.startswith("logic_model_")),
                   key=lambda k: int(k.rsplit("_", 1)[1]) if k[-1].isdigit() else 0)
    if len(parts) > 1:
        out.append(f"Programteorien er tegnet i {len(parts)} dele, så teksten kan læses på papir og skærm; kolonnen, hvor "
                   "to dele mødes, står i dem begge, og stiplede bokse står for trin, der er vist i en anden del.\n")
    for i, key in enumerate(parts, 1):
        what = f"Programteori (logikmodel) for {s['title']}" + (f", del {i} af {len(parts)}" if len(parts) > 1 else "")
        width = _figure_width(figure_dir, figures[key])
        # printed at its own size (its smallest text is 9 pt); on a narrow screen the figure scrolls sideways
        size = f"width={width:.2f}in" if width else "width=100%"
        out.append(f"::: {{.figure-scroll}}\n![{what}]({figures[key]}){{{size}}}\n:::\n")
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
        units = {i["id"]: i.get("unit") for i in t.get("indicators", [])}
        rows = []
        for a in t["assumptions"]:
            test = DASH
            if a.get("test"):
                op = "mindst" if a["test"]["direction"] == "at_least" else "højst"
                thr = a["test"]["threshold"]
                shown = fmt_pct(thr, 1 if round(thr * 100, 1) != round(thr * 100) else 0) \
                    if units.get(a["test"]["indicator"]) == "andel" else fmt_number(thr, 2)
                test = f"{inds.get(a['test']['indicator'], readable_label(a['test']['indicator']))}: {op} {shown}"
            # A1, A2 … as the logic-model diagram and the section "Hvor robust er resultatet?" call them
            rows.append((f"A{len(rows) + 1}", a["description"], CRITICALITY_LABELS[a["criticality"]], test))
        out.append(md_table(["Nr.", "Antagelse", "Betydning", "Hvordan den testes"], rows, align="llll",
                            widths=[6, 52, 12, 30]))
    if t.get("indicators"):
        out.append("### Indikatorer\n")
        nodes = {n["id"]: n for n in t["nodes"]}
        rows = []
        for i in t["indicators"]:
            node = nodes.get(i["outcome"], {})
            how = metric_label_da(i["metric"]["name"]) \
                if i.get("metric") else f"Kvalitativ: {i['qualitative']['method']}"
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
        defs = []
        for a in b.analyses:
            if a.indicator in seen:
                continue
            seen.add(a.indicator)
            primary = any(x.primary for x in b.analyses if x.indicator == a.indicator)
            defs.append((a, primary, _sentences(readable_definition(b, a.definition_da))))
        counts: dict[str, int] = {}
        for _, _, sents in defs:
            for x in dict.fromkeys(sents):
                counts[x] = counts.get(x, 0) + 1
        shared = [x for x in counts if counts[x] > 1]
        for a, primary, sents in defs:
            own = " ".join(x for x in sents if x not in shared)
            out.append(f"**{a.indicator_label}** ({'primært' if primary else 'sekundært'} mål). {own}\n")
        if shared:
            out.append("**For " + ("alle målene" if all(all(x in sents for x in shared) for _, _, sents in defs)
                                   else "flere af målene") + f" gælder:** {' '.join(shared)}\n")
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
        out.append(_levels_sentence(b, "effekt" if effects else "værdi"))
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
    levels = [result_level(a.result) for a in effects]
    for a in effects:  # the interval column names its level (each row's own when the analyses differ)
        rows.extend((*r[:3], ci_cell(r[3], result_level(a.result), levels), *r[4:]) for r in _parts(a).effect_rows(a))
    lottery = all(get_family(a.design).random_assignment for a in effects)
    sizes = "Antal (int. / kontrol)" if lottery else "Antal (deltagere / sammenligning)"
    out.append(md_table(["Mål", "Estimat", "Effekt", ci_header(levels), "p-værdi", sizes], rows, align="llrrrr"))
    out.append("Andele er vist som forskelle i procentpoint. Negative tal betyder, at deltagerne (interventionsgruppen) lå lavest.\n")
    for key, fig in sorted(figures.items()):
        if key.startswith("forest"):
            lvl = common_level(levels)
            cis = ci_label(lvl, plural=True) if lvl is not None else "sikkerhedsintervaller (niveau som i tabellen)"
            out.append(f"![Effekter med {cis}]({fig}){{width=90%}}\n")
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


def _labelled_note(b: Bundle, note: str) -> str:
    """A subgroup note with the data's Danish labels: «diagnosis_group» → «Diagnosegruppe», and the categories
    quoted after a covariate («muskel_skelet» → «Muskel og skelet»)."""
    m = re.search(r"kovariaten «([^»]+)»", note)
    if m is None:
        return note
    col = m.group(1)
    head, tail = note[:m.start()], note[m.end():]
    tail = re.sub(r"«([^»]+)»", lambda x: f"«{b.value_label(col, x.group(1))}»", tail)
    return f"{head}kovariaten «{b.label(col)}»{tail}"


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
            ["Moderator", "Gruppe", "Type", f"Effekt ({unit})" if unit else "Effekt", ci_label(result_level(a.result)), "Interaktion (Holm)"], rows, align="lllrrr"))
        # notes beyond the table's own columns (type, too few persons): a level left out of the interaction test,
        # a covariate simplified or a model that could not be estimated within a level
        remarks = []
        for _, r in sub.iterrows():
            var = mod_vars.get(r["moderator"], r["moderator"])
            for part in str(r.get("note") or "").split("; "):
                if part and not part.startswith(("udforskende", "færre end")):
                    line = f"- {r['moderator_label']} = {b.value_label(var, r['level'])}: {_labelled_note(b, part)}."
                    if line not in remarks:
                        remarks.append(line)
        if remarks:
            blocks.append("Bemærkninger:\n\n" + "\n".join(remarks) + "\n")
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


def _section_economy(b: Bundle) -> str:
    if b.economy:
        return economy_section(b)
    lines = economy_lines(b)
    return "\n".join(["# Økonomi {#oekonomi}\n", *lines]) if lines else ""


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
    seen_warnings: set[str] = set()
    for a in b.analyses:
        for w in a.warnings:
            text = warning_da(w)
            if text not in seen_warnings:
                seen_warnings.add(text)
                out.append(f"- **Advarsel fra beregningen af «{a.indicator_label}»:** {text}")
    out.append(
        f"- Ingen tal i rapporten bygger på færre end {b.threshold} personer; sådanne celler er "
        "erstattet af «–» (diskretionering), og der vises aldrig oplysninger om enkeltpersoner."
    )
    return "\n".join(out) + "\n"


def _hash_text(h: str) -> str:
    """A SHA-256 fingerprint in groups of 16 hex digits, so it wraps in narrow columns."""
    algo, _, digest = h.partition(":")
    return f"{algo}: " + " ".join(digest[i:i + 16] for i in range(0, len(digest), 16))


def _table_name(b: Bundle, name: str) -> str:
    """A table of the suppression log by a reader's name: "forsoergelse_matchet: diagnostik" names the analysis by its
    indicator (and design, when several analyses share the indicator)."""
    aid, sep, rest = str(name).partition(": ")
    rec = next((a for a in b.analyses if a.id == aid), None)
    if rec is None:
        return readable_label(name) if IDENTIFIER.search(str(name)) else str(name)
    label = rec.indicator_label
    if sum(1 for a in b.analyses if a.indicator_label == rec.indicator_label) > 1:
        fam = get_family(rec.design)
        label += f" ({fam.short_da or readable_label(rec.design, capitalise=False)})"
    return f"{label}: {rest}" if sep else label


def _section_appendix(b: Bundle, bundle_fingerprint: str | None = None) -> str:
    out = ["# Bilag {#bilag}\n", "## Data og sporbarhed\n"]
    if b.data_sources:
        out.append("Datakilderne står med stien i forhold til studiets mappe og med fingeraftrykket (SHA-256) af filen, så "
                   "det kan efterprøves, at rapporten bygger på netop disse filer.\n")
        rows = []
        for name, src in sorted(b.data_sources.items()):
            rows.append((source_name(src), src.get("path") or DASH, PROVENANCE_DA.get(src.get("provenance"), PROVENANCE_DA[None]),
                         _hash_text(b.data_hashes[name]) if name in b.data_hashes else DASH))
        out.append(md_table(["Datakilde", "Fil", "Oprindelse", "Fingeraftryk"], rows, align="llll"))
    rows = [("Evalueringsplan (study.yaml)", _hash_text(b.config_hash))]
    if bundle_fingerprint:
        rows.append(("Resultatfil (results.json), som rapporten er lavet fra", _hash_text(bundle_fingerprint)))
    rows.append(("Programversion", f"evaluation {b.package_version}"))
    if b.code_list_version:
        rows.append(("Kodeliste", b.code_list_version))
    out.append(md_table(["Sporbarhed", "Fingeraftryk / version"], rows, align="ll"))
    packaged = default_code_list().version if b.code_list_version else None  # loaded only for register studies
    if packaged and packaged in b.code_list_version.split("; "):
        # what the packaged DREAM grouping could not verify (evaluation/codes/dream_benefit_groups.yaml's header)
        out.append(f"Registerdata er inddelt i ydelser med pakkens kodeliste {packaged}. Den bygger på "
                   "en kopi af DREAM-dokumentationen fra 2016: koder, der er kommet til senere (fx selvforsørgelses- og "
                   "hjemrejseydelse fra 2019, seniorpension og tidlig pension), er ikke med, og det er ikke efterprøvet, "
                   "i hvilke år hver kode gjaldt, eller i hvilken rækkefølge DREAM lader én ydelse overskrive en anden i "
                   "samme uge. Et udtræk med en kode, som listen ikke kender, stopper med en fejl, der nævner koden.\n")
    if b.analyses:
        out.append("## Tekniske metodebeskrivelser\n")
        out.append("Tabellen beskriver præcist, hvordan hvert estimat og dets sikkerhedsinterval er beregnet.\n")
        rows = []
        for a in b.analyses:
            for term, method in _parts(a).technical_rows(a, b):
                rows.append((a.indicator_label, term, method))
        out.append(md_table(["Mål", "Estimat", "Metode"], rows, align="lll"))
    notes = b.data_notes or {}
    if notes:
        out.append("## Indlæsning af data\n")
        for k, v in notes.items():
            name = source_name(b.data_sources[k]) if k in b.data_sources else readable_label(k)
            text = "; ".join(danish_counts(readable_definition(b, n)) for n in v)
            out.append(f"- **{name[0].upper() + name[1:]}:** {text[0].upper() + text[1:] if text else text}.")
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
            key = (_table_name(b, e["table"]), e["reason"])
            groups[key] = groups.get(key, 0) + 1
        rows = [(t, fmt_int(n), r[0].upper() + r[1:]) for (t, r), n in sorted(groups.items())]
        out.append(md_table(["Tabel", "Skjulte celler", "Årsag"], rows, align="lrl"))
    else:
        out.append(f"Ingen celler skulle skjules (grænse: {b.threshold} personer).\n")
    return "\n".join(out)


def report_markdown(bundle: Bundle | Mapping[str, Any], figures: Mapping[str, str] | None = None, *,
                    reference_date: _dt.date | None = None, figure_dir: str | os.PathLike | None = None,
                    bundle_fingerprint: str | None = None) -> str:
    """The whole ``index.qmd`` text for a bundle (typed, or the plain dict of ``results.json``).

    ``reference_date`` is the report's date (default :func:`evaluation.reporting.dates.report_date`: the
    study's ``report.date``, else ``SOURCE_DATE_EPOCH``, else today); a target's status says "endnu" only
    before its deadline. ``bundle_fingerprint`` (the SHA-256 of the ``results.json`` bytes) is stated in the
    appendix.
    """
    b = Bundle.from_dict(bundle)
    reference = reference_date or report_date(b.report_options)
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
        banner(b),
        summary_box(b, reference),
        _section_headline(b, reference),
        _section_project(b, figures, figure_dir),
        _section_participants(b),
        _section_method(b),
        _section_bodies(b, figures, "before_effects"),
        _section_effects(b, figures),
        _section_subgroups(b),
        _section_bodies(b, figures, "after_subgroups"),
        section_robustness(b),
        section_cmo_status(b),
        targets_section(b, reference),
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
    (project_dir / "index.qmd").write_text(report_markdown(bundle, figs, figure_dir=project_dir,
                                                           bundle_fingerprint=fingerprint), encoding="utf-8")
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
