"""Command line: ``evaluation validate | run | report | portfolio | diagnose | new | guide | schema``.

Every error an evaluator can cause is printed as a plain message with exit code 2; no Python
traceback reaches the terminal (set ``EVALUATION_DEBUG=1`` to see one when reporting a bug).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Callable

import click
from rich.console import Console
from rich.text import Text

from .exceptions import DataValidationError, EvaluationError, EvaluationWarning, StudyConfigError

# user text (study titles, file names, values from data files) is printed as it is: no rich markup
# ("[bold]"), no emoji codes (":100:" after a file name is a line number, not 💯), no highlighting
console = Console(stderr=False, highlight=False, soft_wrap=True, markup=False, emoji=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


def _styled(label: str, style: str, rest: str = "") -> Text:
    """A coloured label followed by plain text (never interpreted as markup)."""
    t = Text(label, style=style)
    t.append(rest)
    return t

EXIT_USER_ERROR = 2
EXIT_INTERNAL = 1


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """The package's own warnings as a plain note (no source line); others as Python shows them."""
    if issubclass(category, EvaluationWarning):
        # the message may carry user text (labels, paths): printed as plain text, never as markup
        err_console.print(_styled("Note:", "bold yellow", f" {message}"), highlight=False, soft_wrap=True)
    else:
        err_console.print(warnings.formatwarning(message, category, filename, lineno, line), markup=False, end="")


def _out_of_memory(exc: BaseException) -> bool:
    """Python's MemoryError or DuckDB's OutOfMemoryException (checked without importing DuckDB)."""
    if isinstance(exc, MemoryError):
        return True
    duckdb = sys.modules.get("duckdb")
    oom = getattr(duckdb, "OutOfMemoryException", None) if duckdb is not None else None
    return oom is not None and isinstance(exc, oom)


def _friendly_errors(func: Callable) -> Callable:
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=FutureWarning)
                warnings.showwarning = _show_warning
                return func(*args, **kwargs)
        except StudyConfigError as exc:
            err_console.print(_styled(f"The study file has {len(exc.problems)} problem(s):", "bold red"))
            for p in exc.problems:
                err_console.print(f"  {p}")
            sys.exit(EXIT_USER_ERROR)
        except DataValidationError as exc:
            if len(exc.problems) > 1:
                err_console.print(_styled(f"The data have {len(exc.problems)} problem(s):", "bold red"))
                for p in exc.problems:
                    err_console.print(f"  {p}")
            else:
                err_console.print(_styled("Error:", "bold red", f" {type(exc).__name__}: {exc}"))
            sys.exit(EXIT_USER_ERROR)
        except EvaluationError as exc:
            err_console.print(_styled("Error:", "bold red", f" {type(exc).__name__}: {exc}"))
            sys.exit(EXIT_USER_ERROR)
        except click.exceptions.Exit:
            raise
        except (click.ClickException, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for evaluators
            if os.environ.get("EVALUATION_DEBUG"):
                raise
            if _out_of_memory(exc):
                err_console.print(_styled("Error:", "bold red", f" out of memory ({type(exc).__name__}: {exc}). "
                                          "The data did not fit in the memory this process may use. Give it more "
                                          "memory (a higher ulimit -v or container limit), or set "
                                          "EVALUATION_DUCKDB_MEMORY (e.g. 500MB) to change how much the register "
                                          "scans (DuckDB) may use."))
                sys.exit(EXIT_USER_ERROR)
            err_console.print(_styled(
                "Internal error", "bold red", f" ({type(exc).__name__}): {exc}\n"
                "This is a bug in evaluation, not in your study. Re-run with EVALUATION_DEBUG=1 and report the output."))
            sys.exit(EXIT_INTERNAL)

    return wrapper


def _study_dirs(paths: tuple[str, ...], all_: bool, studies_root: str) -> list[Path]:
    if all_:
        root = Path(studies_root)
        dirs = sorted(p.parent for p in root.glob("*/study.yaml") if not p.parent.name.startswith("."))
        if not dirs:
            raise EvaluationError(f"no studies found under {root}/ (expected {root}/<slug>/study.yaml)")
        return dirs
    if not paths:
        raise click.UsageError("name at least one study folder, or use --all")
    out = []
    for p in paths:
        path = Path(p)
        if not path.exists():  # a slug names the study of that name under --studies
            under = Path(studies_root) / p
            if not (under / "study.yaml").is_file():
                raise EvaluationError(f"{p}: no such study folder, and no {under / 'study.yaml'}; expected a study "
                                      f"folder, its study.yaml or the slug of a study under --studies ({studies_root})")
            path = under
        out.append(path)
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="evaluation")
def main() -> None:
    """Declare, estimate and report evaluations of labour-market projects."""


