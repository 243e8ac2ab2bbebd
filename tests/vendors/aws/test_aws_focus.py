"""The `focus` view as a FOCUS 1.2 Cost and Usage dataset: the rules that the FinOps
Foundation's validator (focus-validator 2.2.1) checks, guarded here without it, over two
datasets: the test generator's reports in every format (legacy CSV and Parquet, CUR 2.0
Parquet and CSV, an AWS FOCUS 1.0 export), and the anonymised real CUR sample of
the FinOps Foundation's converters (finopsfoundation/focus_converters,
tests/provider_config_tests/aws/sample-anonymous-aws-export-dataset.csv, November 2023).

The expected columns, types, allowed values and unit format are written out from the FOCUS
1.2 text, not taken from the code under test (tests/kits/focusrules.py, which the Azure test
checks too)."""
from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import duckdb
import pytest

from curgen import (
    CONVERTERS_SAMPLE as SAMPLE, MARKETPLACE_CODE, MARKETPLACE_SELLER, SERVICES, CurBucket,
    Delivery, converters_sample)
from open_finops.aws.loader import import_cur
from open_finops.aws.sources import LocalSource
from focusrules import (
    ADDED_1_3, ALLOWED, COLUMNS, CONSUMING, DESCRIBING, NOT_NULL, PAIRS, RULES_1_3, TAX_NULL,
    UNIT)

APPROX = {"rel": 1e-9, "abs": 1e-6}


def _import(source: Path, export: str, db: Path) -> None:
    results = import_cur(LocalSource(source), export, db, log=lambda message: None)
    assert [r.status for r in results] == ["loaded"] * len(results), results


@pytest.fixture(scope="module")
def generated_deliveries(tmp_path_factory) -> tuple[Path, dict[str, Delivery]]:
    """Every format of the generator, one period invoiced (final) and one not yet: the
    database and the deliveries by export name."""
    root = tmp_path_factory.mktemp("generated")
    bucket = CurBucket(root / "bucket")
    db = root / "finops.duckdb"
    deliveries = [
        bucket.legacy("v1csv", "2024-01", rows=900, final=True),
        bucket.legacy("v1pq", "2024-02", rows=400, mode="overwrite", fmt="parquet", seed=2),
        bucket.cur2("v2pq", "2024-01", rows=400, seed=3, final=True),
        bucket.cur2("v2csv", "2024-02", rows=400, fmt="csv", seed=4),
        bucket.focus_export("focus", "2024-02", rows=400, seed=6),
    ]
    for delivery in deliveries:
        _import(bucket.source, delivery.export_name, db)
    return db, {delivery.export_name: delivery for delivery in deliveries}


@pytest.fixture(scope="module")
def generated(generated_deliveries) -> Path:
    return generated_deliveries[0]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    db = root / "finops.duckdb"
    _import(converters_sample(root / "bucket"), "sample", db)
    return db


@pytest.fixture(params=["generated", "sample"])
def dataset(request) -> Path:
    return request.getfixturevalue(request.param)


_CONNECTIONS: dict[Path, duckdb.DuckDBPyConnection] = {}


def query(db: Path, sql: str) -> list[tuple]:
    """Rows of ``sql`` over ``db``, on one read-only connection per database (the tests only
    read)."""
    if db not in _CONNECTIONS:
        _CONNECTIONS[db] = duckdb.connect(str(db), read_only=True)
    return _CONNECTIONS[db].execute(sql).fetchall()


@pytest.fixture(scope="module", autouse=True)
def _close_connections():
    yield
    for con in _CONNECTIONS.values():
        con.close()
    _CONNECTIONS.clear()


def violations(db: Path, where: str) -> int:
    return query(db, f"SELECT count(*) FROM focus WHERE {where}")[0][0]


# -- columns, types, values ------------------------------------------------------------------

def test_focus_is_the_1_3_dataset_with_the_1_2_columns_and_1_3_s(dataset):
    described = query(dataset, "DESCRIBE focus")
    types = {name: sql_type for name, sql_type, *_ in described}
    assert {name: types.get(name) for name in {**COLUMNS, **ADDED_1_3}} == \
        {**COLUMNS, **ADDED_1_3}
    assert query(dataset, "SELECT count(*) FROM focus WHERE ServiceProviderName IS NULL "
                          "OR AllocatedMethodId IS NOT NULL") == [(0,)]


