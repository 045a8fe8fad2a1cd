"""Typed options of the survey (``design: survey``), e.g. the *brugermåling*."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from evaluation.designs.family import FitOptions, Options

__all__ = ["SurveyItem", "SurveyOptions", "SurveyFit"]


class SurveyItem(Options):
    """One questionnaire item: data column, id and the question as asked (Danish)."""

    column: str = Field(description="column in the answers file")
    id: str | None = Field(default=None, description="short identifier (default: the column name)")
    text: str = Field(min_length=1, description="the question as printed on the questionnaire")
    reversed: bool = Field(default=False, description="true for a reverse-keyed item")


class SurveyOptions(Options):
    """A survey scored on a declared Likert scale (no comparison group: describes experience, not effect)."""

    title: str = Field(min_length=1, description="Danish title of the survey section")
    scale: str | dict[str, Any] = Field(
        description="name of a shipped scale (e.g. 'brugermaaling-5') or an inline scale (codes, labels, top_box, missing_codes)")
    items: list[SurveyItem] = Field(min_length=1, description="the questionnaire items")
    unit: str | None = Field(default=None, description="column naming the unit compared (e.g. the jobcentre's house)")
    wave: str | None = Field(default=None, description="column naming the wave (e.g. year) for comparisons over time")
    planned: str | None = Field(default=None, description="data source with planned meetings/invitations per unit (response rate)")
    planned_column: str = Field(default="planned", description="column with the number planned")
    weighting_classes: list[str] = Field(default_factory=list, description="columns defining nonresponse weighting classes")
    scale_score: bool = Field(default=True, description="report a scale score and Cronbach's alpha over the items")


class SurveyFit(FitOptions):
    """Inference options of the survey."""
