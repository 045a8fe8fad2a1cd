"""Vectorised numpy kernels over person × week category matrices, in person blocks.

Every kernel takes the dense matrix ``M`` (``n_persons × n_weeks``, ``uint8``/``uint16``
category indices, see :class:`evaluation.data.registers.Panel`), row positions and per-row column
positions, plus small lookup tables (``lut[category] → value``), and returns plain arrays.
They never allocate more than a few arrays of ``block × window`` cells at a time, so memory
beyond the input is bounded by the block size, and they are pure functions of their inputs:
the same kernels run in-process, on streamed blocks (:func:`evaluation.data.registers.iter_panel_blocks`)
and on Dask partitions.

A window that runs past the first or last register week is filled with ``fill`` (the
reserved "outside register" category, which the censoring table marks as censored).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "BLOCK",
    "gather_window",
    "window_sums",
    "long_term_unemployment",
    "first_run",
    "max_rank",
    "runs_overlapping",
    "group_counts",
    "column_sums_by_label",
]

#: Default number of persons per block.
BLOCK = 1 << 15


def _blocks(n: int, block: int):
    for b0 in range(0, n, block):
        yield b0, min(n, b0 + block)


def gather_window(M: np.ndarray, rows: np.ndarray, start: np.ndarray, width: int, fill: int) -> np.ndarray:
    """``out[i, k] = M[rows[i], start[i] + k]`` for ``k < width``; ``fill`` outside the matrix.

    Examples
    --------
    >>> M = np.arange(12, dtype=np.uint8).reshape(2, 6)
    >>> gather_window(M, np.array([1, 0]), np.array([4, -1]), 3, 99).tolist()
    [[10, 11, 99], [99, 0, 1]]
    """
    rows = np.asarray(rows, dtype=np.intp)
    start = np.asarray(start, dtype=np.intp)
    n, T = len(rows), M.shape[1]
    out = np.empty((n, width), dtype=M.dtype)
    if width == 0 or n == 0:
        return out
    inr = (start >= 0) & (start + width <= T)
    if inr.all():
        return sliding_window_view(M, width, axis=1)[rows, start]
    if inr.any():
        out[inr] = sliding_window_view(M, width, axis=1)[rows[inr], start[inr]]
    rest = ~inr
    sub = M[rows[rest]]
    pad = np.full((sub.shape[0], T + 2 * width), fill, dtype=M.dtype)
    pad[:, width:width + T] = sub
    s = np.clip(start[rest] + width, 0, T + width)
    out[rest] = sliding_window_view(pad, width, axis=1)[np.arange(sub.shape[0]), s]
    return out


def window_sums(M, rows, start, width, luts, fill, block: int = BLOCK) -> list[np.ndarray]:
    """For each ``lut``: the number of weeks in the window whose category ``lut`` marks (int32)."""
    n = len(rows)
    outs = [np.empty(n, dtype=np.int32) for _ in luts]
    for a, b in _blocks(n, block):
        W = gather_window(M, rows[a:b], start[a:b], width, fill)
        for o, lut in zip(outs, luts):
            o[a:b] = lut[W].sum(axis=1, dtype=np.int32)
    return outs


def long_term_unemployment(M, unemployed_lut, censored_lut, lookback: int = 52, min_weeks: int = 42,
                           block: int = BLOCK) -> np.ndarray:
    """STAR long-term unemployment for every person-week: ``int8`` 1 / 0 / -1 (undefined).

    Week t is 1 when the person is unemployed in t and in at least ``min_weeks`` of the
    ``lookback`` weeks ending with t; -1 when t is censored or fewer than ``lookback`` register
    weeks end with t (the history is incomplete).

    Examples
    --------
    >>> M = np.array([[1, 1, 0, 1, 1]], dtype=np.uint8)
    >>> u = np.array([0, 1, 0], dtype=np.uint8); c = np.array([0, 0, 1], dtype=np.uint8)
    >>> long_term_unemployment(M, u, c, lookback=3, min_weeks=2).tolist()
    [[-1, -1, 0, 1, 1]]
    """
    n, T = M.shape
    out = np.empty((n, T), dtype=np.int8)
    has_censoring = bool(censored_lut[:-1].any())
    for a, b in _blocks(n, block):
        Mb = M[a:b]
        U = unemployed_lut[Mb]
        cs = np.cumsum(U, axis=1, dtype=np.int16)
        s = cs.copy()
        if T > lookback:
            s[:, lookback:] -= cs[:, :-lookback]
        res = out[a:b]
        np.greater_equal(s, min_weeks, out=res.view(bool))
        res &= U.view(np.int8)
        res[:, : min(lookback - 1, T)] = -1
        if has_censoring:
            res[censored_lut[Mb].view(bool)] = -1
    return out


def first_run(M, rows, start, width, member_lut, censored_lut, min_weeks: int, fill: int,
              block: int = BLOCK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First run of ``min_weeks`` consecutive member weeks in each row's window.

    Returns ``(found, k, observed)``: whether such a run starts at a window position ``k``
    with the whole run before the first censored position; ``k`` (0-based, -1 if none); and
    ``observed``, the number of window weeks before the first censored week.

    Examples
    --------
    >>> M = np.array([[1, 0, 0, 1, 0, 0, 0]], dtype=np.uint8)
    >>> self_ = np.array([1, 0, 0], dtype=np.uint8); cens = np.array([0, 0, 1], dtype=np.uint8)
    >>> [a.tolist() for a in first_run(M, np.array([0]), np.array([0]), 7, self_, cens, 3, 2)]
    [[True], [4], [7]]
    """
    n = len(rows)
    found = np.zeros(n, dtype=bool)
    k = np.full(n, -1, dtype=np.int64)
    observed = np.zeros(n, dtype=np.int64)
    w = int(min_weeks)
    for a, b in _blocks(n, block):
        W = gather_window(M, rows[a:b], start[a:b], width, fill)
        C = censored_lut[W].view(bool)
        anyc = C.any(axis=1)
        obs = np.where(anyc, C.argmax(axis=1), width)
        observed[a:b] = obs
        if width < w:
            continue
        S = member_lut[W]
        cs = np.zeros((b - a, width + 1), dtype=np.int32)
        np.cumsum(S, axis=1, dtype=np.int32, out=cs[:, 1:])
        ok = (cs[:, w:] - cs[:, :-w]) == w
        ok &= np.arange(width - w + 1)[None, :] <= (obs - w)[:, None]
        f = ok.any(axis=1)
        found[a:b] = f
        k[a:b] = np.where(f, ok.argmax(axis=1), -1)
    return found, k, observed


