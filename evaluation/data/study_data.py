"""The data boundary: every file a study declares is read once here, checked and pseudonymised.

Downstream code (metrics, designs, reports) receives validated pandas frames indexed by a
pseudonymised person id and never branches on file formats or re-checks columns. Input
files are opened read-only and never modified.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import pandas as pd

from evaluation.data.pseudonym import load_key, pseudonymise_ids
from evaluation.data.registers import CodeList, RegisterLayout, groups_present, read_register, unverified_code_note
from evaluation.exceptions import DataValidationError

__all__ = ["StudyData", "read_table", "load_study_data", "file_hash", "relied_on_groups", "PERSON_INDEX"]

#: Name of the index that holds pseudonymised person ids in every frame past the boundary.
PERSON_INDEX = "person"


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _infer_format(path: Path, declared: str | None) -> str:
    if declared:
        return declared
    suffix = path.suffix.lower()
    return {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx", ".xls": "xlsx"}.get(suffix, "csv")


def read_table(path: str | Path, *, fmt: str | None = None, sheet: str | None = None, separator: str = ",") -> pd.DataFrame:
    """Read a CSV, Parquet or Excel file into a DataFrame (identifiers kept as text).

    Raises
    ------
    DataValidationError
        When the file is missing or cannot be parsed (the file is named).
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: the data file does not exist; check 'path' in the study's data section")
    fmt = _infer_format(path, fmt)
    try:
        if fmt == "csv":
            return pd.read_csv(path, sep=separator, dtype_backend="numpy_nullable", keep_default_na=True)
        if fmt == "parquet":
            return pd.read_parquet(path)
        if fmt == "xlsx":
            return pd.read_excel(path, sheet_name=sheet or 0)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataValidationError(f"{path}: could not be read as {fmt}: {exc}") from None
    raise DataValidationError(f"{path}: unknown format {fmt!r}; expected csv, parquet or xlsx")


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
    """

    frames: Mapping[str, pd.DataFrame]
    hashes: Mapping[str, str]
    notes: Mapping[str, list[str]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]


def _prepare(name: str, path: Path, df: pd.DataFrame, source, key: bytes) -> tuple[pd.DataFrame, list[str]]:
    notes = [f"{len(df)} rækker indlæst"]
    period = getattr(source, "period_column", None)
    missing = [c for c in source.columns if c not in df.columns]
    if period and period not in df.columns and period not in missing:
        missing.insert(0, period)
    if source.id_column and source.id_column not in df.columns:
        missing.insert(0, source.id_column)
    if missing:
        raise DataValidationError(
            f"{path}: data source {name!r} lacks the declared column(s) {', '.join(map(repr, missing))}; "
            f"the file has: {', '.join(map(str, df.columns))}"
        )
    if len(df) == 0:
        raise DataValidationError(f"{path}: data source {name!r} has no rows")
    if source.id_column:
        ids = df[source.id_column]
        blank = ids.isna() | (ids.astype("string").str.strip() == "")
        if blank.any():
            rows = ", ".join(str(i + 2) for i in list(df.index[blank])[:5])
            raise DataValidationError(
                f"{path}: column {source.id_column!r} is empty in {int(blank.sum())} row(s) (file lines {rows}); every row needs a person id"
            )
        if period:
            blank_p = df[period].isna()
            if blank_p.any():
                rows = ", ".join(str(i + 2) for i in list(df.index[blank_p])[:5])
                raise DataValidationError(
                    f"{path}: column {period!r} (period_column) is empty in {int(blank_p.sum())} row(s) (file lines {rows}); "
                    "every row needs the date it was measured"
                )
            dup = df.duplicated([source.id_column, period], keep=False)
        else:
            dup = ids.duplicated(keep=False)
        if source.kind in ("participants",) and dup.any():
            rows = ", ".join(str(i + 2) for i in list(df.index[dup])[:6])
            per = f" and the same {period!r}" if period else ""
            expected = "one row per person and period" if period else "one row per person"
            raise DataValidationError(
                f"{path}: column {source.id_column!r} has {int(ids[dup].nunique())} person id(s) on more than one row{per} "
                f"(file lines {rows}); expected {expected}"
            )
        df = df.copy()
        df.index = pd.Index(pseudonymise_ids(ids, key), name=PERSON_INDEX)
        df = df.drop(columns=[source.id_column])
        notes.append(f"personidentifikator «{source.id_column}» pseudonymiseret med nøglebaseret hash")
        if period:
            n_persons = int(pd.Index(df.index).nunique())
            notes.append(f"{n_persons} personer målt på {int(df[period].nunique())} tidspunkter (kolonnen «{period}»)")
    return df, notes


def _read_register_source(study, name: str, source, path: Path, frames: Mapping[str, pd.DataFrame], key: bytes):
    """Read a weekly register into a dense :class:`~evaluation.data.registers.Panel` restricted to the participants."""
    if not path.is_file():
        raise DataValidationError(f"{path}: the register file does not exist; check 'path' in the study's data section")
    if source.participants not in study.data:
        raise DataValidationError(f"{path}: register {name!r} refers to data source {source.participants!r}, which is not declared")
    if source.participants not in frames:
        raise DataValidationError(f"{path}: register {name!r} needs {source.participants!r} to be read first")
    codes = CodeList.load(study.resolve_path(source.codes)) if source.codes else CodeList.load()
    if source.code_overrides:
        codes = codes.with_overrides(dict(source.code_overrides))
    layout = RegisterLayout(
        kind=source.layout, person_column=source.id_column or "person", week_column=source.week_column,
        code_column=source.code_column, start_column=source.start_column, end_column=source.end_column,
    )
    panel = read_register(
        path, layout, codes=codes, participants=frames[source.participants], absent_persons=source.absent_persons,
        key=key, pseudonymise=True, fmt=source.format, sheet=source.sheet, separator=source.separator,
    )
    notes = [f"{panel.shape[0]} personer × {panel.shape[1]} uger ({panel.weeks.labels()[0]}–{panel.weeks.labels()[-1]})",
             f"kodeliste {codes.version}"]
    # the reader's own notes name the file by its path on this machine: published notes never do
    prefix = f"{path}: "
    for n in panel.notes:
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


def load_study_data(study, sources: Mapping[str, object] | None = None) -> StudyData:
    """Read, check and pseudonymise every data source declared by ``study``.

    Parameters
    ----------
    study : Study
        A loaded study (paths are relative to its folder).
    sources : mapping, optional
        Restrict to these source names.
    """
    key = load_key(study.folder)
    frames: dict[str, pd.DataFrame] = {}
    hashes: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    names = list(sources) if sources is not None else list(study.data)
    # registers are read after the sources they are restricted to
    names.sort(key=lambda n: study.data[n].kind == "register")
    for name in names:
        source = study.data[name]
        path = study.resolve_path(source.path)
        if source.kind == "register":
            frames[name], notes[name] = _read_register_source(study, name, source, path, frames, key)
        else:
            raw = read_table(path, fmt=source.format, sheet=source.sheet, separator=source.separator)
            frames[name], notes[name] = _prepare(name, path, raw, source, key)
        hashes[name] = file_hash(path)
    return StudyData(frames=frames, hashes=hashes, notes=notes)
