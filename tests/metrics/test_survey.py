"""Survey scoring: distributions, shares, response rates, reliability, unit comparisons, weighting,
the synthetic brugermåling and the diverging Likert chart. Numerical truth from tests/reference/."""

from __future__ import annotations

import doctest
import itertools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.exceptions import DataValidationError, EstimationError, ReliabilityWarning, StudyConfigError
from evaluation.metrics import survey
from evaluation.metrics.scales import LikertScale, get_scale
from evaluation.metrics.survey import (
    compare_units,
    cronbach_alpha,
    distribution,
    item_mean,
    response_rate,
    scale_score,
    top_box_share,
    validate_answers,
    weighted_top_box,
)
from evaluation.results import TIDY_COLUMNS, result_from_dict
from evaluation.synthetic import brugermaaling as synth
from evaluation.synthetic.brugermaaling import ITEMS, PUBLISHED_TOP_BOX, percent_half_up, simulate_brugermaaling

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path(__file__).resolve().parents[1] / "reference"
SYNTH_DIR = ROOT / "data" / "synthetic" / "brugermaaling-jobcenter-aalborg"
S5 = get_scale("brugermaaling-5")


def load_ref(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def synthetic():
    return simulate_brugermaaling()


def two_units(x1, n1, x2, n2):
    """Answers for units A and B with x top-box answers (5) and n - x others (2)."""
    rows = ([("A", 5)] * x1 + [("A", 2)] * (n1 - x1) + [("B", 5)] * x2 + [("B", 2)] * (n2 - x2))
    return pd.DataFrame(rows, columns=["unit", "q"])


# ------------------------------------------------------------------ validation, distribution
def test_out_of_scale_answers_error_names_columns_rows_and_count():
    df = pd.DataFrame({
        "q1": [5, 6, 4, 0, 3, 7, 1, 6, 6, 6],
        "q2": ["5", "4", "x", "", "9", "8", " 3 ", "Ja, i høj grad", "4.5", None],
        "q3": [1, 2, 3, 4, 5, 9, 8, None, 1, 2],
    }, index=range(100, 110))
    with pytest.raises(DataValidationError) as err:
        validate_answers(df, ["q1", "q2", "q3"], S5)
    msg = str(err.value)
    assert "column 'q1'" in msg and "column 'q2'" in msg and "'q3'" not in msg
    assert "101 (6)" in msg and "103 (0)" in msg  # index labels with the value
    assert "(6 rows in all)" in msg  # q1 has six bad rows, five shown
    assert "102 ('x')" in msg and "108 ('4.5')" in msg and "(2 rows)" in msg
    assert "brugermaaling-5" in msg


def test_validate_answers_accepts_codes_strings_labels_and_blanks_without_touching_input():
    df = pd.DataFrame({"q": ["5", " 4 ", "", None, "9", "8", "både-og", 1], "other": range(8)})
    before = df.copy(deep=True)
    out = validate_answers(df, "q", S5)
    assert out["q"].tolist() == [5, 4, pd.NA, pd.NA, pd.NA, pd.NA, 3, 1]
    assert str(out["q"].dtype) == "Int64"
    kept = validate_answers(df, "q", S5, keep_missing_codes=True)
    assert kept["q"].tolist() == [5, 4, pd.NA, pd.NA, 9, 8, 3, 1]
    pd.testing.assert_frame_equal(df, before)
    assert out["other"].tolist() == list(range(8))


def test_missing_column_is_a_named_error():
    with pytest.raises(DataValidationError, match="no column.*'nope'"):
        top_box_share(pd.DataFrame({"q": [5]}), "nope", S5)


def test_unused_category_appears_with_zero_and_missing_are_counted():
    df = pd.DataFrame({"q": [5, 5, 4, 4, 4, 9, 9, 8, None, 1], "hus": list("AAAAABBBBB")})
    d = distribution(df, "q", S5)
    valid = d[d["kind"] == "valid"].set_index("code")
    assert list(valid.index) == [1, 2, 3, 4, 5]
    assert valid["count"].tolist() == [1, 0, 0, 3, 2]  # 2 and 3 never chosen, still shown
    assert valid["share"].tolist() == pytest.approx([1 / 6, 0, 0, 3 / 6, 2 / 6])
    miss = d[d["kind"] == "missing"]
    assert miss["label"].tolist() == ["Ved ikke", "To krydser", "Ikke besvaret"]
    assert miss["count"].tolist() == [2, 1, 1]
    assert (d["n_valid"] == 6).all() and (d["n_missing"] == 4).all()
    # by group: every category for every group, also a group where nobody chose 5
    g = distribution(df, "q", S5, by="hus")
    assert len(g) == 2 * (5 + 3)
    b = g[(g["hus"] == "B") & (g["kind"] == "valid")]
    assert b["count"].tolist() == [1, 0, 0, 0, 0]
    assert b["n_valid"].iloc[0] == 1


def test_grouping_column_with_missing_values_is_an_error():
    df = pd.DataFrame({"q": [5, 4], "hus": ["A", None]})
    with pytest.raises(DataValidationError, match="'hus'.*rows 1"):
        top_box_share(df, "q", S5, by="hus")


# --------------------------------------------------------------------------- top box, mean
@pytest.mark.parametrize("case", load_ref("newcombe1998_single_proportion_wilson.json")["cases"])
def test_top_box_wilson_matches_newcombe_1998_table(case):
    tol = load_ref("newcombe1998_single_proportion_wilson.json")["tolerance"]
    df = pd.DataFrame({"q": [4] * case["x"] + [1] * (case["n"] - case["x"]) + [9] * 3})
    e = top_box_share(df, "q", S5).estimate_for("share_top_box")
    assert e.n == case["n"]  # the three "Ved ikke" leave the denominator
    assert e.estimate == pytest.approx(case["x"] / case["n"])
    assert abs(e.ci_lower - case["ci_lower"]) <= tol
    assert abs(e.ci_upper - case["ci_upper"]) <= tol
    assert e.method == "share in top box (4–5), Wilson score interval"


def test_top_box_by_group_other_methods_and_vocabulary(synthetic):
    answers, _ = synthetic
    r = top_box_share(answers, "tro_paa_job", S5, by="hus", method="clopper_pearson")
    t = r.tidy()
    assert list(t.columns) == list(TIDY_COLUMNS)
    assert t["term"].iloc[0] == "share_top_box"
    assert "share_top_box[hus=Jobhuset]" in set(t["term"])
    assert t["n"].iloc[1:].sum() == t["n"].iloc[0]
    j = r.estimate_for("share_top_box[hus=Jobhuset]")
    sub = answers.loc[answers["hus"] == "Jobhuset", "tro_paa_job"]
    x, n = int(sub.isin([4, 5]).sum()), int(sub.isin([1, 2, 3, 4, 5]).sum())
    lo, hi = stats.beta.ppf([0.025, 0.975], [x, x + 1], [n - x + 1, n - x])
    assert (j.ci_lower, j.ci_upper) == pytest.approx((lo, hi), abs=1e-9)
    assert "Clopper–Pearson" in j.method
    back = result_from_dict(json.loads(json.dumps(r.to_dict())))
    pd.testing.assert_frame_equal(back.tidy(), t)
    with pytest.raises(StudyConfigError, match="unknown interval method"):
        top_box_share(answers, "tro_paa_job", S5, method="exact")
    with pytest.raises(StudyConfigError, match="conf_level"):
        top_box_share(answers, "tro_paa_job", S5, conf_level=95)


def test_item_mean_t_interval():
    x = [5, 4, 4, 3, 2, 5, 5, 1]
    df = pd.DataFrame({"q": x + [9, None]})
    e = item_mean(df, "q", S5, conf_level=0.9).estimate_for("mean")
    m, se = np.mean(x), np.std(x, ddof=1) / math.sqrt(len(x))
    t = stats.t.ppf(0.95, len(x) - 1)
    assert e.n == 8 and e.estimate == pytest.approx(m)
    assert (e.ci_lower, e.ci_upper) == pytest.approx((m - t * se, m + t * se))
    r = item_mean(df, "q", S5, reverse=True).estimate_for("mean")
    assert r.estimate == pytest.approx(6 - m)


# ---------------------------------------------------------------------------- response rate
def test_response_rate_total_and_by_unit(synthetic):
    from statsmodels.stats.proportion import proportion_confint

    answers, planned = synthetic
    r = response_rate(answers, planned, by="hus")
    total = r.estimate_for("response_rate")
    assert total.n == 2070 and total.estimate == pytest.approx(1032 / 2070)
    assert (total.ci_lower, total.ci_upper) == pytest.approx(proportion_confint(1032, 2070, method="wilson"))
    u = r.estimate_for("response_rate[hus=Job- og Aktivhuset]")
    assert u.estimate == pytest.approx((162 + 92) / (380 + 210)) and u.n == 590
    assert {"hus": "Job- og Aktivhuset"} in r.diagnostics["units_below"]
    assert {"hus": "Jobhuset"} not in r.diagnostics["units_below"]
    tab = r.tables["by_group"]
    assert tab["answers"].sum() == 1032 and tab["planned"].sum() == 2070
    assert list(r.tidy().columns) == list(TIDY_COLUMNS)
    assert response_rate(1032, 2070).estimate_for("response_rate").estimate == pytest.approx(total.estimate)


def test_response_rate_errors():
    planned = pd.DataFrame({"hus": ["A", "B"], "planned": [10, 5]})
    with pytest.raises(DataValidationError, match="6 answers but only 5"):
        response_rate(pd.DataFrame({"hus": ["B"] * 6}), planned, by="hus")
    with pytest.raises(DataValidationError, match="no planned meetings"):
        response_rate(pd.DataFrame({"hus": ["C"]}), planned, by="hus")
    with pytest.raises(DataValidationError, match="11 answers"):
        response_rate(11, 10)
    # a unit with planned meetings but no answers has rate 0, it is not dropped
    r = response_rate(pd.DataFrame({"hus": ["A"] * 4}), planned, by="hus")
    assert r.estimate_for("response_rate[hus=B]").estimate == 0.0


# ------------------------------------------------------------------------------ reliability
@pytest.mark.parametrize("case", load_ref("pingouin_cronbach_alpha.json")["cases"])
def test_cronbach_alpha_matches_pingouin_documented_values(case):
    ref = load_ref("pingouin_cronbach_alpha.json")
    data = pd.read_csv(REFERENCE / case["dataset"], encoding="utf-8-sig")
    if case["format"] == "long":
        data = data.pivot(index="Subj", columns="Items", values="Scores")
        scale = LikertScale.custom("score-7", codes=range(1, 8), labels=[str(i) for i in range(1, 8)], top_box=[6, 7])
    else:
        scale = LikertScale.custom("binary", codes=[0, 1], labels=["Nej", "Ja"], top_box=[1])
    items = list(data.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReliabilityWarning)
        r = cronbach_alpha(data, items, scale, nan_policy=case["nan_policy"])
    e = r.estimate_for("cronbach_alpha")
    assert e.estimate == pytest.approx(case["alpha"], abs=ref["alpha_tolerance"])
    k = len(items)
    if "n_feldt_pingouin" in case:
        # pingouin's documented listwise interval uses n before deletion; our Feldt formula reproduces it ...
        lo, hi = survey._feldt(case["alpha"], case["n_feldt_pingouin"], k, 0.95)
        assert abs(lo - case["ci_lower"]) <= ref["ci_tolerance"] and abs(hi - case["ci_upper"]) <= ref["ci_tolerance"]
        # ... while we report the interval for the respondents actually analysed
        assert e.n == case["n_complete"]
        assert (e.ci_lower, e.ci_upper) == pytest.approx(survey._feldt(case["alpha"], case["n_complete"], k, 0.95))
        assert e.ci_lower < case["ci_lower"]  # fewer respondents, wider interval
    else:
        assert abs(e.ci_lower - case["ci_lower"]) <= ref["ci_tolerance"]
        assert abs(e.ci_upper - case["ci_upper"]) <= ref["ci_tolerance"]
    assert "Feldt" in e.method and case["nan_policy"] in e.method
    assert list(r.tables["items"]["item"]) == items


def _scale_with_negative_item(n=300, seed=3):
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=n)
    cols = {}
    for i in range(4):
        cols[f"q{i}"] = np.clip(np.round(3 + 1.1 * trait + 0.7 * rng.normal(size=n)), 1, 5).astype(int)
    cols["neg"] = np.clip(np.round(3 - 1.1 * trait + 0.7 * rng.normal(size=n)), 1, 5).astype(int)
    return pd.DataFrame(cols)


