"""Study declarations: pydantic models for ``studies/<slug>/study.yaml``, loading and validation.

A study file is the evaluation plan. It is validated in full before anything runs: type
errors, unknown keys (with a suggestion), missing fields and semantic problems of the
programme theory are collected (not first-only) and reported as
``file:line: field.path: what is wrong and what is expected``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import datetime as _dt
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    field_validator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    model_validator,
)

from evaluation.data.paths import PROJECT_ROOT_ENV, is_inside, project_root, relative_to_root, resolved
from evaluation.data.safe_yaml import MAX_BYTES, YamlProblem, parse_yaml
from evaluation.data.tables import shown
from evaluation.declaration.theory import Theory, theory_problems
from evaluation.designs import families, get_family
from evaluation.designs.checks import checks_for, get_check
from evaluation.designs.checks import param_problems as check_param_problems
from evaluation.designs.family import da
from evaluation.exceptions import DataValidationError, StudyConfigError, UnknownNameError
from evaluation.metrics.registry import METRICS, SOURCE_PARAMS, metric_inputs, param_problems

__all__ = [
    "FunderType",
    "Funder",
    "Period",
    "DataSource",
    "RegisterWeeks",
    "AnalysisBase",
    "ANALYSIS_MODELS",
    "analysis_models",
    "study_model",
    "StudyBase",
    "StudyTarget",
    "TargetFigures",
    "FigureCell",
    "ReportOptions",
    "DurationSpec",
    "CumulativeSpec",
    "EconomySpec",
    "register_of",
    "Study",
    "load_study",
    "study_json_schema",
    "config_hash",
]

FunderType = Literal["LBR-pulje", "RAR", "kommune", "STAR-pulje", "region", "fond"]
_SLUG = r"^[a-z0-9][a-z0-9\-]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class Funder(_Model):
    """Who funds the project."""

    name: str = Field(min_length=1, description="e.g. 'Det Lokale Beskæftigelsesråd Aalborg'")
    type: FunderType = Field(description="LBR-pulje, RAR, kommune, STAR-pulje, region or fond")
    decision_date: date | None = Field(default=None, description="date of the grant decision (council meeting)")


class Period(_Model):
    """Project period."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start}); expected end >= start")
        return self


