"""Evaluation designs; each registers itself by name for study files.

| name | class | evidence level |
|---|---|---|
| ``randomized_comparison`` | :class:`RandomizedComparison` | 5 |
| ``matched_comparison`` | :class:`MatchedComparison` | 3 |
| ``did_2x2`` / ``did_twfe`` / ``did_cs`` | difference-in-differences designs | 3 |
"""

from .base import DESIGNS, Design, get_design, register_design
from . import randomized, matched, did  # noqa: E402,F401  (registration)
from .randomized import RandomizedComparison
from .matched import MatchedComparison

__all__ = ["DESIGNS", "Design", "get_design", "register_design", "RandomizedComparison", "MatchedComparison"]
