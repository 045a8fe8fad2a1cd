"""Pre/post targets without a comparison group (design ``pre_post``): published values, recovery, contracts."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from evaluation.designs import get_design
from evaluation.designs.pre_post.estimator import PrePost, _estimates, paired_difference_newcombe
from evaluation.exceptions import DataValidationError, EstimationError
from evaluation.results import TIDY_COLUMNS
from evaluation.synthetic.prepost import simulate_pre_post, transition_probabilities

from conftest import REFERENCE

TERMS = ["baseline_level", "follow_up_level", "change", "relative_change"]


def _rows(counts: dict[tuple[int, int], int]) -> pd.DataFrame:
    """Person-level rows from paired counts {(baseline value, follow-up value): persons}."""
    rows, pid = [], 0
    for (vb, vf), k in counts.items():
        for _ in range(k):
            pid += 1
            rows += [{"id": pid, "period": "before", "y": vb}, {"id": pid, "period": "after", "y": vf}]
    return pd.DataFrame(rows)


def _independent(x_f: int, n_f: int, x_b: int, n_b: int) -> pd.DataFrame:
    y = [1] * x_b + [0] * (n_b - x_b) + [1] * x_f + [0] * (n_f - x_f)
    return pd.DataFrame({"period": ["before"] * n_b + ["after"] * n_f, "y": y})


# ---------------------------------------------------------------------------------------------- published values


def test_paired_mean_difference_matches_r_paired_t_test_on_sleep():
    ref = json.loads((REFERENCE / "r_ttest_sleep_paired.json").read_text())
    exp, tol = ref["paired_group1_minus_group2"], ref["tolerance"]
    df = pd.DataFrame(ref["data"])
    res = PrePost(outcome="extra", period="group", baseline=2, follow_up=1, unit="ID").fit(df)
    e = res.estimate_for("change")
    assert res.diagnostics["pairing"] == "paired"
    assert e.estimate == pytest.approx(exp["estimate"], abs=tol["estimate"])
    assert e.statistic == pytest.approx(exp["statistic"], abs=tol["statistic"])
    assert e.p_value == pytest.approx(exp["p_value"], abs=tol["p_value"])
    assert e.ci_lower == pytest.approx(exp["ci_lower"], abs=tol["ci"])
    assert e.ci_upper == pytest.approx(exp["ci_upper"], abs=tol["ci"])
    assert "paired t" in e.method and f"df = {exp['df']}" in e.method


def test_independent_mean_difference_matches_r_welch_on_sleep():
    ref = json.loads((REFERENCE / "r_ttest_sleep.json").read_text())
    exp, tol = ref["welch_group1_minus_group2"], ref["tolerance"]
    df = pd.DataFrame(ref["data"])  # no unit column: two independent measurements
    e = PrePost(outcome="extra", period="group", baseline=2, follow_up=1).fit(df).estimate_for("change")
    assert e.estimate == pytest.approx(exp["mean_group1"] - exp["mean_group2"], abs=1e-12)
    assert e.statistic == pytest.approx(exp["statistic"], abs=tol["statistic"])
    assert e.p_value == pytest.approx(exp["p_value"], abs=tol["p_value"])
    assert e.ci_lower == pytest.approx(exp["ci_lower"], abs=tol["ci"])
    assert e.ci_upper == pytest.approx(exp["ci_upper"], abs=tol["ci"])
    assert "Welch" in e.method and f"df = {exp['df']:.2f}" in e.method


def test_paired_shares_match_newcombe_method_10_as_published_by_fagerland():
    ref = json.loads((REFERENCE / "fagerland2017_paired_newcombe.json").read_text())
    t, tol = ref["table"], ref["tolerance"]
    d, lo, hi = paired_difference_newcombe(t["both"], t["row_only"], t["column_only"], t["neither"])
    assert (d, lo, hi) == pytest.approx((ref["estimate"], ref["ci_lower"], ref["ci_upper"]), abs=tol)
    # the same table through the design: follow-up = row, baseline = column
    df = _rows({(1, 1): t["both"], (0, 1): t["row_only"], (1, 0): t["column_only"], (0, 0): t["neither"]})
    res = PrePost(outcome="y", baseline="before", follow_up="after", unit="id").fit(df)
    e = res.estimate_for("change")
    assert res.diagnostics["pairing"] == "paired" and "method 10" in e.method and "paired" in e.method
    assert (e.estimate, e.ci_lower, e.ci_upper) == pytest.approx((ref["estimate"], ref["ci_lower"], ref["ci_upper"]), abs=tol)


def test_independent_shares_match_newcombe_1998_table_ii():
    ref = json.loads((REFERENCE / "newcombe1998_difference_hybrid_score.json").read_text())
    for c in ref["cases"]:
        df = _independent(c["x1"], c["n1"], c["x2"], c["n2"])  # follow-up = sample 1, baseline = sample 2
        res = PrePost(outcome="y", baseline="before", follow_up="after", outcome_type="binary").fit(df)
        e = res.estimate_for("change")
        assert e.ci_lower == pytest.approx(c["ci_lower"], abs=ref["tolerance"]), c
        assert e.ci_upper == pytest.approx(c["ci_upper"], abs=ref["tolerance"]), c
        assert "hybrid score" in e.method


def test_relative_change_of_independent_shares_is_katz_log_interval():
    df = _independent(56, 70, 48, 80)
    e = PrePost(outcome="y", baseline="before", follow_up="after").fit(df).estimate_for("relative_change")
    lo, hi = confint_proportions_2indep(56, 70, 48, 80, method="log", compare="ratio")
    assert e.estimate == pytest.approx((56 / 70) / (48 / 80) - 1)
    assert (e.ci_lower, e.ci_upper) == pytest.approx((lo - 1, hi - 1), rel=1e-10)
    assert "Katz" in e.method and "log ratio" in e.method


def test_paired_relative_change_uses_the_paired_log_ratio_variance():
    # delta method for paired shares: var(log p_f / p_b) = (b + c) / ((a + b)(a + c))
    a, b, c, d = 30, 12, 25, 60  # a both, b follow-up only, c baseline only
    df = _rows({(1, 1): a, (0, 1): b, (1, 0): c, (0, 0): d})
    e = PrePost(outcome="y", baseline="before", follow_up="after", unit="id").fit(df).estimate_for("relative_change")
    ratio = (a + b) / (a + c)
    se = math.sqrt((b + c) / ((a + b) * (a + c)))
    assert e.estimate == pytest.approx(ratio - 1)
    assert e.ci_lower == pytest.approx(ratio * math.exp(-1.959963984540054 * se) - 1, rel=1e-9)
    assert e.ci_upper == pytest.approx(ratio * math.exp(1.959963984540054 * se) - 1, rel=1e-9)


def test_levels_are_wilson_for_shares():
    df = _independent(56, 70, 48, 80)
    res = PrePost(outcome="y", baseline="before", follow_up="after").fit(df)
    from statsmodels.stats.proportion import proportion_confint

    for term, k, n in (("baseline_level", 48, 80), ("follow_up_level", 56, 70)):
        e = res.estimate_for(term)
        assert e.estimate == pytest.approx(k / n) and e.n == n
        assert (e.ci_lower, e.ci_upper) == pytest.approx(proportion_confint(k, n, method="wilson"))
        assert "Wilson" in e.method


# ---------------------------------------------------------------------------------------------- recovery


def _draw_binary(rng, n_both, n_bo, n_fo, pb, pf, persistence):
    stay, entry = transition_probabilities(pb, pf, persistence)
    yb2 = (rng.random(n_both) < pb).astype(float)
    yf2 = np.where(yb2 == 1, rng.random(n_both) < stay, rng.random(n_both) < entry).astype(float)
    yb = np.concatenate([yb2, (rng.random(n_bo) < pb).astype(float)])
    yf = np.concatenate([yf2, (rng.random(n_fo) < pf).astype(float)])
    return yb, yf, np.arange(n_both), np.arange(n_both)


def _draw_continuous(rng, n_both, n_bo, n_fo, mb, mf, rho):
    zb = rng.standard_normal(n_both)
    zf = rho * zb + math.sqrt(1 - rho ** 2) * rng.standard_normal(n_both)
    yb = np.concatenate([mb + 2 * zb, mb + 2 * rng.standard_normal(n_bo)])
    yf = np.concatenate([mf + 3 * zf, mf + 3 * rng.standard_normal(n_fo)])
    return yb, yf, np.arange(n_both), np.arange(n_both)


SCENARIOS = {
    # name: (binary, sizes (both, baseline only, follow-up only), levels, correlation, pairing)
    "binary_paired": (True, (250, 0, 0), (0.30, 0.22), 0.6, "paired"),
    "binary_independent": (True, (0, 250, 250), (0.30, 0.22), 0.6, "independent"),
    "binary_partially_paired": (True, (200, 80, 80), (0.30, 0.22), 0.6, "partially paired"),
    "continuous_paired": (False, (150, 0, 0), (10.0, 9.0), 0.6, "paired"),
    "continuous_independent": (False, (0, 150, 150), (10.0, 9.0), 0.6, "independent"),
    "continuous_partially_paired": (False, (120, 50, 50), (10.0, 9.0), 0.6, "partially paired"),
}
REPLICATIONS = 1000


def _simulate(binary, sizes, levels, corr, seed):
    rng = np.random.default_rng(seed)
    draw = _draw_binary if binary else _draw_continuous
    return rng, (lambda: draw(rng, *sizes, *levels, corr))


def test_core_is_what_the_design_fits():
    """The recovery study runs the estimator core on arrays; it must be exactly what ``fit`` computes."""
    for name, (binary, sizes, levels, corr, pairing) in SCENARIOS.items():
        _, draw = _simulate(binary, sizes, levels, corr, seed=11)
        yb, yf, ib, jf = draw()
        nb, nf = len(yb), len(yf)
        ids_b = [f"u{i}" for i in range(nb)]
        ids_f = [f"u{i}" if i < sizes[0] else f"v{i}" for i in range(nf)]
        df = pd.DataFrame({"unit": ids_b + ids_f, "period": ["b"] * nb + ["f"] * nf, "y": np.concatenate([yb, yf])})
        df = df.sample(frac=1.0, random_state=1)  # row order must not matter
        res = PrePost(outcome="y", baseline="b", follow_up="f", unit="unit").fit(df)
        assert res.diagnostics["pairing"] == pairing, name
        core = _estimates(yb, yf, ib, jf, binary, 0.95, ("b", "f"))
        got = res.tidy().set_index("term")
        for e in core:
            for col in ("estimate", "std_error", "ci_lower", "ci_upper"):
                assert got.loc[e.term, col] == pytest.approx(getattr(e, col), rel=1e-12, abs=1e-14), (name, e.term, col)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_recovers_known_change_with_nominal_coverage(name):
    binary, sizes, levels, corr, _ = SCENARIOS[name]
    truth = {"change": levels[1] - levels[0], "relative_change": levels[1] / levels[0] - 1}
    _, draw = _simulate(binary, sizes, levels, corr, seed=2024 + sorted(SCENARIOS).index(name))
    est = {t: [] for t in truth}
    cover = {t: [] for t in truth}
    for _ in range(REPLICATIONS):
        yb, yf, ib, jf = draw()
        rows = {e.term: e for e in _estimates(yb, yf, ib, jf, binary, 0.95, ("b", "f"))}
        for t, true in truth.items():
            e = rows[t]
            est[t].append(e.estimate)
            cover[t].append(e.ci_lower <= true <= e.ci_upper)
    for t, true in truth.items():
        x = np.asarray(est[t])
        mcse = x.std(ddof=1) / math.sqrt(len(x))
        assert abs(x.mean() - true) <= 4 * mcse, f"{name} {t}: bias {x.mean() - true:.5f} > 4 MC SE {mcse:.5f}"
        cov = float(np.mean(cover[t]))
        assert 0.93 <= cov <= 0.97, f"{name} {t}: 95 % coverage {cov:.3f}"


def test_ignoring_the_pairing_would_be_wrong():
    """With positive within-person correlation the paired interval is narrower than the independent one."""
    df = simulate_pre_post(n_both=600, n_baseline_only=0, n_follow_up_only=0, persistence=0.7, p_baseline=0.3,
                           p_follow_up=0.25, seed=5)
    paired = PrePost(outcome="on_ledighedsydelse", baseline="2016-06-30", follow_up="2018-03-31", unit="person_id").fit(df)
    indep = PrePost(outcome="on_ledighedsydelse", baseline="2016-06-30", follow_up="2018-03-31").fit(df)
    wp = paired.estimate_for("change").ci_upper - paired.estimate_for("change").ci_lower
    wi = indep.estimate_for("change").ci_upper - indep.estimate_for("change").ci_lower
    assert wp < 0.85 * wi
    assert paired.estimate_for("change").estimate == pytest.approx(indep.estimate_for("change").estimate)


# ---------------------------------------------------------------------------------------------- contracts


def _study_like():
    return simulate_pre_post(n_both=120, n_baseline_only=30, n_follow_up_only=40, seed=9)


def _design(**kw):
    spec = dict(outcome="on_ledighedsydelse", baseline="2016-06-30", follow_up="2018-03-31", unit="person_id")
    spec.update(kw)
    return PrePost(**spec)


def test_registered_with_evidence_level_1_and_tidy_columns():
    assert get_design("pre_post") is PrePost and PrePost.evidence_level == 1
    df = _study_like()
    before = df.copy(deep=True)
    res = _design().fit(df)
    pd.testing.assert_frame_equal(df, before)
    assert tuple(res.tidy().columns) == TIDY_COLUMNS
    assert list(res.tidy()["term"]) == TERMS
    assert res.design == "pre_post" and res.outcome_type == "binary"
    assert "no counterfactual" in res.estimand and "nothing about cause" in res.estimand
    assert all(e.method for e in res.estimates)
    ov = res.tables["overlap"].set_index("measured")["n"]
    assert (ov["both"], ov["baseline_only"], ov["follow_up_only"]) == (120, 30, 40)
    assert ov[[i for i in ov.index if i.startswith("both_")]].sum() == 120
    g = res.tables["groups"].set_index("group")
    assert g.loc["2016-06-30", "n"] == 150 and g.loc["2018-03-31", "n"] == 160


def test_other_periods_are_left_out_and_counted():
    df = _study_like()
    extra = df[df["period"] == "2018-03-31"].assign(period="2017-06-30")
    res = _design().fit(pd.concat([df, extra], ignore_index=True))
    assert res.diagnostics["n_rows_other_periods"] == len(extra)
    pd.testing.assert_frame_equal(res.tidy(), _design().fit(df).tidy())


def test_without_unit_or_overlap_the_samples_are_independent():
    df = _study_like()
    assert _design(unit=None).fit(df).diagnostics["pairing"] == "independent"
    df2 = df.copy()
    df2.loc[df2["period"] == "2018-03-31", "person_id"] += "x"
    assert _design().fit(df2).diagnostics["pairing"] == "independent"


@pytest.mark.parametrize("mutate, exc, match", [
    (lambda d: d.assign(period=d["period"].replace("2016-06-30", "2016-12-31")), DataValidationError, "baseline period '2016-06-30' does not occur"),
    (lambda d: d.assign(period=d["period"].where(d.index != 3)), DataValidationError, "period column 'period' has 1 missing"),
    (lambda d: d.assign(on_ledighedsydelse=d["on_ledighedsydelse"].astype(float).where(d.index != 7)), DataValidationError,
     r"missing value\(s\) in the baseline/follow-up rows 7;"),
    (lambda d: d.assign(on_ledighedsydelse=d["on_ledighedsydelse"].astype(str).replace("1", "ja")), DataValidationError, "must be numeric"),
    (lambda d: pd.concat([d, d.iloc[[0]]], ignore_index=True), DataValidationError, "measured more than once in the same period"),
    (lambda d: d.assign(person_id=d["person_id"].where(d.index != 2)), DataValidationError, "unit column 'person_id' has 1 missing"),
    (lambda d: d.drop(columns="period"), DataValidationError, "lacks the column"),
])
def test_bad_data_is_refused_with_a_clear_message(mutate, exc, match):
    with pytest.raises(exc, match=match):
        _design().fit(mutate(_study_like()))


def test_declared_binary_outcome_with_other_values_is_refused():
    df = _study_like().assign(on_ledighedsydelse=lambda d: d["on_ledighedsydelse"] * 2)
    with pytest.raises(DataValidationError, match="values other than 0/1"):
        _design(outcome_type="binary").fit(df)
    assert _design().fit(df).outcome_type == "continuous"


def test_bad_specification_and_options_raise():
    with pytest.raises(EstimationError, match="different periods"):
        PrePost(outcome="y", baseline="2015", follow_up=2015)
    with pytest.raises(EstimationError, match="baseline must be the label"):
        PrePost(outcome="y", baseline=None, follow_up="a")
    with pytest.raises(EstimationError, match="outcome_type"):
        PrePost(outcome="y", baseline="a", follow_up="b", outcome_type="share")
    with pytest.raises(EstimationError, match="different columns"):
        PrePost(outcome="y", baseline="a", follow_up="b", unit="y")
    with pytest.raises(TypeError, match="does not support"):
        _design().fit(_study_like(), seed=1)
    with pytest.raises(EstimationError, match="conf_level"):
        _design().fit(_study_like(), conf_level=95)
    tiny = _study_like()
    tiny = tiny[(tiny["period"] == "2016-06-30") | (tiny.index == tiny.index[-1])]
    with pytest.raises(EstimationError, match="at least 2"):
        _design().fit(tiny)


def test_relative_change_without_a_positive_baseline_has_no_interval():
    df = _independent(5, 50, 0, 50)
    e = PrePost(outcome="y", baseline="before", follow_up="after").fit(df).estimate_for("relative_change")
    assert math.isnan(e.estimate) and math.isnan(e.ci_lower) and "positive level" in e.method


def test_conf_level_changes_every_interval():
    df = _study_like()
    r95, r80 = _design().fit(df), _design().fit(df, conf_level=0.8)
    for t in TERMS:
        a, b = r95.estimate_for(t), r80.estimate_for(t)
        assert a.estimate == pytest.approx(b.estimate)
        assert b.ci_upper - b.ci_lower < a.ci_upper - a.ci_lower
    assert r80.conf_level == 0.8


# ---------------------------------------------------------------------------------------------- goal attainment


def _target_setup(goal_type, goal, direction, analysis_declared=True):
    from types import SimpleNamespace

    from evaluation.declaration.theory import Indicator, Target

    ind = Indicator(id="ly", outcome="o", label="Andel på ledighedsydelse", unit="andel",
                    metric={"name": "column", "params": {"column": "on_ledighedsydelse"}},
                    target=Target(goal=goal, goal_type=goal_type, direction=direction, baseline=0.153))
    study = SimpleNamespace(analyses=[SimpleNamespace(id="ly_pp", indicator="ly", design="pre_post")])
    declared = SimpleNamespace(analysis="ly_pp" if analysis_declared else None, observed=0.5, n_observed=10, baseline=None,
                               n_baseline=None, assessment=None, evidence=None)
    return ind, declared, study


@pytest.mark.parametrize("declared_link", [True, False])
def test_level_target_is_decided_by_the_follow_up_level_interval(declared_link):
    from evaluation.pipeline.targets import evaluate_target

    df = simulate_pre_post(seed=3)  # about 2,300 persons per date, true follow-up share 12.5 %
    res = PrePost(outcome="on_ledighedsydelse", baseline="2016-06-30", follow_up="2018-03-31", unit="person_id").fit(df)
    fu = res.estimate_for("follow_up_level")
    for goal, direction, expected in ((fu.ci_upper + 0.001, "decrease", "met"), (fu.ci_lower - 0.001, "decrease", "not_met"),
                                      (fu.estimate, "decrease", "undecidable"), (fu.ci_lower - 0.001, "increase", "met")):
        ind, declared, study = _target_setup("level", goal, direction, declared_link)
        tr = evaluate_target(ind, declared if declared_link else None, study, {"ly_pp": res})
        assert tr.status == expected, (goal, direction)
        e = tr.estimates[0]
        assert (e.estimate, e.ci_lower, e.ci_upper) == (fu.estimate, fu.ci_lower, fu.ci_upper)  # not the declared 0.5
        assert "pre/post analysis 'ly_pp'" in e.method and tr.diagnostics["analysis"] == "ly_pp"
        assert tr.estimate_for("change_from_baseline").estimate == res.estimate_for("change").estimate
        assert tr.baseline == pytest.approx(res.estimate_for("baseline_level").estimate)
        if expected == "undecidable":
            assert "sikkerhedsintervallet rummer både" in tr.reason


def test_relative_change_target_uses_the_relative_change_estimate():
    from evaluation.pipeline.targets import evaluate_target

    df = simulate_pre_post(seed=3)
    res = PrePost(outcome="on_ledighedsydelse", baseline="2016-06-30", follow_up="2018-03-31", unit="person_id").fit(df)
    rc = res.estimate_for("relative_change")
    ind, declared, study = _target_setup("relative_change", -0.04, "decrease")  # "fall by at least 4 %"
    tr = evaluate_target(ind, declared, study, {"ly_pp": res})
    assert tr.estimates[0].estimate == rc.estimate and tr.observed == rc.estimate
    assert tr.status == ("met" if rc.ci_upper <= -0.04 else "undecidable" if rc.ci_lower <= -0.04 else "not_met")


def test_target_of_a_pre_post_analysis_without_result_is_undecidable_with_reason():
    from evaluation.pipeline.targets import evaluate_target

    ind, declared, study = _target_setup("level", 0.13, "decrease")
    tr = evaluate_target(ind, declared, study, {})
    assert tr.status == "undecidable" and "«ly_pp» foreligger ikke" in tr.reason
    assert tr.diagnostics["undecided_because"] == "no_result"
    # a suppressed (disclosure-controlled) result is undecidable too
    df = simulate_pre_post(seed=3)
    res = PrePost(outcome="on_ledighedsydelse", baseline="2016-06-30", follow_up="2018-03-31").fit(df)
    import dataclasses

    from evaluation.results import Estimate

    hidden = dataclasses.replace(res, estimates=tuple(Estimate(term=e.term, estimate=float("nan"), n=e.n, method=e.method)
                                                      for e in res.estimates))
    tr2 = evaluate_target(ind, declared, study, {"ly_pp": hidden})
    assert tr2.status == "undecidable" and "diskretioneret" in tr2.reason


# ---------------------------------------------------------------------------------------------- study, disclosure, report


def test_small_status_change_cells_suppress_every_estimate():
    import warnings

    from evaluation.designs.family import AnalysisInput, get_family
    from evaluation.disclosure import SuppressionLog

    fam = get_family("pre_post")

    def _disclose_effect(result, aid, threshold, log):
        inp = AnalysisInput(id=aid, design="pre_post", options=fam.Options(baseline="before", follow_up="after", unit="id"),
                            fit=fam.Fit(), outcome="y", frame=None, threshold=threshold)
        return fam.disclose(result, inp, log)

    df = _rows({(1, 1): 30, (0, 1): 3, (1, 0): 25, (0, 0): 60})  # 3 persons entered the status: below 5
    res = PrePost(outcome="y", baseline="before", follow_up="after", unit="id").fit(df)
    log = SuppressionLog(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = _disclose_effect(res, "pp", 5, log)
    assert all(math.isnan(e.estimate) for e in out.estimates)
    ov = out.tables["overlap"].set_index("measured")["n"]
    assert math.isnan(ov["both_baseline_0_follow_up_1"]) and log.to_list()
    big = _disclose_effect(PrePost(outcome="y", baseline="before", follow_up="after", unit="id").fit(
        _rows({(1, 1): 30, (0, 1): 13, (1, 0): 25, (0, 0): 60})), "pp", 5, SuppressionLog(5))
    assert not any(math.isnan(e.estimate) for e in big.estimates)


def test_fleksjob_study_reports_the_change_without_effect_wording(study_tree, tmp_path):
    from evaluation.pipeline.run import run_study
    from evaluation.reporting.quarto import report_markdown
    from evaluation.results import read_bundle

    bundle = read_bundle(run_study(study_tree("udvikling-af-fleksjob"), tmp_path / "results", figures=False) / "results.json")
    (a,) = [x for x in bundle["analyses"] if x["design"] == "pre_post"]
    terms = {e["term"]: e for e in a["result"]["estimates"]}
    assert terms["baseline_level"]["estimate"] == pytest.approx(334 / 2180)
    assert terms["follow_up_level"]["estimate"] == pytest.approx(282 / 2301)
    assert a["result"]["diagnostics"]["pairing"] == "partially paired" and a["result"]["evidence_level"] == 1
    (t,) = [x for x in bundle["targets"] if x["indicator"] == "andel_ledighedsydelse"]
    assert t["result"]["diagnostics"]["analysis"] == "ledighedsydelse_foer_efter"
    fu = terms["follow_up_level"]
    # the whole municipality's scheme is counted (census: true): the level itself decides, without an interval
    expected = "met" if fu["estimate"] <= 0.13 else "not_met"
    assert t["result"]["status"] == expected and "totaltælling" in t["result"]["reason"]
    assert t["result"]["diagnostics"]["census"] is True and t["result"]["estimates"][0]["ci_lower"] is None
    md = report_markdown(bundle)
    head = md.split("# Hovedresultater", 1)[1].split("# Projektet", 1)[0]
    assert "faldt fra 15,3" in head and "95\u00a0%-sikkerhedsinterval" in head
    assert "ingen sammenligningsgruppe" in head and "siger ikke noget om årsag" in head
    assert "effekt" not in head.lower().replace("effektiv", "")
    assert "# Udvikling før og efter" in md and "# Effekter" not in md
    from evaluation.presentation.targets import status_label

    assert "Evidensniveau 1 af 5" in md
    goals = md.split("# Målopfyldelse", 1)[1].split("# Forbehold", 1)[0]
    assert f"**{status_label(expected)}**" in goals.split("\n")[[i for i, x in enumerate(goals.split("\n"))
                                                                  if x.startswith("| Andel af personer i fleks")][0]]
    assert "procentpoint |" not in md.split("# Målopfyldelse", 1)[1].split("\n\n- ", 1)[0]  # levels are in %
