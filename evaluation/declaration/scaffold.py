"""``evaluation new <slug>``: scaffold a study from the commented Danish programme-theory template."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

from evaluation.exceptions import StudyConfigError

__all__ = ["scaffold_study", "template_text"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9\-]*$")


def template_text(slug: str) -> str:
    """The template with ``slug`` filled in."""
    text = files("evaluation").joinpath("declaration", "study_template.yaml").read_text(encoding="utf-8")
    return text.replace("{slug}", slug)


def scaffold_study(slug: str, studies_root: str | Path = "studies") -> Path:
    """Create ``studies_root/slug/study.yaml``; never overwrites an existing study."""
    if not _SLUG.match(slug):
        raise StudyConfigError(
            f"{slug!r} is not a valid study id; expected lower-case letters, digits and '-' (e.g. 'jobfirst')"
        )
    folder = Path(studies_root) / slug
    target = folder / "study.yaml"
    if target.exists():
        raise StudyConfigError(f"{target}:1: (file): a study already exists here; it is left untouched")
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(template_text(slug), encoding="utf-8")
    return target
