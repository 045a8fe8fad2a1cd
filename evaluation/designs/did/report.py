"""The difference-in-differences designs' report parts in Danish."""

from __future__ import annotations

from evaluation.designs.report import ReportParts
from evaluation.presentation.formatting import fmt_int, fmt_p, is_missing
from evaluation.presentation.markdown import DASH, md_table

__all__ = ["DiDReport"]

METHOD_DA = {
    "did": "Forskel-i-forskelle-regression; klyngerobuste standardfejl",
    "att_overall": "Callaway–Sant'Anna; influensfunktionsbaserede standardfejl",
    "att_dynamic_overall": "Callaway–Sant'Anna, aggregeret over tid siden start",
    "att_group_overall": "Callaway–Sant'Anna, aggregeret over kohorter",
    "att_calendar_overall": "Callaway–Sant'Anna, aggregeret over kalenderperioder",
    "twfe": "To-vejs faste effekter (person og periode); klyngerobuste standardfejl",
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
        return METHOD_DA.get(e.term, e.term)

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
