"""Matched comparison (propensity-score weighting or matching against a register pool): evidence level 3."""

from evaluation.designs.matched.estimator import MatchedComparison

__all__ = ["MatchedComparison"]
