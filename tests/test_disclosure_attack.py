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

import dataclasses
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


# ------------------------------------------------- durations, cumulative effects, time course, business case
#
# The attack on the step curves computes what a reader can from the published numbers of a group's curve and
# flags any number of persons it would learn exactly that is below the threshold:
#   * n·(S(t1) − S(t2)) between consecutive published weeks: the persons with an event between them (exact
#     without censoring; with censoring it is never below the true number, since n·S(t−) ≥ persons at risk);
#   * R(t1)·(1 − S(t2)/S(t1)) with R(t1) the published number at risk after week t1 (exact when nobody is
#     censored in between; otherwise never below the true number either);
#   * n·S(t): the persons without an event (exact without censoring);
#   * a published number at risk below the threshold, and the persons censored between two published numbers
#     at risk, R(t1) − R(t2) − events, when the events are known exactly;
#   * the same for the cumulative incidence of each cause, and n·(1 − Σ causes) for persons without any exit.
# An estimate counts as learnt when it is within 1e-6 of a whole number (an exact computation); weighted curves
# give no whole numbers. Counts of one group published by several results (the analysis, its duration and
# cumulative results, the business case, the weekly time course) must not differ by a small number either.

_EXACT = 1e-6


def _learnt_small(x: float, thr: int) -> bool:
    return x is not None and math.isfinite(x) and abs(x - round(x)) < _EXACT and 0 < round(x) < thr


def step_curve_leaks(res, thr: int) -> list[str]:
    """What the differencing attack learns from a duration result's published curves (empty when nothing)."""
    out: list[str] = []
    km = res.tables.get("km")
    if km is not None:
        for g, part in km.groupby("group", sort=False):
            n = float(part["n"].iloc[0])
            pub = part[part["share_not_self_supporting"].notna()].sort_values("week")
            S, W, R = (pub[c].to_numpy(float) for c in ("share_not_self_supporting", "week", "n_at_risk"))
            for i in range(len(pub)):
                if _learnt_small(n * S[i], thr):
                    out.append(f"km {g} week {W[i]:.0f}: {n * S[i]:.6g} persons without an event")
                if _learnt_small(R[i], thr):
                    out.append(f"km {g} week {W[i]:.0f}: {R[i]:.0f} at risk")
            for i in range(1, len(pub)):
                d_n = n * (S[i - 1] - S[i])
                d_r = R[i - 1] * (1 - S[i] / S[i - 1]) if S[i - 1] > 0 else float("nan")
                for how, d in (("n·ΔS", d_n), ("R·(1−S2/S1)", d_r)):
                    if _learnt_small(d, thr):
                        out.append(f"km {g} weeks {W[i - 1]:.0f}→{W[i]:.0f}: {d:.6g} events ({how})")
            # censored between published numbers at risk, when the events between them are known exactly
            shown = [i for i in range(len(pub)) if math.isfinite(R[i])]
            for a, b in zip(shown, shown[1:]):
                d = R[a] * (1 - S[b] / S[a]) if S[a] > 0 else float("nan")
                if math.isfinite(d) and abs(d - round(d)) < _EXACT:
                    c = R[a] - R[b] - round(d)
                    if _learnt_small(c, thr):
                        out.append(f"km {g} weeks {W[a]:.0f}→{W[b]:.0f}: {c:.0f} censored")
    comp = res.tables.get("competing")
    if comp is not None:
        for g, pg in comp.groupby("group", sort=False):
            n = float(pg["n"].iloc[0])
            for c, part in pg.groupby("cause", sort=False):
                pub = part[part["cumulative_incidence"].notna()].sort_values("week")
                F, W = pub["cumulative_incidence"].to_numpy(float), pub["week"].to_numpy(float)
                for i in range(len(pub)):
                    prev = F[i - 1] if i else 0.0
                    for how, k in (("n·F", n * F[i]), ("n·ΔF", n * (F[i] - prev)), ("n·(1−F)", n * (1 - F[i]))):
                        if _learnt_small(k, thr):
                            out.append(f"competing {g} {c} week {W[i]:.0f}: {k:.6g} persons ({how})")
            wide = pg.pivot_table(index="week", columns="cause", values="cumulative_incidence", aggfunc="first")
            for w, row in wide.dropna().iterrows():
                if _learnt_small(n * (1 - row.sum()), thr):
                    out.append(f"competing {g} week {w}: {n * (1 - row.sum()):.6g} persons without any exit")
    return out


