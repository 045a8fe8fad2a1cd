"""Write a study's Danish report as a Quarto project and render it.

The report only displays the results bundle (``results/<slug>/results.json``); it never
re-estimates. The ``.qmd`` uses markdown that both Quarto and plain pandoc understand (YAML
front matter, pipe tables, fenced divs, figures as files), so both renderers give the same
document. Sections that do not apply to a study are left out rather than printed empty.
"""

from __future__ import annotations

import re

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from evaluation.designs.family import main_estimate as main_term
from ..results import read_bundle, result_from_dict
from evaluation.presentation.markdown import md_table
from evaluation.presentation.formatting import natural_frequency as natural_frequency_text
from evaluation.presentation.formatting import (
    evidence_level_text,
    fmt_ci,
    fmt_date,
    fmt_dkk,
    fmt_int,
    fmt_number,
    fmt_p,
    fmt_pct,
)
from .prepost_section import PRE_POST, period_label, pre_post_participants, pre_post_section, pre_post_sentence
from .render import render_project

__all__ = ["build_report", "write_report_project", "report_markdown", "md_table", "DESIGN_LABELS", "TERM_LABELS"]

DESIGN_LABELS = {
    "randomized_comparison": "Randomiseret sammenligning: deltagerne er fordelt ved lodtrækning til en interventions- og en kontrolgruppe",
    "matched_comparison": "Matchet sammenligning: deltagerne sammenlignes med lignende personer fra registrene",
    "did_2x2": "Forskel-i-forskelle: udviklingen før og efter hos deltagerne sammenlignes med udviklingen i en sammenligningsgruppe",
    "did_twfe": "Forskel-i-forskelle med faste effekter for person og periode",
    "did_cs": "Forskel-i-forskelle med løbende optag (Callaway–Sant'Anna)",
    "pre_post_targets": "Før/efter-måling af måltal uden sammenligningsgruppe",
    "pre_post": "Før/efter-måling uden sammenligningsgruppe: målgruppens niveau ved udgangspunktet sammenlignes med "
                "niveauet ved opfølgningen; personer, der er målt begge gange, parres",
}

TERM_LABELS = {
    "difference_in_means": "Forskel i gennemsnit (interventions- minus kontrolgruppe)",
    "difference_in_proportions": "Forskel i andele (interventions- minus kontrolgruppe)",
    "adjusted_difference": "Forskel justeret for baggrundsforhold",
    "mean_intervention": "Gennemsnit, interventionsgruppen",
    "mean_control": "Gennemsnit, kontrolgruppen",
    "share_intervention": "Andel, interventionsgruppen",
    "share_control": "Andel, kontrolgruppen",
    "did": "Forskel-i-forskelle",
    "att_overall": "Gennemsnitlig effekt for deltagerne (alle perioder efter start)",
    "att_dynamic_overall": "Gennemsnit over tid siden start",
    "att_group_overall": "Gennemsnit over optagelseskohorter",
    "att_calendar_overall": "Gennemsnit over kalenderperioder",
    "twfe": "Effekt, to-vejs faste effekter",
    "att": "Effekt for deltagerne (ATT)",
    "ate": "Gennemsnitlig effekt (ATE)",
    "ato": "Effekt i overlapspopulationen (ATO)",
    "baseline_level": "Niveau ved udgangspunktet",
    "follow_up_level": "Niveau ved opfølgningen",
    "change": "Ændring (opfølgning minus udgangspunkt)",
    "relative_change": "Relativ ændring",
}


def _term_label(term: str) -> str:
    if term.startswith("placebo_shift"):
        return f"Placebo: falsk start {term[len('placebo_shift'):]} perioder før (bør være 0)"
    return TERM_LABELS.get(term, term)


def _shown_terms(res) -> list:
    """Estimates shown in tables: not the group means/shares, not every event-time coefficient."""
    return [e for e in res.estimates if not e.term.startswith(("mean_", "share_", "att_e", "e-", "e0", "e1", "e2", "e3",
                                                                 "e4", "e5", "e6", "e7", "e8", "e9"))]

ESTIMAND_DA = {
    "randomized_comparison": "Den gennemsnitlige effekt af at blive tildelt indsatsen (intention-to-treat): forskellen mellem interventions- og kontrolgruppen",
    "matched_comparison": "Den gennemsnitlige effekt for deltagerne (ATT) i forhold til lignende personer, der ikke deltog",
    "did_2x2": "Den gennemsnitlige effekt for deltagerne (ATT), under antagelsen om parallel udvikling uden indsatsen",
    "did_twfe": "Den gennemsnitlige effekt for deltagerne (ATT), under antagelsen om parallel udvikling uden indsatsen",
    "did_cs": "Den gennemsnitlige effekt for deltagerne (ATT) samlet over optagelseskohorter, under antagelsen om parallel udvikling",
    "pre_post": "Ændringen over tid i målgruppen fra udgangspunktet til opfølgningen (og den relative ændring). Der er ingen "
                "sammenligningsgruppe, så tallet siger ikke noget om årsag: ændringen kunne være sket uden projektet",
}

