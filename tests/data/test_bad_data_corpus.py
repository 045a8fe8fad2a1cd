"""A corpus of bad data: every case exits 2 from ``validate`` and from ``run``, with no traceback, and
its message names the file, the column and the rows (issue 12 items 3-4, issue 13 item 4).

Each case starts from a small valid study (a randomized trial on a participants file, or register
outcomes on a participants file and a weekly register), breaks one thing, and states what the
message must name. Beyond the case's own words, every message is checked for what it must never
hold: a Python traceback, an internal error, a pseudonymised id (``p_…``, different every run), a
raw CPR number from the data, or the content of a file outside the study. No case may take more
than 30 s; the whole corpus must stay below 1 GiB of memory.
"""

from __future__ import annotations

import os
import re
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from evaluation.cli import main

# --------------------------------------------------------------------------- the valid studies

TRIAL = """\
id: {slug}
title: Forsøg
funder: {{name: Test, type: kommune}}
operator: Jobcenter Test
period: {{start: 2020-01-01, end: 2020-12-31}}
theory:
  target_group: {{description: Ledige}}
  nodes:
    - {{id: indsats, type: activity, label: Indsats}}
    - {{id: udfald, type: outcome, horizon: short, primary: true, label: Udfald}}
  links:
    - {{from: indsats, to: udfald, direct: true}}
  indicators:
    - {{id: y_ind, outcome: udfald, label: Udfald, unit: uger, metric: {{name: column, params: {{column: y}}}}}}
data:
  participants:
    path: participants.csv
    id_column: person_id
    columns: [group, age, sex, income, y]
analyses:
  - id: hoved
    indicator: y_ind
    design: randomized_comparison
    options:
      treatment: group
      covariates: [age, sex, income]
"""

REGISTER = """\
id: {slug}
title: Register
funder: {{name: Test, type: kommune}}
operator: Jobcenter Test
period: {{start: 2020-01-01, end: 2020-12-31}}
theory:
  target_group: {{description: Ledige}}
  nodes:
    - {{id: indsats, type: activity, label: Indsats}}
    - {{id: udfald, type: outcome, horizon: short, primary: true, label: Udfald}}
  links:
    - {{from: indsats, to: udfald, direct: true}}
  indicators:
    - {{id: dep, outcome: udfald, label: Andel uger på ydelse, unit: andel,
       metric: {{name: benefit_dependency, params: {{window: [1, 8]}}}}}}
data:
  participants: {{path: participants.csv, id_column: cpr, columns: [group, index_week]}}
  register:
    path: register.csv
    kind: register
    layout: long
    id_column: cpr
    absent_persons: self_support
    weeks: {{first: 2020-W01, last: 2020-W20}}
analyses:
  - {{id: hoved, indicator: dep, design: randomized_comparison, options: {{treatment: group}}}}
"""

N = 60
CPRS = [f"{(i % 28) + 1:02d}{(i % 12) + 1:02d}8{i % 10}{1000 + i:04d}" for i in range(N)]


