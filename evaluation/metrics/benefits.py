"""Danish outcome library: benefit-dependency and employment metrics on weekly register panels.

Each metric is a pure function of a :class:`~evaluation.data.registers.Panel` (the register, read
once at the data boundary) and the participants (a frame indexed by person with an ISO index
week column, e.g. from :func:`~evaluation.data.registers.read_participants`), returning one row per
participant (in the participants' order). The heavy lifting is done by the block kernels in
:mod:`evaluation.metrics._kernels`.

Conventions used by every metric
--------------------------------
* Weeks are counted relative to the person's index week (week 0): week 1 is the first week
  after it, week -1 the last week before it; ISO weeks run across year boundaries (2020-W53
  is followed by 2021-W01).
* A week is *self-supporting* when it carries no DREAM code, *on public support* when its code
  belongs to a group of category ``public_support``, *education* (SU) when category
  ``education``, and *censored* when its code is a censoring code (emigration, death, out of
  the population) or the week lies outside the register's week range (end of data).
* Censored weeks leave every denominator. A window with no observed week gives a missing value.

Each metric is also registered by name in :data:`evaluation.metrics.METRICS`, so a study can
declare ``metric: {name: benefit_dependency, params: {window: [1, 52]}}``; the registered
wrappers read the register from data source ``register`` and the participants from
``participants`` (both names are parameters).
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, StudyConfigError
from evaluation.data.registers import CodeList, Panel, register_from_frame
from evaluation.data.weeks import format_week, parse_weeks
from . import _kernels as K
from .registry import register_metric

__all__ = [
    "WEEKS_PER_MONTH",
    "month_to_week",
    "benefit_dependency",
    "self_support_week",
    "status_at_month",
    "self_support_spell",
    "weeks_to_self_support",
    "long_term_unemployment",
    "long_term_unemployed",
    "long_term_unemployment_share",
    "full_time_persons",
    "full_time_persons_summary",
    "long_sickness_spells",
    "status_share_series",
    "compute_streaming",
    "compute_on_dask",
    "dask_release",
    "partition_register",
]

#: Weeks per month used to turn "status after m months" into a week (jobindsats convention).
WEEKS_PER_MONTH = 4.33

#: STAR long-term unemployment: unemployed in at least 80 % of the last 52 weeks and in the last week.
LTU_LOOKBACK = 52
LTU_SHARE = 0.80


def month_to_week(months: float) -> int:
    """Week after the index week that represents ``months`` months: round(4.33 × months), halves up.

    Examples
    --------
    >>> [month_to_week(m) for m in (1, 3, 6, 12)]
    [4, 13, 26, 52]
    """
    return int(np.floor(WEEKS_PER_MONTH * float(months) + 0.5))


# --------------------------------------------------------------------------- helpers
def _window(window, name: str = "window") -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in window)
    except (TypeError, ValueError):
        raise StudyConfigError(f"{name} must be two whole weeks [from, to], e.g. [1, 52]; got {window!r}") from None
    if hi < lo:
        raise StudyConfigError(f"{name} [{lo}, {hi}] ends before it starts")
    return lo, hi


def _index(panel: Panel, participants, index_week: str) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Person index, panel rows and index-week column positions of the participants.

    Cheap to repeat for the same participants frame: the person lookup is cached on the panel
    (:meth:`Panel.rows_of`), uniqueness on the participants' index, and the index weeks are
    factorised (hashing, no sort) so each distinct week is parsed once.
    """
    if isinstance(participants, pd.Series):
        weeks, persons = participants, participants.index
    elif isinstance(participants, pd.DataFrame):
        if index_week not in participants.columns:
            raise DataValidationError(
                f"participants: no index-week column {index_week!r}; columns: {list(map(str, participants.columns))}"
            )
        weeks, persons = participants[index_week], participants.index
    else:
        raise DataValidationError("participants must be a DataFrame with an index-week column or a Series of index weeks")
    if not persons.is_unique:
        dup = persons[persons.duplicated()].unique()[:5]
        raise DataValidationError(f"participants: person(s) on more than one row: {list(dup)}")
    rows = panel.rows_of(persons)  # cached on the panel for this index object
    if persons.name != "person" or type(persons) is not pd.Index:
        persons = pd.Index(persons, name="person")
    ords = _index_week_ordinals(weeks, persons, index_week)
    cols = ords - panel.weeks.first
    out = (cols < 0) | (cols >= len(panel.weeks))
    if out.any():
        pos = np.flatnonzero(out)
        raise DataValidationError(
            f"participants: column {index_week!r}: {len(pos)} index week(s) outside the register range "
            f"{panel.weeks!r}: " + ", ".join(f"person {persons[i]}: {format_week(int(ords[i]))}" for i in pos[:5])
        )
    return persons, np.asarray(rows, dtype=np.intp), cols.astype(np.intp, copy=False)


def _index_week_ordinals(weeks: pd.Series, persons: pd.Index, index_week: str) -> np.ndarray:
    """Week ordinals of the participants' index weeks: the column is factorised (hashing, no sort) and
    each distinct value parsed once; a missing or malformed week falls back to the row-by-row path,
    whose error names the persons."""
    codes, uniq = pd.factorize(weeks, sort=False)
    if len(codes) and codes.min() >= 0:
        try:
            return parse_weeks(np.asarray(uniq, dtype=object), file="participants", column=index_week)[codes]
        except DataValidationError:
            pass
    return _parse_index_weeks(weeks, persons, index_week)


def _parse_index_weeks(weeks: pd.Series, persons: pd.Index, index_week: str) -> np.ndarray:
    """Index-week ordinals, parsing each distinct spelling once; errors name the first person with it."""
    vals = weeks.to_numpy(dtype=object)
    uniq, inv = np.unique(vals.astype(str), return_inverse=True)
    first = {}
    for pos, u in enumerate(inv.tolist()):
        first.setdefault(u, pos)
    ords_u = parse_weeks(np.array([vals[first[i]] for i in range(len(uniq))], dtype=object),
                         file="participants", column=index_week,
                         rows=[str(persons[first[i]]) for i in range(len(uniq))])
    return ords_u[inv]


def _numerator_lut(panel: Panel, benefit_types: Sequence[str] | None) -> np.ndarray:
    if benefit_types is None:
        return panel.codes.lut("public_support")
    if isinstance(benefit_types, str):
        benefit_types = [benefit_types]
    for g in benefit_types:
        grp = panel.codes.group(g)
        if grp.category == "censoring":
            raise StudyConfigError(f"benefit_types: {g!r} is a censoring group, not a benefit")
    return panel.codes.lut("groups", list(benefit_types))


def _rank_lut(codes: CodeList) -> tuple[np.ndarray, dict[int, str]]:
    """rank[category]: -1 censored, 0 self-support, higher = higher priority."""
    top = max(g.priority for g in codes.groups) + 1
    rank = np.zeros(codes.n_categories, dtype=np.int16)
    labels = {0: "self_support", -1: "censored"}
    for i, c in enumerate(codes.codes):
        g = codes.group_of(int(c))
        if g.category == "censoring":
            rank[i + 1] = -1
        else:
            r = top - g.priority
            rank[i + 1] = r
            labels[r] = g.id
    rank[-1] = -1
    # distinct priorities per group are required for an unambiguous hierarchy
    by_rank: dict[int, set] = {}
    for g in codes.groups:
        if g.category != "censoring":
            by_rank.setdefault(top - g.priority, set()).add(g.id)
    clash = {r: s for r, s in by_rank.items() if len(s) > 1}
    if clash:
        raise DataValidationError(
            f"code list {codes.version}: groups share a priority, so the status hierarchy is ambiguous: "
            + "; ".join(", ".join(sorted(s)) for s in clash.values())
        )
    return rank, labels


