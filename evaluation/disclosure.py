"""Disclosure control: small-cell suppression, complementary suppression and a suppression log.

Applied once, when the results bundle is written, so no path to a rendered page can skip it.
Rules (DESIGN.md §7): no published cell — a count, or a share/mean computed from it — rests
on fewer than ``threshold`` persons (default 5, never below 3); where a suppressed count could
be recovered from a total, the next smallest cell in the same set is suppressed too, within an
analysis (``protect_relations``) and across the analyses of the same persons (``protect_bundle``);
curves and per-period values are coarsened so no small number of events follows from their steps;
no individual row or identifier is ever published.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import pandas as pd

from evaluation.exceptions import DisclosureError

__all__ = [
    "MIN_THRESHOLD",
    "DEFAULT_THRESHOLD",
    "SuppressionLog",
    "check_threshold",
    "is_small",
    "suppress_counts",
    "suppress_share_rows",
    "Cell",
    "Relation",
    "result_cells",
    "exposed_cells",
    "determined_cells",
    "POPULATION_KINDS",
    "bundle_cell",
    "lift_relations",
    "population_relations",
    "bundle_values",
    "bundle_exposed",
    "protect_bundle",
    "protect_relations",
    "mask_small_counts_in_text",
    "mask_prose",
    "coarsen_steps",
    "coarsen_sums",
    "whole_number_scale",
    "small_change",
]

MIN_THRESHOLD = 3
DEFAULT_THRESHOLD = 5


def check_threshold(threshold: int) -> int:
    """Validate a disclosure threshold (an integer of at least 3)."""
    if int(threshold) != threshold or threshold < MIN_THRESHOLD:
        raise DisclosureError(f"the disclosure threshold must be a whole number of at least {MIN_THRESHOLD}, got {threshold!r}")
    return int(threshold)


def is_small(count: Any, threshold: int) -> bool:
    """True when ``count`` is a positive number of persons below ``threshold``.

    Zero is not suppressed: an empty cell reveals nothing about any person.
    """
    if count is None:
        return False
    try:
        c = float(count)
    except (TypeError, ValueError):
        return False
    if math.isnan(c):
        return False
    return 0 < round(c) < threshold


@dataclass
class SuppressionLog:
    """Every suppressed cell with the reason (printed in the report's appendix)."""

    threshold: int
    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, table: str, row: str, column: str, reason: str) -> None:
        self.entries.append({"table": table, "row": str(row), "column": column, "reason": reason})

    def to_list(self) -> list[dict[str, Any]]:
        return sorted(self.entries, key=lambda e: (e["table"], e["row"], e["column"]))


def suppress_counts(
    df: pd.DataFrame,
    *,
    table: str,
    count_columns: Sequence[str],
    dependent: dict[str, Sequence[str]] | None = None,
    label_column: str | None = None,
    threshold: int,
    log: SuppressionLog,
    complementary: bool = True,
) -> pd.DataFrame:
    """Suppress small counts (set to NaN) and every value computed from them.

    Parameters
    ----------
    df : DataFrame
        The table to publish (not modified; a copy is returned).
    count_columns : sequence of str
        Columns holding numbers of persons.
    dependent : dict, optional
        For each count column, the columns computed from it (shares, means, SDs) that are
        suppressed with it. A key ``"*"`` lists columns suppressed when any count in the row is.
    label_column : str, optional
        Column naming the row in the log (default: the index).
    complementary : bool, default True
        When exactly one count in a column is suppressed and the column could be summed to a
        published total, also suppress the next smallest positive count in that column, so the
        suppressed value cannot be recovered by subtraction.
    """
    threshold = check_threshold(threshold)
    dependent = dict(dependent or {})
    out = df.copy()
    for col in out.columns:
        if col in count_columns or col in {c for cs in dependent.values() for c in cs}:
            out[col] = out[col].astype("float64")

    def row_label(i: Any) -> str:
        return str(out.at[i, label_column]) if label_column else str(i)

    def suppress(i: Any, col: str, reason: str) -> None:
        if not pd.isna(out.at[i, col]):
            out.at[i, col] = float("nan")
            log.add(table, row_label(i), col, reason)
        for dep in dependent.get(col, ()):  # computed from this count
            if dep in out.columns and not pd.isna(out.at[i, dep]):
                out.at[i, dep] = float("nan")
                log.add(table, row_label(i), dep, f"beregnet af en celle med færre end {threshold} personer")
        for dep in dependent.get("*", ()):
            if dep in out.columns and not pd.isna(out.at[i, dep]):
                out.at[i, dep] = float("nan")
                log.add(table, row_label(i), dep, f"beregnet af en celle med færre end {threshold} personer")

    for col in count_columns:
        if col not in out.columns:
            continue
        small = [i for i in out.index if is_small(df.at[i, col], threshold)]
        for i in small:
            suppress(i, col, f"færre end {threshold} personer")
        if complementary and len(small) == 1 and len(out) > 1:
            rest = [i for i in out.index if i not in small and not pd.isna(out.at[i, col]) and float(out.at[i, col]) > 0]
            if rest:
                j = min(rest, key=lambda i: float(out.at[i, col]))
                suppress(j, col, "sekundær diskretionering (ellers kunne en skjult celle regnes ud af totalen)")
    return out


