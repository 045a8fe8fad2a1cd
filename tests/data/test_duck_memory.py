"""DuckDB under little memory (issue 12 audit item 5): a memory limit from what the process can get (or
EVALUATION_DUCKDB_MEMORY), register scans that work under a 1 GiB address-space limit, and an out-of-memory
error that is a plain message with exit 2, not an internal error."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import click
import duckdb
import pytest
from click.testing import CliRunner

from evaluation.cli import _friendly_errors
from evaluation.data.registers.duck import MEMORY_ENV, _duck, memory_budget
from evaluation.exceptions import EvaluationError


def _limit(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_the_memory_limit_follows_the_budget_or_the_environment(monkeypatch):
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    budget = memory_budget()
    assert budget >= 64 * 2**20
    default = _limit(_duck())
    value, unit = default.split()
    assert float(value) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit] <= budget * 1.01
    monkeypatch.setenv(MEMORY_ENV, "300MB")
    assert _limit(_duck()) == "286.1 MiB"  # DuckDB shows 300 MB in MiB
    monkeypatch.setenv(MEMORY_ENV, "lots")
    with pytest.raises(EvaluationError, match="EVALUATION_DUCKDB_MEMORY='lots' is not a memory size"):
        _duck()


@pytest.mark.parametrize("exc", [duckdb.OutOfMemoryException("Out of Memory Error: Allocation failure"), MemoryError()])
def test_out_of_memory_is_a_plain_message_with_exit_2(exc):
    @click.command()
    @_friendly_errors
    def cmd():
        raise exc

    r = CliRunner().invoke(cmd, [])
    assert r.exit_code == 2, r.output
    assert "Internal error" not in r.output and "Traceback" not in r.output
    assert "out of memory" in r.output and "EVALUATION_DUCKDB_MEMORY" in r.output


def test_a_register_study_validates_and_runs_under_a_1_gib_address_space_limit(tmp_path):
    """Before: 'Internal error (OutOfMemoryException)': DuckDB's threads reserved 64 MiB malloc arenas each."""
    from tests.data.test_bad_data_corpus import _make

    _make(tmp_path, "register")

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))

    env = {**os.environ, "EVALUATION_PSEUDONYM_KEY": "k" * 32}
    env.pop(MEMORY_ENV, None)
    for args in (["validate", "studies/s"], ["run", "studies/s", "--out", "res"]):
        r = subprocess.run([sys.executable, "-c", "from evaluation.cli import main; main()", *args], cwd=tmp_path,
                           env=env, preexec_fn=limit, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
    assert (Path(tmp_path) / "res" / "s" / "results.json").is_file()


def test_out_of_memory_while_reading_a_register_is_not_called_a_damaged_file(tmp_path, monkeypatch):
    """An allocation failure while DuckDB scans a register reaches the out-of-memory message, not 'could not be read'."""
    from evaluation.data.registers import duck

    f = tmp_path / "r.csv"
    f.write_text("cpr,week,code\n1,2020-W01,130\n")

    class Failing:
        def execute(self, *a, **k):
            raise duckdb.OutOfMemoryException("Out of Memory Error: Allocation failure")

    with pytest.raises(duckdb.OutOfMemoryException):
        duck._duck_frame(f, "csv", ",", con=Failing(), file="r.csv")