@main.command()
@click.argument("study", type=click.Path())
@click.option("--no-data", is_flag=True,
              help="Check the declaration only (before the data exist); by default the data are read and checked too.")
@_friendly_errors
def validate(study: str, no_data: bool) -> None:
    """Check a study (STUDY folder or its study.yaml): the declaration and, unless --no-data, its data
    as far as `run` would read them, short of estimating. Every problem is listed; exit code 2."""
    from evaluation.declaration.study import config_hash, load_study

    s = load_study(study)
    prepared = None
    if not no_data:
        from evaluation.pipeline.prepare import prepare_study

        prepared = prepare_study(s)
    t = s.theory
    counts = {k: sum(1 for n in t.nodes if n.type == k) for k in ("input", "activity", "output", "outcome", "impact")}
    console.print(_styled("OK", "bold green", f" {s.source_path}"))
    console.print(f"  {s.id}: {s.title}")
    console.print(f"  funder: {s.funder.name} ({s.funder.type}); operator: {s.operator}")
    console.print(f"  period: {s.period.start} – {s.period.end}; budget: {s.budget_dkk or '–'} DKK")
    console.print(
        "  theory: " + ", ".join(f"{v} {k}" for k, v in counts.items())
        + f"; {len(t.links)} links, {len(t.mechanisms)} mechanisms, {len(t.assumptions)} assumptions, "
        f"{len(t.cmo)} CMO, {len(t.indicators)} indicators"
    )
    console.print(f"  primary outcomes: {', '.join(n.id for n in t.primary_outcomes)}")
    console.print(f"  data: {', '.join(s.data) or 'none yet'}; analyses: {', '.join(a.id for a in s.analyses) or 'none yet'}")
    if prepared is not None:
        for name, frame in prepared.data.frames.items():
            rows = prepared.data.rows.get(name)
            shape = (f"{frame.shape[0]} persons × {frame.shape[1]} weeks" if hasattr(frame, "weeks")
                     else f"{len(frame)} rows")
            console.print(f"  data checked: {name}: {shape}" + (f" ({rows.file})" if rows is not None else ""))
    else:
        console.print("  data not checked (--no-data)")
    console.print(f"  config hash: {config_hash(s.source_path)}")


@main.command()
@click.argument("studies", nargs=-1, type=click.Path())
@click.option("--all", "all_", is_flag=True, help="Run every study under --studies.")
@click.option("--studies", "studies_root", default="studies", show_default=True, help="Folder holding the studies.")
@click.option("--out", default="results", show_default=True, help="Folder for results bundles.")
@_friendly_errors
def run(studies: tuple[str, ...], all_: bool, studies_root: str, out: str) -> None:
    """Run a study's analyses and write results/<slug>/results.json."""
    from evaluation.pipeline.run import run_study

    for d in _study_dirs(studies, all_, studies_root):
        path = run_study(d, out)
        console.print(_styled("wrote", "green", f" {path / 'results.json'}"))


