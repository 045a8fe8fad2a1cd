"""Danish number, date and plain-language formatting for reports read by a council.

Every function returns text ready to print in a Danish report: decimal comma, ``.`` as
thousands separator, a non-breaking space before ``%``, Danish month names, and ``–``
(en dash) for a missing value (``None``, ``NaN``, ``pd.NA``, ``NaT``).

Negative numbers use the typographic minus sign ``−`` (U+2212), and a confidence interval with
a negative bound is written "−1,2 til 3,4" rather than with a dash, which would be ambiguous.

Examples
--------
>>> fmt_number(3.14159)
'3,1'
>>> fmt_int(1425000)
'1.425.000'
>>> fmt_pct(0.123)
'12\\xa0%'
>>> fmt_ci(0.8, 5.4, 1, unit="uger")
'0,8–5,4 uger'
"""

from __future__ import annotations

import datetime as _dt
import math
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MISSING",
    "NBSP",
    "MINUS",
    "is_missing",
    "fmt_number",
    "fmt_int",
    "fmt_pct",
    "fmt_pp",
    "fmt_dkk",
    "fmt_ci",
    "fmt_p",
    "fmt_date",
    "evidence_level_text",
    "MONTHS_DA",
    "EVIDENCE_LEVELS_DA",
]

MISSING = "–"
"""Text printed for a missing value (en dash)."""

NBSP = "\u00a0"
"""Non-breaking space, used before ``%`` and inside units so they never wrap away."""

MINUS = "\u2212"
"""Typographic minus sign used for negative numbers."""

MONTHS_DA = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)

EVIDENCE_LEVELS_DA = {
    1: "Før/efter-måling uden sammenligningsgruppe – laveste evidensniveau; "
       "viser ikke, hvad der var sket uden indsatsen",
    2: "Sammenligning med en gruppe uden indsatsen, hvor grupperne kan have været forskellige fra start",
    3: "Sammenligning af udviklingen før og efter med en lignende sammenligningsgruppe "
       "(fx forskel-i-forskelle eller matchning på registeroplysninger)",
    4: "Sammenligning, der også tager højde for forskelle, som ikke kan ses i registrene "
       "(fx et naturligt eksperiment eller en tilfældig tildeling, som ikke var planlagt)",
    5: "Lodtrækning (randomiseret forsøg) – højeste evidensniveau",
}
"""The Maryland Scientific Methods Scale (1–5) in plain Danish."""


# ---------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------


def is_missing(x: Any) -> bool:
    """True for ``None``, ``NaN``, ``pd.NA`` and ``NaT`` (scalars only; strings are never missing)."""
    if x is None:
        return True
    if isinstance(x, (str, bytes)):
        return False
    try:
        res = pd.isna(x)
    except (TypeError, ValueError):
        return False
    return isinstance(res, (bool, np.bool_)) and bool(res)


def _to_float(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (Real,)) and not hasattr(x, "__float__"):
        raise TypeError(f"{what} expects a number, got {type(x).__name__}: {x!r}")
    return float(x)


def _check_decimals(decimals: int) -> int:
    if not isinstance(decimals, int) or isinstance(decimals, bool) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative integer, got {decimals!r}")
    return decimals


def fmt_number(x: Any, decimals: int = 1) -> str:
    """A number with decimal comma and ``.`` as thousands separator.

    Parameters
    ----------
    x : float or None
        The value; ``None``/``NaN`` gives ``"–"``.
    decimals : int, default 1
        Digits after the decimal comma (rounded half to even on the binary value, like Python).

    Examples
    --------
    >>> fmt_number(1425000.25, 2)
    '1.425.000,25'
    >>> fmt_number(-0.04)
    '0,0'
    >>> fmt_number(-3.1)
    '−3,1'
    """
    decimals = _check_decimals(decimals)
    if is_missing(x):
        return MISSING
    v = _to_float(x, "fmt_number")
    if math.isinf(v):
        return ("" if v > 0 else MINUS) + "∞"
    text = f"{abs(v):,.{decimals}f}"
    # No "−0,0": the sign only appears if the rounded value is non-zero.
    negative = v < 0 and any(ch not in "0.," for ch in text)
    text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return (MINUS if negative else "") + text


