"""A study on a Danish Excel CSV (';', decimal comma, '.' thousands, cp1252) and on jobindsats.dk figures.

The same synthetic trial is written twice: as a plain UTF-8 CSV with the default labels, and as Danish
Excel saves it, with the groups called 'indsats'/'kontrol'. ``validate`` must report the label mismatch
before any run, with the fix and the study file's line; after the fix the Danish file must give the
same estimates, to the last digit, as the plain one (issue 13 items 1-2).
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from evaluation.cli import main
from evaluation.synthetic import simulate_sickness_trial

STUDY = """\
id: {slug}
title: Dansk CSV
funder: {{name: Test, type: kommune}}
operator: Jobcenter Test
period: {{start: 2026-01-01, end: 2026-12-31}}
theory:
  target_group: {{description: Sygemeldte}}
  nodes:
    - {{id: indsats, type: activity, label: Tidlig dialog}}
    - {{id: fravaer, type: outcome, horizon: short, primary: true, label: Kortere sygefravær}}
  links:
    - {{from: indsats, to: fravaer, direct: true}}
  indicators:
    - {{id: sygeuger, outcome: fravaer, label: Sygefraværsuger, unit: uger,
       metric: {{name: column, params: {{column: sick_weeks_52}}}}}}
data:
  participants:
    path: participants.csv
    id_column: person_id
    columns: [gruppe, age, sex, indkomst, sick_weeks_52]
{reading}
analyses:
  - id: hovedanalyse
    indicator: sygeuger
    design: randomized_comparison
    primary: true
    options:
      treatment: gruppe
      covariates: [age, sex, indkomst]
{labels}
"""


def _invoke(*args: str, cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def _data() -> pd.DataFrame:
    df = simulate_sickness_trial(seed=3)[["person_id", "group", "age", "sex", "sick_weeks_52"]].copy()
    rng = np.random.default_rng(3)
    df["indkomst"] = np.round(rng.uniform(150_000, 650_000, len(df)), 1)
    df["by"] = np.where(np.arange(len(df)) % 2, "Århus", "Køge")  # text cp1252 writes as one byte
    return df.rename(columns={"group": "gruppe"})


def _danish_number(x: float) -> str:
    if pd.isna(x):
        return ""
    whole, _, frac = repr(float(x)).partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    out = sign + ".".join(groups)
    return out + ("," + frac if frac and frac != "0" else "")


def _study(root: Path, slug: str, reading: str, labels: str, data: pd.DataFrame, danish: bool) -> Path:
    folder = root / "studies" / slug
    folder.mkdir(parents=True)
    if danish:
        lines = [";".join(data.columns)]
        for r in data.itertuples(index=False):
            cells = []
            for c, v in zip(data.columns, r):
                cells.append(_danish_number(v) if c in ("sick_weeks_52", "indkomst") else ("" if pd.isna(v) else str(v)))
            lines.append(";".join(cells))
        (folder / "participants.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    else:
        data.to_csv(folder / "participants.csv", index=False)
    text = STUDY.format(slug=slug, reading=reading, labels=labels)
    (folder / "study.yaml").write_text(text, encoding="utf-8")
    return folder


def test_danish_excel_csv_validate_names_the_labels_then_runs_identically(tmp_path):
    data = _data()
    plain = _study(tmp_path, "plain", "", "", data.assign(gruppe=data["gruppe"]), danish=False)
    danish_data = data.assign(gruppe=data["gruppe"].map({"intervention": "indsats", "control": "kontrol"}))
    dk = _study(tmp_path, "dansk", "", "", danish_data, danish=True)
    assert b"," in (dk / "participants.csv").read_bytes() and b";" in (dk / "participants.csv").read_bytes()

    r = _invoke("validate", "studies/dansk", cwd=tmp_path)
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    out = " ".join(r.output.split())
    assert "studies/dansk/study.yaml:27: analyses[0].options.treated:" in out, out
    assert "'indsats'" in out and "'kontrol'" in out and "treated: indsats, control: kontrol" in out

    # the fix the message names: the labels in the analysis's options
    text = (dk / "study.yaml").read_text(encoding="utf-8").replace(
        "      covariates: [age, sex, indkomst]\n", "      covariates: [age, sex, indkomst]\n      treated: indsats\n"
        "      control: kontrol\n")
    (dk / "study.yaml").write_text(text, encoding="utf-8")
    r = _invoke("validate", "studies/dansk", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert _invoke("run", "studies/plain", "--out", "res", cwd=tmp_path).exit_code == 0
    r = _invoke("run", "studies/dansk", "--out", "res", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    a = json.loads((tmp_path / "res" / "plain" / "results.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "res" / "dansk" / "results.json").read_text(encoding="utf-8"))
    est = lambda bundle: [(e["term"], e["estimate"], e["std_error"], e["n"]) for e in bundle["analyses"][0]["result"]["estimates"]]  # noqa: E731
    assert est(a) == est(b)
    notes = " ".join(b["data_notes"]["participants"])
    assert "cp1252" in notes and "decimaltegn komma" in notes


def test_undeclared_decimal_comma_value_is_named_with_its_line_and_the_fix(tmp_path):
    data = _data()
    folder = _study(tmp_path, "komma", "    decimal: '.'\n", "", data, danish=False)
    p = folder / "participants.csv"
    lines = p.read_text(encoding="utf-8").splitlines()
    cells = lines[6].split(",")
    cells[2] = '"40,5"'
    lines[6] = ",".join(cells)
    cells = lines[9].split(",")
    cells[2] = "ukendt"
    lines[9] = ",".join(cells)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for cmd in ("validate", "run"):
        r = _invoke(cmd, "studies/komma", cwd=tmp_path)
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        out = " ".join(r.output.split())
        assert "participants.csv:7: column 'age' (numeric covariate): 2 value(s) that are not numbers: line 7: '40,5', line 10: 'ukendt'" in out, out
        assert "decimal: ','" in out
        assert "p_" not in out


FIGURES_STUDY = """\
id: maal
title: Måltal fra jobindsats.dk
funder: {name: Test, type: kommune}
operator: Jobcenter Test
period: {start: 2016-06-01, end: 2018-03-31}
theory:
  target_group: {description: Personer i fleksjobordningen}
  nodes:
    - {id: indsats, type: activity, label: Indsats}
    - {id: ledighed, type: outcome, horizon: medium, primary: true, label: Færre på ledighedsydelse}
  links:
    - {from: indsats, to: ledighed, direct: true}
  indicators:
    - id: andel_ledighedsydelse
      outcome: ledighed
      label: Andel på ledighedsydelse
      unit: procent
      qualitative: {method: registeropgørelse, description: Opgjort på jobindsats.dk}
      target: {goal: 14.0, direction: decrease, goal_type: level, deadline: 2018-03-31}
    - id: andel_aarhus
      outcome: ledighed
      label: Andel på ledighedsydelse (Aarhus)
      unit: procent
      qualitative: {method: registeropgørelse, description: Opgjort på jobindsats.dk}
      target: {goal: 14.0, direction: decrease, goal_type: level, deadline: 2018-03-31}
