"""Fixtures shared by the `finops aws` tests (loaded from conftest.py as a plugin): a working
directory free of the developer's OPEN_FINOPS_* and AWS_* variables, and `finops` run
in-process through core's real command line."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from open_finops.core.cli import main
from readerkit import check_published


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """The working directory of the command (the default database is data/finops.duckdb in
    it), with no OPEN_FINOPS_* or AWS_* variables from the developer's environment."""
    for name in list(os.environ):
        if name.startswith(("OPEN_FINOPS_", "AWS_")):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def finops(workdir, capsys):
    """Run `finops ARGS...` in-process; assert the exit code, show the output on failure.
    Afterwards, the reader's DuckDB opens the copy of the default database the imports
    published (tests/kits/readerkit.py)."""

    def run_finops(*argv: str, code: int = 0) -> Run:
        result = main(list(argv))
        out, err = capsys.readouterr()
        assert result == code, (f"finops {' '.join(argv)} -> {result}\n--- stdout\n{out}"
                                f"\n--- stderr\n{err}")
        return Run(result, out, err)

    yield run_finops
    # Whatever the test imported, Metabase's DuckDB reads it from the published copy.
    check_published(workdir / "data" / "finops.duckdb")


@contextlib.contextmanager
def holding_lock(db: Path) -> Iterator[int]:
    """Another process holds ``db`` open for writing (DuckDB's file lock) until the block ends;
    yields its PID."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); sys.stdin.read()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield holder.pid
    finally:
        holder.communicate("", timeout=30)