# --------------------------------------------------------------------------- metrics
def benefit_dependency(
    panel: Panel,
    participants,
    window: Sequence[int] = (1, 52),
    benefit_types: Sequence[str] | None = None,
    *,
    index_week: str = "index_week",
    counts: bool = False,
) -> pd.Series | pd.DataFrame:
    """Share of weeks on public support in a window relative to the index week.

    Parameters
    ----------
    panel : Panel
    participants : DataFrame or Series
        Indexed by person; ``participants[index_week]`` holds the ISO index week.
    window : (int, int)
        First and last week relative to the index week, inclusive (``(1, 52)`` = the first
        year after; ``(-52, -1)`` = the year before, for baselines and DiD).
    benefit_types : list of str, optional
        Restrict the numerator to these groups (e.g. ``["sygedagpenge"]``); default all groups of
        category ``public_support``.
    index_week : str
        Column of the index week.
    counts : bool
        Also return ``benefit_weeks`` and ``observed_weeks``.

    Returns
    -------
    Series named ``benefit_dependency`` (or a DataFrame with the counts), one row per participant.

    Notes
    -----
    For person i with index week t₀ and window [a, b]:

    .. math:: D_i = \\frac{\\#\\{t \\in [t_0+a, t_0+b] : \\text{code}_{it} \\in \\text{benefit}\\}}
                          {\\#\\{t \\in [t_0+a, t_0+b] : t \\text{ not censored}\\}}

    where censored weeks carry a censoring code or lie outside the register range. SU weeks
    are observed and not on public support. D is missing when every week is censored.
    Multiply by the window length for "weeks on public support".

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> reg = pd.DataFrame({"person": ["a", "a", "a", "b"], "week": ["2020-W52", "2020-W53", "2021-W01", "2020-W53"],
    ...                     "code": [890, 890, 997, 651]})
    >>> panel = register_from_frame(reg, first_week="2020-W52", last_week="2021-W02")
    >>> parts = pd.DataFrame({"index_week": ["2020-W52", "2020-W52"]}, index=pd.Index(["a", "b"], name="person"))
    >>> benefit_dependency(panel, parts, window=(1, 3)).tolist()  # a: 890, 997 (censored), none
    [0.5, 0.0]
    """
    lo, hi = _window(window)
    persons, rows, cols = _index(panel, participants, index_week)
    num_lut = _numerator_lut(panel, benefit_types)
    cens_lut = panel.codes.lut("censored")
    num, cen = K.window_sums(panel.matrix, rows, cols + lo, hi - lo + 1, [num_lut, cens_lut], panel.codes.outside)
    den = (hi - lo + 1) - cen
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(den > 0, num / np.maximum(den, 1), np.nan)
    s = pd.Series(share, index=persons, name="benefit_dependency")
    if counts:
        return pd.DataFrame({"benefit_dependency": share, "benefit_weeks": num, "observed_weeks": den}, index=persons)
    return s


def self_support_week(panel: Panel, participants, week: int = 52, *, index_week: str = "index_week") -> pd.Series:
    """Self-support (no benefit code) in week ``week`` after the index week: 1.0 / 0.0 / NaN if censored.

    Notes
    -----
    :math:`S_i(k) = 1[\\text{no code in week } t_0 + k]`, missing when that week is censored
    (censoring code or outside the register). SU (education) is not self-support.

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a", "b"], "y_2052": [890, 130],
    ...                                           "y_2053": [None, 130], "y_2101": [None, 997]}))
    >>> parts = pd.DataFrame({"index_week": ["2020-W52"] * 2}, index=pd.Index(["a", "b"], name="person"))
    >>> self_support_week(panel, parts, week=1).tolist(), self_support_week(panel, parts, week=2).tolist()
    ([1.0, 0.0], [1.0, nan])
    """
    persons, rows, cols = _index(panel, participants, index_week)
    W = K.gather_window(panel.matrix, rows, cols + int(week), 1, panel.codes.outside)[:, 0]
    cens = panel.codes.lut("censored")[W].astype(bool)
    val = np.where(cens, np.nan, (W == 0).astype(float))
    return pd.Series(val, index=persons, name=f"self_support_week_{int(week)}")


def status_at_month(
    panel: Panel, participants, months: Sequence[float] = (1, 3, 6, 12), span: int = 1, *, index_week: str = "index_week"
) -> pd.DataFrame:
    """One status per person at 1, 3, 6 and 12 months after the index week, by a priority hierarchy.

    Parameters
    ----------
    months : sequence of float
        Month m is week ``round(4.33 m)`` after the index week (:func:`month_to_week`).
    span : int
        Number of weeks, ending with that week, whose statuses are combined (1 = that week).

    Returns
    -------
    DataFrame with one categorical column ``status_<m>m`` per month; categories
    ``self_support``, the group ids of the code list, ``censored``.

    Notes
    -----
    Among the non-censored weeks examined, the status is the benefit group with the highest
    priority (``priority`` in the code list, 1 highest); self-support is the residual status
    (no code in any examined week); ``censored`` when every examined week is censored.

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> cols = {f"y_21{w:02d}": [890 if w < 4 else None] for w in range(1, 15)}
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a"], **cols}))
    >>> parts = pd.DataFrame({"index_week": ["2021-W01"]}, index=pd.Index(["a"], name="person"))
    >>> status_at_month(panel, parts, months=(0.5, 1, 3, 6)).iloc[0].tolist()
    ['sygedagpenge', 'self_support', 'self_support', 'censored']
    """
    persons, rows, cols = _index(panel, participants, index_week)
    span = int(span)
    if span < 1:
        raise StudyConfigError(f"span must be at least 1 week; got {span}")
    rank, labels = _rank_lut(panel.codes)
    cats = ["self_support", *[g.id for g in panel.codes.groups if g.category != "censoring"], "censored"]
    # rank value -> category code (-1 = no label, as a missing value)
    lo_rank = int(min(labels))
    code_of = np.full(int(max(labels)) - lo_rank + 1, -1, dtype=np.int16)
    for val, name in labels.items():
        code_of[val - lo_rank] = cats.index(name)
    out = {}
    for m in months:
        k = month_to_week(m)
        r = K.max_rank(panel.matrix, rows, cols + k - span + 1, span, rank, panel.codes.outside)
        name = f"status_{m:g}m"
        out[name] = pd.Categorical.from_codes(code_of[r.astype(np.intp) - lo_rank], categories=cats)
    return pd.DataFrame(out, index=persons)


def self_support_spell(
    panel: Panel, participants, min_weeks: int = 4, window: Sequence[int] = (1, 52), *, index_week: str = "index_week"
) -> pd.DataFrame:
    """First spell of at least ``min_weeks`` consecutive self-supporting weeks within a window.

    Returns
    -------
    DataFrame with ``spell`` (1.0 if such a spell lies wholly in the observed part of the
    window, 0.0 if not, NaN if the window has no observed week) and ``start`` (week relative to
    the index week at which the first such spell starts; NaN if none).

    Notes
    -----
    :math:`k^* = \\min\\{k \\in [a, b-w+1] : \\text{weeks } t_0+k, …, t_0+k+w-1 \\text{ all self-supporting}\\}`,
    considering only weeks before the first censored week in the window. Spells already in
    progress at the window start count from the window start (w = 4 and 13 are the usual
    choices).

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> codes = [890, None, None, 890, None, None, None, None]
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a"], **{f"y_21{w+1:02d}": [c] for w, c in enumerate(codes)}}))
    >>> parts = pd.DataFrame({"index_week": ["2021-W01"]}, index=pd.Index(["a"], name="person"))
    >>> self_support_spell(panel, parts, min_weeks=4, window=(1, 7)).iloc[0].tolist()
    [1.0, 4.0]
    """
    lo, hi = _window(window)
    persons, rows, cols = _index(panel, participants, index_week)
    found, k, obs = K.first_run(
        panel.matrix, rows, cols + lo, hi - lo + 1, panel.codes.lut("self_support"), panel.codes.lut("censored"),
        int(min_weeks), panel.codes.outside,
    )
    spell = np.where(found, 1.0, np.where(obs > 0, 0.0, np.nan))
    start = np.where(found, k + lo, np.nan).astype(float)
    return pd.DataFrame({"spell": spell, "start": start}, index=persons)