data:
  jobindsats:
    path: jobindsats.xlsx
    kind: figures
    sheet: Tabel
    header_row: 3
    footer_rows: 1
    missing_values: [".."]
targets:
  - id: aalborg
    indicator: andel_ledighedsydelse
    figures: {data: jobindsats, row: {Område: Aalborg}, baseline: 2016M06, observed: 2018M03}
  - id: aarhus
    indicator: andel_aarhus
    figures: {data: jobindsats, row: {Område: Aarhus}, baseline: 2016M06, observed: 2018M03}
"""


def test_targets_read_from_a_jobindsats_export(tmp_path):
    import openpyxl

    folder = tmp_path / "studies" / "maal"
    folder.mkdir(parents=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tabel"
    for row in (["Andel af fleksjobvisiterede på ledighedsydelse (pct.)"], [], ["Område", "2016M06", "2018M03"],
                ["Aalborg", "15,3", "13,0"], ["Aarhus", 12.9, ".."], ["Kilde: Jobindsats.dk"]):
        ws.append(row)
    wb.save(folder / "jobindsats.xlsx")
    (folder / "study.yaml").write_text(FIGURES_STUDY, encoding="utf-8")
    r = _invoke("run", "studies/maal", "--out", "res", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    b = json.loads((tmp_path / "res" / "maal" / "results.json").read_text(encoding="utf-8"))
    t = {x["indicator"]: x["result"] for x in b["targets"]}
    assert t["andel_ledighedsydelse"]["status"] == "met" and t["andel_ledighedsydelse"]["observed"] == 13.0
    from evaluation.declaration.study import load_study
    from evaluation.pipeline.prepare import prepare_study

    targets = {x.id: x for x in prepare_study(load_study(folder)).targets}
    assert (targets["aalborg"].baseline, targets["aalborg"].observed) == (15.3, 13.0)
    assert (targets["aarhus"].baseline, targets["aarhus"].observed) == (12.9, None)
    assert t["andel_aarhus"]["status"] == "undecidable" and t["andel_aarhus"]["observed"] is None

    # a row that is not there names the study file's line and the file
    text = FIGURES_STUDY.replace("row: {Område: Aarhus}", "row: {Område: Odense}")
    (folder / "study.yaml").write_text(text, encoding="utf-8")
    for cmd in ("validate", "run"):
        r = _invoke(cmd, "studies/maal", cwd=tmp_path)
        assert r.exit_code == 2, r.output
        out = " ".join(r.output.split())
        assert "studies/maal/study.yaml:40: targets[1].figures.row: Område = 'Odense' selects no row of studies/maal/jobindsats.xlsx (sheet 'Tabel')" in out, out
        assert out.count("selects no row") == 1
