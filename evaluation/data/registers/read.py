"""Reading register and participant files (CSV, Parquet, Excel) into panels and frames."""

from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from evaluation.data.registers.codes import CodeList, _resolve_codes
from evaluation.data.registers.duck import _code_table, _duck, _duck_frame, _duck_reason, _reraise_out_of_memory, _format_for, _q, _rn, _scan_sql, _unit, _week_table
from evaluation.data.registers.frame import PersonRule, _assemble, _finish_persons, _panel_from_frame, _participants_persons
from evaluation.data.registers.layout import RegisterLayout
from evaluation.data.registers.panel import Panel
from evaluation.data.registers.values import _check_blank_ids, _example_rows, _ids_to_text, _maybe_pseudonymise
from evaluation.data.weeks import WeekRange, format_weeks, parse_weeks
from evaluation.exceptions import DataValidationError
from evaluation.data.tables import column_list


def read_register(
    path: str | os.PathLike,
    layout: RegisterLayout | str = "auto",
    *,
    codes: CodeList | str | Mapping | None = None,
    participants=None,
    absent_persons: str = "error",
    key: bytes | None = None,
    pseudonymise: bool | str = "auto",
    fmt: str | None = None,
    sheet: str | int | None = None,
    separator: str = ",",
    encoding: str | None = None,
    file: str | None = None,
    **layout_fields,
) -> Panel:
    """Read a weekly register (CSV, Parquet or Excel; wide, long or spells) into a :class:`Panel`.

    CSV and Parquet are scanned with DuckDB; for the long layout the week and code
    translation tables and the person table are joined in SQL, so only
    ``(row, week, category)`` triples reach Python. Excel goes through pandas/openpyxl.
    The file is opened read-only.

    Parameters
    ----------
    path : path-like
    layout : RegisterLayout or str
        The layout and the weeks the extract covers; its fields may be given as keywords
        (see :class:`RegisterLayout`).
    codes, participants, absent_persons, key, pseudonymise
        As in :func:`register_from_frame`.
    fmt : {"csv", "parquet", "xlsx"}, optional
        Inferred from the extension when omitted.
    sheet : str or int, optional
        Excel sheet.
    separator : str
        CSV field separator.
    encoding : str, optional
        Text encoding of a CSV file (default UTF-8; a file that is not UTF-8 is read as cp1252 with a
        note, see :mod:`evaluation.data.tables`).
    file : str, optional
        How messages name the file (default: the path).

    Returns
    -------
    Panel

    Raises
    ------
    DataValidationError
        Naming the file, the column and example rows.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> pd.DataFrame({"person": ["a", "a"], "week": [202053, 202101], "code": [890, 890]}).to_csv(
    ...     os.path.join(d, "reg.csv"), index=False)
    >>> read_register(os.path.join(d, "reg.csv")).weeks.labels()
    ['2020-W53', '2021-W01']
    """
    lay = RegisterLayout.of(layout, **layout_fields)
    rule = PersonRule(participants, absent_persons, key, pseudonymise)
    cl = _resolve_codes(codes)
    path = Path(path)
    file = file or str(path)
    if path.is_dir():
        raise DataValidationError(f"{file}: is a folder, not a register file")
    if not path.is_file():
        raise DataValidationError(f"{file}: the register file does not exist")
    fmt = _format_for(path, fmt)
    utf8 = encoding is None or codecs.lookup(encoding).name == "utf-8"
    ids = (lay.person_column,) if fmt == "csv" and _header_has(path, lay.person_column, separator) else ()
    if fmt == "csv" and not utf8 or fmt == "xlsx" or fmt not in ("csv", "parquet"):
        return _read_via_table(path, lay, cl, rule, file, fmt, sheet, separator, encoding)
    if fmt == "csv" and lay.kind == "spells":
        return _panel_from_frame(_duck_frame(path, fmt, separator, file=file, text_columns=ids), lay, cl, rule, file)
    con = _duck()
    scan = _scan_sql(path, fmt, separator, text_columns=ids if fmt == "csv" else ())
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    except Exception as exc:  # noqa: BLE001 - duckdb raises its own exception types
        _reraise_out_of_memory(exc)
        if fmt == "csv" and "unicode" in str(exc).lower():
            # not UTF-8: read by the table reader, which falls back to cp1252 with a note
            return _read_via_table(path, lay, cl, rule, file, fmt, sheet, separator, encoding)
        raise DataValidationError(f"{file}: could not be read as {fmt}: {_duck_reason(exc)}") from None
    lay = lay.with_kind(cols, file)
    if lay.person_column not in cols:
        raise DataValidationError(f"{file}: no person column {lay.person_column!r}; columns: {column_list(cols, 12)}")
    if lay.kind in ("wide", "spells"):
        return _panel_from_frame(_duck_frame(path, fmt, separator, con=con, file=file, text_columns=ids), lay, cl, rule, file)
    return _read_long_duck(con, path, scan, cols, lay, cl, rule, file)


