"""Weekly register panels (DREAM style) read once at the data boundary.

A register arrives in one of three layouts:

``wide``
    one row per person, one column per ISO week named ``y_YYWW`` (DREAM); blank = no benefit.
``long``
    one row per person-week with a benefit: ``person, week, code``; a missing week = no benefit.
``spells``
    ``person, start_week, end_week, code`` (inclusive); weeks outside every spell = no benefit.

and is turned into a :class:`Panel`: a dense person × week matrix of small integer *category
indices* (``uint8``, or ``uint16`` for code lists longer than 253 codes) over a contiguous range
of ISO weeks. Category 0 is "no code" (self-support), category ``i`` (1 … K) is the i-th code of
the :class:`CodeList`, and category K+1 is reserved for "outside the register" (used by the
kernels when a window runs past the first or last week; it counts as censored).

CSV and Parquet are read with DuckDB (the code table and the person table are joined in SQL,
never passed as ``IN`` lists); Excel with openpyxl through pandas. :func:`iter_panel_blocks`
streams person blocks with bounded memory for registers larger than RAM.

Person identifiers that look like CPR numbers are replaced at the boundary by a keyed hash
(:func:`evaluation.data.pseudonym.pseudonymise_ids`); raw identifiers never leave this module.
"""

from __future__ import annotations

import dataclasses
import os
import weakref
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml

from evaluation.data.pseudonym import load_key, looks_like_cpr, pseudonymise_ids
from evaluation.exceptions import DataValidationError
from evaluation.data.weeks import WeekRange, format_week, format_weeks, is_dream_column, parse_weeks

__all__ = [
    "CATEGORIES",
    "CodeGroup",
    "CodeList",
    "Panel",
    "default_code_list",
    "groups_present",
    "unverified_code_note",
    "read_register",
    "read_participants",
    "register_from_frame",
    "iter_panel_blocks",
    "write_register",
]

#: Kinds of weekly status a category can have.
CATEGORIES = ("self_support", "public_support", "education", "censoring")

_PKG_CODES = Path(__file__).resolve().parents[1] / "codes" / "dream_benefit_groups.yaml"


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