def cumulative_leaks(res, thr: int) -> list[str]:
    """What the attack learns from a cumulative effect's curve: the groups' mean weeks on support published for
    consecutive weeks give the persons on (and off) support in one week (n × the difference), and over a longer
    stretch the person-weeks on and off support; an unadjusted weekly effect a/n1 − b/n0 may have a single
    solution in whole numbers, which gives both groups' counts of the week."""
    c = res.tables.get("curve")
    if c is None:
        return []
    e = next((x for x in res.estimates if x.n_treated is not None and x.n_control is not None), None)
    if e is None:
        return []
    n1, n0 = float(e.n_treated), float(e.n_control)
    out = []
    W = c["week"].to_numpy(float)
    for col, n in (("mean_intervention", n1), ("mean_control", n0)):
        if col not in c.columns:
            continue
        pub = c[c[col].notna()]
        w, m = np.r_[0.0, pub["week"].to_numpy(float)], np.r_[0.0, pub[col].to_numpy(float)]
        for i in range(1, len(w)):
            on = n * (m[i] - m[i - 1])
            for what, x in (("on", on), ("off", n * (w[i] - w[i - 1]) - on)):
                if _learnt_small(x, thr):
                    out.append(f"cumulative {col} weeks {w[i - 1]:.0f}→{w[i]:.0f}: {x:.6g} person-weeks {what} support")
    pub = c[c["estimate"].notna()]
    if len(pub) and c["week"].min() == 1:  # weeks since the index week (not calendar periods)
        w, est = np.r_[0.0, pub["week"].to_numpy(float)], np.r_[0.0, pub["estimate"].to_numpy(float)]
        for i in range(1, len(w)):
            span, x = w[i] - w[i - 1], est[i] - est[i - 1]
            a = np.arange(int(n1 * span) + 1, dtype=float)  # person-weeks on support of the treated in the span
            b = n0 * (a / n1 - x)
            ok = (np.abs(b - np.round(b)) < 1e-7) & (b > -0.5) & (b < n0 * span + 0.5)
            if ok.sum() == 1:
                k1, k0 = float(a[ok][0]), float(np.round(b[ok][0]))
                for what, k in (("treated on", k1), ("treated off", n1 * span - k1), ("control on", k0),
                                ("control off", n0 * span - k0)):
                    if 0 < k < thr:
                        out.append(f"cumulative effect weeks {w[i - 1]:.0f}→{w[i]:.0f}: {k:.0f} person-weeks {what} support")
    return out


def _unique_person_weeks(x: float, n1: float, n0: float, weeks: float) -> tuple[float, float] | None:
    """The single whole-number solution (a, b) of a/n1 − b/n0 = x with 0 ≤ a ≤ n1·weeks, 0 ≤ b ≤ n0·weeks, if any."""
    a = np.arange(int(n1 * weeks) + 1, dtype=float)
    b = n0 * (a / n1 - x)
    ok = (np.abs(b - np.round(b)) < 1e-7) & (b > -0.5) & (b < n0 * weeks + 0.5)
    return (float(a[ok][0]), float(np.round(b[ok][0]))) if ok.sum() == 1 else None


def economy_leaks(bundle) -> list[str]:
    """The business case's breakdown by benefit type: an unadjusted effect on weeks of one type at a horizon,
    a/n1 − b/n0, with a single whole-number solution gives each group's person-weeks on that type."""
    eco = bundle.economy
    if not eco:
        return []
    rec = bundle.analysis(eco["analysis"])
    e = next((x for x in rec.result.estimates if x.n_treated is not None and x.n_control is not None), None)
    if e is None or get_time_mode(rec) != "person":
        return []
    n1, n0, thr = float(e.n_treated), float(e.n_control), bundle.threshold
    out = []
    for r in eco.get("breakdown", []):
        sol = _unique_person_weeks(float(r["weeks"]), n1, n0, float(r["horizon"]))
        if sol and any(0 < k < thr for k in sol):
            out.append(f"economy {r['group']} h{r['horizon']}: person-weeks {sol}")
    return out


