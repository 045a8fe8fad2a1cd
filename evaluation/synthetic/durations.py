"""Seeded weekly registers with a known effect on time to self-support, for durations, cumulative effects and
the business case (coverage checks in tests/ and benchmarks/, generated studies).

Persons start on kontanthjælp in their index week (spread over ``index_spread`` weeks). Each week after the
index week a person on kontanthjælp leaves for self-support with probability ``hazard`` (× ``effect`` under
the intervention), or is visited to ledighedsydelse (on the way to fleksjob) with ``hazard_flex`` (×
``effect_flex``); a self-supporting person relapses with ``relapse``; ``censor`` is the weekly probability of
emigration. Both potential registers are simulated with common random numbers, so true effects on any
register outcome are exact in the sample and, for a large sample, in the population.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.data.registers import Panel, default_code_list
from evaluation.data.weeks import WeekRange, format_weeks, parse_week

__all__ = ["simulate_duration_register", "duration_truth"]

_STATES = ("self_support", "kontanthjaelp", "ledighedsydelse", "fleksjob", "udvandret")
_CODES = {"self_support": 0, "kontanthjaelp": 730, "ledighedsydelse": 740, "fleksjob": 771, "udvandret": 997}


def _panel(states: np.ndarray, ids, weeks: WeekRange) -> Panel:
    cl = default_code_list()
    pos = {int(c): i + 1 for i, c in enumerate(cl.codes)}
    lut = np.array([0 if _CODES[s] == 0 else pos[_CODES[s]] for s in _STATES], dtype=cl.dtype)
    return Panel(lut[states], ids, weeks, cl, ["syntetisk register (simulate_duration_register)"])


def simulate_duration_register(n_treated: int = 200, n_control: int = 200, *, hazard: float = 0.015,
                               effect: float = 1.6, hazard_flex: float = 0.003, effect_flex: float = 1.0,
                               relapse: float = 0.02, censor: float = 0.0, pre_weeks: int = 60, follow_up: int = 160,
                               index_spread: int = 26, labels: tuple[str, str] = ("intervention", "control"),
                               first_week: str = "2016-W01", seed: int = 1) -> dict:
    """A randomized register study with a known effect. Returns ``participants`` (indexed by person, with the
    group column ``group``, ``index_week`` and a covariate ``age``), the observed ``panel`` and ``potential``
    panels (``treated`` / ``control``)."""
    rng = np.random.default_rng(seed)
    n = n_treated + n_control
    T = pre_weeks + index_spread + follow_up
    weeks = WeekRange(parse_week(first_week), T)
    group = np.array([labels[0]] * n_treated + [labels[1]] * n_control, dtype=object)[rng.permutation(n)]
    treated = group == labels[0]
    index_pos = pre_weeks + rng.integers(0, index_spread, size=n)
    age = rng.integers(25, 60, size=n)
    frail = np.exp(rng.normal(0, 0.4, size=n) - 0.01 * (age - 40))
    paths = [np.empty((n, T), dtype=np.int8), np.empty((n, T), dtype=np.int8)]
    # before the index week: mostly kontanthjælp with short self-supporting spells
    state = [np.full(n, 1, dtype=np.int8), np.full(n, 1, dtype=np.int8)]
    for t in range(T):
        u = rng.random(n)
        v = rng.random(n)
        for arm in (0, 1):
            s = state[arm]
            post = t > index_pos
            eff = np.where(post & (arm == 1), effect, 1.0)
            effx = np.where(post & (arm == 1), effect_flex, 1.0)
            h_ss = np.where(post, hazard * frail * eff, 0.01)
            h_fx = np.where(post, hazard_flex * effx, 0.0)
            h_back = np.where(post, relapse, 0.5)
            nxt = s.copy()
            on_kh = s == 1
            nxt[on_kh & (u < h_ss)] = 0
            nxt[on_kh & (u >= h_ss) & (u < h_ss + h_fx)] = 2
            nxt[(s == 0) & (u < h_back)] = 1
            nxt[(s == 2) & (u < 0.04)] = 3
            nxt[(s == 3) & (u < 0.005)] = 2
            nxt[post & (s != 4) & (v < censor)] = 4
            nxt[t == index_pos] = 1  # everyone is on kontanthjælp in the index week
            state[arm] = nxt
            paths[arm][:, t] = nxt
    obs = np.where(treated[:, None], paths[1], paths[0])
    ids = pd.Index([f"d{seed % 100000:05d}{i:05d}" for i in range(n)], name="person")
    labels_w = np.asarray(format_weeks(weeks.ordinals), dtype=object)
    parts = pd.DataFrame({"group": group, "index_week": labels_w[index_pos], "age": age}, index=ids)
    return {"participants": parts, "panel": _panel(obs, ids, weeks),
            "potential": {"treated": _panel(paths[1], ids, weeks), "control": _panel(paths[0], ids, weeks)}}


def duration_truth(sim: dict, horizons=(52, 104, 156), rates=None) -> dict:
    """True (sample) effects: RMST of time to first self-support, weeks on public support and kroner over weeks
    1..h, potential outcome under the intervention minus under control, averaged over every person."""
    from evaluation.data.rates import RateTable
    from evaluation.metrics.duration import column_years, exit_times, weekly_values

    rates = rates or RateTable.load()
    parts = sim["participants"]
    H = int(max(horizons))
    vals = {}
    for arm in ("treated", "control"):
        p = sim["potential"][arm]
        ex = exit_times(p, parts, horizon=H)
        years = np.unique(column_years(p))
        table, _ = rates.category_table(p.codes, years)
        sup = weekly_values(p, parts, (1, H), p.codes.lut("public_support").astype(float))[1]
        kr = weekly_values(p, parts, (1, H), table, years=years)[1]
        vals[arm] = (ex["weeks"].to_numpy(float), ex["event"].to_numpy(), np.nan_to_num(sup), np.nan_to_num(kr))
    out = {"rmst_difference": {}, "cumulative_weeks": {}, "cumulative_kroner": {}}
    for h in horizons:
        r = {a: float(np.mean(np.where(e > 0, np.minimum(t, h), np.minimum(t, h)))) for a, (t, e, _, _) in vals.items()}
        out["rmst_difference"][h] = r["treated"] - r["control"]
        out["cumulative_weeks"][h] = float(np.mean(vals["treated"][2][:, :h].sum(1) - vals["control"][2][:, :h].sum(1)))
        out["cumulative_kroner"][h] = float(np.mean(vals["treated"][3][:, :h].sum(1) - vals["control"][3][:, :h].sum(1)))
    return out
