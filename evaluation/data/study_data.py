"""The data boundary: every file a study declares is read once here, checked and pseudonymised.

Downstream code (metrics, designs, reports) receives validated pandas frames indexed by a
pseudonymised person id and never branches on file formats or re-checks columns. Input
files are opened read-only and never modified.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from evaluation.data.checks import RowRef, as_numbers, missing_problems, numeric_problems
from evaluation.data.pseudonym import load_key, pseudonymise_ids
from evaluation.data.registers import CodeList, RegisterLayout, groups_present, read_register, unverified_code_note
from evaluation.data.tables import SEPARATORS, NumberFormat, ReadOptions, Table, column_list, read_table_file, shown
from evaluation.exceptions import DataValidationError

__all__ = ["StudyData", "SourceRows", "name_rows", "read_table", "load_study_data", "file_hash", "relied_on_groups", "PERSON_INDEX"]

#: Name of the index that holds pseudonymised person ids in every frame past the boundary.
PERSON_INDEX = "person"


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def read_table(path: str | Path, *, fmt: str | None = None, sheet: str | int | None = None, separator: str | None = None,
               decimal: str | None = None, thousands: str | None = None, encoding: str | None = None,
               header_row: int = 1, footer_rows: int = 0, missing_values: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV, Parquet or Excel file into a DataFrame by the rules of :mod:`evaluation.data.tables`.

    Raises
    ------
    DataValidationError
        When the file is missing or cannot be parsed (the file and line are named).
    """
    opts = ReadOptions(fmt=fmt, sheet=sheet, separator=separator, decimal=decimal, thousands=thousands,
                       encoding=encoding, header_row=header_row, footer_rows=footer_rows,
                       missing_values=tuple(missing_values))
    return read_table_file(path, opts).frame


@dataclass(frozen=True)
class SourceRows:
    """How the rows of one data source are named in messages, and how its numbers were read.

    ``lines[i]`` is the file line (CSV, counting the header), sheet row (Excel) or row number
    (Parquet) of the frame's row ``i``; ``by_person`` maps the pseudonymised person id to it for
    sources with one row per person.
    """

    file: str
    lines: np.ndarray
    unit: str = "line"
    numbers: NumberFormat = NumberFormat()
    by_person: pd.Series | None = None

    def ref(self) -> RowRef:
        return RowRef(self.file, self.lines, self.unit)

    def ref_for(self, frame: pd.DataFrame, source_frame: pd.DataFrame | None = None) -> RowRef:
        """Row names for a frame derived from this source: same rows, rows by person id, or a ``person`` column."""
        if source_frame is not None and frame.index.equals(source_frame.index) and len(frame) == len(self.lines):
            return self.ref()
        if self.by_person is not None:
            if frame.index.name == PERSON_INDEX and frame.index.isin(self.by_person.index).all():
                return RowRef(self.file, self.by_person.reindex(frame.index).to_numpy(), self.unit)
            if PERSON_INDEX in frame.columns and frame[PERSON_INDEX].isin(self.by_person.index).all():
                return RowRef(self.file, self.by_person.reindex(frame[PERSON_INDEX]).to_numpy(), self.unit)
        return RowRef(self.file, None, "row")


@dataclass(frozen=True)
class StudyData:
    """The validated data of one study.

    Attributes
    ----------
    frames : mapping of str to DataFrame
        One frame per declared source, indexed by pseudonymised person id when the source
        declares an ``id_column``.
    hashes : mapping of str to str
        SHA-256 of each source file (printed in the report's appendix).
    notes : mapping of str to list of str
        What happened at the boundary (rows read, ids pseudonymised).
    rows : mapping of str to SourceRows
        Per table source, the file's own row numbers (for messages) and its number format.
    """

    frames: Mapping[str, pd.DataFrame]
    hashes: Mapping[str, str]
    notes: Mapping[str, list[str]] = field(default_factory=dict)
    rows: Mapping[str, SourceRows] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]


