"""`finops spark import`: the FOCUS 1.3 dataset of every fixture of every vendor built on Spark
(``local[2]``, one session for the module: tests/kits/sparkkit.py) into a lake of Parquet,
against DuckDB's ``main.focus`` of the same deliveries imported with `finops aws|azure import`:
row for row; timestamps stored as UTC instants; a rerun replacing a period whole while a
reader reads; a failed build leaving the lake as it was; the reports over the lake."""
from __future__ import annotations

import hashlib
import json
import shutil
import threading
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import azuregen
import motokit
import gcpgen
import ocigen
from curgen import CurBucket, converters_sample
from finopskit import finops_in
from open_finops.core import store
from open_finops.core.reports import lake_sql
from open_finops.spark import build
from sparkkit import spark  # noqa: F401 (the session fixture)

#: Every AWS format, and the real sample (converters_sample) in the same bucket.
AWS_EXPORTS = ("v1csv", "v1pq", "v2pq", "v2csv", "awsfocus", "sample")


def spark_import(cwd: Path, vendor: str, source: Path, exports, lake: Path, *more: str,
                 code: int = 0):
    names = [arg for name in exports for arg in ("--export-name", name)]
    return finops_in(cwd, "spark", "import", vendor, "--source", str(source), *names,
                     "--lake", str(lake), *more, code=code)


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory) -> dict:  # noqa: F811 (the fixture)
    """Every AWS format, Azure's standard tree and the real AWS sample: into one DuckDB
    database with the vendors' importers, into one lake with Spark (one build per vendor)."""
    root = tmp_path_factory.mktemp("lake")
    db, lake = root / "finops.duckdb", root / "lake"
    bucket = CurBucket(root / "bucket")
    bucket.legacy("v1csv", "2024-01", rows=120, final=True)
    bucket.legacy("v1pq", "2024-01", rows=80, fmt="parquet", seed=2)
    bucket.cur2("v2pq", "2024-02", rows=80, seed=3)
    bucket.cur2("v2csv", "2024-02", rows=80, fmt="csv", seed=4)
    bucket.focus_export("awsfocus", "2024-02", rows=80, seed=6)
    converters_sample(bucket.source)
    tree = azuregen.write_standard(root / "container")
    for export in AWS_EXPORTS:
        finops_in(root, "aws", "import", "--source", str(bucket.source), "--export-name",
                  export, "--database", str(db))
    for name, exp in tree.exports.items():
        kind = [] if exp.layout == "current" else ["--kind", exp.kind]
        finops_in(root, "azure", "import", "--source", str(root / "container"),
                  "--export-name", name, *kind, "--database", str(db))
    spark_import(root, "aws", bucket.source, AWS_EXPORTS, lake)
    # Exports of an older layout name their kind; one build reads them all (Azure pairs an
    # account's actual and amortized rows), so these need none.
    assert all(exp.layout == "current" or exp.kind for exp in tree.exports.values())
    result = spark_import(root, "azure", root / "container", list(tree.exports), lake)
    # Google Cloud (a standard table, nested types and credits) and Oracle Cloud (its FOCUS
    # reports): the same vendor protocol and mappings, so the same build.
    table = gcpgen.table_name("standard", gcpgen.ACCOUNTS[0])
    gcpgen.write_table(root / "billing", table, rows=30)
    oci = ocigen.OciBucket(root / "oci" / ocigen.TENANCIES[0].ocid)
    oci.month("2024-01", rows=10)
    for vendor, source, export in (("gcp", root / "billing", table),
                                   ("oci", oci.root, "focus")):
        finops_in(root, vendor, "import", "--source", str(source), "--export-name", export,
                  "--database", str(db))
        spark_import(root, vendor, source, [export], lake)
    return {"root": root, "db": db, "lake": lake, "bucket": bucket,
            "tree": tree, "azure_log": result.err}


@pytest.fixture(scope="module")
def con(built):
    # As `finops report` opens it (one configuration per file in a process).
    connection = store.connect(built["root"] / "finops.published.duckdb", read_only=True)
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(f"CREATE TEMP TABLE lake AS {lake_sql(str(built['lake']))}")
    yield connection
    connection.close()