class RegisterWeeks(_Model):
    """The ISO weeks a register extract covers (first and last, inclusive)."""

    first: str = Field(description="first ISO week the extract covers, e.g. '2019-W01'",
                       json_schema_extra=da("første ISO-uge i udtrækket, fx '2019-W01'"))
    last: str = Field(description="last ISO week the extract covers, e.g. '2023-W52'",
                      json_schema_extra=da("sidste ISO-uge i udtrækket, fx '2023-W52'"))

    @model_validator(mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _iso_weeks(self) -> "RegisterWeeks":
        from evaluation.data.weeks import parse_week
        from evaluation.exceptions import DataValidationError

        try:
            a, b = parse_week(self.first, what="first"), parse_week(self.last, what="last")
        except DataValidationError:
            raise ValueError(f"expected ISO weeks such as '2019-W01' (or 201901); got first {self.first!r}, "
                             f"last {self.last!r}") from None
        if b < a:
            raise ValueError(f"the last week ({self.last}) is before the first ({self.first})")
        return self


class DataSource(_Model):
    """A data file the study reads, declared with the columns it must have.

    Every field carries its Danish meaning (``json_schema_extra=da(...)``) for ``evaluation new``
    and the user guide (``evaluation guide``).
    """

    path: str = Field(description="path to the file, relative to the study folder",
        json_schema_extra=da("stien til filen, regnet fra studiemappen (fx ../../data/mit-projekt/participants.csv)"))
    kind: Literal["participants", "register", "survey", "planned", "figures"] = Field(
        default="participants", description="what the file holds",
        json_schema_extra=da("hvad filen indeholder: participants (én række pr. person, eller pr. person og måling), "
                             "register (ugentlige ydelseskoder som i DREAM), survey (svar på et spørgeskema), planned "
                             "(planlagte møder eller invitationer pr. enhed) eller figures (opfølgningstal)"),
    )
    format: Literal["csv", "parquet", "xlsx"] | None = Field(
        default=None, description="file format; inferred from the extension when omitted",
        json_schema_extra=da("filformat: csv, parquet eller xlsx; udledes af filendelsen, hvis feltet udelades"),
    )
    id_column: str | None = Field(default=None, description="person identifier column (pseudonymised on read)",
        json_schema_extra=da("kolonnen med personens id; den pseudonymiseres ved indlæsningen og hedder derefter "
                             "person i analyserne (fx unit: person)"))
    columns: list[str] = Field(default_factory=list, description="columns that must be present",
        json_schema_extra=da("kolonner, der skal findes i filen (ud over id-kolonnen); mangler en af dem, stopper "
                             "kørslen med en fejl, der nævner filen og kolonnen"))
    period_column: str | None = Field(
        default=None,
        description="participants measured at several dates (before/after): the column naming the date; the file then "
                    "has one row per person and date, and a person id may repeat across dates but not within one",
        json_schema_extra=da("når de samme personer måles flere gange (før/efter, paneler): kolonnen med "
                             "måletidspunktet; filen har da én række pr. person og tidspunkt"),
    )
    provenance: Literal["synthetic", "register", "survey", "project"] | None = Field(
        default=None,
        description="where the data come from: synthetic (generated, not real persons), register (an extract from a "
        "public register such as DREAM), survey (answers collected for the evaluation) or project (the project's own "
        "counts); a source without it is shown as 'kilde ikke angivet'",
        json_schema_extra=da("hvor data kommer fra: synthetic (genererede data, ikke rigtige personer), register "
                             "(udtræk fra et offentligt register, fx DREAM), survey (svar indsamlet til evalueringen) "
                             "eller project (projektets egne tal); uden feltet står der 'kilde ikke angivet' i rapporten"),
    )
    sheet: str | None = Field(default=None, description="Excel sheet name (xlsx only)",
        json_schema_extra=da("navnet på fanen i regnearket (kun xlsx)"))
    separator: str | None = Field(
        default=None, min_length=1, max_length=1,
        description="CSV field separator (',', ';', tab or '|'); told from the header line when omitted",
        json_schema_extra=da("feltseparator i CSV-filen (',' eller ';' som i dansk Excel); findes ud fra overskriftslinjen, "
                             "hvis den ikke angives"))
    decimal: Literal[".", ","] | None = Field(
        default=None,
        description="decimal sign of the file's numbers ('.' or ','); detected from the whole file when omitted (a file "
                    "mixing both is refused)",
        json_schema_extra=da("decimaltegn i filens tal: ',' (dansk Excel) eller '.'; findes ud fra hele filen, hvis det ikke "
                             "angives"))
    thousands: Literal[".", ",", " ", ""] | None = Field(
        default=None,
        description="thousands separator ('.', ',', ' ' or '' for none); default: the sign that is not the decimal sign, "
                    "accepted only in strict groups of three digits (1.500)",
        json_schema_extra=da("tusindtalsseparator ('.' i dansk Excel, '' for ingen); tal som 1.500 godtages kun i grupper "
                             "af tre cifre"))
    encoding: str | None = Field(
        default=None,
        description="text encoding of a CSV file (utf-8, utf-8-sig, cp1252, latin-1); when omitted UTF-8 is tried and a "
                    "file that is not UTF-8 is read as cp1252 with a note",
        json_schema_extra=da("tegnsæt i CSV-filen (utf-8, cp1252 fra Windows, latin-1); hvis det ikke angives, prøves "
                             "UTF-8 og ellers cp1252 med en note"))
    header_row: int = Field(
        default=1, ge=1,
        description="the line (CSV) or sheet row (Excel) holding the column names; rows above it (titles, as in "
                    "jobindsats.dk exports) are skipped",
        json_schema_extra=da("linjen (CSV) eller rækken (Excel) med kolonnenavnene; rækker over den (titler som i "
                             "udtræk fra jobindsats.dk) springes over"))
    footer_rows: int = Field(
        default=0, ge=0,
        description="non-empty rows at the end of the table that are notes (e.g. 'Kilde: jobindsats.dk'), not data",
        json_schema_extra=da("antal ikke-tomme rækker nederst i tabellen, der er noter (fx 'Kilde: jobindsats.dk') og "
                             "ikke data"))
    missing_values: list[str] = Field(
        default_factory=list,
        description="cell values that mean 'missing' besides the empty cell and NA (e.g. '..' for discretion in "
                    "jobindsats.dk, 'ukendt')",
        json_schema_extra=da("værdier, der betyder 'mangler' ud over den tomme celle og NA (fx '..' for diskretion i "
                             "jobindsats.dk eller 'ukendt')"))
    types: dict[str, Literal["numeric", "integer", "categorical", "text"]] = Field(
        default_factory=dict,
        description="the type of columns whose type the data alone cannot settle (column: numeric, integer, categorical "
                    "or text); a numeric column with a non-numeric value is an error naming its rows",
        json_schema_extra=da("kolonnetyper, hvor data ikke selv afgør typen (kolonne: numeric, integer, categorical eller "
                             "text); en talkolonne med en værdi, der ikke er et tal, giver en fejl med rækkenumrene"))
    layout: Literal["auto", "wide", "long", "spells"] = Field(
        default="auto", description="register layout: DREAM-style wide (y_1801 …), long (person, week, code) or spells",
        json_schema_extra=da("register: filens form: auto (genkendes), wide (DREAM-form med en kolonne pr. uge, "
                             "y_1801 …), long (én række pr. person og uge) eller spells (én række pr. forløb)"),
    )
    week_column: str = Field(default="week", description="register: ISO week column (long layout)",
        json_schema_extra=da("register: kolonnen med ISO-ugen (long)"))
    code_column: str = Field(default="code", description="register: benefit code column (long and spells layouts)",
        json_schema_extra=da("register: kolonnen med ydelseskoden (long og spells)"))
    start_column: str = Field(default="start_week", description="register: first week of a spell",
        json_schema_extra=da("register: kolonnen med forløbets første uge (spells)"))
    end_column: str = Field(default="end_week", description="register: last week of a spell",
        json_schema_extra=da("register: kolonnen med forløbets sidste uge (spells)"))
    codes: str | None = Field(default=None, description="register: code-list file relative to the study (default: the shipped DREAM grouping)",
        json_schema_extra=da("register: en fil med kodelisten, regnet fra studiemappen (standard: den medfølgende "
                             "gruppering af DREAM-koderne)"))
    code_overrides: dict[str, str] = Field(default_factory=dict, description="register: code or 'a-b' range → group, overriding the code list",
        json_schema_extra=da("register: en kode eller et interval 'a-b' → ydelsesgruppe; går forud for kodelisten"))
    participants: str = Field(default="participants", description="register: the data source whose persons the panel is restricted to",
        json_schema_extra=da("register: den datakilde, hvis personer registeret afgrænses til"))
    absent_persons: Literal["error", "self_support"] = Field(
        default="error", description="register: participants without rows are an error, or self-supporting in every week",
        json_schema_extra=da("register: deltagere uden rækker i registeret er en fejl (error) eller selvforsørgende i "
                             "alle uger (self_support)"),
    )
    weeks: RegisterWeeks | None = Field(
        default=None,
        description="register: the ISO weeks the extract covers ({first: 2019-W01, last: 2023-W52}); a week inside them "
                    "without a code is a week without benefit (self-support), not a censored week. Without it a long "
                    "or spells register covers only the weeks its codes show",
        json_schema_extra=da("register: de uger, udtrækket dækker ({first: 2019-W01, last: 2023-W52}); en uge uden kode "
                             "inden for dem er en uge uden ydelse (selvforsørgelse), ikke en manglende uge"))
    labels: dict[str, str] = Field(default_factory=dict, description="Danish labels of columns, for tables (column: label)",
        json_schema_extra=da("danske navne på kolonnerne, som tabeller og figurer viser i stedet for kolonnenavnet "
                             "(kolonne: navn)"))
    value_labels: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Danish labels of values per column (column: {value: label})",
        json_schema_extra=da("danske navne på værdierne i en kolonne (kolonne: {værdi: navn}), fx for en 0/1-kolonne"),
    )


def _check_horizons(v):
    for h in v or []:
        if not 1 <= int(h) <= 520:
            raise ValueError(f"a horizon is a number of weeks from 1 to 520, got {h}")
    return v


class DurationSpec(_Model):
    """Time from the index week to the first self-support, per group (``analyses[].duration``): Kaplan–Meier
    curves with pointwise and simultaneous bands, the RMST difference at each horizon (weeks), the Cox hazard
    ratio, and the cumulative incidence of the first exit by cause (competing risks)."""

    horizons: list[int] = Field(
        default_factory=lambda: [52, 104], min_length=1,
        description="weeks after the index week at which the restricted mean time to self-support is compared",
        json_schema_extra=da("uger efter start, hvor den gennemsnitlige tid til selvforsørgelse (RMST) sammenlignes"))
    min_weeks: int = Field(default=1, ge=1, le=52,
                           description="self-support counts from the first spell of at least this many self-supporting weeks",
                           json_schema_extra=da("selvforsørgelse tæller fra første periode med mindst så mange sammenhængende uger uden ydelse"))
    competing: bool | dict[str, Union[list[str], Literal["self_support", "education"]]] = Field(
        default=True,
        description="competing exits: true for self-support vs fleksjob/førtidspension vs education (SU), false for "
                    "none, or a mapping cause id -> benefit-group ids (or 'self_support', 'education'), first declared "
                    "first counted",
        json_schema_extra=da("konkurrerende afgange: true (selvforsørgelse, fleksjob/førtidspension, uddannelse), false (ingen) "
                             "eller årsag: liste af ydelsesgrupper"))
    hazard_ratio: bool = Field(default=True, description="estimate the Cox hazard ratio of first self-support",
                               json_schema_extra=da("beregn hazard ratio (Cox) for første selvforsørgelse"))

    _horizons = field_validator("horizons")(_check_horizons)


