"""Building a :class:`~evaluation.data.registers.Panel` from an in-memory frame (any layout)."""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from evaluation.data.registers.codes import CodeList, _resolve_codes
from evaluation.data.registers.layout import RegisterLayout
from evaluation.data.registers.panel import Panel
from evaluation.data.registers.values import (
    _categorise,
    _check_blank_ids,
    _check_unique_persons,
    _codes_from_values,
    _example_rows,
    _ids_to_text,
    _label,
    _maybe_pseudonymise,
)
from evaluation.data.weeks import WeekRange, format_week, format_weeks, is_dream_column, parse_weeks
from evaluation.exceptions import DataValidationError
from evaluation.data.tables import column_list


@dataclasses.dataclass(frozen=True)
class PersonRule:
    """Which persons a panel holds and how their ids are protected.

    ``participants`` restricts the panel to these (pseudonymised) persons, in this order;
    ``absent_persons`` says whether participants without rows are an error or self-supporting
    in every week; ``key``/``pseudonymise`` hash ids that look like CPR numbers (``"auto"``) or always.
    """

    participants: object = None
    absent_persons: str = "error"
    key: bytes | None = None
    pseudonymise: bool | str = "auto"


def _from_wide(
    ids: pd.Series, cols: list[str], getcol, cl: CodeList, file: str, row_labels: Sequence, notes: list[str]
) -> tuple[np.ndarray, WeekRange]:
    """Build the matrix from wide columns; ``getcol(name)`` returns the column's values."""
    if not cols:
        raise DataValidationError(f"{file}: a wide register needs DREAM week columns named y_YYWW (e.g. y_1801 for "
                                  "2018-W01); the file has none")
    ords = parse_weeks(np.asarray(cols, dtype=object), file=file, column="<week column names>")
    if len(np.unique(ords)) != len(ords):
        u, cnt = np.unique(ords, return_counts=True)
        dups = [c for c, o in zip(cols, ords) if o in set(u[cnt > 1])]
        raise DataValidationError(f"{file}: duplicate person-weeks: several columns name the same ISO week: {dups[:6]}")
    order = np.argsort(ords)
    ords_sorted = ords[order]
    first, last = int(ords_sorted[0]), int(ords_sorted[-1])
    if last - first + 1 != len(ords):
        have = set(ords_sorted.tolist())
        gaps = [o for o in range(first, last + 1) if o not in have]
        raise DataValidationError(
            f"{file}: the week columns are not contiguous; missing {len(gaps)} week(s): "
            f"{', '.join(format_weeks(gaps[:8]))} (a missing column cannot be read as 'no benefit')"
        )
    wr = WeekRange(first, len(ords))
    n = len(ids)
    mat = np.empty((n, len(ords)), dtype=cl.dtype, order="C")
    for j, pos in enumerate(order):
        name = cols[pos]
        codes_int = _codes_from_values(getcol(name), file, name, row_labels)
        mat[:, j] = _categorise(
            codes_int, cl, file, name,
            rows_of_unknown=lambda a, name=name, ci=codes_int: ", ".join(
                f"{_label(row_labels[int(i[0])])}: {int(ci[int(i[0])])}" for i in a
            ),
        )
    return mat, wr


def _assemble(
    rows: np.ndarray, ords: np.ndarray, cats: np.ndarray, persons: pd.Index, cl: CodeList, file: str,
    raw_ids: np.ndarray, week_column: str, row_labels: Sequence, week_range: WeekRange | None,
) -> tuple[np.ndarray, WeekRange]:
    """Scatter person-week categories into a dense matrix; duplicates are an error."""
    if week_range is None:
        if len(ords):
            week_range = WeekRange(int(ords.min()), int(ords.max() - ords.min() + 1))
        else:
            week_range = WeekRange(0, 0)
    cols = ords - week_range.first
    mat = np.zeros((len(persons), len(week_range)), dtype=cl.dtype)
    if len(rows):
        key = rows.astype(np.int64) * max(len(week_range), 1) + cols
        order = np.argsort(key, kind="stable")
        ks = key[order]
        dupmask = np.zeros(len(ks), dtype=bool)
        dupmask[1:] = ks[1:] == ks[:-1]
        if dupmask.any():
            first_dup = order[np.flatnonzero(dupmask)]
            pos = np.sort(first_dup)
            # rows and weeks only: a person id (a CPR number, maybe) is never printed
            raise DataValidationError(
                f"{file}: duplicate person-weeks: {int(dupmask.sum())} row(s) repeat a person and week already given "
                f"(columns person and {week_column!r}): "
                + ", ".join(f"{_label(row_labels[int(i)])}: {format_week(int(ords[int(i)]))}" for i in pos[:5])
                + (f" (and {len(pos) - 5} more)" if len(pos) > 5 else "")
            )
        mat[rows, cols] = cats
    return mat, week_range


