"""Seeded generators of synthetic data with known effects (for examples, tests and diagnosis).

Each generator returns data whose true effects are known, so designs can be checked for bias
and interval coverage, and studies can be diagnosed before real data exist.
"""

from .brugermaaling import simulate_brugermaaling, write_brugermaaling
from .jobcentre import jobfirst_files, flere_skal_med_files, simulate_flere_skal_med, simulate_jobfirst
from .mechanisms import simulate_mediation_trial, simulate_take_up_trial
from .observational import COVARIATES, ObservationalSample, make_observational
from .prepost import simulate_pre_post, transition_probabilities
from .registers import STATE_CODES, STATES, SyntheticRegisters, simulate_registers, write_synthetic
from .sickness import SICKNESS_OUTCOMES, simulate_sickness_trial
from .staggered import simulate_staggered, simulate_two_by_two
from .targets import beskaeftigelsesplan_2015, udvikling_af_fleksjob

__all__ = [
    "simulate_sickness_trial", "SICKNESS_OUTCOMES",
    "make_observational", "ObservationalSample", "COVARIATES",
    "simulate_staggered", "simulate_two_by_two",
    "simulate_pre_post", "transition_probabilities",
    "simulate_registers", "write_synthetic", "SyntheticRegisters", "STATES", "STATE_CODES",
    "simulate_jobfirst", "simulate_flere_skal_med", "jobfirst_files", "flere_skal_med_files",
    "simulate_brugermaaling", "write_brugermaaling",
    "udvikling_af_fleksjob", "beskaeftigelsesplan_2015",
    "simulate_take_up_trial", "simulate_mediation_trial",
]

from evaluation.exceptions import check_keywords as _check_keywords  # noqa: E402

# an unknown keyword names the allowed ones (as the designs do), not Python's bare TypeError
_check_keywords(globals(), __all__)
