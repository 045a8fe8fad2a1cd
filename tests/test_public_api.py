"""The researcher's API: package-level names, result accessors, errors that subclass built-ins, options in help()."""

from __future__ import annotations

import inspect

import pydoc

import pandas as pd
import pytest

import evaluation
from evaluation import designs, metrics, synthetic
from evaluation.designs.family import families
from evaluation.exceptions import (
    DataFileNotFoundError,
    DataValidationError,
    EstimationError,
    RenderError,
    StudyConfigError,
    UnknownNameError,
    UnknownOptionError,
)
from evaluation.results import ROLES


@pytest.mark.parametrize("module", [evaluation, designs, metrics, synthetic])
def test_every_exported_name_exists(module):
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{module.__name__}.{name}"


def test_errors_subclass_the_matching_builtins():
    for cls in (StudyConfigError, DataValidationError, EstimationError):
        assert issubclass(cls, ValueError)
    assert issubclass(DataFileNotFoundError, FileNotFoundError) and issubclass(DataFileNotFoundError, DataValidationError)
    assert issubclass(UnknownNameError, KeyError) and issubclass(UnknownOptionError, TypeError)
    assert issubclass(RenderError, RuntimeError)
    assert str(UnknownNameError("unknown design 'x'")) == "unknown design 'x'"  # not quoted like a KeyError
    with pytest.raises(KeyError, match="known designs"):
        designs.get_family("no_such_design")


def test_unknown_keyword_names_the_allowed_ones():
    with pytest.raises(TypeError, match=r"did you mean 'covariates'\?.*its options are: outcome, treatment"):
        designs.MatchedComparison(outcome="y", covariatess=["a"])
    df = synthetic.simulate_sickness_trial(seed=2)
    with pytest.raises(TypeError, match=r"did you mean 'conf_level'"):
        designs.RandomizedComparison(outcome="sick_weeks_52").fit(df, conf_levl=0.9)

    # the public metric and generator functions too, with their own names and docstrings kept for help()
    with pytest.raises(UnknownOptionError, match=r"simulate_sickness_trial\(\) does not take 'sed' \(did you mean 'seed'\?\)"):
        synthetic.simulate_sickness_trial(sed=1)
    with pytest.raises(UnknownOptionError, match=r"did you mean 'benefit_types'"):
        metrics.benefit_dependency(None, None, benefit_type=["x"])
    assert synthetic.simulate_sickness_trial.__name__ == "simulate_sickness_trial"
    assert "seed" in str(inspect.signature(synthetic.simulate_sickness_trial))
    assert synthetic.simulate_sickness_trial.__doc__ and metrics.benefit_dependency.__doc__


def test_result_accessors_summary_and_repr():
    df = synthetic.simulate_sickness_trial(seed=2)
    res = evaluation.RandomizedComparison(outcome="sick_weeks_52", covariates=["age"]).fit(df)
    assert list(res.params.index) == [e.term for e in res.estimates]
    assert res.bse["adjusted_difference"] == res.estimate_for("adjusted_difference").std_error
    ci = res.conf_int()
    assert list(ci.columns) == ["lower", "upper"] and ci.loc["difference_in_means", "lower"] < res.params["difference_in_means"]
    assert res.conf_int(alpha=0.05).equals(ci)
    with pytest.raises(ValueError, match="refit with conf_level=0.9"):
        res.conf_int(alpha=0.1)
    text = res.summary()
    assert res.estimand in text and "Welch" in text and "adjusted_difference" in text
    r = repr(res)
    assert r.startswith("<EffectResult randomized_comparison:") and len(r) < 200
    tidy = res.tidy()
    assert set(tidy["role"]) <= set(ROLES)
    assert tidy.set_index("term").loc["mean_control", "role"] == "descriptive"
    assert tidy.set_index("term").loc["adjusted_difference", "role"] == "effect"
    assert pd.isna(res.pvalues["mean_control"])


@pytest.mark.parametrize("family", families(), ids=lambda f: f.design)
def test_help_of_every_design_lists_its_study_options(family):
    if family.Estimator is None:
        pytest.skip(f"{family.design} is declared in study files only")
    text = pydoc.render_doc(family.Estimator, renderer=pydoc.plaintext)
    assert f"design: {family.design}" in text
    for name, field in family.Options.model_fields.items():
        assert f"{name} :" in text and (field.description or "") in text