@pytest.mark.parametrize("text", RULES_1_3)
def test_the_rules_of_focus_1_3(dataset, text):
    assert violations(dataset, RULES_1_3[text]) == 0, text


def test_every_column_with_its_type_and_custom_columns_after_them(dataset):
    described = query(dataset, "DESCRIBE focus_1_2")
    types = {name: sql_type for name, sql_type, *_ in described}
    assert {name: types.get(name) for name in COLUMNS} == COLUMNS
    names = [row[0] for row in described]
    custom = [name for name in names if name not in COLUMNS]
    assert all(name.startswith("x_") for name in custom), custom
    assert names == [n for n in names if n in COLUMNS] + custom  # FOCUS columns come first


@pytest.mark.parametrize("column", NOT_NULL)
def test_columns_that_must_not_be_null(dataset, column):
    assert violations(dataset, f"{column} IS NULL") == 0


@pytest.mark.parametrize("column", sorted(ALLOWED))
def test_allowed_values(dataset, column):
    values = {row[0] for row in query(dataset, f"SELECT DISTINCT {column} FROM focus")}
    assert values - {None} <= ALLOWED[column], values


def test_service_category_and_subcategory_are_a_focus_pair_and_follow_the_service(dataset):
    pairs = set(query(dataset, "SELECT DISTINCT ServiceCategory, ServiceSubcategory FROM focus"))
    assert pairs <= PAIRS, pairs - PAIRS
    # ServiceName has one ServiceCategory and one ServiceSubcategory.
    assert query(dataset, "SELECT ServiceName FROM focus GROUP BY ALL HAVING count(DISTINCT "
                          "(ServiceCategory, ServiceSubcategory)) > 1") == []


def test_units_follow_the_focus_unit_format(dataset):
    units = {row[0] for row in query(
        dataset, "SELECT PricingUnit FROM focus UNION SELECT ConsumedUnit FROM focus UNION "
                 "SELECT CommitmentDiscountUnit FROM focus")} - {None}
    assert units and all(UNIT.match(unit) for unit in units), sorted(units)
    assert "Hrs" not in units and "GB-Mo" not in units


def test_dates_are_utc_and_periods_are_whole(dataset):
    assert violations(dataset, "ChargePeriodEnd < ChargePeriodStart OR "
                               "BillingPeriodEnd <= BillingPeriodStart") == 0
    con = _CONNECTIONS[dataset].cursor()  # a session of its own
    try:
        con.execute("SET SESSION TimeZone = 'America/New_York'")  # a user's session elsewhere
        start = con.execute("SELECT min(CAST(timezone('UTC', BillingPeriodStart) AS VARCHAR)) "
                            "FROM focus").fetchone()[0]
    finally:
        con.close()
    assert start.endswith("-01 00:00:00"), start


def test_billing_currency_is_iso_4217_and_pricing_currency_is_set(dataset):
    currencies = {row[0] for row in query(dataset, "SELECT DISTINCT BillingCurrency FROM focus "
                                                   "UNION SELECT PricingCurrency FROM focus")}
    assert currencies == {"USD"}


@pytest.mark.parametrize("column", ["Tags", "SkuPriceDetails"])
def test_key_value_columns_are_json_objects_of_scalars(dataset, column):
    values = [row[0] for row in query(dataset, f"SELECT DISTINCT {column} FROM focus "
                                               f"WHERE {column} IS NOT NULL")]
    for text in values:
        data = json.loads(text)
        assert isinstance(data, dict) and data, text
        assert all(isinstance(v, (str, int, float, bool)) or v is None for v in data.values())
    if column == "SkuPriceDetails":
        assert all(key.startswith("x_") for text in values for key in json.loads(text))


# -- nullability by ChargeCategory and between columns --------------------------------------

@pytest.mark.parametrize("column", TAX_NULL)
def test_tax_rows_have_no_quantity_sku_or_price(dataset, column):
    assert violations(dataset, f"ChargeCategory = 'Tax' AND {column} IS NOT NULL") == 0
    assert violations(dataset, "ChargeCategory = 'Tax'") > 0


@pytest.mark.parametrize("column", ["PricingQuantity", "PricingUnit", "PricingCategory"])
def test_usage_and_purchases_have_quantity_unit_and_pricing_category(dataset, column):
    assert violations(dataset, f"ChargeCategory IN ('Usage', 'Purchase') AND ChargeClass IS "
                               f"DISTINCT FROM 'Correction' AND {column} IS NULL") == 0


