"""simulate_sickness_trial: structure, known truth, the shipped CSV, and recovery of the effect by the randomized design."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.designs.randomized.estimator import RandomizedComparison
from evaluation.synthetic import SICKNESS_OUTCOMES, simulate_sickness_trial

ROOT = Path(__file__).resolve().parents[2]
CSV = ROOT / "data" / "synthetic" / "arbejdsfastholdelse-ved-sygdom" / "participants.csv"
COLUMNS = ["person_id", "group", "randomisation_week", "age", "sex", "diagnosis_group", "sector",
           "prior_sick_weeks_52", "sick_weeks_52", "renewed_absence_12m", "job_retention_12m"]
SHIPPED_COLUMNS = [*COLUMNS, "dialogue_4w"]  # the shipped file carries the mediator (generate.py: mediator=True)


def test_structure_and_ranges():
    df = simulate_sickness_trial(seed=3)
    assert list(df.columns) == COLUMNS and len(df) == 600
    assert df["person_id"].is_unique and df["person_id"].iloc[0] == "P0001"
    assert df["group"].value_counts().to_dict() == {"intervention": 300, "control": 300}
    assert df["randomisation_week"].str.fullmatch(r"20(10|11)-W\d{2}").all()
    years = {int(w[:4]) for w in df["randomisation_week"]}
    assert years == {2010, 2011}
    assert list(df["randomisation_week"]) == sorted(df["randomisation_week"])  # randomisation order
    assert df["age"].between(20, 64).all()
    assert set(df["sex"]) == {"kvinde", "mand"}
    assert set(df["diagnosis_group"]) == {"muskel_skelet", "psykisk", "andet"}
    assert set(df["sector"]) == {"offentlig", "privat"}
    assert df["prior_sick_weeks_52"].between(0, 52).all()
    y = df["sick_weeks_52"].dropna()
    assert y.between(0, 52).all() and stats.skew(y) > 0.5  # right-skewed like real absence
    for col in ("renewed_absence_12m", "job_retention_12m"):
        assert set(df[col].dropna().unique()) <= {0.0, 1.0}
    miss = df[list(SICKNESS_OUTCOMES)].isna()
    assert (miss.nunique(axis=1) == 1).all()  # lost to follow-up: all outcomes missing together
    assert 0 < miss["sick_weeks_52"].sum() < 60


def test_seeded_and_parameters_respected():
    a, b = simulate_sickness_trial(seed=11), simulate_sickness_trial(seed=11)
    pd.testing.assert_frame_equal(a, b)
    assert not simulate_sickness_trial(seed=12).equals(a)
    small = simulate_sickness_trial(n_intervention=40, n_control=60, seed=1, dropout=0.0)
    assert small["group"].value_counts().to_dict() == {"control": 60, "intervention": 40}
    assert small[list(SICKNESS_OUTCOMES)].notna().all().all()
    assert small.attrs["truth"]["parameters"]["n_control"] == 60


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_truth_is_exact_sample_ate(seed):
    df = simulate_sickness_trial(seed=seed, potential_outcomes=True)
    truth = df.attrs["truth"]
    assert truth["sick_weeks_52"] == -3.0
    assert truth["renewed_absence_12m"] == -0.08 and truth["job_retention_12m"] == 0.10
    treated = df["group"] == "intervention"
    for o in SICKNESS_OUTCOMES:
        y0, y1 = df[f"{o}_y0"], df[f"{o}_y1"]
        assert (y1 - y0).mean() == pytest.approx(truth[o], abs=1e-12)
        observed = df[o].notna()
        expect = np.where(treated, y1, y0)[observed]
        np.testing.assert_array_equal(df.loc[observed, o].to_numpy(), expect)  # consistency: Y = Y(T)
    assert df["sick_weeks_52_y1"].between(0, 52).all()
    assert ((df["renewed_absence_12m_y1"] - df["renewed_absence_12m_y0"]) <= 0).all()  # monotone effect
    up = simulate_sickness_trial(seed=seed, effect_absence_weeks=2.5, effect_renewed=0.031, effect_retention=0.0,
                                 potential_outcomes=True)
    t = up.attrs["truth"]
    assert (up["sick_weeks_52_y1"] - up["sick_weeks_52_y0"]).mean() == pytest.approx(2.5, abs=1e-9)  # under the 52 cap
    assert up["sick_weeks_52_y1"].max() <= 52.0
    assert t["renewed_absence_12m"] == round(0.031 * 600) / 600
    assert (up["renewed_absence_12m_y1"] - up["renewed_absence_12m_y0"]).mean() == pytest.approx(t["renewed_absence_12m"])
    assert t["job_retention_12m"] == 0.0


def test_invalid_parameters_raise():
    with pytest.raises(ValueError, match="dropout"):
        simulate_sickness_trial(dropout=1.2)
    with pytest.raises(ValueError, match="not attainable"):
        simulate_sickness_trial(effect_absence_weeks=-60.0)
    with pytest.raises(ValueError, match="n_intervention"):
        simulate_sickness_trial(n_intervention=1)
    with pytest.raises(ValueError, match="needs"):
        simulate_sickness_trial(effect_retention=0.9)


def test_shipped_csv_is_reproduced_by_generate_script(tmp_path):
    spec = importlib.util.spec_from_file_location("generate_synthetic", ROOT / "data" / "synthetic" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert "arbejdsfastholdelse-ved-sygdom" in mod.GENERATORS
    paths = mod.generate(["arbejdsfastholdelse-ved-sygdom"], root=tmp_path)
    assert sorted(p.name for p in paths) == ["participants.csv", "truth.json"]
    for p in paths:
        assert p.read_bytes() == (CSV.parent / p.name).read_bytes(), p.name
    truth = json.loads((CSV.parent / "truth.json").read_text(encoding="utf-8"))
    assert truth["effects"] == {"sick_weeks_52": -3.0, "renewed_absence_12m": -0.08, "job_retention_12m": 0.1}
    assert truth["parameters"]["seed"] == 126
    shipped = pd.read_csv(CSV)
    assert list(shipped.columns) == SHIPPED_COLUMNS and len(shipped) == 600


# --------------------------------------------------------------------------- recovery

def _replicate(outcome, covariates, reps, start_seed):
    design = RandomizedComparison(outcome=outcome, covariates=covariates)
    rows = []
    for r in range(reps):
        df = simulate_sickness_trial(seed=start_seed + r)
        res = design.fit(df)
        truth = df.attrs["truth"][outcome]
        for e in res.estimates:
            if e.term in ("difference_in_means", "difference_in_proportions", "adjusted_difference"):
                rows.append({"term": e.term, "est": e.estimate, "cover": e.ci_lower <= truth <= e.ci_upper, "truth": truth})
    return pd.DataFrame(rows)


def _check(sim, term):
    part = sim[sim["term"] == term]
    bias = part["est"].mean() - part["truth"].mean()
    mcse = part["est"].std(ddof=1) / np.sqrt(len(part))
    coverage = part["cover"].mean()
    assert abs(bias) <= 3 * mcse, f"{term}: bias {bias:.4f} > 3 MC SE ({mcse:.4f})"
    assert 0.93 <= coverage <= 0.97, f"{term}: coverage {coverage:.3f} outside [0.93, 0.97]"
    return bias, mcse, coverage


def test_recovers_absence_effect_unadjusted_and_lin():
    # 400 replications: MC SE of coverage ≈ 1.1 points; the bigger run is benchmarks/bench_randomized_recovery.py
    sim = _replicate("sick_weeks_52", ["age", "prior_sick_weeks_52", "diagnosis_group"], reps=400, start_seed=10_000)
    _check(sim, "difference_in_means")
    _check(sim, "adjusted_difference")
    sd = sim.groupby("term")["est"].std()
    assert sd["adjusted_difference"] < sd["difference_in_means"]  # prognostic covariates: adjustment gains precision


def test_recovers_retention_effect_newcombe():
    sim = _replicate("job_retention_12m", [], reps=400, start_seed=20_000)
    _check(sim, "difference_in_proportions")
