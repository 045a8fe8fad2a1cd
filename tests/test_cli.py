"""The command line end to end: validate, run, report; bad input gives exit 2 and loses nothing."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from evaluation.cli import main

from conftest import tree_hashes

SLUG = "arbejdsfastholdelse-ved-sygdom"


def invoke(*args: str, cwd: Path):
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def _participants(study_dir: Path) -> Path:
    return study_dir.parents[1] / "data" / "synthetic" / SLUG / "participants.csv"


def test_validate_prints_summary(study_tree, tmp_path):
    d = study_tree()
    r = invoke("validate", str(d), cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert "OK" in r.output and "primary outcomes: sygefravaer" in r.output and "config hash: sha256:" in r.output


def test_run_is_byte_identical_and_leaves_inputs(study_tree, tmp_path):
    d = study_tree()
    before = tree_hashes(tmp_path / "data") | tree_hashes(tmp_path / "studies")
    r1 = invoke("run", str(d), "--out", "res1", cwd=tmp_path)
    assert r1.exit_code == 0, r1.output
    assert d == tmp_path / "studies" / SLUG
    r2 = invoke("run", SLUG, "--out", "res2", cwd=tmp_path)  # the slug of a study under --studies is the same study
    assert r2.exit_code == 0, r2.output
    r3 = invoke("run", "no-such-study", cwd=tmp_path)
    assert r3.exit_code == 2 and "no-such-study: no such study folder" in r3.output and "Traceback" not in r3.output
    a = (tmp_path / "res1" / SLUG / "results.json").read_bytes()
    b = (tmp_path / "res2" / SLUG / "results.json").read_bytes()
    assert a == b, "identical inputs must give a byte-identical bundle"
    assert tree_hashes(tmp_path / "res1" / SLUG) == tree_hashes(tmp_path / "res2" / SLUG)
    assert (tree_hashes(tmp_path / "data") | tree_hashes(tmp_path / "studies")) == before
    bundle = json.loads(a)
    assert bundle["study"]["id"] == SLUG
    assert bundle["config_hash"].startswith("sha256:") and set(bundle["data_hashes"]) == {"participants"}
    assert bundle["package_version"]
    cols = {"term", "estimate", "std_error", "statistic", "p_value", "ci_lower", "ci_upper", "n", "method", "n_treated", "n_control"}
    for an in bundle["analyses"]:
        for e in an["result"]["estimates"]:
            assert set(e) == cols
    text = a.decode()
    import re

    assert not re.search(r"\bP\d{4}\b|\bp_[0-9a-f]{16}\b", text), "no identifiers (raw or pseudonymised) in the bundle"


def _expect_exit2(args, tmp_path, *needles):
    r = invoke(*args, cwd=tmp_path)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    for n in needles:
        assert n in r.output, r.output
    return r


def test_missing_data_file(study_tree, tmp_path):
    d = study_tree()
    _participants(d).unlink()
    _expect_exit2(["run", str(d)], tmp_path, "participants.csv", "does not exist")


def test_data_lacks_declared_column(study_tree, tmp_path):
    d = study_tree()
    p = _participants(d)
    pd.read_csv(p).drop(columns=["sector"]).to_csv(p, index=False)
    _expect_exit2(["run", str(d)], tmp_path, "lacks the declared column(s) 'sector'")


def test_empty_group_and_small_group(study_tree, tmp_path):
    d = study_tree()
    p = _participants(d)
    df = pd.read_csv(p)
    df[df["group"] != "control"].to_csv(p, index=False)
    _expect_exit2(["run", str(d)], tmp_path, "the group label(s) 'control'", "do not occur in column 'group'")
    keep = pd.concat([df[df["group"] == "intervention"], df[df["group"] == "control"].head(3)])
    keep.to_csv(p, index=False)
    _expect_exit2(["run", str(d)], tmp_path, "has 3 person(s), fewer than the disclosure threshold of 5")


def test_invalid_study_exit_2_and_no_partial_report(study_tree, tmp_path):
    d = study_tree()
    # a good report first
    r = invoke("report", str(d), "--format", "html", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    html = tmp_path / "reports" / SLUG / "index.html"
    before = html.read_bytes()
    f = d / "study.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("operator:", "operatør:", 1), encoding="utf-8")
    _expect_exit2(["report", str(d)], tmp_path, "unknown field 'operatør'; did you mean 'operator'?")
    assert html.read_bytes() == before, "a failed run must leave the previous report intact"
    # the study's lock file (.<slug>.lock) stays; no staging folder does
    leftovers = [p.name for p in (tmp_path / "reports").iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")]
    assert leftovers == []


def test_new_and_schema(tmp_path):
    r = invoke("new", "mit-projekt", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert invoke("validate", "studies/mit-projekt", cwd=tmp_path).exit_code == 0
    _expect_exit2(["new", "mit-projekt"], tmp_path, "already exists")
    r = invoke("schema", cwd=tmp_path)
    assert r.exit_code == 0 and json.loads(r.output)["title"].startswith("evaluation study")


@pytest.mark.parametrize(
    "old,new,needle",
    [
        ("title: Arbejdsfastholdelse ved sygdom", 'title: "Arbejdsfastholdelse', "(YAML syntax)"),
        ("budget_dkk: 1425000", "budget: 1425000", "unknown field 'budget'; did you mean 'budget_dkk'?"),
        ("operator: Socialmedicinsk Enhed, Aalborg\n", "", "operator: required field is missing"),
        ("{from: plan, to: sygefravaer, mechanism: gradvis_tilbagevenden",
         "{from: plan, to: sygefravar, mechanism: gradvis_tilbagevenden", "refers to 'sygefravar', which is not declared"),
    ],
    ids=["yaml-syntax", "unknown-key", "missing-field", "dangling-reference"],
)
def test_bad_study_file_exit_2_names_file_and_line(study_tree, tmp_path, old, new, needle):
    d = study_tree()
    f = d / "study.yaml"
    text = f.read_text(encoding="utf-8")
    assert old in text
    f.write_text(text.replace(old, new, 1), encoding="utf-8")
    before = f.read_bytes()
    for cmd in ("validate", "run", "report"):
        r = _expect_exit2([cmd, str(d)], tmp_path, needle)
        assert re.search(r"study\.yaml:\d+: ", r.output), r.output
    assert f.read_bytes() == before, "the study file must not be modified"
    assert not (tmp_path / "results").exists() and not (tmp_path / "reports").exists()
