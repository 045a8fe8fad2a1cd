"""Design families: one registered interface per design, owning the design's whole vertical slice.

A *family* is a sub-package of :mod:`evaluation.designs` (``randomized``, ``matched``, ``did``,
``pre_post``, ``survey``). It registers one :class:`Family` per design name it offers (``did``
offers ``did_2x2``, ``did_twfe`` and ``did_cs``), and that object owns everything the package
knows about the design:

* **declaration** — its typed options (:attr:`Family.Options`) and fit options
  (:attr:`Family.Fit`), pydantic models; the study schema's ``analyses[]`` is their union
  discriminated on ``design``, so ``evaluation schema`` documents every option and
  ``evaluation validate`` rejects a misspelt or foreign one;
* **estimation** — its estimator (:attr:`Family.Estimator`, a :class:`~evaluation.designs.base.Design`)
  and typed result;
* **disclosure** — what of its own tables may be published (:meth:`Family.disclose`);
* **report parts in Danish** — headline, method sentence from the result's own fields, body
  sections, group names, the caveats that follow from its identifying assumptions, and whether it
  belongs in the forest plot and the portfolio (the ``report_*`` methods, see
  :mod:`evaluation.designs.report`);
* **figures**, and its **simulation** for ``evaluation diagnose`` and its analytic MDE.

The pipeline, ``diagnose``, subgroups, figures, the report skeleton and the portfolio are loops
over :data:`FAMILIES`; none of them branches on a design's name. A family added later registers
here and passes the conformance tests without touching them.

Families never see the :class:`~evaluation.declaration.study.Study`: the pipeline hands them an
:class:`AnalysisInput` (their own typed options, the analysis frame and the few study settings
they need), so the declaration layer may compose their option models without an import circle.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from evaluation.designs.report import ReportParts
from evaluation.disclosure import (
    Relation,
    SuppressionLog,
    is_small,
    protect_relations,
    suppress_counts,
    suppress_share_rows,
)
from evaluation.exceptions import EstimationError, SmallCellWarning, UnknownNameError
from evaluation.results import EffectResult, Estimate, Result
from evaluation.data.tables import column_list

if TYPE_CHECKING:  # pragma: no cover
    from evaluation.designs.base import Design
    from evaluation.designs.timeeffects import JointEffects, SurvivalDesign, TimeSource
    from evaluation.results import AnalysisRecord, Bundle

__all__ = [
    "Options",
    "FitOptions",
    "da",
    "meaning_da",
    "GroupSpec",
    "DataRole",
    "OPTION_ROLES",
    "AnalysisInput",
    "Example",
    "SCENARIOS",
    "Family",
    "FAMILIES",
    "register_family",
    "get_family",
    "families",
    "main_estimate",
    "row_of",
    "ONE",
    "estimate_population",
    "level_text",
    "Relation",
]


# ---------------------------------------------------------------------------
# typed options
# ---------------------------------------------------------------------------


def da(text: str) -> dict[str, str]:
    """An option's meaning in Danish, for ``Field(json_schema_extra=da(...))``.

    The English ``description`` serves the schema and ``help()``; the Danish text is what ``evaluation
    new`` writes beside the option and what the user guide (docs/) lists, so both come from the model.
    """
    return {"da": text}


def meaning_da(model: type[BaseModel], name: str) -> str:
    """The Danish meaning of option ``name`` of ``model`` (``KeyError`` if it has none)."""
    extra = model.model_fields[name].json_schema_extra
    if not isinstance(extra, dict) or "da" not in extra:
        raise KeyError(f"{model.__name__}.{name} has no Danish meaning (Field(json_schema_extra=da(...)))")
    return str(extra["da"])


class Options(BaseModel):
    """Base of a design's typed options (``analyses[].options`` in ``study.yaml``).

    Unknown keys are refused (``extra="forbid"``); :meth:`declared` gives back exactly what the
    study file said, so defaults stay the estimator's own and the bundle records the declaration.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def declared(self) -> dict[str, Any]:
        """The options as declared (unset fields left out), ready for the estimator's constructor."""
        return self.model_dump(exclude_unset=True)


class FitOptions(Options):
    """Base of a design's inference options (``analyses[].fit``)."""

    conf_level: float = Field(default=0.95, gt=0, lt=1, description="confidence level of every interval",
        json_schema_extra=da("sikkerhedsniveau for alle intervaller (0,95 giver 95 %-sikkerhedsintervaller)"))


@dataclass(frozen=True)
class DataRole:
    """A data column an analysis's options name, and what it must hold (checked by :meth:`Family.check_data`).

    ``kind`` is one of ``"covariate"`` (numeric or categorical, from the declaration and the whole
    column; no missing values), ``"numeric_covariate"`` (a covariate that must be numeric), ``"numeric"``, ``"weights"`` (numeric, >= 0), ``"binary"`` (0/1),
    ``"categorical"`` (strata, exact matching), ``"id"`` (units, clusters) or ``"any"``; ``loc`` is where
    the option sits under the analysis (``("options", "covariates", 2)``).
    """

    loc: tuple
    column: str
    kind: str
    missing_ok: bool = False


