"""What the families' assumption checks share when their details are written into the report's section
"Hvor robust er resultatet?": how an analysis is named, the scale and level of its effects, numbers and intervals.

A check registers the Danish block of its details with the check (``Check.report_block``), next to the check in
its family's folder; the report's section loops over the checks and never names one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evaluation.designs.family import get_family
from evaluation.presentation.formatting import fmt_number, is_missing
from evaluation.presentation.labels import readable_label
from evaluation.presentation.markdown import DASH
from evaluation.presentation.phrases import check_scale_for, result_level

if TYPE_CHECKING:  # pragma: no cover
    from evaluation.results import Bundle

__all__ = ["effect_scale", "analysis_label", "level_of", "number_text", "interval_text"]


def number_text(x: Any, dec: int = 3, mult: float = 1.0) -> str:
    """A number of a check's table ("–" when missing)."""
    return DASH if is_missing(x) else fmt_number(mult * float(x), dec)


def interval_text(lo: Any, hi: Any, dec: int = 3, mult: float = 1.0) -> str:
    """An interval of a check's table, "lo til hi" ("–" when an end is missing)."""
    if is_missing(lo) or is_missing(hi):
        return DASH
    return f"{fmt_number(mult * float(lo), dec)} til {fmt_number(mult * float(hi), dec)}"


def effect_scale(b: "Bundle", aid: str) -> tuple[float, str, int]:
    """Multiplier, Danish unit and decimals for an effect of analysis ``aid``, as its main results show it: a share's
    effects in procentpoint (the sensitivity figure draws the same scale), other units as they are."""
    try:
        a = b.analysis(aid)
    except StopIteration:
        return 1.0, "", 3
    return check_scale_for(a.unit, getattr(a.result, "outcome_type", "continuous"))


def analysis_label(b: "Bundle", aid: str, *, indicator: bool = True) -> str:
    """An analysis as a reader knows it: its indicator's label, and its design's short name when several analyses
    measure the same indicator (never the analysis id)."""
    try:
        a = b.analysis(aid)
    except StopIteration:
        return readable_label(aid)
    short = get_family(a.design).short_da or readable_label(a.design, capitalise=False)
    if not indicator:
        return short
    if sum(1 for x in b.analyses if x.indicator_label == a.indicator_label) > 1:
        return f"{a.indicator_label} ({short})"
    return a.indicator_label


def level_of(b: "Bundle", aid: str) -> float:
    """The confidence level the analysis was planned with; its checks' intervals use it too."""
    try:
        return result_level(b.analysis(aid).result)
    except StopIteration:
        return 0.95
