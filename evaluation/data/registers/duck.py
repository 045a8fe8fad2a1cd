"""DuckDB scans of CSV and Parquet registers: file formats, the week and code translation tables.

DuckDB is used because it scans CSV and Parquet lazily and joins the (person, week, code) rows to
small translation tables in SQL, so only integer triples reach Python.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.data.registers.codes import CodeList
from evaluation.data.registers.values import _codes_from_values
from evaluation.data.weeks import parse_weeks
from evaluation.exceptions import DataValidationError

def _format_for(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    return {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx", ".xls": "xlsx"}.get(
        path.suffix.lower(), "csv"
    )


def _duck():
    import duckdb

    return duckdb.connect()


def _scan_sql(path: Path, fmt: str, separator: str = ",") -> str:
    p = str(path).replace("'", "''")
    if fmt == "parquet":
        return f"read_parquet('{p}')"
    if fmt == "csv":
        sep = separator.replace("'", "''")
        return f"read_csv('{p}', header=true, delim='{sep}', sample_size=-1)"
    raise DataValidationError(f"{path}: format {fmt!r} cannot be scanned by DuckDB")


def _duck_frame(path: Path, fmt: str, separator: str, con=None) -> pd.DataFrame:
    con = con or _duck()
    try:
        return con.execute(f"SELECT * FROM {_scan_sql(path, fmt, separator)}").df()
    except Exception as exc:
        raise DataValidationError(f"{path}: could not be read as {fmt}: {exc}") from None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _week_table(con, scan: str, week_column: str, file: str, where: str = "") -> pd.DataFrame:
    """Distinct raw week values → ordinal (non-ISO values are an error naming rows)."""
    wk = _q(week_column)
    distinct = con.execute(f"SELECT DISTINCT {wk} AS w FROM {scan} {where}").df()["w"]
    try:
        ords = parse_weeks(distinct.to_numpy(dtype=object), file=file, column=week_column)
    except DataValidationError:
        # find the rows for the message
        vals = distinct.to_numpy(dtype=object)
        bad = []
        for v in vals:
            try:
                parse_weeks([v])
            except DataValidationError:
                bad.append(v)
        bad_df = pd.DataFrame({"w": pd.Series(bad, dtype=distinct.dtype)})
        con.register("bad_weeks", bad_df)
        rows = con.execute(
            f"SELECT rn, w FROM (SELECT row_number() OVER () + 1 AS rn, {wk} AS w FROM {scan}) "
            f"WHERE w IN (SELECT w FROM bad_weeks) OR (w IS NULL AND (SELECT count(*) FROM bad_weeks WHERE w IS NULL) > 0) "
            "ORDER BY rn LIMIT 5"
        ).fetchall()
        raise DataValidationError(
            f"{file}: column {week_column!r} has {len(bad)} distinct value(s) that are not ISO year-weeks "
            f"(expected e.g. 2018-W01, 201801 or y_1801; week 53 only in 53-week years): "
            + ", ".join(f"line {r[0]}: {r[1]!r}" for r in rows)
        ) from None
    return pd.DataFrame({"w": distinct, "ord": ords})


def _code_table(con, scan: str, code_column: str, cl: CodeList, file: str, where: str = "") -> pd.DataFrame:
    """Distinct raw codes → category index (unknown/non-numeric/blank codes are an error)."""
    cc = _q(code_column)
    distinct = con.execute(f"SELECT DISTINCT {cc} AS c FROM {scan} {where}").df()["c"]
    vals = distinct.to_numpy(dtype=object)
    try:
        ints = _codes_from_values(pd.Series(vals, dtype=object), file, code_column, list(map(repr, vals)))
    except DataValidationError:
        rows = con.execute(
            f"SELECT rn, c FROM (SELECT row_number() OVER () + 1 AS rn, {cc} AS c FROM {scan}) "
            "WHERE TRY_CAST(trim(CAST(c AS VARCHAR)) AS BIGINT) IS NULL AND c IS NOT NULL "
            "AND trim(CAST(c AS VARCHAR)) <> '' ORDER BY rn LIMIT 5"
        ).fetchall()
        raise DataValidationError(
            f"{file}: column {code_column!r} has non-numeric benefit code(s) (DREAM codes are integers): "
            + ", ".join(f"line {r[0]}: {r[1]!r}" for r in rows)
        ) from None
    if (ints < 0).any():
        rows = con.execute(
            f"SELECT rn FROM (SELECT row_number() OVER () + 1 AS rn, {cc} AS c FROM {scan}) "
            "WHERE c IS NULL OR trim(CAST(c AS VARCHAR)) = '' ORDER BY rn LIMIT 5"
        ).fetchall()
        raise DataValidationError(
            f"{file}: column {code_column!r} is empty in some row(s) of a long register (leave the week out "
            f"instead): " + ", ".join(f"line {r[0]}" for r in rows)
        )
    lut = cl.code_lut()
    inr = ints < len(lut) - 1
    cat = np.full(len(ints), -1, dtype=np.int64)
    cat[inr] = lut[ints[inr] + 1]
    if (cat < 0).any():
        bad = np.unique(ints[cat < 0])
        con.register("bad_codes", pd.DataFrame({"c": bad}))
        rows = con.execute(
            f"SELECT rn, c FROM (SELECT row_number() OVER () + 1 AS rn, TRY_CAST({cc} AS BIGINT) AS c FROM {scan}) "
            "WHERE c IN (SELECT c FROM bad_codes) ORDER BY rn LIMIT 5"
        ).fetchall()
        raise DataValidationError(
            f"{file}: column {code_column!r} has {len(bad)} benefit code(s) not in code list {cl.version}: "
            f"{', '.join(map(str, bad[:30]))}{' …' if len(bad) > 30 else ''} (e.g. "
            + ", ".join(f"line {r[0]}: {r[1]}" for r in rows)
            + "); add them to the code list or override the grouping in the study"
        )
    return pd.DataFrame({"c": distinct, "cat": cat})
