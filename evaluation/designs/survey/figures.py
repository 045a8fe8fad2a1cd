"""Figures for survey results (brugermålinger): the diverging stacked Likert chart.

The drawing functions return :class:`matplotlib.figure.Figure` objects; only the report writer
saves files.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, MultipleLocator  # noqa: E402

from evaluation.designs.survey.scoring import records_frame  # noqa: E402
from evaluation.exceptions import DataValidationError  # noqa: E402
from evaluation.metrics.scales import LikertScale  # noqa: E402
from evaluation.presentation.formatting import NBSP, fmt_int, fmt_number, fmt_pct  # noqa: E402
from evaluation.presentation.phrases import ci_label  # noqa: E402

#: the survey charts' width in inches: the A4 report's text width, so the report prints them at their own size
from evaluation.designs.survey.scoring import FIGURE_WIDTH  # noqa: E402  (kept where importing it costs no pyplot)

__all__ = ["survey_figures", "unit_chart", "diverging_likert_chart", "likert_colours", "percent_axis_formatter"]


def likert_colours(scale: LikertScale) -> dict[int, tuple[float, float, float, float]]:
    """Colour per valid code: reds for negative, grey for neutral, blues for positive answers."""
    neg, pos = scale.negative_codes, scale.positive_codes
    reds = plt.get_cmap("Reds")
    blues = plt.get_cmap("Blues")
    out: dict[int, Any] = {}
    for i, c in enumerate(neg):  # most negative first -> darkest
        out[c] = reds(0.75 - 0.4 * i / max(len(neg) - 1, 1)) if len(neg) > 1 else reds(0.55)
    for i, c in enumerate(pos):  # most positive last -> darkest
        out[c] = blues(0.35 + 0.45 * i / max(len(pos) - 1, 1)) if len(pos) > 1 else blues(0.6)
    for c in scale.codes:
        out.setdefault(c, (0.78, 0.78, 0.78, 1.0))
    return out


def percent_axis_formatter() -> FuncFormatter:
    """Axis formatter for shares on a diverging axis: absolute value in percent, decimal comma.

    Examples
    --------
    >>> f = percent_axis_formatter()
    >>> f(-0.125, 0)
    '12,5\\xa0%'
    >>> f(0.5, 0)
    '50\\xa0%'
    """

    def fmt(x: float, _pos: Any) -> str:
        v = abs(x) * 100
        decimals = 0 if math.isclose(v, round(v), abs_tol=1e-9) else 1
        return f"{fmt_number(v, decimals)}{NBSP}%"

    return FuncFormatter(fmt)


def diverging_likert_chart(
    distribution_frame: pd.DataFrame,
    scale: LikertScale,
    item_labels: Mapping[str, str],
    n_by_item: Mapping[str, int],
    response_rate: float | Mapping[str, float] | None = None,
    title: str | None = None,
    wrap: int = 34,
):
    """Diverging stacked bar chart of the answer distribution of several items.

    Parameters
    ----------
    distribution_frame : DataFrame
        Output of :func:`evaluation.metrics.survey.distribution` for one group (columns
        ``item``, ``code``, ``kind``, ``share``); shares are over valid answers.
    scale : LikertScale
        Categories, labels and the neutral code come from the scale.
    item_labels : mapping of str to str
        Item id → Danish text, in the order the bars are drawn (top to bottom). Every item in
        the frame must have a label and vice versa.
    n_by_item : mapping of str to int
        Valid answers per item, written beside each bar ("n = 1.003").
    response_rate : float or mapping of str to float, optional
        Response rate written beside each bar (one value for all items, or per item).
    title : str, optional
    wrap : int, default 48
        Wrap item texts at this many characters.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    DataValidationError
        Missing columns, several rows per item and code (filter to one group first), or items
        without a label or n.

    Notes
    -----
    Negative categories extend to the left of 0, positive to the right, and the neutral
    category is split in two halves centred on 0, so a bar's horizontal position shows the
    balance of positive and negative answers. Missing answers ("Ved ikke", blank) are not drawn;
    shares are of valid answers. The axis shows absolute shares in percent with a decimal comma.

    Examples
    --------
    >>> from evaluation.metrics.scales import get_scale
    >>> from evaluation.metrics.survey import distribution
    >>> from evaluation.synthetic.brugermaaling import simulate_brugermaaling, ITEMS
    >>> answers, _ = simulate_brugermaaling()
    >>> scale = get_scale("brugermaaling-5")
    >>> d = distribution(answers, list(ITEMS), scale)
    >>> n = d.groupby("item")["n_valid"].first().to_dict()
    >>> fig = diverging_likert_chart(d, scale, ITEMS, n, response_rate=1032 / 2070)
    >>> len(fig.axes[0].patches) >= 9 * 5
    True
    """
    need = ["item", "code", "kind", "share"]
    missing = [c for c in need if c not in distribution_frame.columns]
    if missing:
        raise DataValidationError(f"distribution_frame has no column(s) {missing}; pass the output of survey.distribution")
    d = distribution_frame[distribution_frame["kind"] == "valid"]
    dup = d.duplicated(["item", "code"])
    if dup.any():
        raise DataValidationError(
            "distribution_frame has several rows per item and code (a `by` distribution?); "
            f"filter it to one group first (rows {list(d.index[dup.to_numpy()][:5])})"
        )
    items_in_frame = list(dict.fromkeys(d["item"]))
    items = list(item_labels)
    no_label = [i for i in items_in_frame if i not in item_labels]
    no_data = [i for i in items if i not in items_in_frame]
    if no_label or no_data:
        raise DataValidationError(
            f"items and labels do not match: items without a label {no_label}; labels without data {no_data}"
        )
    no_n = [i for i in items if i not in n_by_item]
    if no_n:
        raise DataValidationError(f"n_by_item has no n for item(s) {no_n}")
    if isinstance(response_rate, Mapping):
        no_rr = [i for i in items if i not in response_rate]
        if no_rr:
            raise DataValidationError(f"response_rate has no value for item(s) {no_rr}")
    unknown = sorted(set(d["code"].dropna().astype(int)) - set(scale.codes))
    if unknown:
        raise DataValidationError(f"distribution_frame has codes {unknown} that are not codes of scale {scale.name!r}")

    shares = {it: {int(c): float(s) for c, s in zip(g["code"], g["share"])}
              for it, g in d.groupby("item", sort=False)}
    colours = likert_colours(scale)
    neg, pos, neu = scale.negative_codes, scale.positive_codes, scale.neutral

    height = 0.9 + 0.66 * len(items)
    # drawn at the A4 text width (6.45 in) and printed at its own size: no text below 8 pt on paper
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, height + 1.4))
    y_positions = np.arange(len(items))[::-1]
    max_left = max_right = 0.0
    for y, it in zip(y_positions, items):
        s = shares[it]
        half_neutral = s.get(neu, 0.0) / 2 if neu is not None else 0.0
        left = -(half_neutral + sum(s.get(c, 0.0) for c in neg))
        max_left = max(max_left, -left)
        x = left
        for c in scale.codes:
            w = s.get(c, 0.0)
            if np.isnan(w):
                w = 0.0
            ax.barh(y, w, left=x, height=0.62, color=colours[c], edgecolor="white", linewidth=0.6)
            if w >= 0.15:
                dark = c in (scale.codes[0], scale.codes[-1])
                ax.text(x + w / 2, y, fmt_pct(w), ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
            x += w
        max_right = max(max_right, x)
    step = 0.25
    left_lim = max(step, math.ceil(max_left / step - 1e-9) * step)
    right_lim = max(step, math.ceil(max_right / step - 1e-9) * step)
    ax.set_xlim(-left_lim - 0.01, right_lim + 0.01)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(percent_axis_formatter())
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y_positions)
    ax.set_yticklabels([textwrap.fill(str(item_labels[it]), wrap) for it in items], fontsize=8.5)
    ax.set_ylim(-0.6, len(items) - 0.4)
    for spine in ("top", "right", "left"):
        ax.spines[spine].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("Andel af gyldige svar (negative til venstre, positive til højre for 0)", fontsize=8.5)

    trans = ax.get_yaxis_transform()  # x in axes coordinates, y in data
    for y, it in zip(y_positions, items):
        txt = f"n = {fmt_int(n_by_item[it])}"
        if response_rate is not None:
            rr = response_rate[it] if isinstance(response_rate, Mapping) else response_rate
            txt += f"\nsvarprocent {fmt_pct(rr)}"
        ax.text(1.01, y, txt, transform=trans, ha="left", va="center", fontsize=8, clip_on=False)

    handles = [Patch(facecolor=colours[c], label=lab) for c, lab in zip(scale.codes, scale.labels)]
    if title:
        ax.set_title(title, fontsize=11, loc="left")
    fig.tight_layout()
    fig_h = fig.get_figheight()
    fig.subplots_adjust(right=0.8, bottom=1.3 / fig_h)
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.05 / fig_h), ncol=min(len(handles), 3),
               frameon=False, fontsize=8, handlelength=1.2, columnspacing=1.0)
    return fig


def unit_chart(survey: Mapping[str, Any], unit_label: str):
    """Top-box share by unit with 95\u00a0% intervals, one panel row per item."""
    import matplotlib

    matplotlib.use("Agg")
    import textwrap

    import matplotlib.pyplot as plt

    units = survey["units"]
    items = survey["items"]
    cmap = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 1.3 + 0.8 * len(items)))
    gap = 0.7 / max(len(units), 1)
    yticks, ylabels = [], []
    lows = []
    for i, it in enumerate(items):
        y0 = len(items) - 1 - i
        yticks.append(y0)
        ylabels.append(textwrap.fill(it["text"], 34))
        t = records_frame(it["top_box_by_unit"])
        total = it["top_box"]["estimates"][0]
        if total["estimate"] is not None:
            ax.plot([total["estimate"]] * 2, [y0 - 0.42, y0 + 0.42], color="0.35", linewidth=1.0, linestyle="--")
        for j, u in enumerate(units):
            r = t[t[survey["unit"]] == u]
            if r.empty or pd.isna(r["estimate"].iloc[0]):
                continue
            y = y0 + 0.35 - j * gap - gap / 2
            e, lo, hi = r["estimate"].iloc[0], r["ci_lower"].iloc[0], r["ci_upper"].iloc[0]
            lows.append(lo)
            ax.errorbar([e], [y], xerr=[[e - lo], [hi - e]], fmt="o", color=cmap(j % 10), markersize=4,
                        elinewidth=1.2, capsize=2)
    ax.set_yticks(yticks)
    ax.set_yticklabels(ylabels, fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_ylim(-0.6, len(items) - 0.4)
    left = max(0.0, math.floor((min(lows) if lows else 0.0) * 10 - 0.5) / 10)
    ax.set_xlim(left, 1.0)
    ax.xaxis.set_major_formatter(percent_axis_formatter())
    ax.grid(axis="x", color="0.9")
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    ax.set_xlabel(f"Andel med et positivt svar (punkt) med {ci_label(survey.get('conf_level', 0.95))} (streg);\n"
                  "stiplet linje = alle enheder samlet", fontsize=8)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", linestyle="-", color=cmap(j % 10), markersize=4) for j in range(len(units))]
    handles.append(Line2D([], [], linestyle="--", color="0.35"))
    labels = [str(u) for u in units] + ["I alt"]
    fig.tight_layout()
    fig_h = fig.get_figheight()
    fig.subplots_adjust(bottom=1.35 / fig_h)
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.02 / fig_h), ncol=min(len(labels), 3),
               frameon=False, fontsize=8)
    return fig


def survey_figures(records) -> dict[str, Any]:
    """The figures of every survey analysis: key → figure.

    ``survey_<id>`` (diverging stacked bars of every item, with n and response rate beside each
    bar) and, when the survey has several units, ``survey_<id>_units`` (top-box share by unit with
    intervals at the survey's confidence level). Only published (disclosure-controlled) numbers are drawn; hidden categories
    are left out of the bars.
    """
    out: dict[str, Any] = {}
    for rec in records:
        sv = rec.result.survey
        scale_rec = sv["scale"]
        scale = LikertScale.custom(
            scale_rec["name"], codes=[c["code"] for c in scale_rec["categories"]],
            labels=[c["label"] for c in scale_rec["categories"]],
            top_box=[c["code"] for c in scale_rec["categories"] if c["top_box"]], neutral=scale_rec.get("neutral"))
        frames, item_labels, n_by_item = [], {}, {}
        for it in sv["items"]:
            d = records_frame(it["distribution"])
            d = d.assign(item=it["id"], share=pd.to_numeric(d["share"], errors="coerce").fillna(0.0))
            frames.append(d)
            item_labels[it["id"]] = it["text"]
            n_by_item[it["id"]] = it["n_valid"] if it["n_valid"] is not None else float("nan")
        rr = None
        if sv.get("response_rate"):
            rr = sv["response_rate"]["result"]["estimates"][0]["estimate"]
        out[f"survey_{sv['id']}"] = diverging_likert_chart(pd.concat(frames, ignore_index=True), scale, item_labels,
                                                           n_by_item, response_rate=rr)
        if sv.get("unit") and len(sv.get("units", [])) > 1:
            out[f"survey_{sv['id']}_units"] = unit_chart(sv, sv["unit"])
    return out