#: the data role of an option, by its name, in the comparison designs (a family overrides :meth:`Family.data_roles`)
OPTION_ROLES: dict[str, str] = {
    "covariates": "covariate", "exact": "categorical", "strata": "categorical", "cluster": "id", "weights": "weights",
    "take_up": "binary",
}

_TREATED_WORDS = ("interv", "indsats", "deltag", "treat", "behandl", "projekt", "forsøg", "ja", "yes", "1", "true")
_CONTROL_WORDS = ("kontrol", "control", "sammenlign", "compar", "ikke", "pulje", "nej", "no", "0", "false")


def _guess_labels(values: list) -> tuple[Any, Any] | None:
    """(treated, control) among two found labels, by their names; None when the names do not tell."""
    if len(values) != 2:
        return None
    score = [(sum(w in str(v).lower() for w in _TREATED_WORDS) - sum(w in str(v).lower() for w in _CONTROL_WORDS))
             for v in values]
    if score[0] > score[1]:
        return values[0], values[1]
    if score[1] > score[0]:
        return values[1], values[0]
    return None


def _plain(v: Any) -> Any:
    """A numpy scalar as the Python value it holds (so messages show 1, not np.int64(1))."""
    return v.item() if isinstance(v, np.generic) else v


def _yaml_value(v: Any) -> str:
    """A label as it would be written in study.yaml."""
    if isinstance(v, str):
        return v if v and all(ch.isalnum() or ch in "_-æøåÆØÅ " for ch in v) and not v.strip().isdigit() else repr(v)
    return str(v)


@dataclass(frozen=True)
class GroupSpec:
    """The compared groups of a comparison design: the column and its two labels."""

    column: str
    treated: Any
    control: Any


@dataclass(frozen=True)
class AnalysisInput:
    """What a family gets from the pipeline for one analysis (never the whole study).

    Attributes
    ----------
    id, design : str
        The analysis id and its design name.
    options, fit : Options, FitOptions
        The family's own typed options.
    outcome : str or None
        The outcome column in ``frame`` (the indicator id); None for designs without a metric.
    frame : DataFrame or None
        The analysis data (the data source with the indicator's metric as a column).
    sources : mapping
        Every data source of the study, read at the data boundary (a survey reads its planned source).
    source_path : str
        The analysis data source's file, for messages.
    threshold, min_group_size : int
        Disclosure threshold and the smallest group an effect is estimated for.
    unit : str or None
        The indicator's unit (``"uger"``, ``"andel"``).
    labels : mapping
        Danish column labels declared with the data.
    """

    id: str
    design: str
    options: Options
    fit: FitOptions
    outcome: str | None
    frame: pd.DataFrame | None
    sources: Mapping[str, Any] = field(default_factory=dict)
    source_path: str = ""
    threshold: int = 5
    min_group_size: int = 20
    unit: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    data_name: str = "participants"
    #: every data source's file (for messages)
    paths: Mapping[str, str] = field(default_factory=dict)
    indicator: str | None = None
    #: the frame's rows by the input's own numbers (file lines), for messages; None: rows counted from 1
    rows: Any = None
    #: how the data source wrote numbers (decimal sign), to re-read text cells in the checks
    numbers: Any = None
    #: the data source's declared column types (``types:``)
    types: Mapping[str, str] = field(default_factory=dict)


#: the kinds of generated example studies every family offers to the conformance tests
SCENARIOS = ("effect", "null", "imbalanced", "small_cells", "other_labels")


@dataclass(frozen=True)
class Example:
    """A small synthetic study of one design, generated by its family (conformance tests, documentation).

    Attributes
    ----------
    sources : mapping
        Data source name → (data frame as it would be in the file, the source's declaration without
        ``path``: ``id_column``, ``columns``, ``period_column`` …).
    options, fit : mapping
        The analysis's declared options and fit options.
    indicator : mapping
        The indicator the analysis measures: ``label``, ``unit`` and ``metric`` (or ``qualitative``).
    data : str
        The analysis's data source.
    truth : float or None
        The true effect (or change) built into the data, when there is one.
    mediator : mapping or None
        A mediator the example's programme theory names on a link (``column``, ``label``, ``unit``), for designs
        that estimate mechanisms (randomized).
    """

    sources: Mapping[str, tuple[pd.DataFrame, Mapping[str, Any]]]
    options: Mapping[str, Any]
    indicator: Mapping[str, Any]
    fit: Mapping[str, Any] = field(default_factory=dict)
    data: str = "participants"
    truth: float | None = None
    mediator: Mapping[str, Any] | None = None


# ---------------------------------------------------------------------------
# the family interface
# ---------------------------------------------------------------------------


