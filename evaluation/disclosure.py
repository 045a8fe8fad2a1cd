"""Disclosure control: small-cell suppression, complementary suppression and a suppression log.

Applied once, when the results bundle is written, so no path to a rendered page can skip it.
Rules (DESIGN.md §7): no published cell — a count, or a share/mean computed from it — rests
on fewer than ``threshold`` persons (default 5, never below 3); where a suppressed count could
be recovered from a total, the next smallest cell in the same set is suppressed too; no
individual row or identifier is ever published.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import pandas as pd

from .exceptions import DisclosureError

__all__ = [
    "MIN_THRESHOLD",
    "DEFAULT_THRESHOLD",
    "SuppressionLog",
    "check_threshold",
    "is_small",
    "suppress_counts",
    "suppress_share_rows",
]

MIN_THRESHOLD = 3
DEFAULT_THRESHOLD = 5


def check_threshold(threshold: int) -> int:
    """Validate a disclosure threshold (an integer of at least 3)."""
    if int(threshold) != threshold or threshold < MIN_THRESHOLD:
        raise DisclosureError(f"the disclosure threshold must be a whole number of at least {MIN_THRESHOLD}, got {threshold!r}")
    return int(threshold)


def is_small(count: Any, threshold: int) -> bool:
    """True when ``count`` is a positive number of persons below ``threshold``.

    Zero is not suppressed: an empty cell reveals nothing about any person.
    """
    if count is None:
        return False
    try:
        c = float(count)
    except (TypeError, ValueError):
        return False
    if math.isnan(c):
        return False
    return 0 < round(c) < threshold


@dataclass
class SuppressionLog:
    """Every suppressed cell with the reason (printed in the report's appendix)."""

    threshold: int
    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, table: str, row: str, column: str, reason: str) -> None:
        self.entries.append({"table": table, "row": str(row), "column": column, "reason": reason})

    def to_list(self) -> list[dict[str, Any]]:
        return sorted(self.entries, key=lambda e: (e["table"], e["row"], e["column"]))


def suppress_counts(
    df: pd.DataFrame,
    *,
    table: str,
    count_columns: Sequence[str],
    dependent: dict[str, Sequence[str]] | None = None,
    label_column: str | None = None,
    threshold: int,
    log: SuppressionLog,
    complementary: bool = True,
) -> pd.DataFrame:
    """Suppress small counts (set to NaN) and every value computed from them.

    Parameters
    ----------
    df : DataFrame
        The table to publish (not modified; a copy is returned).
    count_columns : sequence of str
        Columns holding numbers of persons.
    dependent : dict, optional
        For each count column, the columns computed from it (shares, means, SDs) that are
        suppressed with it. A key ``"*"`` lists columns suppressed when any count in the row is.
    label_column : str, optional
        Column naming the row in the log (default: the index).
    complementary : bool, default True
        When exactly one count in a column is suppressed and the column could be summed to a
        published total, also suppress the next smallest positive count in that column, so the
        suppressed value cannot be recovered by subtraction.
    """
    threshold = check_threshold(threshold)
    dependent = dict(dependent or {})
    out = df.copy()
    for col in out.columns:
        if col in count_columns or col in {c for cs in dependent.values() for c in cs}:
            out[col] = out[col].astype("float64")

    def row_label(i: Any) -> str:
        return str(out.at[i, label_column]) if label_column else str(i)

    def suppress(i: Any, col: str, reason: str) -> None:
        if not pd.isna(out.at[i, col]):
            out.at[i, col] = float("nan")
            log.add(table, row_label(i), col, reason)
        for dep in dependent.get(col, ()):  # computed from this count
            if dep in out.columns and not pd.isna(out.at[i, dep]):
                out.at[i, dep] = float("nan")
                log.add(table, row_label(i), dep, f"beregnet af en celle med færre end {threshold} personer")
        for dep in dependent.get("*", ()):
            if dep in out.columns and not pd.isna(out.at[i, dep]):
                out.at[i, dep] = float("nan")
                log.add(table, row_label(i), dep, f"beregnet af en celle med færre end {threshold} personer")

    for col in count_columns:
        if col not in out.columns:
            continue
        small = [i for i in out.index if is_small(df.at[i, col], threshold)]
        for i in small:
            suppress(i, col, f"færre end {threshold} personer")
        if complementary and len(small) == 1 and len(out) > 1:
            rest = [i for i in out.index if i not in small and not pd.isna(out.at[i, col]) and float(out.at[i, col]) > 0]
            if rest:
                j = min(rest, key=lambda i: float(out.at[i, col]))
                suppress(j, col, "sekundær diskretionering (ellers kunne en skjult celle regnes ud af totalen)")
    return out


def suppress_share_rows(
    df: pd.DataFrame,
    *,
    table: str,
    share_column: str,
    n_column: str,
    columns: Iterable[str],
    threshold: int,
    log: SuppressionLog,
    label_column: str | None = None,
) -> pd.DataFrame:
    """Suppress ``columns`` in rows where a share implies fewer than ``threshold`` persons.

    A share p of n persons reveals k = p·n persons with the trait and n − k without; the row is
    suppressed when either is a positive number below the threshold.
    """
    threshold = check_threshold(threshold)
    out = df.copy()
    for col in columns:
        if col in out.columns:
            out[col] = out[col].astype("float64")
    for i in out.index:
        p, n = df.at[i, share_column], df.at[i, n_column]
        if pd.isna(p) or pd.isna(n):
            continue
        k = round(float(p) * float(n))
        if is_small(k, threshold) or is_small(float(n) - k, threshold):
            label = str(out.at[i, label_column]) if label_column else str(i)
            for col in columns:
                if col in out.columns and not pd.isna(out.at[i, col]):
                    out.at[i, col] = float("nan")
                    log.add(table, label, col, f"andelen svarer til færre end {threshold} personer")
    return out
