"""Benefit-code lists: DREAM codes grouped into benefit types and weekly status categories.

A :class:`CodeList` maps every DREAM code to a :class:`CodeGroup` (its Danish label, category,
priority and the source it was checked against); the panel stores category indices, so the
code list also fixes the dtype and the lookup tables the kernels use.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from evaluation.data.safe_yaml import MAX_BYTES, YamlProblem, parse_yaml
from evaluation.exceptions import DataValidationError

#: Kinds of weekly status a category can have.
CATEGORIES = ("self_support", "public_support", "education", "censoring")

_PKG_CODES = Path(__file__).resolve().parents[2] / "codes" / "dream_benefit_groups.yaml"

# --------------------------------------------------------------------------- code list
@dataclasses.dataclass(frozen=True)
class CodeGroup:
    """One benefit-code group (e.g. ``sygedagpenge``).

    Attributes
    ----------
    id, label_da : str
    category : {"public_support", "education", "censoring"}
    unemployed : bool
        Counts as unemployed in the STAR long-term-unemployment rule.
    priority : int
        1 = highest in the status hierarchy.
    source : str
        Where the group's code numbers come from (document or repository, locator, version or date).
    verified : bool
        True when the code numbers were checked against the named source; False when they are a
        best guess (reports relying on such a group say so in their data appendix).
    valid_years : tuple of (int or None, int or None), optional
        First and last year the codes were valid, where the source says so (None: open end).
    note : str
        What was and was not confirmed.
    """

    id: str
    label_da: str
    category: str
    unemployed: bool
    priority: int
    source: str = ""
    verified: bool = False
    valid_years: tuple[int | None, int | None] | None = None
    note: str = ""


#: Fields a group of a code-list file may have, and those it must have.
_GROUP_FIELDS = ("id", "label_da", "category", "unemployed", "priority", "codes", "source", "verified",
                 "valid_years", "note")
_GROUP_REQUIRED = ("id", "category", "codes", "source", "verified")


def _check_group(g: object, where: str) -> None:
    """Validate one group mapping of a code-list file; errors name the file, line and group."""
    if not isinstance(g, dict):
        raise DataValidationError(f"{where}: a group must be a mapping with {', '.join(_GROUP_REQUIRED)}; got {g!r}")
    unknown = [k for k in g if k not in _GROUP_FIELDS]
    if unknown:
        raise DataValidationError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; a group may have {', '.join(_GROUP_FIELDS)}"
        )
    missing = [k for k in _GROUP_REQUIRED if k not in g]
    if missing:
        hint = ""
        if "source" in missing or "verified" in missing:
            hint = ("; every group names the source of its code numbers (document or repository, locator, version or "
                    "date) and says whether they were checked against it (verified: true or false)")
        raise DataValidationError(f"{where}: missing field(s) {', '.join(map(repr, missing))}{hint}")
    if not isinstance(g["verified"], bool):
        raise DataValidationError(f"{where}: 'verified' must be true or false; got {g['verified']!r}")
    src = g["source"]
    if not isinstance(src, str) or not src.strip():
        raise DataValidationError(
            f"{where}: 'source' must name where the codes come from (document or repository, locator, version or "
            f"date); got {src!r}"
        )
    if "note" in g and g["note"] is not None and not isinstance(g["note"], str):
        raise DataValidationError(f"{where}: 'note' must be text; got {g['note']!r}")
    for k in ("unemployed",):
        if k in g and not isinstance(g[k], bool):
            raise DataValidationError(f"{where}: {k!r} must be true or false; got {g[k]!r}")
    if "priority" in g and (isinstance(g["priority"], bool) or not isinstance(g["priority"], int)):
        raise DataValidationError(f"{where}: 'priority' must be a whole number; got {g['priority']!r}")
    if not isinstance(g["codes"], list) or not g["codes"]:
        raise DataValidationError(f"{where}: 'codes' must be a non-empty list of codes or 'a-b' ranges; got {g['codes']!r}")


def _valid_years(spec: object, where: str) -> tuple[int | None, int | None] | None:
    """``[first, last]`` (either may be null, not both) → a tuple; None when absent."""
    if spec is None:
        return None
    ok = isinstance(spec, list) and len(spec) == 2 and all(
        y is None or (isinstance(y, int) and not isinstance(y, bool) and 1900 <= y <= 2100) for y in spec
    ) and spec != [None, None]
    if ok and None not in spec and spec[1] < spec[0]:
        ok = False
    if not ok:
        raise DataValidationError(
            f"{where}: 'valid_years' must be [first, last] years (null for an open end, first ≤ last); got {spec!r}"
        )
    return (spec[0], spec[1])


def _expand_codes(spec: object, where: str) -> list[int]:
    s = str(spec).strip()
    try:
        if "-" in s:
            a, b = (int(x) for x in s.split("-", 1))
            if b < a:
                raise ValueError
            return list(range(a, b + 1))
        return [int(s)]
    except ValueError:
        raise DataValidationError(f"{where}: code {spec!r} is neither an integer nor a range 'a-b'") from None


class CodeList:
    """Versioned mapping of DREAM codes to benefit groups.

    Parameters
    ----------
    groups : sequence of CodeGroup
    code_to_group : mapping of int to str
        DREAM code → group id.
    version, source : str
        Printed in the report appendix.

    Notes
    -----
    The shipped list is ``data/codes/dream_benefit_groups.yaml`` (also packaged as
    ``evaluation/codes/dream_benefit_groups.yaml``). Self-support is not a group: it is the
    absence of a code. Every group names the source of its code numbers and whether they were
    checked against it (:attr:`CodeGroup.verified`); overrides move codes between groups and keep
    the groups' sources and flags.

    Examples
    --------
    >>> cl = default_code_list()
    >>> cl.group_of(890).id, cl.group_of(651).category, cl.group_of(890).verified
    ('sygedagpenge', 'education', True)
    >>> cl.with_overrides({"130-135": "uddannelseshjaelp"}).group_of(131).id
    'uddannelseshjaelp'
    """

    def __init__(self, groups: Sequence[CodeGroup], code_to_group: Mapping[int, str], *, version: str, source: str = ""):
        self.groups = tuple(groups)
        self._by_id = {g.id: g for g in self.groups}
        if len(self._by_id) != len(self.groups):
            raise DataValidationError(f"code list {version}: duplicate group ids")
        for g in self.groups:
            if g.category not in CATEGORIES[1:]:
                raise DataValidationError(
                    f"code list {version}: group {g.id!r} has category {g.category!r}; expected one of {CATEGORIES[1:]}"
                )
        bad = sorted({gid for gid in code_to_group.values() if gid not in self._by_id})
        if bad:
            raise DataValidationError(f"code list {version}: codes mapped to unknown group(s) {bad}")
        self.code_to_group = dict(sorted((int(c), g) for c, g in code_to_group.items()))
        self.version = version
        self.source = source
        #: sorted DREAM codes; category index i+1 is codes[i]
        self.codes = np.fromiter(self.code_to_group, dtype=np.int64, count=len(self.code_to_group))

    # ---- construction
    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "CodeList":
        """Read a code list YAML (default: the packaged DREAM grouping).

        Every group needs ``id``, ``category``, ``codes``, ``source`` (where the code numbers
        come from) and ``verified`` (whether they were checked against that source); ``label_da``,
        ``unemployed``, ``priority``, ``valid_years`` and ``note`` are optional. Errors name the
        file, the line and the group.
        """
        path = Path(path) if path is not None else _PKG_CODES
        try:
            with open(path, "rb") as fh:
                parsed = parse_yaml(fh.read(MAX_BYTES + 1))  # bounded like a study file: no alias bombs, no deep nests
        except OSError as exc:
            raise DataValidationError(f"{path}: cannot read the code list ({exc.strerror or type(exc).__name__})") from None
        except YamlProblem as exc:
            raise DataValidationError(f"{path}:{exc.line}: ({exc.kind}): column {exc.column}: {exc.what}") from None
        doc = parsed.data
        if not isinstance(doc, dict) or "groups" not in doc or "version" not in doc:
            raise DataValidationError(f"{path}: a code list needs 'version' and 'groups'")
        if not isinstance(doc["groups"], list) or not doc["groups"]:
            raise DataValidationError(f"{path}: 'groups' must be a non-empty list of groups")
        groups, mapping = [], {}
        for i, g in enumerate(doc["groups"]):
            line = f":{parsed.lines[('groups', i)]}" if ("groups", i) in parsed.lines else ""
            gid = g.get("id") if isinstance(g, dict) else None
            where = f"{path}{line}: groups[{i}]" + (f" (id {gid!r})" if gid is not None else "")
            _check_group(g, where)
            grp = CodeGroup(
                id=str(g["id"]), label_da=str(g.get("label_da", g["id"])), category=str(g["category"]),
                unemployed=bool(g.get("unemployed", False)), priority=int(g.get("priority", 99)),
                source=str(g["source"]).strip(), verified=g["verified"],
                valid_years=_valid_years(g.get("valid_years"), where), note=str(g.get("note") or "").strip(),
            )
            groups.append(grp)
            for spec in g["codes"]:
                for c in _expand_codes(spec, where):
                    if c in mapping:
                        raise DataValidationError(f"{where}: code {c} is already in group {mapping[c]!r}")
                    if c < 0:
                        raise DataValidationError(f"{where}: code {c} is negative")
                    mapping[c] = grp.id
        return cls(groups, mapping, version=str(doc["version"]), source=str(doc.get("source", "")).strip())

    def with_overrides(self, overrides: Mapping[object, str] | None, *, version_suffix: str = "+study") -> "CodeList":
        """A copy where the codes (ints or ``"a-b"`` ranges) in ``overrides`` map to other groups."""
        if not overrides:
            return self
        mapping = dict(self.code_to_group)
        for spec, gid in overrides.items():
            if gid not in self._by_id:
                raise DataValidationError(
                    f"code override {spec!r}: unknown group {gid!r}; groups: {', '.join(self._by_id)}"
                )
            for c in _expand_codes(spec, "code override"):
                mapping[c] = gid
        return CodeList(self.groups, mapping, version=self.version + version_suffix, source=self.source)

    # ---- lookup
    def group(self, gid: str) -> CodeGroup:
        try:
            return self._by_id[gid]
        except KeyError:
            raise DataValidationError(f"unknown benefit group {gid!r}; known groups: {', '.join(self._by_id)}") from None

    def group_of(self, code: int) -> CodeGroup:
        return self._by_id[self.code_to_group[int(code)]]

    @property
    def group_ids(self) -> list[str]:
        return [g.id for g in self.groups]

    @property
    def n_categories(self) -> int:
        """Number of category indices incl. 0 (no code) and the reserved 'outside register'."""
        return len(self.codes) + 2

    @property
    def outside(self) -> int:
        """Category index reserved for weeks outside the register range."""
        return len(self.codes) + 1

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8) if self.n_categories <= 256 else np.dtype(np.uint16)

    def table(self) -> pd.DataFrame:
        """One row per code: ``code, category_index, group, category, unemployed, priority``."""
        gs = [self._by_id[self.code_to_group[int(c)]] for c in self.codes]
        return pd.DataFrame({
            "code": self.codes,
            "category_index": np.arange(1, len(self.codes) + 1, dtype=np.int64),
            "group": [g.id for g in gs],
            "category": [g.category for g in gs],
            "unemployed": [g.unemployed for g in gs],
            "priority": [g.priority for g in gs],
        })

    def code_lut(self) -> np.ndarray:
        """``lut[code + 1]`` → category index (0 for blank at position 0, -1 for unknown codes)."""
        top = int(self.codes.max()) if len(self.codes) else 0
        lut = np.full(top + 2, -1, dtype=np.int32)
        lut[0] = 0
        lut[self.codes + 1] = np.arange(1, len(self.codes) + 1)
        return lut

    # ---- per-category lookup tables used by the kernels
    def lut(self, kind: str, groups: Sequence[str] | None = None) -> np.ndarray:
        """Boolean/uint8 lookup table over category indices.

        ``kind`` is one of ``self_support``, ``public_support``, ``education``, ``censored``
        (censoring codes and the reserved 'outside' index), ``unemployed`` or ``groups``
        (1 for codes in ``groups``).
        """
        n = self.n_categories
        out = np.zeros(n, dtype=np.uint8)
        gs = [self._by_id[self.code_to_group[int(c)]] for c in self.codes]
        if kind == "self_support":
            out[0] = 1
        elif kind == "censored":
            out[1:-1] = [g.category == "censoring" for g in gs]
            out[-1] = 1
        elif kind in ("public_support", "education"):
            out[1:-1] = [g.category == kind for g in gs]
        elif kind == "unemployed":
            out[1:-1] = [g.unemployed for g in gs]
        elif kind == "groups":
            if not groups:
                raise DataValidationError("lut('groups') needs a list of group ids")
            for gid in groups:
                self.group(gid)
            sel = set(groups)
            out[1:-1] = [g.id in sel for g in gs]
        else:
            raise ValueError(f"unknown lut kind {kind!r}")
        return out

    def group_index_lut(self) -> tuple[np.ndarray, list[str]]:
        """``lut[category] → group position``; labels ``['self_support', *group ids, 'outside']``."""
        labels = ["self_support", *self.group_ids, "outside"]
        pos = {g: i for i, g in enumerate(labels)}
        lut = np.zeros(self.n_categories, dtype=np.int16)
        lut[1:-1] = [pos[self.code_to_group[int(c)]] for c in self.codes]
        lut[-1] = len(labels) - 1
        return lut, labels

    @property
    def unverified_groups(self) -> list[CodeGroup]:
        """Groups whose code numbers were not checked against a published source (``verified: false``)."""
        return [g for g in self.groups if not g.verified]

    def codes_of(self, gid: str) -> list[int]:
        """The DREAM codes mapped to group ``gid`` (after overrides)."""
        self.group(gid)
        return [c for c, g in self.code_to_group.items() if g == gid]

    def __repr__(self) -> str:
        return f"CodeList({self.version!r}, {len(self.codes)} codes in {len(self.groups)} groups)"


_DEFAULT: CodeList | None = None


def default_code_list() -> CodeList:
    """The packaged DREAM benefit-code grouping (loaded once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = CodeList.load()
    return _DEFAULT


def _fmt_codes(codes: Sequence[int]) -> str:
    """``[730, 731, 733, 734]`` → ``"730–731, 733–734"`` (en dash, Danish reports)."""
    parts, run = [], []
    for c in sorted(codes):
        if run and c == run[-1] + 1:
            run.append(c)
            continue
        if run:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}")
        run = [c]
    if run:
        parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}")
    return ", ".join(parts)


