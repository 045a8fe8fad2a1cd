"""The matched comparison's report parts in Danish."""

from __future__ import annotations

from evaluation.designs.report import ReportParts

__all__ = ["MatchedReport"]

_ESTIMAND_METHOD = {"ATT": "Propensity score-vægtning", "ATE": "Propensity score-vægtning", "ATO": "Overlapsvægtning"}


class MatchedReport(ReportParts):
    term_labels = {"att": "Effekt for deltagerne (ATT)", "ate": "Gennemsnitlig effekt (ATE)",
                   "ato": "Effekt i overlapspopulationen (ATO)"}

    def who_than(self):
        return "deltagerne", "sammenlignelige personer, der ikke deltog"

    def method_da(self, rec, e, labels):
        """The estimator, exact strata and the standard error, from the result's diagnostics and the declared options."""
        d = rec.result.diagnostics
        method = d.get("method", rec.options.get("method", "ipw"))
        text = {"nearest": "Matchning på propensity score (nærmeste nabo)",
                "dr": "Dobbelt robust propensity score-vægtning med udfaldsmodel",
                "overlap": "Overlapsvægtning"}.get(method, _ESTIMAND_METHOD.get(str(d.get("estimand", "ATT")), "Propensity score-vægtning"))
        exact = rec.options.get("exact") or []
        if exact:
            cols = [(labels or {}).get(c, c).lower() for c in exact]
            text += f", kun sammenlignet inden for samme {' og '.join(cols)}"
        se = d.get("se")
        if se == "m_estimation":
            text += "; standardfejl, der tager højde for, at propensity scoren er estimeret (M-estimation)"
        elif se == "bootstrap":
            text += "; bootstrap-standardfejl"
        elif se == "abadie_imbens":
            text += "; Abadie–Imbens-standardfejl for matchning med tilbagelægning (propensity scoren behandlet som kendt)"
        else:
            text += "; robuste standardfejl med vægtene behandlet som kendte"
        return text