def _convert_declared_types(table: Table, source, problems: list[str]) -> pd.DataFrame:
    """Apply ``types:``: numeric columns must hold numbers (rows named), categorical ones become text."""
    df = table.frame
    declared = dict(getattr(source, "types", {}) or {})
    if not declared:
        return df
    df = df.copy()
    ref = RowRef(table.file, table.lines, table.unit)
    for col, kind in declared.items():
        if col not in df.columns:
            continue  # a missing declared column is named with the others
        s = df[col]
        if kind in ("numeric", "integer"):
            found = numeric_problems(s, ref, col, role=f"declared {kind}", numbers=table.numbers, integer=kind == "integer")
            problems.extend(found)
            if not found and not pd.api.types.is_numeric_dtype(s.dtype):
                vals, _ = as_numbers(s, table.numbers)
                df[col] = pd.array(np.where(s.notna().to_numpy(), vals, np.nan), dtype="Float64")
                df[col] = df[col].where(s.notna().to_numpy(), pd.NA)
            if not found and kind == "integer":
                df[col] = df[col].astype("Float64").astype("Int64")
        else:
            text = s.astype("object").map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                                          else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
            df[col] = pd.array(text.tolist(), dtype="string")
    return df


def _prepare(name: str, table: Table, source, key: bytes, problems: list[str]) -> tuple[pd.DataFrame | None, list[str], SourceRows]:
    """Check a table source against its declaration and pseudonymise its ids; problems are collected."""
    df = table.frame
    file = table.file
    rows = SourceRows(file=file, lines=table.lines, unit=table.unit, numbers=table.numbers)
    ref = rows.ref()
    notes = [f"{len(df)} rækker indlæst"] + list(table.notes)
    period = getattr(source, "period_column", None)
    missing = [c for c in source.columns if c not in df.columns]
    if period and period not in df.columns and period not in missing:
        missing.insert(0, period)
    if source.id_column and source.id_column not in df.columns:
        missing.insert(0, source.id_column)
    for col in getattr(source, "types", {}) or {}:
        if col not in df.columns and col not in missing:
            missing.append(col)
    if missing:
        header = str(df.columns[0])
        other = [sep for sep in SEPARATORS if sep != table.separator and sep in header]
        if len(df.columns) == 1 and len(missing) + 1 > 1 and table.unit == "line" and other:
            how = "declared" if getattr(source, "separator", None) else "told from the header line"
            problems.append(
                f"{file}: data source {name!r} lacks the declared column(s) {', '.join(map(repr, missing))}: the header "
                f"line holds no {table.separator!r} (the separator {how}) but {header.count(other[0])} {other[0]!r}; "
                f"declare separator: {other[0]!r} on the data source"
            )
        elif len(df.columns) == 1 and len(missing) + 1 > 1 and table.unit == "line":
            problems.append(
                f"{file}: data source {name!r} lacks the declared column(s) {', '.join(map(repr, missing))}: the file's "
                "header line holds none of the separators ',', ';', tab or '|', so the file does not look like a table; "
                "check 'path', or declare 'separator' (and 'header_row' if title rows come before the table)"
            )
        else:
            problems.append(
                f"{file}: data source {name!r} lacks the declared column(s) {', '.join(map(repr, missing))}; "
                f"the file has: {column_list(df.columns)}"
            )
        return None, notes, rows
    n_before = len(problems)
    df = _convert_declared_types(table, source, problems)
    if source.id_column:
        ids = df[source.id_column]
        text_ids = ids.astype("string").str.strip()
        blank = (ids.isna() | (text_ids == "")).to_numpy(dtype=bool)
        if blank.any():
            pos = np.flatnonzero(blank)
            problems.append(f"{ref.head(pos)}: column {source.id_column!r} (id_column) is empty in {len(pos)} row(s): "
                            f"{ref.where(pos)}; every row needs a person id")
        if period:
            problems.extend(missing_problems(df[period], ref, period, role="period_column",
                                             advice="every row needs the date it was measured"))
            dup = pd.DataFrame({"i": text_ids, "p": df[period].astype("string")}).duplicated(keep=False).to_numpy(dtype=bool).copy()
        else:
            dup = text_ids.duplicated(keep=False).to_numpy(dtype=bool).copy()
        dup &= ~blank
        if source.kind in ("participants",) and dup.any():
            pos = np.flatnonzero(dup)
            per = f" and the same {period!r}" if period else ""
            expected = "one row per person and period" if period else "one row per person"
            problems.append(
                f"{ref.head(pos)}: column {source.id_column!r} (id_column) has {int(text_ids[dup].nunique())} person id(s) "
                f"on more than one row{per}: {ref.where(pos, k=6)}; expected {expected}"
            )
        if len(problems) > n_before:
            return None, notes, rows
        df = df.copy()
        df.index = pd.Index(pseudonymise_ids(text_ids, key), name=PERSON_INDEX)
        df = df.drop(columns=[source.id_column])
        notes.append(f"personidentifikator «{source.id_column}» pseudonymiseret med nøglebaseret hash")
        if period:
            n_persons = int(pd.Index(df.index).nunique())
            notes.append(f"{n_persons} personer målt på {int(df[period].nunique())} tidspunkter (kolonnen «{period}»)")
        else:
            rows = SourceRows(file=file, lines=table.lines, unit=table.unit, numbers=table.numbers,
                              by_person=pd.Series(table.lines, index=df.index))
    elif len(problems) > n_before:
        return None, notes, rows
    return df, notes, rows


