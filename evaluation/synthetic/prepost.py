"""Seeded person-level data for a before/after (pre/post) measurement with a known change.

Persons are measured at a baseline and a follow-up date. Some are measured at both (they stay
in the target group), some only at baseline (they left) and some only at follow-up (they
entered). A binary status (e.g. *on ledighedsydelse*) follows a two-state transition model so
that the shares at the two dates are exactly the ones asked for in expectation, and the status
of a person measured twice is positively correlated over time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_pre_post", "transition_probabilities"]


def transition_probabilities(p_baseline: float, p_follow_up: float, persistence: float) -> tuple[float, float]:
    """``(P(y_f = 1 | y_b = 1), P(y_f = 1 | y_b = 0))`` giving the follow-up share ``p_follow_up``.

    ``persistence`` is the probability of still having the status at follow-up when one had it
    at baseline; the entry probability is solved from
    ``p_follow_up = p_baseline * persistence + (1 - p_baseline) * entry``.
    """
    if not (0 < p_baseline < 1 and 0 < p_follow_up < 1 and 0 <= persistence <= 1):
        raise ValueError("shares must lie strictly between 0 and 1 and persistence in [0, 1]")
    entry = (p_follow_up - p_baseline * persistence) / (1.0 - p_baseline)
    if not 0.0 <= entry <= 1.0:
        raise ValueError(
            f"persistence {persistence} cannot give a follow-up share of {p_follow_up} from {p_baseline} "
            f"(the entry probability would be {entry:.3f})"
        )
    return persistence, entry


def simulate_pre_post(
    *,
    n_both: int = 1700,
    n_baseline_only: int = 600,
    n_follow_up_only: int = 600,
    p_baseline: float = 0.153,
    p_follow_up: float = 0.125,
    persistence: float = 0.45,
    baseline: str = "2016-06-30",
    follow_up: str = "2018-03-31",
    outcome: str = "on_ledighedsydelse",
    exact_counts: bool = False,
    seed: int | None = None,
) -> pd.DataFrame:
    """Person-level rows (one per person and date) with a binary status and a known change.

    Parameters
    ----------
    n_both, n_baseline_only, n_follow_up_only : int
        Persons measured at both dates, only at baseline, only at follow-up.
    p_baseline, p_follow_up : float
        True shares with the status at the two dates (the truth is ``p_follow_up - p_baseline``).
    persistence : float
        P(status at follow-up | status at baseline) for persons measured twice.
    baseline, follow_up : str
        Labels of the two dates in the ``period`` column.
    outcome : str
        Name of the 0/1 status column.
    exact_counts : bool, default False
        Give exactly ``round(p * n)`` persons the status at each date, as when both shares are
        published population figures (the person file is then the micro-data behind them): at
        baseline a random set; at follow-up a random set drawn without replacement with
        probabilities proportional to each person's transition probability, so the status stays
        correlated over time.
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    pandas.DataFrame
        Columns ``person_id, period, <outcome>, age``; ``attrs["truth"]`` holds the true shares,
        the change and the relative change.
    """
    rng = np.random.default_rng(seed)
    stay, entry = transition_probabilities(p_baseline, p_follow_up, persistence)
    n_persons = n_both + n_baseline_only + n_follow_up_only
    ids = np.array([f"P{i:05d}" for i in range(1, n_persons + 1)])
    rng.shuffle(ids)
    both, b_only, f_only = np.split(ids, [n_both, n_both + n_baseline_only])
    age = dict(zip(ids, rng.integers(22, 66, n_persons)))

    n_b = n_both + n_baseline_only
    if exact_counts:
        y_b = np.zeros(n_b, dtype=bool)
        y_b[: int(round(p_baseline * n_b))] = True
        rng.shuffle(y_b)
    else:
        y_b = rng.random(n_b) < p_baseline
    y_b_both, y_b_only = y_b[:n_both], y_b[n_both:]
    if exact_counts:
        w = np.concatenate([np.where(y_b_both, stay, entry), np.full(n_follow_up_only, p_follow_up)])
        n_f = n_both + n_follow_up_only
        y_f = np.zeros(n_f, dtype=bool)
        y_f[rng.choice(n_f, size=int(round(p_follow_up * n_f)), replace=False, p=w / w.sum())] = True
        y_f_both, y_f_only = y_f[:n_both], y_f[n_both:]
    else:
        y_f_both = np.where(y_b_both, rng.random(n_both) < stay, rng.random(n_both) < entry)
        y_f_only = rng.random(n_follow_up_only) < p_follow_up

    frames = []
    for label, persons, y in ((baseline, both, y_b_both), (baseline, b_only, y_b_only),
                              (follow_up, both, y_f_both), (follow_up, f_only, y_f_only)):
        frames.append(pd.DataFrame({"person_id": persons, "period": label, outcome: y.astype(int)}))
    out = pd.concat(frames, ignore_index=True)
    out["age"] = out["person_id"].map(age).astype(int)
    out["age"] = np.where(out["period"] == follow_up, out["age"] + 2, out["age"])  # about 21 months later
    out = out.sort_values(["period", "person_id"], kind="stable").reset_index(drop=True)
    out.attrs["truth"] = {
        "p_baseline": p_baseline,
        "p_follow_up": p_follow_up,
        "change": p_follow_up - p_baseline,
        "relative_change": (p_follow_up - p_baseline) / p_baseline,
        "persistence": stay,
        "entry": entry,
    }
    return out
