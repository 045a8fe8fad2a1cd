"""The scripted new evaluator (issue 13): from ``evaluation new`` to a report without reading source.

For every design: ``evaluation new <id> --design <design> --no-example-data`` → the evaluator fills in
the study for a project that is not shipped (*Virksomhedstræning for flygtninge*, KOU 2 in the
council's catalogue) and writes the participants file by hand, with its own column names and group
labels → ``validate`` → ``run`` → ``report`` succeed. Only the command line is used, and only what
the scaffold's comments say: column names are changed where the data section and the options name
them, the group labels are set under ``treated:``/``control:``, a before/after study names its
measurement dates.

Two further cases follow the issue's script: a participants file as Danish Excel saves it (cp1252,
";" between fields, decimal commas) is read to the same numbers as the plain file, and data whose
group labels are not the declared ones (``indsats``/``kontrol`` against the defaults) are stopped by
``validate`` — before any run — with the fix in the message.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from evaluation.cli import main as cli
from evaluation.designs.family import families

DESIGNS = [f.design for f in families()]

# ---------------------------------------------------------------------------- the evaluator's edits


def _cli(cwd: Path, *args: str):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = CliRunner().invoke(cli, list(args))
    finally:
        os.chdir(old)
    assert "Traceback" not in result.output, result.output
    return result


def _edit(text: str, old: str, new: str, *, count: int = 1) -> str:
    """Replace ``old`` (a line or a phrase the evaluator sees in the file), which must occur ``count`` times."""
    assert text.count(old) == count, f"expected {count}× {old!r} in the study file"
    return text.replace(old, new)


def _rename_columns(text: str, names: dict[str, str]) -> str:
    """Rename data columns where the file names them as values (``columns: [...]``, ``treatment: group``,
    ``{column: y}``) and as keys of ``labels:``/``value_labels:``, outside comments — what an evaluator does
    with find-and-replace on the scaffold's example names."""
    out = []
    in_labels = False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("#") or not line.strip():
            out.append(line)
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= 4:
            in_labels = bool(re.match(r"^    (labels|value_labels):\s*$", line))
        for old, new in names.items():
            # a value: after ': ', '[' or ', ' and before ',', ']', '}' or the end of the line
            line = re.sub(rf"(?<=[:,] ){re.escape(old)}(?=\s*(?:[,\]}}]|$))", new, line)
            line = re.sub(rf"(?<=\[){re.escape(old)}(?=\s*[,\]])", new, line)
            if in_labels and indent == 6:
                line = re.sub(rf"^(      ){re.escape(old)}:", rf"\g<1>{new}:", line)
        out.append(line)
    return "".join(out)


def _fill_in_project(text: str) -> str:
    """The project's own facts and programme theory, replacing the template's placeholders."""
    for old, new in [
        ('title: "Projektets titel"', 'title: "Virksomhedstræning for flygtninge"'),
        ("  To-tre sætninger om, hvad projektet gør, og hvorfor.",
         "  Seksten ugers vejledning og derefter oplæring i en privat virksomhed, hvor en fast medarbejder er\n"
         "  træner for den enkelte deltager."),
        ('name: "Det Lokale Beskæftigelsesråd"', 'name: "Koordinationsudvalget i Aalborg Kommune"'),
        ("type: LBR-pulje", "type: kommune"),
        ('operator: "Projektholder (organisation)"', 'operator: "Jobcenter Aalborg, Integrationsteamet"'),
        ("budget_dkk: 500000", "budget_dkk: 1539579"),
        ('description: "Hvem indsatsen er rettet mod"', 'description: "Flygtninge på integrationsydelse i Aalborg"'),
        ('label: "Det, projektet gør"', 'label: "Vejledning og virksomhedstræning med træner"'),
        ('label: "Den ændring, projektet vil skabe"', 'label: "Flere i ordinært arbejde"'),
        ('label: "Kort navn på mekanismen"', 'label: "Træneren på arbejdspladsen"'),
    ]:
        text = _edit(text, old, new)
    return text


# ---------------------------------------------------------------------------- hand-written data per design


def _ids(n: int, prefix: str = "VT") -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(1, n + 1)]


