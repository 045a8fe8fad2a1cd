"""Runs that cannot corrupt each other (issue 12 item 6).

Ten concurrent ``evaluation report`` runs of one study (separate processes, forked from the test so
they start without re-importing the package), some killed with SIGKILL at random moments, leave
exactly one complete bundle — byte-identical to a clean run's — and one report made from it; the
next run cleans what the killed ones left; the portfolio shows each study once, ignores hidden
folders and refuses a report made from another bundle.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import STUDIES, SYNTHETIC
from evaluation.cli import main as cli
from evaluation.exceptions import ConcurrentRunError, StaleReportError
from evaluation.pipeline.run import run_study
from evaluation.portfolio.page import build_portfolio
from evaluation.reporting import quarto
from evaluation.reporting.quarto import build_report, made_from
from evaluation.results import bundle_fingerprint, output_lock

pytestmark = pytest.mark.skipif(sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods(),
                                reason="the processes are forked (POSIX)")

SLUG = "udvikling-af-fleksjob"
OTHER = "beskaeftigelsesplan-2015"
KEY = "concurrency-test-key"


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALUATION_PSEUDONYM_KEY", KEY)
    monkeypatch.chdir(tmp_path)
    for slug in (SLUG, OTHER):
        shutil.copytree(STUDIES / slug, tmp_path / "studies" / slug)
        if (SYNTHETIC / slug).is_dir():
            shutil.copytree(SYNTHETIC / slug, tmp_path / "data" / "synthetic" / slug)
    return tmp_path


def _child(args: list[str]) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        cli.main(args, standalone_mode=False)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - any escape is a failure of the child
        code = 1
    os._exit(code)


def _staging(folder: Path, slug: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{slug}.") and p.is_dir())


def _check_consistent(tree: Path, reference: bytes) -> None:
    """One bundle equal to the clean run's, complete, and a report made from exactly that bundle."""
    visible = [p.name for p in (tree / "results").iterdir() if not p.name.startswith(".")]
    assert visible == [SLUG]
    bundle = tree / "results" / SLUG
    assert (bundle / "results.json").read_bytes() == reference
    data = json.loads(reference)
    for fig in data["figures"].values():
        assert (bundle / fig).is_file(), fig
    assert any((bundle / "tables").iterdir())
    report = tree / "reports" / SLUG
    assert (report / "index.html").is_file() and (report / "index.qmd").is_file()
    assert made_from(report) == bundle_fingerprint(bundle)
    assert bundle_fingerprint(bundle)[7:23] in (report / "index.qmd").read_text(encoding="utf-8")


def test_ten_concurrent_runs_with_kills_leave_one_consistent_bundle_and_report(tree, tmp_path):
    started = time.monotonic()
    reference = (run_study(tree / "studies" / SLUG, tmp_path / "reference") / "results.json").read_bytes()
    # leftovers of an earlier killed run: a staging folder in each output root
    for root in ("results", "reports"):
        (tree / root / f".{SLUG}.k1ll3d" / "tables").mkdir(parents=True)

    ctx = multiprocessing.get_context("fork")
    args = ["report", f"studies/{SLUG}", "--results", "results", "--out", "reports", "--format", "html"]
    procs = [ctx.Process(target=_child, args=(args,)) for _ in range(10)]
    for p in procs:
        p.start()
    rng = random.Random(12)
    victims = rng.sample(range(10), 4)
    for i in victims:
        time.sleep(rng.uniform(0.0, 1.5))
        os.kill(procs[i].pid, signal.SIGKILL)
    # the bounds catch a deadlock (a run waiting forever on another's lock), not slowness: ten report runs share the
    # machine's cores with the other test worker, and at a load of 4-5 they took over 50 s
    for p in procs:
        p.join(timeout=180)
        assert not p.is_alive()
    survivors = [p.exitcode for i, p in enumerate(procs) if i not in victims]
    killed = [p.exitcode for i, p in enumerate(procs) if i in victims]
    assert survivors == [0] * 6, survivors
    assert all(code in (0, -signal.SIGKILL) for code in killed), killed
    _check_consistent(tree, reference)

    # the next run cleans every staging folder left by the killed runs
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert _staging(tree / "results", SLUG) == [] and _staging(tree / "reports", SLUG) == []
    _check_consistent(tree, reference)

    # the portfolio shows each study once and ignores hidden folders (a stray copy of a bundle)
    run_study(tree / "studies" / OTHER, tree / "results")
    shutil.copytree(tree / "results" / SLUG, tree / "results" / f".{SLUG}.copy")
    shutil.copytree(tree / "results" / SLUG, tree / "results" / ".hidden-copy")
    out = build_portfolio(tree / "results", tree / "reports", studies_root=tree / "studies", engine="pandoc")
    qmd = (out["html"].parent / "index.qmd").read_text(encoding="utf-8")
    for slug in (SLUG, OTHER):
        assert qmd.count(f"]({'../'}{slug}/index.html)") >= 1
        title = json.loads((tree / "results" / slug / "results.json").read_text(encoding="utf-8"))["study"]["title"]
        assert qmd.count(f"## {title}\n") == 1, (slug, qmd.count(f"## {title}\n"))
    assert time.monotonic() - started < 300