def max_rank(M, rows, start, width, rank_lut, fill, block: int = BLOCK) -> np.ndarray:
    """Highest ``rank_lut`` value over each row's window (int16)."""
    n = len(rows)
    out = np.empty(n, dtype=np.int16)
    for a, b in _blocks(n, block):
        W = gather_window(M, rows[a:b], start[a:b], width, fill)
        out[a:b] = rank_lut[W].max(axis=1)
    return out


def runs_overlapping(M, rows, lo, hi, member_lut, min_length: int, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Runs of consecutive member weeks longer than or equal to ``min_length`` that overlap [lo, hi].

    Run lengths are measured over the whole row (truncated only by the register edges); a
    run counts when any of its weeks lies in the column range ``lo[i] .. hi[i]``.
    Returns ``(count, longest)`` per row (``longest``: longest such run, 0 if none).

    Examples
    --------
    >>> M = np.array([[0, 1, 1, 1, 0, 1, 1]], dtype=np.uint8)
    >>> lut = np.array([0, 1], dtype=np.uint8)
    >>> [a.tolist() for a in runs_overlapping(M, np.array([0]), np.array([3]), np.array([6]), lut, 2)]
    [[2], [3]]
    """
    n = len(rows)
    count = np.zeros(n, dtype=np.int32)
    longest = np.zeros(n, dtype=np.int32)
    T = M.shape[1]
    for a, b in _blocks(n, block):
        S = np.zeros((b - a, T + 2), dtype=np.int8)
        S[:, 1:-1] = member_lut[M[rows[a:b]]]
        d = np.diff(S, axis=1)
        rs, s = np.nonzero(d == 1)
        _, e = np.nonzero(d == -1)  # same row order; e is exclusive end
        length = e - s
        keep = (length >= min_length) & (s <= hi[a:b][rs]) & (e - 1 >= lo[a:b][rs])
        rs, length = rs[keep], length[keep]
        np.add.at(count[a:b], rs, 1)
        np.maximum.at(longest[a:b], rs, length.astype(np.int32))
    return count, longest


def group_counts(M, rows, col_lo: int, col_hi: int, group_lut: np.ndarray, n_groups: int,
                 block: int = BLOCK) -> np.ndarray:
    """Weeks per group label in columns ``col_lo .. col_hi`` (inclusive) for each row: ``(n, n_groups)``."""
    n = len(rows)
    out = np.zeros((n, n_groups), dtype=np.int32)
    width = col_hi - col_lo + 1
    for a, b in _blocks(n, block):
        G = group_lut[M[rows[a:b], col_lo:col_hi + 1]].astype(np.int64)
        key = (np.arange(b - a)[:, None] * n_groups + G).ravel()
        out[a:b] = np.bincount(key, minlength=(b - a) * n_groups).reshape(b - a, n_groups)
    del width
    return out


def column_sums_by_label(M, rows, start, width, luts, labels: np.ndarray, n_labels: int, fill,
                         block: int = BLOCK) -> list[np.ndarray]:
    """Per label and window position, the number of rows whose category ``lut`` marks: ``(n_labels, width)``."""
    n = len(rows)
    outs = [np.zeros((n_labels, width), dtype=np.int64) for _ in luts]
    for a, b in _blocks(n, block):
        W = gather_window(M, rows[a:b], start[a:b], width, fill)
        lab = labels[a:b]
        for o, lut in zip(outs, luts):
            V = lut[W]
            for g in range(n_labels):
                m = lab == g
                if m.any():
                    o[g] += V[m].sum(axis=0, dtype=np.int64)
    return outs