def suppress_share_rows(
    df: pd.DataFrame,
    *,
    table: str,
    share_column: str,
    n_column: str,
    columns: Iterable[str],
    threshold: int,
    log: SuppressionLog,
    label_column: str | None = None,
) -> pd.DataFrame:
    """Suppress ``columns`` in rows where a share implies fewer than ``threshold`` persons.

    A share p of n persons reveals k = p·n persons with the trait and n − k without; the row is
    suppressed when either is a positive number below the threshold.
    """
    threshold = check_threshold(threshold)
    out = df.copy()
    for col in columns:
        if col in out.columns:
            out[col] = out[col].astype("float64")
    for i in out.index:
        p, n = df.at[i, share_column], df.at[i, n_column]
        if pd.isna(p) or pd.isna(n):
            continue
        k = round(float(p) * float(n))
        if is_small(k, threshold) or is_small(float(n) - k, threshold):
            label = str(out.at[i, label_column]) if label_column else str(i)
            for col in columns:
                if col in out.columns and not pd.isna(out.at[i, col]):
                    out.at[i, col] = float("nan")
                    log.add(table, label, col, f"andelen svarer til færre end {threshold} personer")
    return out


# ---------------------------------------------------------------------------
# disclosure by subtraction: linear relations between published cells
# ---------------------------------------------------------------------------
#
# A suppressed cell is only protected if it cannot be computed from what is published. Tables
# carry margins (an allocated group = lost + analysed), the same count appears in several places
# (the analysed persons in the flow table, the group table, the diagnostics and the estimates), and
# counts add up across tables (cohort sizes to the number of persons). Each design family declares
# these relations for its own results (Family.disclosure_relations); `exposed_cells` finds every
# hidden cell the published cells and the relations determine exactly (the cell lies in the row
# space of the relations restricted to the hidden cells), and `protect_relations` hides further
# cells until none is exposed. No library does this for our result structure (tau-argus is a
# Java GUI for statistical offices), so it is written here: exact linear algebra on at most a few
# hundred cells.

#: a reference to one published number: ("t", table, row position, column), ("d", key[, subkey])
#: for a diagnostic, or ("e", term, field) for an estimate's n, n_treated or n_control
Cell = tuple


@dataclass(frozen=True)
class Relation:
    """A linear equation between published cells: ``sum(coefficient × cell) == 0``."""

    terms: tuple[tuple[Cell, float], ...]

    @classmethod
    def total(cls, total: Cell, parts: Iterable[Cell]) -> "Relation":
        """``total == sum(parts)``."""
        return cls(((total, 1.0),) + tuple((p, -1.0) for p in parts))

    @classmethod
    def equal(cls, a: Cell, b: Cell) -> "Relation":
        """``a == b`` (the same count published twice)."""
        return cls(((a, 1.0), (b, -1.0)))

    def cells(self) -> list[Cell]:
        return [c for c, _ in self.terms]


def _number(v: Any) -> float:
    if v is None:
        return float("nan")
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return f


