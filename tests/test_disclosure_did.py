"""Disclosure of the difference-in-differences designs' per-period results (cell means, group-time effects).

A DiD result publishes means and effects by calendar period. On an outcome whose sum over persons is a whole
number (a 0/1 status: persons; a share of a fixed number of weeks: person-weeks), a group's mean in a period times
its persons is that number, and an unadjusted effect between two periods, Δ₁/n₁ − Δ₀/n₀, may have a single solution
in whole numbers — the change in the number of persons with the status in each group between the periods. The
attack below computes both from the published numbers and flags any it learns exactly that is a positive number
below the threshold; generated small-cell DiD studies with a rare 0/1 status must give it nothing.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from claims import run_bundle, write_example_study
from evaluation.designs.family import FAMILIES

_EXACT = 1e-6


def _whole(x: float) -> bool:
    return math.isfinite(x) and abs(x - round(x)) < _EXACT


def _small(x: float, thr: int) -> bool:
    return _whole(x) and 0 < abs(round(x)) < thr


def unique_whole_solution(x: float, n1: float, n0: float, span: float = 1.0) -> tuple[float, float] | None:
    """The single whole-number solution (a, b) of a/n1 − b/n0 = x with |a| ≤ n1·span, |b| ≤ n0·span, if any (a, b:
    the changes of a group's summed outcome between two periods)."""
    a = np.arange(-int(n1 * span), int(n1 * span) + 1, dtype=float)
    b = n0 * (a / n1 - x)
    ok = (np.abs(b - np.round(b)) < 1e-7) & (np.abs(b) < n0 * span + 0.5)
    return (float(a[ok][0]), float(np.round(b[ok][0]))) if ok.sum() == 1 else None


def did_leaks(rec, thr: int) -> list[str]:
    """What the attack learns from one DiD analysis's per-period tables (a 0/1 outcome: counts of persons)."""
    out: list[str] = []
    res = rec.result
    cm = res.tables.get("cell_means")
    if cm is not None:
        for g, part in cm.groupby("group"):
            part = part.sort_values("after")
            n, m = part["n"].to_numpy(float), part["mean"].to_numpy(float)
            for i in range(len(part)):
                if math.isfinite(m[i]) and math.isfinite(n[i]):
                    for what, k in (("with", n[i] * m[i]), ("without", n[i] * (1 - m[i]))):
                        if _small(k, thr):
                            out.append(f"cell mean group {g} period {i}: {round(k)} persons {what} the status")
            if len(part) == 2 and np.all(np.isfinite(m)) and np.all(np.isfinite(n)) and n[0] == n[1]:
                d = n[0] * (m[1] - m[0])
                if _small(d, thr):
                    out.append(f"cell means group {g}: {round(d)} persons more with the status after")
    # an unadjusted effect between two periods: Δ₁/n₁ − Δ₀/n₀ with the groups' persons published
    e = next((x for x in res.estimates if x.term == "did"), None)
    if e is not None and e.n_treated and e.n_control and not rec.options.get("covariates"):
        sol = unique_whole_solution(e.estimate, float(e.n_treated), float(e.n_control))
        if sol and any(0 < abs(k) < thr for k in sol):
            out.append(f"did estimate: changes {sol}")
    gt, sizes = res.tables.get("group_time"), res.tables.get("cohort_sizes")
    n0 = res.diagnostics.get("n_never_treated")
    if gt is not None and sizes is not None and n0 and not rec.options.get("covariates") \
            and rec.options.get("control_group", "nevertreated") == "nevertreated":
        n_of = {int(c): float(n) for c, n in zip(sizes["cohort"], sizes["n"]) if math.isfinite(float(n))}
        for _, r in gt.iterrows():
            n1 = n_of.get(int(r["group"]))
            if n1 is None or not math.isfinite(float(r["att"])):
                continue
            sol = unique_whole_solution(float(r["att"]), n1, float(n0))
            if sol and any(0 < abs(k) < thr for k in sol):
                out.append(f"group-time cohort {r['group']} period {r['time']}: changes {sol}")
        # an event time only one cohort reaches is that cohort's group-time effect
        es = res.tables.get("event_study")
        periods = sorted({int(t) for t in gt["time"]})
        if es is not None:
            for _, r in es.iterrows():
                reach = [g for g in n_of if g and (g + int(r["event_time"])) in periods]
                if len(reach) == 1 and math.isfinite(float(r["estimate"])):
                    sol = unique_whole_solution(float(r["estimate"]), n_of[reach[0]], float(n0))
                    if sol and any(0 < abs(k) < thr for k in sol):
                        out.append(f"event time {r['event_time']} (cohort {reach[0]} only): changes {sol}")
    return out


def _binary_did(root: Path, design: str, cut: float, seed: int = 1, covariates: bool = False) -> Path:
    """The family's small-cell example (60 persons) with a rare 0/1 status as the outcome (share of weeks above
    ``cut``)."""
    folder = write_example_study(root, FAMILIES[design], "small_cells", seed)
    csv = next((root / "data").rglob("participants.csv"))
    df = pd.read_csv(csv)
    df["y"] = (df["y"] > cut).astype(int)
    df.to_csv(csv, index=False)
    y = folder / "study.yaml"
    study = yaml.safe_load(y.read_text(encoding="utf-8"))
    study["theory"]["indicators"][0]["unit"] = "andel"
    y.write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


CASES = [("did_2x2", 0.8), ("did_2x2", 0.55), ("did_cs", 0.8), ("did_cs", 0.6), ("did_twfe", 0.8)]


@pytest.mark.parametrize("design,cut", CASES, ids=[f"{d}-{c}" for d, c in CASES])
def test_per_period_results_of_a_small_did_study_reveal_no_small_count(tmp_path, design, cut):
    bundle = run_bundle(_binary_did(tmp_path, design, cut), tmp_path)
    assert did_leaks(bundle.analyses[0], bundle.threshold) == []


def test_the_attack_finds_the_counts_in_undisclosed_per_period_results(tmp_path, monkeypatch):
    """Not vacuous: without the period rules (cell means hidden only below 5 persons in a cell, every group-time
    effect published, as before), the small 2×2 study's cell means give 4 and then 2 persons with the status in the
    intervention group, and the Callaway–Sant'Anna study's group-time effects a change of one person."""
    import evaluation.designs.did.family as did_family

    monkeypatch.setattr(did_family, "_coarsen_cell_means", lambda cm, inp, log: cm)
    monkeypatch.setattr(did_family, "_coarsen_group_time", lambda result, inp, log: result)
    b = run_bundle(_binary_did(tmp_path / "a", "did_2x2", 0.8), tmp_path / "a")
    leaks = did_leaks(b.analyses[0], b.threshold)
    assert "cell mean group 1.0 period 0: 4 persons with the status" in leaks, leaks
    assert "cell means group 1.0: -2 persons more with the status after" in leaks, leaks
    b = run_bundle(_binary_did(tmp_path / "b", "did_cs", 0.6), tmp_path / "b")
    leaks = did_leaks(b.analyses[0], b.threshold)
    assert any(x.startswith("group-time cohort") for x in leaks), leaks


def test_the_rules_hide_per_period_values_only(tmp_path, monkeypatch):
    """The estimates (overall, by event time, by cohort, by calendar period) are those of the undisclosed result;
    only cell means and group-time effects are hidden, and the hidden ones are logged."""
    import evaluation.designs.did.family as did_family

    b = run_bundle(_binary_did(tmp_path / "a", "did_cs", 0.6), tmp_path / "a")
    monkeypatch.setattr(did_family, "_coarsen_group_time", lambda result, inp, log: result)
    raw = run_bundle(_binary_did(tmp_path / "b", "did_cs", 0.6), tmp_path / "b")
    ra, rb = b.analyses[0].result, raw.analyses[0].result
    assert [(e.term, e.estimate, e.std_error) for e in ra.estimates] == [(e.term, e.estimate, e.std_error) for e in rb.estimates]
    for name in ("event_study", "by_cohort", "by_calendar"):
        pd.testing.assert_frame_equal(ra.tables[name], rb.tables[name])
    hidden = ra.tables["group_time"]["att"].isna() & rb.tables["group_time"]["att"].notna()
    assert hidden.sum() >= 2
    logged = [e for e in b.disclosure["log"] if e["table"].endswith("effekter pr. kohorte og periode")]
    assert len(logged) == int(hidden.sum())
    # each published group-time effect: the cohort's and the never-treated persons' counts changed by 0 or >= 5
    shown = ra.tables["group_time"][ra.tables["group_time"]["att"].notna()]
    assert len(shown) >= 3
    df = pd.read_csv(next((tmp_path / "a" / "data").rglob("participants.csv")))
    persons = df.groupby(["cohort", "period"])["y"].sum()
    for _, r in shown.iterrows():
        for c in (r["group"], 0):
            change = persons[(c, r["time"])] - persons[(c, r["base_period"])]
            assert change == 0 or abs(change) >= 5, (r.to_dict(), c, change)


@pytest.mark.parametrize("slug", ["flere-skal-med"])
def test_per_period_results_of_the_shipped_did_study_reveal_no_small_count(rendered_reports, slug):
    _, bundle = rendered_reports[slug]
    recs = [r for r in bundle.analyses if r.design.startswith("did_")]
    assert len(recs) == 3
    for rec in recs:
        assert did_leaks(rec, bundle.threshold) == [], rec.id
