"""`finops aws` against S3: moto in server mode over real HTTP, reached through boto3's
standard AWS_ENDPOINT_URL and fake credentials in the environment (the default credential
chain, no credentials option)."""
from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import duckdb
import pytest

import motokit
from conftest import base_env, run
from curgen import CurBucket, Delivery
from finopskit import FINOPS
from open_finops.aws import sources

APPROX = {"rel": 1e-9, "abs": 1e-6}


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory):
    """`moto_server` on a free port, for the tests of this module (tests/kits/motokit.py)."""
    yield from motokit.serve(tmp_path_factory)


@pytest.fixture
def s3_env(workdir, moto_endpoint, monkeypatch, tmp_path) -> dict[str, str]:
    """What a user's environment would hold: an endpoint and credentials, nothing in files."""
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


class S3Bucket:
    """A CurBucket written locally, then uploaded to moto as it would sit in S3."""

    def __init__(self, local: CurBucket) -> None:
        self.local = local
        self.client = boto3.client("s3")
        self.client.create_bucket(Bucket=local.bucket)
        self.uploaded: set[Path] = set()

    @property
    def uri(self) -> str:
        return f"s3://{self.local.bucket}/{self.local.prefix}"

    def sync(self) -> None:
        """Upload what changed, data files first and manifests last, as AWS delivers."""
        files = sorted((p for p in self.local.root.rglob("*") if p.is_file()),
                       key=lambda p: (p.name.endswith("-Manifest.json"), str(p)))
        for path in files:
            stamp = (path, path.stat().st_mtime, path.stat().st_size)
            if stamp in self.uploaded:
                continue
            self.client.upload_file(str(path), self.local.bucket,
                                    path.relative_to(self.local.root).as_posix())
            self.uploaded.add(stamp)

    def delete(self, path: Path) -> None:
        self.client.delete_object(Bucket=self.local.bucket,
                                  Key=path.relative_to(self.local.root).as_posix())


@pytest.fixture
def s3(s3_env, tmp_path) -> S3Bucket:
    return S3Bucket(CurBucket(tmp_path / "bucket", bucket=f"cur-{uuid.uuid4().hex[:12]}",
                              prefix="billing/cur"))


def totals(db: Path, export: str) -> dict[str, tuple[int, float]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT billing_period, count(*), sum(line_item_unblended_cost) "
                           "FROM aws_cur WHERE export_name = ? GROUP BY ALL ORDER BY 1",
                           [export]).fetchall()
    finally:
        con.close()
    return {period: (count, total) for period, count, total in rows}


def assert_totals(db: Path, export: str, *deliveries: Delivery) -> None:
    actual = totals(db, export)
    assert sorted(actual) == sorted(d.period for d in deliveries)
    for delivery in deliveries:
        count, total = actual[delivery.period]
        assert count == delivery.totals.rows
        assert total == pytest.approx(delivery.totals.unblended, **APPROX)


def test_import_from_s3_restatement_and_rerun(finops, s3, workdir, monkeypatch):
    # One object per batch, so staging, prefetch and clean-up run for every file.
    monkeypatch.setattr(sources, "S3_BATCH_BYTES", 1)
    db = workdir / "data" / "finops.duckdb"
    jan = s3.local.legacy("acme", "2024-01", rows=200, chunks=3)
    feb = s3.local.legacy("acme", "2024-02", rows=120, chunks=2)
    s3.sync()
    options = ["--source", s3.uri, "--export-name", "acme"]
    run_ = finops("aws", "import", *options)
    assert f"from {s3.uri} into" in run_.err
    assert_totals(db, "acme", jan, feb)

    restated = s3.local.legacy("acme", "2024-01", rows=230, chunks=4, seed=1)
    s3.sync()
    listing = finops("aws", "list", *options).out
    assert restated.version_id in listing and jan.version_id in listing
    run_ = finops("aws", "import", *options)
    assert "2024-01: loaded 230 rows from 4 files" in run_.err and "skipped" in run_.err
    assert_totals(db, "acme", restated, feb)
    assert finops("aws", "import", *options).err.count("skipped") == 2
    assert_totals(db, "acme", restated, feb)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_cur2_from_s3(finops, s3, workdir, fmt):
    db = workdir / "data" / "finops.duckdb"
    jan = s3.local.cur2("data-export", "2024-01", fmt=fmt, rows=150, chunks=2)
    s3.sync()
    finops("aws", "import", "--source", s3.uri, "--export-name", "data-export")
    assert_totals(db, "data-export", jan)