def test_reverse_key_warning_names_the_item_and_goes_away_when_declared():
    df = _scale_with_negative_item()
    items = list(df.columns)
    with pytest.warns(ReliabilityWarning, match=r"'neg' \(r = -0\.\d\d\).*reverse"):
        r = cronbach_alpha(df, items, S5)
    tab = r.tables["items"].set_index("item")
    assert tab.loc["neg", "item_rest_correlation"] < 0
    assert (tab.drop("neg")["item_rest_correlation"] > 0).all()
    assert r.diagnostics["warnings"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReliabilityWarning)
        fixed = cronbach_alpha(df, items, S5, reverse_items=["neg"])
    assert fixed.estimate_for("cronbach_alpha").estimate > r.estimate_for("cronbach_alpha").estimate + 0.3
    assert bool(fixed.tables["items"].set_index("item").loc["neg", "reverse_keyed"])
    # alpha if deleted equals alpha of the scale without that item
    without = cronbach_alpha(df, items[:-1], S5).estimate_for("cronbach_alpha").estimate
    assert fixed.tables["items"].set_index("item").loc["neg", "alpha_if_deleted"] == pytest.approx(without)


def test_cronbach_alpha_errors():
    df = _scale_with_negative_item(n=5)
    with pytest.raises(EstimationError, match="at least two items"):
        cronbach_alpha(df, ["q0"], S5)
    with pytest.raises(StudyConfigError, match="reverse_items"):
        cronbach_alpha(df, ["q0", "q1"], S5, reverse_items=["neg"])
    with pytest.raises(StudyConfigError, match="nan_policy"):
        cronbach_alpha(df, ["q0", "q1"], S5, nan_policy="drop")