def result_cells(result) -> dict[Cell, float]:
    """Every published number of a result that a relation may refer to (NaN where not published)."""
    out: dict[Cell, float] = {}
    for name, table in result.tables.items():
        for col in table.columns:
            if pd.api.types.is_numeric_dtype(table[col]) and not pd.api.types.is_bool_dtype(table[col]):
                for i, v in enumerate(table[col].tolist()):
                    out[("t", name, i, str(col))] = _number(v)
    for key, v in (result.diagnostics or {}).items():
        if isinstance(v, dict):
            for sub, w in v.items():
                out[("d", key, str(sub))] = _number(w)
        elif not isinstance(v, (list, tuple, str, bool)):
            out[("d", key)] = _number(v)
    for e in result.estimates:
        for f in ("n", "n_treated", "n_control"):
            v = getattr(e, f)
            if v is not None or f != "n":
                out[("e", e.term, f)] = _number(v)
    out[("1",)] = 1.0  # the constant of relations such as "shares add up to 1"
    return out


def determined_cells(values: dict[Cell, float], relations: Sequence[Relation]) -> dict[Cell, float]:
    """Hidden cells (NaN) that the published cells and the relations determine exactly, with their values.

    With the relations restricted to the hidden cells as a matrix ``A`` (and the published cells moved to the
    right-hand side ``b``), a hidden cell ``x_k`` is determined when the unit vector ``e_k`` lies in the row space
    of ``A`` (a combination of the relations isolates it), i.e. when every vector of the null space of ``A`` is 0
    at ``k``; its value is then the same in every solution of ``A x = b`` (here the least-squares one). Relations
    naming a cell that does not exist are ignored.
    """
    import numpy as np

    rels = [r for r in relations if all(c in values for c in r.cells())]
    hidden = sorted({c for r in rels for c in r.cells() if math.isnan(values[c])}, key=repr)
    if not hidden:
        return {}
    col = {c: j for j, c in enumerate(hidden)}
    rows, rhs = [], []
    for r in rels:
        row = np.zeros(len(hidden))
        b = 0.0
        for c, a in r.terms:
            if c in col:
                row[col[c]] += a
            else:
                b -= a * values[c]
        if np.any(row):
            rows.append(row)
            rhs.append(b)
    if not rows:
        return {}
    A, b = np.vstack(rows), np.asarray(rhs)
    _, s, vt = np.linalg.svd(A)
    rank = int((s > 1e-9 * max(1.0, float(s[0]))).sum()) if len(s) else 0
    null = vt[rank:]  # rows span the null space of A
    x = np.linalg.lstsq(A, b, rcond=None)[0]
    out = {}
    for c, j in col.items():
        if not len(null) or float(np.abs(null[:, j]).max()) < 1e-9:
            out[c] = float(x[j])
    return out


def exposed_cells(values: dict[Cell, float], relations: Sequence[Relation]) -> list[Cell]:
    """Hidden cells (NaN) that the published cells and the relations determine exactly
    (:func:`determined_cells`), sorted."""
    return list(determined_cells(values, relations))


def _hide(result, cell: Cell, dependents: dict[tuple[str, str], Sequence[str]]):
    """The result with ``cell`` (and the table columns computed from it) not published."""
    import dataclasses

    kind = cell[0]
    if kind == "t":
        _, name, i, col = cell
        t = result.tables[name].copy()
        for c in (col, *dependents.get((name, col), ())):
            if c in t.columns:
                t[c] = t[c].astype("float64") if pd.api.types.is_numeric_dtype(t[c]) else t[c]
                t.iloc[i, t.columns.get_loc(c)] = float("nan") if pd.api.types.is_numeric_dtype(t[c]) else None
        return dataclasses.replace(result, tables={**result.tables, name: t})
    if kind == "d":
        diag = dict(result.diagnostics)
        if len(cell) == 3:
            diag[cell[1]] = {**diag[cell[1]], cell[2]: None}
        else:
            diag[cell[1]] = None
        return dataclasses.replace(result, diagnostics=diag)
    _, term, field_ = cell
    est = tuple(dataclasses.replace(e, **{field_: None}) if e.term == term else e for e in result.estimates)
    return dataclasses.replace(result, estimates=est)


