"""`finops` for the tests, one way to run it (loaded from conftest.py as a plugin).

In this process, through core's real command line (the same ``main()`` as the console
script, without an interpreter and DuckDB's import per command, ~1 s each):

* ``finops_main(args, plugins=None) -> int``: only the call; the output goes to
  ``sys.stdout``/``sys.stderr`` (``capsys`` reads it); ``plugins`` runs with that set of
  plugins instead of the installed ones (``cli.run`` with a ``Discovery``).
* ``finops_in(cwd, *args, code=0, home=None) -> Run``: from ``cwd``, HOME ``home`` (default
  ``cwd``), with no OPEN_FINOPS_*, AWS_* or AZURE_* variable of the developer's; the
  environment and working directory are restored afterwards. Asserts the exit code (``code=None``
  asserts nothing) with the output in the message. For module-scoped data, where the
  ``finops`` fixture cannot go.
* the ``finops`` fixture: ``finops(*args, code=0) -> Run`` in ``workdir`` (a working directory
  of the test, the variables above removed for the whole test, so that the test may set its
  own); afterwards the reader's DuckDB opens the copy of the default database the imports
  published (tests/kits/readerkit.py).

In a real process, only where a test needs one (the console script's entry point and
installed metadata, a pipe closed early, a kill, an environment of its own): ``FINOPS``, the
console script of the toolkit's .venv, run with conftest's ``run``.

Also ``holding_lock(db)``: another process holds a database open for writing; and
``quarters(table)``: an Arrow table cut into four record batches (the mapping-by-batches
tests: more than one batch per period, while each batch plans the mapping anew, ~0.1 s).
"""
from __future__ import annotations

import shutil
import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import VENV
from open_finops.core import cli
from open_finops.core.plugins import Discovery, LoadedPlugin
from readerkit import check_published

#: The installed console script, for the tests that need a real process.
FINOPS = str(VENV / "bin" / "finops")
#: Variables of the developer's that would change what `finops` does.
SCRUBBED = ("OPEN_FINOPS_", "AWS_", "AZURE_")


@dataclass
class Run:
    code: int
    out: str
    err: str


def finops_main(args: Sequence[str], plugins: Mapping[str, LoadedPlugin] | None = None) -> int:
    """`finops ARGS` in this process: core's main(), or with ``plugins`` only."""
    if plugins is None:
        return cli.main(list(args))
    return cli.run(list(args), Discovery(plugins=dict(plugins)))


def _captured(args: Sequence[str], code: int | None) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        result = finops_main(args)
    run = Run(result, out.getvalue(), err.getvalue())
    assert code is None or result == code, (
        f"finops {' '.join(args)} -> {result}\n--- stdout\n{run.out}\n--- stderr\n{run.err}")
    return run


def finops_in(cwd: Path, *args: str, code: int | None = 0, home: Path | None = None) -> Run:
    """`finops ARGS` in this process from ``cwd`` with HOME ``home`` (default ``cwd``) and no
    OPEN_FINOPS_*, AWS_* or AZURE_* variable; asserts the exit code unless ``code`` is None."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    for name in [n for n in os.environ if n.startswith(SCRUBBED)]:
        del os.environ[name]
    os.environ["HOME"] = str(home or cwd)
    os.chdir(cwd)
    try:
        return _captured(args, code)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """The working directory of the command (the default database is data/finops.duckdb in
    it), with no OPEN_FINOPS_*, AWS_* or AZURE_* variables from the developer's environment."""
    for name in list(os.environ):
        if name.startswith(SCRUBBED):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def finops(workdir):
    """Run `finops ARGS...` in-process in ``workdir``; assert the exit code, show the output
    on failure. Afterwards, the reader's DuckDB opens the copy of the default database the
    imports published (tests/kits/readerkit.py)."""

    def run_finops(*argv: str, code: int = 0) -> Run:
        return _captured(argv, code)

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


@pytest.fixture
def source(generated, tmp_path) -> Path:
    """A copy of the test module's generated folder (its ``generated`` fixture:
    {"root": the folder, ...}) of this test's own, to break."""
    copy = tmp_path / "container"
    shutil.copytree(generated["root"], copy)
    return copy


@pytest.fixture
def db(workdir) -> Path:
    """The database of the test's working folder."""
    return workdir / "data" / "finops.duckdb"


def quarters(table) -> list:
    """``table`` (Arrow) as four record batches of about a quarter of its rows each."""
    return table.to_batches(max_chunksize=max(1, -(-table.num_rows // 4)))
