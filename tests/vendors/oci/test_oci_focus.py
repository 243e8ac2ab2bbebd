"""OCI's rows in ``main.focus``: exact to the cent against the generator's totals and the
real sample's own sum, and held to the FOCUS rules (tests/kits/focusrules.py, written from the
FOCUS text) over two datasets: the generator's FOCUS and cost reports of two tenancies, and
the FinOps Foundation's real, anonymised OCI cost report (finopsfoundation/focus_converters,
tests/provider_config_tests/oci/reports_cost-csv_0000000030000269.csv, November 2023: 506
rows), imported as OCI delivers it (``reports/cost-csv/0000000030000269.csv.gz``)."""
from __future__ import annotations

import csv
import datetime
import gzip
import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import ocigen
from finopskit import quarters
from focusrules import (
    ADDED_1_3, ALLOWED, COLUMNS, CONSUMING, DESCRIBING, NOT_NULL, PAIRS, RULES_1_3, UNIT)
from open_finops.oci.loader import import_reports
from open_finops.oci.sources import LocalSource

SAMPLE = Path(__file__).resolve().parent / "data" / "focus-converters-oci-sample-2023-11.csv.gz"
SAMPLE_KEY = "reports/cost-csv/0000000030000269.csv.gz"
SAMPLE_TENANCY = "ocid1.tenancy.oc1..aaaaaaaadsyhydp66mjpsohqocfcgzaabtrit47ex2igzu2j6lhuadrrglca"


def _import(source: Path, db: Path, export: str | None = None, kind: str = "auto") -> None:
    results = import_reports(LocalSource(source), export, db, kind=kind,
                             log=lambda message: None)
    assert results and [r.status for r in results] == ["loaded"] * len(results), results


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """Two tenancies' buckets (both kinds, two months, the second tenancy a month later),
    imported into one database: the first's kinds under their own names, the second's as
    dev-focus and dev-cost."""
    root = tmp_path_factory.mktemp("oci")
    prod = ocigen.OciBucket(root / "buckets" / ocigen.TENANCIES[0].ocid, ocigen.TENANCIES[0])
    dev = ocigen.OciBucket(root / "buckets" / ocigen.TENANCIES[1].ocid, ocigen.TENANCIES[1],
                           seed=2)
    for month in ("2024-01", "2024-02"):
        prod.month(month, rows=12)
    dev.month("2024-02", rows=12)
    db = root / "finops.duckdb"
    _import(prod.root, db)  # auto: FOCUS, recorded as "focus"
    _import(prod.root, db, "cost")
    _import(dev.root, db, "dev-focus", kind="focus")
    _import(dev.root, db, "dev-cost", kind="cost")
    exports = {"focus": (prod, "focus"), "cost": (prod, "cost"),
               "dev-focus": (dev, "focus"), "dev-cost": (dev, "cost")}
    return {"db": db, "exports": exports}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    bucket = root / SAMPLE_TENANCY
    (bucket / SAMPLE_KEY).parent.mkdir(parents=True)
    shutil.copyfile(SAMPLE, bucket / SAMPLE_KEY)
    db = root / "finops.duckdb"
    _import(root, db)  # the folder above the bucket: found below it
    return db


@pytest.fixture(params=["generated", "sample"])
def dataset(request) -> Path:
    return request.getfixturevalue("built")["db"] if request.param == "generated" \
        else request.getfixturevalue("sample")


_CONNECTIONS: dict[Path, duckdb.DuckDBPyConnection] = {}


def query(db: Path, sql: str, *params) -> list[tuple]:
    if db not in _CONNECTIONS:
        _CONNECTIONS[db] = duckdb.connect(str(db), read_only=True)
    return _CONNECTIONS[db].execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module", autouse=True)
def _close_connections():
    yield
    for con in _CONNECTIONS.values():
        con.close()
    _CONNECTIONS.clear()


def violations(db: Path, where: str) -> int:
    return query(db, f"SELECT count(*) FROM focus WHERE {where}")[0][0]


# -- money -----------------------------------------------------------------------------------

