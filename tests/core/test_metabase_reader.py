"""The database the stack writes, read as Metabase reads it: by the DuckDB release its pinned
driver embeds (tests/kits/readerkit.py), read-only, from the copy every import publishes, also
while an import runs, after a kill -9 of one, and for a database the previous release (0.3.0)
wrote and this one then imported into, over wheels built from the tree in a venv outside it.
The expected totals come from the CUR generator (tests/kits/curgen.py), never from the store."""
from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, VENV
from curgen import CurBucket, Delivery
from finopskit import FINOPS
from readerkit import Reader, make_venv, pip_env, read, reader_python, same, uv_install

from open_finops.core import store
from open_finops.docker import pins
from open_finops.docker.commands import read_env

#: The commit of release 0.3.0, the previous release (not on PyPI: built from the history).
PREVIOUS_RELEASE = "6fe9a9d"
#: What `duckdb>=1.1` of 0.3.0 resolves today: a writer whose files the reader cannot open.
PREVIOUS_RELEASE_DUCKDB = "2.0.1"


def wanted(*deliveries: Delivery) -> dict:
    """The reader's totals for these deliveries, from the generator's own sums."""
    rows = sum(d.totals.rows for d in deliveries)
    billed = sum(d.totals.unblended for d in deliveries)
    return {"focus": [rows, billed, sum(d.totals.effective for d in deliveries)],
            "aws_cur": [rows, billed]}


def assert_sees(seen: dict, *deliveries: Delivery) -> None:
    assert same(seen, wanted(*deliveries)), (seen, wanted(*deliveries))


@pytest.fixture
def bucket(tmp_path) -> CurBucket:
    return CurBucket(tmp_path / "bucket")


def import_args(bucket: CurBucket, *extra: str) -> list[str]:
    return ["aws", "import-cur", "--source", str(bucket.source), "--export-name", "acme",
            *extra]