def _randomized(rng) -> tuple[dict[str, pd.DataFrame], dict[str, str], list[tuple[str, str]]]:
    n = 120
    arm = np.where(np.arange(2 * n) % 2 == 0, "indsats", "kontrol")
    alder = rng.integers(19, 60, 2 * n)
    kvinde = rng.integers(0, 2, 2 * n)
    uger = np.clip(30 + 0.2 * (alder - 40) - 4 * (arm == "indsats") + rng.normal(0, 6, 2 * n), 0, 52).round(1)
    df = pd.DataFrame({"løbenr": _ids(2 * n), "arm": arm, "alder": alder, "kvinde": kvinde, "uger_paa_ydelse": uger})
    names = {"person_id": "løbenr", "group": "arm", "age": "alder", "female": "kvinde", "y": "uger_paa_ydelse"}
    edits = [("      treated: intervention\n", "      treated: indsats\n"), ("      control: control\n", "      control: kontrol\n"),
             ("      alder: Alder\n", "      alder: Alder (år)\n")]
    return {"participants": df}, names, edits


def _matched(rng):
    n_t, n_c = 90, 270
    t = np.r_[np.ones(n_t, bool), np.zeros(n_c, bool)]
    alder = np.r_[rng.normal(34, 7, n_t), rng.normal(40, 9, n_c)].round().astype(int)
    foer = np.r_[rng.beta(7, 3, n_t), rng.beta(5, 4, n_c)].round(3)
    efter = np.clip(0.15 + 0.6 * foer + 0.003 * (alder - 35) - 0.07 * t + rng.normal(0, 0.08, n_t + n_c), 0, 1).round(3)
    df = pd.DataFrame({"løbenr": _ids(n_t + n_c), "status": np.where(t, "deltager", "pulje"), "alder": alder,
                       "ydelse_foer": foer, "ydelse_efter": efter})
    names = {"person_id": "løbenr", "group": "status", "age": "alder", "prior_share": "ydelse_foer", "y": "ydelse_efter"}
    edits = [("      treated: intervention\n", "      treated: deltager\n"), ("      control: control\n", "      control: pulje\n")]
    return {"participants": df}, names, edits


def _did_2x2(rng):
    rows = []
    for i, pid in enumerate(_ids(160)):
        deltager = int(i % 2 == 0)
        level = rng.beta(5, 3)
        for efter in (0, 1):
            y = level - 0.02 * efter - 0.09 * deltager * efter + rng.normal(0, 0.05)
            rows.append((pid, deltager, efter, round(float(np.clip(y, 0, 1)), 4)))
    df = pd.DataFrame(rows, columns=["løbenr", "deltager", "efter", "andel_paa_ydelse"])
    names = {"person_id": "løbenr", "treated": "deltager", "post": "efter", "y": "andel_paa_ydelse"}
    return {"participants": df}, names, [("      period: Periode\n", "      andel_paa_ydelse: Andel af ugerne på ydelse\n")]


def _panel(rng, staggered: bool):
    rows = []
    for i, pid in enumerate(_ids(160)):
        start = int(rng.integers(3, 8)) if i % 2 == 0 else 0
        level = rng.beta(5, 3)
        for kvartal in range(1, 9):
            on = int(start > 0 and kvartal >= start)
            y = level - 0.01 * kvartal - 0.08 * on + rng.normal(0, 0.05)
            rows.append((pid, kvartal, start, on, round(float(np.clip(y, 0, 1)), 4)))
    return pd.DataFrame(rows, columns=["løbenr", "kvartal", "startkvartal", "i_indsats", "andel_paa_ydelse"])


def _did_twfe(rng):
    df = _panel(rng, True).drop(columns="startkvartal")
    names = {"person_id": "løbenr", "period": "kvartal", "treated_now": "i_indsats", "y": "andel_paa_ydelse"}
    return {"participants": df}, names, [("      kvartal: Periode\n", "      kvartal: Kvartal\n")]


def _did_cs(rng):
    df = _panel(rng, True).drop(columns="i_indsats")
    names = {"person_id": "løbenr", "period": "kvartal", "cohort": "startkvartal", "y": "andel_paa_ydelse"}
    return {"participants": df}, names, [("      kvartal: Periode\n", "      kvartal: Kvartal\n")]


def _pre_post(rng):
    rows = []
    for i, pid in enumerate(_ids(300)):
        foer = rng.random() < 0.40
        efter = foer if rng.random() < 0.6 else rng.random() < 0.28
        rows.append((pid, "juni 2016", int(foer)))
        if i % 7:  # most persons are measured twice
            rows.append((pid, "marts 2018", int(efter)))
    df = pd.DataFrame(rows, columns=["løbenr", "maaling", "paa_ledighedsydelse"])
    names = {"person_id": "løbenr", "period": "maaling", "status": "paa_ledighedsydelse"}
    edits = [("      baseline: '2019-03-31'\n", "      baseline: juni 2016\n"),
             ("      follow_up: '2021-03-31'\n", "      follow_up: marts 2018\n")]
    return {"participants": df}, names, edits


