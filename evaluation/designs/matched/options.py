"""Typed options of the matched comparison (``design: matched_comparison``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from evaluation.designs.family import FitOptions, Options

__all__ = ["MatchedOptions", "MatchedFit", "BalanceRule"]

Label = str | int


class BalanceRule(Options):
    """When covariates count as balanced after adjustment."""

    max_smd: float = Field(default=0.1, gt=0, description="largest absolute standardised mean difference")
    var_ratio: tuple[float, float] = Field(default=(0.5, 2.0), description="allowed range of the variance ratio (non-binary covariates)")


class MatchedOptions(Options):
    """Intervention group vs a propensity-score adjusted comparison group from a register pool (evidence level 3)."""

    treatment: str = Field(default="group", description="column with the group label")
    treated: Label = Field(default="intervention", description="label of the intervention group in the treatment column")
    control: Label = Field(default="control", description="label of the comparison pool in the treatment column")
    covariates: list[str] = Field(min_length=1, description="numeric pre-treatment covariates of the propensity-score model")
    exact: list[str] = Field(default_factory=list, description="columns to match or weight exactly on (e.g. calendar start quarter)")
    method: Literal["ipw", "overlap", "nearest", "dr"] = Field(
        default="ipw", description="inverse-probability weights, overlap weights, nearest-neighbour matching or doubly robust")
    estimand: Literal["ATT", "ATE", "ATO"] | None = Field(
        default=None, description="ATT (ipw, nearest, dr), ATE (ipw only) or ATO (overlap); default per method")
    k: int = Field(default=1, ge=1, description="comparison persons per intervention person (nearest only)")
    replace: bool = Field(default=True, description="matching with replacement (nearest only)")
    caliper: float | None = Field(default=0.2, gt=0, description="caliper in SDs of the logit score (nearest only; null for none)")
    balance_rule: BalanceRule | None = Field(default=None, description="when covariates count as balanced after adjustment")
    distance: Literal["logit", "ps"] = Field(default="logit", description="distance for matching: logit of the score or the score (nearest only)")
    ps_model: Literal["logistic"] = Field(default="logistic", description="propensity-score model (other classifiers from Python only)")


class MatchedFit(FitOptions):
    """Inference options of the matched comparison."""

    se: Literal["m_estimation", "abadie_imbens", "robust", "bootstrap"] | None = Field(
        default=None, description="standard error: M-estimation (weighting), Abadie–Imbens (matching), robust or bootstrap")
    n_boot: int = Field(default=500, ge=20, description="bootstrap draws (se: bootstrap)")
    seed: int | None = Field(default=None, description="bootstrap seed (se: bootstrap)")
    weights: str | None = Field(default=None, description="survey or design weight column")
    cluster: str | None = Field(default=None, description="column of assignment units for cluster-robust standard errors")
