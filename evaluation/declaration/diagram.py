"""Logic-model diagram of a programme theory, drawn with matplotlib only.

:func:`draw_logic_model` returns a :class:`matplotlib.figure.Figure`; the report writer saves
it with :func:`evaluation.presentation.plotting.save_figure` (byte-identical for identical
inputs).

The logic model is laid out in columns from left to right — Ressourcer, Aktiviteter, Output,
Kortsigtede / Mellemlange / Langsigtede resultater, Effekt — with empty columns left out. Boxes
carry wrapped labels and are coloured by node type; primary outcomes get a thick border. Every
arrow carries its mechanism: short labels are written on the arrow, long ones are numbered
("M1") on the arrow and spelt out in a legend below the diagram. Links may skip columns, stay in
a column or point backwards (feedback); they are drawn as curves that avoid other boxes where
possible.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from evaluation.exceptions import RenderError  # noqa: E402

__all__ = ["draw_logic_model", "draw_logic_model_parts", "logic_model_parts", "order_nodes", "count_crossings",
           "COLUMN_HEADERS", "NODE_TYPES", "MIN_FONT", "MAX_WIDTH", "STATUS_TAGS", "LINK_STATUS_STYLE", "link_status"]

NODE_TYPES = ("input", "activity", "output", "outcome", "impact")
HORIZONS = ("short", "medium", "long")

# Column keys in left-to-right order; outcome columns are split by horizon.
_COLUMN_ORDER = ("input", "activity", "output", "outcome:short", "outcome:medium", "outcome:", "outcome:long", "impact")

COLUMN_HEADERS = {
    "input": "Ressourcer",
    "activity": "Aktiviteter",
    "output": "Output",
    "outcome:short": "Kortsigtede resultater",
    "outcome:medium": "Mellemlange resultater",
    "outcome:": "Resultater",
    "outcome:long": "Langsigtede resultater",
    "impact": "Effekt",
}

# (fill, edge) per column key: muted colours that survive greyscale printing.
_COLOURS = {
    "input": ("#e8eaef", "#5b6478"),
    "activity": ("#dce9f7", "#2f5f98"),
    "output": ("#dcf0f0", "#2a7a7a"),
    "outcome:short": ("#e3f2dc", "#3f7d32"),
    "outcome:medium": ("#d3ebc7", "#356b2a"),
    "outcome:": ("#d3ebc7", "#356b2a"),
    "outcome:long": ("#c2e2b2", "#2b5a22"),
    "impact": ("#fbe6cf", "#a35a12"),
}

# Geometry in inches (axes data units are inches, so text sizes can be estimated). The report shows the
# figure at its own size (6.45 in wide at most: the A4 text width), so these point sizes are the printed
# sizes: nothing is smaller than MIN_FONT (9 pt in the PDF, 12 CSS px in the HTML).
MIN_FONT = 9.0
#: widest figure (inches) a part of the logic model may have: the A4 report's text width
MAX_WIDTH = 6.45
#: the narrowest a diagram with a legend is drawn (inches): its legend is wrapped to this width at least
LEGEND_MIN_WIDTH = 5.6
_FONT = 9.5  # pt, box text
_CHAR_W = 0.5 * _FONT / 72  # average glyph width of DejaVu Sans in Danish text (measured), inches
_LINE_H = 1.22 * _FONT / 72
_BOX_W = 1.2
_BOX_PAD = 0.07
_GAP_X = 0.4
_GAP_Y = 0.26
_MARGIN = 0.12
_HEADER_H = 0.5
_HEADER_FONT = 9.5
_LABEL_FONT = MIN_FONT
_LEGEND_FONT = 9.5
_LABEL_CHAR_W = 0.6 * _LABEL_FONT / 72
_LABEL_H = 1.3 * _LABEL_FONT / 72
_INLINE_MAX = 12  # labels up to this many characters are written on the arrow …
_INLINE_MAX_LINKS = 8  # … unless there are more labelled arrows than this (then all are numbered)
#: the Danish tag and colour of an assumption's status (the checks' statuses, evaluation.designs.checks); the
#: tag carries the word, so the colour is never the only cue
STATUS_TAGS = {
    "holder": ("Holder", "#2e7d32"),
    "tvivlsom": ("Tvivlsom", "#b26a00"),
    "brudt": ("Brudt", "#b3261e"),
    "kan_ikke_testes": ("Kan ikke testes", "#5f6670"),
}
#: how an arrow's label is framed by the status of the assumptions the link rests on: (line style, description);
#: the line style carries the status besides the colour (greyscale print, colour blindness)
LINK_STATUS_STYLE = {
    "holder": ("-", "hel"),
    "kan_ikke_testes": ((0, (4, 1.5, 1, 1.5)), "streg-prik"),
    "tvivlsom": ((0, (3, 1.5)), "stiplet"),
    "brudt": ((0, (1, 1)), "prikket"),
}
#: a link's status is the worst of its assumptions' in this order: it holds only when every assumption it rests
#: on holds (an untested assumption leaves the link untested, not holding)
_LINK_ORDER = ("holder", "kan_ikke_testes", "tvivlsom", "brudt")


def link_status(statuses) -> str | None:
    """The status an arrow shows: the worst of its assumptions' statuses (holder < kan ikke testes < tvivlsom <
    brudt); None when none has a status."""
    known = [s for s in statuses if s in _LINK_ORDER]
    return max(known, key=_LINK_ORDER.index) if known else None


_MECH_COLOUR = "#333a45"
_DIRECT_COLOUR = "#8a8f98"

_CODE_RE = re.compile(r"^\s*(M\d+)\s*[:.)–-]\s*(.+?)\s*$", re.S)


# ---------------------------------------------------------------------------
# text helpers
# ---------------------------------------------------------------------------


#: last parts of Danish compounds common in labour-market theories (sygedagpenge-forløb, ledigheds-ydelse)
_COMPOUND_HEADS = ("forløb", "ydelse", "indsats", "gruppe", "center", "centret", "plads", "konsulent", "marked", "rettet",
                   "tilskud", "ordning", "møde", "team", "samtale", "forsørgelse", "pension", "praktik", "uddannelse",
                   "ledighed", "dagpenge", "hjælp", "afklaring", "virksomhed", "medarbejder", "mentor", "timer", "job", "hus",
                   "modtager")


def _split_word(w: str, width: int) -> list[str]:
    """A word longer than ``width`` in pieces that fit, each but the last ending in a hyphen.

    A Danish compound is best split where its parts meet: at a hyphen or slash it already has, else
    after a linking "s" between consonants (virksomheds-konsulent, arbejds-pladsen), else near the middle; no piece is
    shorter than four letters ("førtidspensio-n)" is what a plain cut gives)."""
    if len(w) <= width:
        return [w]
    best, best_score = None, math.inf
    for i in range(4, len(w) - 3):
        head = w[:i] if w[i - 1] in "-/" else w[:i] + "-"
        if len(head) > width:
            break
        linking_s = w[i - 1] == "s" and w[i].lower() not in "aeiouyæøå" and w[i - 2].lower() not in "aeiouyæøå"
        known = w[i:].lower().startswith(_COMPOUND_HEADS)
        score = 0.3 * abs(i - len(w) / 2) + (-2 if w[i - 1] in "-/" else 0 if known else 1 if linking_s else 6)
        if score < best_score:
            best, best_score = i, score
    if best is None:  # no good place: cut where the line is full
        best = width - 1
    head = w[:best] if w[best - 1] in "-/" else w[:best] + "-"
    return [head] + _split_word(w[best:], width)


def _wrap(text: str, width: int) -> list[str]:
    """Wrap at spaces; split words longer than ``width`` where their parts meet (Danish compounds)."""
    words: list[str] = []
    for w in str(text).split():
        words.extend(_split_word(w, width))
    return textwrap.wrap(" ".join(words), width=width, break_long_words=False, break_on_hyphens=False) or [""]


# ---------------------------------------------------------------------------
# logic model
# ---------------------------------------------------------------------------


@dataclass
class _Node:
    id: str
    type: str
    label: str
    column: str
    primary: bool
    lines: list[str]
    order: int
    font: float = _FONT
    ghost: bool = False  # a node of another part of the diagram, drawn dashed where an arrow needs it
    x: float = 0.0
    y: float = 0.0  # centre
    h: float = 0.0

    @property
    def w(self) -> float:
        return _BOX_W

    def bbox(self, pad: float = 0.0) -> tuple[float, float, float, float]:
        return (self.x - self.w / 2 - pad, self.y - self.h / 2 - pad, self.x + self.w / 2 + pad, self.y + self.h / 2 + pad)


@dataclass
class _Link:
    src: _Node
    dst: _Node
    label: str
    code: str | None = None  # "M1" when numbered
    text: str | None = None  # what is drawn on the arrow
    status: str | None = None  # the worst status of the assumptions the link rests on (frames its label)
    direct: bool = False
    start: tuple[float, float] = (0.0, 0.0)
    end: tuple[float, float] = (0.0, 0.0)
    rad: float = 0.0
    points: list[tuple[float, float]] = field(default_factory=list)


def _column_key(node: Mapping[str, Any]) -> str:
    t = node["type"]
    if t == "outcome":
        return f"outcome:{node.get('horizon') or ''}"
    return t


def _validate(nodes: Sequence[Mapping[str, Any]], links: Sequence[Mapping[str, Any]]) -> None:
    problems: list[str] = []
    if not nodes:
        raise RenderError("logic model: no nodes to draw")
    seen: set[str] = set()
    for i, n in enumerate(nodes):
        for key in ("id", "type", "label"):
            if key not in n or n[key] is None or str(n[key]).strip() == "":
                problems.append(f"node {i}: missing '{key}'")
        if n.get("type") is not None and n.get("type") not in NODE_TYPES:
            problems.append(f"node {n.get('id', i)}: type {n.get('type')!r} is not one of {', '.join(NODE_TYPES)}")
        h = n.get("horizon")
        if h is not None and h not in HORIZONS:
            problems.append(f"node {n.get('id', i)}: horizon {h!r} is not one of {', '.join(HORIZONS)}")
        if h is not None and n.get("type") != "outcome":
            problems.append(f"node {n.get('id', i)}: only outcomes have a horizon")
        if n.get("id") in seen:
            problems.append(f"node id {n.get('id')!r} is used twice")
        seen.add(n.get("id"))
    for j, l in enumerate(links):
        for key in ("from", "to"):
            if l.get(key) not in seen:
                problems.append(f"link {j}: '{key}' refers to unknown node {l.get(key)!r}")
        if not str(l.get("label") or "").strip():
            problems.append(f"link {j} ({l.get('from')} → {l.get('to')}): missing label (mechanism name or 'direkte')")
        if l.get("from") == l.get("to"):
            problems.append(f"link {j}: a node cannot link to itself ({l.get('from')!r})")
    if problems:
        raise RenderError("logic model cannot be drawn:\n" + "\n".join(problems))


def _assign_codes(links: list[_Link]) -> list[tuple[str, str]]:
    """Decide what each arrow shows; return the legend entries (code, full text) in order."""
    given: dict[str, str] = {}
    for l in links:
        m = _CODE_RE.match(l.label)
        if m:
            given.setdefault(m.group(1), m.group(2))
    used = {int(c[1:]) for c in given}
    auto: dict[str, str] = {}
    nxt = 1
    n_labelled = sum(1 for l in links if " ".join(l.label.split()).lower() != "direkte")
    inline_ok = n_labelled <= _INLINE_MAX_LINKS
    for l in links:
        lab = " ".join(l.label.split())
        if lab.lower() == "direkte":
            l.direct = True
            continue
        m = _CODE_RE.match(lab)
        if m:
            l.code, l.text = m.group(1), m.group(1)
        elif inline_ok and len(lab) <= _INLINE_MAX:
            l.text = lab
        else:
            if lab not in auto:
                while nxt in used:
                    nxt += 1
                auto[lab] = f"M{nxt}"
                used.add(nxt)
            l.code = l.text = auto[lab]
    legend = [(c, t) for c, t in given.items()] + [(c, t) for t, c in auto.items()]
    return sorted(legend, key=lambda ct: int(ct[0][1:]))


def _order_columns(columns: dict[str, list[_Node]], links: list[_Link]) -> None:
    """Reorder nodes within each column to reduce crossings (barycentre sweeps)."""
    keys = list(columns)
    idx = {k: i for i, k in enumerate(keys)}
    nbrs: dict[str, list[_Node]] = {n.id: [] for col in columns.values() for n in col}
    for l in links:
        nbrs[l.src.id].append(l.dst)
        nbrs[l.dst.id].append(l.src)

    for sweep in range(4):
        order = keys if sweep % 2 == 0 else keys[::-1]
        for k in order[1:]:
            # Positions are snapshotted: list.sort empties the list while it sorts.
            snap = {n.id: i / max(len(col) - 1, 1) for col in columns.values() for i, n in enumerate(col)}

            def pos(n: _Node) -> float:
                return snap[n.id]

            ref_side = (lambda c: idx[c] < idx[k]) if sweep % 2 == 0 else (lambda c: idx[c] > idx[k])

            def bary(n: _Node) -> tuple[float, int]:
                ps = [pos(m) for m in nbrs[n.id] if ref_side(m.column)]
                return (sum(ps) / len(ps) if ps else pos(n), n.order)

            columns[k].sort(key=bary)
    _reduce_crossings(columns, links)


def _crossings(columns: dict[str, list[_Node]], links: list[_Link]) -> int:
    """Crossings of the links between consecutive columns (and of links skipping columns, by their end positions)."""
    keys = list(columns)
    idx = {k: i for i, k in enumerate(keys)}
    pos = {n.id: i / max(len(col) - 1, 1) for col in columns.values() for i, n in enumerate(col)}
    fwd = [(pos[l.src.id], pos[l.dst.id], idx[l.src.column], idx[l.dst.column]) for l in links
           if idx[l.dst.column] != idx[l.src.column]]
    same = [l for l in links if l.src.column == l.dst.column]
    n = 0
    for i, a in enumerate(fwd):
        for b in fwd[i + 1:]:
            if {a[2], a[3]} == {b[2], b[3]} and (a[0] - b[0]) * (a[1] - b[1]) < 0:
                n += 1
    # a link within a column that is not between neighbours crosses the arrows of the nodes it passes
    for l in same:
        col = columns[l.src.column]
        i, j = sorted((col.index(l.src), col.index(l.dst)))
        n += 2 * (j - i - 1)
    return n


def _reduce_crossings(columns: dict[str, list[_Node]], links: list[_Link], rounds: int = 6) -> None:
    """Swap neighbours in a column while that removes crossings (after the barycentre sweeps)."""
    best = _crossings(columns, links)
    for _ in range(rounds):
        improved = False
        for col in columns.values():
            for i in range(len(col) - 1):
                col[i], col[i + 1] = col[i + 1], col[i]
                c = _crossings(columns, links)
                if c < best:
                    best, improved = c, True
                else:
                    col[i], col[i + 1] = col[i + 1], col[i]
        if not improved:
            break


def _bezier(p0, p2, rad: float, n: int = 24) -> list[tuple[float, float]]:
    """Points on matplotlib's ``arc3`` curve from p0 to p2 (same control point construction)."""
    (x1, y1), (x2, y2) = p0, p2
    cx, cy = (x1 + x2) / 2 + rad * (y2 - y1), (y1 + y2) / 2 - rad * (x2 - x1)
    pts = []
    for i in range(n + 1):
        t = i / n
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        pts.append((a * x1 + b * cx + c * x2, a * y1 + b * cy + c * y2))
    return pts