def _survey(rng):
    units = {"Vejgaard": 80, "Hasseris": 70, "Nørresundby": 60}
    rows = []
    for u, n in units.items():
        for _ in range(n):
            rows.append([u] + [int(rng.choice([5, 4, 3, 2, 1, 9], p=[0.4, 0.3, 0.14, 0.08, 0.05, 0.03])) for _ in range(3)])
    answers = pd.DataFrame(rows, columns=["afdeling", "spm1", "spm2", "spm3"])
    answers.insert(0, "svar_id", _ids(len(answers), "S"))
    planned = pd.DataFrame({"afdeling": list(units), "planned": [2 * n for n in units.values()]})
    names = {"respondent": "svar_id", "hus": "afdeling", "modtaget": "spm1", "viden": "spm2", "tilfreds": "spm3"}
    edits = [("      title: Brugermåling\n", "      title: Deltagernes oplevelse af forløbet\n"),
             ("      afdeling: Jobcentrets hus\n", "      afdeling: Afdeling\n"),
             ("text: 'Blev du taget godt imod?'", "text: 'Blev du taget godt imod i virksomheden?'")]
    return {"answers": answers, "planned": planned}, names, edits


DATA = {"randomized_comparison": _randomized, "matched_comparison": _matched, "did_2x2": _did_2x2,
        "did_twfe": _did_twfe, "did_cs": _did_cs, "pre_post": _pre_post, "survey": _survey}


def test_every_design_has_a_scripted_evaluator():
    assert sorted(DATA) == sorted(DESIGNS)


