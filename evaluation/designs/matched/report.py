"""The matched comparison's report parts in Danish."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from evaluation.designs.check_report import analysis_label, effect_scale, interval_text, level_of, number_text
from evaluation.designs.report import (
    ReportParts,
    balance_claim,
    covariate_label,
    fmt_value,
    share_row,
)
from evaluation.presentation.formatting import fmt_int, fmt_number, is_missing
from evaluation.presentation.markdown import DASH, md_table
from evaluation.presentation.phrases import ci_label

if TYPE_CHECKING:  # pragma: no cover
    from evaluation.results import Bundle

__all__ = ["MatchedReport", "sensemakr_block"]

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

    def method_technical_da(self, rec, e, bundle):
        d = rec.result.diagnostics
        text = self.method_da(rec, e, bundle.labels)
        ps = str(d.get("ps_model") or "")
        if ps:
            text += ("; propensity score fra logistisk regression uden straf" if "unpenalised" in ps else
                     "; propensity score fra logistisk regression med straf (regularisering)" if "penal" in ps else
                     "; propensity score fra logistisk regression")
        if "normal CI" in (e.method or ""):
            text += "; normalfordelingsinterval"
        return text

    def participants(self, rec, bundle) -> str:
        """Who was compared with whom, and balance before and after adjustment on the final weights."""
        res = rec.result
        d = res.diagnostics
        out = ["# Hvem deltog {#deltagere}\n"]
        n_t, n_c = d.get("n_treated_input"), d.get("n_control_input")
        how = {"nearest": "matchet", "dr": "vægtet (og resultatet justeret med en udfaldsmodel)"}.get(d.get("method"), "vægtet")
        covs = [bundle.label(c).lower() for c in (rec.options.get("covariates") or [])]
        text = (f"Deltagerne ({fmt_int(n_t) if n_t else DASH} personer) sammenlignes med personer, der ikke deltog "
                f"({fmt_int(n_c) if n_c else DASH} i sammenligningsgruppen før justering). Sammenligningsgruppen er {how}, "
                f"så den ligner deltagerne på {', '.join(covs) or 'de valgte baggrundsforhold'}.")
        if not is_missing(d.get("ess_control")):
            text += (f" Efter justeringen svarer sammenligningsgruppen til {fmt_int(round(d['ess_control']))} personer "
                     "(effektiv størrelse).")
        out.append(text + "\n")
        bal = res.tables.get("balance")
        if bal is not None and len(bal):
            rule = d.get("balance_rule") or {}
            limit = float(rule.get("max_smd", 0.1))
            out.append("## Baggrundsforhold og balance\n")
            out.append(
                "Grupperne er ikke dannet tilfældigt og kan derfor være forskellige fra start. Tabellen viser baggrundsforholdene før og efter "
                "justeringen; den standardiserede forskel (SMD) måler forskellen i standardafvigelser og er beregnet med de "
                f"endelige vægte. Under {fmt_number(limit, 2).rstrip('0').rstrip(',')} regnes for god balance. Andele er vist i procent.\n")
            rows = []
            for _, r in bal.iterrows():
                is_bin = share_row(bundle, r, ("mean_treated", "mean_control_before", "mean_control_after"))
                m = 100.0 if is_bin else 1.0
                rows.append((covariate_label(bundle, r) + (" (%)" if is_bin else ""),
                             fmt_value(r.get("mean_treated"), m, 1), fmt_value(r.get("mean_control_before"), m, 1),
                             fmt_value(r.get("mean_control_after"), m, 1),
                             DASH if is_missing(r.get("smd_before")) else fmt_number(r["smd_before"], 2),
                             DASH if is_missing(r.get("smd_after")) else fmt_number(r["smd_after"], 2)))
            out.append(md_table(["Baggrundsforhold", "Deltagere", "Sammenligningsgruppe før", "Sammenligningsgruppe efter",
                                 "SMD før", "SMD efter"], rows))
            out.append(balance_claim(bal, "smd_after", bundle, limit=limit,
                                     adjusted="Effekten kan være skævvredet af disse forskelle."))
        return "\n".join(out)

    def caveats(self, records, bundle) -> list[str]:
        return [
            "- **Det kan resultatet ikke bruges til:** at udelukke, at deltagerne adskilte sig fra sammenligningsgruppen på "
            "forhold, der ikke findes i registrene (fx motivation eller helbred); sådanne forskelle kan både skjule og "
            "skabe en effekt."
        ]


def sensemakr_block(b: "Bundle", r: Mapping[str, Any]) -> str:
    """The sensemakr check's robustness values and bounds (and the E-value of a 0/1 outcome) in "Hvor robust er
    resultatet?"."""
    d = r.get("details") or {}
    lvl = level_of(b, r["analysis"])
    if "rv_q" not in d:
        return ""
    mult, unit, dec = effect_scale(b, r["analysis"])
    in_unit = f" ({unit})" if unit else ""

    def num(x):
        return number_text(x, dec, mult)

    def ci(lo, hi):
        return interval_text(lo, hi, dec, mult)

    rows = [(x["label_da"], fmt_number(100 * x["r2dz_x"], 1) + " %", fmt_number(100 * x["r2yz_dx"], 1) + " %",
             num(x["adjusted_estimate"]), ci(x["adjusted_lower"], x["adjusted_upper"])) for x in d.get("bounds", [])]
    out = [f"### Følsomhed for ikke-målte forskelle: {analysis_label(b, r['analysis'])}\n",
           f"Regressionsjusteret forskel {num(d['estimate'])}{' ' + unit if unit else ''} (t = {fmt_number(d['t'], 2)}). Deltagelsen forklarer "
           f"{fmt_number(100 * d['partial_r2'], 1)} % af den resterende variation i resultatet. Robusthedsværdier "
           f"(Cinelli & Hazlett 2020): RV = {fmt_number(100 * d['rv_q'], 1)} % (bringer estimatet til 0) og "
           f"RV = {fmt_number(100 * d['rv_qa'], 1)} % (gør det ikke statistisk sikkert).\n",
           # sensemakr's bounds are defined for a linear regression; the weighted/matched estimate has no such
           # decomposition, so the check uses an ordinary regression and the reader is told so
           f"Følsomhedsanalysen bygger på en almindelig regression ({d.get('model') or 'OLS af resultatet på gruppe og baggrundsforhold'}), "
           "ikke på den matchede sammenlignings vægte; den regressionsjusterede forskel er derfor ikke præcis "
           "hovedresultatet, men viser, hvor følsom en sammenligning på de samme baggrundsforhold er.\n"]
    if rows:
        out.append("En ikke-målt forskel lige så stærk som hvert målt baggrundsforhold:\n\n" + md_table(
            ["Lige så stærk som", "Forklarer af deltagelse", "Forklarer af resultat", f"Justeret forskel{in_unit}",
             ci_label(lvl)], rows, align="lrrrr"))
    if not is_missing(d.get("evalue")):
        txt = (f"\nRisikoforholdet mellem grupperne i hovedresultatet (vægtet/matchet) er {fmt_number(d['risk_ratio'], 2)}"
               + (f" ({ci_label(lvl)} {interval_text(float(d['risk_ratio_lower']), float(d['risk_ratio_upper']), 2)})"
                  if not is_missing(d.get("risk_ratio_lower")) else "")
               + f". E-værdi: {fmt_number(d['evalue'], 2)}")
        if not is_missing(d.get("evalue_ci")):
            txt += f"; for sikkerhedsgrænsen nærmest 1: {fmt_number(d['evalue_ci'], 2)}"
        out.append(txt + " (VanderWeele & Ding 2017). En ikke-målt forskel, der hænger sammen med både deltagelse og "
                   "resultat med et risikoforhold på mindst E-værdien, kan forklare risikoforholdet væk"
                   + ("; en, der når E-værdien for sikkerhedsgrænsen, kan gøre det foreneligt med 1.\n"
                      if not is_missing(d.get("evalue_ci")) else ".\n"))
    return "\n".join(out)
