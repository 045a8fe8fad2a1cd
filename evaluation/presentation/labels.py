"""Readable names for identifiers that have no declared Danish label.

Every label a report prints comes from the study's ``labels`` and ``value_labels``; when a study
declares none for a column, value or term, the report falls back to :func:`readable_label` rather
than printing the identifier: underscores become spaces and the first letter is capitalised, so a
reader never sees ``muskel_skelet`` or ``att_dynamic_overall``.

Examples
--------
>>> readable_label("muskel_skelet")
'Muskel skelet'
>>> readable_label("sick_weeks_52", capitalise=False)
'sick weeks 52'
"""

from __future__ import annotations

import re
from typing import Any, Mapping

__all__ = ["readable_label", "label_for", "value_label_for", "IDENTIFIER"]

#: an identifier as code writes it: lower-case words joined by underscores
IDENTIFIER = re.compile(r"\b[a-zæøå0-9]+(?:_[a-zæøå0-9]+)+\b", re.IGNORECASE)


def readable_label(identifier: Any, *, capitalise: bool = True) -> str:
    """An identifier as words: ``"muskel_skelet"`` → ``"Muskel skelet"``."""
    text = " ".join(str(identifier).replace("_", " ").split())
    if capitalise and text:
        text = text[0].upper() + text[1:]
    return text


def label_for(labels: Mapping[str, str] | None, column: Any, *, capitalise: bool = True) -> str:
    """The declared label of a column, else its readable name."""
    lab = (labels or {}).get(str(column))
    return str(lab) if lab else readable_label(column, capitalise=capitalise)


def value_label_for(value_labels: Mapping[str, Mapping[str, str]] | None, column: Any, value: Any) -> str:
    """The declared label of a value of a column, else the value in readable form."""
    lab = ((value_labels or {}).get(str(column)) or {}).get(str(value))
    if lab:
        return str(lab)
    return readable_label(value) if isinstance(value, str) else str(value)
