"""Assumption checks: a registry each design family contributes to (issue 14).

A programme theory's assumptions (``theory.assumptions`` in ``study.yaml``) and a design's identifying
assumptions (parallel trends, no unmeasured confounding …) are only worth declaring when the evidence
flows back into them. A **check** is a named, registered function that looks at one analysis — its
input and its (unpublished) result — and says whether an assumption looks safe:

* ``holder`` — the data give no sign that the assumption fails, by the stated rule;
* ``tvivlsom`` — doubtful: the rule's warning threshold is passed;
* ``brudt`` — broken: the data contradict the assumption by the stated rule;
* ``kan_ikke_testes`` — the data cannot speak to it (and the result says why).

Every :class:`CheckResult` carries the number the status rests on and the rule that produced it (in
Danish, for the report), and what the conclusion would be if the assumption failed.

Interface (for families and other helpers)
------------------------------------------
A family registers its checks at import time::

    from evaluation.designs.checks import Check, CheckResult, register_check

    def _my_check(ctx):                       # ctx: CheckContext
        ...
        return CheckResult(status="holder", number=0.03, rule_da="…", finding_da="…")

    register_check(Check(
        id="my_check", kinds=("parallel_trends",), name_da="Mit tjek", run=_my_check,
        designs=("did_cs",), description="what it does, in English",
    ))

``kinds`` are the assumption kinds the check speaks to (:data:`KINDS`; a family may add a kind with
:func:`register_kind`). ``designs`` are the design names it applies to (empty: every design);
``applies`` may refuse an analysis with a reason (returned as ``kan_ikke_testes``). A check with
``automatic=True`` runs for every analysis of its designs; one with ``automatic=False`` only when an
assumption names it. A check raising :class:`~evaluation.exceptions.EstimationError` gives
``kan_ikke_testes`` with the message as the reason; any other exception is a bug and propagates.

In ``study.yaml`` an assumption names its checks and, optionally, its kind and the analyses it
concerns::

    assumptions:
      - id: parallelle_tendenser
        description: …
        criticality: high
        kind: parallel_trends              # optional: one of KINDS
        checks: [pretrends, honest_did]    # optional: check ids from this registry
        analyses: [forsoergelse_cs]        # optional: default every analysis the check applies to

The pipeline (:func:`run_checks`, :func:`assess_assumptions`) runs the checks with each analysis and
writes the results into the bundle (``robustness``); the report section "Hvor robust er resultatet?"
and the logic-model diagram read them from there.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from evaluation.exceptions import EstimationError, UnknownNameError

if TYPE_CHECKING:  # pragma: no cover
    from evaluation.designs.family import AnalysisInput, Family
    from evaluation.results import Result

__all__ = [
    "STATUSES",
    "STATUS_DA",
    "KINDS",
    "UNTESTABLE_DA",
    "CheckResult",
    "CheckContext",
    "Check",
    "CHECKS",
    "register_check",
    "register_kind",
    "get_check",
    "param_problems",
    "checks_for",
    "run_check",
    "worst_status",
]

#: the statuses a check can give, from best to worst (``kan_ikke_testes`` is no verdict)
STATUSES: tuple[str, ...] = ("holder", "tvivlsom", "brudt", "kan_ikke_testes")

#: how a status is written in the report
STATUS_DA: dict[str, str] = {
    "holder": "holder",
    "tvivlsom": "tvivlsom",
    "brudt": "brudt",
    "kan_ikke_testes": "kan ikke testes",
}

#: assumption kinds → Danish name (what a check speaks to; what an assumption may declare as ``kind``)
KINDS: dict[str, str] = {
    "parallel_trends": "parallelle tendenser",
    "no_anticipation": "ingen forventningseffekt",
    "balance": "balance i baggrundsforhold",
    "overlap": "overlap mellem grupperne",
    "no_unmeasured_confounding": "ingen uobserverede forskelle mellem grupperne",
    "attrition": "frafald og manglende resultatmål",
    "sutva": "ingen smitte mellem grupperne",
    "randomization": "lodtrækningen blev gennemført som planlagt",
    "compliance": "deltagelse i indsatsen (take-up)",
    "exclusion_restriction": "lodtrækningen virker kun gennem deltagelse",
    "sequential_ignorability": "ingen uobserverede forskelle mellem mediator og resultat",
    "programme": "programteoriens antagelse om indsatsen",
}

#: why an assumption of a kind cannot be tested with the data, when no check can speak to it
UNTESTABLE_DA: dict[str, str] = {
    "sutva": ("Om kontrol- eller sammenligningsgruppen har fået dele af indsatsen (smitte), kan ikke ses i "
              "resultatdata; det kræver oplysninger om, hvad grupperne faktisk fik (fx sagsgennemgang eller "
              "interview med medarbejderne)."),
    "exclusion_restriction": ("At lodtrækningen kun påvirker resultatet gennem deltagelsen, kan ikke testes med "
                              "data; den hviler på kendskab til indsatsen."),
    "no_unmeasured_confounding": ("Forskelle, der ikke er målt, kan ikke ses i data; en følsomhedsanalyse kan kun "
                                  "sige, hvor stærke de skulle være for at ændre konklusionen."),
    "programme": ("Antagelsen handler om, hvordan indsatsen virker i praksis, og der er ikke knyttet en indikator "
                  "med en tærskel til den; den følges op kvalitativt."),
}

_ORDER = {"holder": 0, "tvivlsom": 1, "brudt": 2}


def register_kind(kind: str, name_da: str, untestable_da: str | None = None) -> None:
    """Add an assumption kind (a family whose checks speak to a kind the registry does not know yet)."""
    KINDS.setdefault(kind, name_da)
    if untestable_da is not None:
        UNTESTABLE_DA.setdefault(kind, untestable_da)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one analysis.

    Attributes
    ----------
    status : {"holder", "tvivlsom", "brudt", "kan_ikke_testes"}
    number : float or None
        The number the status rests on (a p-value, a breakdown value, a robustness value, a largest
        standardised difference …); None when the check could not run.
    rule_da : str
        The rule that produced the status, in Danish ("holder når p ≥ 0,10; tvivlsom når …").
    finding_da : str
        What was found, in one Danish sentence with the number.
    if_broken_da : str
        What the conclusion would be if the assumption failed (Danish).
    number_label_da : str
        What the number is ("p-værdi for fælles test af før-perioder").
    details : mapping
        JSON-serialisable supporting numbers (a sensitivity table …), shown by the report where useful.
    """

    status: str
    number: float | None = None
    rule_da: str = ""
    finding_da: str = ""
    if_broken_da: str = ""
    number_label_da: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.number is not None and not (isinstance(self.number, (int, float)) and math.isfinite(self.number)):
            object.__setattr__(self, "number", None)

    @classmethod
    def untestable(cls, reason_da: str, *, rule_da: str = "", if_broken_da: str = "") -> "CheckResult":
        """``kan_ikke_testes`` with the reason as the finding."""
        return cls(status="kan_ikke_testes", number=None, rule_da=rule_da, finding_da=reason_da,
                   if_broken_da=if_broken_da)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "number": self.number, "rule_da": self.rule_da, "finding_da": self.finding_da,
                "if_broken_da": self.if_broken_da, "number_label_da": self.number_label_da,
                "details": dict(self.details)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CheckResult":
        return cls(status=d["status"], number=d.get("number"), rule_da=d.get("rule_da", ""),
                   finding_da=d.get("finding_da", ""), if_broken_da=d.get("if_broken_da", ""),
                   number_label_da=d.get("number_label_da", ""), details=d.get("details") or {})