def _header_has(path: Path, column: str, separator: str) -> bool:
    """Whether a CSV file's header line names ``column`` (DuckDB refuses a type for a column it lacks)."""
    import csv

    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            header = next(csv.reader([fh.readline()], delimiter=separator), [])
    except OSError:
        return False
    return column in [h.strip().lstrip("\ufeff") for h in header]


def _read_via_table(path: Path, lay: RegisterLayout, cl: CodeList, rule: PersonRule, file: str, fmt: str, sheet,
                    separator: str, encoding: str | None) -> Panel:
    """Excel and non-UTF-8 CSV registers: read by the table reader (exact rows, encoding detected)."""
    from evaluation.data.tables import ReadOptions, read_table_file

    table = read_table_file(path, ReadOptions(fmt=fmt, sheet=sheet, separator=separator, encoding=encoding,
                                              text_columns=(lay.person_column,)), file=file)
    panel = _panel_from_frame(table.frame, lay, cl, rule, table.file, lines=table.lines, unit=table.unit)
    panel.notes.extend(f"{table.file}: {n}" for n in table.notes)
    return panel


def _read_long_duck(con, path: Path, scan: str, cols: list[str], lay: RegisterLayout, cl: CodeList,
                    rule: PersonRule, file: str | None = None) -> Panel:
    person_column, week_column, code_column = lay.person_column, lay.week_column, lay.code_column
    file = file or str(path)
    for c in (week_column, code_column):
        if c not in cols:
            raise DataValidationError(f"{file}: the long register lacks column {c!r}; it has: {column_list(cols, 12)}")
    notes: list[str] = []
    n_rows = con.execute(f"SELECT count(*) FROM {scan}").fetchone()[0]
    notes.append(f"{file}: {n_rows} rækker indlæst ({cl.version})")
    pc = _q(person_column)
    blank = con.execute(
        f"SELECT rn FROM (SELECT {_rn(scan)} AS rn, {pc} AS p FROM {scan}) "
        "WHERE p IS NULL OR trim(CAST(p AS VARCHAR)) = '' ORDER BY rn LIMIT 5"
    ).fetchall()
    if blank:
        raise DataValidationError(
            f"{file}: column {person_column!r} is empty in row(s) ({_unit(scan)}s {', '.join(str(r[0]) for r in blank)}); "
            "every row needs a person id"
        )
    weeks = _week_table(con, scan, week_column, file)
    codes_t = _code_table(con, scan, code_column, cl, file)
    raw = con.execute(f"SELECT DISTINCT CAST({pc} AS VARCHAR) AS p FROM {scan} ORDER BY p").df()["p"].astype("string").str.strip()
    pseud = _maybe_pseudonymise(raw, rule.pseudonymise, rule.key, notes, file)
    persons_t = pd.DataFrame({"p": raw.to_numpy(dtype=object), "row": np.arange(len(raw), dtype=np.int64)})
    con.register("persons_t", persons_t)
    con.register("weeks_t", weeks)
    con.register("codes_t", codes_t)
    # duplicate person-weeks
    dups = con.execute(
        f"SELECT rn, w FROM (SELECT {_rn(scan)} AS rn, CAST({pc} AS VARCHAR) AS p, "
        f"{_q(week_column)} AS w, count(*) OVER (PARTITION BY CAST({pc} AS VARCHAR), {_q(week_column)}) AS n "
        f"FROM {scan}) WHERE n > 1 ORDER BY rn LIMIT 6"
    ).fetchall()
    if dups:
        n_dup = con.execute(
            f"SELECT count(*) FROM (SELECT count(*) AS n FROM {scan} GROUP BY CAST({pc} AS VARCHAR), "
            f"{_q(week_column)} HAVING count(*) > 1)"
        ).fetchone()[0]
        # lines and weeks only: a person id (a CPR number, maybe) is never printed
        raise DataValidationError(
            f"{file}: duplicate person-weeks: {n_dup} person-week(s) occur on more than one row "
            f"(columns {person_column!r}, {week_column!r}): "
            + ", ".join(f"{_unit(scan)} {rn}: {w!r}" for rn, w in dups[:5])
            + (" …" if len(dups) > 5 else "") + "; expected one row per person and week"
        )
    trip = con.execute(
        f"SELECT pt.row AS r, wt.ord AS o, ct.cat AS c FROM {scan} AS reg "
        f"JOIN persons_t pt ON CAST(reg.{pc} AS VARCHAR) = pt.p "
        f"JOIN weeks_t wt ON reg.{_q(week_column)} IS NOT DISTINCT FROM wt.w "
        f"JOIN codes_t ct ON reg.{_q(code_column)} IS NOT DISTINCT FROM ct.c"
    ).fetchnumpy()
    r, o, c = (np.asarray(trip[k]) for k in ("r", "o", "c"))
    if len(r) != n_rows:
        raise DataValidationError(f"{file}: {n_rows - len(r)} row(s) could not be matched to person/week/code tables")
    persons = pd.Index(pseud.to_numpy(dtype=object), name="person")
    wr = None
    if lay.declares_weeks:
        base = WeekRange(int(o.min()), int(o.max() - o.min() + 1)) if len(o) else WeekRange(0, 0)
        wr = lay.week_range(base)
        keep = (o >= wr.first) & (o <= wr.last)
        if (~keep).any():
            notes.append(f"{file}: {int((~keep).sum())} person-uger uden for {wr!r} udeladt")
        r, o, c = r[keep], o[keep], c[keep]
    mat, wr = _assemble(r, o, c.astype(cl.dtype), persons, cl, file, np.asarray(r), week_column, np.asarray(r), wr)
    wanted = _participants_persons(rule.participants)
    mat, persons = _finish_persons(persons, wanted, mat, rule.absent_persons, cl, file, notes)
    return Panel(np.ascontiguousarray(mat), persons, wr, cl, notes)


