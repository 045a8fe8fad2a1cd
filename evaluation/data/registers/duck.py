"""DuckDB scans of CSV and Parquet registers: file formats, the week and code translation tables.

DuckDB is used because it scans CSV and Parquet lazily and joins the (person, week, code) rows to
small translation tables in SQL, so only integer triples reach Python.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.data.registers.codes import CodeList
from evaluation.data.registers.values import _bad_code_kind, _code_what, _codes_from_values
from evaluation.data.weeks import parse_weeks
from evaluation.exceptions import DataValidationError

def _format_for(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    return {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx", ".xls": "xlsx"}.get(
        path.suffix.lower(), "csv"
    )


#: environment variable that sets DuckDB's memory limit (a size DuckDB understands: "2GB", "500MB")
MEMORY_ENV = "EVALUATION_DUCKDB_MEMORY"
_MIB = 1024 * 1024


def _proc_kib(field: str, path: str = "/proc/self/status") -> int | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def memory_budget() -> int:
    """Bytes DuckDB may use: half of what this process can still get.

    DuckDB's own default is 80 % of the machine's physical memory, which it does not have under an
    address-space limit (``ulimit -v``), a container's memory limit or on a busy machine; it then fails with
    an allocation error mid-query. What the process can still get is the least of: the memory available on
    the machine (``MemAvailable``), the room left under the address-space limit (``RLIMIT_AS`` minus the
    process's current virtual size) and the room left under a cgroup v2 memory limit. Half of that leaves
    the rest to pandas and numpy; at least 64 MiB.
    """
    import resource

    room: list[int] = []
    avail = _proc_kib("MemAvailable", "/proc/meminfo")
    if avail is not None:
        room.append(avail * 1024)
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft not in (resource.RLIM_INFINITY, -1):
            vm = _proc_kib("VmSize")
            room.append(soft - (vm * 1024 if vm is not None else 0))
    except (OSError, ValueError):
        pass
    try:
        cg_max = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if cg_max.isdigit():
            room.append(int(cg_max) - int(Path("/sys/fs/cgroup/memory.current").read_text().strip()))
    except (OSError, ValueError):
        pass
    if not room:
        return 1024 * _MIB  # nothing known (not Linux): a modest limit rather than DuckDB's 80 % of the machine
    return max(64 * _MIB, min(room) // 2)


def _fewer_malloc_arenas() -> None:
    """Under an address-space limit, let glibc's malloc keep at most two arenas.

    glibc gives every new thread its own malloc arena and reserves 64 MiB of address space for each (up to
    8 per core); DuckDB starts its threads when it connects, so connecting alone took ~580 MiB of a 1 GiB
    ``ulimit -v`` and the first scan failed with an allocation error. Only reserved address space is
    saved (the memory used is the same); without an address-space limit nothing is changed.
    """
    import ctypes
    import ctypes.util
    import platform
    import resource

    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft in (resource.RLIM_INFINITY, -1) or platform.libc_ver()[0] != "glibc":
            return
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, 2)  # M_ARENA_MAX (malloc.h)
    except (OSError, AttributeError, ValueError):
        return


def _duck():
    """A DuckDB connection with a memory limit (:func:`memory_budget`, or ``EVALUATION_DUCKDB_MEMORY``) and no more
    threads than the budget carries (one per 256 MiB, at least one): each DuckDB thread reserves address space of
    its own, so under a 1 GiB address-space limit even connecting failed with the default of one per core."""
    import os

    import duckdb

    from evaluation.exceptions import EvaluationError

    wanted = os.environ.get(MEMORY_ENV, "").strip()
    budget = memory_budget()
    limit = wanted or f"{max(64, budget // _MIB)}MB"
    threads = max(1, min(os.cpu_count() or 1, budget // (256 * _MIB)))
    _fewer_malloc_arenas()
    try:
        return duckdb.connect(config={"memory_limit": limit, "threads": threads})
    except duckdb.OutOfMemoryException:
        raise
    except duckdb.Error as exc:
        if not wanted:
            raise
        raise EvaluationError(f"{MEMORY_ENV}={wanted!r} is not a memory size DuckDB understands (e.g. 2GB or "
                              f"500MB): {str(exc).splitlines()[0][:160]}") from None


def _scan_sql(path: Path, fmt: str, separator: str = ",", encoding: str | None = None,
              text_columns: tuple[str, ...] = ()) -> str:
    p = str(path).replace("'", "''")
    if fmt == "parquet":
        return f"read_parquet('{p}')"
    if fmt == "csv":
        sep = separator.replace("'", "''")
        enc = f", encoding='{encoding}'" if encoding else ""
        # identifiers stay text, so 0101901234 keeps its leading zero (as the participants file's ids do)
        types = ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for c in text_columns)
        typ = f", types={{{types}}}" if types else ""
        return f"read_csv('{p}', header=true, delim='{sep}', sample_size=-1{enc}{typ})"
    raise DataValidationError(f"{path}: format {fmt!r} cannot be scanned by DuckDB")


def _duck_frame(path: Path, fmt: str, separator: str, con=None, file: str | None = None, encoding: str | None = None,
                text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    con = con or _duck()
    try:
        return con.execute(f"SELECT * FROM {_scan_sql(path, fmt, separator, encoding, text_columns)}").df()
    except Exception as exc:  # noqa: BLE001 - duckdb raises its own exception types
        _reraise_out_of_memory(exc)
        raise DataValidationError(f"{file or path}: could not be read as {fmt}: {_duck_reason(exc)}") from None


def _reraise_out_of_memory(exc: Exception) -> None:
    """Out of memory is not a damaged file: let the command line's out-of-memory message name it."""
    import duckdb

    if isinstance(exc, (duckdb.OutOfMemoryException, MemoryError)):
        raise exc


def _duck_reason(exc: Exception) -> str:
    """DuckDB's reason in one line, without the file's content it may quote."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return first[:200]


def _code_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _rn(scan: str) -> str:
    """SQL for each row's own number: a CSV file's line (header on line 1), a Parquet file's row (from 1)."""
    return "row_number() OVER ()" if scan.startswith("read_parquet") else "row_number() OVER () + 1"


def _unit(scan: str) -> str:
    return "row" if scan.startswith("read_parquet") else "line"


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
            f"SELECT rn, w FROM (SELECT {_rn(scan)} AS rn, {wk} AS w FROM {scan}) "
            f"WHERE w IN (SELECT w FROM bad_weeks) OR (w IS NULL AND (SELECT count(*) FROM bad_weeks WHERE w IS NULL) > 0) "
            "ORDER BY rn LIMIT 5"
        ).fetchall()
        raise DataValidationError(
            f"{file}: column {week_column!r} has {len(bad)} distinct value(s) that are not ISO year-weeks "
            f"(expected e.g. 2018-W01, 201801 or y_1801; week 53 only in 53-week years): "
            + ", ".join(f"{_unit(scan)} {r[0]}: {r[1]!r}" for r in rows)
        ) from None
    return pd.DataFrame({"w": distinct, "ord": ords})