class Family:
    """One design's vertical slice. Subclass per design name and decorate with :func:`register_family`.

    Class attributes
    ----------------
    design : str
        The registered design name (``analyses[].design``).
    family : str
        The sub-package it belongs to (``"did"`` for ``did_2x2``, ``did_twfe`` and ``did_cs``).
    evidence_level : int
        Maryland scientific methods scale, 5 = randomized … 1 = before/after; 0 = no effect claim.
    Options, Fit : type
        Typed options and fit options (pydantic).
    Estimator : type or None
        The :class:`~evaluation.designs.base.Design` that estimates it (``Estimator(outcome=…, **options)``).
    needs_metric : bool
        Whether the analysis needs an indicator with a metric (a survey reads its answers directly).
    random_assignment : bool
        Whether the compared groups were formed by lottery; only then is the comparison group a
        *kontrolgruppe* and may the report speak of *lodtrækning*.
    is_effect : bool
        Whether the main estimate is an effect (a contrast with a counterfactual); only effects go
        into the effects table, the forest plots and the portfolio's cross-project figure.
    label_da, estimand_da, short_da : str
        Danish design label for the method section, the estimand in words, and a short name for
        forest-plot labels.
    assumption_da : str
        The design's identifying assumption in Danish, named by its caveat in every report.
    """

    design: ClassVar[str] = ""
    family: ClassVar[str] = ""
    evidence_level: ClassVar[int] = 0
    Options: ClassVar[type[Options]] = Options
    Fit: ClassVar[type[FitOptions]] = FitOptions
    Estimator: ClassVar[type | None] = None
    needs_metric: ClassVar[bool] = True
    random_assignment: ClassVar[bool] = False
    is_effect: ClassVar[bool] = True
    label_da: ClassVar[str] = ""
    estimand_da: ClassVar[str] = ""
    short_da: ClassVar[str] = ""
    assumption_da: ClassVar[str] = ""
    #: whether ``evaluation diagnose`` can simulate the design (plasmode, :meth:`simulate`)
    simulates: ClassVar[bool] = True
    #: the design the user guide's worked example of a family with several designs uses (the simplest to
    #: follow); without one the first in evidence order
    guide_example: ClassVar[bool] = False
    #: whether the design measures the target group's level before and after (terms baseline_level,
    #: follow_up_level, change, relative_change), so it can decide level and relative-change targets
    measures_levels: ClassVar[bool] = False
    #: preferred headline terms, first present wins
    main_terms: ClassVar[tuple[str, ...]] = ()
    #: fit options that only serve randomization inference, the bootstrap or placebo refits
    auxiliary_fit: ClassVar[frozenset[str]] = frozenset()
    #: what the data columns named by options hold (option name → kind or (kind, missing allowed)), see
    #: :class:`DataRole`; checked by :meth:`check_data`
    option_roles: ClassVar[Mapping[str, Any]] = OPTION_ROLES
    #: the column of the result's ``balance`` table holding standardised differences on the design's final
    #: weights (what a balance claim in the report must rest on); None when the design shows no balance
    balance_column: ClassVar[str | None] = None
    #: whether the family can analyse durations on a register (``duration:`` of an analysis): it compares two
    #: groups of persons followed from an index week (:meth:`survival_design`)
    supports_duration: ClassVar[bool] = False
    #: how the family gives cumulative effects on a register (``cumulative:``, and the business case): "person"
    #: (its estimator on many person-level outcome columns, :meth:`joint_effects`), "period" (event-time effects on
    #: calendar periods, :meth:`event_time_effects`) or None (not available)
    time_mode: ClassVar[str | None] = None

    # ------------------------------------------------------------------ declaration
    def check_options(self, options: Options) -> list[tuple[tuple[Any, ...], str]]:
        """Problems of a declared combination of options (before any data), as (location, message).

        The default builds the estimator with a placeholder outcome so its own argument checks run.
        """
        if self.Estimator is None:
            return []
        try:
            self.estimator(options, outcome="__outcome__")
        except EstimationError as exc:
            return [(("options",), str(exc))]
        return []

    def data_references(self, options: Options) -> list[tuple[tuple[Any, ...], str]]:
        """Data sources the options name besides the analysis's own, as (location under the analysis, name)."""
        return []

    def definition_da(self, options: Options) -> str | None:
        """What is measured, in Danish, for a design that needs no metric (a metric defines it otherwise)."""
        return None

    def columns(self, options: Options) -> list[str]:
        """Data columns the declared options name (checked against the data source by ``validate``)."""
        out: list[str] = []
        for v in options.declared().values():
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, (list, tuple)):
                out.extend(x for x in v if isinstance(x, str))
        return out

    # ------------------------------------------------------------------ estimation
    def estimator(self, options: Options, outcome: str) -> "Design":
        """The estimator for ``options`` with ``outcome`` as its outcome column."""
        if self.Estimator is None:
            raise EstimationError(f"design {self.design!r} has no estimator")
        return self.Estimator(outcome=outcome, **options.declared())

    def fit_kwargs(self, fit: FitOptions) -> dict[str, Any]:
        """The declared fit options as keyword arguments of ``Estimator.fit``."""
        return fit.declared()

    def headline_fit(self, fit: Mapping[str, Any]) -> dict[str, Any]:
        """Fit options without randomization inference, the bootstrap and placebo refits (and the seeds
        and draws that only serve them): what a refit needs when only the headline interval is used."""
        return {k: v for k, v in fit.items() if k not in self.auxiliary_fit}

    def groups(self, options: Options) -> GroupSpec | None:
        """The compared groups, for designs that compare two labelled groups of one column."""
        return None

    def data_roles(self, options: Options, fit: FitOptions | None = None) -> list[DataRole]:
        """The data columns the options (and fit options) name and what each must hold.

        The default reads :attr:`option_roles` (option name → kind, or (kind, missing allowed)); a
        family whose options need more overrides this.
        """
        roles: list[DataRole] = []
        for where, model in (("options", options), ("fit", fit)):
            if model is None:
                continue
            for name in type(model).model_fields:
                spec = self.option_roles.get(name)
                value = getattr(model, name, None)
                if spec is None or value is None:
                    continue
                kind, missing_ok = spec if isinstance(spec, tuple) else (spec, False)
                if isinstance(value, str):
                    roles.append(DataRole((where, name), value, kind, missing_ok))
                elif isinstance(value, (list, tuple)):
                    roles.extend(DataRole((where, name, j), v, kind, missing_ok) for j, v in enumerate(value)
                                 if isinstance(v, str))
        return roles

    def check_data(self, inp: AnalysisInput) -> list[tuple[tuple | None, str]]:
        """Every problem of the analysis's data, short of estimating: what ``validate`` and ``run`` both check.

        Returns (location under the analysis, or None for a problem located in the data file; message).
        Checks the columns the options name (:meth:`data_roles`): present, numeric where they must be
        (a numeric covariate with a stray text value is an error naming its rows, not a categorical
        covariate), no absurd or non-finite numbers, no missing values where none are allowed, not too
        many levels of a categorical covariate; the compared groups' labels (:meth:`groups`) against the
        values in the data, and the groups' sizes against the disclosure threshold and the minimum group
        size. Messages name the file, the column and the file's own rows, never a person id.
        """
        from evaluation.data.checks import (
            RowRef,
            categorical_problems,
            covariate_kind,
            missing_problems,
            numeric_problems,
        )

        frame = inp.frame
        if frame is None:
            return []
        rows = inp.rows if inp.rows is not None else RowRef(inp.source_path or inp.data_name, None, "row")
        file = rows.file
        numbers = inp.numbers
        problems: list[tuple[tuple | None, str]] = []
        for role in self.data_roles(inp.options, inp.fit):
            if role.column not in frame.columns:
                cols = [str(c) for c in frame.columns if c != inp.outcome][:30]
                problems.append((role.loc, f"names the column {role.column!r}, which data source {inp.data_name!r} "
                                 f"({file}) does not have; it has: {column_list(cols)}"))
                continue
            s = frame[role.column]
            found: list[str] = []
            if role.kind == "numeric_covariate" and covariate_kind(s, numbers, inp.types.get(role.column)) == "categorical":
                levels = ", ".join(repr(v) for v in sorted(map(str, s.dropna().unique()))[:5])
                problems.append((None, f"{file}: column {role.column!r} holds text ({levels} …), but design {self.design!r} "
                                       "needs numeric covariates: code each category as a 0/1 column and name those"))
                continue
            if role.kind == "numeric_covariate":
                found = numeric_problems(s, rows, role.column, role="numeric covariate", numbers=numbers, missing_ok=False)
            elif role.kind == "covariate":
                kind = covariate_kind(s, numbers, inp.types.get(role.column))
                if kind == "numeric":
                    found = numeric_problems(s, rows, role.column, role="numeric covariate", numbers=numbers, missing_ok=False)
                else:
                    found = missing_problems(s, rows, role.column, role="covariate",
                                             advice="a baseline covariate cannot be left out silently: fill in or "
                                                    "remove those rows") + categorical_problems(s, rows, role.column)
            elif role.kind in ("numeric", "weights", "binary"):
                found = numeric_problems(s, rows, role.column, role={"weights": "weights", "binary": "0/1 column"}.get(
                    role.kind, "numeric column"), numbers=numbers, nonnegative=role.kind == "weights",
                    missing_ok=role.missing_ok)
                if role.kind == "binary" and not found:
                    from evaluation.data.checks import as_numbers

                    vals, _ = as_numbers(s, numbers)
                    bad = np.flatnonzero(s.notna().to_numpy() & ~np.isin(vals, (0.0, 1.0)))
                    if len(bad):
                        found = [f"{rows.head(bad)}: column {role.column!r} (0/1 column) has {len(bad)} value(s) other "
                                 f"than 0 and 1: {rows.at(bad, [s.iloc[i] for i in bad])}"]
            elif not role.missing_ok:
                found = missing_problems(s, rows, role.column, role={"id": "unit", "categorical": "stratum/exact column"}.get(
                    role.kind, "column"))
            problems.extend((None, m) for m in found)
        if inp.outcome is not None and inp.outcome in frame.columns:
            problems.extend((None, m) for m in numeric_problems(frame[inp.outcome], rows, inp.outcome, role="outcome",
                                                                   numbers=numbers, missing_ok=True))
        spec = self.groups(inp.options)
        if spec is not None:
            problems.extend(self._group_problems(inp, spec, rows))
        return problems

    def _group_problems(self, inp: AnalysisInput, spec: GroupSpec, rows) -> list[tuple[tuple | None, str]]:
        from evaluation.data.checks import missing_problems

        frame = inp.frame
        file = rows.file
        if spec.column not in frame.columns:
            return [(("options", "treatment"), f"names the column {spec.column!r}, which data source {inp.data_name!r} "
                     f"({file}) does not have; it has: {column_list(frame.columns)}")]
        s = frame[spec.column]
        out: list[tuple[tuple | None, str]] = [(None, m) for m in missing_problems(
            s, rows, spec.column, role="the compared groups", advice="every person needs a group")]
        counts = s.dropna().value_counts()
        found = ", ".join(f"{_plain(k)!r} ({v})" for k, v in counts.items()) or "no values"
        n_t, n_c = int(counts.get(spec.treated, 0)), int(counts.get(spec.control, 0))
        absent = [(name, label) for name, label, n in (("treated", spec.treated, n_t), ("control", spec.control, n_c)) if n == 0]
        if absent:
            others = [_plain(k) for k in counts.index if k not in (spec.treated, spec.control)]
            declared = getattr(inp.options, "model_fields_set", set())
            labels = " and ".join(f"{label!r} ({name}{'' if name in declared else ', the default label'})"
                                  for name, label in absent)
            as_text = [k for k in counts.index if any(str(k) == str(label) and k != label for _, label in absent)]
            if as_text:
                v = _plain(as_text[0])
                hint = (f"the column holds {v!r} as a {'number' if not isinstance(v, str) else 'text'}: "
                        f"write the label in the options as {_yaml_value(v)}")
            else:
                guess = _guess_labels([k for k in others]) if len(absent) == 2 else None
                if guess is not None:
                    hint = (f"set the labels in this analysis's options: treated: {_yaml_value(guess[0])}, "
                            f"control: {_yaml_value(guess[1])}")
                elif len(absent) == 2 and len(others) == 2:
                    hint = (f"set the labels in this analysis's options, e.g. treated: {_yaml_value(others[0])}, "
                            f"control: {_yaml_value(others[1])} (or the other way round)")
                else:
                    hint = "set 'treated' and 'control' in this analysis's options to the labels the data use"
            out.append((("options", absent[0][0]), f"the group label(s) {labels} do not occur in column {spec.column!r} "
                        f"of {file}, which holds: {found}; {hint}"))
            return out
        other = s.notna().to_numpy() & ~s.isin([spec.treated, spec.control]).to_numpy()
        if other.any():
            pos = np.flatnonzero(other)
            out.append((None, f"{rows.head(pos)}: column {spec.column!r} (the compared groups) has {len(pos)} row(s) that "
                              f"belong to neither {spec.treated!r} (treated) nor {spec.control!r} (control): "
                              f"{rows.at(pos, [_plain(s.iloc[i]) for i in pos])}; correct them or leave those persons out"))
        for label, n in ((spec.treated, n_t), (spec.control, n_c)):
            if n < inp.threshold:
                out.append((None, f"{file}: analysis {inp.id!r}: the group {label!r} in column {spec.column!r} has {n} "
                                  f"person(s), fewer than the disclosure threshold of {inp.threshold} "
                                  "(report.disclosure_threshold); no estimate can be published"))
            elif n < inp.min_group_size:
                out.append((None, f"{file}: analysis {inp.id!r}: the group {label!r} in column {spec.column!r} has {n} "
                                  f"person(s), fewer than the study's minimum group size of {inp.min_group_size} "
                                  "(report.min_group_size)"))
        return out

    def check(self, inp: AnalysisInput) -> None:
        """Refuse to estimate when :meth:`check_data` finds a problem (a wrong or empty group, a group below
        the disclosure threshold or the minimum group size, a column that is not what the options say)."""
        problems = self.check_data(inp)
        if problems:
            from evaluation.exceptions import DataValidationError

            raise DataValidationError([m if loc is None else f"analysis {inp.id!r}: {_dotted_loc(loc)}: {m}"
                                       for loc, m in problems])

    def estimate(self, inp: AnalysisInput) -> Result:
        """Estimate the analysis (checks first)."""
        self.check(inp)
        return self.estimator(inp.options, inp.outcome).fit(inp.frame, **self.fit_kwargs(inp.fit))

    def main_term(self, result: Result) -> Estimate:
        """The headline estimate of a result of this design."""
        return main_term(result, self.main_terms)

    # ------------------------------------------------------------------ subgroups ("for whom")
    def subgroup_counts(self, options: Options, part: pd.DataFrame, outcome: str) -> tuple[int, int]:
        """Persons in the intervention and the comparison group of one subgroup level."""
        spec = self.groups(options)
        if spec is None:
            raise EstimationError(f"subgroups are not available for design {self.design!r}")
        valid = part[part[outcome].notna()]
        return int((valid[spec.column] == spec.treated).sum()), int((valid[spec.column] == spec.control).sum())

    def subgroup_check(self, options: Options, frame: pd.DataFrame, variable: str, moderator: str) -> None:
        """Refuse a moderator the design cannot split on (default: the comparison column must exist)."""
        spec = self.groups(options)
        if spec is None:
            raise EstimationError(f"subgroups are not available for design {self.design!r}")
        if spec.column not in frame.columns:
            raise EstimationError(f"subgroups need the treatment column {spec.column!r}, which the data do not have")

    def subgroup_options(self, options: Options, variable: str) -> dict[str, Any]:
        """The design's options within one level of ``variable`` (the variable is constant there)."""
        opts = options.declared()
        if opts.get("covariates"):
            opts["covariates"] = [c for c in opts["covariates"] if c != variable]
        return opts

    def interaction_test(self, frame: pd.DataFrame, outcome: str, options: Options, variable: str,
                         exclude: Sequence[str] = ()) -> tuple[float, str] | None:
        """A regression test that the effect is equal across the levels of ``variable``, when the design
        makes one valid (randomized assignment); None means: compare the design's own within-level
        estimates (Cochran's Q). The levels in ``exclude`` (as text; too few persons in a group) are left
        out of the test."""
        return None

    # ------------------------------------------------------------------ mechanisms ("why")
    def mediation(self, inp: AnalysisInput, frame: pd.DataFrame, mediator: str) -> Any:
        """A causal mediation analysis of the analysis's effect through ``mediator`` (a column of ``frame``), for
        designs whose assignment identifies it (randomized: :mod:`evaluation.designs.randomized.mediation`);
        ``EstimationError`` otherwise."""
        raise EstimationError(f"a mediation analysis needs randomized assignment; design {self.design!r} does not offer one")

    # ------------------------------------------------------------------ disclosure
    def disclose(self, result: Result, inp: AnalysisInput, log: SuppressionLog) -> Result:
        """The result fit for publication: small cells suppressed (:meth:`suppress`), then further cells until
        no suppressed cell can be computed from the published ones by the family's relations
        (:meth:`disclosure_relations`; disclosure by subtraction). Every hidden cell is logged in ``log``."""
        published = self.suppress(result, inp, log)
        return protect_relations(published, self.disclosure_relations(published, inp), table=f"{inp.id}: sammenhænge",
                                 log=log, dependents=self.disclosure_dependents())

    def suppress(self, result: Result, inp: AnalysisInput, log: SuppressionLog) -> Result:
        """Primary (and per-table complementary) suppression of the result's small cells."""
        tables = disclose_tables(result.tables, inp.id, inp.threshold, log)
        estimates = disclose_estimates(result, inp.id, inp.threshold, log)
        return dataclasses.replace(result, tables=tables, estimates=estimates)

    def disclosure_relations(self, result: Result, inp: AnalysisInput) -> list[Relation]:
        """The linear relations between the result's published counts (margins, the same count in several
        places, counts adding up across tables); each must hold exactly on every result of the design
        (tests/test_disclosure_attack.py checks it on the family's examples)."""
        return []

    def population_counts(self, result: Result, options: Options, data_name: str,
                          variables: Mapping[str, str] | None = None) -> list[tuple[tuple, str, Any]]:
        """The result's published counts of persons by population group, which analyses of the same persons share
        (:func:`evaluation.disclosure.population_relations`): ``(key, kind, cell)`` with ``key`` naming the data
        source, the grouping and the group, ``kind`` "all" (every person of the group), "analysed" or "missing"
        (or a level's "share" of a group, a "partition" of a group into levels). ``variables`` maps a moderator id
        to its column (default: the id). Default: each estimate's treated and comparison persons, and each subgroup
        level's, as analysed persons of the compared groups and of their levels."""
        spec = self.groups(options)
        if spec is None:
            return []
        base = (data_name, "groups", spec.column)  # the same persons whatever the design compares them with
        out = estimate_population(result, base + (str(spec.treated),), base + (str(spec.control),))
        sub = result.tables.get("subgroups")
        if sub is not None and {"moderator", "level", "n_treated", "n_control"} <= set(sub.columns):
            variables = dict(variables or {})
            for i, (mod, lev) in enumerate(zip(sub["moderator"], sub["level"])):
                var = variables.get(str(mod), str(mod))
                for label, col in ((spec.treated, "n_treated"), (spec.control, "n_control")):
                    out.append((base + (str(label), "level", var, level_text(lev)), "analysed", ("t", "subgroups", i, col)))
        return out

    def disclosure_dependents(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(table, count column) → the columns computed from that count, hidden with it."""
        return {}

    # ------------------------------------------------------------------ planning
    def mde(self, result: Result, inp: AnalysisInput) -> dict[str, Any] | None:
        """Minimum detectable effect for the report, or None when the design has none."""
        return None

    def simulate(self, options: Options, frame: pd.DataFrame, outcome: str, tau: float,
                 rng: np.random.Generator) -> pd.DataFrame:
        """Plasmode data for ``diagnose``: the study's own data with no true effect, plus ``tau``."""
        raise EstimationError(f"design diagnosis is not available for design {self.design!r}")

    def design_inputs(self, design: "Design", data: pd.DataFrame) -> dict[str, Any]:
        """The inputs of the analytic MDE/power of the declared design, estimated from (pilot or baseline) data."""
        raise EstimationError(
            f"an analytic MDE for design {self.design!r} is not available (its precision depends on the cohort structure); "
            "diagnose it by simulation: evaluation diagnose <study>"
        )

    def example(self, scenario: str, seed: int = 1) -> Example:
        """A generated example study of this design for ``scenario`` (one of :data:`SCENARIOS`): a true
        effect, no effect, covariates imbalanced on purpose, small cells, or group labels and column names
        other than the defaults. A scenario that does not apply to the design gives its closest example."""
        raise NotImplementedError(f"design {self.design!r} offers no example studies")

    def time_course_groups(self, options: Options) -> GroupSpec | None:
        """The groups of a week-by-week time course of self-support (comparison designs on a register)."""
        return None

    # ------------------------------------------------------------------ time: durations and cumulative effects
    def survival_design(self, inp: AnalysisInput) -> "SurvivalDesign":
        """Who a duration analysis compares and how each person counts (weights, clusters, strata)."""
        raise EstimationError(f"duration outcomes are not available for design {self.design!r}")

    def joint_effects(self, inp: AnalysisInput, Y: np.ndarray) -> "JointEffects":
        """The design's effect on every column of ``Y`` (rows aligned with ``inp.frame``) with the joint
        influence functions (``time_mode == "person"``)."""
        raise EstimationError(f"cumulative effects are not available for design {self.design!r}")

    def placebo_input(self, inp: AnalysisInput) -> AnalysisInput:
        """The analysis input of the placebo over the weeks before the index week (default: the analysis's own;
        a design adjusting for the pre-period outcome drops that adjustment, which would make the placebo zero)."""
        return inp

    def event_time_effects(self, inp: AnalysisInput, source: "TimeSource", kind: str) -> dict[str, Any]:
        """Event-time effects on the calendar periods of ``source`` for the value ``kind``: ``{"event_times": [...],
        "joint": JointEffects, "n": persons}`` (``time_mode == "period"``)."""
        raise EstimationError(f"event-time effects are not available for design {self.design!r}")

    # ------------------------------------------------------------------ report parts (Danish)
    #: the family's report parts (a :class:`~evaluation.designs.report.ReportParts` subclass)
    Report: ClassVar[type[ReportParts]] = ReportParts

    @property
    def report(self) -> ReportParts:
        """The family's Danish report parts, which the report skeleton and the portfolio call."""
        parts = self.__dict__.get("_report")
        if parts is None:
            parts = self.__dict__["_report"] = self.Report(self)
        return parts

    def figures(self, records: list["AnalysisRecord"], bundle: "Bundle") -> dict[str, Any]:
        """Figures this family draws for its analyses: key → matplotlib figure (the report writer saves them)."""
        return {}

    def result_checks(self, result: Result) -> list[dict[str, Any]]:
        """Assumption checks computed from a published result alone (``{"id", "status", …}``), which a declared
        assumption may name and the CMO status reads (e.g. the complier effect's first stage); none by default."""
        return []


# ---------------------------------------------------------------------------
# shared pieces
# ---------------------------------------------------------------------------


def _dotted_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def main_term(result: Result, preferred: Iterable[str] = ()) -> Estimate:
    """The first of ``preferred`` terms in ``result``, else its first estimate."""
    terms = {e.term: e for e in result.estimates}
    for t in preferred:
        if t in terms:
            return terms[t]
    return result.estimates[0]


def disclose_tables(tables: Mapping[str, pd.DataFrame], analysis_id: str, threshold: int,
                    log: SuppressionLog) -> dict[str, pd.DataFrame]:
    """Suppression shared by every effect design: group summaries, binary balance shares, subgroups
    and the participant flow."""
    tables = dict(tables)
    if "groups" in tables:
        g = tables["groups"]
        counts = [c for c in ("n", "missing") if c in g.columns]
        deps = [c for c in g.columns if c not in ("group", "n", "missing")]
        tables["groups"] = suppress_counts(
            g, table=f"{analysis_id}: grupper", count_columns=counts, dependent={"n": deps},
            label_column="group" if "group" in g.columns else None, threshold=threshold, log=log,
        )
    if "balance" in tables:
        b = tables["balance"]
        lab = "covariate" if "covariate" in b.columns else None
        binary = b["binary"].astype(bool) if "binary" in b.columns else pd.Series(False, index=b.index)
        if binary.any():
            sub = b[binary]
            for side in ("intervention", "control"):
                if f"mean_{side}" in sub.columns and f"n_{side}" in sub.columns:
                    # the SD of a 0/1 level is sqrt(p(1 − p)): it reveals the share, so it goes with it
                    sub = suppress_share_rows(
                        sub, table=f"{analysis_id}: balance", share_column=f"mean_{side}", n_column=f"n_{side}",
                        columns=[f"mean_{side}", f"sd_{side}", "smd"], threshold=threshold, log=log, label_column=lab,
                    )
            b = b.astype({c: "float64" for c in sub.columns
                          if c in ("mean_intervention", "mean_control", "sd_intervention", "sd_control", "smd")})
            b.loc[sub.index, sub.columns] = sub
        tables["balance"] = b
    if "subgroups" in tables:
        # per moderator, so a suppressed level cannot be recovered from the group total
        parts = []
        for _, part in tables["subgroups"].groupby("moderator", sort=False):
            parts.append(suppress_counts(
                part.assign(_label=part["moderator"] + "=" + part["level"].astype(str)),
                table=f"{analysis_id}: undergrupper", count_columns=["n_treated", "n_control"],
                dependent={"*": ["estimate", "ci_lower", "ci_upper", "p_value"]}, label_column="_label",
                threshold=threshold, log=log,
            ).drop(columns="_label"))
        tables["subgroups"] = pd.concat(parts, ignore_index=True)
    if "flow" in tables:
        f = tables["flow"]
        counts = [c for c in f.columns if c != "step" and pd.api.types.is_numeric_dtype(f[c])]
        tables["flow"] = suppress_counts(
            f, table=f"{analysis_id}: deltagerflow", count_columns=counts,
            label_column="step" if "step" in f.columns else None, threshold=threshold, log=log, complementary=False,
        )
    return tables


def disclose_estimates(result: Result, analysis_id: str, threshold: int, log: SuppressionLog, *,
                       level_terms: tuple[str, ...] = (), small: bool = False) -> tuple[Estimate, ...]:
    """The estimates, all suppressed when one of them reveals a cell below the threshold.

    For a binary outcome a share of ``n`` persons reveals ``k = share × n`` persons with and
    ``n − k`` without the outcome: ``share_*`` terms and ``level_terms`` are checked; ``small``
    forces suppression (the family found another small cell).
    """
    estimates = list(result.estimates)
    if not (isinstance(result, EffectResult) and result.outcome_type == "binary"):
        return tuple(estimates)
    for e in estimates:
        if (e.term.startswith("share_") or e.term in level_terms) and not pd.isna(e.estimate):
            k = round(e.estimate * e.n)
            if is_small(k, threshold) or is_small(e.n - k, threshold):
                small = True
    if not small:
        return tuple(estimates)
    kept = []
    for e in estimates:
        log.add(f"{analysis_id}: effekt", e.term, "estimate", f"bygger på en celle med færre end {threshold} personer")
        kept.append(Estimate(term=e.term, estimate=float("nan"), n=e.n, method=e.method,
                             n_treated=e.n_treated, n_control=e.n_control))
    warnings.warn(f"{analysis_id}: estimates suppressed (a cell below {threshold} persons)", SmallCellWarning,
                  stacklevel=2)
    return tuple(kept)


def is_nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


# ---------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------

FAMILIES: dict[str, Family] = {}


def options_doc(family: "Family") -> str:
    """The family's study.yaml options as a numpydoc-style section (appended to its estimator's docstring,
    so ``help(RandomizedComparison)`` shows them)."""
    def block(title: str, model: type[Options]) -> list[str]:
        out = [title, "-" * len(title)]
        for name, f in model.model_fields.items():
            default = "required" if f.is_required() else (
                "[]" if f.default_factory is list else repr(f.default) if f.default_factory is None else "…")
            ann = str(f.annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")
            out.append(f"{name} : {ann}, default {default}")
            out.append(f"    {f.description or ''}")
        return out

    lines = [f"Declared in study.yaml as ``design: {family.design}``.", ""]
    lines += block(f"Options (analyses[].options, design: {family.design})", family.Options) + [""]
    lines += block("Fit options (analyses[].fit)", family.Fit)
    return "\n".join(lines)


def register_family(cls: type[Family]) -> type[Family]:
    """Class decorator: register a family under ``cls.design`` (one instance per design name)."""
    if not cls.design:
        raise TypeError(f"{cls.__name__} needs a class attribute 'design'")
    if cls.design in FAMILIES and type(FAMILIES[cls.design]) is not cls:
        raise TypeError(f"design {cls.design!r} is registered twice ({type(FAMILIES[cls.design]).__name__}, {cls.__name__})")
    FAMILIES[cls.design] = fam = cls()
    est = cls.Estimator
    if est is not None and est.__doc__ and "Declared in study.yaml" not in est.__doc__:
        import textwrap

        est.__doc__ = textwrap.dedent(est.__doc__).rstrip() + "\n\n" + options_doc(fam) + "\n"
    return cls


def get_family(design: str) -> Family:
    """The family registered for a design name (``KeyError`` lists the known names)."""
    try:
        return FAMILIES[design]
    except KeyError:
        close = difflib.get_close_matches(str(design), list(FAMILIES), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownNameError(f"unknown design {design!r}{hint}; known designs: {', '.join(sorted(FAMILIES))}") from None


def families() -> list[Family]:
    """Every registered family, sorted by design name."""
    return [FAMILIES[k] for k in sorted(FAMILIES)]


def main_estimate(result: Result) -> Estimate:
    """The headline estimate of an analysis result, as its design family chooses it."""
    return get_family(result.design).main_term(result)


#: the constant 1 as a cell of a relation (shares of a categorical variable's levels add up to it)
ONE: tuple = ("1",)


def level_text(level: Any) -> str:
    """A covariate level as text, the same for 1, 1.0 and "1" (subgroup and balance tables write levels differently)."""
    try:
        f = float(level)
    except (TypeError, ValueError):
        return str(level)
    return str(int(f)) if math.isfinite(f) and f == int(f) else str(level)


def estimate_population(result: Result, treated_key: tuple, control_key: tuple) -> list[tuple[tuple, str, tuple]]:
    """Each estimate's published treated and comparison persons as analysed persons of the two groups."""
    out: list[tuple[tuple, str, tuple]] = []
    for e in result.estimates:
        if e.n_treated is not None:
            out.append((treated_key, "analysed", ("e", e.term, "n_treated")))
        if e.n_control is not None:
            out.append((control_key, "analysed", ("e", e.term, "n_control")))
    return out


def row_of(table: pd.DataFrame | None, column: str, value: Any) -> int | None:
    """The position of the (first) row of ``table`` whose ``column`` equals ``value`` (compared as text)."""
    if table is None or column not in table.columns:
        return None
    for i, v in enumerate(table[column].tolist()):
        if str(v) == str(value):
            return i
    return None
