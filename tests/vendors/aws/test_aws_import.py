"""`finops aws import` from a local folder laid out like the bucket: every layout AWS
delivers, restatements, reruns, and bad input that must leave earlier data intact.

The reports are written by tests/kits/curgen.py, which knows their totals; the importer is driven
through the real `finops` command (in-process, for speed), and the store is read back with
DuckDB."""
from __future__ import annotations

import gzip
import re
import select
import shutil
import signal
import subprocess
import sys
import zlib
from pathlib import Path

import duckdb
import pytest

from finopskit import Run, holding_lock
from curgen import CurBucket, Delivery
from open_finops.aws.sources import LocalSource

APPROX = {"rel": 1e-9, "abs": 1e-6}
#: A TIMESTAMP WITH TIME ZONE column as UTC text, whatever the session's time zone (and no
#: pytz needed to fetch it).
UTC_TEXT = "CAST(timezone('UTC', {}) AS VARCHAR)"


@pytest.fixture
def bucket(tmp_path) -> CurBucket:
    return CurBucket(tmp_path / "bucket", prefix="reports/cur")


@pytest.fixture
def db(workdir) -> Path:
    return workdir / "data" / "finops.duckdb"


def query(db: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def period_totals(db: Path, export: str) -> dict[str, tuple[int, float]]:
    rows = query(db, "SELECT billing_period, count(*), sum(line_item_unblended_cost) "
                     "FROM aws_cur WHERE export_name = ? GROUP BY ALL ORDER BY 1", [export])
    return {period: (count, total) for period, count, total in rows}


def expected(*deliveries: Delivery) -> dict[str, tuple[int, float]]:
    return {d.period: (d.totals.rows, d.totals.unblended) for d in deliveries}


def assert_totals(actual: dict, wanted: dict) -> None:
    assert actual.keys() == wanted.keys()
    for period, (rows, total) in wanted.items():
        assert actual[period][0] == rows, period
        assert actual[period][1] == pytest.approx(total, **APPROX), period


def import_cur(finops, bucket: CurBucket, export: str, *extra: str, code: int = 0) -> Run:
    return finops("aws", "import", "--source", str(bucket.source), "--export-name", export,
                  *extra, code=code)


# -- every layout --------------------------------------------------------------------------

def test_legacy_versioned_csv_several_chunks(finops, bucket, db):
    jan = bucket.legacy("acme-cur", "2024-01", rows=300, chunks=3)
    feb = bucket.legacy("acme-cur", "2024-02", rows=200, chunks=1)
    run = import_cur(finops, bucket, "acme-cur")
    assert run.out == ""  # messages go to stderr
    assert "2024-01: loaded 300 rows from 3 files" in run.err
    assert "(1 csv file)" in run.err and "2024-02: loaded 200 rows from 1 file\n" in run.err
    assert_totals(period_totals(db, "acme-cur"), expected(jan, feb))
    types = dict(query(db, "SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_name = 'aws_cur'"))
    assert types["line_item_unblended_cost"] == "DOUBLE"
    assert types["line_item_usage_start_date"] == "TIMESTAMP"
    assert types["resource_tags_user_environment"] == "VARCHAR"
    assert types["savings_plan_savings_plan_a_r_n"] == "VARCHAR"


def test_legacy_overwrite_parquet_athena_layout(finops, bucket, db):
    jan = bucket.legacy("athena-cur", "2024-01", mode="overwrite", fmt="parquet", chunks=2)
    import_cur(finops, bucket, "athena-cur")
    assert_totals(period_totals(db, "athena-cur"), expected(jan))
    # AWS overwrites the same files with a new assemblyId: the period is replaced.
    restated = bucket.legacy("athena-cur", "2024-01", mode="overwrite", fmt="parquet",
                             rows=350, chunks=3, seed=7)
    run = import_cur(finops, bucket, "athena-cur")
    assert "loaded 350 rows" in run.err
    assert_totals(period_totals(db, "athena-cur"), expected(restated))


def test_legacy_overwrite_csv_beside_the_manifest(finops, bucket, db):
    jan = bucket.legacy("flat-cur", "2024-01", mode="overwrite", fmt="csv", chunks=2)
    assert jan.manifest.parent == jan.files[0].parent
    import_cur(finops, bucket, "flat-cur")
    assert_totals(period_totals(db, "flat-cur"), expected(jan))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_cur2(finops, bucket, db, fmt):
    jan = bucket.cur2("cur2-export", "2024-01", fmt=fmt, rows=250, chunks=3)
    feb = bucket.cur2("cur2-export", "2024-02", fmt=fmt, rows=150, chunks=1)
    run = import_cur(finops, bucket, "cur2-export")
    assert "CUR 2.0" in run.err
    assert_totals(period_totals(db, "cur2-export"), expected(jan, feb))
    types = dict(query(db, "SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_name = 'aws_cur'"))
    assert types["resource_tags"] == "MAP(VARCHAR, VARCHAR)"
    assert types["product"] == "MAP(VARCHAR, VARCHAR)"
    tagged = query(db, "SELECT count(*) FROM aws_cur WHERE resource_tags['user_team'] = 'web'")
    assert tagged[0][0] > 0
    services = dict(query(db, "SELECT ServiceName, sum(BilledCost) FROM focus "
                              "WHERE x_BillingPeriod = '2024-01' GROUP BY ALL"))
    assert services == pytest.approx(jan.totals.by_service, **APPROX)


def test_cur2_create_new_mode_takes_the_newest_execution(finops, bucket, db):
    bucket.cur2("daily", "2024-03", mode="create_new", rows=100, seed=1)
    newest = bucket.cur2("daily", "2024-03", mode="create_new", rows=120, seed=2)
    import_cur(finops, bucket, "daily")
    assert_totals(period_totals(db, "daily"), expected(newest))


def test_legacy_csv_legacy_parquet_and_cur2_line_up(finops, bucket, db):
    """The same usage delivered four ways gives the same totals, in one aws_cur view."""
    deliveries = [
        bucket.legacy("v1-csv", "2024-05", seed=3),
        bucket.legacy("v1-parquet", "2024-05", mode="overwrite", fmt="parquet", seed=3),
        bucket.cur2("v2-parquet", "2024-05", seed=3),
        bucket.cur2("v2-csv", "2024-05", fmt="csv", seed=3),
    ]
    for delivery in deliveries:
        import_cur(finops, bucket, delivery.export_name)
    rows = query(db, "SELECT export_name, count(*), round(sum(line_item_unblended_cost), 6), "
                     "round(sum(line_item_usage_amount), 6), min(line_item_usage_start_date), "
                     "count(DISTINCT line_item_resource_id) FROM aws_cur GROUP BY ALL")
    assert len(rows) == 4
    assert len({row[1:] for row in rows}) == 1, rows
    assert rows[0][2] == pytest.approx(deliveries[0].totals.unblended, **APPROX)
    focus = query(db, "SELECT x_ExportName, sum(EffectiveCost), count(DISTINCT ServiceName), "
                      "count(DISTINCT RegionId) FROM focus GROUP BY ALL")
    for _name, effective, services, regions in focus:
        assert effective == pytest.approx(deliveries[0].totals.effective, **APPROX)
        assert (services, regions) == (6, 3)  # five AWS services, one Marketplace product


def test_columns_that_come_and_go_are_absorbed_by_name(finops, bucket, db):
    bucket.legacy("drift", "2024-01", tags=("Environment", "Team"))
    bucket.legacy("drift", "2024-02", tags=("Environment", "Project"),
                  drop=("product/volumeType", "savingsPlan/Region"))
    import_cur(finops, bucket, "drift")
    rows = dict(((period, column), count) for period, column, count in query(
        db, "SELECT billing_period, 'team', count(resource_tags_user_team) FROM aws_cur "
            "GROUP BY ALL UNION ALL SELECT billing_period, 'project', "
            "count(resource_tags_user_project) FROM aws_cur GROUP BY ALL UNION ALL "
            "SELECT billing_period, 'volume', count(product_volume_type) FROM aws_cur "
            "GROUP BY ALL"))
    assert rows[("2024-01", "team")] > 0 and rows[("2024-02", "team")] == 0
    assert rows[("2024-01", "project")] == 0 and rows[("2024-02", "project")] > 0
    assert rows[("2024-01", "volume")] > 0 and rows[("2024-02", "volume")] == 0


def test_no_prefix_and_a_name_full_of_regex_and_glob_characters(finops, tmp_path, db):
    bucket = CurBucket(tmp_path / "flat-bucket", prefix="")
    name = "cur.(prod)+[a]*?{x}$"
    jan = bucket.legacy(name, "2024-01", chunks=2)
    feb = bucket.cur2("other", "2024-01", fmt="csv")
    assert bucket.source == bucket.root
    import_cur(finops, bucket, name)
    import_cur(finops, bucket, "other")
    assert_totals(period_totals(db, name), expected(jan))
    assert_totals(period_totals(db, "other"), expected(feb))


def test_a_copy_under_another_prefix_still_resolves_keys(finops, bucket, db, tmp_path):
    """reportKeys name the original bucket prefix; a synced copy elsewhere still loads."""
    jan = bucket.legacy("acme", "2024-01")
    copy = tmp_path / "elsewhere" / "mirror"
    shutil.copytree(bucket.source / "acme", copy / "acme")
    finops("aws", "import", "--source", str(copy), "--export-name", "acme")
    assert_totals(period_totals(db, "acme"), expected(jan))


def test_an_export_one_or_two_folders_below_the_source_is_found(finops, bucket, db, tmp_path):
    """--source the bucket's root where the report's prefix is cur/ (or reports/cur/): the
    export is searched one or two folders down; -v says where it was found."""
    jan = bucket.legacy("acme", "2024-01")
    root = tmp_path / "root"
    shutil.copytree(bucket.source / "acme", root / "reports" / "cur" / "acme")
    run = finops("-v", "aws", "import", "--source", str(root / "reports"), "--export-name",
                 "acme")
    assert f"finops: export acme found under {root / 'reports' / 'cur'}" in run.err
    assert_totals(period_totals(db, "acme"), expected(jan))
    run = finops("aws", "list", "--source", str(root), "--export-name", "acme")
    assert run.out.splitlines()[1].split()[:2] == ["2024-01", "legacy"]
    assert "found under" not in run.err  # without -v

    # Three folders down is too far; in two folders at once, which one is for the user.
    deeper = tmp_path / "deeper"
    shutil.copytree(root, deeper / "x")
    run = finops("aws", "import", "--source", str(deeper), "--export-name", "acme", code=1)
    assert run.err.strip().splitlines()[-1] == (
        f"finops: error: no export 'acme' within 2 folders of {deeper}; deeper: "
        "x/reports/cur/acme; give --source the folder that holds it")
    shutil.copytree(bucket.source / "acme", root / "backup" / "acme")
    run = finops("aws", "list", "--source", str(root), "--export-name", "acme", code=1)
    assert run.err.strip() == (
        f"finops: error: export 'acme' is in several folders under {root}: backup/acme, "
        "reports/cur/acme; give --source the one to read")


# -- versions: restatement, skip, force ----------------------------------------------------

def test_restatement_replaces_the_period_and_reruns_skip(finops, bucket, db):
    first = bucket.legacy("acme", "2024-01", rows=200, chunks=3)
    feb = bucket.legacy("acme", "2024-02", rows=100)
    import_cur(finops, bucket, "acme")
    assert_totals(period_totals(db, "acme"), expected(first, feb))

    # After month end AWS re-delivers January under a new assemblyId (credits, refunds).
    restated = bucket.legacy("acme", "2024-01", rows=260, chunks=4, seed=1, final=True)
    assert restated.version_id != first.version_id
    run = import_cur(finops, bucket, "acme")
    assert "2024-01: loaded 260 rows" in run.err
    assert "2024-02: version" in run.err and "skipped" in run.err
    assert_totals(period_totals(db, "acme"), expected(restated, feb))

    # A database that an earlier version made: its views are brought up to date by an
    # import that has nothing new to load.
    con = duckdb.connect(str(db))
    con.execute("CREATE OR REPLACE VIEW main.focus AS SELECT 1 AS BilledCost")
    con.close()
    run = import_cur(finops, bucket, "acme")
    assert run.err.count("skipped") == 2
    assert_totals(period_totals(db, "acme"), expected(restated, feb))
    assert query(db, "SELECT count(*) FROM focus WHERE NOT x_UnusedCommitment") == [
        (restated.totals.rows + feb.totals.rows,)]

    run = import_cur(finops, bucket, "acme", "--force", "--start", "2024-01", "--end", "2024-01")
    assert "2024-01: loaded 260 rows" in run.err and "2024-02" not in run.err
    assert_totals(period_totals(db, "acme"), expected(restated, feb))

    history = query(db, "SELECT billing_period, version_id, status, row_count FROM "
                        "open_finops_aws.imports ORDER BY started, billing_period, rowid")
    assert [h[:3] for h in history if h[0] == "2024-01"] == [
        ("2024-01", first.version_id, "loaded"),
        ("2024-01", restated.version_id, "loaded"),
        ("2024-01", restated.version_id, "loaded"),
    ]


def test_an_import_reads_only_the_newest_manifest_of_each_period(finops, bucket, db,
                                                                 monkeypatch):
    """One GET per period, however many versions AWS has kept."""
    for seed in range(4):
        jan = bucket.legacy("acme", "2024-01", rows=20, chunks=1, seed=seed)
    feb = bucket.legacy("acme", "2024-02", rows=20, chunks=1)
    read = []
    read_bytes = LocalSource.read_bytes
    monkeypatch.setattr(LocalSource, "read_bytes",
                        lambda self, key: read.append(key) or read_bytes(self, key))
    import_cur(finops, bucket, "acme")
    assert sorted(read) == ["acme/20240101-20240201/acme-Manifest.json",
                            "acme/20240201-20240301/acme-Manifest.json"]
    assert_totals(period_totals(db, "acme"), expected(jan, feb))
    read.clear()
    listing = finops("aws", "list", "--source", str(bucket.source), "--export-name",
                     "acme").out
    assert len(read) == 4 + 1 + 2 and listing.count("2024-01") == 4


def test_start_and_end_select_periods(finops, bucket, db):
    for month in ("2023-11", "2023-12", "2024-01", "2024-02"):
        bucket.cur2("exp", month, rows=20, chunks=1)
    import_cur(finops, bucket, "exp", "--start", "2023-12", "--end", "2024-01")
    assert list(period_totals(db, "exp")) == ["2023-12", "2024-01"]
    run = import_cur(finops, bucket, "exp", "--start", "2025-01", code=1)
    assert "no billing period between 2025-01 and the last" in run.err


# FOCUS ChargeCategory of each line item type (the FOCUS converters' mapping, with FOCUS 1.0's
# Credit category for credits).
CHARGE_CATEGORY = {
    "Usage": "Usage", "DiscountedUsage": "Usage", "SavingsPlanCoveredUsage": "Usage",
    "SavingsPlanNegation": "Usage", "EdpDiscount": "Usage", "BundledDiscount": "Usage",
    "RIFee": "Purchase", "Fee": "Purchase", "SavingsPlanRecurringFee": "Purchase",
    "SavingsPlanUpfrontFee": "Purchase", "Tax": "Tax", "Credit": "Credit", "Refund": "Adjustment",
}


@pytest.mark.parametrize("cur", ["legacy csv", "legacy parquet", "cur2 parquet", "cur2 csv"])
def test_focus_effective_cost_and_category_by_line_item_type(finops, bucket, db, cur):
    kind, fmt = cur.split()
    write = bucket.legacy if kind == "legacy" else bucket.cur2
    mode = "overwrite" if kind == "legacy" and fmt == "parquet" else None
    jan = write("acme", "2024-01", rows=1500, fmt=fmt, **({"mode": mode} if mode else {}))
    import_cur(finops, bucket, "acme")
    rows = query(db, "SELECT x_LineItemType, ChargeCategory, sum(EffectiveCost), "
                     "sum(BilledCost), count(ConsumedQuantity), count(ConsumedUnit), count(*) "
                     "FROM focus WHERE NOT x_UnusedCommitment GROUP BY ALL")
    assert {row[0]: row[1] for row in rows} == CHARGE_CATEGORY
    # The unused part of RI and Savings Plan recurring fees: rows of their own (FOCUS 1.2).
    effective = dict(query(db, "SELECT x_LineItemType, sum(EffectiveCost) FROM focus "
                               "GROUP BY ALL"))
    assert effective == pytest.approx(jan.totals.effective_by_type, **APPROX)
    unused = query(db, "SELECT DISTINCT x_LineItemType, ChargeCategory, CommitmentDiscountStatus,"
                       " BilledCost, ListCost FROM focus WHERE x_UnusedCommitment ORDER BY 1")
    assert unused == [("RIFee", "Usage", "Unused", 0.0, 0.0),
                      ("SavingsPlanRecurringFee", "Usage", "Unused", 0.0, 0.0)]
    # Amortization moves cost from purchases to usage: these differ from the billed cost.
    for item_type in ("DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation",
                      "RIFee", "Fee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee"):
        billed = next(row[3] for row in rows if row[0] == item_type)
        assert effective[item_type] != pytest.approx(billed, **APPROX), item_type
    # FOCUS 1.2: a ConsumedQuantity on every Usage row (negations and discounts too), no other.
    for item_type, _category, _eff, _billed, quantities, units, count in rows:
        usage = CHARGE_CATEGORY[item_type] == "Usage"
        assert (quantities, units) == ((count, count) if usage else (0, 0)), item_type
    assert query(db, f"SELECT DISTINCT {UTC_TEXT.format('BillingPeriodStart')}, "
                     f"{UTC_TEXT.format('BillingPeriodEnd')}, BillingAccountId, "
                     "BillingCurrency FROM focus") == [
        ("2024-01-01 00:00:00", "2024-02-01 00:00:00", "999999999999", "USD")]


def test_focus_view_totals(finops, bucket, db):
    jan = bucket.legacy("acme", "2024-01", rows=400)
    import_cur(finops, bucket, "acme")
    billed, effective, list_cost, consumed, rows = query(
        db, "SELECT sum(BilledCost), sum(EffectiveCost), sum(ListCost), "
            "sum(ConsumedQuantity), count(*) FILTER (NOT x_UnusedCommitment) FROM focus")[0]
    assert rows == jan.totals.rows
    assert billed == pytest.approx(jan.totals.unblended, **APPROX)
    assert effective == pytest.approx(jan.totals.effective, **APPROX)
    assert list_cost == pytest.approx(jan.totals.list_cost, **APPROX)
    assert consumed == pytest.approx(jan.totals.consumed, **APPROX)
    by_category = dict(query(db, "SELECT ChargeCategory, sum(BilledCost) FROM focus "
                                 "GROUP BY ALL"))
    assert by_category == pytest.approx(jan.totals.by_category, **APPROX)
    columns = {row[0] for row in query(db, "DESCRIBE focus")}
    assert {"BilledCost", "EffectiveCost", "ListCost", "ListUnitPrice", "BillingPeriodStart",
            "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd", "BillingAccountId",
            "SubAccountId", "BillingCurrency", "ServiceName", "ProviderName", "ResourceId",
            "RegionId", "AvailabilityZone", "ChargeCategory", "ConsumedQuantity",
            "PricingUnit"} <= columns
    assert query(db, f"SELECT DISTINCT ProviderName, BillingAccountId, BillingCurrency, "
                     f"{UTC_TEXT.format('BillingPeriodStart')}, "
                     f"{UTC_TEXT.format('BillingPeriodEnd')} FROM focus") == [
        ("AWS", "999999999999", "USD", "2024-01-01 00:00:00", "2024-02-01 00:00:00")]
    types = dict(query(db, "SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_name = 'focus'"))
    for column in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
                   "ChargePeriodEnd"):
        assert types[column] == "TIMESTAMP WITH TIME ZONE", column
    for column in ("BilledCost", "EffectiveCost", "ListCost", "ListUnitPrice",
                   "ConsumedQuantity"):
        assert types[column] == "DOUBLE", column


