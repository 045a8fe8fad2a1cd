"""Where a study may read files from, and how their paths are shown.

The rule (documented in the README):

* A study's files are named relative to its folder (``studies/<slug>/``).
* They may lie anywhere inside the **project root**, and nowhere else. The project root is the
  folder named by the environment variable ``EVALUATION_PROJECT_ROOT`` when it is set; otherwise
  the folder that holds ``studies/`` when the study lives in ``<root>/studies/<slug>/`` (so the
  shipped studies read ``../../data/…``); otherwise the study folder itself.
* Paths are compared after resolving ``..`` and symbolic links, so neither can reach outside the
  root (a data path ``/etc/passwd`` or a link to it is refused before the file is opened).
* What is published (results.json, tables, reports) names a file only by its path relative to the
  project root, with ``/`` as separator, so outputs do not depend on where the checkout lives.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PROJECT_ROOT_ENV", "project_root", "resolved", "is_inside", "relative_to_root"]

PROJECT_ROOT_ENV = "EVALUATION_PROJECT_ROOT"


def project_root(study_folder: str | os.PathLike) -> Path:
    """The project root of a study folder (resolved): see the module's rule."""
    env = os.environ.get(PROJECT_ROOT_ENV)
    if env:
        return Path(env).expanduser().resolve()
    folder = Path(study_folder).resolve()
    if folder.parent.name == "studies":
        return folder.parent.parent
    return folder


def resolved(path: str | os.PathLike) -> Path | None:
    """``path`` with ``..`` and symbolic links resolved; None when it cannot be (a link loop, a NUL byte)."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError, ValueError):  # RuntimeError: symlink loop (Python < 3.13)
        return None


def is_inside(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """True when ``path`` (resolved, links followed) lies in ``root`` or below it."""
    p = resolved(path)
    return p is not None and p.is_relative_to(Path(root).resolve())


def relative_to_root(path: str | os.PathLike, root: str | os.PathLike) -> str:
    """``path`` relative to ``root`` with ``/`` separators (the file name alone when it lies elsewhere)."""
    p = resolved(path) or Path(path)
    r = Path(root).resolve()
    return p.relative_to(r).as_posix() if p.is_relative_to(r) else p.name
