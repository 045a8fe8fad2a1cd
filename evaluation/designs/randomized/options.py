"""Typed options of the randomized comparison (``design: randomized_comparison``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from evaluation.designs.family import FitOptions, Options

__all__ = ["RandomizedOptions", "RandomizedFit"]

Label = str | int


class RandomizedOptions(Options):
    """Intervention vs control group allocated by lottery (evidence level 5)."""

    treatment: str = Field(default="group", description="column with the allocated group")
    treated: Label = Field(default="intervention", description="label of the intervention group in the treatment column")
    control: Label = Field(default="control", description="label of the control group in the treatment column")
    outcome_type: Literal["binary", "continuous"] | None = Field(
        default=None, description="binary (0/1) or continuous outcome; inferred from the values when omitted")
    covariates: list[str] = Field(
        default_factory=list, description="baseline covariates for the balance table and the regression adjustment")
    adjustment: Literal["lin", "ancova", "none"] = Field(
        default="lin", description="covariate adjustment: lin (Lin 2013, treatment × centred covariates), ancova, or none")
    strata: str | None = Field(default=None, description="block (stratum) column of a block-randomized trial")
    cluster: str | None = Field(default=None, description="unit of assignment of a cluster-randomized trial (CR1 standard errors)")
    weights: str | None = Field(default=None, description="non-negative person weights (WLS with HC2 or CR1 standard errors)")


class RandomizedFit(FitOptions):
    """Inference options of the randomized comparison."""

    cov_type: Literal["HC0", "HC1", "HC2", "HC3", "nonrobust", "cluster"] | None = Field(
        default=None, description="covariance of the adjusted regression: HC2 by default, cluster with a declared cluster")
    permutations: int = Field(default=0, ge=0, description="draws of randomization inference for the unadjusted difference (0 = none)")
    seed: int | None = Field(default=None, description="seed of randomization inference (needs permutations > 0)")