METHOD_DA = {
    "difference_in_means": "Forskel i gennemsnit; Welch-t-interval",
    "difference_in_proportions": "Forskel i andele; Newcombes hybrid-score-interval",
    "adjusted_difference": "Lineær regression med baggrundsforhold og interaktioner (Lin 2013); robuste standardfejl",
    "att": "Propensity score-vægtning",
    "did": "Forskel-i-forskelle-regression; klyngerobuste standardfejl",
    "att_overall": "Callaway–Sant'Anna; influensfunktionsbaserede standardfejl",
    "att_dynamic_overall": "Callaway–Sant'Anna, aggregeret over tid siden start",
    "att_group_overall": "Callaway–Sant'Anna, aggregeret over kohorter",
    "att_calendar_overall": "Callaway–Sant'Anna, aggregeret over kalenderperioder",
    "twfe": "To-vejs faste effekter (person og periode); klyngerobuste standardfejl",
    "baseline_level": "Niveau: Wilson-interval for en andel, t-interval for et gennemsnit",
    "follow_up_level": "Niveau: Wilson-interval for en andel, t-interval for et gennemsnit",
    "change": "Ændring: Newcombes score-interval for andele (parret for personer, der er målt begge gange), "
              "t-interval for gennemsnit",
    "relative_change": "Relativ ændring: deltametoden på logaritmen til forholdet",
    "ate": "Propensity score-vægtning",
    "ato": "Overlapsvægtning",
}

def _method_da(e, labels: Mapping[str, str] | None = None) -> str:
    """Danish method label of one estimate; for propensity-score estimates it follows the standard error used."""
    text = METHOD_DA.get(e.term, e.term)
    if e.term in ("att", "ate", "ato"):
        if "nearest neighbour" in e.method:
            text = "Matchning på propensity score (nærmeste nabo)"
        elif "doubly robust" in e.method:
            text = "Dobbelt robust propensity score-vægtning med udfaldsmodel"
        exact = re.search(r", exact on ([^,;]+)", e.method)
        if exact:
            cols = [(labels or {}).get(c, c).lower() for c in exact.group(1).split("+")]
            text += f", kun sammenlignet inden for samme {' og '.join(cols)}"
        if "M-estimation" in e.method:
            text += "; standardfejl, der tager højde for, at propensity scoren er estimeret (M-estimation)"
        elif "bootstrap" in e.method:
            text += "; bootstrap-standardfejl"
        else:
            text += "; robuste standardfejl med vægtene behandlet som kendte"
    return text


STATUS_LABELS = {"met": "Opfyldt", "not_met": "Ikke opfyldt", "undecidable": "Kan ikke afgøres endnu"}
DIRECTION_LABELS = {"increase": "stige", "decrease": "falde"}
CRITICALITY_LABELS = {"high": "Høj", "medium": "Middel", "low": "Lav"}
CMO_STATUS = {"initial": "Foreløbig", "refined": "Justeret", "refuted": "Afkræftet"}
HORIZON_LABELS = {"short": "kort sigt", "medium": "mellemlang sigt", "long": "lang sigt"}
FLOW_LABELS = {
    "allocated": "Fordelt ved lodtrækning",
    "lost_to_follow_up": "Uden måling af resultatet (frafald)",
    "analysed": "Med i analysen",
}
GROUP_LABELS = {"total": "I alt", "intervention": "Interventionsgruppe", "control": "Kontrolgruppe", "comparison": "Sammenligningsgruppe"}

DASH = "–"


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


