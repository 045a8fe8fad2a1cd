"""Typed options of the randomized comparison (``design: randomized_comparison``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from evaluation.designs.family import FitOptions, Options, da

__all__ = ["RandomizedOptions", "RandomizedFit"]

Label = str | int


class RandomizedOptions(Options):
    """Intervention vs control group allocated by lottery (evidence level 5)."""

    treatment: str = Field(default="group", description="column with the allocated group",
        json_schema_extra=da("kolonnen med den gruppe, personen blev trukket lod til"))
    treated: Label = Field(default="intervention", description="label of the intervention group in the treatment column",
        json_schema_extra=da("værdien i gruppekolonnen for indsatsgruppen; den skal stå præcis sådan i data (fx indsats)"))
    control: Label = Field(default="control", description="label of the control group in the treatment column",
        json_schema_extra=da("værdien i gruppekolonnen for kontrolgruppen; den skal stå præcis sådan i data (fx kontrol)"))
    outcome_type: Literal["binary", "continuous"] | None = Field(
        default=None, description="binary (0/1) or continuous outcome; inferred from the values when omitted",
        json_schema_extra=da("binary (0/1, fx i job eller ej) eller continuous (et tal); udledes af værdierne, hvis feltet udelades"))
    covariates: list[str] = Field(
        default_factory=list, description="baseline covariates for the balance table and the regression adjustment",
        json_schema_extra=da("baggrundsforhold målt før lodtrækningen: vises i balancetabellen og bruges til at justere effekten"))
    adjustment: Literal["lin", "ancova", "none"] = Field(
        default="lin", description="covariate adjustment: lin (Lin 2013, treatment × centred covariates), ancova, or none",
        json_schema_extra=da("justering for baggrundsforhold: lin (Lin 2013, anbefalet), ancova eller none (ingen)"))
    strata: str | None = Field(default=None, description="block (stratum) column of a block-randomized trial",
        json_schema_extra=da("kolonnen med blokken (stratum), hvis der er trukket lod inden for blokke"))
    cluster: str | None = Field(default=None, description="unit of assignment of a cluster-randomized trial (CR1 standard errors)",
        json_schema_extra=da("kolonnen med den enhed, der blev trukket lod om (fx afdeling), hvis det ikke var personer"))
    weights: str | None = Field(default=None, description="non-negative person weights (WLS with HC2 or CR1 standard errors)",
        json_schema_extra=da("kolonnen med ikke-negative vægte pr. person (fx designvægte)"))
    take_up: str | None = Field(
        default=None, description="take-up column (1 = took the intervention up, e.g. started; 0 = did not): adds the "
        "complier average causal effect (CACE, 2SLS with allocation as the instrument) beside the intention-to-treat effect",
        json_schema_extra=da("kolonnen, der viser, om personen tog imod indsatsen (1 = påbegyndte, 0 = ikke): giver også "
                             "effekten for dem, der tog imod den (CACE), ved siden af effekten af at blive tilbudt den"))


class RandomizedFit(FitOptions):
    """Inference options of the randomized comparison."""

    cov_type: Literal["HC0", "HC1", "HC2", "HC3", "nonrobust", "cluster"] | None = Field(
        default=None, description="covariance of the adjusted regression: HC2 by default, cluster with a declared cluster",
        json_schema_extra=da("metode til standardfejl: HC2 som standard, cluster når der er angivet cluster"))
    permutations: int = Field(default=0, ge=0, description="draws of randomization inference for the unadjusted difference (0 = none)",
        json_schema_extra=da("antal lodtrækninger i en randomiseringstest af den ujusterede forskel (0 = ingen)"))
    seed: int | None = Field(default=None, description="seed of randomization inference (needs permutations > 0)",
        json_schema_extra=da("startværdi for randomiseringstesten, så den giver samme tal hver gang (kræver permutations > 0)"))
    mediation_draws: int = Field(default=1000, ge=100, description="bootstrap draws of the mediation analysis of a link "
        "that names a mediator (R mediation's sims)",
        json_schema_extra=da("antal bootstrap-trækninger i mekanismeanalysen (mediation), når en pil i programteorien har "
                             "en mediator"))
    mediation_seed: int = Field(default=1, description="seed of the mediation analysis's bootstrap",
        json_schema_extra=da("startværdi for mekanismeanalysens bootstrap, så den giver samme tal hver gang"))