def test_scale_score_reverse_keys_and_min_items():
    df = pd.DataFrame({"a": [5, 4, 9, 2], "b": [1, 9, 9, 4], "c": [4, 5, 9, None], "d": [5, 5, 3, 9]})
    before = df.copy(deep=True)
    s = scale_score(df, ["a", "b", "c", "d"], S5, reverse_items=["b"])
    # row 0: 5, 5 (b=1 reversed), 4, 5 ; row 1: 4, -, 5, 5 ; row 2: only d=3 (< 2 items) ; row 3: 2, 2, -, -
    assert s.tolist()[:2] == pytest.approx([19 / 4, 14 / 3])
    assert math.isnan(s.iloc[2]) and s.iloc[3] == pytest.approx(2.0)
    s3 = scale_score(df, ["a", "b", "c", "d"], S5, min_items=3, reverse_items=["b"])
    assert math.isnan(s3.iloc[3]) and s3.iloc[1] == pytest.approx(14 / 3)
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(StudyConfigError, match="min_items"):
        scale_score(df, ["a", "b"], S5, min_items=3)


# ------------------------------------------------------------------------- unit comparisons
@pytest.mark.parametrize("case", load_ref("newcombe1998_difference_hybrid_score.json")["cases"])
def test_pairwise_difference_matches_newcombe_1998_method_10(case):
    tol = load_ref("newcombe1998_difference_hybrid_score.json")["tolerance"]
    df = two_units(case["x1"], case["n1"], case["x2"], case["n2"])
    r = compare_units(df, "q", S5, "unit")
    e = r.estimate_for("difference_top_box[A - B]")
    assert e.estimate == pytest.approx(case["x1"] / case["n1"] - case["x2"] / case["n2"])
    assert abs(e.ci_lower - case["ci_lower"]) <= tol
    assert abs(e.ci_upper - case["ci_upper"]) <= tol
    assert "Newcombe" in e.method


