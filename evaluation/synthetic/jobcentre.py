"""Seeded synthetic DREAM registers for two Aalborg jobcentre projects (seed 001), with known effects.

Two generators, both built on one weekly Markov chain over benefit states that is run twice
per person with common random numbers -- once under the control regime (potential outcome
Y(0)) and once with the intervention switched on from the index week (Y(1)) -- so the true
effect on any register metric is the metric computed on Y(1) minus the metric on Y(0):

* :func:`simulate_jobfirst` -- *JobFirst*: 350 activity-ready cash-benefit recipients over 30
  with at least a year on public support, randomised (178 intervention / 172 control); after
  randomisation the intervention multiplies the weekly hazard into self-support (more for
  persons with shorter time on support) and into visitation to a flex job (ledighedsydelse),
  and lowers the hazard of returning to cash benefit.
* :func:`simulate_flere_skal_med` -- *Flere skal med*: 1,243 persons on cash benefit for more
  than five years (selected December 2016), enrolled over 2017-2018 (staggered, planned start
  week independent of outcomes), in three effort groups (gruppe 1 company-oriented, gruppe 2
  towards ressourceforløb/fleksjob/førtidspension, gruppe 3 serious social or health problems),
  plus a never-treated comparison pool with the same history and the same mix of latent types.
  Only gruppe 1 has an effect on self-support; gruppe 2's effect moves persons between kinds
  of public support (no effect on benefit dependency by construction); gruppe 3 has none.

Every number here is synthetic; the only figures taken from the seed are the group sizes.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from evaluation.data.registers import Panel, default_code_list
from evaluation.data.weeks import WeekRange, format_weeks, ordinal_to_iso, parse_week

__all__ = ["JC_STATES", "simulate_jobfirst", "simulate_flere_skal_med", "flere_skal_med_truth", "jobfirst_files",
           "flere_skal_med_files"]

#: Simulated states (position = state number) and the DREAM code written for each (0 = no code): the
#: passive code of each benefit in the shipped grouping (data/codes/dream_benefit_groups.yaml); both
#: projects' target groups are activity-ready, so cash benefit is 730 (kontanthjælp, øvrige), not 130 (jobparate).
JC_STATES = ("self_support", "kontanthjaelp", "ressourceforloeb", "ledighedsydelse", "fleksjob",
             "foertidspension", "sygedagpenge", "udvandret", "doed")
_CODES = {"self_support": 0, "kontanthjaelp": 730, "ressourceforloeb": 810, "ledighedsydelse": 740, "fleksjob": 771,
          "foertidspension": 783, "sygedagpenge": 890, "udvandret": 997, "doed": 999}
_S = {s: i for i, s in enumerate(JC_STATES)}
_NS = len(JC_STATES)


def _base(hazards: Mapping[str, Mapping[str, float]], censor: float = 0.0) -> np.ndarray:
    """(S, S) matrix of weekly off-diagonal transition probabilities (diagonal 0 = stay)."""
    P = np.zeros((_NS, _NS))
    for frm, row in hazards.items():
        for to, p in row.items():
            P[_S[frm], _S[to]] = p
    if censor:
        for s in JC_STATES:
            if s not in ("udvandret", "doed", "foertidspension"):
                P[_S[s], _S["udvandret"]] = censor * 0.4
                P[_S[s], _S["doed"]] = censor * 0.6
    return P


def _step(state: np.ndarray, probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One week: ``probs`` is (n, S) off-diagonal probabilities for each person's current state."""
    cum = np.cumsum(probs, axis=1)
    if (cum[:, -1] > 1.0).any():
        raise ValueError("weekly transition probabilities exceed 1")
    nxt = (u[:, None] >= cum).sum(axis=1)          # == S when the person stays
    return np.where(nxt < _NS, nxt, state).astype(np.int8)


