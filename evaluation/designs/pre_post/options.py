"""Typed options of the before/after measurement (``design: pre_post``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from evaluation.designs.family import FitOptions, Options

__all__ = ["PrePostOptions", "PrePostFit"]


class PrePostOptions(Options):
    """The level at a baseline date and at a follow-up date, without a comparison group (evidence level 1)."""

    baseline: str | int = Field(description="label of the baseline period in the period column")
    follow_up: str | int = Field(description="label of the follow-up period in the period column")
    period: str = Field(default="period", description="column naming the period of each measurement")
    unit: str | None = Field(default=None, description="person column: persons measured at both dates are paired")
    outcome_type: Literal["binary", "continuous"] | None = Field(
        default=None, description="binary (0/1) or continuous outcome; inferred from the values when omitted")


class PrePostFit(FitOptions):
    """Inference options of the before/after measurement."""