def test_compare_units_holm_correction_and_overall_tests():
    counts = {"A": (40, 60), "B": (30, 60), "C": (45, 60), "D": (20, 60)}
    rows = []
    for u, (x, n) in counts.items():
        rows += [(u, 5)] * (x // 2) + [(u, 4)] * (x - x // 2) + [(u, 3)] * ((n - x) // 2) + [(u, 1)] * (n - x - (n - x) // 2)
    df = pd.DataFrame(rows, columns=["hus", "q"])
    r = compare_units(df, "q", S5, "hus")
    pw = r.tables["pairwise"]
    assert len(pw) == 6
    raw = []
    for a, b in itertools.combinations("ABCD", 2):
        (xa, na), (xb, nb) = counts[a], counts[b]
        tab = np.array([[xa, na - xa], [xb, nb - xb]])
        raw.append(stats.chi2_contingency(tab, correction=False)[1])
    assert pw["p_value_raw"].to_numpy() == pytest.approx(raw, rel=1e-9)
    # Holm by hand: sort, multiply by (m - rank), running maximum, cap at 1
    m = len(raw)
    order = np.argsort(raw)
    holm = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * raw[idx]))
        holm[idx] = running
    assert pw["p_value"].to_numpy() == pytest.approx(holm, rel=1e-9)
    assert not np.allclose(holm, raw)  # the correction did something
    e = r.estimate_for("difference_top_box[A - D]")
    assert e.p_value == pytest.approx(holm[2]) and "Holm" in e.method
    # overall tests
    table = np.array([[x, n - x] for x, n in counts.values()])
    chi = r.estimate_for("chi_square_top_box")
    assert chi.statistic == pytest.approx(stats.chi2_contingency(table, correction=False)[0])
    assert chi.n == 240 and "df = 3" in chi.method
    kw = r.estimate_for("kruskal_wallis")
    ref = stats.kruskal(*[df.loc[df["hus"] == u, "q"] for u in "ABCD"])
    assert (kw.statistic, kw.p_value) == pytest.approx((ref.statistic, ref.pvalue))
    assert list(r.tidy().columns) == list(TIDY_COLUMNS)
    # no adjustment and a reference unit
    r0 = compare_units(df, "q", S5, "hus", p_adjust="none", reference="A")
    assert len(r0.tables["pairwise"]) == 3
    assert set(r0.tables["pairwise"]["unit_b"]) == {"A"}
    assert r0.tables["pairwise"]["p_value"].tolist() == r0.tables["pairwise"]["p_value_raw"].tolist()