def test_totals_by_account_and_month_are_the_generators_to_the_cent(built):
    found = {(x, p, a): (Decimal(str(b)), Decimal(str(e)), n) for x, p, a, b, e, n in query(
        built["db"], "SELECT x_ExportName, x_BillingPeriod, BillingAccountId, "
                     "round(sum(BilledCost), 2), round(sum(EffectiveCost), 2), count(*) "
                     "FROM focus WHERE ProviderName = 'Oracle' GROUP BY ALL")}
    expected = {}
    for export, (bucket, kind) in built["exports"].items():
        for (written_kind, month), totals in bucket.totals.items():
            if written_kind == kind:
                for account, cost in totals.by_account.items():
                    expected[(export, month, account)] = ocigen.cents(cost)
    assert {k: v[0] for k, v in found.items()} == expected
    assert all(billed == effective for billed, effective, _n in found.values())
    assert len({account for _x, _p, account in expected}) == 6  # 3 subscriptions, 2 kinds
    # A cost report written on the first of a month holds late usage of the month before.
    assert ("cost", "2023-12") in {(x, p) for x, p, _a in expected}


def test_rows_and_corrections_are_the_generators(built):
    found = {(x, p): (n, c) for x, p, n, c in query(
        built["db"], "SELECT x_ExportName, x_BillingPeriod, count(*), count(*) FILTER "
                     "(ChargeClass = 'Correction') FROM focus GROUP BY ALL")}
    expected = {}
    for export, (bucket, kind) in built["exports"].items():
        for (written_kind, month), totals in bucket.totals.items():
            if written_kind == kind:
                expected[(export, month)] = (totals.rows, totals.marked)
    assert found == expected
    assert sum(c for _n, c in found.values()) > 0
    # A correction names the line it corrects, which is loaded too (its own month or before).
    orphans = query(built["db"], "SELECT count(*) FROM focus c WHERE c.ChargeClass = "
                                 "'Correction' AND NOT EXISTS (SELECT 1 FROM focus o WHERE "
                                 "o.x_ReferenceNumber = c.x_BackReferenceNumber)")
    assert orphans == [(0,)]