def _write_csv(frame: pd.DataFrame, path: Path, *, danish_excel: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if danish_excel:
        frame.to_csv(path, sep=";", decimal=",", index=False, encoding="cp1252", lineterminator="\r\n")
    else:
        frame.to_csv(path, index=False, lineterminator="\n")


def _new_study(root: Path, slug: str, design: str, *, danish_excel: bool = False, keep_labels: bool = False) -> Path:
    """``evaluation new`` and the evaluator's edits; returns the study folder."""
    root.mkdir(parents=True, exist_ok=True)
    r = _cli(root, "new", slug, "--design", design, "--no-example-data")
    assert r.exit_code == 0, r.output
    assert f"created studies/{slug}/study.yaml" in r.output
    study = root / "studies" / slug / "study.yaml"
    text = study.read_text(encoding="utf-8")
    assert "provenance: project" in text  # no example data: the scaffold does not claim them synthetic
    frames, names, edits = DATA[design](np.random.default_rng(13))
    for name, frame in frames.items():
        _write_csv(frame, root / "data" / slug / f"{name}.csv", danish_excel=danish_excel and name == "participants")
    text = _fill_in_project(text)
    text = _rename_columns(text, names)
    for old, new in edits:
        if keep_labels and ("treated:" in old or "control:" in old):
            continue
        text = _edit(text, old, new)
    # the columns each source must have: what the evaluator's file has
    for name, frame in frames.items():
        cols = [c for c in frame.columns if c != names.get("person_id", names.get("respondent"))]
        text = re.sub(rf"(^  {name}:\n(?:    .*\n|\n)*?    columns: )\[[^\]]*\]", lambda m: m.group(1) + "[" + ", ".join(cols) + "]",
                      text, count=1, flags=re.M)
    if danish_excel:
        text = _declare_danish_excel(text)
    study.write_text(text, encoding="utf-8")
    return study.parent


def _declare_danish_excel(text: str) -> str:
    """Uncomment (or add) the reading settings of the participants source: ';', decimal comma, cp1252."""
    block_start = text.index("  participants:\n")
    head, block = text[:block_start], text[block_start:]
    for key, value in (("separator", "';'"), ("decimal", "','"), ("encoding", "cp1252")):
        pattern = re.compile(rf"^    # {key}: .*$", re.M)
        if pattern.search(block):
            block = pattern.sub(f"    {key}: {value}", block, count=1)
        else:  # the scaffold does not offer the setting (yet): write it under kind:
            block = block.replace("    kind: participants\n", f"    kind: participants\n    {key}: {value}\n", 1)
    return head + block


def _estimates(root: Path, slug: str) -> list[tuple[str, float, float]]:
    bundle = json.loads((root / "results" / slug / "results.json").read_text(encoding="utf-8"))
    return [(e["term"], e["estimate"], e["ci_lower"]) for a in bundle["analyses"] for e in a["result"]["estimates"]]


@pytest.mark.parametrize("design", DESIGNS)
def test_new_evaluator_from_new_to_report(tmp_path, design):
    slug = "virksomhedstraening-" + design.replace("_", "-")
    folder = _new_study(tmp_path, slug, design)
    r = _cli(tmp_path, "validate", str(folder.relative_to(tmp_path)))
    assert r.exit_code == 0, r.output
    assert "Virksomhedstræning for flygtninge" in r.output
    r = _cli(tmp_path, "run", str(folder.relative_to(tmp_path)))
    assert r.exit_code == 0, r.output
    r = _cli(tmp_path, "report", str(folder.relative_to(tmp_path)), "--format", "html")
    assert r.exit_code == 0, r.output
    html = (tmp_path / "reports" / slug / "index.html").read_text(encoding="utf-8")
    assert "Virksomhedstræning for flygtninge" in html
    bundle = json.loads((tmp_path / "results" / slug / "results.json").read_text(encoding="utf-8"))
    (analysis,) = bundle["analyses"]
    assert analysis["design"] == design
    # the estimate rests on the evaluator's own file: every participant is counted
    frames, _, _ = DATA[design](np.random.default_rng(13))
    main = analysis["result"]["estimates"][0]
    assert main["n"] > 0
    if design in ("randomized_comparison", "matched_comparison"):
        assert main["n"] == len(frames["participants"])
        assert main["n_treated"] == int((frames["participants"].iloc[:, 1].isin(["indsats", "deltager"])).sum())
    # covariates are shown by their Danish names, never the raw column names
    if design == "randomized_comparison":
        assert "Alder (år)" in html and ">alder<" not in html


@pytest.mark.parametrize("design", ["randomized_comparison", "pre_post"])
def test_a_danish_excel_file_gives_the_same_numbers(tmp_path, design):
    """cp1252, ';' and decimal commas, declared in the study: the same estimates as the plain UTF-8 file."""
    plain = _new_study(tmp_path / "plain", "plain", design)
    assert _cli(tmp_path / "plain", "run", "studies/plain").exit_code == 0
    excel = _new_study(tmp_path / "excel", "excel", design, danish_excel=True)
    raw = (tmp_path / "excel" / "data" / "excel" / "participants.csv").read_bytes()
    assert b";" in raw and "løbenr".encode("cp1252") in raw
    assert design != "randomized_comparison" or re.search(rb";\d+,\d", raw)  # decimal commas in the file
    r = _cli(tmp_path / "excel", "validate", "studies/excel")
    assert r.exit_code == 0, r.output
    r = _cli(tmp_path / "excel", "run", "studies/excel")
    assert r.exit_code == 0, r.output
    assert _estimates(tmp_path / "excel", "excel") == _estimates(tmp_path / "plain", "plain")
    r = _cli(tmp_path / "excel", "report", "studies/excel", "--format", "html")
    assert r.exit_code == 0, r.output
    assert plain.name == "plain" and excel.name == "excel"


@pytest.mark.parametrize("design", ["randomized_comparison", "matched_comparison"])
def test_group_labels_that_are_not_in_the_data_are_stopped_by_validate(tmp_path, design):
    """Data labelled indsats/kontrol (deltager/pulje) while the study keeps the default labels: validate names
    the column, the labels found and the fix (treated:/control:), before anything runs."""
    slug = "gruppenavne"
    folder = _new_study(tmp_path, slug, design, keep_labels=True)
    r = _cli(tmp_path, "validate", f"studies/{slug}")
    assert r.exit_code == 2, r.output
    found = ("indsats", "kontrol") if design == "randomized_comparison" else ("deltager", "pulje")
    column = "arm" if design == "randomized_comparison" else "status"
    for needle in ("treated", "control", column, *found, "intervention"):
        assert needle in r.output, (needle, r.output)
    assert not (tmp_path / "results").exists(), "validate must not run anything"
    # the fix the message names
    text = (folder / "study.yaml").read_text(encoding="utf-8")
    text = _edit(text, "      treated: intervention\n", f"      treated: {found[0]}\n")
    text = _edit(text, "      control: control\n", f"      control: {found[1]}\n")
    (folder / "study.yaml").write_text(text, encoding="utf-8")
    assert _cli(tmp_path, "validate", f"studies/{slug}").exit_code == 0
    assert _cli(tmp_path, "run", f"studies/{slug}").exit_code == 0
    assert _cli(tmp_path, "report", f"studies/{slug}", "--format", "html").exit_code == 0


def test_without_the_fix_the_run_still_names_the_labels(tmp_path):
    """What happens today when the labels are not set: the run stops with exit 2 and the labels it found."""
    _new_study(tmp_path, "uden-rettelse", "randomized_comparison", keep_labels=True)
    r = _cli(tmp_path, "run", "studies/uden-rettelse")
    assert r.exit_code == 2, r.output
    assert "'indsats'" in r.output and "'kontrol'" in r.output and "'intervention'" in r.output