def read_participants(
    source: str | os.PathLike | pd.DataFrame,
    *,
    person_column: str = "person",
    index_week_column: str = "index_week",
    group_column: str | None = "group",
    key: bytes | None = None,
    pseudonymise: bool | str = "auto",
    fmt: str | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read participants: person id, group, index week (ISO) and optional covariates.

    Returns a frame indexed by ``person`` (pseudonymised when ids look like CPR numbers) whose
    ``index_week`` column holds ``YYYY-Www`` strings; all other columns are kept as covariates.
    The input frame or file is not modified.

    Raises
    ------
    DataValidationError
        Missing columns, blank or duplicate ids, index weeks that are not ISO weeks.

    Examples
    --------
    >>> p = read_participants(pd.DataFrame({"person": ["a", "b"], "group": ["I", "K"],
    ...                                     "index_week": [201553, "2016-W01"]}))
    >>> p["index_week"].tolist()
    ['2015-W53', '2016-W01']
    """
    if isinstance(source, pd.DataFrame):
        df, file = source, "<participants frame>"
    else:
        path = Path(source)
        file = str(path)
        if not path.is_file():
            raise DataValidationError(f"{path}: the participants file does not exist")
        f = _format_for(path, fmt)
        df = pd.read_excel(path, sheet_name=sheet or 0) if f == "xlsx" else _duck_frame(path, f, ",")
    need = [c for c in (person_column, index_week_column, group_column) if c and c not in df.columns]
    if need:
        raise DataValidationError(f"{file}: participants lack column(s) {need}; columns: {list(map(str, df.columns))}")
    rows = [i + 2 for i in range(len(df))] if file.endswith(".csv") else list(range(len(df)))
    raw = _ids_to_text(df[person_column].to_numpy())
    _check_blank_ids(raw, file, person_column, rows)
    dup = raw.duplicated(keep=False).to_numpy()
    if dup.any():
        raise DataValidationError(
            f"{file}: column {person_column!r} has person(s) on more than one row: "
            f"{_example_rows(rows, np.flatnonzero(dup), raw.to_numpy())}; expected one row per person"
        )
    notes: list[str] = []
    ids = _maybe_pseudonymise(raw, pseudonymise, key, notes, file)
    ords = parse_weeks(df[index_week_column].to_numpy(), file=file, column=index_week_column, rows=rows)
    out = df.drop(columns=[person_column]).copy()
    out.index = pd.Index(ids.to_numpy(dtype=object), name="person")
    out[index_week_column] = format_weeks(ords)
    out.attrs["notes"] = notes
    return out