def _participants_persons(participants) -> pd.Index | None:
    if participants is None:
        return None
    if isinstance(participants, pd.DataFrame):
        return pd.Index(participants.index.astype("string"), name="person")
    return pd.Index(pd.Index(participants).astype("string"), name="person")


def _finish_persons(
    present: pd.Index, wanted: pd.Index | None, mat: np.ndarray, absent_persons: str, cl: CodeList, file: str, notes: list[str]
) -> tuple[np.ndarray, pd.Index]:
    """Restrict/extend the panel to ``wanted`` persons; absent persons are an error or self-support."""
    if wanted is None:
        return mat, present
    idx = present.get_indexer(wanted)
    missing = idx < 0
    if missing.any():
        if absent_persons == "error":
            ex = ", ".join(map(str, wanted[missing][:5]))
            raise DataValidationError(
                f"{file}: {int(missing.sum())} participant(s) have no rows in the register (e.g. {ex}); "
                "if the extract leaves out persons never on benefit, set absent_persons: self_support on the register's data "
                "source (absent_persons='self_support' in Python)"
            )
        if absent_persons != "self_support":
            raise DataValidationError(f"absent_persons must be 'error' or 'self_support', not {absent_persons!r}")
        notes.append(
            f"{file}: {int(missing.sum())} deltager(e) uden rækker i registret regnet som selvforsørgende i alle uger"
        )
    out = np.zeros((len(wanted), mat.shape[1]), dtype=mat.dtype)
    out[~missing] = mat[idx[~missing]]
    dropped = len(present) - int((~missing).sum())
    if dropped:
        notes.append(f"{file}: {dropped} person(er) i registret er ikke deltagere og indgår ikke")
    return out, wanted


def register_from_frame(
    df: pd.DataFrame,
    layout: RegisterLayout | str = "auto",
    *,
    codes: CodeList | str | Mapping | None = None,
    participants=None,
    absent_persons: str = "error",
    key: bytes | None = None,
    pseudonymise: bool | str = "auto",
    file: str = "<register frame>",
    **layout_fields,
) -> Panel:
    """Build a :class:`Panel` from a pandas frame in wide, long or spells layout.

    The person id is taken from ``person_column`` or, when the frame has no such column, from
    its index (as after :func:`evaluation.data.study_data.load_study_data`). The input is not modified.

    Parameters
    ----------
    df : DataFrame
    layout : RegisterLayout or {"auto", "wide", "long", "spells"}
        The layout (columns, and the weeks the extract covers); its fields may also be given as
        keywords (``person_column``, ``week_column``, ``code_column``, ``start_column``,
        ``end_column``, ``first_week``, ``last_week``), see :class:`RegisterLayout`.
    codes : CodeList, path, mapping or None
        Code list; a mapping is an override of the default grouping (``{"130-135": "kontanthjaelp"}``).
    participants : DataFrame or sequence, optional
        Restrict the panel to these (pseudonymised) persons, in this order.
    absent_persons : {"error", "self_support"}
        What to do with participants that have no register rows.
    key, pseudonymise
        Keyed hash for ids that look like CPR numbers (``"auto"``) or always (``True``).
    file : str
        Name used in error messages.

    Returns
    -------
    Panel

    Raises
    ------
    DataValidationError
        Non-ISO weeks, duplicate person-weeks, unknown or non-numeric codes, missing ids.

    Examples
    --------
    >>> wide = pd.DataFrame({"person": ["a", "b"], "y_1552": [890, None], "y_1553": [890, 130]})
    >>> register_from_frame(wide).weeks.labels()
    ['2015-W52', '2015-W53']
    """
    lay = RegisterLayout.of(layout, **layout_fields)
    rule = PersonRule(participants, absent_persons, key, pseudonymise)
    return _panel_from_frame(df, lay, _resolve_codes(codes), rule, file)


def _row_labels(n: int, file: str, lines=None, unit: str | None = None) -> list:
    """How each row is named: the given line numbers, a CSV/Excel file's line (header on line 1), else 'row i'."""
    if lines is not None:
        word = unit or "line"
        return [f"{word} {int(x)}" for x in lines]
    low = file.lower()
    if low.endswith((".csv", ".txt", ".tsv")):
        return [f"line {i + 2}" for i in range(n)]
    if ".xlsx" in low:
        return [f"row {i + 2}" for i in range(n)]
    return [f"row {i + 1}" for i in range(n)]


