"""`finops oci` against Object Storage's S3-compatible API: moto's server over real HTTP
(tests/kits/motokit.py) standing for ``https://NAMESPACE.compat.objectstorage.REGION.
oraclecloud.com``, given as --endpoint-url or endpoint_url, and a Customer Secret Key in the
environment (boto3's default chain: never an option, never printed)."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest

import motokit
import ocigen
from open_finops.oci import sources

SECRET = "customer-secret-key-9f8e7d6c5b4a"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    yield from motokit.serve(tmp_path_factory)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("bucket") / ocigen.TENANCIES[1].ocid
    bucket = ocigen.OciBucket(root, ocigen.TENANCIES[1], seed=5)
    bucket.month("2024-03", rows=12)
    return {"root": root, "bucket": bucket}


@pytest.fixture
def key(workdir, monkeypatch, tmp_path) -> None:
    """The Customer Secret Key as a user's environment holds it; no AWS files."""
    for name, value in {"AWS_ACCESS_KEY_ID": "ocid1.credential.oc1..access",
                        "AWS_SECRET_ACCESS_KEY": SECRET,
                        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
                        "AWS_EC2_METADATA_DISABLED": "true",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)


def upload(endpoint: str, root: Path, bucket: str) -> Any:
    client = boto3.client("s3", endpoint_url=endpoint,
                          config=boto3.session.Config(s3={"addressing_style": "path"}))
    if bucket not in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
        client.create_bucket(Bucket=bucket)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        client.upload_file(str(path), bucket, path.relative_to(root).as_posix())
    return client


def totals(db: Path) -> dict[tuple[str, str], Decimal]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {(x, p): Decimal(str(b)) for x, p, b in con.execute(
            "SELECT x_ExportName, x_BillingPeriod, round(sum(BilledCost), 2) FROM focus "
            "GROUP BY ALL").fetchall()}
    finally:
        con.close()


def test_both_kinds_from_the_tenancys_bucket(finops, generated, endpoint, key, db,
                                             monkeypatch):
    bucket = generated["bucket"]
    name = bucket.tenancy.ocid  # a bucket named with dots: path-style addressing
    upload(endpoint, generated["root"], name)
    monkeypatch.setattr(sources, "BATCH_BYTES", 1)  # a file per batch: downloads overlap loads
    uri = f"s3://{name}/"
    run_ = finops("-v", "oci", "import", "--source", uri, "--endpoint-url", endpoint)
    assert f"importing OCI reports from s3://{name} into" in run_.err
    monkeypatch.setenv("OPEN_FINOPS_OCI_ENDPOINT_URL", endpoint)
    finops("oci", "import", "--source", uri, "--export-name", "cost")
    expected = {(kind, month): ocigen.cents(t.cost) for (kind, month), t in
                bucket.totals.items()}
    assert totals(db) == expected
    listing = finops("oci", "list", "--source", uri, "--kind", "focus").out
    assert re.search(r"^2024-03\s+focus\s+4\s+\w{12}\s+yes", listing, re.M), listing
    assert SECRET not in run_.out + run_.err + listing


def test_a_key_missing_is_one_line(finops, generated, endpoint, key, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    uri = f"s3://{generated['bucket'].tenancy.ocid}/"
    run_ = finops("oci", "import", "--source", uri, "--endpoint-url", endpoint, code=1)
    assert run_.err.strip().splitlines()[-1] == (
        f"finops: error: cannot list {uri}FOCUS Reports/: no Customer Secret Key found "
        "(boto3's default chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE "
        "and ~/.aws/credentials)"), run_.err
    missing = finops("oci", "import", "--source", "s3://no-such-bucket/", "--endpoint-url",
                     endpoint, code=1)
    assert "Traceback" not in missing.err + run_.err


def test_an_object_removed_after_listing(finops, generated, endpoint, key, db, monkeypatch):
    bucket = generated["bucket"]
    name = f"oci-{bucket.tenancy.name}-gone"
    client = upload(endpoint, generated["root"], name)
    victim = sorted(p for p in (generated["root"] / "FOCUS Reports").rglob("*.csv.gz"))[0]
    victim_key = victim.relative_to(generated["root"]).as_posix()
    listed = sources.ObjectStorageSource.list

    def list_then_delete(self, folder):
        found = listed(self, folder)
        client.delete_object(Bucket=name, Key=victim_key)
        return found

    monkeypatch.setattr(sources.ObjectStorageSource, "list", list_then_delete)
    run_ = finops("oci", "import", "--source", f"s3://{name}", "--endpoint-url", endpoint,
                  code=1)
    assert run_.err.strip().splitlines()[-1] == (
        f"finops: error: focus 2024-03: cannot download s3://{name}/{victim_key}: "
        "no such object"), run_.err
