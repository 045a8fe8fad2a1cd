"""Plot primitives shared by every report part: Danish axis numbers, forest plot, bar chart, saving.

Drawing functions return figures; only the report writers save them (with :func:`save_figure`,
byte-identical for identical figures).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import Formatter  # noqa: E402

from evaluation.exceptions import RenderError  # noqa: E402
from evaluation.presentation.formatting import fmt_ci, fmt_number, is_missing  # noqa: E402
from evaluation.presentation.phrases import level_pct  # noqa: E402

__all__ = ["DanishNumberFormatter", "forest_plot", "group_bar_chart", "save_figure"]


# ---------------------------------------------------------------------------
# axes formatting
# ---------------------------------------------------------------------------


class DanishNumberFormatter(Formatter):
    """Tick labels with decimal comma, ``.`` thousands separator and the fewest decimals needed.

    Parameters
    ----------
    suffix : str
        Appended to every label (e.g. ``"\\u00a0%"``).
    scale : float
        Multiplier applied before formatting (``100`` for shares shown as percent).
    """

    def __init__(self, suffix: str = "", scale: float = 1.0):
        self.suffix = suffix
        self.scale = scale
        self._tick_values: list[float] = []

    def set_locs(self, locs) -> None:
        self._tick_values = [float(v) for v in locs]

    def _decimals(self) -> int:
        locs = [v * self.scale for v in self._tick_values]
        for d in range(0, 7):
            if all(abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)) for v in locs):
                return d
        return 6

    def __call__(self, x, pos=None) -> str:
        return fmt_number(x * self.scale, self._decimals()) + self.suffix


# ---------------------------------------------------------------------------
# forest plot and bar chart
# ---------------------------------------------------------------------------


def _rows(rows: Any) -> list[dict[str, Any]]:
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict("records")
    out = [dict(r) for r in rows]
    for i, r in enumerate(out):
        for key in ("label", "estimate", "ci_lower", "ci_upper"):
            if key not in r:
                raise RenderError(f"forest plot row {i}: missing '{key}'")
    return out


def _decimals_for(values: Iterable[float]) -> int:
    vals = [abs(v) for v in values if not is_missing(v)]
    if not vals:
        return 1
    m = max(vals)
    return 0 if m >= 100 else 1 if m >= 1 else 2


#: longest line of a forest-plot row label before it is wrapped
_FOREST_LABEL_CHARS = 38


def forest_plot(
    rows: Any,
    *,
    xlabel: str,
    null: float = 0.0,
    title: str | None = None,
    decimals: int | None = None,
    level: float | None = 0.95,
) -> Figure:
    """Estimates with confidence intervals, one row each, with the estimate printed on the right.

    Parameters
    ----------
    rows : sequence of mapping or DataFrame
        ``label``, ``estimate``, ``ci_lower``, ``ci_upper``. A label starting with spaces is
        drawn as a sub-row (indented, grey). Missing estimates are listed with "–".
    xlabel : str
        Danish axis label, e.g. ``"Effekt (uger)"``.
    null : float, default 0
        Value of no effect, drawn as a dashed vertical line.
    title : str, optional
    decimals : int, optional
        Decimals of the printed estimates; chosen from the magnitude when omitted.
    level : float or None, default 0.95
        The intervals' confidence level, named in the column heading ("Estimat (90 %-SI)"); None when the rows
        mix levels (the heading then says "Estimat (SI)" and the report names each row's level).
    """
    data = _rows(rows)
    if not data:
        raise RenderError("forest plot: no rows to draw")
    n = len(data)
    vals = [v for r in data for v in (r["estimate"], r["ci_lower"], r["ci_upper"]) if not is_missing(v)]
    dec = decimals if decimals is not None else _decimals_for(vals)
    # long labels are wrapped so that they never squeeze the plotting area to nothing
    import textwrap

    wrapped = [textwrap.fill(str(r["label"]).strip(), _FOREST_LABEL_CHARS) for r in data]
    lines = max(w.count("\n") + 1 for w in wrapped)
    fig_h = (0.32 + 0.15 * (lines - 1)) * n + 0.95 + (0.3 if title else 0.0)
    fig, ax = plt.subplots(figsize=(7.0, fig_h))
    ys = list(range(n, 0, -1))
    labels, texts = [], []
    for y, r, w in zip(ys, data, wrapped):
        sub = str(r["label"]).startswith(" ")
        labels.append(("    " + w.replace("\n", "\n    ")) if sub else w)
        est, lo, hi = r["estimate"], r["ci_lower"], r["ci_upper"]
        colour = "#5b6478" if sub else "#1f3b63"
        if not is_missing(lo) and not is_missing(hi):
            ax.plot([lo, hi], [y, y], color=colour, lw=1.6 if not sub else 1.2, solid_capstyle="butt")
        if not is_missing(est):
            ax.plot([est], [y], marker="D" if not sub else "o", ms=6 if not sub else 4.5, color=colour, zorder=3)
            txt = fmt_number(est, dec)
            if not is_missing(lo) and not is_missing(hi):
                txt += f" ({fmt_ci(lo, hi, dec)})"
        else:
            txt = "–"
        texts.append(txt)
    lo_all = min(vals + [null]) if vals else null - 1
    hi_all = max(vals + [null]) if vals else null + 1
    span = (hi_all - lo_all) or 1.0
    ax.set_xlim(lo_all - 0.06 * span, hi_all + 0.06 * span)
    ax.axvline(null, color="#777777", lw=0.9, ls=(0, (4, 3)), zorder=1)
    ax.set_yticks(ys)
    ax.set_yticklabels(labels, fontsize=8.5)
    for tl, r in zip(ax.get_yticklabels(), data):
        if str(r["label"]).startswith(" "):
            tl.set_color("#444444")
        else:
            tl.set_fontweight("bold")
    ax.set_ylim(0.4, n + 0.6)
    ax.xaxis.set_major_formatter(DanishNumberFormatter())
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel(xlabel, fontsize=9)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)
    # Estimates as a text column to the right of the axes.
    for y, t in zip(ys, texts):
        ann = ax.annotate(t, xy=(1.0, y), xycoords=("axes fraction", "data"), xytext=(8, 0),
                          textcoords="offset points", ha="left", va="center", fontsize=8.5, annotation_clip=False)
        ann.set_in_layout(False)
    head = f"Estimat ({level_pct(level)}-SI)" if level is not None else "Estimat (SI)"
    ann = ax.annotate(head, xy=(1.0, n + 0.6), xycoords=("axes fraction", "data"),
                xytext=(8, 2), textcoords="offset points", ha="left", va="bottom", fontsize=8, color="#555555",
                annotation_clip=False)
    ann.set_in_layout(False)
    if title:
        ax.set_title(title, fontsize=10, fontweight="bold", loc="left")
    text_w = max(len(t) for t in texts + [head]) * 0.56 * 8.5 / 72 + 0.25
    fig.tight_layout(rect=(0, 0, 1 - text_w / 7.0, 1 - 0.22 / fig_h))
    return fig


def group_bar_chart(
    categories: Sequence[str],
    groups: Mapping[str, Sequence[float]],
    *,
    ylabel: str,
    percent: bool = False,
    title: str | None = None,
    decimals: int | None = None,
) -> Figure:
    """Grouped vertical bars (one colour per group) with Danish value labels.

    Parameters
    ----------
    categories : sequence of str
        Labels along the x axis.
    groups : mapping of str to sequence of float
        Group name → one value per category (``None``/``NaN`` leaves the bar out and prints "–").
    ylabel : str
    percent : bool, default False
        Values are shares 0–1, shown as percent.
    title : str, optional
    decimals : int, optional
        Decimals of the value labels (default 0 for percent, chosen from magnitude otherwise).
    """
    cats = [str(c) for c in categories]
    if not cats or not groups:
        raise RenderError("bar chart: needs at least one category and one group")
    for g, vs in groups.items():
        if len(vs) != len(cats):
            raise RenderError(f"bar chart: group {g!r} has {len(vs)} values for {len(cats)} categories")
    palette = ["#2f5f98", "#a35a12", "#3f7d32", "#7b4b94", "#5b6478", "#b0413e"]
    k = len(groups)
    width = 0.8 / k
    scale = 100.0 if percent else 1.0
    all_vals = [v * scale for vs in groups.values() for v in vs if not is_missing(v)]
    dec = decimals if decimals is not None else (0 if percent else _decimals_for(all_vals))
    fig, ax = plt.subplots(figsize=(max(4.5, 1.1 * len(cats) * max(1, k / 2) + 1.5), 3.4))
    top = max(all_vals + [0.0])
    for j, (g, vs) in enumerate(groups.items()):
        xs = [i - 0.4 + width * (j + 0.5) for i in range(len(cats))]
        for x, v in zip(xs, vs):
            if is_missing(v):
                ax.text(x, 0, "–", ha="center", va="bottom", fontsize=8)
                continue
            ax.bar([x], [v * scale], width=width * 0.92, color=palette[j % len(palette)], label=g if x == xs[0] else None)
            lab = fmt_number(v * scale, dec) + ("\u00a0%" if percent else "")
            ax.text(x, v * scale + 0.01 * (top or 1), lab, ha="center", va="bottom", fontsize=7.5)
        if is_missing(vs[0]):
            ax.bar([], [], color=palette[j % len(palette)], label=g)
    ax.set_xticks(range(len(cats)))
    ax.set_xticklabels(cats, fontsize=8.5)
    ax.yaxis.set_major_formatter(DanishNumberFormatter(suffix="\u00a0%" if percent else ""))
    ax.set_ylabel(ylabel, fontsize=9)
    ax.set_ylim(min(0.0, min(all_vals + [0.0]) * 1.1), (top or 1) * 1.15)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)
    ax.legend(frameon=False, fontsize=8.5, ncols=min(k, 4), loc="upper left", bbox_to_anchor=(0, 1.12))
    if title:
        ax.set_title(title, fontsize=10, fontweight="bold", loc="left", pad=22)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# saving
# ---------------------------------------------------------------------------

_SALT = "evaluation-report"


def save_figure(fig: Figure, path: str | os.PathLike, *, formats: Sequence[str] | None = None, dpi: int = 150) -> list[Path]:
    """Write a figure as PNG, SVG and/or PDF, byte-identical for identical figures.

    A PDF keeps its text as text (TrueType fonts embedded), so a report typeset with it stays sharp and its
    font sizes can be read back from the rendered PDF.

    Parameters
    ----------
    fig : Figure
    path : path-like
        Target file. Its suffix (``.png``/``.svg``) gives the format unless ``formats`` is given,
        in which case one file per format is written next to it with that suffix.
    formats : sequence of {"png", "svg", "pdf"}, optional
    dpi : int, default 150
        Resolution of PNG files.

    Returns
    -------
    list of Path
        The files written. Each is written to a temporary file and moved into place, so an
        existing figure is never left half-written.
    """
    path = Path(path)
    if formats is None:
        fmt = path.suffix.lower().lstrip(".")
        formats = (fmt,)
        targets = [path]
    else:
        formats = tuple(f.lower().lstrip(".") for f in formats)
        targets = [path.with_suffix("." + f) for f in formats]
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad:
        raise RenderError(f"cannot save figure as {', '.join(bad) or repr(path.suffix)}: use .png, .svg or .pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt, target in zip(formats, targets):
        metadata = ({"Date": None, "Creator": None} if fmt == "svg" else
                    {"CreationDate": None, "Creator": None, "Producer": None} if fmt == "pdf" else {"Software": None})
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".{fmt}", dir=target.parent)
        os.close(fd)
        try:
            with matplotlib.rc_context({"svg.hashsalt": _SALT, "svg.fonttype": "path", "pdf.fonttype": 42}):
                fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