def get_time_mode(rec) -> str:
    return FAMILIES[rec.design].time_mode


def time_course_leaks(time_course, thr: int) -> list[str]:
    """Counts a reader learns from the weekly time course: share × n, its complement, and persons not followed."""
    if not time_course:
        return []
    tc = pd.DataFrame(time_course["records"])
    out = []
    for _, r in tc.iterrows():
        if pd.isna(r["share"]):
            continue
        k = float(r["share"]) * float(r["n"])
        for what, x in (("with the status", k), ("without it", float(r["n"]) - k)):
            if _learnt_small(x, thr):
                out.append(f"time course {r['group']} week {r['week']}: {x:.6g} persons {what}")
    for g, part in tc.groupby("group"):
        ns = sorted(set(part["n"].astype(float)))
        out += [f"time course {g}: n {a:.0f} and {b:.0f}" for a, b in zip(ns, ns[1:]) if 0 < b - a < thr]
    return out


def cross_result_leaks(bundle) -> list[str]:
    """Counts of one compared group published by several results of an analysis (its result, duration and
    cumulative results, the business case, the weekly time course) that differ by fewer than the threshold."""
    thr = bundle.threshold
    out = []
    for rec in bundle.analyses:
        fam = FAMILIES[rec.design]
        spec = fam.groups(fam.Options(**rec.options))
        counts: dict[str, dict[str, float]] = {"treated": {}, "control": {}}
        for name, res in (("result", rec.result), ("duration", rec.duration), ("cumulative", rec.cumulative)):
            for e in (res.estimates if res is not None else ()):
                for which, v in (("treated", e.n_treated), ("control", e.n_control)):
                    if v is not None and math.isfinite(float(v)):
                        counts[which][f"{name}:{e.term}"] = float(v)
        if spec is not None and rec.duration is not None and "km" in rec.duration.tables:
            for g, part in rec.duration.tables["km"].groupby("group"):
                which = "treated" if str(g) == str(spec.treated) else "control"
                counts[which]["km n"] = float(part["n"].iloc[0])
        eco = bundle.economy
        if eco and eco.get("analysis") == rec.id and eco["business_case"].get("n_participants") is not None:
            counts["treated"]["economy n_participants"] = float(eco["business_case"]["n_participants"])
        tc = bundle.time_course
        if spec is not None and tc and tc.get("analysis") == rec.id:
            d = pd.DataFrame(tc["records"])
            for g, part in d.groupby("group"):
                which = "treated" if str(g) == str(spec.treated) else "control"
                for v in set(part["n"].astype(float)):
                    counts[which][f"time course n {v:.0f}"] = v
        for which, cs in counts.items():
            items = sorted(cs.items(), key=lambda kv: kv[1])
            for (ka, a), (kb, b) in zip(items, items[1:]):
                if 0 < b - a < thr:
                    out.append(f"{rec.id} {which}: {ka} = {a:.0f}, {kb} = {b:.0f}")
    return out


def bundle_time_leaks(bundle) -> list[str]:
    out = []
    for rec in bundle.analyses:
        if rec.duration is not None:
            out += [f"{rec.id}: {x}" for x in step_curve_leaks(rec.duration, bundle.threshold)]
        if rec.cumulative is not None:
            out += [f"{rec.id}: {x}" for x in cumulative_leaks(rec.cumulative, bundle.threshold)]
    return (out + time_course_leaks(bundle.time_course, bundle.threshold) + cross_result_leaks(bundle)
            + economy_leaks(bundle))


@pytest.mark.parametrize("slug", sorted(p.name for p in STUDIES.iterdir() if (p / "study.yaml").is_file()))
def test_time_results_of_a_shipped_bundle_reveal_no_small_count(rendered_reports, slug):
    # the bundles the session's rendered reports were made from (each shipped study is run once)
    _, bundle = rendered_reports[slug]
    assert bundle_time_leaks(bundle) == []


def _time_study(root, case):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("_time_studies", Path(__file__).parent / "pipeline" / "test_time_studies.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    kw = {"small": dict(n=30, effect=1.0, labels=("A", "B")),
          "small_censored": dict(n=40, effect=1.6, censor=0.01, seed=5),
          "null_censored": dict(n=90, effect=1.0, censor=0.004, seed=8, labels=("ja", "nej")),
          "matched": dict(n=80, effect=1.5, design="matched_comparison", seed=11),
          "unadjusted": dict(n=35, n_control=31, effect=1.4, covariates=(), seed=4)}[case]
    return mod._write(root, f"gen-{case.replace('_', '-')}", economy={"horizons": [52]}, **kw)