def _connected_candidates(start: Cell, relations_of: Callable[[Cell], Iterable[Relation]], values: Mapping[Cell, float],
                          hideable: Callable[[Cell], bool]) -> set[Cell]:
    """The published cells that may be hidden (``hideable``) in the relations connected to the hidden cell ``start``
    through hidden cells: hiding one of them is what can stop ``start`` from being computed. Relations naming a cell
    without a value are skipped."""
    frontier, seen, candidates = [start], {start}, set()
    while frontier:
        x = frontier.pop()
        for r in relations_of(x):
            cells = r.cells()
            if not all(c in values for c in cells):
                continue
            for c in cells:
                if math.isnan(values[c]):
                    if c not in seen:
                        seen.add(c)
                        frontier.append(c)
                elif hideable(c):
                    candidates.add(c)
    return candidates


def protect_relations(result, relations: Sequence[Relation], *, table: str, log: SuppressionLog,
                      dependents: dict[tuple[str, str], Sequence[str]] | None = None, max_rounds: int = 2000):
    """Hide further cells until no hidden cell can be computed from the published ones.

    For an exposed cell, the next cell to hide is chosen among the published cells of every relation
    connected to it through hidden cells, by what hiding it costs the reader: a diagnostic first
    (never shown in a report), then a table count nothing else is computed from, then an estimate's
    group size, then a count whose mean or share goes with it; the smallest count first among equals.
    Every cell hidden here is logged as secondary suppression.
    """
    dependents = dict(dependents or {})

    def cost(c: Cell, v: float) -> tuple:
        if c[0] == "d":
            rank = 0
        elif c[0] == "t":
            rank = 3 if dependents.get((c[1], c[3])) else 1
        else:
            rank = 2
        return (rank, v <= 0, v, repr(c))

    def fixed(c: Cell) -> bool:  # published whatever happens: an estimate states its n; the constant 1
        return (c[0] == "e" and c[-1] == "n") or c == ("1",)

    # cells the fixed cells determine on their own can never be hidden: never choose them
    values0 = result_cells(result)
    everything_hidden = {c: (v if fixed(c) else float("nan")) for c, v in values0.items()}
    unhideable = set(exposed_cells(everything_hidden, relations))

    for _ in range(max_rounds):
        values = result_cells(result)
        exposed = exposed_cells(values, relations)
        if not exposed:
            return result
        # the relations connected to the exposed cell through hidden cells, and their published cells
        candidates = _connected_candidates(exposed[0], lambda x: [r for r in relations if x in r.cells()], values,
                                           lambda c: not fixed(c) and c not in unhideable)
        if not candidates:
            raise DisclosureError(f"{table}: a suppressed cell {exposed[0]!r} can be computed from published cells, and "
                                  "no further cell can hide it; this is a bug in the design family's disclosure")
        pick = min(candidates, key=lambda c: cost(c, values[c]))
        result = _hide(result, pick, dependents)
        where = pick[1] if pick[0] != "t" else f"{pick[1]} række {pick[2] + 1}"
        log.add(table, where, str(pick[-1]), "sekundær diskretionering (ellers kunne en skjult celle regnes ud af de viste tal)")
    raise DisclosureError(f"{table}: secondary suppression did not converge in {max_rounds} rounds")


# ---------------------------------------------------------------------------
# the bundle: analyses of the same persons
# ---------------------------------------------------------------------------
#
# Each family's relations tie the counts of one analysis together. Analyses of the same persons (a primary and a
# secondary outcome, one outcome with other windows) publish counts of the same groups, and these are related too:
# the persons of a group (allocated, randomised, in a cohort) are the same in every analysis of them, and in each
# analysis they are the persons it counts plus those it does not (missing outcome, left out of a panel). So a
# drop-out suppressed in one analysis's flow is recovered from the allocated count another analysis shows. Each
# family names its published counts of persons by population group (Family.population_counts: a key naming the
# data source, the grouping column and the group, and whether the cell counts all of the group, the analysed
# persons or the missing ones); the bundle's relations then add, per group, an unknown N (its persons) and per
# analysis an unknown M (those the analysis does not count):  all = N,  missing = M,  analysed + M = N.
# `protect_bundle` hides further cells until no hidden cell of any analysis, and no M below the threshold, can be
# computed from everything the bundle publishes. N itself is not protected (a group has at least the threshold of
# persons, or nothing is estimated), M only when it is a positive number below the threshold.

