"""ISO 8601 year-week utilities for weekly register panels (vectorised).

Weekly registers such as DREAM name their weeks by ISO year and ISO week: ``y_1801`` is ISO
week 01 of 2018, whose Monday is 1 January 2018. An ISO year has 52 or 53 weeks (53 when 1
January is a Thursday, or a Wednesday in a leap year: e.g. 2015, 2020, 2026), so week
arithmetic is done on a *week ordinal*: the number of weeks since the Monday 29 December 1969
(ISO week 1970-W01). Consecutive ISO weeks have consecutive ordinals across year boundaries.

Accepted spellings of a week (all parsed by :func:`parse_weeks`):

* ``"2018-W01"``, ``"2018W01"``, ``"2018-01"``, ``"2018W1"``
* ``201801`` / ``"201801"`` (``YYYYWW``)
* DREAM column names ``"y_1801"`` (two-digit year; 80–99 are read as 19xx, 00–79 as 20xx)
* ``datetime.date`` / ``pandas.Timestamp`` (the ISO week containing the day)
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Sequence

import numpy as np
import pandas as pd

from evaluation.exceptions import DataValidationError

__all__ = [
    "EPOCH_MONDAY",
    "iso_to_ordinal",
    "ordinal_to_iso",
    "weeks_in_year",
    "parse_weeks",
    "parse_week",
    "format_week",
    "format_weeks",
    "dream_column",
    "is_dream_column",
    "WeekRange",
]

#: Monday of ISO week 1970-W01; week ordinal 0.
EPOCH_MONDAY = np.datetime64("1969-12-29", "D")

_DREAM_COL = re.compile(r"^y_(\d{2})(\d{2})$")
_WEEK_STR = re.compile(r"^\s*(\d{4})\s*-?\s*[Ww]?\s*(\d{1,2})\s*$")
_DREAM_PIVOT = 80  # y_80xx..y_99xx -> 19xx


def _jan4_monday_ordinal(year: np.ndarray) -> np.ndarray:
    """Ordinal of the Monday of ISO week 1 of ``year`` (the week holding 4 January)."""
    y = np.asarray(year, dtype=np.int64)
    jan4 = (y - 1970).astype("datetime64[Y]").astype("datetime64[D]") + np.timedelta64(3, "D")
    days = (jan4 - EPOCH_MONDAY).astype(np.int64)  # days since a Monday
    monday = days - days % 7
    return monday // 7


def weeks_in_year(year: int | np.ndarray) -> int | np.ndarray:
    """Number of ISO weeks (52 or 53) in ISO year ``year``.

    Examples
    --------
    >>> weeks_in_year(2015), weeks_in_year(2018), weeks_in_year(2020)
    (53, 52, 53)
    """
    y = np.asarray(year, dtype=np.int64)
    out = _jan4_monday_ordinal(y + 1) - _jan4_monday_ordinal(y)
    return int(out) if np.ndim(out) == 0 else out


def iso_to_ordinal(year, week) -> np.ndarray:
    """Week ordinal of ISO ``year``-W``week`` (vectorised; no validation, see :func:`parse_weeks`).

    Examples
    --------
    >>> int(iso_to_ordinal(2021, 1) - iso_to_ordinal(2020, 53))
    1
    """
    return _jan4_monday_ordinal(year) + np.asarray(week, dtype=np.int64) - 1


def ordinal_to_iso(ordinal) -> tuple[np.ndarray, np.ndarray]:
    """ISO (year, week) arrays of week ordinals (vectorised).

    Examples
    --------
    >>> y, w = ordinal_to_iso(iso_to_ordinal(2020, 53) + np.arange(3))
    >>> list(zip(y.tolist(), w.tolist()))
    [(2020, 53), (2021, 1), (2021, 2)]
    """
    o = np.asarray(ordinal, dtype=np.int64)
    thursday = EPOCH_MONDAY + (o * 7 + 3).astype("timedelta64[D]")
    year = thursday.astype("datetime64[Y]").astype(np.int64) + 1970
    jan1 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    week = (thursday - jan1).astype(np.int64) // 7 + 1
    return year, week


def format_week(ordinal: int) -> str:
    """``"YYYY-Www"`` of one week ordinal.

    Examples
    --------
    >>> format_week(int(iso_to_ordinal(2015, 53)))
    '2015-W53'
    """
    y, w = ordinal_to_iso(np.asarray([ordinal]))
    return f"{int(y[0]):04d}-W{int(w[0]):02d}"


def format_weeks(ordinals) -> list[str]:
    """``"YYYY-Www"`` of each week ordinal."""
    y, w = ordinal_to_iso(np.asarray(ordinals))
    return [f"{a:04d}-W{b:02d}" for a, b in zip(y.tolist(), w.tolist())]


def dream_column(ordinal: int) -> str:
    """DREAM wide-format column name (``y_YYWW``) of a week ordinal.

    Examples
    --------
    >>> dream_column(int(iso_to_ordinal(2018, 1)))
    'y_1801'
    """
    y, w = ordinal_to_iso(np.asarray([ordinal]))
    return f"y_{int(y[0]) % 100:02d}{int(w[0]):02d}"


def is_dream_column(name: object) -> bool:
    """True if ``name`` is shaped like a DREAM week column (``y_YYWW``)."""
    return isinstance(name, str) and bool(_DREAM_COL.match(name))


def _split_one(value: object) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date)):
        iso = value.isocalendar()
        return int(iso[0]), int(iso[1])
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        v = int(value)
        return (v // 100, v % 100) if 100000 <= v <= 999999 else None
    if isinstance(value, (float, np.floating)):
        if value != value or not float(value).is_integer():
            return None
        return _split_one(int(value))
    s = str(value).strip()
    m = _DREAM_COL.match(s)
    if m:
        yy = int(m.group(1))
        return (1900 + yy if yy >= _DREAM_PIVOT else 2000 + yy), int(m.group(2))
    if s.isdigit() and len(s) == 6:
        return int(s[:4]), int(s[4:])
    m = _WEEK_STR.match(s)
    if m and not s.isdigit():
        return int(m.group(1)), int(m.group(2))
    return None


def _row_name(label) -> str:
    """'line 12' / 'row 3' as given by a reader; any other label (an index value) as 'row <label>'."""
    text = str(label)
    return text if text.startswith(("line ", "row ", "sheet ")) else f"row {text}"


def parse_weeks(values, *, file: str = "<data>", column: str = "week", rows: Sequence | None = None) -> np.ndarray:
    """Parse ISO weeks to week ordinals, rejecting anything that is not an ISO week.

    Parameters
    ----------
    values : array-like
        Weeks in any spelling listed in the module docstring.
    file, column : str
        Named in the error message.
    rows : sequence, optional
        Row labels named in the error message (default: 0-based positions).

    Returns
    -------
    numpy.ndarray of int64
        Week ordinals.

    Raises
    ------
    DataValidationError
        Listing up to five offending rows, e.g. ``2016-W53`` (2016 has 52 weeks), week 00,
        blank or non-week text.

    Examples
    --------
    >>> o = parse_weeks(["2020-W53", 202101, "y_2102"])
    >>> (o - o[0]).tolist()
    [0, 1, 2]
    """
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    n = len(arr)
    # fast path: integers YYYYWW
    if n and np.issubdtype(np.asarray(arr).dtype, np.integer):
        v = np.asarray(arr, dtype=np.int64)
        year, week = v // 100, v % 100
        ok = (v >= 100000) & (v <= 999999)
    else:
        uniq, inv = np.unique(np.asarray(arr, dtype=object).astype(str), return_inverse=True) if n else (np.array([]), np.array([], dtype=int))
        # keep original objects for dates: map via first occurrence
        firsts = {}
        for pos, u in enumerate(inv.tolist()):
            firsts.setdefault(u, pos)
        yu = np.zeros(len(uniq), dtype=np.int64)
        wu = np.zeros(len(uniq), dtype=np.int64)
        oku = np.zeros(len(uniq), dtype=bool)
        for i in range(len(uniq)):
            orig = arr[firsts[i]]
            if isinstance(orig, (float, np.floating)) and orig != orig:
                continue
            if orig is pd.NA or orig is None:
                continue
            got = _split_one(orig)
            if got is not None:
                yu[i], wu[i], oku[i] = got[0], got[1], True
        year, week, ok = yu[inv], wu[inv], oku[inv]
    ok = ok & (week >= 1) & (year >= 1900) & (year <= 2200)
    ok[ok] &= week[ok] <= weeks_in_year(year[ok])
    if not ok.all():
        bad = np.flatnonzero(~ok)
        labels = list(rows) if rows is not None else list(range(n))
        ex = ", ".join(f"{_row_name(labels[i])}: {arr[i]!r}" for i in bad[:5])
        if len(bad) > 5:
            ex += f" (and {len(bad) - 5} more)"
        raise DataValidationError(
            f"{file}: column {column!r} has {len(bad)} value(s) that are not ISO year-weeks "
            f"(expected e.g. 2018-W01, 201801 or y_1801; week 53 only in 53-week years): {ex}"
        )
    return iso_to_ordinal(year, week)


def parse_week(value: object, *, what: str = "week") -> int:
    """Parse one ISO week to its ordinal (raises :class:`DataValidationError` naming ``what``).

    Examples
    --------
    >>> format_week(parse_week("2015-W53"))
    '2015-W53'
    """
    return int(parse_weeks([value], file=what, column=what)[0])


class WeekRange:
    """A contiguous range of ISO weeks: the column axis of a :class:`~evaluation.data.registers.Panel`.

    Parameters
    ----------
    first : int
        Week ordinal of the first column.
    n_weeks : int
        Number of weeks.

    Examples
    --------
    >>> r = WeekRange.from_iso("2020-W52", "2021-W02")
    >>> r.labels()
    ['2020-W52', '2020-W53', '2021-W01', '2021-W02']
    >>> r.position("2021-W01")
    2
    """

    __slots__ = ("first", "n_weeks")

    def __init__(self, first: int, n_weeks: int):
        if n_weeks < 0:
            raise ValueError("n_weeks must be >= 0")
        self.first = int(first)
        self.n_weeks = int(n_weeks)

    @classmethod
    def from_iso(cls, first: object, last: object) -> "WeekRange":
        a, b = parse_week(first, what="first week"), parse_week(last, what="last week")
        if b < a:
            raise DataValidationError(f"week range ends ({format_week(b)}) before it starts ({format_week(a)})")
        return cls(a, b - a + 1)

    @property
    def last(self) -> int:
        return self.first + self.n_weeks - 1

    @property
    def ordinals(self) -> np.ndarray:
        return np.arange(self.first, self.first + self.n_weeks, dtype=np.int64)

    def labels(self) -> list[str]:
        return format_weeks(self.ordinals)

    def dream_columns(self) -> list[str]:
        y, w = ordinal_to_iso(self.ordinals)
        return [f"y_{a % 100:02d}{b:02d}" for a, b in zip(y.tolist(), w.tolist())]

    def position(self, week: object) -> int:
        """Column position of ``week`` (ISO spelling or ordinal int)."""
        o = int(week) if isinstance(week, (int, np.integer)) and not 100000 <= int(week) <= 999999 else parse_week(week)
        return o - self.first

    def __len__(self) -> int:
        return self.n_weeks

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WeekRange) and (self.first, self.n_weeks) == (other.first, other.n_weeks)

    def __hash__(self) -> int:
        return hash((self.first, self.n_weeks))

    def __repr__(self) -> str:
        if not self.n_weeks:
            return "WeekRange(empty)"
        return f"WeekRange({format_week(self.first)}..{format_week(self.last)}, {self.n_weeks} weeks)"


