"""Seeded synthetic follow-up figures for studies whose sources give targets but no results.

The seed documents state baselines and goals (*måltal*) but no follow-up figures. To let the
goal-attainment report run end to end, these generators draw plausible follow-up figures
around the published baselines. The figures are **synthetic**: every study that uses them says
so in its summary, and the files carry a ``source`` column reading ``synthetic``.

One function per study returns the frames; :func:`write_all` writes them to
``data/synthetic/<study id>/``. Run ``python -m evaluation.synthetic.targets`` to regenerate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["udvikling_af_fleksjob", "beskaeftigelsesplan_2015", "write_all", "SYNTHETIC_ROOT"]

SYNTHETIC_ROOT = Path(__file__).resolve().parents[2] / "data" / "synthetic"


def udvikling_af_fleksjob(seed: int = 2017) -> dict[str, pd.DataFrame]:
    """Follow-up figures for *Udvikling af fleksjob* (Aalborg, 2017–2018).

    Published in the application (seed 003): share of persons in the flex-job scheme on
    ledighedsydelse 15.3 % (June 2016), goal 13 % by March 2018, expecting about 2,000 in flex
    jobs and 300 on ledighedsydelse; share of persons starting a flex job of at most ten hours
    who raised their effective weekly hours 21 %, goal 35 %; about 20 such starts a month;
    follow-up at 1, 3, 6 and 12 months.

    Returns
    -------
    dict of DataFrame
        ``shares``: quarterly population shares (``indicator, measured_at, n, count, share,
        source``); ``cohort``: the ≤ 10-hour cohort followed at 1, 3, 6 and 12 months
        (``months, n, increased, share, source``).
    """
    rng = np.random.default_rng(seed)
    quarters = pd.to_datetime(["2017-03-31", "2017-06-30", "2017-09-30", "2017-12-31", "2018-03-31"])
    rows = []
    # the scheme grows from about 1,934 + 334 persons (autumn 2016) towards the expected 2,300
    scheme = np.round(np.linspace(2280, 2310, len(quarters)) + rng.normal(0, 15, len(quarters))).astype(int)
    ly_share = np.linspace(0.150, 0.139, len(quarters))  # assumed path: part of the way to 13 %
    for q, n, p in zip(quarters, scheme, ly_share):
        count = int(rng.binomial(n, p))
        rows.append({"indicator": "andel_ledighedsydelse", "measured_at": q.date().isoformat(), "n": int(n),
                     "count": count, "share": round(count / n, 4), "source": "synthetic"})
    # persons who started a flex job of at most ten hours in the project (about 20 a month),
    # counted at each quarter with their status 12 months after start or latest
    starts = np.cumsum(rng.poisson(60, len(quarters)))
    hours_share = np.linspace(0.22, 0.31, len(quarters))
    for q, n, p in zip(quarters, starts, hours_share):
        count = int(rng.binomial(n, p))
        rows.append({"indicator": "andel_oeget_timetal", "measured_at": q.date().isoformat(), "n": int(n),
                     "count": count, "share": round(count / n, 4), "source": "synthetic"})
    shares = pd.DataFrame(rows)
    # the follow-up model 1, 3, 6, 12 months after a ≤ 10-hour flex job starts
    cohort_n = int(rng.poisson(240))
    p_by_month = {1: 0.05, 3: 0.14, 6: 0.23, 12: 0.31}
    cohort_rows = []
    for months, p in p_by_month.items():
        n = cohort_n - int(rng.binomial(cohort_n, 0.02 * months / 3))  # a few leave the scheme
        inc = int(rng.binomial(n, p))
        cohort_rows.append({"months": months, "n": n, "increased": inc, "share": round(inc / n, 4), "source": "synthetic"})
    return {"shares": shares, "cohort": pd.DataFrame(cohort_rows)}


def beskaeftigelsesplan_2015(seed: int = 2015) -> dict[str, pd.DataFrame]:
    """End-2014 baselines and end-2015 results for Jobcenter Aalborg's *Beskæftigelsesplan 2015*.

    Published in the plan (seed 004): 4,987 young people under 30 on public support at the end
    of 2013; 1,557 long-term unemployed full-time persons in December 2013; a cooperation rate
    with companies of 32 % in 2013 (goal 2014: 35 %, goal 2015: at least 40 %). The plan gives no
    end-2014 figures and no results; both are drawn here from assumed changes around those
    levels.

    Returns
    -------
    dict of DataFrame
        ``figures``: ``indicator, baseline_date, baseline, measured_at, observed, unit, source``.
    """
    rng = np.random.default_rng(seed)

    def count_pair(level_2013: float, change_2014: float, change_2015: float, sd: float) -> tuple[int, int]:
        b = level_2013 * (1 + change_2014 + rng.normal(0, sd))
        o = b * (1 + change_2015 + rng.normal(0, sd))
        return int(round(b)), int(round(o))

    unge = count_pair(4987, -0.02, -0.045, 0.01)
    langtid = count_pair(1557, -0.10, -0.06, 0.02)
    udfald = count_pair(640, -0.05, -0.04, 0.03)  # persons losing the right to dagpenge (assumed level)
    placeringer = count_pair(5200, 0.05, 0.08, 0.02)  # company placements, all target groups (assumed level)
    samarbejde_2014 = round(0.35 + rng.normal(0, 0.01), 3)
    samarbejde_2015 = round(samarbejde_2014 + 0.03 + rng.normal(0, 0.01), 3)
    rows = [
        ("unge_offentlig_forsoergelse", unge, "personer"),
        ("langtidsledige", langtid, "personer"),
        ("mistet_dagpengeret", udfald, "personer"),
        ("virksomhedsplaceringer", placeringer, "placeringer"),
        ("samarbejdsgrad", (samarbejde_2014, samarbejde_2015), "andel"),
    ]
    out = pd.DataFrame([
        {"indicator": ind, "baseline_date": "2014-12-31", "baseline": b, "measured_at": "2015-12-31",
         "observed": o, "unit": unit, "source": "synthetic"}
        for ind, (b, o), unit in rows
    ])
    return {"figures": out}


def write_all(root: str | Path = SYNTHETIC_ROOT) -> list[Path]:
    """Write every study's synthetic target figures below ``root`` (``<study id>/<name>.csv``)."""
    written = []
    for study_id, frames in (("udvikling-af-fleksjob", udvikling_af_fleksjob()),
                             ("beskaeftigelsesplan-2015", beskaeftigelsesplan_2015())):
        folder = Path(root) / study_id
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            path = folder / f"{name}.csv"
            frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
            written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    for p in write_all():
        print(p)