#: kinds of a population count: every person of the group, those the analysis counts, those it does not; and two
#: statements about groups: a level's share of a group (``(group key, share)``: N(level) = share × N(group), from a
#: published share of every person of the group, such as a balance table's), and a partition of a group into levels
#: (``(level keys)``: N(group) = Σ N(level), and in the analysis M(group) = Σ M(level))
POPULATION_KINDS = ("all", "analysed", "missing", "share", "partition")


def bundle_cell(analysis_id: str, cell: Cell) -> Cell:
    """A cell of one analysis's result as a cell of the bundle."""
    return ("@", analysis_id, cell)


def lift_relations(analysis_id: str, relations: Iterable[Relation]) -> list[Relation]:
    """One analysis's relations as relations between cells of the bundle."""
    return [Relation(tuple((bundle_cell(analysis_id, c), a) for c, a in r.terms)) for r in relations]


def population_relations(declared: Mapping[str, Iterable[tuple[Any, str, Cell]]]) -> list[Relation]:
    """The relations between analyses of the same persons: for each analysis, its counts of persons by population
    group ``(key, kind, cell)`` tied to the unknowns ``("~N", key)`` (the group's persons) and
    ``("~M", analysis, key)`` (those of them the analysis does not count)."""
    rels: list[Relation] = []
    seen: set = set()
    for aid, entries in declared.items():
        for key, kind, cell in entries:
            if kind not in POPULATION_KINDS:
                raise ValueError(f"population count kind must be one of {POPULATION_KINDS}, got {kind!r}")
            n, m = ("~N", key), ("~M", aid, key)
            if kind == "share":
                group, share = cell
                if share is not None and math.isfinite(float(share)) and ("share", key, group, float(share)) not in seen:
                    seen.add(("share", key, group, float(share)))
                    rels.append(Relation(((n, 1.0), (("~N", group), -float(share)))))
                continue
            if kind == "partition":
                if ("partition", key, tuple(cell)) not in seen:
                    seen.add(("partition", key, tuple(cell)))
                    rels.append(Relation.total(n, [("~N", lev) for lev in cell]))
                rels.append(Relation.total(m, [("~M", aid, lev) for lev in cell]))
                continue
            c = bundle_cell(aid, cell)
            if kind == "all":
                rels.append(Relation.equal(c, n))
            elif kind == "missing":
                rels.append(Relation.equal(c, m))
            else:
                rels.append(Relation.total(n, [c, m]))
    return rels


def bundle_values(results: Mapping[str, Any], relations: Sequence[Relation]) -> dict[Cell, float]:
    """Every published number of the bundle's results as bundle cells, and the unknowns of the relations (NaN)."""
    values = {bundle_cell(aid, c): v for aid, res in results.items() for c, v in result_cells(res).items()}
    for r in relations:
        for c in r.cells():
            if c[0] in ("~N", "~M"):
                values[c] = float("nan")
    return values


def bundle_exposed(values: dict[Cell, float], relations: Sequence[Relation], threshold: int) -> dict[Cell, float]:
    """What the differencing attack recovers from a bundle: every hidden cell of an analysis that the bundle's
    relations determine, and every number of persons an analysis does not count (M) that they determine and
    that is a positive number below the threshold; with the recovered values."""
    return {c: v for c, v in determined_cells(values, relations).items()
            if c[0] == "@" or (c[0] == "~M" and is_small(v, threshold))}


