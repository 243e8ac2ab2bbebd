"""`finops gcp import --source gs://...` against Cloud Storage for real: gcp-storage-emulator
(PyPI, in the dev venv) started once for this module on a free port of 127.0.0.1, in memory,
reached over HTTP by google-cloud-storage through STORAGE_EMULATOR_HOST, as a user's client
reaches Google's with Application Default Credentials."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import gcpgen
from conftest import free_port, stop
from finopskit import finops_in

START_TIMEOUT = 30
TABLE = gcpgen.table_name("detailed", gcpgen.ACCOUNTS[0])


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """The emulator's URL; the server is stopped (and waited for) at the module's end."""
    port = free_port()
    log = tmp_path_factory.mktemp("gcs") / "emulator.log"
    script = Path(sys.executable).parent / "gcp-storage-emulator"
    began = time.monotonic()
    with log.open("w") as out:
        server = subprocess.Popen([str(script), "start", "--host", "127.0.0.1", "--port",
                                   str(port), "--in-memory"], stdin=subprocess.DEVNULL,
                                  stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while not _answers(url + "/storage/v1/b"):
            if server.poll() is not None or time.monotonic() - began > START_TIMEOUT:
                pytest.fail(f"gcp-storage-emulator did not start:\n{log.read_text()}",
                            pytrace=False)
            time.sleep(0.05)
        yield url
    finally:
        stop(server)


@pytest.fixture(scope="module")
def bucket(emulator, tmp_path_factory) -> dict:
    """A bucket holding two months of a detailed table (Parquet) below a prefix."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    root = tmp_path_factory.mktemp("export")
    totals = gcpgen.write_table(root, TABLE, rows=60)
    saved = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = emulator
    try:
        client = storage.Client(project="test", credentials=AnonymousCredentials())
        handle = client.create_bucket("billing-exports")
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            handle.blob(f"finops/{path.relative_to(root).as_posix()}").upload_from_filename(
                str(path))
    finally:
        if saved is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = saved
    return {"emulator": emulator, "totals": totals, "client": client, "bucket": handle}


def _finops(emulator: str, cwd: Path, *args: str, code: int = 0):
    os.environ["STORAGE_EMULATOR_HOST"] = emulator
    try:
        return finops_in(cwd, "gcp", *args, code=code)
    finally:
        os.environ.pop("STORAGE_EMULATOR_HOST", None)


def test_import_from_gs_equals_the_generators_totals_then_skips(bucket, tmp_path):
    run = _finops(bucket["emulator"], tmp_path, "import", "--source",
                  "gs://billing-exports", "--export-name", TABLE)
    assert "done: 2 loaded" in run.err, run.err
    con = duckdb.connect(str(tmp_path / "data" / "finops.duckdb"), read_only=True)
    try:
        got = dict(((a, m), v) for a, m, v in con.execute(
            "SELECT BillingAccountId, x_BillingPeriod, sum(CAST(BilledCost AS DECIMAL(38, 6))) "
            "FROM main.focus GROUP BY ALL").fetchall())
    finally:
        con.close()
    assert got == dict(bucket["totals"].billed)
    assert all(round(v, 2) == v.quantize(Decimal("0.01")) for v in got.values())
    again = _finops(bucket["emulator"], tmp_path, "import", "--source",
                    "gs://billing-exports/finops", "--export-name", TABLE)
    assert "0 loaded, 2 up to date" in again.err
    listed = _finops(bucket["emulator"], tmp_path, "list", "--source",
                     "gs://billing-exports/finops", "--export-name", TABLE)
    assert listed.out.count("yes") == 2


def test_a_broken_object_fails_naming_its_gs_url_and_keeps_the_data(bucket, tmp_path):
    _finops(bucket["emulator"], tmp_path, "import", "--source", "gs://billing-exports",
            "--export-name", TABLE)
    name = f"finops/{TABLE}/2026-02/000000000001.parquet"
    blob = bucket["bucket"].blob(name)
    os.environ["STORAGE_EMULATOR_HOST"] = bucket["emulator"]
    try:
        original = blob.download_as_bytes()
        blob.upload_from_string(b"not parquet")
    finally:
        os.environ.pop("STORAGE_EMULATOR_HOST", None)
    try:
        run = _finops(bucket["emulator"], tmp_path, "import", "--source",
                      "gs://billing-exports", "--export-name", TABLE, code=1)
    finally:
        os.environ["STORAGE_EMULATOR_HOST"] = bucket["emulator"]
        blob.upload_from_string(original)
        os.environ.pop("STORAGE_EMULATOR_HOST", None)
    errors = [line for line in run.err.splitlines() if line.startswith("finops: error:")]
    assert len(errors) == 1 and f"gs://billing-exports/{name}" in errors[0], run.err
    assert "not a readable Parquet file" in errors[0]
    missing = _finops(bucket["emulator"], tmp_path, "import", "--source",
                      "gs://no-such-bucket-here", "--export-name", TABLE, code=1)
    assert "gs://no-such-bucket-here" in missing.err and "Traceback" not in missing.err