def test_compare_units_works_for_waves_and_checks_units():
    df = pd.concat([two_units(50, 80, 60, 80).assign(aar=lambda d: d["unit"].map({"A": 2016, "B": 2017}))])
    r = compare_units(df, "q", S5, "aar")
    assert r.estimate_for("difference_top_box[2016 - 2017]").estimate == pytest.approx(50 / 80 - 60 / 80)
    with pytest.raises(DataValidationError, match="2015"):
        compare_units(df, "q", S5, "aar", units=[2015, 2016])
    with pytest.raises(EstimationError, match="at least two units"):
        compare_units(df, "q", S5, "aar", units=[2016])
    only_missing = pd.DataFrame({"aar": [2016, 2016, 2017], "q": [5, 4, 9]})
    with pytest.raises(EstimationError, match="2017.*no valid answers"):
        compare_units(only_missing, "q", S5, "aar")


# ----------------------------------------------------------------------- weighted top box
def test_weighted_top_box_by_hand():
    # class A: 4 answers of 10 planned (weight 2.5), 3 in top box; class B: 2 of 2 (weight 1), 0 in top box
    df = pd.DataFrame({"k": ["A"] * 4 + ["B"] * 2 + ["A"], "q": [5, 4, 5, 1, 2, 1, 9]})
    planned = {"A": 10, "B": 2}
    r = weighted_top_box(df, "q", S5, "k", planned)
    w_a = 10 / 5  # 5 returned questionnaires in A (one answered "Ved ikke")
    w = np.array([w_a] * 4 + [1.0] * 2)
    y = np.array([1, 1, 1, 0, 0, 0], dtype=float)
    pw = np.sum(w * y) / np.sum(w)
    var = 6 / 5 * np.sum((w * (y - pw)) ** 2) / np.sum(w) ** 2
    e = r.estimate_for("share_top_box_weighted")
    assert e.estimate == pytest.approx(pw) and e.std_error == pytest.approx(math.sqrt(var))
    assert r.estimate_for("share_top_box_unweighted").estimate == pytest.approx(0.5)
    n_eff = pw * (1 - pw) / var
    lo, hi = survey._wilson_float(pw, n_eff, 0.95)
    assert (e.ci_lower, e.ci_upper) == pytest.approx((lo, hi))
    assert "effective sample size" in e.method
    lin = weighted_top_box(df, "q", S5, "k", planned, method="linearisation").estimate_for("share_top_box_weighted")
    assert (lin.ci_lower, lin.ci_upper) == pytest.approx((pw - 1.959964 * math.sqrt(var), min(1, pw + 1.959964 * math.sqrt(var))), abs=1e-5)


