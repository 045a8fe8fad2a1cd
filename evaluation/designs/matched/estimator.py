"""Matched comparison: intervention group vs. a comparison group drawn from a register pool.

No lottery: the comparison group is made comparable on observed pre-treatment covariates by
propensity-score weighting, nearest-neighbour matching or a doubly robust estimator, optionally
exactly within calendar start periods. Maryland scientific methods scale level 3.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd
from evaluation._lazy import stats

from evaluation.designs._weighted_balance import (
    balance_failures,
    kish_ess,
    weighted_balance_table,
)
from evaluation.designs.base import Design, check_columns, register_design
from evaluation.exceptions import (
    BalanceWarning,
    DataValidationError,
    EstimationError,
    EvaluationWarning,
)
from evaluation.results import EffectResult, Estimate

__all__ = ["MatchedComparison"]

_METHODS = ("ipw", "overlap", "nearest", "dr")
_ESTIMANDS = {
    "ipw": ("ATT", "ATE"),
    "overlap": ("ATO",),
    "nearest": ("ATT",),
    "dr": ("ATT",),
}
_DEFAULT_ESTIMAND = {"ipw": "ATT", "overlap": "ATO", "nearest": "ATT", "dr": "ATT"}
_ESTIMAND_TEXT = {
    "ATT": "average treatment effect on the treated (ATT): mean of Y(1) - Y(0) over the intervention group",
    "ATE": "average treatment effect (ATE): mean of Y(1) - Y(0) over intervention and comparison pool together",
    "ATO": (
        "average treatment effect in the overlap population (ATO): mean of Y(1) - Y(0) weighted by "
        "e(X)(1 - e(X)), i.e. among persons who could plausibly have been in either group"
    ),
}
_PS_CLIP = 1e-12


def _logistic_ps(X: np.ndarray, t: np.ndarray, s: np.ndarray | None) -> np.ndarray:
    """Unpenalised logistic regression (maximum likelihood) by Newton-Raphson on standardised columns.

    Written here rather than taken from scikit-learn (``LogisticRegression(C=inf, solver="newton-cholesky")``
    gives the same maximum to ~1e-10, tests/designs/matched/test_matched.py checks it) because importing
    scikit-learn costs ~0.3 s, more than the whole fit of a typical study; scikit-learn is still used for
    a custom ``ps_model``.
    """
    mu = X.mean(axis=0)
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    Z = (X - mu) / sd
    if Z.shape[1] > 1:
        # collinear columns (e.g. a covariate that is a function of the exact strata) leave the fitted
        # scores unchanged but make the Newton step singular: keep a maximal independent set
        from scipy.linalg import qr

        _, R, piv = qr(np.column_stack([np.ones(len(Z)), Z]), mode="economic", pivoting=True)
        diag = np.abs(np.diag(R))
        independent = np.sort(piv[diag > diag[0] * 1e-10])
        Z = Z[:, independent[independent > 0] - 1]
    return _newton_logit(np.column_stack([np.ones(len(Z)), Z]), t.astype(float), s)


def _newton_logit(A: np.ndarray, t: np.ndarray, s: np.ndarray | None, max_iter: int = 200) -> np.ndarray:
    """Fitted probabilities of the weighted logistic maximum-likelihood fit of ``t`` on ``A`` (with intercept).

    Newton steps with step halving on the log-likelihood; stops when the largest gradient component
    relative to the total weight is below 1e-12 (scikit-learn's ``tol`` for newton-cholesky); no
    convergence within ``max_iter`` steps (scikit-learn's limit as the package used it) is an error
    naming quasi-separation, its usual cause.
    """
    w = np.ones(len(t)) if s is None else np.asarray(s, dtype=float)
    total = w.sum()
    beta = np.zeros(A.shape[1])

    def loglik(b: np.ndarray) -> float:
        eta = A @ b
        return float(np.sum(w * (t * eta - np.logaddexp(0.0, eta))))

    ll = loglik(beta)
    for _ in range(max_iter):
        eta = A @ beta
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))  # the logistic function without overflow
        grad = A.T @ (w * (t - p))
        if np.max(np.abs(grad)) / total < 1e-12:
            break
        H = (A * (w * p * (1 - p))[:, None]).T @ A
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
        lam = 1.0
        while lam > 1e-10:
            cand = beta + lam * step
            ll_c = loglik(cand)
            if ll_c >= ll - 1e-12 * abs(ll):
                break
            lam /= 2
        beta, ll = cand, ll_c
    else:
        beta = None
    p = None if beta is None else 0.5 * (1.0 + np.tanh(0.5 * (A @ beta)))
    # fitted probabilities within 1e-14 of 0 or 1 do not occur in a fit with a finite maximum: the
    # coefficients ran off towards infinity (scikit-learn stops there on a degenerate Hessian)
    if p is None or np.any(p * (1 - p) < 1e-14):
        raise EstimationError(
            "the propensity-score model (unpenalised logistic regression) did not converge; "
            "this usually means (quasi-)separation: some covariate pattern occurs in one group only. "
            "Drop or coarsen covariates, or pass a penalised classifier as ps_model."
        )
    return p


def _classifier_ps(model: Any, X: pd.DataFrame, t: np.ndarray, s: np.ndarray | None) -> np.ndarray:
    from sklearn.base import clone

    est = clone(model)
    if s is not None:
        if "sample_weight" not in inspect.signature(est.fit).parameters:
            raise EstimationError(
                f"ps_model {type(model).__name__} does not accept sample_weight, so the survey weights "
                "cannot be used in the propensity-score model; use ps_model='logistic' or a classifier "
                "whose fit() takes sample_weight"
            )
        est.fit(X, t, sample_weight=s)
    else:
        est.fit(X, t)
    classes = list(est.classes_)
    if 1 not in classes:
        raise EstimationError("ps_model was fitted without the treated class")
    return np.asarray(est.predict_proba(X))[:, classes.index(1)]


def _wls_effect(y, t, w, cluster=None):
    """Weighted least squares of y on [1, t]; returns (coef, se, label). Weights treated as fixed."""
    from statsmodels.regression.linear_model import WLS
    from statsmodels.tools.tools import add_constant

    keep = w > 0
    X = add_constant(t[keep].astype(float), has_constant="add")
    model = WLS(y[keep], X, weights=w[keep])
    if cluster is not None:
        groups = pd.factorize(cluster[keep])[0]
        res = model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=False)
        label = "cluster-robust by matched set (CR1)"
    else:
        res = model.fit(cov_type="HC1", use_t=False)
        label = "robust HC1"
    return float(res.params[1]), float(res.bse[1]), label


def _weight_derivative_factors(method: str, estimand: str, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``c1, c0`` with ``d ω_g / d β = ω_g · c_g · x̃`` for the balancing weights ω of each group.

    ATT odds weights (ω1 = 1, ω0 = e/(1−e)): c1 = 0, c0 = 1; ATE (1/e, 1/(1−e)): c1 = −(1−e),
    c0 = e; overlap (1−e, e): c1 = −e, c0 = 1−e. (Logistic model: d e / d β = e(1−e) x̃.)
    """
    if method in ("ipw", "dr") and estimand == "ATT":
        return np.zeros_like(e), np.ones_like(e)
    if method == "ipw":
        return -(1.0 - e), e.copy()
    if method == "overlap":
        return -e, 1.0 - e
    raise EstimationError(f"no M-estimation variance for method {method!r}")


def _m_estimation_influence(
    y: np.ndarray,
    t: np.ndarray,
    s: np.ndarray,
    e: np.ndarray,
    w: np.ndarray,
    Xps: np.ndarray,
    strata: np.ndarray | None,
    estimand: str,
    method: str,
    Xout: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Influence function (and point estimate) of the weighting estimator, stacking the logistic propensity score.

    Hand-written because no library offers it for these estimators (statsmodels has no
    M-estimation for propensity weights; R WeightIt does, and tests/reference/ holds its numbers).
    The estimator is ``Σ_g π_g (μ1_g − μ0_g)`` with Hájek means ``μ`` in each weighting stratum g
    (one stratum without exact matching) and π_g the stratum's share of the target population
    (treated for the ATT, everyone for the ATE). The estimating functions are stacked: the
    logistic score ``s (t − e) x̃`` for β, for the doubly robust estimator the comparison-group
    least-squares normal equations ``s (1 − t)(y − x̄'γ) x̄`` for γ, then ``π_g`` and ``μ_g``. Because
    A = −E[∂ψ/∂θ] is block lower-triangular, each later block's influence function is
    ``A22⁻¹ (ψ2 − A21 IF1)``, which is what is computed here (Lunceford & Davidian 2004; Reifeis &
    Hudgens 2022 for the ATT). ``Var = Σ IF² / n²`` (HC0), the sandwich WeightIt reports.

    All arrays are over the analysed (kept) rows; ``w`` are the final weights (after any within-
    stratum rescaling), ``Xps`` the propensity design without the intercept. For the doubly robust
    estimator ``y`` holds the residuals ``y − x̄'γ̂`` of the fitted outcome model and ``Xout`` its
    design without the intercept.
    """
    n = len(y)
    Xt = np.column_stack([np.ones(n), Xps])
    info = (Xt * (s * e * (1.0 - e))[:, None]).T @ Xt / n
    score = Xt * (s * (t - e))[:, None]
    if_beta = score @ np.linalg.pinv(info).T  # n × p (info is p × p and symmetric positive definite)
    r = y
    if_gamma = None
    if Xout is not None:
        Xo = np.column_stack([np.ones(n), Xout])
        c = ~t
        M = (Xo[c] * s[c][:, None]).T @ Xo[c] / n
        psi_gamma = Xo * (s * c * r)[:, None]
        if_gamma = (np.linalg.pinv(M) @ psi_gamma.T).T
    c1, c0 = _weight_derivative_factors(method, estimand, e)
    groups = np.zeros(n, dtype=np.int64) if strata is None else pd.factorize(strata)[0]
    rescaled = strata is not None and method in ("ipw", "dr")
    a = s * t if estimand == "ATT" else s
    total = np.zeros(n)
    est = 0.0
    for g in np.unique(groups) if rescaled else [None]:
        ind = np.ones(n, dtype=bool) if g is None else groups == g
        diffs, ifs = [], []
        for grp, cg in ((t, c1), (~t, c0)):
            sel = ind & grp
            wg = np.where(sel, w, 0.0)
            D = wg.sum() / n
            mu = float(np.sum(wg * r) / np.sum(wg))
            dev = np.where(sel, r - mu, 0.0)
            if_mu = wg * dev
            if_mu = if_mu + if_beta @ ((Xt * (wg * cg * dev)[:, None]).sum(axis=0) / n)
            if if_gamma is not None:
                if_mu = if_mu - if_gamma @ ((Xo * wg[:, None]).sum(axis=0) / n)
            diffs.append(mu)
            ifs.append(if_mu / D)
        if g is None:
            pi, if_pi = 1.0, np.zeros(n)
        else:
            pi = float(np.sum(a * ind) / np.sum(a))
            if_pi = a * (ind - pi) / a.mean()
        est += pi * (diffs[0] - diffs[1])
        total += if_pi * (diffs[0] - diffs[1]) + pi * (ifs[0] - ifs[1])
    return total, est


def _abadie_imbens_se(y, t, dist, groups, pairs, n_neighbours: int = 2) -> float:
    """Abadie & Imbens (2006) standard error of the matching estimator of the ATT (matching variable known).

    Hand-written: no maintained Python library implements it (R ``Matching``'s ``Match`` and Stata's
    ``teffects psmatch`` do). With N1 matched intervention persons, match shares 1/k_i, control
    weights K_j = Σ_{i→j} 1/k_i and Q_j = Σ_{i→j} 1/k_i²,

    ``V = [Σ_i (Y_i − Ŷ_i(0) − τ̂)² + Σ_j (K_j² − Q_j) σ̂²_j] / N1²``

    (for 1:M matching, K_j² − Q_j = K(K−1)/M²), where σ̂²_j = J/(J+1) (Y_j − mean of its J nearest
    other comparison persons)² is the matching estimator of the conditional variance (J = 2, Stata's
    default), within the same exact stratum and on the same distance as the matching. The first
    term covers the intervention persons' outcomes and the heterogeneity of effects, the second
    the reuse of comparison persons (zero without replacement).
    """
    pt, pc, share = pairs
    pt, pc = pt.astype(np.int64), pc.astype(np.int64)
    n = len(y)
    yhat0 = np.bincount(pt, weights=share * y[pc], minlength=n)
    matched = np.bincount(pt, minlength=n) > 0
    n1 = int(matched.sum())
    tau = float(np.mean(y[matched] - yhat0[matched]))
    K = np.bincount(pc, weights=share, minlength=n)
    Q = np.bincount(pc, weights=share**2, minlength=n)
    used = np.flatnonzero(K > 0)
    sigma2 = np.zeros(n)
    for g in np.unique(groups[used]):
        ci = np.flatnonzero(~t & (groups == g))
        if len(ci) < 2:
            continue
        order = np.argsort(dist[ci], kind="stable")
        cs, dc, yc = ci[order], dist[ci][order], y[ci][order]
        J = min(n_neighbours, len(cs) - 1)
        offs = np.concatenate([np.arange(-J, 0), np.arange(1, J + 1)])
        cand = np.arange(len(cs))[:, None] + offs[None, :]
        valid = (cand >= 0) & (cand < len(cs))
        candc = np.clip(cand, 0, len(cs) - 1)
        d = np.where(valid, np.abs(dc[candc] - dc[:, None]), np.inf)
        pick = np.take_along_axis(candc, np.argsort(d, axis=1, kind="stable")[:, :J], axis=1)
        sigma2[cs] = J / (J + 1.0) * (yc - yc[pick].mean(axis=1)) ** 2
    v = np.sum((y[matched] - yhat0[matched] - tau) ** 2) + np.sum((K**2 - Q)[used] * sigma2[used])
    return float(np.sqrt(v) / n1)


class _Fit:
    """Everything one estimation produces (main fit or one bootstrap draw)."""

    __slots__ = ("estimate", "weights", "ps", "keep", "cluster", "info")

    def __init__(self, estimate, weights, ps, keep, cluster, info):
        self.estimate = estimate
        self.weights = weights
        self.ps = ps
        self.keep = keep
        self.cluster = cluster
        self.info = info


@register_design
class MatchedComparison(Design):
    """Intervention group vs. a propensity-score adjusted comparison group from a register pool.

    Parameters
    ----------
    outcome : str
        Outcome column (continuous, or 0/1 for a binary outcome: the effect is then a
        difference in proportions).
    treatment : str, default "group"
        Column with the group label.
    treated, control : str, default "intervention", "control"
        Labels of the intervention group and the comparison pool (the same defaults as every design with
        two labelled groups). Other labels raise.
    covariates : list of str
        Numeric pre-treatment covariates (dummy-encode categories first). They enter the
        propensity-score model linearly (add squares/interactions as columns if wanted) and are
        the rows of the balance table.
    exact : list of str, optional
        Columns to match/weight exactly on (e.g. calendar start quarter). Strata without both
        groups are discarded (counted in the diagnostics).
    method : {"ipw", "overlap", "nearest", "dr"}, default "ipw"
        ``"ipw"``: inverse-probability weights (ATT: treated 1, comparison e/(1-e), "odds
        weights"; ATE: 1/e and 1/(1-e)). ``"overlap"``: overlap weights (treated 1-e,
        comparison e). ``"nearest"``: 1:k nearest-neighbour matching on the logit of the
        propensity score, greedy, largest score first, with a caliper. ``"dr"``: doubly robust
        augmented IPW for the ATT.
    ps_model : "logistic" or scikit-learn classifier, default "logistic"
        ``"logistic"`` is an *unpenalised* maximum-likelihood logistic regression (scikit-learn
        ``LogisticRegression(C=inf)``, Newton–Cholesky, on internally standardised columns, which does not
        change the MLE), i.e. the same fit as R ``glm(family=binomial)``. Any classifier with
        ``fit``/``predict_proba`` may be passed instead; it is cloned for every fit.
    estimand : {"ATT", "ATE", "ATO"}, optional
        Default per method: ATT for ipw/nearest/dr, ATO for overlap. ATE is allowed for
        ``method="ipw"`` only; overlap weights always estimate the ATO.
    k : int, default 1
        Comparison persons per intervention person for ``"nearest"``.
    replace : bool, default True
        Matching with replacement (a comparison person may serve several intervention persons).
    caliper : float or None, default 0.2
        Maximum distance in standard deviations of the logit propensity score (pooled SD
        ``sqrt((s1² + s0²)/2)``, Austin 2011); ``None`` for no caliper. Intervention persons
        without a match inside the caliper are dropped, which changes the estimand to the ATT
        among the matched (a warning says so).
    balance_rule : dict, optional
        ``{"max_smd": 0.1, "var_ratio": (0.5, 2.0)}`` by default: every covariate must have
        |SMD| ≤ max_smd and (non-binary covariates) variance ratio within var_ratio after
        adjustment, otherwise a :class:`~evaluation.exceptions.BalanceWarning` names them.
    distance : {"logit", "ps"}, default "logit"
        What nearest-neighbour matching measures distance on: the logit of the propensity score
        (Austin 2011) or the score itself (R MatchIt's default). ``method="nearest"`` only.

    ``fit`` options: ``conf_level`` (0.95), ``se`` (``"m_estimation"`` by default for the
    weighting methods with the logistic model, ``"robust"`` for matching or a custom
    ``ps_model``; or ``"bootstrap"``), ``n_boot`` and ``seed`` (bootstrap), ``weights`` (a
    survey/design weight column) and ``cluster`` (a column of assignment units, e.g. jobcentre,
    for cluster-robust standard errors; not with the bootstrap).

    Notes
    -----
    Estimands (Y(1), Y(0) potential outcomes, e(X) = P(intervention | X) the propensity score,
    identification under no unmeasured confounding and overlap):

    * ATT = E[Y(1) − Y(0) | intervention] (default);
    * ATE = E[Y(1) − Y(0)] over intervention group and comparison pool together (ipw only);
    * ATO = E[e(X)(1−e(X)) (Y(1) − Y(0))] / E[e(X)(1−e(X))], the effect in the population of
      overlap (Li, Morgan & Zaslavsky 2018) — not the ATT; it is what overlap weights estimate.

    With survey/design weights ``s`` (``fit(weights=...)``) the propensity model is fitted with
    ``s`` as sample weights and the final weights are ``s`` × the propensity weights (Ridgeway
    et al. 2015), so the estimand refers to the weighted population. For matching, an
    intervention person counts with ``s``, and a matched comparison person carries
    ``Σ s_t / k_t`` over the intervention persons it serves (it stands in for them; its own
    survey weight is not used).

    The point estimate is the weighted difference in means (for ``"dr"``: the weighted
    difference in residuals from an outcome regression fitted on the comparison group, which
    is the normalised AIPW estimator of the ATT). ``se="m_estimation"`` (the default for ipw,
    overlap and dr) stacks the estimating equations of the logistic propensity model (and, for
    dr, of the outcome regression) with those of the weighted means and reports the HC0
    sandwich, so the estimation of the propensity score is accounted for (Lunceford & Davidian
    2004; Reifeis & Hudgens 2022; the standard error R WeightIt's ``lm_weightit`` reports, which
    it reproduces on the Lalonde data: tests/reference/nsw_published.json); with ``cluster`` the
    influence functions are summed within clusters (factor G/(G−1)). ``se="robust"`` is the sandwich standard error
    of weighted least squares (HC1; cluster-robust by matched set for matching without
    replacement) that treats the weights as fixed, i.e. **ignores the estimation of the
    propensity score**. For the ATE this is known to be conservative (Lunceford & Davidian
    2004); for the ATT it is *not* guaranteed to be conservative (Reifeis & Hudgens 2022 show
    it can be too small). For matching with replacement it also ignores the dependence created
    by reusing comparison persons (no Abadie–Imbens 2006 variance). ``se="bootstrap"``
    resamples persons within groups, re-estimates the propensity score and the weights in every
    draw, and gives a percentile interval; it is refused for nearest-neighbour matching with
    replacement, where the bootstrap is invalid (Abadie & Imbens 2008). ``se="abadie_imbens"``
    (the default for matching with replacement without survey weights or clusters) is the
    Abadie & Imbens (2006) variance of the matching estimator, which counts how often each
    comparison person is reused and estimates conditional variances by matching within the
    comparison group (J = 2); like R ``Matching`` it treats the propensity score as known. In
    benchmarks/bench_matched_recovery.py both matching standard errors were conservative
    (coverage 98–99 %): the estimated score makes matching more precise than either assumes
    (Abadie & Imbens 2016 give the correction, not implemented here).

    Balance is reported on the final weights; SMDs are standardised by the unadjusted treated
    SD (ATT) or pooled SD (ATE/ATO), binary SD = sqrt(p(1−p)), as in R MatchIt/cobalt.

    Examples
    --------
    >>> from evaluation.synthetic.observational import make_observational
    >>> sim = make_observational(n_treated=200, n_pool=1500, seed=1)
    >>> design = MatchedComparison(
    ...     outcome="weeks_on_benefit", covariates=["age", "female", "prior_benefit_share", "educ_years"],
    ...     exact=["start_quarter"], method="ipw")
    >>> res = design.fit(sim.data)
    >>> res.tidy()["term"].tolist()
    ['att']
    >>> abs(res.estimate_for("att").estimate - sim.true_att) < 2.0
    True
    """

    name = "matched_comparison"
    evidence_level = 3
    fit_options = frozenset({"conf_level", "se", "n_boot", "seed", "weights", "cluster"})

    def __init__(
        self,
        outcome: str,
        treatment: str = "group",
        treated: Any = "intervention",
        control: Any = "control",
        covariates: Sequence[str] = (),
        exact: Sequence[str] = (),
        method: str = "ipw",
        ps_model: Any = "logistic",
        estimand: str | None = None,
        k: int = 1,
        replace: bool = True,
        caliper: float | None = 0.2,
        balance_rule: dict | None = None,
        distance: str = "logit",
    ):
        if method not in _METHODS:
            raise EstimationError(f"method must be one of {_METHODS}, got {method!r}")
        if isinstance(covariates, str) or isinstance(exact, str):
            raise EstimationError("covariates and exact must be lists of column names, not a string")
        covariates, exact = list(covariates), list(exact)
        if not covariates:
            raise EstimationError("a matched comparison needs at least one covariate")
        overlap_cols = set(covariates) & set(exact)
        if overlap_cols or outcome in covariates + exact or treatment in covariates + exact:
            raise EstimationError("outcome, treatment, covariates and exact must be distinct columns")
        resolved = _DEFAULT_ESTIMAND[method] if estimand is None else str(estimand).upper()
        if resolved not in _ESTIMANDS[method]:
            hint = " (overlap weights estimate the ATO, the effect in the overlap population)" if method == "overlap" else ""
            raise EstimationError(
                f"method {method!r} supports estimand(s) {list(_ESTIMANDS[method])}, not {estimand!r}{hint}"
            )
        if ps_model != "logistic" and not (hasattr(ps_model, "fit") and hasattr(ps_model, "predict_proba")):
            raise EstimationError("ps_model must be 'logistic' or a classifier with fit() and predict_proba()")
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise EstimationError(f"k must be a positive integer, got {k!r}")
        if method != "nearest" and (k != 1 or replace is not True or caliper != 0.2):
            raise EstimationError("k, replace and caliper apply to method='nearest' only; leave them at their defaults")
        if distance not in ("logit", "ps"):
            raise EstimationError(f"distance must be 'logit' (logit of the propensity score) or 'ps' (the score itself), got {distance!r}")
        if method != "nearest" and distance != "logit":
            raise EstimationError("distance applies to method='nearest' only; leave it at its default 'logit'")
        if caliper is not None and not (float(caliper) > 0):
            raise EstimationError(f"caliper must be positive or None, got {caliper!r}")
        rule = {"max_smd": 0.1, "var_ratio": (0.5, 2.0)}
        if balance_rule is not None:
            unknown = set(balance_rule) - set(rule)
            if unknown:
                raise EstimationError(f"balance_rule keys must be among {sorted(rule)}, got {sorted(unknown)}")
            rule.update(balance_rule)
        lo, hi = rule["var_ratio"]
        if not (rule["max_smd"] > 0 and 0 < lo < 1 < hi):
            raise EstimationError(f"invalid balance_rule {rule!r}")
        self.outcome = outcome
        self.treatment = treatment
        self.treated = treated
        self.control = control
        self.covariates = covariates
        self.exact = exact
        self.method = method
        self.ps_model = ps_model
        self.estimand = resolved
        self.k = int(k)
        self.replace = bool(replace)
        self.caliper = None if caliper is None else float(caliper)
        self.distance = distance
        self.balance_rule = {"max_smd": float(rule["max_smd"]), "var_ratio": (float(lo), float(hi))}

    def required_columns(self) -> list[str]:
        return [self.outcome, self.treatment, *self.covariates, *self.exact]

    # ------------------------------------------------------------------ estimation core
    def _ps(self, X: np.ndarray, Xdf: pd.DataFrame, t: np.ndarray, s: np.ndarray | None) -> np.ndarray:
        if isinstance(self.ps_model, str):
            return _logistic_ps(X, t.astype(int), s)
        return _classifier_ps(self.ps_model, Xdf, t.astype(int), s)

    def _estimate_once(self, y, t, Xcov, strata, s, has_survey) -> _Fit:
        n = len(y)
        keep = np.ones(n, dtype=bool)
        info: dict[str, Any] = {}
        if strata is not None:
            has_t = pd.Series(t).groupby(strata).transform("any").to_numpy()
            has_c = pd.Series(~t).groupby(strata).transform("any").to_numpy()
            keep = has_t & has_c
            info["n_discarded_exact_treated"] = int(np.sum(~keep & t))
            info["n_discarded_exact_control"] = int(np.sum(~keep & ~t))
        if not keep[t].any() or not keep[~t].any():
            raise EstimationError("no exact stratum contains both intervention and comparison persons")
        Xk, cols = self._ps_design(Xcov, strata, keep)
        Xdf = pd.DataFrame(Xk, columns=cols)
        tk, sk = t[keep], s[keep]
        e = self._ps(Xk, Xdf, tk, sk if has_survey else None)
        ps = np.full(n, np.nan)
        ps[keep] = e
        w = np.zeros(n)
        cluster = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.method in ("ipw", "dr") and self.estimand == "ATT":
                wk = np.where(tk, sk, sk * e / (1.0 - e))
            elif self.method == "ipw":  # ATE
                wk = np.where(tk, sk / e, sk / (1.0 - e))
            elif self.method == "overlap":
                wk = np.where(tk, sk * (1.0 - e), sk * e)
            else:
                wk = None
        if wk is not None:
            if not np.all(np.isfinite(wk)):
                bad = int(np.sum(~np.isfinite(wk)))
                raise EstimationError(
                    f"{bad} propensity score(s) are exactly 0 or 1, giving infinite {self.method} weights; "
                    "there is no overlap for these persons: restrict the pool or use method='overlap'"
                )
            if strata is not None and self.method in ("ipw", "dr"):
                wk = self._rescale_within_strata(wk, tk, sk, strata[keep], self.estimand)
            w[keep] = wk
        else:
            w[keep], clus_k, minfo = self._match(e, tk, sk, None if strata is None else strata[keep])
            info.update(minfo)
            if not self.replace:
                cluster = np.full(n, -1, dtype=np.int64)
                cluster[keep] = clus_k
        if self.method == "dr":
            r = self._dr_residuals(y, t, Xcov, strata, s, keep)
            num = r
        else:
            num = y
        pos = w > 0
        if not (pos & t).any() or not (pos & ~t).any():
            raise EstimationError("after matching/weighting one group has no persons with positive weight")
        est = float(np.sum(w[pos & t] * num[pos & t]) / np.sum(w[pos & t]) - np.sum(w[pos & ~t] * num[pos & ~t]) / np.sum(w[pos & ~t]))
        info["dr_residual"] = num if self.method == "dr" else None
        return _Fit(est, w, ps, keep, cluster, info)

    def _ps_design(self, Xcov: np.ndarray, strata: np.ndarray | None, keep: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Propensity-model covariates of the kept rows: the covariates plus exact-stratum dummies."""
        Xk = Xcov[keep]
        cols = list(self.covariates)
        if strata is not None:
            dummies = pd.get_dummies(pd.Series(strata[keep]), prefix="exact", drop_first=True, dtype=float)
            Xk = np.column_stack([Xk, dummies.to_numpy()]) if dummies.shape[1] else Xk
            cols += [str(c) for c in dummies.columns]
        return Xk, cols

    @staticmethod
    def _rescale_within_strata(wk, tk, sk, strata_k, estimand):
        """Within each exact stratum, make each group's weight total equal the stratum's target total.

        ATT: the comparison weights sum to the stratum's (survey-weighted) intervention total, so the
        strata are balanced exactly. ATE: both groups sum to the stratum's total survey weight.
        """
        out = wk.copy()
        for idx in pd.Series(np.arange(len(wk))).groupby(strata_k).indices.values():
            tt, ww, ss = tk[idx], wk[idx], sk[idx]
            if estimand == "ATT":
                out[idx[~tt]] = ww[~tt] * ss[tt].sum() / ww[~tt].sum()
            else:
                out[idx[tt]] = ww[tt] * ss.sum() / ww[tt].sum()
                out[idx[~tt]] = ww[~tt] * ss.sum() / ww[~tt].sum()
        return out

    def _outcome_design(self, Xcov, strata):
        """Covariates of the doubly robust outcome model (no intercept) for every row: covariates plus exact-stratum dummies."""
        return self._ps_design(Xcov, strata, np.ones(len(Xcov), dtype=bool))[0]

    def _dr_residuals(self, y, t, Xcov, strata, s, keep):
        """Residuals y − m0(X) from a (survey-)weighted linear outcome model fitted on the kept comparison group."""
        X = self._outcome_design(Xcov, strata)
        X1 = np.column_stack([np.ones(len(y)), X])
        c = keep & ~t
        sw = np.sqrt(s[c])
        beta, *_ = np.linalg.lstsq(X1[c] * sw[:, None], y[c] * sw, rcond=None)
        return y - X1 @ beta

    def _match(self, e, tk, sk, strata_k):
        """Greedy nearest-neighbour matching on the logit propensity score (within exact strata)."""
        if self.distance == "ps":
            lp = e.copy()
        else:
            lp = np.log(np.clip(e, _PS_CLIP, 1 - _PS_CLIP) / (1 - np.clip(e, _PS_CLIP, 1 - _PS_CLIP)))
        sd = float(np.sqrt((np.var(lp[tk], ddof=1) + np.var(lp[~tk], ddof=1)) / 2.0))
        width = np.inf if self.caliper is None else self.caliper * sd
        n = len(e)
        w = np.zeros(n)
        cluster = np.full(n, -1, dtype=np.int64)
        groups = np.zeros(n, dtype=np.int64) if strata_k is None else pd.factorize(strata_k)[0]
        n_unmatched = 0
        pairs_t, pairs_c, pairs_share = [], [], []  # who was matched to whom, with the match's share 1/k_i
        for g in np.unique(groups):
            ti = np.flatnonzero(tk & (groups == g))
            ci = np.flatnonzero(~tk & (groups == g))
            if self.replace:
                order = np.argsort(lp[ci], kind="stable")
                cs, lc = ci[order], lp[ci][order]
                pos = np.searchsorted(lc, lp[ti])
                offs = np.arange(-self.k, self.k)
                cand = pos[:, None] + offs[None, :]
                valid = (cand >= 0) & (cand < len(cs))
                candc = np.clip(cand, 0, len(cs) - 1)
                dist = np.where(valid, np.abs(lc[candc] - lp[ti][:, None]), np.inf)
                pick = np.argsort(dist, axis=1, kind="stable")[:, : self.k]
                dsel = np.take_along_axis(dist, pick, axis=1)
                csel = cs[np.take_along_axis(candc, pick, axis=1)]
                ok = dsel <= width
                k_t = ok.sum(axis=1)
                matched = k_t > 0
                n_unmatched += int(np.sum(~matched))
                w[ti[matched]] = sk[ti[matched]]
                share = np.where(ok, (sk[ti] / np.maximum(k_t, 1))[:, None], 0.0)
                np.add.at(w, csel[ok], share[ok])
                pairs_t.append(np.broadcast_to(ti[:, None], ok.shape)[ok])
                pairs_c.append(csel[ok])
                pairs_share.append(np.broadcast_to((1.0 / np.maximum(k_t, 1))[:, None], ok.shape)[ok])
            else:
                available = np.ones(len(ci), dtype=bool)
                for t_idx in ti[np.argsort(-lp[ti], kind="stable")]:
                    d = np.abs(lp[ci] - lp[t_idx])
                    d[~available] = np.inf
                    if self.k < len(d):
                        cand = np.argpartition(d, self.k - 1)[: self.k]
                    else:
                        cand = np.arange(len(d))
                    cand = cand[np.argsort(d[cand], kind="stable")]
                    cand = cand[d[cand] <= width]
                    if len(cand) == 0:
                        n_unmatched += 1
                        continue
                    available[cand] = False
                    w[t_idx] = sk[t_idx]
                    w[ci[cand]] += sk[t_idx] / len(cand)
                    pairs_t.append(np.full(len(cand), t_idx))
                    pairs_c.append(ci[cand])
                    pairs_share.append(np.full(len(cand), 1.0 / len(cand)))
                    cluster[t_idx] = t_idx
                    cluster[ci[cand]] = t_idx
        info = {
            "n_discarded_caliper": int(n_unmatched),
            "caliper_width_logit": None if self.caliper is None else float(width),
            "n_matched_treated": int(np.sum((w > 0) & tk)),
            "n_matched_controls": int(np.sum((w > 0) & ~tk)),
            "_pairs": tuple(np.concatenate(p) if p else np.zeros(0) for p in (pairs_t, pairs_c, pairs_share)),
            "_distance": lp,
        }
        return w, cluster, info

    def propensity_scores(self, data: pd.DataFrame, weights: str | None = None) -> pd.Series:
        """Estimated propensity scores, one per row of ``data`` (person level: never put in a report).

        Uses the same model, exact-strata dummies and survey weights as :meth:`fit`; rows in exact
        strata without both groups get NaN. ``data`` is not modified.
        """
        check_columns(data, self.required_columns() + ([weights] if weights else []))
        t = (data[self.treatment] == self.treated).to_numpy()
        Xcov = data[self.covariates].to_numpy(dtype=float)
        strata = self._strata(data)
        s = data[weights].to_numpy(dtype=float) if weights else np.ones(len(data))
        keep = np.ones(len(data), dtype=bool)
        if strata is not None:
            keep = (pd.Series(t).groupby(strata).transform("any") & pd.Series(~t).groupby(strata).transform("any")).to_numpy()
        X, cols = self._ps_design(Xcov, strata, keep)
        out = np.full(len(data), np.nan)
        out[keep] = self._ps(X, pd.DataFrame(X, columns=cols), t[keep], s[keep] if weights else None)
        return pd.Series(out, index=data.index, name="propensity_score")

    def _strata(self, data: pd.DataFrame) -> np.ndarray | None:
        if not self.exact:
            return None
        key = data[self.exact].astype(str).agg("|".join, axis=1) if len(self.exact) > 1 else data[self.exact[0]].astype(str)
        return pd.factorize(key)[0]

    # ------------------------------------------------------------------ public fit
    def _fit(
        self,
        data: pd.DataFrame,
        conf_level: float = 0.95,
        se: str | None = None,
        n_boot: int = 500,
        seed: int | None = None,
        weights: str | None = None,
        cluster: str | None = None,
    ) -> EffectResult:
        if not (0 < float(conf_level) < 1):
            raise EstimationError(f"conf_level must be in (0, 1), got {conf_level!r}")
        m_ok = self.method != "nearest" and isinstance(self.ps_model, str)
        if se is None:
            ai_ok = self.method == "nearest" and self.replace and weights is None and cluster is None
            se = "m_estimation" if m_ok else ("abadie_imbens" if ai_ok else "robust")
        if se not in ("m_estimation", "abadie_imbens", "robust", "bootstrap"):
            raise EstimationError(f"se must be 'm_estimation', 'abadie_imbens', 'robust' or 'bootstrap', got {se!r}")
        if se == "abadie_imbens" and (self.method != "nearest" or weights is not None or cluster is not None):
            raise EstimationError(
                "se='abadie_imbens' is the variance of nearest-neighbour matching without survey weights or clusters; "
                "use se='robust' here"
            )
        if se == "m_estimation" and not m_ok:
            raise EstimationError(
                "se='m_estimation' needs a weighting method (ipw, overlap, dr) with the logistic propensity model, "
                "whose estimating equations are known; for nearest-neighbour matching or a custom ps_model use "
                "se='robust' (or 'bootstrap')"
            )
        if cluster is not None and se == "bootstrap":
            raise EstimationError("cluster is not supported with se='bootstrap' (it resamples persons); use se='m_estimation' or 'robust'")
        if cluster is not None and self.method == "nearest" and not self.replace:
            raise EstimationError(
                "matching without replacement already clusters by matched set; a second cluster column cannot be honoured"
            )
        if se == "bootstrap":
            if self.method == "nearest" and self.replace:
                raise EstimationError(
                    "the bootstrap is not valid for nearest-neighbour matching with replacement "
                    "(Abadie & Imbens 2008); use se='robust', replace=False or a weighting method"
                )
            if not isinstance(n_boot, (int, np.integer)) or n_boot < 20:
                raise EstimationError(f"n_boot must be an integer >= 20, got {n_boot!r}")
        elif n_boot != 500 or seed is not None:
            raise EstimationError("n_boot and seed apply to se='bootstrap' only")

        cols = self.required_columns() + ([weights] if weights is not None else []) + ([cluster] if cluster is not None else [])
        for name, col in (("weights", weights), ("cluster", cluster)):
            if col is not None and col not in data.columns:
                raise DataValidationError(f"{name} column {col!r} not in data; available columns: {', '.join(map(str, data.columns))}")
        na = data[cols].isna().sum()
        if na.any():
            bad = ", ".join(f"{c!r} ({int(v)} rows)" for c, v in na.items() if v)
            raise DataValidationError(f"missing values in {bad}; impute or drop them before fitting")
        for c in [self.outcome, *self.covariates] + ([weights] if weights else []):
            if not pd.api.types.is_numeric_dtype(data[c]):
                raise DataValidationError(f"column {c!r} must be numeric (dummy-encode categorical covariates)")
        labels = set(pd.unique(data[self.treatment]))
        extra = labels - {self.treated, self.control}
        if extra:
            raise DataValidationError(
                f"column {self.treatment!r} has value(s) {sorted(map(str, extra))} besides "
                f"treated={self.treated!r} and control={self.control!r}; filter the data first"
            )
        t = (data[self.treatment] == self.treated).to_numpy()
        if t.sum() < 2 or (~t).sum() < 2:
            raise DataValidationError("each group needs at least two persons")
        y = data[self.outcome].to_numpy(dtype=float)
        Xcov = data[self.covariates].to_numpy(dtype=float)
        strata = self._strata(data)
        if weights is not None:
            s = data[weights].to_numpy(dtype=float)
            if not np.all(np.isfinite(s)) or np.any(s < 0):
                raise DataValidationError(f"weights column {weights!r} must be finite and non-negative")
            if s[t].sum() <= 0 or s[~t].sum() <= 0:
                raise DataValidationError(f"weights column {weights!r} sums to zero in a group")
        else:
            s = np.ones(len(y))
        has_survey = weights is not None

        fit = self._estimate_once(y, t, Xcov, strata, s, has_survey)
        w = fit.weights
        alpha = 1.0 - float(conf_level)
        z = stats.norm.ppf(1 - alpha / 2)
        diag: dict[str, Any] = {}
        clus = None if cluster is None else pd.factorize(data[cluster])[0]
        if se == "m_estimation":
            k = fit.keep
            Xps, _ = self._ps_design(Xcov, strata, k)
            Xout = self._outcome_design(Xcov, strata)[k] if self.method == "dr" else None
            num = fit.info["dr_residual"] if self.method == "dr" else y
            infl, check = _m_estimation_influence(
                num[k], t[k], s[k], fit.ps[k], w[k], Xps, None if strata is None else strata[k],
                self.estimand, self.method, Xout,
            )
            if not np.isclose(check, fit.estimate, rtol=1e-8, atol=1e-8 * (1 + abs(check))):
                raise EstimationError("internal inconsistency between the estimate and its estimating equations")
            nk = len(infl)
            if clus is None:
                std_error = float(np.sqrt(np.sum(infl**2)) / nk)
                se_label = "M-estimation sandwich (HC0)"
            else:
                sums = np.bincount(clus[k], weights=infl)
                g = int(np.sum(np.bincount(clus[k]) > 0))
                if g < 2:
                    raise DataValidationError(f"cluster column {cluster!r} has fewer than two clusters among the analysed persons")
                std_error = float(np.sqrt(g / (g - 1) * np.sum(sums**2)) / nk)
                se_label = f"M-estimation sandwich clustered by '{cluster}' ({g} clusters, G/(G-1))"
                diag["n_clusters"] = g
            lo, hi = fit.estimate - z * std_error, fit.estimate + z * std_error
            se_text = f"{se_label} stacking the logistic propensity-score equations (accounts for PS estimation), normal CI"
        elif se == "abadie_imbens":
            k = fit.keep
            groups = np.zeros(int(k.sum()), dtype=np.int64) if strata is None else pd.factorize(strata[k])[0]
            std_error = _abadie_imbens_se(y[k], t[k], fit.info["_distance"], groups, fit.info["_pairs"])
            lo, hi = fit.estimate - z * std_error, fit.estimate + z * std_error
            se_text = ("Abadie-Imbens (2006) SE (conditional variances by matching, J = 2; "
                       "propensity score treated as known), normal CI")
        elif se == "robust":
            num = fit.info["dr_residual"] if self.method == "dr" else y
            wls_cluster = fit.cluster if clus is None else clus
            coef, std_error, se_label = _wls_effect(num, t, w, wls_cluster)
            if clus is not None:
                se_label = f"cluster-robust by '{cluster}' (CR1)"
            if not np.isclose(coef, fit.estimate, rtol=1e-8, atol=1e-8 * (1 + abs(coef))):
                raise EstimationError("internal inconsistency between weighted means and WLS")
            lo, hi = fit.estimate - z * std_error, fit.estimate + z * std_error
            se_text = f"{se_label} SE treating weights as fixed (ignores propensity-score estimation), normal CI"
        else:
            rng = np.random.default_rng(seed)
            it, ic = np.flatnonzero(t), np.flatnonzero(~t)
            draws, failed = [], 0
            for _ in range(int(n_boot)):
                idx = np.concatenate([rng.choice(it, len(it)), rng.choice(ic, len(ic))])
                try:
                    b = self._estimate_once(y[idx], t[idx], Xcov[idx], None if strata is None else strata[idx], s[idx], has_survey)
                    draws.append(b.estimate)
                except EstimationError:
                    failed += 1
            if len(draws) < 0.9 * n_boot:
                raise EstimationError(f"{failed} of {n_boot} bootstrap draws failed; the bootstrap is unreliable here")
            draws = np.asarray(draws)
            std_error = float(np.std(draws, ddof=1))
            lo, hi = (float(v) for v in np.quantile(draws, [alpha / 2, 1 - alpha / 2]))
            se_text = f"bootstrap ({len(draws)} draws within groups, propensity score re-estimated), percentile CI"
            diag.update({"n_boot": int(n_boot), "n_boot_failed": failed, "seed": seed})
        statistic = fit.estimate / std_error if std_error > 0 else float("nan")
        p_value = float(2 * stats.norm.sf(abs(statistic))) if np.isfinite(statistic) else float("nan")

        pos = w > 0
        n_t, n_c = int(np.sum(pos & t)), int(np.sum(pos & ~t))
        term = self.estimand.lower()
        ps_text = "unpenalised logistic PS" if isinstance(self.ps_model, str) else f"PS from {type(self.ps_model).__name__}"
        method_text = {
            "ipw": f"IPW ({'ATT odds' if self.estimand == 'ATT' else 'ATE inverse-probability'} weights)",
            "overlap": "overlap weights (ATO)",
            "nearest": f"1:{self.k} nearest neighbour on {'logit PS' if self.distance == 'logit' else 'PS'}, {'with' if self.replace else 'without'} replacement, "
            + ("no caliper" if self.caliper is None else f"caliper {self.caliper:g} SD"),
            "dr": "doubly robust AIPW (ATT), linear outcome model on comparison group",
        }[self.method]
        if self.exact:
            method_text += f", exact on {'+'.join(self.exact)}"
        if has_survey:
            method_text += f", survey weights '{weights}'"
        estimate = Estimate(
            term=term,
            estimate=fit.estimate,
            std_error=std_error,
            statistic=statistic,
            p_value=p_value,
            ci_lower=float(lo),
            ci_upper=float(hi),
            n=n_t + n_c,
            method=f"{method_text}; {ps_text}; {se_text}",
            n_treated=n_t,
            n_control=n_c,
        )

        balance = weighted_balance_table(data, t, self.covariates, s, w, self.estimand)
        failures = balance_failures(balance, self.balance_rule["max_smd"], self.balance_rule["var_ratio"])
        if failures:
            warnings.warn(
                BalanceWarning(
                    f"covariate balance after {self.method} fails the rule (|SMD| <= {self.balance_rule['max_smd']:g}, "
                    f"variance ratio in {list(self.balance_rule['var_ratio'])}): " + "; ".join(failures)
                ),
                stacklevel=3,
            )
        n_drop = fit.info.get("n_discarded_caliper", 0) + fit.info.get("n_discarded_exact_treated", 0)
        if n_drop:
            warnings.warn(
                EvaluationWarning(
                    f"{n_drop} intervention person(s) were dropped (no comparison person in their exact stratum "
                    "or within the caliper); the estimate is the ATT among the remaining intervention persons"
                ),
                stacklevel=3,
            )
        overlap, hist, support = self._overlap_tables(fit.ps, t, fit.keep)
        diag.update(
            {
                "method": self.method,
                "estimand": self.estimand,
                "ps_model": ps_text,
                "se": se,
                "weights": weights,
                "cluster": cluster,
                "n_treated_input": int(t.sum()),
                "n_control_input": int((~t).sum()),
                "ess_treated": kish_ess(w[t]),
                "ess_control": kish_ess(w[~t]),
                "max_weight_share_control": float(w[~t].max() / w[~t].sum()),
                "balance_ok": not failures,
                "balance_failures": failures,
                "balance_rule": {"max_smd": self.balance_rule["max_smd"], "var_ratio": list(self.balance_rule["var_ratio"])},
                **support,
                **{k: v for k, v in fit.info.items() if k != "dr_residual" and not k.startswith("_")},
            }
        )
        outcome_type = "binary" if np.all(np.isin(np.unique(y), (0.0, 1.0))) else "continuous"
        # the group means behind the reported estimate, for the checks (the E-value's risk ratio): the intervention
        # group's weighted mean and the comparison mean the estimate implies (the weighted comparison mean for
        # ipw/overlap/nearest; the doubly robust counterfactual mean for dr), so that their difference is the estimate
        wt, yt = w[pos & t], y[pos & t]
        mean_t = float(np.sum(wt * yt) / np.sum(wt))
        internals = {"mean_treated": mean_t, "mean_comparison": mean_t - fit.estimate,
                     "var_mean_treated": float(np.sum(wt**2 * (yt - mean_t) ** 2) / np.sum(wt) ** 2),
                     "std_error": float(std_error)}
        return EffectResult(
            estimand=_ESTIMAND_TEXT[self.estimand],
            estimates=(estimate,),
            conf_level=float(conf_level),
            tables={"balance": balance, "overlap": overlap, "overlap_histogram": hist},
            diagnostics=diag,
            design=self.name,
            evidence_level=self.evidence_level,
            outcome_type=outcome_type,
            internals=internals,
        )

    @staticmethod
    def _overlap_tables(ps, t, keep):
        qs = [0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0]
        et, ec = ps[keep & t], ps[keep & ~t]
        overlap = pd.DataFrame(
            {
                "quantile": qs,
                "ps_treated": np.quantile(et, qs),
                "ps_control": np.quantile(ec, qs),
            }
        )
        edges = np.linspace(0.0, 1.0, 11)
        ht, _ = np.histogram(et, bins=edges)
        hc, _ = np.histogram(ec, bins=edges)
        hist = pd.DataFrame({"bin_lower": edges[:-1], "bin_upper": edges[1:], "n_treated": ht, "n_control": hc})
        support = {
            "common_support": [float(max(et.min(), ec.min())), float(min(et.max(), ec.max()))],
            "n_outside_support_treated": int(np.sum((et < ec.min()) | (et > ec.max()))),
            "n_outside_support_control": int(np.sum((ec < et.min()) | (ec > et.max()))),
        }
        return overlap, hist, support