def differ(con, where: str) -> tuple[int, int, int]:
    """(rows of main.focus, rows only there, rows only in the lake) of ``where``."""
    names = ", ".join(f'"{n}"' for (n, *_) in con.execute("DESCRIBE main.focus").fetchall())
    ours = f"SELECT {names} FROM main.focus WHERE {where}"
    theirs = f"SELECT {names} FROM lake WHERE {where}"
    return (con.execute(f"SELECT count(*) FROM ({ours})").fetchone()[0],
            con.execute(f"SELECT count(*) FROM ({ours} EXCEPT ALL {theirs})").fetchone()[0],
            con.execute(f"SELECT count(*) FROM ({theirs} EXCEPT ALL {ours})").fetchone()[0])


@pytest.mark.parametrize("where", [
    "ProviderName = 'AWS' AND x_ExportName = 'v1csv'",
    "ProviderName = 'AWS' AND x_ExportName = 'v1pq'",
    "ProviderName = 'AWS' AND x_ExportName = 'v2pq'",
    "ProviderName = 'AWS' AND x_ExportName = 'v2csv'",
    "x_ExportName = 'awsfocus'",
    "x_ExportName = 'sample'",
    "ProviderName = 'Microsoft' AND x_Dataset = 'actual'",
    "ProviderName = 'Microsoft' AND x_Dataset = 'amortized'",
    "ProviderName = 'Microsoft' AND x_Dataset = 'focus'",
    "ProviderName = 'Google Cloud'",
    "ProviderName = 'Oracle'",
    "true",
])
def test_the_lake_equals_duckdbs_focus_row_for_row(con, where):
    total, only_duckdb, only_lake = differ(con, where)
    assert total > 0 and (only_duckdb, only_lake) == (0, 0), (where, total)


def test_the_lake_holds_every_column_of_focus_with_its_type(con):
    ours = con.execute("DESCRIBE main.focus").fetchall()
    theirs = {n: t for n, t, *_ in con.execute("DESCRIBE lake").fetchall()}
    assert {n: t for n, t, *_ in ours} == {n: theirs.get(n) for n, *_ in ours}
    assert theirs["ChargePeriodStart"] == "TIMESTAMP WITH TIME ZONE"


def test_timestamps_are_utc_instants_in_int64_micros(built, con):
    """Not Spark's INT96 (a wall time without a zone for DuckDB): INT64 TIMESTAMP_MICROS with
    isAdjustedToUTC=true, read by DuckDB as TIMESTAMP WITH TIME ZONE, equal to DuckDB's."""
    files = sorted(built["lake"].glob("focus/*/*/*.parquet"))
    assert len(files) >= 4
    for path in files:
        column = pq.ParquetFile(path).schema.column(
            pq.ParquetFile(path).schema_arrow.get_field_index("ChargePeriodStart"))
        assert column.physical_type == "INT64", path
        logical = json.loads(column.logical_type.to_json())
        assert (logical["Type"], logical["isAdjustedToUTC"], logical["timeUnit"]) == (
            "Timestamp", True, "microseconds"), path
        described = duckdb.sql(f"DESCRIBE SELECT ChargePeriodStart, BillingPeriodEnd FROM "
                               f"read_parquet('{path}')").fetchall()
        assert {row[1] for row in described} == {"TIMESTAMP WITH TIME ZONE"}, path
    assert con.execute("SELECT count(*) FROM (SELECT ChargePeriodStart, ChargePeriodEnd, "
                       "BillingPeriodStart FROM main.focus EXCEPT ALL SELECT ChargePeriodStart,"
                       " ChargePeriodEnd, BillingPeriodStart FROM lake)").fetchone()[0] == 0


def test_one_folder_per_billing_period_and_provider(built):
    folders = sorted(p.relative_to(built["lake"] / "focus").as_posix()
                     for p in built["lake"].glob("focus/*/*"))
    azure = {p for e in built["tree"].exports.values() for p in e.periods}
    assert folders == sorted(["billing_period=2023-11/provider=aws",
                              "billing_period=2024-01/provider=aws",
                              "billing_period=2024-02/provider=aws",
                              "billing_period=2024-01/provider=oci",
                              *[f"billing_period={p}/provider=gcp" for p in gcpgen.MONTHS],
                              *[f"billing_period={p}/provider=azure" for p in azure]])


