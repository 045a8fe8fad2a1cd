"""Typed options of the before/after measurement (``design: pre_post``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from evaluation.designs.family import FitOptions, Options, da

__all__ = ["PrePostOptions", "PrePostFit"]


class PrePostOptions(Options):
    """The level at a baseline date and at a follow-up date, without a comparison group (evidence level 1)."""

    baseline: str | int = Field(description="label of the baseline period in the period column",
        json_schema_extra=da("værdien i periodekolonnen for førmålingen"))
    follow_up: str | int = Field(description="label of the follow-up period in the period column",
        json_schema_extra=da("værdien i periodekolonnen for eftermålingen"))
    period: str = Field(default="period", description="column naming the period of each measurement",
        json_schema_extra=da("kolonnen, der angiver hvilken måling (periode) rækken hører til"))
    unit: str | None = Field(default=None, description="person column: persons measured at both dates are paired",
        json_schema_extra=da("personkolonnen: personer, der er målt begge gange, sammenlignes parvis"))
    outcome_type: Literal["binary", "continuous"] | None = Field(
        default=None, description="binary (0/1) or continuous outcome; inferred from the values when omitted",
        json_schema_extra=da("binary (0/1) eller continuous (et tal); udledes af værdierne, hvis feltet udelades"))


class PrePostFit(FitOptions):
    """Inference options of the before/after measurement."""
