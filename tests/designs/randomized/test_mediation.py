"""Causal mediation (Imai, Keele & Yamamoto 2010, linear models): the JOBS II example of R mediation reproduced
(point estimates to the printed digits, bootstrap intervals and p-values within Monte Carlo tolerance, the
medsens sensitivity table to its printed digits), the closed form of the sensitivity, the design's strata,
clusters and weights, bad input, the declaration of a mediator and the shipped study's report."""

from __future__ import annotations

import re

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation.designs.randomized.mediation import RHO_GRID, mediate_linear, sensitivity_curve
from evaluation.exceptions import DataValidationError, EstimationError

REFERENCE = Path(__file__).resolve().parents[2] / "reference"
REF = json.loads((REFERENCE / "mediation_jobs.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def jobs():
    return pd.read_csv(REFERENCE / REF["data"]["file"])


def _mediate(jobs, covs, sims=1000, seed=1):
    return mediate_linear(jobs, outcome="depress2", mediator="job_seek", treatment="treat", treated=1, control=0,
                          covariates=covs, sims=sims, seed=seed)


@pytest.fixture(scope="module")
def simple(jobs):
    return _mediate(jobs, REF["simple"]["covariates"], sims=2000, seed=2014)


@pytest.fixture(scope="module")
def full(jobs):
    return _mediate(jobs, REF["full"]["covariates"], sims=1000, seed=2014)


def test_jobs_point_estimates_are_the_printed_digits(simple):
    """R prints ACME −0.0157, ADE −0.0403, total −0.0560, prop. mediated 0.2811 (boot = TRUE: computed on the
    sample), and the same notebook's coef() products to 7 digits."""
    ref = REF["simple"]
    assert simple.n == ref["n"] == 899
    for term, p in ref["printed"].items():
        assert round(simple.estimate_for(term).estimate, ref["estimate_digits"]) == pytest.approx(p["estimate"], abs=1e-9)
    for term, v in ref["printed_7_digits"].items():
        assert float(f"{simple.estimate_for(term).estimate:.7g}") == pytest.approx(v, abs=1e-12)


def _quantile_se(draws: np.ndarray, q: float, b: int) -> float:
    """Monte Carlo SE of a percentile of b bootstrap draws: sqrt(q(1 − q)/b) / f(x_q), f from the draws."""
    h = 0.01
    lo, hi = np.quantile(draws, [max(q - h, 0.0), min(q + h, 1.0)])
    dens = (min(q + h, 1.0) - max(q - h, 0.0)) / max(hi - lo, 1e-12)
    return math.sqrt(q * (1 - q) / b) / dens


def test_jobs_bootstrap_intervals_and_p_values_within_monte_carlo_tolerance(jobs, simple):
    """The printed percentile intervals and p-values rest on 1,000 random draws: they agree within 4 Monte Carlo
    SEs of R's draws and ours (plus half a unit of the printed last digit), not to the digit."""
    ref = REF["simple"]
    boot = _bootstrap_draws(jobs, ref["covariates"], 2000, 99)  # independent draws: the spread at the quantiles
    for term, p in ref["printed"].items():
        e = simple.estimate_for(term)
        d = boot[term]
        for q, ours, printed in ((0.025, e.ci_lower, p["ci_lower"]), (0.975, e.ci_upper, p["ci_upper"])):
            se = math.sqrt(_quantile_se(d, q, ref["sims"]) ** 2 + _quantile_se(d, q, 2000) ** 2)
            half_unit = 0.5 * 10 ** -len(str(printed).split(".")[1]) if "." in str(printed) else 0.5
            assert abs(ours - printed) <= 4 * se + half_unit, (term, q, ours, printed, se)
        pi = e.p_value / 2
        se_p = 2 * math.sqrt(pi * (1 - pi) / ref["sims"] + pi * (1 - pi) / 2000)
        assert abs(e.p_value - p["p_value"]) <= 4 * se_p + 0.005, (term, e.p_value, p["p_value"])


def _bootstrap_draws(jobs, covs, sims, seed):
    """Plain resampling of rows with the two lm fits (what R's boot::boot does), for the spread of the draws."""
    rng = np.random.default_rng(seed)
    X = sm.add_constant(jobs[covs].astype(float))
    out = {k: [] for k in ("acme", "ade", "total_effect", "prop_mediated")}
    Xm = np.column_stack([X["const"], jobs["treat"], X[covs]])
    Xy = np.column_stack([X["const"], jobs["treat"], jobs["job_seek"], X[covs]])
    m, y = jobs["job_seek"].to_numpy(), jobs["depress2"].to_numpy()
    for _ in range(sims):
        i = rng.integers(0, len(jobs), len(jobs))
        a = np.linalg.lstsq(Xm[i], m[i], rcond=None)[0][1]
        g = np.linalg.lstsq(Xy[i], y[i], rcond=None)[0]
        acme, ade = a * g[2], g[1]
        out["acme"].append(acme)
        out["ade"].append(ade)
        out["total_effect"].append(acme + ade)
        out["prop_mediated"].append(acme / (acme + ade))
    return {k: np.array(v) for k, v in out.items()}


def test_jobs_sensitivity_table_is_the_printed_digits(full):
    """medsens(rho.by = 0.05) for the full JOBS models (mediation 3.0 vignette): ACME(ρ), its interval and the
    R² products to 4 printed digits; ρ at which the ACME is zero on the grid: −0.2, with R²*·R²* 0.04 and
    R̃²·R̃² 0.0261."""
    ref = REF["full"]
    curve = full.sensitivity.set_index("rho")
    k = ref["table_digits"]
    for row in ref["sensitivity_table"]:
        got = curve.loc[row["rho"]]
        for col in ("acme", "ci_lower", "ci_upper", "r2star", "r2tilde"):
            assert round(float(got[col]), k) == pytest.approx(row[col], abs=1e-9), (row["rho"], col)
    grid = np.round(np.arange(-0.95, 0.951, 0.05), 2)
    acme_grid = sensitivity_curve(*_full_matrices(full), t_col=1, m_col=2, rhos=grid)["acme"].abs().to_numpy()
    assert grid[int(np.argmin(acme_grid))] == pytest.approx(ref["rho_at_which_acme_is_zero_grid_0.05"])
    assert round(ref["rho_at_which_acme_is_zero_grid_0.05"] ** 2, 4) == ref["r2star_at_zero"]
    r2t = ref["rho_at_which_acme_is_zero_grid_0.05"] ** 2 * (1 - full.r2_mediator) * (1 - full.r2_outcome)
    assert round(r2t, 4) == ref["r2tilde_at_zero"]


def _full_matrices(full):
    jobs = pd.read_csv(REFERENCE / REF["data"]["file"])
    from evaluation.designs.randomized.mediation import _covariate_matrix

    Z, _ = _covariate_matrix(jobs, REF["full"]["covariates"], None)
    one = np.ones((len(jobs), 1))
    t = jobs["treat"].to_numpy(float)[:, None]
    m, y = jobs["job_seek"].to_numpy(float), jobs["depress2"].to_numpy(float)
    return np.hstack([one, t, Z]), m, np.hstack([one, t, m[:, None], Z]), y


def test_quasi_bayesian_means_within_monte_carlo_tolerance(full):
    """The vignette's quasi-Bayesian estimates are means of 1,000 simulation draws: within 4 Monte Carlo SEs of the
    point estimate computed on the sample (the proportion mediated is a median of a ratio: within 4 SEs of the draws)."""
    for term, p in REF["full"]["quasi_bayesian_1000"].items():
        e = full.estimate_for(term)
        tol = 4 * e.std_error / math.sqrt(1000)
        if term == "prop_mediated":
            tol = 4 * 1.2533 * e.std_error / math.sqrt(1000)  # SE of a median
        assert abs(e.estimate - p["estimate"]) <= tol, (term, e.estimate, p["estimate"], tol)


def test_rho_at_zero_is_the_closed_form(jobs, simple):
    """For two linear models ACME(ρ) = α σ₁/σ₂ (ρ̃ − ρ √((1 − ρ̃²)/(1 − ρ²))): zero at ρ̃, the correlation of the
    mediator model's residuals with those of the outcome regression without the mediator (IKY 2010)."""
    X = sm.add_constant(jobs[["treat", "econ_hard", "sex", "age"]].astype(float))
    e1 = sm.OLS(jobs["depress2"], X).fit().resid
    e2 = sm.OLS(jobs["job_seek"], X).fit().resid
    rho_tilde = float(np.corrcoef(e1, e2)[0, 1])
    assert simple.rho_at_zero == pytest.approx(rho_tilde, abs=1e-8)
    s1, s2 = e1.std(ddof=1), e2.std(ddof=1)
    for rho in (-0.5, -0.2, 0.0, 0.3, 0.6):
        closed = simple.alpha * s1 / s2 * (rho_tilde - rho * math.sqrt((1 - rho_tilde**2) / (1 - rho**2)))
        got = simple.sensitivity.set_index("rho")["acme"].get(rho)
        if got is not None:
            assert got == pytest.approx(closed, abs=1e-9)
    assert simple.sensitivity.set_index("rho").loc[0.0, "acme"] == pytest.approx(simple.estimate_for("acme").estimate, abs=1e-12)
    assert list(simple.sensitivity["rho"]) == list(RHO_GRID)


def _trial(seed=4, n=600, clusters=40):
    rng = np.random.default_rng(seed)
    site = rng.integers(0, clusters, n)
    t = rng.permutation(np.r_[np.ones(clusters // 2, bool), np.zeros(clusters - clusters // 2, bool)])[site]
    x = rng.normal(0, 1, n)
    m = (rng.random(n) < 0.3 + 0.4 * t).astype(float)
    y = 5 + 1.0 * x - 2.0 * m - 1.0 * t + rng.normal(0, 2, n)
    return pd.DataFrame({"group": np.where(t, "intervention", "control"), "x": x, "m": m, "y": y, "site": site,
                         "blok": site % 4, "w": rng.uniform(0.5, 2.0, n)})


def test_weights_strata_and_clusters():
    df = _trial()
    w = mediate_linear(df, outcome="y", mediator="m", covariates=["x"], weights="w", sims=200, seed=1)
    X = sm.add_constant(pd.DataFrame({"t": (df.group == "intervention").astype(float), "x": df.x}))
    a = sm.WLS(df.m, X, weights=df.w).fit().params["t"]
    g = sm.WLS(df.y, X.assign(m=df.m), weights=df.w).fit().params
    assert w.estimate_for("acme").estimate == pytest.approx(a * g["m"], rel=1e-10)
    assert w.estimate_for("ade").estimate == pytest.approx(g["t"], rel=1e-10)
    c1 = mediate_linear(df, outcome="y", mediator="m", covariates=["x"], cluster="site", strata="blok", sims=200, seed=3)
    c2 = mediate_linear(df, outcome="y", mediator="m", covariates=["x"], cluster="site", strata="blok", sims=200, seed=3)
    assert [e.ci_lower for e in c1.estimates] == [e.ci_lower for e in c2.estimates]  # seeded
    plain = mediate_linear(df, outcome="y", mediator="m", covariates=["x"], sims=200, seed=3)
    # resampling whole sites gives wider intervals than resampling persons when outcomes cluster by site
    assert "clusters within strata" in c1.method and "persons" in plain.method
    assert c1.mediator_means["intervention"]["binary"] is True
    tr = df[df.group == "intervention"]
    assert c1.mediator_means["intervention"]["mean"] == pytest.approx(tr.m.mean())


def test_bad_input_is_named():
    df = _trial()
    with pytest.raises(EstimationError, match="at least 100"):
        mediate_linear(df, outcome="y", mediator="m", sims=10)
    with pytest.raises(EstimationError, match="must differ"):
        mediate_linear(df, outcome="y", mediator="y")
    bad = df.assign(m=df.m.astype(object))
    bad.loc[2, "m"] = "ja"
    with pytest.raises(DataValidationError, match="mediator column 'm' must be numeric"):
        mediate_linear(bad, outcome="y", mediator="m")
    with pytest.raises(EstimationError, match="same value for everybody"):
        mediate_linear(df.assign(m=1.0), outcome="y", mediator="m")
    miss = df.assign(m=df.m.where(df.index % 10 != 0))
    r = mediate_linear(miss, outcome="y", mediator="m", sims=100, seed=1)
    assert r.n == int(miss.m.notna().sum())


def test_a_mediator_is_declared_on_a_link(tmp_path):
    """theory.links[].mediator names an indicator with a metric on a link with a mechanism; mistakes are named."""
    from evaluation.declaration.theory import Theory, theory_problems

    base = {
        "target_group": {"description": "x"},
        "nodes": [{"id": "a", "type": "activity", "label": "A"}, {"id": "p", "type": "output", "label": "P"},
                  {"id": "o", "type": "outcome", "label": "O", "primary": True}],
        "links": [{"from": "a", "to": "p", "mechanism": "m1", "mediator": "med"}, {"from": "p", "to": "o", "direct": True}],
        "mechanisms": [{"id": "m1", "label": "M", "resource": "r", "reasoning": "s"}],
        "indicators": [{"id": "med", "outcome": "p", "label": "Med", "metric": {"name": "column", "params": {"column": "d"}}},
                       {"id": "y", "outcome": "o", "label": "Y", "metric": {"name": "column", "params": {"column": "y"}}}],
    }
    assert theory_problems(Theory(**base)) == []
    bad = json.loads(json.dumps(base))
    bad["links"][0]["mediator"] = "nope"
    assert any(p[0] == ("theory", "links", 0, "mediator") and "'nope'" in p[1] for p in theory_problems(Theory(**bad)))
    qual = json.loads(json.dumps(base))
    qual["indicators"][0] = {"id": "med", "outcome": "p", "label": "Med", "qualitative": {"method": "interview", "description": "d"}}
    assert any("qualitative" in p[1] for p in theory_problems(Theory(**qual)))
    direct = json.loads(json.dumps(base))
    direct["links"][1]["mediator"] = "med"
    assert any(p[0] == ("theory", "links", 1, "mediator") and "mechanism" in p[1] for p in theory_problems(Theory(**direct)))


def test_the_shipped_study_reports_the_mechanism_and_every_claim_follows(study_tree, tmp_path):
    """Arbejdsfastholdelse ved sygdom declares dialogue with the workplace within 4 weeks as the mediator of the
    link «indsats → plan»: each of its three randomized analyses gets ACME, ADE, total effect and share mediated, the
    report's mechanisms section states them (tests/claims.py), and the checker catches a changed verdict."""
    from claims import check_report_claims
    from evaluation.pipeline import run_study
    from evaluation.reporting.quarto import report_markdown
    from evaluation.results import load_bundle

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = load_bundle(run_study(study_tree("arbejdsfastholdelse-ved-sygdom"), tmp_path / "results", figures=False))
    truth = json.loads((tmp_path / "data" / "synthetic" / "arbejdsfastholdelse-ved-sygdom" / "truth.json").read_text())
    rec = b.analysis("sygefravaer")
    t = rec.result.tables["mediation"].set_index("term")
    assert set(["acme", "ade", "total_effect", "prop_mediated"]) <= set(t.index)
    acme = t.loc["acme"]
    assert acme["ci_lower"] <= truth["mediation"]["acme"] <= acme["ci_upper"]  # the known indirect effect is covered
    # ACME + ADE is the covariate-adjusted total effect
    assert t.loc["acme", "estimate"] + t.loc["ade", "estimate"] == pytest.approx(t.loc["total_effect", "estimate"], abs=1e-12)
    d = rec.result.diagnostics["mediation"]["dialog_4_uger"]
    assert d["link"] == "indsats → plan" and d["mechanism"] == "dialog" and -1 < d["rho_at_zero"] < 1
    assert {a.id for a in b.analyses if a.result.tables.get("mediation") is not None} == {"sygefravaer", "fornyet", "fastholdelse"}
    qmd = report_markdown(b)
    assert "# Mekanismer: hvorfor virkede indsatsen?" in qmd and "## Mekanisme M2: Dialog med arbejdspladsen" in qmd
    assert not check_report_claims(qmd, b)
    flipped = re.sub(r"Vi kan ikke udelukke, at ingen del af effekten på «[^»]+» går gennem mekanismen\.",
                     "Intervallet udelukker nul (p = 0,01): en del af effekten går gennem mekanismen.", qmd, count=1)
    assert any("verdict" in p for p in check_report_claims(flipped, b))


def test_an_undefined_sensitivity_curve_leaves_its_figure_out_instead_of_crashing():
    """A curve with no finite indirect effect (an audit saw 'Axis limits cannot be NaN or Inf' end a run)."""
    from types import SimpleNamespace

    from evaluation.designs.randomized.figures import mediation_figures

    rho = np.linspace(-0.9, 0.9, 19)
    nan = np.full(len(rho), np.nan)
    curve = pd.DataFrame({"mediator": "m", "rho": rho, "acme": nan, "ci_lower": nan, "ci_upper": nan})
    rec = SimpleNamespace(id="a", primary=True, unit="uger", result=SimpleNamespace(
        tables={"mediation_sensitivity": curve}, outcome_type="continuous", diagnostics={"mediation": {}}))
    with pytest.warns(UserWarning, match="figure is left out"):
        assert mediation_figures([rec]) == {}
    finite = curve.assign(acme=rho * 0.1, ci_lower=rho * 0.1 - 1, ci_upper=rho * 0.1 + 1)
    rec.result.tables["mediation_sensitivity"] = finite
    assert list(mediation_figures([rec])) == ["mediation_a_m"]
