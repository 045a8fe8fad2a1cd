"""The survey family (``design: survey``): a brugermåling scored on a declared Likert scale.

A survey describes how respondents experienced something; it has no comparison group and makes no
effect claim (evidence level 0: no effect measurement). Its disclosure control is applied while
it scores (distributions need complementary suppression across units and categories), so the cells
it hides are handed to the study's suppression log by :meth:`SurveyFamily.disclose`.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

from evaluation.designs.family import AnalysisInput, Family, register_family
from evaluation.designs.survey.examples import survey_example
from evaluation.designs.survey.options import SurveyFit, SurveyOptions
from evaluation.designs.survey.report import SurveyReport
from evaluation.designs.survey.scoring import score_survey
from evaluation.disclosure import SuppressionLog
from evaluation.metrics.scales import available_scales
from evaluation.results import Estimate, Result, SurveyResult, result_from_dict

__all__ = ["SurveyFamily"]


@register_family
class SurveyFamily(Family):
    design = "survey"
    family = "survey"
    evidence_level = 0
    Options = SurveyOptions
    Fit = SurveyFit
    Report = SurveyReport
    Estimator = None
    needs_metric = False
    is_effect = False
    simulates = False
    label_da = ("Spørgeskemaundersøgelse (brugermåling): borgernes svar på en fast svarskala, opgjort som andele og "
                "gennemsnit med sikkerhedsintervaller; ingen sammenligningsgruppe")
    estimand_da = ("Andelen af de besvarede spørgeskemaer med et positivt svar på hvert spørgsmål (beskrivende; siger ikke "
                   "noget om effekt)")
    short_da = "brugermåling"
    assumption_da = ("Svarene skal være repræsentative for alle, der fik samtalen: de, der ikke svarede, må ikke have "
                     "oplevet samtalen anderledes")

    option_roles = {"unit": ("any", True), "wave": ("any", True), "weighting_classes": "categorical"}

    def data_roles(self, options, fit=None):
        """The shared roles, and each item's answer column (present; answers may be missing)."""
        from evaluation.designs.family import DataRole

        return super().data_roles(options, fit) + [DataRole(("options", "items", i, "column"), item.column, "any", True)
                                                   for i, item in enumerate(options.items)]

    def check_options(self, options: SurveyOptions) -> list[tuple[tuple[Any, ...], str]]:
        if isinstance(options.scale, str) and options.scale not in available_scales():
            return [(("options", "scale"), f"unknown scale {options.scale!r}; shipped scales: "
                     f"{', '.join(available_scales())} (or declare one inline)")]
        return []

    def data_references(self, options: SurveyOptions):
        return [(("options", "planned"), options.planned)] if options.planned else []

    def definition_da(self, options: SurveyOptions) -> str:
        n = len(options.items)
        return (f"Borgernes svar på {n} spørgsmål i spørgeskemaet «{options.title}»; et positivt svar er et svar i "
                "skalaens øverste kategorier.")

    def estimate(self, inp: AnalysisInput) -> Result:
        o = inp.options
        sv = SimpleNamespace(id=inp.id, data=inp.data_name, indicator=inp.indicator, title=o.title, scale=o.scale,
                             items=o.items, unit=o.unit, wave=o.wave, planned=o.planned, planned_column=o.planned_column,
                             weighting_classes=o.weighting_classes, scale_score=o.scale_score)
        log = SuppressionLog(inp.threshold)
        record = score_survey(sv, inp.sources, inp.paths, inp.threshold, log, conf_level=inp.fit.conf_level,
                              where=f"analysis {inp.id!r}: options.scale")
        return SurveyResult(
            estimand=f"share of positive answers (top box of the {record['scale']['name']} scale) per item, among "
                     "the questionnaires returned",
            estimates=tuple(_headline_estimates(record)), conf_level=inp.fit.conf_level,
            diagnostics={"n_answers": record["n_answers"], "scale": record["scale"]["name"]},
            survey=record, suppressed=tuple(log.entries),
        )

    def suppress(self, result: Result, inp: AnalysisInput, log: SuppressionLog) -> Result:
        """The survey was disclosure-controlled while it scored; its hidden cells join the study's log."""
        for e in getattr(result, "suppressed", ()):
            log.add(e["table"], e["row"], e["column"], e["reason"])
        return dataclasses.replace(result, suppressed=())

    def figures(self, records, bundle) -> dict[str, Any]:
        from evaluation.designs.survey.figures import survey_figures

        return survey_figures(records)

    def example(self, scenario: str, seed: int = 1):
        return survey_example(scenario, seed)


def _headline_estimates(record) -> list[Estimate]:
    """Top-box share per item, the response rate and the mean scale score, as published."""
    out = []
    for it in record["items"]:
        e = result_from_dict(it["top_box"]).estimates[0]
        out.append(dataclasses.replace(e, term=f"share_top_box_{it['id']}"))
    if record.get("response_rate"):
        out.append(result_from_dict(record["response_rate"]["result"]).estimates[0])
    rel = record.get("reliability") or {}
    if rel.get("score"):
        out.append(result_from_dict(rel["score"]).estimates[0])
    return out