def _group_lines(text: str) -> list[int | None]:
    """1-based line of each item under ``groups`` (None when the file cannot be composed)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, val in root.value:
        if getattr(key, "value", None) == "groups" and isinstance(val, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in val.value]
    return []


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
            text = path.read_text(encoding="utf-8")
            doc = yaml.safe_load(text)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise DataValidationError(f"{path}: cannot read the code list: {exc}") from None
        if not isinstance(doc, dict) or "groups" not in doc or "version" not in doc:
            raise DataValidationError(f"{path}: a code list needs 'version' and 'groups'")
        if not isinstance(doc["groups"], list) or not doc["groups"]:
            raise DataValidationError(f"{path}: 'groups' must be a non-empty list of groups")
        lines = _group_lines(text)
        groups, mapping = [], {}
        for i, g in enumerate(doc["groups"]):
            line = f":{lines[i]}" if i < len(lines) else ""
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


def groups_present(panel: "Panel") -> list[str]:
    """Ids of the code-list groups with at least one code occurring in ``panel`` (code-list order).

    One pass over the matrix (a bincount of the category indices).

    Examples
    --------
    >>> p = register_from_frame(pd.DataFrame({"person": ["a", "b"], "week": ["2021-W01"] * 2, "code": [890, 997]}),
    ...                         layout="long")
    >>> groups_present(p)
    ['sygedagpenge', 'udvandret']
    """
    cl = panel.codes
    counts = np.bincount(np.asarray(panel.matrix).ravel(), minlength=cl.n_categories)
    present = {cl.code_to_group[int(c)] for c, n in zip(cl.codes, counts[1:-1]) if n}
    return [g.id for g in cl.groups if g.id in present]


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


# --------------------------------------------------------------------------- panel
class Panel:
    """A dense person × week matrix of category indices over a contiguous ISO week range.

    Parameters
    ----------
    matrix : numpy.ndarray
        Shape ``(n_persons, n_weeks)``, dtype ``codes.dtype``; values are category indices.
    persons : array-like of str
        Person ids (pseudonymised), one per row, unique.
    weeks : WeekRange
        The week of each column.
    codes : CodeList
    notes : list of str, optional
        What happened at the boundary (rows read, persons added, ids pseudonymised).

    Notes
    -----
    The panel never holds raw identifiers. The matrix is not copied; treat it as read-only.

    Examples
    --------
    >>> df = pd.DataFrame({"person": ["a", "a", "b"], "week": ["2020-W53", "2021-W01", "2021-W01"],
    ...                    "code": [890, 890, 130]})
    >>> p = register_from_frame(df, layout="long")
    >>> p.shape, p.weeks.labels()
    ((2, 2), ['2020-W53', '2021-W01'])
    >>> p.to_long()["code"].tolist()
    [890, 890, 130]
    """

    def __init__(self, matrix: np.ndarray, persons, weeks: WeekRange, codes: CodeList, notes: Sequence[str] = ()):
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[1] != len(weeks):
            raise ValueError(f"matrix shape {matrix.shape} does not match {len(weeks)} weeks")
        if matrix.dtype != codes.dtype:
            raise ValueError(f"matrix dtype {matrix.dtype} != code-list dtype {codes.dtype}")
        self.matrix = matrix
        self.persons = pd.Index(persons, name="person")
        if len(self.persons) != matrix.shape[0]:
            raise ValueError("one person id per row is required")
        if not self.persons.is_unique:
            dup = self.persons[self.persons.duplicated()].unique()[:5]
            raise DataValidationError(f"panel: person id(s) on more than one row: {list(dup)}")
        self.weeks = weeks
        self.codes = codes
        self.notes = list(notes)

    def __getstate__(self) -> dict:
        # the person-lookup cache (a weak reference) is not part of the panel's value
        return {k: v for k, v in self.__dict__.items() if k != "_rows_cache"}

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def __repr__(self) -> str:
        return f"Panel({len(self)} persons × {self.weeks!r}, codes {self.codes.version})"

    def take(self, rows: np.ndarray) -> "Panel":
        """Sub-panel of the given row positions."""
        rows = np.asarray(rows)
        return Panel(self.matrix[rows], self.persons[rows], self.weeks, self.codes, self.notes)

    def raw_codes(self) -> np.ndarray:
        """DREAM code per cell (0 for no code; -1 would mark 'outside', never stored)."""
        lut = np.concatenate([[0], self.codes.codes, [-1]])
        return lut[self.matrix]

    def rows_of(self, persons, *, file: str = "participants") -> np.ndarray:
        """Row positions of ``persons``; an error naming persons without register rows.

        The answer for the last ``pandas.Index`` looked up is kept on the panel (an Index is
        immutable, so the same object has the same answer): a study computing several metrics
        for the same participants hashes their ids once. The returned array is read-only.
        """
        cached = self.__dict__.get("_rows_cache")
        if cached is not None and isinstance(persons, pd.Index) and cached[0]() is persons and cached[2] is self.persons:
            return cached[1]
        idx = self.persons.get_indexer(pd.Index(persons))
        if (idx < 0).any():
            missing = pd.Index(persons)[idx < 0]
            raise DataValidationError(
                f"{file}: {len(missing)} participant(s) have no rows in the register (e.g. "
                f"{', '.join(map(str, missing[:5]))}); read the register with participants=... and "
                "absent_persons='self_support' if persons never on benefit are left out of the extract"
            )
        if isinstance(persons, pd.Index):
            idx.flags.writeable = False
            self._rows_cache = (weakref.ref(persons), idx, self.persons)
        return idx

    # ---- conversion to the three layouts
    def to_wide(self) -> pd.DataFrame:
        """DREAM wide frame: ``person`` + one ``y_YYWW`` column per week (nullable Int, NA = no code)."""
        raw = self.raw_codes()
        cols = self.weeks.dream_columns()
        data = {"person": np.asarray(self.persons, dtype=object)}
        for j, c in enumerate(cols):
            col = raw[:, j].astype(np.int64)
            data[c] = pd.arrays.IntegerArray(col, col == 0)
        return pd.DataFrame(data)

    def to_long(self) -> pd.DataFrame:
        """``person, week, code`` for every person-week with a code, weeks as ``YYYY-Www``."""
        r, c = np.nonzero(self.matrix)
        lut = np.concatenate([[0], self.codes.codes, [-1]])
        labels = np.asarray(self.weeks.labels(), dtype=object)
        return pd.DataFrame({
            "person": np.asarray(self.persons, dtype=object)[r],
            "week": labels[c],
            "code": lut[self.matrix[r, c]].astype(np.int64),
        })

    def to_spells(self) -> pd.DataFrame:
        """``person, start_week, end_week, code``: maximal runs of the same code."""
        m = self.matrix
        n, t = m.shape
        if t == 0 or n == 0:
            return pd.DataFrame({"person": [], "start_week": [], "end_week": [], "code": []})
        change = np.ones((n, t), dtype=bool)
        change[:, 1:] = m[:, 1:] != m[:, :-1]
        r, s = np.nonzero(change & (m != 0))
        # end of run: next change position - 1
        nxt = np.ones((n, t), dtype=bool)
        nxt[:, :-1] = change[:, 1:]
        r2, e = np.nonzero(nxt & (m != 0))
        lut = np.concatenate([[0], self.codes.codes, [-1]])
        labels = np.asarray(self.weeks.labels(), dtype=object)
        return pd.DataFrame({
            "person": np.asarray(self.persons, dtype=object)[r],
            "start_week": labels[s],
            "end_week": labels[e],
            "code": lut[m[r, s]].astype(np.int64),
        })


# --------------------------------------------------------------------------- helpers
def _ids_to_text(values) -> pd.Series:
    s = pd.Series(values, copy=False)
    if pd.api.types.is_float_dtype(s) and s.notna().all() and (s == s.round()).all():
        s = s.astype(np.int64)
    return s.astype("string").str.strip()


def _maybe_pseudonymise(ids: pd.Series, pseudonymise: bool | str, key: bytes | None, notes: list[str], file: str) -> pd.Series:
    """Pseudonymise ``ids`` when asked, or (``'auto'``) when any looks like a CPR number."""
    if pseudonymise == "auto":
        do = any(looks_like_cpr(v) for v in ids.dropna())
    else:
        do = bool(pseudonymise)
    if not do:
        return ids
    out = pseudonymise_ids(ids, key if key is not None else load_key())
    notes.append(f"{file}: personidentifikatorer pseudonymiseret med nøglebaseret hash")
    return out


def _example_rows(labels: Sequence, positions: np.ndarray, values=None, k: int = 5) -> str:
    out = []
    for i in positions[:k]:
        lab = labels[int(i)]
        out.append(f"row {lab}" + (f": {values[int(i)]!r}" if values is not None else ""))
    return ", ".join(out)


def _codes_from_values(values, file: str, column: str, rows: Sequence) -> np.ndarray:
    """Integer codes (-1 = blank) from a column of DREAM codes; non-numeric codes are an error."""
    arr = values
    if isinstance(arr, pd.Series):
        arr = arr.to_numpy(dtype=object, na_value=None) if not pd.api.types.is_numeric_dtype(arr) else arr.to_numpy(dtype=np.float64, na_value=np.nan)
    arr = np.asarray(arr)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.floating):
        blank = np.isnan(arr)
        frac = ~blank & (arr != np.round(arr))
        if frac.any():
            pos = np.flatnonzero(frac)
            raise DataValidationError(
                f"{file}: column {column!r} has non-integer benefit code(s): {_example_rows(rows, pos, arr)}"
            )
        return np.where(blank, -1, np.nan_to_num(arr, nan=-1)).astype(np.int64)
    s = pd.Series(arr, dtype="object").map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v).strip())
    s = s.where(s != "", None)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    bad |= num.notna() & (num != num.round())
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy())
        raise DataValidationError(
            f"{file}: column {column!r} has {int(bad.sum())} non-numeric benefit code(s) (DREAM codes are integers): "
            f"{_example_rows(rows, pos, s.to_numpy())}"
        )
    return num.fillna(-1).to_numpy().astype(np.int64)


def _categorise(codes_int: np.ndarray, cl: CodeList, file: str, column: str, rows_of_unknown=None) -> np.ndarray:
    """Map integer codes (-1 blank) to category indices; unknown codes are an error listing them."""
    lut = cl.code_lut()
    c = codes_int
    inr = (c >= -1) & (c < len(lut) - 1)
    cat = np.full(c.shape, -1, dtype=np.int32)
    cat[inr] = lut[c[inr] + 1]
    if (cat < 0).any():
        bad = np.unique(c[cat < 0])
        where = ""
        if rows_of_unknown is not None:
            where = " (e.g. " + rows_of_unknown(np.argwhere(cat < 0)[:5]) + ")"
        raise DataValidationError(
            f"{file}: column {column!r} has {len(bad)} benefit code(s) not in code list {cl.version}: "
            f"{', '.join(map(str, bad[:30]))}{' …' if len(bad) > 30 else ''}{where}; add them to the code list "
            "or override the grouping in the study"
        )
    return cat.astype(cl.dtype)


def _format_for(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    return {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx", ".xls": "xlsx"}.get(
        path.suffix.lower(), "csv"
    )


def _duck():
    import duckdb

    return duckdb.connect()


def _scan_sql(path: Path, fmt: str, separator: str = ",") -> str:
    p = str(path).replace("'", "''")
    if fmt == "parquet":
        return f"read_parquet('{p}')"
    if fmt == "csv":
        sep = separator.replace("'", "''")
        return f"read_csv('{p}', header=true, delim='{sep}', sample_size=-1)"
    raise DataValidationError(f"{path}: format {fmt!r} cannot be scanned by DuckDB")


# --------------------------------------------------------------------------- layout detection
def _detect_layout(columns: Sequence[str], file: str, person: str, week: str, code: str, start: str, end: str) -> str:
    cols = list(map(str, columns))
    if any(is_dream_column(c) for c in cols):
        return "wide"
    if start in cols and end in cols and code in cols:
        return "spells"
    if week in cols and code in cols:
        return "long"
    raise DataValidationError(
        f"{file}: cannot tell the register layout from the columns {cols[:12]}; expected DREAM week columns "
        f"(y_YYWW), or {person!r}, {week!r}, {code!r} (long), or {person!r}, {start!r}, {end!r}, {code!r} (spells)"
    )


# --------------------------------------------------------------------------- builders
def _from_wide(
    ids: pd.Series, cols: list[str], getcol, cl: CodeList, file: str, row_labels: Sequence, notes: list[str]
) -> tuple[np.ndarray, WeekRange]:
    """Build the matrix from wide columns; ``getcol(name)`` returns the column's values."""
    ords = parse_weeks(np.asarray(cols, dtype=object), file=file, column="<week column names>")
    if len(np.unique(ords)) != len(ords):
        u, cnt = np.unique(ords, return_counts=True)
        dups = [c for c, o in zip(cols, ords) if o in set(u[cnt > 1])]
        raise DataValidationError(f"{file}: duplicate person-weeks: several columns name the same ISO week: {dups[:6]}")
    order = np.argsort(ords)
    ords_sorted = ords[order]
    first, last = int(ords_sorted[0]), int(ords_sorted[-1])
    if last - first + 1 != len(ords):
        have = set(ords_sorted.tolist())
        gaps = [o for o in range(first, last + 1) if o not in have]
        raise DataValidationError(
            f"{file}: the week columns are not contiguous; missing {len(gaps)} week(s): "
            f"{', '.join(format_weeks(gaps[:8]))} (a missing column cannot be read as 'no benefit')"
        )
    wr = WeekRange(first, len(ords))
    n = len(ids)
    mat = np.empty((n, len(ords)), dtype=cl.dtype, order="C")
    for j, pos in enumerate(order):
        name = cols[pos]
        codes_int = _codes_from_values(getcol(name), file, name, row_labels)
        mat[:, j] = _categorise(
            codes_int, cl, file, name,
            rows_of_unknown=lambda a, name=name, ci=codes_int: ", ".join(
                f"row {row_labels[int(i[0])]}: {int(ci[int(i[0])])}" for i in a
            ),
        )
    return mat, wr


