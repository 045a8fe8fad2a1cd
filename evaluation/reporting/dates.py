"""The report's reference date: the date it is made, reproducibly.

A report says whether a deadline has passed ("endnu" only before it) and prints its date in the
summary. The date is ``report.date`` when the study declares one, else ``SOURCE_DATE_EPOCH`` (the
reproducible-builds convention: seconds since 1970 in UTC; the golden manifest sets it), else today.
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any, Mapping

__all__ = ["report_date"]


def report_date(report_options: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> _dt.date:
    """The reference date of a report (see the module docstring)."""
    declared = (report_options or {}).get("date")
    if declared:
        return _dt.date.fromisoformat(str(declared)[:10])
    env = os.environ if env is None else env
    epoch = str(env.get("SOURCE_DATE_EPOCH", "")).strip()
    if epoch.isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), tz=_dt.timezone.utc).date()
    return _dt.date.today()