@dataclass(frozen=True)
class CheckContext:
    """What a check gets: the analysis's input, its result before disclosure control, and its family.

    The result is the estimator's own (``Result.internals`` may hold what the estimator kept for
    checks, e.g. the covariance matrix of event-study coefficients); nothing a check returns may reveal
    a cell below ``inp.threshold`` persons — the check's numbers go into the bundle as they are.
    """

    inp: "AnalysisInput"
    result: "Result"
    family: "Family"
    params: Mapping[str, Any] = field(default_factory=dict)

    def effect_text(self, x: float, hi: float | None = None) -> str:
        """An effect (or, with ``hi``, an interval ``[lo; hi]``) on the scale the report shows the analysis's
        results: a share's effects in procentpoint, other units as they are, with the unit named."""
        from evaluation.presentation.formatting import fmt_number
        from evaluation.presentation.phrases import check_scale_for
        mult, unit, dec = check_scale_for(self.inp.unit, getattr(self.result, "outcome_type", "continuous"))
        txt = (fmt_number(mult * x, dec) if hi is None
               else f"[{fmt_number(mult * x, dec)}; {fmt_number(mult * hi, dec)}]")
        return f"{txt} {unit}" if unit else txt


@dataclass(frozen=True)
class Check:
    """A registered assumption check (see the module docstring)."""

    id: str
    kinds: tuple[str, ...]
    name_da: str
    run: Callable[[CheckContext], CheckResult]
    designs: tuple[str, ...] = ()
    applies: Callable[[CheckContext], str | None] | None = None
    automatic: bool = True
    description: str = ""
    #: the parameters a study may give the check (``analyses[].check_params.<check id>``): name → description
    params: Mapping[str, str] = field(default_factory=dict)
    #: checks the parameters' values: ``(params, inp)`` → ``[(parameter name, message), …]``; called with
    #: ``inp=None`` when the study file is loaded (values only) and with the analysis's input when the data are
    #: prepared (``validate`` and ``run``: values against the data, e.g. an event time the data have)
    validate_params: Callable[[Mapping[str, Any], Any], list[tuple[str, str]]] | None = None
    #: the Danish block of the check's details in "Hvor robust er resultatet?" (e.g. HonestDiD's table of robust
    #: intervals): ``(bundle, check record)`` → markdown; None when the status, finding and rule say it all
    report_block: Callable[[Any, Mapping[str, Any]], str] | None = None

    def applies_to(self, design: str) -> bool:
        return not self.designs or design in self.designs


