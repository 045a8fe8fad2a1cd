"""The Danish outcome library: pure functions from data to one row per person (or unit).

Register metrics (benefit dependency, self-support, status at 1/3/6/12 months, long-term
unemployment, full-time persons, long sickness spells) work on a weekly register
:class:`~evaluation.data.registers.Panel` and the participants; survey metrics score answers on a
declared Likert scale; :func:`goal_status` compares a result with a target. Metrics are registered
by name, so a study can say ``metric: {name: benefit_dependency, params: {window: [1, 52]}}``.
"""

from .registry import METRICS, MetricSpec, compute_metric, describe_metric, register_metric
from .benefits import (  # noqa: E402  (registers the register metrics)
    WEEKS_PER_MONTH,
    benefit_dependency,
    compute_on_dask,
    compute_streaming,
    full_time_persons,
    full_time_persons_summary,
    long_sickness_spells,
    long_term_unemployed,
    long_term_unemployment,
    long_term_unemployment_share,
    month_to_week,
    self_support_spell,
    self_support_week,
    status_at_month,
    status_share_series,
    weeks_to_self_support,
)
from .panels import benefit_dependency_by_period, benefit_dependency_pre_post  # noqa: E402
from .scales import LikertScale, available_scales, get_scale  # noqa: E402
from .survey import (  # noqa: E402
    compare_units,
    cronbach_alpha,
    distribution,
    item_mean,
    response_rate,
    scale_score,
    top_box_share,
    validate_answers,
    weighted_top_box,
)
from .targets import goal_status  # noqa: E402

__all__ = [
    "METRICS", "MetricSpec", "compute_metric", "describe_metric", "register_metric",
    "WEEKS_PER_MONTH", "month_to_week", "benefit_dependency", "self_support_week", "status_at_month",
    "self_support_spell", "weeks_to_self_support", "long_term_unemployment", "long_term_unemployed",
    "long_term_unemployment_share", "full_time_persons", "full_time_persons_summary", "long_sickness_spells",
    "status_share_series", "compute_streaming", "compute_on_dask",
    "benefit_dependency_by_period", "benefit_dependency_pre_post",
    "LikertScale", "available_scales", "get_scale",
    "validate_answers", "distribution", "top_box_share", "item_mean", "response_rate", "scale_score",
    "cronbach_alpha", "compare_units", "weighted_top_box",
    "goal_status",
]

from evaluation.exceptions import check_keywords as _check_keywords  # noqa: E402

# an unknown keyword names the allowed ones (as the designs do), not Python's bare TypeError
_check_keywords(globals(), __all__)
