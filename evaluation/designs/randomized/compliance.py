"""Complier effects of a randomized (or encouragement) design: allocation as the instrument for take-up.

When not everybody allocated to the intervention takes it up (and perhaps some of the control
group get it anyway), the difference between the allocated groups is the effect of the *offer*
(intention to treat, ITT). Allocation can then serve as an instrument for take-up: two-stage least
squares of the outcome on take-up, instrumented by allocation, estimates the complier average
causal effect (CACE, the local average treatment effect of Imbens & Angrist 1994; Angrist, Imbens &
Rubin 1996): the effect of taking the intervention up among those who take it up *because* they
were allocated to it. Without covariates and weights it is the Wald ratio ITT(outcome) / ITT(take-up).

Identifying assumptions (listed in the report with what the data say about them):

* **relevance** — allocation changes take-up (first-stage F; a weak first stage, F < 10, makes the
  2SLS estimate biased towards the ITT-scaled OLS and its interval unreliable);
* **exclusion restriction** — allocation affects the outcome only through take-up (being allocated
  but not starting has no effect); it cannot be tested from the data;
* **monotonicity** — nobody takes the intervention up *because* they were allocated to control
  (no defiers); it holds by design when the control group cannot get the intervention (one-sided
  non-compliance: no take-up in the control group);
* the randomization itself (allocation independent of potential outcomes and take-up).

The 2SLS fit is :class:`linearmodels.iv.IV2SLS` (the well-kept implementation; it handles weights
and clustered covariances). Covariates and stratum indicators enter both stages additively.
linearmodels offers no HC2 covariance for IV; the design's default HC2 becomes the HC1-type robust
covariance (``robust`` with ``debiased=True``), and the method string says so.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from evaluation._lazy import stats

from evaluation.designs.balance import _examples, expand_covariates
from evaluation.designs.checks import STATUS_DA, UNTESTABLE_DA, Check, CheckContext, CheckResult, register_check
from evaluation.exceptions import DataValidationError, EstimationError, WeakTakeUpWarning
from evaluation.results import Estimate

__all__ = ["WEAK_F", "F_VIOLATED", "STATUS_DA", "complier_effect", "compliance_checks", "take_up_values", "CACE_TERMS",
           "COMPLIANCE_CHECKS"]

#: first-stage F below which take-up is called weak (Staiger & Stock 1997's rule of thumb)
WEAK_F = 10.0

#: the term of the complier effect: the CACE for a 0/1 take-up, the IV effect per unit of take-up otherwise
CACE_TERMS = ("cace", "iv_effect_per_unit")


def take_up_values(data: pd.DataFrame, column: str) -> np.ndarray:
    """The take-up column as float: numeric (0/1 for started / not started), bool, or missing (NaN)."""
    s = data[column]
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float).to_numpy()
    if not pd.api.types.is_numeric_dtype(s):
        num = pd.to_numeric(s, errors="coerce")
        bad = s.index[num.isna() & s.notna()]
        raise DataValidationError(
            f"take-up column {column!r} must be numeric (1 = took the intervention up, 0 = did not); "
            f"non-numeric values {list(map(repr, s[bad].unique()[:5]))} in rows {_examples(bad)}"
        )
    x = s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    inf = np.isinf(x)
    if inf.any():
        raise DataValidationError(f"take-up column {column!r} has infinite values in rows {_examples(s.index[inf])}")
    return x


def _cov_spec(cov_used: str, clusters) -> tuple[dict[str, Any], str]:
    """linearmodels covariance arguments for the design's cov_type, and its words."""
    if cov_used == "cluster":
        g = pd.factorize(clusters)[0]
        return ({"cov_type": "clustered", "clusters": pd.Series(g), "debiased": True},
                f"cluster-robust SE (linearmodels 'clustered', small-sample corrected, {int(g.max()) + 1} clusters), t(G − 1) interval")
    if cov_used == "nonrobust":
        return {"cov_type": "unadjusted", "debiased": True}, "classical 2SLS SE (n − k), t(n − k) interval"
    if cov_used == "HC0":
        return {"cov_type": "robust", "debiased": False}, "heteroskedasticity-robust SE (HC0), t(n − k) interval"
    return ({"cov_type": "robust", "debiased": True},
            f"heteroskedasticity-robust SE (HC1; linearmodels has no {cov_used} for IV), t(n − k) interval")


