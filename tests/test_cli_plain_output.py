"""Terminal output is plain text: a title, a path or a value is never read as rich markup or an emoji
code (issue 13 item 4: a message for line 100 printed as 'study.yaml💯')."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from click.testing import CliRunner

from evaluation.cli import main

from conftest import STUDIES, SYNTHETIC

SLUG = "arbejdsfastholdelse-ved-sygdom"


def _invoke(*args: str, cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def _tree(tmp_path: Path) -> Path:
    shutil.copytree(STUDIES / SLUG, tmp_path / "studies" / SLUG)
    shutil.copytree(SYNTHETIC / SLUG, tmp_path / "data" / "synthetic" / SLUG)
    return tmp_path / "studies" / SLUG


def test_an_error_on_line_100_is_not_an_emoji(tmp_path):
    d = _tree(tmp_path)
    f = d / "study.yaml"
    # 99 comment lines (one with markup and an emoji code), then an unknown top-level field on line 100
    pad = ["# :100: [bold red]x[/]"] + ["#"] * 98
    f.write_text("\n".join(pad + ["operatr: x"]) + "\n" + f.read_text(encoding="utf-8"), encoding="utf-8")
    r = _invoke("validate", str(d), cwd=tmp_path)
    assert r.exit_code == 2, r.output
    assert "study.yaml:100: operatr" in r.output and "💯" not in r.output


def test_user_text_with_markup_and_emoji_codes_is_printed_as_written(tmp_path):
    d = _tree(tmp_path)
    f = d / "study.yaml"
    text = f.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    f.write_text(text.replace(title, "title: \"[bold]Fed[/bold] :100: :thumbs_up: [link=x]y[/link]\""), encoding="utf-8")
    r = _invoke("validate", str(d), "--no-data", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert "[bold]Fed[/bold] :100: :thumbs_up: [link=x]y[/link]" in r.output
    assert "💯" not in r.output and "👍" not in r.output


def test_data_values_with_markup_are_printed_as_written(tmp_path):
    d = _tree(tmp_path)
    p = tmp_path / "data" / "synthetic" / SLUG / "participants.csv"
    rows = p.read_text(encoding="utf-8").splitlines()
    cells = rows[4].split(",")
    cells[3] = "[red]:100:[/red]"
    rows[4] = ",".join(cells)
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    for cmd in ("validate", "run"):
        r = _invoke(cmd, str(d), cwd=tmp_path)
        assert r.exit_code == 2, r.output
        assert "line 5: '[red]:100:[/red]'" in r.output and "💯" not in r.output


def test_package_warnings_with_markup_are_printed_as_written(capsys):
    """A package warning can carry user text (a subgroup label, a path): never read as markup or emoji codes
    (a "[/]" in it used to raise rich's MarkupError)."""
    from evaluation.cli import _show_warning
    from evaluation.exceptions import EvaluationWarning

    msg = "undergruppen «[bold]x[/bold] [/] :100:» har færre end 5 personer"
    _show_warning(msg, EvaluationWarning, "f.py", 1)
    err = capsys.readouterr().err
    assert "Note: " + msg in err and "💯" not in err