def weeks_to_self_support(
    panel: Panel, participants, min_weeks: int = 1, start: int = 1, horizon: int | None = None,
    *, index_week: str = "index_week",
) -> pd.DataFrame:
    """Weeks from the index week to the first self-support spell, with a censoring indicator.

    Parameters
    ----------
    min_weeks : int
        A spell must last at least this many consecutive self-supporting weeks (1, 4, 13 …).
    start : int
        First week of follow-up (1 = the week after the index week).
    horizon : int, optional
        Last week of follow-up (default: as far as the register reaches for anyone).

    Returns
    -------
    DataFrame with ``weeks`` and ``event`` (1 = spell observed, 0 = censored).

    Notes
    -----
    If the first qualifying spell starts in week k (relative to the index week), ``weeks = k``
    and ``event = 1``. Otherwise the person is censored at the last observed week of follow-up
    (the week before the first censored week, the horizon, or the end of the register):
    ``weeks`` = that week and ``event = 0`` (``weeks = start - 1`` if no week was observed).

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a", "b"], "y_2101": [890, 890],
    ...     "y_2102": [890, 890], "y_2103": [None, 998], "y_2104": [None, 998]}))
    >>> parts = pd.DataFrame({"index_week": ["2021-W01"] * 2}, index=pd.Index(["a", "b"], name="person"))
    >>> weeks_to_self_support(panel, parts).values.tolist()
    [[2, 1], [1, 0]]
    """
    persons, rows, cols = _index(panel, participants, index_week)
    start = int(start)
    if horizon is None:
        width = len(panel.weeks) - int(cols.min()) - start if len(cols) else 0
        width = max(width, 0)
    else:
        if int(horizon) < start:
            raise StudyConfigError(f"horizon ({horizon}) is before start ({start})")
        width = int(horizon) - start + 1
    found, k, obs = K.first_run(
        panel.matrix, rows, cols + start, width, panel.codes.lut("self_support"), panel.codes.lut("censored"),
        int(min_weeks), panel.codes.outside,
    )
    weeks = np.where(found, k + start, obs + start - 1).astype(np.int64)
    return pd.DataFrame({"weeks": weeks, "event": found.astype(np.int64)}, index=persons)


def long_term_unemployment(panel: Panel, lookback: int = LTU_LOOKBACK, share: float = LTU_SHARE) -> pd.DataFrame:
    """STAR long-term unemployment for every person-week of the panel.

    Returns
    -------
    DataFrame (persons × ISO weeks, ``int8``): 1 long-term unemployed, 0 not, -1 undefined
    (censored week, or fewer than ``lookback`` register weeks up to that week).

    Notes
    -----
    Person i is long-term unemployed in week t when the code in t counts as unemployed
    (``unemployed: true`` in the code list) and
    :math:`\\sum_{s=t-51}^{t} U_{is} \\ge \\lceil 0.8 \\cdot 52 \\rceil = 42`.
    Censored weeks in the look-back count as not unemployed.

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a"], "y_2101": [111], "y_2102": [111], "y_2103": [None]}))
    >>> long_term_unemployment(panel, lookback=2, share=1.0).iloc[0].tolist()
    [-1, 1, 0]
    """
    need = int(np.ceil(share * lookback - 1e-9))
    mat = K.long_term_unemployment(panel.matrix, panel.codes.lut("unemployed"), panel.codes.lut("censored"),
                                   int(lookback), need)
    return pd.DataFrame(mat, index=panel.persons, columns=panel.weeks.labels(), copy=False)


def _ltu_window(panel, participants, window, index_week, lookback, share):
    """Per participant: weeks of the window in which they are long-term unemployed, and weeks in which
    the status is defined. LTU is computed block by block on the participants' rows over the
    columns the windows need (plus the look-back), so memory stays bounded by the block."""
    lo, hi = window
    persons, rows, cols = _index(panel, participants, index_week)
    need = int(np.ceil(share * lookback - 1e-9))
    n, width = len(rows), hi - lo + 1
    ones = np.zeros(n, dtype=np.int32)
    undefined = np.zeros(n, dtype=np.int32)
    if not n:
        return persons, ones, width - undefined
    # columns the windows need; the first lookback-1 of a slice are undefined unless it starts at the register start
    c0 = max(int(cols.min()) + lo - lookback + 1, 0)
    c1 = min(int(cols.max()) + hi, len(panel.weeks) - 1)
    s0 = max(c0 - lookback + 1, 0)
    u_lut, c_lut = panel.codes.lut("unemployed"), panel.codes.lut("censored")
    is_one = np.array([0, 1, 0], dtype=np.uint8)
    is_undef = np.array([0, 0, 1], dtype=np.uint8)
    block = 4096  # the slice of the register and its LTU codes per block: a few MB at most
    for a in range(0, n, block):
        b = min(n, a + block)
        if c1 >= c0:
            L = K.long_term_unemployment(panel.matrix[rows[a:b], s0:c1 + 1], u_lut, c_lut, int(lookback), need)[:, c0 - s0:]
        else:
            L = np.zeros((b - a, 0), dtype=np.int8)
        # int8 codes 1/0/-1 -> categories 1/0/2 in place: (L & 3) maps -1 to 3, then 3 -> 2
        Lc = np.bitwise_and(L.view(np.uint8), np.uint8(3))
        Lc -= (Lc >> np.uint8(1)) & Lc & np.uint8(1)
        o, u = K.window_sums(Lc, np.arange(b - a, dtype=np.intp), cols[a:b] - c0 + lo, width, [is_one, is_undef], 2)
        ones[a:b], undefined[a:b] = o, u
    return persons, ones, width - undefined


def long_term_unemployed(panel: Panel, participants, week: int = 0, *, index_week: str = "index_week",
                         lookback: int = LTU_LOOKBACK, share: float = LTU_SHARE) -> pd.Series:
    """Long-term unemployed (STAR rule) in week ``week`` relative to the index week: 1.0 / 0.0 / NaN.

    Notes
    -----
    See :func:`long_term_unemployment`; NaN when the week is censored or its 52-week
    look-back starts before the register.

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a"], "y_2101": [111], "y_2102": [111]}))
    >>> parts = pd.DataFrame({"index_week": ["2021-W02"]}, index=pd.Index(["a"], name="person"))
    >>> long_term_unemployed(panel, parts, week=0, lookback=2, share=0.8).tolist()
    [1.0]
    """
    persons, ones, defined = _ltu_window(panel, participants, (int(week), int(week)), index_week, lookback, share)
    v = np.where(defined > 0, ones.astype(float), np.nan)
    return pd.Series(v, index=persons, name=f"long_term_unemployed_week_{int(week)}")


def long_term_unemployment_share(panel: Panel, participants, window: Sequence[int] = (1, 52), *,
                                 index_week: str = "index_week", lookback: int = LTU_LOOKBACK,
                                 share: float = LTU_SHARE) -> pd.Series:
    """Share of the defined weeks in a window in which the person is long-term unemployed.

    Notes
    -----
    :math:`\\#\\{t \\in W : LTU_{it}=1\\} / \\#\\{t \\in W : LTU_{it} \\text{ defined}\\}`; NaN if no week is defined.

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a"], "y_2101": [111], "y_2102": [111], "y_2103": [None]}))
    >>> parts = pd.DataFrame({"index_week": ["2021-W01"]}, index=pd.Index(["a"], name="person"))
    >>> long_term_unemployment_share(panel, parts, window=(0, 2), lookback=2, share=1.0).tolist()
    [0.5]
    """
    lo, hi = _window(window)
    persons, num, den = _ltu_window(panel, participants, (lo, hi), index_week, lookback, share)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(den > 0, num / np.maximum(den, 1), np.nan)
    return pd.Series(v, index=persons, name="long_term_unemployment_share")