def _yaml_str(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(str(text), ensure_ascii=False)


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _scale(unit: str | None, outcome_type: str) -> tuple[float, str, int]:
    """Multiplier, Danish unit and decimals used to show an estimate."""
    if outcome_type == "binary" or unit == "andel":
        return 100.0, "procentpoint", 1
    return 1.0, unit or "", 1


def _signed_phrase(value: float, unit: str, dec: int) -> str:
    word = "lavere" if value < 0 else "højere"
    return f"{fmt_number(abs(value), dec)} {unit} {word}".replace("  ", " ")


def ci_phrase(lo: float, hi: float, unit: str, dec: int) -> str:
    """Danish interval phrase that reads naturally whatever the signs of its ends."""
    if _nan(lo) or _nan(hi):
        return "intet sikkerhedsinterval"
    if lo >= 0 or hi <= 0:
        a, b = sorted([abs(lo), abs(hi)])
        word = "højere" if lo >= 0 else "lavere"
        return f"95 %-sikkerhedsinterval {fmt_ci(a, b, dec)} {unit} {word}".replace("  ", " ")
    return f"95 %-sikkerhedsinterval fra {_signed_phrase(lo, unit, dec)} til {_signed_phrase(hi, unit, dec)}"


def headline_sentence(analysis: Mapping[str, Any]) -> str:
    """One plain-Danish sentence with the estimate and its interval."""
    if analysis.get("design") == PRE_POST:  # before/after: a change over time, never an effect
        return pre_post_sentence(analysis)
    res = result_from_dict(analysis["result"])
    e = main_term(res)
    mult, unit, dec = _scale(analysis.get("unit"), res.outcome_type if hasattr(res, "outcome_type") else "continuous")
    label = analysis["indicator_label"]
    if _nan(e.estimate):
        return f"**{label}:** resultatet kan ikke offentliggøres, fordi det bygger på for få personer."
    est, lo, hi = e.estimate * mult, e.ci_lower * mult, e.ci_upper * mult
    design = analysis.get("design", "")
    if design.startswith("did"):
        who, than = "deltagerne", "de ifølge udviklingen i sammenligningsgruppen ville have gjort uden indsatsen"
    elif design == "matched_comparison":
        who, than = "deltagerne", "sammenlignelige personer, der ikke deltog"
    else:
        who, than = "interventionsgruppen", "kontrolgruppen"
    if abs(est) < 0.5 * 10 ** (-dec):
        core = f"{who} lå på samme niveau som {than}"
    else:
        core = f"{who} lå i gennemsnit {_signed_phrase(est, unit, dec)} end {than}"
    sentence = f"**{label}:** {core} ({ci_phrase(lo, hi, unit, dec)})."
    if not _nan(e.ci_lower) and not _nan(e.ci_upper):
        if e.ci_lower > 0 or e.ci_upper < 0:
            sentence += " Forskellen er så stor, at den næppe skyldes tilfældigheder"
            sentence += f" ({fmt_p(e.p_value)})." if not _nan(e.p_value) else "."
        else:
            sentence += " Vi kan ikke udelukke, at indsatsen ingen effekt havde på dette mål."
    return sentence


def natural_frequency(analysis: Mapping[str, Any]) -> str | None:
    """'Ud af 100 personer i kontrolgruppen …' for a binary outcome."""
    res = result_from_dict(analysis["result"])
    if getattr(res, "outcome_type", "") != "binary":
        return None
    terms = {e.term: e for e in res.estimates}
    if "share_control" not in terms or "share_intervention" not in terms:
        return None
    pc, pt = terms["share_control"].estimate, terms["share_intervention"].estimate
    if _nan(pc) or _nan(pt):
        return None
    phrase = (analysis.get("phrase") or "").strip()
    if phrase:
        verb, _, rest = phrase.partition(" ")
        return natural_frequency_text(pc, pt, rest, verb=verb)
    what = analysis["indicator_label"][0].lower() + analysis["indicator_label"][1:]
    return (
        f"Ud af 100 personer i kontrolgruppen gjaldt «{what}» for {fmt_int(round(pc * 100))}; "
        f"i interventionsgruppen for {fmt_int(round(pt * 100))}."
    )


def _value_label(b: Mapping[str, Any], column: str, value: Any) -> str:
    return str((b.get("value_labels") or {}).get(column, {}).get(str(value), value))


def _covariate_label(b: Mapping[str, Any], row: Mapping[str, Any]) -> str:
    """Danish label of a balance-table row: column label, and the level for a category."""
    var = row.get("variable", row.get("covariate"))
    label = (b.get("labels") or {}).get(str(var), str(var))
    level = row.get("level")
    if level is not None and not _nan(level) and str(level) != "":
        return f"{label}: {_value_label(b, str(var), level)}"
    return label


def _fmt_value(x: Any, mult: float, dec: int) -> str:
    return DASH if _nan(x) else fmt_number(float(x) * mult, dec)


# ---------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------


def _section_headline(b: Mapping[str, Any]) -> str:
    analyses = b["analyses"]
    chosen = b["report_options"].get("headline_analyses") or [a["id"] for a in analyses if a["primary"]]
    heads = [a for a in analyses if a["id"] in chosen] or analyses[:2]
    out = ["# Hovedresultater {#hovedresultater}\n"]
    if heads:
        for a in heads:
            out.append(f"- {headline_sentence(a)}")
            nf = natural_frequency(a)
            if nf:
                out.append(f"  {nf}")
        out.append("")
        levels = sorted({result_from_dict(a['result']).evidence_level for a in heads}, reverse=True)
        for lvl in levels:
            if lvl == 1:
                out.append("::: {.callout-warning title=\"Evidensniveau\"}\n**Evidensniveau 1 af 5:** "
                           f"{evidence_level_text(1)}. Rapporten viser, hvordan tallet udviklede sig, og om målet blev nået "
                           "– ikke om projektet var årsagen.\n:::\n")
                continue
            out.append(f"::: {{.callout-note title=\"Evidensniveau\"}}\n**Evidensniveau {lvl} af 5:** {evidence_level_text(lvl)}\n:::\n")
    if b.get("surveys"):
        from .survey_section import survey_headlines

        out.extend(f"- {line}" for line in survey_headlines(b))
        out.append("")
    if b["targets"] and not heads:
        out.append(
            "::: {.callout-warning title=\"Evidensniveau\"}\n**Evidensniveau 1 af 5:** "
            f"{evidence_level_text(1)}. Rapporten viser, om målene blev nået – ikke om projektet var årsagen.\n:::\n"
        )
    if b["targets"]:
        counts = {k: sum(1 for t in b["targets"] if t["result"]["status"] == k) for k in STATUS_LABELS}
        parts = [f"{counts[k]} {STATUS_LABELS[k].lower()}" for k in STATUS_LABELS if counts[k]]
        out.append(f"**Målopfyldelse:** {len(b['targets'])} mål i alt – " + ", ".join(parts) + ". Se afsnittet *Målopfyldelse*.\n")
    if not heads and not b["targets"] and not b.get("surveys"):
        out.append("Der er endnu ingen kvantitative resultater for projektet.\n")
    return "\n".join(out)


def _section_project(b: Mapping[str, Any], figures: Mapping[str, str]) -> str:
    s, t = b["study"], b["theory"]
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


def _section_participants(b: Mapping[str, Any]) -> str:
    primary = next((a for a in b["analyses"] if a["primary"]), b["analyses"][0] if b["analyses"] else None)
    if primary is None:
        return ""
    if primary.get("design") == PRE_POST:
        return pre_post_participants(b, primary)
    res = result_from_dict(primary["result"])
    out = ["# Hvem deltog {#deltagere}\n"]
    flow = res.tables.get("flow")
    if flow is not None and len(flow):
        out.append("## Deltagerflow\n")
        cols = list(flow.columns)
        rows = [[FLOW_LABELS.get(str(r[0]), str(r[0]))] + [DASH if _nan(v) else fmt_int(v) for v in r[1:]]
                for r in flow.itertuples(index=False, name=None)]
        heads = [{"step": "Trin"}.get(c, GROUP_LABELS.get(c, c)) for c in cols]
        out.append(md_table(heads, rows))
    groups = res.tables.get("groups")
    if groups is not None and len(groups):
        out.append("## Grupperne\n")
        out.append(
            f"Tabellen viser antallet af personer i hver gruppe i analysen af «{primary['indicator_label'].lower()}» "
            "og resultatet i hver gruppe.\n"
        )
        mult, unit, dec = _scale(primary.get("unit"), res.outcome_type)
        rows = []
        for _, r in groups.iterrows():
            val = r.get("mean", r.get("share"))
            rows.append((GROUP_LABELS.get(str(r["group"]), str(r["group"])), DASH if _nan(r["n"]) else fmt_int(r["n"]),
                         _fmt_value(val, mult, dec),
                         DASH if _nan(r.get("missing")) else fmt_int(r.get("missing"))))
        head_val = "Andel (%)" if mult == 100.0 else f"Gennemsnit ({unit})" if unit else "Gennemsnit"
        out.append(md_table(["Gruppe", "Antal", head_val, "Uden måling"], rows))
    sizes = res.tables.get("cohort_sizes")
    if sizes is not None and len(sizes):
        out.append("## Optagelseskohorter\n")
        d = res.diagnostics
        out.append(
            "Deltagerne startede løbende. De er samlet i kohorter efter den periode, de startede i, og hver kohorte "
            "sammenlignes med personer, der ikke (endnu) var startet"
            + (f" (kontrolgruppe: {'aldrig deltagende' if d.get('control_group') == 'nevertreated' else 'endnu ikke startede'})" if d.get("control_group") else "")
            + "."
            + (f" Startperioderne er slået sammen i kohorter på {fmt_int(d['cohort_bin'])} perioder (fx uger til måneder), "
               "så hver kohorte har personer nok; en deltager regnes som startet fra sin kohortes første periode."
               if (d.get("cohort_bin") or 1) > 1 else "")
            + "\n"
        )
        rows = [("Sammenligningsgruppe" if int(r["cohort"]) == 0 else f"Startede i periode {int(r['cohort'])}"
                 + (f" (fra {r['period_start']})" if "period_start" in sizes.columns and isinstance(r.get("period_start"), str) else ""),
                 DASH if _nan(r["n"]) else fmt_int(r["n"])) for _, r in sizes.iterrows()]
        out.append(md_table(["Kohorte", "Antal personer"], rows, align="lr"))
    bal = res.tables.get("balance")
    if bal is not None and len(bal):
        out.append("## Baggrundsforhold og balance\n")
        out.append(
            "Ved lodtrækning skal grupperne ligne hinanden. Den standardiserede forskel (SMD) måler forskellen "
            "i standardafvigelser; under 0,1 regnes for god balance. Andele er vist i procent.\n"
        )
        rows = []
        for _, r in bal.iterrows():
            is_bin = bool(r.get("binary", False))
            m = 100.0 if is_bin else 1.0
            name = _covariate_label(b, r) + (" (%)" if is_bin else "")
            smd = r.get("smd")
            rows.append((name, _fmt_value(r.get("mean_intervention"), m, 1), _fmt_value(r.get("mean_control"), m, 1),
                         DASH if _nan(smd) else fmt_number(smd, 2)))
        out.append(md_table(["Baggrundsforhold", "Interventionsgruppe", "Kontrolgruppe", "SMD"], rows))
        bad = [_covariate_label(b, r) for _, r in bal.iterrows() if not _nan(r.get("smd")) and abs(float(r["smd"])) > 0.1]
        if bad:
            out.append(f"Forskelle over 0,1: {', '.join(bad)}. Den justerede analyse tager højde for disse forhold.\n")
        else:
            out.append("Alle standardiserede forskelle er under 0,1: grupperne ligner hinanden.\n")
    return "\n".join(out)


def _section_method(b: Mapping[str, Any]) -> str:
    out = ["# Metode {#metode}\n"]
    designs = sorted({a["design"] for a in b["analyses"]})
    for d in designs:
        out.append(f"**Design:** {DESIGN_LABELS.get(d, d)}.\n")
    if b["analyses"]:
        out.append("## Definition af resultatmålene\n")
        seen: set[str] = set()
        for a in b["analyses"]:
            if a["indicator"] in seen:
                continue
            seen.add(a["indicator"])
            primary = any(x["primary"] for x in b["analyses"] if x["indicator"] == a["indicator"])
            out.append(f"**{a['indicator_label']}** ({'primært' if primary else 'sekundært'} mål). {a['definition_da']}\n")
        out.append("## Estimand og usikkerhed\n")
        rows = []
        for a in b["analyses"]:
            res = result_from_dict(a["result"])
            terms = [e.term for e in _shown_terms(res) if not e.term.startswith("placebo")]
            methods = "; ".join(dict.fromkeys(_method_da(e, b.get("labels")) for e in _shown_terms(res) if e.term in terms))
            rows.append((a["indicator_label"], ESTIMAND_DA.get(a["design"], res.estimand), methods))
        out.append(md_table(["Mål", "Hvad der estimeres", "Metode og sikkerhedsinterval"], rows, align="lll"))
        out.append("De præcise tekniske metodebeskrivelser står i bilaget.\n")
        out.append(
            "Alle sikkerhedsintervaller er 95 %-sikkerhedsintervaller: hvis undersøgelsen blev gentaget mange gange, "
            f"ville 95 % af intervallerne indeholde den sande {'værdi' if all(a['design'] == PRE_POST for a in b['analyses']) else 'effekt'}.\n"
        )
        ri = [a for a in b["analyses"] if result_from_dict(a["result"]).diagnostics.get("permutations")]
        for a in ri:
            d = result_from_dict(a["result"]).diagnostics
            out.append(
                f"For «{a['indicator_label']}» er p-værdien også beregnet ved randomiseringsinferens "
                f"({fmt_int(d['permutations'])} gentagne lodtrækninger, startværdi {d.get('seed')}).\n"
            )
    if b.get("surveys"):
        out.append(
            "**Spørgeskemaundersøgelse:** andele og gennemsnit er beskrivende tal for dem, der svarede, med 95 %-sikkerhedsintervaller "
            "(Wilson-interval for andele, t-interval for gennemsnit, Newcombe-interval for forskelle mellem enheder). "
            "En brugermåling har ingen sammenligningsgruppe og siger ikke noget om effekt (evidensniveau 1 for årsagssammenhænge).\n"
        )
    out.append(
        f"**Forhåndsregistrering:** evalueringsplanen (study.yaml) har fingeraftrykket {_hash_text(b['config_hash'])[:25]}…; "
        "det fulde fingeraftryk står i bilaget. Ændres planen, ændres fingeraftrykket.\n"
    )
    return "\n".join(out)


def _section_effects(b: Mapping[str, Any], figures: Mapping[str, str]) -> str:
    effects = [a for a in b["analyses"] if a.get("design") != PRE_POST]  # before/after has its own section
    if not effects:
        return ""
    out = ["# Effekter {#effekter}\n"]
    rows = []
    for a in effects:
        res = result_from_dict(a["result"])
        mult, unit, dec = _scale(a.get("unit"), res.outcome_type)
        for e in _shown_terms(res):
            rows.append((a["indicator_label"], _term_label(e.term), _fmt_value(e.estimate, mult, dec) + (f" {unit}" if unit and not _nan(e.estimate) else ""),
                         DASH if _nan(e.ci_lower) else fmt_ci(e.ci_lower * mult, e.ci_upper * mult, dec),
                         fmt_p(e.p_value) if not _nan(e.p_value) else DASH,
                         f"{fmt_int(e.n_treated)} / {fmt_int(e.n_control)}" if e.n_treated is not None else fmt_int(e.n)))
    out.append(md_table(["Mål", "Estimat", "Effekt", "95 %-sikkerhedsinterval", "p-værdi", "Antal (int. / kontrol)"], rows, align="llrrrr"))
    out.append("Andele er vist som forskelle i procentpoint. Negative tal betyder, at deltagerne (interventionsgruppen) lå lavest.\n")
    for key, fig in sorted(figures.items()):
        if key.startswith("forest"):
            out.append(f"![Effekter med 95 %-sikkerhedsintervaller]({fig}){{width=90%}}\n")
    if "time_course" in figures:
        out.append("## Tidsforløb\n")
        out.append(
            "Figuren viser, hvor stor en andel af hver gruppe der var selvforsørgende (uden offentlig ydelse) i hver uge "
            "efter starten. Uger med for få personer er udeladt.\n"
        )
        out.append(f"![Andel selvforsørgende uge for uge efter start]({figures['time_course']}){{width=90%}}\n")
    for a in b["analyses"]:
        key = f"event_{a['id']}"
        if key in figures:
            res = result_from_dict(a["result"])
            d = res.diagnostics
            out.append(f"## Hændelsesstudie: {a['indicator_label']}\n")
            txt = (
                "Figuren viser effekten i hver periode før og efter deltagernes start. Punkterne før start bør ligge omkring 0, "
                "hvis deltagere og sammenligningsgruppe udviklede sig ens, før indsatsen begyndte (antagelsen om parallel udvikling)."
            )
            pt = d.get("pretrend_test")
            if isinstance(pt, dict) and pt.get("p_value") is not None:
                verdict = ("giver ikke tegn på" if pt["p_value"] >= 0.05 else "giver tegn på")
                txt += f" En samlet test af perioderne før start {verdict} forskellig udvikling ({fmt_p(pt['p_value'])})."
            out.append(txt + "\n")
            out.append(f"![Hændelsesstudie for {a['indicator_label']}]({figures[key]}){{width=90%}}\n")
    return "\n".join(out)


def _section_subgroups(b: Mapping[str, Any]) -> str:
    blocks = []
    mod_vars = {m["id"]: m.get("variable") or "" for m in b["theory"].get("moderators", [])}
    for a in b["analyses"]:
        res = result_from_dict(a["result"])
        sub = res.tables.get("subgroups")
        if sub is None or not len(sub):
            continue
        mult, unit, dec = _scale(a.get("unit"), res.outcome_type)
        rows = []
        for _, r in sub.iterrows():
            var = mod_vars.get(r["moderator"], r["moderator"])
            rows.append((r["moderator_label"], _value_label(b, var, r["level"]), "Forhåndsangivet" if r["prespecified"] else "Udforskende",
                         _fmt_value(r["estimate"], mult, dec), DASH if _nan(r["ci_lower"]) else fmt_ci(r["ci_lower"] * mult, r["ci_upper"] * mult, dec),
                         DASH if _nan(r.get("p_interaction_holm")) else fmt_p(r["p_interaction_holm"])))
        blocks.append(f"## {a['indicator_label']}\n\n" + md_table(
            ["Moderator", "Gruppe", "Type", f"Effekt ({unit})" if unit else "Effekt", "95 %-sikkerhedsinterval", "Interaktion (Holm)"], rows, align="lllrrr"))
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


def _section_surveys(b: Mapping[str, Any], figures: Mapping[str, str]) -> str:
    if not b.get("surveys"):
        return ""
    from .survey_section import survey_section

    return survey_section(b, figures)


def _section_targets(b: Mapping[str, Any]) -> str:
    if not b["targets"]:
        return ""
    out = ["# Målopfyldelse {#maal}\n"]
    out.append(
        "Et mål (resultatkrav) er opfyldt, når hele 95 %-sikkerhedsintervallet ligger på den rigtige side af målet. "
        "Et mål, der er nået, siger i sig selv ikke, at projektet var årsagen – kun en sammenligning med en "
        "kontrolgruppe kan vise det.\n"
    )
    rows: list[tuple] = []
    qual: list[tuple] = []
    for t in b["targets"]:
        tg, r = t["target"], t["result"]
        mult, unit, dec = _scale(t.get("unit"), "continuous")
        if unit == "procentpoint":  # a level of a share is in per cent; only differences are in percentage points
            unit = "%"
        e = r["estimates"][0]
        kind = {"effect": "Effekt", "level": "Niveau", "relative_change": "Relativ ændring"}[tg["goal_type"]]
        if tg.get("goal") is None:  # qualitative requirement: own table below
            qual.append((t["label"], tg.get("requirement") or DASH, f"**{STATUS_LABELS[r['status']]}**", r["reason"]))
            continue
        if tg["goal_type"] == "relative_change":
            goal_txt, res_txt = fmt_pct(tg["goal"], 1), DASH if _nan(e["estimate"]) else fmt_pct(e["estimate"], 1)
            base = DASH if tg.get("baseline") is None else fmt_number(tg["baseline"] * mult, dec)
        else:
            goal_txt = f"{fmt_number(tg['goal'] * mult, dec)} {unit}".strip()
            res_txt = DASH if _nan(e["estimate"]) else f"{fmt_number(e['estimate'] * mult, dec)} {unit}".strip()
            base_v = r.get("baseline") if r.get("baseline") is not None else tg.get("baseline")
            base = DASH if base_v is None else f"{fmt_number(base_v * mult, dec)} {unit}".strip()
        ci = DASH if _nan(e.get("ci_lower")) else fmt_ci(e["ci_lower"] * (1 if tg["goal_type"] == "relative_change" else mult), e["ci_upper"] * (1 if tg["goal_type"] == "relative_change" else mult), dec)
        rows.append((t["label"], kind, base, f"{DIRECTION_LABELS[tg['direction']]} til {goal_txt}", res_txt, ci,
                     f"**{STATUS_LABELS[r['status']]}**"))
    if rows:
        out.append(md_table(["Indikator", "Type", "Udgangspunkt", "Mål", "Resultat", "95 %-sikkerhedsinterval", "Status"], rows, align="lllllll"))
    if qual:
        out.append("## Kvalitative resultatkrav\n")
        out.append(md_table(["Indikator", "Resultatkrav", "Status", "Begrundelse"], qual, align="llll"))
    details = []
    for t in b["targets"]:
        tg = t["target"]
        bits = []
        if tg.get("goal") is not None:
            bits.append(f"*Status:* {STATUS_LABELS[t['result']['status']].lower()} – {t['result']['reason']}.")
        src = (t["result"].get("diagnostics") or {})
        if src.get("baseline_label") and src.get("follow_up_label"):
            bits.append(f"*Resultatet* er målt på persondata i før/efter-analysen ({period_label(src['baseline_label'])} "
                        f"til {period_label(src['follow_up_label'])}); udgangspunktet er den målte andel.")
        for e in t["result"]["estimates"]:
            if e["term"] == "relative_change_from_baseline" and not _nan(e["estimate"]) and not _nan(e.get("ci_lower")):
                bits.append(f"*Relativ ændring:* {fmt_pct(e['estimate'], 1)} "
                            f"(95 %-sikkerhedsinterval {fmt_ci(e['ci_lower'] * 100, e['ci_upper'] * 100, 1)} %).")
            if e["term"] == "change_from_baseline" and not _nan(e["estimate"]):
                bits.append(f"*Ændring fra udgangspunktet:* {fmt_number(e['estimate'] * 100, 1)} procentpoint "
                            f"(95 %-sikkerhedsinterval {fmt_ci(e['ci_lower'] * 100, e['ci_upper'] * 100, 1)}).")
        if tg.get("requirement") and tg.get("goal") is not None:
            bits.append(f"*Resultatkrav:* {tg['requirement']}")
        if tg.get("measurement_method"):
            bits.append(f"*Målemetode:* {tg['measurement_method'].rstrip('.')}.")
        if tg.get("follow_up"):
            bits.append(f"*Opfølgning:* {tg['follow_up'].rstrip('.')}.")
        if tg.get("deadline"):
            bits.append(f"*Frist:* {fmt_date(tg['deadline'])}.")
        if bits:
            details.append(f"- **{t['label']}.** " + " ".join(bits))
    if details:
        out.append("\n".join(details) + "\n")
    return "\n".join(out)


def _section_economy(b: Mapping[str, Any]) -> str:
    budget = b["study"].get("budget_dkk")
    if not budget or not b["analyses"]:
        return ""
    primary = next((a for a in b["analyses"] if a["primary"]), b["analyses"][0])
    res = result_from_dict(primary["result"])
    e = main_term(res)
    n_t = e.n_treated
    if not n_t:
        return ""
    out = ["# Økonomi {#oekonomi}\n"]
    per = budget / n_t
    out.append(f"Bevillingen på {fmt_dkk(budget)} svarer til {fmt_dkk(round(per))} pr. deltager i interventionsgruppen ({fmt_int(n_t)} personer).\n")
    mult, unit, dec = _scale(primary.get("unit"), res.outcome_type)
    cost_unit = b["report_options"].get("cost_unit")
    # a share of weeks in a window (benefit dependency) is turned into weeks: share × window length
    weeks = primary.get("weeks_per_unit")
    scale = float(weeks) if weeks else 1.0
    if weeks:
        unit = "uger"
    can_cost = weeks or (res.outcome_type != "binary" and primary.get("unit") != "andel")
    if not _nan(e.ci_lower) and (e.ci_lower > 0 or e.ci_upper < 0) and can_cost:
        total = abs(e.estimate) * n_t * scale
        lo, hi = sorted([abs(e.ci_lower) * n_t * scale, abs(e.ci_upper) * n_t * scale])
        if weeks:
            fewer = e.estimate < 0
            unit = f"{'færre' if fewer else 'flere'} uger på offentlig forsørgelse"
            cost_unit = f"{'sparet' if fewer else 'ekstra'} uge på offentlig forsørgelse"
        out.append(
            f"Effekten svarer til {fmt_number(total, 0)} {unit} i alt for deltagerne "
            f"(95 %-sikkerhedsinterval {fmt_ci(lo, hi, 0)}), dvs. {fmt_dkk(round(budget / total))} pr. {cost_unit or unit} "
            f"(mellem {fmt_dkk(round(budget / hi))} og {fmt_dkk(round(budget / lo))}).\n"
        )
    elif not can_cost:
        out.append("Det primære mål er en andel af personer, så der beregnes ingen pris pr. enhed af effekten.\n")
    else:
        out.append("Da effekten på det primære mål ikke er sikkert påvist, beregnes ingen pris pr. opnået effekt.\n")
    return "\n".join(out)


def _section_caveats(b: Mapping[str, Any]) -> str:
    out = ["# Forbehold {#forbehold}\n"]
    levels = {result_from_dict(a["result"]).evidence_level for a in b["analyses"]}
    if any(a.get("design") == PRE_POST for a in b["analyses"]):
        out.append(
            "- **Før/efter-målingen** har ingen sammenligningsgruppe (evidensniveau 1). Den viser, hvordan tallet udviklede "
            "sig i målgruppen, men siger ikke noget om årsag: udviklingen kan også skyldes konjunkturer, nye regler eller "
            "at målgruppen har ændret sammensætning. Den kan bruges til at følge op på målene, ikke til at vurdere effekt."
        )
    if 5 in levels:
        out.append(
            "- **Det kan resultatet bruges til:** at vurdere, om indsatsen virkede for de deltagere, der blev fordelt ved "
            "lodtrækning i projektperioden. Lodtrækningen sikrer, at forskelle mellem grupperne skyldes indsatsen eller tilfældigheder; "
            "sikkerhedsintervallet viser, hvor store tilfældighederne kan være."
        )
        out.append(
            "- **Det kan resultatet ikke bruges til:** at sige, at indsatsen vil virke lige så godt for andre målgrupper, "
            "i andre kommuner eller i en anden tid, eller at forklare *hvorfor* den virkede uden programteoriens mekanismer."
        )
    for a in b["analyses"]:
        e = main_term(result_from_dict(a["result"]))
        if a.get("mde") and not _nan(e.ci_lower) and e.ci_lower <= 0 <= e.ci_upper:
            out.append(
                f"- **{a['indicator_label']}** viste ingen sikker effekt. {a['mde']['sentence_da']} "
                "Mindre effekter kan derfor ikke udelukkes."
            )
    if b["targets"]:
        out.append("- Målopfyldelse uden sammenligningsgruppe siger ikke noget om årsag: målet kunne være nået uden projektet.")
    warns = sorted({w for a in b["analyses"] for w in a.get("warnings", [])})
    for w in warns:
        out.append(f"- Advarsel fra beregningen: {w}")
    out.append(
        f"- Ingen tal i rapporten bygger på færre end {b['disclosure']['threshold']} personer; sådanne celler er "
        "erstattet af «–» (diskretionering), og der vises aldrig oplysninger om enkeltpersoner."
    )
    return "\n".join(out) + "\n"


def _hash_text(h: str) -> str:
    """A SHA-256 fingerprint in groups of 16 hex digits, so it wraps in narrow columns."""
    algo, _, digest = h.partition(":")
    return f"{algo}: " + " ".join(digest[i:i + 16] for i in range(0, len(digest), 16))


def _section_appendix(b: Mapping[str, Any]) -> str:
    out = ["# Bilag {#bilag}\n", "## Sporbarhed\n"]
    rows = [("Evalueringsplan (study.yaml)", _hash_text(b["config_hash"]))]
    rows += [(f"Data: {k}", _hash_text(v)) for k, v in b["data_hashes"].items()]
    rows.append(("Programversion", f"evaluation {b['package_version']}"))
    if b.get("code_list_version"):
        rows.append(("Kodeliste", b["code_list_version"]))
    out.append(md_table(["Sporbarhed", "Fingeraftryk / version"], rows, align="ll"))
    if b["analyses"]:
        out.append("## Tekniske metodebeskrivelser\n")
        rows = []
        for a in b["analyses"]:
            res = result_from_dict(a["result"])
            for e in _shown_terms(res):
                rows.append((a["indicator_label"], e.term, e.method))
            n_event = sum(1 for e in res.estimates if e not in _shown_terms(res) and not e.term.startswith(("mean_", "share_")))
            if n_event:
                rows.append((a["indicator_label"], f"{n_event} hændelsestidskoefficienter", "som ovenfor; alle tal står i results.json"))
            rows.append((a["indicator_label"], "estimand", res.estimand))
        out.append(md_table(["Mål", "Estimat", "Metode (som beregnet)"], rows, align="lll"))
    notes = b.get("data_notes") or {}
    if notes:
        out.append("## Data\n")
        for k, v in notes.items():
            out.append(f"- **{k}:** " + "; ".join(v))
        out.append("")
    out.append("## Diskretionering\n")
    log = b["disclosure"]["log"]
    if log:
        out.append(
            f"Celler, der bygger på færre end {b['disclosure']['threshold']} personer, er skjult («–»), og hvor en skjult "
            "celle kunne regnes ud af totalen, er en celle mere skjult. Den fulde liste står i resultatfilen (results.json).\n"
        )
        groups: dict[tuple[str, str], int] = {}
        for e in log:
            groups[(e["table"], e["reason"])] = groups.get((e["table"], e["reason"]), 0) + 1
        rows = [(t, fmt_int(n), r) for (t, r), n in sorted(groups.items())]
        out.append(md_table(["Tabel", "Skjulte celler", "Årsag"], rows, align="lrl"))
    else:
        out.append(f"Ingen celler skulle skjules (grænse: {b['disclosure']['threshold']} personer).\n")
    return "\n".join(out)


def report_markdown(bundle: Mapping[str, Any], figures: Mapping[str, str] | None = None) -> str:
    """The whole ``index.qmd`` text for a bundle."""
    figures = dict(figures if figures is not None else bundle.get("figures", {}))
    s = bundle["study"]
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
        _section_headline(bundle),
        _section_project(bundle, figures),
        _section_participants(bundle),
        _section_method(bundle),
        pre_post_section(bundle),
        _section_effects(bundle, figures),
        _section_subgroups(bundle),
        _section_surveys(bundle, figures),
        _section_targets(bundle),
        _section_economy(bundle),
        _section_caveats(bundle),
        _section_appendix(bundle),
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


def write_report_project(bundle_dir: str | os.PathLike, project_dir: str | os.PathLike) -> Path:
    """Write the Quarto project (``_quarto.yml``, ``index.qmd``, ``figures/``) for a bundle."""
    bundle_dir, project_dir = Path(bundle_dir), Path(project_dir)
    bundle = read_bundle(bundle_dir / "results.json")
    project_dir.mkdir(parents=True, exist_ok=True)
    figs = {}
    if (bundle_dir / "figures").is_dir():
        shutil.copytree(bundle_dir / "figures", project_dir / "figures", dirs_exist_ok=True)
        figs = bundle.get("figures", {})
    (project_dir / "_quarto.yml").write_text(QUARTO_YML, encoding="utf-8")
    (project_dir / "index.qmd").write_text(report_markdown(bundle, figs), encoding="utf-8")
    return project_dir


def build_report(bundle_dir: str | os.PathLike, out_root: str | os.PathLike = "reports", *, engine: str = "auto",
                 formats: Sequence[str] | None = None) -> dict[str, Path]:
    """Write and render the report for a bundle into ``out_root/<slug>/`` atomically.

    The project is written and rendered in a temporary folder; only when rendering succeeds
    is it moved into place, so a failed render leaves the previous report intact.
    """
    bundle_dir = Path(bundle_dir)
    bundle = read_bundle(bundle_dir / "results.json")
    slug = bundle["study"]["id"]
    formats = tuple(formats or bundle["report_options"].get("formats") or ("html", "pdf"))
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    final = out_root / slug
    tmp = Path(tempfile.mkdtemp(prefix=f".{slug}.", dir=out_root))
    try:
        write_report_project(bundle_dir, tmp)
        render_project(tmp, formats=formats, engine=engine)
        from evaluation.results import replace_dir

        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    names = {"html": "index.html", "pdf": "index.pdf"}
    return {f: final / names[f] for f in formats}