def _panel_from_frame(df: pd.DataFrame, lay: RegisterLayout, cl: CodeList, rule: PersonRule, file: str,
                      lines=None, unit: str | None = None) -> Panel:
    notes: list[str] = [f"{file}: {len(df)} rækker indlæst ({cl.version})"]
    cols = [str(c) for c in df.columns]
    lay = lay.with_kind(cols, file)
    person_column = lay.person_column
    if person_column in df.columns:
        raw_ids = _ids_to_text(df[person_column].to_numpy())
    else:
        raw_ids = _ids_to_text(np.asarray(df.index))
    row_labels = _row_labels(len(df), file, lines, unit)
    _check_blank_ids(raw_ids, file, person_column, row_labels)
    ids = _maybe_pseudonymise(raw_ids, rule.pseudonymise, rule.key, notes, file)
    wanted = _participants_persons(rule.participants)

    if lay.kind == "wide":
        _check_unique_persons(raw_ids, file, row_labels, person_column)
        wcols = [c for c in df.columns if is_dream_column(str(c))]
        other = [c for c in df.columns if c not in wcols and c != person_column]
        if other:
            notes.append(f"{file}: kolonner uden for ugerne ignoreret: {', '.join(map(str, other[:10]))}")
        mat, wr = _from_wide(ids, [str(c) for c in wcols], lambda name: df[name], cl, file, row_labels, notes)
        persons = pd.Index(ids.to_numpy(), name="person")
        if lay.declares_weeks:
            mat, wr = _rewindow(mat, wr, lay.week_range(wr), cl)
    else:
        week_column, code_column, start_column, end_column = lay.week_column, lay.code_column, lay.start_column, lay.end_column
        need = [code_column] + ([week_column] if lay.kind == "long" else [start_column, end_column])
        miss = [c for c in need if c not in df.columns]
        if miss:
            raise DataValidationError(f"{file}: the {lay.kind} register lacks column(s) {miss}; it has: {column_list(cols)}")
        if lay.kind == "long":
            ords = parse_weeks(df[week_column].to_numpy(), file=file, column=week_column, rows=row_labels)
            codes_int = _codes_from_values(df[code_column], file, code_column, row_labels)
            src = np.arange(len(df))
        else:
            s = parse_weeks(df[start_column].to_numpy(), file=file, column=start_column, rows=row_labels)
            e = parse_weeks(df[end_column].to_numpy(), file=file, column=end_column, rows=row_labels)
            bad = e < s
            if bad.any():
                pos = np.flatnonzero(bad)
                raise DataValidationError(
                    f"{file}: column {end_column!r} is before {start_column!r} in {int(bad.sum())} spell(s): "
                    + ", ".join(f"{_label(row_labels[i])}: {format_week(int(s[i]))}..{format_week(int(e[i]))}" for i in pos[:5])
                )
            lens = (e - s + 1).astype(np.int64)
            src = np.repeat(np.arange(len(df)), lens)
            offs = np.arange(len(src)) - np.repeat(np.cumsum(lens) - lens, lens)
            ords = s[src] + offs
            codes_int = _codes_from_values(df[code_column], file, code_column, row_labels)[src]
        blank = codes_int < 0
        if blank.any():
            pos = src[np.flatnonzero(blank)]
            raise DataValidationError(
                f"{file}: column {code_column!r} is empty in {int(blank.sum())} row(s) of a {lay.kind} register "
                f"(leave the week out instead): {_example_rows(row_labels, np.unique(pos))}"
            )
        cats = _categorise(
            codes_int, cl, file, code_column,
            rows_of_unknown=lambda a: ", ".join(f"{_label(row_labels[int(src[int(i[0])])])}: {int(codes_int[int(i[0])])}" for i in a),
        )
        persons, inv = np.unique(ids.to_numpy(dtype=object), return_inverse=True)
        persons = pd.Index(persons, name="person")
        wr = None
        if lay.declares_weeks:
            base = WeekRange(int(ords.min()), int(ords.max() - ords.min() + 1)) if len(ords) else WeekRange(0, 0)
            wr = lay.week_range(base)
            keep = (ords >= wr.first) & (ords <= wr.last)
            if (~keep).any():
                notes.append(f"{file}: {int((~keep).sum())} person-uger uden for {wr!r} udeladt")
            src, ords, cats = src[keep], ords[keep], cats[keep]
        mat, wr = _assemble(
            inv[src], ords, cats, persons, cl, file, raw_ids.to_numpy(dtype=object)[src],
            week_column if lay.kind == "long" else f"{start_column}/{end_column} (overlapping spells)",
            [row_labels[i] for i in src] if len(src) < 5_000_000 else np.asarray(row_labels)[src], wr,
        )
    mat, persons = _finish_persons(persons, wanted, mat, rule.absent_persons, cl, file, notes)
    return Panel(np.ascontiguousarray(mat), persons, wr, cl, notes)


def _rewindow(mat: np.ndarray, wr: WeekRange, new: WeekRange, cl: CodeList) -> tuple[np.ndarray, WeekRange]:
    """Cut or widen the week range; widened weeks have no code."""
    out = np.zeros((mat.shape[0], len(new)), dtype=mat.dtype)
    lo, hi = max(wr.first, new.first), min(wr.last, new.last)
    if hi >= lo:
        out[:, lo - new.first: hi - new.first + 1] = mat[:, lo - wr.first: hi - wr.first + 1]
    return out, new
