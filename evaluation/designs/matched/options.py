"""Typed options of the matched comparison (``design: matched_comparison``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from evaluation.designs.family import FitOptions, Options, da

__all__ = ["MatchedOptions", "MatchedFit", "BalanceRule"]

Label = str | int


class BalanceRule(Options):
    """When covariates count as balanced after adjustment."""

    max_smd: float = Field(default=0.1, gt=0, description="largest absolute standardised mean difference",
        json_schema_extra=da("største tilladte standardiserede forskel (i absolut værdi)"))
    var_ratio: tuple[float, float] = Field(default=(0.5, 2.0), description="allowed range of the variance ratio (non-binary covariates)",
        json_schema_extra=da("tilladt interval for forholdet mellem varianserne (kun ikke-binære baggrundsforhold)"))


class MatchedOptions(Options):
    """Intervention group vs a propensity-score adjusted comparison group from a register pool (evidence level 3)."""

    treatment: str = Field(default="group", description="column with the group label",
        json_schema_extra=da("kolonnen, der skiller deltagere fra sammenligningspuljen"))
    treated: Label = Field(default="intervention", description="label of the intervention group in the treatment column",
        json_schema_extra=da("værdien i gruppekolonnen for indsatsgruppen (deltagerne); den skal stå præcis sådan i data (fx deltager)"))
    control: Label = Field(default="control", description="label of the comparison pool in the treatment column",
        json_schema_extra=da("værdien i gruppekolonnen for sammenligningspuljen; den skal stå præcis sådan i data (fx pulje)"))
    covariates: list[str] = Field(min_length=1, description="numeric pre-treatment covariates of the propensity-score model",
        json_schema_extra=da("talkolonner målt før indsatsen, som sandsynligheden for at deltage beregnes ud fra (propensity score)"))
    exact: list[str] = Field(default_factory=list, description="columns to match or weight exactly on (e.g. calendar start quarter)",
        json_schema_extra=da("kolonner, der skal matches eller vægtes helt præcist på (fx startkvartal)"))
    method: Literal["ipw", "overlap", "nearest", "dr"] = Field(
        default="ipw", description="inverse-probability weights, overlap weights, nearest-neighbour matching or doubly robust",
        json_schema_extra=da("ipw (vægtning med omvendt sandsynlighed), overlap (overlapvægte), nearest (nærmeste nabo-matchning) eller dr (dobbelt robust)"))
    estimand: Literal["ATT", "ATE", "ATO"] | None = Field(
        default=None, description="ATT (ipw, nearest, dr), ATE (ipw only) or ATO (overlap); default per method",
        json_schema_extra=da("ATT (effekten for deltagerne), ATE (kun ipw) eller ATO (overlap); udelades den, vælges den ud fra metoden"))
    k: int = Field(default=1, ge=1, description="comparison persons per intervention person (nearest only)",
        json_schema_extra=da("antal sammenligningspersoner pr. deltager (kun nearest)"))
    replace: bool = Field(default=True, description="matching with replacement (nearest only)",
        json_schema_extra=da("om samme sammenligningsperson må bruges flere gange (kun nearest)"))
    caliper: float | None = Field(default=0.2, gt=0, description="caliper in SDs of the logit score (nearest only; null for none)",
        json_schema_extra=da("største afstand mellem matchede personer i standardafvigelser af logit-scoren (kun nearest; null = ingen grænse)"))
    balance_rule: BalanceRule | None = Field(default=None, description="when covariates count as balanced after adjustment",
        json_schema_extra=da("hvornår grupperne regnes for ens efter justeringen"))
    distance: Literal["logit", "ps"] = Field(default="logit", description="distance for matching: logit of the score or the score (nearest only)",
        json_schema_extra=da("afstandsmål ved matchning: logit af scoren eller scoren selv (kun nearest)"))
    ps_model: Literal["logistic"] = Field(default="logistic", description="propensity-score model (other classifiers from Python only)",
        json_schema_extra=da("model for sandsynligheden for at deltage (andre modeller kun fra Python)"))


class MatchedFit(FitOptions):
    """Inference options of the matched comparison."""

    se: Literal["m_estimation", "abadie_imbens", "robust", "bootstrap"] | None = Field(
        default=None, description="standard error: M-estimation (weighting), Abadie–Imbens (matching), robust or bootstrap",
        json_schema_extra=da("standardfejl: m_estimation (vægtning), abadie_imbens (matchning), robust eller bootstrap"))
    n_boot: int = Field(default=500, ge=20, description="bootstrap draws (se: bootstrap)",
        json_schema_extra=da("antal bootstrap-træk (se: bootstrap)"))
    seed: int | None = Field(default=None, description="bootstrap seed (se: bootstrap)",
        json_schema_extra=da("startværdi for bootstrap, så den giver samme tal hver gang (se: bootstrap)"))
    weights: str | None = Field(default=None, description="survey or design weight column",
        json_schema_extra=da("kolonnen med survey- eller designvægte"))
    cluster: str | None = Field(default=None, description="column of assignment units for cluster-robust standard errors",
        json_schema_extra=da("kolonnen med den enhed, personerne er samlet i (fx afdeling), for cluster-robuste standardfejl"))