class CumulativeSpec(_Model):
    """The effect on weeks on public support accumulated week by week (``analyses[].cumulative``), with intervals from
    the joint covariance of the weekly effects, a simultaneous band and a placebo before the index week."""

    horizons: list[int] = Field(
        default_factory=lambda: [52, 104, 156], min_length=1, description="weeks over which the effect is accumulated",
        json_schema_extra=da("antal uger efter start, som effekten lægges sammen over (fx 52, 104 og 156)"))
    placebo_weeks: int = Field(default=52, ge=0, le=260,
                               description="weeks before the index week for the placebo (0 = none)",
                               json_schema_extra=da("uger før start, hvor forskellen bør være nul (placebotest; 0 = ingen)"))
    benefit_types: list[str] | None = Field(default=None, description="count only these benefit groups (default: all public support)",
                                            json_schema_extra=da("tæl kun disse ydelsesgrupper (standard: al offentlig forsørgelse)"))

    _horizons = field_validator("horizons")(_check_horizons)


class EconomySpec(_Model):
    """The business case (``economy``): saved public expenses priced with benefit rates against the project's cost."""

    analysis: str | None = Field(default=None, description="the analysis whose effect is priced (default: the first "
                                                            "analysis with 'cumulative')",
                                 json_schema_extra=da("den analyse, hvis effekt prissættes (standard: den første med 'cumulative')"))
    rates: str = Field(default="dk_satser", description="a packaged rate table (dk_satser) or a rate file relative to the study",
                       json_schema_extra=da("satstabel: den medfølgende (dk_satser) eller en satsfil i forhold til studiet"))
    perspective: Literal["offentlig", "kommunal"] = Field(
        default="offentlig", description="offentlig: the benefits paid; kommunal: the municipality's share after state refusion",
        json_schema_extra=da("offentlig: de udbetalte ydelser; kommunal: kommunens andel efter statsrefusion"))
    horizons: list[int] | None = Field(
        default=None, description="weeks of the business case (default: the analysis's cumulative horizons)",
        json_schema_extra=da("uger, business casen opgøres over (standard: analysens kumulerede horisonter)"))
    cost_dkk: float | None = Field(default=None, ge=0, description="the project's cost (default: budget_dkk)",
                                   json_schema_extra=da("projektets pris i kroner (standard: bevillingen, budget_dkk)"))
    cost_source: str | None = Field(default=None, description="where the cost comes from (printed in the report)",
                                    json_schema_extra=da("hvor prisen kommer fra (står i rapporten)"))
    rate_factors: list[float] = Field(
        default_factory=lambda: [0.8, 1.2], description="rate levels of the sensitivity table, relative to the rate table",
        json_schema_extra=da("satsniveauer i følsomhedstabellen i forhold til satstabellen (fx 0,8 og 1,2)"))

    _horizons = field_validator("horizons")(_check_horizons)

    @field_validator("rate_factors")
    @classmethod
    def _factors(cls, v):
        for f in v:
            if not 0 < f <= 5:
                raise ValueError(f"a rate factor lies in (0, 5], got {f}")
        return v