def _nonfinite_codes(con, scan: str, code_column: str, file: str) -> None:
    """Raise naming the rows whose code reads as inf or nan (DuckDB reads such a column as DOUBLE, and pandas
    cannot tell its NaN from an empty cell); return when there are none."""
    cc = _q(code_column)
    num = f"TRY_CAST({cc} AS DOUBLE)"
    cond = f"{num} IS NOT NULL AND NOT isfinite({num})"
    rows = con.execute(f"SELECT rn, c FROM (SELECT {_rn(scan)} AS rn, {cc} AS c FROM {scan}) "
                       f"WHERE {cond.replace(cc, 'c')} ORDER BY rn LIMIT 5").fetchall()
    if not rows:
        return
    n_bad = con.execute(f"SELECT count(*) FROM {scan} WHERE {cond}").fetchone()[0]
    more = f" (and {n_bad - len(rows)} more)" if n_bad > len(rows) else ""
    raise DataValidationError(
        f"{file}: column {code_column!r} (benefit code) has {n_bad} {_code_what('nonfinite')}: "
        + ", ".join(f"{_unit(scan)} {r[0]}: {_code_text(r[1])!r}" for r in rows) + more)


def _code_table(con, scan: str, code_column: str, cl: CodeList, file: str, where: str = "") -> pd.DataFrame:
    """Distinct raw codes → category index (unknown/non-numeric/blank codes are an error)."""
    cc = _q(code_column)
    distinct = con.execute(f"SELECT DISTINCT {cc} AS c FROM {scan} {where}").df()["c"]
    vals = distinct.to_numpy(dtype=object)
    try:
        ints = _codes_from_values(pd.Series(vals, dtype=object), file, code_column, list(map(repr, vals)))
    except DataValidationError:
        # the distinct values that fail, then the first lines holding them (in the column's own type)
        kinds = {i: _bad_code_kind(v) for i, v in enumerate(vals)}
        bad = [vals[i] for i, k in kinds.items() if k is not None]
        kind = next((k for k in ("nonfinite", "text", "fraction") if k in kinds.values()), "fraction")
        if kind == "nonfinite":
            _nonfinite_codes(con, scan, code_column, file)
        con.register("bad_codes_v", pd.DataFrame({"c": pd.Series(bad, dtype=distinct.dtype)}))
        rows = con.execute(
            f"SELECT rn, c FROM (SELECT {_rn(scan)} AS rn, {cc} AS c FROM {scan}) "
            "WHERE c IN (SELECT c FROM bad_codes_v) ORDER BY rn LIMIT 5"
        ).fetchall()
        n_bad = con.execute(f"SELECT count(*) FROM {scan} WHERE {cc} IN (SELECT c FROM bad_codes_v)").fetchone()[0]
        more = f" (and {n_bad - len(rows)} more)" if n_bad > len(rows) else ""
        raise DataValidationError(
            f"{file}: column {code_column!r} (benefit code) has {n_bad} {_code_what(kind)}: "
            + ", ".join(f"{_unit(scan)} {r[0]}: {_code_text(r[1])!r}" for r in rows) + more
        ) from None
    if (ints < 0).any():
        if any(isinstance(v, (float, np.floating)) and v != v for v in vals):
            _nonfinite_codes(con, scan, code_column, file)  # NaN: an empty cell, or 'nan' in the file
        rows = con.execute(
            f"SELECT rn FROM (SELECT {_rn(scan)} AS rn, {cc} AS c FROM {scan}) "
            "WHERE c IS NULL OR trim(CAST(c AS VARCHAR)) = '' ORDER BY rn LIMIT 5"
        ).fetchall()
        raise DataValidationError(
            f"{file}: column {code_column!r} is empty in some row(s) of a long register (leave the week out "
            f"instead): " + ", ".join(f"{_unit(scan)} {r[0]}" for r in rows)
        )
    lut = cl.code_lut()
    inr = ints < len(lut) - 1
    cat = np.full(len(ints), -1, dtype=np.int64)
    cat[inr] = lut[ints[inr] + 1]
    if (cat < 0).any():
        bad = np.unique(ints[cat < 0])
        con.register("bad_codes", pd.DataFrame({"c": bad}))
        rows = con.execute(
            f"SELECT rn, c FROM (SELECT {_rn(scan)} AS rn, TRY_CAST({cc} AS BIGINT) AS c FROM {scan}) "
            "WHERE c IN (SELECT c FROM bad_codes) ORDER BY rn LIMIT 5"
        ).fetchall()
        raise DataValidationError(
            f"{file}: column {code_column!r} has {len(bad)} benefit code(s) not in code list {cl.version}: "
            f"{', '.join(map(str, bad[:30]))}{' …' if len(bad) > 30 else ''} (e.g. "
            + ", ".join(f"{_unit(scan)} {r[0]}: {r[1]}" for r in rows)
            + "); add them to the code list or override the grouping in the study"
        )
    return pd.DataFrame({"c": distinct, "cat": cat})