def unverified_code_note(codes: CodeList, group_ids: Sequence[str]) -> str | None:
    """Danish data note naming the unverified groups among ``group_ids`` (None when there are none).

    Used by the study data boundary for the groups a study relies on; the note tells the
    evaluator to check the codes against the code list delivered with the DREAM extract and to
    declare a code list of their own (``codes:``) where they differ.

    Examples
    --------
    >>> g = CodeGroup("x", "Ydelse X", "public_support", False, 1, source="gæt", verified=False)
    >>> cl = CodeList([g], {501: "x", 502: "x"}, version="v1")
    >>> print(unverified_code_note(cl, ["x"]))  # doctest: +NORMALIZE_WHITESPACE
    Kodelisten v1: koderne for ydelsesgruppen «Ydelse X» (501–502) er ikke efterprøvet mod offentliggjort
    DREAM-dokumentation. Kontrollér dem mod kodelisten, der fulgte med registerudtrækket, og angiv en kodeliste
    med de rigtige koder (codes: i registerets datadeklaration), hvis de afviger.
    """
    wanted = set(group_ids)
    bad = [g for g in codes.unverified_groups if g.id in wanted]
    if not bad:
        return None
    items = [f"«{g.label_da}» ({_fmt_codes(codes.codes_of(g.id))})" for g in bad]
    listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " og " + items[-1]
    which = "ydelsesgruppen" if len(bad) == 1 else "ydelsesgrupperne"
    return (f"Kodelisten {codes.version}: koderne for {which} {listed} er ikke efterprøvet mod offentliggjort "
            "DREAM-dokumentation. Kontrollér dem mod kodelisten, der fulgte med registerudtrækket, og angiv en "
            "kodeliste med de rigtige koder (codes: i registerets datadeklaration), hvis de afviger.")


def _resolve_codes(codes: CodeList | str | os.PathLike | Mapping | None) -> CodeList:
    if codes is None:
        return default_code_list()
    if isinstance(codes, CodeList):
        return codes
    if isinstance(codes, Mapping):
        return default_code_list().with_overrides(codes)
    return CodeList.load(codes)
