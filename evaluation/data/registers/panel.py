"""The person × week panel of category indices that every register metric reads."""

from __future__ import annotations

import weakref
from typing import Sequence

import numpy as np
import pandas as pd

from evaluation.data.registers.codes import CodeList
from evaluation.data.weeks import WeekRange
from evaluation.exceptions import DataValidationError

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
    >>> from evaluation.data.registers import register_from_frame
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


def groups_present(panel: "Panel") -> list[str]:
    """Ids of the code-list groups with at least one code occurring in ``panel`` (code-list order).

    One pass over the matrix (a bincount of the category indices).

    Examples
    --------
    >>> from evaluation.data.registers import register_from_frame
    >>> p = register_from_frame(pd.DataFrame({"person": ["a", "b"], "week": ["2021-W01"] * 2, "code": [890, 997]}),
    ...                         layout="long")
    >>> groups_present(p)
    ['sygedagpenge', 'udvandret']
    """
    cl = panel.codes
    counts = np.bincount(np.asarray(panel.matrix).ravel(), minlength=cl.n_categories)
    present = {cl.code_to_group[int(c)] for c, n in zip(cl.codes, counts[1:-1]) if n}
    return [g.id for g in cl.groups if g.id in present]
