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


def describe(con, view: str = "focus") -> dict[str, str]:
    return {name: sql_type for name, sql_type, *_ in
            con.execute(f"DESCRIBE main.{view}").fetchall()}


def test_an_empty_database_has_an_empty_focus_with_every_column(con):
    assert focus.refresh(con) == []
    columns = describe(con)
    # FOCUS 1.3's 65 Cost and Usage columns (1.2's 57, and 8 new), then the shared x_ columns.
    assert len(columns) == 65 + 3 and list(columns)[-3:] == [
        "x_ExportName", "x_BillingPeriod", "x_UnusedCommitment"]
    assert {name: columns[name] for name in SOME_COLUMNS} == SOME_COLUMNS
    assert len(describe(con, "focus_1_2")) == 57 + 3
    assert con.execute("SELECT count(*) FROM main.focus").fetchone() == (0,)


def test_rows_of_every_vendor_with_the_contract_types_and_each_vendors_x_columns(con):
    vendor_view(con, "aws", "AWS", "'12.34'", ", 'cur' AS x_ExportName")
    vendor_view(con, "azure", "Microsoft", "'0.66'", ", 'rg-1' AS x_ResourceGroupName")
    con.execute("CREATE SCHEMA other")
    con.execute("CREATE VIEW other.focus AS SELECT 1 AS BilledCost")  # not a vendor's
    assert focus.refresh(con) == ["aws", "azure"]
    columns = describe(con)
    assert list(columns)[-2:] == ["x_UnusedCommitment", "x_ResourceGroupName"]
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


# FOCUS 1.3's new Cost and Usage columns, and the Contract Commitment dataset's, written out.
NEW_IN_1_3 = ["AllocatedMethodDetails", "AllocatedMethodId", "AllocatedResourceId",
              "AllocatedResourceName", "AllocatedTags", "ContractApplied", "HostProviderName",
              "ServiceProviderName"]
CONTRACT_COMMITMENT = ["BillingCurrency", "ContractCommitmentCategory",
                       "ContractCommitmentCost", "ContractCommitmentDescription",
                       "ContractCommitmentId", "ContractCommitmentPeriodEnd",
                       "ContractCommitmentPeriodStart", "ContractCommitmentQuantity",
                       "ContractCommitmentType", "ContractCommitmentUnit", "ContractId",
                       "ContractPeriodEnd", "ContractPeriodStart"]


def row(con, **values) -> None:
    """One vendor row of these values (text, cast by the contract), the rest NULL."""
    defaults = {"ChargeCategory": "'Usage'", "PublisherName": "'AWS'", "BilledCost": "1",
                "ServiceName": "'Compute Engine'"}
    merged = {**defaults, **values}
    vendor_view(con, "aws", "AWS", merged.pop("BilledCost"),
                "".join(f", {v} AS \"{k}\"" for k, v in merged.items()),
                without=tuple(merged))
    focus.refresh(con)


def test_focus_is_1_3_and_focus_1_2_keeps_1_2_s_columns(con):
    focus.refresh(con)
    focus_13, focus_12 = describe(con), describe(con, "focus_1_2")
    assert sorted(set(focus_13) - set(focus_12)) == NEW_IN_1_3
    assert {"ProviderName", "PublisherName"} <= set(focus_12)  # deprecated in 1.3, kept
    assert list(describe(con, "focus_contract_commitment")) == CONTRACT_COMMITMENT


@pytest.mark.parametrize("values, wanted", [
    # "ServiceProviderName MUST NOT be null"; a Marketplace product's publisher provides it.
    ({"PublisherName": "'Acme Software'"}, ("Acme Software", None)),
    ({}, ("AWS", "AWS")),  # "HostProviderName MUST equal ServiceProviderName in all other cases"
    # "MAY be NULL ... (e.g., when the ChargeCategory is "Tax" or "Adjustment")"
    ({"ChargeCategory": "'Tax'"}, ("AWS", None)),
])
def test_service_and_host_provider(con, values, wanted):
    row(con, **values)
    assert con.execute("SELECT ServiceProviderName, HostProviderName FROM main.focus"
                       ).fetchone() == wanted


def test_prices_belong_to_a_sku_price(con):
    """"SkuPriceId MAY equal SkuId"; "ListUnitPrice MUST be null when SkuPriceId is null",
    likewise PricingQuantity and PricingCategory; "SkuId MUST be null when ChargeCategory is
    "Tax"" (FOCUS 1.3)."""
    row(con, SkuId="'SKU1'", ListCost="2", PricingQuantity="4", PricingUnit="'Hours'",
        ContractedCost="1", PricingCategory="'Standard'")
    assert con.execute("SELECT SkuPriceId, ListUnitPrice, ContractedUnitPrice, PricingQuantity "
                       "FROM main.focus").fetchone() == ("SKU1", 0.5, 0.25, 4.0)
    row(con, ChargeCategory="'Tax'", SkuId="'SKU1'", ListUnitPrice="2", PricingQuantity="4",
        PricingUnit="'Hours'", PricingCategory="'Standard'")
    assert con.execute("SELECT SkuId, SkuPriceId, ListUnitPrice, PricingQuantity, "
                       "PricingCategory FROM main.focus").fetchone() == (None,) * 5


def test_a_service_name_is_kept_as_the_bill_writes_it(con):
    """StringHandling: "FOCUS dataset column MUST preserve the original casing of string
    values", "the original spacing" and "other relevant consistency factors as specified by
    the data generator": no ASCII folding (the validator's ServiceName-C-002-M checks ASCII)."""
    row(con, ServiceName="'Red Hat® OpenShift®  Container Platform'")
    assert con.execute("SELECT ServiceName FROM main.focus").fetchone() == (
        "Red Hat® OpenShift®  Container Platform",)


def test_a_charge_is_described_by_what_describes_it(con):
    row(con, SkuId="'S'", SkuMeter="'BoxUsage:m5.large'")
    assert con.execute("SELECT ChargeDescription FROM main.focus").fetchone() == (
        "BoxUsage:m5.large",)
    row(con, ChargeCategory="'Tax'")
    assert con.execute("SELECT ChargeDescription FROM main.focus").fetchone() == (
        "Compute Engine tax",)


def test_one_category_per_service_name_in_the_dataset(con):
    con.execute("CREATE TABLE f AS SELECT * FROM (VALUES ('EC2', 'Compute', 'Virtual Machines'),"
                " ('EC2', 'Compute', 'Virtual Machines'), ('EC2', 'Storage', 'Block Storage'), "
                "('S3', 'Storage', 'Object Storage')) t(ServiceName, ServiceCategory, "
                "ServiceSubcategory)")
    assert focus.conform_dataset(con, "f") == 1
    assert con.execute("SELECT DISTINCT ServiceName, ServiceCategory, ServiceSubcategory "
                       "FROM f ORDER BY 1").fetchall() == [
        ("EC2", "Compute", "Virtual Machines"), ("S3", "Storage", "Object Storage")]
