"""Power / MDE functions against published tables (Cohen 1988, G*Power, Bloom 1995) and identities."""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats

from conftest import REFERENCE
from evaluation.exceptions import EstimationError
from evaluation.designs.power import (
    cohens_h,
    design_effect,
    mde_did,
    mde_means,
    mde_multiplier,
    mde_proportions,
    mde_sentence_da,
    power_means,
    power_proportions,
    sample_size_means,
)
from evaluation.results import TIDY_COLUMNS, result_from_dict

PUB = json.loads((REFERENCE / "power_published.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("row", PUB["cohen_1988_table_2_4_1"]["rows"], ids=lambda r: f"d={r['d']}")
def test_cohen_sample_sizes(row):
    n = sample_size_means(row["d"]).estimate_for("n_treated").estimate
    assert abs(n - row["n_per_group"]) <= row["tolerance"]


def test_gpower_example():
    ref = PUB["gpower_t_test_example"]
    res = sample_size_means(ref["d"], alpha=ref["alpha"], power=ref["power"])
    assert res.estimate_for("n_treated").estimate == ref["n_per_group"] == res.estimate_for("n_control").estimate
    assert res.estimate_for("power_achieved").estimate == pytest.approx(ref["actual_power"], abs=ref["actual_power_tolerance"])


@pytest.mark.parametrize("row", PUB["bloom_1995_multipliers"]["rows"], ids=lambda r: f"{r['alternative']}-{r['power']}")
def test_bloom_multipliers(row):
    m = mde_multiplier(row["alpha"], row["power"], row["alternative"])
    assert m == pytest.approx(row["multiplier"], abs=PUB["bloom_1995_multipliers"]["tolerance"])
    # normal-test MDE in SD units = multiplier * sqrt(1/n1 + 1/n0)
    res = mde_means(400, 200, alpha=row["alpha"], power=row["power"], alternative=row["alternative"], test="normal")
    assert res.estimate_for("mde").estimate == pytest.approx(m * math.sqrt(1 / 400 + 1 / 200), rel=1e-6)


def test_mde_and_power_are_inverse():
    mde = mde_means(300, 450, sd=9.0).estimate_for("mde").estimate
    assert power_means(mde, 300, 450, sd=9.0).estimate_for("power").estimate == pytest.approx(0.8, abs=1e-6)
    assert power_means(0.5, 64).estimate_for("power").estimate == pytest.approx(0.8015, abs=1e-4)


def test_design_effect_and_r2_scale_the_mde():
    assert design_effect(20, 0.05) == pytest.approx(1.95)
    base = mde_means(300, sd=10, test="normal").estimate_for("mde").estimate
    clus = mde_means(300, sd=10, icc=0.05, cluster_size=20, test="normal").estimate_for("mde").estimate
    adj = mde_means(300, sd=10, r2=0.36, test="normal").estimate_for("mde").estimate
    assert clus == pytest.approx(base * math.sqrt(1.95), rel=1e-9)
    assert adj == pytest.approx(base * 0.8, rel=1e-9)
    # t-test MDE is slightly above the normal one and converges for large n
    t_small = mde_means(20, sd=10).estimate_for("mde").estimate
    assert t_small > mde_means(20, sd=10, test="normal").estimate_for("mde").estimate
    # allocation: 1:2 with the same total beats nothing, 1:1 is optimal for a fixed total
    assert mde_means(300, 300).estimate_for("mde").estimate < mde_means(200, 400).estimate_for("mde").estimate


def test_did_factors():
    post = mde_means(300, sd=10, test="normal").estimate_for("mde").estimate
    for rho in (0.2, 0.5, 0.8):
        did = mde_did(300, sd=10, rho=rho, test="normal").estimate_for("mde").estimate
        anc = mde_did(300, sd=10, rho=rho, estimator="ancova", test="normal").estimate_for("mde").estimate
        assert did == pytest.approx(post * math.sqrt(2 * (1 - rho)), rel=1e-9)
        assert anc == pytest.approx(post * math.sqrt(1 - rho**2), rel=1e-9)
        assert anc <= did + 1e-12
    with pytest.raises(EstimationError):
        mde_did(300, rho=1.0)


def test_proportions_cohens_h():
    # Cohen (1988) ch. 6: h = phi1 - phi2 with phi = 2 asin(sqrt(p)); h(0.5, 0.3) = 0.4115
    assert cohens_h(0.5, 0.3) == pytest.approx(0.4115, abs=1e-4)
    res = mde_proportions(0.30, 300)
    h = res.estimate_for("mde_h").estimate
    expected_h = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * math.sqrt(2 / 300)
    assert h == pytest.approx(expected_h, rel=1e-5)
    p1 = res.estimate_for("p_treated").estimate
    assert cohens_h(p1, 0.30) == pytest.approx(h, rel=1e-9)
    assert power_proportions(p1, 0.30, 300).estimate_for("power").estimate == pytest.approx(0.8, abs=1e-4)
    down = mde_proportions(0.30, 300, direction="decrease").estimate_for("mde").estimate
    assert down < 0
    assert mde_proportions(0.30, 300, icc=0.05, cluster_size=11).estimate_for("mde").estimate > res.estimate_for("mde").estimate


def test_tidy_and_roundtrip():
    res = mde_means(300, sd=8, unit="uger")
    assert list(res.tidy().columns) == list(TIDY_COLUMNS)
    back = result_from_dict(res.to_dict())
    assert back.tidy().equals(res.tidy())
    assert res.diagnostics["n_treated"] == 300 and res.diagnostics["alpha"] == 0.05


def test_danish_sentence():
    res = mde_means(300, sd=8.4, unit="uger")
    mde = res.estimate_for("mde").estimate
    s = mde_sentence_da(res).replace("\u00a0", " ")
    assert s == (
        f"Med 300 personer i hver gruppe kunne undersøgelsen med 80 % sandsynlighed påvise en effekt på "
        f"{f'{mde:.1f}'.replace('.', ',')} uger eller mere."
    )
    s2 = mde_sentence_da(mde_means(300, 1200, sd=8.4), unit="kr.", decimals=0).replace("\u00a0", " ")
    assert s2.startswith("Med 300 personer i indsatsgruppen og 1.200 i sammenligningsgruppen") and "kr. eller mere." in s2
    s3 = mde_sentence_da(mde_proportions(0.3, 300, power=0.9)).replace("\u00a0", " ")
    assert "90 % sandsynlighed" in s3 and "procentpoint eller mere." in s3
    with pytest.raises(EstimationError):
        mde_sentence_da(power_means(1.0, 100))


def test_errors():
    with pytest.raises(EstimationError):
        mde_means(1)
    with pytest.raises(EstimationError):
        mde_means(100, alpha=1.5)
    with pytest.raises(EstimationError):
        mde_means(100, r2=1.0)
    with pytest.raises(EstimationError):
        mde_means(100, icc=0.1, cluster_size=0.5)
    with pytest.raises(EstimationError):
        mde_means(100, test="exact")
    with pytest.raises(EstimationError):
        mde_means(100, alternative="less")


# ---------------------------------------------------------------- the declared design: inputs from data, checked by simulation

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from evaluation.designs.did.estimators import CallawaySantAnna, DiD2x2  # noqa: E402
from evaluation.designs.randomized.estimator import RandomizedComparison  # noqa: E402
from evaluation.designs.power import design_inputs, estimate_icc, mde_for_design, power_for_design  # noqa: E402


def test_icc_estimator_balanced_anova_identity_and_recovery():
    rng = np.random.default_rng(0)
    k, m = 400, 10
    cl = np.repeat(np.arange(k), m)
    y = rng.normal(0, np.sqrt(0.1), k)[cl] + rng.normal(0, np.sqrt(0.9), k * m)
    # balanced: ICC = (MSB - MSW) / (MSB + (m - 1) MSW)
    means = pd.Series(y).groupby(cl).mean().to_numpy()
    msb = m * np.sum((means - y.mean()) ** 2) / (k - 1)
    msw = np.sum((y - means[cl]) ** 2) / (k * m - k)
    assert estimate_icc(y, cl) == pytest.approx((msb - msw) / (msb + (m - 1) * msw), rel=1e-12)
    assert abs(estimate_icc(y, cl) - 0.1) < 0.03
    assert estimate_icc(rng.normal(size=200), np.repeat(np.arange(20), 10)) < 0.15


def _trial(rng, n=400, effect=0.0, G=None):
    t = rng.random(n) < 0.5 if G is None else np.isin(np.arange(n) % G, rng.choice(G, G // 2, replace=False))
    x = rng.normal(size=n)
    u = 0.0 if G is None else rng.normal(0, 0.5, G)[np.arange(n) % G]
    y = 0.8 * x + u + rng.normal(size=n) + effect * t
    return pd.DataFrame({"group": np.where(t, "intervention", "control"), "y": y, "x": x, "c": np.arange(n) % G if G else 0})


def _simulated_power(design, make, term, reps=300):
    rej = 0
    for r in range(reps):
        e = design.fit(make(np.random.default_rng(700 + r))).estimate_for(term)
        rej += (e.ci_lower > 0) or (e.ci_upper < 0)
    return rej / reps


@pytest.mark.parametrize("case", ["unadjusted", "lin", "cluster"])
def test_mde_for_declared_randomized_design_gives_nominal_power_in_simulation(case):
    """The analytic MDE (inputs estimated from a pilot) is detected ~80 % of the time by the design's own test."""
    G = 40 if case == "cluster" else None
    kw = {"unadjusted": {}, "lin": {"covariates": ["x"]}, "cluster": {"cluster": "c"}}[case]
    design = RandomizedComparison(outcome="y", **kw)
    pilot = _trial(np.random.default_rng(1), n=4000, G=400 if G else None)
    inp = design_inputs(design, pilot)
    if case == "lin":
        assert inp["r2"] == pytest.approx(0.8**2 / (0.8**2 + 1), abs=0.03)
    if case == "cluster":
        # residual ICC: cluster variance 0.25 over 0.25 + 1 + 0.64 (x is not adjusted for here)
        assert inp["icc"] == pytest.approx(0.25 / (0.25 + 1.64), abs=0.05) and inp["cluster_size"] == 10
    n = 400  # the study: 200 + 200 persons (40 clusters of 10 when clustered)
    res = mde_for_design(design, pilot, n_treated=n / 2, n_control=n / 2, power=0.8)
    mde = res.estimate_for("mde").estimate
    assert res.diagnostics["design"] == "randomized_comparison" and res.diagnostics["n_treated"] == n / 2
    assert mde > mde_for_design(design, pilot).estimate_for("mde").estimate  # the pilot's own n is larger
    term = "adjusted_difference" if case == "lin" else "difference_in_means"
    sim = _simulated_power(design, lambda rng: _trial(rng, n=n, effect=mde, G=G), term)
    assert 0.72 <= sim <= 0.88, sim  # 300 draws: MC se 2.3 points
    pw = power_for_design(design, pilot, mde, n_treated=n / 2, n_control=n / 2).estimate_for("power").estimate
    assert pw == pytest.approx(0.8, abs=1e-3)


def test_mde_for_did_2x2_uses_the_before_after_correlation():
    rng = np.random.default_rng(3)
    n = 2000
    lvl = rng.normal(size=n)
    tr = rng.integers(0, 2, n)
    df = pd.DataFrame({"person": np.repeat(np.arange(n), 2), "post": np.tile([0, 1], n), "treated": np.repeat(tr, 2),
                       "y": (lvl[:, None] + rng.normal(0, 0.5, (n, 2))).ravel()})
    design = DiD2x2("y", group="treated", time="post", unit="person")
    inp = design_inputs(design, df)
    assert inp["rho"] == pytest.approx(1 / 1.25, abs=0.03)
    res = mde_for_design(design, df)
    assert res.estimate_for("mde").estimate == pytest.approx(
        mde_did(inp["n_treated"], inp["n_control"], sd=inp["sd"], rho=inp["rho"]).estimate_for("mde").estimate, rel=1e-12)
    pw = power_for_design(design, df, res.estimate_for("mde").estimate).estimate_for("power").estimate
    assert pw == pytest.approx(0.8, abs=1e-4)


def test_designs_without_an_analytic_mde_raise():
    df = pd.DataFrame({"person": [1, 1], "week": [1, 2], "cohort": [2, 2], "benefit": [0.1, 0.2]})
    with pytest.raises(EstimationError, match="evaluation diagnose"):
        mde_for_design(CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort"), df)
    with pytest.raises(EstimationError, match="panel"):
        mde_for_design(DiD2x2("y", group="g", time="t"), df)


def test_pipeline_mde_is_the_declared_designs():
    """The report's MDE uses the declared design (covariates' R² here), and a share of weeks is in procentpoint."""
    from evaluation.designs.randomized.estimator import RandomizedComparison
    from evaluation.designs.comparison import comparison_mde as _mde
    from evaluation.synthetic import simulate_sickness_trial

    df = simulate_sickness_trial(seed=126)
    plain = RandomizedComparison(outcome="sick_weeks_52")
    adjusted = RandomizedComparison(outcome="sick_weeks_52", covariates=["prior_sick_weeks_52"])
    a = _mde(plain.fit(df), "uger", plain, df)
    b = _mde(adjusted.fit(df), "uger", adjusted, df)
    assert b["mde"] < a["mde"] and "R²" in b["method"]
    assert b["mde"] == pytest.approx(mde_for_design(adjusted, df).estimate_for("mde").estimate)
    share = mde_means(200, sd=0.3, unit="andel")
    assert "procentpoint" in mde_sentence_da(share) and "andel" not in mde_sentence_da(share)


def test_no_mde_for_an_outcome_without_variation_in_the_comparison_group():
    """An all-zero binary outcome (e.g. nobody left benefits) or a constant measured outcome has no MDE;
    the report leaves it out instead of failing with a power-formula error that names no analysis."""
    import pandas as pd

    from evaluation.designs import RandomizedComparison
    from evaluation.designs.comparison import comparison_mde

    groups = ["intervention"] * 40 + ["control"] * 40
    zero = RandomizedComparison(outcome="y", outcome_type="binary").fit(pd.DataFrame({"group": groups, "y": [0] * 80}))
    const = RandomizedComparison(outcome="y").fit(pd.DataFrame({"group": groups, "y": [3.0] * 80}))
    assert comparison_mde(zero, "andel") is None
    assert comparison_mde(const, "uger") is None
    varied = RandomizedComparison(outcome="y").fit(pd.DataFrame({"group": groups, "y": [float(i % 7) for i in range(80)]}))
    assert comparison_mde(varied, "uger")["mde"] > 0