def _check_unique_persons(ids: pd.Series, file: str, row_labels: Sequence, column: str) -> None:
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        pos = np.flatnonzero(dup)
        raise DataValidationError(
            f"{file}: duplicate person-weeks: column {column!r} has {int(ids[dup].nunique())} person(s) on more than one "
            f"row of a wide register: {_example_rows(row_labels, pos, ids.to_numpy())}"
        )


def _check_blank_ids(ids: pd.Series, file: str, column: str, row_labels: Sequence) -> None:
    blank = ids.isna() | (ids == "")
    if blank.any():
        pos = np.flatnonzero(blank.to_numpy())
        raise DataValidationError(
            f"{file}: column {column!r} is empty in {int(blank.sum())} row(s): {_example_rows(row_labels, pos)}; "
            "every row needs a person id"
        )


def _assemble(
    rows: np.ndarray, ords: np.ndarray, cats: np.ndarray, persons: pd.Index, cl: CodeList, file: str,
    raw_ids: np.ndarray, week_column: str, row_labels: Sequence, week_range: WeekRange | None,
) -> tuple[np.ndarray, WeekRange]:
    """Scatter person-week categories into a dense matrix; duplicates are an error."""
    if week_range is None:
        if len(ords):
            week_range = WeekRange(int(ords.min()), int(ords.max() - ords.min() + 1))
        else:
            week_range = WeekRange(0, 0)
    cols = ords - week_range.first
    mat = np.zeros((len(persons), len(week_range)), dtype=cl.dtype)
    if len(rows):
        key = rows.astype(np.int64) * max(len(week_range), 1) + cols
        order = np.argsort(key, kind="stable")
        ks = key[order]
        dupmask = np.zeros(len(ks), dtype=bool)
        dupmask[1:] = ks[1:] == ks[:-1]
        if dupmask.any():
            first_dup = order[np.flatnonzero(dupmask)]
            pos = np.sort(first_dup)
            raise DataValidationError(
                f"{file}: duplicate person-weeks: {int(dupmask.sum())} row(s) repeat a person and week already given "
                f"(columns person and {week_column!r}): "
                + ", ".join(f"row {row_labels[int(i)]}: {raw_ids[int(i)]!r} {format_week(int(ords[int(i)]))}" for i in pos[:5])
            )
        mat[rows, cols] = cats
    return mat, week_range


def _restrict_weeks(week_range: WeekRange, first_week, last_week) -> WeekRange:
    from evaluation.data.weeks import parse_week

    a = parse_week(first_week, what="first_week") if first_week is not None else week_range.first
    b = parse_week(last_week, what="last_week") if last_week is not None else week_range.last
    if b < a:
        raise DataValidationError(f"register week range ends ({format_week(b)}) before it starts ({format_week(a)})")
    return WeekRange(a, b - a + 1)


def _participants_persons(participants, key, pseudonymise, file: str) -> pd.Index | None:
    if participants is None:
        return None
    if isinstance(participants, pd.DataFrame):
        return pd.Index(participants.index.astype("string"), name="person")
    return pd.Index(pd.Index(participants).astype("string"), name="person")


