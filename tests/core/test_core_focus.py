"""open_finops.core.focus: main.focus is every vendor's view of its rows, by the contract's
columns and types, built from what the database holds."""
from __future__ import annotations

import duckdb
import pytest

from open_finops.core import focus
from open_finops.core.errors import FinopsError

# The contract's columns, written out here rather than read from the module under test.
SOME_COLUMNS = {"BilledCost": "DOUBLE", "BillingPeriodStart": "TIMESTAMP WITH TIME ZONE",
                "ProviderName": "VARCHAR", "Tags": "VARCHAR", "ConsumedQuantity": "DOUBLE"}


@pytest.fixture
def con():
    con = duckdb.connect()
    yield con
    con.close()


def vendor_view(con, vendor: str, provider: str, cost: str, extra: str = "",
                without: tuple[str, ...] = ()) -> None:
    """A vendor's view as a plugin would write it: every FOCUS column (here as text, which
    the contract casts), then its own x_ columns."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS open_finops_{vendor}")
    values = {name: "NULL" for name in focus.COLUMNS if name not in without}
    values.update({"BilledCost": cost, "ProviderName": f"'{provider}'",
                   "BillingPeriodStart": "'2026-11-01 00:00:00+00'"})
    select = ", ".join(f'{value} AS "{name}"' for name, value in values.items()
                       if name not in without)
    con.execute(f"CREATE OR REPLACE VIEW open_finops_{vendor}.focus AS "
                f"SELECT {select}{extra}")


def describe(con) -> dict[str, str]:
    return {name: sql_type for name, sql_type, *_ in con.execute("DESCRIBE main.focus").fetchall()}


def test_an_empty_database_has_an_empty_focus_with_every_column(con):
    assert focus.refresh(con) == []
    columns = describe(con)
    assert len(columns) == 57
    assert {name: columns[name] for name in SOME_COLUMNS} == SOME_COLUMNS
    assert con.execute("SELECT count(*) FROM main.focus").fetchone() == (0,)


def test_rows_of_every_vendor_with_the_contract_types_and_each_vendors_x_columns(con):
    vendor_view(con, "aws", "AWS", "'12.34'", ", 'cur' AS x_ExportName")
    vendor_view(con, "azure", "Microsoft", "'0.66'", ", 'rg-1' AS x_ResourceGroupName")
    con.execute("CREATE SCHEMA other")
    con.execute("CREATE VIEW other.focus AS SELECT 1 AS BilledCost")  # not a vendor's
    assert focus.refresh(con) == ["aws", "azure"]
    columns = describe(con)
    assert list(columns)[-2:] == ["x_ExportName", "x_ResourceGroupName"]
    assert {name: columns[name] for name in SOME_COLUMNS} == SOME_COLUMNS
    rows = con.execute("SELECT ProviderName, BilledCost, x_ExportName, x_ResourceGroupName, "
                       "BillingPeriodStart = TIMESTAMPTZ '2026-11-01 00:00:00+00' "
                       "FROM main.focus ORDER BY ProviderName").fetchall()
    assert rows == [("AWS", 12.34, "cur", None, True), ("Microsoft", 0.66, None, "rg-1", True)]


def test_a_vendor_view_of_an_older_release_without_a_column_reads_it_as_null(con):
    vendor_view(con, "aws", "AWS", "1", without=("Tags",))
    focus.refresh(con)
    assert con.execute("SELECT BilledCost, Tags FROM main.focus").fetchall() == [(1.0, None)]


def test_refresh_follows_what_the_database_holds(con):
    vendor_view(con, "aws", "AWS", "1")
    vendor_view(con, "azure", "Microsoft", "2")
    focus.refresh(con)
    con.execute("DROP VIEW open_finops_azure.focus")
    assert focus.refresh(con) == ["aws"]
    assert con.execute("SELECT sum(BilledCost) FROM main.focus").fetchone() == (1.0,)


def test_a_vendor_whose_rows_have_no_view_yet_is_never_dropped(con):
    """A database of 0.3.0: AWS's tables and bookkeeping, its main.focus of its own, no
    open_finops_aws.focus. Another vendor's import must not rebuild focus without AWS."""
    con.execute("CREATE SCHEMA open_finops_aws")
    con.execute("CREATE TABLE open_finops_aws.loaded (table_name VARCHAR)")
    con.execute("CREATE VIEW main.focus AS SELECT 5.0 AS BilledCost, 'AWS' AS ProviderName")
    vendor_view(con, "azure", "Microsoft", "2")
    assert focus.refresh(con) == ["azure"]  # nothing loaded yet: nothing to lose
    con.execute("INSERT INTO open_finops_aws.loaded VALUES ('li_cur_2024_01')")
    with pytest.raises(FinopsError) as refused:
        focus.refresh(con)
    assert str(refused.value) == (
        "the aws rows of this database were imported by an earlier release, and focus would "
        "lose them: run an import of `finops aws` first (a period already loaded is skipped, "
        "and its views are brought to this release)")
    vendor_view(con, "aws", "AWS", "5")  # what that import does
    assert focus.refresh(con) == ["aws", "azure"]
    assert con.execute("SELECT sum(BilledCost) FROM main.focus").fetchone() == (7.0,)
