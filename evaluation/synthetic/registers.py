"""Seeded generator of realistic weekly DREAM-style benefit panels with a known true effect.

Each simulated person follows a weekly Markov chain over benefit states (self-support,
a-dagpenge, kontanthjælp, sygedagpenge, jobafklaringsforløb, ressourceforløb,
ledighedsydelse, fleksjob, førtidspension, SU, emigrated, dead), vectorised over persons:

1. **Background** (before entering the target group): mostly self-supporting, with short
   unemployment, sickness and cash-benefit spells.
2. **Entry and Ashenfelter dip**: ``lag`` weeks (geometric, mean ``dip_weeks`` of the target
   group) before the index week the person enters the target group's benefit and stays on it
   until the index week, so benefit dependency rises just before enrolment.
3. **Follow-up** (after the index week): the target group's transition matrix. For persons in
   the intervention group every transition *into self-support* is multiplied by
   ``hazard_ratio`` (the true effect), and the remaining mass is taken from staying.

Index weeks are staggered uniformly over the enrolment period (continuous enrolment).
Exits to self-support are seasonal (``1 + seasonality · sin(2π (week − 10) / 52)``), and a
person-level frailty (older persons leave benefits more slowly) varies the exit hazards.

Both potential outcomes are simulated with common random numbers, so the true effect on any
metric is computable: :attr:`SyntheticRegisters.potential` holds the panels under control and
under treatment for every person, and :meth:`SyntheticRegisters.true_effect` evaluates a
metric on both (e.g. the ATT on benefit dependency in weeks 1–52).

Example
-------
>>> sim = simulate_registers(2000, target_group="sick_listed", hazard_ratio=1.5, seed=1)
>>> sim.panel.shape
(2000, 260)
>>> round(sim.true_effect(window=(1, 52)), 3) < 0   # faster exit => less benefit dependency
True
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import StudyConfigError
from evaluation.data.registers import Panel, default_code_list, write_register
from evaluation.data.weeks import WeekRange, format_weeks, ordinal_to_iso, parse_week

__all__ = ["STATES", "STATE_CODES", "TARGET_GROUPS", "SyntheticRegisters", "simulate_registers", "write_synthetic"]

#: Simulated states, in order; position = state number.
STATES = (
    "self_support", "a_dagpenge", "kontanthjaelp", "sygedagpenge", "jobafklaringsforloeb", "ressourceforloeb",
    "ledighedsydelse", "fleksjob", "foertidspension", "su", "udvandret", "doed",
)
#: Representative DREAM code written for each state (0 = no code), as in the DREAM code list of the
#: shipped grouping (data/codes/dream_benefit_groups.yaml: the passive code of each benefit).
STATE_CODES = {
    "self_support": 0, "a_dagpenge": 111, "kontanthjaelp": 130, "sygedagpenge": 890, "jobafklaringsforloeb": 785,
    "ressourceforloeb": 810, "ledighedsydelse": 740, "fleksjob": 771, "foertidspension": 783, "su": 651,
    "udvandret": 997, "doed": 999,
}
_S = {s: i for i, s in enumerate(STATES)}

#: Weekly transition hazards (from → {to: probability}) of the background chain.
_BACKGROUND = {
    "self_support": {"a_dagpenge": 0.004, "sygedagpenge": 0.003, "kontanthjaelp": 0.001, "su": 0.0005},
    "a_dagpenge": {"self_support": 0.08, "kontanthjaelp": 0.002, "sygedagpenge": 0.004},
    "kontanthjaelp": {"self_support": 0.03, "a_dagpenge": 0.002},
    "sygedagpenge": {"self_support": 0.15, "a_dagpenge": 0.005},
    "su": {"self_support": 0.02},
    "jobafklaringsforloeb": {"self_support": 0.02}, "ressourceforloeb": {"self_support": 0.01},
    "ledighedsydelse": {"fleksjob": 0.05}, "fleksjob": {"ledighedsydelse": 0.005},
    "foertidspension": {}, "udvandret": {}, "doed": {},
}

_CENSOR = {"udvandret": 0.0003, "doed": 0.0001}

#: Target groups of the seed studies: entry state, mean dip length, follow-up hazards.
TARGET_GROUPS: dict[str, dict] = {
    "sick_listed": {
        "label_da": "sygemeldte lønmodtagere",
        "entry_state": "sygedagpenge",
        "dip_weeks": 6,
        "post": {
            "sygedagpenge": {"self_support": 0.045, "jobafklaringsforloeb": 0.004, "a_dagpenge": 0.004,
                             "foertidspension": 0.0005},
            "jobafklaringsforloeb": {"self_support": 0.012, "ressourceforloeb": 0.004, "ledighedsydelse": 0.003,
                                     "sygedagpenge": 0.002},
            "ressourceforloeb": {"self_support": 0.006, "foertidspension": 0.002, "ledighedsydelse": 0.002},
            "a_dagpenge": {"self_support": 0.06, "sygedagpenge": 0.004},
            "self_support": {"sygedagpenge": 0.006, "a_dagpenge": 0.003},
        },
    },
    "cash_benefit": {
        "label_da": "aktivitetsparate kontanthjælpsmodtagere",
        "entry_state": "kontanthjaelp",
        "dip_weeks": 26,
        "post": {
            "kontanthjaelp": {"self_support": 0.012, "ressourceforloeb": 0.003, "sygedagpenge": 0.002,
                              "su": 0.002, "foertidspension": 0.0008},
            "ressourceforloeb": {"self_support": 0.005, "foertidspension": 0.003, "kontanthjaelp": 0.004},
            "sygedagpenge": {"self_support": 0.03, "kontanthjaelp": 0.02},
            "su": {"self_support": 0.01, "kontanthjaelp": 0.005},
            "self_support": {"kontanthjaelp": 0.02, "a_dagpenge": 0.002},
            "a_dagpenge": {"self_support": 0.05, "kontanthjaelp": 0.01},
        },
    },
    "flex": {
        "label_da": "visiterede til fleksjob (ledighedsydelse)",
        "entry_state": "ledighedsydelse",
        "dip_weeks": 13,
        "post": {
            "ledighedsydelse": {"fleksjob": 0.03, "self_support": 0.002, "foertidspension": 0.001,
                                "sygedagpenge": 0.002},
            "fleksjob": {"ledighedsydelse": 0.006, "sygedagpenge": 0.002},
            "sygedagpenge": {"fleksjob": 0.05, "ledighedsydelse": 0.03},
            "self_support": {"ledighedsydelse": 0.01},
        },
    },
}


def _matrix(hazards: Mapping[str, Mapping[str, float]], base: np.ndarray | None = None) -> np.ndarray:
    """Row-stochastic matrix from off-diagonal hazards (diagonal = stay)."""
    n = len(STATES)
    P = np.zeros((n, n)) if base is None else base.copy()
    for frm, row in hazards.items():
        P[_S[frm], :] = 0.0
        for to, p in row.items():
            P[_S[frm], _S[to]] = p
    return P


@dataclasses.dataclass(frozen=True)
class SyntheticRegisters:
    """A simulated register with its participants and both potential outcomes.

    Attributes
    ----------
    panel : Panel
        Observed weekly register (intervention persons under treatment, controls under control).
    participants : DataFrame
        Indexed by person: ``group`` (``intervention``/``control``), ``index_week`` (ISO),
        ``target_group``, ``age``, ``sex``.
    potential : dict of str to Panel
        ``{"control": Y(0), "treated": Y(1)}`` for every person (None if not kept).
    params : dict
        Everything the simulation was called with (for the report and reproducibility).
    """

    panel: Panel
    participants: pd.DataFrame
    potential: dict | None
    params: dict

    def true_effect(self, metric: str = "benefit_dependency", population: str = "treated", **kwargs) -> float:
        """True average effect of the intervention on a metric, from the potential outcomes.

        ``population="treated"`` gives the ATT (mean over the intervention group of
        metric(Y(1)) − metric(Y(0))), ``"all"`` the ATE. ``metric`` names a function in
        :mod:`evaluation.metrics.benefits` returning a Series (default benefit dependency);
        ``kwargs`` are its parameters (e.g. ``window=(1, 52)``).
        """
        if self.potential is None:
            raise StudyConfigError("the simulation was run with potential_outcomes=False; no true effect is known")
        from ..metrics import benefits

        fn = getattr(benefits, metric)
        parts = self.participants
        if population == "treated":
            parts = parts[parts["group"] == "intervention"]
        elif population != "all":
            raise StudyConfigError(f"population must be 'treated' or 'all', not {population!r}")
        y1 = fn(self.potential["treated"], parts, **kwargs)
        y0 = fn(self.potential["control"], parts, **kwargs)
        return float(np.nanmean(np.asarray(y1, dtype=float) - np.asarray(y0, dtype=float)))


def simulate_registers(
    n_persons: int = 10_000,
    *,
    target_group: str = "sick_listed",
    n_weeks: int = 260,
    first_week: str = "2016-W01",
    enrolment: Sequence[int] = (104, 156),
    share_treated: float = 0.5,
    hazard_ratio: float = 1.3,
    seasonality: float = 0.25,
    potential_outcomes: bool = True,
    cpr_like_ids: bool = False,
    seed: int = 20240601,
) -> SyntheticRegisters:
    """Simulate a weekly benefit register for one target group with a known intervention effect.

    Parameters
    ----------
    n_persons : int
    target_group : {"sick_listed", "cash_benefit", "flex"}
    n_weeks : int
        Weeks in the register (default 260 = 5 years).
    first_week : ISO week
        First register week.
    enrolment : (int, int)
        Index weeks are uniform over these register positions (0-based, inclusive).
    share_treated : float
        Probability of being in the intervention group (randomised).
    hazard_ratio : float
        Multiplier on the weekly probability of every transition into self-support after the
        index week, for the intervention group (1 = no effect).
    seasonality : float
        Amplitude of the seasonal multiplier on exits to self-support.
    potential_outcomes : bool
        Keep both potential-outcome panels (doubles memory).
    cpr_like_ids : bool
        Give persons fake ids shaped like CPR numbers (``DDMMYY-9SSS``), to exercise the
        pseudonymisation at the boundary; default ids are ``p0000001`` …
    seed : int

    Returns
    -------
    SyntheticRegisters

    Notes
    -----
    The observed outcome of person i is :math:`Y_i = D_i Y_i(1) + (1-D_i) Y_i(0)`, where both
    paths share the same uniform draws each week (common random numbers), so
    :math:`Y_i(1) - Y_i(0)` is the individual effect and e.g. the ATT on benefit dependency in
    weeks 1–52 is ``sim.true_effect(window=(1, 52))``.
    """
    if target_group not in TARGET_GROUPS:
        raise StudyConfigError(f"unknown target_group {target_group!r}; choose one of {sorted(TARGET_GROUPS)}")
    lo_e, hi_e = (int(x) for x in enrolment)
    if not (0 <= lo_e <= hi_e < n_weeks):
        raise StudyConfigError(f"enrolment {enrolment!r} must lie within 0..{n_weeks - 1}")
    if hazard_ratio <= 0:
        raise StudyConfigError("hazard_ratio must be positive")
    tg = TARGET_GROUPS[target_group]
    rng = np.random.default_rng(seed)
    n, S = int(n_persons), len(STATES)
    first = parse_week(first_week, what="first_week")
    weeks = WeekRange(first, n_weeks)
    _, woy = ordinal_to_iso(weeks.ordinals)

    # persons
    age = rng.integers(18, 65, size=n)
    sex = rng.choice(np.array(["K", "M"], dtype=object), size=n)
    treated = rng.random(n) < share_treated
    index_pos = rng.integers(lo_e, hi_e + 1, size=n)
    lag = np.minimum(rng.geometric(1.0 / max(tg["dip_weeks"], 1), size=n) - 1, index_pos)
    entry_pos = index_pos - lag
    frailty = np.exp(-0.015 * (age - 40) + rng.normal(0, 0.3, size=n)).astype(np.float32)

    # regime matrices: 0 background (no censoring), 1 follow-up control, 2 follow-up treated
    P_bg = _matrix(_BACKGROUND)
    P_post = _matrix(tg["post"], base=P_bg)
    for c, p in _CENSOR.items():
        for i, s in enumerate(STATES):
            if s not in _CENSOR and s != "foertidspension":
                P_post[i, _S[c]] = p
    self_i = _S["self_support"]

    def regime_tables(season: float):
        mats = []
        for r, base in enumerate((P_bg, P_post, P_post)):
            P = base.copy()
            P[:, self_i] *= season * (hazard_ratio if r == 2 else 1.0)
            np.fill_diagonal(P, 0.0)
            mats.append(P)
        off = np.stack(mats)                        # (3, S, S) off-diagonal probabilities
        move = off.sum(axis=2)                      # (3, S)
        if (move > 1).any():
            raise StudyConfigError("transition probabilities exceed 1; lower hazard_ratio or seasonality")
        with np.errstate(invalid="ignore", divide="ignore"):
            cond = np.where(move[..., None] > 0, off / move[..., None], 0.0)
        cum = np.cumsum(cond, axis=2)
        cum[..., -1] = 1.0
        return move.astype(np.float32).ravel(), cum.reshape(3 * S, S).astype(np.float32)

    # start: stationary-ish background mix
    init = np.array([0.9, 0.03, 0.02, 0.02, 0, 0, 0, 0, 0, 0.03, 0, 0])
    init /= init.sum()
    s0 = rng.choice(S, size=n, p=init).astype(np.int8)
    keep_pot = potential_outcomes
    paths = [np.empty((n, n_weeks), dtype=np.int8), np.empty((n, n_weeks), dtype=np.int8)]
    s1 = s0.copy()
    entry_state = _S[tg["entry_state"]]
    for t in range(n_weeks):
        season = 1.0 + seasonality * np.sin(2 * np.pi * (int(woy[t]) - 10) / 52.0)
        move_p, cum = regime_tables(season)
        u = rng.random(n, dtype=np.float32)
        v = rng.random(n, dtype=np.float32)
        phase_bg = t < entry_pos
        phase_dip = (t >= entry_pos) & (t <= index_pos)
        for which, s in ((0, s0), (1, s1)):
            # path 0 is Y(0) (follow-up regime 1), path 1 is Y(1) (follow-up regime 2) for everyone
            regime = np.where(phase_bg, 0, 1 + which).astype(np.int64)
            key = regime * S + s
            p_move = np.minimum(move_p[key] * frailty, 1.0)
            mv = np.flatnonzero(u < p_move)
            if len(mv):
                nxt = (v[mv, None] > cum[key[mv]]).sum(axis=1)
                s[mv] = np.minimum(nxt, S - 1).astype(np.int8)
            s[phase_dip] = entry_state
            paths[which][:, t] = s
    y0, y1 = paths
    observed = np.where(treated[:, None], y1, y0)

    cl = default_code_list()
    lut = np.zeros(S, dtype=cl.dtype)
    code_pos = {int(c): i + 1 for i, c in enumerate(cl.codes)}
    for i, s in enumerate(STATES):
        code = STATE_CODES[s]
        lut[i] = 0 if code == 0 else code_pos[code]
    if cpr_like_ids:
        day = rng.integers(1, 29, size=n)
        mon = rng.integers(1, 13, size=n)
        ids = [f"{d:02d}{m:02d}{(i // 1000) % 100:02d}-{9000 + i % 1000:04d}" for i, (d, m) in enumerate(zip(day, mon))]
        ids = pd.Index(ids).where(~pd.Index(ids).duplicated(), [f"x{i}" for i in range(n)])
    else:
        width = len(str(n))
        ids = pd.Index([f"p{i:0{width}d}" for i in range(n)])
    notes = [f"syntetisk register ({tg['label_da']}), seed {seed}"]
    panel = Panel(lut[observed], ids, weeks, cl, notes)
    potential = None
    if keep_pot:
        potential = {"control": Panel(lut[y0], ids, weeks, cl, notes), "treated": Panel(lut[y1], ids, weeks, cl, notes)}
    labels = np.asarray(format_weeks(weeks.ordinals), dtype=object)
    participants = pd.DataFrame(
        {
            "group": np.where(treated, "intervention", "control"),
            "index_week": labels[index_pos],
            "target_group": target_group,
            "age": age,
            "sex": sex,
        },
        index=pd.Index(ids, name="person"),
    )
    params = dict(n_persons=n, target_group=target_group, n_weeks=n_weeks, first_week=first_week,
                  enrolment=(lo_e, hi_e), share_treated=share_treated, hazard_ratio=hazard_ratio,
                  seasonality=seasonality, seed=seed)
    return SyntheticRegisters(panel, participants, potential, params)


def write_synthetic(sim: SyntheticRegisters, folder: str | os.PathLike, *, layouts: Sequence[str] = ("wide", "long", "spells"),
                    formats: Sequence[str] = ("parquet", "csv"), row_group_size: int = 100_000) -> dict[str, Path]:
    """Write the observed register in each layout × format, and ``participants.csv``.

    Returns a mapping ``"<layout>.<format>"`` → path (plus ``"participants"``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for layout in layouts:
        for fmt in formats:
            ext = {"parquet": "parquet", "csv": "csv", "xlsx": "xlsx"}[fmt]
            out[f"{layout}.{fmt}"] = write_register(sim.panel, folder / f"register_{layout}.{ext}", layout,
                                                    row_group_size=row_group_size)
    p = folder / "participants.csv"
    sim.participants.reset_index().to_csv(p, index=False)
    out["participants"] = p
    return out