def _finish_persons(
    present: pd.Index, wanted: pd.Index | None, mat: np.ndarray, absent_persons: str, cl: CodeList, file: str, notes: list[str]
) -> tuple[np.ndarray, pd.Index]:
    """Restrict/extend the panel to ``wanted`` persons; absent persons are an error or self-support."""
    if wanted is None:
        return mat, present
    idx = present.get_indexer(wanted)
    missing = idx < 0
    if missing.any():
        if absent_persons == "error":
            ex = ", ".join(map(str, wanted[missing][:5]))
            raise DataValidationError(
                f"{file}: {int(missing.sum())} participant(s) have no rows in the register (e.g. {ex}); "
                "if the extract leaves out persons never on benefit, pass absent_persons='self_support'"
            )
        if absent_persons != "self_support":
            raise DataValidationError(f"absent_persons must be 'error' or 'self_support', not {absent_persons!r}")
        notes.append(
            f"{file}: {int(missing.sum())} deltager(e) uden rækker i registret regnet som selvforsørgende i alle uger"
        )
    out = np.zeros((len(wanted), mat.shape[1]), dtype=mat.dtype)
    out[~missing] = mat[idx[~missing]]
    dropped = len(present) - int((~missing).sum())
    if dropped:
        notes.append(f"{file}: {dropped} person(er) i registret er ikke deltagere og indgår ikke")
    return out, wanted


# --------------------------------------------------------------------------- public readers
def register_from_frame(
    df: pd.DataFrame,
    layout: str = "auto",
    *,
    person_column: str = "person",
    week_column: str = "week",
    code_column: str = "code",
    start_column: str = "start_week",
    end_column: str = "end_week",
    codes: CodeList | str | Mapping | None = None,
    participants=None,
    absent_persons: str = "error",
    first_week=None,
    last_week=None,
    key: bytes | None = None,
    pseudonymise: bool | str = "auto",
    file: str = "<register frame>",
) -> Panel:
    """Build a :class:`Panel` from a pandas frame in wide, long or spells layout.

    The person id is taken from ``person_column`` or, when the frame has no such column, from
    its index (as after :func:`evaluation.data.study_data.load_study_data`). The input is not modified.

    Parameters
    ----------
    df : DataFrame
    layout : {"auto", "wide", "long", "spells"}
    codes : CodeList, path, mapping or None
        Code list; a mapping is an override of the default grouping (``{"130-135": "kontanthjaelp"}``).
    participants : DataFrame or sequence, optional
        Restrict the panel to these (pseudonymised) persons, in this order.
    absent_persons : {"error", "self_support"}
        What to do with participants that have no register rows.
    first_week, last_week : ISO week, optional
        Widen or narrow the week range (default: the weeks present).
    key, pseudonymise
        Keyed hash for ids that look like CPR numbers (``"auto"``) or always (``True``).
    file : str
        Name used in error messages.

    Returns
    -------
    Panel

    Raises
    ------
    DataValidationError
        Non-ISO weeks, duplicate person-weeks, unknown or non-numeric codes, missing ids.

    Examples
    --------
    >>> wide = pd.DataFrame({"person": ["a", "b"], "y_1552": [890, None], "y_1553": [890, 130]})
    >>> register_from_frame(wide).weeks.labels()
    ['2015-W52', '2015-W53']
    """
    cl = _resolve_codes(codes)
    notes: list[str] = [f"{file}: {len(df)} rækker indlæst ({cl.version})"]
    cols = [str(c) for c in df.columns]
    layout = _detect_layout(cols, file, person_column, week_column, code_column, start_column, end_column) if layout == "auto" else layout
    if person_column in df.columns:
        raw_ids = _ids_to_text(df[person_column].to_numpy())
    else:
        raw_ids = _ids_to_text(np.asarray(df.index))
    row_labels = [int(i) + 2 for i in range(len(df))] if file.endswith(".csv") else list(range(len(df)))
    _check_blank_ids(raw_ids, file, person_column, row_labels)
    ids = _maybe_pseudonymise(raw_ids, pseudonymise, key, notes, file)
    wanted = _participants_persons(participants, key, pseudonymise, file)

    if layout == "wide":
        _check_unique_persons(raw_ids, file, row_labels, person_column)
        wcols = [c for c in df.columns if is_dream_column(str(c))]
        other = [c for c in df.columns if c not in wcols and c != person_column]
        if other:
            notes.append(f"{file}: kolonner uden for ugerne ignoreret: {', '.join(map(str, other[:10]))}")
        mat, wr = _from_wide(ids, [str(c) for c in wcols], lambda name: df[name], cl, file, row_labels, notes)
        persons = pd.Index(ids.to_numpy(), name="person")
        if first_week is not None or last_week is not None:
            mat, wr = _rewindow(mat, wr, _restrict_weeks(wr, first_week, last_week), cl)
    elif layout in ("long", "spells"):
        need = [code_column] + ([week_column] if layout == "long" else [start_column, end_column])
        miss = [c for c in need if c not in df.columns]
        if miss:
            raise DataValidationError(f"{file}: the {layout} register lacks column(s) {miss}; it has {cols}")
        if layout == "long":
            ords = parse_weeks(df[week_column].to_numpy(), file=file, column=week_column, rows=row_labels)
            codes_int = _codes_from_values(df[code_column], file, code_column, row_labels)
            src = np.arange(len(df))
        else:
            s = parse_weeks(df[start_column].to_numpy(), file=file, column=start_column, rows=row_labels)
            e = parse_weeks(df[end_column].to_numpy(), file=file, column=end_column, rows=row_labels)
            bad = e < s
            if bad.any():
                pos = np.flatnonzero(bad)
                raise DataValidationError(
                    f"{file}: column {end_column!r} is before {start_column!r} in {int(bad.sum())} spell(s): "
                    + ", ".join(f"row {row_labels[i]}: {format_week(int(s[i]))}..{format_week(int(e[i]))}" for i in pos[:5])
                )
            lens = (e - s + 1).astype(np.int64)
            src = np.repeat(np.arange(len(df)), lens)
            offs = np.arange(len(src)) - np.repeat(np.cumsum(lens) - lens, lens)
            ords = s[src] + offs
            codes_int = _codes_from_values(df[code_column], file, code_column, row_labels)[src]
        blank = codes_int < 0
        if blank.any():
            pos = src[np.flatnonzero(blank)]
            raise DataValidationError(
                f"{file}: column {code_column!r} is empty in {int(blank.sum())} row(s) of a {layout} register "
                f"(leave the week out instead): {_example_rows(row_labels, np.unique(pos))}"
            )
        cats = _categorise(
            codes_int, cl, file, code_column,
            rows_of_unknown=lambda a: ", ".join(f"row {row_labels[int(src[int(i[0])])]}: {int(codes_int[int(i[0])])}" for i in a),
        )
        persons, inv = np.unique(ids.to_numpy(dtype=object), return_inverse=True)
        persons = pd.Index(persons, name="person")
        wr = None
        if first_week is not None or last_week is not None:
            base = WeekRange(int(ords.min()), int(ords.max() - ords.min() + 1)) if len(ords) else WeekRange(0, 0)
            wr = _restrict_weeks(base, first_week, last_week)
            keep = (ords >= wr.first) & (ords <= wr.last)
            if (~keep).any():
                notes.append(f"{file}: {int((~keep).sum())} person-uger uden for {wr!r} udeladt")
            src, ords, cats = src[keep], ords[keep], cats[keep]
        mat, wr = _assemble(
            inv[src], ords, cats, persons, cl, file, raw_ids.to_numpy(dtype=object)[src],
            week_column if layout == "long" else f"{start_column}/{end_column} (overlapping spells)",
            [row_labels[i] for i in src] if len(src) < 5_000_000 else np.asarray(row_labels)[src], wr,
        )
    else:
        raise DataValidationError(f"{file}: unknown register layout {layout!r}; expected wide, long or spells")
    mat, persons = _finish_persons(persons, wanted, mat, absent_persons, cl, file, notes)
    return Panel(np.ascontiguousarray(mat), persons, wr, cl, notes)


