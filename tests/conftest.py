"""Shared fixtures: copies of shipped studies in a temporary tree, so tests may break them freely."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "studies"
SYNTHETIC = ROOT / "data" / "synthetic"
REFERENCE = Path(__file__).resolve().parent / "reference"


def tree_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` (to prove inputs are never modified)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        # a study's pseudonymisation key is made beside it on the first run without one: not an input change
        if p.is_file() and p.name != ".pseudonym-key"
    }


@pytest.fixture
def study_tree(tmp_path: Path):
    """Return a function copying ``studies/<slug>`` and ``data/synthetic/<slug>`` into tmp_path."""

    def make(slug: str = "arbejdsfastholdelse-ved-sygdom") -> Path:
        shutil.copytree(STUDIES / slug, tmp_path / "studies" / slug)
        if (SYNTHETIC / slug).is_dir():
            shutil.copytree(SYNTHETIC / slug, tmp_path / "data" / "synthetic" / slug)
        return tmp_path / "studies" / slug

    return make


# ---------------------------------------------------------------------------------------------- rendered reports


def golden_tool():
    """tools/golden.py as a module."""
    spec = importlib.util.spec_from_file_location("golden", ROOT / "tools" / "golden.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


#: the reports' date in these tests (SOURCE_DATE_EPOCH): 1 January 2026, tools/golden.py's EPOCH;
#: tests/test_golden.py reuses the session's bundles, so they are made with tools/golden.py's key too
_GOLDEN = golden_tool()
EPOCH, GOLDEN_KEY = _GOLDEN.EPOCH, _GOLDEN.KEY
#: every test that uses the session's rendered tree runs in one pytest-xdist worker (``--dist loadgroup``), so the
#: tree is made once per run, not once per worker
RENDERED_GROUP = "rendered-tree"
#: the folder where the workers list the tests that use the rendered tree, for the controller's scheduler
_GROUPS_ENV = "EVALUATION_TEST_XDIST_GROUPS"


@dataclass(frozen=True)
class RenderedTree:
    """A copy of the repository's studies and data, every shipped study run (``results/``), reported
    (``reports/``) and put in the portfolio, plus one generated study per family (``generated/``).

    Made with ``SOURCE_DATE_EPOCH`` = :data:`EPOCH`, ``EVALUATION_PSEUDONYM_KEY`` = :data:`GOLDEN_KEY` and the
    render engine ``engine`` (``"auto"`` resolved)."""

    root: Path
    engine: str
    reports: dict  # {slug: (report folder, bundle)} and "portfolio": (folder, None)
    shipped: tuple[str, ...]


def _uses_the_rendered_tree(item) -> bool:
    return bool({"rendered_tree", "rendered_reports"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(tryfirst=True)  # xdist renames marked tests in its own pytest_collection_modifyitems
def pytest_collection_modifyitems(config, items):
    group = [item for item in items if _uses_the_rendered_tree(item)]
    for item in group:
        item.add_marker(pytest.mark.xdist_group(RENDERED_GROUP))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get(_GROUPS_ENV):
        # xdist's loadgroup puts marked tests together by renaming them (item._nodeid), which pytest 9.2 ignores:
        # the controller's scheduler (below) reads this list instead
        (Path(os.environ[_GROUPS_ENV]) / f"{worker}.json").write_text(json.dumps([i.nodeid for i in group]))


def pytest_configure(config):
    if not hasattr(config, "workerinput") and config.pluginmanager.hasplugin("xdist") \
            and config.getoption("dist", "no") == "loadgroup":
        folder = tempfile.mkdtemp(prefix="evaluation-xdist-groups-")
        config.stash[_GROUPS_KEY] = (folder, os.environ.get(_GROUPS_ENV))
        os.environ[_GROUPS_ENV] = folder  # the workers, started after this, inherit it


def pytest_unconfigure(config):
    if _GROUPS_KEY in config.stash:
        folder, previous = config.stash[_GROUPS_KEY]
        shutil.rmtree(folder, ignore_errors=True)
        if previous is None:
            os.environ.pop(_GROUPS_ENV, None)
        else:
            os.environ[_GROUPS_ENV] = previous


_GROUPS_KEY = pytest.StashKey[tuple]()


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` that sends every test using the rendered tree to one worker (the tests listed by the
    workers at collection, and any test xdist did mark with ``@rendered-tree``); every other test goes to whichever
    worker is free."""
    if _GROUPS_KEY not in config.stash:
        return None
    from xdist.scheduler import LoadScopeScheduling

    folder = Path(config.stash[_GROUPS_KEY][0])

    class RenderedTreeScheduling(LoadScopeScheduling):
        grouped: set[str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.grouped is None:  # called once every worker has collected
                self.grouped = {n for f in folder.glob("*.json") for n in json.loads(f.read_text())}
            if nodeid in self.grouped or nodeid.endswith("@" + RENDERED_GROUP):
                return RENDERED_GROUP
            return nodeid

    return RenderedTreeScheduling(config, log)


@pytest.fixture(scope="session")
def rendered_tree(tmp_path_factory) -> RenderedTree:
    """The shipped studies and one generated study per family, run and rendered once per session for the report
    lint, the browser layout test, the PDF check (tests/reporting), the published-outputs scan, the golden manifest
    (tests/test_golden.py) and the checkout-location check (tests/test_reproducible.py)."""
    from claims import write_example_study
    from evaluation.designs.family import families
    from evaluation.pipeline.run import run_study
    from evaluation.portfolio.page import build_portfolio
    from evaluation.reporting.quarto import build_report
    from evaluation.reporting.render import choose_engine
    from evaluation.results import load_bundle

    root = tmp_path_factory.mktemp("rendered")
    shutil.copytree(STUDIES, root / "studies", ignore=shutil.ignore_patterns(".pseudonym-key", ".*.lock"))
    shutil.copytree(SYNTHETIC, root / "data" / "synthetic")
    gen = root / "generated"
    slugs = sorted(p.name for p in (root / "studies").iterdir() if (p / "study.yaml").is_file())
    folders = [(root / "studies" / s, root / "results") for s in slugs]
    # generated studies go to their own results folder: the portfolio shows the shipped studies
    folders += [(write_example_study(gen, f, "effect"), gen / "results") for f in families()]
    out = {}
    with _GOLDEN.fixed_key_and_date(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for folder, results in folders:
            bundle_dir = run_study(folder, results)
            paths = build_report(bundle_dir, root / "reports")
            out[folder.name] = (paths["html"].parent, load_bundle(bundle_dir))
        portfolio = build_portfolio(root / "results", root / "reports", studies_root=root / "studies")
        out["portfolio"] = (portfolio["html"].parent, None)
    return RenderedTree(root=root, engine=choose_engine("auto"), reports=out, shipped=tuple(slugs))


@pytest.fixture(scope="session")
def rendered_reports(rendered_tree):
    """{slug: (report folder, bundle)} for the seven shipped studies and one generated study per family,
    plus "portfolio": (folder, None) (the session's :func:`rendered_tree`)."""
    return rendered_tree.reports
