"""Disclosure across the analyses of a bundle: counts of the same persons in several analyses.

Each design family relates the counts of one analysis (tests/test_disclosure_attack.py). Analyses of the same
persons — a primary and secondary outcomes with different small numbers of missing outcomes — publish counts of
the same groups: the allocated persons are the same in every analysis, and in each the analysed persons plus the
missing ones. The attack here relates them (`evaluation.disclosure.population_relations`, with an unknown number
of persons per group and of missing persons per analysis) and solves everything the bundle publishes for every
hidden cell and every small number of missing persons.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from claims import run_bundle, write_example_study
from conftest import STUDIES
from evaluation.designs.family import FAMILIES
from evaluation.disclosure import (
    Relation,
    bundle_exposed,
    bundle_values,
    lift_relations,
    population_relations,
)


def bundle_attack(bundle, data_names: dict[str, str], variables: dict[str, str] | None = None) -> dict:
    """What the differencing attack recovers from the whole bundle: hidden cells of any analysis, and numbers of
    missing persons below the threshold, computed from every published count and every relation (each analysis's
    own, and those between analyses of the same persons)."""
    results, rels, population = {}, [], {}
    for rec in bundle.analyses:
        fam = FAMILIES[rec.design]
        opts = fam.Options(**rec.options)
        inp = SimpleNamespace(id=rec.id, options=opts, data_name=data_names[rec.id], threshold=bundle.threshold)
        results[rec.id] = rec.result
        rels += lift_relations(rec.id, fam.disclosure_relations(rec.result, inp))
        population[rec.id] = fam.population_counts(rec.result, opts, data_names[rec.id], variables)
    rels += population_relations(population)
    return bundle_exposed(bundle_values(results, rels), rels, bundle.threshold)


def _data_names(folder: Path) -> dict[str, str]:
    study = yaml.safe_load((folder / "study.yaml").read_text(encoding="utf-8"))
    return {a["id"]: a.get("data", "participants") for a in study["analyses"]}


def _variables(folder: Path) -> dict[str, str]:
    study = yaml.safe_load((folder / "study.yaml").read_text(encoding="utf-8"))
    return {m["id"]: m.get("variable") or m["id"] for m in study["theory"].get("moderators", [])}


def _three_outcomes(root: Path, missing: dict[str, dict[str, int]], seed: int = 3, women: bool = False) -> Path:
    """A randomized study with three analyses of the same participants: outcomes y, y2, y3 with the given numbers
    of missing outcomes per group ({"y": {"intervention": 2}, ...}); each analysis adjusts for (and so shows the
    balance share of) the 0/1 covariate ``female`` and reports exploratory subgroups by it. ``women``: the missing
    outcomes are women's only."""
    folder = write_example_study(root, FAMILIES["randomized_comparison"], "effect")
    csv = next((root / "data").rglob("participants.csv"))
    df = pd.read_csv(csv)
    rng = np.random.default_rng(seed)
    df["y2"] = (df["y"] + rng.normal(0, 2, len(df))).round(1)
    df["y3"] = (df["y"] - rng.normal(0, 2, len(df))).round(1)
    for col in ("y", "y2", "y3"):
        for g, k in missing.get(col, {}).items():
            rows = df.index[(df["group"] == g) & ((df["female"] == 1) if women else True)]
            df.loc[rng.choice(rows, size=k, replace=False), col] = np.nan
    df.to_csv(csv, index=False)
    y = folder / "study.yaml"
    study = yaml.safe_load(y.read_text(encoding="utf-8"))
    theory = study["theory"]
    # no mechanism analysis (fast): the mediator node, its indicator and links go
    theory["nodes"] = [n for n in theory["nodes"] if n["id"] != "proces"]
    theory["links"] = [{"from": "indsats", "to": "resultat", "mechanism": "m1"}]
    first = next(i for i in theory["indicators"] if i["id"] == "maal")
    theory["indicators"] = [first] + [
        {**first, "id": f"maal{k}", "label": f"{first['label']} ({k})", "metric": {"name": "column", "params": {"column": f"y{k}"}}}
        for k in (2, 3)]
    study["data"]["participants"]["columns"] += ["y2", "y3"]
    a = study["analyses"][0]
    a["options"].pop("take_up", None)
    a["fit"].pop("mediation_draws", None)
    a["exploratory_subgroups"] = ["female"]
    study["analyses"] = [a] + [{**a, "id": f"analyse{k}", "indicator": f"maal{k}", "primary": False} for k in (2, 3)]
    y.write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