def protect_bundle(results: Mapping[str, Any], relations: Mapping[str, Sequence[Relation]],
                   population: Mapping[str, Iterable[tuple[Any, str, Cell]]], *, threshold: int, log: SuppressionLog,
                   dependents: Mapping[str, Mapping[tuple[str, str], Sequence[str]]] | None = None,
                   max_rounds: int = 2000) -> dict[str, Any]:
    """The results with further cells hidden until nothing can be recovered from the bundle as a whole.

    ``relations`` are each analysis's own (already satisfied by :func:`protect_relations`), ``population`` each
    analysis's counts of persons by population group (:func:`population_relations`). The cell to hide is chosen
    as in :func:`protect_relations` (a diagnostic first, then a table count nothing else is computed from, an
    estimate's group size, a count with a mean or share; the smallest first), among the published cells of the
    relations connected to the recovered cell through hidden cells and unknowns. Estimates are never touched.
    """
    threshold = check_threshold(threshold)
    results = dict(results)
    dependents = {aid: dict(d) for aid, d in (dependents or {}).items()}
    population = {aid: list(v) for aid, v in population.items()}
    rels = [r for aid in results for r in lift_relations(aid, relations.get(aid, ()))]
    rels += population_relations(population)
    by_cell: dict[Cell, list[Relation]] = {}
    for r in rels:
        for c in r.cells():
            by_cell.setdefault(c, []).append(r)

    def fixed(c: Cell) -> bool:  # an estimate's n and the constant 1 are published whatever happens
        inner = c[2] if c[0] == "@" else None
        return inner is not None and ((inner[0] == "e" and inner[-1] == "n") or inner == ("1",))

    def cost(c: Cell, v: float) -> tuple:
        inner = c[2]
        if inner[0] == "d":
            rank = 0
        elif inner[0] == "t":
            rank = 3 if dependents.get(c[1], {}).get((inner[1], inner[3])) else 1
        else:
            rank = 2
        return (rank, v <= 0, v, repr(c))

    values0 = bundle_values(results, rels)
    everything_hidden = {c: (v if fixed(c) else float("nan")) for c, v in values0.items()}
    unhideable = set(determined_cells(everything_hidden, rels))

    values = dict(values0)
    picks: list[Cell] = []
    for _ in range(max_rounds):
        exposed = bundle_exposed(values, rels, threshold)
        if not exposed:
            break
        start = min(exposed, key=repr)
        candidates = _connected_candidates(start, lambda x: by_cell.get(x, ()), values,
                                           lambda c: c[0] == "@" and not fixed(c) and c not in unhideable)
        if not candidates:
            raise DisclosureError(f"the bundle: {start!r} can be computed from published cells of analyses of the same "
                                  "persons, and no further cell can hide it; this is a bug in a design family's disclosure")
        pick = min(candidates, key=lambda c: cost(c, values[c]))
        picks.append(pick)
        values[pick] = float("nan")
    else:
        raise DisclosureError(f"secondary suppression across the bundle did not converge in {max_rounds} rounds")
    # the greedy choice may hide more than needed: publish again, first hidden first, every cell whose publication
    # (with the cells of this step it then determines, which reveal nothing more) lets nothing be recovered
    for pick in list(picks):
        if pick not in picks:
            continue
        group, trial = {pick}, {**values, pick: values0[pick]}
        while True:
            exposed = bundle_exposed(trial, rels, threshold)
            more = {c for c in exposed if c in picks and c not in group}
            if not exposed or not more or len(exposed) != len(more):
                break
            group |= more
            trial.update({c: values0[c] for c in more})
        if not exposed:
            values = trial
            picks = [c for c in picks if c not in group]
    for pick in sorted(picks, key=repr):
        aid, inner = pick[1], pick[2]
        results[aid] = _hide(results[aid], inner, dependents.get(aid, {}))
        where = inner[1] if inner[0] != "t" else f"{inner[1]} række {inner[2] + 1}"
        log.add(f"{aid}: sammenhænge mellem analyser", where, str(inner[-1]),
                "sekundær diskretionering (ellers kunne en skjult celle regnes ud af tal, som en anden analyse af de "
                "samme personer viser)")
    if picks and bundle_exposed(bundle_values(results, rels), rels, threshold):  # the tables hide what the values did
        raise DisclosureError("secondary suppression across the bundle: a hidden cell is still exposed after hiding; this "
                              "is a bug in the disclosure code")
    return results



_COUNT_NOUNS = (r"(personer|person\(er\)|person\(s\)|persons|person|deltagere|deltager\(e\)|deltager|respondenter|"
                r"rækker|række|svar|besvarelser)")
# a count, at most one word between it and the noun ("2 intervention person(s)", "3 nye deltagere")
_COUNT_IN_TEXT = rf"(?<![\w.,−-])(\d+)(\s+(?:[^\W\d]+\s+)?){_COUNT_NOUNS}(?!\w)"
# totals in the data notes from which a masked count could be computed by subtraction
_TOTALS_IN_NOTES = r"(?<![\w.,−-])\d+\s+(rækker indlæst|personer(?= × | målt på))"


