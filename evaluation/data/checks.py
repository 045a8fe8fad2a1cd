"""Checks of data columns against what a study declares, naming the file, the column and the rows.

Every check returns a list of messages (nothing is raised), so ``evaluation validate`` and
``evaluation run`` list every problem at once through the same code. A message names rows by the
input's own numbers (a CSV file's line, counting the header; an Excel sheet's row; a Parquet
file's row), never by a pseudonymised id, and never prints a person identifier.

Which columns are numeric is decided by the declaration (``types:`` on the data source, the role
a design gives the column) and by the whole column, never by pandas' dtype inference alone: a
covariate whose values are numbers except for a few stray ones (``ukendt``, ``40,5``) is a
numeric covariate with bad values, not a categorical covariate with dozens of levels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from evaluation.data.tables import NumberFormat, rows_text

__all__ = [
    "RowRef",
    "MAX_MAGNITUDE",
    "numeric_problems",
    "missing_problems",
    "categorical_problems",
    "covariate_kind",
    "as_numbers",
    "level_limit",
]

#: numbers beyond this magnitude are refused as absurd (no count, amount or duration comes near)
MAX_MAGNITUDE = 1e15

_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
_DECIMAL_POINT = re.compile(r"^\s*[+-]?\d+\.\d+\s*$")
_NONFINITE = re.compile(r"^[+-]?(inf|infinity|nan)$", re.IGNORECASE)


@dataclass(frozen=True)
class RowRef:
    """How the rows of a frame are named in messages: the file and each row's own number there.

    Parameters
    ----------
    file : str
        The file as messages name it.
    lines : sequence of int, optional
        Per frame row (by position), its line (CSV) or row (Excel, Parquet) in the file; without it
        rows are numbered from 1 in frame order (``unit`` "row").
    unit : {"line", "row"}

    Examples
    --------
    >>> RowRef("p.csv", [2, 3, 5]).at([0, 2], ["x", "y"])
    "line 2: 'x', line 5: 'y'"
    """

    file: str
    lines: Any = None
    unit: str = "line"

    def line(self, pos: int) -> int:
        return int(self.lines[int(pos)]) if self.lines is not None else int(pos) + 1

    @property
    def word(self) -> str:
        return self.unit if self.lines is not None else "row"

    def numbers(self, positions: Iterable[int]) -> list[int]:
        """The distinct row numbers of ``positions``, in order."""
        out: list[int] = []
        seen: set[int] = set()
        for p in positions:
            n = self.line(p)
            if n not in seen:
                seen.add(n)
                out.append(n)
        return out

    def where(self, positions: Iterable[int], k: int = 5) -> str:
        """``'lines 3, 7, 9 (and 2 more)'``."""
        return rows_text(self.word, self.numbers(positions), k)

    def at(self, positions: Sequence[int], values: Sequence[Any] | None = None, k: int = 5) -> str:
        """``"line 3: 'ukendt', line 7: '40,5' (and 2 more)"`` (one entry per distinct row)."""
        shown: list[str] = []
        seen: set[int] = set()
        total = 0
        for i, p in enumerate(positions):
            n = self.line(p)
            if n in seen:
                continue
            seen.add(n)
            total += 1
            if len(shown) < k:
                shown.append(f"{self.word} {n}" + (f": {_short(values[i])!r}" if values is not None else ""))
        more = f" (and {total - k} more)" if total > k else ""
        return ", ".join(shown) + more

    def head(self, positions: Sequence[int]) -> str:
        """``'file:LINE'`` of the first of ``positions`` (for editors that jump to a line)."""
        return f"{self.file}:{self.line(positions[0])}" if len(positions) and self.lines is not None else self.file


def _short(v: Any, n: int = 40) -> Any:
    if isinstance(v, str) and len(v) > n:
        return v[: n - 1] + "…"
    return v


def as_numbers(s: pd.Series, numbers: NumberFormat | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A column as floats and which non-missing values are numbers (text read with ``numbers``)."""
    present = s.notna().to_numpy()
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Float64").to_numpy(dtype=float, na_value=np.nan), present
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype("Float64").to_numpy(dtype=float, na_value=np.nan), present
    vals = np.full(len(s), np.nan)
    ok = np.zeros(len(s), dtype=bool)
    obj = s.astype("object")
    isnum = obj.map(lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)).to_numpy(dtype=bool) & present
    if isnum.any():
        vals[isnum] = obj[isnum].astype(float).to_numpy()
        ok[isnum] = True
    text = present & ~isnum
    if text.any():
        v, o, _ = (numbers or NumberFormat()).parse(obj[text].map(str).reset_index(drop=True))
        vals[text] = v
        ok[text] = o
    return vals, ok


def _hint_for(bad_values: Sequence[Any], numbers: NumberFormat | None) -> str:
    texts = [str(v) for v in bad_values]
    dec = (numbers or NumberFormat()).decimal
    if dec == "." and any(_DECIMAL_COMMA.match(t) for t in texts):
        return ("; these look like numbers with a decimal comma: declare decimal: ',' on the data source (the file's "
                "other numbers must then be written with a decimal comma too)")
    if dec == "," and any(_DECIMAL_POINT.match(t) for t in texts):
        return "; these look like numbers with a decimal point, but the file is read with a decimal comma: correct them"
    return ("; correct them, or declare them as missing (missing_values: [...] on the data source) if they mean "
            "'unknown'")