def test_s3_bucket_without_prefix_and_a_name_full_of_metacharacters(
        finops, s3_env, tmp_path, workdir):
    s3 = S3Bucket(CurBucket(tmp_path / "flat", bucket=f"cur-{uuid.uuid4().hex[:12]}", prefix=""))
    name = "cur.(prod)+[a]*?{x}$"
    jan = s3.local.legacy(name, "2024-01", chunks=2)
    feb = s3.local.cur2(name + "-2", "2024-02", fmt="csv")
    s3.sync()
    db = workdir / "data" / "finops.duckdb"
    for export, delivery in ((name, jan), (name + "-2", feb)):
        finops("aws", "import", "--source", f"s3://{s3.local.bucket}", "--export-name",
               export)
        assert_totals(db, export, delivery)


def test_s3_object_missing_or_corrupt_leaves_data_intact(finops, s3, workdir):
    db = workdir / "data" / "finops.duckdb"
    jan = s3.local.legacy("acme", "2024-01", rows=100)
    s3.sync()
    options = ["--source", s3.uri, "--export-name", "acme"]
    finops("aws", "import", *options)

    missing = s3.local.legacy("acme", "2024-01", rows=100, seed=2)
    s3.sync()
    s3.delete(missing.files[1])
    run_ = finops("aws", "import", *options, code=1)
    key = missing.files[1].relative_to(s3.local.root).as_posix()
    assert f"lists a file that does not exist: {key}" in run_.err
    assert_totals(db, "acme", jan)

    corrupt = s3.local.legacy("acme", "2024-01", rows=100, seed=3)
    corrupt.files[0].write_bytes(corrupt.files[0].read_bytes()[:-200])
    s3.sync()
    run_ = finops("aws", "import", *options, code=1)
    uri = f"s3://{s3.local.bucket}/{corrupt.files[0].relative_to(s3.local.root).as_posix()}"
    errors = [line for line in run_.err.splitlines() if "error:" in line]
    assert len(errors) == 1 and uri in errors[0] and "gzip" in errors[0], run_.err
    assert_totals(db, "acme", jan)


def test_s3_errors_are_one_line(finops, s3, monkeypatch):
    run_ = finops("aws", "import", "--source", "s3://no-such-bucket-here/cur",
                  "--export-name", "acme", code=1)
    assert run_.err.strip().splitlines()[-1] == (
        "finops: error: cannot list s3://no-such-bucket-here/cur/acme/: no such bucket")
    run_ = finops("aws", "import", "--source", s3.uri, "--export-name", "acme", code=1)
    assert run_.err.strip().splitlines()[-1] == (
        f"finops: error: no export 'acme' under {s3.uri} (none there: check --source)")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    run_ = finops("aws", "import", "--source", s3.uri, "--export-name", "acme", code=1)
    assert "no AWS credentials found" in run_.err
    assert len(run_.err.strip().splitlines()) == 2  # the ==> line and the error


def test_entry_point_against_s3_black_box(s3, s3_env, tmp_path, home):
    jan = s3.local.cur2("acme", "2024-01", rows=90)
    s3.sync()
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = base_env(home, **s3_env)
    run([FINOPS, "aws", "import", "--source", s3.uri, "--export-name", "acme"], cwd=cwd,
        env=env, check=True, timeout=120)
    assert_totals(cwd / "data" / "finops.duckdb", "acme", jan)
