"""Reading tabular data files at the data boundary: CSV (Danish conventions), Excel and Parquet.

Every table is read with its own row numbers (a CSV file's line numbers, counting the header; an
Excel sheet's row numbers; a Parquet file's row numbers), so any later message about a value can
name the file, the column and the rows the evaluator sees in the file.

Numbers are read by one rule for the whole file, never value by value:

* the **decimal sign** (``.`` or ``,``) and the **thousands separator** are declared on the data
  source (``decimal: ","``, ``thousands: "."``) or detected from every number-shaped cell of the
  file. A cell like ``40,5`` is evidence of a decimal comma and ``40.5`` of a decimal point; a file
  with both is refused (declare ``decimal:``). Grouped numbers like ``1.500`` are accepted only in
  strict groups of three digits, with the sign that is not the decimal sign;
* a column is numeric when *every* non-missing value is a number under that rule. A column with
  one stray value (``ukendt``, or ``40,5`` in a file with decimal points) stays text here; the
  checks of declared numeric columns (:mod:`evaluation.data.checks`) then name the stray values
  and their rows instead of letting the column turn into a categorical one.

CSV files are decoded as UTF-8 (a byte-order mark is dropped); a file that is not UTF-8 is read as
Windows-1252 (cp1252, the Danish Windows default, a superset of Latin-1's printable characters),
and as Latin-1 when even cp1252 fails, with a note saying so; a declared ``encoding`` is used as
is and a byte it cannot decode is an error naming the line. The field separator is declared or
told from the header line (``,``, ``;``, tab or ``|``). Title rows above the table (as in
jobindsats.dk exports) are skipped with ``header_row`` (the line or sheet row holding the column
names) and notes below it with ``footer_rows``.

The CSV reader is Python's :mod:`csv` module rather than :func:`pandas.read_csv`: it gives the exact
line on which every record starts (also when a quoted field spans lines) and every field as the text
in the file, so the typing rule above is ours and not pandas' per-column inference, which silently
turns a numeric column with one stray value into text and pads short rows.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from evaluation.exceptions import DataFileNotFoundError, DataValidationError

__all__ = [
    "DEFAULT_MISSING",
    "SEPARATORS",
    "NumberFormat",
    "ReadOptions",
    "Table",
    "read_table_file",
    "type_column",
    "infer_format",
    "shown",
    "rows_text",
    "column_list",
]

#: cells read as missing (pandas' defaults, so files read as before); a source may add its own
DEFAULT_MISSING: frozenset[str] = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
    "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})

#: field separators told from the header line when none is declared
SEPARATORS: tuple[str, ...] = (",", ";", "\t", "|")

_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})
_SPACES = ("\u00a0", "\u202f", " ")


def shown(path: str | os.PathLike) -> str:
    """A path as messages show it: relative to the working folder when it lies below it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


_NAME = re.compile(r"^[\w .,()%\-æøåÆØÅ]{1,40}$")


def column_list(columns: Iterable, k: int = 30) -> str:
    """Column names for a message, as the file has them, but only names that look like column names.

    A name that does not (longer than 40 characters, or with characters such as ':' or '/') is shown
    as ``<…>``: when a path points at a file that is not a table (``/etc/passwd``), its first line
    becomes the "header", and a message must not print a file's content.
    """
    names = [str(c) for c in columns]
    shown_names = [n if _NAME.match(n) else "<…>" for n in names[:k]]
    more = f" … ({len(names)} in all)" if len(names) > k else ""
    return ", ".join(shown_names) + more


def rows_text(unit: str, numbers: Sequence[int], k: int = 5) -> str:
    """``'lines 3, 7, 9 (and 4 more)'`` for the first ``k`` of ``numbers``."""
    nums = [int(n) for n in numbers]
    word = unit if len(nums) == 1 else unit + "s"
    more = f" (and {len(nums) - k} more)" if len(nums) > k else ""
    return f"{word} {', '.join(map(str, nums[:k]))}{more}"


def infer_format(path: Path, declared: str | None) -> str:
    """The declared format, else the one the file name's extension says (CSV by default)."""
    if declared:
        return declared
    return {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx",
            ".xlsm": "xlsx", ".xls": "xls"}.get(path.suffix.lower(), "csv")


# ---------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------


