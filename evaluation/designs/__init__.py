"""Evaluation designs; each registers itself by name for study files.

| name | class | evidence level |
|---|---|---|
| ``randomized_comparison`` | :class:`RandomizedComparison` | 5 |
| ``matched_comparison`` | :class:`MatchedComparison` | 3 |
| ``did_2x2`` / ``did_twfe`` / ``did_cs`` | difference-in-differences designs | 3 |
| ``pre_post`` | :class:`PrePost` (targets before/after, no comparison group) | 1 |
"""

from .base import DESIGNS, Design, get_design, register_design
from evaluation.designs import did, matched, pre_post, randomized  # noqa: E402,F401  (registration)
from evaluation.designs.matched import MatchedComparison
from evaluation.designs.pre_post import PrePost
from evaluation.designs.randomized import RandomizedComparison

__all__ = ["DESIGNS", "Design", "get_design", "register_design", "RandomizedComparison", "MatchedComparison", "PrePost"]