def numeric_problems(s: pd.Series, rows: RowRef, column: str, *, role: str = "numeric column",
                     numbers: NumberFormat | None = None, integer: bool = False, nonnegative: bool = False,
                     missing_ok: bool = True, prefix: str = "") -> list[str]:
    """Problems of a column that must hold numbers: text, fractions (``integer``), negatives, non-finite
    or absurd magnitudes (beyond ±1e15), and missing values when ``missing_ok`` is false."""
    out: list[str] = []
    vals, ok = as_numbers(s, numbers)
    present = s.notna().to_numpy()
    raw = s.astype("object").to_numpy()
    where = f"{prefix}column {column!r} ({role})"
    # text such as 'inf' or 'nan' is a number, just not a finite one: named as such below, not as "not numbers"
    inf_text = present & ~ok & np.array([isinstance(v, str) and bool(_NONFINITE.match(v.strip())) for v in raw], dtype=bool)
    bad = np.flatnonzero(present & ~ok & ~inf_text)
    if len(bad):
        values = [raw[i] for i in bad]
        out.append(f"{rows.head(bad)}: {where}: {len(bad)} value(s) that are not numbers: "
                   f"{rows.at(bad, values)}{_hint_for(values, numbers)}")
    good = present & ok
    nonfinite = np.flatnonzero((good & ~np.isfinite(vals)) | inf_text)
    huge = np.flatnonzero(good & np.isfinite(vals) & (np.abs(np.where(np.isfinite(vals), vals, 0)) > MAX_MAGNITUDE))
    for idx, what in ((nonfinite, "non-finite value(s) (inf or nan)"), (huge, f"absurd magnitude(s) beyond ±{MAX_MAGNITUDE:.0e}")):
        if len(idx):
            out.append(f"{rows.head(idx)}: {where}: {len(idx)} {what}: {rows.at(idx, [raw[i] for i in idx])}; "
                       "correct the value(s)")
    fin = good & np.isfinite(vals)
    if integer:
        frac = np.flatnonzero(fin & (vals != np.round(vals)))
        if len(frac):
            out.append(f"{rows.head(frac)}: {where}: {len(frac)} value(s) that are not whole numbers: "
                       f"{rows.at(frac, [raw[i] for i in frac])}")
    if nonnegative:
        neg = np.flatnonzero(fin & (vals < 0))
        if len(neg):
            out.append(f"{rows.head(neg)}: {where}: {len(neg)} negative value(s): {rows.at(neg, [raw[i] for i in neg])}; "
                       "expected values >= 0")
    if not missing_ok:
        out += missing_problems(s, rows, column, role=role, prefix=prefix)
    return out


def missing_problems(s: pd.Series, rows: RowRef, column: str, *, role: str = "column", prefix: str = "",
                     advice: str = "every row needs a value") -> list[str]:
    """A problem when ``s`` has missing values (rows named)."""
    miss = np.flatnonzero(s.isna().to_numpy())
    if not len(miss):
        return []
    return [f"{rows.head(miss)}: {prefix}column {column!r} ({role}) is empty in {len(rows.numbers(miss))} row(s): "
            f"{rows.where(miss)}; {advice}"]


def level_limit(n: int) -> int:
    """Most levels a categorical covariate may have among ``n`` persons: 20, or one per 10 persons if more."""
    return max(20, n // 10)


def categorical_problems(s: pd.Series, rows: RowRef, column: str, *, role: str = "categorical covariate",
                         prefix: str = "", max_levels: int | None = None) -> list[str]:
    """A problem when a categorical column has more levels than ``max_levels`` (default :func:`level_limit`)."""
    vals = s.dropna().astype(str)
    n = len(vals)
    levels = vals.unique()
    limit = level_limit(n) if max_levels is None else max_levels
    if len(levels) <= limit:
        return []
    examples = ", ".join(repr(_short(v)) for v in sorted(levels, key=str)[:6])
    return [f"{rows.file}: {prefix}column {column!r} ({role}) has {len(levels)} different values among {n} rows "
            f"(e.g. {examples}); a categorical covariate may have at most {limit} levels here (one indicator per level). "
            f"If the column holds numbers, declare types: {{{column}: numeric}} on the data source and correct the values "
            "that are not numbers; otherwise merge levels"]


def covariate_kind(s: pd.Series, numbers: NumberFormat | None = None, declared: str | None = None) -> str:
    """``"numeric"`` or ``"categorical"``: from the declaration (``types:``), else from the whole column.

    A numeric (or true/false) column is numeric. A text column is numeric when at least half of its
    non-missing values are numbers (its other values are then errors, named by
    :func:`numeric_problems`), categorical otherwise.
    """
    if declared in ("numeric", "integer"):
        return "numeric"
    if declared in ("categorical", "text"):
        return "categorical"
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return "numeric"
    present = s.notna().to_numpy()
    if not present.any():
        return "categorical"
    _, ok = as_numbers(s, numbers)
    return "numeric" if ok[present].mean() >= 0.5 else "categorical"