# -------------------------------------------------------------------------------------------- the attack itself
def test_the_attack_recovers_a_drop_out_from_another_analysis_of_the_same_persons():
    """Analysis 1 publishes analysed 98 with the drop-outs and the allocated count hidden; analysis 2 publishes
    allocated 100 of the same group: 100 − 98 = 2. Hiding analysis 2's allocated count (and the drop-outs it
    could be computed from) closes it."""
    a1 = {("t", "flow", 0, "g"): float("nan"), ("t", "flow", 1, "g"): float("nan"), ("t", "flow", 2, "g"): 98.0}
    a2 = {("t", "flow", 0, "g"): 100.0, ("t", "flow", 1, "g"): 4.0, ("t", "flow", 2, "g"): 96.0}
    flow = [Relation.total(("t", "flow", 0, "g"), [("t", "flow", 1, "g"), ("t", "flow", 2, "g")])]
    pop = [(("p", "g"), kind, ("t", "flow", i, "g")) for i, kind in enumerate(("all", "missing", "analysed"))]

    def attack(v1, v2):
        rels = lift_relations("a1", flow) + lift_relations("a2", flow) + population_relations({"a1": pop, "a2": pop})
        values = {**{("@", "a1", c): v for c, v in v1.items()}, **{("@", "a2", c): v for c, v in v2.items()}}
        return bundle_exposed(bundle_values({}, rels) | values, rels, 5)

    found = attack(a1, a2)
    assert found[("@", "a1", ("t", "flow", 1, "g"))] == pytest.approx(2)
    assert found[("~M", "a1", ("p", "g"))] == pytest.approx(2)
    # each analysis alone is safe: the relations of one analysis do not recover the 2
    rels = lift_relations("a1", flow)
    assert bundle_exposed({("@", "a1", c): v for c, v in a1.items()}, rels, 5) == {}
    # analysis 2's drop-outs (4) are themselves small: hidden with its allocated count, nothing is recovered
    a2 = {**a2, ("t", "flow", 0, "g"): float("nan"), ("t", "flow", 1, "g"): float("nan")}
    assert attack(a1, a2) == {}


# ------------------------------------------------------------------------------- generated adversarial studies
ADVERSARIAL_WOMEN = {
    # the drop-outs are all women: the balance share of women × allocated − the women analysed gives them by level
    "women-two-none-three": {"y": {"intervention": 2}, "y3": {"control": 3}},
    "women-large": {"y": {"intervention": 7, "control": 6}, "y2": {"control": 2}},
}

ADVERSARIAL = {
    # 2 drop-outs in the primary analysis, none in the second (which shows the allocated count), 3 in the third
    "two-none-three": {"y": {"intervention": 2}, "y3": {"control": 3}},
    # small, different drop-outs in every analysis, both groups
    "small-everywhere": {"y": {"intervention": 1, "control": 2}, "y2": {"intervention": 3}, "y3": {"control": 4, "intervention": 6}},
    # one analysis with large drop-outs next to two with small ones
    "large-and-small": {"y": {"intervention": 12, "control": 9}, "y2": {"control": 1}, "y3": {"intervention": 2, "control": 2}},
}


CASES = sorted(ADVERSARIAL) + sorted(ADVERSARIAL_WOMEN)


def _case(root: Path, case: str) -> Path:
    if case in ADVERSARIAL_WOMEN:
        return _three_outcomes(root, ADVERSARIAL_WOMEN[case], women=True)
    return _three_outcomes(root, ADVERSARIAL[case])


@pytest.mark.parametrize("case", CASES)
def test_no_small_count_is_recovered_across_analyses_of_a_generated_study(tmp_path, case):
    folder = _case(tmp_path, case)
    bundle = run_bundle(folder, tmp_path)
    assert bundle_attack(bundle, _data_names(folder), _variables(folder)) == {}
    # the estimates are those of each analysis alone (the bundle hides counts, never an estimate)
    for rec in bundle.analyses:
        assert all(math.isfinite(e.estimate) for e in rec.result.estimates if e.term.startswith("difference"))


def test_the_attack_finds_the_recovery_in_a_bundle_protected_analysis_by_analysis(tmp_path, monkeypatch):
    """Not vacuous: with the secondary suppression across analyses switched off (each analysis protected alone, as
    before), the primary analysis's 2 drop-outs are recovered from the allocated count the second analysis shows."""
    import evaluation.pipeline.run as run_module

    monkeypatch.setattr(run_module, "_protect_bundle", lambda study, results, inputs, threshold, log: results)
    folder = _three_outcomes(tmp_path, ADVERSARIAL["two-none-three"])
    found = bundle_attack(run_bundle(folder, tmp_path), _data_names(folder))
    recovered = {k: round(v) for k, v in found.items() if k[0] == "~M"}
    assert recovered, found
    assert 2 in recovered.values() and 3 in recovered.values(), recovered


