"""Benefit rates (satser) as versioned data: the rate of each benefit group per year, with its source.

The shipped table is ``data/rates/dk_satser.yaml`` (packaged as ``evaluation/rates/dk_satser.yaml``);
a study may name another file. Every rate says where it comes from and whether it was checked
against an official publication (``verified``); a year without a rate is priced with the nearest
listed year of the group, and :meth:`RateTable.category_table` reports every such substitution,
every unverified rate it used and every benefit group it could not price, so the report can say so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from evaluation.data.registers.codes import CodeList
from evaluation.data.safe_yaml import YamlProblem, parse_yaml
from evaluation.exceptions import DataValidationError

__all__ = ["Rate", "RateTable", "UNITS", "PACKAGED_RATES", "rates_path"]

_LOADED: dict[tuple, "RateTable"] = {}

#: weeks per unit: a month is 52/12 weeks, a day a fifth of a week (five payment days), a year 52 weeks
UNITS = {"week": 1.0, "month": 12.0 / 52.0, "day": 5.0, "year": 1.0 / 52.0}
PACKAGED_RATES = Path(__file__).resolve().parents[1] / "rates"


def rates_path(name: str, base: str | os.PathLike | None = None) -> Path:
    """The rate file ``name``: a path (relative to ``base``) or the name of a packaged table (``dk_satser``)."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        return (Path(base) / p) if base is not None and not p.is_absolute() else p
    return PACKAGED_RATES / f"{name}.yaml"


@dataclass(frozen=True)
class Rate:
    """One published rate: amount per ``unit``, its source and whether it was verified."""

    group: str
    year: int
    amount: float
    unit: str
    source: str
    verified: bool
    note: str = ""

    @property
    def weekly(self) -> float:
        """Kroner per week (a month is 12/52 weeks' worth … see :data:`UNITS`)."""
        return self.amount * UNITS[self.unit]


