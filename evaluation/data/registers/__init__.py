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

The package is split by concept: :mod:`.codes` (code lists), :mod:`.layout` (the frozen
:class:`RegisterLayout`: layout kind, column names and the weeks an extract covers),
:mod:`.panel` (the matrix), :mod:`.values` (ids and code values), :mod:`.frame` (building a panel
from a frame), :mod:`.read` and :mod:`.duck` (files, with DuckDB), :mod:`.stream` (blocks) and
:mod:`.write` (writers).

Person identifiers that look like CPR numbers are replaced at the boundary by a keyed hash
(:func:`evaluation.data.pseudonym.pseudonymise_ids`); raw identifiers never leave this module.
"""

from evaluation.data.registers.codes import CATEGORIES, CodeGroup, CodeList, default_code_list, unverified_code_note
from evaluation.data.registers.frame import PersonRule, register_from_frame
from evaluation.data.registers.layout import RegisterLayout
from evaluation.data.registers.panel import Panel, groups_present
from evaluation.data.registers.read import read_participants, read_register
from evaluation.data.registers.stream import iter_panel_blocks
from evaluation.data.registers.write import write_register

__all__ = [
    "CATEGORIES",
    "CodeGroup",
    "CodeList",
    "Panel",
    "PersonRule",
    "RegisterLayout",
    "default_code_list",
    "groups_present",
    "unverified_code_note",
    "read_register",
    "read_participants",
    "register_from_frame",
    "iter_panel_blocks",
    "write_register",
]
