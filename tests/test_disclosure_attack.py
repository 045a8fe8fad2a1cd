"""Disclosure by subtraction: no suppressed cell can be computed from what a bundle publishes.

Each design family declares the linear relations between its published counts (margins, the same
count in several tables, counts adding up across tables). These tests check that

* every declared relation holds exactly on unsuppressed results of every family's example studies
  (so the relations are true statements an attacker could use);
* the differencing attack — solving the relations for every hidden cell from the published cells
  (`evaluation.disclosure.exposed_cells`) — finds nothing in the bundles of the shipped studies and
  of generated small-cell studies;
* the leaks found in review are closed: a participant flow whose drop-outs could be subtracted, the
  SD of a suppressed 0/1 covariate level, small counts in the data notes, a before/after overlap
  recoverable from the group sizes, cohort sizes recoverable from the number of persons.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml

import evaluation.designs.family as family_module
from claims import write_example_study
from conftest import STUDIES
from evaluation.designs.family import FAMILIES, SCENARIOS, families
from evaluation.disclosure import Relation, SuppressionLog, exposed_cells, mask_small_counts_in_text, result_cells
from evaluation.pipeline import run_study
from evaluation.pipeline.run import analysis_input
from evaluation.data.study_data import load_study_data
from evaluation.declaration.study import load_study
from evaluation.results import load_bundle


def _run(root, fam, scenario):
    folder = write_example_study(root, fam, scenario)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return folder, load_bundle(run_study(folder, root / "results", figures=False))


def _unsuppressed(folder, monkeypatch):
    """The published structure of each analysis with the true values (no cell is small)."""
    monkeypatch.setattr(family_module, "is_small", lambda *a, **k: False)
    import evaluation.disclosure as d

    monkeypatch.setattr(d, "is_small", lambda *a, **k: False)
    study = load_study(folder)
    data = load_study_data(study)
    out = []
    for a in study.analyses:
        inp = analysis_input(study, a, data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = a.family.estimate(inp)
            pub = a.family.suppress(res, inp, SuppressionLog(inp.threshold))
        out.append((a.family, inp, pub))
    return out


CASES = [(f.design, s) for f in families() for s in SCENARIOS]


@pytest.mark.parametrize("design,scenario", CASES, ids=[f"{d}-{s}" for d, s in CASES])
def test_declared_relations_hold_on_unsuppressed_results(tmp_path, monkeypatch, design, scenario):
    folder = write_example_study(tmp_path, FAMILIES[design], scenario)
    for fam, inp, pub in _unsuppressed(folder, monkeypatch):
        values = result_cells(pub)
        for r in fam.disclosure_relations(pub, inp):
            if not all(c in values for c in r.cells()):
                continue
            vals = [values[c] for c in r.cells()]
            if any(math.isnan(v) for v in vals):
                continue  # a count the design itself leaves undefined
            total = sum(a * values[c] for c, a in r.terms)
            assert abs(total) < 1e-6, f"{design}/{scenario}: relation {r.terms} does not hold ({total})"


@pytest.mark.parametrize("design,scenario", CASES, ids=[f"{d}-{s}" for d, s in CASES])
def test_no_hidden_cell_of_a_generated_bundle_can_be_computed(tmp_path, design, scenario):
    folder, bundle = _run(tmp_path, FAMILIES[design], scenario)
    study = load_study(folder)
    data = load_study_data(study)
    for a, decl in zip(bundle.analyses, study.analyses):
        fam = FAMILIES[a.design]
        inp = analysis_input(study, decl, data)
        exposed = exposed_cells(result_cells(a.result), fam.disclosure_relations(a.result, inp))
        assert not exposed, f"{design}/{scenario}: hidden cells computable from published ones: {exposed}"
    for notes in bundle.data_notes.values():
        for note in notes:
            assert mask_small_counts_in_text(note, bundle.threshold) == note


@pytest.mark.parametrize("slug", sorted(p.name for p in STUDIES.iterdir() if (p / "study.yaml").is_file()))
def test_no_hidden_cell_of_a_shipped_bundle_can_be_computed(study_tree, tmp_path, slug):
    folder = study_tree(slug)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = load_bundle(run_study(folder, tmp_path / "results", figures=False))
    study = load_study(folder)
    data = load_study_data(study)
    for a, decl in zip(bundle.analyses, study.analyses):
        fam = FAMILIES[a.design]
        exposed = exposed_cells(result_cells(a.result), fam.disclosure_relations(a.result, analysis_input(study, decl, data)))
        assert not exposed, f"{slug}/{a.id}: {exposed}"


# ---------------------------------------------------------------------------- the leaks found in review
def test_the_attack_finds_a_cell_recoverable_by_subtraction():
    """The attack is not vacuous: a flow with the drop-outs hidden but allocated and analysed shown is found."""
    values = {("t", "flow", 0, "a"): 100.0, ("t", "flow", 1, "a"): float("nan"), ("t", "flow", 2, "a"): 98.0}
    rel = [Relation.total(("t", "flow", 0, "a"), [("t", "flow", 1, "a"), ("t", "flow", 2, "a")])]
    assert exposed_cells(values, rel) == [("t", "flow", 1, "a")]
    values[("t", "flow", 2, "a")] = float("nan")
    assert exposed_cells(values, rel) == []
    # two relations sharing two hidden cells: each relation alone has two unknowns, together they determine both
    v = {("x",): 10.0, ("y",): 7.0, ("a",): float("nan"), ("b",): float("nan")}
    rels = [Relation.total(("x",), [("a",), ("b",)]), Relation(((("y",), 1.0), (("a",), -1.0), (("b",), 1.0)))]
    assert sorted(exposed_cells(v, rels)) == [("a",), ("b",)]


def _small_attrition_study(tmp_path):
    fam = FAMILIES["randomized_comparison"]
    folder = write_example_study(tmp_path, fam, "effect")
    csv = next((tmp_path / "data").rglob("participants.csv"))
    df = pd.read_csv(csv)
    treated = df.index[df["group"] == "intervention"][:2]
    df.loc[treated, "y"] = np.nan  # two persons of the intervention group without an outcome
    df["rare"] = 0
    df.loc[df.index[df["group"] == "control"][:3], "rare"] = 1  # a 0/1 covariate held by 3 + 2 persons
    df.loc[df.index[df["group"] == "intervention"][5:7], "rare"] = 1
    df.to_csv(csv, index=False)
    y = folder / "study.yaml"
    study = yaml.safe_load(y.read_text(encoding="utf-8"))
    study["data"]["participants"]["columns"].append("rare")
    study["analyses"][0]["options"]["covariates"].append("rare")
    y.write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def test_flow_drop_outs_and_a_rare_covariates_sd_are_not_recoverable(tmp_path):
    folder = _small_attrition_study(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = load_bundle(run_study(folder, tmp_path / "results", figures=False))
    res = bundle.analyses[0].result
    flow = res.tables["flow"].set_index("step")
    assert math.isnan(flow.loc["lost_to_follow_up", "intervention"])
    # allocated − analysed must not give the 2 drop-outs
    alloc, anal = flow.loc["allocated", "intervention"], flow.loc["analysed", "intervention"]
    assert math.isnan(alloc) or math.isnan(anal)
    assert res.diagnostics["n_missing_outcome"]["intervention"] is None
    bal = res.tables["balance"].set_index("covariate")
    assert math.isnan(bal.loc["rare", "mean_control"]) and math.isnan(bal.loc["rare", "sd_control"])


def test_small_counts_in_prose_are_masked():
    assert mask_small_counts_in_text("2 deltager(e) uden rækker i registret", 5) == "færre end 5 deltager(e) uden rækker i registret"
    assert mask_small_counts_in_text("1 person(er) er ikke deltagere", 5) == "færre end 5 person(er) er ikke deltagere"
    kept = "2443 personer × 260 uger (2015-W02–2019-W52); 350 rækker indlæst"
    assert mask_small_counts_in_text(kept, 5) == kept


def _published_counts(text: str) -> list[int]:
    """Counts of persons or rows stated in the text ("350 rækker", "348 personer × …"), not "færre end 5"."""
    import re

    from evaluation.disclosure import _COUNT_IN_TEXT

    return [int(m.group(1)) for m in re.finditer(_COUNT_IN_TEXT, text)
            if not text[:m.start()].endswith("færre end ")]


def test_counts_in_prose_cannot_be_recovered_from_the_totals_beside_them(study_tree, tmp_path):
    """The review's register leak: '2 deltager(e) uden rækker i registret' and '1 person(er) … ikke deltagere'
    are masked, and the totals beside them (participants read, register rows read) that would give them
    back by subtraction are hidden too; nothing of it reaches results.json or the report."""
    folder = study_tree("jobfirst")
    reg = next((tmp_path / "data").rglob("jobfirst/register.csv"))
    df = pd.read_csv(reg, dtype=str)
    extra = df.iloc[[0]].copy()
    extra["person_id"] = "jf99999"  # one person in the register who is not a participant
    df = pd.concat([df.iloc[2:], extra])  # two participants without rows
    df.to_csv(reg, index=False)
    y = folder / "study.yaml"
    study = yaml.safe_load(y.read_text(encoding="utf-8"))
    study["data"]["register"]["absent_persons"] = "self_support"
    y.write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = run_study(folder, tmp_path / "results", figures=False)
    bundle = load_bundle(out)
    notes = " ".join(n for v in bundle.data_notes.values() for n in v)
    assert "færre end 5 deltager(e) uden rækker i registret" in notes
    assert "færre end 5 person(er) i registret er ikke deltagere" in notes
    counts = _published_counts(notes)
    # no two published counts of the notes differ by the hidden ones (350 read, 348 + 1 register rows)
    assert not any(0 < a - b < 5 for a in counts for b in counts), (counts, notes)
    assert "rækker indlæst (antal skjult)" in notes
    text = (out / "results.json").read_text(encoding="utf-8")
    assert "2 deltager(e)" not in text and "1 person(er)" not in text
    tables = {(e["table"], e["reason"][:20]) for e in bundle.disclosure["log"]}
    assert ("datanoter", "bygger på færre end ") in tables and ("datanoter", "sekundær diskretione") in tables


def test_counts_in_analysis_warnings_are_masked(tmp_path, monkeypatch):
    """A warning published with an analysis ("2 intervention person(s) were dropped …") follows the rule too."""
    import evaluation.pipeline.run as run_module

    fam = FAMILIES["randomized_comparison"]
    folder = write_example_study(tmp_path, fam, "effect")
    estimate = fam.estimate

    def estimate_and_warn(inp):
        warnings.warn("2 intervention person(s) were dropped (no comparison person within the caliper)")
        warnings.warn("3 person(er) med en periode uden observerede uger indgår ikke i analysen «analyse»")
        return estimate(inp)

    monkeypatch.setattr(type(fam), "estimate", lambda self, inp: estimate_and_warn(inp))
    bundle = load_bundle(run_module.run_study(folder, tmp_path / "results", figures=False))
    warns = bundle.analyses[0].warnings
    assert "færre end 5 intervention person(s) were dropped (no comparison person within the caliper)" in warns
    assert any(w.startswith("færre end 5 person(er) med en periode") for w in warns)
    assert not any(w.startswith(("2 ", "3 ")) for w in warns)
    notes = " ".join(n for v in bundle.data_notes.values() for n in v)
    assert "rækker indlæst (antal skjult)" in notes  # the total the analysis n could be subtracted from
