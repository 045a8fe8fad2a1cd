"""Named errors and warnings raised by :mod:`evaluation`.

Every error an evaluator can trigger with a study file or data is one of these;
the command line turns them into plain messages and exit code 2, never a traceback.
"""

from __future__ import annotations

__all__ = [
    "EvaluationError",
    "StudyConfigError",
    "DataValidationError",
    "DisclosureError",
    "EstimationError",
    "RenderError",
    "EvaluationWarning",
    "SmallCellWarning",
    "BalanceWarning",
    "ReliabilityWarning",
]


class EvaluationError(Exception):
    """Base class of every error the package raises on purpose."""


class StudyConfigError(EvaluationError):
    """A study declaration (``study.yaml``) is invalid.

    Parameters
    ----------
    problems : list of str
        One line per problem, each formatted ``file:line: field.path: message``.
    """

    def __init__(self, problems: list[str] | str):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class DataValidationError(EvaluationError):
    """Input data do not match what the study declares (file, column and rows named)."""


class DisclosureError(EvaluationError):
    """A result would disclose a group smaller than the study's disclosure threshold."""


class EstimationError(EvaluationError):
    """An estimator cannot honour its specification with the data given."""


class RenderError(EvaluationError):
    """A report could not be rendered; the previous report is left intact."""


class EvaluationWarning(UserWarning):
    """Base class of warnings raised by the package."""


class SmallCellWarning(EvaluationWarning):
    """A cell was suppressed because it is based on too few persons."""


class BalanceWarning(EvaluationWarning):
    """Covariate balance between the compared groups fails the study's rule."""


class ReliabilityWarning(EvaluationWarning):
    """A scale's reliability diagnostics suggest a problem (e.g. a missing reverse key)."""