@pytest.mark.parametrize("case", ["small", "small_censored", "null_censored", "matched", "unadjusted"])
def test_time_results_of_a_generated_bundle_reveal_no_small_count(tmp_path, case):
    folder = _time_study(tmp_path, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = load_bundle(run_study(folder, tmp_path / "results", figures=False))
    assert bundle.analyses[0].duration is not None
    assert bundle_time_leaks(bundle) == []


def test_the_curve_attack_finds_the_one_person_step_of_a_weekly_curve(study_tree, tmp_path, monkeypatch):
    """The attack is not vacuous: jobfirst's curves published week by week (as before the coarsening, when only
    weeks resting on fewer than 5 persons in all were hidden) show steps of one person, e.g. 1/178."""
    import evaluation.pipeline.time as time_module

    def weekly(result, inp, log):  # the curves as they were published before: every week, counts dropped
        tables = dict(result.tables)
        tables["km"] = tables["km"].drop(columns=["n_events_cum", "n_left_cum"])
        tables["competing"] = tables["competing"].drop(columns=["n_events_cum"])
        return dataclasses.replace(result, tables=tables)

    monkeypatch.setattr(time_module, "disclose_duration", weekly)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = load_bundle(run_study(study_tree("jobfirst"), tmp_path / "results", figures=False))
    leaks = step_curve_leaks(bundle.analysis("forsoergelse").duration, bundle.threshold)
    assert any(x.startswith("km intervention weeks 34→35: 1 events") for x in leaks), leaks[:5]
    assert any(x.startswith("competing") for x in leaks)


def test_published_curves_are_the_exact_estimates_at_the_published_weeks(study_tree, tmp_path):
    """The coarsened curve is the Kaplan–Meier estimator evaluated at the published weeks (lifelines, an
    independent implementation, on the same exit times), and each published step covers at least 5 events."""
    lifelines = pytest.importorskip("lifelines")
    from evaluation.data.registers import Panel
    from evaluation.metrics.duration import exit_times

    folder = study_tree("jobfirst")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = load_bundle(run_study(folder, tmp_path / "results", figures=False))
    study = load_study(folder)
    data = load_study_data(study)
    decl = study.analysis("forsoergelse")
    inp = analysis_input(study, decl, data)
    design = decl.family.survival_design(inp)
    persons = pd.Index(inp.frame.index[design.rows], name="person")
    panel = next(f for f in data.frames.values() if isinstance(f, Panel))
    spec = decl.duration
    ss = exit_times(panel, data.frames[decl.data].loc[persons], horizon=max(spec.horizons), min_weeks=spec.min_weeks)
    tr = np.asarray(design.treated, dtype=bool)
    km = bundle.analysis("forsoergelse").duration.tables["km"]
    for lab, m in (("intervention", tr), ("control", ~tr)):
        fit = lifelines.KaplanMeierFitter().fit(ss["weeks"].to_numpy()[m], ss["event"].to_numpy()[m])
        pub = km[(km["group"] == lab) & km["share_not_self_supporting"].notna()]
        assert 5 < len(pub) < 40  # coarsened, not weekly
        weeks = pub["week"].to_numpy(float)
        np.testing.assert_allclose(pub["share_not_self_supporting"].to_numpy(float),
                                   fit.survival_function_at_times(weeks).to_numpy(), rtol=0, atol=1e-12)
        t, e = ss["weeks"].to_numpy()[m], ss["event"].to_numpy()[m]
        events = [int(((t <= w) & (e == 1)).sum()) for w in weeks]
        assert all(b - a >= 5 or b == a for a, b in zip(events, events[1:])), events
        flat = [w for a, b, w in zip(events, events[1:], weeks[1:]) if a == b]
        assert set(flat) <= set(spec.horizons), flat  # only a horizon may be a flat step


def test_coarsen_steps_by_hand():
    from evaluation.disclosure import coarsen_steps

    E = [0, 1, 2, 3, 5, 6, 6, 8, 12, 12, 13]
    # week 4 is the first with 5 events; the horizon (7) has only 3 more, so week 4 is merged into its step
    assert coarsen_steps(E, 5, n=20)[0] == [0, 4, 8]
    assert coarsen_steps(E, 5, n=20, anchors=[7])[0] == [0, 7, 10]
    # the last point needs at least 5 persons without the event: n = 17 leaves 4 after week 10
    assert coarsen_steps(E, 5, n=17, anchors=[7])[0] == [0, 7]
    # a horizon after a flat stretch is published (a step of 0 reveals nothing); one right after the start with
    # 1 event is not
    assert coarsen_steps([0, 0, 0, 6], 5, n=20, anchors=[2])[0] == [0, 2, 3]
    assert coarsen_steps([0, 1, 6], 5, n=20, anchors=[1])[0] == [0, 2]
    # number at risk: censored persons (left − events) since the last shown number must be 0 or >= 5, at risk 0 or >= 5
    C = [0, 0, 0, 0, 0, 0, 1, 1, 1, 3, 6]
    L = [e + c for e, c in zip(E, C)]
    pub, risk = coarsen_steps(E, 5, n=20, left_cum=L, anchors=[7])
    assert pub == [0, 7, 10] and risk == [0]  # week 7: 1 censored; week 10: 1 at risk
    C = [0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 5]
    pub, risk = coarsen_steps(E, 5, n=40, left_cum=[e + c for e, c in zip(E, C)], anchors=[7])
    assert risk == [0, 7, 10]


def test_the_cumulative_attack_finds_weekly_counts_in_an_undisclosed_curve(tmp_path, monkeypatch):
    """Not vacuous: the cumulative curve as published before (group means every week, the unadjusted effect every
    week) gives the number of persons off support in a week, 1–4 in the first weeks."""
    import evaluation.pipeline.time as time_module

    monkeypatch.setattr(time_module, "disclose_cumulative", lambda result, inp, log, counts=None: result)
    folder = _time_study(tmp_path, "unadjusted")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = load_bundle(run_study(folder, tmp_path / "results", figures=False))
    leaks = cumulative_leaks(bundle.analyses[0].cumulative, bundle.threshold)
    assert any("mean_control" in x and "off support" in x for x in leaks), leaks[:5]
    assert any(x.startswith("cumulative effect weeks") for x in leaks), leaks[:5]


@pytest.mark.parametrize("case", ["jobfirst", "small_censored"])
def test_published_curves_are_the_uncoarsened_curves_at_the_published_weeks(study_tree, tmp_path, monkeypatch, case):
    """Every published value of the Kaplan–Meier and cumulative-incidence tables equals the uncoarsened estimate at
    that week, and between consecutive published weeks each curve moved by 0 or at least 5 events."""
    import evaluation.pipeline.time as time_module

    raw = {}
    original = time_module.disclose_duration

    def keep(result, inp, log):
        raw[inp.id] = result
        return original(result, inp, log)

    monkeypatch.setattr(time_module, "disclose_duration", keep)
    folder = study_tree("jobfirst") if case == "jobfirst" else _time_study(tmp_path, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = load_bundle(run_study(folder, tmp_path / "results", figures=False))
    checked = 0
    for rec in bundle.analyses:
        if rec.duration is None:
            continue
        full = raw[rec.id].tables
        for name, keys, value in (("km", ["group"], "share_not_self_supporting"),
                                  ("competing", ["group", "cause"], "cumulative_incidence")):
            pub = rec.duration.tables[name]
            m = pub.merge(full[name], on=keys + ["week"], suffixes=("", "_full"))
            assert len(m) == len(pub)
            shown = m[m[value].notna()]
            assert len(shown) < len(full[name]) / 3  # coarsened
            np.testing.assert_array_equal(shown[value].to_numpy(), shown[value + "_full"].to_numpy())
            np.testing.assert_array_equal(shown["ci_lower"].to_numpy(), shown["ci_lower_full"].to_numpy())
            for _, part in shown.groupby(keys):
                ev = part.sort_values("week")["n_events_cum"].to_numpy()
                assert all(b == a or b - a >= 5 for a, b in zip(ev, ev[1:])), ev
            checked += len(shown)
    assert checked > 20
