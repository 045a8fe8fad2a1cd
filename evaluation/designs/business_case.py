"""The business case (økonomi): what an effect on public support is worth against what the project cost.

Inputs are effect estimates per participant — on kroner of public expenses and on weeks on public
support accumulated over a horizon, from any design (:mod:`evaluation.designs.timeeffects`) — with
their joint sampling distribution, the number of participants and the project's cost. Everything
here is a linear function of the kroner effect, so the effect's uncertainty carries through exactly
(the delta method is exact for a linear function; :func:`net_draws` simulates the same distribution
and the tests check that the two agree):

* saved public expenses = − n × (effect on kroner per participant);
* net result = saved expenses − cost; its interval is the effect's interval scaled by n and moved by
  the cost, and the probability that the project pays for itself is ``P(net > 0)`` under the
  estimate's sampling distribution (normal, or t with the design's degrees of freedom) — the
  probability a reader would state with a flat prior on the effect, which the report says;
* kr. per participant = cost / n; kr. per saved week = cost / (n × saved weeks per participant),
  with an interval only when the saved weeks' interval excludes zero;
* break-even: the saved weeks per participant that would pay for the project at the comparison
  group's average price of a week on support over the horizon.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
from evaluation._lazy import stats

__all__ = ["HorizonEffect", "business_case", "net_draws"]


class HorizonEffect(dict):
    """Per participant at one horizon: ``kroner`` and ``weeks`` effects (estimate, std_error, df) and the
    comparison group's mean kroner and weeks (for the price of a week)."""


def _dist(df: float | None):
    return stats.norm if df is None else stats.t(df)


def _p_pays(saved_total: float, cost: float, se_total: float, df: float | None) -> float:
    """P(net > 0) under the effect's sampling distribution: the upper tail at (cost − saved) / se.

    The survival function, not ``1 − cdf``: ``1 − cdf`` rounds every tail below ~1e-16 to exactly 0, so one
    table printed "0 %" where another printed "under 1 %" for the same kind of number. Without sampling
    uncertainty (se = 0) the net result is known: 1 if it is positive, else 0.
    """
    if not se_total > 0:
        return float(saved_total > cost)
    return float(_dist(df).sf((cost - saved_total) / se_total))


def _interval(est: float, se: float, df: float | None, conf_level: float) -> tuple[float, float]:
    q = float(_dist(df).ppf(0.5 + conf_level / 2))
    return est - q * se, est + q * se


def business_case(effects: Mapping[int, Mapping[str, Any]], *, n_participants: int, cost: float | None,
                  conf_level: float = 0.95, rate_factors: Sequence[float] = (0.8, 1.2)) -> dict[str, Any]:
    """The business case at every horizon (weeks) of ``effects``.

    ``effects[h]`` holds ``kroner`` and ``weeks`` (dicts with ``estimate``, ``std_error``, ``df``) — effects
    per participant, negative when the project lowers expenses — and ``control_kroner`` and
    ``control_weeks`` (the comparison group's means over the horizon). Returns per horizon the saved
    expenses per participant and in total, the net result with its interval and the probability that the
    project pays for itself (when ``cost`` is known), kr. per participant and per saved week, the
    break-even number of saved weeks, and a sensitivity table over ``rate_factors`` × horizons.
    """
    n = int(n_participants)
    if n <= 0:
        raise ValueError("the business case needs the number of participants")
    out: dict[str, Any] = {"n_participants": n, "cost": cost, "conf_level": conf_level, "horizons": {}}
    if cost is not None:
        out["cost_per_participant"] = cost / n
    for h, e in sorted(effects.items()):
        kr, wk = e["kroner"], e["weeks"]
        df = kr.get("df")
        saved_pp = -kr["estimate"]
        se_pp = kr["std_error"]
        lo_pp, hi_pp = _interval(saved_pp, se_pp, df, conf_level)
        saved_w = -wk["estimate"]
        lo_w, hi_w = _interval(saved_w, wk["std_error"], wk.get("df"), conf_level)
        row: dict[str, Any] = {
            "saved_per_participant": saved_pp, "saved_per_participant_ci": [lo_pp, hi_pp],
            "saved_per_participant_se": se_pp,
            "saved_total": n * saved_pp, "saved_total_ci": [n * lo_pp, n * hi_pp],
            "saved_weeks_per_participant": saved_w, "saved_weeks_per_participant_ci": [lo_w, hi_w],
            "saved_weeks_total": n * saved_w, "saved_weeks_total_ci": [n * lo_w, n * hi_w],
            "df": df,
        }
        cw, ck = e.get("control_weeks"), e.get("control_kroner")
        price = (ck / cw) if cw and ck is not None and cw > 0 else None
        row["price_per_week"] = price
        if cost is not None:
            net = n * saved_pp - cost
            se_net = n * se_pp
            row["net"] = net
            row["net_ci"] = [n * lo_pp - cost, n * hi_pp - cost]
            row["net_se"] = se_net
            row["p_pays"] = _p_pays(n * saved_pp, cost, se_net, df)
            row["net_per_participant"] = net / n
            row["net_per_participant_ci"] = [x / n for x in row["net_ci"]]
            if saved_w > 0:
                row["cost_per_saved_week"] = cost / (n * saved_w)
                if lo_w > 0:
                    row["cost_per_saved_week_ci"] = [cost / (n * hi_w), cost / (n * lo_w)]
            if price:
                row["break_even_weeks_per_participant"] = cost / (n * price)
                row["break_even_weeks_total"] = cost / price
        out["horizons"][int(h)] = row
    sens = []
    for h, e in sorted(effects.items()):
        kr = e["kroner"]
        for f in sorted({1.0, *[float(x) for x in rate_factors]}):
            saved = -kr["estimate"] * f
            se = kr["std_error"] * f
            lo, hi = _interval(saved, se, kr.get("df"), conf_level)
            r = {"horizon": int(h), "rate_factor": f, "saved_total": n * saved, "saved_total_ci": [n * lo, n * hi]}
            if cost is not None:
                r["net"] = n * saved - cost
                r["net_ci"] = [n * lo - cost, n * hi - cost]
                r["p_pays"] = _p_pays(n * saved, cost, n * se, kr.get("df"))
            sens.append(r)
    out["sensitivity"] = sens
    out["method"] = ("net result = saved expenses − cost, linear in the effect on kroner per participant, so its interval "
                     "and the probability that the project pays for itself follow exactly from the effect's sampling "
                     "distribution (" + ("normal" if all(e["kroner"].get("df") is None for e in effects.values())
                                         else "t") + ")")
    return out


def net_draws(kroner: Mapping[str, Any], *, n_participants: int, cost: float, draws: int = 100_000,
              seed: int = 1) -> np.ndarray:
    """Draws of the net result from the sampling distribution of the kroner effect (for checking the exact
    results of :func:`business_case`)."""
    rng = np.random.default_rng(seed)
    df = kroner.get("df")
    z = rng.standard_normal(draws) if df is None else rng.standard_t(df, draws)
    eff = kroner["estimate"] + kroner["std_error"] * z
    return -int(n_participants) * eff - float(cost)