def full_time_persons(panel: Panel, period: Sequence[object], participants=None,
                      benefit_types: Sequence[str] | None = None) -> pd.DataFrame:
    """Full-time persons on public support over a calendar period, by benefit type (jobindsats).

    Parameters
    ----------
    period : (ISO week, ISO week)
        First and last calendar week, inclusive; must lie within the register.
    participants : DataFrame or index, optional
        Restrict to these persons (default: every person in the panel).
    benefit_types : list of str, optional
        Groups to report (default: every public-support group).

    Returns
    -------
    DataFrame, one row per person: one column per benefit type (benefit weeks ÷ weeks in the
    period) and ``public_support`` (their sum over all public-support groups).

    Notes
    -----
    A person's contribution to full-time persons on benefit b over period P is
    :math:`|\\{t \\in P : \\text{code}_{it} \\in b\\}| / |P|`; summing over persons gives the
    jobindsats key figure *fuldtidspersoner*. The denominator is every week of the period
    (censored weeks included), as in jobindsats. Use :func:`full_time_persons_summary` for
    the group totals.

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a", "b"], "y_2101": [890, 130], "y_2102": [890, None],
    ...                                           "y_2103": [None, None], "y_2104": [130, None]}))
    >>> f = full_time_persons(panel, ("2021-W01", "2021-W04"), benefit_types=["sygedagpenge", "kontanthjaelp"])
    >>> f.values.tolist()
    [[0.5, 0.25, 0.75], [0.0, 0.25, 0.25]]
    """
    if len(period) != 2:
        raise StudyConfigError(f"period must be [first week, last week]; got {period!r}")
    a, b = (int(x) for x in parse_weeks(np.asarray(list(period), dtype=object), file="period", column="period"))
    if b < a:
        raise StudyConfigError(f"period {period!r} ends before it starts")
    c0, c1 = a - panel.weeks.first, b - panel.weeks.first
    if c0 < 0 or c1 >= len(panel.weeks):
        raise DataValidationError(f"period {format_week(a)}..{format_week(b)} lies outside the register range {panel.weeks!r}")
    if participants is None:
        persons, rows = panel.persons, np.arange(len(panel), dtype=np.intp)
    else:
        persons = pd.Index(participants.index if isinstance(participants, (pd.DataFrame, pd.Series)) else participants, name="person")
        rows = panel.rows_of(persons).astype(np.intp)
    glut, labels = panel.codes.group_index_lut()
    counts = K.group_counts(panel.matrix, rows, c0, c1, glut, len(labels))
    n_weeks = c1 - c0 + 1
    public = [g.id for g in panel.codes.groups if g.category == "public_support"]
    types = list(benefit_types) if benefit_types is not None else public
    for t in types:
        panel.codes.group(t)
    pos = {l: i for i, l in enumerate(labels)}
    out = {t: counts[:, pos[t]] / n_weeks for t in types}
    out["public_support"] = counts[:, [pos[t] for t in public]].sum(axis=1) / n_weeks
    return pd.DataFrame(out, index=persons)


def full_time_persons_summary(ftp: pd.DataFrame, participants: pd.DataFrame | None = None,
                              by: str | None = "group") -> pd.DataFrame:
    """Sum per-person full-time contributions to full-time persons, optionally by participant group.

    Returns columns ``[by,] n, <benefit types…>, public_support`` (``n`` persons behind each row,
    so small cells can be suppressed when the bundle is written).

    Examples
    --------
    >>> ftp = pd.DataFrame({"public_support": [0.5, 0.25, 1.0]}, index=pd.Index(["a", "b", "c"], name="person"))
    >>> parts = pd.DataFrame({"group": ["I", "I", "K"]}, index=ftp.index)
    >>> full_time_persons_summary(ftp, parts).values.tolist()
    [['I', 2, 0.75], ['K', 1, 1.0]]
    """
    if by is None or participants is None:
        s = ftp.sum().to_frame().T
        s.insert(0, "n", len(ftp))
        return s.reset_index(drop=True)
    if by not in participants.columns:
        raise DataValidationError(f"participants: no column {by!r}")
    g = participants[by].reindex(ftp.index)
    out = ftp.groupby(g, observed=True).sum()
    out.insert(0, "n", ftp.groupby(g, observed=True).size())
    return out.reset_index().rename(columns={"index": by})


def long_sickness_spells(panel: Panel, participants, window: Sequence[int] = (1, 52), longer_than: int = 26, *,
                         index_week: str = "index_week", group: str = "sygedagpenge") -> pd.DataFrame:
    """Sickness-benefit spells longer than ``longer_than`` weeks that overlap a window.

    Returns
    -------
    DataFrame with ``count`` (number of such spells), ``any`` (1.0/0.0) and ``longest``
    (weeks of the longest such spell, 0 if none).

    Notes
    -----
    A spell is a maximal run of consecutive weeks with a code of group ``group``; its length
    is counted over the whole register (also before the index week and after the window), so a
    spell that begins before the index week counts when it reaches into the window. Spells cut
    by the register's first or last week are counted with their observed length.

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> cols = {f"y_21{w:02d}": [890 if 2 <= w <= 30 else None] for w in range(1, 41)}
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a"], **cols}))
    >>> parts = pd.DataFrame({"index_week": ["2021-W05"]}, index=pd.Index(["a"], name="person"))
    >>> long_sickness_spells(panel, parts, window=(1, 10)).iloc[0].tolist()
    [1.0, 1.0, 29.0]
    """
    lo, hi = _window(window)
    persons, rows, cols = _index(panel, participants, index_week)
    lut = panel.codes.lut("groups", [group])
    count, longest = K.runs_overlapping(panel.matrix, rows, cols + lo, cols + hi, lut, int(longer_than) + 1)
    return pd.DataFrame({"count": count.astype(float), "any": (count > 0).astype(float), "longest": longest.astype(float)},
                        index=persons)


def status_share_series(panel: Panel, participants: pd.DataFrame, status: str | Sequence[str] = "self_support",
                        weeks: Sequence[int] = (1, 52), by: str | None = "group", *,
                        index_week: str = "index_week") -> pd.DataFrame:
    """Weekly share of persons in a status, by group, in event time since the index week.

    Parameters
    ----------
    status : str or list of str
        ``self_support``, ``public_support``, ``education`` or benefit-group ids.
    weeks : (int, int)
        Event-time weeks to cover.
    by : str or None
        Participant column defining the groups (None: all together).

    Returns
    -------
    Long DataFrame ``[by,] week, n, n_status, share``: ``n`` persons observed (not censored)
    in that week, ``n_status`` of them in the status, ``share = n_status / n``.

    Notes
    -----
    :math:`\\hat p_g(k) = \\sum_{i \\in g} 1[\\text{status}_{i,t_{0i}+k}] / \\sum_{i\\in g} 1[\\text{week } t_{0i}+k \\text{ observed}]`.
    The counts are returned so small cells can be suppressed when the bundle is written.

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a", "b", "c"], "y_2101": [890, 890, 890],
    ...                                           "y_2102": [None, 890, None]}))
    >>> parts = pd.DataFrame({"index_week": ["2021-W01"] * 3, "group": ["I", "I", "K"]},
    ...                      index=pd.Index(["a", "b", "c"], name="person"))
    >>> status_share_series(panel, parts, weeks=(1, 1))["share"].tolist()
    [0.5, 1.0]
    """
    lo, hi = _window(weeks, "weeks")
    persons, rows, cols = _index(panel, participants, index_week)
    statuses = [status] if isinstance(status, str) else list(status)
    lut = np.zeros(panel.codes.n_categories, dtype=np.uint8)
    for s in statuses:
        if s in ("self_support", "public_support", "education"):
            lut |= panel.codes.lut(s)
        else:
            lut |= panel.codes.lut("groups", [s])
    cens = panel.codes.lut("censored")
    if by is None:
        labels, codes = np.array(["all"], dtype=object), np.zeros(len(persons), dtype=np.int64)
    else:
        if by not in participants.columns:
            raise DataValidationError(f"participants: no column {by!r}")
        codes, labels = pd.factorize(participants[by], sort=True)
        if (codes < 0).any():
            raise DataValidationError(f"participants: column {by!r} is empty for {int((codes < 0).sum())} person(s)")
    width = hi - lo + 1
    in_status, censored = K.column_sums_by_label(panel.matrix, rows, cols + lo, width, [lut, cens], codes,
                                                 len(labels), panel.codes.outside)
    n_in = np.bincount(codes, minlength=len(labels))
    frames = []
    for g, lab in enumerate(labels):
        n = n_in[g] - censored[g]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(n > 0, in_status[g] / np.maximum(n, 1), np.nan)
        f = pd.DataFrame({"week": np.arange(lo, hi + 1), "n": n, "n_status": in_status[g], "share": share})
        if by is not None:
            f.insert(0, by, lab)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- registry adapters