def mask_small_counts_in_text(text: str, threshold: int) -> str:
    """Counts of persons in prose ("2 deltager(e) uden rækker i registret") below the threshold become
    "færre end 5"; other numbers (weeks, years, codes) are left alone."""
    import re

    def repl(m: "re.Match[str]") -> str:
        n = int(m.group(1))
        return f"færre end {threshold}{m.group(2)}{m.group(3)}" if 0 < n < threshold else m.group(0)

    return re.sub(_COUNT_IN_TEXT, repl, text)


def mask_prose(notes: Mapping[str, Sequence[str]], warnings: Mapping[str, Sequence[str]], threshold: int,
               log: SuppressionLog) -> tuple[dict[str, list[str]], dict[str, tuple[str, ...]]]:
    """Counts of persons in the bundle's prose (data notes, analysis warnings) under the same rule as cells.

    Primary: a count below the threshold becomes "færre end <threshold>". Secondary: the data notes
    also state totals (rows read, persons in a register panel, persons measured) from which a masked
    count follows by subtraction (participants read − register rows = participants without register
    rows; persons read − persons analysed = persons left out), so when any count of the prose is
    masked, those totals are hidden as well ("antal skjult"); every step is logged.
    """
    import re

    masked_any = False
    out_warnings: dict[str, tuple[str, ...]] = {}
    for analysis_id, texts in warnings.items():
        masked = tuple(sorted({mask_small_counts_in_text(t, threshold) for t in texts}))
        if masked != tuple(sorted(set(texts))):
            masked_any = True
            log.add("advarsler", analysis_id, "antal", f"bygger på færre end {threshold} personer")
        out_warnings[analysis_id] = masked
    out_notes: dict[str, list[str]] = {}
    for source, texts in notes.items():
        masked = [mask_small_counts_in_text(t, threshold) for t in texts]
        if masked != list(texts):
            masked_any = True
            log.add("datanoter", source, "antal", f"bygger på færre end {threshold} personer")
        out_notes[source] = masked
    if masked_any:
        for source, texts in out_notes.items():
            hidden = [re.sub(_TOTALS_IN_NOTES, r"\1 (antal skjult)", t) for t in texts]
            if hidden != texts:
                log.add("datanoter", source, "total",
                        "sekundær diskretionering (ellers kunne en skjult celle regnes ud af de viste tal)")
            out_notes[source] = hidden
    return out_notes, out_warnings


# ---------------------------------------------------------------------------
# step curves (Kaplan–Meier, cumulative incidence): coarsened to steps of at least `threshold` events
# ---------------------------------------------------------------------------
#
# A curve published week by week reveals the number of events of each week: in an unweighted
# Kaplan–Meier curve without censoring, n·(S(t−1) − S(t)) is the number of persons who became
# self-supporting in week t, and a step of 1/178 names one person. So a curve is published only at
# the weeks where it has fallen by at least `threshold` events since the previous published week
# (the step between two published points covers at least `threshold` persons, whatever lies
# between), and at those weeks only while at least `threshold` persons have had no event. The
# number still at risk is published at a published week only when it is zero or at least the
# threshold and the persons censored (emigrated, died, no longer followed) since the previous week
# with a published number at risk are none or at least the threshold, so subtracting published
# numbers at risk and events gives no small number of censored persons either. The estimate at a
# published week is the exact estimate at that week; nothing is rounded or smoothed. No library
# does this coarsening (lifelines and scikit-survival publish every event time), hence this code.