class AnalysisBase(_Model):
    """One estimate to compute: a design applied to an indicator.

    ``options`` and ``fit`` are the design's own typed models: the study schema's ``analyses[]``
    is a union discriminated on ``design`` over every registered design family
    (:data:`evaluation.designs.family.FAMILIES`).
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", description="identifier of the analysis",
        json_schema_extra=da("analysens id: små bogstaver, tal, _ og -"))
    indicator: str | None = Field(default=None, description="id of the indicator (theory.indicators) used as outcome",
        json_schema_extra=da("id på den indikator under theory.indicators, som analysen måler (analysens udfald)"))
    design: str = Field(description="registered design name, e.g. 'randomized_comparison'",
        json_schema_extra=da("analysens design, fx randomized_comparison (vejledningen har listen over designs)"))
    data: str = Field(default="participants", description="name of the data source under 'data'",
        json_schema_extra=da("navnet på den datakilde under data:, som analysen bruger"))
    primary: bool = Field(default=False, description="a pre-specified primary analysis",
        json_schema_extra=da("true for en hovedanalyse, der er fastlagt på forhånd"))
    label: str | None = Field(default=None, min_length=1, max_length=80,
        description="a few Danish words the report adds to the indicator's name for this analysis, e.g. 'justeret "
                    "for alder og køn'; required when two analyses measure the same indicator with the same design",
        json_schema_extra=da("få ord, som rapporten sætter efter indikatorens navn for denne analyse, fx «justeret for "
                             "alder og køn»; skal angives, når to analyser måler samme indikator med samme design"))
    subgroups: list[str] = Field(default_factory=list, description="moderator ids (theory.moderators) for pre-specified subgroup effects",
        json_schema_extra=da("id'er på moderatorer under theory.moderators: effekten opdeles efter dem (fastlagt på forhånd)"))
    exploratory_subgroups: list[str] = Field(
        default_factory=list, description="data columns for exploratory subgroup effects (not in the theory; labelled exploratory)",
        json_schema_extra=da("datakolonner til en undersøgende opdeling af effekten (ikke i programteorien; rapporten "
                             "kalder den undersøgende)"),
    )
    duration: DurationSpec | None = Field(
        default=None, description="time to first self-support on the register attached to the analysis's data (survival)",
        json_schema_extra=da("tid til første selvforsørgelse på registret knyttet til analysens data (overlevelsesanalyse)"))
    cumulative: CumulativeSpec | None = Field(
        default=None, description="effect on weeks on public support accumulated over the follow-up, on the register",
        json_schema_extra=da("effekten på uger på offentlig forsørgelse lagt sammen over opfølgningen (registerdata)"))
    check_params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="parameters of the assumption checks run with the analysis, by check id, e.g. "
                    "{honest_did: {post_period: 2}} (see the README's check table)",
        json_schema_extra=da("indstillinger for de antagelsestjek, der køres med analysen, efter tjekkets id, fx "
                             "{honest_did: {post_period: 2}}"))

    @property
    def family(self):
        """The registered design family of this analysis."""
        return get_family(self.design)


def _registry_key() -> tuple:
    return tuple((f.design, type(f)) for f in families())


_MODEL_CACHE: dict[tuple, tuple[dict[str, type[AnalysisBase]], type]] = {}


def _analysis_models() -> dict[str, type[AnalysisBase]]:
    models = {}
    options_da = da("designets indstillinger (se tabellen over designets indstillinger)")
    for fam in families():
        opts_required = any(f.is_required() for f in fam.Options.model_fields.values())
        opt_field = (fam.Options, Field(description=fam.Options.__doc__.strip().splitlines()[0] if fam.Options.__doc__ else "",
                                        json_schema_extra=options_da)) \
            if opts_required else (fam.Options, Field(default_factory=fam.Options, description="the design's options",
                                                      json_schema_extra=options_da))
        models[fam.design] = create_model(
            f"Analysis_{fam.design}", __base__=AnalysisBase, __doc__=f"An analysis with design {fam.design!r}.",
            design=(Literal[fam.design], Field(description=f"registered design name: {fam.design}",
                                               json_schema_extra=AnalysisBase.model_fields["design"].json_schema_extra)),
            options=opt_field,
            fit=(fam.Fit, Field(default_factory=fam.Fit, description="inference options passed to fit",
                                json_schema_extra=da("indstillinger for beregningen af usikkerheden (fx sikkerhedsniveauet)"))),
        )
    return models


def _models() -> tuple[dict[str, type[AnalysisBase]], type]:
    """The analysis models and the Study model for the design families registered now (cached).

    Families register when their package is imported; one registered later (a plugin, a test) gets a
    study schema that knows it, without touching this module.
    """
    key = _registry_key()
    if key not in _MODEL_CACHE:
        models = _analysis_models()
        union = Annotated[Union[tuple(models.values())], Field(discriminator="design")]
        study = create_model("Study", __base__=StudyBase, __module__=__name__,
                             __doc__=StudyBase.__doc__,
                             analyses=(list[union], Field(default_factory=list, description="the analyses: a design applied to an indicator")))
        _MODEL_CACHE[key] = (models, study)
    return _MODEL_CACHE[key]


def analysis_models() -> dict[str, type[AnalysisBase]]:
    """The analysis model of every registered design, by design name."""
    return _models()[0]


def study_model() -> type:
    """The Study model for the design families registered now."""
    return _models()[1]


Cell = Union[str, int, float]


class FigureCell(_Model):
    """One number in a ``figures`` table: the row (chosen by column values) and the column holding it."""

    row: dict[str, Cell] = Field(
        default_factory=dict, description="column: value pairs choosing exactly one row (default: the figures' row)",
        json_schema_extra=da("kolonne: værdi, der udvælger netop én række i tabellen"))
    column: str = Field(description="the column holding the number (e.g. a period such as '2018M03')",
                        json_schema_extra=da("kolonnen med tallet (fx en periode som '2018M03')"))


class TargetFigures(_Model):
    """Where a target's numbers are read from a ``figures`` data source (e.g. a jobindsats.dk export).

    ``baseline``, ``observed``, ``n_baseline`` and ``n_observed`` each name a column of the row chosen
    by ``row``, or a cell of its own (``{row: {...}, column: ...}``); a cell holding a missing value
    (such as jobindsats.dk's '..' for discretion, declared in the source's ``missing_values``) leaves
    the number unknown.
    """

    data: str = Field(description="the data source (kind: figures) holding the numbers",
                      json_schema_extra=da("datakilden (kind: figures) med tallene"))
    row: dict[str, Cell] = Field(
        default_factory=dict, description="column: value pairs choosing the row the numbers are in",
        json_schema_extra=da("kolonne: værdi, der udvælger rækken med tallene (fx {område: Aalborg})"))
    baseline: str | FigureCell | None = Field(default=None, description="column (or cell) with the baseline",
                                              json_schema_extra=da("kolonnen (eller cellen) med udgangspunktet"))
    observed: str | FigureCell | None = Field(default=None, description="column (or cell) with the result at follow-up",
                                              json_schema_extra=da("kolonnen (eller cellen) med resultatet ved opfølgningen"))
    n_baseline: str | FigureCell | None = Field(default=None, description="column (or cell) with the number of persons at baseline",
                                                json_schema_extra=da("kolonnen (eller cellen) med antal personer ved udgangspunktet"))
    n_observed: str | FigureCell | None = Field(default=None, description="column (or cell) with the number of persons at follow-up",
                                                json_schema_extra=da("kolonnen (eller cellen) med antal personer ved opfølgningen"))


class StudyTarget(_Model):
    """A target figure (*måltal*) followed without a comparison group."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    indicator: str | None = Field(default=None, description="id of the indicator whose target this is")
    label: str | None = None
    baseline: float | None = None
    observed: float | None = Field(default=None, description="the result at follow-up, when known")
    n_baseline: int | None = Field(default=None, ge=0)
    n_observed: int | None = Field(default=None, ge=0)
    analysis: str | None = Field(default=None, description="id of an analysis whose estimate is the result")
    assessment: Literal["met", "not_met", "undecidable"] | None = Field(
        default=None, description="for a qualitative requirement: the assessed status (met, not_met, undecidable)"
    )
    evidence: str | None = Field(default=None, description="what the assessment rests on (documents, interviews)")
    measured_at: date | None = Field(default=None, description="when the result was measured")
    provenance: Literal["synthetic", "register", "survey", "project"] | None = Field(
        default=None,
        description="where the declared figures (baseline, observed, assessment) come from: synthetic (generated), register "
        "(a public register or statistics bank such as jobindsats.dk), survey or project (the project's own counts); "
        "shown in the report, and a synthetic figure puts the synthetic-data banner on it",
    )
    note: str | None = None
    figures: TargetFigures | None = Field(
        default=None,
        description="read baseline/observed (and their numbers of persons) from a figures data source, e.g. a "
                    "jobindsats.dk export, instead of writing them here",
        json_schema_extra=da("læs udgangspunkt og resultat (og antal personer) fra en datakilde med opfølgningstal, fx "
                             "et udtræk fra jobindsats.dk, i stedet for at skrive dem her"))

    @model_validator(mode="after")
    def _figures_or_numbers(self) -> "StudyTarget":
        if self.figures is not None:
            both = [k for k in ("baseline", "observed", "n_baseline", "n_observed")
                    if getattr(self.figures, k) is not None and getattr(self, k) is not None]
            if both:
                raise ValueError(f"{', '.join(both)} is given both here and under 'figures'; give each number once")
        return self


