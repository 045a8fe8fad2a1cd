"""Render a report's Quarto project to self-contained HTML and to PDF.

A project directory holds ``_quarto.yml`` and ``index.qmd`` written in the markdown that both
Quarto and pandoc understand (YAML front matter, fenced divs such as ``::: {.callout-note}``,
pipe tables, figures as relative image files, no executable cells). Two engines render it:

``quarto``
    ``quarto render`` — used when ``quarto`` is on ``PATH`` (engine ``"auto"``).
``pandoc``
    the default here: pandoc (bundled with ``pypandoc-binary``) writes HTML with the package's
    stylesheet embedded (``--embed-resources``; no CDN fonts, scripts or MathJax) and typst
    markup with the package's A4 template, which :func:`typst.compile` turns into a PDF. Both
    outputs come from the same pandoc document (same Lua filter for callouts), so they contain
    the same sections.

Rendering is atomic: outputs are written into a temporary folder inside the project and moved
into place only when every requested format succeeded, so a failed render leaves the previous
``index.html``/``index.pdf`` untouched. Failures raise :class:`~evaluation.exceptions.RenderError`
carrying pandoc's, typst's or Quarto's own message.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

from ..exceptions import RenderError

__all__ = [
    "render_project",
    "choose_engine",
    "project_metadata",
    "html_text",
    "html_headings",
    "pdf_text",
    "pdf_headings",
    "OUTPUT_NAMES",
    "FORMATS",
]

FORMATS = ("html", "pdf")
OUTPUT_NAMES = {"html": "index.html", "pdf": "index.pdf"}
SOURCE_NAME = "index.qmd"
_TIMEOUT = 300  # seconds for one external command
#: The PDF date when SOURCE_DATE_EPOCH is not set (2000-01-01T00:00:00Z), for byte-identical outputs.
FIXED_PDF_EPOCH = 946684800



# ---------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------


def _template(name: str) -> Path:
    path = Path(str(resources.files("evaluation") / "templates" / name))
    if not path.is_file():
        raise RenderError(f"report template {name} is missing from the installed package ({path})")
    return path


def choose_engine(engine: str = "auto") -> str:
    """Resolve ``"auto"`` to ``"quarto"`` when the ``quarto`` command exists, else ``"pandoc"``."""
    if engine == "auto":
        return "quarto" if shutil.which("quarto") else "pandoc"
    if engine == "quarto":
        if not shutil.which("quarto"):
            raise RenderError("engine 'quarto' was requested, but the quarto command is not on PATH; use engine='pandoc'")
        return engine
    if engine == "pandoc":
        return engine
    raise RenderError(f"unknown render engine {engine!r}: use 'auto', 'quarto' or 'pandoc'")


def _front_matter(text: str, source: Path) -> dict[str, Any]:
    m = re.match(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", text, re.S)
    if not m:
        return {}
    try:
        data = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise RenderError(f"{source}: the YAML front matter cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise RenderError(f"{source}: the YAML front matter must be a mapping of keys to values")
    return data


def project_metadata(project_dir: str | os.PathLike, fmt: str) -> dict[str, Any]:
    """Options for one output format: ``_quarto.yml`` (top level, then ``format.<html|typst>``)
    overridden by the front matter of ``index.qmd``, as Quarto merges them."""
    project = Path(project_dir)
    meta: dict[str, Any] = {}
    qy = project / "_quarto.yml"
    if qy.is_file():
        try:
            conf = yaml.safe_load(qy.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise RenderError(f"{qy}: cannot be read: {exc}") from None
        if not isinstance(conf, dict):
            raise RenderError(f"{qy}: must be a mapping of keys to values")
        meta.update({k: v for k, v in conf.items() if k not in ("project", "format")})
        fmt_conf = (conf.get("format") or {}).get("html" if fmt == "html" else "typst")
        if isinstance(fmt_conf, dict):
            meta.update(fmt_conf)
    source = project / SOURCE_NAME
    meta.update(_front_matter(source.read_text(encoding="utf-8"), source))
    return meta


# ---------------------------------------------------------------------------
# running tools
# ---------------------------------------------------------------------------


def _pandoc() -> str:
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError) as exc:
        found = shutil.which("pandoc")
        if found:
            return found
        raise RenderError(f"pandoc is not available (install pypandoc-binary): {exc}") from None


def _run(cmd: Sequence[str], *, cwd: Path, what: str) -> str:
    try:
        # Quarto's typst reads SOURCE_DATE_EPOCH for the PDF date: fixed unless the caller set it
        env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH") or str(FIXED_PDF_EPOCH)}
        proc = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT, env=env)
    except FileNotFoundError:
        raise RenderError(f"{what}: the program {cmd[0]} was not found") from None
    except subprocess.TimeoutExpired:
        raise RenderError(f"{what}: gave up after {_TIMEOUT} seconds") from None
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout or "").strip() or f"exit code {proc.returncode}"
        raise RenderError(f"{what} failed:\n{msg}")
    return proc.stderr or ""


_RESOURCE_PROBLEM = re.compile(r"(Could not fetch resource|could not find|not found|does not exist)[^\n]*", re.I)


def _pandoc_common(meta: dict[str, Any], to: str) -> list[str]:
    args = [
        SOURCE_NAME,
        "--from=markdown",
        f"--to={to}",
        "--standalone",
        "--columns=1000",  # keep pipe tables at natural widths (no relative widths from line length)
        f"--lua-filter={_template('callouts.lua')}",
    ]
    if meta.get("toc"):
        args += ["--toc", f"--toc-depth={int(meta.get('toc-depth', 2))}"]
    if not meta.get("toc-title"):
        args.append("--metadata=toc-title:Indhold")
    if not meta.get("lang"):
        args.append("--metadata=lang:da")
    return args


def _render_html(project: Path, out: Path) -> None:
    meta = project_metadata(project, "html")
    args = [_pandoc()] + _pandoc_common(meta, "html5") + [
        "--embed-resources",
        f"--template={_template('report.html')}",
        f"--css={_template('report.css')}",
        f"--resource-path={project}",
        "-o", str(out),
    ]
    if meta.get("number-sections"):
        args.append("--number-sections")
    stderr = _run(args, cwd=project, what="pandoc (HTML)")
    problems = [m.group(0) for m in _RESOURCE_PROBLEM.finditer(stderr)]
    if problems:
        raise RenderError("pandoc (HTML) could not embed every resource:\n" + "\n".join(problems))


def _render_pdf(project: Path, out: Path) -> None:
    meta = project_metadata(project, "typst")
    fd, typ_name = tempfile.mkstemp(prefix=".index-", suffix=".typ", dir=project)
    os.close(fd)
    typ = Path(typ_name)
    try:
        args = [_pandoc()] + _pandoc_common(meta, "typst") + [
            f"--template={_template('report.typst')}",
            "-o", str(typ),
        ]
        if meta.get("number-sections"):
            args.append("--variable=section-numbering:1.1")
        _run(args, cwd=project, what="pandoc (typst)")
        _compile_typst(typ, out, project)
    finally:
        typ.unlink(missing_ok=True)


def _compile_typst(typ: Path, out: Path, root: Path) -> None:
    import typst

    # The PDF's creation date (and typst's document id, derived from it) is SOURCE_DATE_EPOCH when set,
    # else a fixed date: the same project gives the same bytes wherever and whenever it is rendered.
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    kwargs: dict[str, Any] = {"timestamp": int(epoch) if epoch.isdigit() else FIXED_PDF_EPOCH}
    try:
        typst.compile(str(typ), output=str(out), root=str(root), **kwargs)
    except typst.TypstError as exc:
        # The diagnostic shows the typst source line; name the report, not the temporary file.
        text = (getattr(exc, "diagnostic", "") or getattr(exc, "message", "") or str(exc)).strip()
        text = text.replace(str(typ), f"{SOURCE_NAME} (as typst)").replace(typ.name, f"{SOURCE_NAME} (as typst)")
        hints = [f"hint: {h}" for h in (getattr(exc, "hints", None) or []) if f"hint: {h}" not in text]
        raise RenderError("typst could not make the PDF:\n" + "\n".join([text, *hints])) from None
    except RuntimeError as exc:  # older typst bindings raise plain RuntimeError
        raise RenderError(f"typst could not make the PDF:\n{exc}") from None
    if not out.is_file() or out.stat().st_size == 0:
        raise RenderError("typst produced no PDF")


def _render_quarto(project: Path, work_root: Path, formats: Sequence[str]) -> dict[str, Path]:
    quarto = shutil.which("quarto")
    if not quarto:
        raise RenderError("the quarto command is not on PATH")
    work = work_root / "project"
    shutil.copytree(
        project, work,
        ignore=shutil.ignore_patterns(".render-*", ".index-*", ".quarto", "index_files", *OUTPUT_NAMES.values()),
    )
    produced = {}
    for fmt in formats:
        to = "html" if fmt == "html" else "typst"
        _run([quarto, "render", SOURCE_NAME, "--to", to], cwd=work, what=f"quarto render --to {to}")
        path = work / OUTPUT_NAMES[fmt]
        if not path.is_file():
            raise RenderError(f"quarto render --to {to} did not produce {OUTPUT_NAMES[fmt]}")
        produced[fmt] = path
    return produced


# ---------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------


def render_project(
    project_dir: str | os.PathLike,
    *,
    formats: Iterable[str] = FORMATS,
    engine: str = "auto",
) -> dict[str, Path]:
    """Render ``index.qmd`` of a Quarto project to ``index.html`` and/or ``index.pdf`` in place.

    Parameters
    ----------
    project_dir : path-like
        Folder with ``index.qmd`` (and usually ``_quarto.yml`` and ``figures/``).
    formats : iterable of {"html", "pdf"}, default ("html", "pdf")
    engine : {"auto", "quarto", "pandoc"}, default "auto"
        ``"auto"`` uses Quarto when the ``quarto`` command exists, otherwise pandoc + typst.

    Returns
    -------
    dict
        Format → path of the rendered file inside ``project_dir``.

    Raises
    ------
    RenderError
        With the message of the failing tool. The previous outputs are then left untouched.
    """
    # Absolute, because the tools run with the project as working directory.
    project = Path(project_dir).resolve()
    if not project.is_dir():
        raise RenderError(f"report project folder {project} does not exist")
    if not (project / SOURCE_NAME).is_file():
        raise RenderError(f"report project {project} has no {SOURCE_NAME}")
    if isinstance(formats, str):
        formats = (formats,)
    fmts = tuple(dict.fromkeys(str(f).lower() for f in formats))
    if not fmts:
        raise RenderError("no output format requested: use 'html' and/or 'pdf'")
    bad = [f for f in fmts if f not in FORMATS]
    if bad:
        raise RenderError(f"unknown output format(s) {', '.join(bad)}: use 'html' and/or 'pdf'")
    engine = choose_engine(engine)

    tmp = Path(tempfile.mkdtemp(prefix=".render-", dir=project))
    try:
        if engine == "quarto":
            produced = _render_quarto(project, tmp, fmts)
        else:
            produced = {}
            for fmt in fmts:
                out = tmp / OUTPUT_NAMES[fmt]
                (_render_html if fmt == "html" else _render_pdf)(project, out)
                produced[fmt] = out
        result = {}
        for fmt, path in produced.items():
            target = project / OUTPUT_NAMES[fmt]
            os.replace(path, target)
            result[fmt] = target
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# reading outputs back (tests and checks)
# ---------------------------------------------------------------------------


class _TextParser(HTMLParser):
    _SKIP = {"script", "style", "head", "title"}
    _BLOCK = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "br", "table", "section",
              "figure", "figcaption", "header", "nav", "main", "ul", "ol", "td", "th"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.headings: list[str] = []
        self._skip = 0
        self._heading: list[str] | None = None
        self._heading_level = 0
        self._in_number = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        if tag in self._BLOCK:
            self.parts.append("\n")
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading, self._heading_level = [], int(tag[1])
        if tag == "span" and ("class", "header-section-number") in attrs:
            self._in_number += 1
        elif tag == "span" and self._in_number:
            self._in_number += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        if tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "span" and self._in_number:
            self._in_number -= 1
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.parts.append(data)
        if self._heading is not None and not self._in_number:
            self._heading.append(data)


def _parse_html(path: str | os.PathLike) -> _TextParser:
    p = _TextParser()
    p.feed(Path(path).read_text(encoding="utf-8"))
    p.close()
    return p


def html_text(path: str | os.PathLike) -> str:
    """Visible text of an HTML file (no scripts, styles or embedded data), whitespace collapsed per line."""
    text = "".join(_parse_html(path).parts)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def html_headings(path: str | os.PathLike) -> list[str]:
    """Headings (``h1``–``h6``) of an HTML report in order, without section numbers.

    The title block and the table-of-contents heading are included; compare sections with
    ``html_headings(...)[k:]`` or by membership.
    """
    return _parse_html(path).headings


def pdf_text(path: str | os.PathLike) -> str:
    """Text of every page of a PDF (needs ``pypdf``)."""
    reader = _pdf_reader(path)
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def pdf_headings(path: str | os.PathLike) -> list[str]:
    """Titles of the PDF's bookmarks (typst writes one per heading) in order, without numbers."""
    reader = _pdf_reader(path)
    out: list[str] = []

    def walk(items: Any) -> None:
        for it in items:
            if isinstance(it, list):
                walk(it)
            else:
                out.append(re.sub(r"^\d+(\.\d+)*\.?\s+", "", " ".join(str(it.title).split())))

    walk(reader.outline)
    return out


def _pdf_reader(path: str | os.PathLike):
    try:
        from pypdf import PdfReader
    except ImportError:
        raise RenderError("reading PDF text needs pypdf (pip install pypdf)") from None
    return PdfReader(str(path))