def coarsen_steps(events_cum: Sequence[float], threshold: int, *, n: int, left_cum: Sequence[float] | None = None,
                  others_cum: Sequence[float] | None = None, anchors: Iterable[int] = ()) -> tuple[list[int], list[int]]:
    """The positions of a step curve that may be published, and those where the number at risk may be.

    Parameters
    ----------
    events_cum : sequence
        Persons with an event by the end of each position (week), non-decreasing; position 0 is the
        start of the curve (no events) and is always published.
    n : int
        Persons in the curve's group.
    left_cum : sequence, optional
        Persons whose follow-up ended (event or censoring) by the end of each position; with it, the
        number at risk after a position (``n − left_cum``) is checked for publication.
    others_cum : sequence, optional
        Persons with any exit of the curve's kind (all causes of a competing-risks analysis) by each
        position: a position is published only while the persons without one are zero or at least the
        threshold.
    anchors : iterable of int
        Positions (the horizons) the report quotes: published if any admissible choice of the preceding
        points allows it (the last published point before an anchor is merged into the anchor's step
        when the step to the anchor would be too small).

    Returns
    -------
    (published, risk_shown) : two sorted lists of positions; ``risk_shown`` is a subset of ``published``.
    """
    threshold = check_threshold(threshold)
    E = [float(x) for x in events_cum]
    anchors = {int(a) for a in anchors if 0 < int(a) < len(E)}

    def ok_level(i: int) -> bool:
        if is_small(n - E[i], threshold):
            return False
        return others_cum is None or not is_small(n - float(others_cum[i]), threshold)

    pub = [0]
    fixed = {0}  # points an anchor's merge may not remove (the start and earlier anchors)
    for i in range(1, len(E)):
        step = E[i] - E[pub[-1]]
        if i in anchors:
            if not ok_level(i):
                continue
            if 0 < step < threshold and pub[-1] not in fixed:
                # merge the previous step into the anchor's: that step alone had at least `threshold` events
                pub.pop()
                step = E[i] - E[pub[-1]]
            if step == 0 or step >= threshold:
                pub.append(i)
                fixed.add(i)
            continue
        if step >= threshold and ok_level(i):
            pub.append(i)
    risk: list[int] = []
    if left_cum is not None:
        L = [float(x) for x in left_cum]
        last_c = 0.0
        for i in pub:
            at_risk, censored = n - L[i], L[i] - E[i]
            dc = censored - last_c
            if not is_small(at_risk, threshold) and not (0 < dc < threshold):
                risk.append(i)
                last_c = censored
    return pub, risk


def coarsen_sums(cum_series: Sequence[Sequence[float]], threshold: int, *, anchors: Iterable[int] = ()) -> list[int]:
    """Positions of a curve of accumulated counts (a cumulative effect: person-weeks on and off support in each
    group, accumulated week by week) that may be published: each of the series must have grown by none or at
    least ``threshold`` since the previous published position. Position 0 is the start (every series 0) and is
    always published. ``anchors`` (the horizons, whose estimates are published anyway) are always published; the
    points before an anchor are merged into its step while that step would otherwise be too small."""
    threshold = check_threshold(threshold)
    S = [[float(x) for x in s] for s in cum_series]
    m = len(S[0]) if S else 0
    anchors = {int(a) for a in anchors if 0 < int(a) < m}

    def ok(i: int, j: int) -> bool:
        return all(not (0 < s[i] - s[j] < threshold) for s in S)

    pub, fixed = [0], {0}
    for i in range(1, m):
        if i in anchors:
            while not ok(i, pub[-1]) and pub[-1] not in fixed:
                pub.pop()
            pub.append(i)
            fixed.add(i)
        elif ok(i, pub[-1]):
            pub.append(i)
    return pub


# ---------------------------------------------------------------------------
# means by calendar period (difference in differences)
# ---------------------------------------------------------------------------
#
# A group's mean in a period times its persons is the group's summed outcome; on a 0/1 status that is a number of
# persons, on a share of a fixed number of weeks a number of person-weeks. An unadjusted difference in differences
# between two periods, Δ₁/n₁ − Δ₀/n₀, often has a single solution in whole numbers: the change of each group's sum.
# So per-period means and effects are published only where these sums, and their changes between the periods
# compared, are none or at least the threshold (the designs' estimates themselves are always published).


def whole_number_scale(values: Iterable[float], max_scale: int = 520) -> int | None:
    """The smallest whole w ≤ ``max_scale`` for which every value × w is a whole number (1 for a 0/1 status or a
    count, 52 for a share of 52 weeks), or None when there is none (a continuous outcome: sums of it reveal no
    whole number)."""
    import numpy as np

    v = np.asarray([float(x) for x in values], dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    for w in range(1, max_scale + 1):
        x = v * w
        if np.all(np.abs(x - np.round(x)) < 1e-6):
            return w
    return None


def small_change(a: float, b: float, threshold: int) -> bool:
    """True when the whole-number sums ``a`` and ``b`` differ by a positive number below the threshold."""
    return 0 < abs(round(float(a)) - round(float(b))) < threshold
