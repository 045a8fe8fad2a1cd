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
from evaluation.designs.did import family as _did  # noqa: F401
from evaluation.designs.family import (
           FAMILIES,
           Family,
           families,
           get_family,
           register_family,
)
from evaluation.designs.matched import MatchedComparison
from evaluation.designs.matched import family as _matched  # noqa: F401
from evaluation.designs.pre_post import PrePost
from evaluation.designs.pre_post import family as _pre_post  # noqa: F401
from evaluation.designs.randomized import RandomizedComparison
from evaluation.designs.randomized import family as _randomized  # noqa: F401  (registration)
from evaluation.designs.survey import family as _survey  # noqa: F401

__all__ = ["DESIGNS", "Design", "get_design", "register_design", "FAMILIES", "Family", "families", "get_family",
           "register_family", "RandomizedComparison", "MatchedComparison", "PrePost"]