# An import run in a child process that stops, mid-transaction, after its first batch of
# files is in the new table; it waits there for its stdin (which never comes) to be killed.
STOPS_MID_IMPORT = """
import sys
from open_finops.aws import loader
read = loader.Aws.read

def read_then_wait(self, *args, **kwargs):
    read(self, *args, **kwargs)
    print("batch loaded", flush=True)
    sys.stdin.read()

loader.Aws.read = read_then_wait
from open_finops.core.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_kill_9_in_the_middle_of_a_restatement_leaves_the_period_intact(finops, bucket, db):
    jan = bucket.legacy("acme", "2024-01", mode="overwrite", fmt="parquet", rows=500)
    import_cur(finops, bucket, "acme")
    size_before = db.stat().st_size
    # Enough rows (one row group is 122,880) that DuckDB writes a whole row group of the new
    # table into the file before the transaction commits.
    restated = bucket.legacy("acme", "2024-01", mode="overwrite", fmt="parquet",
                             rows=125_000, chunks=1, seed=1)
    child = subprocess.Popen(
        [sys.executable, "-c", STOPS_MID_IMPORT, "aws", "import", "--source",
         str(bucket.source), "--export-name", "acme"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = select.select([child.stdout], [], [], 120)[0]
        said = child.stdout.readline() if ready else "(nothing in 120s)"
        size_during = db.stat().st_size
    finally:
        child.kill()  # SIGKILL: no rollback, no clean-up, no error recorded
        _out, err = child.communicate(timeout=60)
    assert said.strip() == "batch loaded", err
    assert child.returncode == -signal.SIGKILL, err
    assert size_during > size_before, "no uncommitted data in the file yet: this proves less"
    staging = Path(f"{db}.aws-staging")
    assert staging.is_dir()  # left behind by the killed process

    assert_totals(period_totals(db, "acme"), expected(jan))
    assert query(db, "SELECT version_id FROM open_finops_aws.loaded") == [(jan.version_id,)]
    history = [row[2:4] for row in show_state_history(finops)]
    assert history == [[jan.version_id, "loaded"], [restated.version_id, "interrupted"]]

    run = import_cur(finops, bucket, "acme")
    assert "2024-01: loaded 125,000 rows" in run.err
    assert_totals(period_totals(db, "acme"), expected(restated))
    assert not staging.exists()
    history = [row[2:4] for row in show_state_history(finops)]
    assert history == [[jan.version_id, "loaded"], [restated.version_id, "interrupted"],
                       [restated.version_id, "loaded"]]


def show_state_history(finops) -> list[list[str]]:
    """The rows of state's history table, as cells."""
    out = finops("aws", "state").out.split("History:")[1]
    return [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()[1:]]


