"""Registry of metrics by name, so a study file can say ``metric: {name: column, params: …}``.

A metric is a pure function from the study's validated data frames to one value per person
(a :class:`pandas.Series` indexed by the pseudonymised person id). Each registered metric
carries a Danish definition used verbatim in the report's method section, so outcome
definitions are generated from the library rather than written by hand.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import pandas as pd

from ..exceptions import DataValidationError, StudyConfigError
from ..presentation.labels import readable_label

__all__ = ["MetricSpec", "METRICS", "register_metric", "metric_label_da", "compute_metric", "describe_metric", "param_problems",
           "metric_inputs", "SOURCE_PARAMS"]

#: metric parameters that name a data source, and the kind of source they must name (None: any)
SOURCE_PARAMS: dict[str, str | None] = {"register": "register", "participants": None, "source": None}


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric.

    Attributes
    ----------
    name : str
    func : callable
        ``func(sources, **params) -> pd.Series`` indexed by person id.
    definition_da : callable
        ``definition_da(**params) -> str``: the exact definition in Danish for the report.
    outcome_type : {"binary", "continuous", "auto"}
    label_da : str, optional
        How the metric is measured, in a few Danish words (the report's indicator table), e.g.
        "Registerdata: andel af ugerne på offentlig forsørgelse".
    """

    name: str
    func: Callable[..., pd.Series]
    definition_da: Callable[..., str]
    outcome_type: str = "auto"
    kind: str = "person"  # "person": one value per person; "panel": long frame person × period
    label_da: str | None = None

    def params(self) -> list[str]:
        sig = inspect.signature(self.func)
        return [p for p in list(sig.parameters)[1:] if sig.parameters[p].kind is not inspect.Parameter.VAR_KEYWORD]


METRICS: dict[str, MetricSpec] = {}


def register_metric(name: str, definition_da: Callable[..., str], outcome_type: str = "auto", kind: str = "person",
                    label_da: str | None = None):
    """Decorator registering ``func`` as metric ``name`` (``kind="panel"`` for person × period outcomes);
    ``label_da`` says in a few Danish words how it is measured (the report's indicator table)."""

    def deco(func: Callable[..., pd.Series]) -> Callable[..., pd.Series]:
        METRICS[name] = MetricSpec(name=name, func=func, definition_da=definition_da, outcome_type=outcome_type, kind=kind,
                                   label_da=label_da)
        return func

    return deco


def metric_label_da(name: str) -> str:
    """How metric ``name`` is measured, in Danish: its registered ``label_da``, else "Beregnet mål (<name>)" for a
    metric registered without one (or no longer registered)."""
    spec = METRICS.get(name)
    if spec is not None and spec.label_da:
        return spec.label_da
    return f"Beregnet mål ({readable_label(name, capitalise=False)})"


def param_problems(name: str, params: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """Unknown and missing parameters of metric ``name``, as (parameter or None, message); [] when fine."""
    spec = METRICS[name]
    sig = inspect.signature(spec.func)
    names = list(sig.parameters)[1:]
    out: list[tuple[str | None, str]] = []
    for p in params:
        if p not in names:
            import difflib

            close = difflib.get_close_matches(str(p), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            out.append((p, f"metric {spec.name!r} has no parameter {p!r}{hint}; its parameters are: {', '.join(names)}"))
    missing = [p for p in names if sig.parameters[p].default is inspect.Parameter.empty and p not in params]
    if missing:
        out.append((None, f"metric {spec.name!r} needs the parameter(s) {', '.join(map(repr, missing))}; "
                          f"its parameters are: {', '.join(names)}"))
    return out


def _check_params(spec: MetricSpec, params: Mapping[str, Any]) -> None:
    problems = param_problems(spec.name, params)
    if problems:
        raise StudyConfigError([m for _, m in problems])


def metric_inputs(name: str, params: Mapping[str, Any] | None = None) -> list[tuple[str, str, str]]:
    """The data columns metric ``name`` reads from its sources, as (source, column, kind).

    ``kind`` is ``"numeric"`` (a per-person value such as the ``column`` metric's outcome), ``"week"``
    (an ISO week: the index week of a register metric) or ``"any"``. The data boundary checks these
    columns, naming rows by the file's own numbers, before the metric is computed.
    """
    spec = METRICS[name]
    sig = inspect.signature(spec.func)
    p = {k: v.default for k, v in sig.parameters.items() if v.default is not inspect.Parameter.empty}
    p.update(params or {})
    out: list[tuple[str, str, str]] = []
    if name == "column" and isinstance(p.get("column"), str):
        out.append((str(p.get("source", "participants")), p["column"], "numeric"))
    part = str(p.get("participants", "participants"))
    if "index_week" in sig.parameters and isinstance(p.get("index_week"), str):
        out.append((part, p["index_week"], "week"))
    if isinstance(p.get("group_column"), str):
        out.append((part, p["group_column"], "any"))
    return out


def compute_metric(name: str, sources: Mapping[str, pd.DataFrame], params: Mapping[str, Any] | None = None) -> pd.Series:
    """Compute metric ``name`` with ``params`` on ``sources`` (data source name → frame)."""
    if name not in METRICS:
        raise StudyConfigError(f"unknown metric {name!r}; known metrics: {', '.join(sorted(METRICS))}")
    spec = METRICS[name]
    params = dict(params or {})
    _check_params(spec, params)
    return spec.func(sources, **params)


def describe_metric(name: str, params: Mapping[str, Any] | None = None) -> str:
    """The Danish definition of metric ``name`` with ``params`` (for the report's method section)."""
    return METRICS[name].definition_da(**dict(params or {}))


def _column_definition(column: str, source: str = "participants", **_: Any) -> str:
    return (
        f"Værdien i kolonnen «{column}» i datakilden «{source}», som leveret af projektet "
        "(én værdi pr. person og måling; ingen omregning)."
    )


@register_metric("column", _column_definition,
                 label_da="Tal pr. person leveret af projektet")
def column(sources: Mapping[str, pd.DataFrame], column: str, source: str = "participants") -> pd.Series:
    """A participant-level outcome read as is from a column of a data source.

    Parameters
    ----------
    sources : mapping of str to DataFrame
        The study's data sources (validated, ids pseudonymised), indexed by person id.
    column : str
        The column holding the outcome.
    source : str, default "participants"
        Name of the data source.

    Returns
    -------
    pandas.Series
        One value per person, named ``column``, indexed by person id; missing stays missing.

    Notes
    -----
    Used when the project delivers a per-person outcome (e.g. sick weeks in the 52 weeks
    after randomisation) rather than a weekly register.
    """
    if source not in sources:
        raise DataValidationError(f"metric 'column': no data source named {source!r}; sources: {', '.join(sources)}")
    df = sources[source]
    if column not in df.columns:
        raise DataValidationError(
            f"metric 'column': data source {source!r} has no column {column!r}; columns: {', '.join(map(str, df.columns))}"
        )
    values = df[column]
    if not pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        converted = pd.to_numeric(values, errors="coerce")
        bad = values[converted.isna() & values.notna()]
        if len(bad):
            rows = ", ".join(str(i) for i in bad.index[:5])
            raise DataValidationError(
                f"column {column!r} in {source!r} must be numeric; non-numeric values such as {bad.iloc[0]!r} "
                f"for person(s) {rows} ({len(bad)} in all)"
            )
        values = converted
    return values.astype(float).rename(column)
