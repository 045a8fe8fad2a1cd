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
import re
import datetime as _dt
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_validator,
)

from evaluation.declaration.theory import Theory, theory_problems
from evaluation.designs import families, get_family
from evaluation.exceptions import StudyConfigError
from evaluation.metrics.registry import METRICS

__all__ = [
    "FunderType",
    "Funder",
    "Period",
    "DataSource",
    "AnalysisBase",
    "ANALYSIS_MODELS",
    "analysis_models",
    "study_model",
    "StudyBase",
    "StudyTarget",
    "ReportOptions",
    "Study",
    "load_study",
    "study_json_schema",
    "config_hash",
]

FunderType = Literal["LBR-pulje", "RAR", "kommune", "STAR-pulje", "region", "fond"]
_SLUG = r"^[a-z0-9][a-z0-9\-]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


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


class DataSource(_Model):
    """A data file the study reads, declared with the columns it must have."""

    path: str = Field(description="path to the file, relative to the study folder")
    kind: Literal["participants", "register", "survey", "planned", "figures"] = Field(
        default="participants", description="what the file holds"
    )
    format: Literal["csv", "parquet", "xlsx"] | None = Field(
        default=None, description="file format; inferred from the extension when omitted"
    )
    id_column: str | None = Field(default=None, description="person identifier column (pseudonymised on read)")
    columns: list[str] = Field(default_factory=list, description="columns that must be present")
    period_column: str | None = Field(
        default=None,
        description="participants measured at several dates (before/after): the column naming the date; the file then "
                    "has one row per person and date, and a person id may repeat across dates but not within one",
    )
    provenance: Literal["synthetic", "register", "survey", "project"] | None = Field(
        default=None,
        description="where the data come from: synthetic (generated, not real persons), register (an extract from a "
        "public register such as DREAM), survey (answers collected for the evaluation) or project (the project's own "
        "counts); a source without it is shown as 'kilde ikke angivet'",
    )
    sheet: str | None = Field(default=None, description="Excel sheet name (xlsx only)")
    separator: str = Field(default=",", description="CSV field separator")
    layout: Literal["auto", "wide", "long", "spells"] = Field(
        default="auto", description="register layout: DREAM-style wide (y_1801 …), long (person, week, code) or spells"
    )
    week_column: str = Field(default="week", description="register: ISO week column (long layout)")
    code_column: str = Field(default="code", description="register: benefit code column (long and spells layouts)")
    start_column: str = Field(default="start_week", description="register: first week of a spell")
    end_column: str = Field(default="end_week", description="register: last week of a spell")
    codes: str | None = Field(default=None, description="register: code-list file relative to the study (default: the shipped DREAM grouping)")
    code_overrides: dict[str, str] = Field(default_factory=dict, description="register: code or 'a-b' range → group, overriding the code list")
    participants: str = Field(default="participants", description="register: the data source whose persons the panel is restricted to")
    absent_persons: Literal["error", "self_support"] = Field(
        default="error", description="register: participants without rows are an error, or self-supporting in every week"
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Danish labels of columns, for tables (column: label)")
    value_labels: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Danish labels of values per column (column: {value: label})"
    )


class AnalysisBase(_Model):
    """One estimate to compute: a design applied to an indicator.

    ``options`` and ``fit`` are the design's own typed models: the study schema's ``analyses[]``
    is a union discriminated on ``design`` over every registered design family
    (:data:`evaluation.designs.family.FAMILIES`).
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", description="identifier of the analysis")
    indicator: str | None = Field(default=None, description="id of the indicator (theory.indicators) used as outcome")
    design: str = Field(description="registered design name, e.g. 'randomized_comparison'")
    data: str = Field(default="participants", description="name of the data source under 'data'")
    primary: bool = Field(default=False, description="a pre-specified primary analysis")
    subgroups: list[str] = Field(default_factory=list, description="moderator ids (theory.moderators) for pre-specified subgroup effects")
    exploratory_subgroups: list[str] = Field(
        default_factory=list, description="data columns for exploratory subgroup effects (not in the theory; labelled exploratory)"
    )

    @property
    def family(self):
        """The registered design family of this analysis."""
        return get_family(self.design)


def _registry_key() -> tuple:
    return tuple((f.design, type(f)) for f in families())


_MODEL_CACHE: dict[tuple, tuple[dict[str, type[AnalysisBase]], type]] = {}


def _analysis_models() -> dict[str, type[AnalysisBase]]:
    models = {}
    for fam in families():
        opts_required = any(f.is_required() for f in fam.Options.model_fields.values())
        opt_field = (fam.Options, Field(description=fam.Options.__doc__.strip().splitlines()[0] if fam.Options.__doc__ else "")) \
            if opts_required else (fam.Options, Field(default_factory=fam.Options, description="the design's options"))
        models[fam.design] = create_model(
            f"Analysis_{fam.design}", __base__=AnalysisBase, __doc__=f"An analysis with design {fam.design!r}.",
            design=(Literal[fam.design], Field(description=f"registered design name: {fam.design}")),
            options=opt_field,
            fit=(fam.Fit, Field(default_factory=fam.Fit, description="inference options passed to fit")),
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


class ReportOptions(_Model):
    """How the report is produced."""

    disclosure_threshold: int = Field(
        default=5, ge=3, description="smallest number of persons a published cell may rest on (never below 3)"
    )
    min_group_size: int = Field(default=20, ge=3, description="smallest group an effect is estimated for")
    formats: list[Literal["html", "pdf"]] = Field(default_factory=lambda: ["html", "pdf"])
    headline_analyses: list[str] = Field(default_factory=list, description="analysis ids for the headline (default: primary)")
    cost_unit: str | None = Field(default=None, description="what an extra unit of the primary effect is called, e.g. 'sygefraværsuge'")
    date: _dt.date | None = Field(
        default=None,
        description="the report's date, printed in its summary and used to tell whether a target's deadline has passed; "
        "default: SOURCE_DATE_EPOCH when set (reproducible builds), else the day the report is made",
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
    report: ReportOptions = Field(default_factory=ReportOptions)

    # set by load_study, not by the file
    source_path: Path | None = Field(default=None, exclude=True, description="(set when loading)")

    @property
    def folder(self) -> Path:
        if self.source_path is None:
            raise ValueError("study was not loaded from a file")
        return self.source_path.parent

    def analysis(self, analysis_id: str) -> AnalysisBase:
        return next(a for a in self.analyses if a.id == analysis_id)

    def resolve_path(self, relative: str) -> Path:
        return (self.folder / relative).resolve()


#: the Study model for the families registered at import (see :func:`study_model` for later ones)
Study = study_model()
ANALYSIS_MODELS = analysis_models()


# ---------------------------------------------------------------------------
# YAML with line numbers
# ---------------------------------------------------------------------------


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as ISO strings (pydantic parses them) and flags duplicate keys."""


