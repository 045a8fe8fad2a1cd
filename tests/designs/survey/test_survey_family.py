"""The brugermåling study end to end: bundle contents, published numbers, disclosure control, errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evaluation.exceptions import DataValidationError
from evaluation.pipeline.run import run_study
from evaluation.reporting.quarto import build_report, report_markdown
from evaluation.reporting.render import html_text, pdf_text
from evaluation.designs.survey.report import survey_headlines
from evaluation.designs.survey.report import survey_section as _survey_section
from evaluation.designs.survey.scoring import records_frame

from conftest import STUDIES, SYNTHETIC

SLUG = "brugermaaling-jobcenter-aalborg"
PUBLISHED = {"modtaget_godt": 97, "mere_viden": 74, "blev_lyttet_til": 94, "tro_paa_job": 63, "raadgiver_tror": 80,
             "opfoelgning": 67, "inddraget": 81, "overblik": 81, "tilfreds": 91}
HOUSES = ["Job- og Aktivhuset", "Jobhuset", "Sygedagpengehuset", "Uddannelseshuset"]


def _copy(root: Path) -> Path:
    shutil.copytree(STUDIES / SLUG, root / "studies" / SLUG)
    shutil.copytree(SYNTHETIC / SLUG, root / "data" / "synthetic" / SLUG)
    return root / "studies" / SLUG


def _answers_path(root: Path) -> Path:
    return root / "data" / "synthetic" / SLUG / "answers.csv"


def _bundle(bundle_dir: Path) -> dict:
    return json.loads((bundle_dir / "results.json").read_text(encoding="utf-8"))


def _plain(text: str) -> str:
    return text.replace("\u00a0", " ")


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    root = tmp_path_factory.mktemp("brugermaaling")
    bundle_dir = run_study(_copy(root), root / "results")
    out = build_report(bundle_dir, root / "reports")
    return {"root": root, "bundle_dir": bundle_dir, "bundle": _bundle(bundle_dir), **out}


@pytest.fixture(scope="module")
def small_unit(tmp_path_factory):
    """The study with Uddannelseshuset cut to 3 answers and category 1 of 'tilfreds' never used."""
    root = tmp_path_factory.mktemp("brugermaaling_small")
    study = _copy(root)
    path = _answers_path(root)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    keep = df.index[df["hus"] != "Uddannelseshuset"].tolist() + df.index[df["hus"] == "Uddannelseshuset"].tolist()[:3]
    df = df.loc[sorted(keep)]
    df.loc[df["tilfreds"] == "1", "tilfreds"] = "2"
    df.to_csv(path, index=False, lineterminator="\n")
    bundle_dir = run_study(study, root / "results")
    out = build_report(bundle_dir, root / "reports", formats=["html"])
    bundle = _bundle(bundle_dir)
    return {"bundle": bundle, "markdown": report_markdown(bundle), **out}


def _survey(bundle: dict) -> dict:
    surveys = [a for a in bundle["analyses"] if a["design"] == "survey"]
    assert len(surveys) == 1
    return surveys[0]["result"]["survey"]


def survey_section(bundle: dict, figures) -> str:
    return _survey_section(bundle, [_survey(bundle)], figures)


# ---------------------------------------------------------------------------- the shipped study
def test_bundle_has_every_item_and_every_category(shipped):
    sv = _survey(shipped["bundle"])
    assert [it["id"] for it in sv["items"]] == list(PUBLISHED)
    for it in sv["items"]:
        d = records_frame(it["distribution"])
        valid = d[d["kind"] == "valid"]
        assert valid["code"].tolist() == [1, 2, 3, 4, 5]
        assert valid["label"].tolist() == ["Nej, slet ikke", "Nej, kun i mindre grad", "Både-og",
                                           "Ja, i nogen grad", "Ja, i høj grad"]
        missing = d[d["kind"] == "missing"]
        assert missing["label"].tolist() == ["Ved ikke", "To krydser", "Ikke besvaret"]
        assert it["n_valid"] + it["n_missing"] == it["n_answers"] == 1032
        by_unit = records_frame(it["distribution_by_unit"])
        assert sorted(by_unit["hus"].unique()) == sorted(HOUSES)
        assert len(by_unit) == 4 * 8


def test_published_shares_and_response_rate(shipped):
    sv = _survey(shipped["bundle"])
    for it in sv["items"]:
        share = it["top_box"]["estimates"][0]["estimate"]
        assert int(share * 100 + 0.5) == PUBLISHED[it["id"]]
    rr = sv["response_rate"]
    assert (rr["answers"], rr["planned"]) == (1032, 2070)
    md = _plain(survey_section(shipped["bundle"], shipped["bundle"]["figures"]))
    for it in sv["items"]:
        assert re.search(rf"^\| {re.escape(it['text'])} \| {PUBLISHED[it['id']]} % \|", md, re.M), it["id"]
    text = _plain(html_text(shipped["html"]))
    assert "1.032 af 2.070 planlagte samtaler" in text
    assert "svarprocent 50 %" in text
    for pct in PUBLISHED.values():
        assert f"{pct} %" in text
    assert "95 %-sikkerhedsinterval 96–98 %" in text
    pdf = _plain(pdf_text(shipped["pdf"]))
    assert "Brugermåling" in pdf and "1.032" in pdf


def test_headlines_are_plain_danish(shipped):
    lines = [_plain(x) for x in survey_headlines(_survey(shipped["bundle"]))]
    assert 1 <= len(lines) <= 3
    assert lines[0].startswith("97 % af borgerne svarede")
    assert "1.032 af 2.070 planlagte samtaler gav et svar (svarprocent 50 %)" in lines[0]
    assert "63 %" in lines[1] and "97 %" in lines[1]


def test_comparisons_reliability_and_weighting(shipped):
    sv = _survey(shipped["bundle"])
    it = next(i for i in sv["items"] if i["id"] == "tro_paa_job")
    res = it["compare_units"]["result"]
    terms = [e["term"] for e in res["estimates"]]
    assert "chi_square_top_box" in terms and "kruskal_wallis" in terms
    pw = records_frame(res["tables"]["pairwise"])
    assert len(pw) == 6 and (pw["p_value"] >= pw["p_value_raw"] - 1e-12).all()  # Holm never lowers p
    alpha = sv["reliability"]["alpha"]["estimates"][0]
    assert 0 < alpha["ci_lower"] < alpha["estimate"] < alpha["ci_upper"] < 1
    assert len(records_frame(sv["reliability"]["alpha"]["tables"]["items"])) == 9
    w = it["weighted"]["result"]["estimates"]
    assert [e["term"] for e in w] == ["share_top_box_unweighted", "share_top_box_weighted"]
    md = survey_section(shipped["bundle"], {})
    assert "Cronbachs alfa" in md and "Holm" in md and "Vægtede andele" in md
    assert "siger ikke noget om, hvorvidt samtalerne" in md


def _hidden_per_line(by_unit: pd.DataFrame) -> list[int]:
    """Hidden cells in each line whose sum is published (rows' valid block, columns)."""
    valid = by_unit[by_unit["kind"] == "valid"]
    counts = []
    for _, g in valid.groupby("hus"):
        counts.append(int(g["count"].isna().sum()))
    for _, g in valid.groupby("code"):
        counts.append(int(g["count"].isna().sum()))
    return counts


def test_no_hidden_cell_can_be_recovered_from_a_line(shipped):
    for it in _survey(shipped["bundle"])["items"]:
        by_unit = records_frame(it["distribution_by_unit"])
        assert all(c != 1 for c in _hidden_per_line(by_unit)), it["id"]
        tb = records_frame(it["top_box_by_unit"])
        assert int(tb["estimate"].isna().sum()) != 1, it["id"]
        total = records_frame(it["distribution"])
        counts = total["count"].dropna()
        assert not ((counts > 0) & (counts < 5)).any()


def test_bundle_is_deterministic(shipped, tmp_path):
    again = run_study(_copy(tmp_path), tmp_path / "results")
    assert (again / "results.json").read_bytes() == (shipped["bundle_dir"] / "results.json").read_bytes()


# ---------------------------------------------------------------------------- small cells
def test_small_unit_is_suppressed_logged_and_dashed(small_unit):
    b = small_unit["bundle"]
    sv = _survey(b)
    for it in sv["items"]:
        tb = records_frame(it["top_box_by_unit"]).set_index("hus")
        assert tb.loc["Uddannelseshuset", ["n", "estimate", "ci_lower", "ci_upper"]].isna().all(), it["id"]
        assert tb["estimate"].isna().sum() >= 2  # complementary: the total would reveal a single hidden unit
        by_unit = records_frame(it["distribution_by_unit"])
        assert by_unit.loc[by_unit["hus"] == "Uddannelseshuset", ["count", "share"]].isna().all().all()
        assert all(c != 1 for c in _hidden_per_line(by_unit)), it["id"]
        mean = records_frame(it["mean_by_unit"]).set_index("hus")
        assert pd.isna(mean.loc["Uddannelseshuset", "estimate"])
        # the total still renders
        assert it["top_box"]["estimates"][0]["estimate"] is not None
        assert it["n_answers"] == 1032 - 175 + 3
    rr = records_frame(sv["response_rate"]["by_unit"]).set_index("hus")
    assert pd.isna(rr.loc["Uddannelseshuset", "answers"]) and pd.isna(rr.loc["Uddannelseshuset", "estimate"])
    assert rr.loc["Uddannelseshuset", "planned"] == 330
    log = b["disclosure"]["log"]
    assert any("Uddannelseshuset" in e["row"] and "efter hus" in e["table"] for e in log)
    assert any(e["table"].startswith("brugermaaling: svarprocent") and e["row"] == "Uddannelseshuset" for e in log)
    md = small_unit["markdown"]
    lines = md.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("| Spørgsmål | Job- og Aktivhuset"))
    heads = [c.strip() for c in lines[start].strip("|").split("|")]
    line = next(l for l in lines[start:] if l.startswith("| Oplevede du, at der blev lyttet til det"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[heads.index("Uddannelseshuset")] == "–"
    assert cells[heads.index("I alt")] != "–"
    rr_line = next(l for l in md.splitlines() if l.startswith("| Uddannelseshuset | 330 |"))
    assert "| – |" in rr_line
    text = _plain(html_text(small_unit["html"]))
    assert "Brugermåling" in text and "–" in text


def test_unused_category_is_kept_at_zero(small_unit):
    it = next(i for i in _survey(small_unit["bundle"])["items"] if i["id"] == "tilfreds")
    d = records_frame(it["distribution"])
    row = d[(d["kind"] == "valid") & (d["code"] == 1)]
    assert len(row) == 1 and row["count"].iloc[0] == 0 and row["share"].iloc[0] == 0
    assert row["label"].iloc[0] == "Nej, slet ikke"


# ---------------------------------------------------------------------------- errors
def test_out_of_scale_answers_name_file_column_and_lines(tmp_path):
    study = _copy(tmp_path)
    path = _answers_path(tmp_path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[[4, 10], "tro_paa_job"] = "6"
    df.loc[7, "overblik"] = "0"
    df.to_csv(path, index=False, lineterminator="\n")
    with pytest.raises(DataValidationError) as err:
        run_study(study, tmp_path / "results")
    msg = str(err.value)
    assert "answers.csv" in msg
    assert "'tro_paa_job'" in msg and "'overblik'" in msg
    # file lines: header is line 1, so frame row 4 is line 6
    assert re.search(r"'tro_paa_job': rows 6 \(6\), 12 \(6\)", msg), msg
    assert re.search(r"'overblik': rows 9 \(0\)", msg), msg
    assert "line numbers in the file" in msg


def test_wave_comparison_when_declared(tmp_path):
    study = _copy(tmp_path)
    y = study / "study.yaml"
    y.write_text(y.read_text(encoding="utf-8").replace("      unit: hus\n", "      unit: hus\n      wave: uge\n"), encoding="utf-8")
    b = _bundle(run_study(study, tmp_path / "results", figures=False))
    it = _survey(b)["items"][0]
    res = it["compare_waves"]["result"]
    assert records_frame(res["tables"]["units"])["uge"].tolist() == [6, 7]
    assert len(records_frame(res["tables"]["pairwise"])) == 1
    assert "Udvikling over tid (uge)" in survey_section(b, {})