def test_wilson_float_equals_statsmodels_for_integer_counts():
    from statsmodels.stats.proportion import proportion_confint

    assert survey._wilson_float(81 / 263, 263, 0.95) == pytest.approx(proportion_confint(81, 263, method="wilson"))


def test_weighted_equals_unweighted_when_response_is_proportional(synthetic):
    answers, _ = synthetic
    per_class = answers.groupby(["hus", "samtaletype"]).size().reset_index(name="n")
    planned = per_class.assign(planned=per_class["n"] * 2)[["hus", "samtaletype", "planned"]]
    r = weighted_top_box(answers, "overblik", S5, ["hus", "samtaletype"], planned)
    assert r.estimate_for("share_top_box_weighted").estimate == pytest.approx(r.estimate_for("share_top_box_unweighted").estimate)
    assert r.diagnostics["kish_effective_n"] == pytest.approx(r.estimate_for("share_top_box_weighted").n)


def test_weighted_top_box_on_synthetic_differs_and_errors(synthetic):
    answers, planned = synthetic
    r = weighted_top_box(answers, "tro_paa_job", S5, ["hus", "samtaletype"], planned)
    cls = r.tables["classes"]
    assert cls["planned"].sum() == 2070 and cls["answers"].sum() == 1032
    assert r.estimate_for("share_top_box_weighted").estimate != pytest.approx(r.estimate_for("share_top_box_unweighted").estimate)
    with pytest.raises(EstimationError, match="no answers"):
        weighted_top_box(answers, "tro_paa_job", S5, "hus", {**{h: 1000 for h in synth.HOUSES}, "Ny enhed": 10})
    with pytest.raises(DataValidationError, match="no planned meetings"):
        weighted_top_box(answers, "tro_paa_job", S5, "hus", {"Jobhuset": 1000})
    with pytest.raises(DataValidationError, match="only 10 planned"):
        weighted_top_box(answers, "tro_paa_job", S5, "hus", {h: 10 for h in synth.HOUSES})


# ------------------------------------------------------------------------- synthetic data
@pytest.mark.parametrize("seed", [synth.DEFAULT_SEED, 1, 99])
def test_synthetic_matches_published_top_box_shares_exactly(seed):
    answers, planned = simulate_brugermaaling(seed=seed)
    assert len(answers) == 1032 and planned["planned"].sum() == 2070 and planned["answers"].sum() == 1032
    assert set(answers["hus"]) == {"Jobhuset", "Job- og Aktivhuset", "Sygedagpengehuset", "Uddannelseshuset"}
    assert set(answers["samtaletype"]) == {"myndighed", "udfører"}
    for item, pct in PUBLISHED_TOP_BOX.items():
        share = top_box_share(answers, item, S5).estimate_for("share_top_box").estimate
        assert percent_half_up(share) == pct, item
    counts = answers.groupby(["hus", "samtaletype"]).size()
    for h, t, _p, a in synth.CELLS:
        assert counts[(h, t)] == a
    validate_answers(answers, list(ITEMS), S5)  # every code is on the scale


