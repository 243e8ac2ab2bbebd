"""Metabase's side of the DuckDB contract, without a docker engine: the DuckDB release that
the pinned Metabase driver embeds (open_finops.core.store.READER_DUCKDB), installed from PyPI
into a virtualenv of its own, cached in .cache/ (one per checkout, made once across pytest
workers), and run in a child process as the driver opens a database: read-only, with the
driver's default ``old_implicit_casting = true``.

``check_published`` is what the aws fixture runs after every test: the totals the reader's
DuckDB sees in the published copy are those the writer sees in the working database."""
from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from open_finops.core import store

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache"
VENV = REPO / ".venv"
# The line items (FOCUS 1.2 adds a row of its own for each unused commitment: those cost 0
# and are counted apart), what they bill and what they cost.
FOCUS_TOTALS = ("SELECT count(*) FILTER (WHERE NOT x_UnusedCommitment), sum(BilledCost), "
                "sum(EffectiveCost) FROM focus")
CUR_TOTALS = "SELECT count(*), sum(line_item_unblended_cost) FROM aws_cur"

# The reader: one command per line on stdin, one JSON answer per line on stdout, so that a
# test can hold a connection open while it imports. "totals" queries the open connection,
# "reconnect" closes it and opens the file again (Metabase's next connection), "read PATH"
# queries PATH on a connection of its own, closed before the answer (one process then serves
# every one-off read of a test session).
READER = r"""
import json, sys, duckdb
path, queries = sys.argv[1], json.loads(sys.argv[2])

def connect(path):
    return duckdb.connect(path, read_only=True, config={"old_implicit_casting": "true"})

def totals(con):
    return {name: list(con.execute(sql).fetchone()) for name, sql in queries.items()}

con = None
for line in sys.stdin:
    command = line.rstrip("\n")
    try:
        if command.startswith("read "):
            other = connect(command[len("read "):])
            try:
                answer = totals(other)
            finally:
                other.close()
        else:
            if command == "reconnect" or con is None:
                if con is not None:
                    con.close()
                con = connect(path)
            if command in ("totals", "reconnect"):
                answer = totals(con)
            else:
                answer = {"version": duckdb.__version__}
    except duckdb.Error as exc:
        answer = {"error": str(exc).splitlines()[0]}
    print(json.dumps(answer), flush=True)
"""
QUERIES = {"focus": FOCUS_TOTALS, "aws_cur": CUR_TOTALS}


def pip_env() -> dict[str, str]:
    """pip's default index only, as scripts/lib.sh isolate_pip: this machine's pip
    configuration and extra indexes are not used (its certificates are)."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL",
                           "PIP_CONSTRAINT", "PIP_REQUIRE_VIRTUALENV", "PYTHONPATH")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
               PIP_CACHE_DIR=str(CACHE / "pip"))
    return env


def uv_install(python: Path, *args: str) -> None:
    """`uv pip install ARGS` into the venv of ``python`` with the toolkit's uv, from PyPI
    through the checkout's uv cache (pip_env's isolation; uv reads no pip configuration)."""
    proc = subprocess.run([str(VENV / "bin" / "uv"), "pip", "install", "--quiet", "--no-config",
                           "--python", str(python), *args],
                          env={**pip_env(), "UV_CACHE_DIR": str(CACHE / "uv")},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"uv pip install {args}:\n{proc.stdout}{proc.stderr}"


def make_venv(venv: Path, *requirements: str) -> Path:
    """A fresh virtualenv at ``venv`` with ``requirements`` from PyPI; its python. (uv
    installs them: what is tested is the database they read and write, not the installer.)"""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=300, stdin=subprocess.DEVNULL, capture_output=True)
    python = venv / "bin" / "python"
    if requirements:
        uv_install(python, *requirements)
    return python


def reader_python() -> Path:
    """The python of the cached virtualenv with only the reader's DuckDB in it."""
    venv = CACHE / f"duckdb-reader-{store.READER_DUCKDB}"
    python, stamp = venv / "bin" / "python", venv / ".complete"
    if stamp.exists():
        return python
    CACHE.mkdir(exist_ok=True)
    with open(CACHE / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another pytest worker may be making it
        if not stamp.exists():
            shutil.rmtree(venv, ignore_errors=True)
            make_venv(venv, f"duckdb=={store.READER_DUCKDB}")
            stamp.write_text(store.READER_DUCKDB)
    return python


class Reader:
    """A child process with the reader's DuckDB and a read-only connection to ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.proc = subprocess.Popen(
            [str(reader_python()), "-c", READER, str(path), json.dumps(QUERIES)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={"PATH": "/usr/bin:/bin", "HOME": os.environ["HOME"]})

    def ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the reader died: {self.proc.stderr.read()}"
        return json.loads(line)

    def totals(self) -> dict:
        """On the connection it holds (the first call opens it)."""
        return self.ask("totals")

    def reconnect(self) -> dict:
        """On a new connection, as Metabase's next one."""
        return self.ask("reconnect")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_one_off: Reader | None = None


def read(path: Path) -> dict:
    """The totals the reader sees on a new connection to ``path`` (closed again before this
    returns: nothing of the reader holds the file afterwards). One reader process answers
    them all; it ends with this process (its stdin closes)."""
    global _one_off
    if _one_off is None or _one_off.proc.poll() is not None:
        _one_off = Reader(path)
    return _one_off.ask(f"read {path}")


def writer_totals(database: Path) -> dict:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {name: list(con.execute(sql).fetchone()) for name, sql in QUERIES.items()}
    finally:
        con.close()


def same(seen: dict, wanted: dict) -> bool:
    """Equal counts, and sums equal to far below a cent (summation order may differ)."""
    if seen.keys() != wanted.keys():
        return False
    for name in wanted:
        for a, b in zip(seen[name], wanted[name]):
            if (a is None) != (b is None) or (a is not None and not math.isclose(
                    a, b, rel_tol=1e-12, abs_tol=1e-6)):
                return False
    return True


def check_published(database: Path) -> None:
    """After a test: when an import wrote ``database``, the reader's DuckDB opens the copy it
    published and sees the writer's totals."""
    if not database.is_file():
        return
    try:
        wanted = writer_totals(database)
    except duckdb.Error:  # no import wrote it (a test's own file), or no view in it yet
        return
    published = store.published_path(database)
    assert published.is_file(), f"{database} was imported into but {published} is missing"
    seen = read(published)
    assert same(seen, wanted), (f"the reader (DuckDB {store.READER_DUCKDB}) sees {seen} in"
                                f" {published}, the writer {wanted} in {database}")
