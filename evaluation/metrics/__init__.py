"""Metric library: pure functions from data to one row per person (or unit)."""

from .registry import METRICS, MetricSpec, compute_metric, describe_metric, register_metric

__all__ = ["METRICS", "MetricSpec", "compute_metric", "describe_metric", "register_metric"]

from . import benefits  # noqa: E402,F401  (registers the register metrics)
from . import panels  # noqa: E402,F401
