"""Named errors and warnings raised by :mod:`evaluation`.

Every error an evaluator can trigger with a study file or data is one of these;
the command line turns them into plain messages and exit code 2, never a traceback.

Each error also subclasses the matching built-in, so code written for the ecosystem catches it
as it expects: a study file, data or estimation problem is a ``ValueError``, a data file that does
not exist a ``FileNotFoundError``, an unknown design, metric or scale name a ``KeyError``, an
unknown keyword argument a ``TypeError``, a failed render a ``RuntimeError``.
"""

from __future__ import annotations

__all__ = [
    "EvaluationError",
    "StudyConfigError",
    "DataValidationError",
    "DisclosureError",
    "EstimationError",
    "RenderError",
    "ConcurrentRunError",
    "StaleReportError",
    "DataFileNotFoundError",
    "UnknownNameError",
    "UnknownOptionError",
    "EvaluationWarning",
    "SmallCellWarning",
    "BalanceWarning",
    "ReliabilityWarning",
    "WeakTakeUpWarning",
]


class EvaluationError(Exception):
    """Base class of every error the package raises on purpose."""


class StudyConfigError(EvaluationError, ValueError):
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


class DataValidationError(EvaluationError, ValueError):
    """Input data do not match what the study declares (file, column and rows named).

    Parameters
    ----------
    problems : str or list of str
        One message, or every problem found (``evaluation validate`` lists them all), each naming
        the file, the column and the rows (``file:line: column 'x': …``).
    """

    def __init__(self, problems: "list[str] | str" = ""):
        if isinstance(problems, (list, tuple)):
            self.problems = [str(p) for p in problems]
        else:
            self.problems = [str(problems)] if str(problems) else []
        super().__init__("\n".join(self.problems))


class DataFileNotFoundError(DataValidationError, FileNotFoundError):
    """A data file the study declares does not exist."""


class DisclosureError(EvaluationError, ValueError):
    """A result would disclose a group smaller than the study's disclosure threshold."""


class EstimationError(EvaluationError, ValueError):
    """An estimator cannot honour its specification with the data given."""


class RenderError(EvaluationError, RuntimeError):
    """A report could not be rendered; the previous report is left intact."""


class ConcurrentRunError(EvaluationError, RuntimeError):
    """Another run of the same study holds its output folder for longer than the wait allowed."""


class StaleReportError(EvaluationError, ValueError):
    """A report would present a results bundle other than the one it was made from."""


class UnknownNameError(EvaluationError, KeyError):
    """An unknown design, metric or scale name (the message lists the known ones)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownOptionError(EvaluationError, TypeError):
    """A keyword argument a function or design does not take (the message names the allowed ones)."""


class EvaluationWarning(UserWarning):
    """Base class of warnings raised by the package."""


class SmallCellWarning(EvaluationWarning):
    """A cell was suppressed because it is based on too few persons."""


class BalanceWarning(EvaluationWarning):
    """Covariate balance between the compared groups fails the study's rule."""


class ReliabilityWarning(EvaluationWarning):
    """A scale's reliability diagnostics suggest a problem (e.g. a missing reverse key)."""


class WeakTakeUpWarning(EvaluationWarning):
    """Allocation moves take-up too little (first-stage F below 10): the complier effect is unreliable."""


def unknown_keyword_hints(unknown, allowed) -> str:
    """The unknown names quoted, each with a "did you mean" guess from ``allowed`` where one is close:
    ``"'sed' (did you mean 'seed'?), 'x'"`` — the one wording every unknown-option message uses."""
    import difflib

    hints = []
    for k in unknown:
        guess = difflib.get_close_matches(k, list(allowed), n=1)
        hints.append(f"{k!r}" + (f" (did you mean {guess[0]!r}?)" if guess else ""))
    return ", ".join(hints)


def check_keywords(namespace: dict, names) -> None:
    """Wrap each public function ``namespace[name]`` so an unknown keyword argument raises
    :class:`UnknownOptionError` naming the allowed ones (with a "did you mean" guess) instead of Python's bare
    TypeError. The wrapper keeps the function's name, docstring and signature (``help()`` and doctests see the
    original); functions that take ``**kwargs`` and classes are left as they are."""
    import functools
    import inspect

    for name in names:
        f = namespace.get(name)
        if not inspect.isfunction(f):
            continue
        params = inspect.signature(f).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            continue
        allowed = [p for p, v in params.items() if v.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                              inspect.Parameter.KEYWORD_ONLY)]

        def make(f=f, allowed=allowed):
            @functools.wraps(f)
            def checked(*args, **kw):
                unknown = [k for k in kw if k not in allowed]
                if unknown:
                    raise UnknownOptionError(f"{f.__name__}() does not take {unknown_keyword_hints(unknown, allowed)}; "
                                             f"its arguments are: {', '.join(allowed)}")
                return f(*args, **kw)
            return checked

        namespace[name] = make()
