"""Typed options of the survey (``design: survey``), e.g. the *brugermåling*."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from evaluation.designs.family import FitOptions, Options, da

__all__ = ["SurveyItem", "SurveyOptions", "SurveyFit"]


class SurveyItem(Options):
    """One questionnaire item: data column, id and the question as asked (Danish)."""

    column: str = Field(description="column in the answers file",
        json_schema_extra=da("kolonnen i svarfilen"))
    id: str | None = Field(default=None, description="short identifier (default: the column name)",
        json_schema_extra=da("kort id for spørgsmålet (standard: kolonnenavnet)"))
    text: str = Field(min_length=1, description="the question as printed on the questionnaire",
        json_schema_extra=da("spørgsmålet, som det står i spørgeskemaet"))
    reversed: bool = Field(default=False, description="true for a reverse-keyed item",
        json_schema_extra=da("true for et spørgsmål, hvor et lavt svar er det positive"))


class SurveyOptions(Options):
    """A survey scored on a declared Likert scale (no comparison group: describes experience, not effect)."""

    title: str = Field(min_length=1, description="Danish title of the survey section",
        json_schema_extra=da("dansk overskrift på rapportens afsnit om målingen"))
    scale: str | dict[str, Any] = Field(
        description="name of a shipped scale (e.g. 'brugermaaling-5') or an inline scale (codes, labels, top_box, missing_codes)",
        json_schema_extra=da("navnet på en medfølgende skala (fx 'brugermaaling-5') eller en skala skrevet her (koder, tekster, top_box, missing_codes)"))
    items: list[SurveyItem] = Field(min_length=1, description="the questionnaire items",
        json_schema_extra=da("spørgeskemaets spørgsmål"))
    unit: str | None = Field(default=None, description="column naming the unit compared (e.g. the jobcentre's house)",
        json_schema_extra=da("kolonnen med den enhed, der sammenlignes (fx jobcentrets hus)"))
    wave: str | None = Field(default=None, description="column naming the wave (e.g. year) for comparisons over time",
        json_schema_extra=da("kolonnen med målerunden (fx år) til sammenligning over tid"))
    planned: str | None = Field(default=None, description="data source with planned meetings/invitations per unit (response rate)",
        json_schema_extra=da("datakilden med planlagte møder eller invitationer pr. enhed (til svarprocenten)"))
    planned_column: str = Field(default="planned", description="column with the number planned",
        json_schema_extra=da("kolonnen med antallet planlagte"))
    weighting_classes: list[str] = Field(default_factory=list, description="columns defining nonresponse weighting classes",
        json_schema_extra=da("kolonner, der danner vægtningsklasser for manglende svar"))
    scale_score: bool = Field(default=True, description="report a scale score and Cronbach's alpha over the items",
        json_schema_extra=da("vis en samlet skalascore og Cronbachs alfa over spørgsmålene"))


class SurveyFit(FitOptions):
    """Inference options of the survey."""
