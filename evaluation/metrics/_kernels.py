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


#: target cells per block when the block size is chosen from the row width: one block's byte
#: arrays stay below glibc's 128 KiB mmap threshold, so they are served from the heap and reused.
#: Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_ set, which freezes that threshold; with
#: 32,768-person blocks every temporary was then a fresh mmap, page-faulted and unmapped, and the
#: kernels ran 3-8x slower on workers than in process.
CELLS_PER_BLOCK = 120_000


def _blocks(n: int, block: int | None, width: int = 1):
    if block is None:
        block = max(256, min(BLOCK, CELLS_PER_BLOCK // max(int(width), 1)))
    for b0 in range(0, n, block):
        yield b0, min(n, b0 + block)


def _ranges(lut: np.ndarray, max_ranges: int = 3) -> list[tuple[int, int]] | None:
    """A 0/1 lookup table as at most ``max_ranges`` runs ``(first, length)`` of marked categories.

    DREAM code groups are ranges of codes (and category indices follow the sorted codes), so
    membership is usually one or two range tests. None if the table is not 0/1 or has more runs.

    Examples
    --------
    >>> _ranges(np.array([0, 1, 1, 0, 1], dtype=np.uint8)), _ranges(np.array([0, 2], dtype=np.uint8))
    ([(1, 2), (4, 1)], None)
    """
    lut = np.asarray(lut)
    if lut.size == 0 or lut.max() > 1 or lut.min() < 0:
        return None
    d = np.diff(np.concatenate([[0], lut.astype(np.int8), [0]]))
    first, end = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    if len(first) > max_ranges:
        return None
    return [(int(a), int(b - a)) for a, b in zip(first, end)]


def _member(W: np.ndarray, lut: np.ndarray, ranges: list[tuple[int, int]] | None) -> np.ndarray:
    """``lut[W]`` for a 0/1 table, as a bool array: unsigned range tests when ``ranges`` is given
    (two byte operations per range instead of a table lookup per cell), else one lookup pass."""
    if ranges is None:
        return np.take(lut, W, mode="clip").view(bool) if lut.dtype == np.uint8 else np.take(lut, W, mode="clip") != 0
    out = None
    t = W.dtype.type
    for lo, length in ranges:
        # (W - lo) wraps around below lo, so one unsigned comparison tests lo <= W < lo + length
        m = np.less(np.subtract(W, t(lo)), t(length)) if length < np.iinfo(W.dtype).max + 1 - lo else np.greater_equal(W, t(lo))
        if out is None:
            out = m
        else:
            out |= m
    if out is None:
        out = np.zeros(W.shape, dtype=bool)
    return out


_NIBBLES = np.uint64(0x0F0F0F0F0F0F0F0F)
_BYTES_ONE = np.uint64(0x0101010101010101)
#: columns per chunk of a nibble-packed byte sum: each of the 8 byte lanes of a uint64 then
#: adds at most 15 cells, so each nibble stays below 16.
_NIBBLE_COLS = 120


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


def window_sums(M, rows, start, width, luts, fill, block: int | None = None) -> list[np.ndarray]:
    """For each ``lut``: the number of weeks in the window whose category ``lut`` marks (int32).

    With one or two 0/1 tables (the usual case) one lookup pass packs the two indicators into the
    low and high nibble of one byte, eight bytes are added at a time as one uint64 (SWAR), and the
    nibbles are summed at the end -- no widening of the window to 32-bit integers. (A table lookup
    is one pass per cell; the range tests used elsewhere cost two passes per run of categories, so
    for two tables of three runs the lookup is cheaper.)

    Examples
    --------
    >>> M = np.array([[1, 2, 0, 1, 3]], dtype=np.uint8)
    >>> one = np.array([0, 1, 0, 0], dtype=np.uint8); cen = np.array([0, 0, 0, 1], dtype=np.uint8)
    >>> [o.tolist() for o in window_sums(M, np.array([0]), np.array([2]), 4, [one, cen], 3)]
    [[1], [2]]
    """
    n = len(rows)
    outs = [np.empty(n, dtype=np.int32) for _ in luts]
    binary = 0 < len(luts) <= 2 and all(np.asarray(lut).max(initial=0) <= 1 and np.asarray(lut).min(initial=0) >= 0
                                        for lut in luts)
    if not binary:
        for a, b in _blocks(n, block, width):
            W = gather_window(M, rows[a:b], start[a:b], width, fill)
            for o, lut in zip(outs, luts):
                o[a:b] = lut[W].sum(axis=1, dtype=np.int32)
        return outs
    for o in outs:
        o[:] = 0
    # the two 0/1 tables packed into the low and high nibble of one byte table
    comb = np.zeros(max(256, len(luts[0])), dtype=np.uint8)
    comb[: len(luts[0])] = luts[0]
    if len(luts) == 2:
        comb[: len(luts[1])] |= np.asarray(luts[1], dtype=np.uint8) << 4
    buf = None
    for c0 in range(0, width, _NIBBLE_COLS):
        cw = min(_NIBBLE_COLS, width - c0)
        cwp = (cw + 7) // 8 * 8
        for a, b in _blocks(n, block, cw):
            W = gather_window(M, rows[a:b], start[a:b] + c0, cw, fill)
            if buf is None or buf.shape[0] < b - a or buf.shape[1] != cwp:
                buf = np.zeros((b - a, cwp), dtype=np.uint8)  # padding columns stay 0
            X = buf[: b - a]
            np.take(comb, W, out=X[:, :cw], mode="clip")  # one lookup pass gives both indicators
            lanes = X.view(np.uint64).sum(axis=1, dtype=np.uint64)
            outs[0][a:b] += (((lanes & _NIBBLES) * _BYTES_ONE) >> np.uint64(56)).astype(np.int32)
            if len(luts) == 2:
                outs[1][a:b] += ((((lanes >> np.uint64(4)) & _NIBBLES) * _BYTES_ONE) >> np.uint64(56)).astype(np.int32)
    return outs


def _trailing_sums_u8(U: np.ndarray, k: int) -> np.ndarray:
    """``S[:, t] = sum_{j<k} U[:, t-j]`` in uint8 (``k <= 255``), by shift-and-add of the flattened rows.

    Powers-of-two window sums are built by doubling, and ``k`` is assembled from its binary
    digits: about ``2 log2(k)`` byte additions over the block. Positions ``t < k - 1`` receive
    values from the end of the previous row; callers mark them undefined.
    """
    n, T = U.shape
    flat = U.reshape(-1)
    total = np.zeros_like(flat)
    filled = 0  # total currently holds the sum of U[t - j] for j < filled
    cur, width = flat.copy(), 1  # cur[t] = sum_{j<width} U[t-j]
    while True:
        if k & width:
            if filled == 0:
                total[:] = cur
            else:
                np.add(total[filled:], cur[:-filled], out=total[filled:])
            filled += width
        if width * 2 > k:
            break
        nxt = cur.copy()
        np.add(nxt[width:], cur[:-width], out=nxt[width:])
        cur, width = nxt, width * 2
    return total.reshape(n, T)


def long_term_unemployment(M, unemployed_lut, censored_lut, lookback: int = 52, min_weeks: int = 42,
                           block: int | None = None) -> np.ndarray:
    """STAR long-term unemployment for every person-week: ``int8`` 1 / 0 / -1 (undefined).

    Week t is 1 when the person is unemployed in t and in at least ``min_weeks`` of the
    ``lookback`` weeks ending with t; -1 when t is censored or fewer than ``lookback`` register
    weeks end with t (the history is incomplete).

    Unemployment and censoring are range tests on the category bytes, the ``lookback``-week
    sums are shift-and-add in uint8 (for ``lookback <= 255``), and the result is assembled with
    byte arithmetic, block by block.

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
    ru, rc = _ranges(unemployed_lut), _ranges(censored_lut)
    small = 1 <= lookback <= 255
    head = min(lookback - 1, T)
    for a, b in _blocks(n, block, 4 * T):  # several byte arrays of the row's weeks
        Mb = M[a:b]
        U = _member(Mb, unemployed_lut, ru).view(np.uint8)
        res = out[a:b]
        if small:
            s = _trailing_sums_u8(U, lookback)
            np.greater_equal(s, min_weeks, out=res.view(bool))
        else:
            cs = np.cumsum(U, axis=1, dtype=np.int32)
            s = cs.copy()
            if T > lookback:
                s[:, lookback:] -= cs[:, :-lookback]
            np.greater_equal(s, min_weeks, out=res.view(bool))
        res &= U.view(np.int8)
        if has_censoring:
            # censored cells -> -1: res - C * (res + 1) in bytes (res is 0/1 here)
            C = _member(Mb, censored_lut, rc).view(np.int8)
            res -= C * (res + np.int8(1))
        res[:, :head] = -1
    return out


def _run_starts(S: np.ndarray, w: int) -> np.ndarray:
    """``R[:, k] = S[:, k] & ... & S[:, k+w-1]`` for ``k <= width - w`` (bool), by doubling: the AND
    of ``2^p`` consecutive cells is built in ``p`` passes and ``w`` covered by two overlapping spans."""
    n, width = S.shape
    m = width - w + 1
    flat = S.reshape(-1)
    span, R = 1, flat
    while span * 2 <= w:
        nxt = R[: len(R) - span] & R[span:]
        R, span = nxt, span * 2
    if span < w:  # two overlapping spans of length `span` cover k .. k+w-1
        R = R[: len(R) - (w - span)] & R[w - span:]
    # R[i] is valid for i = row * width + k with k < m
    R = np.concatenate([R, np.zeros(n * width - len(R), dtype=bool)])
    return R.reshape(n, width)[:, :m]


def first_run(M, rows, start, width, member_lut, censored_lut, min_weeks: int, fill: int,
              block: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First run of ``min_weeks`` consecutive member weeks in each row's window.

    Returns ``(found, k, observed)``: whether such a run starts at a window position ``k``
    with the whole run before the first censored position; ``k`` (0-based, -1 if none); and
    ``observed``, the number of window weeks before the first censored week.

    Membership and censoring are range tests on the category bytes; runs are found with
    boolean AND passes (doubling), and the first run and the first censored week by ``argmax``.

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
    if w < 1:
        raise ValueError(f"min_weeks must be at least 1, got {min_weeks}")
    rm, rc = _ranges(member_lut), _ranges(censored_lut)
    for a, b in _blocks(n, block, 2 * width):
        W = gather_window(M, rows[a:b], start[a:b], width, fill)
        C = _member(W, censored_lut, rc)
        first_c = C.argmax(axis=1)
        obs = np.where(C[np.arange(b - a), first_c], first_c, width)
        observed[a:b] = obs
        if width < w:
            continue
        R = _run_starts(_member(W, member_lut, rm), w)
        kk = R.argmax(axis=1)
        # the first run start is the only candidate: every later one is further from the censored week
        f = R[np.arange(b - a), kk] & (kk <= obs - w)
        found[a:b] = f
        k[a:b] = np.where(f, kk, -1)
    return found, k, observed


def max_rank(M, rows, start, width, rank_lut, fill, block: int | None = None) -> np.ndarray:
    """Highest ``rank_lut`` value over each row's window (int16)."""
    n = len(rows)
    out = np.empty(n, dtype=np.int16)
    for a, b in _blocks(n, block, width):
        W = gather_window(M, rows[a:b], start[a:b], width, fill)
        out[a:b] = rank_lut[W].max(axis=1)
    return out


def runs_overlapping(M, rows, lo, hi, member_lut, min_length: int, block: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Runs of consecutive member weeks longer than or equal to ``min_length`` that overlap [lo, hi].

    Run lengths are measured over the whole row (truncated only by the register edges); a
    run counts when any of its weeks lies in the column range ``lo[i] .. hi[i]``.
    Returns ``(count, longest)`` per row (``longest``: longest such run, 0 if none).

    Runs are found on the flattened block with one zero column appended to every row (so no run
    crosses a row): starts are member cells after a non-member cell, ends member cells before one.

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
    rm = _ranges(member_lut)
    lo = np.asarray(lo)
    hi = np.asarray(hi)
    for a, b in _blocks(n, block, 2 * (T + 1)):
        m = b - a
        S = np.zeros((m, T + 1), dtype=bool)
        S[:, :T] = _member(M[rows[a:b]], member_lut, rm)
        f = S.reshape(-1)
        starts = np.flatnonzero(f[1:] & ~f[:-1]) + 1
        if f[0]:
            starts = np.concatenate([[0], starts])
        ends = np.flatnonzero(f[:-1] & ~f[1:])  # the last cell of every row is the appended 0
        if not len(starts):
            continue
        rs = starts // (T + 1)
        s0 = starts - rs * (T + 1)
        e0 = ends - rs * (T + 1)
        length = e0 - s0 + 1
        keep = (length >= min_length) & (s0 <= hi[a:b][rs]) & (e0 >= lo[a:b][rs])
        rs, length = rs[keep], length[keep].astype(np.int32)
        if not len(rs):
            continue
        count[a:b] = np.bincount(rs, minlength=m)
        first = np.flatnonzero(np.concatenate([[True], rs[1:] != rs[:-1]]))
        longest[a + rs[first]] = np.maximum.reduceat(length, first)
    return count, longest


def group_counts(M, rows, col_lo: int, col_hi: int, group_lut: np.ndarray, n_groups: int,
                 block: int | None = None) -> np.ndarray:
    """Weeks per group label in columns ``col_lo .. col_hi`` (inclusive) for each row: ``(n, n_groups)``."""
    n = len(rows)
    out = np.zeros((n, n_groups), dtype=np.int32)
    width = col_hi - col_lo + 1
    for a, b in _blocks(n, block, 8 * width):  # int64 keys
        G = group_lut[M[rows[a:b], col_lo:col_hi + 1]].astype(np.int64)
        key = (np.arange(b - a)[:, None] * n_groups + G).ravel()
        out[a:b] = np.bincount(key, minlength=(b - a) * n_groups).reshape(b - a, n_groups)
    del width
    return out


def column_sums_by_label(M, rows, start, width, luts, labels: np.ndarray, n_labels: int, fill,
                         block: int | None = None) -> list[np.ndarray]:
    """Per label and window position, the number of rows whose category ``lut`` marks: ``(n_labels, width)``.

    Rows are taken label by label (one stable sort of the labels), so each label's windows are
    summed down the columns without masking.

    Examples
    --------
    >>> M = np.array([[1, 0], [1, 1], [0, 1]], dtype=np.uint8)
    >>> lut = np.array([0, 1, 0], dtype=np.uint8)
    >>> column_sums_by_label(M, np.arange(3), np.zeros(3, dtype=int), 2, [lut], np.array([0, 0, 1]), 2, 2)[0].tolist()
    [[2, 1], [0, 1]]
    """
    n = len(rows)
    outs = [np.zeros((n_labels, width), dtype=np.int64) for _ in luts]
    ranges = [_ranges(lut) for lut in luts]
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_labels + 1))
    for g in range(n_labels):
        sel = order[bounds[g]:bounds[g + 1]]
        for a, b in _blocks(len(sel), block, width):
            W = gather_window(M, rows[sel[a:b]], start[sel[a:b]], width, fill)
            for o, lut, rg in zip(outs, luts, ranges):
                if rg is None:
                    o[g] += lut[W].sum(axis=0, dtype=np.int64)
                else:
                    o[g] += _member(W, lut, rg).sum(axis=0, dtype=np.int64)
    return outs