def _number_patterns(decimal: str, thousands: str | None) -> tuple[re.Pattern, re.Pattern]:
    d = re.escape(decimal)
    plain = rf"[+-]?(?:\d+(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?"
    integer = r"[+-]?\d+"
    if thousands:
        t = re.escape(thousands)
        plain = rf"(?:{plain}|[+-]?\d{{1,3}}(?:{t}\d{{3}})+(?:{d}\d+)?)"
        integer = rf"(?:{integer}|[+-]?\d{{1,3}}(?:{t}\d{{3}})+)"
    return re.compile(rf"^{plain}$"), re.compile(rf"^{integer}$")


@dataclass(frozen=True)
class NumberFormat:
    """How numbers are written in one file: the decimal sign and the thousands separator.

    Parameters
    ----------
    decimal : {".", ","}
    thousands : str or None
        ``"."``, ``","``, ``" "`` or None (no grouping accepted). Grouping must be strict: groups
        of three digits after one to three leading digits (``1.500``, ``12.345.678``).

    Examples
    --------
    >>> vals, ok, ints = NumberFormat(",", ".").parse(pd.Series(["40,5", "1.500", "ukendt", None]))
    >>> vals[:2].tolist(), ok.tolist(), ints.tolist()
    ([40.5, 1500.0], [True, True, False, False], [False, True, False, False])
    """

    decimal: str = "."
    thousands: str | None = None

    def __post_init__(self) -> None:
        if self.decimal not in (".", ","):
            raise DataValidationError(f"decimal sign must be '.' or ','; got {self.decimal!r}")
        if self.thousands == self.decimal:
            raise DataValidationError(f"the thousands separator cannot also be the decimal sign ({self.decimal!r})")

    def parse(self, values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Parse text ``values`` (None/NA for missing): float values, which parsed, which are integer literals."""
        s = pd.Series(values, dtype="object").map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v))
        n = len(s)
        out = np.full(n, np.nan)
        ok = np.zeros(n, dtype=bool)
        ints = np.zeros(n, dtype=bool)
        present = s.notna().to_numpy()
        if not present.any():
            return out, ok, ints
        text = s[present].astype(str).str.strip().str.translate(_MINUS)
        if self.thousands == " ":
            for sp in _SPACES:
                text = text.str.replace(sp, " ", regex=False)
        pat, ipat = _number_patterns(self.decimal, self.thousands)
        good = text.str.match(pat).to_numpy(dtype=bool)
        is_int = good & text.str.match(ipat).to_numpy(dtype=bool)
        norm = text[good]
        if self.thousands:
            norm = norm.str.replace(self.thousands, "", regex=False)
        if self.decimal == ",":
            norm = norm.str.replace(",", ".", regex=False)
        idx = np.flatnonzero(present)
        out[idx[good]] = pd.to_numeric(norm, errors="coerce").to_numpy(dtype=float)
        ok[idx[good]] = True
        ints[idx[is_int]] = True
        return out, ok, ints

    def describe_da(self) -> str:
        """The format in Danish (for data notes)."""
        dec = "komma" if self.decimal == "," else "punktum"
        th = {".": "punktum", ",": "komma", " ": "mellemrum"}.get(self.thousands or "", "ingen")
        return f"decimaltegn {dec}, tusindtalsseparator {th}"


# evidence for the decimal sign, on stripped number-shaped text
_COMMA_DECIMAL = re.compile(r"^[+-]?(?:\d+,\d+|\d{1,3}(?:\.\d{3})+,\d+|,\d+)$")
_DOT_DECIMAL = re.compile(r"^[+-]?(?:\d+\.\d+(?:[eE][+-]?\d+)?|\d{1,3}(?:,\d{3})+\.\d+|\.\d+)$")
_GROUPED_DOT = re.compile(r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+$")
_GROUPED_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2}(?:,\d{3})+$")


@dataclass
class _Evidence:
    comma: list[tuple[str, int, str]] = field(default_factory=list)  # (column, position, text)
    dot: list[tuple[str, int, str]] = field(default_factory=list)
    grouped_dot: int = 0
    grouped_comma: int = 0


def _gather_evidence(columns: dict[str, pd.Series]) -> _Evidence:
    ev = _Evidence()
    for name, s in columns.items():
        text = s.dropna()
        text = text[text.map(lambda v: isinstance(v, str))]
        if text.empty:
            continue
        t = text.str.strip().str.translate(_MINUS)
        uniq = pd.Series(t.unique())
        comma = uniq[uniq.str.match(_COMMA_DECIMAL) & ~uniq.str.match(_GROUPED_COMMA)]
        dot = uniq[uniq.str.match(_DOT_DECIMAL) & ~uniq.str.match(_GROUPED_DOT)]
        ev.grouped_dot += int(uniq.str.match(_GROUPED_DOT).sum())
        ev.grouped_comma += int(uniq.str.match(_GROUPED_COMMA).sum())
        for found, target in ((comma, ev.comma), (dot, ev.dot)):
            if len(found) and len(target) < 3:
                first = set(found.tolist()[:3])
                for pos, v in zip(t.index, t.tolist()):
                    if v in first:
                        target.append((name, int(pos), v))
                        first.discard(v)
                        if not first or len(target) >= 3:
                            break
    return ev


# ---------------------------------------------------------------------------
# options and the table
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadOptions:
    """How a data source asks its file to be read (the data source's reading fields).

    ``decimal``/``thousands``/``separator``/``encoding`` None mean: detect for the whole file.
    ``header_row`` is the file line (CSV) or sheet row (Excel) holding the column names;
    ``footer_rows`` non-empty rows at the end are notes, not data.
    """

    fmt: str | None = None
    sheet: str | int | None = None
    separator: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    encoding: str | None = None
    header_row: int = 1
    footer_rows: int = 0
    missing_values: tuple[str, ...] = ()
    #: columns kept as the text in the file (identifiers: ``0101901234`` keeps its leading zero)
    text_columns: tuple[str, ...] = ()

    @classmethod
    def of(cls, source) -> "ReadOptions":
        """The reading options of a declared data source (any object with these attributes)."""
        g = lambda k, d=None: getattr(source, k, d)  # noqa: E731
        return cls(fmt=g("format"), sheet=g("sheet"), separator=g("separator"), decimal=g("decimal"),
                   thousands=g("thousands"), encoding=g("encoding"), header_row=int(g("header_row", 1) or 1),
                   footer_rows=int(g("footer_rows", 0) or 0), missing_values=tuple(g("missing_values", ()) or ()),
                   text_columns=tuple(c for c in (g("id_column"),) if c))


@dataclass
class Table:
    """A data file read at the boundary.

    Attributes
    ----------
    frame : DataFrame
        The table, one column per header cell; numeric columns as ``Int64``/``Float64``, text as
        ``string``, true/false columns as ``boolean``.
    lines : ndarray of int
        Per frame row, its line in the file (CSV, counting the header), its sheet row (Excel) or
        its row number (Parquet, 1 = first row).
    file : str
        The file as messages name it.
    unit : {"line", "row"}
        What ``lines`` count.
    numbers : NumberFormat
        The rule numbers were read by (also used to re-read text cells in the checks).
    missing : frozenset of str
        Cells read as missing.
    notes : list of str
        What was detected (encoding, decimal sign), in Danish, for the report's data notes.
    """

    frame: pd.DataFrame
    lines: np.ndarray
    file: str
    unit: str = "line"
    numbers: NumberFormat = NumberFormat()
    missing: frozenset[str] = DEFAULT_MISSING
    notes: list[str] = field(default_factory=list)
    separator: str | None = None
    encoding: str | None = None

    def where(self, positions: Iterable[int], k: int = 5) -> str:
        """``'lines 3, 7'`` for frame row positions."""
        return rows_text(self.unit, [int(self.lines[int(p)]) for p in positions], k)


def _fail(file: str, message: str) -> DataValidationError:
    return DataValidationError(f"{file}: {message}")


def _check_path(path: Path, file: str) -> None:
    if path.is_dir():
        raise _fail(file, "is a folder, not a data file; 'path' must name a file (relative to the study folder)")
    if not path.exists():
        raise DataFileNotFoundError(f"{file}: the data file does not exist; check 'path' in the study's data section")
    if not path.is_file():
        raise _fail(file, "is not a regular file (a device or a pipe); 'path' must name a data file")


def read_table_file(path: str | os.PathLike, options: ReadOptions | None = None, *, file: str | None = None) -> Table:
    """Read a CSV, Excel or Parquet file with its row numbers (see the module's rules).

    Parameters
    ----------
    path : path-like
    options : ReadOptions, optional
    file : str, optional
        How messages name the file (default: the path, relative to the working folder).

    Raises
    ------
    DataValidationError
        A missing file, a folder, a binary file read as CSV, an undecodable byte with a declared
        encoding, a corrupt workbook, a missing sheet, an empty file, a header without data,
        duplicate or unnamed non-empty column names, rows with more fields than the header, or a
        file mixing decimal commas and points — each naming the file (and line).
    """
    opts = options or ReadOptions()
    path = Path(path)
    file = file or shown(path)
    _check_path(path, file)
    fmt = infer_format(path, opts.fmt)
    if fmt == "csv":
        header, records, lines, info = _read_csv_records(path, opts, file)
        unit = "line"
    elif fmt == "xlsx":
        header, records, lines, info = _read_xlsx_records(path, opts, file)
        unit = "row"
    elif fmt == "xls":
        raise _fail(file, "is an old Excel workbook (.xls), which cannot be read; save it as .xlsx (Excel workbook) "
                          "or as CSV and point 'path' at that file")
    elif fmt == "parquet":
        return _read_parquet(path, opts, file)
    else:
        raise _fail(file, f"unknown format {fmt!r}; expected csv, xlsx or parquet")
    file = info.get("file", file)
    columns = _columns(header, records, lines, file, unit, info.get("header_line", 1))
    missing = DEFAULT_MISSING | frozenset(str(v).strip() for v in opts.missing_values)
    raw = {name: pd.Series(col, dtype="object") for name, col in columns.items()}
    raw = {name: s.map(lambda v: None if v is None or (isinstance(v, str) and v.strip() in missing) else v) for name, s in raw.items()}
    keep = set(opts.text_columns)
    numbers, notes = _number_format({k: v for k, v in raw.items() if k not in keep}, opts, file, unit, lines,
                                    info.get("separator"))
    frame = pd.DataFrame({name: _as_text(s) if name in keep else type_column(s, numbers) for name, s in raw.items()})
    frame.index = pd.RangeIndex(len(frame))
    notes = info.get("notes", []) + notes
    return Table(frame=frame, lines=np.asarray(lines, dtype=np.int64), file=file, unit=unit, numbers=numbers,
                 missing=missing, notes=notes, separator=info.get("separator"), encoding=info.get("encoding"))


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def _decode(data: bytes, declared: str | None, file: str) -> tuple[str, str, list[str]]:
    """Text, the encoding used, and notes."""
    if declared:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            raise _fail(file, f"unknown encoding {declared!r}; expected e.g. utf-8, utf-8-sig, cp1252 or latin-1") from None
        try:
            text = data.decode(declared)
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise _fail(file, f"line {line}: byte 0x{data[exc.start]:02x} is not valid {declared}; the file is in another "
                              "encoding: remove 'encoding' to have it detected, or declare the right one "
                              "(utf-8, cp1252, latin-1)") from None
        return text.lstrip("\ufeff") if codec.startswith("utf-8") else text, codec, []
    try:
        return data.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
    for enc, name in (("cp1252", "Windows-1252 (cp1252)"), ("latin-1", "Latin-1 (ISO 8859-1)")):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        return text, enc, [f"filen er ikke UTF-8 (første afvigende byte i linje {line}) og er læst som {name}; "
                           f"angiv 'encoding' på datakilden for at gøre det eksplicit"]
    raise _fail(file, "cannot be decoded as text")  # pragma: no cover - latin-1 decodes every byte


def _sniff_separator(header_line: str, file: str, declared: str | None) -> str:
    if declared:
        return declared
    counts = {s: header_line.count(s) for s in SEPARATORS}
    best = max(counts, key=lambda s: (counts[s], -SEPARATORS.index(s)))
    return best if counts[best] > 0 else ","


def _read_csv_records(path: Path, opts: ReadOptions, file: str):
    data = path.read_bytes()
    if not data.strip():
        raise _fail(file, "is empty; expected a header line with the column names and one row per record")
    head = data[:8192]
    if data[:4] == b"PK\x03\x04":
        raise _fail(file, "is a zip archive (an Excel workbook?), not a CSV text file; name it .xlsx or declare format: xlsx")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail(file, "is not a text (CSV) file: it holds binary data; check 'path' and 'format'")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and not opts.encoding:
        raise _fail(file, "is UTF-16 text; save it as UTF-8 (or declare encoding: utf-16)")
    text, encoding, notes = _decode(data, opts.encoding, file)
    # lines as an editor counts them (\r\n, \n or \r), not str.splitlines' wider set of separators
    physical = re.split(r"\r\n|\n|\r", text)
    if physical and physical[-1] == "":
        physical.pop()
    hline = max(1, int(opts.header_row))
    if hline > len(physical):
        raise _fail(file, f"has {len(physical)} line(s), fewer than header_row {hline}")
    # the header is the first non-blank line from header_row on
    while hline <= len(physical) and not physical[hline - 1].strip():
        hline += 1
    if hline > len(physical):
        raise _fail(file, f"has no header line at or after line {opts.header_row} (header_row)")
    sep = _sniff_separator(physical[hline - 1], file, opts.separator)
    if len(sep) != 1:
        raise _fail(file, f"separator must be one character; got {sep!r}")
    reader = csv.reader((ln + "\n" for ln in physical[hline - 1:]), delimiter=sep, quotechar='"', strict=False)
    header: list[str] | None = None
    records: list[list[str]] = []
    lines: list[int] = []
    prev_end = 0
    try:
        for rec in reader:
            start = prev_end + 1
            prev_end = reader.line_num
            if not rec or all(not f.strip() for f in rec):
                continue
            if header is None:
                header = rec
                continue
            records.append(rec)
            lines.append(start + hline - 1)
    except csv.Error as exc:
        raise _fail(file, f"line {reader.line_num + hline - 1}: the CSV cannot be parsed ({exc}); check quotes and the separator") from None
    if header is None:  # pragma: no cover - a non-blank header line exists
        raise _fail(file, "has no header line")
    if opts.footer_rows:
        if opts.footer_rows >= len(records):
            raise _fail(file, f"has {len(records)} data row(s), not more than footer_rows ({opts.footer_rows})")
        records, lines = records[: -opts.footer_rows], lines[: -opts.footer_rows]
    info = {"separator": sep, "encoding": encoding, "notes": notes, "header_line": hline}
    return header, records, lines, info


# ---------------------------------------------------------------------------
# Excel
# ---------------------------------------------------------------------------


def _read_xlsx_records(path: Path, opts: ReadOptions, file: str):
    import zipfile

    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency
        raise _fail(file, "reading Excel needs the package openpyxl") from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, EOFError) as exc:
        raise _fail(file, f"cannot be read as an Excel workbook (.xlsx): the file is damaged or not a workbook "
                          f"({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises its own types for malformed workbooks
        raise _fail(file, f"cannot be read as an Excel workbook (.xlsx): {type(exc).__name__}") from None
    try:
        names = list(wb.sheetnames)
        sheet = opts.sheet
        if sheet is None:
            ws = wb[names[0]]
            sheet_name = names[0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise _fail(file, f"has no sheet number {sheet}; its sheets are: {', '.join(map(repr, names))}")
            ws, sheet_name = wb[names[sheet]], names[sheet]
        else:
            if sheet not in names:
                import difflib

                close = difflib.get_close_matches(str(sheet), names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise _fail(file, f"has no sheet {sheet!r}{hint}; its sheets are: {', '.join(map(repr, names))}")
            ws, sheet_name = wb[sheet], sheet
        rows: list[tuple[int, list]] = []
        try:
            for r, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
                vals = list(values)
                if any(v is not None and not (isinstance(v, str) and not v.strip()) for v in vals):
                    rows.append((r, vals))
        except Exception as exc:  # noqa: BLE001 - a damaged sheet
            raise _fail(file, f"sheet {sheet_name!r} cannot be read: the workbook is damaged ({type(exc).__name__})") from None
    finally:
        wb.close()
    shown_file = f"{file} (sheet {sheet_name!r})"
    rows = [(r, v) for r, v in rows if r >= int(opts.header_row)]
    if not rows:
        raise _fail(shown_file, f"is empty from row {opts.header_row} on; expected a header row with the column names")
    (hline, header), body = rows[0], rows[1:]
    if opts.footer_rows:
        if opts.footer_rows >= len(body):
            raise _fail(shown_file, f"has {len(body)} data row(s), not more than footer_rows ({opts.footer_rows})")
        body = body[: -opts.footer_rows]
    header = ["" if h is None else str(h) for h in header]
    records = [v for _, v in body]
    lines = [r for r, _ in body]
    return header, records, lines, {"header_line": hline, "notes": [], "sheet": sheet_name, "file": shown_file}


# ---------------------------------------------------------------------------
# Parquet
# ---------------------------------------------------------------------------


def _read_parquet(path: Path, opts: ReadOptions, file: str) -> Table:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises its own types for damaged files
        raise _fail(file, f"cannot be read as Parquet: the file is damaged or not Parquet ({type(exc).__name__})") from None
    if df.columns.duplicated().any():
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise _fail(file, f"has the column name(s) {', '.join(map(repr, dup))} more than once; expected unique column names")
    df = df.reset_index(drop=True)
    missing = DEFAULT_MISSING | frozenset(str(v).strip() for v in opts.missing_values)
    text_cols = {c: df[c] for c in df.columns if (df[c].dtype == object or pd.api.types.is_string_dtype(df[c].dtype))
                 and c not in opts.text_columns}
    raw = {c: s.astype("object").map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                                     or (isinstance(v, str) and v.strip() in missing) else v)
           for c, s in text_cols.items()}
    lines = np.arange(1, len(df) + 1, dtype=np.int64)
    numbers, notes = _number_format(raw, opts, file, "row", lines, None)
    out = df.copy()
    for c, s in raw.items():
        out[c] = type_column(s, numbers)
    return Table(frame=out, lines=lines, file=file, unit="row", numbers=numbers, missing=missing, notes=notes)


# ---------------------------------------------------------------------------
# columns and typing
# ---------------------------------------------------------------------------


def _columns(header: list, records: list[list], lines: list[int], file: str, unit: str, header_line: int) -> dict[str, list]:
    names = [("" if h is None else str(h)).strip().lstrip("\ufeff") for h in header]
    width = len(names)
    cols: list[list] = [[] for _ in range(width)]
    for rec, line in zip(records, lines):
        if len(rec) > width:
            extra = rec[width:]
            if any(e is not None and str(e).strip() for e in extra):
                hint = (f"; if title rows come before the table (as in jobindsats.dk exports), set header_row to the "
                        f"{unit} holding the column names" if width == 1 else "")
                raise _fail(file, f"{unit} {line}: has {len(rec)} fields but the header ({unit} {header_line}) names "
                                  f"{width} column(s); check the separator and quotes on that {unit}{hint}")
            rec = rec[:width]
        for j in range(width):
            cols[j].append(rec[j] if j < len(rec) else None)
    # trailing separators give empty, unnamed columns: dropped; an unnamed column with values is named by position
    out: dict[str, list] = {}
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        values = cols[j]
        empty = all(v is None or (isinstance(v, str) and not v.strip()) for v in values)
        if not name:
            if empty:
                continue
            name = f"column_{j + 1}"
        if name in seen:
            raise _fail(file, f"{unit} {header_line}: the column name {name!r} appears twice in the header (columns "
                              f"{seen[name] + 1} and {j + 1}); expected unique column names")
        seen[name] = j
        out[name] = values
    if not out:
        raise _fail(file, f"{unit} {header_line}: the header names no columns")
    if not records:
        raise _fail(file, f"has a header ({unit} {header_line}) but no data rows")
    return out


def _number_format(raw: dict[str, pd.Series], opts: ReadOptions, file: str, unit: str, lines, separator: str | None):
    """The file's number rule: declared, or detected from every number-shaped text cell (never per value)."""
    notes: list[str] = []
    if opts.decimal is not None:
        dec = opts.decimal
        th = opts.thousands if opts.thousands is not None else ("." if dec == "," else ",")
        return NumberFormat(dec, th or None), notes
    ev = _gather_evidence(raw)
    if ev.comma and ev.dot:
        show = lambda e: f"{unit} {int(lines[e[1]])}, column {e[0]!r}: {e[2]!r}"  # noqa: E731
        raise _fail(file, f"mixes decimal commas ({show(ev.comma[0])}) and decimal points ({show(ev.dot[0])}); "
                          "a file must write numbers one way: declare decimal: ',' or decimal: '.' on the data source "
                          "and correct the other values")
    if ev.comma:
        dec = ","
    elif ev.dot:
        dec = "."
    elif ev.grouped_dot and separator == ";":
        dec = ","  # only grouped numbers such as 1.500 in a ';' file: Danish Excel's convention
    else:
        dec = "."
    if opts.thousands is not None:
        th = opts.thousands or None
    else:
        th = "." if dec == "," else ","
    numbers = NumberFormat(dec, th)
    if dec == "," and (ev.comma or ev.grouped_dot):
        notes.append(f"tal læst med {numbers.describe_da()} (fundet i filen)")
    return numbers, notes


_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


def type_column(values: pd.Series, numbers: NumberFormat) -> pd.Series:
    """Type one column by the whole-column rule: numeric when every non-missing value is a number.

    Text cells are parsed with ``numbers``; cells that already are numbers (Excel, Parquet) stay
    numbers. Integers become ``Int64``, other numbers ``Float64``, true/false ``boolean``; any
    other column is ``string`` with the cells' text as in the file.
    """
    s = pd.Series(values, dtype="object")
    present = s.notna().to_numpy()
    if not present.any():
        return pd.Series(pd.array([pd.NA] * len(s), dtype="string"), index=s.index)
    vals = s[present]
    if all(isinstance(v, (bool, np.bool_)) for v in vals) or all(isinstance(v, str) and v.strip() in (_TRUE | _FALSE) for v in vals):
        arr = pd.array([None if not p else (v if isinstance(v, (bool, np.bool_)) else v.strip() in _TRUE)
                        for v, p in zip(s.tolist(), present)], dtype="boolean")
        return pd.Series(arr, index=s.index)
    is_num = vals.map(lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)))
    is_text = vals.map(lambda v: isinstance(v, str))
    if not (is_num | is_text).all():  # dates, times: kept as they are
        return s
    x = np.full(len(s), np.nan)
    integral = np.zeros(len(s), dtype=bool)
    ok = np.zeros(len(s), dtype=bool)
    pos = np.flatnonzero(present)
    num_pos = pos[is_num.to_numpy()]
    if len(num_pos):
        nv = np.asarray([float(v) for v in s.iloc[num_pos]], dtype=float)
        x[num_pos] = nv
        ok[num_pos] = True
        integral[num_pos] = np.asarray([isinstance(v, (int, np.integer)) for v in s.iloc[num_pos]])
    text_pos = pos[is_text.to_numpy()]
    if len(text_pos):
        tv, tok, tint = numbers.parse(s.iloc[text_pos].reset_index(drop=True))
        x[text_pos] = tv
        ok[text_pos] = tok
        integral[text_pos] = tint
    if ok[present].all():
        if integral[present].all() and np.all(np.abs(x[present]) < 2**63):
            arr = pd.array([int(v) if p else None for v, p in zip(x.tolist(), present)], dtype="Int64") \
                if np.all(np.abs(x[present]) < 2**53) else _exact_ints(s, present, numbers)
            return pd.Series(arr, index=s.index)
        return pd.Series(pd.array(np.where(present, x, np.nan), dtype="Float64"), index=s.index).where(present, pd.NA)
    text = [None if not p else (v.strip() if isinstance(v, str) else _num_text(v)) for v, p in zip(s.tolist(), present)]
    return pd.Series(pd.array(text, dtype="string"), index=s.index)


def _as_text(s: pd.Series) -> pd.Series:
    text = [None if v is None or (not isinstance(v, str) and pd.isna(v)) else (v.strip() if isinstance(v, str) else _num_text(v))
            for v in s.tolist()]
    return pd.Series(pd.array(text, dtype="string"), index=s.index)


def _exact_ints(s: pd.Series, present: np.ndarray, numbers: NumberFormat):
    """Large integer literals parsed exactly (beyond float precision)."""
    out = []
    for v, p in zip(s.tolist(), present):
        if not p:
            out.append(None)
        elif isinstance(v, str):
            t = v.strip().translate(_MINUS)
            if numbers.thousands:
                t = t.replace(numbers.thousands, "")
            out.append(int(t))
        else:
            out.append(int(v))
    return pd.array(out, dtype="Int64")


def _num_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