def _rewindow(mat: np.ndarray, wr: WeekRange, new: WeekRange, cl: CodeList) -> tuple[np.ndarray, WeekRange]:
    """Cut or widen the week range; widened weeks have no code."""
    out = np.zeros((mat.shape[0], len(new)), dtype=mat.dtype)
    lo, hi = max(wr.first, new.first), min(wr.last, new.last)
    if hi >= lo:
        out[:, lo - new.first: hi - new.first + 1] = mat[:, lo - wr.first: hi - wr.first + 1]
    return out, new


def read_register(
    path: str | os.PathLike,
    layout: str = "auto",
    *,
    person_column: str = "person",
    week_column: str = "week",
    code_column: str = "code",
    start_column: str = "start_week",
    end_column: str = "end_week",
    codes: CodeList | str | Mapping | None = None,
    participants=None,
    absent_persons: str = "error",
    first_week=None,
    last_week=None,
    key: bytes | None = None,
    pseudonymise: bool | str = "auto",
    fmt: str | None = None,
    sheet: str | int | None = None,
    separator: str = ",",
) -> Panel:
    """Read a weekly register (CSV, Parquet or Excel; wide, long or spells) into a :class:`Panel`.

    CSV and Parquet are scanned with DuckDB; for the long layout the week and code
    translation tables and the person table are joined in SQL, so only
    ``(row, week, category)`` triples reach Python. Excel goes through pandas/openpyxl.
    The file is opened read-only.

    Parameters
    ----------
    path : path-like
    layout, person_column, week_column, code_column, start_column, end_column, codes,
    participants, absent_persons, first_week, last_week, key, pseudonymise
        As in :func:`register_from_frame`.
    fmt : {"csv", "parquet", "xlsx"}, optional
        Inferred from the extension when omitted.
    sheet : str or int, optional
        Excel sheet.
    separator : str
        CSV field separator.

    Returns
    -------
    Panel

    Raises
    ------
    DataValidationError
        Naming the file, the column and example rows.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> pd.DataFrame({"person": ["a", "a"], "week": [202053, 202101], "code": [890, 890]}).to_csv(
    ...     os.path.join(d, "reg.csv"), index=False)
    >>> read_register(os.path.join(d, "reg.csv")).weeks.labels()
    ['2020-W53', '2021-W01']
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: the register file does not exist")
    fmt = _format_for(path, fmt)
    file = str(path)
    if fmt == "xlsx" or layout == "spells" or fmt not in ("csv", "parquet"):
        if fmt == "xlsx":
            try:
                df = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=object)
            except (ValueError, OSError) as exc:
                raise DataValidationError(f"{path}: could not be read as Excel: {exc}") from None
        else:
            df = _duck_frame(path, fmt, separator)
        return register_from_frame(
            df, layout, person_column=person_column, week_column=week_column, code_column=code_column,
            start_column=start_column, end_column=end_column, codes=codes, participants=participants,
            absent_persons=absent_persons, first_week=first_week, last_week=last_week, key=key,
            pseudonymise=pseudonymise, file=file,
        )
    con = _duck()
    scan = _scan_sql(path, fmt, separator)
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    except Exception as exc:  # duckdb raises its own exception types
        raise DataValidationError(f"{path}: could not be read as {fmt}: {exc}") from None
    if layout == "auto":
        layout = _detect_layout(cols, file, person_column, week_column, code_column, start_column, end_column)
    if person_column not in cols:
        raise DataValidationError(f"{path}: no person column {person_column!r}; columns: {cols[:12]}")
    if layout == "wide":
        df = _duck_frame(path, fmt, separator, con=con)
        return register_from_frame(
            df, "wide", person_column=person_column, codes=codes, participants=participants,
            absent_persons=absent_persons, first_week=first_week, last_week=last_week, key=key,
            pseudonymise=pseudonymise, file=file,
        )
    if layout == "spells":
        df = _duck_frame(path, fmt, separator, con=con)
        return register_from_frame(df, "spells", person_column=person_column, code_column=code_column,
                                   start_column=start_column, end_column=end_column, codes=codes,
                                   participants=participants, absent_persons=absent_persons,
                                   first_week=first_week, last_week=last_week, key=key,
                                   pseudonymise=pseudonymise, file=file)
    return _read_long_duck(
        con, path, scan, cols, person_column, week_column, code_column, _resolve_codes(codes), participants,
        absent_persons, first_week, last_week, key, pseudonymise, fmt,
    )


def _duck_frame(path: Path, fmt: str, separator: str, con=None) -> pd.DataFrame:
    con = con or _duck()
    try:
        return con.execute(f"SELECT * FROM {_scan_sql(path, fmt, separator)}").df()
    except Exception as exc:
        raise DataValidationError(f"{path}: could not be read as {fmt}: {exc}") from None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _week_table(con, scan: str, week_column: str, file: str, where: str = "") -> pd.DataFrame:
    """Distinct raw week values → ordinal (non-ISO values are an error naming rows)."""
    wk = _q(week_column)
    distinct = con.execute(f"SELECT DISTINCT {wk} AS w FROM {scan} {where}").df()["w"]
    try:
        ords = parse_weeks(distinct.to_numpy(dtype=object), file=file, column=week_column)
    except DataValidationError:
        # find the rows for the message
        vals = distinct.to_numpy(dtype=object)
        bad = []
        for v in vals:
            try:
                parse_weeks([v])
            except DataValidationError:
                bad.append(v)
        bad_df = pd.DataFrame({"w": pd.Series(bad, dtype=distinct.dtype)})
        con.register("bad_weeks", bad_df)
        rows = con.execute(
            f"SELECT rn, w FROM (SELECT row_number() OVER () + 1 AS rn, {wk} AS w FROM {scan}) "
            f"WHERE w IN (SELECT w FROM bad_weeks) OR (w IS NULL AND (SELECT count(*) FROM bad_weeks WHERE w IS NULL) > 0) "
            "ORDER BY rn LIMIT 5"
        ).fetchall()
        raise DataValidationError(
            f"{file}: column {week_column!r} has {len(bad)} distinct value(s) that are not ISO year-weeks "
            f"(expected e.g. 2018-W01, 201801 or y_1801; week 53 only in 53-week years): "
            + ", ".join(f"line {r[0]}: {r[1]!r}" for r in rows)
        ) from None
    return pd.DataFrame({"w": distinct, "ord": ords})


def _code_table(con, scan: str, code_column: str, cl: CodeList, file: str, where: str = "") -> pd.DataFrame:
    """Distinct raw codes → category index (unknown/non-numeric/blank codes are an error)."""
    cc = _q(code_column)
    distinct = con.execute(f"SELECT DISTINCT {cc} AS c FROM {scan} {where}").df()["c"]
    vals = distinct.to_numpy(dtype=object)
    try:
        ints = _codes_from_values(pd.Series(vals, dtype=object), file, code_column, list(map(repr, vals)))
    except DataValidationError:
        rows = con.execute(
            f"SELECT rn, c FROM (SELECT row_number() OVER () + 1 AS rn, {cc} AS c FROM {scan}) "
            "WHERE TRY_CAST(trim(CAST(c AS VARCHAR)) AS BIGINT) IS NULL AND c IS NOT NULL "
            "AND trim(CAST(c AS VARCHAR)) <> '' ORDER BY rn LIMIT 5"
        ).fetchall()
        raise DataValidationError(
            f"{file}: column {code_column!r} has non-numeric benefit code(s) (DREAM codes are integers): "
            + ", ".join(f"line {r[0]}: {r[1]!r}" for r in rows)
        ) from None
    if (ints < 0).any():
        rows = con.execute(
            f"SELECT rn FROM (SELECT row_number() OVER () + 1 AS rn, {cc} AS c FROM {scan}) "
            "WHERE c IS NULL OR trim(CAST(c AS VARCHAR)) = '' ORDER BY rn LIMIT 5"
        ).fetchall()
        raise DataValidationError(
            f"{file}: column {code_column!r} is empty in some row(s) of a long register (leave the week out "
            f"instead): " + ", ".join(f"line {r[0]}" for r in rows)
        )
    lut = cl.code_lut()
    inr = ints < len(lut) - 1
    cat = np.full(len(ints), -1, dtype=np.int64)
    cat[inr] = lut[ints[inr] + 1]
    if (cat < 0).any():
        bad = np.unique(ints[cat < 0])
        con.register("bad_codes", pd.DataFrame({"c": bad}))
        rows = con.execute(
            f"SELECT rn, c FROM (SELECT row_number() OVER () + 1 AS rn, TRY_CAST({cc} AS BIGINT) AS c FROM {scan}) "
            "WHERE c IN (SELECT c FROM bad_codes) ORDER BY rn LIMIT 5"
        ).fetchall()
        raise DataValidationError(
            f"{file}: column {code_column!r} has {len(bad)} benefit code(s) not in code list {cl.version}: "
            f"{', '.join(map(str, bad[:30]))}{' …' if len(bad) > 30 else ''} (e.g. "
            + ", ".join(f"line {r[0]}: {r[1]}" for r in rows)
            + "); add them to the code list or override the grouping in the study"
        )
    return pd.DataFrame({"c": distinct, "cat": cat})


def _read_long_duck(con, path, scan, cols, person_column, week_column, code_column, cl, participants, absent_persons,
                    first_week, last_week, key, pseudonymise, fmt) -> Panel:
    file = str(path)
    for c in (week_column, code_column):
        if c not in cols:
            raise DataValidationError(f"{path}: the long register lacks column {c!r}; it has {cols[:12]}")
    notes: list[str] = []
    n_rows = con.execute(f"SELECT count(*) FROM {scan}").fetchone()[0]
    notes.append(f"{file}: {n_rows} rækker indlæst ({cl.version})")
    pc = _q(person_column)
    blank = con.execute(
        f"SELECT rn FROM (SELECT row_number() OVER () + 1 AS rn, {pc} AS p FROM {scan}) "
        "WHERE p IS NULL OR trim(CAST(p AS VARCHAR)) = '' ORDER BY rn LIMIT 5"
    ).fetchall()
    if blank:
        raise DataValidationError(
            f"{file}: column {person_column!r} is empty in row(s) (file lines {', '.join(str(r[0]) for r in blank)}); "
            "every row needs a person id"
        )
    weeks = _week_table(con, scan, week_column, file)
    codes_t = _code_table(con, scan, code_column, cl, file)
    raw = con.execute(f"SELECT DISTINCT CAST({pc} AS VARCHAR) AS p FROM {scan} ORDER BY p").df()["p"].astype("string").str.strip()
    pseud = _maybe_pseudonymise(raw, pseudonymise, key, notes, file)
    persons_t = pd.DataFrame({"p": raw.to_numpy(dtype=object), "row": np.arange(len(raw), dtype=np.int64)})
    con.register("persons_t", persons_t)
    con.register("weeks_t", weeks)
    con.register("codes_t", codes_t)
    # duplicate person-weeks
    dups = con.execute(
        f"SELECT CAST({pc} AS VARCHAR) AS p, {_q(week_column)} AS w, count(*) AS n FROM {scan} "
        "GROUP BY ALL HAVING count(*) > 1 LIMIT 5"
    ).fetchall()
    if dups:
        raise DataValidationError(
            f"{file}: duplicate person-weeks: the same person and week occur on more than one row "
            f"(columns {person_column!r}, {week_column!r}): "
            + ", ".join(f"{p!r} {w!r} ×{n}" for p, w, n in dups)
        )
    trip = con.execute(
        f"SELECT pt.row AS r, wt.ord AS o, ct.cat AS c FROM {scan} AS reg "
        f"JOIN persons_t pt ON CAST(reg.{pc} AS VARCHAR) = pt.p "
        f"JOIN weeks_t wt ON reg.{_q(week_column)} IS NOT DISTINCT FROM wt.w "
        f"JOIN codes_t ct ON reg.{_q(code_column)} IS NOT DISTINCT FROM ct.c"
    ).fetchnumpy()
    r, o, c = (np.asarray(trip[k]) for k in ("r", "o", "c"))
    if len(r) != n_rows:
        raise DataValidationError(f"{file}: {n_rows - len(r)} row(s) could not be matched to person/week/code tables")
    persons = pd.Index(pseud.to_numpy(dtype=object), name="person")
    wr = None
    if first_week is not None or last_week is not None:
        base = WeekRange(int(o.min()), int(o.max() - o.min() + 1))
        wr = _restrict_weeks(base, first_week, last_week)
        keep = (o >= wr.first) & (o <= wr.last)
        if (~keep).any():
            notes.append(f"{file}: {int((~keep).sum())} person-uger uden for {wr!r} udeladt")
        r, o, c = r[keep], o[keep], c[keep]
    mat, wr = _assemble(r, o, c.astype(cl.dtype), persons, cl, file, np.asarray(r), week_column, np.asarray(r), wr)
    wanted = _participants_persons(participants, key, pseudonymise, file)
    mat, persons = _finish_persons(persons, wanted, mat, absent_persons, cl, file, notes)
    return Panel(np.ascontiguousarray(mat), persons, wr, cl, notes)


def read_participants(
    source: str | os.PathLike | pd.DataFrame,
    *,
    person_column: str = "person",
    index_week_column: str = "index_week",
    group_column: str | None = "group",
    key: bytes | None = None,
    pseudonymise: bool | str = "auto",
    fmt: str | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read participants: person id, group, index week (ISO) and optional covariates.

    Returns a frame indexed by ``person`` (pseudonymised when ids look like CPR numbers) whose
    ``index_week`` column holds ``YYYY-Www`` strings; all other columns are kept as covariates.
    The input frame or file is not modified.

    Raises
    ------
    DataValidationError
        Missing columns, blank or duplicate ids, index weeks that are not ISO weeks.

    Examples
    --------
    >>> p = read_participants(pd.DataFrame({"person": ["a", "b"], "group": ["I", "K"],
    ...                                     "index_week": [201553, "2016-W01"]}))
    >>> p["index_week"].tolist()
    ['2015-W53', '2016-W01']
    """
    if isinstance(source, pd.DataFrame):
        df, file = source, "<participants frame>"
    else:
        path = Path(source)
        file = str(path)
        if not path.is_file():
            raise DataValidationError(f"{path}: the participants file does not exist")
        f = _format_for(path, fmt)
        df = pd.read_excel(path, sheet_name=sheet or 0) if f == "xlsx" else _duck_frame(path, f, ",")
    need = [c for c in (person_column, index_week_column, group_column) if c and c not in df.columns]
    if need:
        raise DataValidationError(f"{file}: participants lack column(s) {need}; columns: {list(map(str, df.columns))}")
    rows = [i + 2 for i in range(len(df))] if file.endswith(".csv") else list(range(len(df)))
    raw = _ids_to_text(df[person_column].to_numpy())
    _check_blank_ids(raw, file, person_column, rows)
    dup = raw.duplicated(keep=False).to_numpy()
    if dup.any():
        raise DataValidationError(
            f"{file}: column {person_column!r} has person(s) on more than one row: "
            f"{_example_rows(rows, np.flatnonzero(dup), raw.to_numpy())}; expected one row per person"
        )
    notes: list[str] = []
    ids = _maybe_pseudonymise(raw, pseudonymise, key, notes, file)
    ords = parse_weeks(df[index_week_column].to_numpy(), file=file, column=index_week_column, rows=rows)
    out = df.drop(columns=[person_column]).copy()
    out.index = pd.Index(ids.to_numpy(dtype=object), name="person")
    out[index_week_column] = format_weeks(ords)
    out.attrs["notes"] = notes
    return out