def test_the_real_sample_to_the_cent_against_its_own_sum(sample):
    with gzip.open(SAMPLE, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 506
    by_account: dict[str, Decimal] = {}
    for row in rows:
        account = row["cost/subscriptionId"]
        by_account[account] = by_account.get(account, Decimal(0)) + Decimal(row["cost/myCost"])
    found = query(sample, "SELECT BillingAccountId, x_BillingPeriod, round(sum(BilledCost), 2),"
                          " round(sum(EffectiveCost), 2), count(*) FROM focus GROUP BY ALL")
    assert [(a, p, Decimal(str(b)), Decimal(str(e)), n) for a, p, b, e, n in found] == [
        (account, "2023-11", ocigen.cents(cost), ocigen.cents(cost), 506)
        for account, cost in by_account.items()]
    # The tag columns of the file as one JSON object per row.
    tags = [json.loads(t) for (t,) in query(sample, "SELECT Tags FROM focus WHERE Tags IS NOT "
                                                    "NULL")]
    assert tags and {"Oracle-Tags.CreatedBy", "OracleInternalReserved.CostCenter"} <= {
        key for row in tags for key in row}


def test_the_sample_as_focus(sample):
    services = dict(query(sample, "SELECT ServiceName, ServiceCategory FROM focus GROUP BY ALL"))
    assert services["COMPUTE"] == "Compute" and services["OBJECTSTORE"] == "Storage"
    assert query(sample, "SELECT DISTINCT SubAccountId, SubAccountType, BillingAccountType, "
                         "ProviderName FROM focus") == [
        (SAMPLE_TENANCY, "Tenancy", "Subscription", "Oracle")]
    # 2023-11-13T10:00Z (no seconds) and 2023-11-13T11:00:00Z: an hour.
    assert query(sample, "SELECT DISTINCT ChargePeriodEnd - ChargePeriodStart FROM focus") == [
        (datetime.timedelta(hours=1),)]


# -- the FOCUS rules -------------------------------------------------------------------------

def test_focus_is_the_1_3_dataset_with_the_1_2_columns(dataset):
    types = {name: sql_type for name, sql_type, *_ in query(dataset, "DESCRIBE focus")}
    assert {name: types.get(name) for name in {**COLUMNS, **ADDED_1_3}} == \
        {**COLUMNS, **ADDED_1_3}
    names = [row[0] for row in query(dataset, "DESCRIBE focus_1_2")]
    custom = [name for name in names if name not in COLUMNS]
    assert all(name.startswith("x_") for name in custom), custom


@pytest.mark.parametrize("text", RULES_1_3)
def test_the_rules_of_focus_1_3(dataset, text):
    assert violations(dataset, RULES_1_3[text]) == 0, text


@pytest.mark.parametrize("column", NOT_NULL)
def test_columns_that_must_not_be_null(dataset, column):
    assert violations(dataset, f"{column} IS NULL") == 0


@pytest.mark.parametrize("column", sorted(ALLOWED))
def test_allowed_values(dataset, column):
    values = {row[0] for row in query(dataset, f"SELECT DISTINCT {column} FROM focus")}
    assert values - {None} <= ALLOWED[column], values


@pytest.mark.parametrize("this, that", DESCRIBING)
def test_null_exactly_when_the_column_it_describes_is_null(dataset, this, that):
    assert violations(dataset, f"({this} IS NULL) <> ({that} IS NULL)") == 0


def test_service_pairs_units_and_consumption(dataset):
    pairs = set(query(dataset, "SELECT DISTINCT ServiceCategory, ServiceSubcategory FROM focus"))
    assert pairs <= PAIRS, pairs - PAIRS
    units = {row[0] for row in query(dataset, "SELECT PricingUnit FROM focus UNION "
                                              "SELECT ConsumedUnit FROM focus")} - {None}
    assert units and all(UNIT.match(unit) for unit in units), sorted(units)
    assert "GB-Months" in units
    assert violations(dataset, f"{CONSUMING} AND ConsumedQuantity IS NULL") == 0
    assert violations(dataset, "Tags IS NOT NULL AND NOT json_valid(Tags)") == 0


def test_every_loaded_period_mapped_batch_by_batch_equals_its_rows_of_focus(built):
    """The mapping is row-local: each loaded month of each kind, mapped over Arrow batches of
    7 rows by DuckDB in-process (open_finops.core.mapping.map_batches, as a Spark task would
    run it), equals its rows of main.focus."""
    import pyarrow as pa

    from open_finops.core.mapping import map_batches
    from open_finops.oci.focus import MAPPINGS

    kinds = set()
    for db in (built["db"],):
        con = duckdb.connect(str(db), read_only=True)
        try:
            loaded = con.execute("SELECT export_name, billing_period, kind, table_name FROM "
                                 "open_finops_oci.loaded WHERE table_name IS NOT NULL"
                                 ).fetchall()
            for export, period, kind, table in loaded:
                kinds.add(kind)
                delivery = con.execute(f'SELECT * FROM open_finops_oci."{table}"'
                                       ).to_arrow_table()
                mapped = pa.Table.from_batches(
                    list(map_batches(MAPPINGS, kind, quarters(delivery))),
                    schema=MAPPINGS.arrow_schema())
                assert mapped.num_rows == delivery.num_rows > 0
                con.register("mapped", mapped)
                names = ", ".join(f'"{n}"' for n in mapped.column_names)
                expected = (f"SELECT {names} FROM main.focus WHERE x_ExportName = ? AND "
                            "x_BillingPeriod = ?")
                differ = con.execute(
                    f"SELECT count(*) FROM (({expected}) EXCEPT ALL SELECT * FROM mapped) "
                    f"UNION ALL SELECT count(*) FROM (SELECT * FROM mapped EXCEPT ALL "
                    f"({expected}))", [export, period, export, period]).fetchall()
                assert differ == [(0,), (0,)], (export, period, differ)
                con.unregister("mapped")
        finally:
            con.close()
    assert kinds == {"focus", "cost"}