_PSEUDONYM = re.compile(r"\bp_[0-9a-f]{16}\b")


def name_rows(message: str, rows: Mapping[str, SourceRows]) -> str:
    """``message`` with every pseudonymised person id replaced by the file and line it was read from.

    A message must name rows by the input's own numbers: pseudonyms differ from run to run and mean
    nothing to the evaluator. An id no source knows becomes ``a person``.
    """
    lookup = [(r.file, r.unit, r.by_person) for r in rows.values() if r.by_person is not None]

    def one(m: re.Match) -> str:
        pid = m.group(0)
        for file, unit, by in lookup:
            if pid in by.index:
                line = by[pid]
                if isinstance(line, pd.Series):
                    line = line.iloc[0]
                return f"{file} {unit} {int(line)}"
        return "a person"

    out = _PSEUDONYM.sub(one, message)
    # 'f line 2, f line 3' reads better as 'f lines 2, 3'
    merge = re.compile(r"(?P<f>[^\s,()]+) (?P<u>line|row)s? (?P<a>\d+(?:, \d+)*), (?P=f) (?P=u)s? (?P<b>\d+(?:, \d+)*)")
    while True:
        new = merge.sub(lambda m: f"{m['f']} {m['u']}s {m['a']}, {m['b']}", out)
        if new == out:
            return out
        out = new