@main.command()
@click.argument("studies", nargs=-1, type=click.Path())
@click.option("--all", "all_", is_flag=True, help="Report every study under --studies.")
@click.option("--studies", "studies_root", default="studies", show_default=True)
@click.option("--results", "results_root", default="results", show_default=True, help="Folder of results bundles.")
@click.option("--out", default="reports", show_default=True, help="Folder for report projects.")
@click.option("--engine", type=click.Choice(["auto", "quarto", "pandoc"]), default="auto", show_default=True)
@click.option("--format", "formats", multiple=True, type=click.Choice(["html", "pdf"]), help="Output formats (default: the study's).")
@_friendly_errors
def report(studies, all_, studies_root, results_root, out, engine, formats) -> None:
    """Run a study (if needed) and render its Danish report (HTML and PDF)."""
    from evaluation.pipeline.run import run_study
    from .reporting.quarto import build_report

    for d in _study_dirs(studies, all_, studies_root):
        bundle_dir = run_study(d, results_root)
        outputs = build_report(bundle_dir, out, engine=engine, formats=formats or None)
        for fmt, path in sorted(outputs.items()):
            console.print(_styled("rendered", "green", f" {fmt}: {path}"))


@main.command()
@click.option("--studies", "studies_root", default="studies", show_default=True)
@click.option("--results", "results_root", default="results", show_default=True)
@click.option("--out", default="reports", show_default=True)
@click.option("--engine", type=click.Choice(["auto", "quarto", "pandoc"]), default="auto", show_default=True)
@_friendly_errors
def portfolio(studies_root, results_root, out, engine) -> None:
    """Render the portfolio page across all studies with a results bundle."""
    from evaluation.portfolio.page import build_portfolio

    outputs = build_portfolio(results_root, out, studies_root=studies_root, engine=engine)
    for fmt, path in sorted(outputs.items()):
        console.print(_styled("rendered", "green", f" {fmt}: {path}"))


