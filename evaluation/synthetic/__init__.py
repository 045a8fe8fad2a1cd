"""Seeded generators of synthetic data with known effects (for examples, tests and diagnosis).

Each generator returns data whose true effects are known, so designs can be checked for bias
and interval coverage, and studies can be diagnosed before real data exist.
"""

from .observational import ObservationalSample, make_observational
from .sickness import SICKNESS_OUTCOMES, simulate_sickness_trial

__all__ = ["ObservationalSample", "make_observational", "SICKNESS_OUTCOMES", "simulate_sickness_trial"]
