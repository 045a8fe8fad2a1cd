"""Programme theory (*programteori / forandringsteori*) as a typed, validated graph.

The theory is declared in ``study.yaml`` under ``theory:``. Nodes are typed (input, activity,
output, outcome with a horizon, impact); links are labelled with a mechanism or explicitly
marked ``direct: true`` (an unlabelled arrow is the most common fault in drawn theories of
change, so it is a validation error). Mechanisms are *resource offered* + *reasoning it
triggers* (realist evaluation); context (conditions) and moderators ("for whom") are kept
apart; assumptions carry a criticality and optionally a test; CMO configurations tie
context, mechanism and outcome together; every outcome binds to an indicator.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "NodeType",
    "Node",
    "TargetGroup",
    "Link",
    "Mechanism",
    "ContextCondition",
    "Moderator",
    "AssumptionTest",
    "Assumption",
    "CMO",
    "MetricRef",
    "QualitativeMethod",
    "Target",
    "Indicator",
    "Theory",
    "NODE_TYPES",
    "theory_problems",
]

NodeType = Literal["input", "activity", "output", "outcome", "impact"]
NODE_TYPES: tuple[str, ...] = ("input", "activity", "output", "outcome", "impact")

_ID_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"
_ID_DESC = "an identifier of lower-case letters, digits, '-' or '_' (e.g. 'tidlig_kontakt')"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class Node(_Model):
    """One box of the logic model."""

    id: str = Field(pattern=_ID_PATTERN, description=_ID_DESC)
    type: NodeType = Field(description="input, activity, output, outcome or impact")
    label: str = Field(min_length=1, description="short Danish text shown in the diagram")
    description: str | None = Field(default=None, description="longer explanation")
    horizon: Literal["short", "medium", "long"] | None = Field(
        default=None, description="for outcomes: short, medium or long term"
    )
    primary: bool = Field(default=False, description="for outcomes: a primary (pre-specified main) outcome")

    @model_validator(mode="after")
    def _outcome_fields(self) -> "Node":
        if self.type != "outcome" and (self.horizon is not None or self.primary):
            raise ValueError(f"'horizon' and 'primary' apply only to outcomes, not to a node of type {self.type!r}")
        return self


class TargetGroup(_Model):
    """Who the project is for (*målgruppe*), with inclusion and exclusion rules."""

    description: str = Field(min_length=1, description="the target group in plain Danish")
    inclusion: list[str] = Field(default_factory=list, description="inclusion criteria, one per line")
    exclusion: list[str] = Field(default_factory=list, description="exclusion criteria, one per line")
    expected_n: int | None = Field(default=None, ge=1, description="expected number of participants")
    inflow_per_month: float | None = Field(default=None, ge=0, description="expected monthly inflow")


class Link(_Model):
    """A labelled arrow between two nodes."""

    from_: str = Field(alias="from", description="id of the node the arrow starts at")
    to: str = Field(description="id of the node the arrow points to")
    mechanism: str | None = Field(default=None, description="id of the mechanism that explains the arrow")
    direct: bool = Field(default=False, description="true when the link is a direct, self-evident step (no mechanism)")
    assumptions: list[str] = Field(default_factory=list, description="ids of assumptions this link rests on")
    moderators: list[str] = Field(default_factory=list, description="ids of moderators (for whom it works)")
    context: list[str] = Field(default_factory=list, description="ids of context conditions it needs")
    mediator: str | None = Field(
        default=None,
        description="id of an indicator (with a metric) measuring the link's mechanism as a mediator, e.g. dialogue "
        "with the workplace within 4 weeks; randomized analyses of outcomes downstream of the link then estimate how "
        "much of the effect runs through it (ACME, ADE; Imai, Keele & Yamamoto 2010) with its sensitivity analysis",
    )


class Mechanism(_Model):
    """A mechanism as the resource offered and the reasoning it triggers (realist evaluation)."""

    id: str = Field(pattern=_ID_PATTERN, description=_ID_DESC)
    label: str = Field(min_length=1, description="short name shown on arrows")
    resource: str = Field(min_length=1, description="what the programme offers")
    reasoning: str = Field(min_length=1, description="how participants respond to it (the reasoning it triggers)")
    category: str | None = Field(
        default=None, min_length=1,
        description="the kind of mechanism in words shared across projects (e.g. 'Kontakt mellem jobcenter og "
        "arbejdsplads'); the portfolio groups the CMO evidence of all projects by it (default: the label)",
    )


class ContextCondition(_Model):
    """A condition in the surroundings that a mechanism needs to fire."""

    id: str = Field(pattern=_ID_PATTERN, description=_ID_DESC)
    description: str = Field(min_length=1)


class Moderator(_Model):
    """A participant characteristic the effect may vary with ("for whom"): a pre-specified subgroup."""

    id: str = Field(pattern=_ID_PATTERN, description=_ID_DESC)
    label: str = Field(min_length=1)
    variable: str | None = Field(default=None, description="data column holding the characteristic")
    description: str | None = None


class AssumptionTest(_Model):
    """How an assumption is checked: an indicator and a threshold."""

    indicator: str = Field(description="id of the indicator that tests the assumption")
    threshold: float = Field(description="the value the indicator must reach")
    direction: Literal["at_least", "at_most"] = Field(default="at_least")


class Assumption(_Model):
    """An assumption the theory rests on, with its criticality."""

    id: str = Field(pattern=_ID_PATTERN, description=_ID_DESC)
    description: str = Field(min_length=1)
    criticality: Literal["high", "medium", "low"] = Field(description="high, medium or low")
    test: AssumptionTest | None = None
    kind: str | None = Field(
        default=None,
        description="what kind of assumption it is, one of the assumption kinds of evaluation.designs.checks.KINDS "
        "(e.g. 'parallel_trends', 'no_unmeasured_confounding', 'attrition', 'sutva', 'programme'); the registered "
        "checks of that kind run with the analyses",
    )
    checks: list[str] = Field(
        default_factory=list,
        description="ids of registered assumption checks that speak to it (evaluation.designs.checks), e.g. "
        "['pretrends', 'honest_did']",
    )
    analyses: list[str] = Field(
        default_factory=list,
        description="ids of the analyses whose checks speak to it (default: every analysis a check applies to)",
    )
    if_broken: str | None = Field(
        default=None,
        description="what the conclusion would be if the assumption failed, in Danish (shown in the robustness "
        "section when no check computes it)",
    )


class CMO(_Model):
    """A context-mechanism-outcome configuration."""

    id: str = Field(pattern=_ID_PATTERN, description=_ID_DESC)
    context: list[str] = Field(default_factory=list, description="ids of context conditions")
    mechanism: str = Field(description="id of a mechanism")
    outcome: str = Field(description="id of an outcome node")
    status: Literal["initial", "refined", "refuted"] = "initial"
    note: str | None = None


class MetricRef(_Model):
    """A named metric from the library with its parameters."""

    name: str = Field(description="registered metric name, e.g. 'column' or 'benefit_dependency'")
    params: dict[str, Any] = Field(default_factory=dict, description="the metric's parameters")


class QualitativeMethod(_Model):
    """A qualitative way of following an outcome (interviews, observation, document review)."""

    method: str = Field(min_length=1, description="e.g. 'interview', 'observation', 'dokumentstudie'")
    description: str = Field(min_length=1)


class Target(_Model):
    """A target (*resultatkrav*) on an indicator."""

    baseline: float | None = Field(default=None, description="the starting value (*udgangspunkt*)")
    baseline_date: date | None = None
    requirement: str | None = Field(default=None, description="the result requirement (*resultatkrav*) in words")
    goal: float | None = Field(
        default=None, description="the value to reach; a share as 0-1, a relative change as e.g. -0.04 (omit for a qualitative requirement)"
    )
    goal_type: Literal["level", "absolute_change", "relative_change", "effect", "none"] = Field(
        default="level",
        description="level: the indicator must reach 'goal' (falde til / stige til); absolute_change: the change from "
        "baseline, in the indicator's unit (a share's change in percentage points), must reach 'goal' (falde med 2 "
        "procentpoint); relative_change: the change from baseline relative to baseline, e.g. -0.04 (falde med 4 %); "
        "effect: the estimated effect (intervention - control) must reach 'goal'; none: the indicator is followed "
        "without a target (intet måltal)",
    )
    direction: Literal["increase", "decrease"] | None = Field(default=None, description="increase or decrease (numeric goals)")
    census: bool = Field(
        default=False,
        description="the result counts the whole population (a census, e.g. every person in the municipality's scheme), "
        "not a sample: it is compared with the goal as it is, without a sampling interval, and the report says so",
    )
    deadline: date | None = None
    measurement_method: str | None = Field(default=None, description="målemetode: how the result is measured")
    follow_up: str | None = Field(default=None, description="opfølgning: when and how results are followed up")


    @model_validator(mode="after")
    def _numeric_goal(self) -> "Target":
        if self.goal is not None and self.direction is None:
            raise ValueError("a numeric goal needs a 'direction' (increase or decrease)")
        if self.goal_type == "none":
            if self.goal is not None or self.direction is not None:
                raise ValueError("goal_type 'none' (no target) takes no 'goal' or 'direction'; remove them or choose "
                                 "level, absolute_change, relative_change or effect")
            return self
        if self.goal is None and self.requirement is None:
            raise ValueError("a target needs a numeric 'goal' or a 'requirement' in words (or goal_type: none)")
        if self.goal_type in ("effect", "absolute_change", "relative_change") and self.goal is None:
            raise ValueError(f"goal_type {self.goal_type!r} needs a numeric 'goal'")
        if self.census and self.goal_type == "effect":
            raise ValueError("an effect compares two groups and is never a census; remove 'census' or choose another goal_type")
        return self


class Indicator(_Model):
    """How an outcome is measured: a metric from the library or a named qualitative method."""

    id: str = Field(pattern=_ID_PATTERN, description=_ID_DESC)
    outcome: str = Field(description="id of the outcome (or output) node it measures")
    label: str = Field(min_length=1, description="Danish label used in tables")
    unit: str | None = Field(default=None, description="Danish unit, e.g. 'uger' or 'andel'")
    phrase: str | None = Field(
        default=None,
        description="for a share: what a person has, as a Danish verb phrase for natural frequencies, "
        "e.g. 'var ansat hos samme arbejdsgiver efter 12 måneder'",
    )
    metric: MetricRef | None = None
    qualitative: QualitativeMethod | None = None
    target: Target | None = None
    direction: Literal["increase", "decrease"] | None = Field(
        default=None,
        description="the change the programme theory expects in this indicator (increase or decrease); the CMO "
        "status reads it (default: the target's direction)",
    )

    @model_validator(mode="after")
    def _one_method(self) -> "Indicator":
        if (self.metric is None) == (self.qualitative is None):
            raise ValueError("an indicator needs exactly one of 'metric' (a named metric) or 'qualitative' (a method)")
        return self


class Theory(_Model):
    """The programme theory of a study."""

    target_group: TargetGroup
    nodes: list[Node] = Field(min_length=1)
    links: list[Link] = Field(default_factory=list)
    mechanisms: list[Mechanism] = Field(default_factory=list)
    context: list[ContextCondition] = Field(default_factory=list)
    moderators: list[Moderator] = Field(default_factory=list)
    assumptions: list[Assumption] = Field(default_factory=list)
    cmo: list[CMO] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)

    # convenience look-ups -------------------------------------------------
    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def indicator(self, indicator_id: str) -> Indicator:
        return next(i for i in self.indicators if i.id == indicator_id)

    def mechanism(self, mechanism_id: str) -> Mechanism:
        return next(m for m in self.mechanisms if m.id == mechanism_id)

    @property
    def primary_outcomes(self) -> list[Node]:
        return [n for n in self.nodes if n.type == "outcome" and n.primary]


_MAX_CYCLES = 10


def _cycle_problems(theory: Theory, node_ids: set[str]) -> list[tuple[tuple[Any, ...], str]]:
    """Self-loops and cycles among the links, each named by its path and the links that close it.

    A programme theory reads from inputs to impact; a loop (a → b → a) has no reading order, and the
    diagram cannot draw it as columns. Each cycle is found once, as a back edge of an iterative
    depth-first search in the order the links are declared, and reported at the link that closes it.
    """
    problems: list[tuple[tuple[Any, ...], str]] = []
    out_links: dict[str, list[tuple[int, str]]] = {}
    for i, link in enumerate(theory.links):
        if link.from_ == link.to:
            problems.append((("theory", "links", i),
                             f"the link goes from {link.from_!r} to itself; a link joins two different nodes (remove it)"))
        elif link.from_ in node_ids and link.to in node_ids:
            out_links.setdefault(link.from_, []).append((i, link.to))
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    found = 0
    for start in [n.id for n in theory.nodes]:
        if start in state:
            continue
        path: list[tuple[str, int | None]] = [(start, None)]  # node, index of the link that led to it
        iters = [iter(out_links.get(start, []))]
        state[start] = 1
        while iters:
            step = next(iters[-1], None)
            if step is None:
                state[path[-1][0]] = 2
                path.pop()
                iters.pop()
                continue
            i, target = step
            if state.get(target) == 1 and found < _MAX_CYCLES:
                at = next(k for k, (n, _) in enumerate(path) if n == target)
                nodes = [n for n, _ in path[at:]] + [target]
                links = [j for _, j in path[at + 1:]] + [i]
                found += 1
                problems.append((
                    ("theory", "links", i),
                    f"the links form a cycle {' → '.join(nodes)} (theory.links{', '.join(f'[{j}]' for j in links)}); "
                    "a programme theory runs from inputs to impact without loops: remove or turn one of these links",
                ))
            elif target not in state:
                state[target] = 1
                path.append((target, i))
                iters.append(iter(out_links.get(target, [])))
    return problems


def _assumption_check_problems(a: Assumption, path: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    """An assumption's kind and checks must be registered (:mod:`evaluation.designs.checks`)."""
    import evaluation.designs  # noqa: F401  (the families register their checks)
    from evaluation.designs.checks import KINDS, get_check
    from evaluation.exceptions import UnknownNameError

    problems: list[tuple[tuple[Any, ...], str]] = []
    if a.kind is not None and a.kind not in KINDS:
        import difflib

        close = difflib.get_close_matches(a.kind, list(KINDS), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append((path + ("kind",), f"unknown assumption kind {a.kind!r}{hint} (known kinds: {', '.join(KINDS)})"))
    for j, c in enumerate(a.checks):
        try:
            get_check(c)
        except UnknownNameError as exc:
            problems.append((path + ("checks", j), str(exc)))
    return problems


def theory_problems(theory: Theory) -> list[tuple[tuple[Any, ...], str]]:
    """Check the graph beyond types; return ``(path, message)`` pairs (empty when valid).

    Checks: unique ids per kind, every reference resolves, no orphan nodes, no self-loop and no
    cycle among the links (named by their path), every link labelled (mechanism or ``direct: true``), every outcome has an indicator, at least one
    primary outcome, CMO outcomes are outcome nodes.
    """
    problems: list[tuple[tuple[Any, ...], str]] = []
    base = ("theory",)

    def unique(items: list[Any], kind: str) -> set[str]:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in seen:
                problems.append(
                    (base + (kind, i, "id"), f"id {item.id!r} is used twice (also at {kind}[{seen[item.id]}]); ids must be unique")
                )
            else:
                seen[item.id] = i
        return set(seen)

    node_ids = unique(theory.nodes, "nodes")
    mech_ids = unique(theory.mechanisms, "mechanisms")
    ctx_ids = unique(theory.context, "context")
    mod_ids = unique(theory.moderators, "moderators")
    ass_ids = unique(theory.assumptions, "assumptions")
    unique(theory.cmo, "cmo")
    ind_ids = unique(theory.indicators, "indicators")
    nodes_by_id = {n.id: n for n in theory.nodes}

    def resolve(value: str, known: set[str], path: tuple[Any, ...], what: str) -> None:
        if value not in known:
            hint = ", ".join(sorted(known)) if known else f"none are declared under theory.{what}"
            problems.append((path, f"refers to {value!r}, which is not declared; expected one of: {hint}"))

    touched: set[str] = set()
    for i, link in enumerate(theory.links):
        p = base + ("links", i)
        resolve(link.from_, node_ids, p + ("from",), "nodes")
        resolve(link.to, node_ids, p + ("to",), "nodes")
        touched.update({link.from_, link.to})
        if link.mechanism is None and not link.direct:
            problems.append(
                (p, f"the link {link.from_} → {link.to} has no label; name a 'mechanism' (an id under theory.mechanisms) "
                    "or mark it 'direct: true'")
            )
        if link.mechanism is not None and link.direct:
            problems.append((p + ("direct",), "a link is either explained by a mechanism or direct, not both"))
        if link.mechanism is not None:
            resolve(link.mechanism, mech_ids, p + ("mechanism",), "mechanisms")
        for j, a in enumerate(link.assumptions):
            resolve(a, ass_ids, p + ("assumptions", j), "assumptions")
        for j, m in enumerate(link.moderators):
            resolve(m, mod_ids, p + ("moderators", j), "moderators")
        for j, c in enumerate(link.context):
            resolve(c, ctx_ids, p + ("context", j), "context")
        if link.mediator is not None:
            resolve(link.mediator, ind_ids, p + ("mediator",), "indicators")
            ind = next((i for i in theory.indicators if i.id == link.mediator), None)
            if ind is not None and ind.metric is None:
                problems.append((p + ("mediator",), f"the mediator {link.mediator!r} is a qualitative indicator; a mediator "
                                 "needs a metric (a measured value per person)"))
            if link.mechanism is None:
                problems.append((p + ("mediator",), "a mediator measures the link's mechanism; name the 'mechanism' it "
                                 "measures (a direct link has none)"))

    problems.extend(_cycle_problems(theory, node_ids))

    if len(theory.nodes) > 1:
        for i, n in enumerate(theory.nodes):
            if n.id not in touched:
                problems.append(
                    (base + ("nodes", i), f"node {n.id!r} is an orphan: no link starts or ends at it; link it or remove it")
                )

    for i, c in enumerate(theory.cmo):
        p = base + ("cmo", i)
        for j, ctx in enumerate(c.context):
            resolve(ctx, ctx_ids, p + ("context", j), "context")
        resolve(c.mechanism, mech_ids, p + ("mechanism",), "mechanisms")
        resolve(c.outcome, node_ids, p + ("outcome",), "nodes")
        if c.outcome in nodes_by_id and nodes_by_id[c.outcome].type not in ("outcome", "impact"):
            problems.append((p + ("outcome",), f"{c.outcome!r} is a node of type {nodes_by_id[c.outcome].type}; expected an outcome"))

    for i, a in enumerate(theory.assumptions):
        if a.test is not None:
            resolve(a.test.indicator, ind_ids, base + ("assumptions", i, "test", "indicator"), "indicators")
        problems.extend(_assumption_check_problems(a, base + ("assumptions", i)))

    for i, ind in enumerate(theory.indicators):
        resolve(ind.outcome, node_ids, base + ("indicators", i, "outcome"), "nodes")

    measured = {ind.outcome for ind in theory.indicators}
    for i, n in enumerate(theory.nodes):
        if n.type == "outcome" and n.id not in measured:
            problems.append(
                (base + ("nodes", i), f"outcome {n.id!r} has no indicator; add one under theory.indicators with 'outcome: {n.id}'")
            )

    if not theory.primary_outcomes:
        problems.append((base + ("nodes",), "no primary outcome; mark at least one outcome node with 'primary: true'"))
    return problems