def fmt_int(x: Any) -> str:
    """A whole number with ``.`` as thousands separator (``1425000`` → ``"1.425.000"``)."""
    return fmt_number(x, 0)


def fmt_pct(share: Any, decimals: int = 0) -> str:
    """A share between 0 and 1 as a Danish percentage (``0.123`` → ``"12 %"``, non-breaking space)."""
    if is_missing(share):
        return MISSING
    return f"{fmt_number(_to_float(share, 'fmt_pct') * 100.0, decimals)}{NBSP}%"


def fmt_pp(share_difference: Any, decimals: int = 1) -> str:
    """A difference between two shares in percentage points.

    The argument is a difference of shares on the 0–1 scale (``0.042`` → ``"4,2 procentpoint"``),
    consistent with :func:`fmt_pct`. "procentpoint" is both singular and plural in Danish.
    """
    if is_missing(share_difference):
        return MISSING
    return f"{fmt_number(_to_float(share_difference, 'fmt_pp') * 100.0, decimals)}{NBSP}procentpoint"


def fmt_dkk(x: Any, decimals: int = 0) -> str:
    """An amount in Danish kroner (``1425000`` → ``"1.425.000 kr."``)."""
    if is_missing(x):
        return MISSING
    return f"{fmt_number(x, decimals)}{NBSP}kr."


def fmt_ci(lo: Any, hi: Any, decimals: int = 1, unit: str = "") -> str:
    """A confidence interval as ``"0,8–5,4"`` (plus ``" unit"`` when given).

    When a bound is negative the dash would read as a minus, so the interval is written
    ``"−1,2 til 3,4"``. A missing bound gives ``"–"``.
    """
    if is_missing(lo) or is_missing(hi):
        return MISSING
    a, b = fmt_number(lo, decimals), fmt_number(hi, decimals)
    sep = " til " if (a.startswith(MINUS) or b.startswith(MINUS)) else "–"
    text = f"{a}{sep}{b}"
    return f"{text} {unit}" if unit else text


def fmt_p(p: Any) -> str:
    """A p-value in Danish style: ``"p = 0,03"``, ``"p = 0,004"``, ``"p < 0,001"``.

    Two decimals from 0,01 upwards, three below; three decimals also between 0,045 and 0,05 so
    that a value below 0,05 never prints as "0,05". Values above 0,99 print as ``"p > 0,99"``.
    """
    if is_missing(p):
        return MISSING
    v = _to_float(p, "fmt_p")
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"a p-value lies between 0 and 1, got {v!r}")
    if v < 0.001:
        return "p < 0,001"
    if v > 0.99:
        return "p > 0,99"
    decimals = 3 if (v < 0.01 or 0.045 <= v < 0.05) else 2
    return f"p = {fmt_number(v, decimals)}"


def fmt_date(date: Any) -> str:
    """A date with the Danish month name: ``"20. maj 2010"``.

    Accepts :class:`datetime.date`/``datetime``, :class:`pandas.Timestamp` and ISO strings
    (``"2010-05-20"``). Missing gives ``"–"``.
    """
    if is_missing(date):
        return MISSING
    if isinstance(date, str):
        try:
            date = _dt.date.fromisoformat(date.strip()[:10])
        except ValueError as exc:
            raise ValueError(f"not an ISO date (YYYY-MM-DD): {date!r}") from exc
    if isinstance(date, pd.Timestamp):
        date = date.to_pydatetime()
    if not isinstance(date, _dt.date):
        raise TypeError(f"fmt_date expects a date, got {type(date).__name__}: {date!r}")
    return f"{date.day}. {MONTHS_DA[date.month - 1]} {date.year}"


# ---------------------------------------------------------------------------
# plain language
# ---------------------------------------------------------------------------


def evidence_level_text(level: int) -> str:
    """The Maryland Scientific Methods Scale level (1–5) explained in Danish."""
    if isinstance(level, bool) or is_missing(level):
        raise ValueError(f"evidence level must be an integer 1–5, got {level!r}")
    try:
        key = int(level)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"evidence level must be an integer 1–5, got {level!r}") from exc
    if key != level or key not in EVIDENCE_LEVELS_DA:
        raise ValueError(f"evidence level must be an integer 1–5, got {level!r}")
    return EVIDENCE_LEVELS_DA[key]