# --------------------------------------------------------------------------- streaming
def iter_panel_blocks(
    path: str | os.PathLike,
    layout: str = "wide",
    *,
    block_persons: int = 100_000,
    codes: CodeList | str | Mapping | None = None,
    persons: Sequence[str] | None = None,
    person_column: str = "person",
    week_column: str = "week",
    code_column: str = "code",
    key: bytes | None = None,
    pseudonymise: bool | str = "auto",
    fmt: str | None = None,
    separator: str = ",",
    memory_limit: str = "512MB",
    first_week=None,
    last_week=None,
) -> Iterator[Panel]:
    """Stream a CSV/Parquet register as person blocks with bounded memory.

    ``wide``: DuckDB scans the file and hands over record batches of ``block_persons`` rows
    (one row per person), each converted to a :class:`Panel` block.
    ``long``: the distinct persons are numbered once (or ``persons`` are used: pseudonymised
    ids are not accepted here, pass the raw ids the file holds), split into blocks, and each
    block is one SQL query joining the register to the block's person table, the week table
    and the code table. ``first_week``/``last_week`` fix the week range of every block (default
    for long: the range of the whole file), so blocks concatenate column-wise.

    Yields
    ------
    Panel
        Blocks with disjoint persons; together exactly the persons of the register.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "w.parquet")
    >>> pd.DataFrame({"person": ["a", "b", "c"], "y_1801": [890, None, 130]}).to_parquet(f)
    >>> [len(b) for b in iter_panel_blocks(f, block_persons=2)]
    [2, 1]
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: the register file does not exist")
    fmt = _format_for(path, fmt)
    if fmt not in ("csv", "parquet"):
        raise DataValidationError(f"{path}: streaming needs CSV or Parquet, not {fmt}")
    cl = _resolve_codes(codes)
    file = str(path)
    con = _duck()
    con.execute(f"SET memory_limit='{memory_limit}'")
    con.execute("SET preserve_insertion_order=true")
    scan = _scan_sql(path, fmt, separator)
    if layout == "wide":
        reader = con.sql(f"SELECT * FROM {scan}").to_arrow_reader(block_persons)
        seen = 0
        for batch in reader:
            fast = _panel_from_arrow(batch, person_column, cl, file, seen, key, pseudonymise, first_week, last_week)
            if fast is not None:
                seen += batch.num_rows
                yield fast
                continue
            df = batch.to_pandas()
            labels = list(range(seen + (2 if fmt == "csv" else 0), seen + len(df) + (2 if fmt == "csv" else 0)))
            p = register_from_frame(df, "wide", person_column=person_column, codes=cl, key=key,
                                    pseudonymise=pseudonymise, first_week=first_week, last_week=last_week,
                                    file=file)
            if labels and labels[0] != 0 and p.notes:
                p.notes.append(f"{file}: blok med rækkerne {labels[0]}–{labels[-1]}")
            seen += len(df)
            yield p
        return
    if layout != "long":
        raise DataValidationError(f"{path}: streaming supports the wide and long layouts, not {layout!r}")
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    for c in (person_column, week_column, code_column):
        if c not in cols:
            raise DataValidationError(f"{path}: the long register lacks column {c!r}; it has {cols[:12]}")
    weeks = _week_table(con, scan, week_column, file)
    codes_t = _code_table(con, scan, code_column, cl, file)
    con.register("weeks_t", weeks)
    con.register("codes_t", codes_t)
    pc = _q(person_column)
    if persons is None:
        raw = con.execute(f"SELECT DISTINCT CAST({pc} AS VARCHAR) AS p FROM {scan} ORDER BY p").df()["p"]
    else:
        raw = pd.Series(list(persons), dtype=object)
    raw = raw.astype("string").str.strip()
    if first_week is None and last_week is None:
        wr = WeekRange(int(weeks["ord"].min()), int(weeks["ord"].max() - weeks["ord"].min() + 1))
    else:
        base = WeekRange(int(weeks["ord"].min()), int(weeks["ord"].max() - weeks["ord"].min() + 1))
        wr = _restrict_weeks(base, first_week, last_week)
    for b0 in range(0, len(raw), block_persons):
        braw = raw.iloc[b0:b0 + block_persons].reset_index(drop=True)
        notes: list[str] = []
        ids = _maybe_pseudonymise(braw, pseudonymise, key, notes, file)
        con.register("block_t", pd.DataFrame({"p": braw.to_numpy(dtype=object), "row": np.arange(len(braw))}))
        trip = con.execute(
            f"SELECT bt.row AS r, wt.ord AS o, ct.cat AS c FROM {scan} AS reg "
            f"JOIN block_t bt ON CAST(reg.{pc} AS VARCHAR) = bt.p "
            f"JOIN weeks_t wt ON reg.{_q(week_column)} IS NOT DISTINCT FROM wt.w "
            f"JOIN codes_t ct ON reg.{_q(code_column)} IS NOT DISTINCT FROM ct.c "
            f"WHERE wt.ord BETWEEN {wr.first} AND {wr.last}"
        ).fetchnumpy()
        r, o, c = (np.asarray(trip[k]) for k in ("r", "o", "c"))
        mat, _ = _assemble(r, o, c.astype(cl.dtype), pd.Index(ids), cl, file, r, week_column, r, wr)
        yield Panel(mat, ids.to_numpy(dtype=object), wr, cl, notes)


# --------------------------------------------------------------------------- writers
def write_register(panel: Panel, path: str | os.PathLike, layout: str = "wide", *, fmt: str | None = None,
                   row_group_size: int = 100_000) -> Path:
    """Write ``panel`` as a wide, long or spells register to CSV, Parquet or Excel.

    Parquet files are written with ``row_group_size`` rows per row group (one row group is one
    natural streaming block). Returns the path.

    Examples
    --------
    >>> import tempfile, os
    >>> p = register_from_frame(pd.DataFrame({"person": ["a"], "y_2053": [890], "y_2101": [None]}))
    >>> f = write_register(p, os.path.join(tempfile.mkdtemp(), "r.parquet"), "long")
    >>> read_register(f).to_long()["week"].tolist()
    ['2020-W53']
    """
    path = Path(path)
    fmt = _format_for(path, fmt)
    if layout == "wide" and fmt == "parquet":
        return _write_wide_parquet(panel, path, row_group_size)
    if layout == "wide":
        df = panel.to_wide()
    elif layout == "long":
        df = panel.to_long()
    elif layout == "spells":
        df = panel.to_spells()
    else:
        raise DataValidationError(f"unknown register layout {layout!r}; expected wide, long or spells")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=row_group_size)
    elif fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "xlsx":
        df.to_excel(path, index=False)
    else:
        raise DataValidationError(f"unknown format {fmt!r}; expected csv, parquet or xlsx")
    return path


def _write_wide_parquet(panel: Panel, path: Path, row_group_size: int) -> Path:
    """Wide Parquet written block by block from the matrix (bounded memory, nullable int16 codes)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    cols = panel.weeks.dream_columns()
    lut = np.concatenate([[0], panel.codes.codes, [-1]]).astype(np.int16)
    schema = pa.schema([("person", pa.string())] + [(c, pa.int16()) for c in cols])
    with pq.ParquetWriter(path, schema) as writer:
        for a in range(0, max(len(panel), 1), row_group_size):
            b = min(len(panel), a + row_group_size)
            raw = lut[panel.matrix[a:b]]
            arrays = [pa.array(np.asarray(panel.persons[a:b], dtype=object), type=pa.string())]
            arrays += [pa.array(raw[:, j], mask=raw[:, j] == 0, type=pa.int16()) for j in range(raw.shape[1])]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=row_group_size)
    return path


