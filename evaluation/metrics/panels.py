"""Person × period outcome panels from weekly registers, for difference-in-differences designs.

A panel metric returns a long frame (one row per person and calendar period) rather than one
value per person, so two-way fixed effects and Callaway–Sant'Anna estimators can use the
outcome before and after each person's enrolment.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from evaluation.data.registers import Panel
from evaluation.data.weeks import format_week
from . import _kernels as K
from .benefits import _index_week_ordinals, _numerator_lut, _panel_from_sources
from .registry import register_metric

__all__ = ["benefit_dependency_by_period", "benefit_dependency_pre_post"]


def benefit_dependency_by_period(
    panel: Panel,
    participants: pd.DataFrame,
    period_weeks: int = 4,
    benefit_types: Sequence[str] | None = None,
    *,
    index_week: str = "index_week",
    group_column: str = "group",
    treated: Sequence[str] | str = ("intervention",),
) -> pd.DataFrame:
    """Share of weeks on public support in consecutive calendar periods, per person.

    Parameters
    ----------
    panel : Panel
        Weekly register restricted to the participants.
    participants : DataFrame
        Indexed by person, with ``index_week`` (ISO) and ``group_column``.
    period_weeks : int, default 4
        Length of a period in weeks (4 ≈ a month, 13 = a quarter). Periods start at the
        register's first week; weeks after the last whole period are left out.
    benefit_types : list of str, optional
        Restrict the numerator to these benefit groups.
    treated : str or sequence of str
        Group values that are enrolled (their cohort is the period holding their index week);
        every other group is a never-treated comparison (cohort 0).

    Returns
    -------
    DataFrame
        Columns ``period`` (1, 2, …), ``period_start`` (ISO week), ``value`` (share, NaN when
        every week of the period is censored) and ``cohort`` (period of enrolment, 0 = never),
        indexed by person; ``treated_now`` is 1 from the enrolment period on (for a static TWFE).

    Notes
    -----
    For person i and period p covering weeks W_p: value = #{t ∈ W_p : benefit} / #{t ∈ W_p : not censored}.
    Cohort binning to months or quarters is the choice of ``period_weeks``; the report states it.

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> reg = pd.DataFrame({"person": ["a"] * 4 + ["b"], "week": ["2021-W01", "2021-W02", "2021-W03", "2021-W04", "2021-W01"],
    ...                     "code": [130, 130, 0, 0, 130]})
    >>> panel = register_from_frame(reg.query("code != 0"), first_week="2021-W01", last_week="2021-W04")
    >>> parts = pd.DataFrame({"index_week": ["2021-W03", "2021-W03"], "group": ["intervention", "comparison"]},
    ...                      index=pd.Index(["a", "b"], name="person"))
    >>> benefit_dependency_by_period(panel, parts, period_weeks=2)[["period", "value", "cohort"]].values.tolist()
    [[1.0, 1.0, 2.0], [2.0, 0.0, 2.0], [1.0, 0.5, 0.0], [2.0, 0.0, 0.0]]
    """
    if int(period_weeks) != period_weeks or period_weeks < 1:
        raise DataValidationError(f"period_weeks must be a positive whole number, got {period_weeks!r}")
    period_weeks = int(period_weeks)
    for col in (index_week, group_column):
        if col not in participants.columns:
            raise DataValidationError(f"participants: no column {col!r}; columns: {list(map(str, participants.columns))}")
    treated = [treated] if isinstance(treated, str) else list(treated)
    persons = pd.Index(participants.index, name="person")
    rows = panel.rows_of(persons).astype(np.intp)
    n_periods = len(panel.weeks) // period_weeks
    if n_periods < 2:
        raise DataValidationError(f"the register covers {len(panel.weeks)} weeks: fewer than two periods of {period_weeks} weeks")
    num_lut = _numerator_lut(panel, benefit_types)
    cens_lut = panel.codes.lut("censored")
    num_r, cens_r = K._ranges(num_lut), K._ranges(cens_lut)
    num = np.empty((len(rows), n_periods), dtype=np.int32)
    cen = np.empty((len(rows), n_periods), dtype=np.int32)
    for a, b in K._blocks(len(rows), None, 4 * n_periods * period_weeks):  # memory bounded by the block
        mat = panel.matrix[rows[a:b], : n_periods * period_weeks]
        num[a:b] = K._member(mat, num_lut, num_r).reshape(b - a, n_periods, period_weeks).sum(axis=2, dtype=np.int32)
        cen[a:b] = K._member(mat, cens_lut, cens_r).reshape(b - a, n_periods, period_weeks).sum(axis=2, dtype=np.int32)
    den = period_weeks - cen
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(den > 0, num / np.maximum(den, 1), np.nan)
    ords = _index_week_ordinals(participants[index_week], persons, index_week)
    col = ords - panel.weeks.first
    enrolled = participants[group_column].astype(str).isin(treated).to_numpy()
    cohort = np.where(enrolled, col // period_weeks + 1, 0)
    late = enrolled & (cohort > n_periods)
    if late.any():
        ex = ", ".join(str(p) for p in persons[late][:5])
        raise DataValidationError(f"participants: {int(late.sum())} enrolment week(s) after the last whole period (e.g. {ex})")
    starts = [format_week(int(panel.weeks.first + k * period_weeks)) for k in range(n_periods)]
    # labels repeated by taking from the small arrays (no per-row re-inference of a string column)
    start_labels = pd.Index(np.array(starts, dtype=object)).take(np.tile(np.arange(n_periods), len(rows)))
    person_index = pd.Index(persons.to_numpy()[:0]).dtype  # the dtype the old repeated array inferred
    if persons.dtype == person_index:
        person_index = persons.repeat(n_periods).rename("person")
    else:
        person_index = pd.Index(np.repeat(persons.to_numpy(), n_periods), name="person")
    out = pd.DataFrame({
        "period": np.tile(np.arange(1, n_periods + 1), len(rows)),
        "period_start": start_labels.array,
        "value": share.reshape(-1),
        "cohort": np.repeat(cohort, n_periods),
    }, index=person_index)
    out["treated_now"] = ((out["cohort"] > 0) & (out["period"] >= out["cohort"])).astype(float)
    return out


def _def_by_period(period_weeks=4, benefit_types=None, **_: Any) -> str:
    what = "offentlig forsørgelse" if not benefit_types else ", ".join(benefit_types)
    return (
        f"Andel af ugerne på {what} i hver kalenderperiode på {period_weeks} uger (censurerede uger – udvandret, død, "
        "uden for registret – tæller ikke med i nævneren), opgjort på DREAM-ugedata for alle personer i både "
        f"deltager- og sammenligningsgruppen. Deltagernes optagelseskohorte er den periode på {period_weeks} uger, "
        "hvor de startede."
    )


@register_metric("benefit_dependency_by_period", _def_by_period, outcome_type="continuous", kind="panel",
                 label_da="Registerdata: andel af ugerne på offentlig forsørgelse pr. periode")
def _m_by_period(sources: Mapping[str, Any], period_weeks: int = 4, benefit_types=None, register: str = "register",
                 participants: str = "participants", index_week: str = "index_week", group_column: str = "group",
                 treated=("intervention",), codes=None, absent_persons: str = "error") -> pd.DataFrame:
    """Registered :func:`benefit_dependency_by_period`."""
    panel, parts = _panel_from_sources(sources, register, participants, codes, absent_persons)
    return benefit_dependency_by_period(panel, parts, period_weeks, benefit_types, index_week=index_week,
                                        group_column=group_column, treated=treated)


def benefit_dependency_pre_post(
    panel: Panel,
    participants: pd.DataFrame,
    before: Sequence[int] = (-52, -1),
    after: Sequence[int] = (1, 52),
    benefit_types: Sequence[str] | None = None,
    *,
    index_week: str = "index_week",
    group_column: str = "group",
    treated: Sequence[str] | str = ("intervention",),
) -> pd.DataFrame:
    """Benefit dependency before and after each person's index week, as a two-period panel.

    Returns
    -------
    DataFrame
        Two rows per person, indexed by person: ``post`` (0 = the ``before`` window, 1 = the
        ``after`` window), ``value`` (share of weeks on public support, censored weeks out of the
        denominator) and ``treated`` (1 for the enrolled groups, 0 for the comparison).

    Notes
    -----
    This is the outcome of a 2×2 difference in differences: the change in benefit dependency
    from the year before to the year after the index week, participants against comparison
    persons given a comparable index week.

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> reg = pd.DataFrame({"person": ["a", "a", "b"], "week": ["2021-W01", "2021-W02", "2021-W01"], "code": [130, 130, 130]})
    >>> panel = register_from_frame(reg, first_week="2021-W01", last_week="2021-W04")
    >>> parts = pd.DataFrame({"index_week": ["2021-W03", "2021-W03"], "group": ["intervention", "comparison"]},
    ...                      index=pd.Index(["a", "b"], name="person"))
    >>> benefit_dependency_pre_post(panel, parts, before=(-2, -1), after=(0, 1))[["post", "value", "treated"]].values.tolist()
    [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [0.0, 0.5, 0.0], [1.0, 0.0, 0.0]]
    """
    from .benefits import benefit_dependency

    treated = [treated] if isinstance(treated, str) else list(treated)
    pre = benefit_dependency(panel, participants, tuple(before), benefit_types, index_week=index_week)
    post = benefit_dependency(panel, participants, tuple(after), benefit_types, index_week=index_week)
    if group_column not in participants.columns:
        raise DataValidationError(f"participants: no column {group_column!r}")
    t = participants[group_column].astype(str).isin(treated).astype(float).to_numpy()
    persons = pd.Index(participants.index, name="person")
    out = pd.DataFrame({
        "post": np.tile([0.0, 1.0], len(persons)),
        "value": np.column_stack([pre.reindex(persons).to_numpy(), post.reindex(persons).to_numpy()]).reshape(-1),
        "treated": np.repeat(t, 2),
    }, index=pd.Index(np.repeat(persons.to_numpy(), 2), name="person"))
    return out


def _def_pre_post(before=(-52, -1), after=(1, 52), benefit_types=None, **_: Any) -> str:
    what = "offentlig forsørgelse" if not benefit_types else ", ".join(benefit_types)
    return (
        f"Andel af ugerne på {what} i ugerne {before[0]} til {before[1]} (før) og {after[0]} til {after[1]} (efter) "
        "i forhold til hver persons startuge; censurerede uger tæller ikke med i nævneren. Forskel-i-forskelle "
        "sammenligner ændringen fra før til efter hos deltagerne med ændringen i sammenligningsgruppen."
    )


@register_metric("benefit_dependency_pre_post", _def_pre_post, outcome_type="continuous", kind="panel",
                 label_da="Registerdata: andel af ugerne på offentlig forsørgelse før og efter start")
def _m_pre_post(sources: Mapping[str, Any], before=(-52, -1), after=(1, 52), benefit_types=None, register: str = "register",
                participants: str = "participants", index_week: str = "index_week", group_column: str = "group",
                treated=("intervention",), codes=None, absent_persons: str = "error") -> pd.DataFrame:
    """Registered :func:`benefit_dependency_pre_post`."""
    panel, parts = _panel_from_sources(sources, register, participants, codes, absent_persons)
    return benefit_dependency_pre_post(panel, parts, before, after, benefit_types, index_week=index_week,
                                       group_column=group_column, treated=treated)