@pytest.mark.parametrize("report", ["spend", "charges"])
def test_reports_over_the_lake_equal_those_over_the_database(built, report):
    args = ("report", report, "--from", "2023-11", "--to", "2024-03", "--format", "csv")
    over_db = finops_in(built["root"], *args, "--database", str(built["db"]))
    over_lake = finops_in(built["root"], *args, "--lake", str(built["lake"]))
    assert over_lake.out == over_db.out and over_db.out.count("\n") > 2


def lake_state(lake: Path) -> dict[str, str]:
    """Every file the links of the lake reach, by path, with its digest."""
    return {p.relative_to(lake).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(lake.glob("focus/*/*/*.parquet"))}


def test_a_failed_build_leaves_the_lake_as_it_was(built, tmp_path):
    """A truncated gzip among the files: one line naming the user's file, exit 1, nothing of
    the build in the lake."""
    source = tmp_path / "bucket"
    shutil.copytree(built["bucket"].source, source)
    broken = sorted(source.glob("v1csv/*/*/*.csv.gz"))[-1]
    data = broken.read_bytes()
    broken.write_bytes(data[:len(data) // 2])
    before = lake_state(built["lake"])
    result = spark_import(tmp_path, "aws", source, AWS_EXPORTS, built["lake"], code=1)
    lines = result.err.strip().splitlines()
    assert lines[-1].startswith("finops: error: ") and str(broken) in lines[-1], lines
    assert "Traceback" not in result.err and "/finops-spark-" not in lines[-1]
    assert lake_state(built["lake"]) == before
    assert not [p for p in (built["lake"] / "_runs").iterdir() if "-aws-" in p.name
                and not any(p.rglob("*.parquet"))]


def test_a_rerun_replaces_a_period_whole_while_a_reader_reads(built, tmp_path):
    """A rerun of 2024-01 from a newer version of one export: a reader counting the period's
    rows again and again meanwhile sees the old count or the new one, never another; the
    other periods keep their files."""
    lake = tmp_path / "lake"
    shutil.copytree(built["lake"], lake, symlinks=True)
    bucket = CurBucket(tmp_path / "again")
    bucket.legacy("v1csv", "2024-01", rows=150, seed=9, final=True)
    period = lake / "focus" / "billing_period=2024-01" / "provider=aws"
    query = f"SELECT count(*) FROM read_parquet('{period}/*.parquet')"
    old = duckdb.sql(query).fetchone()[0]
    kept = lake_state(lake)
    seen, done = set(), threading.Event()

    errors = []

    def read() -> None:
        while not done.is_set():
            try:
                seen.add(duckdb.connect().sql(query).fetchone()[0])
            except duckdb.Error as exc:  # a file the query listed, gone before it read it
                errors.append(str(exc))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        spark_import(tmp_path, "aws", bucket.source, ["v1csv"], lake, "--month", "2024-01")
    finally:
        done.set()
        reader.join()
    new = duckdb.sql(query).fetchone()[0]
    assert new != old and seen <= {old, new} and old in seen, (old, new, seen)
    assert errors == []
    after = lake_state(lake)
    assert {k: v for k, v in after.items() if "2024-01" not in k} == \
        {k: v for k, v in kept.items() if "2024-01" not in k}


def test_one_category_per_service_over_the_whole_lake(built, tmp_path):
    """Where another provider's partition of the lake gives a service of this build another
    ServiceCategory with more rows, the build's rows take that pair (core.focus
    .conform_dataset's rule), and its other services keep theirs."""
    lake = tmp_path / "lake"
    shutil.copytree(built["lake"], lake, symlinks=True)
    period = lake / "focus" / "billing_period=2024-01" / "provider=aws"
    name, category = duckdb.sql(f"SELECT ServiceName, ServiceCategory FROM read_parquet("
                                f"'{period}/*.parquet') WHERE ServiceName IS NOT NULL "
                                f"GROUP BY ALL ORDER BY count(*) DESC LIMIT 1").fetchone()
    other = lake / "focus" / "billing_period=2024-01" / "provider=other"
    other.mkdir()
    duckdb.sql(f"COPY (SELECT {json.dumps(name)} AS ServiceName, 'Other' AS ServiceCategory, "
               f"'Other (Other)' AS ServiceSubcategory FROM range(5000)) TO "
               f"'{other}/rows.parquet' (FORMAT parquet)".replace('"', "'"))
    before = dict(duckdb.sql(f"SELECT ServiceName, any_value(ServiceCategory) FROM "
                             f"read_parquet('{period}/*.parquet') GROUP BY ALL").fetchall())
    spark_import(tmp_path, "aws", built["bucket"].source, AWS_EXPORTS, lake, "--month",
                 "2024-01")
    after = dict(duckdb.sql(f"SELECT ServiceName, any_value(ServiceCategory) FROM "
                            f"read_parquet('{period}/*.parquet') GROUP BY ALL").fetchall())
    assert category != "Other" and after == {**before, name: "Other"}


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory):
    """`moto_server` over HTTP on 127.0.0.1 (tests/kits/motokit.py)."""
    yield from motokit.serve(tmp_path_factory)


def test_an_s3_source_read_by_the_tasks(built, spark, moto_endpoint, monkeypatch,  # noqa: F811
                                        tmp_path):
    """s3:// through the AWS vendor's own source in each task (boto3's default chain: the
    environment), the same rows as the folder."""
    for name, value in {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_CONFIG_FILE": str(tmp_path / "none"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
                        "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    import boto3

    client = boto3.client("s3")
    client.create_bucket(Bucket="spark-cur")
    local = built["bucket"].source
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        client.upload_file(str(path), "spark-cur", "cur/" + path.relative_to(local).as_posix())
    lake = tmp_path / "lake"
    # The library, not finops_in: that one clears AWS_* for its command.
    build.build(lambda: spark, "aws", "s3://spark-cur/cur", ["v2csv"], str(lake),
                log=lambda message: None)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW ours AS {lake_sql(str(lake))}")
    names = ", ".join(f'"{n}"' for (n, *_) in con.execute("DESCRIBE ours").fetchall())
    ours = f"SELECT {names} FROM ours"
    theirs = (f"SELECT {names} FROM ({lake_sql(str(built['lake']))}) "
              "WHERE x_ExportName = 'v2csv'")
    assert con.execute(f"SELECT count(*) FROM ({ours})").fetchone()[0] > 0
    assert con.execute(f"SELECT count(*) FROM (({ours}) EXCEPT ALL ({theirs})) UNION ALL "
                       f"SELECT count(*) FROM (({theirs}) EXCEPT ALL ({ours}))"
                       ).fetchall() == [(0,), (0,)]


def test_without_java_a_local_spark_is_one_line(tmp_path, monkeypatch):
    from open_finops.core.errors import FinopsError
    from open_finops.spark import session

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(FinopsError, match="needs Java 17 or 21"):
        session.local()


def test_without_pyspark_a_local_spark_says_how_to_get_it(monkeypatch):
    """pyspark is the user's to install (a cluster brings its own)."""
    import importlib.util

    from open_finops.core.errors import FinopsError
    from open_finops.spark import session

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyspark" else find_spec(name, *a))
    monkeypatch.setattr(session, "java_problem", lambda: None)
    with pytest.raises(FinopsError) as caught:
        session.local()
    assert str(caught.value) == ("pyspark is not installed: pip install 'pyspark>=4.0,<5' "
                                 "'pandas>=2.2,<3' for a local Spark (a cluster brings its "
                                 "own)")


def test_a_report_over_no_lake_is_one_line(tmp_path):
    result = finops_in(tmp_path, "report", "spend", "--lake", str(tmp_path / "none"), code=2)
    assert result.err.strip() == (f"finops: error: no lake at {tmp_path / 'none'}: build one "
                                  "with finops spark import")


@pytest.mark.parametrize("args, code, message", [
    (["--source", "{tmp}/none", "--export-name", "x", "--lake", "{tmp}/lake"], 1,
     "finops: error: source {tmp}/none does not exist"),
    (["--source", "{tmp}", "--export-name", "x"], 2,
     "finops: error: --lake is required (or set lake in [spark] of config.toml, or "
     "OPEN_FINOPS_SPARK_LAKE)"),
    (["--source", "{tmp}", "--export-name", "x", "--lake", "s3://bucket/lake"], 1,
     "finops: error: --lake s3://bucket/lake: the lake is a folder (a local or mounted file "
     "system: the switch of a period is a rename), not an object store"),
])
def test_bad_options_are_one_line_before_any_spark(tmp_path, args, code, message):
    result = finops_in(tmp_path, "spark", "import", "aws",
                       *[a.format(tmp=tmp_path) for a in args], code=code)
    assert result.err.strip() == message.format(tmp=tmp_path)