@pytest.mark.parametrize("this, that", DESCRIBING)
def test_null_exactly_when_the_column_it_describes_is_null(dataset, this, that):
    assert violations(dataset, f"({this} IS NULL) <> ({that} IS NULL)") == 0


def test_capacity_reservation_status(dataset):
    """FOCUS 1.2, CapacityReservationStatus: "CapacityReservationStatus MUST be null when
    CapacityReservationId is null." and "CapacityReservationStatus MUST NOT be null when
    CapacityReservationId is not null and ChargeCategory is "Usage"." focus-validator
    2.2.1 (run with --applicability-criteria ALL) drops the condition of both rules (written
    {"AND": ...} without a CheckFunction, which its condition compiler skips), so
    CapacityReservationStatus-C-003-C checks "MUST be null" and CapacityReservationStatus-
    C-004-C "MUST NOT be null" on every row: no dataset with a row passes both."""
    assert violations(dataset, "CapacityReservationId IS NULL AND "
                               "CapacityReservationStatus IS NOT NULL") == 0
    assert violations(dataset, "CapacityReservationId IS NOT NULL AND ChargeCategory = 'Usage' "
                               "AND CapacityReservationStatus IS NULL") == 0


@pytest.mark.parametrize("export", ["v1csv", "v1pq", "v2pq", "v2csv"])
def test_capacity_reservations_of_legacy_cur_and_cur2(generated_deliveries, export):
    """Legacy CUR's reservation/CapacityReservationArn and /CapacityReservationStatus (CSV,
    and Parquet with empty strings for none) and CUR 2.0's capacity_reservation_* columns:
    the line items the generator put in a capacity reservation, used or not, and no other."""
    db, deliveries = generated_deliveries
    expected = deliveries[export].totals.capacity_reservations
    rows = query(db, f"SELECT CapacityReservationStatus, count(*), sum(BilledCost), "
                     f"bool_and(regexp_matches(CapacityReservationId, "
                     f"'^arn:aws:ec2:[a-z0-9-]+:[0-9]{{12}}:capacity-reservation/cr-[0-9]+$')) "
                     f"FROM focus WHERE x_ExportName = '{export}' AND "
                     f"CapacityReservationId IS NOT NULL GROUP BY ALL")
    got = {status: (count, billed) for status, count, billed, _ in rows}
    assert set(got) == set(expected) == {"Used", "Unused"}, got
    for status, (count, billed) in expected.items():
        assert got[status] == (count, pytest.approx(billed, **APPROX)), status
    assert all(arn_ok for *_, arn_ok in rows), rows


def test_sku_price_details_only_with_a_sku_price(dataset):
    assert violations(dataset, "SkuPriceDetails IS NOT NULL AND SkuPriceId IS NULL") == 0


def test_commitment_status_and_consumption(dataset):
    """FOCUS 1.2, CommitmentDiscountStatus: "CommitmentDiscountStatus MUST be null when
    CommitmentDiscountId is null." and "CommitmentDiscountStatus MUST NOT be null when
    CommitmentDiscountId is not null and Charge Category is "Usage"." focus-validator
    2.2.1's CommitmentDiscountStatus-C-004-C (run with --applicability-criteria ALL) checks
    "MUST NOT be null" where CommitmentDiscountId is null, the condition of C-003-C ("MUST be
    null" there): a row without a commitment (a tax, a credit, on-demand usage) fails one of
    the two, whatever its status. The allowed values of CommitmentDiscountStatus-C-005-M
    (Active, Expired, Pending) are not the text's (Used, Unused) either; it passes anyway."""
    assert violations(dataset, "(CommitmentDiscountStatus IS NULL) <> "
                               "(CommitmentDiscountId IS NULL OR ChargeCategory <> 'Usage')") == 0
    assert violations(dataset, "CommitmentDiscountQuantity IS NOT NULL AND "
                               "(CommitmentDiscountId IS NULL OR "
                               "ChargeCategory NOT IN ('Usage', 'Purchase'))") == 0


