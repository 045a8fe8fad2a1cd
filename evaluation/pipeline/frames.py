"""Analysis frames: a declared indicator's metric joined to its data source, ready for a design."""

from __future__ import annotations

import warnings

import pandas as pd

from evaluation.exceptions import EstimationError
from evaluation.metrics.registry import METRICS, compute_metric

__all__ = ["analysis_frame"]


def analysis_frame(study, analysis, data) -> pd.DataFrame | None:
    """The analysis data: the source frame with the indicator's metric as a column named by the indicator.

    For a panel metric (person × period), the long panel is joined to the source's person columns
    and the person id becomes a column ``person`` (designs with person fixed effects need it).
    For a design without a metric (a survey) the data source itself is returned.
    """
    frame = data.frames[analysis.data]
    if analysis.indicator is None or not analysis.family.needs_metric:
        return frame
    ind = study.theory.indicator(analysis.indicator)
    values = compute_metric(ind.metric.name, data.frames, ind.metric.params)
    if METRICS[ind.metric.name].kind == "panel":
        long = values.rename(columns={"value": ind.id})
        extra = [c for c in frame.columns if c not in long.columns]
        out = long.join(frame[extra], how="left").reset_index()
        # panel designs need a balanced panel: persons with a censored period (emigrated, died, outside the
        # register) are left out, and the number is reported
        incomplete = out.loc[out[ind.id].isna(), "person"].unique()
        if len(incomplete):
            out = out[~out["person"].isin(incomplete)].reset_index(drop=True)
            warnings.warn(
                f"{len(incomplete)} person(er) med en periode uden observerede uger (udvandret, død eller uden for "
                f"registret) indgår ikke i analysen «{analysis.id}»", UserWarning, stacklevel=2)
        return out
    out = frame.copy()
    if not out.index.is_unique:
        # persons measured at several dates (a data source with period_column): one row per person and date.
        # The metric must give one value per row, in the same order; the pseudonymised id becomes a column
        # ``person`` so a design can pair a person's measurements.
        if not values.index.equals(out.index):
            raise EstimationError(
                f"analysis {analysis.id!r}: data source {analysis.data!r} has several rows per person (period_column), "
                f"but metric {ind.metric.name!r} gives one value per person; use a row-level metric such as 'column'"
            )
        out[ind.id] = values.to_numpy()
        return out.reset_index()
    out[ind.id] = values.reindex(out.index)
    return out
