"""Writing a panel as a wide, long or spells register (CSV, Parquet, Excel)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from evaluation.data.registers.panel import Panel
from evaluation.exceptions import DataValidationError
from evaluation.data.registers.duck import _format_for


def write_register(panel: Panel, path: str | os.PathLike, layout: str = "wide", *, fmt: str | None = None,
                   row_group_size: int = 100_000) -> Path:
    """Write ``panel`` as a wide, long or spells register to CSV, Parquet or Excel.

    Parquet files are written with ``row_group_size`` rows per row group (one row group is one
    natural streaming block). Returns the path.

    Examples
    --------
    >>> import tempfile, os
    >>> import pandas as pd
    >>> from evaluation.data.registers import read_register, register_from_frame
    >>> p = register_from_frame(pd.DataFrame({"person": ["a"], "y_2053": [890], "y_2101": [None]}))
    >>> f = write_register(p, os.path.join(tempfile.mkdtemp(), "r.parquet"), "long")
    >>> read_register(f).to_long()["week"].tolist()
    ['2020-W53']
    """
    path = Path(path)
    fmt = _format_for(path, fmt)
    if layout == "wide" and fmt == "parquet":
        return _write_wide_parquet(panel, path, row_group_size)
    if layout == "wide":
        df = panel.to_wide()
    elif layout == "long":
        df = panel.to_long()
    elif layout == "spells":
        df = panel.to_spells()
    else:
        raise DataValidationError(f"unknown register layout {layout!r}; expected wide, long or spells")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=row_group_size)
    elif fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "xlsx":
        df.to_excel(path, index=False)
    else:
        raise DataValidationError(f"unknown format {fmt!r}; expected csv, parquet or xlsx")
    return path


def _write_wide_parquet(panel: Panel, path: Path, row_group_size: int) -> Path:
    """Wide Parquet written block by block from the matrix (bounded memory, nullable int16 codes)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    cols = panel.weeks.dream_columns()
    lut = np.concatenate([[0], panel.codes.codes, [-1]]).astype(np.int16)
    schema = pa.schema([("person", pa.string())] + [(c, pa.int16()) for c in cols])
    with pq.ParquetWriter(path, schema) as writer:
        for a in range(0, max(len(panel), 1), row_group_size):
            b = min(len(panel), a + row_group_size)
            raw = lut[panel.matrix[a:b]]
            arrays = [pa.array(np.asarray(panel.persons[a:b], dtype=object), type=pa.string())]
            arrays += [pa.array(raw[:, j], mask=raw[:, j] == 0, type=pa.int16()) for j in range(raw.shape[1])]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=row_group_size)
    return path
