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


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None, caption: str | None = None,
             widths: Sequence[int] | None = None) -> str:
    """A pandoc pipe table. ``align`` is a string of 'l'/'r'/'c' per column; ``widths`` (relative) set the columns'
    widths, so a wide table gives its text columns room instead of sharing the page equally."""
    headers = list(headers)
    align = align or "l" + "r" * (len(headers) - 1)
    if widths:
        # pandoc reads the dashes as relative widths only when a line is longer than --columns (the renderer
        # uses 1000), so the separator is stretched past that
        factor = max(1, math.ceil(1010 / sum(widths)))
        dashes = ["-" * max(3, w * factor) for w in widths]
        marks_w = [(":" + d) if a == "l" else (d + ":") if a == "r" else (":" + d + ":") for a, d in zip(align, dashes)]
        lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "|".join(marks_w) + "|"]
        for r in rows:
            lines.append("| " + " | ".join(_cell(c) for c in r) + " |")
        out = "\n".join(lines) + "\n"
        return out + (f"\n: {caption}\n" if caption else "")
    marks = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(_cell(c) for c in r) + " |")
    out = "\n".join(lines) + "\n"
    if caption:
        out += f"\n: {caption}\n"
    return out
