"""Shared base and registry of evaluation designs.

A design holds only its specification (constructor arguments). ``fit(data)`` validates
the data, never modifies it, and returns a frozen :class:`~evaluation.results.EffectResult`.
Inference options are keyword arguments of ``fit``; unknown or unsupported options raise
instead of being silently ignored.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Iterable

import pandas as pd

from evaluation.exceptions import (
    DataValidationError,
    EstimationError,
    UnknownNameError,
    UnknownOptionError,
    unknown_keyword_hints,
)
from ..results import EffectResult

__all__ = ["Design", "register_design", "get_design", "DESIGNS", "check_columns"]

DESIGNS: dict[str, type["Design"]] = {}

# pandas 3 always copies on write; pandas 2 (pinned < 3 by lifelines) has it as an option, switched on
# for the duration of a fit (see Design.fit)
_COPY_ON_WRITE_ALWAYS = int(pd.__version__.split(".")[0]) >= 3


def register_design(cls: type["Design"]) -> type["Design"]:
    """Class decorator: register a design under ``cls.name`` for study files."""
    if not getattr(cls, "name", None):
        raise TypeError(f"{cls.__name__} needs a class attribute 'name'")
    DESIGNS[cls.name] = cls
    return cls


def get_design(name: str) -> type["Design"]:
    """Return the design class registered as ``name`` (``KeyError`` lists the known names)."""
    try:
        return DESIGNS[name]
    except KeyError:
        raise UnknownNameError(f"unknown design {name!r}; known designs: {', '.join(sorted(DESIGNS))}") from None


def check_columns(data: pd.DataFrame, columns: Iterable[str], *, what: str = "data") -> None:
    """Raise :class:`DataValidationError` naming every missing column."""
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(f"{what} must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c is not None and c not in data.columns]
    if missing:
        raise DataValidationError(
            f"{what} lacks the column(s) {', '.join(map(repr, missing))}; "
            f"available columns: {', '.join(map(str, data.columns))}"
        )


class Design(ABC):
    """Base class of all designs.

    Subclasses set ``name`` (registry key), ``evidence_level`` (Maryland scale 1-5) and
    ``fit_options`` (the keyword arguments ``fit`` accepts), and implement ``_fit``.
    """

    name: ClassVar[str] = ""
    evidence_level: ClassVar[int] = 0
    fit_options: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every design's constructor names the allowed options when given one it does not take."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        allowed = [p for p in inspect.signature(init).parameters if p != "self"]

        @functools.wraps(init)
        def checked(self, *args: Any, **kw: Any) -> None:
            unknown = [k for k in kw if k not in allowed]
            if unknown:
                raise UnknownOptionError(f"{cls.__name__} does not take {unknown_keyword_hints(unknown, allowed)}; "
                                         f"its options are: {', '.join(allowed)}")
            init(self, *args, **kw)

        cls.__init__ = checked

    @abstractmethod
    def required_columns(self) -> list[str]:
        """Columns ``fit`` needs in its data."""

    @abstractmethod
    def _fit(self, data: pd.DataFrame, **options: Any) -> EffectResult:
        """Estimate on validated data (a shallow, copy-on-write copy: writing to it never reaches the caller's frame)."""

    def fit(self, data: pd.DataFrame, **options: Any) -> EffectResult:
        """Validate ``data`` and estimate. ``data`` is never modified."""
        unknown = set(options) - set(self.fit_options)
        if unknown:
            raise UnknownOptionError(
                f"{type(self).__name__}.fit does not support option(s) "
                f"{unknown_keyword_hints(sorted(unknown), sorted(self.fit_options))}; "
                f"supported: {', '.join(sorted(self.fit_options)) or 'none'}"
            )
        check_columns(data, self.required_columns())
        # with pandas' copy-on-write a shallow copy is enough: a column is copied only when the estimator
        # writes to it, so the caller's frame is never modified and large inputs are not duplicated (a deep
        # copy of a 10-million-row panel took seconds, most of a first fit). pandas 3 always copies on write;
        # on pandas 2 the mode is switched on while the estimator runs (arrays it gets from the frame are
        # then read-only views, as on pandas 3)
        if _COPY_ON_WRITE_ALWAYS:
            return self._fit(data.copy(deep=False), **options)
        with pd.option_context("mode.copy_on_write", True):
            return self._fit(data.copy(deep=False), **options)

    def get_params(self) -> dict[str, Any]:
        """The specification as a dict (constructor arguments)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
