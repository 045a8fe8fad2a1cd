"""Conformance of every registered design family on generated studies that are not the shipped ones.

For each family and each scenario — a true effect, no effect, covariates imbalanced on purpose,
small cells, group labels and column names other than the defaults — the family's own example study
goes through validate → run → report, and every claim sentence of the report is checked against
the results bundle (tests/claims.py): balance is claimed only when every standardised difference on
the design's final weights is below the stated limit; "lodtrækning"/"kontrolgruppe" appear only for
randomized designs; significance words follow the interval and the p-value; the headline's numbers
are the bundle's; the caveats name the design's identifying assumption.

A family registered later runs through the same test without any change to the pipeline or the
report (test_a_family_added_later_needs_no_change_elsewhere).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from claims import check_report_claims, write_example_study
from robustness_claims import check_robustness_claims
from evaluation.cli import main as cli
from evaluation.designs.family import SCENARIOS, FAMILIES, families, register_family
from evaluation.pipeline import run_study
from evaluation.presentation.phrases import ci_label
from evaluation.reporting.quarto import build_report, write_report_project
from evaluation.results import load_bundle

CASES = [(f.design, s) for f in families() for s in SCENARIOS]


def _run(root, family, scenario, *, render: bool = False):
    folder = write_example_study(root, family, scenario)
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle_dir = run_study(folder, root / "results")
    if render:
        out = build_report(bundle_dir, root / "reports", formats=["html"])
        qmd = (out["html"].parent / "index.qmd").read_text(encoding="utf-8")
    else:
        qmd = (write_report_project(bundle_dir, root / "reports" / folder.name) / "index.qmd").read_text(encoding="utf-8")
    return load_bundle(bundle_dir), qmd


@pytest.mark.parametrize("design,scenario", CASES, ids=[f"{d}-{s}" for d, s in CASES])
def test_generated_study_claims_follow_from_the_bundle(tmp_path, design, scenario):
    family = FAMILIES[design]
    bundle, qmd = _run(tmp_path, family, scenario, render=scenario == "effect")
    assert [a.design for a in bundle.analyses] == [design]
    problems = check_report_claims(qmd, bundle) + check_robustness_claims(qmd, bundle)
    assert not problems, "\n".join(problems)


def test_every_family_offers_every_scenario():
    for f in families():
        for s in SCENARIOS:
            ex = f.example(s, 1)
            assert ex.sources and ex.indicator, (f.design, s)


def test_the_checker_catches_false_claims(tmp_path):
    """The claim checker is not vacuous: it fails on reports that say what the bundle does not support."""
    family = FAMILIES["matched_comparison"]
    bundle, qmd = _run(tmp_path, family, "imbalanced")
    assert not check_report_claims(qmd, bundle)
    bad = qmd.replace("# Forbehold {#forbehold}\n", "# Forbehold {#forbehold}\n\nKontrolgruppen blev fundet ved lodtrækning.\n")
    bad += "\nAlle standardiserede forskelle er under 0,01: grupperne ligner hinanden.\n"
    problems = check_report_claims(bad, bundle)
    assert any("random assignment" in p for p in problems)
    assert any("balance claimed" in p for p in problems)
    gone = qmd.replace(family.assumption_da, "")
    assert any("identifying assumption" in p for p in check_report_claims(gone, bundle))
    randomized, rqmd = _run(tmp_path, FAMILIES["randomized_comparison"], "null")
    flipped = rqmd.replace("Vi kan ikke udelukke", "Forskellen er så stor, at den næppe skyldes tilfældigheder. Vi kan ikke udelukke")
    assert any("næppe" in p for p in check_report_claims(flipped, randomized))
    # the summary box: a "Ja." without a clear effect, a wrong price, a missing synthetic-data banner
    assert "Det kan ikke påvises." in rqmd
    assert any("'Ja.'" in p for p in check_report_claims(rqmd.replace("Det kan ikke påvises.", "Ja."), randomized))
    priced = re.sub(r"(\*\*Hvad kostede det\?\*\* .*?)\d[\d.]*\u00a0kr\. pr\. deltager",
                    lambda m: m.group(1) + "1\u00a0kr. pr. deltager", rqmd)
    assert priced != rqmd and any("cost per participant" in p for p in check_report_claims(priced, randomized))
    unbannered = re.sub(r"::: \{#syntetiske-data.*?\n:::\n", "", rqmd, flags=re.S)
    assert any("banner" in p for p in check_report_claims(unbannered, randomized))


def test_imbalanced_scenarios_are_really_imbalanced(tmp_path):
    """The scenarios do what they say, so the conformance test exercises the claims it checks."""
    _, rq = _run(tmp_path, FAMILIES["randomized_comparison"], "imbalanced")
    assert "Forskelle på mindst 0,1" in rq and "Alle standardiserede forskelle er under" not in rq
    _, sq = _run(tmp_path, FAMILIES["randomized_comparison"], "small_cells")
    assert "kan ikke vises for" in sq and "kan ikke offentliggøres" in sq


def _run_written(root, folder):
    """Run a study already written (and edited) in ``folder``; its bundle and report text."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle_dir = run_study(folder, root / "results")
    qmd = (write_report_project(bundle_dir, root / "reports" / folder.name) / "index.qmd").read_text(encoding="utf-8")
    return load_bundle(bundle_dir), qmd