def _sniff_register_separator(path: Path, source) -> str:
    if source.separator:
        return source.separator
    try:
        with open(path, "rb") as fh:
            first = fh.readline(65536).decode("utf-8", errors="replace")
    except OSError:
        return ","
    counts = {s: first.count(s) for s in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _read_register_source(study, name: str, source, path: Path, frames: Mapping[str, pd.DataFrame], key: bytes,
                          rows: Mapping[str, SourceRows]):
    """Read a weekly register into a dense :class:`~evaluation.data.registers.Panel` restricted to the participants."""
    file = shown(path)
    if path.is_dir():
        raise DataValidationError(f"{file}: is a folder, not a register file; 'path' must name a file")
    if path.exists() and not path.is_file():
        raise DataValidationError(f"{file}: is not a regular file (a device or a pipe); 'path' must name a register file")
    if not path.is_file():
        raise DataValidationError(f"{file}: the register file does not exist; check 'path' in the study's data section")
    if source.participants not in study.data:
        raise DataValidationError(f"{file}: register {name!r} refers to data source {source.participants!r}, which is not declared")
    if source.participants not in frames:
        raise DataValidationError(f"{file}: register {name!r} needs {source.participants!r} to be read first")
    codes = CodeList.load(study.resolve_path(source.codes)) if source.codes else CodeList.load()
    if source.code_overrides:
        codes = codes.with_overrides(dict(source.code_overrides))
    weeks = getattr(source, "weeks", None)
    layout = RegisterLayout(
        kind=source.layout, person_column=source.id_column or "person", week_column=source.week_column,
        code_column=source.code_column, start_column=source.start_column, end_column=source.end_column,
        first_week=getattr(weeks, "first", None), last_week=getattr(weeks, "last", None),
    )
    try:
        panel = read_register(
            path, layout, codes=codes, participants=frames[source.participants], absent_persons=source.absent_persons,
            key=key, pseudonymise=True, fmt=source.format, sheet=source.sheet,
            separator=_sniff_register_separator(path, source), encoding=getattr(source, "encoding", None), file=file,
        )
    except DataValidationError as exc:
        raise DataValidationError([name_rows(p, rows) for p in exc.problems]) from None
    notes = [f"{panel.shape[0]} personer × {panel.shape[1]} uger ({panel.weeks.labels()[0]}–{panel.weeks.labels()[-1]})",
             f"kodeliste {codes.version}"]
    # the reader's own notes name the file by its path on this machine: published notes never do
    for n in panel.notes:
        for prefix in (f"{file}: ", f"{path}: "):
            n = n[len(prefix):] if n.startswith(prefix) else n
        n = n.replace(f" ({codes.version})", "")
        if n not in notes:
            notes.append(n)
    unverified = unverified_code_note(codes, relied_on_groups(study, name, panel))
    if unverified:
        notes.append(unverified)
    return panel, notes


def _named_groups(value, known: set[str]) -> set[str]:
    if isinstance(value, str):
        return {value} & known
    if isinstance(value, (list, tuple)):
        return {v for v in value if isinstance(v, str)} & known
    return set()


def relied_on_groups(study, register: str, panel) -> list[str]:
    """Code-list groups the study's results rely on for register ``register``.

    A group is relied on when at least one of its codes occurs in the register as read (the
    participants' rows, every week read), or when a metric of the study that reads this register
    names it in a parameter (``benefit_types``, ``status`` …), since a metric counting a group whose
    codes never occur may be counting the wrong codes. A group with neither cannot have changed any
    number: every week is classified by the code it carries. Unverified groups among these get a
    data note (:func:`~evaluation.data.registers.unverified_code_note`).
    """
    known = set(panel.codes.group_ids)
    named: set[str] = set()
    for ind in getattr(study.theory, "indicators", ()):
        metric = getattr(ind, "metric", None)
        if metric is None or metric.params.get("register", "register") != register:
            continue
        for key, value in metric.params.items():
            if key not in ("register", "participants", "index_week", "codes", "absent_persons"):
                named |= _named_groups(value, known)
    present = set(groups_present(panel))
    return [g for g in panel.codes.group_ids if g in present or g in named]


def load_study_data(study, sources: Mapping[str, object] | None = None, *, problems: list[str] | None = None) -> StudyData:
    """Read, check and pseudonymise every data source declared by ``study``.

    Parameters
    ----------
    study : Study
        A loaded study (paths are relative to its folder).
    sources : mapping, optional
        Restrict to these source names.
    problems : list, optional
        Collect the problems of every source here instead of raising (the sources that failed are
        left out of the result); ``evaluation validate`` lists them with the other problems.

    Raises
    ------
    DataValidationError
        Every problem of every source (when ``problems`` is not given), each naming the file, the
        column and the rows.
    """
    key = load_key(study.folder)
    frames: dict[str, pd.DataFrame] = {}
    hashes: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    rows: dict[str, SourceRows] = {}
    found: list[str] = []
    names = list(sources) if sources is not None else list(study.data)
    # registers are read after the sources they are restricted to
    names.sort(key=lambda n: study.data[n].kind == "register")
    failed: set[str] = set()
    for name in names:
        source = study.data[name]
        try:
            path = study.resolve_path(source.path)
            if source.kind == "register":
                if source.participants in failed:
                    failed.add(name)
                    continue  # the participants' problems are listed; the register is read once they are fixed
                frames[name], notes[name] = _read_register_source(study, name, source, path, frames, key, rows)
            else:
                table = read_table_file(path, ReadOptions.of(source), file=shown(path))
                frame, n, r = _prepare(name, table, source, key, found)
                if frame is None:
                    failed.add(name)
                    continue
                frames[name], notes[name], rows[name] = frame, n, r
            hashes[name] = file_hash(path)
        except DataValidationError as exc:
            failed.add(name)
            found.extend(exc.problems)
    if problems is not None:
        problems.extend(found)
    elif found:
        raise DataValidationError(found)
    return StudyData(frames=frames, hashes=hashes, notes=notes, rows=rows)