def _to_panel(states: np.ndarray, ids: pd.Index, weeks: WeekRange, note: str) -> Panel:
    cl = default_code_list()
    code_pos = {int(c): i + 1 for i, c in enumerate(cl.codes)}
    lut = np.zeros(_NS, dtype=cl.dtype)
    for i, s in enumerate(JC_STATES):
        lut[i] = 0 if _CODES[s] == 0 else code_pos[_CODES[s]]
    return Panel(lut[states], ids, weeks, cl, [note])


def _season(weeks: WeekRange, amplitude: float = 0.2) -> np.ndarray:
    _, woy = ordinal_to_iso(weeks.ordinals)
    return 1.0 + amplitude * np.sin(2 * np.pi * (np.asarray(woy, dtype=float) - 10) / 52.0)


def _run(rng, n: int, n_weeks: int, start: np.ndarray, pre_P: np.ndarray, post_P: np.ndarray,
         pre_until: np.ndarray, force: Mapping[int, np.ndarray], active_from: np.ndarray,
         mult0: np.ndarray, mult1: np.ndarray, calendar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run the chain twice with common random numbers.

    Week t uses ``pre_P`` while ``t < pre_until[i]`` and ``post_P`` after. ``mult0``/``mult1``
    are (n, S, S) person-specific multipliers under control / with the intervention; the
    intervention regime applies from week ``active_from[i] + 1`` on (index week excluded).
    ``force[t]`` is a state vector (−1 = free) imposed at week t (selection criteria).
    ``calendar[t]`` multiplies exits into self-support (season, business cycle).
    """
    paths = [np.empty((n, n_weeks), dtype=np.int8), np.empty((n, n_weeks), dtype=np.int8)]
    s = [start.astype(np.int8).copy(), start.astype(np.int8).copy()]
    rows = np.arange(n)
    ss = _S["self_support"]
    for t in range(n_weeks):
        u = rng.random(n)
        pre = t < pre_until
        for which in (0, 1):
            cur = s[which]
            P = np.where(pre[:, None], pre_P[cur], post_P[cur])
            on = (~pre) & (t > active_from) if which == 1 else np.zeros(n, dtype=bool)
            M = np.where(on[:, None], mult1[rows, cur], mult0[rows, cur])
            probs = P * np.where(pre[:, None], 1.0, M)
            probs[:, ss] *= calendar[t]
            nxt = _step(cur, probs, u)
            if t in force:
                f = force[t]
                nxt = np.where(f >= 0, f, nxt).astype(np.int8)
            s[which] = nxt
            paths[which][:, t] = nxt
    return paths[0], paths[1]


def _ids(prefix: str, n: int) -> pd.Index:
    return pd.Index([f"{prefix}{i:05d}" for i in range(n)])


# ============================================================================ JobFirst

#: Weekly hazards before randomisation: long spells on cash benefit / ressourceforløb with rare,
#: short spells of self-support (small jobs), so the year before varies a little between persons.
_JF_PRE = {
    "kontanthjaelp": {"self_support": 0.004, "sygedagpenge": 0.002},
    "ressourceforloeb": {"self_support": 0.001},
    "self_support": {"kontanthjaelp": 0.45},
    "sygedagpenge": {"kontanthjaelp": 0.3},
}
#: Weekly hazards after randomisation (control regime).
_JF_POST = {
    "kontanthjaelp": {"self_support": 0.0022, "ressourceforloeb": 0.0012, "ledighedsydelse": 0.0008,
                      "foertidspension": 0.0005, "sygedagpenge": 0.002},
    "ressourceforloeb": {"kontanthjaelp": 0.004, "self_support": 0.001, "ledighedsydelse": 0.001,
                         "foertidspension": 0.002},
    "ledighedsydelse": {"fleksjob": 0.04},
    "fleksjob": {"ledighedsydelse": 0.005},
    "sygedagpenge": {"kontanthjaelp": 0.05, "self_support": 0.01},
    "self_support": {"kontanthjaelp": 0.015},
}
#: The intervention (true effect mechanism): multipliers on the control hazards.
JOBFIRST_EFFECT = {
    "to_self_support": {"1-2 år": 2.0, "2-5 år": 1.8, "over 5 år": 1.3},
    "to_ledighedsydelse": 2.5,
    "self_support_to_kontanthjaelp": 0.8,
}


def simulate_jobfirst(n_intervention: int = 178, n_control: int = 172, *, censor: float = 0.0, seed: int = 2016,
                      n_started: int | None = 144) -> dict:
    """Simulate the JobFirst trial register (DREAM wide) with both potential outcomes.

    Returns
    -------
    dict with ``participants`` (DataFrame, one row per person), ``panel`` (observed Panel),
    ``potential`` (``{"control": Panel, "treated": Panel}``) and ``complier`` (bool array: whether the
    person would start the programme if offered it).

    Notes
    -----
    Randomisation weeks are uniform over 2016-W01 … 2016-W26 (the register runs 2014-W45 …
    2019-W42, 260 weeks, so every person has 52 weeks before and at least 156 after, three years of
    follow-up for durations and cumulative effects; the chain draws one uniform per person and week in
    calendar order, so the first 156 weeks are those of the earlier 156-week register). Everyone is on cash
    benefit (or ressourceforløb) in the index week, has been on public support at least 12
    months, is 31-64 years old. Exits are slower for older persons and longer time on support
    (a person frailty). The true effect is defined by :data:`JOBFIRST_EFFECT`. ``censor`` is the
    weekly probability of death or emigration after randomisation; the shipped data use 0
    (see the study README: the report's group table would otherwise publish a count of
    missing outcomes below the disclosure threshold).

    Take-up (``n_started``; the seed: 144 of the 178 in the intervention group started): every person
    has a latent type — *complier* (would start if offered the programme) or *never-taker* — drawn with a
    probability rising with the person's frailty-adjusted job chances, so compliers differ from
    never-takers. Exactly ``n_started`` of the intervention group are compliers, and the same share
    (rounded) of the control group; only compliers who are offered the programme get its effect
    (never-takers' Y(1) equals their Y(0)), so the exclusion restriction holds by construction and the
    column ``started`` (1 = started) is the take-up of the intervention group (nobody in the control
    group can start: one-sided non-compliance). The types are drawn from a separate stream
    (``default_rng([seed, 14])``), so every other column is what it would be without take-up, and
    ``n_started=None`` gives the old design in which everybody offered the programme starts.
    """
    rng = np.random.default_rng(seed)
    n = n_intervention + n_control
    weeks = WeekRange(parse_week("2014-W45"), 260)
    group = np.array(["intervention"] * n_intervention + ["control"] * n_control, dtype=object)
    group = group[rng.permutation(n)]
    treated = group == "intervention"
    age = rng.integers(31, 65, size=n)
    sex = rng.choice(np.array(["kvinde", "mand"], dtype=object), size=n)
    months = np.round(np.exp(rng.uniform(np.log(12), np.log(180), size=n))).astype(int)
    duration = np.where(months < 24, "1-2 år", np.where(months < 60, "2-5 år", "over 5 år")).astype(object)
    ressource = rng.random(n) < 22 / 178
    base_state = np.where(ressource, _S["ressourceforloeb"], _S["kontanthjaelp"]).astype(np.int8)
    index_pos = rng.integers(60, 86, size=n)        # 2016-W01 .. 2016-W26
    frailty = np.exp(-0.02 * (age - 45) - 0.25 * np.log(months / 36.0) + rng.normal(0, 0.3, size=n))

    complier = np.ones(n, dtype=bool)
    if n_started is not None:
        if not 0 <= n_started <= n_intervention:
            raise ValueError(f"n_started must lie between 0 and n_intervention ({n_intervention}), got {n_started}")
        type_rng = np.random.default_rng([seed, 14])
        chance = frailty / frailty.sum()
        complier[:] = False
        n_c_start = int(round(n_control * n_started / n_intervention))
        for m, k in ((treated, n_started), (~treated, n_c_start)):
            idx = np.flatnonzero(m)
            pick = type_rng.choice(idx, size=k, replace=False, p=chance[idx] / chance[idx].sum())
            complier[pick] = True

    ones = np.ones((n, _NS, _NS))
    mult0 = ones * frailty[:, None, None]
    mult1 = mult0.copy()
    to_ss = np.array([JOBFIRST_EFFECT["to_self_support"][d] for d in duration])
    for frm in ("kontanthjaelp", "ressourceforloeb", "sygedagpenge"):
        mult1[:, _S[frm], _S["self_support"]] *= to_ss
    for frm in ("kontanthjaelp", "ressourceforloeb"):
        mult1[:, _S[frm], _S["ledighedsydelse"]] *= JOBFIRST_EFFECT["to_ledighedsydelse"]
    mult1[:, _S["self_support"], _S["kontanthjaelp"]] *= JOBFIRST_EFFECT["self_support_to_kontanthjaelp"]
    # frailty slows exits only; it does not speed up relapse
    for m in (mult0, mult1):
        m[:, _S["self_support"], _S["kontanthjaelp"]] /= frailty
    mult1[~complier] = mult0[~complier]  # never-takers: the offer alone changes nothing (exclusion restriction)

    pre_P, post_P = _base(_JF_PRE), _base(_JF_POST, censor=censor)
    force = {}
    for t in np.unique(index_pos).tolist():
        force[t] = np.where(index_pos == t, base_state, -1)
    y0, y1 = _run(rng, n, len(weeks), base_state, pre_P, post_P, pre_until=index_pos + 1, force=force,
                  active_from=index_pos, mult0=mult0, mult1=mult1, calendar=_season(weeks))
    observed = np.where(treated[:, None], y1, y0)
    ids = _ids("jf", n)
    note = f"syntetisk register (JobFirst, aktivitetsparate kontanthjælpsmodtagere), seed {seed}"
    panel = _to_panel(observed, ids, weeks, note)
    labels = np.asarray(format_weeks(weeks.ordinals), dtype=object)
    parts = pd.DataFrame({
        "group": group, "index_week": labels[index_pos], "age": age,
        "age_group": np.where(age < 45, "31-44 år", "45-64 år").astype(object), "sex": sex,
        "months_on_support": months, "support_duration": duration,
        "baseline_benefit": np.where(ressource, "ressourceforloeb", "kontanthjaelp").astype(object),
    }, index=pd.Index(ids, name="person"))
    if n_started is not None:
        parts["started"] = (treated & complier).astype(int)
    from ..metrics.benefits import benefit_dependency

    parts["baseline_dependency_52"] = benefit_dependency(panel, parts, (-52, -1)).round(4).to_numpy()
    potential = {"control": _to_panel(y0, ids, weeks, note), "treated": _to_panel(y1, ids, weeks, note)}
    return {"participants": parts, "panel": panel, "potential": potential, "seed": seed, "complier": complier}


def _true(fn, potential: Mapping[str, Panel], parts: pd.DataFrame, **kw) -> float:
    y1 = np.asarray(fn(potential["treated"], parts, **kw), dtype=float)
    y0 = np.asarray(fn(potential["control"], parts, **kw), dtype=float)
    return float(np.nanmean(y1 - y0))


def event_time_truths(potential: Mapping[str, Panel], parts: pd.DataFrame, horizons=(52, 104, 156)) -> dict:
    """True effects on the time outcomes, from both potential registers, over the persons of ``parts``:
    restricted mean weeks to first self-support and weeks on public support accumulated over weeks 1..h,
    and the same in kroner priced with the shipped rate table (public expenses)."""
    from ..data.rates import RateTable
    from ..metrics.duration import column_years, exit_times, weekly_values

    rates = RateTable.load()
    out: dict = {"rmst_difference": {}, "cumulative_weeks": {}, "cumulative_kroner": {}}
    H = int(max(horizons))
    vals = {}
    for arm in ("treated", "control"):
        panel = potential[arm]
        ex = exit_times(panel, parts, horizon=H)
        years = np.unique(column_years(panel))
        table, _ = rates.category_table(panel.codes, years)
        sup = weekly_values(panel, parts, (1, H), panel.codes.lut("public_support").astype(float))[1]
        kr = weekly_values(panel, parts, (1, H), table, years=years)[1]
        vals[arm] = (ex["weeks"].to_numpy(float), ex["event"].to_numpy(), sup, kr)
    for h in horizons:
        r = {}
        for arm, (t, e, _, _) in vals.items():
            # no censoring in the synthetic registers: the restricted time is min(T, h), T = h when no event by h
            r[arm] = float(np.mean(np.where(e > 0, np.minimum(t, h), h)))
        out["rmst_difference"][str(h)] = r["treated"] - r["control"]
        out["cumulative_weeks"][str(h)] = float(np.mean(vals["treated"][2][:, :h].sum(1) - vals["control"][2][:, :h].sum(1)))
        out["cumulative_kroner"][str(h)] = float(np.mean(vals["treated"][3][:, :h].sum(1) - vals["control"][3][:, :h].sum(1)))
    out["rates_version"] = rates.version
    return out


def jobfirst_files(seed: int = 2016) -> dict[str, pd.DataFrame | dict]:
    """Files of ``data/synthetic/jobfirst``: participants.csv, register.csv (DREAM wide), truth.json."""
    from ..metrics.benefits import benefit_dependency, self_support_spell, self_support_week

    sim = simulate_jobfirst(seed=seed)
    parts, pot = sim["participants"], sim["potential"]
    spell = lambda p, q, **kw: self_support_spell(p, q, **kw)["spell"]  # noqa: E731
    metrics = {
        "benefit_dependency_1_52": (benefit_dependency, {"window": (1, 52)}),
        "self_support_spell_13": (spell, {"min_weeks": 13, "window": (1, 52)}),
        "self_support_week_52": (self_support_week, {"week": 52}),
    }
    treated = parts[parts["group"] == "intervention"]
    compliers = parts[sim["complier"]]
    effects = {k: _true(fn, pot, parts, **kw) for k, (fn, kw) in metrics.items()}
    att = {k: _true(fn, pot, treated, **kw) for k, (fn, kw) in metrics.items()}
    cace = {k: _true(fn, pot, compliers, **kw) for k, (fn, kw) in metrics.items()}
    wide = sim["panel"].to_wide().rename(columns={"person": "person_id"})
    out_parts = parts.reset_index().rename(columns={"person": "person_id"})
    truth = {
        "generator": "evaluation.synthetic.jobcentre.simulate_jobfirst",
        "seed": seed,
        "estimand": "sample average effect of allocation (ITT) over all 350 randomised persons: "
                    "mean of metric(Y(1)) - metric(Y(0)), persons with a censored outcome left out",
        "effects": effects,
        "effects_att_intervention_group": att,
        "effects_cace": cace,
        "cace_estimand": "sample complier average causal effect: mean of metric(Y(1)) - metric(Y(0)) over the persons "
                         "of both groups who would start if offered the programme (latent compliers); never-takers get "
                         "no effect, so the ITT effect is the CACE times the share of compliers",
        "n_compliers": {"intervention": int(sim["complier"][(parts["group"] == "intervention").to_numpy()].sum()),
                        "control": int(sim["complier"][(parts["group"] == "control").to_numpy()].sum())},
        "time_effects": event_time_truths(pot, parts),
        "time_effects_estimand": "ITT over all 350 randomised persons, weeks 1..h after randomisation: restricted "
                                 "mean weeks to first self-support (RMST), weeks on public support and public expenses "
                                 "in kroner (shipped rate table) accumulated over the horizon; Y(1) minus Y(0)",
        "mechanism": JOBFIRST_EFFECT,
        "note": "Synthetic data. Only the group sizes (350 randomised; 156 on cash benefit and 22 in "
                "ressourceforløb in the intervention group) and the 144 of 178 who started come from the seed.",
    }
    return {"participants.csv": out_parts, "register.csv": wide, "truth.json": truth}


# ============================================================================ Flere skal med

_FSM_PRE = {
    "kontanthjaelp": {"self_support": 0.003, "sygedagpenge": 0.002},
    "self_support": {"kontanthjaelp": 0.4},
    "sygedagpenge": {"kontanthjaelp": 0.3},
}
_FSM_POST = {
    "kontanthjaelp": {"self_support": 0.0025, "ressourceforloeb": 0.0015, "ledighedsydelse": 0.0004,
                      "foertidspension": 0.0006, "sygedagpenge": 0.002},
    "ressourceforloeb": {"kontanthjaelp": 0.004, "self_support": 0.0008, "ledighedsydelse": 0.001,
                         "foertidspension": 0.002},
    "ledighedsydelse": {"fleksjob": 0.04},
    "fleksjob": {"ledighedsydelse": 0.005},
    "sygedagpenge": {"kontanthjaelp": 0.05, "self_support": 0.008},
    "self_support": {"kontanthjaelp": 0.02},
}
#: Latent types (the project's three effort groups); the comparison pool has the same mix.
FSM_GROUPS = {"gruppe_1": 393 / 657, "gruppe_2": 139 / 657, "gruppe_3": 125 / 657}
#: Control-regime multipliers by type (job readiness) and intervention multipliers (true effect).
_FSM_TYPE = {"gruppe_1": {"to_self_support": 1.6}, "gruppe_2": {"to_self_support": 0.6, "to_support_types": 1.5},
             "gruppe_3": {"to_self_support": 0.4}}
FLERE_SKAL_MED_EFFECT = {
    "gruppe_1": {"to_self_support": 2.0, "self_support_to_kontanthjaelp": 0.8},
    "gruppe_2": {"to_ressourceforloeb_ledighedsydelse_foertidspension": 2.5},
    "gruppe_3": {},
}


def simulate_flere_skal_med(n_participants: int = 1243, n_comparison: int = 1200, *, seed: int = 2017) -> dict:
    """Simulate the Flere skal med register: staggered enrolment and a never-treated comparison pool.

    Notes
    -----
    The register runs 2015-W02 … 2021-W52 (364 weeks, 28 quarters of 13 weeks), so the last cohort
    (enrolled in 2018-W52) has three years of follow-up. Everyone has been on cash benefit for
    more than five years at selection (2016-W50) and is on cash benefit in that week. Planned
    start weeks of the participants are uniform over 2017-W01 … 2018-W52, independent of the
    outcomes; comparison persons are never enrolled and get a fictitious start week drawn from the
    same distribution (*fiktiv startuge*, as in register-based comparisons), which only sets the
    windows of person-level outcomes; it does not affect their register.
    Exits to self-support follow the season and an improving labour market (×1.0 in 2017 to
    ×1.3 from the end of 2019) common to both groups, so parallel trends hold by construction.
    No deaths or emigrations are simulated (see the study README).
    """
    rng = np.random.default_rng(seed)
    n = n_participants + n_comparison
    weeks = WeekRange(parse_week("2015-W02"), 364)
    labels = np.asarray(format_weeks(weeks.ordinals), dtype=object)
    sel = int(np.flatnonzero(labels == "2016-W50")[0])
    start_lo = int(np.flatnonzero(labels == "2017-W01")[0])
    start_hi = int(np.flatnonzero(labels == "2018-W52")[0])
    is_part = np.zeros(n, dtype=bool)
    is_part[:n_participants] = True
    types = rng.choice(np.array(list(FSM_GROUPS), dtype=object), size=n, p=list(FSM_GROUPS.values()))
    age = rng.integers(30, 65, size=n)
    sex = rng.choice(np.array(["kvinde", "mand"], dtype=object), size=n)
    years = np.round(rng.uniform(5.0, 15.0, size=n), 1)
    index_pos = rng.integers(start_lo, start_hi + 1, size=n)  # comparison: fictitious start week
    frailty = np.exp(-0.015 * (age - 45) - 0.3 * np.log(years / 8.0) + rng.normal(0, 0.3, size=n))

    ss, kh = _S["self_support"], _S["kontanthjaelp"]
    support_types = [_S["ressourceforloeb"], _S["ledighedsydelse"], _S["foertidspension"]]
    mult0 = np.ones((n, _NS, _NS)) * frailty[:, None, None]
    mult0[:, ss, kh] /= frailty
    for g, spec in _FSM_TYPE.items():
        m = types == g
        mult0[np.ix_(m, [kh, _S["ressourceforloeb"], _S["sygedagpenge"]], [ss])] *= spec["to_self_support"]
        if "to_support_types" in spec:
            mult0[np.ix_(m, [kh], support_types)] *= spec["to_support_types"]
    mult1 = mult0.copy()
    g1, g2 = types == "gruppe_1", types == "gruppe_2"
    e1, e2 = FLERE_SKAL_MED_EFFECT["gruppe_1"], FLERE_SKAL_MED_EFFECT["gruppe_2"]
    mult1[np.ix_(g1, [kh, _S["ressourceforloeb"], _S["sygedagpenge"]], [ss])] *= e1["to_self_support"]
    mult1[np.ix_(g1, [ss], [kh])] *= e1["self_support_to_kontanthjaelp"]
    mult1[np.ix_(g2, [kh], support_types)] *= e2["to_ressourceforloeb_ledighedsydelse_foertidspension"]

    years_since = (np.arange(len(weeks)) - sel) / 52.0
    cycle = np.clip(1.0 + 0.1 * years_since, 1.0, 1.3)
    start = np.full(n, kh, dtype=np.int8)
    force = {sel: np.full(n, kh, dtype=np.int8)}
    active = np.where(is_part, index_pos, 10**9)
    y0, y1 = _run(rng, n, len(weeks), start, _base(_FSM_PRE), _base(_FSM_POST), pre_until=np.full(n, sel + 1),
                  force=force, active_from=active, mult0=mult0, mult1=mult1, calendar=_season(weeks) * cycle)
    observed = np.where(is_part[:, None], y1, y0)
    ids = _ids("fs", n)
    note = f"syntetisk register (Flere skal med, kontanthjælp i over 5 år), seed {seed}"
    parts = pd.DataFrame({
        "group": np.where(is_part, "intervention", "comparison").astype(object),
        "index_week": labels[index_pos],
        # calendar start quarter (13-week quarters of the ISO year; week 53 joins the 4th): exact matching
        # on it compares each participant with pool persons whose (fictitious) start fell in the same quarter
        "start_quarter": [f"{w[:4]}K{min((int(w[6:]) - 1) // 13 + 1, 4)}" for w in labels[index_pos]],
        "effort_group": np.where(is_part, types, "ingen").astype(object),
        "age": age, "sex": sex, "years_on_cash_benefit": years,
    }, index=pd.Index(ids, name="person"))
    return {"participants": parts, "panel": _to_panel(observed, ids, weeks, note),
            "potential": {"control": _to_panel(y0, ids, weeks, note), "treated": _to_panel(y1, ids, weeks, note)},
            "types": types, "seed": seed}


def flere_skal_med_truth(sim: dict, period_weeks: int = 13) -> dict:
    """True ATT of the DiD estimands from the potential outcomes, by period of ``period_weeks`` weeks.

    ``att_overall`` is the mean of value(Y(1)) − value(Y(0)) over participants and periods from
    their enrolment period on (t ≥ g): the cohort-size weighted average of the post-enrolment
    ATT(g, t) cells (``did::aggte`` "simple").
    """
    from ..metrics.panels import benefit_dependency_by_period

    parts = sim["participants"]
    p1 = benefit_dependency_by_period(sim["potential"]["treated"], parts, period_weeks)
    p0 = benefit_dependency_by_period(sim["potential"]["control"], parts, period_weeks)
    d = p1.assign(diff=p1["value"].to_numpy() - p0["value"].to_numpy())
    post = d[(d["cohort"] > 0) & (d["period"] >= d["cohort"])]
    pre = d[(d["cohort"] > 0) & (d["period"] < d["cohort"])]
    by_event = post.assign(e=post["period"] - post["cohort"]).groupby("e")["diff"].mean()
    types = pd.Series(sim["types"], index=parts.index)
    post_t = post.join(types.rename("effort_group"))
    return {
        "att_overall": float(post["diff"].mean()),
        "pre_enrolment_effect": float(pre["diff"].abs().max()),
        "att_by_event_time": {str(int(k)): float(v) for k, v in by_event.items()},
        "att_by_effort_group": {k: float(v) for k, v in post_t.groupby("effort_group")["diff"].mean().items()},
        "n_treated_person_periods": int(len(post)),
    }


def period_time_truths(sim: dict, period_weeks: int = 13, horizons=(52, 104, 156)) -> dict:
    """True cumulative effects in the estimand of event-time DiD: the participants' mean effect in their e-th
    calendar period since enrolment (e = 0 is the period holding the start week), summed over the first h/period
    periods: weeks on public support and public expenses in kroner (shipped rate table)."""
    from ..data.rates import RateTable
    from ..metrics.duration import column_years, period_values

    rates = RateTable.load()
    parts = sim["participants"]
    part = parts[parts["group"] == "intervention"]
    out: dict = {"cumulative_weeks": {}, "cumulative_kroner": {}}
    d = {}
    for arm in ("treated", "control"):
        panel = sim["potential"][arm]
        years = np.unique(column_years(panel))
        table, _ = rates.category_table(panel.codes, years)
        d[arm] = (period_values(panel, part, period_weeks, panel.codes.lut("public_support").astype(float)),
                  period_values(panel, part, period_weeks, table, years=years))
    from ..metrics.benefits import _index_week_ordinals

    panel = sim["potential"]["treated"]
    ords = _index_week_ordinals(part["index_week"], pd.Index(part.index), "index_week")
    cohort = (ords - panel.weeks.first) // period_weeks  # 0-based period of enrolment
    P = d["treated"][0].shape[1]
    for h in horizons:
        k = h // period_weeks
        for j, key in ((0, "cumulative_weeks"), (1, "cumulative_kroner")):
            diff = d["treated"][j] - d["control"][j]
            per_e = [float(np.mean([diff[i, c + e] for i, c in enumerate(cohort) if c + e < P])) for e in range(k)]
            out[key][str(h)] = float(np.sum(per_e))
    out["rates_version"] = rates.version
    return out


def flere_skal_med_files(seed: int = 2017, period_weeks: int = 13) -> dict[str, pd.DataFrame | dict]:
    """Files of ``data/synthetic/flere-skal-med``: participants.csv, register.csv (DREAM wide), truth.json."""
    sim = simulate_flere_skal_med(seed=seed)
    truth = flere_skal_med_truth(sim, period_weeks)
    truth["time_effects_event_time"] = period_time_truths(sim, period_weeks)
    parts = sim["participants"]
    truth["time_effects_weeks_since_start"] = event_time_truths(sim["potential"], parts[parts["group"] == "intervention"])
    wide = sim["panel"].to_wide().rename(columns={"person": "person_id"})
    out_parts = sim["participants"].reset_index().rename(columns={"person": "person_id"})
    return {
        "participants.csv": out_parts,
        "register.csv": wide,
        "truth.json": {
            "generator": "evaluation.synthetic.jobcentre.simulate_flere_skal_med",
            "seed": seed,
            "period_weeks": period_weeks,
            "estimand": "ATT: mean over participants and periods from the enrolment period on of the share of "
                        "weeks on public support under Y(1) minus under Y(0) (CS-DiD att_overall)",
            "effects": {"benefit_dependency_by_period": truth["att_overall"]},
            "detail": truth,
            "mechanism": FLERE_SKAL_MED_EFFECT,
            "note": "Synthetic data. Only the number of participants (1,243) and the shares of the three "
                    "effort groups (393/139/125 in Job- og Aktivhuset) come from the seed.",
        },
    }