def _rewrite(folder, study) -> None:
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("design", [f.design for f in families()])
def test_a_study_planned_at_another_confidence_level_names_that_level(tmp_path, design):
    """A study that plans its intervals at 90 % (``fit.conf_level: 0.9``) gets 90 % intervals, and the report calls
    them 90 %-sikkerhedsintervaller everywhere — in sentences, table headings, the checks and the economy — never 95 %."""
    family = FAMILIES[design]
    folder = write_example_study(tmp_path, family, "effect")
    path = folder / "study.yaml"
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    for a in study["analyses"]:
        a.setdefault("fit", {})["conf_level"] = 0.9
    _rewrite(folder, study)
    assert CliRunner().invoke(cli, ["validate", str(folder)]).exit_code == 0
    bundle, qmd = _run_written(tmp_path, folder)
    assert {a.result.conf_level for a in bundle.analyses} == {0.9}
    assert ci_label(0.9) in qmd
    problems = check_report_claims(qmd, bundle) + check_robustness_claims(qmd, bundle)
    assert not problems, "\n".join(problems)
    # the check is not vacuous: the old fixed label is caught
    wrong = qmd.replace(ci_label(0.9), ci_label(0.95), 1)
    assert any("names a level" in p for p in check_report_claims(wrong, bundle))


def test_analyses_planned_at_different_levels_each_name_their_own(tmp_path):
    """Two analyses of one study at 95 % and 90 %: the effects table names each row's level, the sentence on what the
    intervals mean lists both, and no claim names a level the bundle does not have."""
    family = FAMILIES["randomized_comparison"]  # with take-up and a mediator: every section of the family twice
    folder = write_example_study(tmp_path, family, "effect")
    path = folder / "study.yaml"
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    second = yaml.safe_load(yaml.safe_dump(study["analyses"][0]))
    second["id"] = second["id"] + "_90"
    second.setdefault("fit", {})["conf_level"] = 0.9
    second["primary"] = False
    study["analyses"].append(second)
    _rewrite(folder, study)
    # the same indicator and design twice: validate asks for a label that tells them apart
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert result.exit_code == 2 and "analyses[1].label" in result.output and "Traceback" not in result.output
    study["analyses"][0]["label"] = "hovedanalyse"
    study["analyses"][1]["label"] = "hovedanalyse"
    _rewrite(folder, study)
    assert CliRunner().invoke(cli, ["validate", str(folder)]).exit_code == 2  # labels must differ too
    study["analyses"][1]["label"] = "90 %-niveau"
    _rewrite(folder, study)
    assert CliRunner().invoke(cli, ["validate", str(folder)]).exit_code == 0
    bundle, qmd = _run_written(tmp_path, folder)
    assert sorted(a.result.conf_level for a in bundle.analyses) == [0.9, 0.95]
    effects = qmd.split("# Effekter", 1)[1].split("\n# ", 1)[0]
    assert "Sikkerhedsinterval (niveau)" in effects and "(90\u00a0%)" in effects and "(95\u00a0%)" in effects
    assert "Sikkerhedsintervallerne har det niveau, evalueringsplanen fastlagde for hver analyse (95\u00a0% for" in qmd
    problems = check_report_claims(qmd, bundle)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------- a family added later