# -- bad input: one line, non-zero exit, earlier data intact -------------------------------

def _restate(bucket: CurBucket) -> Delivery:
    return bucket.legacy("acme", "2024-01", rows=90, chunks=3, seed=5)


@pytest.fixture
def loaded(finops, bucket, db):
    """January loaded once; each test breaks a newer delivery of it."""
    jan = bucket.legacy("acme", "2024-01", rows=200, chunks=3)
    import_cur(finops, bucket, "acme")
    return jan


def _assert_failed_and_intact(finops, bucket, db, jan: Delivery, run: Run, *needles: str):
    errors = [line for line in run.err.splitlines() if "error:" in line]
    assert len(errors) == 1, run.err
    for needle in needles:
        assert needle in errors[0], errors[0]
    assert_totals(period_totals(db, "acme"), expected(jan))
    last = query(db, "SELECT status, error FROM open_finops_aws.imports "
                     "ORDER BY started DESC, finished DESC LIMIT 1")[0]
    assert last[0] == "failed" and last[1]
    assert query(db, "SELECT version_id FROM open_finops_aws.loaded") == [(jan.version_id,)]
    state = finops("aws", "state", "--month", "2024-01")
    assert "failed" in state.out and jan.version_id in state.out


def test_corrupt_gzip_in_the_middle(finops, bucket, db, loaded):
    broken = _restate(bucket)
    data = bytearray(broken.files[1].read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0x5A
    broken.files[1].write_bytes(bytes(data))
    run = import_cur(finops, bucket, "acme", code=1)
    _assert_failed_and_intact(finops, bucket, db, loaded, run, str(broken.files[1]))


def test_gzip_truncated_at_a_line_end_is_caught(finops, bucket, db, loaded):
    """DuckDB alone would load the first lines quietly: zlib's check catches it."""
    broken = _restate(bucket)
    text = gzip.decompress(broken.files[0].read_bytes())
    cut = text.index(b"\n", len(text) // 2) + 1
    # A download cut at a flush point: the stream holds exactly the first lines.
    compressor = zlib.compressobj(wbits=31)
    partial = compressor.compress(text[:cut]) + compressor.flush(zlib.Z_SYNC_FLUSH)
    broken.files[0].write_bytes(partial)
    probe = duckdb.sql(f"SELECT count(*) FROM read_csv('{broken.files[0]}', header = true, "
                       "all_varchar = true)").fetchone()[0]
    assert 0 < probe < broken.totals.rows / 3  # what DuckDB alone would have loaded
    run = import_cur(finops, bucket, "acme", code=1)
    _assert_failed_and_intact(finops, bucket, db, loaded, run, str(broken.files[0]), "gzip")


def test_not_gzip_at_all(finops, bucket, db, loaded):
    broken = _restate(bucket)
    broken.files[2].write_bytes(b"this is not gzip\n" * 10)
    run = import_cur(finops, bucket, "acme", code=1)
    _assert_failed_and_intact(finops, bucket, db, loaded, run, str(broken.files[2]), "gzip")


def test_parquet_file_that_is_not_parquet(finops, bucket, db):
    jan = bucket.legacy("acme", "2024-01", mode="overwrite", fmt="parquet")
    import_cur(finops, bucket, "acme")
    broken = bucket.legacy("acme", "2024-01", mode="overwrite", fmt="parquet", seed=9)
    broken.files[0].write_text("PAR1? no: a CSV someone renamed\na,b\n1,2\n")
    run = import_cur(finops, bucket, "acme", code=1)
    _assert_failed_and_intact(finops, bucket, db, jan, run, str(broken.files[0]))


def test_parquet_file_with_text_in_a_cost_column(finops, bucket, db):
    jan = bucket.legacy("acme", "2024-01", mode="overwrite", fmt="parquet")
    import_cur(finops, bucket, "acme")
    broken = bucket.legacy("acme", "2024-01", mode="overwrite", fmt="parquet", seed=9)
    target, edited = broken.files[1], broken.files[1].with_suffix(".tmp")
    duckdb.sql(f"COPY (SELECT * REPLACE ('n/a' AS line_item_unblended_cost) FROM "
               f"read_parquet('{target}')) TO '{edited}' (FORMAT parquet)")
    edited.replace(target)
    run = import_cur(finops, bucket, "acme", code=1)
    _assert_failed_and_intact(finops, bucket, db, jan, run, f"{target}: Conversion Error",
                              "'n/a'")


def test_manifest_naming_absent_files(finops, bucket, db, loaded):
    broken = _restate(bucket)
    broken.files[1].unlink()
    run = import_cur(finops, bucket, "acme", code=1)
    # The key as the manifest names it (reportKeys are bucket keys: reports/cur/acme/...).
    named = str(broken.files[1].relative_to(bucket.root))
    _assert_failed_and_intact(finops, bucket, db, loaded, run, f"does not exist: {named}")
    assert "reports/cur/reports/cur" not in run.err


def test_csv_files_aws_did_not_write_with_words_for_empty_numbers(finops, bucket, db):
    """Re-exports and other tools' copies write None, null or NULL where AWS leaves a number
    or a date empty: NULL, like an empty cell; text columns keep the word."""
    words = {"2024-01": "None", "2024-02": "null", "2024-03": "NULL"}
    deliveries = [bucket.legacy("acme", period, rows=200, chunks=2, null_text=word)
                  for period, word in words.items()]
    for delivery, word in zip(deliveries, words.values()):
        assert f",{word}," in gzip.decompress(delivery.files[0].read_bytes()).decode()
    run = import_cur(finops, bucket, "acme")
    assert run.err.count("loaded 200 rows from 2 files") == 3
    assert_totals(period_totals(db, "acme"), expected(*deliveries))
    assert dict(query(db, "SELECT billing_period, string_agg(DISTINCT product_pre_installed_sw)"
                          " FROM aws_cur GROUP BY ALL")) == words
    nulls = query(db, "SELECT count(*) FILTER (savings_plan_savings_plan_rate IS NULL),"
                      " count(*) FILTER (savings_plan_savings_plan_a_r_n IS NULL) FROM aws_cur")
    assert nulls[0][0] == nulls[0][1] > 0
    effective = query(db, "SELECT sum(EffectiveCost) FROM focus")[0][0]
    assert effective == pytest.approx(sum(d.totals.effective for d in deliveries), **APPROX)


def test_csv_with_another_word_in_a_number_still_fails_naming_it(finops, bucket, db, loaded):
    broken = bucket.legacy("acme", "2024-01", rows=90, chunks=1, seed=5, null_text="n/a")
    run = import_cur(finops, bucket, "acme", code=1)
    _assert_failed_and_intact(finops, bucket, db, loaded, run, str(broken.files[0]),
                              "CSV Error on Line: 2", 'column "savings_plan_savings_plan_rate"',
                              '"n/a"')


def test_manifest_that_is_not_json(finops, bucket, db, loaded):
    broken = _restate(bucket)
    for manifest in (broken.manifest, broken.manifest.parent.parent / "acme-Manifest.json"):
        manifest.write_text('{"assemblyId": "x", "reportKeys": [')
    run = import_cur(finops, bucket, "acme", code=1)
    _assert_failed_and_intact(finops, bucket, db, loaded, run, "invalid JSON")
    # Its progress line names the manifest: no version made up from its digest, no file count.
    top = broken.manifest.parent.parent / "acme-Manifest.json"
    assert f"==> acme 2024-01: loading {top}\n" in run.err
    assert "sha1:" not in run.err and "0 csv files" not in run.err


def test_a_bad_period_does_not_stop_the_others(finops, bucket, db, loaded):
    broken = _restate(bucket)
    broken.files[0].write_bytes(b"garbage")
    feb = bucket.legacy("acme", "2024-02")
    run = import_cur(finops, bucket, "acme", code=1)
    assert "2024-02: loaded" in run.err
    assert_totals(period_totals(db, "acme"), expected(loaded, feb))


def test_missing_manifest(finops, bucket, db):
    bucket.legacy("acme", "2024-01")
    run = import_cur(finops, bucket, "acme-typo", code=1)
    assert run.err.strip().splitlines()[-1] == (
        f"finops: error: no export 'acme-typo' under {bucket.source}; exports there: acme; "
        "did you mean 'acme'?")
    run = finops("aws", "import", "--source", str(bucket.root / "nowhere"),
                 "--export-name", "acme", code=1)
    assert f"source {bucket.root / 'nowhere'} does not exist" in run.err
    run = finops("aws", "import", "--source", str(bucket.source / "acme"),
                 "--export-name", "acme", code=1)
    assert "--source is the export's own folder; give the folder that contains acme/" in run.err


@pytest.mark.parametrize("option, value", [("--start", "2024-1"), ("--end", "24-01"),
                                           ("--start", "2024-13")])
def test_month_in_the_wrong_form(finops, bucket, option, value):
    bucket.legacy("acme", "2024-01")
    run = import_cur(finops, bucket, "acme", option, value, code=2)
    assert run.err.strip() == f"finops: error: {option}: expected a month as YYYY-MM, " \
                              f"got {value!r}"


def test_database_locked_by_another_process(finops, bucket, db, loaded):
    with holding_lock(db) as pid:
        _restate(bucket)
        locked = (f"finops: error: database {db} is locked by another process "
                  f"(PID {pid}); retry when it has finished")
        run = import_cur(finops, bucket, "acme", code=1)
        assert run.err.strip().splitlines()[-1] == locked
        # state, summary and list read the copy the last import published.
        busy = (f"==> database {db} is locked by another process (PID {pid}): showing the "
                "state that the last import published")
        state = finops("aws", "state", "--month", "2024-01")
        assert state.err.strip() == busy
        loaded_rows = [line.split() for line in state.out.split("History:")[0].splitlines()]
        assert loaded_rows[2][:2] == ["acme", "2024-01"] and len(loaded_rows) == 4
        summary = finops("aws", "summary")
        assert summary.err == "" and summary.out.splitlines()[-1].split()[:2] == ["TOTAL", "USD"]
        listing = finops("aws", "list", "--source", str(bucket.source),
                         "--export-name", "acme")
        lines = [line.split() for line in listing.out.strip().splitlines()]
        assert lines[0][-1] == "LOADED" and [line[-1] for line in lines[1:]] == ["yes", "no"]
        assert listing.err.strip() == busy
    assert_totals(period_totals(db, "acme"), expected(loaded))


def test_both_cur_versions_under_one_name_need_a_choice(finops, bucket, db):
    legacy = bucket.legacy("same", "2024-01")
    cur2 = bucket.cur2("same", "2024-01", seed=4)
    run = import_cur(finops, bucket, "same", code=1)
    assert "choose one with --cur-version v1 or v2" in run.err
    import_cur(finops, bucket, "same", "--cur-version", "v2")
    assert_totals(period_totals(db, "same"), expected(cur2))
    import_cur(finops, bucket, "same", "--cur-version", "v1")
    assert_totals(period_totals(db, "same"), expected(legacy))


# -- AWS's own FOCUS exports ---------------------------------------------------------------

def focus_totals(db: Path, export: str) -> dict[str, tuple[int, float, float]]:
    """Line items (without the rows FOCUS adds for unused commitments), billed and effective
    cost of each period of an export, from the focus view."""
    rows = query(db, "SELECT x_BillingPeriod, count(*) FILTER (NOT x_UnusedCommitment), "
                     "sum(BilledCost), sum(EffectiveCost) FROM focus WHERE x_ExportName = ? "
                     "GROUP BY ALL ORDER BY 1", [export])
    return {period: (count, billed, effective) for period, count, billed, effective in rows}


def assert_focus_totals(db: Path, export: str, *deliveries: Delivery) -> None:
    actual = focus_totals(db, export)
    assert list(actual) == [d.period for d in deliveries]
    for d in deliveries:
        assert actual[d.period][0] == d.totals.rows, d.period
        assert actual[d.period][1:] == pytest.approx(
            (d.totals.unblended, d.totals.effective), **APPROX), d.period


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_aws_focus_exports_join_the_focus_view(finops, bucket, db, fmt):
    mar = bucket.focus_export("focus-exp", "2024-03", fmt=fmt, rows=300)
    apr = bucket.focus_export("focus-exp", "2024-04", fmt=fmt, rows=200, chunks=1)
    cur = bucket.legacy("acme", "2024-03", rows=200)
    run = import_cur(finops, bucket, "focus-exp")
    assert "focus-exp 2024-03: loading FOCUS version" in run.err
    import_cur(finops, bucket, "acme")
    assert_focus_totals(db, "focus-exp", mar, apr)
    assert_focus_totals(db, "acme", cur)
    services = dict(query(db, "SELECT ServiceName, sum(BilledCost) FROM focus WHERE "
                              "x_ExportName = 'focus-exp' AND x_BillingPeriod = '2024-03' "
                              "GROUP BY ALL"))
    assert services == pytest.approx(mar.totals.by_service, **APPROX)
    # Not CUR line items: aws_cur holds only the CUR's.
    assert query(db, "SELECT DISTINCT export_name FROM aws_cur") == [("acme",)]
    state = finops("aws", "state", "--export-name", "focus-exp").out
    assert re.search(r"focus-exp\s+2024-03\s+FOCUS\s+" + fmt, state), state

    restated = bucket.focus_export("focus-exp", "2024-03", fmt=fmt, rows=250, seed=1)
    run = import_cur(finops, bucket, "focus-exp")
    assert "2024-03: loaded 250 rows" in run.err and "2024-04: version" in run.err
    assert_focus_totals(db, "focus-exp", restated, apr)
    assert_focus_totals(db, "acme", cur)
    listing = finops("aws", "list", "--source", str(bucket.source), "--export-name",
                     "focus-exp").out
    assert listing.count(" FOCUS ") == 2, listing


def test_the_kind_of_a_data_export_is_told_by_its_manifest(finops, bucket, db):
    bucket.focus_export("focus-exp", "2024-03", rows=50)
    bucket.cur2("cur2-exp", "2024-03", rows=50)
    run = import_cur(finops, bucket, "focus-exp", "--cur-version", "v2", code=1)
    assert "is a FOCUS export, not CUR 2.0: use --cur-version auto" in run.err
    run = import_cur(finops, bucket, "cur2-exp", "--cur-version", "focus", code=1)
    assert "is a CUR 2.0 export, not FOCUS: use --cur-version auto" in run.err
    import_cur(finops, bucket, "focus-exp", "--cur-version", "focus")
    import_cur(finops, bucket, "cur2-exp", "--cur-version", "v2")
    assert query(db, "SELECT export_name, cur_version FROM open_finops_aws.loaded "
                     "ORDER BY 1") == [("cur2-exp", "v2"), ("focus-exp", "focus")]