class ReportOptions(_Model):
    """How the report is produced."""

    disclosure_threshold: int = Field(
        default=5, ge=3, description="smallest number of persons a published cell may rest on (never below 3)",
        json_schema_extra=da("det mindste antal personer, et offentliggjort tal må bygge på (aldrig under 3)"),
    )
    min_group_size: int = Field(default=20, ge=3, description="smallest group an effect is estimated for",
        json_schema_extra=da("den mindste gruppe, der beregnes en effekt for"))
    formats: list[Literal["html", "pdf"]] = Field(default_factory=lambda: ["html", "pdf"], description="output formats",
        json_schema_extra=da("rapportens formater: html og/eller pdf"))
    headline_analyses: list[str] = Field(default_factory=list, description="analysis ids for the headline (default: primary)",
        json_schema_extra=da("id'er på de analyser, rapportens hovedresultat bygger på (standard: de primære)"))
    cost_unit: str | None = Field(default=None, description="what an extra unit of the primary effect is called, e.g. 'sygefraværsuge'",
        json_schema_extra=da("hvad en ekstra enhed af den primære effekt hedder i økonomiafsnittet, fx 'sygefraværsuge'"))
    date: _dt.date | None = Field(
        default=None,
        description="the report's date, printed in its summary and used to tell whether a target's deadline has passed; "
        "default: SOURCE_DATE_EPOCH when set (reproducible builds), else the day the report is made",
        json_schema_extra=da("rapportens dato (står i «Kort fortalt» og afgør, om et måls frist er overskredet); standard: "
                             "SOURCE_DATE_EPOCH, ellers dagen rapporten laves"),
    )

    @model_validator(mode="after")
    def _consistent(self) -> "ReportOptions":
        if self.min_group_size < self.disclosure_threshold:
            raise ValueError(
                f"min_group_size ({self.min_group_size}) is below disclosure_threshold ({self.disclosure_threshold}); "
                "expected min_group_size >= disclosure_threshold"
            )
        return self


class StudyBase(_Model):
    """The whole declaration of one evaluated project."""

    id: str = Field(pattern=_SLUG, description="slug: lower-case letters, digits and '-' (same as the folder name)")
    title: str = Field(min_length=1)
    summary: str | None = Field(default=None, description="a few sentences on what the project does")
    funder: Funder
    operator: str = Field(min_length=1, description="who runs the project (*projektholder*)")
    period: Period
    budget_dkk: float | None = Field(default=None, ge=0, description="grant in Danish kroner")
    language: Literal["da", "en"] = "da"
    catalogue_number: int | None = Field(default=None, description="number in the council's project catalogue")
    theory: Theory
    data: dict[str, DataSource] = Field(default_factory=dict)
    targets: list[StudyTarget] = Field(default_factory=list)
    economy: EconomySpec | None = Field(default=None, description="the business case: saved public expenses against the cost",
                                        json_schema_extra=da("business case: sparede offentlige ydelser mod projektets pris"))
    report: ReportOptions = Field(default_factory=ReportOptions)

    # set by load_study, not by the file
    source_path: Path | None = Field(default=None, exclude=True, description="(set when loading)")
    #: line of every field in the study file (set by load_study), for messages about data that name the field
    _lines: dict = PrivateAttr(default_factory=dict)

    def line_of(self, loc: tuple[Any, ...]) -> int:
        """The study file's line of the field at ``loc`` (e.g. ``("analyses", 0, "options", "treated")``); the
        nearest enclosing field's line when the field itself is not written (a default)."""
        return _line_for(self._lines, tuple(loc))

    def where(self, loc: tuple[Any, ...]) -> str:
        """``'studies/x/study.yaml:182: analyses[0].options.treated'`` for messages."""
        file = shown(self.source_path) if self.source_path is not None else "study.yaml"
        return f"{file}:{self.line_of(loc)}: {_dotted(tuple(loc))}"

    @property
    def folder(self) -> Path:
        if self.source_path is None:
            raise ValueError("study was not loaded from a file")
        return self.source_path.parent

    def analysis(self, analysis_id: str) -> AnalysisBase:
        return next(a for a in self.analyses if a.id == analysis_id)

    @property
    def project_root(self) -> Path:
        """The folder the study may read files from (see :mod:`evaluation.data.paths`)."""
        return project_root(self.folder)

    def resolve_path(self, relative: str) -> Path:
        """A declared file path, resolved against the study folder; refused outside the project root."""
        path = resolved(self.folder / relative)
        if path is None or not is_inside(path, self.project_root):
            raise DataValidationError(
                f"{self.source_path}: the path {relative!r} lies outside the project root {self.project_root}; "
                f"a study reads files only inside it (set {PROJECT_ROOT_ENV} to widen it)"
            )
        return path

    def shown_path(self, path: str | Path) -> str:
        """How a file is named in published outputs: relative to the project root, with '/'."""
        return relative_to_root(path, self.project_root)


#: the Study model for the families registered at import (see :func:`study_model` for later ones)
Study = study_model()
ANALYSIS_MODELS = analysis_models()


# ---------------------------------------------------------------------------
# YAML with line numbers
# ---------------------------------------------------------------------------


def _line_for(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get((), 1)


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


# ---------------------------------------------------------------------------
# friendly messages for pydantic errors
# ---------------------------------------------------------------------------


def _model_at(loc: tuple[Any, ...], root: Any = None) -> type[BaseModel] | None:
    """Walk the Study model (or ``root``) along ``loc`` and return the model class found there."""
    current: Any = study_model() if root is None else root
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = _field_by_name(current, part)
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) in (list, tuple):
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _analysis_tag(loc: tuple[Any, ...]) -> str | None:
    """The design tag pydantic puts into the location of an error inside ``analyses[i]``."""
    if len(loc) >= 3 and loc[0] == "analyses" and isinstance(loc[1], int) and loc[2] in analysis_models():
        return loc[2]
    return None


def _foreign(key: str, tag: str, where: str) -> str:
    """' (an option of design(s) …)' when ``key`` belongs to other designs' options or fit options."""
    owners = sorted(name for name, m in analysis_models().items() if name != tag
                    and key in _field_names(_model_at((where,), m) or BaseModel))
    return f" (it is an option of {', '.join(owners)}, not of {tag})" if owners else ""


def _unwrap(tp: Any) -> Any:
    if get_origin(tp) is Union:
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return tp


def _field_by_name(model: type[BaseModel], name: Any):
    for fname, f in model.model_fields.items():
        if name == fname or name == f.alias:
            return f
    return None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items() if name != "source_path"]