def test_synthetic_is_deterministic_has_house_variation_and_matches_shipped_files(synthetic):
    answers, planned = synthetic
    again, _ = simulate_brugermaaling()
    pd.testing.assert_frame_equal(answers, again)
    other, _ = simulate_brugermaaling(seed=1)
    assert not answers[list(ITEMS)].equals(other[list(ITEMS)])
    by_house = top_box_share(answers, "tro_paa_job", S5, by="hus").tables["by_group"]["estimate"]
    assert by_house.max() - by_house.min() > 0.1
    assert set(answers["tilfreds"].dropna().unique()) >= {1, 2, 3, 4, 5, 9}
    shipped = pd.read_csv(SYNTH_DIR / "answers.csv")
    assert list(shipped.columns) == list(answers.columns)
    for item in ITEMS:
        assert shipped[item].astype("Int64").tolist() == answers[item].tolist()
    pd.testing.assert_frame_equal(pd.read_csv(SYNTH_DIR / "planned.csv"), planned)
    assert len(ITEMS) == 9 and all(text.endswith("?") for text in ITEMS.values())


def test_cronbach_on_synthetic_has_no_warning(synthetic):
    answers, _ = synthetic
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReliabilityWarning)
        r = cronbach_alpha(answers, list(ITEMS), S5, nan_policy="listwise")
    assert 0.6 < r.estimate_for("cronbach_alpha").estimate < 0.98


# ------------------------------------------------------------------------------ the figure
def test_diverging_likert_chart(synthetic):
    from matplotlib.figure import Figure

    from evaluation.designs.survey.figures import diverging_likert_chart

    answers, _ = synthetic
    d = distribution(answers, list(ITEMS), S5)
    n = d.groupby("item")["n_valid"].first().to_dict()
    fig = diverging_likert_chart(d, S5, ITEMS, n, response_rate=1032 / 2070)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "n = 1.003\nsvarprocent 50\u00a0%" in texts  # tro_paa_job: Danish thousands separator
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "25\u00a0%" in ticks and "0\u00a0%" in ticks
    assert survey_fmt(-0.125) == "12,5\u00a0%"  # decimal comma
    # neutral bar of every item is centred on 0 (grey patches)
    grey = [p for p in ax.patches if np.allclose(p.get_facecolor()[:3], (0.78, 0.78, 0.78))]
    assert len(grey) == 9
    for p in grey:
        assert p.get_x() + p.get_width() / 2 == pytest.approx(0.0, abs=1e-12)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == list(S5.labels)
    import matplotlib.pyplot as plt

    plt.close(fig)
    with pytest.raises(DataValidationError, match="one group"):
        diverging_likert_chart(distribution(answers, "tilfreds", S5, by="hus"), S5, {"tilfreds": "x"}, {"tilfreds": 1})
    with pytest.raises(DataValidationError, match="without a label"):
        diverging_likert_chart(d, S5, {"tilfreds": "x"}, n)
    with pytest.raises(DataValidationError, match="n_by_item"):
        diverging_likert_chart(d, S5, ITEMS, {})


def survey_fmt(x):
    from evaluation.designs.survey.figures import percent_axis_formatter

    return percent_axis_formatter()(x, 0)


# ------------------------------------------------------------------------------ docstrings
@pytest.mark.parametrize("module_name", [
    "evaluation.metrics.scales",
    "evaluation.metrics.survey",
    "evaluation.synthetic.brugermaaling",
    "evaluation.designs.survey.figures",
])
def test_docstring_examples_run(module_name):
    import importlib

    mod = importlib.import_module(module_name)
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_no_function_modifies_its_input(synthetic):
    answers, planned = synthetic
    a, p = answers.copy(deep=True), planned.copy(deep=True)
    items = list(ITEMS)
    validate_answers(answers, items, S5)
    distribution(answers, items, S5, by="hus")
    top_box_share(answers, "tilfreds", S5, by=["hus", "samtaletype"])
    item_mean(answers, "tilfreds", S5, by="hus")
    response_rate(answers, planned, by=["hus", "samtaletype"])
    scale_score(answers, items, S5, reverse_items=["tilfreds"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReliabilityWarning)
        cronbach_alpha(answers, items, S5, reverse_items=["tilfreds"])
    compare_units(answers, "tilfreds", S5, "samtaletype")
    weighted_top_box(answers, "tilfreds", S5, ["hus", "samtaletype"], planned)
    pd.testing.assert_frame_equal(answers, a)
    pd.testing.assert_frame_equal(planned, p)
