"""The council's project catalogue: Aalborg's Koordinationsudvalg (1999–2006) and LBR (2007–2011).

The source is a plain-text catalogue of the projects funded by the Koordinationsudvalg (KOU) in
Aalborg Kommune from 1999 to 2006 and by Det Lokale Beskæftigelsesråd (LBR) from 2007 to 2011.
Each entry has a number, a heading (operator – title), a council reference such as
``(LBR 20. maj 2010)`` or ``(KOU 29-04-99)``, and labelled paragraphs: *Indhold*,
*Målgruppe*, *Bevilling* and sometimes *Bemærk*.

:func:`parse_catalogue` turns that text into one row per entry; the result is shipped once as
``data/catalogue/lbr-aalborg-1999-2011.csv`` (see ``data/catalogue/README.md`` for the rules)
and read back with :func:`load_catalogue`. :func:`link_studies` maps studies that declare a
``catalogue_number`` to their catalogue entry.

Parsing rules (also in the README)
----------------------------------
* The table of contents is skipped: entries are read from the body sections headed
  "Projekter iværksat af Koordinationsudvalget" (series ``KOU``) and "Projekter iværksat af det
  Lokale Beskæftigelsesråd" (series ``LBR``).
* An entry starts at a line ``<number>[letter]. <heading>`` or ``<number>[letter]: <heading>``
  whose number is larger than the previous entry's (``8a`` follows ``8``); numbered list items
  inside an entry ("1. At sikre …") therefore stay part of the entry.
* Operator and title: a heading ``operator – title`` (en dash, the LBR convention) is split at
  the first dash. A heading with a hyphen (`` - ``), colon or full stop as separator is split
  only where one side names an organisation (a company form such as A/S, or a word such as
  Universitet, Sygehus, Skole, forvaltning, Consult, Kildehuset); otherwise the operator is left
  empty and the whole heading is the title.
* Council and date: the council reference is the parenthesis naming KOU or LBR on the line
  after the heading or in the *Bevilling* text (a bare date in the *Bevilling* text is used
  when no council is named). ``council_date`` is the earliest date of that reference (the first
  decision); ``council_dates`` lists all of them. Two-digit years are 19yy from 50 up, else 20yy.
* Grant (``grant_dkk``): the amounts in kroner in the *Bevilling* text are summed, where an
  amount is a number with thousands points (``1.425.000``, ``79.417,50``) or a number followed by
  ``kr.``; years, dates and meeting items are not amounts. An amount after "I alt" is a total:
  amounts in the parenthesis or "hhv." clause right after it are its breakdown and are not added
  again (a breakdown that does not add up to the total is flagged). Conditions that follow the
  grant ("Bevillingen forudsætter …", co-funding from other sources) are not grant text and go
  to ``note``. ``grant_parse_note`` flags every entry whose total is not a plain sum: no amount,
  an amount per participant, a ceiling ("Op til"), a total plus later additions, a breakdown that
  does not add up.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
from pydantic import ValidationError

from evaluation.data.safe_yaml import MAX_BYTES, YamlProblem, parse_yaml
from evaluation.declaration.study import Funder
from evaluation.exceptions import DataValidationError

__all__ = [
    "CATALOGUE_COLUMNS",
    "CATALOGUE_CSV",
    "SEED_PATH",
    "parse_catalogue",
    "parse_grant",
    "parse_council_dates",
    "write_catalogue",
    "load_catalogue",
    "link_studies",
]

CATALOGUE_COLUMNS: tuple[str, ...] = (
    "series",
    "number",
    "title",
    "operator",
    "council",
    "council_date",
    "council_dates",
    "content",
    "target_group",
    "grant_text",
    "grant_dkk",
    "grant_parse_note",
    "note",
)

_REPO = Path(__file__).resolve().parents[2]
CATALOGUE_CSV = _REPO / "data" / "catalogue" / "lbr-aalborg-1999-2011.csv"
SEED_PATH = Path(os.environ.get("EVALUATION_CATALOGUE_SEED", "/work/shared/seeds/000_9cf8de1a0768eea6.txt"))

_SECTIONS = {
    "projekter iværksat af koordinationsudvalget": "KOU",
    "projekter iværksat af det lokale beskæftigelsesråd": "LBR",
}

_MONTHS = {
    "januar": 1, "februar": 2, "marts": 3, "april": 4, "maj": 5, "juni": 6,
    "juli": 7, "august": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
}

_HEADING = re.compile(r"^(\d{1,3})([a-z]?)[.:]\s+(\S.*)$")
_REF_LINE = re.compile(r"^\((?:KOU|LBR)\b[^)]*\)\s*$")
_REF = re.compile(r"\((KOU|LBR)\b([^)]*)\)")
_NUM_DATE = re.compile(r"(?<!\d)(\d{1,2})[-.](\d{1,2})[-.](\d{4}|\d{2})(?!\d)")
_TEXT_DATE = re.compile(r"(?<!\d)(\d{1,2})\.\s*(" + "|".join(_MONTHS) + r")\s+(\d{4})", re.IGNORECASE)
_AMOUNT_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?)(?!\d)")
_AMOUNT_KR = re.compile(r"(?<![\d.,])(\d+(?:,\d{1,2})?)(?:,-)?\s*kr\b", re.IGNORECASE)
_AMOUNT_MIO = re.compile(r"(?<![\d.,])(\d+(?:,\d+)?)\s*mio\.?\s*kr", re.IGNORECASE)
_TOTAL = re.compile(r"\bI alt\b[^0-9]{0,25}(?:\d{4}\s*[-–]\s*\d{4}\s*:?\s*)?", re.IGNORECASE)

# organisation markers for splitting KOU headings at a hyphen, colon or full stop
_ORG = re.compile(
    r"\b(?:A/S|P/S|ApS|Universitet|Erhvervsråd|Sygehus|Hotel|Kildehuset|Consult|Markman|Specialcentret"
    r"|FOA|LO's|LO|Conlan|Medicconnect|Mediconnect|Skole|Kvindemuseet|A2B|\w*forvaltning\w*|Ledelsessekretariat"
    r"|Jobcenter|AOF)\b"
)

_LABELS = [
    (re.compile(r"^(?:Projektets\s+)?Målgrupper?\b\s*:?\s*", re.IGNORECASE), "target_group"),
    (re.compile(r"^Bevilling\b(?!en)(?!\s+vedr)\s*:?\s*"), "grant"),
    (re.compile(r"^Bemærk\b\s*:?\s*"), "note"),
    (re.compile(r"^Mere information\b\s*:?\s*", re.IGNORECASE), "contact"),
    (re.compile(r"^Indhold\b\s*:?\s*"), "content"),
]


@dataclass
class _Entry:
    series: str
    number: str
    heading: str
    ref_line: str = ""
    paragraphs: dict[str, list[str]] = field(default_factory=lambda: {"content": [], "target_group": [], "grant": [], "note": []})


# ---------------------------------------------------------------------------
# small parsers (public where useful on their own)
# ---------------------------------------------------------------------------


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:
        y += 1900 if y >= 50 else 2000
    return y


def parse_council_dates(text: str) -> list[date]:
    """All dates in a council reference, in the order written.

    Understands ``29-04-99``, ``01-03-2001``, ``02.05.2000`` and ``20. maj 2010``.

    Examples
    --------
    >>> parse_council_dates("KOU 29-04-99, 08-02-00")
    [datetime.date(1999, 4, 29), datetime.date(2000, 2, 8)]
    >>> parse_council_dates("LBR d. 14. december 2011")
    [datetime.date(2011, 12, 14)]
    """
    found: list[tuple[int, date]] = []
    for m in _TEXT_DATE.finditer(text):
        found.append((m.start(), date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))))
    for m in _NUM_DATE.finditer(text):
        if any(abs(m.start() - pos) < 3 for pos, _ in found):
            continue
        found.append((m.start(), date(_year(m.group(3)), int(m.group(2)), int(m.group(1)))))
    return [d for _, d in sorted(found, key=lambda t: t[0])]


def _kr(value: float) -> str:
    """Danish thousands points: 1425000 -> '1.425.000 kr.'."""
    whole = f"{value:,.2f}".rstrip("0").rstrip(".").replace(",", "X").replace(".", ",").replace("X", ".")
    return f"{whole} kr."


def _to_float(number: str) -> float:
    return float(number.replace(".", "").replace(",", "."))


def _amounts(text: str) -> list[tuple[int, int, float]]:
    """``(start, end, kroner)`` of every amount in ``text``, in order."""
    spans: list[tuple[int, int, float]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for m in _AMOUNT_MIO.finditer(text):
        spans.append((m.start(1), m.end(1), _to_float(m.group(1)) * 1_000_000))
        taken.append((m.start(), m.end()))
    for m in _AMOUNT_THOUSANDS.finditer(text):
        if free(m.start(1), m.end(1)):
            spans.append((m.start(1), m.end(1), _to_float(m.group(1))))
            taken.append((m.start(1), m.end(1)))
    for m in _AMOUNT_KR.finditer(text):
        if free(m.start(1), m.end(1)):
            spans.append((m.start(1), m.end(1), _to_float(m.group(1))))
            taken.append((m.start(1), m.end(1)))
    return sorted(spans)


def _strip_dates(text: str) -> str:
    """Blank out dates and meeting items so their digits are never read as amounts."""
    out = _TEXT_DATE.sub(lambda m: " " * len(m.group(0)), text)
    out = _NUM_DATE.sub(lambda m: " " * len(m.group(0)), out)
    return re.sub(r"pkt\.\s*\d+", lambda m: " " * len(m.group(0)), out)


def parse_grant(text: str) -> tuple[float | None, str]:
    """Total grant in kroner from a *Bevilling* text, with a note when the total is not a plain sum.

    Returns ``(grant_dkk, grant_parse_note)``; ``grant_dkk`` is None when no total can be
    computed (no amount, or an amount per participant), and the note is empty when the
    total is the plain sum of the amounts.

    Examples
    --------
    >>> parse_grant("1.425.000 kr. i 2010 – 2012.")
    (1425000.0, '')
    >>> parse_grant("I alt 2.035.000 kr. (785.000 kr. i 2007 og 1.250.000 kr. i 2008)")
    (2035000.0, '')
    >>> parse_grant("Op til 100.000 kr.")
    (100000.0, 'ceiling: the grant is stated as a maximum ("op til")')
    """
    clean = _strip_dates(text)
    amounts = _amounts(clean)
    notes: list[str] = []
    if not amounts:
        return None, "no amount stated in the Bevilling text"
    for s, e, v in amounts:
        if re.match(r"(?:,-)?\s*kr\.?\s*pr\.", clean[e:]):
            return None, f"amount per participant ({_kr(v)} pr. person), no total"
    stated = {a[0] for m in _TOTAL.finditer(clean) for a in amounts if 0 <= a[0] - m.end() <= 2}  # 'I alt <amount>'
    totals: list[tuple[int, int, float]] = []
    breakdown: set[int] = set()
    for amount in amounts:
        if amount[0] in breakdown:
            continue
        rest = clean[amount[1]:]
        # '<amount> kr. (<a> kr. i 2008 og <b> kr. i 2009)' or 'I alt <amount> kr. – hhv. <a> … og <b> …'
        clause = re.match(r"\s*(?:,-)?\s*kr\.?\s*(?:\(([^)]*)\)|[–-]\s*hhv\.([^\n]*))", rest)
        if clause is None or (clause.group(2) is not None and amount[0] not in stated):
            if amount[0] in stated:
                totals.append(amount)
            continue
        group = 1 if clause.group(1) is not None else 2
        c_start, c_end = amount[1] + clause.start(group), amount[1] + clause.end(group)
        parts = [a for a in amounts if c_start <= a[0] < c_end]
        if not parts:
            if amount[0] in stated:
                totals.append(amount)
            continue
        totals.append(amount)
        breakdown.update(a[0] for a in parts)
        part_sum = sum(a[2] for a in parts)
        if abs(part_sum - amount[2]) > 0.5:
            notes.append(f"breakdown sums to {_kr(part_sum)}, not the stated total {_kr(amount[2])}; the stated total is used")
    total_starts = {t[0] for t in totals}
    others = [a for a in amounts if a[0] not in total_starts and a[0] not in breakdown]
    grant = sum(t[2] for t in totals) + sum(a[2] for a in others)
    if any(t[0] in stated for t in totals) and others:
        notes.append("a stated total plus further amounts: all are added (later amounts may overlap the total's period)")
    if re.search(r"\bop til\b", clean, re.IGNORECASE):
        notes.append('ceiling: the grant is stated as a maximum ("op til")')
    if re.search(r"forudsætning|forbehold", clean, re.IGNORECASE):
        notes.append("conditional grant: the amount depends on a condition stated in the text")
    return float(round(grant, 2)), "; ".join(notes)


def _split_heading(heading: str, series: str) -> tuple[str, str]:
    """``(operator, title)`` from an entry heading."""
    h = re.sub(r"(\w) - (og|eller) ", r"\1- \2 ", heading.strip())  # 'Ældre - og Handicap…' is one name
    h = re.sub(r"\s+", " ", h)
    m = re.match(r"^(.+?)\s*–\s+(.+)$", h)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    q = re.match(r'^(.+?)\s+(["“”].+["“”])$', h)  # 'Operator "Quoted title - with a dash"'
    if q and _ORG.search(q.group(1)):
        return q.group(1).strip(), q.group(2).strip()
    for sep in (r"\s+-\s+", r":\s+", r"\.\s+"):
        parts = re.split(sep, h, maxsplit=1)
        if len(parts) == 2:
            left, right = parts[0].strip(), parts[1].strip()
            if _ORG.search(left) and not re.match(r"^(?:Projekt|Ansøgning|Støtte|Etablering)\b", left):
                # 'Kildehuset - Fountain House i Aalborg - At hjælpe …': the operator may itself hold a hyphen
                more = re.split(sep, right, maxsplit=1)
                if sep == r"\s+-\s+" and len(more) == 2 and re.match(r"^[A-ZÆØÅ]", more[1]) and not re.match(r"^[a-zæøå]", more[0]) and "i " in more[0]:
                    return f"{left} - {more[0]}", more[1]
                return left, right
            if _ORG.search(right) and not _ORG.search(left) and sep == r"\s+-\s+":
                return right, left
    return "", h


def _clean(lines: Iterable[str]) -> str:
    text = "\n".join(p.strip() for p in lines if p.strip())
    return re.sub(r"[ \t\u00a0]+", " ", text)


# ---------------------------------------------------------------------------
# the catalogue parser
# ---------------------------------------------------------------------------


def _paragraphs(lines: list[str]) -> list[str]:
    paras: list[str] = []
    buf: list[str] = []
    def flush() -> None:
        # list items ('- …', '1) …') keep their own line; wrapped prose lines are joined with a space
        text = buf[0]
        for line in buf[1:]:
            text += ("\n" if re.match(r"^(?:[-•.]\s|\d+[).]\s)", line) else " ") + line
        paras.append(text)

    for line in lines:
        if line.strip():
            buf.append(line.strip())
        elif buf:
            flush()
            buf = []
    if buf:
        flush()
    return paras


def _is_grant_line(p: str) -> bool:
    if re.match(r"^(?:Bevilling|Projektet\b|Temadagen\b|Kurset\b)", p):
        return False
    return bool(_amounts(_strip_dates(p))) or bool(_REF.search(p)) or bool(_NUM_DATE.search(p))


def _entries(text: str) -> list[_Entry]:
    lines = text.splitlines()
    series: str | None = None
    entries: list[_Entry] = []
    body: list[str] = []
    last_number = 0
    last_suffix = ""

    def close() -> None:
        if entries:
            _fill(entries[-1], body)

    for line in lines:
        key = line.strip().lower()
        if key in _SECTIONS:
            close()
            body = []
            series = _SECTIONS[key]
            continue
        if series is None:
            continue  # title page and table of contents
        m = _HEADING.match(line.strip())
        if m:
            n, suffix = int(m.group(1)), m.group(2)
            if n > last_number or (n == last_number and suffix > last_suffix):
                close()
                body = []
                entries.append(_Entry(series=series, number=f"{n}{suffix}", heading=m.group(3).strip()))
                last_number, last_suffix = n, suffix
                continue
        body.append(line)
    close()
    return entries


def _fill(entry: _Entry, body: list[str]) -> None:
    state = "content"
    for p in _paragraphs(body):
        if not entry.ref_line and _REF_LINE.match(p) and not any(entry.paragraphs.values()):
            entry.ref_line = p
            continue
        for pattern, target in _LABELS:
            lm = pattern.match(p)
            if lm:
                state = target
                p = p[lm.end():].strip()
                break
        else:
            if state == "content" and re.match(r"^Målgruppen\b", p):
                state = "target_group"
            elif state == "grant" and not _is_grant_line(p):
                state = "note"
        if p and state != "contact":
            entry.paragraphs[state].append(p)


def parse_catalogue(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Parse the catalogue text into one row per project.

    Parameters
    ----------
    path : path, optional
        The catalogue text (default :data:`SEED_PATH`, overridable with the environment
        variable ``EVALUATION_CATALOGUE_SEED``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CATALOGUE_COLUMNS`; ``number`` is text ("8a" exists), ``grant_dkk`` is
        a float (NaN where no total can be read), dates are ISO strings.
    """
    src = Path(path) if path is not None else SEED_PATH
    if not src.is_file():
        raise DataValidationError(f"catalogue text not found at {src}; pass its path or set EVALUATION_CATALOGUE_SEED")
    entries = _entries(src.read_text(encoding="utf-8"))
    if not entries:
        raise DataValidationError(f"{src}: no catalogue entries found (expected sections 'Projekter iværksat af …')")
    rows = []
    for e in entries:
        operator, title = _split_heading(e.heading, e.series)
        grant_text = _clean(e.paragraphs["grant"])
        refs = [m for m in _REF.finditer(e.ref_line + " " + grant_text)]
        council = refs[0].group(1) if refs else e.series
        dates: list[date] = []
        for r in refs:
            dates.extend(parse_council_dates(r.group(2)))
        if not dates:  # a bare date in the grant text, e.g. '(08-02-00)'
            dates = parse_council_dates(grant_text)
        grant, grant_note = parse_grant(grant_text) if grant_text else (None, "no Bevilling text")
        if any(re.match(r"^Bevilling", p) for p in e.paragraphs["note"]) and "conditional" not in grant_note:
            grant_note = "; ".join(filter(None, [grant_note, "conditional grant: a condition on the grant follows it (see note)"]))
        rows.append({
            "series": e.series,
            "number": e.number,
            "title": title,
            "operator": operator,
            "council": council,
            "council_date": min(dates).isoformat() if dates else "",
            "council_dates": ";".join(d.isoformat() for d in dates),
            "content": _clean(e.paragraphs["content"]),
            "target_group": _clean(e.paragraphs["target_group"]),
            "grant_text": grant_text,
            "grant_dkk": grant,
            "grant_parse_note": grant_note,
            "note": _clean(e.paragraphs["note"]),
        })
    frame = pd.DataFrame(rows, columns=list(CATALOGUE_COLUMNS))
    frame["grant_dkk"] = frame["grant_dkk"].astype(float)
    return frame