def _shown(value: Any, limit: int = 80) -> str:
    """``repr`` of a value from the study file, shortened: a message quotes the value, never a whole block."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _friendly(err: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
    loc = tuple(err["loc"])
    etype = err["type"]
    if "[key]" in loc and loc.index("[key]") > 0:  # a mapping key of the wrong type, e.g. 0: Mand
        at = loc.index("[key]")
        key = loc[at - 1]
        return loc[:at - 1] + (str(key),), (f"the key {_shown(key)} is a {_kind(key)}; keys here are text: write it in "
                                            f"quotes ('{key}')")
    tag = _analysis_tag(loc)
    root = None
    if tag is not None:  # an error inside analyses[i]: resolve fields on that design's analysis model
        root = analysis_models()[tag]
        loc = loc[:2] + loc[3:]
    # pydantic adds the union member tag / validator names to loc; strip non-data parts
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))

    def model_at(sub: tuple[Any, ...]) -> type[BaseModel] | None:
        if root is not None and len(sub) >= 2 and sub[0] == "analyses":
            return _model_at(sub[2:], root)
        return _model_at(sub)

    if etype == "invalid_key" and loc:
        key = loc[-1]
        if isinstance(key, str):  # pydantic names a null key 'None'
            return loc, "an empty key (~ or null) is not a field name; field names are text"
        return loc[:-1] + (str(key),), (f"{_shown(key)} is not a field name; field names are text (a {_kind(key)} "
                                        "was written as a key)")
    if etype in ("union_tag_invalid", "union_tag_not_found") and loc[:1] == ("analyses",):
        tag_given = err.get("ctx", {}).get("tag")
        known = ", ".join(sorted(analysis_models()))
        if tag_given is None:
            return loc + ("design",), f"required field is missing; expected 'design' (one of: {known})"
        guess = difflib.get_close_matches(str(tag_given), list(analysis_models()), n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else ""
        return loc + ("design",), f"unknown design {tag_given!r}{hint} (known designs: {known})"
    if etype == "extra_forbidden":
        parent = model_at(loc[:-1])
        key = loc[-1]
        names = _field_names(parent) if parent else []
        guess = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
        hint = f"; did you mean {guess[0]!r}?" if guess else ""
        if tag is not None and len(loc) == 4 and loc[2] in ("options", "fit"):
            hint = _foreign(str(key), tag, loc[2]) + hint
        allowed = f" Allowed fields here: {', '.join(names)}." if names else ""
        return loc, f"unknown field {key!r}{hint or ';'}{allowed}"
    if etype == "missing":
        parent = model_at(loc[:-1])
        field = _field_by_name(parent, loc[-1]) if parent else None
        desc = f" ({field.description})" if field is not None and field.description else ""
        return loc, f"required field is missing; expected {loc[-1]!r}{desc}"
    if etype in ("literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected", "")
        return loc, f"got {_shown(err.get('input'))}; expected one of: {expected}"
    if etype == "string_pattern_mismatch":
        parent = model_at(loc[:-1])
        field = _field_by_name(parent, loc[-1]) if parent else None
        desc = field.description if field is not None and field.description else f"text matching {err['ctx']['pattern']}"
        return loc, f"got {_shown(err.get('input'))}; expected {desc}"
    if etype.startswith("date") or etype.startswith("datetime"):
        return loc, f"got {_shown(err.get('input'))}; expected a date written as YYYY-MM-DD"
    if etype == "value_error":
        msg = str(err.get("ctx", {}).get("error", err["msg"]))
        return loc, msg
    inp = err.get("input")
    shown = f"got {_shown(inp)}; " if not isinstance(inp, (dict, list)) else ""
    return loc, f"{shown}{err['msg'][0].lower()}{err['msg'][1:]}"


# ---------------------------------------------------------------------------
# semantic checks across the study
# ---------------------------------------------------------------------------


def _theory_level_problems(theory: Theory) -> list[tuple[tuple[Any, ...], str]]:
    """Problems of the programme theory alone: its graph, and the metrics its indicators name."""
    problems = list(theory_problems(theory))
    for i, ind in enumerate(theory.indicators):
        if ind.metric is not None and ind.metric.name not in METRICS:
            guess = difflib.get_close_matches(ind.metric.name, list(METRICS), n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            problems.append(
                (("theory", "indicators", i, "metric", "name"),
                 f"unknown metric {ind.metric.name!r}{hint} (known metrics: {', '.join(sorted(METRICS))})")
            )
    return problems


def _metric_problems(study: Study) -> list[tuple[tuple[Any, ...], str]]:
    """Metric parameters: unknown or missing ones, and data sources they name that are not declared."""
    problems = []
    analysed = {a.indicator for a in study.analyses if a.indicator is not None and get_family(a.design).needs_metric}
    for i, ind in enumerate(study.theory.indicators):
        if ind.metric is None or ind.metric.name not in METRICS:
            continue
        loc = ("theory", "indicators", i, "metric")
        for param, msg in param_problems(ind.metric.name, ind.metric.params):
            problems.append((loc + (("params", param) if param is not None else ("params",)), msg))
        if ind.id not in analysed:
            continue  # computed only for an analysis: its data sources are checked when one uses it
        declared = metric_inputs(ind.metric.name, ind.metric.params) if not param_problems(ind.metric.name, ind.metric.params) else []
        named = {src for src, _, _ in declared}
        for key, kind in SOURCE_PARAMS.items():
            value = ind.metric.params.get(key)
            if isinstance(value, str):
                named.add(value)
                src = study.data.get(value)
                if src is not None and kind is not None and src.kind != kind:
                    problems.append((loc + ("params", key), f"names data source {value!r}, which is of kind {src.kind!r}; "
                                     f"expected a data source of kind {kind!r}"))
        if METRICS[ind.metric.name].params() and "register" in METRICS[ind.metric.name].params():
            reg = ind.metric.params.get("register", "register")
            if isinstance(reg, str):
                named.add(reg)
        for src_name in sorted(named):
            if isinstance(src_name, str) and src_name not in study.data and study.data:
                key = next((k for k, v in ind.metric.params.items() if v == src_name), None)
                problems.append((loc + (("params", key) if key else ("name",)),
                                 f"metric {ind.metric.name!r} reads data source {src_name!r}, which is not declared under "
                                 f"'data'; declared: {', '.join(sorted(study.data))}"))
    return problems


def _study_problems(study: Study) -> list[tuple[tuple[Any, ...], str]]:
    problems = _theory_level_problems(study.theory)
    problems += _metric_problems(study)
    ind_ids = {i.id for i in study.theory.indicators}
    mod_ids = {m.id for m in study.theory.moderators}
    seen: set[str] = set()
    for i, a in enumerate(study.analyses):
        p = ("analyses", i)
        fam = get_family(a.design)
        if a.id in seen:
            problems.append((p + ("id",), f"analysis id {a.id!r} is used twice; ids must be unique"))
        seen.add(a.id)
        if a.indicator is None:
            if fam.needs_metric:
                problems.append((p + ("indicator",), f"design {a.design!r} needs an indicator with a metric as its outcome; "
                                 f"expected one of: {', '.join(sorted(ind_ids)) or 'none declared'}"))
        elif a.indicator not in ind_ids:
            problems.append((p + ("indicator",), f"refers to {a.indicator!r}, which is not an indicator; expected one of: {', '.join(sorted(ind_ids))}"))
        elif fam.needs_metric:
            ind = study.theory.indicator(a.indicator)
            if ind.metric is None:
                problems.append((p + ("indicator",), f"indicator {a.indicator!r} is qualitative; an analysis needs an indicator with a metric"))
        for loc, msg in fam.check_options(a.options):
            problems.append((p + tuple(loc), msg))
        if a.data not in study.data:
            problems.append((p + ("data",), f"refers to data source {a.data!r}, which is not declared under 'data'; declared: {', '.join(sorted(study.data)) or 'none'}"))
        for loc, src in fam.data_references(a.options):
            if src not in study.data:
                problems.append((p + tuple(loc), f"refers to data source {src!r}, which is not declared under 'data'; declared: {', '.join(sorted(study.data)) or 'none'}"))
        for cid, params in a.check_params.items():
            problems += _check_param_problems(p + ("check_params", cid), cid, a.design, params)
        for j, m in enumerate(a.subgroups):
            if m not in mod_ids:
                problems.append((p + ("subgroups", j), f"refers to {m!r}, which is not a moderator in theory.moderators; declared: {', '.join(sorted(mod_ids)) or 'none'}"))
    # two analyses of one indicator with one design are told apart in the report only by their labels
    twins: dict[tuple[str | None, str], list[int]] = {}
    for i, a in enumerate(study.analyses):
        twins.setdefault((a.indicator, a.design), []).append(i)
    for (ind, design), idx in twins.items():
        if len(idx) < 2 or ind is None:  # analyses without an indicator (a survey) are named by their own title
            continue
        labels = [study.analyses[i].label for i in idx]
        for i in idx:
            a = study.analyses[i]
            if a.label is None or labels.count(a.label) > 1:
                others = ", ".join(repr(study.analyses[j].id) for j in idx if j != i)
                problems.append((("analyses", i, "label"),
                                 f"analysis {a.id!r} measures indicator {ind!r} with design {design!r} like {others}; "
                                 "expected a 'label' of its own (a few Danish words, e.g. 'justeret for alder og køn') "
                                 "so the report can tell the analyses apart"))
    problems.extend(_time_problems(study))
    for name, src in study.data.items():
        if src.weeks is not None and src.kind != "register":
            problems.append((("data", name, "weeks"), f"'weeks' applies to a register (kind: register); data source {name!r} "
                             f"is of kind {src.kind!r}"))
    analysis_ids = {a.id for a in study.analyses}
    for i, asm in enumerate(study.theory.assumptions):
        for j, aid in enumerate(asm.analyses):
            if aid not in analysis_ids:
                problems.append((("theory", "assumptions", i, "analyses", j),
                                 f"refers to {aid!r}, which is not an analysis; declared: {', '.join(sorted(analysis_ids)) or 'none'}"))
    for i, t in enumerate(study.targets):
        if t.figures is not None:
            src = study.data.get(t.figures.data)
            if src is None:
                problems.append((("targets", i, "figures", "data"), f"refers to data source {t.figures.data!r}, which is not "
                                 f"declared under 'data'; declared: {', '.join(sorted(study.data)) or 'none'}"))
            elif src.kind != "figures":
                problems.append((("targets", i, "figures", "data"), f"data source {t.figures.data!r} is of kind "
                                 f"{src.kind!r}; expected a data source of kind 'figures'"))
        if t.indicator is not None and t.indicator not in ind_ids:
            problems.append((("targets", i, "indicator"), f"refers to {t.indicator!r}, which is not an indicator"))
        if t.analysis is not None and t.analysis not in analysis_ids:
            problems.append((("targets", i, "analysis"), f"refers to {t.analysis!r}, which is not an analysis"))
        if t.indicator in ind_ids and t.assessment is not None:
            tgt = study.theory.indicator(t.indicator).target
            if tgt is not None and tgt.goal_type == "none":
                problems.append((("targets", i, "assessment"), f"indicator {t.indicator!r} has no target (goal_type: none), "
                                 "so there is nothing to assess; remove 'assessment' (the observed figure is shown as it is)"))
    for j, h in enumerate(study.report.headline_analyses):
        if h not in analysis_ids:
            problems.append((("report", "headline_analyses", j), f"refers to {h!r}, which is not an analysis"))
    if study.source_path is not None:
        problems.extend(_path_problems(study))
    if study.source_path is not None and study.id != study.folder.name:
        problems.append((("id",), f"the id {study.id!r} differs from the folder name {study.folder.name!r}; expected them to be equal"))
    return problems


def _check_param_problems(loc: tuple[Any, ...], cid: str, design: str, params: Any) -> list[tuple[tuple[Any, ...], str]]:
    """An analysis's parameters for one assumption check: a known check of the design, known parameter names,
    values the check accepts (their fit with the data is checked when the data are prepared)."""
    try:
        check = get_check(cid)
    except UnknownNameError as exc:
        return [(loc, str(exc))]
    if not check.applies_to(design):
        return [(loc, f"check {cid!r} does not apply to design {design!r}; its checks: "
                 f"{', '.join(c.id for c in checks_for(design)) or 'none'}")]
    return [(loc + sub, msg) for sub, msg in check_param_problems(check, params)]


def register_of(study, analysis) -> str | None:
    """The register data source attached to an analysis's data (``kind: register``, ``participants:`` its data)."""
    return next((n for n, s in study.data.items() if s.kind == "register" and s.participants == analysis.data), None)


