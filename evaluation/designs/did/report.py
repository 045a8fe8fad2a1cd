"""The difference-in-differences designs' report parts in Danish."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Mapping

from evaluation.designs.check_report import analysis_label, effect_scale, interval_text, level_of
from evaluation.designs.report import ReportParts
from evaluation.presentation.formatting import fmt_int, fmt_number, fmt_p, is_missing
from evaluation.presentation.markdown import DASH, md_table
from evaluation.presentation.phrases import ci_label

if TYPE_CHECKING:  # pragma: no cover
    from evaluation.results import Bundle

__all__ = ["DiDReport", "honest_block", "HONEST_WIDTH_IN"]

#: the sensitivity plot's width in inches: the figure is drawn and the report prints it at this size (9 pt text)
HONEST_WIDTH_IN = 5.2

METHOD_DA = {
    "did": "Forskel-i-forskelle-regression; klyngerobuste standardfejl",
    "att_overall": "Callaway–Sant'Anna; influensfunktionsbaserede standardfejl",
    "att_dynamic_overall": "Callaway–Sant'Anna, aggregeret over tid siden start",
    "att_group_overall": "Callaway–Sant'Anna, aggregeret over kohorter",
    "att_calendar_overall": "Callaway–Sant'Anna, aggregeret over kalenderperioder",
    "twfe": "To-vejs faste effekter (person og periode); klyngerobuste standardfejl",
}

_CLUSTERS = re.compile(r"(\d+) clusters")

#: how the Callaway–Sant'Anna aggregations average the group-time effects
_CS_AGGREGATIONS = {
    "att_overall": "gennemsnit over alle kohorter og perioder efter start, vægtet med kohorternes størrelse",
    "att_dynamic_overall": "gennemsnit over tid siden start",
    "att_group_overall": "gennemsnit over optagelseskohorter",
    "att_calendar_overall": "gennemsnit over kalenderperioder",
}

_EVENT_PREFIXES = ("att_e", "e-", "e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9")


class DiDReport(ReportParts):
    term_labels = {
        "did": "Forskel-i-forskelle",
        "att_overall": "Gennemsnitlig effekt for deltagerne (alle perioder efter start)",
        "att_dynamic_overall": "Gennemsnit over tid siden start",
        "att_group_overall": "Gennemsnit over optagelseskohorter",
        "att_calendar_overall": "Gennemsnit over kalenderperioder",
        "twfe": "Effekt, to-vejs faste effekter",
    }

    def who_than(self):
        return "deltagerne", "de ifølge udviklingen i sammenligningsgruppen ville have gjort uden indsatsen"

    def term_label(self, term: str) -> str:
        if term.startswith("placebo_shift"):
            return f"Placebo: falsk start {term[len('placebo_shift'):]} perioder før (bør være 0)"
        return super().term_label(term)

    def shown_terms(self, result):
        """Not every event-time coefficient: they are drawn in the event-study figure."""
        return [e for e in super().shown_terms(result) if not e.term.startswith(_EVENT_PREFIXES)]

    def method_da(self, rec, e, labels):
        return METHOD_DA.get(e.term) or self.term_label(e.term)

    def method_technical_da(self, rec, e, bundle):
        d = rec.result.diagnostics
        clusters = _CLUSTERS.search(e.method or "")
        n_cl = f"{fmt_int(int(clusters.group(1)))} klynger" if clusters else ""
        cluster_col = d.get("cluster") or "person"
        cluster_by = "person" if cluster_col == "person" else bundle.label(cluster_col).lower()
        if e.term == "twfe":
            df = d.get("cluster_df")
            return ("To-vejs faste effekter for person og periode (PanelOLS); standardfejl klynget på "
                    f"{cluster_by} (CR1{', ' + n_cl if n_cl else ''})"
                    + (f"; t-interval med {fmt_int(df)} frihedsgrader" if not is_missing(df) else ""))
        if e.term == "did":
            return (f"Forskel-i-forskelle (2×2) med OLS; standardfejl klynget på {cluster_by}"
                    + (f" ({n_cl})" if n_cl else ""))
        if e.term in _CS_AGGREGATIONS or e.term.startswith("placebo"):
            est = {"reg": "udfaldsregression", "ipw": "propensity score-vægtning",
                   "dr": "dobbelt robust (vægtning og udfaldsregression)"}.get(str(d.get("est_method")), "udfaldsregression")
            ctrl = {"nevertreated": "personer, der aldrig deltog", "notyettreated": "personer, der endnu ikke var startet"}.get(
                str(d.get("control_group")), "personer, der ikke deltog")
            covs = [bundle.label(c).lower() for c in d.get("covariates") or []]
            boot = d.get("bootstrap") or {}
            se = (f"bootstrap-standardfejl ({fmt_int(boot.get('draws') or boot.get('n_draws') or 0)} gentagelser)"
                  if boot.get("bootstrap") else "analytiske standardfejl fra influensfunktionen")
            text = (f"Callaway–Sant'Anna med {est}; sammenlignet med {ctrl}"
                    + (f"; justeret for {', '.join(covs)}" if covs else "") + f"; {se}; {_CS_AGGREGATIONS.get(e.term, '')}")
            if e.term.startswith("placebo"):
                shift = e.term[len("placebo_shift"):] or "?"
                text = f"Placebo: alle starttidspunkter flyttet {shift} perioder frem (effekten bør være 0); ellers som ovenfor"
            return text.rstrip("; ")
        return self.method_da(rec, e, bundle.labels)

    def technical_rows(self, rec, bundle):
        rows = super().technical_rows(rec, bundle)
        shown = self.shown_terms(rec.result)
        n_event = sum(1 for e in rec.result.estimates if e not in shown and not e.term.startswith(("mean_", "share_")))
        if n_event:
            rows.append((f"{fmt_int(n_event)} effekter pr. periode før og efter start (hændelsesstudiet)",
                         "Som den samlede effekt; tallene står i resultatfilen (results.json) og i figuren"))
        return rows

    def participants(self, rec, bundle):
        out = ["# Hvem deltog {#deltagere}\n"]
        cohorts = self.cohort_section(rec)
        if cohorts:
            out.append(cohorts)
        return "\n".join(out)

    def cohort_section(self, rec) -> str:
        """Persons per enrolment cohort (staggered enrolment)."""
        res = rec.result
        sizes = res.tables.get("cohort_sizes")
        if sizes is None or not len(sizes):
            return ""
        d = res.diagnostics
        text = (
            "Deltagerne startede løbende. De er samlet i kohorter efter den periode, de startede i, og hver kohorte "
            "sammenlignes med personer, der ikke (endnu) var startet"
            + (f" (sammenligningsgruppe: {'aldrig deltagende' if d.get('control_group') == 'nevertreated' else 'endnu ikke startede'})" if d.get("control_group") else "")
            + "."
            + (f" Startperioderne er slået sammen i kohorter på {fmt_int(d['cohort_bin'])} perioder (fx uger til måneder), "
               "så hver kohorte har personer nok; en deltager regnes som startet fra sin kohortes første periode."
               if (d.get("cohort_bin") or 1) > 1 else "")
            + "\n"
        )
        rows = [("Sammenligningsgruppe" if int(r["cohort"]) == 0 else f"Startede i periode {int(r['cohort'])}"
                 + (f" (fra {r['period_start']})" if "period_start" in sizes.columns and isinstance(r.get("period_start"), str) else ""),
                 DASH if is_missing(r["n"]) else fmt_int(r["n"])) for _, r in sizes.iterrows()]
        return "\n".join(["## Optagelseskohorter\n", text, md_table(["Kohorte", "Antal personer"], rows, align="lr")])

    def effects_extra(self, rec, bundle, figures) -> str:
        key = f"event_{rec.id}"
        if key not in figures:
            return ""
        d = rec.result.diagnostics
        txt = (
            "Figuren viser effekten i hver periode før og efter deltagernes start. Punkterne før start bør ligge omkring 0, "
            "hvis deltagere og sammenligningsgruppe udviklede sig ens, før indsatsen begyndte (antagelsen om parallel udvikling)."
        )
        pt = d.get("pretrend_test")
        if isinstance(pt, dict) and pt.get("p_value") is not None:
            verdict = ("giver ikke tegn på" if pt["p_value"] >= 0.05 else "giver tegn på")
            txt += f" En samlet test af perioderne før start {verdict} forskellig udvikling ({fmt_p(pt['p_value'])})."
        return "\n".join([f"## Hændelsesstudie: {rec.indicator_label}\n", txt + "\n",
                          f"![Hændelsesstudie for {rec.indicator_label}]({figures[key]}){{width=90%}}\n"])


def honest_block(b: "Bundle", r: Mapping[str, Any]) -> str:
    """The HonestDiD check's table (and figure) in "Hvor robust er resultatet?": robust intervals against M̄ and M,
    at the analysis's confidence level, in the unit of its results."""
    d = r.get("details") or {}
    lvl = level_of(b, r["analysis"])
    rm, sd = d.get("relative_magnitudes"), d.get("smoothness")
    if not rm:
        return ""
    mult, unit, dec = effect_scale(b, r["analysis"])
    in_unit = f" ({unit})" if unit else ""

    def ci(lo, hi):
        return interval_text(lo, hi, dec, mult)

    rows = [("Parallelle tendenser (M̄ = 0)" if m == 0 else f"M̄ = {fmt_number(m, 1)}", ci(lo, hi))
            for m, lo, hi in zip(rm["Mbar"], rm["lb"], rm["ub"])]
    rows.insert(0, ("Sædvanligt interval", ci(*d["original"])))
    out = [f"### Følsomhed for brud på parallelle tendenser: {analysis_label(b, r['analysis'])}\n",
           f"Parameteren er {d.get('parameter', 'effekten efter start')} (hændelsestider {', '.join(fmt_number(t, 0) for t in d.get('event_times', []))}). "
           "M̄ angiver, hvor mange gange større bruddet på parallelle tendenser efter start må være end det største brud "
           "mellem to på hinanden følgende perioder før start. Intervallerne er robuste "
           f"{ci_label(lvl, plural=True)} "
           f"({rm.get('method', '')}, Rambachan & Roth 2023){', i ' + unit if unit else ''}.\n",
           md_table(["Antagelse om bruddet", f"Robust {ci_label(lvl)}{in_unit}"], rows, align="lr")]
    fig = (b.figures or {}).get(f"honest_{r['analysis']}")
    if fig:
        out.append(f"\nFiguren viser de robuste intervaller mod M̄ og M; længst til venstre det sædvanlige interval under "
                   "parallelle tendenser.\n\n"
                   # printed at its own size (9 pt text); on a narrow screen it scrolls sideways instead of shrinking
                   f"::: {{.figure-scroll}}\n![Følsomhed for brud på parallelle tendenser: {analysis_label(b, r['analysis'])}]"
                   f"({fig}){{width={HONEST_WIDTH_IN}in}}\n:::\n")
    bd = rm.get("breakdown")
    if not is_missing(bd):
        out.append(f"\nNedbrydningsværdi: M̄ = {fmt_number(float(bd), 2)} (det største M̄, hvor intervallet ikke indeholder 0).\n")
    if sd:
        m_dec = 2 if mult != 1.0 else 4  # M as the figure's axis shows it
        srows = [(fmt_number(mult * m, m_dec), ci(lo, hi)) for m, lo, hi in zip(sd["M"], sd["lb"], sd["ub"])]
        out.append("\nGlathed (M: hvor meget hældningen af forskellen i udvikling højst må ændre sig fra periode til "
                   f"periode{', i ' + unit if unit else ''}; optimalt interval med fast længde):\n\n"
                   + md_table([f"M{in_unit}", f"Robust {ci_label(lvl)}{in_unit}"], srows, align="rr"))
        if not is_missing(sd.get("breakdown")):
            out.append(f"\nNedbrydningsværdi: M = {fmt_number(mult * float(sd['breakdown']), m_dec)}{' ' + unit if unit else ''}.\n")
    if d.get("note"):
        out.append(f"\n{d['note']}\n")
    return "\n".join(out)
