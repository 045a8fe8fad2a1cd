"""A lint of a rendered report: what a council member must never see.

:func:`lint_report` reads a report's ``index.qmd`` (its structure: tables, captions, the summary box)
and the visible text of its ``index.html`` (what the reader sees) next to the results bundle, and
returns one line per problem (empty when the report is clean):

* English method vocabulary ("difference in means", "never-treated", "score interval" …);
* identifiers: words with underscores (``muskel_skelet``, ``att_dynamic_overall``) outside file paths,
  and the bundle's own ids (data source names, estimate terms, metric names) printed raw;
* ``NaN``, ``None``, ``nan``, ``inf`` in the text;
* absolute or temporary paths (``/tmp/…``, ``/home/…``, ``C:\\…``);
* "endnu" in a target's status after its deadline (relative to the report's reference date);
* whole numbers of 1.000 or more without the thousands separator ("2443 rækker");
* a share outside 0–100 where per cent is promised, or shares printed on the 0–1 scale under "(%)";
* a sentence printed twice;
* no "Kort fortalt" box, or a study resting on synthetic data without the banner (before the contents,
  and in every table naming the study's units).

The test suite runs it over every shipped study, the portfolio and generated studies of every design
family (tests/reporting/test_report_lint.py).
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Iterable, Mapping

from evaluation.presentation.targets import before_deadline
from evaluation.reporting.render import html_text
from evaluation.reporting.summary import is_synthetic
from evaluation.results import Bundle

__all__ = ["lint_report", "lint_report_dir", "ENGLISH", "lint_text"]

#: English method vocabulary that must not reach a Danish report (whole words, case-insensitive)
ENGLISH = re.compile(
    r"\b(difference in (?:means|proportions)|differences? of|interval and test|score interval|hybrid score|"
    r"Welch t|two-sample|pooled|unpooled|std_error|standard errors?|cluster-robust|clustered by|influence function|"
    r"never-treated|not-yet-treated|controls|treated|weighted|unweighted|weights|mean of|average treatment|"
    r"treatment effect|effect on the|share in top box|top box|response rate|relative change|follow-up|baseline|"
    r"sandwich|doubly robust|outcome model|estimates?|estimated|periods|observed|measured at|"
    r"goal attainment|no interval|whole population|the|with|of the|and the)\b(?!\.(?:csv|parquet|xlsx|json|yaml)\b)",
    re.IGNORECASE,
)
_UNDERSCORE_ID = re.compile(r"(?<![\w./\\-])[A-Za-zæøåÆØÅ0-9]+(?:_[A-Za-zæøåÆØÅ0-9]+)+(?![\w/\\-]|\.[a-z]{2,4}\b)")
_MISSING = re.compile(r"(?<![\w-])(NaN|nan|None|null|inf|-inf)(?![\w-])")
_PATH = re.compile(r"(?<![\w.])(/(?:tmp|home|root|work|Users|var|usr|opt|mnt|private)/|[A-Za-z]:\\|<root>)")
_BIG = re.compile(r"(?<![\w.,/:−\-–])(\d{4,})(?![\w.,/:\-–]*\d)(?!-W)")
_COUNT_WORD = re.compile(r"^\s*(rækker|personer|deltagere|svar|besvarelser|samtaler|kr\.|uger|celler|klynger)\b")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-ZÆØÅ«(])")


def _years_ok(n: int, after: str) -> bool:
    """A four-digit number between 1900 and 2099 is a year unless a count word follows it."""
    return 1900 <= n <= 2099 and not _COUNT_WORD.match(after)


def lint_text(text: str, where: str) -> list[str]:
    """The checks on visible text alone: vocabulary, identifiers, missing values, paths, big numbers."""
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        for m in ENGLISH.finditer(line):
            out.append(f"{where}:{i}: English method vocabulary {m.group(0)!r}: {line.strip()[:120]}")
        for m in _UNDERSCORE_ID.finditer(line):
            out.append(f"{where}:{i}: identifier {m.group(0)!r} printed instead of a label: {line.strip()[:120]}")
        for m in _MISSING.finditer(line):
            out.append(f"{where}:{i}: missing value printed as {m.group(0)!r}: {line.strip()[:120]}")
        for m in _PATH.finditer(line):
            out.append(f"{where}:{i}: machine path {m.group(0)!r}: {line.strip()[:120]}")
        for m in _BIG.finditer(line):
            n = int(m.group(1))
            if len(m.group(1)) == 4 and _years_ok(n, line[m.end():]):
                continue
            if re.search(r"[0-9a-f]{8,}", line[max(0, m.start() - 20):m.end() + 20]):  # a fingerprint's hex digits
                continue
            if re.search(r"(?:https?://|www\.|\b[\w-]+\.(?:dk|com|org|net)\b)[^()]*$", line[:m.start()]) and \
                    re.search(r"[=/]\s*$", line[:m.start()]):
                continue  # part of a web address (a document id in a source reference), not an amount
            out.append(f"{where}:{i}: {m.group(1)} without the thousands separator: {line.strip()[:120]}")
    return out


def _tables(qmd: str) -> list[tuple[int, list[list[str]], str, str]]:
    """Pipe tables of the markdown: (first line number, rows of cells, caption, the text just before)."""
    lines = qmd.splitlines()
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and re.match(r"^\|[\s:|-]+\|\s*$", lines[i + 1]):
            start = i
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not re.match(r"^\|[\s:|-]+\|\s*$", lines[i]):
                    rows.append([c.strip() for c in re.split(r"(?<!\\)\|", lines[i].strip())[1:-1]])
                i += 1
            caption = ""
            j = i
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and lines[j].startswith(": "):
                caption = lines[j][2:]
            before = "\n".join(lines[max(0, start - 4):start])
            out.append((start + 1, rows, caption, before))
        else:
            i += 1
    return out


def _number(cell: str) -> float | None:
    m = re.fullmatch(r"\**([−-]?[\d.]+(?:,\d+)?)\s*(?:\u00a0?%)?\**", cell.strip())
    if not m:
        return None
    return float(m.group(1).replace(".", "").replace(",", ".").replace("−", "-"))


def _prose(qmd: str) -> Iterable[tuple[int, str]]:
    """Sentences of the running text (paragraphs and list items; not tables, headings or front matter)."""
    body = qmd.split("\n---\n", 1)[1] if qmd.startswith("---") else qmd
    offset = qmd.count("\n", 0, len(qmd) - len(body))
    for i, line in enumerate(body.splitlines(), 1 + offset):
        s = line.strip()
        if not s or s.startswith(("|", "#", ":::", "!", ": ")):
            continue
        s = re.sub(r"^[-*]\s+", "", s)
        s = re.sub(r"\*\*[^*]+:\*\*\s*", "", s)  # a bold lead-in ("**Offentlig forsørgelse …:**")
        for sent in _SENTENCE_SPLIT.split(s):
            sent = sent.strip()
            if len(sent) >= 40:
                yield i, sent


def lint_report(qmd: str, visible: str, bundle: Bundle | Mapping, reference_date: _dt.date) -> list[str]:
    """Every problem of one report (see the module docstring); ``visible`` is the HTML's visible text."""
    b = Bundle.from_dict(bundle)
    problems = lint_text(visible, "index.html")
    # the bundle's own ids printed raw (sources, estimate terms): names a reader cannot know
    ids = set(b.data_sources) | {e.term for a in b.analyses for e in a.result.estimates}
    declared = " ".join(map(str, list((b.labels or {}).values()) + [b.study.get("summary") or ""]))
    for ident in sorted(ids):
        if not ident or ident in declared or len(ident) < 4:
            continue
        for m in re.finditer(rf"(?<![\w./-]){re.escape(ident)}(?![\w/-]|\.[a-z]{{2,4}}\b)", visible):
            line = visible.count("\n", 0, m.start()) + 1
            problems.append(f"index.html:{line}: the bundle's id {ident!r} printed instead of a label")
            break
    # the summary box and the synthetic-data banner, before the contents
    if "#kort-fortalt" not in qmd or "Kort fortalt" not in visible:
        problems.append("index.qmd: no 'Kort fortalt' box")
    head = visible.split("\nIndhold\n", 1)[0]
    if "Kort fortalt" not in head:
        problems.append("index.html: 'Kort fortalt' is not above the contents")
    if is_synthetic(b):
        if "#syntetiske-data" not in qmd:
            problems.append("index.qmd: the study rests on synthetic data, but the report has no banner")
        elif "Syntetiske data" not in head:
            problems.append("index.html: the synthetic-data banner is not above the contents")
    # "endnu" after a deadline, in the goals table and the status sentences
    labels_due = {t.label for t in b.targets if not before_deadline(t.target.get("deadline"), reference_date)}
    for start, rows, _, _ in _tables(qmd):
        if not rows or "Status" not in rows[0] or "Indikator" not in rows[0]:
            continue
        k, name = rows[0].index("Status"), rows[0].index("Indikator")
        for r, row in enumerate(rows[1:], 1):
            if len(row) > k and row[name] in labels_due and "endnu" in row[k]:
                problems.append(f"index.qmd:{start + r + 1}: 'endnu' in the status of {row[name]!r}, whose deadline has passed")
    for i, line in enumerate(qmd.splitlines(), 1):
        for label in labels_due:
            if line.startswith(f"- **{label}") and "*Status:*" in line and \
                    "endnu" in line.split("*Status:*", 1)[1].split(" – ", 1)[0]:
                problems.append(f"index.qmd:{i}: 'endnu' in the status of {label!r}, whose deadline has passed")
    goals_line = next((line for line in qmd.splitlines() if line.startswith("- **Mål:**")), "")
    if "endnu" in goals_line and not any(before_deadline(t.target.get("deadline"), reference_date) for t in b.targets):
        problems.append("index.qmd: 'endnu' in the summary's goals after every deadline")
    # tables: shares in per cent, units named from synthetic data
    unit_columns = {str(a.options.get("unit")) for a in b.analyses if a.options.get("unit")}
    unit_names = {str(v) for c in unit_columns for v in (b.value_labels or {}).get(c, {}).values()}
    for a in b.analyses:  # units named in a survey's own records (houses, jobcentres)
        sv = getattr(a.result, "survey", None) or {}
        unit = sv.get("unit") if isinstance(sv, Mapping) else None
        unit_names |= {b.value_label(unit, u) for u in (sv.get("units") or [])} if unit else set()
    for start, rows, caption, before in _tables(qmd):
        if not rows:
            continue
        header = rows[0]
        pct_cols = [j for j, h in enumerate(header) if "(%)" in h or h.endswith(" %")]
        promised = "vist i procent" in before
        for r, row in enumerate(rows[1:], 1):
            row_pct = bool(row) and "(%)" in row[0]
            for j, cell in enumerate(row):
                v = _number(cell)
                if v is None or (j < len(header) and "SMD" in header[j]):
                    continue
                if (j in pct_cols or "%" in cell or (row_pct and j > 0)) and not (-100.0 <= v <= 100.0) \
                        and "procentpoint" not in cell:
                    problems.append(f"index.qmd:{start + r + 1}: share {cell!r} outside 0–100 where % is promised")
            nums = [v for v in (_number(c) for c in row[1:]) if v is not None]
            share_row = row and ("(%)" in row[0] or (promised and row[0].lower().startswith("andel")))
            if share_row and nums and all(abs(v) <= 1.0 for v in nums) and any(v != 0 for v in nums) and \
                    "SMD" not in " ".join(header):
                problems.append(f"index.qmd:{start + r + 1}: shares on the 0–1 scale where per cent is promised: {row}")
            elif share_row and nums and "SMD" in " ".join(header):
                vals = [v for h, v in zip(header[1:], (_number(c) for c in row[1:])) if v is not None and "SMD" not in h]
                if vals and all(abs(v) <= 1.0 for v in vals) and any(v != 0 for v in vals):
                    problems.append(f"index.qmd:{start + r + 1}: shares on the 0–1 scale where per cent is promised: {row}")
        cells = {c.strip("*") for row in rows for c in row}
        if is_synthetic(b) and len(unit_names & cells) >= 2 and "syntetisk" not in caption.lower():
            problems.append(f"index.qmd:{start}: a table naming the units ({', '.join(sorted(unit_names & cells))}) from "
                            "synthetic data without the synthetic-data note in its caption")
    # duplicated sentences
    seen: dict[str, int] = {}
    for i, sent in _prose(qmd):
        if sent in seen:
            problems.append(f"index.qmd:{i}: a sentence printed twice (also line {seen[sent]}): {sent[:100]}")
        else:
            seen[sent] = i
    return problems


def lint_report_dir(report_dir: str | Path, bundle: Bundle | Mapping, reference_date: _dt.date) -> list[str]:
    """:func:`lint_report` on a rendered report folder (``index.qmd`` and ``index.html``)."""
    d = Path(report_dir)
    qmd = (d / "index.qmd").read_text(encoding="utf-8")
    visible = html_text(d / "index.html") if (d / "index.html").is_file() else qmd
    return lint_report(qmd, visible, bundle, reference_date)
