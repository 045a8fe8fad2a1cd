"""The parallel-trends checks (``pretrends``, ``honest_did``) on a TWFE event study, and a study's choice of one
post-period for HonestDiD (``analyses[].check_params.honest_did.post_period``), issue 14."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats

from evaluation.designs.checks import CheckContext, get_check, run_check
from evaluation.designs.did import _honest as H
from evaluation.designs.family import AnalysisInput, get_family
from evaluation.synthetic.staggered import simulate_staggered


def _twfe(effect=-0.3, seed=5, params=None, **opts):
    df = simulate_staggered(n_persons=500, n_weeks=14, n_cohorts=4, first_cohort_week=7, effect=effect,
                            noise_sd=0.2, person_sd=0.2, seed=seed)
    fam = get_family("did_twfe")
    o = fam.Options(unit="person", time="week", cohort="cohort", event_study=True, **opts)
    inp = AnalysisInput(id="es", design=fam.design, options=o, fit=fam.Fit(), outcome="benefit", frame=df)
    res = fam.estimate(inp)
    ctx = CheckContext(inp=inp, result=res, family=fam, params=params or {})
    return inp, res, ctx


@pytest.fixture(scope="module")
def es():
    return _twfe()


def _coef(res, k):
    return res.estimate_for(f"e{k}")


def test_pretrends_on_twfe_is_the_wald_test_of_its_pre_coefficients(es):
    _, res, ctx = es
    times = res.internals["event_times"]
    V = np.asarray(res.internals["vcov"])
    # the covariance the check uses is the one the TWFE reports its standard errors from
    assert np.sqrt(np.diag(V)) == pytest.approx([_coef(res, t).std_error for t in times], rel=1e-10)
    pre = [i for i, t in enumerate(times) if t < 0]
    assert len(pre) >= 3 and -1 not in times  # -1 is the reference period
    b = np.array([_coef(res, times[i]).estimate for i in pre])
    W = float(b @ np.linalg.solve(V[np.ix_(pre, pre)], b))
    p = stats.chi2.sf(W, len(pre))
    got = run_check(get_check("pretrends"), ctx)
    assert got.number == pytest.approx(p, rel=1e-10)
    assert got.status == ("holder" if p >= 0.10 else "tvivlsom" if p >= 0.05 else "brudt")
    assert got.details["df"] == len(pre)


def test_honest_did_on_twfe_is_consistent_with_the_event_study(es):
    _, res, ctx = es
    got = run_check(get_check("honest_did"), ctx)
    d = got.details
    times = res.internals["event_times"]
    V = np.asarray(res.internals["vcov"])
    # the parameter: the average of the first two post-enrolment effects, with the four nearest pre-periods
    pre = [t for t in times if t < 0][-4:]
    assert d["event_times"] == pre + [0, 1] and d["num_post"] == 2 and d["post_period"] is None
    i0, i1 = times.index(0), times.index(1)
    theta = (_coef(res, 0).estimate + _coef(res, 1).estimate) / 2
    se = math.sqrt(0.25 * (V[i0, i0] + V[i1, i1] + 2 * V[i0, i1]))
    z = stats.norm.ppf(0.975)
    assert d["theta"] == pytest.approx(theta, rel=1e-10)
    # M̄ = 0 (parallel trends after start exactly as before): the usual interval of the average
    assert d["original"] == pytest.approx([theta - z * se, theta + z * se], rel=1e-9)
    rm = d["relative_magnitudes"]
    assert rm["Mbar"][0] == 0.0
    # the robust set at M̄ = 0 identifies the same parameter: it covers the estimate and is not narrower than
    # the usual interval by more than the hybrid test's slack
    assert rm["lb"][0] < theta < rm["ub"][0]
    assert (rm["ub"][0] - rm["lb"][0]) >= 0.9 * (2 * z * se)
    # the robust sets grow with M̄
    widths = [u - lo for lo, u in zip(rm["lb"], rm["ub"])]
    assert all(b >= a - 1e-9 for a, b in zip(widths, widths[1:]))
    # breakdown logic: significant under parallel trends (the effect is large), the set excludes 0 at the
    # breakdown value and not beyond it; the status follows the stated rule
    assert not (d["original"][0] <= 0 <= d["original"][1])
    bd = rm["breakdown"]
    h = H.HonestInput.make([_coef(res, t).estimate for t in d["event_times"]],
                           V[np.ix_([times.index(t) for t in d["event_times"]], [times.index(t) for t in d["event_times"]])],
                           4, 2, l_vec=[0.5, 0.5])
    assert got.number == pytest.approx(bd)
    lo, hi = H.relative_magnitudes_ci(h, bd)
    assert not (lo <= 0 <= hi)
    if bd < 2.0:
        lo2, hi2 = H.relative_magnitudes_ci(h, bd + 0.02)
        assert lo2 <= 0 <= hi2
    for m, lb, ub in zip(rm["Mbar"], rm["lb"], rm["ub"]):
        assert (not (lb <= 0 <= ub)) == (m <= bd)
    assert got.status == ("holder" if bd >= 1.0 else "tvivlsom")
    assert "gennemsnittet af effekterne i de første 2 perioder efter start" in got.finding_da


def test_honest_did_without_an_effect_says_there_is_nothing_to_break():
    _, _, ctx = _twfe(effect=0.0, seed=8)
    got = run_check(get_check("honest_did"), ctx)
    lo, hi = got.details["original"]
    assert lo <= 0 <= hi and got.status == "kan_ikke_testes" and got.number is None


@pytest.mark.parametrize("k", [0, 1])  # k ≥ 2: three or more post-periods take minutes (see README)
def test_one_chosen_post_period(es, k):
    inp, res, _ = es
    ctx = CheckContext(inp=inp, result=res, family=get_family("did_twfe"), params={"post_period": k})
    got = run_check(get_check("honest_did"), ctx)
    d = got.details
    e = _coef(res, k)
    z = stats.norm.ppf(0.975)
    # the parameter is that period's own coefficient: its usual interval is the TWFE's own normal interval
    assert d["theta"] == pytest.approx(e.estimate, rel=1e-10)
    assert d["original"] == pytest.approx([e.estimate - z * e.std_error, e.estimate + z * e.std_error], rel=1e-9)
    # the post-periods from enrolment up to k enter the input
    assert [t for t in d["event_times"] if t >= 0] == list(range(k + 1)) and d["num_post"] == k + 1
    assert d["post_period"] == k
    assert f"effekten i periode {k} efter start" in got.finding_da
    assert f"effekten i periode {k} efter start" in d["parameter"]


def test_a_post_period_the_event_study_lacks_is_named_when_the_check_runs(es):
    inp, res, _ = es
    ctx = CheckContext(inp=inp, result=res, family=get_family("did_twfe"), params={"post_period": 40})
    got = run_check(get_check("honest_did"), ctx)
    assert got.status == "kan_ikke_testes" and "periode 40" in got.finding_da


def test_post_period_parameters_are_checked():
    from evaluation.designs.checks import param_problems

    c = get_check("honest_did")
    assert param_problems(c, {"post_period": 1}) == []
    assert [p[0] for p in param_problems(c, {"post_periode": 1})] == [("post_periode",)]
    assert "post_period" in param_problems(c, {"post_periode": 1})[0][1]
    assert param_problems(c, {"post_period": -1})[0][0] == ("post_period",)
    assert param_problems(c, {"post_period": 1.5})[0][0] == ("post_period",)
    assert param_problems(c, {"post_period": 1, "post_window": 2})[0][0] == ("post_period",)
    inp, _, _ = _twfe(event_window=(-3, 3))
    assert param_problems(c, {"post_period": 3}, inp) == []
    bad = param_problems(c, {"post_period": 4}, inp)
    assert bad and "0, 1, 2, 3" in bad[0][1]


def _set_post_period(study_dir, value, check="honest_did", analysis="forsoergelse_cs"):
    f = study_dir / "study.yaml"
    text = f.read_text(encoding="utf-8")
    anchor = f"  - id: {analysis}\n"
    assert anchor in text
    new = text.replace(anchor, anchor + f"    check_params: {{{check}: {{post_period: {value}}}}}\n", 1)
    f.write_text(new, encoding="utf-8")
    line = new[:new.index("check_params")].count("\n") + 1
    return f, line


def test_validate_names_an_unknown_event_time_with_file_line_and_field(study_tree):
    from click.testing import CliRunner

    from evaluation.cli import main

    d = study_tree("flere-skal-med")
    f, line = _set_post_period(d, 99)
    r = CliRunner().invoke(main, ["validate", str(d)])
    assert r.exit_code == 2, r.output
    out = " ".join(r.output.split())
    assert re.search(rf"study\.yaml:{line}: analyses\[0\]\.check_params\.honest_did\.post_period: event time 99 is "
                     r"not a period after enrolment", out), out
    assert "Traceback" not in r.output
    # a name the check does not know, at load time (no data needed)
    f.write_text(f.read_text(encoding="utf-8").replace("post_period: 99", "post_periode: 2"), encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", "--no-data", str(d)])
    assert r.exit_code == 2 and "check_params.honest_did.post_periode: check 'honest_did' has no parameter" in " ".join(r.output.split())
    # a check the design does not have
    f.write_text(f.read_text(encoding="utf-8").replace("{honest_did: {post_periode: 2}}", "{sensemakr: {}}"),
                 encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", "--no-data", str(d)])
    assert r.exit_code == 2 and "check 'sensemakr' does not apply to design 'did_cs'" in " ".join(r.output.split())


def test_validate_accepts_a_post_period_the_data_have(study_tree):
    from click.testing import CliRunner

    from evaluation.cli import main

    d = study_tree("flere-skal-med")
    _set_post_period(d, 3)
    r = CliRunner().invoke(main, ["validate", str(d)])
    assert r.exit_code == 0, r.output


def test_the_report_names_the_chosen_post_period(study_tree, tmp_path):
    """End to end: a study choosing post_period 1 for its Callaway–Sant'Anna analysis gets the effect in period 1
    in the bundle and in the report's HonestDiD block, with the robustness claims still following."""
    import warnings

    from evaluation.pipeline.run import run_study
    from evaluation.reporting.quarto import write_report_project
    from evaluation.results import load_bundle

    from robustness_claims import check_robustness_claims, robustness_section

    d = study_tree("flere-skal-med")
    _set_post_period(d, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bdir = run_study(d, tmp_path / "results", figures=False)
    b = load_bundle(bdir)
    rec = next(r for r in b.robustness["checks"] if r["check"] == "honest_did" and r["analysis"] == "forsoergelse_cs")
    assert rec["details"]["post_period"] == 1 and [t for t in rec["details"]["event_times"] if t >= 0] == [0, 1]
    # the parameter belongs to the analysis that gives it
    assert all((r.get("details") or {}).get("post_period") is None for r in b.robustness["checks"]
               if r["check"] == "honest_did" and r["analysis"] != "forsoergelse_cs")
    qmd = (write_report_project(bdir, tmp_path / "report") / "index.qmd").read_text(encoding="utf-8")
    sec = " ".join(robustness_section(qmd).split())
    assert "Parameteren er effekten i periode 1 efter start" in sec
    assert not check_robustness_claims(qmd, b)
