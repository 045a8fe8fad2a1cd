"""Pandoc/Quarto markdown building blocks: pipe tables with Danish missing marks.

Tables use the markdown subset both pandoc and Quarto understand (pipe tables with an
optional caption), so one ``.qmd`` renders the same with either engine.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

__all__ = ["md_table", "DASH"]

DASH = "–"


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _cell(text: Any) -> str:
    s = DASH if _nan(text) else str(text)
    return s.replace("|", "\\|").replace("\n", " ")


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None, caption: str | None = None) -> str:
    """A pandoc pipe table. ``align`` is a string of 'l'/'r'/'c' per column."""
    headers = list(headers)
    align = align or "l" + "r" * (len(headers) - 1)
    marks = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(_cell(c) for c in r) + " |")
    out = "\n".join(lines) + "\n"
    if caption:
        out += f"\n: {caption}\n"
    return out
