"""Randomized comparison (intervention vs control allocated by lottery): evidence level 5."""

from evaluation.designs.randomized.estimator import RandomizedComparison

__all__ = ["RandomizedComparison"]
