"""Power / MDE functions against published tables (Cohen 1988, G*Power, Bloom 1995) and identities."""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats

from conftest import REFERENCE
from evaluation.exceptions import EstimationError
from evaluation.power import (
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
