"""Typed options of the difference-in-differences designs (``did_2x2``, ``did_twfe``, ``did_cs``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from evaluation.designs.family import FitOptions, Options, da

__all__ = ["DiD2x2Options", "DiD2x2Fit", "TWFEOptions", "TWFEFit", "CSOptions", "CSFit"]


class DiD2x2Options(Options):
    """Two groups, two periods (evidence level 3)."""

    group: str = Field(description="0/1 column, 1 = intervention group",
        json_schema_extra=da("0/1-kolonne: 1 = indsatsgruppen, 0 = sammenligningsgruppen"))
    time: str = Field(description="0/1 post column or a column with exactly two periods (the larger is 'after')",
        json_schema_extra=da("0/1-kolonne (1 = efter) eller en kolonne med præcis to perioder (den seneste er 'efter')"))
    unit: str | None = Field(default=None, description="person column of a panel (default cluster); omit for repeated cross-sections",
        json_schema_extra=da("personkolonnen, når de samme personer måles begge gange (så samles standardfejl pr. person); udelades ved to forskellige stikprøver"))
    covariates: list[str] = Field(default_factory=list, description="additional regressors, entered linearly",
        json_schema_extra=da("ekstra forklarende variable (indgår lineært)"))
    weights: str | None = Field(default=None, description="non-negative weight column (weighted least squares)",
        json_schema_extra=da("kolonnen med ikke-negative vægte"))
    cluster: str | None = Field(default=None, description="assignment-unit column to cluster on instead of unit",
        json_schema_extra=da("kolonnen med den enhed, indsatsen blev tildelt (fx afdeling), som standardfejl samles på i stedet for personen"))


class DiD2x2Fit(FitOptions):
    cov_type: Literal["cluster", "robust", "classical"] = Field(
        default="cluster", description="cluster-robust by unit (default), heteroskedasticity-robust (HC1) or classical",
        json_schema_extra=da("standardfejl: cluster (pr. person, standard), robust (HC1) eller classical"))


class TWFEOptions(Options):
    """Two-way fixed effects: person and period effects (evidence level 3)."""

    unit: str = Field(description="person column of the long panel",
        json_schema_extra=da("personkolonnen i det lange panel (én række pr. person og periode)"))
    time: str = Field(description="period column of the long panel",
        json_schema_extra=da("periodekolonnen i det lange panel"))
    treatment: str | None = Field(default=None, description="0/1 treatment-in-effect column (static model)",
        json_schema_extra=da("0/1-kolonne: 1 i de perioder, hvor personen er i indsatsen (statisk model)"))
    cohort: str | None = Field(default=None, description="first treated period per person (event study)",
        json_schema_extra=da("den første periode med indsats pr. person (hændelsesstudie)"))
    event_study: bool = Field(default=False, description="relative-time dummies instead of one treatment dummy (needs cohort)",
        json_schema_extra=da("true: en effekt pr. periode før og efter start i stedet for én samlet effekt (kræver cohort)"))
    event_window: tuple[int, int] | None = Field(default=None, description="event times with their own dummy, e.g. [-4, 8] (event study)",
        json_schema_extra=da("de perioder omkring start, der får hver deres effekt, fx [-4, 8] (hændelsesstudie)"))
    covariates: list[str] = Field(default_factory=list, description="time-varying regressors",
        json_schema_extra=da("forklarende variable, der ændrer sig over tid"))
    weights: str | None = Field(default=None, description="weight column (weighted least squares)",
        json_schema_extra=da("kolonnen med vægte"))
    cluster: str | None = Field(default=None, description="assignment-unit column to cluster on; default the person",
        json_schema_extra=da("kolonnen med den enhed, indsatsen blev tildelt, som standardfejl samles på; ellers personen"))


class TWFEFit(FitOptions):
    cov_type: Literal["clustered", "robust", "unadjusted"] = Field(
        default="clustered", description="clustered by person or the declared cluster (CR1), robust or unadjusted",
        json_schema_extra=da("standardfejl: clustered (pr. person eller angivet cluster, CR1), robust eller unadjusted"))


class CSOptions(Options):
    """Staggered enrolment: Callaway–Sant'Anna group-time effects (evidence level 3)."""

    unit: str = Field(description="person column of the balanced long panel",
        json_schema_extra=da("personkolonnen i det balancerede lange panel"))
    time: str = Field(description="integer-coded period column (e.g. week)",
        json_schema_extra=da("periodekolonnen, kodet som heltal (fx uge)"))
    cohort: str = Field(description="period of first treatment per person; empty, inf or 0 = never treated",
        json_schema_extra=da("den første periode med indsats pr. person; tom, inf eller 0 = aldrig i indsatsen"))
    covariates: list[str] = Field(default_factory=list, description="baseline covariates for conditional parallel trends",
        json_schema_extra=da("baggrundsforhold før start, som parallelle tendenser betinges af"))
    weights: str | None = Field(default=None, description="time-invariant person weights",
        json_schema_extra=da("vægte pr. person (de samme i alle perioder)"))
    cluster: str | None = Field(default=None, description="time-invariant assignment-unit column",
        json_schema_extra=da("kolonnen med den enhed, indsatsen blev tildelt (den samme i alle perioder)"))
    control_group: Literal["nevertreated", "notyettreated"] = Field(
        default="nevertreated", description="comparison group: never treated, or not yet treated",
        json_schema_extra=da("sammenligningsgruppe: nevertreated (aldrig i indsatsen) eller notyettreated (endnu ikke i indsatsen)"))
    anticipation: int = Field(default=0, ge=0, description="periods before enrolment in which behaviour may already change",
        json_schema_extra=da("antal perioder før start, hvor adfærden allerede kan ændre sig (forventningseffekt)"))
    base_period: Literal["varying", "universal"] = Field(default="varying", description="base period of the pre-enrolment cells",
        json_schema_extra=da("basisperiode for perioderne før start: varying (foregående periode) eller universal (perioden lige før start)"))
    est_method: Literal["dr", "reg", "ipw", "dr_traditional"] = Field(
        default="dr", description="estimator with covariates: doubly robust, outcome regression, IPW or traditional DR",
        json_schema_extra=da("estimator med baggrundsforhold: dr (dobbelt robust), reg (regression), ipw (vægtning) eller dr_traditional"))
    cohort_bin: int = Field(default=1, ge=1, description="coarsen enrolment periods into bins of this many periods",
        json_schema_extra=da("saml startperioder i grupper af så mange perioder (fx 4 uger til en måned)"))


class CSFit(FitOptions):
    bootstrap: bool = Field(default=False, description="multiplier bootstrap with IQR standard errors and sup-t bands",
        json_schema_extra=da("multiplikator-bootstrap med IQR-standardfejl og samtidige bånd"))
    draws: int = Field(default=999, ge=99, description="bootstrap draws",
        json_schema_extra=da("antal bootstrap-træk"))
    seed: int | None = Field(default=None, description="bootstrap seed (needed with bootstrap)",
        json_schema_extra=da("startværdi for bootstrap (kræves med bootstrap)"))
    bootstrap_weights: Literal["mammen", "rademacher"] = Field(default="mammen", description="multiplier distribution",
        json_schema_extra=da("fordelingen af bootstrap-vægtene: mammen eller rademacher"))
    placebo_shift: int | None = Field(default=None, ge=1, description="placebo: pretend enrolment happened this many periods earlier",
        json_schema_extra=da("placebotest: lad som om starten skete så mange perioder tidligere"))