def test_a_family_added_later_needs_no_change_elsewhere(tmp_path):
    """A new family (difference in medians with a bootstrap interval, defined only here) registers itself
    and passes validate → run → report and the claim checks; pipeline and reporting are untouched."""
    from pydantic import Field

    from evaluation.designs.base import Design
    from evaluation.designs.comparison import ComparisonFamily
    from evaluation.designs.family import Example, FitOptions, Options
    from evaluation.results import EffectResult, Estimate

    class MedianOptions(Options):
        treatment: str = Field(default="group", description="group column")
        treated: str = Field(default="intervention", description="intervention label")
        control: str = Field(default="control", description="control label")

    class MedianFit(FitOptions):
        draws: int = Field(default=399, ge=99, description="bootstrap draws")

    class MedianDifference(Design):
        name = "median_difference"
        evidence_level = 5
        fit_options = frozenset({"conf_level", "draws"})

        def __init__(self, *, outcome, treatment="group", treated="intervention", control="control"):
            self.outcome, self.treatment, self.treated, self.control = outcome, treatment, treated, control

        def required_columns(self):
            return [self.outcome, self.treatment]

        def _fit(self, data, conf_level=0.95, draws=399):
            y1 = data.loc[data[self.treatment] == self.treated, self.outcome].to_numpy(float)
            y0 = data.loc[data[self.treatment] == self.control, self.outcome].to_numpy(float)
            rng = np.random.default_rng(0)
            est = float(np.median(y1) - np.median(y0))
            boot = [np.median(rng.choice(y1, len(y1))) - np.median(rng.choice(y0, len(y0))) for _ in range(draws)]
            lo, hi = np.quantile(boot, [(1 - conf_level) / 2, (1 + conf_level) / 2])
            e = Estimate("median_difference", est, float(np.std(boot)), ci_lower=float(lo), ci_upper=float(hi),
                         n=len(y1) + len(y0), method=f"difference in medians, percentile bootstrap ({draws} draws)",
                         n_treated=len(y1), n_control=len(y0))
            return EffectResult(estimand="difference in medians", estimates=(e,), conf_level=conf_level,
                                design=self.name, evidence_level=5)

    @register_family
    class MedianFamily(ComparisonFamily):
        design = "median_difference"
        family = "median"
        evidence_level = 5
        Options = MedianOptions
        Fit = MedianFit
        Estimator = MedianDifference
        random_assignment = True
        main_terms = ("median_difference",)
        label_da = "Forskel i medianer mellem grupper fordelt ved lodtrækning"
        estimand_da = "Forskellen i medianen mellem interventions- og kontrolgruppen"
        short_da = "medianforskel"
        assumption_da = "Lodtrækningen skal være gennemført som planlagt"

        def example(self, scenario, seed=1):
            rng = np.random.default_rng(seed)
            n = 60
            df = pd.DataFrame({"pid": [f"X{i}" for i in range(2 * n)], "group": ["intervention"] * n + ["control"] * n,
                               "y": np.r_[rng.normal(10 - (0 if scenario == "null" else 2), 3, n), rng.normal(10, 3, n)].round(2)})
            return Example(sources={"participants": (df, {"id_column": "pid", "columns": ["group", "y"]})},
                           options={}, indicator={"label": "Uger på ydelse", "unit": "uger",
                                                  "metric": {"name": "column", "params": {"column": "y"}}})

    try:
        for scenario in ("effect", "null"):
            bundle, qmd = _run(tmp_path / scenario, FAMILIES["median_difference"], scenario, render=scenario == "effect")
            assert bundle.analyses[0].design == "median_difference"
            assert not check_report_claims(qmd, bundle)
            assert "medianforskel" in qmd and "Forskel i medianer" in qmd
        bad = tmp_path / "bad"
        folder = write_example_study(bad, FAMILIES["median_difference"], "effect")
        y = folder / "study.yaml"
        y.write_text(y.read_text(encoding="utf-8").replace("fit: {}", "fit: {draw: 99}"), encoding="utf-8")
        result = CliRunner().invoke(cli, ["validate", str(folder)])
        assert result.exit_code == 2 and "unknown field 'draw'; did you mean 'draws'?" in result.output
    finally:
        FAMILIES.pop("median_difference", None)


# ---------------------------------------------------------------------------- a design whose own checks fail
def test_broken_design_checks_temper_the_summary(tmp_path, monkeypatch):
    """A matched comparison that leaves the groups unlike each other (strong selection, plain propensity
    weighting: balance after weighting broken) and a large difference: 'Kort fortalt' must not answer
    'Ja.' or 'Der er en klar forskel.' as if the design held; it says the difference is clear but the
    design's own checks are broken, and names them beside the interval. The claim checker holds the box
    to that, and catches the old wording."""
    import dataclasses

    from evaluation.designs.matched.examples import matched_example

    family = FAMILIES["matched_comparison"]

    def example(scenario, seed=1):
        ex = matched_example("imbalanced", seed)
        df, meta = ex.sources["participants"]
        df = df.copy()
        t = df["group"] == "intervention"
        df.loc[t, "y"] = (df.loc[t, "y"] - 0.25).clip(0, 1)  # a difference no weighting can hide
        options = {k: v for k, v in ex.options.items() if k not in ("caliper", "balance_rule")} | {"method": "ipw"}
        return dataclasses.replace(ex, sources={"participants": (df, meta)}, options=options)

    monkeypatch.setattr(family, "example", example)
    bundle, qmd = _run(tmp_path, family, "imbalanced")
    rec = bundle.analyses[0]
    broken = [c["name_da"] for c in bundle.robustness["checks"] if c["status"] == "brudt"]
    assert family.report.verdict(rec) == "clear" and "Balance efter vægtning" in broken
    box = re.search(r"::: \{#kort-fortalt[^\n]*\n(.*?)\n:::", qmd, re.S).group(1)
    assert "**Virkede det?** Usikkert: forskellen er klar, men designets egne tjek er brudt." in box
    assert "antagelser svigter (balance efter vægtning: brudt)" in box
    assert not check_report_claims(qmd, bundle)
    old = qmd.replace("Usikkert: forskellen er klar, men designets egne tjek er brudt.", "Der er en klar forskel.")
    assert any("without saying the design's checks are broken" in p for p in check_report_claims(old, bundle))
