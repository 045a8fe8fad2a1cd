"""Pre/post targets (*måltal*) without a comparison group (Maryland level 1).

The level of an outcome (a share for a 0/1 outcome, else a mean) in the target group at a
baseline date and at a follow-up date, the change between them and the relative change, each
with a confidence interval. With a ``unit`` column, units measured at both dates are paired
(the same persons measured twice), and the intervals use the within-unit correlation.

There is no comparison group: the change is what happened in the target group over time, not
what the project caused.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from evaluation._lazy import stats
from evaluation._lazy import confint_proportions_2indep, proportion_confint

from evaluation.designs.balance import _examples, numeric_outcome
from evaluation.designs.base import Design, register_design
from evaluation.exceptions import DataValidationError, EstimationError
from evaluation.results import EffectResult, Estimate

__all__ = ["PrePost", "paired_difference_newcombe"]

_OUTCOME_TYPES = ("binary", "continuous")

CAVEAT = (
    "before/after measurement without a comparison group (evidence level 1): the change is what happened "
    "in the target group over time, with no counterfactual; it says nothing about whether the project caused it"
)


def _phi_newcombe(e: int, f: int, g: int, h: int) -> float:
    """Newcombe's (1998, Stat Med 17:2635) corrected phi of a paired 2 × 2 table (method 10).

    ``e`` = 1 at both times, ``f`` = 1 only at the first (``p1 = (e + f)/n``), ``g`` = 1 only at the
    second (``p2 = (e + g)/n``), ``h`` = 0 at both.
    """
    n = e + f + g + h
    a = float(e + f) * float(g + h) * float(e + g) * float(f + h)
    if a <= 0:
        return 0.0
    b = float(e) * h - float(f) * g
    if b > n / 2.0:
        c = b - n / 2.0
    elif b >= 0:
        c = 0.0
    else:
        c = b
    return c / math.sqrt(a)


def _mover(p1: float, l1: float, u1: float, p2: float, l2: float, u2: float, r: float) -> tuple[float, float]:
    """Square-and-add (MOVER) limits for p1 − p2 from single-proportion limits and a correlation ``r``."""
    d = p1 - p2
    lo = d - math.sqrt(max((p1 - l1) ** 2 - 2.0 * r * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    hi = d + math.sqrt(max((p2 - l2) ** 2 - 2.0 * r * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2, 0.0))
    return max(lo, -1.0), min(hi, 1.0)


def paired_difference_newcombe(e: int, f: int, g: int, h: int, conf_level: float = 0.95) -> tuple[float, float, float]:
    """Difference of paired proportions ``(e + f)/n − (e + g)/n`` with Newcombe's method 10 interval.

    Newcombe RG (1998). Improved confidence intervals for the difference between binomial
    proportions based on paired data. Statistics in Medicine 17:2635–2650, method 10: the
    Wilson score limits of the two marginal proportions combined with the corrected phi
    coefficient of the 2 × 2 table.

    Parameters
    ----------
    e, f, g, h : int
        Counts of the paired table: both 1, first only, second only, both 0.
    conf_level : float, default 0.95

    Returns
    -------
    (difference, lower, upper)

    Examples
    --------
    >>> d, lo, hi = paired_difference_newcombe(59, 6, 16, 80)
    >>> round(d, 4), round(lo, 4), round(hi, 4)
    (-0.0621, -0.1186, -0.0046)
    """
    n = e + f + g + h
    if n <= 0:
        raise EstimationError("the paired table is empty")
    alpha = 1.0 - conf_level
    p1, p2 = (e + f) / n, (e + g) / n
    l1, u1 = proportion_confint(e + f, n, alpha=alpha, method="wilson")
    l2, u2 = proportion_confint(e + g, n, alpha=alpha, method="wilson")
    lo, hi = _mover(p1, float(l1), float(u1), p2, float(l2), float(u2), _phi_newcombe(e, f, g, h))
    return p1 - p2, lo, hi


def _t_mean(y: np.ndarray, conf: float) -> tuple[float, float, float, float]:
    m = float(y.mean())
    s = float(np.std(y, ddof=1) / math.sqrt(len(y)))
    q = stats.t.ppf(0.5 + conf / 2.0, len(y) - 1)
    return m, s, m - q * s, m + q * s


def _estimates(yb: np.ndarray, yf: np.ndarray, ib: np.ndarray, jf: np.ndarray, binary: bool, conf: float,
               labels: tuple[str, str]) -> list[Estimate]:
    """The four estimates from baseline values ``yb``, follow-up values ``yf`` and pairs ``(yb[ib], yf[jf])``.

    Pure numpy on validated arrays (also used by the recovery tests).
    """
    nb, nf, n12 = len(yb), len(yf), len(ib)
    z = stats.norm.ppf(0.5 + conf / 2.0)
    alpha = 1.0 - conf
    mb, mf = float(yb.mean()), float(yf.mean())
    ddof = 0 if binary else 1
    vb, vf = float(np.var(yb, ddof=ddof)), float(np.var(yf, ddof=ddof))
    pb_y, pf_y = yb[ib], yf[jf]
    if n12 > ddof:
        s12 = float(np.sum((pb_y - pb_y.mean()) * (pf_y - pf_y.mean())) / (n12 - ddof))
    else:
        s12 = 0.0
    cov = n12 * s12 / (nb * nf)  # covariance of the two means (0 without pairs)
    var_d = max(vb / nb + vf / nf - 2.0 * cov, 0.0)
    se_d = math.sqrt(var_d)
    d = mf - mb
    paired = n12 > 0 and n12 == nb == nf
    b_label, f_label = labels
    rows: list[Estimate] = []

    # levels
    if binary:
        kb, kf = int(round(yb.sum())), int(round(yf.sum()))
        for term, k, n, p, lab in (("baseline_level", kb, nb, mb, b_label), ("follow_up_level", kf, nf, mf, f_label)):
            lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
            rows.append(Estimate(term, p, math.sqrt(p * (1 - p) / n), float("nan"), float("nan"), float(lo), float(hi), n,
                                 f"share at {lab}, Wilson score interval"))
    else:
        for term, y, lab in (("baseline_level", yb, b_label), ("follow_up_level", yf, f_label)):
            m, s, lo, hi = _t_mean(y, conf)
            rows.append(Estimate(term, m, s, float("nan"), float("nan"), lo, hi, len(y),
                                 f"mean at {lab}, t interval (df = {len(y) - 1})"))

    # change (follow-up − baseline)
    if binary:
        if paired:
            e = int(np.sum((pb_y == 1) & (pf_y == 1)))
            f = int(np.sum((pb_y == 0) & (pf_y == 1)))  # 1 at follow-up only
            g = int(np.sum((pb_y == 1) & (pf_y == 0)))  # 1 at baseline only
            h = n12 - e - f - g
            _, lo, hi = paired_difference_newcombe(e, f, g, h, conf)
            method = ("difference of paired shares (follow-up − baseline, the same persons measured twice), Newcombe (1998, "
                      "Stat Med 17:2635) method 10 interval (Wilson limits with the corrected phi); Wald z-test")
        elif n12 == 0:
            lo, hi = confint_proportions_2indep(kf, nf, kb, nb, method="newcomb", compare="diff", alpha=alpha)
            lo, hi = float(lo), float(hi)
            method = ("difference of two independent shares (follow-up − baseline), Newcombe hybrid score interval "
                      "(1998, Stat Med 17:873, method 10); Wald z-test, unpooled SE")
        else:
            e = int(np.sum((pb_y == 1) & (pf_y == 1)))
            f = int(np.sum((pb_y == 0) & (pf_y == 1)))
            g = int(np.sum((pb_y == 1) & (pf_y == 0)))
            r = _phi_newcombe(e, f, g, n12 - e - f - g) * n12 / math.sqrt(nb * nf)
            lf, uf = proportion_confint(kf, nf, alpha=alpha, method="wilson")
            lb, ub = proportion_confint(kb, nb, alpha=alpha, method="wilson")
            lo, hi = _mover(mf, float(lf), float(uf), mb, float(lb), float(ub), r)
            method = (f"difference of shares (follow-up − baseline), {n12} persons measured at both dates: Newcombe "
                      "square-and-add interval from Wilson limits with the correlation of the two shares estimated from "
                      "those persons (corrected phi × n12/√(n_b·n_f)); it is Newcombe's paired method 10 when everyone is "
                      "measured twice and the hybrid score interval when no one is; Wald z-test")
        stat = d / se_d if se_d > 0 else float("nan")
        p = float(2.0 * stats.norm.sf(abs(stat))) if se_d > 0 else float("nan")
    else:
        if paired:
            df = float(n12 - 1)
            method = f"mean within-unit difference (follow-up − baseline, the same units measured twice), paired t interval and test (df = {n12 - 1})"
        else:
            a, b = vb / nb, vf / nf
            df = (a + b) ** 2 / (a ** 2 / (nb - 1) + b ** 2 / (nf - 1)) if (a + b) > 0 else float("nan")
            if n12 == 0:
                method = f"difference in means (follow-up − baseline), Welch t interval and test (df = {df:.2f})"
            else:
                method = (f"difference in means (follow-up − baseline), {n12} units measured at both dates: SE with their "
                          f"covariance, t interval and test with the Welch–Satterthwaite df of the two samples (df = {df:.2f})")
        if se_d > 0:
            q = stats.t.ppf(0.5 + conf / 2.0, df)
            stat = d / se_d
            p = float(2.0 * stats.t.sf(abs(stat), df))
            lo, hi = d - q * se_d, d + q * se_d
        else:
            stat = p = float("nan")
            lo = hi = d
    rows.append(Estimate("change", d, se_d, stat, p, float(lo), float(hi), nb + nf - n12, method))

    # relative change, delta method on the log ratio
    if mb > 0 and mf > 0:
        vlog = (vf / nf) / mf ** 2 + (vb / nb) / mb ** 2 - 2.0 * cov / (mf * mb)
        se_log = math.sqrt(max(vlog, 0.0))
        ratio = mf / mb
        lr = math.log(ratio)
        rel = ratio - 1.0
        stat_r = lr / se_log if se_log > 0 else float("nan")
        p_r = float(2.0 * stats.norm.sf(abs(stat_r))) if se_log > 0 else float("nan")
        what = "Katz log interval for two independent shares" if binary and n12 == 0 else (
            "covariance of the units measured twice included" if n12 else "independent samples")
        rows.append(Estimate("relative_change", rel, ratio * se_log, stat_r, p_r,
                             math.exp(lr - z * se_log) - 1.0, math.exp(lr + z * se_log) - 1.0, nb + nf - n12,
                             f"relative change (follow-up − baseline) / baseline, delta-method interval on the log ratio "
                             f"({what}); z-test of log ratio = 0"))
    else:
        rows.append(Estimate("relative_change", (mf - mb) / mb if mb != 0 else float("nan"), n=nb + nf - n12,
                             method="relative change (follow-up − baseline) / baseline; no interval: the log-ratio interval "
                                    "needs a positive level at both dates"))
    return rows


@register_design
class PrePost(Design):
    """Before/after measurement of a target (*måltal*) in the target group, without a comparison group.

    Parameters
    ----------
    outcome : str
        Outcome column: 0/1 for a share (e.g. on ledighedsydelse), otherwise numeric (a mean).
    baseline, follow_up : str or int
        Labels of the baseline and follow-up measurement in ``period``; every other period
        value is left out (counted in ``diagnostics["n_rows_other_periods"]``). Labels are
        compared as text, so ``2014`` matches the value ``"2014"``.
    period : str, default "period"
        Column naming when each row was measured.
    unit : str, optional
        Column identifying the person (or unit). Each unit may appear at most once per period.
        Units found in both periods are paired; without ``unit``, or when no unit is found in
        both periods, the two measurements are treated as independent samples.
    outcome_type : {"binary", "continuous"} or None, default None
        None infers ``"binary"`` when every outcome is 0 or 1.

    Notes
    -----
    Fitting: ``fit(data, conf_level=0.95)``.

    Estimand: the change over time in the target group, ``θ = μ_f − μ_b``, where ``μ_b`` and
    ``μ_f`` are the share (mean) of the outcome in the target group at the baseline and the
    follow-up date, and the relative change ``μ_f / μ_b − 1``. Each date's persons are taken
    as the target group at that date. There is no comparison group and no counterfactual:
    θ describes what happened, not what the project caused; the target group's composition,
    the business cycle and rules may have changed in between. Evidence level 1 on the
    Maryland scale.

    Estimates (``tidy()`` terms): ``baseline_level`` and ``follow_up_level`` (Wilson score
    interval for a share, t interval for a mean); ``change`` = follow-up − baseline: for
    independent shares Newcombe's hybrid score interval (1998, Stat Med 17:873, method 10),
    for paired shares Newcombe's paired method 10 (1998, Stat Med 17:2635: Wilson limits
    combined with the corrected phi), for partially paired shares the same square-and-add
    interval with the correlation of the two shares estimated from the units measured twice
    (``phi × n12 / √(n_b n_f)``); for means Welch's t (independent), the paired t (paired) or a
    t interval whose standard error includes the covariance of the units measured twice;
    ``relative_change`` = (follow-up − baseline) / baseline with a delta-method interval on the
    log ratio (for independent shares Katz's log interval), ``exp(log r ± z·se) − 1``. Every
    ``method`` string names the interval. Tables: ``groups`` (n and share/mean per date) and
    ``overlap`` (units measured at both dates, only at baseline, only at follow-up; for a 0/1
    outcome, units measured twice by status at both dates).

    Examples
    --------
    >>> from evaluation.synthetic.prepost import simulate_pre_post
    >>> from evaluation.designs.pre_post.estimator import PrePost
    >>> df = simulate_pre_post(n_both=400, n_baseline_only=100, n_follow_up_only=100, seed=1)
    >>> design = PrePost(outcome="on_ledighedsydelse", baseline="2016-06-30", follow_up="2018-03-31", unit="person_id")
    >>> res = design.fit(df)
    >>> list(res.tidy()["term"])
    ['baseline_level', 'follow_up_level', 'change', 'relative_change']
    >>> res.evidence_level, res.diagnostics["pairing"], res.diagnostics["n_both"]
    (1, 'partially paired', 400)
    """

    name = "pre_post"
    evidence_level = 1
    fit_options = frozenset({"conf_level"})

    def __init__(
        self,
        *,
        outcome: str,
        baseline: str | int,
        follow_up: str | int,
        period: str = "period",
        unit: str | None = None,
        outcome_type: str | None = None,
    ):
        if not isinstance(outcome, str) or not outcome:
            raise EstimationError(f"outcome must be a column name, got {outcome!r}")
        if not isinstance(period, str) or not period:
            raise EstimationError(f"period must be a column name, got {period!r}")
        if unit is not None and (not isinstance(unit, str) or not unit):
            raise EstimationError(f"unit must be a column name or None, got {unit!r}")
        for what, lab in (("baseline", baseline), ("follow_up", follow_up)):
            if lab is None or isinstance(lab, bool) or (isinstance(lab, str) and not lab.strip()):
                raise EstimationError(f"{what} must be the label of a period in column {period!r}, got {lab!r}")
        if str(baseline) == str(follow_up):
            raise EstimationError(f"baseline and follow_up must be different periods, both are {baseline!r}")
        if outcome_type not in (None,) + _OUTCOME_TYPES:
            raise EstimationError(f"outcome_type must be one of {list(_OUTCOME_TYPES)} or None, got {outcome_type!r}")
        if len({outcome, period, unit} - {None}) < (3 if unit is not None else 2):
            raise EstimationError("outcome, period and unit must be different columns")
        self.outcome = outcome
        self.baseline = baseline
        self.follow_up = follow_up
        self.period = period
        self.unit = unit
        self.outcome_type = outcome_type

    def required_columns(self) -> list[str]:
        return [self.outcome, self.period] + ([self.unit] if self.unit is not None else [])

    # ------------------------------------------------------------------ validation
    def _validate(self, data: pd.DataFrame) -> tuple[pd.DataFrame, str, int]:
        per = data[self.period]
        if per.isna().any():
            raise DataValidationError(
                f"period column {self.period!r} has {int(per.isna().sum())} missing value(s) in rows {_examples(data.index[per.isna()])}"
            )
        per_s = per.astype(str)
        b_lab, f_lab = str(self.baseline), str(self.follow_up)
        found = sorted(per_s.unique())
        for what, lab in (("baseline", b_lab), ("follow_up", f_lab)):
            if not (per_s == lab).any():
                shown = ", ".join(map(repr, found[:10])) + (" …" if len(found) > 10 else "")
                raise DataValidationError(
                    f"the {what} period {lab!r} does not occur in column {self.period!r}; values found: {shown}"
                )
        keep = per_s.isin([b_lab, f_lab]).to_numpy()
        other = int((~keep).sum())
        d = data.loc[keep]
        is_f = (per_s[keep] == f_lab).to_numpy()
        y_s = d[self.outcome]
        y = numeric_outcome(y_s, self.outcome)
        miss = np.isnan(y)
        if miss.any():
            raise DataValidationError(
                f"outcome column {self.outcome!r} has {int(miss.sum())} missing value(s) in the baseline/follow-up rows "
                f"{_examples(y_s.index[miss])}; a target must be measured for everyone in the target group (remove or "
                "impute these rows explicitly)"
            )
        inf = np.isinf(y)
        if inf.any():
            raise DataValidationError(f"outcome column {self.outcome!r} has infinite values in rows {_examples(y_s.index[inf])}")
        binary_values = bool(np.all(np.isin(y, (0.0, 1.0))))
        otype = self.outcome_type or ("binary" if binary_values else "continuous")
        if otype == "binary" and not binary_values:
            bad = y_s.index[~np.isin(y, (0.0, 1.0))]
            raise DataValidationError(
                f"outcome_type='binary' but outcome column {self.outcome!r} has values other than 0/1 in rows {_examples(bad)}"
            )
        frame = pd.DataFrame({"y": y, "follow_up": is_f}, index=d.index)
        if self.unit is not None:
            u = d[self.unit]
            if u.isna().any():
                raise DataValidationError(
                    f"unit column {self.unit!r} has {int(u.isna().sum())} missing value(s) in rows {_examples(u.index[u.isna()])}"
                )
            frame["unit"] = u.to_numpy()
            dup = frame.duplicated(["unit", "follow_up"], keep=False).to_numpy()
            if dup.any():
                units = pd.unique(frame.loc[dup, "unit"])
                raise DataValidationError(
                    f"unit column {self.unit!r}: {len(units)} unit(s) are measured more than once in the same period "
                    f"(e.g. {list(map(str, units[:5]))} in rows {_examples(frame.index[dup])}); expected at most one row "
                    "per unit and period"
                )
        for what, lab, m in (("baseline", b_lab, ~is_f), ("follow_up", f_lab, is_f)):
            if int(m.sum()) < 2:
                raise EstimationError(f"the {what} period {lab!r} has {int(m.sum())} observation(s); at least 2 are needed")
        return frame, otype, other

    # ------------------------------------------------------------------ estimation
    def _fit(self, data: pd.DataFrame, conf_level: float = 0.95) -> EffectResult:
        if isinstance(conf_level, bool) or not isinstance(conf_level, (int, float)) or not 0.0 < float(conf_level) < 1.0:
            raise EstimationError(f"conf_level must be strictly between 0 and 1, got {conf_level!r}")
        conf = float(conf_level)
        frame, otype, other = self._validate(data)
        binary = otype == "binary"
        fb, ff = frame[~frame["follow_up"]], frame[frame["follow_up"]]
        yb, yf = fb["y"].to_numpy(), ff["y"].to_numpy()
        if self.unit is not None:
            pos_b = pd.Series(np.arange(len(fb)), index=pd.Index(fb["unit"].to_numpy()))
            pos_f = pd.Series(np.arange(len(ff)), index=pd.Index(ff["unit"].to_numpy()))
            common = pos_b.index.intersection(pos_f.index)
            ib, jf = pos_b[common].to_numpy(), pos_f[common].to_numpy()
        else:
            ib = jf = np.array([], dtype=int)
        nb, nf, n12 = len(yb), len(yf), len(ib)
        b_lab, f_lab = str(self.baseline), str(self.follow_up)
        estimates = _estimates(yb, yf, ib, jf, binary, conf, (b_lab, f_lab))
        pairing = "paired" if n12 > 0 and n12 == nb == nf else ("independent" if n12 == 0 else "partially paired")

        col = "share" if binary else "mean"
        groups = pd.DataFrame([
            {"group": b_lab, "n": nb, col: float(yb.mean()), "sd": float(np.std(yb, ddof=1))},
            {"group": f_lab, "n": nf, col: float(yf.mean()), "sd": float(np.std(yf, ddof=1))},
        ])
        tables: dict[str, pd.DataFrame] = {"groups": groups}
        if self.unit is not None:
            rows = [{"measured": "both", "n": n12}, {"measured": "baseline_only", "n": nb - n12},
                    {"measured": "follow_up_only", "n": nf - n12}]
            if binary and n12:
                pb_y, pf_y = yb[ib], yf[jf]
                for vb in (1, 0):
                    for vf in (1, 0):
                        rows.append({"measured": f"both_baseline_{vb}_follow_up_{vf}",
                                     "n": int(np.sum((pb_y == vb) & (pf_y == vf)))})
            tables["overlap"] = pd.DataFrame(rows)
        diagnostics: dict[str, Any] = {
            "outcome_type": otype,
            "pairing": pairing,
            "baseline": b_lab,
            "follow_up": f_lab,
            "n_baseline": nb,
            "n_follow_up": nf,
            "n_both": n12,
            "n_rows_other_periods": other,
            "no_comparison_group": True,
            "caveat": CAVEAT,
        }
        what = "share" if binary else "mean"
        estimand = (
            f"change over time in the target group: {what} of {self.outcome} at follow-up ({f_lab}) minus at baseline "
            f"({b_lab}), and the relative change (follow-up − baseline) / baseline. Before/after measurement without a "
            "comparison group: no counterfactual, so it says nothing about cause (whether the project brought the "
            "change about)"
        )
        return EffectResult(
            estimand=estimand,
            estimates=tuple(estimates),
            conf_level=conf,
            tables=tables,
            diagnostics=diagnostics,
            design=self.name,
            evidence_level=self.evidence_level,
            outcome_type=otype,
        )