def write_catalogue(frame: pd.DataFrame, path: str | os.PathLike = CATALOGUE_CSV) -> Path:
    """Write the parsed catalogue as UTF-8 CSV (the shipped file)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False, encoding="utf-8", float_format="%.2f", lineterminator="\n")
    return out


def load_catalogue(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the shipped catalogue CSV.

    Parameters
    ----------
    path : path, optional
        Default: ``data/catalogue/lbr-aalborg-1999-2011.csv`` in the repository.

    Returns
    -------
    pandas.DataFrame
        Same columns and types as :func:`parse_catalogue`.
    """
    src = Path(path) if path is not None else CATALOGUE_CSV
    if not src.is_file():
        raise DataValidationError(f"catalogue CSV not found at {src}; regenerate it with `python -m evaluation.portfolio.catalogue`")
    text_cols = [c for c in CATALOGUE_COLUMNS if c != "grant_dkk"]
    frame = pd.read_csv(src, encoding="utf-8", dtype={c: str for c in text_cols}, keep_default_na=False,
                        na_values={"grant_dkk": [""]})
    missing = [c for c in CATALOGUE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(f"{src}: missing column(s) {', '.join(missing)}")
    frame = frame[list(CATALOGUE_COLUMNS)]
    frame["grant_dkk"] = frame["grant_dkk"].astype(float)
    return frame


@dataclass(frozen=True)
class _StudyIdentity:
    id: str
    catalogue_number: int | None
    funder: Any
    budget_dkk: float | None


def _study_identity(file: Path) -> _StudyIdentity:
    """The fields of a study file that identify it in the catalogue.

    Only these fields are validated (with the study models), so a study whose analyses do not
    validate yet, e.g. while a design is being written, can still be linked.
    """
    try:
        with open(file, "rb") as fh:
            raw = parse_yaml(fh.read(MAX_BYTES + 1)).data or {}  # bounded: a hostile study file cannot hang the portfolio
        if not isinstance(raw, dict):
            raise ValueError("expected a mapping of fields")
        funder = Funder.model_validate(raw.get("funder"))
        number = raw.get("catalogue_number")
        budget = raw.get("budget_dkk")
        return _StudyIdentity(
            id=str(raw.get("id") or file.parent.name),
            catalogue_number=None if number is None else int(number),
            funder=funder,
            budget_dkk=None if budget is None else float(budget),
        )
    except YamlProblem as exc:
        raise DataValidationError(f"{file}:{exc.line}: ({exc.kind}): column {exc.column}: {exc.what}") from None
    except (OSError, ValidationError, TypeError, ValueError) as exc:
        raise DataValidationError(f"{file}: cannot read the study's funder and catalogue_number: {exc}") from None


def _study_series(study) -> str | None:
    name = study.funder.name.lower()
    if "koordinationsudvalg" in name:
        return "KOU"
    if "beskæftigelsesråd" in name or study.funder.type == "LBR-pulje":
        return "LBR"
    return None


def link_studies(catalogue: pd.DataFrame, studies_root: str | os.PathLike) -> pd.DataFrame:
    """Map catalogue entries to the studies that declare their ``catalogue_number``.

    The series is taken from the study's funder (Koordinationsudvalg → KOU, Det Lokale
    Beskæftigelsesråd or an LBR-pulje → LBR); when the funder names neither, the number
    must identify one entry on its own.

    Parameters
    ----------
    catalogue : DataFrame
        From :func:`load_catalogue` or :func:`parse_catalogue`.
    studies_root : path
        The folder holding ``<slug>/study.yaml``.

    Returns
    -------
    pandas.DataFrame
        One row per linked study: ``study_id, series, number, title, operator, council_date,
        decision_date, date_matches, grant_dkk, budget_dkk``. ``date_matches`` tells whether
        the study's funder decision date equals the catalogue's council date.

    Raises
    ------
    DataValidationError
        When a study's number is not in the catalogue or is ambiguous across series.
    """
    rows = []
    for file in sorted(f for f in Path(studies_root).glob("*/study.yaml") if not f.parent.name.startswith(".")):
        study = _study_identity(file)
        if study.catalogue_number is None:
            continue
        number = str(study.catalogue_number)
        series = _study_series(study)
        hits = catalogue[(catalogue["number"] == number) & ((catalogue["series"] == series) if series else True)]
        if len(hits) == 0:
            where = f"series {series}" if series else "any series"
            raise DataValidationError(f"{file}: catalogue_number {number} is not in the catalogue ({where})")
        if len(hits) > 1:
            raise DataValidationError(
                f"{file}: catalogue_number {number} is ambiguous ({', '.join(hits['series'])}); name the council in funder.name"
            )
        hit = hits.iloc[0]
        decision = study.funder.decision_date.isoformat() if study.funder.decision_date else ""
        rows.append({
            "study_id": study.id,
            "series": hit["series"],
            "number": hit["number"],
            "title": hit["title"],
            "operator": hit["operator"],
            "council_date": hit["council_date"],
            "decision_date": decision,
            "date_matches": bool(decision) and decision == hit["council_date"],
            "grant_dkk": hit["grant_dkk"],
            "budget_dkk": study.budget_dkk,
        })
    return pd.DataFrame(rows, columns=["study_id", "series", "number", "title", "operator", "council_date",
                                       "decision_date", "date_matches", "grant_dkk", "budget_dkk"])


def main() -> None:  # pragma: no cover - thin command wrapper
    """Parse the seed and (re)write the shipped CSV: ``python -m evaluation.portfolio.catalogue``."""
    frame = parse_catalogue()
    out = write_catalogue(frame)
    print(f"wrote {len(frame)} entries to {out}")


if __name__ == "__main__":  # pragma: no cover
    main()
