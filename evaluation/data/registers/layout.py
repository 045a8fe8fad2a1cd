"""How a register file lays out persons, weeks and codes: one frozen :class:`RegisterLayout`.

The readers (:func:`~evaluation.data.registers.read_register`,
:func:`~evaluation.data.registers.register_from_frame`,
:func:`~evaluation.data.registers.iter_panel_blocks`) take the layout as one object instead of a
dozen keywords threaded through every function; they still accept the layout's fields as keyword
arguments for convenience (``read_register(f, "long", week_column="uge")``).
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

from evaluation.data.weeks import WeekRange, format_week, is_dream_column, parse_week
from evaluation.exceptions import DataValidationError, UnknownOptionError, unknown_keyword_hints
from evaluation.data.tables import column_list

KINDS = ("auto", "wide", "long", "spells")


@dataclasses.dataclass(frozen=True)
class RegisterLayout:
    """The layout of a weekly register and the weeks it covers.

    Parameters
    ----------
    kind : {"auto", "wide", "long", "spells"}
        ``wide``: one row per person, one DREAM column per ISO week (``y_YYWW``); ``long``: one row
        per person-week with a benefit; ``spells``: one row per spell (first and last week, inclusive);
        ``auto``: told from the columns.
    person_column, week_column, code_column, start_column, end_column : str
        Column names (``week_column`` for long, ``start_column``/``end_column`` for spells).
    first_week, last_week : ISO week, optional
        The weeks the extract covers. Weeks inside this range without a code are weeks without
        benefit (self-support); without them the range is the weeks present in the file, so a
        long or spells extract whose last rows end early is cut short.

    Examples
    --------
    >>> RegisterLayout("long", week_column="uge").with_kind(["person", "uge", "code"], "f.csv").kind
    'long'
    >>> RegisterLayout.of("spells", first_week="2021-W01").first_week
    '2021-W01'
    """

    kind: str = "auto"
    person_column: str = "person"
    week_column: str = "week"
    code_column: str = "code"
    start_column: str = "start_week"
    end_column: str = "end_week"
    first_week: str | int | None = None
    last_week: str | int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataValidationError(f"unknown register layout {self.kind!r}; expected wide, long or spells (or auto)")

    @classmethod
    def of(cls, layout: "RegisterLayout | str" = "auto", **fields) -> "RegisterLayout":
        """A layout from a kind or an existing layout, with ``fields`` replacing its fields.

        An unknown field raises :class:`~evaluation.exceptions.UnknownOptionError` naming the allowed ones.
        """
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = [k for k in fields if k not in names]
        if unknown:
            raise UnknownOptionError(
                f"unknown register layout field(s) {unknown_keyword_hints(unknown, names)}; allowed: {', '.join(names[1:])}"
            )
        base = layout if isinstance(layout, RegisterLayout) else cls(kind=str(layout))
        return dataclasses.replace(base, **fields) if fields else base

    @property
    def declares_weeks(self) -> bool:
        """Whether the extract's week range is declared (at either end)."""
        return self.first_week is not None or self.last_week is not None

    def with_kind(self, columns: Sequence[str], file: str) -> "RegisterLayout":
        """This layout with ``kind`` told from the columns when it is ``auto``."""
        if self.kind != "auto":
            return self
        return dataclasses.replace(self, kind=_detect_layout(columns, file, self))

    def week_range(self, present: WeekRange) -> WeekRange:
        """The declared weeks, with the weeks ``present`` in the file filling an undeclared end."""
        return _restrict_weeks(present, self.first_week, self.last_week)

    def reader_fields(self) -> Mapping[str, object]:
        """The fields as keyword arguments (for messages and for passing on)."""
        return dataclasses.asdict(self)


def _detect_layout(columns: Sequence[str], file: str, lay: RegisterLayout) -> str:
    cols = list(map(str, columns))
    if any(is_dream_column(c) for c in cols):
        return "wide"
    if lay.start_column in cols and lay.end_column in cols and lay.code_column in cols:
        return "spells"
    if lay.week_column in cols and lay.code_column in cols:
        return "long"
    person, week, code, start, end = lay.person_column, lay.week_column, lay.code_column, lay.start_column, lay.end_column
    raise DataValidationError(
        f"{file}: cannot tell the register layout from the columns {column_list(cols, 12)}; expected DREAM week columns "
        f"(y_YYWW), or {person!r}, {week!r}, {code!r} (long), or {person!r}, {start!r}, {end!r}, {code!r} (spells)"
    )


def _restrict_weeks(week_range: WeekRange, first_week, last_week) -> WeekRange:
    a = parse_week(first_week, what="first_week") if first_week is not None else week_range.first
    b = parse_week(last_week, what="last_week") if last_week is not None else week_range.last
    if b < a:
        raise DataValidationError(f"register week range ends ({format_week(b)}) before it starts ({format_week(a)})")
    return WeekRange(a, b - a + 1)