def test_the_reader_is_the_duckdb_the_pinned_driver_embeds():
    proc = subprocess.run([str(reader_python()), "-c", "import duckdb; print(duckdb.__version__)"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == store.READER_DUCKDB == pins.embedded_duckdb()


def test_an_import_while_a_reader_holds_the_published_copy(finops, bucket, workdir):
    jan = bucket.legacy("acme", "2024-01", rows=300)
    finops(*import_args(bucket))
    published = store.published_path(workdir / "data" / "finops.duckdb")
    with Reader(published) as reader:
        assert_sees(reader.totals(), jan)
        feb = bucket.legacy("acme", "2024-02", rows=200)
        finops(*import_args(bucket))  # exit 0: the reader's connection locks nothing it needs
        assert_sees(reader.totals(), jan)  # its open connection: the old copy, whole
        assert_sees(reader.reconnect(), jan, feb)  # its next connection: the new data
    # Both files are in the contract's storage format, whatever the writer's default.
    for path in (workdir / "data" / "finops.duckdb", published):
        con = duckdb.connect(str(path), read_only=True)
        assert con.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE"
                           " database_name = current_database()").fetchone()[0] == (
            f"{store.STORAGE_VERSION}+"), path
        con.close()
    # `finops docker init` serves that very file to Metabase.
    finops("docker", "init", "deploy")
    env = read_env(workdir / "deploy" / ".env")
    served = Path(env["FINOPS_DATA_DIR"]) / Path(env["FINOPS_DATABASE"]).name
    assert served == published and env["FINOPS_DATABASE"].startswith("/data/")


# An import in a child process that stops in the middle of writing the published copy (half
# the bytes written under the temporary name) and waits there for its stdin to be killed.
STOPS_MID_PUBLISH = """
import sys
from open_finops.core import store

def copy_half_then_wait(con, database, staging):
    con.execute("CHECKPOINT")
    data = open(database, "rb").read()
    with open(staging, "wb") as handle:
        handle.write(data[:len(data) // 2])
    print("publishing", flush=True)
    sys.stdin.read()

store.copy_file = copy_half_then_wait
from open_finops.core.cli import main
sys.exit(main(sys.argv[1:]))
"""
IMPORT = "import sys; from open_finops.core.cli import main; sys.exit(main(sys.argv[1:]))"


def test_kill_9_at_any_point_of_an_import_leaves_the_published_copy_whole(
        finops, bucket, workdir):
    jan = bucket.legacy("acme", "2024-01", rows=500)
    finops(*import_args(bucket))
    published = store.published_path(workdir / "data" / "finops.duckdb")
    restated = bucket.legacy("acme", "2024-01", rows=10_000, chunks=4, seed=1)

    # In the middle of the publish: the half-written copy is not the one readers open.
    child = subprocess.Popen([sys.executable, "-c", STOPS_MID_PUBLISH, *import_args(bucket)],
                             cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        said = child.stdout.readline() if select.select([child.stdout], [], [], 120)[0] else ""
    finally:
        child.kill()
        _out, err = child.communicate(timeout=60)
    assert said.strip() == "publishing", err
    leftovers = [p for p in published.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers, "the kill came before the copy was being written: this proves less"
    assert_sees(read(published), jan)

    # At points spread over a whole import (timed on one that is not killed), each of a new
    # version: the reader always opens a whole copy, the one published before or the new one.
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", IMPORT, *import_args(bucket)], cwd=workdir,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=300, check=True)
    duration = time.monotonic() - started
    assert not any(p.name.endswith(".tmp") for p in published.parent.iterdir())
    before = restated
    assert_sees(read(published), before)
    for seed, fraction in enumerate((0.3, 0.6, 0.8, 0.95), start=2):
        version = bucket.legacy("acme", "2024-01", rows=10_000, chunks=4, seed=seed)
        child = subprocess.Popen([sys.executable, "-c", IMPORT, *import_args(bucket)],
                                 cwd=workdir, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * fraction)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        seen = read(published)
        assert same(seen, wanted(before)) or same(seen, wanted(version)), (fraction, seen)
        before = version if same(seen, wanted(version)) else before
    # A kill between the commit and the rename left the copy one version behind: the next
    # import publishes again (and removes what the killed ones left).
    subprocess.run([sys.executable, "-c", IMPORT, *import_args(bucket)], cwd=workdir,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=300, check=True)
    assert_sees(read(published), version)
    assert not any(p.name.endswith(".tmp") for p in published.parent.iterdir())


def _wheels(source: Path, out: Path) -> list[Path]:
    """Wheels of core and aws from ``source`` (a copy of a tree), built without the network."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "wheel", "--quiet",
                    "--no-deps", "--no-build-isolation", "-w", str(out),
                    *(str(source / package) for package in ("core", "vendors/aws"))],
                   env=pip_env(), stdin=subprocess.DEVNULL, capture_output=True, timeout=300,
                   check=True)
    return sorted(out.glob("*.whl"))


def _copy_tree(commit: str | None, to: Path) -> Path:
    """core/ and vendors/aws/ of ``commit`` (git archive), or of the working tree (None)."""
    if commit is None:
        for package in ("core", "vendors/aws"):
            shutil.copytree(REPO / package, to / package, ignore=shutil.ignore_patterns(
                "dist", "build", "*.egg-info", "__pycache__"))
        return to
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit,
                              "core", "vendors/aws"], capture_output=True, timeout=60)
    assert archive.returncode == 0, (f"release 0.3.0 ({commit}) is not in this clone's"
                                     f" history: {archive.stderr.decode()}")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(to, filter="data")
    return to


def test_a_database_of_the_previous_release_then_this_one_over_built_wheels(tmp_path, bucket):
    """A user of 0.3.0, whose pip chose DuckDB 2.0.1, imports January; then installs the wheels
    of this tree into the same venv (outside the tree), which keep that DuckDB, and imports
    February: Metabase's DuckDB reads both months from the published copy."""
    old = _wheels(_copy_tree(PREVIOUS_RELEASE, tmp_path / "old"), tmp_path / "old-wheels")
    new = _wheels(_copy_tree(None, tmp_path / "new"), tmp_path / "new-wheels")
    python = make_venv(tmp_path / "venv", f"duckdb=={PREVIOUS_RELEASE_DUCKDB}")
    uv_install(python, "--no-deps", "--reinstall", *map(str, old))
    work = tmp_path / "work"
    work.mkdir()
    env = {"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": os.environ["HOME"],
           "LANG": "C.UTF-8"}

    def finops(*argv: str) -> None:
        proc = subprocess.run([str(python.parent / "finops"), *argv], cwd=work, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, f"finops {' '.join(argv)}:\n{proc.stdout}{proc.stderr}"

    jan = bucket.legacy("acme", "2024-01", rows=300)
    finops(*import_args(bucket))
    database = work / "data" / "finops.duckdb"
    published = store.published_path(database)
    # The release before the contract: storage 999, which the reader cannot open, no copy.
    assert int.from_bytes(database.read_bytes()[12:20], "little") == 999
    assert not published.exists()
    assert "error" in read(database)
    # Nor can this tree's writer (DuckDB 1.5.x of the toolkit's venv): one line with the fix.
    proc = subprocess.run([FINOPS, "--database", str(database), "aws",
                           "state"], cwd=work, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"pip install 'duckdb{store.WRITER_DUCKDB}'" in proc.stderr, proc.stderr

    uv_install(python, "--no-deps", "--reinstall", *map(str, new))
    feb = bucket.legacy("acme", "2024-02", rows=200)
    finops(*import_args(bucket))
    assert_sees(read(published), jan, feb)
