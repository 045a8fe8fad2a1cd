"""Duration and accumulated register outcomes, computed on the dense person × week code matrix.

* :func:`exit_times` — weeks from the index week to the first exit from public support, by cause
  (first spell of self-support, or a week in one of the declared benefit groups, e.g. fleksjob or
  førtidspension, or in education), with censoring: one pass of the run kernel per cause over the
  follow-up window, never a long frame.
* :func:`weekly_values` — a person × week matrix of a value per week in event time (1 on public
  support, or the week's benefit in kroner by benefit type and calendar year), for cumulative
  effects and the business case.
* :func:`period_values` — the same values summed over calendar periods of the register, for
  difference-in-differences designs.
* :func:`cumulative_moments` — per group and week, the sums of the accumulated value and of its
  square over persons (the cumulative effect of a comparison of means and its variance for any
  number of persons, in person blocks).

Conventions are those of :mod:`evaluation.metrics.benefits` (index week = week 0; the codes of
censoring groups — emigrated, dead, out of the population — and weeks outside the register end a
person's follow-up in :func:`exit_times`). In :func:`weekly_values` a week after death or
emigration carries the value of its group (0: no benefit is paid), and only weeks outside the
register are missing, so "weeks on public support over three years" counts what the public paid for.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, StudyConfigError
from evaluation.data.registers import Panel
from evaluation.data.weeks import ordinal_to_iso
from . import _kernels as K
from .benefits import _index, _window

__all__ = ["DEFAULT_CAUSES", "CAUSE_LABELS_DA", "exit_times", "cause_lut", "weekly_values", "period_values",
           "column_years", "cumulative_moments"]

#: the competing exits of "leaving public support" used when a study declares ``competing: true``
DEFAULT_CAUSES: dict[str, str | list[str]] = {
    "self_support": "self_support",
    "fleksjob_foertidspension": ["fleksjob", "foertidspension"],
    "education": "education",
}
CAUSE_LABELS_DA = {
    "self_support": "Selvforsørgelse",
    "fleksjob_foertidspension": "Fleksjob eller førtidspension",
    "education": "Uddannelse (SU)",
}


def cause_lut(panel: Panel, spec: str | Sequence[str]) -> np.ndarray:
    """0/1 lookup table over category indices for a cause: ``self_support``, ``education`` or group ids."""
    if isinstance(spec, str) and spec in ("self_support", "education"):
        return panel.codes.lut(spec)
    groups = [spec] if isinstance(spec, str) else list(spec)
    if not groups:
        raise StudyConfigError("a competing cause needs at least one benefit group")
    for g in groups:
        grp = panel.codes.group(g)
        if grp.category == "censoring":
            raise StudyConfigError(f"competing cause: {g!r} is a censoring group (emigration, death), not an exit")
    return panel.codes.lut("groups", groups)


def exit_times(panel: Panel, participants, *, horizon: int, start: int = 1, min_weeks: int = 1,
               causes: Mapping[str, str | Sequence[str]] | None = None, index_week: str = "index_week") -> pd.DataFrame:
    """Weeks to the first exit from public support within ``start .. horizon``, and its cause.

    Parameters
    ----------
    horizon : int
        Last week of follow-up (relative to the index week).
    start : int, default 1
        First week of follow-up.
    min_weeks : int, default 1
        Self-support counts from the first week of a spell of at least this many consecutive
        self-supporting weeks (1 = the first week without a code); other causes count from their
        first week.
    causes : mapping, optional
        Ordered causes, name → ``"self_support"``, ``"education"`` or a list of benefit-group ids.
        Default: self-support only (time to first self-support). When two causes start in the
        same week the one declared first wins.

    Returns
    -------
    DataFrame indexed by person with ``weeks`` (the week of the exit, or the last observed week
    when censored: the week before the first censored week, or ``horizon``), ``event`` (0 =
    censored, k = the k-th cause) and ``cause`` (its name, "" when censored).

    Notes
    -----
    One pass of :func:`~evaluation.metrics._kernels.first_run` per cause over the follow-up
    window of every person; the censoring position is shared. A person never observed after the
    index week gets ``weeks = start - 1`` and ``event = 0``.

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a", "b", "c"], "y_2101": [730, 730, 730],
    ...     "y_2102": [None, 783, 730], "y_2103": [None, 783, 997]}))
    >>> parts = pd.DataFrame({"index_week": ["2021-W01"] * 3}, index=pd.Index(["a", "b", "c"], name="person"))
    >>> exit_times(panel, parts, horizon=2, causes={"self_support": "self_support", "pension": ["foertidspension"]}).values.tolist()
    [[1, 1, 'self_support'], [1, 2, 'pension'], [1, 0, '']]
    """
    start, horizon = int(start), int(horizon)
    if horizon < start:
        raise StudyConfigError(f"horizon ({horizon}) is before the first week of follow-up ({start})")
    causes = dict(causes or {"self_support": "self_support"})
    persons, rows, cols = _index(panel, participants, index_week)
    width = horizon - start + 1
    cens = panel.codes.lut("censored")
    n = len(persons)
    names = np.array(["", *causes.keys()], dtype=object)
    if int(min_weeks) == 1 and len(causes) < 255:
        # every cause counts from its first week: one lookup table marks each category with its cause (the first
        # declared wins) or as censored, and the first marked week of each window is the exit or the censoring
        comb = np.zeros(panel.codes.n_categories, dtype=np.uint8)
        comb[cens.astype(bool)] = 255
        for k, spec in reversed(list(enumerate(causes.values(), start=1))):
            comb[cause_lut(panel, spec).astype(bool) & (comb != 255)] = k
        weeks = np.empty(n, dtype=np.int64)
        event = np.zeros(n, dtype=np.int64)
        for a, b in K._blocks(n, None, 3 * width):
            W = K.gather_window(panel.matrix, rows[a:b], cols[a:b] + start, width, panel.codes.outside)
            X = np.take(comb, W)
            first = (X != 0).argmax(axis=1)
            hit = X[np.arange(b - a), first]
            ev = (hit != 0) & (hit != 255)
            event[a:b] = np.where(ev, hit, 0)
            # censored in week `first` (or never marked: observed to the horizon)
            weeks[a:b] = np.where(ev, first + start, np.where(hit == 255, first + start - 1, horizon))
        return pd.DataFrame({"weeks": weeks, "event": event, "cause": names[event]}, index=persons)
    best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    event = np.zeros(n, dtype=np.int64)
    observed = None
    for k, (name, spec) in enumerate(causes.items(), start=1):
        w = int(min_weeks) if spec == "self_support" else 1
        found, pos, obs = K.first_run(panel.matrix, rows, cols + start, width, cause_lut(panel, spec), cens, w,
                                      panel.codes.outside)
        observed = obs
        better = found & (pos < best)
        best = np.where(better, pos, best)
        event = np.where(better, k, event)
    assert observed is not None
    weeks = np.where(event > 0, best + start, observed + start - 1).astype(np.int64)
    return pd.DataFrame({"weeks": weeks, "event": event, "cause": names[event]}, index=persons)


def column_years(panel: Panel) -> np.ndarray:
    """ISO year of every register week (column)."""
    return ordinal_to_iso(panel.weeks.ordinals)[0].astype(np.int64)


def _value_table(panel: Panel, values: np.ndarray, years: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        if len(v) != panel.codes.n_categories:
            raise DataValidationError(f"a value table needs one value per category ({panel.codes.n_categories}), got {len(v)}")
        return v, None
    if years is None or v.shape != (panel.codes.n_categories, len(years)):
        raise DataValidationError("a year-dependent value table needs shape (categories, years) and the years")
    return v, np.asarray(years, dtype=np.int64)


def weekly_values(panel: Panel, participants, weeks: Sequence[int], values: np.ndarray, *, years: Sequence[int] | None = None,
                  index_week: str = "index_week", dtype=np.float64) -> tuple[pd.Index, np.ndarray]:
    """Person × week matrix (event time ``weeks[0] .. weeks[1]``) of ``values[category]`` or, for a table
    ``values[category, j]`` by calendar year ``years[j]``, of the value in the week's ISO year.

    Weeks outside the register are NaN; every other week carries its category's value (the censoring
    groups' value is normally 0). A year outside ``years`` takes the nearest year's column (callers that
    price weeks check coverage first, :func:`evaluation.economy` names the years it substituted).

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a"], "y_2101": [730], "y_2102": [None]}))
    >>> parts = pd.DataFrame({"index_week": ["2021-W01"]}, index=pd.Index(["a"], name="person"))
    >>> v = panel.codes.lut("public_support").astype(float)
    >>> weekly_values(panel, parts, (0, 2), v)[1].tolist()
    [[1.0, 0.0, nan]]
    """
    lo, hi = _window(weeks, "weeks")
    persons, rows, cols = _index(panel, participants, index_week)
    table, yrs = _value_table(panel, values, years)
    width = hi - lo + 1
    out = np.empty((len(rows), width), dtype=dtype)
    outside = panel.codes.outside
    T = panel.matrix.shape[1]
    yidx = None
    if yrs is not None:
        col_year = column_years(panel)
        # nearest year for years before the first / after the last
        yidx = np.where(col_year < yrs[0], 0, np.where(col_year > yrs[-1], len(yrs) - 1,
                                                       np.clip(np.searchsorted(yrs, col_year), 0, len(yrs) - 1)))
    for a, b in K._blocks(len(rows), None, 8 * width):
        W = K.gather_window(panel.matrix, rows[a:b], cols[a:b] + lo, width, outside)
        if yidx is None:
            V = table[W]
        else:
            c = cols[a:b, None] + lo + np.arange(width)[None, :]
            V = table[W, yidx[np.clip(c, 0, T - 1)]]
        V = V.astype(dtype, copy=False)
        V[W == outside] = np.nan  # weeks outside the register are missing
        out[a:b] = V
    return persons, out


def period_values(panel: Panel, participants: pd.DataFrame, period_weeks: int, values: np.ndarray, *,
                  years: Sequence[int] | None = None) -> np.ndarray:
    """Person × calendar-period sums of the weekly values (periods of ``period_weeks`` weeks from the
    register's first week, as :func:`~evaluation.metrics.panels.benefit_dependency_by_period`)."""
    persons = pd.Index(participants.index, name="person")
    rows = panel.rows_of(persons).astype(np.intp)
    n_periods = len(panel.weeks) // int(period_weeks)
    table, yrs = _value_table(panel, values, years)
    T = n_periods * int(period_weeks)
    if yrs is not None:
        col_year = column_years(panel)[:T]
        yidx = np.where(col_year < yrs[0], 0, np.where(col_year > yrs[-1], len(yrs) - 1,
                                                       np.clip(np.searchsorted(yrs, col_year), 0, len(yrs) - 1)))
    out = np.empty((len(rows), n_periods))
    for a, b in K._blocks(len(rows), None, 8 * T):
        M = panel.matrix[rows[a:b], :T]
        V = table[M] if yrs is None else table[M, yidx[None, :]]
        out[a:b] = V.reshape(b - a, n_periods, int(period_weeks)).sum(axis=2)
    return out


def cumulative_moments(panel: Panel, participants, weeks: Sequence[int], lut: np.ndarray, labels: np.ndarray,
                       n_labels: int, *, index_week: str = "index_week", block: int = 4096, step: int = 1) -> dict[str, np.ndarray]:
    """Per label and event week k, over persons observed through k: the number of persons, the sum of the
    accumulated count ``C_ik`` of weeks whose category ``lut`` marks (weeks ``weeks[0] .. k``) and the sum
    of ``C_ik²`` — what a difference in means of accumulated weeks and its variance need, for any number
    of persons, without a long frame or a person × week float matrix.

    Returns ``{"weeks": (K,), "n": (L, K), "sum": (L, K), "sumsq": (L, K)}`` (int64 sums). A person counts at
    week k only while the window up to k lies inside the register (weeks after death or emigration count as
    weeks without the value). Per block of persons: one gather of the windows, one membership test, a
    cumulative sum in int16 and its square in int16 (``C² ≤ 181²`` fits) or int32, column sums in int64.
    With ``step`` 4 or 8 (the window a multiple of it) the moments are taken every ``step`` weeks: the
    membership bytes of ``step`` consecutive weeks are added in one 32- or 64-bit word (SWAR) before the
    cumulative sum, which then runs over a quarter or an eighth of the columns.

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> panel = register_from_frame(pd.DataFrame({"person": ["a", "b"], "y_2101": [730, 730], "y_2102": [730, None],
    ...                                           "y_2103": [730, 730]}))
    >>> parts = pd.DataFrame({"index_week": ["2021-W01", "2021-W01"]}, index=pd.Index(["a", "b"], name="person"))
    >>> m = cumulative_moments(panel, parts, (1, 2), panel.codes.lut("public_support"), np.array([0, 0]), 1)
    >>> m["sum"].tolist(), m["sumsq"].tolist()
    ([[1, 3]], [[1, 5]])
    """
    lo, hi = _window(weeks, "weeks")
    persons, rows, cols = _index(panel, participants, index_week)
    width = hi - lo + 1
    step = int(step)
    if step not in (1, 4, 8) or width % step:
        raise StudyConfigError(f"step must be 1, 4 or 8 and divide the window ({width} weeks), got {step}")
    labels = np.asarray(labels, dtype=np.int64)
    L = int(n_labels)
    K_out = width // step
    n_out = np.zeros((L, K_out), dtype=np.int64)
    s1 = np.zeros((L, K_out), dtype=np.int64)
    s2 = np.zeros((L, K_out), dtype=np.int64)
    word = {4: (np.uint32, np.uint32(0x01010101), np.uint32(24)), 8: (np.uint64, np.uint64(0x0101010101010101), np.uint64(56))}
    outside = panel.codes.outside
    T = panel.matrix.shape[1]
    lut8 = np.asarray(lut, dtype=np.uint8)
    rng_ = K._ranges(lut8)
    ctype = np.int16 if width < 32_000 else np.int32
    sqtype = np.int16 if width <= 181 else np.int64
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(L + 1))
    for g in range(L):
        sel = order[bounds[g]:bounds[g + 1]]
        for a in range(0, len(sel), block):
            r = sel[a:a + block]
            start = cols[r] + lo
            W = K.gather_window(panel.matrix, rows[r], start, width, outside)
            inside_all = start.min() >= 0 and start.max() + width <= T
            if step == 1 and inside_all:
                # Weeks as rows: numpy's cumsum along a short row axis loops row by row (slow); adding row k-1
                # to row k over all persons at once is one vector add per week, ~4x faster including the
                # transpose of the 0/1 bytes.
                XT = np.ascontiguousarray(K._member(W, lut8, rng_).T)
                CT = np.empty(XT.shape, dtype=ctype)
                np.copyto(CT[0], XT[0], casting="unsafe")
                for k in range(1, width):
                    np.add(CT[k - 1], XT[k], out=CT[k], casting="unsafe")
                n_out[g] += len(r)
                # the squares are at most width²; their sum over the block fits int32 when len(r)·width² < 2³¹
                acc = np.int32 if sqtype == np.int16 and len(r) * width * width < 2 ** 31 else np.int64
                s1[g] += CT.sum(axis=1, dtype=np.int64)
                s2[g] += np.square(CT, dtype=sqtype).sum(axis=1, dtype=acc)
                continue
            if step == 1 or not inside_all:
                C = np.cumsum(K._member(W, lut8, rng_), axis=1, dtype=ctype)
                if inside_all:
                    n_out[g] += len(r)
                else:  # windows running past the register: a person counts only while inside it
                    inside = np.cumsum(W == outside, axis=1, dtype=np.int32) == 0
                    C = np.where(inside, C, 0).astype(ctype, copy=False)
                    if step > 1:
                        inside = inside[:, step - 1::step]
                    n_out[g] += inside.sum(axis=0)
                if step > 1:
                    C = C[:, step - 1::step]
            else:
                X = np.take(lut8, W)  # 0/1 bytes, contiguous
                wt, mul, shift = word[step]
                sums = ((X.view(wt) * mul) >> shift).astype(np.uint8)  # the bytes of each word added
                C = np.cumsum(sums, axis=1, dtype=ctype)
                n_out[g] += len(r)
            s1[g] += C.sum(axis=0, dtype=np.int64)
            s2[g] += np.square(C, dtype=sqtype).sum(axis=0, dtype=np.int64)
    return {"weeks": lo - 1 + step * np.arange(1, K_out + 1), "n": n_out, "sum": s1, "sumsq": s2}