def _time_problems(study) -> list[tuple[tuple[Any, ...], str]]:
    """Durations, cumulative effects and the business case need a family that gives them and a register."""
    problems = []
    dur_fams = sorted(f.design for f in families() if f.supports_duration)
    cum_fams = sorted(f.design for f in families() if f.time_mode)
    for i, a in enumerate(study.analyses):
        fam = a.family
        for key, ok, which in (("duration", fam.supports_duration, dur_fams), ("cumulative", bool(fam.time_mode), cum_fams)):
            if getattr(a, key) is None:
                continue
            if not ok:
                problems.append((("analyses", i, key), f"design {a.design!r} gives no {key} analysis; designs that do: {', '.join(which)}"))
            elif a.data in study.data and register_of(study, a) is None:
                problems.append((("analyses", i, key), f"a {key} analysis needs a weekly register attached to data source "
                                 f"{a.data!r} (a source with kind: register and participants: {a.data})"))
    e = study.economy
    if e is not None:
        ids = {a.id: a for a in study.analyses}
        if e.analysis is not None and e.analysis not in ids:
            problems.append((("economy", "analysis"), f"refers to {e.analysis!r}, which is not an analysis; expected one of: {', '.join(ids)}"))
        else:
            target = ids.get(e.analysis) if e.analysis else next((a for a in study.analyses if a.cumulative is not None), None)
            if target is None or target.cumulative is None or not target.family.time_mode:
                problems.append((("economy", "analysis"), "the business case prices a cumulative effect: name an analysis with "
                                 "'cumulative' (of a design that gives one)"))
        from evaluation.data.rates import RateTable, rates_path

        base = study.folder if study.source_path is not None else None
        path = rates_path(e.rates, base)
        if not path.is_file():
            problems.append((("economy", "rates"), f"no rate file {e.rates!r} ({path}); the packaged table is 'dk_satser'"))
        else:
            try:
                RateTable.load(path)
            except DataValidationError as exc:
                problems.append((("economy", "rates"), str(exc)))
    return problems