@dataclass(frozen=True)
class RateTable:
    """The rates of a rate file by benefit group and year, and the refusion rules."""

    version: str
    path: str
    labels: Mapping[str, str]
    bases: Mapping[str, str]
    rates: Mapping[str, Mapping[int, Rate]]
    sources: Mapping[str, str] = field(default_factory=dict)
    refusion: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "RateTable":
        """Read a rate file; errors name the file, the line and the field. A file read before is not parsed
        again while its size and modification time are unchanged (the table is frozen)."""
        path = Path(path) if path is not None else PACKAGED_RATES / "dk_satser.yaml"
        try:
            st = path.stat()
        except OSError as exc:
            raise DataValidationError(f"{path}: cannot read the rate file: {exc.strerror or exc}") from None
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        if key in _LOADED:
            return _LOADED[key]
        table = cls._read(path)
        _LOADED[key] = table
        return table

    @classmethod
    def _read(cls, path: Path) -> "RateTable":
        try:
            parsed = parse_yaml(path.read_bytes())
        except OSError as exc:
            raise DataValidationError(f"{path}: cannot read the rate file: {exc.strerror or exc}") from None
        except YamlProblem as exc:
            raise DataValidationError(f"{path}:{exc.line}: {exc}") from None
        doc, lines = parsed.data, parsed.lines

        def where(*loc) -> str:
            loc = tuple(loc)
            while loc and loc not in lines:
                loc = loc[:-1]
            return f"{path}:{lines.get(loc, 1)}"

        if not isinstance(doc, dict) or "groups" not in doc or "version" not in doc:
            raise DataValidationError(f"{path}:1: a rate file needs 'version' and 'groups'")
        sources = {str(k): str(v) for k, v in (doc.get("sources") or {}).items()}
        groups = doc["groups"]
        if not isinstance(groups, dict) or not groups:
            raise DataValidationError(f"{where('groups')}: 'groups' must map benefit-group ids to their rates")
        labels, bases, rates, same = {}, {}, {}, {}
        for gid, g in groups.items():
            if not isinstance(g, dict):
                raise DataValidationError(f"{where('groups', gid)}: group {gid!r} must be a mapping")
            labels[gid] = str(g.get("label_da") or gid)
            bases[gid] = str(g.get("basis") or "")
            if "same_as" in g:
                same[gid] = str(g["same_as"])
                continue
            rs = g.get("rates")
            if not isinstance(rs, dict) or not rs:
                raise DataValidationError(f"{where('groups', gid)}: group {gid!r} needs 'rates' (year: {{amount, unit, source, verified}}) or 'same_as'")
            out = {}
            for year, r in rs.items():
                loc = where("groups", gid, "rates", year)
                if not isinstance(year, int) or not 1900 < year < 2200:
                    raise DataValidationError(f"{loc}: groups.{gid}.rates: {year!r} is not a year")
                if not isinstance(r, dict):
                    raise DataValidationError(f"{loc}: groups.{gid}.rates.{year} must be a mapping")
                missing = [k for k in ("amount", "unit", "source", "verified") if k not in r]
                if missing:
                    raise DataValidationError(f"{loc}: groups.{gid}.rates.{year}: missing {', '.join(missing)}")
                amount = r["amount"]
                if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not amount > 0:
                    raise DataValidationError(f"{loc}: groups.{gid}.rates.{year}.amount must be a positive number, got {amount!r}")
                if r["unit"] not in UNITS:
                    raise DataValidationError(f"{loc}: groups.{gid}.rates.{year}.unit {r['unit']!r}; expected one of {', '.join(UNITS)}")
                if not isinstance(r["verified"], bool):
                    raise DataValidationError(f"{loc}: groups.{gid}.rates.{year}.verified must be true or false")
                src = str(r["source"])
                out[int(year)] = Rate(gid, int(year), float(amount), str(r["unit"]), sources.get(src, src),
                                      bool(r["verified"]), str(r.get("note") or ""))
            rates[gid] = dict(sorted(out.items()))
        for gid, other in same.items():
            if other not in rates:
                raise DataValidationError(f"{where('groups', gid)}: groups.{gid}.same_as {other!r} is not a group with rates")
            rates[gid] = {y: Rate(gid, r.year, r.amount, r.unit, r.source, r.verified,
                                  (r.note + "; " if r.note else "") + f"the rate of {other}")
                          for y, r in rates[other].items()}
        refusion = doc.get("refusion") or {}
        if refusion:
            steps = refusion.get("steps")
            if not isinstance(steps, list) or not steps:
                raise DataValidationError(f"{where('refusion')}: refusion needs 'steps'")
        return cls(str(doc["version"]), str(path), labels, bases, rates, sources, refusion)

    # ------------------------------------------------------------------ lookups
    def rate(self, group: str, year: int) -> tuple[Rate | None, int | None]:
        """The rate of ``group`` in ``year`` (the nearest listed year when ``year`` is not listed; ties go to
        the earlier year) and the year used; ``(None, None)`` for a group without rates."""
        rs = self.rates.get(group)
        if not rs:
            return None, None
        years = np.array(sorted(rs))
        used = int(years[np.argmin(np.abs(years - int(year)) * 2 + (years > int(year)))])
        return rs[used], used

    def municipal_share(self, group: str) -> float:
        """The municipality's share of a week's expense for a person on public support for more than a year
        (the last step of the refusion staircase; the co-financing step for state-paid benefits)."""
        if not self.refusion:
            raise DataValidationError(f"{self.path}: the rate file has no refusion rules; the municipal perspective needs them")
        last = self.refusion["steps"][-1]
        if group in (self.refusion.get("state_paid") or []):
            return float(last["medfinansiering"])
        return 1.0 - float(last["refusion"])

    def category_table(self, codes: CodeList, years: Sequence[int], *, perspective: str = "offentlig",
                       factor: float = 1.0, groups: Sequence[str] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Kroner per week for every category index (rows) and year (columns) of ``codes``.

        Public-support groups without a rate cost 0 and are listed as unpriced; weeks without a code,
        education and censoring cost nothing. ``groups`` limits the table to those groups (for a breakdown
        by benefit type); ``factor`` scales every rate (sensitivity); ``perspective="kommunal"`` keeps the
        municipality's share after refusion.
        """
        years = [int(y) for y in years]
        table = np.zeros((codes.n_categories, len(years)))
        used: dict[tuple[str, int], tuple[int, Rate]] = {}
        unpriced: set[str] = set()
        wanted = None if groups is None else set(groups)
        for i, c in enumerate(codes.codes, start=1):
            g = codes.group_of(int(c))
            if g.category != "public_support" or (wanted is not None and g.id not in wanted):
                continue
            share = self.municipal_share(g.id) if perspective == "kommunal" else 1.0
            for j, y in enumerate(years):
                r, uy = self.rate(g.id, y)
                if r is None:
                    unpriced.add(g.id)
                    continue
                table[i, j] = r.weekly * share * factor
                used[(g.id, y)] = (uy, r)
        info = {
            "substituted": sorted({(gid, y, uy) for (gid, y), (uy, _) in used.items() if uy != y}),
            "unverified": sorted({(gid, r.year, r.source) for (gid, _), (_, r) in used.items() if not r.verified}),
            "unpriced": sorted(unpriced),
            "rates": {f"{gid}:{y}": {"year_used": uy, "weekly": r.weekly, "amount": r.amount, "unit": r.unit,
                                     "source": r.source, "verified": r.verified, "note": r.note}
                      for (gid, y), (uy, r) in sorted(used.items())},
        }
        return table, info