_CACHE: dict[tuple, tuple[Any, Any, Panel]] = {}


def _panel_from_sources(sources: Mapping[str, pd.DataFrame], register: str, participants: str, codes,
                        absent_persons: str) -> tuple[Panel, pd.DataFrame]:
    for name in (register, participants):
        if name not in sources:
            raise DataValidationError(f"no data source named {name!r}; sources: {', '.join(sources)}")
    reg, parts = sources[register], sources[participants]
    if isinstance(reg, Panel):
        return reg, parts
    ckey = (id(reg), id(parts), repr(codes), absent_persons)
    hit = _CACHE.get(ckey)
    if hit is not None and hit[0]() is reg and hit[1]() is parts:
        return hit[2], parts
    panel = register_from_frame(reg, codes=codes,
                                participants=parts, absent_persons=absent_persons, pseudonymise=False,
                                file=f"data source {register!r}")
    if len(_CACHE) > 8:
        _CACHE.clear()
    try:
        _CACHE[ckey] = (weakref.ref(reg), weakref.ref(parts), panel)
    except TypeError:
        pass
    return panel, parts


def _src_doc(register="register", participants="participants", **_: Any) -> str:
    return f"Opgjort på ugedata fra registret «{register}» (DREAM-ydelseskoder) relativt til hver deltagers indeksuge i «{participants}»."


def _types_da(benefit_types) -> str:
    if not benefit_types:
        return "offentlig forsørgelse (alle offentlige forsørgelsesydelser; SU tæller ikke med)"
    return "ydelserne " + ", ".join(benefit_types)


def _def_dependency(window=(1, 52), benefit_types=None, **kw: Any) -> str:
    lo, hi = window
    return (f"Andel af ugerne {lo} til {hi} efter indeksugen, hvor personen modtog {_types_da(benefit_types)}. "
            "Uger hvor personen er udvandret, død eller uden for registrets periode tæller ikke med i nævneren. "
            + _src_doc(**kw))


@register_metric("benefit_dependency", _def_dependency, outcome_type="continuous",
                 label_da="Registerdata: andel af ugerne på offentlig forsørgelse")
def _m_benefit_dependency(sources, window=(1, 52), benefit_types=None, register="register", participants="participants",
                          index_week="index_week", codes=None, absent_persons="error") -> pd.Series:
    """Registered :func:`benefit_dependency` (share of weeks on public support in ``window``)."""
    panel, parts = _panel_from_sources(sources, register, participants, codes, absent_persons)
    return benefit_dependency(panel, parts, tuple(window), benefit_types, index_week=index_week)


def _def_ssw(week=52, **kw: Any) -> str:
    return (f"Selvforsørgende (ingen ydelseskode) i uge {week} efter indeksugen (1 = ja, 0 = nej); mangler hvis personen "
            "er udvandret, død eller uden for registrets periode den uge. " + _src_doc(**kw))


@register_metric("self_support_week", _def_ssw, outcome_type="binary",
                 label_da="Registerdata: selvforsørgende i en bestemt uge")
def _m_self_support_week(sources, week=52, register="register", participants="participants", index_week="index_week",
                         codes=None, absent_persons="error") -> pd.Series:
    """Registered :func:`self_support_week`."""
    panel, parts = _panel_from_sources(sources, register, participants, codes, absent_persons)
    return self_support_week(panel, parts, int(week), index_week=index_week)


def _def_status(month=12, status=None, span=1, **kw: Any) -> str:
    w = month_to_week(month)
    base = (f"Status {month} måneder efter indeksugen (uge {w}, 4,33 uger pr. måned)"
            + (f" ud fra de seneste {span} uger" if span > 1 else "")
            + "; én status pr. person efter ydelseshierarkiet, selvforsørgelse som restkategori.")
    if status:
        base += f" Udfaldet er 1 hvis status er «{status}», ellers 0."
    return base + " " + _src_doc(**kw)


@register_metric("status_at_month", _def_status, outcome_type="auto",
                 label_da="Registerdata: status et antal måneder efter start")
def _m_status_at_month(sources, month=12, status=None, span=1, register="register", participants="participants",
                       index_week="index_week", codes=None, absent_persons="error") -> pd.Series:
    """Registered :func:`status_at_month` for one month; with ``status`` a 1/0 indicator (NaN if censored)."""
    panel, parts = _panel_from_sources(sources, register, participants, codes, absent_persons)
    col = status_at_month(panel, parts, (month,), int(span), index_week=index_week).iloc[:, 0]
    if status is None:
        return col.astype(object).rename(f"status_{month:g}m")
    valid = ["self_support", *[g.id for g in panel.codes.groups if g.category != "censoring"]]
    if status not in valid:
        raise StudyConfigError(f"status_at_month: unknown status {status!r}; choose one of {valid}")
    v = (col.astype(object) == status).astype(float)
    v[col.astype(object) == "censored"] = np.nan
    return v.rename(f"status_{month:g}m_{status}")


def _def_spell(min_weeks=4, window=(1, 52), **kw: Any) -> str:
    lo, hi = window
    return (f"Mindst {min_weeks} sammenhængende uger som selvforsørgende inden for uge {lo}–{hi} efter indeksugen "
            "(1 = ja, 0 = nej); uger efter udvandring/død eller registrets slut indgår ikke. " + _src_doc(**kw))


@register_metric("self_support_spell", _def_spell, outcome_type="binary",
                 label_da="Registerdata: sammenhængende uger som selvforsørgende")
def _m_self_support_spell(sources, min_weeks=4, window=(1, 52), register="register", participants="participants",
                          index_week="index_week", codes=None, absent_persons="error") -> pd.Series:
    """Registered :func:`self_support_spell` (the 1/0 column)."""
    panel, parts = _panel_from_sources(sources, register, participants, codes, absent_persons)
    return self_support_spell(panel, parts, int(min_weeks), tuple(window), index_week=index_week)["spell"].rename(
        f"self_support_spell_{min_weeks}")


def _def_wts(min_weeks=1, start=1, horizon=None, **kw: Any) -> str:
    h = f" til uge {horizon}" if horizon else ""
    return (f"Antal uger fra indeksugen til første periode med mindst {min_weeks} sammenhængende selvforsørgende uger "
            f"(opfølgning fra uge {start}{h}); personer uden en sådan periode censureres ved sidste observerede uge. "
            + _src_doc(**kw))


