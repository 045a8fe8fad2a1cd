"""Durations, cumulative effects and the business case on generated studies (other labels, a null effect, small
cells, no cost, the municipal perspective), the report's claims, and the declaration's checks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from claims import check_report_claims, check_time_claims
from evaluation.declaration.study import load_study
from evaluation.exceptions import StudyConfigError
from evaluation.pipeline.run import run_study
from evaluation.reporting.quarto import report_markdown
from evaluation.results import load_bundle
from evaluation.synthetic.durations import simulate_duration_register


def _write(root: Path, slug: str, *, n: int, effect: float, labels=("tilbud", "venteliste"), economy=None,
           design="randomized_comparison", duration=True, cumulative=True, seed=3, censor: float = 0.0,
           covariates=("age",), n_control: int | None = None) -> Path:
    sim = simulate_duration_register(n, n if n_control is None else n_control, effect=effect, labels=labels, seed=seed,
                                     censor=censor)
    data = root / "data" / slug
    data.mkdir(parents=True)
    parts = sim["participants"].reset_index().rename(columns={"person": "pid"})
    parts.to_csv(data / "deltagere.csv", index=False)
    wide = sim["panel"].to_wide().rename(columns={"person": "pid"})
    wide.to_csv(data / "dream.csv", index=False)
    folder = root / "studies" / slug
    folder.mkdir(parents=True)
    analysis = {"id": "afhaengighed", "indicator": "afh", "design": design, "data": "deltagere", "primary": True,
                "options": {"treatment": "group", "treated": labels[0], "control": labels[1], "covariates": list(covariates)}}
    if duration:
        analysis["duration"] = {"horizons": [26, 52], "competing": True}
    if cumulative:
        analysis["cumulative"] = {"horizons": [26, 52, 104], "placebo_weeks": 26}
    study = {
        "id": slug, "title": "Genereret studie med registerdata",
        "funder": {"name": "Testrådet", "type": "kommune"}, "operator": "Testjobcentret",
        "period": {"start": "2017-01-01", "end": "2018-12-31"},
        "theory": {"target_group": {"description": "Kontanthjælpsmodtagere."},
                   "nodes": [{"id": "indsats", "type": "activity", "label": "Indsatsen"},
                             {"id": "mindre", "type": "outcome", "horizon": "short", "primary": True, "label": "Mindre forsørgelse"}],
                   "links": [{"from": "indsats", "to": "mindre", "mechanism": "m1"}],
                   "mechanisms": [{"id": "m1", "label": "Støtte", "resource": "Samtaler", "reasoning": "Deltagerne søger job"}],
                   "indicators": [{"id": "afh", "outcome": "mindre", "label": "Offentlig forsørgelse i uge 1–52", "unit": "andel",
                                   "metric": {"name": "benefit_dependency", "params": {"window": [1, 52], "register": "dream", "participants": "deltagere"}}}]},
        "data": {"deltagere": {"path": f"../../data/{slug}/deltagere.csv", "id_column": "pid",
                               "columns": ["group", "index_week", "age"]},
                 "dream": {"path": f"../../data/{slug}/dream.csv", "kind": "register", "layout": "wide",
                           "id_column": "pid", "participants": "deltagere"}},
        "analyses": [analysis],
    }
    if economy is not None:
        study["economy"] = economy
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


@pytest.mark.parametrize("case", ["effect", "null_small_no_cost", "municipal"])
def test_generated_study_runs_reports_and_its_claims_hold(tmp_path, case):
    if case == "effect":
        folder = _write(tmp_path, "gen-tid", n=150, effect=1.8, economy={"horizons": [52, 104], "cost_dkk": 3_000_000})
    elif case == "null_small_no_cost":
        folder = _write(tmp_path, "gen-tid-nul", n=30, effect=1.0, labels=("A", "B"), economy={"horizons": [52]})
    else:
        folder = _write(tmp_path, "gen-tid-kommune", n=120, effect=1.5,
                        economy={"perspective": "kommunal", "cost_dkk": 500_000, "rate_factors": [0.5, 1.5]})
    bundle_dir = run_study(folder, tmp_path / "results")
    b = load_bundle(bundle_dir)
    rec = b.analyses[0]
    assert rec.duration is not None and rec.cumulative is not None and b.economy is not None
    qmd = report_markdown(b)
    assert check_report_claims(qmd, b) == []
    assert "# Økonomi {#oekonomi}" in qmd and "**Økonomi:**" in qmd
    km = rec.duration.tables["km"]
    assert set(km["group"]) == {"tilbud", "venteliste"} or set(km["group"]) == {"A", "B"}
    if case == "null_small_no_cost":
        # small cells: the curves are published only at weeks where they fell by at least 5 persons (coarsened
        # steps, far fewer than the 53 weeks), and that is logged
        assert km.groupby("group")["share_not_self_supporting"].count().max() < 15
        assert any(e["table"].endswith("tid til selvforsørgelse") for e in b.disclosure["log"])
        assert "Projektets pris er ikke oplyst" in qmd
        assert b.economy["business_case"].get("cost") is None
    if case == "municipal":
        assert b.economy["perspective"] == "kommunal" and "kommunalt perspektiv" in qmd
        sens = b.economy["business_case"]["sensitivity"]
        assert {s["rate_factor"] for s in sens} == {0.5, 1.0, 1.5}


def test_claims_checker_catches_wrong_sentences(tmp_path):
    folder = _write(tmp_path, "gen-tid-claims", n=150, effect=1.8, economy={"horizons": [52], "cost_dkk": 3_000_000})
    b = load_bundle(run_study(folder, tmp_path / "results", figures=False))
    qmd = report_markdown(b)
    assert check_time_claims(qmd, b) == []
    swapped = qmd.replace("uger kortere tid", "uger længere tid", 1)
    assert any("RMST" in p for p in check_time_claims(swapped, b))
    fewer = qmd.replace("uger færre på offentlig", "uger flere på offentlig", 1)
    assert any("cumulative effect" in p for p in check_time_claims(fewer, b))
    verdict = re.sub(r"Det kan ikke afgøres, om projektet har betalt sig\.|Projektet har med stor sikkerhed (ikke )?betalt sig[^.]*\.",
                     "Projektet har med stor sikkerhed betalt sig.", qmd)
    r = b.economy["business_case"]["horizons"]
    lo = r[max(r, key=int)]["net_ci"][0]
    if lo <= 0:
        assert any("verdict" in p for p in check_time_claims(verdict, b))
    no_line = "\n".join(ln for ln in qmd.splitlines() if not ln.startswith("**Økonomi:**"))
    assert "the summary has no line on the business case" in check_time_claims(no_line, b)
    assert "- **Betaler det sig?** " in qmd
    box_wrong = re.sub(r"(- \*\*Betaler det sig\?\*\* .*?)(sparede|kostede)", lambda m: m.group(1) + "tjente", qmd, count=1)
    assert any("Betaler det sig?" in p for p in check_time_claims(box_wrong, b))


def test_bundles_without_time_analyses_are_unchanged(tmp_path):
    folder = _write(tmp_path, "gen-uden", n=60, effect=1.5, duration=False, cumulative=False)
    raw = json.loads((run_study(folder, tmp_path / "results", figures=False) / "results.json").read_text(encoding="utf-8"))
    assert "economy" not in raw and "duration" not in raw["analyses"][0] and "cumulative" not in raw["analyses"][0]


def test_declaration_problems_name_file_line_and_field(tmp_path):
    folder = _write(tmp_path, "gen-fejl", n=40, effect=1.5, economy={"analysis": "findes_ikke", "rates": "mangler.yaml"})
    text = (folder / "study.yaml").read_text(encoding="utf-8")
    with pytest.raises(StudyConfigError) as err:
        load_study(folder)
    msg = str(err.value)
    assert "economy.analysis: refers to 'findes_ikke'" in msg and "economy.rates: no rate file 'mangler.yaml'" in msg
    assert re.search(r"study\.yaml:\d+: economy\.analysis", msg)
    # a design without durations
    doc = yaml.safe_load(text)
    doc["analyses"][0]["design"] = "did_2x2"
    doc["analyses"][0]["options"] = {"group": "group", "time": "post", "unit": "pid"}
    del doc["economy"]
    (folder / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(StudyConfigError) as err:
        load_study(folder)
    assert "gives no duration analysis" in str(err.value) and "gives no cumulative analysis" in str(err.value)
    # an unknown option inside duration: is named with a suggestion
    (folder / "study.yaml").write_text(text.replace("competing: true", "competeing: true"), encoding="utf-8")
    with pytest.raises(StudyConfigError) as err:
        load_study(folder)
    assert "competeing" in str(err.value)


def test_bad_rate_file_names_file_and_line(tmp_path):
    from evaluation.data.rates import RateTable
    from evaluation.exceptions import DataValidationError

    p = tmp_path / "r.yaml"
    p.write_text("version: x\ngroups:\n  kontanthjaelp:\n    rates:\n      2020: {amount: -5, unit: week, source: s, verified: true}\n",
                 encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"r\.yaml:5: groups\.kontanthjaelp\.rates\.2020\.amount must be a positive"):
        RateTable.load(p)
    p.write_text("version: x\ngroups:\n  kontanthjaelp:\n    rates:\n      2020: {amount: 5, unit: fortnight, source: s, verified: true}\n",
                 encoding="utf-8")
    with pytest.raises(DataValidationError, match="unit 'fortnight'"):
        RateTable.load(p)