def test_the_bundle_hides_counts_not_estimates(tmp_path, monkeypatch):
    """The second analysis (no drop-outs) no longer shows the allocated count the first one's drop-outs follow from;
    the log names the suppression across analyses; every estimate equals that of the same study run without it."""
    folder = _three_outcomes(tmp_path, ADVERSARIAL["two-none-three"])
    bundle = run_bundle(folder, tmp_path)
    across = [e for e in bundle.disclosure["log"] if "sammenhænge mellem analyser" in e["table"]]
    assert across
    flow = bundle.analysis("analyse2").result.tables["flow"].set_index("step")
    first = bundle.analysis("analyse").result.tables["flow"].set_index("step")
    assert math.isnan(first.loc["lost_to_follow_up", "intervention"])
    assert math.isnan(flow.loc["allocated", "intervention"]) or math.isnan(first.loc["analysed", "intervention"])
    import evaluation.pipeline.run as run_module

    monkeypatch.setattr(run_module, "_protect_bundle", lambda study, results, inputs, threshold, log: results)
    alone = run_bundle(folder, tmp_path / "alone")
    for rec in bundle.analyses:
        other = alone.analysis(rec.id).result
        for e, f in zip(rec.result.estimates, other.estimates):
            assert e.term == f.term and e.n == f.n
            for k in ("estimate", "std_error", "ci_lower", "ci_upper", "p_value"):
                np.testing.assert_equal(getattr(e, k), getattr(f, k))


def test_the_attack_finds_drop_outs_by_level_from_the_balance_share(tmp_path, monkeypatch):
    """Not vacuous for levels: without the suppression across the bundle, the share of women in the balance table
    times the allocated persons, minus the women analysed (subgroup table), gives the 2 women without an outcome."""
    import evaluation.pipeline.run as run_module

    monkeypatch.setattr(run_module, "_protect_bundle", lambda study, results, inputs, threshold, log: results)
    folder = _case(tmp_path, "women-large")
    found = bundle_attack(run_bundle(folder, tmp_path), _data_names(folder), _variables(folder))
    levels = {k[2][-3:]: round(v) for k, v in found.items() if k[0] == "~M" and "level" in k[2]}
    assert levels.get(("level", "female", "1")) == 2 or 2 in levels.values(), found


@pytest.mark.parametrize("case", ["women-large"])
def test_the_relations_between_analyses_are_true(tmp_path, case):
    """Every relation the attack uses holds on the published cells with the true numbers of persons (N) and of
    missing outcomes (M) counted from the data file, by group and by level of the covariate: the attack models
    facts, not guesses."""
    folder = _case(tmp_path, case)
    bundle = run_bundle(folder, tmp_path)
    df = pd.read_csv(next((tmp_path / "data").rglob("participants.csv")))
    outcome = {"analyse": "y", "analyse2": "y2", "analyse3": "y3"}
    results, rels, population = {}, [], {}
    for rec in bundle.analyses:
        fam = FAMILIES[rec.design]
        opts = fam.Options(**rec.options)
        results[rec.id] = rec.result
        population[rec.id] = fam.population_counts(rec.result, opts, "participants", {})
    rels = population_relations(population)
    values = bundle_values(results, rels)

    def persons(key) -> pd.Series:
        m = df["group"].astype(str) == key[3]  # key: (data, "groups", column, label[, "level", variable, level])
        if len(key) > 4:
            m &= df[key[5]].astype(str) == key[6]
        return m

    truth = {}
    for c in values:
        if c[0] == "~N":
            truth[c] = float(persons(c[1]).sum())
        elif c[0] == "~M":
            truth[c] = float((persons(c[2]) & df[outcome[c[1]]].isna()).sum())
    checked = 0
    for r in rels:
        vals = [truth.get(c, values.get(c)) for c in r.cells()]
        if any(v is None or math.isnan(v) for v in vals):
            continue
        assert abs(sum(a * v for (_, a), v in zip(r.terms, vals))) < 1e-6, r.terms
        checked += 1
    assert checked > 20


@pytest.mark.parametrize("slug", sorted(p.name for p in STUDIES.iterdir() if (p / "study.yaml").is_file()))
def test_nothing_is_recovered_across_the_analyses_of_a_shipped_bundle(rendered_reports, slug):
    """The bundles the session's rendered reports were made from (each shipped study run once)."""
    _, bundle = rendered_reports[slug]
    assert bundle_attack(bundle, _data_names(STUDIES / slug), _variables(STUDIES / slug)) == {}
