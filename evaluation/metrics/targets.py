"""Goal status (*målopfyldelse*): compare a result and its interval with a target's goal.

Targets across a study are evaluated by :func:`evaluation.pipeline.targets.evaluate_target`.

A target states a baseline, a goal, a direction and a deadline (*resultatkrav*). Its status is
``met``, ``not_met`` or ``undecidable`` with the reason in Danish:

* with an interval (an estimated effect, or a share with its number of persons), the target is
  met only when the whole interval (95 % unless the analysis was planned at another level) lies on the goal's side, not met when the whole
  interval lies on the other side, and undecidable otherwise;
* with a figure without uncertainty (a count from a register), the figure is compared with the goal;
* with no result, the target is undecidable ("resultatet foreligger ikke"); the report says "endnu"
  only before the deadline.

A target says nothing about cause: a level or a change reached may have happened without the
project. Only ``goal_type: effect`` compares with a control group.
"""

from __future__ import annotations

import math

from evaluation.presentation.phrases import ci_label
__all__ = ["goal_status"]


def goal_status(value: float, lo: float | None, hi: float | None, goal: float, direction: str,
                level: float = 0.95) -> tuple[str, str]:
    """Compare a result (with optional interval at confidence ``level``) with a goal; return
    ``(status, reason in Danish)``."""
    if direction not in ("increase", "decrease"):
        raise ValueError(f"direction must be 'increase' or 'decrease', got {direction!r}")
    # a result equal to the goal reaches it; figures are declared as decimals (0.35 − 0.30 is 0.04999… in binary),
    # so equality is judged to a tolerance far below any printed digit
    tol = 1e-9 * max(1.0, abs(goal))
    better = (lambda x: x >= goal - tol) if direction == "increase" else (lambda x: x <= goal + tol)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undecidable", "resultatet foreligger ikke (eller er diskretioneret)"
    has_ci = lo is not None and hi is not None and not math.isnan(lo) and not math.isnan(hi)
    if not has_ci:
        if better(value):
            return "met", "resultatet når målet"
        return "not_met", "resultatet når ikke målet"
    if better(lo) and better(hi):
        return "met", f"hele {ci_label(level, definite=True)} ligger på den rigtige side af målet"
    if not better(lo) and not better(hi):
        return "not_met", f"hele {ci_label(level, definite=True)} ligger på den forkerte side af målet"
    side = "når målet" if better(value) else "når ikke målet"
    return "undecidable", (
        f"punktestimatet {side}, men sikkerhedsintervallet rummer både værdier, der opfylder, "
        "og værdier, der ikke opfylder målet"
    )
