"""The randomized comparison's report parts in Danish."""

from __future__ import annotations

from evaluation.designs.report import (
    ReportParts,
    balance_claim,
    covariate_label,
    fmt_value,
)
from evaluation.designs.randomized.mechanisms_report import (
    CACE_LABEL_DA,
    IV_LABEL_DA,
    compliance_section,
    mechanisms_section,
)
from evaluation.presentation.formatting import fmt_int, fmt_number, is_missing
from evaluation.presentation.markdown import DASH, md_table

__all__ = ["RandomizedReport"]

FLOW_LABELS = {
    "allocated": "Fordelt ved lodtrækning",
    "lost_to_follow_up": "Uden måling af resultatet (frafald)",
    "analysed": "Med i analysen",
}

METHOD_DA = {
    "difference_in_means": "Forskel i gennemsnit; Welch-t-interval",
    "difference_in_proportions": "Forskel i andele; Newcombes hybrid-score-interval",
    "adjusted_difference": "Lineær regression med baggrundsforhold og interaktioner (Lin 2013); robuste standardfejl",
    "cace": "To-trins mindste kvadraters metode med lodtrækningen som instrument for deltagelsen",
    "iv_effect_per_unit": "To-trins mindste kvadraters metode med lodtrækningen som instrument for deltagelsen",
}


class RandomizedReport(ReportParts):
    #: the family's own section (mechanisms) goes after "Hvordan og for hvem"
    body_slot = "after_subgroups"
    term_labels = {
        "difference_in_means": "Forskel i gennemsnit (interventions- minus kontrolgruppe)",
        "difference_in_proportions": "Forskel i andele (interventions- minus kontrolgruppe)",
        "mean_intervention": "Gennemsnit, interventionsgruppen",
        "mean_control": "Gennemsnit, kontrolgruppen",
        "share_intervention": "Andel, interventionsgruppen",
        "share_control": "Andel, kontrolgruppen",
        "cace": CACE_LABEL_DA,
        "iv_effect_per_unit": IV_LABEL_DA,
    }

    def who_than(self):
        return "interventionsgruppen", "kontrolgruppen"

    def method_da(self, rec, e, labels):
        return METHOD_DA.get(e.term, e.term)

    def method_notes(self, records):
        out = []
        for rec in records:
            d = rec.result.diagnostics
            if d.get("permutations"):
                out.append(f"For «{rec.indicator_label}» er p-værdien også beregnet ved randomiseringsinferens "
                           f"({fmt_int(d['permutations'])} gentagne lodtrækninger, startværdi {d.get('seed')}).\n")
        return out

    def body(self, records, bundle, figures):
        """Mechanisms: the mediation analyses of links that name a mediator
        (:mod:`evaluation.designs.randomized.mechanisms_report`)."""
        return mechanisms_section(records, bundle, figures)

    def effects_extra(self, rec, bundle, figures):
        """Take-up and the complier effect, when the analysis declares a take-up column
        (:mod:`evaluation.designs.randomized.mechanisms_report`)."""
        return compliance_section(rec, bundle, self.family, self.group_names(rec))

    def flow_table(self, rec) -> str:
        """Allocated → lost to follow-up → analysed, per group."""
        flow = rec.result.tables.get("flow")
        if flow is None or not len(flow):
            return ""
        names = self.group_names(rec)
        rows = [[FLOW_LABELS.get(str(r[0]), str(r[0]))] + [DASH if is_missing(v) else fmt_int(v) for v in r[1:]]
                for r in flow.itertuples(index=False, name=None)]
        heads = [{"step": "Trin"}.get(c, names.get(c, c)) for c in flow.columns]
        return "## Deltagerflow\n\n" + md_table(heads, rows)

    def participants(self, rec, bundle):
        out = ["# Hvem deltog {#deltagere}\n"]
        for part in (self.flow_table(rec), self.groups_table(rec), self.balance_section(rec, bundle)):
            if part:
                out.append(part)
        return "\n".join(out)

    def balance_section(self, rec, bundle) -> str:
        """Baseline characteristics by allocated group with standardised differences (no weights: the lottery
        made the groups)."""
        bal = rec.result.tables.get("balance")
        if bal is None or not len(bal):
            return ""
        out = ["## Baggrundsforhold og balance\n",
               "Ved lodtrækning skal grupperne ligne hinanden. Den standardiserede forskel (SMD) måler forskellen "
               "i standardafvigelser; under 0,1 regnes for god balance. Andele er vist i procent.\n"]
        rows = []
        for _, r in bal.iterrows():
            is_bin = bool(r.get("binary", False))
            m = 100.0 if is_bin else 1.0
            name = covariate_label(bundle, r) + (" (%)" if is_bin else "")
            smd = r.get("smd")
            rows.append((name, fmt_value(r.get("mean_intervention"), m, 1), fmt_value(r.get("mean_control"), m, 1),
                         DASH if is_missing(smd) else fmt_number(smd, 2)))
        out.append(md_table(["Baggrundsforhold", "Interventionsgruppe", "Kontrolgruppe", "SMD"], rows))
        out.append(balance_claim(bal, "smd", bundle, adjusted="Den justerede analyse tager højde for disse forhold."))
        return "\n".join(out)

    def caveats(self, records, bundle) -> list[str]:
        return [
            "- **Det kan resultatet bruges til:** at vurdere, om indsatsen virkede for de deltagere, der blev fordelt ved "
            "lodtrækning i projektperioden. Lodtrækningen sikrer, at forskelle mellem grupperne skyldes indsatsen eller tilfældigheder; "
            "sikkerhedsintervallet viser, hvor store tilfældighederne kan være.",
            "- **Det kan resultatet ikke bruges til:** at sige, at indsatsen vil virke lige så godt for andre målgrupper, "
            "i andre kommuner eller i en anden tid, eller at forklare *hvorfor* den virkede uden programteoriens mekanismer.",
        ]