def _path_problems(study: Study) -> list[tuple[tuple[Any, ...], str]]:
    """Declared files must lie inside the project root (:mod:`evaluation.data.paths`)."""
    problems = []
    root = study.project_root
    for name, src in study.data.items():
        for field_name in ("path", "codes"):
            value = getattr(src, field_name)
            if value is None:
                continue
            loc = ("data", name, field_name)
            if "\x00" in value or not value.strip():
                problems.append((loc, "expected a file path (relative to the study folder)"))
                continue
            if resolved(study.folder / value) is None:
                problems.append((loc, f"{value!r} cannot be resolved (a loop of symbolic links?); expected a file path"))
            elif not is_inside(study.folder / value, root):
                target = resolved(study.folder / value)
                lexical = Path(os.path.normpath(study.folder / value))
                via = f" (it leads to {target})" if target != lexical else ""
                problems.append((loc, f"{value!r}{via} lies outside the project root {root}; a study reads files only inside "
                                 f"the folder that holds studies/ (or the folder named by {PROJECT_ROOT_ENV}); move the "
                                 "file there or set the variable"))
    return problems


# ---------------------------------------------------------------------------
# public loading API
# ---------------------------------------------------------------------------


def _resolve_study_file(path: str | Path) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / "study.yaml"
    return p


def load_study(path: str | Path) -> Study:
    """Load and validate a study declaration.

    Parameters
    ----------
    path : str or Path
        The study folder or its ``study.yaml``.

    Returns
    -------
    Study
        The frozen, validated declaration.

    Raises
    ------
    StudyConfigError
        With every problem found, one line each: ``file:line: field.path: message``.
    """
    file = _resolve_study_file(path)
    shown = str(file)
    parsed = _read_study_yaml(file, shown)
    raw = parsed.data
    text = parsed.text
    if raw is None:
        raise StudyConfigError([f"{shown}:1: (file): the study file is empty; expected a mapping with id, title, funder, …"])
    if not isinstance(raw, dict):
        raise StudyConfigError([f"{shown}:1: (top level): expected a mapping of fields (id, title, …), got a {_kind(raw)}"])
    if "surveys" in raw:
        raw = dict(raw)
        raw.pop("surveys")
        moved_line = _top_key_line(text, "surveys")
        moved = [(moved_line, f"{shown}:{moved_line}: surveys: a survey is now an analysis; move each entry under "
                  "'analyses' as {id, design: survey, data, indicator, options: {title, scale, items, unit, planned, …}}")]
    else:
        moved = []
    lines, dups = parsed.lines, parsed.duplicates
    problems: list[tuple[int, str]] = moved + [
        (line, f"{shown}:{line}: {_dotted(p)}: the field {key!r} is given twice; expected each field once") for p, line, key in dups
    ]
    try:
        study = study_model().model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc, msg = _friendly(err)
            line = _line_for(lines, loc)
            problems.append((line, f"{shown}:{line}: {_dotted(loc)}: {msg}"))
        # the theory may still be valid on its own: report its graph problems too (errors are collected)
        try:
            theory = Theory.model_validate(raw.get("theory"))
        except ValidationError:
            theory = None
        if theory is not None:
            for loc, msg in _theory_level_problems(theory):
                line = _line_for(lines, loc)
                problems.append((line, f"{shown}:{line}: {_dotted(loc)}: {msg}"))
        problems.sort(key=lambda t: t[0])
        raise StudyConfigError([m for _, m in problems]) from None
    study = study.model_copy(update={"source_path": file.resolve()})
    study._lines = lines
    for loc, msg in _study_problems(study):
        line = _line_for(lines, loc)
        problems.append((line, f"{shown}:{line}: {_dotted(loc)}: {msg}"))
    if problems:
        problems.sort(key=lambda t: t[0])
        raise StudyConfigError([m for _, m in problems])
    return study


class _ParsedStudy:
    def __init__(self, parsed, text: str):
        self.data, self.lines, self.duplicates, self.text = parsed.data, parsed.lines, parsed.duplicates, text


def _read_study_yaml(file: Path, shown: str) -> _ParsedStudy:
    """The study file's data and line map, parsed under the limits of :mod:`evaluation.data.safe_yaml`."""
    if file.is_dir():
        raise StudyConfigError([f"{shown}:1: (file): this is a folder, not a file; expected the study's study.yaml"])
    if not file.exists():
        raise StudyConfigError([f"{shown}:1: (file): the study file does not exist; expected a study.yaml in the study folder"])
    if not file.is_file():
        raise StudyConfigError([f"{shown}:1: (file): not a regular file; expected the study's study.yaml"])
    try:
        with open(file, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise StudyConfigError([f"{shown}:1: (file): cannot be read ({exc.strerror or type(exc).__name__})"]) from None
    try:
        parsed = parse_yaml(data)
    except YamlProblem as exc:
        hint = "; check indentation, colons and quotes" if exc.kind == "YAML syntax" else ""
        raise StudyConfigError([f"{shown}:{exc.line}: ({exc.kind}): column {exc.column}: {exc.what}{hint}"]) from None
    return _ParsedStudy(parsed, data.decode("utf-8", errors="replace"))


def _kind(value: Any) -> str:
    return {str: "text", int: "number", float: "number", bool: "true/false", list: "list"}.get(type(value), type(value).__name__)


def _top_key_line(text: str, key: str) -> int:
    for i, line in enumerate(text.splitlines(), 1):
        if line.startswith(f"{key}:"):
            return i
    return 1


def config_hash(path: str | Path) -> str:
    """SHA-256 of the study file's bytes (the pre-registration fingerprint printed in the report)."""
    data = _resolve_study_file(path).read_bytes()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def study_json_schema() -> dict[str, Any]:
    """JSON Schema of ``study.yaml`` for editors (autocomplete and checking)."""
    schema = study_model().model_json_schema(by_alias=True)
    schema["properties"].pop("source_path", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "evaluation study declaration (study.yaml)"
    return schema


def _schema_text() -> str:
    return json.dumps(study_json_schema(), indent=2, ensure_ascii=False)


_SLUG_RE = re.compile(_SLUG)
