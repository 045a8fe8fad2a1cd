"""Where the text of a rendered PDF sits and how large it is printed, read back with pypdf.

pypdf's own text extraction reports the font size set in the content stream, but not the scaling of a
figure placed as a form XObject (the logic model is embedded as a PDF, text kept as text, and scaled
to its printed width). :func:`text_spans` therefore follows the graphics state itself — ``q``/``Q``,
``cm``, the text matrix (``Tm``, ``Td``, ``TD``, ``T*``, ``TL``), ``Tf`` and ``Do`` of form XObjects with
their ``/Matrix`` — and returns every shown string with its printed size (points) and position.
A test helper (in tests/, not the package: pypdf is a test dependency), used by the tests that check the PDF's
smallest text (≥ 7 pt in tables, ≥ 9 pt in the diagram) and that no text runs past the right margin.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from evaluation.exceptions import RenderError

__all__ = ["TextSpan", "text_spans", "page_size"]


@dataclass(frozen=True)
class TextSpan:
    """A string shown on a page: its printed font size (pt), start position (pt from the lower-left corner),
    where it ends (from the font's glyph widths), and whether it belongs to an embedded figure (a form XObject)."""

    page: int
    text: str
    size: float
    x: float
    y: float
    x_end: float
    in_figure: bool


def _mul(a, b):
    """Product of two PDF matrices [a b c d e f] (a applied first)."""
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


_ID = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def _widths(font) -> tuple[dict[int, float], float]:
    """Glyph widths (thousandths of an em) by code, and the default width, of a PDF font."""
    font = font.get_object()
    if font.get("/Subtype") == "/Type0":
        d = font["/DescendantFonts"][0].get_object()
        default = float(d.get("/DW", 1000))
        out: dict[int, float] = {}
        w = list(d.get("/W", []))
        i = 0
        while i < len(w):
            first = int(w[i])
            nxt = w[i + 1].get_object() if hasattr(w[i + 1], "get_object") else w[i + 1]
            if isinstance(nxt, list):
                for k, v in enumerate(nxt):
                    out[first + k] = float(v)
                i += 2
            else:
                for c in range(first, int(nxt) + 1):
                    out[c] = float(w[i + 2])
                i += 3
        return out, default
    first = int(font.get("/FirstChar", 0))
    widths = [float(x) for x in font.get("/Widths", [])]
    return {first + k: v for k, v in enumerate(widths)}, 500.0


def _advance(operands, op: bytes, widths: tuple[dict[int, float], float]) -> float:
    """Width of a shown string in text space units per point of font size (ems), with TJ's adjustments."""
    table, default = widths
    items = operands[0] if op == b"TJ" and operands and isinstance(operands[0], list) else [operands[-1] if operands else ""]
    total = 0.0
    for x in items:
        if isinstance(x, (int, float)) or hasattr(x, "as_numeric"):
            total -= float(x) / 1000.0
        else:
            codes = x if isinstance(x, bytes) else str(x)
            total += sum(table.get(c if isinstance(c, int) else ord(c), default) for c in codes) / 1000.0
    return total


def _text_of(operand, op: bytes) -> str:
    if op == b"TJ":
        return "".join(x for x in operand[0] if isinstance(x, str)) if operand and isinstance(operand[0], list) else ""
    value = operand[-1] if operand else ""
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace")
    return str(value)


def _walk(content, resources, ctm, page_no: int, in_figure: bool, out: list[TextSpan], depth: int = 0) -> None:
    from pypdf.generic import ContentStream

    if depth > 8:
        return
    stack = []
    size, leading = 0.0, 0.0
    fonts = resources.get("/Font") if resources is not None else None
    fonts = fonts.get_object() if fonts is not None else {}
    widths: tuple[dict[int, float], float] = ({}, 500.0)
    cache: dict[str, tuple[dict[int, float], float]] = {}
    tm = tlm = list(_ID)
    ops = content.operations if isinstance(content, ContentStream) else ContentStream(content, None).operations
    for operands, op in ops:
        if op == b"q":
            stack.append(list(ctm))
        elif op == b"Q":
            ctm = stack.pop() if stack else ctm
        elif op == b"cm":
            ctm = _mul([float(x) for x in operands], ctm)
        elif op == b"BT":
            tm = tlm = list(_ID)
        elif op == b"Tf":
            size = float(operands[1])
            name = str(operands[0])
            if name not in cache:
                font = fonts.get(operands[0]) if fonts else None
                cache[name] = _widths(font) if font is not None else ({}, 500.0)
            widths = cache[name]
        elif op == b"TL":
            leading = float(operands[0])
        elif op == b"Tm":
            tm = tlm = [float(x) for x in operands]
        elif op in (b"Td", b"TD"):
            tx, ty = float(operands[0]), float(operands[1])
            if op == b"TD":
                leading = -ty
            tlm = _mul([1, 0, 0, 1, tx, ty], tlm)
            tm = list(tlm)
        elif op == b"T*":
            tlm = _mul([1, 0, 0, 1, 0, -leading], tlm)
            tm = list(tlm)
        elif op in (b"Tj", b"TJ", b"'", b'"'):
            if op in (b"'", b'"'):
                tlm = _mul([1, 0, 0, 1, 0, -leading], tlm)
                tm = list(tlm)
            text = _text_of(operands, op)
            m = _mul(tm, ctm)
            printed = size * math.hypot(m[2], m[3])
            if text.strip():
                width = _advance(operands, op, widths) * size * math.hypot(m[0], m[1])
                out.append(TextSpan(page_no, text, round(printed, 3), m[4], m[5], m[4] + width, in_figure))
        elif op == b"Do" and resources is not None:
            xobjects = resources.get("/XObject")
            xobj = xobjects.get_object().get(operands[0]) if xobjects is not None else None
            xobj = xobj.get_object() if xobj is not None else None
            if xobj is not None and xobj.get("/Subtype") == "/Form":
                matrix = [float(x) for x in xobj.get("/Matrix", _ID)]
                res = xobj.get("/Resources")
                _walk(xobj, res.get_object() if res is not None else resources, _mul(matrix, ctm), page_no,
                      True, out, depth + 1)


def text_spans(path: str | os.PathLike) -> list[TextSpan]:
    """Every string shown in the PDF, with its printed size and position (see :class:`TextSpan`)."""
    try:
        from pypdf import PdfReader
    except ImportError:
        raise RenderError("reading PDF text needs pypdf (pip install pypdf)") from None
    reader = PdfReader(str(path))
    out: list[TextSpan] = []
    for i, page in enumerate(reader.pages, 1):
        content = page.get_contents()
        if content is None:
            continue
        res = page.get("/Resources")
        _walk(content, res.get_object() if res is not None else None, list(_ID), i, False, out)
    return out


def page_size(path: str | os.PathLike, page: int = 1) -> tuple[float, float]:
    """Width and height of a page in points."""
    from pypdf import PdfReader

    box = PdfReader(str(path)).pages[page - 1].mediabox
    return float(box.width), float(box.height)
