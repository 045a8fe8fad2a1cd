"""One conformance test parametrised over every registered design (DESIGN.md §8 point 3).

Adding a design to the registry without a case here fails ``test_every_design_has_a_case``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.designs import DESIGNS, get_design
from evaluation.exceptions import DataValidationError, EstimationError, UnknownOptionError
from evaluation.results import COMPARISON_COLUMNS, TIDY_COLUMNS, EffectResult, result_from_dict
from evaluation.synthetic.observational import make_observational
from evaluation.synthetic.prepost import simulate_pre_post
from evaluation.synthetic.sickness import simulate_sickness_trial
from evaluation.synthetic.staggered import simulate_staggered, simulate_two_by_two


def _cases():
    trial = simulate_sickness_trial(n_intervention=80, n_control=80, seed=3)
    obs = make_observational(n_treated=80, n_pool=400, seed=3).data
    two = simulate_two_by_two(n_persons=200, seed=1)
    stag = simulate_staggered(n_persons=200, n_weeks=10, n_cohorts=4, seed=1)
    prepost = simulate_pre_post(n_both=150, n_baseline_only=40, n_follow_up_only=40, seed=3)
    covs = [c for c in obs.columns if c not in ("group", "weeks_on_benefit") and pd.api.types.is_numeric_dtype(obs[c])][:3]
    return {
        "randomized_comparison": (dict(outcome="sick_weeks_52", covariates=["age"]), trial,
                                  {"permutations": 99, "seed": 1}),
        "matched_comparison": (dict(outcome="weeks_on_benefit", covariates=covs, method="dr"), obs, {}),
        "did_2x2": (dict(outcome="benefit", group="treated", time="post", unit="person"), two, {}),
        "did_twfe": (dict(outcome="benefit", unit="person", time="week", treatment="enrolled"), stag, {}),
        "did_cs": (dict(outcome="benefit", unit="person", time="week", cohort="cohort"), stag,
                   {"bootstrap": True, "seed": 3, "draws": 99}),
        "pre_post": (dict(outcome="on_ledighedsydelse", period="period", baseline="2016-06-30", follow_up="2018-03-31",
                          unit="person_id"), prepost, {"conf_level": 0.9}),
    }


CASES = _cases()


def test_every_design_has_a_case():
    assert set(DESIGNS) == set(CASES), "a registered design lacks a conformance case"


@pytest.mark.parametrize("name", sorted(CASES))
def test_conformance(name):
    spec, data, opts = CASES[name]
    cls = get_design(name)
    assert 1 <= cls.evidence_level <= 5
    design = cls(**spec)
    before = data.copy(deep=True)
    r1 = design.fit(data, **opts)
    pd.testing.assert_frame_equal(data, before)  # input never modified
    r2 = design.fit(data, **opts)
    pd.testing.assert_frame_equal(r1.tidy(), r2.tidy())  # deterministic with a seed
    assert isinstance(r1, EffectResult) and r1.design == name and r1.evidence_level == cls.evidence_level
    cols = tuple(r1.tidy().columns)
    assert cols in (COMPARISON_COLUMNS, TIDY_COLUMNS)
    assert r1.estimand and all(e.method for e in r1.estimates), "estimand and method must be stated"
    with pytest.raises(DataValidationError, match="lacks the column"):
        design.fit(data.drop(columns=[spec["outcome"]]), **opts)
    with pytest.raises(UnknownOptionError, match="does not support"):
        design.fit(data, not_an_option=1)
    back = result_from_dict(r1.to_dict())  # serialisable for the results bundle
    pd.testing.assert_frame_equal(back.tidy(), r1.tidy())


def test_fit_shares_the_input_and_writes_never_reach_it():
    """Design.fit hands the estimator a copy-on-write view, not a deep copy (a deep copy of a large panel
    was most of a first fit): the estimator's columns share the caller's memory until it writes, and
    every kind of write — a cell, a whole column, a new column, an in-place array operation — stays in
    the estimator's frame."""
    import numpy as np

    from evaluation.designs.base import Design

    seen = {}

    class Probe(Design):
        name = "probe"

        def required_columns(self):
            return ["y"]

        def _fit(self, data, **options):
            seen["shared"] = np.shares_memory(data["y"].to_numpy(), original)
            data.loc[0, "y"] = -1.0
            data["z"] = 1
            data["x"] *= 2
            arr = data["x"].to_numpy()
            try:
                arr[0] = 99.0  # pandas hands out read-only views under copy-on-write
            except ValueError:
                seen["read_only"] = True
            return None

    data = pd.DataFrame({"y": np.arange(5, dtype=float), "x": np.ones(5)})
    original = data["y"].to_numpy()
    before = data.copy(deep=True)
    mode = pd.get_option("mode.copy_on_write")
    Probe().fit(data)
    assert seen == {"shared": True, "read_only": True}
    pd.testing.assert_frame_equal(data, before)
    assert pd.get_option("mode.copy_on_write") == mode  # the caller's pandas mode is left as it was