@register_metric("weeks_to_self_support", _def_wts, outcome_type="continuous",
                 label_da="Registerdata: uger til selvforsørgelse")
def _m_weeks_to_self_support(sources, min_weeks=1, start=1, horizon=None, register="register",
                             participants="participants", index_week="index_week", codes=None,
                             absent_persons="error") -> pd.Series:
    """Registered :func:`weeks_to_self_support` (the ``weeks`` column; see ``self_support_event``)."""
    panel, parts = _panel_from_sources(sources, register, participants, codes, absent_persons)
    return weeks_to_self_support(panel, parts, int(min_weeks), int(start), horizon, index_week=index_week)["weeks"].astype(
        float).rename("weeks_to_self_support")


def _def_event(min_weeks=1, start=1, horizon=None, **kw: Any) -> str:
    return (f"1 hvis en periode med mindst {min_weeks} sammenhængende selvforsørgende uger observeres i opfølgningen, "
            "0 hvis personen censureres først (hændelsesindikator til «weeks_to_self_support»). " + _src_doc(**kw))


@register_metric("self_support_event", _def_event, outcome_type="binary",
                 label_da="Registerdata: om personen blev selvforsørgende")
def _m_self_support_event(sources, min_weeks=1, start=1, horizon=None, register="register",
                          participants="participants", index_week="index_week", codes=None,
                          absent_persons="error") -> pd.Series:
    """Registered event indicator of :func:`weeks_to_self_support`."""
    panel, parts = _panel_from_sources(sources, register, participants, codes, absent_persons)
    return weeks_to_self_support(panel, parts, int(min_weeks), int(start), horizon, index_week=index_week)["event"].astype(
        float).rename("self_support_event")


def _def_ltu(week=0, **kw: Any) -> str:
    return (f"Langtidsledig i uge {week} i forhold til indeksugen efter STARs definition: ledig i mindst 80 % af de "
            "seneste 52 uger og i den seneste uge (1 = ja, 0 = nej). " + _src_doc(**kw))


@register_metric("long_term_unemployed", _def_ltu, outcome_type="binary",
                 label_da="Registerdata: langtidsledighed")
def _m_long_term_unemployed(sources, week=0, register="register", participants="participants",
                            index_week="index_week", codes=None, absent_persons="error") -> pd.Series:
    """Registered :func:`long_term_unemployed`."""
    panel, parts = _panel_from_sources(sources, register, participants, codes, absent_persons)
    return long_term_unemployed(panel, parts, int(week), index_week=index_week)


def _def_ltu_share(window=(1, 52), **kw: Any) -> str:
    lo, hi = window
    return (f"Andel af ugerne {lo}–{hi} efter indeksugen som langtidsledig (STAR: ledig i mindst 80 % af de seneste "
            "52 uger og i den seneste uge). " + _src_doc(**kw))


@register_metric("long_term_unemployment_share", _def_ltu_share, outcome_type="continuous",
                 label_da="Registerdata: andel af ugerne som langtidsledig")
def _m_ltu_share(sources, window=(1, 52), register="register", participants="participants",
                 index_week="index_week", codes=None, absent_persons="error") -> pd.Series:
    """Registered :func:`long_term_unemployment_share`."""
    panel, parts = _panel_from_sources(sources, register, participants, codes, absent_persons)
    return long_term_unemployment_share(panel, parts, tuple(window), index_week=index_week)


def _def_ftp(period=("", ""), benefit_types=None, **kw: Any) -> str:
    return (f"Fuldtidsperson-bidrag i perioden {period[0]}–{period[1]}: uger med {_types_da(benefit_types)} divideret "
            "med antal uger i perioden (jobindsats' nøgletal; summen over personer er antal fuldtidspersoner). "
            + _src_doc(**kw))


@register_metric("full_time_persons", _def_ftp, outcome_type="continuous",
                 label_da="Registerdata: fuldtidspersoner på offentlig forsørgelse")
def _m_full_time_persons(sources, period, benefit_types=None, register="register", participants="participants",
                         codes=None, absent_persons="error") -> pd.Series:
    """Registered :func:`full_time_persons` (per-person contribution, summed over ``benefit_types``)."""
    panel, parts = _panel_from_sources(sources, register, participants, codes, absent_persons)
    f = full_time_persons(panel, tuple(period), parts, benefit_types)
    col = f["public_support"] if benefit_types is None else f[list(benefit_types)].sum(axis=1)
    return col.rename("full_time_persons")


def _def_sick(window=(1, 52), longer_than=26, **kw: Any) -> str:
    lo, hi = window
    return (f"1 hvis personen har et sammenhængende sygedagpengeforløb på mere end {longer_than} uger, der helt eller "
            f"delvist ligger i uge {lo}–{hi} efter indeksugen; ellers 0. " + _src_doc(**kw))


@register_metric("long_sickness_spell", _def_sick, outcome_type="binary",
                 label_da="Registerdata: sygedagpengeforløb over en given længde")
def _m_long_sickness(sources, window=(1, 52), longer_than=26, register="register", participants="participants",
                     index_week="index_week", codes=None, absent_persons="error") -> pd.Series:
    """Registered :func:`long_sickness_spells` (the ``any`` column)."""
    panel, parts = _panel_from_sources(sources, register, participants, codes, absent_persons)
    return long_sickness_spells(panel, parts, tuple(window), int(longer_than), index_week=index_week)["any"].rename(
        "long_sickness_spell")


# --------------------------------------------------------------------------- blocks: streaming and distributed
def _subset(participants, persons: pd.Index):
    return participants[participants.index.isin(persons)]


def _collect(results: list, participants, what: str):
    if not results:
        raise DataValidationError(f"{what}: no register block held any participant")
    out = pd.concat(results)
    missing = participants.index.difference(out.index)
    if len(missing):
        raise DataValidationError(
            f"{what}: {len(missing)} participant(s) have no rows in the register (e.g. {', '.join(map(str, missing[:5]))})"
        )
    return out.reindex(participants.index)


def compute_streaming(metric, blocks, participants, **params):
    """Apply a per-person metric block by block (e.g. to :func:`~evaluation.data.registers.iter_panel_blocks`).

    Every per-person metric depends only on the person's own row, so applying it to
    person blocks and concatenating gives exactly the in-memory answer while only one block is
    held at a time.

    Parameters
    ----------
    metric : callable
        ``metric(panel, participants, **params)``, e.g. :func:`benefit_dependency`.
    blocks : iterable of Panel
        Blocks with disjoint persons.
    participants : DataFrame
        All participants (each must occur in exactly one block).

    Returns
    -------
    Series or DataFrame in the participants' order.

    Examples
    --------
    >>> from evaluation.synthetic.registers import simulate_registers
    >>> sim = simulate_registers(300, potential_outcomes=False, seed=3)
    >>> blocks = (sim.panel.take(np.arange(a, min(a + 100, 300))) for a in range(0, 300, 100))
    >>> s = compute_streaming(benefit_dependency, blocks, sim.participants, window=(1, 52))
    >>> bool(np.allclose(s, benefit_dependency(sim.panel, sim.participants, window=(1, 52)), equal_nan=True))
    True
    """
    results = []
    index = participants.index
    unique = index.is_unique
    # per-person values are written into one preallocated float array by position, so memory does not
    # grow with a list of person-indexed Series (their string indexes cost more than the values)
    values: np.ndarray | None = None
    filled: np.ndarray | None = None
    name = None
    for block in blocks:
        if unique:
            # positions via the participants' hash table (built once, reused for every block): a
            # per-block boolean mask over all participants would cost O(all participants) per block
            pos = index.get_indexer(block.persons)
            keep = np.sort(pos[pos >= 0])
            sub = participants.iloc[keep]
        else:  # let the metric report the duplicated persons
            sub = _subset(participants, block.persons)
        if not len(sub):
            continue
        res = metric(block, sub, **params)
        if unique and isinstance(res, pd.Series) and not results:
            if values is None:
                values = np.full(len(index), np.nan)
                filled = np.zeros(len(index), dtype=bool)
                name = res.name
            at = index.get_indexer(res.index)
            values[at] = res.to_numpy(dtype=float)
            filled[at] = True
        else:
            if values is not None:  # mixed output types: fall back to the list path for everything
                results.append(pd.Series(values[filled], index=index[filled], name=name))
                values = None
            results.append(res)
    if values is not None:
        if not filled.all():
            missing = index[~filled]
            raise DataValidationError(
                f"streaming: {len(missing)} participant(s) have no rows in the register (e.g. {', '.join(map(str, missing[:5]))})"
            )
        return pd.Series(values, index=index, name=name)
    return _collect(results, participants, "streaming")