def _panel_from_arrow(batch, person_column: str, cl: CodeList, file: str, offset: int, key, pseudonymise,
                      first_week, last_week) -> Panel | None:
    """Fast path for a wide record batch whose week columns are all integer typed (None otherwise)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = batch.schema.names
    if person_column not in names:
        raise DataValidationError(f"{file}: no person column {person_column!r}")
    wcols = [c for c in names if is_dream_column(c)]
    if not wcols or not all(pa.types.is_integer(batch.schema.field(c).type) for c in wcols):
        return None
    ords = parse_weeks(np.asarray(wcols, dtype=object), file=file, column="<week column names>")
    order = np.argsort(ords)
    if len(np.unique(ords)) != len(ords) or ords[order[-1]] - ords[order[0]] + 1 != len(ords):
        return None  # let the general path raise the precise error
    n = batch.num_rows
    row_labels = list(range(offset, offset + n))
    raw_ids = _ids_to_text(batch.column(person_column).to_numpy(zero_copy_only=False))
    _check_blank_ids(raw_ids, file, person_column, row_labels)
    _check_unique_persons(raw_ids, file, row_labels, person_column)
    notes: list[str] = []
    ids = _maybe_pseudonymise(raw_ids, pseudonymise, key, notes, file)
    mat = np.empty((n, len(wcols)), dtype=cl.dtype)
    for j, pos in enumerate(order):
        name = wcols[pos]
        ci = pc.fill_null(batch.column(name), -1).to_numpy().astype(np.int64)
        mat[:, j] = _categorise(ci, cl, file, name, rows_of_unknown=lambda a, ci=ci: ", ".join(
            f"row {row_labels[int(i[0])]}: {int(ci[int(i[0])])}" for i in a))
    wr = WeekRange(int(ords[order[0]]), len(ords))
    if first_week is not None or last_week is not None:
        mat, wr = _rewindow(mat, wr, _restrict_weeks(wr, first_week, last_week), cl)
    return Panel(mat, ids.to_numpy(dtype=object), wr, cl, notes)