@main.command()
@click.argument("study", type=click.Path())
@click.option("--draws", default=200, show_default=True, help="Simulated data sets per analysis.")
@click.option("--seed", default=1, show_default=True)
@click.option("--effect", "effects", multiple=True, help="ANALYSIS=VALUE: the true effect to simulate (default: the estimate).")
@click.option("--out", type=click.Path(), default=None, help="Also write the diagnosis as JSON.")
@_friendly_errors
def diagnose(study: str, draws: int, seed: int, effects: tuple[str, ...], out: str | None) -> None:
    """Diagnose a study's analyses by simulation: bias, RMSE, CI coverage and power."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from evaluation.planning.diagnose import diagnose_study
    from .results import write_json_atomic

    eff: dict[str, float] = {}
    for e in effects:
        name, _, value = e.partition("=")
        try:
            eff[name] = float(value)
        except ValueError:
            raise click.BadParameter(f"expected ANALYSIS=NUMBER, got {e!r}", param_hint="--effect") from None
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=err_console, transient=False) as progress:
        def factory(desc: str, total: int):
            task = progress.add_task(desc, total=total)
            return lambda: progress.advance(task)

        rows = diagnose_study(study, draws=draws, seed=seed, effects=eff, progress_factory=factory)
    table = Table(title=f"Design diagnosis ({draws} draws per analysis, plasmode simulation)")
    for col in ("analysis", "term", "true effect", "bias (MC se)", "RMSE", "coverage (MC se)", "power"):
        table.add_column(col, justify="right" if col not in ("analysis", "term") else "left")
    for r in rows:
        table.add_row(r.analysis, r.term, f"{r.true_effect:.4g}", f"{r.bias:.3g} ({r.bias_mc_se:.2g})", f"{r.rmse:.3g}",
                      f"{r.coverage:.3f} ({r.coverage_mc_se:.3f})", f"{r.power:.3f}")
    console.print(table)
    if out:
        write_json_atomic(out, {"draws": draws, "seed": seed, "rows": [r.to_dict() for r in rows]})
        console.print(_styled("wrote", "green", f" {out}"))


def _design_names() -> str:
    from evaluation.designs import families

    return ", ".join(f.design for f in families())


class _DesignOption(click.Option):
    """An option whose help lists the registered designs, read from the registry only when help is shown (a family
    added later is listed; importing the families at start would slow every command)."""

    def get_help_record(self, ctx):
        self.help = ("Write the data and analysis sections for this design, with every option and its Danish meaning "
                     f"({_design_names()}). Without it: the programme-theory template only.")
        return super().get_help_record(ctx)


@main.command()
@click.argument("slug")
@click.option("--design", cls=_DesignOption, default=None, metavar="NAME")
@click.option("--example-data/--no-example-data", default=True, show_default=True,
              help="With --design: write a small synthetic example data set to DATA/SLUG/ (existing files are kept).")
@click.option("--studies", "studies_root", default="studies", show_default=True)
@click.option("--data", "data_root", default=None, type=click.Path(),
              help="Folder for data files [default: data beside --studies].")
@_friendly_errors
def new(slug: str, design: str | None, example_data: bool, studies_root: str, data_root: str | None) -> None:
    """Scaffold studies/SLUG/study.yaml from the commented Danish template (with --design: a complete study)."""
    from evaluation.declaration.scaffold import scaffold

    made = scaffold(slug, studies_root, design=design, example_data=example_data, data_root=data_root)
    console.print(_styled("created", "green", f" {made.study}"))
    for path in made.data:
        console.print(_styled("created", "green", f" {path} (synthetic example data)"))
    for path in made.kept:
        console.print(_styled("kept", "yellow", f" {path} (the file exists and is left untouched)"))
    folder = made.study.parent
    if design is None:
        console.print("Fill in the template, then run: evaluation validate " + str(folder))
        console.print("A study with data and analyses for a design: evaluation new SLUG --design NAME "
                      f"(designs: {_design_names()})")
    else:
        console.print(f"Next: evaluation validate {folder}  →  evaluation run {folder}  →  evaluation report {folder}")
        console.print("Then replace the example data with the project's own and fill in the programme theory; "
                      "every option is explained in study.yaml and in the guide (evaluation guide).")


@main.command()
@click.option("--out", default="docs/vejledning", show_default=True, type=click.Path(),
              help="Folder for the guide's Quarto project (index.qmd, _quarto.yml) and its rendered files.")
@click.option("--render/--no-render", default=True, show_default=True, help="Render HTML and PDF after writing.")
@click.option("--engine", type=click.Choice(["auto", "quarto", "pandoc"]), default="auto", show_default=True)
@click.option("--format", "formats", multiple=True, type=click.Choice(["html", "pdf"]), help="Output formats (default: both).")
@_friendly_errors
def guide(out: str, render: bool, engine: str, formats: tuple[str, ...]) -> None:
    """Write the Danish user guide (docs/vejledning) from the typed option models, and render it."""
    from .reporting.guide import build_guide, write_guide

    rendered = build_guide(out, engine=engine, formats=formats or ("html", "pdf")) if render else {}
    if not render:
        write_guide(out)
    console.print(_styled("wrote", "green", f" {Path(out) / 'index.qmd'}"))
    for fmt, path in sorted(rendered.items()):
        console.print(_styled("rendered", "green", f" {fmt}: {path}"))


@main.command()
@click.option("--out", type=click.Path(), default=None, help="Write to a file instead of standard output.")
@_friendly_errors
def schema(out: str | None) -> None:
    """Print the JSON Schema of study.yaml (for editor autocompletion and checking)."""
    from evaluation.declaration.study import study_json_schema

    text = json.dumps(study_json_schema(), indent=2, ensure_ascii=False)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        console.print(_styled("wrote", "green", f" {out}"))
    else:
        click.echo(text)


if __name__ == "__main__":  # pragma: no cover
    main()