def complier_effect(obs_data: pd.DataFrame, y: np.ndarray, t: np.ndarray, *, take_up: str, covariates: list[str],
                    strata: str | None, clusters, weights: np.ndarray | None, cov_used: str, conf: float,
                    comp: dict[str, int], treated_label: str, control_label: str,
                    weights_name: str | None = None) -> tuple[Estimate, pd.DataFrame, dict[str, Any]]:
    """The complier effect of take-up, instrumented by allocation, by two-stage least squares.

    Parameters
    ----------
    obs_data : DataFrame
        The allocated persons with an observed outcome (rows aligned with ``y`` and ``t``).
    y, t : arrays
        Outcome and allocation (True = allocated to the intervention).
    take_up : str
        Column of ``obs_data``: 1 = took the intervention up (started), 0 = did not; any other
        numeric values make the estimate the IV effect per unit of take-up.
    covariates, strata, clusters, weights, cov_used, conf :
        As in the randomized comparison (covariates and stratum indicators enter additively).

    Returns
    -------
    (Estimate, DataFrame, dict)
        The ``cace`` (or ``iv_effect_per_unit``) estimate, the ``take_up`` table (per allocated
        group: persons, persons who took it up and who did not, share) and diagnostics (first-stage
        estimate, SE and F, the take-up shares, whether the non-compliance is one-sided).

    Notes
    -----
    A first-stage F below :data:`WEAK_F` issues a :class:`~evaluation.exceptions.WeakTakeUpWarning`
    (in Danish, because the report shows it).
    """
    d = take_up_values(obs_data, take_up)
    miss = np.isnan(d)
    if miss.any():
        raise DataValidationError(
            f"take-up column {take_up!r} is missing for {int(miss.sum())} analysed person(s), rows "
            f"{_examples(obs_data.index[miss])}; record whether each allocated person took the intervention up"
        )
    binary = bool(np.all(np.isin(d, (0.0, 1.0))))
    n = len(y)
    cols: dict[str, np.ndarray] = {}
    if covariates:
        X, _ = expand_covariates(obs_data, covariates, drop_first=True)
        cols.update({c: X[c].to_numpy(dtype=float) for c in X.columns})
    if strata is not None:
        s = obs_data[strata].astype(str).to_numpy()
        for lev in sorted(np.unique(s))[1:]:
            cols[f"{strata} = {lev}"] = (s == lev).astype(float)
    cols = {k: v for k, v in cols.items() if np.ptp(v) > 0}
    exog = pd.DataFrame({"const": np.ones(n), **cols})
    endog = pd.DataFrame({"take_up": d})
    instr = pd.DataFrame({"allocated": t.astype(float)})
    k = exog.shape[1] + 1
    if n - k < 1:
        raise EstimationError(f"too few observations ({n}) for the complier effect's {k} regression columns")
    Z = np.column_stack([exog.to_numpy(), instr.to_numpy()])
    if np.linalg.matrix_rank(Z) < Z.shape[1]:
        raise EstimationError("the complier effect's first stage is rank deficient: allocation is collinear with the "
                              "covariates or strata")
    if np.ptp(d) == 0:
        raise EstimationError(f"take-up column {take_up!r} has the same value for every analysed person, so allocation "
                              "cannot move it and no complier effect exists")
    kw, se_txt = _cov_spec(cov_used, clusters)
    # imported here: linearmodels pulls in xarray (~0.3 s together), which only a complier effect needs
    from linearmodels.iv import IV2SLS

    try:
        model = IV2SLS(pd.Series(y, name="y"), exog, endog, instr,
                       weights=None if weights is None else pd.Series(weights))
    except ValueError as exc:  # linearmodels' own input checks (e.g. take-up collinear with the covariates)
        raise EstimationError(f"the complier effect cannot be estimated: {exc}") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # linearmodels' own notes on (near-)collinear first stages; F is reported below
        res = model.fit(**kw)
        first = res.first_stage.individual["take_up"]  # OLS of take-up on allocation and exog, same covariance
        fs_coef = float(first.params["allocated"])
        fs_se = float(first.std_errors["allocated"])
    # one instrument: the first-stage (partial, robust Wald) F is the squared t of allocation, as linearmodels'
    # first_stage.diagnostics['f.stat'] (which also computes Shea's R² and fails on a perfectly fitted outcome)
    f_stat = (fs_coef / fs_se) ** 2 if fs_se > 0 else float("inf")
    est, se = float(res.params["take_up"]), float(res.std_errors["take_up"])
    if cov_used == "cluster":
        df = int(pd.factorize(clusters)[0].max())  # G − 1
    else:
        df = n - k
    q = stats.t.ppf(0.5 + conf / 2.0, df)
    stat = est / se if se > 0 else float("nan")
    p = float(2.0 * stats.t.sf(abs(stat), df)) if se > 0 else float("nan")
    term = "cace" if binary else "iv_effect_per_unit"
    what = ("complier average causal effect (CACE): 2SLS of the outcome on take-up instrumented by allocation"
            if binary else "effect per unit of take-up: 2SLS of the outcome on take-up instrumented by allocation")
    adj = []
    if cols:
        adj.append("covariates" if covariates else "")
        if strata is not None:
            adj.append("stratum indicators")
    adj_txt = f", with {' and '.join(a for a in adj if a)} in both stages" if any(adj) else ""
    wtxt = "" if weights is None else f", weights {weights_name or 'declared'}"
    method = f"{what} (linearmodels IV2SLS){adj_txt}{wtxt}; {se_txt}; first-stage F = {f_stat:.2f}"
    e = Estimate(term, est, se, stat, p, est - q * se, est + q * se, n, method, **comp)

    rows = []
    for label, m in ((treated_label, t), (control_label, ~t)):
        dm = d[m]
        row: dict[str, Any] = {"group": label, "n": int(m.sum())}
        if binary:
            row["n_took_up"] = int(dm.sum())
            row["n_not_took_up"] = int(len(dm) - dm.sum())
            row["share"] = float(dm.mean()) if len(dm) else float("nan")
        else:
            row["mean"] = float(dm.mean()) if len(dm) else float("nan")
        rows.append(row)
    table = pd.DataFrame(rows)
    one_sided = binary and bool(np.all(d[~t] == 0))
    diag = {
        "take_up_column": take_up,
        "take_up_binary": binary,
        "take_up_one_sided": one_sided,
        "first_stage_estimate": fs_coef,
        "first_stage_std_error": fs_se,
        "first_stage_f": f_stat,
        "first_stage_df": int(df),
        "weak_take_up": bool(f_stat < WEAK_F),
        "weak_take_up_threshold": WEAK_F,
    }
    if f_stat < WEAK_F:
        warnings.warn(
            f"Svag sammenhæng mellem lodtrækning og deltagelse (F = {f_stat:.1f} i første trin, under {WEAK_F:.0f}): "
            "effekten for dem, der tog imod indsatsen (CACE), er usikker og kan være skæv",
            WeakTakeUpWarning, stacklevel=3)
    return e, table, diag