#: every registered check by id
CHECKS: dict[str, Check] = {}


def register_check(check: Check) -> Check:
    """Register ``check`` under its id (twice with different definitions is an error)."""
    if not check.id:
        raise TypeError("a check needs an id")
    unknown = [k for k in check.kinds if k not in KINDS]
    if unknown:
        raise TypeError(f"check {check.id!r} names unknown assumption kind(s) {unknown}; register them with register_kind")
    if check.id in CHECKS and CHECKS[check.id] is not check:
        old = CHECKS[check.id]
        if (old.run, old.kinds, old.designs) != (check.run, check.kinds, check.designs):
            raise TypeError(f"check {check.id!r} is registered twice")
    CHECKS[check.id] = check
    return check


def param_problems(check: Check, params: Any, inp: Any = None) -> list[tuple[tuple[str, ...], str]]:
    """What is wrong with the parameters a study gives ``check``: ``[(location under the check's entry, message)]``
    (unknown names, values the check refuses; with ``inp``, values the analysis's data cannot meet)."""
    if not isinstance(params, Mapping):
        return [((), f"expected a mapping of parameters, got {type(params).__name__}")]
    known = dict(check.params)
    out: list[tuple[tuple[str, ...], str]] = []
    for k in params:
        if k not in known:
            what = f"; it takes: {', '.join(sorted(known))}" if known else "; it takes no parameters"
            out.append(((str(k),), f"check {check.id!r} has no parameter {k!r}{what}"))
    if out or check.validate_params is None:
        return out
    return [((str(k),) if k else (), msg) for k, msg in check.validate_params(params, inp)]


def get_check(check_id: str) -> Check:
    """The registered check ``check_id`` (``UnknownNameError`` with the known ids). The families register
    their checks when :mod:`evaluation.designs` is imported (as they register themselves)."""
    try:
        return CHECKS[check_id]
    except KeyError:
        close = difflib.get_close_matches(str(check_id), list(CHECKS), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownNameError(f"unknown check {check_id!r}{hint}; known checks: {', '.join(sorted(CHECKS))}") from None


def checks_for(design: str, *, automatic: bool | None = None, kinds: Iterable[str] | None = None) -> list[Check]:
    """The registered checks that apply to ``design`` (only automatic ones with ``automatic=True``; only those
    speaking to one of ``kinds`` when given), sorted by id."""
    ks = set(kinds) if kinds is not None else None
    out = []
    for cid in sorted(CHECKS):
        c = CHECKS[cid]
        if not c.applies_to(design):
            continue
        if automatic is not None and c.automatic != automatic:
            continue
        if ks is not None and not ks.intersection(c.kinds):
            continue
        out.append(c)
    return out


def run_check(check: Check, ctx: CheckContext) -> CheckResult:
    """Run ``check`` on one analysis: ``kan_ikke_testes`` when it does not apply (with the reason) or when the
    estimation it needs fails with an :class:`~evaluation.exceptions.EstimationError`."""
    if not check.applies_to(ctx.inp.design):
        return CheckResult.untestable(f"Tjekket «{check.name_da}» gælder ikke for designet {ctx.family.label_da or ctx.inp.design}.")
    if check.applies is not None:
        reason = check.applies(ctx)
        if reason:
            return CheckResult.untestable(reason)
    try:
        return check.run(ctx)
    except EstimationError as exc:
        return CheckResult.untestable(f"Tjekket kunne ikke beregnes: {exc}")


def worst_status(statuses: Iterable[str]) -> str:
    """The assumption's status from its checks' statuses: the worst verdict (brudt > tvivlsom > holder);
    ``kan_ikke_testes`` only when no check gave a verdict."""
    verdicts = [s for s in statuses if s in _ORDER]
    if not verdicts:
        return "kan_ikke_testes"
    return max(verdicts, key=_ORDER.__getitem__)