def _trial_data() -> pd.DataFrame:
    rng = np.random.default_rng(12)
    return pd.DataFrame({
        "person_id": [f"P{i:03d}" for i in range(N)],
        "group": ["intervention", "control"] * (N // 2),
        "age": rng.integers(20, 64, N),
        "sex": ["kvinde", "mand", "mand", "kvinde"] * (N // 4),
        "income": np.round(rng.uniform(100, 900, N), 2),
        "y": np.round(rng.normal(10, 3, N), 3),
        "w": np.round(rng.uniform(0.5, 2, N), 2),
        "klynge": [f"k{i % 12}" for i in range(N)],
        "blok": [f"b{i % 3}" for i in range(N)],
        "kommentar": [f"tekst {i}" for i in range(N)],
    })


def _register_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    parts = pd.DataFrame({"cpr": CPRS, "group": ["intervention", "control"] * (N // 2),
                          "index_week": ["2020-W02"] * N})
    rows = [(c, f"2020-W{w:02d}", 130) for i, c in enumerate(CPRS) for w in range(3, 3 + i % 6)]
    return parts, pd.DataFrame(rows, columns=["cpr", "week", "code"])


def _make(root: Path, kind: str) -> Path:
    folder = root / "studies" / "s"
    folder.mkdir(parents=True)
    if kind == "trial":
        _trial_data().to_csv(folder / "participants.csv", index=False)
        text = TRIAL.format(slug="s")
    else:
        parts, reg = _register_data()
        parts.to_csv(folder / "participants.csv", index=False)
        reg.to_csv(folder / "register.csv", index=False)
        text = REGISTER.format(slug="s")
    (folder / "study.yaml").write_text(text, encoding="utf-8")
    return folder


# --------------------------------------------------------------------------- editing helpers


def _lines(p: Path) -> list[str]:
    return p.read_text(encoding="utf-8").splitlines()


def _set_cell(p: Path, line: int, column: str, value: str) -> None:
    """Set one cell of a comma-separated file (``line`` as an editor counts it, header = 1)."""
    rows = _lines(p)
    header = rows[0].split(",")
    cells = rows[line - 1].split(",")
    cells[header.index(column)] = value
    rows[line - 1] = ",".join(cells)
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _study(f: Path, old: str, new: str) -> None:
    s = (f / "study.yaml").read_text(encoding="utf-8")
    assert old in s, old
    (f / "study.yaml").write_text(s.replace(old, new, 1), encoding="utf-8")


def _replace_in(p: Path, old: str, new: str, count: int = -1) -> None:
    s = p.read_text(encoding="utf-8")
    assert old in s, old
    p.write_text(s.replace(old, new, count), encoding="utf-8")


def _df(p: Path) -> pd.DataFrame:
    return pd.read_csv(p, dtype=str, keep_default_na=False)


def _save(df: pd.DataFrame, p: Path) -> None:
    df.to_csv(p, index=False)


def _xlsx(p: Path, rows: list[list], sheet: str = "Ark1") -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    wb.save(p)


def _as_xlsx(f: Path, sheet: str = "Ark1") -> None:
    df = pd.read_csv(f / "participants.csv")
    _xlsx(f / "participants.xlsx", [list(df.columns)] + df.astype(object).values.tolist(), sheet)
    _study(f, "path: participants.csv", "path: participants.xlsx")


@dataclass(frozen=True)
class Case:
    id: str
    base: str
    mutate: Callable[[Path], None]
    needles: tuple[str, ...]


def P(f: Path) -> Path:
    return f / "participants.csv"


def R(f: Path) -> Path:
    return f / "register.csv"


def _drop_rows(p: Path, keep: Callable[[pd.DataFrame], pd.Series]) -> None:
    df = _df(p)
    _save(df[keep(df)], p)


CASES: list[Case] = [
    # ---- separators, decimal signs, encodings
    Case("declared-separator-wrong", "trial", lambda f: _study(f, "    id_column: person_id\n", "    id_column: person_id\n    separator: ';'\n"),
         ("participants.csv", "'group'", "separator")),
    Case("semicolon-file-declared-comma", "trial", lambda f: (P(f).write_text(P(f).read_text().replace(",", ";")),
                                                               _study(f, "    id_column: person_id\n", "    id_column: person_id\n    separator: ','\n")),
         ("participants.csv", "separator")),
    Case("decimal-comma-undeclared", "trial", lambda f: (_study(f, "    id_column: person_id\n", "    id_column: person_id\n    decimal: '.'\n"),
                                                         _set_cell(P(f), 7, "income", '"40,5"')),
         ("participants.csv:7", "column 'income'", "line 7: '40,5'", "decimal: ','")),
    Case("mixed-decimal-signs", "trial", lambda f: _set_cell(P(f), 9, "income", '"40,5"'),
         ("participants.csv", "line 9, column 'income': '40,5'", "decimal points", "decimal:")),
    Case("comma-in-unquoted-field", "trial", lambda f: _set_cell(P(f), 5, "income", "40,5"),
         ("participants.csv", "line 5", "fields but the header")),
    Case("declared-utf8-but-cp1252", "trial", lambda f: (P(f).write_bytes(P(f).read_text().replace("kvinde", "kvindø").encode("cp1252")),
                                                         _study(f, "    id_column: person_id\n", "    id_column: person_id\n    encoding: utf-8\n")),
         ("participants.csv", "line 2", "not valid utf-8", "encoding")),
    Case("unknown-encoding", "trial", lambda f: _study(f, "    id_column: person_id\n", "    id_column: person_id\n    encoding: klingon\n"),
         ("participants.csv", "unknown encoding 'klingon'")),
    Case("utf16-file", "trial", lambda f: P(f).write_bytes(P(f).read_text().encode("utf-16")),
         ("participants.csv", "UTF-16")),
    Case("binary-file", "trial", lambda f: P(f).write_bytes(bytes(range(256)) * 10),
         ("participants.csv", "binary")),
    Case("workbook-named-csv", "trial", lambda f: (_xlsx(f / "w.xlsx", [["a"], [1]]), P(f).write_bytes((f / "w.xlsx").read_bytes())),
         ("participants.csv", "zip archive")),
    # ---- empty and malformed tables
    Case("empty-file", "trial", lambda f: P(f).write_text(""), ("participants.csv", "is empty")),
    Case("blank-lines-only", "trial", lambda f: P(f).write_text("\n\n  \n"), ("participants.csv", "is empty")),
    Case("header-only", "trial", lambda f: P(f).write_text(_lines(P(f))[0] + "\n"), ("participants.csv", "no data rows")),
    Case("duplicated-column", "trial", lambda f: P(f).write_text("\n".join(l + "," + l.split(",")[2] for l in _lines(P(f))) + "\n"),
         ("participants.csv", "line 1", "'age' appears twice")),
    Case("too-many-fields", "trial", lambda f: _replace_in(P(f), "\nP010,", "\nP010,extra,", 1),
         ("participants.csv", "line 12", "fields")),
    Case("header-row-beyond-file", "trial", lambda f: _study(f, "    id_column: person_id\n", "    id_column: person_id\n    header_row: 500\n"),
         ("participants.csv", "header_row 500")),
    Case("footer-rows-too-many", "trial", lambda f: _study(f, "    id_column: person_id\n", "    id_column: person_id\n    footer_rows: 60\n"),
         ("participants.csv", "footer_rows")),
    Case("missing-declared-column", "trial", lambda f: _save(_df(P(f)).drop(columns=["sex"]), P(f)),
         ("participants.csv", "lacks the declared column(s) 'sex'")),
    # ---- ids
    Case("duplicate-person", "trial", lambda f: _set_cell(P(f), 9, "person_id", "P001"),
         ("participants.csv:3", "'person_id'", "lines 3, 9")),
    Case("blank-person-id", "trial", lambda f: _set_cell(P(f), 11, "person_id", ""),
         ("participants.csv:11", "'person_id'", "line 11")),
    # ---- numbers
    Case("text-in-numeric-covariate", "trial", lambda f: (_set_cell(P(f), 12, "age", "ukendt"), _set_cell(P(f), 30, "age", "ukendt")),
         ("participants.csv:12", "column 'age'", "line 12: 'ukendt', line 30: 'ukendt'")),
    Case("absurd-magnitude", "trial", lambda f: _set_cell(P(f), 14, "income", "1e300"),
         ("participants.csv:14", "column 'income'", "absurd", "line 14")),
    Case("text-inf-in-covariate", "trial", lambda f: _set_cell(P(f), 15, "income", "inf"),
         ("participants.csv:15", "column 'income'", "non-finite value(s) (inf or nan): line 15: 'inf'")),
    Case("text-infinity-in-outcome", "trial", lambda f: _set_cell(P(f), 16, "y", "-Infinity"),
         ("participants.csv:16", "column 'y'", "non-finite value(s) (inf or nan): line 16: '-Infinity'")),
    Case("missing-covariate", "trial", lambda f: _set_cell(P(f), 16, "age", ""),
         ("participants.csv:16", "column 'age'", "is empty", "line 16")),
    Case("many-level-categorical", "trial", lambda f: (_study(f, "covariates: [age, sex, income]", "covariates: [age, sex, income, kommentar]"),
                                                       _study(f, "columns: [group,", "columns: [kommentar, group,")),
         ("participants.csv", "column 'kommentar'", "60 different values")),
    Case("declared-numeric-with-text", "trial", lambda f: (_study(f, "    id_column: person_id\n", "    id_column: person_id\n    types: {sex: numeric}\n")),
         ("participants.csv:2", "column 'sex'", "declared numeric", "line 2: 'kvinde'")),
    Case("declared-integer-with-fraction", "trial", lambda f: (_study(f, "    id_column: person_id\n", "    id_column: person_id\n    types: {income: integer}\n")),
         ("participants.csv", "column 'income'", "not whole numbers", "line 2")),
    Case("outcome-text", "trial", lambda f: _set_cell(P(f), 20, "y", "ja"),
         ("participants.csv:20", "column 'y'", "line 20: 'ja'")),
    Case("constant-outcome", "trial", lambda f: _save(_df(P(f)).assign(y="5"), P(f)),
         ("participants.csv", "column 'y' (the outcome of indicator 'y_ind')", "same value (5) for every analysed person")),
    Case("constant-outcome-register", "register", lambda f: _save(_df(R(f)).assign(week=lambda d: d["week"].str.replace("-W0", "-W1")), R(f)),
         ("study.yaml:", "indicator 'dep'", "same value (0) for every analysed person")),
    Case("outcome-absurd", "trial", lambda f: _set_cell(P(f), 21, "y", "-9e99"),
         ("participants.csv:21", "column 'y'", "absurd")),
    Case("negative-weights", "trial", lambda f: (_set_cell(P(f), 22, "w", "-1"), _study(f, "      treatment: group\n", "      treatment: group\n      weights: w\n")),
         ("participants.csv:22", "column 'w'", "negative", "line 22")),
    Case("missing-cluster", "trial", lambda f: (_set_cell(P(f), 23, "klynge", ""), _study(f, "      treatment: group\n", "      treatment: group\n      cluster: klynge\n")),
         ("participants.csv:23", "column 'klynge'", "line 23")),
    Case("missing-stratum", "trial", lambda f: (_set_cell(P(f), 24, "blok", ""), _study(f, "      treatment: group\n", "      treatment: group\n      strata: blok\n")),
         ("participants.csv:24", "column 'blok'", "line 24")),
    Case("level-in-one-group-only", "trial", lambda f: (_set_cell(P(f), 2, "sex", "ukendt"), _set_cell(P(f), 4, "sex", "ukendt")),
         ("participants.csv:2", "column 'sex'", "'ukendt' occurs only in the group 'intervention'", "lines 2, 4")),
    # ---- groups
    Case("na-in-treatment", "trial", lambda f: _set_cell(P(f), 25, "group", ""),
         ("participants.csv:25", "column 'group'", "line 25")),
    Case("wrong-group-labels", "trial", lambda f: (_replace_in(P(f), ",intervention,", ",indsats,"), _replace_in(P(f), ",control,", ",kontrol,")),
         ("study.yaml:", "analyses[0].options.treated", "'indsats'", "'kontrol'", "participants.csv", "treated: indsats, control: kontrol")),
    Case("stray-group-value", "trial", lambda f: _set_cell(P(f), 26, "group", "venteliste"),
         ("participants.csv:26", "column 'group'", "line 26: 'venteliste'")),
    Case("group-below-threshold", "trial", lambda f: _drop_rows(P(f), lambda d: (d["group"] == "intervention") | (d.index < 6)),
         ("participants.csv", "'control'", "3 person(s)", "disclosure threshold")),
    Case("group-below-min-size", "trial", lambda f: _drop_rows(P(f), lambda d: (d["group"] == "intervention") | (d.index < 24)),
         ("participants.csv", "'control'", "12 person(s)", "minimum group size")),
    Case("numeric-labels-as-text", "trial", lambda f: (_replace_in(P(f), ",intervention,", ",1,"), _replace_in(P(f), ",control,", ",0,"),
                                                       _study(f, "      treatment: group\n", "      treatment: group\n      treated: '1'\n      control: '0'\n")),
         ("study.yaml", "column 'group'", "as a number")),
    Case("option-column-missing", "trial", lambda f: _study(f, "covariates: [age, sex, income]", "covariates: [age, sex, income, alder2]"),
         ("study.yaml:", "analyses[0].options.covariates[3]", "'alder2'", "participants.csv")),
    Case("take-up-column-missing", "trial", lambda f: _study(f, "      treatment: group\n", "      treatment: group\n      take_up: startet\n"),
         ("study.yaml:", "analyses[0].options.take_up", "'startet'", "participants.csv")),
    Case("take-up-not-0-1", "trial", lambda f: (_study(f, "      treatment: group\n", "      treatment: group\n      take_up: blok\n")),
         ("participants.csv:2", "column 'blok'", "0/1")),
    # ---- paths and formats
    Case("path-is-a-folder", "trial", lambda f: ((f / "mappe").mkdir(), _study(f, "path: participants.csv", "path: mappe")),
         ("mappe", "is a folder")),
    Case("path-does-not-exist", "trial", lambda f: _study(f, "path: participants.csv", "path: findes_ikke.csv"),
         ("findes_ikke.csv",)),
    Case("path-to-system-file", "trial", lambda f: _study(f, "path: participants.csv", "path: /etc/passwd"),
         ("passwd",)),
    Case("corrupt-xlsx", "trial", lambda f: ((f / "p.xlsx").write_bytes(b"PK\x03\x04garbage"), _study(f, "path: participants.csv", "path: p.xlsx")),
         ("p.xlsx", "cannot be read as an Excel workbook")),
    Case("xlsx-missing-sheet", "trial", lambda f: (_as_xlsx(f, "Data"), _study(f, "    id_column: person_id\n", "    id_column: person_id\n    sheet: data\n")),
         ("participants.xlsx", "no sheet 'data'", "'Data'")),
    Case("xlsx-text-in-number", "trial", lambda f: (_as_xlsx(f), _xlsx_cell(f / "participants.xlsx", 13, 3, "ukendt")),
         ("participants.xlsx (sheet 'Ark1'):13", "column 'age'", "row 13: 'ukendt'")),
    Case("xlsx-empty-sheet", "trial", lambda f: (_xlsx(f / "participants.xlsx", []), _study(f, "path: participants.csv", "path: participants.xlsx")),
         ("participants.xlsx", "is empty")),
    Case("old-xls", "trial", lambda f: ((f / "p.xls").write_bytes(b"\xd0\xcf\x11\xe0old"), _study(f, "path: participants.csv", "path: p.xls")),
         ("p.xls", ".xlsx")),
    Case("corrupt-parquet", "trial", lambda f: ((f / "p.parquet").write_bytes(b"PAR1garbage"), _study(f, "path: participants.csv", "path: p.parquet")),
         ("p.parquet", "cannot be read as Parquet")),
    Case("parquet-text-in-number", "trial", lambda f: (_df(P(f)).assign(age=lambda d: d["age"].where(d.index != 4, "ukendt")).to_parquet(f / "p.parquet"),
                                                       _study(f, "path: participants.csv", "path: p.parquet")),
         ("p.parquet:5", "column 'age'", "row 5: 'ukendt'")),
    # ---- registers
    Case("register-code-fraction", "register", lambda f: _set_cell(R(f), 6, "code", "130.5"),
         ("register.csv", "column 'code'", "not whole numbers", "line 6: '130.5'")),
    Case("register-code-text", "register", lambda f: _set_cell(R(f), 7, "code", "kth"),
         ("register.csv", "column 'code'", "not numbers", "line 7: 'kth'")),
    Case("register-code-unknown", "register", lambda f: _set_cell(R(f), 8, "code", "9999"),
         ("register.csv", "column 'code'", "9999", "line 8")),
    Case("register-code-inf", "register", lambda f: _set_cell(R(f), 7, "code", "inf"),
         ("register.csv", "column 'code'", "non-finite value(s) (inf or nan", "line 7: 'inf'")),
    Case("register-code-nan", "register", lambda f: _set_cell(R(f), 8, "code", "nan"),
         ("register.csv", "column 'code'", "non-finite value(s) (inf or nan", "line 8: 'nan'")),
    Case("register-code-empty", "register", lambda f: _set_cell(R(f), 9, "code", ""),
         ("register.csv", "column 'code'", "empty", "line 9")),
    Case("register-negative-week", "register", lambda f: _set_cell(R(f), 10, "week", "-5"),
         ("register.csv", "column 'week'", "line 10: '-5'")),
    Case("register-week-53", "register", lambda f: _set_cell(R(f), 11, "week", "2021-W53"),
         ("register.csv", "column 'week'", "line 11: '2021-W53'")),
    Case("register-duplicate-person-weeks", "register", lambda f: _replace_in(R(f), "\n", "\n" + _lines(R(f))[5] + "\n", 1),
         ("register.csv", "duplicate person-weeks", "line 2", "line 7")),
    Case("register-missing", "register", lambda f: R(f).unlink(), ("register.csv", "does not exist")),
    Case("register-is-folder", "register", lambda f: (R(f).unlink(), R(f).mkdir()), ("register.csv", "is a folder")),
    Case("register-is-system-file", "register", lambda f: _study(f, "path: register.csv", "path: /etc/passwd"), ("passwd",)),
    Case("register-is-device", "register", lambda f: _study(f, "path: register.csv", "path: /dev/null"), ("null",)),
    Case("participants-is-device", "trial", lambda f: _study(f, "path: participants.csv", "path: /dev/zero"), ("zero",)),
    Case("register-corrupt-parquet", "register", lambda f: ((f / "r.parquet").write_bytes(b"PAR1xx"), _study(f, "path: register.csv", "path: r.parquet")),
         ("r.parquet", "could not be read")),
    Case("register-lacks-code-column", "register", lambda f: _save(_df(R(f)).rename(columns={"code": "kode"}), R(f)),
         ("register.csv", "'code'")),
    Case("index-week-not-iso", "register", lambda f: _set_cell(P(f), 13, "index_week", "2020-W60"),
         ("participants.csv", "column 'index_week'", "line 13: '2020-W60'")),
    Case("index-week-outside-register", "register", lambda f: _set_cell(P(f), 14, "index_week", "2019-W30"),
         ("participants.csv:14", "column 'index_week'", "outside the register's weeks", "line 14")),
    Case("participant-absent-from-register", "register", lambda f: (_study(f, "    absent_persons: self_support\n", ""),
                                                                    _drop_rows(R(f), lambda d: d["cpr"] != CPRS[1])),
         ("register.csv", "no rows in the register", "participants.csv lines 2, 3,", "absent_persons: self_support")),
    Case("register-weeks-reversed", "register", lambda f: _study(f, "weeks: {first: 2020-W01, last: 2020-W20}", "weeks: {first: 2020-W20, last: 2020-W01}"),
         ("study.yaml:", "data.register.weeks", "before the first")),
    Case("wide-register-gap", "register", lambda f: (_wide(f, drop="y_2005"), _study(f, "layout: long", "layout: wide")),
         ("register.csv", "not contiguous", "2020-W05")),
    Case("wide-register-code-fraction", "register", lambda f: (_wide(f), _study(f, "layout: long", "layout: wide"),
                                                               _set_cell(R(f), 3, "y_2005", "130.5")),
         ("register.csv", "column 'y_2005'", "not whole numbers", "line 3: '130.5'")),
    Case("wide-register-code-inf", "register", lambda f: (_wide(f), _study(f, "layout: long", "layout: wide"),
                                                          _set_cell(R(f), 4, "y_2006", "inf")),
         ("register.csv", "column 'y_2006'", "non-finite value(s)", "line 4: 'inf'")),
    Case("wide-register-duplicate-person", "register", lambda f: (_wide(f, dup=True), _study(f, "layout: long", "layout: wide")),
         ("register.csv", "duplicate person-weeks", "line 2", "line 62")),
    Case("spells-end-before-start", "register", lambda f: (_spells(f), _study(f, "layout: long", "layout: spells")),
         ("register.csv", "'end_week' is before 'start_week'", "line 3")),
    Case("metric-reads-missing-column", "register", lambda f: _save(_df(P(f)).rename(columns={"index_week": "startuge"}), P(f)),
         ("participants.csv", "'index_week'")),
]


def _xlsx_cell(p: Path, row: int, col: int, value) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(p)
    wb.active.cell(row=row, column=col, value=value)
    wb.save(p)


def _wide(f: Path, drop: str | None = None, dup: bool = False) -> None:
    reg = pd.read_csv(R(f), dtype={"cpr": str})
    weeks = [f"y_20{w:02d}" for w in range(1, 21)]
    wide = pd.DataFrame({"cpr": CPRS, **{w: [None] * N for w in weeks}})
    for c, wk, code in reg.itertuples(index=False):
        wide.loc[CPRS.index(c), f"y_20{int(wk[-2:]):02d}"] = code
    if drop:
        wide = wide.drop(columns=[drop])
    if dup:
        wide = pd.concat([wide, wide.iloc[[0]]], ignore_index=True)
    wide.to_csv(R(f), index=False)


def _spells(f: Path) -> None:
    rows = [(c, "2020-W03", "2020-W04", 130) for c in CPRS]
    rows[1] = (CPRS[1], "2020-W06", "2020-W04", 130)
    pd.DataFrame(rows, columns=["cpr", "start_week", "end_week", "code"]).to_csv(R(f), index=False)


def _invoke(args: list[str], cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.mark.parametrize("base", ["trial", "register"])
def test_the_valid_studies_validate_and_run(tmp_path, base):
    _make(tmp_path, base)
    for cmd in (["validate", "studies/s"], ["run", "studies/s", "--out", "res"]):
        r = _invoke(cmd, tmp_path)
        assert r.exit_code == 0, r.output


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 50 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_data(tmp_path, case):
    folder = _make(tmp_path, case.base)
    case.mutate(folder)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    for cmd in (["validate", "studies/s"], ["run", "studies/s", "--out", "res"]):
        t0 = time.monotonic()
        r = _invoke(cmd, tmp_path)
        elapsed = time.monotonic() - t0
        out = r.output
        flat = " ".join(out.split())
        assert r.exit_code == 2, f"{cmd[0]}: exit {r.exit_code}\n{out}"
        assert "Traceback" not in out and "Internal error" not in out, out
        for needle in case.needles:
            assert needle in flat, f"{cmd[0]}: {needle!r} not in:\n{out}"
        assert not re.search(r"\bp_[0-9a-f]{16}\b", out), f"a pseudonym in the message:\n{out}"
        assert not any(c in out for c in CPRS), f"a raw CPR number in the message:\n{out}"
        assert "root:" not in out and ":x:" not in out and "/bin/" not in out, "the content of a file outside the study"
        assert elapsed < 30, f"{case.id}: {cmd[0]} took {elapsed:.1f} s"
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert {p: after.get(p) for p in before} == before, "input files were modified"
    # the only file a run may add beside the inputs is the study's own pseudonymisation key
    assert {p.name for p in set(after) - set(before)} <= {".pseudonym-key"}, sorted(set(after) - set(before))
    assert not (tmp_path / "res" / "s").exists(), "a failed run wrote a bundle"


def test_the_corpus_stays_below_1_gib():
    # runs after the cases in this module (pytest keeps file order): the process's peak resident memory
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert peak_kib < 1024 * 1024, f"peak memory {peak_kib / 1024:.0f} MiB"


def test_a_misspelt_or_missing_metric_parameter_is_named_by_validate_with_its_line(tmp_path):
    folder = _make(tmp_path, "trial")
    _study(folder, "params: {column: y}", "params: {colum: y}")
    for cmd in (["validate", "studies/s"], ["run", "studies/s", "--out", "res"]):
        r = _invoke(cmd, tmp_path)
        out = " ".join(r.output.split())
        assert r.exit_code == 2 and "Traceback" not in out, out
        assert "study.yaml:14: theory.indicators[0].metric.params.colum: metric 'column' has no parameter 'colum' (did you mean 'column'?)" in out, out
        assert "theory.indicators[0].metric.params: metric 'column' needs the parameter(s) 'column'" in out


def test_an_estimation_error_at_run_time_names_the_analysis_its_line_and_data(tmp_path):
    """What only estimation finds (here: a covariate that is another covariate times two) still names the
    analysis with the study file's line, its data file and outcome."""
    folder = _make(tmp_path, "trial")
    df = _df(P(folder))
    _save(df.assign(age2=(df["age"].astype(int) * 2).astype(str)), P(folder))
    _study(folder, "covariates: [age, sex, income]", "covariates: [age, age2, sex, income]")
    r = _invoke(["run", "studies/s", "--out", "res"], tmp_path)
    out = " ".join(r.output.split())
    assert r.exit_code == 2 and "Traceback" not in out, out
    assert "studies/s/study.yaml:21: analyses[0] (hoved; data studies/s/participants.csv, outcome 'y_ind'):" in out, out
    assert "rank deficient" in out and "age2" in out