# ---------------------------------------------------------------------------
# the assumptions of the complier effect, each with its check and status
# ---------------------------------------------------------------------------


#: F below which the first stage is not even significant at the 5 % level (χ²₁ critical value): relevance fails
F_VIOLATED = 3.84


RELEVANCE_RULE_DA = (f"holder når F i første trin er mindst {WEAK_F:g}; tvivlsom (svag) når F er mellem 3,84 og "
                     f"{WEAK_F:g}; brudt når F er under 3,84 (lodtrækningen flytter ikke deltagelsen signifikant på "
                     "5 %-niveau)")
MONOTONICITY_RULE_DA = ("holder når ingen i kontrolgruppen tog imod indsatsen (så kan ingen have taget imod den, fordi "
                        "de kom i kontrolgruppen); ellers kan den ikke testes")
IF_BROKEN_DA = {
    "take_up_relevance": ("Flytter lodtrækningen kun deltagelsen lidt, er effekten for dem, der tog imod indsatsen, "
                          "usikker og trukket mod en sammenligning uden lodtrækning; effekten af tilbuddet gælder stadig."),
    "exclusion_restriction": ("Påvirker tilbuddet resultatet ad andre veje end deltagelsen, kan effekten for dem, der tog "
                              "imod indsatsen, være over- eller undervurderet; effekten af tilbuddet gælder stadig."),
    "take_up_monotonicity": ("Tog nogen imod indsatsen, fordi de kom i kontrolgruppen, er effekten for dem, der tog imod "
                             "den, ikke længere effekten for en veldefineret gruppe; effekten af tilbuddet gælder stadig."),
}


