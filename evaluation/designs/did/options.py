"""Typed options of the difference-in-differences designs (``did_2x2``, ``did_twfe``, ``did_cs``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from evaluation.designs.family import FitOptions, Options

__all__ = ["DiD2x2Options", "DiD2x2Fit", "TWFEOptions", "TWFEFit", "CSOptions", "CSFit"]


class DiD2x2Options(Options):
    """Two groups, two periods (evidence level 3)."""

    group: str = Field(description="0/1 column, 1 = intervention group")
    time: str = Field(description="0/1 post column or a column with exactly two periods (the larger is 'after')")
    unit: str | None = Field(default=None, description="person column of a panel (default cluster); omit for repeated cross-sections")
    covariates: list[str] = Field(default_factory=list, description="additional regressors, entered linearly")
    weights: str | None = Field(default=None, description="non-negative weight column (weighted least squares)")
    cluster: str | None = Field(default=None, description="assignment-unit column to cluster on instead of unit")


class DiD2x2Fit(FitOptions):
    cov_type: Literal["cluster", "robust", "classical"] = Field(
        default="cluster", description="cluster-robust by unit (default), heteroskedasticity-robust (HC1) or classical")


class TWFEOptions(Options):
    """Two-way fixed effects: person and period effects (evidence level 3)."""

    unit: str = Field(description="person column of the long panel")
    time: str = Field(description="period column of the long panel")
    treatment: str | None = Field(default=None, description="0/1 treatment-in-effect column (static model)")
    cohort: str | None = Field(default=None, description="first treated period per person (event study)")
    event_study: bool = Field(default=False, description="relative-time dummies instead of one treatment dummy (needs cohort)")
    event_window: tuple[int, int] | None = Field(default=None, description="event times with their own dummy, e.g. [-4, 8] (event study)")
    covariates: list[str] = Field(default_factory=list, description="time-varying regressors")
    weights: str | None = Field(default=None, description="weight column (weighted least squares)")
    cluster: str | None = Field(default=None, description="assignment-unit column to cluster on; default the person")


class TWFEFit(FitOptions):
    cov_type: Literal["clustered", "robust", "unadjusted"] = Field(
        default="clustered", description="clustered by person or the declared cluster (CR1), robust or unadjusted")


class CSOptions(Options):
    """Staggered enrolment: Callaway–Sant'Anna group-time effects (evidence level 3)."""

    unit: str = Field(description="person column of the balanced long panel")
    time: str = Field(description="integer-coded period column (e.g. week)")
    cohort: str = Field(description="period of first treatment per person; empty, inf or 0 = never treated")
    covariates: list[str] = Field(default_factory=list, description="baseline covariates for conditional parallel trends")
    weights: str | None = Field(default=None, description="time-invariant person weights")
    cluster: str | None = Field(default=None, description="time-invariant assignment-unit column")
    control_group: Literal["nevertreated", "notyettreated"] = Field(
        default="nevertreated", description="comparison group: never treated, or not yet treated")
    anticipation: int = Field(default=0, ge=0, description="periods before enrolment in which behaviour may already change")
    base_period: Literal["varying", "universal"] = Field(default="varying", description="base period of the pre-enrolment cells")
    est_method: Literal["dr", "reg", "ipw", "dr_traditional"] = Field(
        default="dr", description="estimator with covariates: doubly robust, outcome regression, IPW or traditional DR")
    cohort_bin: int = Field(default=1, ge=1, description="coarsen enrolment periods into bins of this many periods")


class CSFit(FitOptions):
    bootstrap: bool = Field(default=False, description="multiplier bootstrap with IQR standard errors and sup-t bands")
    draws: int = Field(default=999, ge=99, description="bootstrap draws")
    seed: int | None = Field(default=None, description="bootstrap seed (needed with bootstrap)")
    bootstrap_weights: Literal["mammen", "rademacher"] = Field(default="mammen", description="multiplier distribution")
    placebo_shift: int | None = Field(default=None, ge=1, description="placebo: pretend enrolment happened this many periods earlier")
