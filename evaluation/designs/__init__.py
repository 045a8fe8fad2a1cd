"""Evaluation designs, one family per sub-package; each registers its designs by name for study files.

| family (sub-package) | design names | evidence level |
|---|---|---|
| ``randomized`` | ``randomized_comparison`` | 5 |
| ``matched`` | ``matched_comparison`` | 3 |
| ``did`` | ``did_2x2``, ``did_twfe``, ``did_cs`` | 3 |
| ``pre_post`` | ``pre_post`` (targets before/after, no comparison group) | 1 |
| ``survey`` | ``survey`` (brugermåling on a declared Likert scale) | – (no effect claim) |

Each family owns its typed options, estimator, disclosure, Danish report parts, figures and
simulation (:mod:`evaluation.designs.family`). The estimators are also a researcher's API:
``RandomizedComparison(outcome=...).fit(df)``.
"""

from evaluation.designs.base import DESIGNS, Design, get_design, register_design
from evaluation.designs.family import FAMILIES, Family, families, get_family, register_family

# the families register themselves when imported
from evaluation.designs.randomized import family as _randomized  # noqa: E402,F401
from evaluation.designs.matched import family as _matched  # noqa: E402,F401
from evaluation.designs.did import family as _did  # noqa: E402,F401
from evaluation.designs.pre_post import family as _pre_post  # noqa: E402,F401
from evaluation.designs.survey import family as _survey  # noqa: E402,F401
from evaluation.designs import _generic_checks  # noqa: E402,F401  (attrition, sutva)

from evaluation.designs.did import TWFE, CallawaySantAnna, DiD2x2  # noqa: E402
from evaluation.designs.matched import MatchedComparison  # noqa: E402
from evaluation.designs.power import (  # noqa: E402
    mde_did,
    mde_for_design,
    mde_means,
    mde_proportions,
    power_for_design,
    power_means,
    power_proportions,
    sample_size_means,
)
from evaluation.designs.pre_post import PrePost, paired_difference_newcombe  # noqa: E402
from evaluation.designs.randomized import RandomizedComparison  # noqa: E402
from evaluation.designs.subgroups import subgroup_table  # noqa: E402

__all__ = [
    "RandomizedComparison", "MatchedComparison", "DiD2x2", "TWFE", "CallawaySantAnna", "PrePost",
    "paired_difference_newcombe", "subgroup_table",
    "mde_means", "mde_proportions", "mde_did", "power_means", "power_proportions", "sample_size_means",
    "mde_for_design", "power_for_design",
    "DESIGNS", "Design", "get_design", "register_design", "FAMILIES", "Family", "families", "get_family",
    "register_family",
]