# --------------------------------------------------------------------------- Dask
# Register partitions live on the workers: read there from person-partitioned Parquet files (or
# scattered once, directly to a worker, from an in-memory panel) and kept in worker memory for the
# study, like the panel in process. The participants go to every worker once; each metric call
# then sends only the metric name and parameters and gets back per-person values and positions.

#: resident partitions and participants per (client, source): reused by every metric of a study
_DASK_RESIDENT: dict[tuple, Any] = {}
#: on the client: (partition key, participants key) -> the participants' positions in that partition
_DASK_POSITIONS: dict[tuple[str, str], np.ndarray] = {}
#: on a worker: (partition, participants) -> the participants' positions and rows in that partition
_WORKER_POSITIONS: dict[tuple[int, int], tuple[Any, Any, np.ndarray, Any]] = {}


def partition_register(panel: Panel, directory: str | os.PathLike, n_partitions: int) -> list[Path]:
    """Write ``panel`` as ``n_partitions`` person-partitioned wide Parquet files (contiguous person
    blocks, ``part-00000.parquet`` …), the layout :func:`compute_on_dask` reads on the workers.

    Examples
    --------
    >>> import tempfile
    >>> from evaluation.synthetic.registers import simulate_registers
    >>> sim = simulate_registers(50, potential_outcomes=False, seed=1)
    >>> [f.name for f in partition_register(sim.panel, tempfile.mkdtemp(), 2)]
    ['part-00000.parquet', 'part-00001.parquet']
    """
    from evaluation.data.registers import write_register

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, len(panel), int(n_partitions) + 1).astype(int)
    files = []
    for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        files.append(write_register(panel.take(np.arange(a, b)), d / f"part-{k:05d}.parquet", "wide",
                                    row_group_size=max(b - a, 1)))
    return files


def _wide_arrow_matrix(table, cl, wcols: list[str], order: np.ndarray) -> np.ndarray | None:
    """Category matrix of a wide Arrow table's integer week columns, read from the Arrow buffers (the
    validity bitmap marks blank weeks) through one lookup table per column; None when a column is not
    a plain integer column or holds a code outside the code list (the general reader then names it)."""
    import pyarrow as pa

    if cl.dtype != np.uint8:
        return None
    lut = cl.code_lut()  # lut[code + 1]; lut[0] = blank; -1 = unknown
    n = table.num_rows
    mat_t = np.empty((len(wcols), n), dtype=np.uint8)  # one contiguous row per week, transposed at the end
    for j, p in enumerate(order):
        col = table.column(wcols[p])
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        if not pa.types.is_integer(col.type) or col.type.bit_width > 32:
            return None
        bufs = col.buffers()
        data = np.frombuffer(bufs[1], dtype=col.type.to_pandas_dtype(), count=col.offset + n)[col.offset:]
        idx = data.astype(np.int64) + 1
        if col.null_count:
            idx *= np.unpackbits(np.frombuffer(bufs[0], np.uint8), count=col.offset + n, bitorder="little")[col.offset:]
        if n and (idx.min() < 0 or idx.max() >= len(lut)):
            return None
        cat = lut[idx]
        if n and cat.min() < 0:
            return None
        mat_t[j] = cat
    return np.ascontiguousarray(mat_t.T)


def _read_partition(path: str, row_groups: list[int] | None, reader: dict) -> Panel:
    """On a worker: one person partition of a wide Parquet register as a Panel. Integer week columns
    are mapped to category indices straight from the Arrow buffers; anything else (or an unknown
    code, for its error message) goes through the package's general readers."""
    import pyarrow.parquet as pq

    from evaluation.data.registers import RegisterLayout
    from evaluation.data.registers.codes import _resolve_codes
    from evaluation.data.registers.stream import _panel_from_arrow
    from evaluation.data.registers.values import _check_blank_ids, _check_unique_persons, _ids_to_text, _maybe_pseudonymise
    from evaluation.data.weeks import WeekRange, is_dream_column

    f = pq.ParquetFile(path)
    table = f.read() if row_groups is None else f.read_row_groups(row_groups)
    where = path if row_groups is None else f"{path} (row groups {row_groups[0]}–{row_groups[-1]})"
    person = reader.get("person_column", "person")
    cl = _resolve_codes(reader.get("codes"))
    wcols = [c for c in table.schema.names if is_dream_column(c)]
    if person in table.schema.names and wcols:
        ords = parse_weeks(np.asarray(wcols, dtype=object), file=where, column="<week column names>")
        order = np.argsort(ords)
        if len(np.unique(ords)) == len(ords) and ords[order[-1]] - ords[order[0]] + 1 == len(ords):
            mat = _wide_arrow_matrix(table, cl, wcols, order)
            if mat is not None:
                rows = list(range(table.num_rows))
                raw = _ids_to_text(table.column(person).to_numpy(zero_copy_only=False))
                _check_blank_ids(raw, where, person, rows)
                _check_unique_persons(raw, where, rows, person)
                notes: list[str] = []
                ids = _maybe_pseudonymise(raw, reader.get("pseudonymise", "auto"), reader.get("key"), notes, where)
                return Panel(mat, ids.to_numpy(dtype=object), WeekRange(int(ords[order[0]]), len(ords)), cl, notes)
    panel = _panel_from_arrow(table, RegisterLayout("wide", person_column=person), cl, where, 0, reader.get("key"),
                              reader.get("pseudonymise", "auto"))
    if panel is None:
        panel = register_from_frame(table.to_pandas(), "wide", file=where, **reader)
    return panel


def _partition_size(panel: Panel) -> int:
    return len(panel)


def _apply_partition(metric, panel: Panel, participants, params: dict, need_positions: bool = True):
    """On a worker: the metric for the participants in this partition. Returns their positions in
    the participants table (only when the client does not have them yet) and the values -- no ids,
    no register data."""
    key = (id(panel), id(participants))
    hit = _WORKER_POSITIONS.get(key)
    if hit is not None and hit[0]() is panel and hit[1]() is participants:
        pos, sub = hit[2], hit[3]
    else:
        at = participants.index.get_indexer(panel.persons)
        pos = np.sort(at[at >= 0])
        sub = participants.iloc[pos]
        if len(_WORKER_POSITIONS) > 64:
            _WORKER_POSITIONS.clear()
        _WORKER_POSITIONS[key] = (weakref.ref(panel), weakref.ref(participants), pos, sub)
    if not len(pos):
        return pos, None
    res = metric(panel, sub, **params)
    res = (res.name, res.to_numpy()) if isinstance(res, pd.Series) else res.reset_index(drop=True)
    return (pos if need_positions else None), res


def _apply_partitions(metric, panels: list, participants, params: dict, need_positions: list):
    """On a worker: :func:`_apply_partition` for every partition it holds, in one task."""
    return [_apply_partition(metric, p, participants, params, need) for p, need in zip(panels, need_positions)]


