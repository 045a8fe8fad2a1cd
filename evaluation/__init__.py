"""evaluation: declare, estimate and report evaluations of Danish labour-market projects.

The public API (imported on first use, so the command line starts fast):

* running studies — :func:`load_study`, :func:`run_study`, :func:`build_report`, :func:`build_portfolio`,
  :func:`diagnose_study`, :func:`load_bundle`;
* designs (:mod:`evaluation.designs`) — :class:`RandomizedComparison`, :class:`MatchedComparison`,
  :class:`DiD2x2`, :class:`TWFE`, :class:`CallawaySantAnna`, :class:`PrePost`;
* metrics (:mod:`evaluation.metrics`) and synthetic data with known effects (:mod:`evaluation.synthetic`);
* results (:class:`EffectResult` …: ``tidy()``, ``summary()``, ``params``, ``bse``, ``conf_int()``) and the
  named errors (:mod:`evaluation.exceptions`).

Examples
--------
>>> import evaluation
>>> df = evaluation.synthetic.simulate_sickness_trial(seed=1)
>>> res = evaluation.RandomizedComparison(outcome="sick_weeks_52").fit(df)
>>> round(float(res.params["difference_in_means"]), 2)
-4.28
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load_study": "evaluation.declaration.study",
    "run_study": "evaluation.pipeline",
    "build_report": "evaluation.reporting.quarto",
    "build_portfolio": "evaluation.portfolio.page",
    "diagnose_study": "evaluation.planning.diagnose",
    "load_bundle": "evaluation.results",
    "RandomizedComparison": "evaluation.designs",
    "MatchedComparison": "evaluation.designs",
    "DiD2x2": "evaluation.designs",
    "TWFE": "evaluation.designs",
    "CallawaySantAnna": "evaluation.designs",
    "PrePost": "evaluation.designs",
    "EffectResult": "evaluation.results",
    "ScoreResult": "evaluation.results",
    "SurveyResult": "evaluation.results",
    "TargetResult": "evaluation.results",
    "Bundle": "evaluation.results",
}
_SUBPACKAGES = ("designs", "metrics", "synthetic", "exceptions", "results", "disclosure")

__all__ = ["__version__", *_LAZY, *_SUBPACKAGES]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"evaluation.{name}")
    raise AttributeError(f"module 'evaluation' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