def test_a_killed_swap_is_recovered_and_stale_staging_removed(tmp_path):
    root = tmp_path / "results"
    (root / f".{SLUG}.old").mkdir(parents=True)
    (root / f".{SLUG}.old" / "results.json").write_text("{}", encoding="utf-8")
    (root / f".{SLUG}.abc").mkdir()
    (root / f".{SLUG}-other.abc").mkdir()  # another study's staging folder is not touched
    with output_lock(root, SLUG):
        pass
    assert (root / SLUG / "results.json").read_text(encoding="utf-8") == "{}"
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == [f".{SLUG}-other.abc", SLUG]


def test_a_run_waits_for_the_lock_then_stops_with_exit_2(tree, monkeypatch):
    monkeypatch.setenv("EVALUATION_LOCK_TIMEOUT", "0.3")
    with output_lock(tree / "results", SLUG):
        result = CliRunner().invoke(cli, ["run", f"studies/{SLUG}", "--out", "results"])
    assert result.exit_code == 2, result.output
    assert "ConcurrentRunError" in result.output and "another run" in result.output
    assert "Traceback" not in result.output
    assert not (tree / "results" / SLUG).exists()
    monkeypatch.setenv("EVALUATION_LOCK_TIMEOUT", "soon")
    result = CliRunner().invoke(cli, ["run", f"studies/{SLUG}", "--out", "results"])
    assert result.exit_code == 2 and "EVALUATION_LOCK_TIMEOUT" in result.output
    monkeypatch.delenv("EVALUATION_LOCK_TIMEOUT")
    with output_lock(tree / "results", SLUG):  # held by this process: a second holder waits, then gives up
        with pytest.raises(ConcurrentRunError, match="another run"):
            with output_lock(tree / "results", SLUG, timeout=0.2):
                pass


def test_a_report_refuses_a_bundle_that_changed_while_it_was_made(tree, monkeypatch):
    bundle = run_study(tree / "studies" / SLUG, tree / "results")
    first = build_report(bundle, tree / "reports", formats=["html"], engine="pandoc")
    before = first["html"].read_bytes()
    render = quarto.render_project

    def render_while_another_run_finishes(*args, **kwargs):
        produced = render(*args, **kwargs)
        y = tree / "studies" / SLUG / "study.yaml"
        y.write_text(y.read_text(encoding="utf-8").replace("title: ", "title: Ændret ", 1), encoding="utf-8")
        run_study(tree / "studies" / SLUG, tree / "results")
        return produced

    monkeypatch.setattr(quarto, "render_project", render_while_another_run_finishes)
    with pytest.raises(StaleReportError, match="changed while its report was made"):
        build_report(bundle, tree / "reports", formats=["html"], engine="pandoc")
    assert first["html"].read_bytes() == before  # the old report stays, and says which bundle it shows
    assert made_from(tree / "reports" / SLUG) != bundle_fingerprint(bundle)
    assert _staging(tree / "reports", SLUG) == []

    # the portfolio refuses to link the new bundle to the old report (exit 2, Danish and English)
    result = CliRunner().invoke(cli, ["portfolio", "--results", "results", "--out", "reports", "--engine", "pandoc"])
    assert result.exit_code == 2, result.output
    assert "StaleReportError" in result.output and "Porteføljen" in result.output and "another results bundle" in result.output
    assert f"reports/{SLUG}" in result.output
    assert "Traceback" not in result.output
    monkeypatch.setattr(quarto, "render_project", render)
    build_report(bundle, tree / "reports", formats=["html"], engine="pandoc")
    assert made_from(tree / "reports" / SLUG) == bundle_fingerprint(bundle)
    result = CliRunner().invoke(cli, ["portfolio", "--results", "results", "--out", "reports", "--engine", "pandoc"])
    assert result.exit_code == 0, result.output


def test_a_read_only_bundle_folder_is_read_without_a_lock(tmp_path, monkeypatch):
    import evaluation.results as results_module

    (tmp_path / "shared" / SLUG).mkdir(parents=True)
    monkeypatch.setattr(results_module.os, "access", lambda *a, **k: False)  # as for a read-only share
    with output_lock(tmp_path / "shared", SLUG) as folder:
        assert folder == tmp_path / "shared" / SLUG
    assert not (tmp_path / "shared" / f".{SLUG}.lock").exists()
