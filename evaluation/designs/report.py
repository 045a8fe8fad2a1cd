"""The Danish report parts every design family shares, and the hooks a family overrides.

The report skeleton (:mod:`evaluation.reporting.quarto`) asks each analysis's family for its
parts — :meth:`ReportParts.headline`, :meth:`ReportParts.participants`, method rows, effect rows,
body sections, caveats and the portfolio line — so no section of the skeleton branches on a design's
name. Everything here only displays the (disclosure-controlled) typed bundle; nothing re-estimates.

A family's parts are a subclass of :class:`ReportParts` set as ``Family.Report``; they speak of a
*kontrolgruppe* and of *lodtrækning* only when the family says the groups were formed by lottery
(:attr:`~evaluation.designs.family.Family.random_assignment`), and name the family's identifying
assumption in the caveats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from evaluation.presentation.formatting import (
    fmt_ci,
    fmt_int,
    fmt_number,
    fmt_p,
    is_missing,
)
from evaluation.presentation.labels import readable_label
from evaluation.presentation.markdown import DASH, md_table
from evaluation.presentation.phrases import (
    EVIDENCE_SHORT_DA,
    interval_phrase,
    result_level,
    scale_for,
    signed_phrase,
    significance_sentence,
)
from evaluation.presentation.phrases import natural_frequency as natural_frequency_text

if TYPE_CHECKING:  # pragma: no cover
    from evaluation.results import AnalysisRecord, Bundle, Estimate

# (annotations name "Family" without importing it: evaluation.designs.family imports this module)

__all__ = ["ReportParts", "TERM_LABELS", "fmt_value", "covariate_label", "share_row", "GROUP_LABELS", "TREATED_DA", "CONTROL_DA"]

#: Danish labels of the estimate terms every family may report (a family adds its own)
TERM_LABELS = {
    "adjusted_difference": "Forskel justeret for baggrundsforhold",
}

#: the names of the compared groups: the intervention group, and the control group only when
#: the groups were formed by lottery (otherwise a comparison group)
TREATED_DA = "Interventionsgruppe"
CONTROL_DA = {True: "Kontrolgruppe", False: "Sammenligningsgruppe"}
GROUP_LABELS = {"total": "I alt"}


def fmt_value(x: Any, mult: float, dec: int) -> str:
    """A number scaled and formatted in Danish, «–» when missing or suppressed."""
    return DASH if is_missing(x) else fmt_number(float(x) * mult, dec)


def covariate_label(bundle: "Bundle", row: Mapping[str, Any]) -> str:
    """Danish label of a balance-table row: column label, and the level for a category."""
    var = row.get("variable", row.get("covariate"))
    label = bundle.label(str(var))
    level = row.get("level")
    if level is not None and not is_missing(level) and str(level) != "":
        return f"{label}: {bundle.value_label(str(var), level)}"
    return label


def share_row(bundle: "Bundle", row: Mapping[str, Any], columns: tuple[str, ...]) -> bool:
    """Whether a balance-table row is a share, shown in per cent: a 0/1 covariate (one level of a category), or a
    continuous covariate whose label calls it a share ("Andel af ugerne …") and whose values lie in 0–1. The data
    declare no unit for a covariate, so its Danish label is what says it is a share."""
    if bool(row.get("binary", False)):
        return True
    var = row.get("variable", row.get("covariate"))
    if not bundle.label(str(var)).lower().startswith("andel"):
        return False
    vals = [row.get(c) for c in columns if not is_missing(row.get(c))]
    return bool(vals) and all(0.0 <= float(v) <= 1.0 for v in vals)


def balance_claim(balance, smd_column: str, bundle: "Bundle", *, limit: float = 0.1, adjusted: str = "") -> str:
    """The sentence under a balance table; it claims balance only when every standardised difference is
    published and below ``limit`` (hidden or missing differences are named, not assumed small)."""
    limit_txt = fmt_number(limit, 2).rstrip("0").rstrip(",")
    bad, hidden = [], []
    for _, r in balance.iterrows():
        v = r.get(smd_column)
        if is_missing(v):
            hidden.append(covariate_label(bundle, r))
        elif abs(float(v)) >= limit:
            bad.append(covariate_label(bundle, r))
    parts = []
    if bad:
        parts.append(f"Forskelle på mindst {limit_txt}: {', '.join(bad)}." + (f" {adjusted}" if adjusted else ""))
    if hidden:
        parts.append(f"Den standardiserede forskel kan ikke vises for {', '.join(hidden)} (for få personer), så "
                     "balancen kan ikke vurderes for dem.")
    if not bad and not hidden:
        parts.append(f"Alle standardiserede forskelle er under {limit_txt}: grupperne ligner hinanden på disse forhold.")
    return " ".join(parts) + "\n"


class ReportParts:
    """A design family's report parts in Danish. Subclass per family; the defaults fit an effect design.

    Parameters
    ----------
    family : Family
        The family whose parts these are (its labels, estimand, assumption and main term).
    """

    #: Danish labels of terms (merged over :data:`TERM_LABELS`)
    term_labels: Mapping[str, str] = {}
    #: where the family's own body section goes in the report: "before_effects" or "after_subgroups"
    body_slot: str = "before_effects"
    #: why the family's main result is not an effect (when ``Family.is_effect`` is false), for the portfolio
    not_an_effect_da: str = "resultatet er ikke en effekt"

    def __init__(self, family: Any):  # an evaluation.designs.family.Family (which imports this module)
        self.family = family

    # ------------------------------------------------------------------ words
    def group_names(self, rec: "AnalysisRecord") -> dict[str, str]:
        """Danish names of the compared groups by their labels in the data (kontrolgruppe only after a lottery)."""
        names = dict(GROUP_LABELS)
        try:
            spec = self.family.groups(self.family.Options(**rec.options))
        except Exception:  # noqa: BLE001 - options of another version of the family: fall back to the labels
            spec = None
        if spec is not None:
            names[str(spec.treated)] = TREATED_DA
            names[str(spec.control)] = CONTROL_DA[self.family.random_assignment]
        return names

    def control_name(self) -> str:
        """The comparison group's name in running text (definite form)."""
        return CONTROL_DA[self.family.random_assignment].lower() + "n"

    def who_than(self) -> tuple[str, str]:
        """Who the effect is about, and what they are compared with, in the headline sentence."""
        return "deltagerne", "sammenlignelige personer, der ikke deltog"

    def term_label(self, term: str) -> str:
        return {**TERM_LABELS, **self.term_labels}.get(term) or readable_label(term)

    def shown_terms(self, result) -> list["Estimate"]:
        """Estimates shown in tables: not the group means/shares."""
        return [e for e in result.estimates if not e.term.startswith(("mean_", "share_"))]

    def method_da(self, rec: "AnalysisRecord", e: "Estimate", labels: Mapping[str, str]) -> str:
        """The Danish method of one estimate, from the result's own fields (default: its label; the exact
        method as computed is listed in the report's appendix)."""
        return self.term_label(e.term)

    def method_technical_da(self, rec: "AnalysisRecord", e: "Estimate", bundle: "Bundle") -> str:
        """The exact method of one estimate in Danish for the technical appendix, from the result's own fields
        (estimator, interval, standard errors, degrees of freedom); by default the short method."""
        return self.method_da(rec, e, bundle.labels)

    def technical_rows(self, rec: "AnalysisRecord", bundle: "Bundle") -> list[tuple[str, str]]:
        """(estimate, method) rows of the technical appendix for one analysis, in Danish."""
        return [(self.term_label(e.term), self.method_technical_da(rec, e, bundle)) for e in self.shown_terms(rec.result)]

    def estimand_text(self, rec: "AnalysisRecord") -> str:
        return self.family.estimand_da or rec.result.estimand

    # ------------------------------------------------------------------ headline
    def headline(self, rec: "AnalysisRecord", bundle: "Bundle") -> str:
        """One plain-Danish sentence with the estimate and its interval."""
        res = rec.result
        e = self.family.main_term(res)
        mult, unit, dec = scale_for(rec.unit, getattr(res, "outcome_type", "continuous"))
        label = rec.indicator_label
        if is_missing(e.estimate):
            return f"**{label}:** resultatet kan ikke offentliggøres, fordi det bygger på for få personer."
        est, lo, hi = e.estimate * mult, e.ci_lower * mult, e.ci_upper * mult
        who, than = self.who_than()
        if abs(est) < 0.5 * 10 ** (-dec):
            core = f"{who} lå på samme niveau som {than}"
        else:
            core = f"{who} lå i gennemsnit {signed_phrase(est, unit, dec)} end {than}"
        level = result_level(res)
        sentence = f"**{label}:** {core} ({interval_phrase(lo, hi, unit, dec, level=level)})."
        sig = significance_sentence(e.ci_lower, e.ci_upper, e.p_value, level=level)
        return sentence + (f" {sig}" if sig else "")

    def headline_lines(self, rec: "AnalysisRecord", bundle: "Bundle") -> list[str]:
        """The analysis's bullet(s) in the report's headline: the sentence and, for shares, natural frequencies."""
        lines = [f"- {self.headline(rec, bundle)}"]
        nf = self.natural_frequency(rec)
        if nf:
            lines.append(f"  {nf}")
        return lines

    def natural_frequency(self, rec: "AnalysisRecord") -> str | None:
        """'Ud af 100 personer i kontrolgruppen …' for a binary outcome with both groups' shares."""
        res = rec.result
        if getattr(res, "outcome_type", "") != "binary":
            return None
        terms = {e.term: e for e in res.estimates}
        if "share_control" not in terms or "share_intervention" not in terms:
            return None
        pc, pt = terms["share_control"].estimate, terms["share_intervention"].estimate
        if is_missing(pc) or is_missing(pt):
            return None
        control = self.control_name()
        phrase = (rec.phrase or "").strip()
        if phrase:
            verb, _, rest = phrase.partition(" ")
            return natural_frequency_text(pc, pt, rest, verb=verb, control=control)
        what = rec.indicator_label[0].lower() + rec.indicator_label[1:]
        return (
            f"Ud af 100 personer i {control} gjaldt «{what}» for {fmt_int(round(pc * 100))}; "
            f"i interventionsgruppen for {fmt_int(round(pt * 100))}."
        )

    # ------------------------------------------------------------------ sections
    def participants(self, rec: "AnalysisRecord", bundle: "Bundle") -> str:
        """'Hvem deltog' for the primary analysis (the groups and how they compare)."""
        return "# Hvem deltog {#deltagere}\n"

    def body(self, records: list["AnalysisRecord"], bundle: "Bundle", figures: Mapping[str, str]) -> str:
        """The family's own section(s) for all its analyses (empty by default)."""
        return ""

    def effect_rows(self, rec: "AnalysisRecord") -> list[tuple]:
        """Rows of the effects table: measure, estimate label, effect, interval, p-value, group sizes."""
        res = rec.result
        mult, unit, dec = scale_for(rec.unit, getattr(res, "outcome_type", "continuous"))
        rows = []
        for e in self.shown_terms(res):
            rows.append((rec.indicator_label, self.term_label(e.term),
                         fmt_value(e.estimate, mult, dec) + (f" {unit}" if unit and not is_missing(e.estimate) else ""),
                         DASH if is_missing(e.ci_lower) else fmt_ci(e.ci_lower * mult, e.ci_upper * mult, dec),
                         fmt_p(e.p_value) if not is_missing(e.p_value) else DASH,
                         f"{fmt_int(e.n_treated)} / {fmt_int(e.n_control)}" if e.n_treated is not None else fmt_int(e.n)))
        return rows

    def effects_extra(self, rec: "AnalysisRecord", bundle: "Bundle", figures: Mapping[str, str]) -> str:
        """Extra effect subsections of one analysis (e.g. the event study), empty by default."""
        return ""

    def method_notes(self, records: list["AnalysisRecord"]) -> list[str]:
        """Paragraphs after the estimand table for the family's analyses (e.g. randomization inference)."""
        return []

    def caveats(self, records: list["AnalysisRecord"], bundle: "Bundle") -> list[str]:
        """The family's own caveats for all its analyses (the skeleton names its identifying assumption,
        ``Family.assumption_da``, before them)."""
        return []

    # ------------------------------------------------------------------ summary ("Kort fortalt")
    def desired_direction(self, rec: "AnalysisRecord", bundle: "Bundle") -> str | None:
        """The direction the project wanted the indicator to move ("increase"/"decrease"), from its declared target."""
        for t in bundle.targets:
            if t.indicator == rec.indicator and t.target.get("direction"):
                return str(t.target["direction"])
        return None

    def verdict(self, rec: "AnalysisRecord") -> str:
        """What the main estimate says about chance: "clear" (the interval excludes zero and the test agrees),
        "unclear" (the interval contains zero and the test agrees), "border" (they disagree) or "missing"."""
        res = rec.result
        e = self.family.main_term(res)
        if is_missing(e.estimate) or is_missing(e.ci_lower) or is_missing(e.ci_upper):
            return "missing"
        crosses = e.ci_lower <= 0 <= e.ci_upper
        alpha = 1.0 - result_level(res)
        test_chance = None if is_missing(e.p_value) else float(e.p_value) >= alpha
        if not crosses and test_chance is not True:
            return "clear"
        if crosses and test_chance is not False:
            return "unclear"
        return "border"

    def summary_worked(self, rec: "AnalysisRecord", bundle: "Bundle", design_doubt: bool = False) -> str:
        """'Virkede det?' in the summary box: an answer and the main result in one sentence. ``design_doubt``:
        the design's own checks for this analysis are broken, so a clear difference is not answered 'Ja.'."""
        res = rec.result
        e = self.family.main_term(res)
        if is_missing(e.estimate):
            return "Det kan ikke vises: resultatet bygger på for få personer."
        mult, unit, dec = scale_for(rec.unit, getattr(res, "outcome_type", "continuous"))
        est = e.estimate * mult
        who, than = self.who_than()
        label = rec.indicator_label[0].lower() + rec.indicator_label[1:]
        if abs(est) < 0.5 * 10 ** (-dec):
            core = f"På målet «{label}» lå {who} på samme niveau som {than}."
        else:
            core = f"På målet «{label}» lå {who} {signed_phrase(est, unit, dec)} end {than}."
        v = self.verdict(rec)
        if v == "clear" and design_doubt:
            answer = "Usikkert: forskellen er klar, men designets egne tjek er brudt."
        elif v == "clear":
            wanted = self.desired_direction(rec, bundle)
            went = "increase" if est > 0 else "decrease"
            answer = "Ja." if wanted == went else "Nej, resultatet gik den modsatte vej." if wanted else "Der er en klar forskel."
        elif v == "unclear":
            answer = "Det kan ikke påvises."
        else:
            answer = "Måske: resultatet ligger på grænsen af, hvad tilfældigheder kan forklare."
        return f"{answer} {core}"

    def summary_certainty(self, rec: "AnalysisRecord", bundle: "Bundle") -> str:
        """'Hvor sikkert?' in the summary box: the interval in words, chance, and the evidence level."""
        res = rec.result
        e = self.family.main_term(res)
        mult, unit, dec = scale_for(rec.unit, getattr(res, "outcome_type", "continuous"))
        parts = []
        if not is_missing(e.ci_lower) and not is_missing(e.ci_upper):
            txt = interval_phrase(e.ci_lower * mult, e.ci_upper * mult, unit, dec, level=result_level(res))
            parts.append(txt[0].upper() + txt[1:] + ".")
            v = self.verdict(rec)
            p = f" ({fmt_p(e.p_value)})" if not is_missing(e.p_value) else ""
            parts.append({"clear": f"Tilfældigheder kan næppe forklare forskellen{p}.",
                          "unclear": f"Forskellen kan skyldes tilfældigheder{p}.",
                          "border": f"Intervallet og testen peger ikke samme vej{p}."}.get(v, ""))
        lvl = getattr(res, "evidence_level", 0) or 0
        if lvl:
            parts.append(f"Evidensniveau {lvl} af 5: {EVIDENCE_SHORT_DA.get(lvl, '')}.")
        return " ".join(p for p in parts if p)

    def data_period(self, rec: "AnalysisRecord", bundle: "Bundle") -> str | None:
        """When the analysis's data were measured, in words (None: the report uses the registers' weeks or the
        project period)."""
        return None

    def n_participants(self, rec: "AnalysisRecord") -> int | None:
        """How many took part in the project (the intervention group), for the cost per participant."""
        e = self.family.main_term(rec.result)
        if e.n_treated is not None:
            return int(e.n_treated)
        return None

    def participants_word(self) -> str:
        """Where the participants are, in running text ("1.243 deltagere i projektet")."""
        return "interventionsgruppen" if self.family.random_assignment else "projektet"

    def n_comparison(self, rec: "AnalysisRecord") -> int | None:
        """How many comparison persons the analysis used (not participants), or None without a comparison."""
        e = self.family.main_term(rec.result)
        return int(e.n_control) if e.n_control is not None else None

    def n_persons(self, rec: "AnalysisRecord") -> int | None:
        """How many persons the analysis rests on (both groups of a comparison), for the portfolio."""
        e = self.family.main_term(rec.result)
        if e.n_treated is not None:
            return int(e.n_treated) + int(e.n_control or 0)
        return int(e.n) if e.n else None

    def portfolio_headline(self, rec: "AnalysisRecord") -> str:
        """The headline number of the study on the portfolio page."""
        res = rec.result
        e = self.family.main_term(res)
        mult, unit, dec = scale_for(rec.unit, getattr(res, "outcome_type", "continuous"))
        return f"{fmt_number(e.estimate * mult, dec)} {unit} ({fmt_ci(e.ci_lower * mult, e.ci_upper * mult, dec)})".replace("  ", " ")

    # ------------------------------------------------------------------ shared building blocks
    def groups_table(self, rec: "AnalysisRecord") -> str:
        res = rec.result
        groups = res.tables.get("groups")
        if groups is None or not len(groups):
            return ""
        out = ["## Grupperne\n",
               f"Tabellen viser antallet af personer i hver gruppe i analysen af «{rec.indicator_label.lower()}» "
               "og resultatet i hver gruppe.\n"]
        mult, unit, dec = scale_for(rec.unit, res.outcome_type)
        names = self.group_names(rec)
        rows = []
        for _, r in groups.iterrows():
            val = r.get("mean", r.get("share"))
            rows.append((names.get(str(r["group"]), str(r["group"])), DASH if is_missing(r["n"]) else fmt_int(r["n"]),
                         fmt_value(val, mult, dec), DASH if is_missing(r.get("missing")) else fmt_int(r.get("missing"))))
        head_val = "Andel (%)" if mult == 100.0 else f"Gennemsnit ({unit})" if unit else "Gennemsnit"
        out.append(md_table(["Gruppe", "Antal", head_val, "Uden måling"], rows))
        return "\n".join(out)