def _resident(client, source, make):
    """Futures of ``source`` kept on the workers for as long as ``source`` (a panel or participants
    object, or a key of partition files) is alive and :func:`dask_release` has not been called;
    ``make()`` creates them on first use."""
    key = (id(client), source if isinstance(source, tuple) else id(source))
    hit = _DASK_RESIDENT.get(key)
    if hit is not None and hit[0]() is client and (hit[1] is None or hit[1]() is source):
        return hit[2]
    futures = make()
    ref = None if isinstance(source, tuple) else weakref.ref(source)
    _DASK_RESIDENT[key] = (weakref.ref(client), ref, futures)
    if ref is not None:
        weakref.finalize(source, _DASK_RESIDENT.pop, key, None)
    return futures


def dask_release(client=None) -> int:
    """Drop the register partitions and participants :func:`compute_on_dask` keeps on the workers
    (of ``client``, or of every client); returns how many were released."""
    keys = [k for k, v in _DASK_RESIDENT.items() if client is None or v[0]() is client]
    for k in keys:
        _DASK_RESIDENT.pop(k, None)
    _DASK_POSITIONS.clear()
    return len(keys)


def compute_on_dask(metric, client, participants, *, panel: Panel | None = None, path: str | os.PathLike | None = None,
                    n_partitions: int | None = None, reader: Mapping[str, Any] | None = None, **params):
    """Run a per-person metric person-partitioned on a Dask cluster; same answer as in-process.

    The register never passes through the scheduler. With ``path`` each worker reads its own
    person partitions: a directory of wide Parquet files, one per partition (e.g. written by
    :func:`partition_register`), or one wide Parquet file whose row groups are person blocks
    (e.g. written by :func:`~evaluation.data.registers.write_register`). With ``panel`` (an in-memory
    panel on the client) the person blocks are scattered straight to the workers. Either way the
    partitions stay in worker memory while the panel (or the client) lives and the path is used,
    so every metric of a study reuses them; the participants table is sent once to each worker.
    A call then ships the metric and its parameters, and each task returns only its participants'
    positions and values. Partitions read from ``path`` stay on the workers until
    :func:`dask_release` (the files' modification times are part of the key, so a rewritten file is
    read again).

    Parameters
    ----------
    metric : callable
        ``metric(panel, participants, **params)`` (module-level, so workers can import it).
    client : dask.distributed.Client
    participants : DataFrame
        Indexed by person (unique).
    panel, path : see above (exactly one)
    n_partitions : int, optional
        For ``panel`` and for a single file: default 2 × the number of workers. A directory has
        one partition per file.
    reader : mapping, optional
        Keyword arguments for :func:`~evaluation.data.registers.register_from_frame` (``codes``,
        ``key``, ``pseudonymise``) when reading ``path``.
    """
    if (panel is None) == (path is None):
        raise StudyConfigError("compute_on_dask needs exactly one of panel= or path=")
    from distributed import wait

    if not participants.index.is_unique:
        dup = participants.index[participants.index.duplicated()].unique()[:5]
        raise DataValidationError(f"participants: person(s) on more than one row: {list(dup)}")
    workers = sorted(client.scheduler_info().get("workers", {}))
    if n_partitions is None:
        n_partitions = max(2 * len(workers), 1)

    def pin(k):  # partition k lives on worker k mod W (a loose restriction: if that worker is lost, another one runs it)
        return {"workers": [workers[k % len(workers)]], "allow_other_workers": True} if workers else {}

    if panel is not None:
        def make():
            bounds = np.linspace(0, len(panel), n_partitions + 1).astype(int)
            out = []
            for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
                if b > a:
                    w = pin(k).get("workers")
                    out.append(client.scatter(panel.take(np.arange(a, b)), direct=True, workers=w, hash=False))
            return out

        parts = _resident(client, panel, make)
    else:
        import pyarrow.parquet as pq

        p = Path(path)
        rd = dict(reader or {})
        if p.is_dir():
            files = sorted(str(f) for f in p.glob("*.parquet"))
            if not files:
                raise DataValidationError(f"{p}: no Parquet partition files")
            tasks = [(f, None) for f in files]
        else:
            n_rg = pq.ParquetFile(str(p)).num_row_groups
            tasks = [(str(p), [int(x) for x in g]) for g in np.array_split(np.arange(n_rg), min(n_partitions, n_rg)) if len(g)]
        stamp = tuple((f, os.stat(f).st_mtime_ns) for f in sorted({t[0] for t in tasks}))
        key = ("path", stamp, repr(sorted(rd.items(), key=lambda kv: kv[0])), len(tasks))

        def make():
            return [client.submit(_read_partition, f, rg, rd, pure=False, **pin(k)) for k, (f, rg) in enumerate(tasks)]

        parts = _resident(client, key, make)
    # one copy of the participants per worker under its own key: a broadcast replica is what Dask's
    # active memory manager removes as redundant, after which a task fetched the table from the other
    # worker (0.2-0.4 s per call at 1M persons). hash=False: fresh keys, so a released earlier scatter
    # of the same frame cannot take these with it.
    shared = _resident(client, participants, lambda: {
        w: client.scatter(participants, workers=[w], direct=True, hash=False) for w in workers})
    anyone = next(iter(shared.values()))
    # run each partition where it is held (strict restriction: the scheduler must not move a
    # partition to an idle worker); a partition not held anywhere (lost) runs wherever dask puts it
    wait(parts)  # first call of a study: the workers finish reading their partitions
    holders = client.who_has(parts)
    info = client.scheduler_info().get("workers", {})
    by_worker: dict[str | None, list[int]] = {}
    for k, part in enumerate(parts):
        held = sorted(holders.get(part.key, ()))
        by_worker.setdefault(held[0] if held else None, []).append(k)
    # as many tasks per worker as it has threads (each over a share of its partitions); the
    # participants' positions in each partition come back once per study
    groups = []
    for w, ks in by_worker.items():
        threads = int(info.get(w, {}).get("nthreads", 1)) if w else len(ks)
        groups += [(w, ks[i::max(threads, 1)]) for i in range(min(max(threads, 1), len(ks)))]
    if len(_DASK_POSITIONS) > 1024:  # bounded: dropped positions are simply asked for again
        _DASK_POSITIONS.clear()
    futures, keys = [], []
    for w, ks in groups:
        sh = shared.get(w, anyone)
        pkeys = [(parts[k].key, sh.key) for k in ks]
        keys.append(pkeys)
        futures.append(client.submit(_apply_partitions, metric, [parts[k] for k in ks], sh, dict(params),
                                     [pk not in _DASK_POSITIONS for pk in pkeys], pure=False,
                                     **({"workers": [w], "allow_other_workers": False} if w else {})))
    results = [None] * len(parts)
    for (w, ks), pkeys, out in zip(groups, keys, client.gather(futures)):
        for k, pk, (pos, res) in zip(ks, pkeys, out):
            if pos is None:
                pos = _DASK_POSITIONS[pk]
            else:
                _DASK_POSITIONS[pk] = pos
            results[k] = (pos, res)
    n = len(participants)
    seen = np.zeros(n, dtype=bool)
    values = None
    frames, positions = [], []
    for pos, res in results:
        if res is None:
            continue
        seen[pos] = True
        if isinstance(res, tuple):
            name, vals = res
            if values is None:
                values = np.empty(n, dtype=vals.dtype)
            values[pos] = vals
        else:
            frames.append(res)
            positions.append(pos)
    if not seen.all():
        missing = participants.index[~seen]
        raise DataValidationError(
            f"dask: {len(missing)} participant(s) have no rows in the register (e.g. {', '.join(map(str, missing[:5]))})"
        )
    persons = pd.Index(participants.index, name="person")
    if frames:
        out = pd.concat(frames, ignore_index=True)
        order = np.argsort(np.concatenate(positions), kind="stable")
        out = out.iloc[order]
        out.index = persons
        return out
    return pd.Series(values, index=persons, name=name)
