"""Streaming a register larger than memory as person blocks (DuckDB record batches or block queries)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from evaluation.data.registers.codes import CodeList, _resolve_codes
from evaluation.data.registers.duck import _code_table, _duck, _format_for, _q, _scan_sql, _week_table
from evaluation.data.registers.frame import PersonRule, _assemble, _panel_from_frame, _rewindow
from evaluation.data.registers.layout import RegisterLayout
from evaluation.data.registers.panel import Panel
from evaluation.data.registers.values import (
    _categorise,
    _check_blank_ids,
    _check_unique_persons,
    _ids_to_text,
    _maybe_pseudonymise,
)
from evaluation.data.weeks import WeekRange, is_dream_column, parse_weeks
from evaluation.exceptions import DataValidationError
from evaluation.data.tables import column_list


def iter_panel_blocks(
    path: str | os.PathLike,
    layout: RegisterLayout | str = "wide",
    *,
    block_persons: int = 100_000,
    codes: CodeList | str | Mapping | None = None,
    persons: Sequence[str] | None = None,
    key: bytes | None = None,
    pseudonymise: bool | str = "auto",
    fmt: str | None = None,
    separator: str = ",",
    memory_limit: str = "512MB",
    **layout_fields,
) -> Iterator[Panel]:
    """Stream a CSV/Parquet register as person blocks with bounded memory.

    ``wide``: DuckDB scans the file and hands over record batches of ``block_persons`` rows
    (one row per person), each converted to a :class:`Panel` block.
    ``long``: the distinct persons are numbered once (or ``persons`` are used: pseudonymised
    ids are not accepted here, pass the raw ids the file holds), split into blocks, and each
    block is one SQL query joining the register to the block's person table, the week table
    and the code table. The layout's ``first_week``/``last_week`` (see :class:`RegisterLayout`,
    whose fields may be given as keywords) fix the week range of every block (default for long:
    the range of the whole file), so blocks concatenate column-wise.

    Yields
    ------
    Panel
        Blocks with disjoint persons; together exactly the persons of the register.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "w.parquet")
    >>> pd.DataFrame({"person": ["a", "b", "c"], "y_1801": [890, None, 130]}).to_parquet(f)
    >>> [len(b) for b in iter_panel_blocks(f, block_persons=2)]
    [2, 1]
    """
    lay = RegisterLayout.of(layout, **layout_fields)
    person_column, week_column, code_column = lay.person_column, lay.week_column, lay.code_column
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: the register file does not exist")
    fmt = _format_for(path, fmt)
    if fmt not in ("csv", "parquet"):
        raise DataValidationError(f"{path}: streaming needs CSV or Parquet, not {fmt}")
    cl = _resolve_codes(codes)
    file = str(path)
    con = _duck()
    con.execute(f"SET memory_limit='{memory_limit}'")
    con.execute("SET preserve_insertion_order=true")
    scan = _scan_sql(path, fmt, separator)
    if lay.kind == "wide":
        reader = con.sql(f"SELECT * FROM {scan}").to_arrow_reader(block_persons)
        seen = 0
        for batch in reader:
            fast = _panel_from_arrow(batch, lay, cl, file, seen, key, pseudonymise)
            if fast is not None:
                seen += batch.num_rows
                yield fast
                continue
            df = batch.to_pandas()
            labels = list(range(seen + (2 if fmt == "csv" else 0), seen + len(df) + (2 if fmt == "csv" else 0)))
            p = _panel_from_frame(df, lay, cl, PersonRule(key=key, pseudonymise=pseudonymise), file)
            if labels and labels[0] != 0 and p.notes:
                p.notes.append(f"{file}: blok med rækkerne {labels[0]}–{labels[-1]}")
            seen += len(df)
            yield p
        return
    if lay.kind != "long":
        raise DataValidationError(f"{path}: streaming supports the wide and long layouts, not {lay.kind!r}")
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    for c in (person_column, week_column, code_column):
        if c not in cols:
            raise DataValidationError(f"{path}: the long register lacks column {c!r}; it has: {column_list(cols, 12)}")
    weeks = _week_table(con, scan, week_column, file)
    codes_t = _code_table(con, scan, code_column, cl, file)
    con.register("weeks_t", weeks)
    con.register("codes_t", codes_t)
    pc = _q(person_column)
    if persons is None:
        raw = con.execute(f"SELECT DISTINCT CAST({pc} AS VARCHAR) AS p FROM {scan} ORDER BY p").df()["p"]
    else:
        raw = pd.Series(list(persons), dtype=object)
    raw = raw.astype("string").str.strip()
    wr = lay.week_range(WeekRange(int(weeks["ord"].min()), int(weeks["ord"].max() - weeks["ord"].min() + 1)))
    for b0 in range(0, len(raw), block_persons):
        braw = raw.iloc[b0:b0 + block_persons].reset_index(drop=True)
        notes: list[str] = []
        ids = _maybe_pseudonymise(braw, pseudonymise, key, notes, file)
        con.register("block_t", pd.DataFrame({"p": braw.to_numpy(dtype=object), "row": np.arange(len(braw))}))
        trip = con.execute(
            f"SELECT bt.row AS r, wt.ord AS o, ct.cat AS c FROM {scan} AS reg "
            f"JOIN block_t bt ON CAST(reg.{pc} AS VARCHAR) = bt.p "
            f"JOIN weeks_t wt ON reg.{_q(week_column)} IS NOT DISTINCT FROM wt.w "
            f"JOIN codes_t ct ON reg.{_q(code_column)} IS NOT DISTINCT FROM ct.c "
            f"WHERE wt.ord BETWEEN {wr.first} AND {wr.last}"
        ).fetchnumpy()
        r, o, c = (np.asarray(trip[k]) for k in ("r", "o", "c"))
        mat, _ = _assemble(r, o, c.astype(cl.dtype), pd.Index(ids), cl, file, r, week_column, r, wr)
        yield Panel(mat, ids.to_numpy(dtype=object), wr, cl, notes)


def _panel_from_arrow(batch, lay: RegisterLayout, cl: CodeList, file: str, offset: int, key, pseudonymise) -> Panel | None:
    """Fast path for a wide record batch whose week columns are all integer typed (None otherwise)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    person_column = lay.person_column
    names = batch.schema.names
    if person_column not in names:
        raise DataValidationError(f"{file}: no person column {person_column!r}")
    wcols = [c for c in names if is_dream_column(c)]
    if not wcols or not all(pa.types.is_integer(batch.schema.field(c).type) for c in wcols):
        return None
    ords = parse_weeks(np.asarray(wcols, dtype=object), file=file, column="<week column names>")
    order = np.argsort(ords)
    if len(np.unique(ords)) != len(ords) or ords[order[-1]] - ords[order[0]] + 1 != len(ords):
        return None  # let the general path raise the precise error
    n = batch.num_rows
    row_labels = list(range(offset, offset + n))
    raw_ids = _ids_to_text(batch.column(person_column).to_numpy(zero_copy_only=False))
    _check_blank_ids(raw_ids, file, person_column, row_labels)
    _check_unique_persons(raw_ids, file, row_labels, person_column)
    notes: list[str] = []
    ids = _maybe_pseudonymise(raw_ids, pseudonymise, key, notes, file)
    mat = np.empty((n, len(wcols)), dtype=cl.dtype)
    for j, pos in enumerate(order):
        name = wcols[pos]
        ci = pc.fill_null(batch.column(name), -1).to_numpy().astype(np.int64)
        mat[:, j] = _categorise(ci, cl, file, name, rows_of_unknown=lambda a, ci=ci: ", ".join(
            f"row {row_labels[int(i[0])]}: {int(ci[int(i[0])])}" for i in a))
    wr = WeekRange(int(ords[order[0]]), len(ords))
    if lay.declares_weeks:
        mat, wr = _rewindow(mat, wr, lay.week_range(wr), cl)
    return Panel(mat, ids.to_numpy(dtype=object), wr, cl, notes)
