"""Libraries imported on first use, so that ``evaluation --help``, ``validate`` and the start of ``run`` do not
pay for them (issue 16 item 5: scipy.stats alone costs ~0.4 s to import, statsmodels' helpers more).

``stats`` and ``optimize`` stand in for ``scipy.stats`` and ``scipy.optimize``: the first attribute read
imports the real module and copies its namespace, so later reads are ordinary attribute lookups. The
statsmodels functions are thin wrappers that import their function on the first call. Written here because
``importlib.util.LazyLoader`` replaces the module object in ``sys.modules`` and would make ``scipy.stats``
itself lazy for every other library in the process.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

__all__ = ["stats", "optimize", "proportion_confint", "confint_proportions_2indep", "multipletests"]


class _LazyModule(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        mod = importlib.import_module(self.__name__)
        self.__dict__.update({k: v for k, v in mod.__dict__.items() if not k.startswith("__")})
        return getattr(mod, attr)


stats = _LazyModule("scipy.stats")
optimize = _LazyModule("scipy.optimize")


def proportion_confint(*args: Any, **kwargs: Any):
    """:func:`statsmodels.stats.proportion.proportion_confint`, imported on first use."""
    from statsmodels.stats.proportion import proportion_confint as f

    return f(*args, **kwargs)


def confint_proportions_2indep(*args: Any, **kwargs: Any):
    """:func:`statsmodels.stats.proportion.confint_proportions_2indep`, imported on first use."""
    from statsmodels.stats.proportion import confint_proportions_2indep as f

    return f(*args, **kwargs)


def multipletests(*args: Any, **kwargs: Any):
    """:func:`statsmodels.stats.multitest.multipletests`, imported on first use."""
    from statsmodels.stats.multitest import multipletests as f

    return f(*args, **kwargs)