def _no_dates(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return loader.construct_scalar(node)


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _no_dates)


def _line_map(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int], dups: list[tuple[tuple[Any, ...], int, str]]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            key = k.value
            if key in seen:
                dups.append((path + (key,), k.start_mark.line + 1, key))
            seen.add(key)
            out[path + (key,)] = k.start_mark.line + 1
            _line_map(v, path + (key,), out, dups)
            out[path + (key,)] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _line_map(v, path + (i,), out, dups)


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


def _friendly(err: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
    loc = tuple(err["loc"])
    etype = err["type"]
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
        return loc, f"unknown field {key!r}{hint}{allowed}"
    if etype == "missing":
        parent = model_at(loc[:-1])
        field = _field_by_name(parent, loc[-1]) if parent else None
        desc = f" ({field.description})" if field is not None and field.description else ""
        return loc, f"required field is missing; expected {loc[-1]!r}{desc}"
    if etype in ("literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected", "")
        return loc, f"got {err.get('input')!r}; expected one of: {expected}"
    if etype == "string_pattern_mismatch":
        parent = model_at(loc[:-1])
        field = _field_by_name(parent, loc[-1]) if parent else None
        desc = field.description if field is not None and field.description else f"text matching {err['ctx']['pattern']}"
        return loc, f"got {err.get('input')!r}; expected {desc}"
    if etype.startswith("date") or etype.startswith("datetime"):
        return loc, f"got {err.get('input')!r}; expected a date written as YYYY-MM-DD"
    if etype == "value_error":
        msg = str(err.get("ctx", {}).get("error", err["msg"]))
        return loc, msg
    inp = err.get("input")
    shown = f"got {inp!r}; " if not isinstance(inp, (dict, list)) else ""
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


def _study_problems(study: Study) -> list[tuple[tuple[Any, ...], str]]:
    problems = _theory_level_problems(study.theory)
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
        for j, m in enumerate(a.subgroups):
            if m not in mod_ids:
                problems.append((p + ("subgroups", j), f"refers to {m!r}, which is not a moderator in theory.moderators; declared: {', '.join(sorted(mod_ids)) or 'none'}"))
    analysis_ids = {a.id for a in study.analyses}
    for i, t in enumerate(study.targets):
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
    if study.source_path is not None and study.id != study.folder.name:
        problems.append((("id",), f"the id {study.id!r} differs from the folder name {study.folder.name!r}; expected them to be equal"))
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
    if not file.is_file():
        raise StudyConfigError([f"{shown}:1: (file): the study file does not exist; expected a study.yaml in the study folder"])
    text = file.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=_LineLoader)
        raw = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        what = f"{context}, {problem}" if context else problem
        raise StudyConfigError([f"{shown}:{line}: (YAML syntax): {what}; check indentation, colons and quotes"]) from None
    if raw is None:
        raise StudyConfigError([f"{shown}:1: (file): the study file is empty; expected a mapping with id, title, funder, …"])
    if not isinstance(raw, dict):
        raise StudyConfigError([f"{shown}:1: (top level): expected a mapping of fields (id, title, …), got a {type(raw).__name__}"])
    if "surveys" in raw:
        raw = dict(raw)
        raw.pop("surveys")
        moved_line = _top_key_line(text, "surveys")
        moved = [(moved_line, f"{shown}:{moved_line}: surveys: a survey is now an analysis; move each entry under "
                  "'analyses' as {id, design: survey, data, indicator, options: {title, scale, items, unit, planned, …}}")]
    else:
        moved = []
    lines: dict[tuple[Any, ...], int] = {}
    dups: list[tuple[tuple[Any, ...], int, str]] = []
    if root is not None:
        _line_map(root, (), lines, dups)
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
    for loc, msg in _study_problems(study):
        line = _line_for(lines, loc)
        problems.append((line, f"{shown}:{line}: {_dotted(loc)}: {msg}"))
    if problems:
        problems.sort(key=lambda t: t[0])
        raise StudyConfigError([m for _, m in problems])
    return study


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
