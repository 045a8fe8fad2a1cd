"""Person ids and benefit-code values as read from a register file, with row-naming messages."""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import pandas as pd

from evaluation.data.pseudonym import load_key, looks_like_cpr, pseudonymise_ids
from evaluation.data.registers.codes import CodeList
from evaluation.exceptions import DataValidationError

#: text that reads as a non-finite number ("inf", "-Infinity", "nan"): not a code, and not "not a number" either
NONFINITE_TEXT = re.compile(r"^[+-]?(inf|infinity|nan)$", re.IGNORECASE)


def plain_value(v) -> str:
    """A raw value as a message shows it: quoted as the file has it (``'130.5'``), never ``np.float64(130.5)``."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return repr(str(v))


def _ids_to_text(values) -> pd.Series:
    s = pd.Series(values, copy=False)
    if pd.api.types.is_float_dtype(s) and s.notna().all() and (s == s.round()).all():
        s = s.astype(np.int64)
    return s.astype("string").str.strip()


def _maybe_pseudonymise(ids: pd.Series, pseudonymise: bool | str, key: bytes | None, notes: list[str], file: str) -> pd.Series:
    """Pseudonymise ``ids`` when asked, or (``'auto'``) when any looks like a CPR number."""
    if pseudonymise == "auto":
        do = any(looks_like_cpr(v) for v in ids.dropna())
    else:
        do = bool(pseudonymise)
    if not do:
        return ids
    out = pseudonymise_ids(ids, key if key is not None else load_key())
    notes.append(f"{file}: personidentifikatorer pseudonymiseret med nøglebaseret hash")
    return out


def _label(lab) -> str:
    """A row label as messages show it: ``'line 5'`` as given, a bare number as ``'row 5'``."""
    return lab if isinstance(lab, str) else f"row {lab}"


def _example_rows(labels: Sequence, positions: np.ndarray, values=None, k: int = 5) -> str:
    out = []
    seen = set()
    total = 0
    for i in positions:
        lab = _label(labels[int(i)])
        if lab in seen:
            continue
        seen.add(lab)
        total += 1
        if len(out) < k:
            out.append(lab + (f": {plain_value(values[int(i)])}" if values is not None else ""))
    more = f" (and {total - k} more)" if total > k else ""
    return ", ".join(out) + more


def _code_what(kind: str) -> str:
    return {"fraction": "value(s) that are not whole numbers (DREAM codes are integers; a code like 130.5 is not a code)",
            "nonfinite": "non-finite value(s) (inf or nan; DREAM codes are integers)"}.get(
        kind, "value(s) that are not numbers (DREAM codes are integers)")


def _code_problem(file: str, column: str, kind: str, n: int, where: str) -> DataValidationError:
    return DataValidationError(f"{file}: column {column!r} (benefit code) has {n} {_code_what(kind)}: {where}")


def _bad_code_kind(v) -> str | None:
    """Why one raw code value is not a DREAM code: ``"text"``, ``"fraction"``, ``"nonfinite"``, or None (a code
    or blank; a NaN float is a blank, as pandas reads an empty cell)."""
    if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and v != v):
        return None
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return None
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return "nonfinite"
        return None if float(v).is_integer() else "fraction"
    t = str(v).strip()
    if not t:
        return None
    if NONFINITE_TEXT.match(t):
        return "nonfinite"
    x = pd.to_numeric(pd.Series([t]), errors="coerce").iloc[0]
    if pd.isna(x):
        return "text"
    return None if float(x).is_integer() else "fraction"


def _codes_from_values(values, file: str, column: str, rows: Sequence) -> np.ndarray:
    """Integer codes (-1 = blank) from a column of DREAM codes; non-numeric or fractional codes are an error."""
    arr = values
    if isinstance(arr, pd.Series):
        arr = arr.to_numpy(dtype=object, na_value=None) if not pd.api.types.is_numeric_dtype(arr) else arr.to_numpy(dtype=np.float64, na_value=np.nan)
    arr = np.asarray(arr)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.floating):
        blank = np.isnan(arr)
        inf = ~blank & ~np.isfinite(arr)
        if inf.any():
            pos = np.flatnonzero(inf)
            raise _code_problem(file, column, "nonfinite", len(pos), _example_rows(rows, pos, arr))
        frac = ~blank & (arr != np.round(np.where(np.isfinite(arr), arr, 0)))
        if frac.any():
            pos = np.flatnonzero(frac)
            raise _code_problem(file, column, "fraction", len(pos), _example_rows(rows, pos, arr))
        return np.where(blank, -1, np.nan_to_num(arr, nan=-1)).astype(np.int64)
    s = pd.Series(arr, dtype="object").map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v).strip())
    s = s.where(s != "", None)
    num = pd.to_numeric(s, errors="coerce")
    nonfinite = (s.map(lambda v: v is not None and bool(NONFINITE_TEXT.match(v))) | (num.notna() & ~np.isfinite(num))).to_numpy()
    if nonfinite.any():
        pos = np.flatnonzero(nonfinite)
        raise _code_problem(file, column, "nonfinite", len(pos), _example_rows(rows, pos, s.to_numpy()))
    text = (num.isna() & s.notna()).to_numpy()
    frac = (num.notna() & (num != num.round())).to_numpy()
    if text.any():
        pos = np.flatnonzero(text)
        raise _code_problem(file, column, "text", len(pos), _example_rows(rows, pos, s.to_numpy()))
    if frac.any():
        pos = np.flatnonzero(frac)
        raise _code_problem(file, column, "fraction", len(pos), _example_rows(rows, pos, s.to_numpy()))
    return num.fillna(-1).to_numpy().astype(np.int64)


def _categorise(codes_int: np.ndarray, cl: CodeList, file: str, column: str, rows_of_unknown=None) -> np.ndarray:
    """Map integer codes (-1 blank) to category indices; unknown codes are an error listing them."""
    lut = cl.code_lut()
    c = codes_int
    inr = (c >= -1) & (c < len(lut) - 1)
    cat = np.full(c.shape, -1, dtype=np.int32)
    cat[inr] = lut[c[inr] + 1]
    if (cat < 0).any():
        bad = np.unique(c[cat < 0])
        where = ""
        if rows_of_unknown is not None:
            where = " (e.g. " + rows_of_unknown(np.argwhere(cat < 0)[:5]) + ")"
        raise DataValidationError(
            f"{file}: column {column!r} has {len(bad)} benefit code(s) not in code list {cl.version}: "
            f"{', '.join(map(str, bad[:30]))}{' …' if len(bad) > 30 else ''}{where}; add them to the code list "
            "or override the grouping in the study"
        )
    return cat.astype(cl.dtype)


def _check_unique_persons(ids: pd.Series, file: str, row_labels: Sequence, column: str) -> None:
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        pos = np.flatnonzero(dup)
        # rows only: a person id (a CPR number, maybe) is never printed
        raise DataValidationError(
            f"{file}: duplicate person-weeks: column {column!r} has {int(ids[dup].nunique())} person(s) on more than one "
            f"row of a wide register (one row per person): {_example_rows(row_labels, pos)}"
        )


def _check_blank_ids(ids: pd.Series, file: str, column: str, row_labels: Sequence) -> None:
    blank = ids.isna() | (ids == "")
    if blank.any():
        pos = np.flatnonzero(blank.to_numpy())
        raise DataValidationError(
            f"{file}: column {column!r} is empty in {int(blank.sum())} row(s): {_example_rows(row_labels, pos)}; "
            "every row needs a person id"
        )
