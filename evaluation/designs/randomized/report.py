"""The randomized comparison's report parts in Danish."""

from __future__ import annotations

from evaluation.designs.report import (
    ReportParts,
    balance_claim,
    covariate_label,
    fmt_value,
    share_row,
)
from evaluation.designs.randomized.mechanisms_report import (
    CACE_LABEL_DA,
    IV_LABEL_DA,
    compliance_section,
    mechanisms_section,
)
from evaluation.presentation.formatting import fmt_int, fmt_number, fmt_p, is_missing
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


def _adjusted_label(bundle, column: str) -> str:
    """A column of the adjusted regression: "sex = mand" is the level "Mand" of "Køn"."""
    var, sep, level = str(column).partition(" = ")
    if sep:
        return f"{bundle.label(var)}: {bundle.value_label(var, level)}"
    return bundle.label(var)


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

    def _allocated(self, rec, which: str) -> int | None:
        """Persons allocated by the lottery to the intervention ("treated") or the control group."""
        alloc = rec.result.diagnostics.get("n_allocated") or {}
        try:
            spec = self.family.groups(self.family.Options(**rec.options))
        except Exception:  # noqa: BLE001 - options of another version: fall back to the analysed numbers
            spec = None
        if spec is None:
            return None
        n = alloc.get(str(spec.treated if which == "treated" else spec.control))
        return int(n) if n is not None and not is_missing(n) else None

    def n_participants(self, rec):
        """Everyone the lottery allocated to the intervention (the intention-to-treat group), not only those with an outcome."""
        n = self._allocated(rec, "treated")
        return n if n is not None else super().n_participants(rec)

    def n_comparison(self, rec):
        n = self._allocated(rec, "control")
        return n if n is not None else super().n_comparison(rec)

    def method_da(self, rec, e, labels):
        return METHOD_DA.get(e.term) or self.term_label(e.term)

    def method_technical_da(self, rec, e, bundle):
        d = rec.result.diagnostics
        if e.term == "difference_in_means":
            df = d.get("welch_df")
            return ("Forskel i gennemsnit (interventions- minus kontrolgruppe); Welch-t-interval og -test"
                    + (f" med {fmt_number(df, 1)} frihedsgrader" if not is_missing(df) else ""))
        if e.term == "difference_in_proportions":
            return ("Forskel i andele (interventions- minus kontrolgruppe); Newcombes hybrid-score-interval (metode 10); "
                    "z-test med fælles andel; standardfejl uden fælles andel")
        if e.term == "adjusted_difference":
            covs = [_adjusted_label(bundle, c) for c in d.get("adjusted_columns") or []]
            se = {"HC2": "HC2-robuste standardfejl", "HC1": "HC1-robuste standardfejl", "HC3": "HC3-robuste standardfejl",
                  "cluster": "klyngerobuste standardfejl"}.get(str(d.get("cov_type")), "robuste standardfejl")
            df = d.get("adjusted_df")
            how = "med behandling × centrerede baggrundsforhold (Lin 2013)" if d.get("adjustment") == "lin" else \
                "med baggrundsforhold (ANCOVA)"
            return (f"Lineær regression {how}" + (f": {', '.join(covs)}" if covs else "") + f"; {se}"
                    + (f"; t-interval med {fmt_int(df)} frihedsgrader" if not is_missing(df) else ""))
        return self.method_da(rec, e, bundle.labels)

    def technical_rows(self, rec, bundle):
        rows = super().technical_rows(rec, bundle)
        d = rec.result.diagnostics
        if d.get("permutations"):
            p = d.get("p_value_randomization")
            rows.append(("Randomiseringsinferens",
                         f"{fmt_int(d['permutations'])} nye lodtrækninger af de samme personer (startværdi {d.get('seed')}); "
                         "forskellen i gennemsnit sammenlignet med dem, tosidet" + (f"; {fmt_p(p)}" if not is_missing(p) else "")))
        return rows

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
            is_bin = share_row(bundle, r, ("mean_intervention", "mean_control"))
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