def test_consumed_quantity_on_every_usage_row_and_no_other(dataset):
    """FOCUS 1.2, ConsumedQuantity: "ConsumedQuantity MUST be null when ChargeCategory is not
    "Usage", or when ChargeCategory is "Usage" and CommitmentDiscountStatus is "Unused"." and,
    "When ChargeCategory is "Usage" and CommitmentDiscountStatus is not "Unused"",
    "ConsumedQuantity MUST NOT be null when ChargeClass is not "Correction"." (ConsumedUnit,
    null exactly when ConsumedQuantity is, is checked with the other describing columns.)
    focus-validator 2.2.1's ConsumedQuantity-C-006-C checks "MUST NOT be null" only where
    ChargeClass is "Correction" (the condition of the MAY rule C-007-C), so it passes usage
    rows without a quantity: this test is the only guard of that sentence."""
    assert violations(dataset, f"{CONSUMING} AND ConsumedQuantity IS NULL") == 0
    assert violations(dataset, CONSUMING) > 0
    assert violations(dataset, "ConsumedQuantity IS NOT NULL AND (ChargeCategory <> 'Usage' OR "
                               "CommitmentDiscountStatus = 'Unused')") == 0


def test_negations_and_discounts_carry_the_usage_amount_of_their_line_item(
        generated_deliveries):
    """Savings Plan negations and discount lines are Usage rows (FOCUS 1.2 "identifies a
    discount as being a reduced price applied directly to a row"; "Credit" is for reductions
    "awarded after the fact"): their ConsumedQuantity is the usage amount of their line item,
    which the generator knows, in every format, AWS's own FOCUS export included."""
    db, deliveries = generated_deliveries
    consumed = dict(query(db, "SELECT x_ExportName, sum(ConsumedQuantity) FROM focus "
                              "GROUP BY ALL"))
    assert consumed == pytest.approx(
        {name: delivery.totals.consumed for name, delivery in deliveries.items()}, **APPROX)
    rows = query(db, "SELECT x_LineItemType, count(*) FILTER (ConsumedQuantity > 0), count(*) "
                     "FROM focus WHERE x_LineItemType IN ('SavingsPlanNegation', 'EdpDiscount', "
                     "'BundledDiscount') GROUP BY ALL")
    assert len(rows) == 3 and all(positive == count for _, positive, count in rows), rows


def test_a_sku_price_has_one_sku_and_a_service_name(dataset):
    assert query(dataset, "SELECT SkuPriceId FROM focus WHERE SkuPriceId IS NOT NULL "
                          "GROUP BY ALL HAVING count(DISTINCT SkuId) <> 1") == []
    assert violations(dataset, "ListUnitPrice < 0 OR ContractedUnitPrice < 0 OR "
                               "PricingCurrencyListUnitPrice < 0 OR "
                               "PricingCurrencyContractedUnitPrice < 0") == 0


def test_provider_invoice_issuer_and_publisher(dataset):
    # The validator reads "BilledCost MUST be 0 for charges where payments are received by a
    # third party" as ProviderName <> InvoiceIssuerName: AWS invoices, so both are "AWS".
    assert query(dataset, "SELECT DISTINCT ProviderName, InvoiceIssuerName FROM focus") == [
        ("AWS", "AWS")]
    entities = {row[0] for row in query(dataset, "SELECT DISTINCT x_InvoicingEntity FROM focus")}
    assert entities <= {"Amazon Web Services EMEA SARL", "Amazon Web Services Canada, Inc."}


# -- the generator's data: amounts and line item types ---------------------------------------