def _relevance(result) -> CheckResult:
    f = (result.diagnostics or {}).get("first_stage_f")
    if f is None or (isinstance(f, float) and not np.isfinite(f)):
        return CheckResult.untestable("Første trin kan ikke vises (det bygger på for få personer).", rule_da=RELEVANCE_RULE_DA,
                                      if_broken_da=IF_BROKEN_DA["take_up_relevance"])
    status = "holder" if f >= WEAK_F else "tvivlsom" if f >= F_VIOLATED else "brudt"
    return CheckResult(status=status, number=float(f), rule_da=RELEVANCE_RULE_DA, number_label_da="F i første trin",
                       finding_da=f"Lodtrækningen flytter deltagelsen: F = {_fmt1(f)} i første trin.",
                       if_broken_da=IF_BROKEN_DA["take_up_relevance"])


def _fmt1(x: float) -> str:
    from evaluation.presentation.formatting import fmt_number

    return fmt_number(x, 1)


def _exclusion(result) -> CheckResult:
    return CheckResult.untestable(UNTESTABLE_DA["exclusion_restriction"],
                                  rule_da="kan ikke testes med data (lodtrækningen kunne virke ad andre veje)",
                                  if_broken_da=IF_BROKEN_DA["exclusion_restriction"])


def _monotonicity(result) -> CheckResult:
    if (result.diagnostics or {}).get("take_up_one_sided"):
        return CheckResult(status="holder", number=0.0, rule_da=MONOTONICITY_RULE_DA,
                           number_label_da="antal i kontrolgruppen, der tog imod indsatsen",
                           finding_da="Ingen i kontrolgruppen tog imod indsatsen.",
                           if_broken_da=IF_BROKEN_DA["take_up_monotonicity"])
    return CheckResult.untestable("Personer i kontrolgruppen tog også imod indsatsen, så det kan ikke ses, om nogen gjorde "
                                  "det, fordi de kom i kontrolgruppen.", rule_da=MONOTONICITY_RULE_DA,
                                  if_broken_da=IF_BROKEN_DA["take_up_monotonicity"])


#: the complier effect's assumptions: (check id, the function of a result, assumption kind, Danish name)
COMPLIANCE_CHECKS = (
    ("take_up_relevance", _relevance, "compliance", "Lodtrækningen flytter deltagelsen (relevans)"),
    ("exclusion_restriction", _exclusion, "exclusion_restriction",
     "Tilbuddet virker kun gennem deltagelsen (eksklusionsrestriktion)"),
    ("take_up_monotonicity", _monotonicity, "compliance",
     "Ingen tager imod indsatsen, fordi de kom i kontrolgruppen (monotonicitet)"),
)


def compliance_checks(result) -> list[dict[str, Any]]:
    """The identifying assumptions of a result's complier effect, each with its check, rule and status.

    Returns an empty list when the result has no complier effect; otherwise one entry per check of
    :data:`COMPLIANCE_CHECKS`: ``id``, ``name_da``, ``kind`` and the :class:`~evaluation.designs.checks.CheckResult`
    fields (``status`` one of holder / tvivlsom / brudt / kan_ikke_testes, ``number``, ``rule_da``, ``finding_da``,
    ``if_broken_da``). The rules:

    * relevance (``take_up_relevance``) — first-stage F ≥ 10: holder; 3.84 ≤ F < 10: tvivlsom (weak take-up);
      F < 3.84 (allocation does not move take-up significantly at the 5 % level): brudt; hidden F (small
      cells): kan_ikke_testes;
    * exclusion restriction — kan_ikke_testes: allocation could matter through other channels;
    * monotonicity (``take_up_monotonicity``) — holder when nobody in the control group took the intervention
      up (one-sided non-compliance: there can be no defiers); otherwise kan_ikke_testes.

    The same functions are registered as assumption checks (:mod:`evaluation.designs.checks`), so an assumption
    in study.yaml may name them, and the report's take-up section and the robustness section agree.
    """
    if "take_up_column" not in (result.diagnostics or {}):
        return []
    return [{"id": cid, "name_da": name, "kind": kind, **fn(result).to_dict()} for cid, fn, kind, name in COMPLIANCE_CHECKS]


def _applies(ctx: CheckContext) -> str | None:
    if getattr(ctx.inp.options, "take_up", None) is None:
        return ("Analysen har ingen kolonne for deltagelse (take_up), så der er ingen effekt for dem, der tog imod "
                "indsatsen, og forudsætningen for den kan ikke vurderes.")
    return None


for _cid, _fn, _kind, _name in COMPLIANCE_CHECKS:
    register_check(Check(id=_cid, kinds=(_kind,), name_da=_name, run=(lambda ctx, fn=_fn: fn(ctx.result)),
                         designs=("randomized_comparison",), applies=_applies, automatic=True,
                         description="an identifying assumption of the complier average causal effect (take_up)"))