def _inside(p, box) -> bool:
    return box[0] < p[0] < box[2] and box[1] < p[1] < box[3]


def _overlap(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if (w > 0 and h > 0) else 0.0


def _label_size(text: str, bold: bool) -> tuple[float, float]:
    """Width and height (inches) of an arrow's label with its frame. The width is measured from the glyphs
    (:func:`_text_width`): bold codes such as "A1,A2" are about a quarter wider than an
    average-glyph estimate, and a two-line label is as wide as its longest line, not its characters together."""
    lines = text.split("\n")
    width = max(_text_width(line, _LABEL_FONT, bold=bold) for line in lines)
    frame = 2 * 0.18 * _LABEL_FONT / 72 + 0.02  # boxstyle pad on both sides and the frame's line
    return width + frame, len(lines) * _LABEL_H + frame


def _text_width(text: str, size: float = _LEGEND_FONT, *, bold: bool = False, italic: bool = False) -> float:
    """Width (inches) of one line of text as drawn, from the font's advances (spaces included), as matplotlib lays
    it out without a renderer."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(size=size, weight="bold" if bold else "normal", style="italic" if italic else "normal")
    return text_to_path.get_text_width_height_descent(text, prop, ismath=False)[0] / 72


def _wrap_measured(text: str, width: float, *, first: float | None = None, italic: bool = False) -> list[str]:
    """``text`` wrapped at spaces into lines no wider than ``width`` inches (the first line ``first``) as drawn in
    the legend's font; a single word wider than a line keeps a line of its own."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}" if line else word
        limit = first if (first is not None and not lines) else width
        if line and _text_width(trial, italic=italic) > limit:
            lines.append(line)
            line = word
        else:
            line = trial
    if line:
        lines.append(line)
    return lines or [""]


def _gap_for(texts: Sequence[tuple[str, bool]]) -> float:
    """The gap between two columns that the labels of the arrows crossing it need: a label sits on its arrow
    between the columns, so the widest label (and a little air) must fit there; written-out mechanisms need more,
    as arrows may cross the gap at an angle."""
    need = [_GAP_X]
    for text, bold in texts:
        need.append(_label_size(text, bold)[0] + 0.1)
        if not bold:
            need.append(len(text) * _LABEL_CHAR_W + 0.3)
    return max(need)


def _column_gaps(keys: Sequence[str], arrows: Sequence[tuple[str, str, str | None, bool]]) -> list[float]:
    """The gap after each column but the last, for arrows ``(source column, target column, label, bold)``: an arrow
    between neighbouring columns widens only the gap it crosses; a labelled arrow that skips columns, turns back or
    stays in its column (its label finds room elsewhere) widens every gap as a written-out mechanism on it needs."""
    index = {k: i for i, k in enumerate(keys)}
    gaps = [_GAP_X] * max(len(keys) - 1, 0)
    for a, b, text, bold in arrows:
        if not text:
            continue
        i, j = index[a], index[b]
        if abs(i - j) == 1:
            gaps[min(i, j)] = max(gaps[min(i, j)], _gap_for([(text, bold)]))
        elif not bold:
            gaps = [max(g, len(text) * _LABEL_CHAR_W + 0.3) for g in gaps]
    return gaps


def _with_codes(text: str | None, codes: Sequence[str]) -> str | None:
    """An arrow's label with the codes of the assumptions it rests on on a second line (or the codes alone)."""
    if not codes:
        return text
    return f"{text}\n{','.join(codes)}" if text else ",".join(codes)


def _link_texts(links: Sequence[Mapping[str, Any]]) -> list[tuple[str | None, bool]]:
    """What each arrow of ``links`` will show (text or None, bold) when drawn together, as
    :func:`draw_logic_model` writes it; every listed assumption code counts (the drawing leaves out codes it does
    not know, so this is an upper bound)."""
    lks = [_Link(src=None, dst=None, label=str(l["label"])) for l in links]  # type: ignore[arg-type]
    _assign_codes(lks)
    out: list[tuple[str | None, bool]] = []
    for lk, raw in zip(lks, links):
        codes = [str(c) for c in raw.get("assumptions") or ()]
        text = _with_codes(lk.text, codes)
        out.append((text, bool(lk.code)))
    return out


def _spread(n: int, centre: float, half: float) -> list[float]:
    if n == 1:
        return [centre]
    return [centre - half + 2 * half * i / (n - 1) for i in range(n)]


def _route(links: list[_Link], nodes: list[_Node], col_x: dict[str, float]) -> None:
    """Choose anchor points and curvature for every link."""
    col_i = {k: i for i, k in enumerate(col_x)}
    # Forward links leave from the right edge and enter at the left edge; spread the anchor
    # points along the edge in the order of the other end's height, so arrows do not cross there.
    outs: dict[str, list[_Link]] = {}
    ins: dict[str, list[_Link]] = {}
    for l in links:
        if col_i[l.dst.column] > col_i[l.src.column]:
            outs.setdefault(l.src.id, []).append(l)
            ins.setdefault(l.dst.id, []).append(l)
    for group, end_of, attr in ((outs, lambda l: l.dst, "start"), (ins, lambda l: l.src, "end")):
        for nid, ls in group.items():
            ls.sort(key=lambda l: -end_of(l).y)
            node = ls[0].src if attr == "start" else ls[0].dst
            half = min(node.h / 2 - 0.05, 0.06 * (len(ls) - 1))
            ys = _spread(len(ls), node.y, max(half, 0.0))
            xe = node.x + node.w / 2 if attr == "start" else node.x - node.w / 2
            for l, y in zip(ls, ys):
                setattr(l, attr, (xe, y))

    boxes = {n.id: n.bbox(0.03) for n in nodes}
    for l in links:
        ci, cj = col_i[l.src.column], col_i[l.dst.column]
        if cj > ci:
            cands = [(l.start, l.end, r) for r in (0.0, 0.12, -0.12, 0.22, -0.22, 0.32, -0.32, 0.45, -0.45, 0.6, -0.6)]
        elif cj == ci:
            s, d = l.src, l.dst
            between = [n for n in nodes if n.column == s.column and min(s.y, d.y) < n.y < max(s.y, d.y)]
            if not between:
                # neighbours: a short straight arrow through the gap between the boxes
                down = d.y < s.y
                p0 = (s.x, s.y - s.h / 2 if down else s.y + s.h / 2)
                p2 = (d.x, d.y + d.h / 2 if down else d.y - d.h / 2)
                cands = [(p0, p2, 0.0)]
            else:
                # out of the right edge, into the right edge, bulging to the right
                p0, p2 = (s.x + s.w / 2, s.y), (d.x + d.w / 2, d.y)
                sign = -1.0 if d.y < s.y else 1.0
                cands = [(p0, p2, sign * r) for r in (0.45, 0.7)]
        else:
            # Backwards (feedback): over the top or under the bottom of the boxes.
            s, d = l.src, l.dst
            top = ((s.x, s.y + s.h / 2), (d.x, d.y + d.h / 2))
            bot = ((s.x, s.y - s.h / 2), (d.x, d.y - d.h / 2))
            cands = [(top[0], top[1], r) for r in (0.3, 0.45, 0.6)] + [(bot[0], bot[1], -r) for r in (0.3, 0.45, 0.6)]
        best, best_score = None, math.inf
        for k, (p0, p2, rad) in enumerate(cands):
            pts = _bezier(p0, p2, rad)
            hits = sum(1 for p in pts[2:-2] for nid, b in boxes.items() if nid not in (l.src.id, l.dst.id) and _inside(p, b))
            score = hits * 10 + k * 0.1
            if score < best_score:
                best, best_score = (p0, p2, rad, pts), score
        l.start, l.end, l.rad, l.points = best


def _place_labels(links: list[_Link], nodes: list[_Node]) -> list[tuple[_Link, float, float]]:
    """Put each arrow's label on its curve where it overlaps least with boxes and other labels."""
    placed: list[tuple[float, float, float, float]] = []
    node_boxes = [n.bbox(0.01) for n in nodes]
    out = []
    ts = (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2, 0.8)
    for l in sorted(links, key=lambda l: (l.src.x, l.src.y)):
        if not l.text:
            continue
        w, h = _label_size(l.text, bool(l.code))
        best, best_cost = None, math.inf
        n = len(l.points) - 1
        vertical = abs(l.start[0] - l.end[0]) < 1e-9
        cands = [l.points[round(t * n)] for t in ts]
        if vertical:  # beside a short vertical arrow, not on it
            mx, my = l.points[n // 2]
            cands = [(mx + w / 2 + 0.04, my), (mx - w / 2 - 0.04, my)] + cands
        for rank, (x, y) in enumerate(cands):
            bb = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            cost = sum(_overlap(bb, b) for b in placed) * 100 + sum(_overlap(bb, b) for b in node_boxes) * 100 + rank * 1e-4
            if cost < best_cost:
                best, best_cost = (x, y, bb), cost
        x, y, bb = best
        placed.append(bb)
        out.append((l, x, y))
    return out


def draw_logic_model(
    nodes: Sequence[Mapping[str, Any]],
    links: Sequence[Mapping[str, Any]],
    *,
    title: str | None = None,
    assumptions: Sequence[Mapping[str, Any]] = (),
    reorder: bool = True,
) -> Figure:
    """Draw a programme theory as a left-to-right logic model.

    Parameters
    ----------
    nodes : sequence of mapping
        Each with ``id``, ``type`` (``input``, ``activity``, ``output``, ``outcome``,
        ``impact``), ``label``, optional ``horizon`` (``short``, ``medium``, ``long``; outcomes
        only) and optional ``primary`` (bool; drawn with a thick border).
    links : sequence of mapping
        Each with ``from``, ``to`` and ``label``: a mechanism name, ``"M1: name"`` for a
        numbered mechanism, or ``"direkte"`` for a direct link without a mechanism.
    title : str, optional
        Title printed above the diagram.
    assumptions : sequence of mapping, optional
        The theory's assumptions, each with ``code`` (``"A1"``), ``text`` and optional ``status``
        (``holder``, ``tvivlsom``, ``brudt``, ``kan_ikke_testes``: the status from the checks in data).
        They are listed below the diagram with a coloured Danish status tag; a link whose mapping has
        ``assumptions`` (a list of codes) shows those codes on its arrow, its label framed in the colour and
        line style of the worst of their statuses (:func:`link_status`, :data:`LINK_STATUS_STYLE`).
    reorder : bool, default True
        Order the nodes within each column to reduce crossings; False keeps the given order (the parts
        of :func:`draw_logic_model_parts` share one order).

    Returns
    -------
    matplotlib.figure.Figure
        Sized to its content (about 1,75 in per column); data units are inches.

    Raises
    ------
    RenderError
        When a node or link is malformed (unknown type or node id, missing label …).
    """
    nodes = list(nodes)
    links = list(links)
    _validate(nodes, links)

    chars = max(8, int((_BOX_W - 2 * _BOX_PAD) / _CHAR_W))
    present = {_column_key(n) for n in nodes}
    col_keys = [k for k in _COLUMN_ORDER if k in present]
    columns: dict[str, list[_Node]] = {k: [] for k in col_keys}
    by_id: dict[str, _Node] = {}
    for i, n in enumerate(nodes):
        key = _column_key(n)
        primary = bool(n.get("primary", False))
        width = int(chars * 0.86) if primary else chars  # bold text is wider
        # A long compound word shrinks the box's font (never below MIN_FONT) before it is hyphenated.
        longest = max((len(w) for w in str(n["label"]).split()), default=0)
        font = _FONT
        if longest > width:
            shrink = max(MIN_FONT / _FONT, width / longest)
            font, width = _FONT * shrink, int(width / shrink)
        lines = _wrap(str(n["label"]), width)
        node = _Node(id=str(n["id"]), type=n["type"], label=str(n["label"]), column=key,
                     primary=primary, lines=lines, order=i, font=font, ghost=bool(n.get("ghost", False)))
        node.h = len(lines) * _LINE_H * font / _FONT + 2 * _BOX_PAD + 0.04
        columns[key].append(node)
        by_id[node.id] = node
    lks = [_Link(src=by_id[str(l["from"])], dst=by_id[str(l["to"])], label=str(l["label"])) for l in links]
    legend = _assign_codes(lks)
    known_codes = {str(a["code"]) for a in assumptions}
    status_of = {str(a["code"]): a.get("status") for a in assumptions}
    for lk, raw in zip(lks, links):
        codes = [str(c) for c in raw.get("assumptions") or () if str(c) in known_codes]
        lk.status = link_status(status_of[c] for c in codes)
        if codes:  # the assumptions the link rests on, after its mechanism
            # on a second line, so the label stays as narrow as possible (the gap between columns grows to fit it)
            lk.text = _with_codes(lk.text, codes)
    if reorder:
        _order_columns(columns, lks)
    # Widen the gaps so that the labels on arrows fit between the columns (logic_model_parts reckons with the same).
    gaps = _column_gaps(col_keys, [(l.src.column, l.dst.column, l.text, bool(l.code)) for l in lks])

    # Vertical layout: each column centred within the tallest column. A column with a labelled arrow between two of
    # its boxes opens its gaps so that the label (two lines with assumption codes) fits between them.
    gap_y = {k: _GAP_Y for k in columns}
    for l in lks:
        if l.text and l.src.column == l.dst.column:
            gap_y[l.src.column] = max(gap_y[l.src.column], _label_size(l.text, bool(l.code))[1] + 0.1)
    col_h = {k: sum(n.h for n in col) + gap_y[k] * (len(col) - 1) for k, col in columns.items()}
    body_h = max(col_h.values())
    col_x = {}
    for i, k in enumerate(col_keys):
        x = _MARGIN + _BOX_W / 2 + i * _BOX_W + sum(gaps[:i])
        col_x[k] = x
        y = (body_h + col_h[k]) / 2  # top of the column's stack
        for n in columns[k]:
            n.x, n.y = x, y - n.h / 2
            y -= n.h + gap_y[k]
    all_nodes = [n for col in columns.values() for n in col]
    _route(lks, all_nodes, col_x)
    labels = _place_labels(lks, all_nodes)

    # Extents: boxes, curves and labels, plus header band and legend.
    xs = [p[0] for l in lks for p in l.points] + [n.bbox()[0] for n in all_nodes] + [n.bbox()[2] for n in all_nodes]
    ys = [p[1] for l in lks for p in l.points] + [0.0, body_h]
    x0, x1 = min(xs) - _MARGIN, max(xs) + _MARGIN
    y_body_top = max(ys) + 0.1
    y_body_bot = min(ys) - 0.1
    width = x1 - x0
    if (legend or assumptions) and width < LEGEND_MIN_WIDTH:
        # a narrow diagram (two or three columns) would wrap its legend into a tall strip of a few words a line,
        # pushing the figure onto a page of its own: the canvas widens (columns centred) so the legend reads in lines
        pad = (LEGEND_MIN_WIDTH - width) / 2
        x0, x1, width = x0 - pad, x1 + pad, LEGEND_MIN_WIDTH

    # Legend text (mechanisms + symbols), wrapped to the figure width as drawn (measured, not counted in characters:
    # italic Danish text is wider than an average-glyph estimate and ran past the edge of a narrow part).
    avail = width - 2 * _MARGIN
    cont = "    "  # continuation lines are indented
    cont_w = _text_width(cont)
    # Legend rows; each row holds (kind, text, x offset in inches) cells.
    leg_lines: list[list[tuple[str, str, float]]] = []
    if legend:
        leg_lines.append([("head", "Mekanismer", 0.0)])
        items = [f"{code}: {text}" for code, text in legend]
        col_w = max(_text_width(t) for t in items) + 0.3
        n_cols = max(1, min(len(items), int((avail + 0.3) // col_w)))
        if n_cols > 1:  # short entries: several columns, filled column by column
            rows = math.ceil(len(items) / n_cols)
            for r in range(rows):
                leg_lines.append([("item", items[c * rows + r], c * col_w)
                                  for c in range(n_cols) if c * rows + r < len(items)])
        else:
            for item in items:
                wrapped = _wrap_measured(item, avail - cont_w, first=avail)
                leg_lines.append([("item", wrapped[0], 0.0)])
                leg_lines.extend([("cont", cont + w, 0.0)] for w in wrapped[1:])
    if assumptions:
        leg_lines.append([("head", "Antagelser", 0.0)])
        # one indent for every row (the widest tag with its frame), so the assumptions' texts line up
        tag_size = max(MIN_FONT, _LEGEND_FONT - 0.5)
        tags = [STATUS_TAGS[a["status"]][0] for a in assumptions if a.get("status") in STATUS_TAGS]
        indent = (max(_text_width(t, tag_size, bold=True) for t in tags) + 2 * 0.15 * tag_size / 72 + 0.15) if tags else 0.0
        for a in assumptions:
            status = a.get("status")
            tag = STATUS_TAGS.get(status) if status else None
            first = f"{a['code']}: {' '.join(str(a['text']).split())}"
            wrapped = _wrap_measured(first, avail - indent - cont_w, first=avail - indent)
            row: list[tuple[str, str, float]] = []
            if tag:
                row.append((f"tag:{status}", tag[0], 0.0))
            row.append(("item", wrapped[0], indent))
            leg_lines.append(row)
            leg_lines.extend([("cont", cont + w, indent)] for w in wrapped[1:])
    symbols = []
    if any(n.primary for n in all_nodes):
        symbols.append("Tyk ramme: primært resultat")
    if any(l.direct for l in lks):
        symbols.append("Stiplet grå pil: direkte sammenhæng uden særskilt mekanisme")
    if any(col_x[l.dst.column] < col_x[l.src.column] for l in lks):
        symbols.append("Pil mod venstre: tilbagekobling")
    if any(a.get("status") for a in assumptions):
        symbols.append("Mærket ved en antagelse: dens status efter tjek i data (se afsnittet «Hvor robust er resultatet?»)")
    if any("\n" in (l.text or "") or (l.text or "").startswith("A") for l in lks if l.text):
        symbols.append("A1 … under en mekanisme: antagelser, forbindelsen hviler på")
    framed = [st for st in _LINK_ORDER if any(l.status == st and l.text for l in lks)]
    if framed:
        symbols.append("Rammen om en pils mærke: den svageste status blandt antagelserne, forbindelsen hviler på ("
                       + "; ".join(f"{LINK_STATUS_STYLE[st][1]}: {STATUS_TAGS[st][0].lower()}" for st in framed) + ")")
    if any(n.ghost for n in all_nodes):
        symbols.append("Stiplet boks: vist i en anden del af figuren")
    for line in _wrap_measured(" · ".join(symbols), avail, italic=True) if symbols else []:
        leg_lines.append([("sym", line, 0.0)])
    leg_line_h = 1.35 * _LEGEND_FONT / 72
    legend_h = (len(leg_lines) * leg_line_h + 0.15) if leg_lines else 0.0
    title_h = 0.4 if title else 0.0

    y_top = y_body_top + _HEADER_H + title_h
    y_bot = y_body_bot - legend_h
    height = y_top - y_bot

    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y_bot, y_top)
    ax.set_axis_off()

    if title:
        ax.text((x0 + x1) / 2, y_top - 0.12, title, ha="center", va="top", fontsize=11, fontweight="bold")

    # Column backgrounds and headers.
    hdr_y = y_body_top + _HEADER_H / 2
    for k in col_keys:
        fill, edge = _COLOURS[k]
        cx = col_x[k]
        ax.add_patch(FancyBboxPatch((cx - _BOX_W / 2 - 0.08, y_body_bot + 0.02), _BOX_W + 0.16,
                                    (y_body_top + _HEADER_H - 0.04) - (y_body_bot + 0.02),
                                    boxstyle="round,pad=0,rounding_size=0.06", fc="#f6f7f9", ec="none", zorder=0))
        ax.text(cx, hdr_y, "\n".join(_wrap(COLUMN_HEADERS[k], 14)), ha="center", va="center",
                fontsize=_HEADER_FONT, fontweight="bold", color=edge, linespacing=1.1, zorder=3)
        ax.plot([cx - _BOX_W / 2, cx + _BOX_W / 2], [y_body_top + 0.02] * 2, color=edge, lw=1.2, zorder=3,
                solid_capstyle="butt")

    # Boxes.
    for n in all_nodes:
        fill, edge = _COLOURS[n.column]
        ax.add_patch(FancyBboxPatch((n.x - n.w / 2, n.y - n.h / 2), n.w, n.h,
                                    boxstyle="round,pad=0,rounding_size=0.05", fc="white" if n.ghost else fill,
                                    ec="#111111" if n.primary and not n.ghost else edge,
                                    lw=2.4 if n.primary and not n.ghost else 0.9,
                                    linestyle=(0, (3, 2)) if n.ghost else "-", zorder=4))
        ax.text(n.x, n.y, "\n".join(n.lines), ha="center", va="center", fontsize=n.font,
                fontweight="bold" if n.primary and not n.ghost else "normal",
                color="#555b66" if n.ghost else "#111111", linespacing=1.12, zorder=5)

    # Arrows.
    for l in lks:
        colour = _DIRECT_COLOUR if l.direct else _MECH_COLOUR
        ax.add_patch(FancyArrowPatch(l.start, l.end, connectionstyle=f"arc3,rad={l.rad}", arrowstyle="-|>",
                                     mutation_scale=9, lw=1.0 if l.direct else 1.1, color=colour,
                                     linestyle=(0, (3, 2)) if l.direct else "-", shrinkA=0, shrinkB=1.5, zorder=2))
    for l, x, y in labels:
        frame = (dict(ec=STATUS_TAGS[l.status][1], lw=1.3, linestyle=LINK_STATUS_STYLE[l.status][0])
                 if l.status else dict(ec="#9aa0a8", lw=0.5))
        ax.text(x, y, l.text, ha="center", va="center", fontsize=_LABEL_FONT,
                fontweight="bold" if l.code else "normal", color=_MECH_COLOUR, zorder=6,
                bbox=dict(boxstyle="round,pad=0.18", fc="white", **frame))

    # Legend.
    y = y_body_bot - 0.1
    for row in leg_lines:
        for kind, text, dx in row:
            if kind.startswith("tag:"):
                colour = STATUS_TAGS[kind[4:]][1]
                ax.text(x0 + _MARGIN + dx + 0.03, y - 0.01, text, ha="left", va="top", fontsize=max(MIN_FONT, _LEGEND_FONT - 0.5),
                        fontweight="bold", color="white",
                        bbox=dict(boxstyle="round,pad=0.15", fc=colour, ec="none"))
                continue
            ax.text(x0 + _MARGIN + dx, y, text, ha="left", va="top", fontsize=_LEGEND_FONT,
                    fontweight="bold" if kind == "head" else "normal",
                    color="#555b66" if kind == "sym" else "#222222",
                    fontstyle="italic" if kind == "sym" else "normal")
        y -= leg_line_h
    return fig


# ---------------------------------------------------------------------------
# large theories: one order, split by layer into parts that fit the page
# ---------------------------------------------------------------------------


def count_crossings(nodes: Sequence[Mapping[str, Any]], links: Sequence[Mapping[str, Any]]) -> int:
    """Crossings between the links of consecutive columns when the nodes are drawn in the given order."""
    columns: dict[str, list[_Node]] = {k: [] for k in _COLUMN_ORDER}
    by_id = {}
    for i, n in enumerate(nodes):
        node = _Node(id=str(n["id"]), type=n["type"], label="", column=_column_key(n), primary=False, lines=[], order=i)
        columns[node.column].append(node)
        by_id[node.id] = node
    columns = {k: v for k, v in columns.items() if v}
    return _crossings(columns, [_Link(src=by_id[str(l["from"])], dst=by_id[str(l["to"])], label="") for l in links])


def order_nodes(nodes: Sequence[Mapping[str, Any]], links: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The nodes in the order the diagram draws them (column by column, crossings reduced)."""
    _validate(list(nodes), list(links))
    columns: dict[str, list[_Node]] = {k: [] for k in _COLUMN_ORDER}
    by_id: dict[str, _Node] = {}
    for i, n in enumerate(nodes):
        node = _Node(id=str(n["id"]), type=n["type"], label=str(n["label"]), column=_column_key(n),
                     primary=bool(n.get("primary")), lines=[], order=i)
        columns[node.column].append(node)
        by_id[node.id] = node
    columns = {k: v for k, v in columns.items() if v}
    lks = [_Link(src=by_id[str(l["from"])], dst=by_id[str(l["to"])], label=str(l["label"])) for l in links]
    _order_columns(columns, lks)
    original = {str(n["id"]): n for n in nodes}
    return [original[n.id] for col in columns.values() for n in col]


def _part_width(gaps: Sequence[float]) -> float:
    """Width (inches) of a diagram of ``len(gaps) + 1`` columns with these gaps between them."""
    return 2 * _MARGIN + (len(gaps) + 1) * _BOX_W + sum(gaps) + 0.16


def logic_model_parts(nodes: Sequence[Mapping[str, Any]], links: Sequence[Mapping[str, Any]], *,
                      max_width: float = MAX_WIDTH) -> list[tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]]:
    """The theory split by layer into parts whose diagram fits ``max_width`` inches at full text size.

    Consecutive parts share a column, so every arrow between neighbouring layers is drawn whole in one part. An
    arrow whose ends lie in no common part is drawn in its target's part, with its source as a dashed box. The
    nodes keep one order across the parts (:func:`order_nodes`). One part when the whole theory fits.
    """
    ordered = order_nodes(nodes, links)
    keys = [k for k in _COLUMN_ORDER if any(_column_key(n) == k for n in ordered)]
    col_of = {str(n["id"]): _column_key(n) for n in ordered}
    by_id = {str(n["id"]): n for n in ordered}

    def split(per: int) -> tuple[list[list[str]], dict[int, int]]:
        windows, start = [], 0
        while start < len(keys) - 1:
            windows.append(keys[start:start + per])
            start += per - 1
        placed: dict[int, int] = {}
        for j, l in enumerate(links):
            a, b = col_of[str(l["from"])], col_of[str(l["to"])]
            both = [w for w, cols in enumerate(windows) if a in cols and b in cols]
            placed[j] = both[0] if both else next(w for w, cols in enumerate(windows) if b in cols)
        return windows, placed

    def width(cols: Sequence[str], part_links: Sequence[Mapping[str, Any]]) -> float:
        # a link from another part starts at a dashed copy in the part's nearest column
        ends = [(col_of[str(l["from"])] if col_of[str(l["from"])] in cols else
                 (cols[0] if keys.index(col_of[str(l["from"])]) < keys.index(cols[0]) else cols[-1]),
                 col_of[str(l["to"])], text, bold) for l, (text, bold) in zip(part_links, _link_texts(part_links))]
        return _part_width(_column_gaps(cols, ends))

    def fits(per: int) -> bool:  # every part, with the gaps its own arrows' labels need, within max_width
        if per >= len(keys):
            return width(keys, links) <= max_width
        windows, placed = split(per)
        return all(width(cols, [l for j, l in enumerate(links) if placed[j] == w]) <= max_width
                   for w, cols in enumerate(windows))

    per = max(len(keys), 2)
    while per > 2 and not fits(per):
        per -= 1
    if len(keys) <= per:
        return [(list(ordered), list(links))]
    windows, placed = split(per)
    parts = []
    for w, cols in enumerate(windows):
        part_links = [l for j, l in enumerate(links) if placed[j] == w]
        part_nodes = [n for n in ordered if col_of[str(n["id"])] in cols]
        ghosts = []
        for l in part_links:
            src = str(l["from"])
            if col_of[src] not in cols and src not in {str(g["id"]) for g in ghosts}:
                # the source lives in another part: a dashed copy in the nearest column of this part
                edge = cols[0] if keys.index(col_of[src]) < keys.index(cols[0]) else cols[-1]
                ghost = dict(by_id[src], ghost=True, primary=False)
                ghost.update(_ghost_column(edge))
                ghosts.append(ghost)
        parts.append((part_nodes + ghosts, part_links))
    return parts


def _ghost_column(key: str) -> dict[str, Any]:
    """The node fields that put a dashed copy into column ``key``."""
    t, _, horizon = key.partition(":")
    return {"type": t, "horizon": horizon or None} if t == "outcome" else {"type": t, "horizon": None}


def draw_logic_model_parts(nodes: Sequence[Mapping[str, Any]], links: Sequence[Mapping[str, Any]], *,
                           max_width: float = MAX_WIDTH,
                           assumptions: Sequence[Mapping[str, Any]] = ()) -> list[Figure]:
    """The logic model as one figure, or as several parts split by layer when it is wider than ``max_width``
    inches at full text size (:func:`logic_model_parts`); the report prints each at its own size. Each part
    lists the assumptions its arrows rest on; the last part also those on no arrow."""
    parts = logic_model_parts(nodes, links, max_width=max_width)
    on_links = {str(c) for l in links for c in (l.get("assumptions") or ())}
    out = []
    for i, (n, l) in enumerate(parts):
        mine = {str(c) for lk in l for c in (lk.get("assumptions") or ())}
        last = i == len(parts) - 1
        asm = [a for a in assumptions if str(a["code"]) in mine or (last and str(a["code"]) not in on_links)]
        out.append(draw_logic_model(n, l, reorder=len(parts) == 1, assumptions=asm))
    return out