def test_commitment_purchases_have_no_effective_cost_and_their_unused_part_is_usage(generated):
    rows = query(generated, "SELECT x_LineItemType, ChargeCategory, CommitmentDiscountStatus, "
                            "count(*), sum(EffectiveCost), sum(BilledCost) FROM focus WHERE "
                            "CommitmentDiscountId IS NOT NULL AND x_LineItemType IS NOT NULL "
                            "GROUP BY ALL ORDER BY ALL")
    kinds = {(row[0], row[1], row[2]) for row in rows}
    assert kinds == {
        ("DiscountedUsage", "Usage", "Used"), ("Fee", "Purchase", None),
        ("RIFee", "Purchase", None), ("RIFee", "Usage", "Unused"),
        ("SavingsPlanCoveredUsage", "Usage", "Used"), ("SavingsPlanNegation", "Usage", "Used"),
        ("SavingsPlanRecurringFee", "Purchase", None),
        ("SavingsPlanRecurringFee", "Usage", "Unused"),
        ("SavingsPlanUpfrontFee", "Purchase", None)}
    # The FOCUS export's rows too (it has no line item types).
    rows += query(generated, "SELECT 'FOCUS export', ChargeCategory, CommitmentDiscountStatus, "
                             "count(*), sum(EffectiveCost), sum(BilledCost) FROM focus WHERE "
                             "CommitmentDiscountId IS NOT NULL AND x_ExportName = 'focus' "
                             "GROUP BY ALL ORDER BY ALL")
    assert {row[1:3] for row in rows if row[0] == "FOCUS export"} == {
        ("Purchase", None), ("Usage", "Used"), ("Usage", "Unused")}
    for item_type, category, status, _count, effective, billed in rows:
        if category == "Purchase":
            assert effective == 0, item_type
        if status == "Unused":
            assert billed == 0 and effective > 0, item_type
    # A negation takes back the covered usage's cost at its price: FOCUS 1.3 "ContractedCost
    # MUST equal the product of ContractedUnitPrice and PricingQuantity", and a unit price
    # "MUST be a non-negative decimal value", so its PricingQuantity is the usage's, negative;
    # its ConsumedQuantity stays the usage amount CUR repeats on it.
    assert violations(generated, "x_LineItemType = 'SavingsPlanNegation' AND "
                                 "(PricingQuantity IS NULL OR PricingQuantity >= 0 OR "
                                 "ConsumedQuantity <> -PricingQuantity)") == 0


def test_marketplace_rows_name_their_seller(generated):
    publishers = dict(query(generated, "SELECT x_ServiceCode = '" + MARKETPLACE_CODE + "', "
                                       "string_agg(DISTINCT PublisherName) FROM focus "
                                       "GROUP BY ALL"))
    assert publishers == {True: MARKETPLACE_SELLER, False: "AWS"}


def test_refunds_are_corrections(generated):
    assert dict(query(generated, "SELECT x_LineItemType = 'Refund', "
                                 "string_agg(DISTINCT coalesce(ChargeClass, '-')) FROM focus "
                                 "WHERE x_ExportName <> 'focus' GROUP BY ALL")) == {
        True: "Correction", False: "-"}


def test_tags_are_keyed_as_focus_says_in_every_format(generated):
    keys = dict(query(generated, "SELECT x_ExportName, list_sort(list_distinct(flatten(list("
                                 "json_keys(Tags))))) FROM focus GROUP BY ALL"))
    user = ["cost_center", "environment", "team"]
    assert keys == {"v1csv": ["aws:created_by", *user], "v1pq": ["aws:created_by", *user],
                    "v2pq": user, "v2csv": user,
                    "focus": ["CostCenter", "Environment", "Team"]}  # as AWS's export has them
    # The same line items carry the same tags whatever the format.
    tagged = dict(query(generated, "SELECT x_ExportName, count(*) FILTER (json_extract_string("
                                   "Tags, 'team') = 'web') FROM focus WHERE x_ExportName <> "
                                   "'focus' GROUP BY ALL"))
    assert all(count > 0 for count in tagged.values()), tagged


def test_effective_cost_of_a_purchase_that_covers_no_future_charges_is_its_cost(generated):
    """FOCUS 1.2, EffectiveCost: "EffectiveCost MUST be 0 when ChargeCategory is "Purchase"
    and the purchase is intended to cover future eligible charges." A fee that is not a
    commitment (here half of the generator's Fee lines; in CUR support, domain registrations,
    Marketplace fees) covers none, so its EffectiveCost is its cost. It is still a Purchase,
    FOCUS 1.2, ChargeCategory: "Positive or negative charges for the acquisition of a service
    or resource bought upfront or on a recurring basis including refunds.", and no Usage row
    carries its amortization, so 0 would drop it from every EffectiveCost total.
    focus-validator 2.2.1's rule EffectiveCost-C-005-C checks "EffectiveCost = 0" on every
    Purchase row."""
    rows = query(generated, "SELECT count(*), sum(EffectiveCost), sum(BilledCost) FROM focus "
                            "WHERE ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NULL")
    count, effective, billed = rows[0]
    assert count > 0 and effective == pytest.approx(billed, **APPROX) and billed > 0


def test_invoice_id_is_null_exactly_until_the_period_is_invoiced(generated):
    """FOCUS 1.2, InvoiceId: "InvoiceId MUST be null when the charge is not associated either
    with an invoice or with a pre-generated provisional invoice." and "InvoiceId MUST NOT be
    null when the charge is associated with either an issued invoice or a pre-generated
    provisional invoice." focus-validator 2.2.1 checks both without their condition
    (InvoiceId-C-004-C: always null, InvoiceId-C-005-C: never null), so one of them fails on
    any dataset with a row (both, and their composites InvoiceId-C-003-C and -C-000-O, on
    one that holds an invoiced period and one not yet invoiced, as here). CUR has no
    provisional invoice: "Until the report is final, the InvoiceId is blank" (AWS's
    bill_invoice_id), so a not yet invoiced charge is associated with no invoice and an ID
    made up for it would name an invoice that does not exist."""
    rows = dict(query(generated, "SELECT x_BillingPeriod || ' ' || x_ExportName, "
                                 "count(InvoiceId) = count(*) FROM focus GROUP BY ALL"))
    assert rows == {"2024-01 v1csv": True, "2024-01 v2pq": True, "2024-02 v1pq": False,
                    "2024-02 v2csv": False, "2024-02 focus": False}
    assert violations(generated, "x_BillingPeriod = '2024-02' AND InvoiceId IS NOT NULL") == 0


# -- the converters' real sample -------------------------------------------------------------

def test_sample_totals_match_the_file(sample):
    with gzip.open(SAMPLE, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    billed = sum(float(row["lineItem/UnblendedCost"] or 0) for row in rows)
    listed = sum(float(row["pricing/publicOnDemandCost"] or row["lineItem/UnblendedCost"] or 0)
                 for row in rows)
    got = query(sample, "SELECT count(*), sum(BilledCost), sum(EffectiveCost), sum(ListCost) "
                        "FROM focus")[0]
    assert got[0] == len(rows) == 1281
    assert got[1:] == pytest.approx((billed, billed, listed), **APPROX)
    services = dict(query(sample, "SELECT x_ServiceCode, ServiceCategory FROM focus "
                                  "GROUP BY ALL"))
    assert services["AmazonS3"] == "Storage" and services["AWSQueueService"] == "Integration"


def test_every_product_code_of_the_test_data_maps_to_a_service_category(sample):
    from open_finops.aws.focus import service_categories

    mapping = service_categories()
    codes = {row[0] for row in query(sample, "SELECT DISTINCT x_ServiceCode FROM focus")}
    codes |= {service[0] for service in SERVICES if service[0] != MARKETPLACE_CODE}
    assert codes - set(mapping) == set()
    assert set(mapping.values()) <= PAIRS, set(mapping.values()) - PAIRS


def test_the_contract_commitments_are_the_purchased_commitments(generated_deliveries):
    """FOCUS 1.3 Contract Commitment: ContractId, ContractCommitmentId, their types and
    periods "MUST NOT be null", ContractCommitmentCost "MUST NOT be null when
    ContractCommitmentCategory is "Spend"", ContractCommitmentQuantity "when ... "Usage"";
    the Savings Plans' cost is what the generator billed for them."""
    db, deliveries = generated_deliveries
    rows = query(db, "SELECT ContractCommitmentCategory, ContractCommitmentType, "
                     "count(*), count(DISTINCT ContractCommitmentId), sum(ContractCommitmentCost),"
                     " count(ContractCommitmentQuantity) FROM focus_contract_commitment "
                     "GROUP BY ALL ORDER BY 1")
    assert [(r[0], r[1]) for r in rows] == [("Spend", "ComputeSavingsPlans"),
                                            ("Usage", "Reserved Instance")]
    for category, _type, count, distinct, _cost, quantities in rows:
        assert count == distinct  # one row per commitment
        assert quantities == (count if category == "Usage" else 0)
    assert query(db, "SELECT count(*) FROM focus_contract_commitment WHERE ContractId IS NULL "
                     "OR ContractPeriodStart IS NULL OR ContractPeriodEnd IS NULL OR "
                     "ContractCommitmentPeriodStart > ContractCommitmentPeriodEnd OR "
                     "ContractCommitmentCost IS NULL") == [(0,)]
    fees = sum(d.totals.billed_by_type.get(t, 0) for d in deliveries.values()
               for t in ("SavingsPlanRecurringFee", "SavingsPlanUpfrontFee"))
    assert round(rows[0][4], 2) == round(fees, 2) != 0
