"""Azure's rows in the `focus` view as FOCUS 1.2, alone (``open_finops_azure.focus``) and beside
AWS's in one database (``main.focus``), imported with the CLI: the rules of
test_aws_focus (their tables of columns, values and units, written from the FOCUS 1.2 text,
in tests/kits/focusrules.py), totals to the cent against the generators (tests/kits/azuregen.py,
tests/kits/curgen.py), one vendor's import leaving the other's tables as they were, and the
published copy read by the reader's DuckDB, where no plugin code can be imported."""
from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import azuregen
import readerkit
from finopskit import finops_in, quarters
from curgen import CurBucket
from focusrules import (
    ALLOWED, COLUMNS, CONSUMING, DESCRIBING, NOT_NULL, PAIRS, RULES_1_3, TAX_NULL, UNIT)
# The rows of each view, read once per module into a temporary table (a query of the view
# itself is planned anew each time, ~0.1 s); the views' own columns are checked on the views.
VIEWS = {"azure_rows": "main.focus_1_2 WHERE ProviderName = 'Microsoft'",
         "all_rows": "main.focus_1_2"}
AZURE, COMBINED = VIEWS
CURRENCY = r"^[A-Z]{3}$"


def snapshot(db: Path, schema: str) -> dict:
    """Every table and view of ``schema`` (contents as an order-free digest, definitions), and
    the rows of ``main.focus`` that are the vendor's (core's columns only)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [name for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1",
            [schema]).fetchall()]
        out = {name: con.execute(f'SELECT count(*), bit_xor(hash(t)) FROM {schema}."{name}" t')
               .fetchone() for name in tables}
        views = [name for (name,) in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = ? ORDER BY 1",
            [schema]).fetchall()]  # their rows, not their text (DuckDB rewrites it)
        out["views"] = {name: con.execute(f'SELECT count(*), bit_xor(hash(v)) FROM '
                                          f'{schema}."{name}" v').fetchone() for name in views}
        provider = "AWS" if schema.endswith("aws") else "Microsoft"
        columns = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in COLUMNS)
        out["focus"] = con.execute(f"SELECT {columns} FROM main.focus WHERE ProviderName = ? "
                                   f"ORDER BY ALL", [provider]).fetchall()
        return out
    finally:
        con.close()


def build(root: Path) -> dict:
    """AWS's reports, then every Azure export of the standard tree, then one AWS report again
    (--force), all through ``finops`` into one database; snapshots between."""
    db = root / "finops.duckdb"
    bucket = CurBucket(root / "bucket")
    aws = [bucket.legacy("v1csv", "2024-01", rows=300, final=True),
           bucket.cur2("v2pq", "2024-02", rows=200, seed=3),
           bucket.focus_export("awsfocus", "2024-02", rows=200, seed=6)]
    for delivery in aws:
        finops_in(root, "aws", "import", "--source", str(bucket.source),
                  "--export-name", delivery.export_name, "--database", str(db))
    snaps = {"aws before": snapshot(db, "open_finops_aws")}
    tree = azuregen.write_standard(root / "container")
    for name, exp in tree.exports.items():
        kind = [] if exp.layout == "current" else ["--kind", exp.kind]
        finops_in(root, "azure", "import", "--source", str(root / "container"),
                  "--export-name", name, *kind, "--database", str(db))
    snaps["aws after"] = snapshot(db, "open_finops_aws")
    snaps["azure before"] = snapshot(db, "open_finops_azure")
    finops_in(root, "aws", "import", "--source", str(bucket.source), "--export-name",
              "v2pq", "--force", "--database", str(db))
    snaps["azure after"] = snapshot(db, "open_finops_azure")
    return {"db": db, "tree": tree, "aws": aws, "snapshots": snaps}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    return build(tmp_path_factory.mktemp("multicloud"))


@pytest.fixture(scope="module")
def con(built):
    connection = duckdb.connect(str(built["db"]), read_only=True)
    for table, view in VIEWS.items():
        connection.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {view}")
    yield connection
    connection.close()


@pytest.fixture(params=[AZURE, COMBINED])
def view(request) -> str:
    return request.param


def rows(con, sql: str, *params) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def violations(con, view: str, where: str) -> int:
    return rows(con, f"SELECT count(*) FROM {view} WHERE {where}")[0][0]


# -- the rules of test_aws_focus -------------------------------------------------------------

@pytest.fixture(scope="module")
def focus_1_3(con):
    """Both providers' rows of focus (FOCUS 1.3), read once."""
    con.execute("CREATE TEMP TABLE rows_1_3 AS SELECT * FROM main.focus")
    return "rows_1_3"


@pytest.mark.parametrize("text", RULES_1_3)
def test_the_rules_of_focus_1_3(con, focus_1_3, text):
    assert violations(con, focus_1_3, f"({RULES_1_3[text]})") == 0, text


def test_every_column_with_its_type_and_custom_columns_after_them(con, view):
    described = rows(con, f"DESCRIBE SELECT * FROM {VIEWS[view]}")
    types = {name: sql_type for name, sql_type, *_ in described}
    assert {name: types.get(name) for name in COLUMNS} == COLUMNS
    names = [row[0] for row in described]
    custom = [name for name in names if name not in COLUMNS]
    assert all(name.startswith("x_") for name in custom), custom
    assert names == [n for n in names if n in COLUMNS] + custom


def test_both_providers_and_every_kind_of_azure_row(con, view):
    providers = {p for (p,) in rows(con, f"SELECT DISTINCT ProviderName FROM {view}")}
    assert providers == ({"Microsoft"} if view == AZURE else {"AWS", "Microsoft"})
    kinds = set(rows(con, f"SELECT DISTINCT x_Dataset, ChargeCategory, coalesce(ChargeClass, "
                          f"''), coalesce(CommitmentDiscountStatus, '') FROM {view} "
                          f"WHERE ProviderName = 'Microsoft'"))
    assert kinds == {(dataset, *kind) for dataset in ("actual", "amortized", "focus")
                     for kind in (("Usage", "", ""), ("Usage", "", "Used"),
                                  ("Usage", "", "Unused"), ("Purchase", "", ""),
                                  ("Purchase", "Correction", ""))} - {
        ("amortized", "Purchase", "Correction", ""),  # refunds are in actual only,
        ("actual", "Usage", "", "Unused")}  # the unused rest in amortized only


@pytest.mark.parametrize("column", NOT_NULL)
def test_columns_that_must_not_be_null(con, view, column):
    assert violations(con, view, f"{column} IS NULL") == 0


@pytest.mark.parametrize("column", sorted(ALLOWED))
def test_allowed_values(con, view, column):
    values = {row[0] for row in rows(con, f"SELECT DISTINCT {column} FROM {view}")}
    assert values - {None} <= ALLOWED[column], values


def test_service_category_and_subcategory_are_a_focus_pair_and_follow_the_service(con, view):
    pairs = set(rows(con, f"SELECT DISTINCT ServiceCategory, ServiceSubcategory FROM {view}"))
    assert pairs <= PAIRS, pairs - PAIRS
    assert rows(con, f"SELECT ServiceName FROM {view} GROUP BY ALL HAVING count(DISTINCT "
                     f"(ServiceCategory, ServiceSubcategory)) > 1") == []


def test_units_follow_the_focus_unit_format(con, view):
    units = {row[0] for row in rows(
        con, f"SELECT PricingUnit FROM {view} UNION SELECT ConsumedUnit FROM {view} UNION "
             f"SELECT CommitmentDiscountUnit FROM {view}")} - {None}
    assert units and all(UNIT.match(unit) for unit in units), sorted(units)


def test_dates_are_utc_and_periods_are_whole(con, view):
    assert violations(con, view, "ChargePeriodEnd <= ChargePeriodStart OR "
                                 "BillingPeriodEnd <= BillingPeriodStart OR "
                                 "ChargePeriodStart < BillingPeriodStart OR "
                                 "ChargePeriodStart >= BillingPeriodEnd") == 0
    cursor = con.cursor()
    try:
        cursor.execute("SET SESSION TimeZone = 'America/New_York'")
        starts = {s for (s,) in cursor.execute(
            f"SELECT DISTINCT CAST(timezone('UTC', BillingPeriodStart) AS VARCHAR) "
            f"FROM {VIEWS[view]}").fetchall()}
    finally:
        cursor.close()
    assert starts and all(s.endswith("-01 00:00:00") for s in starts), starts


def test_currencies_are_iso_4217_and_the_billing_currency_is_the_agreement_s(con, view):
    assert violations(con, view, f"NOT regexp_matches(BillingCurrency, '{CURRENCY}') OR "
                                 f"NOT regexp_matches(PricingCurrency, '{CURRENCY}')") == 0
    currencies = dict(rows(con, f"SELECT BillingAccountType, string_agg(DISTINCT "
                                f"BillingCurrency) FROM {view} WHERE x_Dataset <> 'focus' "
                                f"GROUP BY ALL"))
    assert currencies == {"Billing Profile": "EUR", "Billing Account": "USD"}  # MCA, EA


@pytest.mark.parametrize("column", ["Tags", "SkuPriceDetails"])
def test_key_value_columns_are_json_objects_of_scalars(con, view, column):
    values = [v for (v,) in rows(con, f"SELECT DISTINCT {column} FROM {view} "
                                      f"WHERE {column} IS NOT NULL")]
    for text in values:
        data = json.loads(text)
        assert isinstance(data, dict) and data, text
        assert all(isinstance(v, (str, int, float, bool)) or v is None for v in data.values())


def test_azure_tags_keep_their_keys_and_odd_characters(con):
    keys = {k for (k,) in rows(con, f"SELECT DISTINCT unnest(json_keys(Tags)) FROM {AZURE}")}
    assert keys == {"env", "team", "cost center"}
    assert rows(con, f"SELECT count(DISTINCT x_ExportName) FROM {AZURE} WHERE "
                     f"json_extract_string(Tags, 'cost center') = 'R&D \"west\", ü'")[0][0] == 8


@pytest.mark.parametrize("column", TAX_NULL)
def test_tax_rows_have_no_quantity_sku_or_price(con, view, column):
    assert violations(con, view, f"ChargeCategory = 'Tax' AND {column} IS NOT NULL") == 0
    # Azure's cost details carry no tax ("before credits or taxes"); AWS's reports do.
    assert (violations(con, view, "ChargeCategory = 'Tax'") > 0) == (view == COMBINED)


@pytest.mark.parametrize("column", ["PricingQuantity", "PricingUnit", "PricingCategory"])
def test_usage_and_purchases_have_quantity_unit_and_pricing_category(con, view, column):
    assert violations(con, view, f"ChargeCategory IN ('Usage', 'Purchase') AND ChargeClass IS "
                                 f"DISTINCT FROM 'Correction' AND {column} IS NULL") == 0


@pytest.mark.parametrize("this, that", DESCRIBING)
def test_null_exactly_when_the_column_it_describes_is_null(con, view, this, that):
    assert violations(con, view, f"({this} IS NULL) <> ({that} IS NULL)") == 0


def test_commitment_status_capacity_reservations_and_consumption(con, view):
    """The texts of FOCUS 1.2 that test_aws_focus quotes (CommitmentDiscountStatus,
    CapacityReservationStatus, ConsumedQuantity)."""
    assert violations(con, view, "(CommitmentDiscountStatus IS NULL) <> (CommitmentDiscountId "
                                 "IS NULL OR ChargeCategory <> 'Usage')") == 0
    assert violations(con, view, "CapacityReservationId IS NULL AND "
                                 "CapacityReservationStatus IS NOT NULL") == 0
    assert violations(con, view, "ConsumedQuantity IS NOT NULL AND (ChargeCategory <> 'Usage' "
                                 "OR CommitmentDiscountStatus = 'Unused')") == 0
    assert violations(con, view, f"{CONSUMING} AND ConsumedQuantity IS NULL") == 0
    assert violations(con, view, "CommitmentDiscountQuantity IS NOT NULL AND "
                                 "(CommitmentDiscountId IS NULL OR "
                                 "ChargeCategory NOT IN ('Usage', 'Purchase'))") == 0


def test_sku_prices_and_unit_prices(con, view):
    assert violations(con, view, "SkuPriceDetails IS NOT NULL AND SkuPriceId IS NULL") == 0
    assert rows(con, f"SELECT SkuPriceId FROM {view} WHERE SkuPriceId IS NOT NULL "
                     f"GROUP BY ALL HAVING count(DISTINCT SkuId) <> 1") == []
    # FOCUS 1.2: each unit price "MUST be a non-negative decimal value" (a refund is
    # negative in its costs, never in its prices).
    assert violations(con, view, "ListUnitPrice < 0 OR ContractedUnitPrice < 0 OR "
                                 "PricingCurrencyListUnitPrice < 0 OR "
                                 "PricingCurrencyContractedUnitPrice < 0") == 0


def test_provider_and_invoice_issuer_agree(con, view):
    # The validator reads "BilledCost MUST be 0 for charges where payments are received by a
    # third party" as ProviderName <> InvoiceIssuerName; each cloud invoices its own rows.
    assert set(rows(con, f"SELECT DISTINCT ProviderName, InvoiceIssuerName FROM {view}")) == (
        {("Microsoft", "Microsoft")} | ({("AWS", "AWS")} if view == COMBINED else set()))


def test_commitments_purchases_unused_rest_and_refunds(con):
    """FOCUS 1.2, EffectiveCost: "EffectiveCost MUST be 0 when ChargeCategory is "Purchase"
    and the purchase is intended to cover future eligible charges": reservation and savings
    plan purchases and refunds. The unused rest bills nothing (its cost is in the purchase).
    A Marketplace purchase covers no future charges: its EffectiveCost is its cost (the
    validator's EffectiveCost-C-005-C checks 0 on every Purchase; see test_aws_focus's
    test_effective_cost_of_a_purchase_that_covers_no_future_charges_is_its_cost)."""
    assert violations(con, AZURE, "ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT "
                                  "NULL AND EffectiveCost <> 0") == 0
    assert violations(con, AZURE, "CommitmentDiscountStatus = 'Unused' AND "
                                  "(BilledCost <> 0 OR EffectiveCost <= 0)") == 0
    market = rows(con, f"SELECT count(*), sum(abs(EffectiveCost - BilledCost)), min(BilledCost)"
                       f" FROM {AZURE} WHERE PublisherName = 'Contoso Software, Inc.'")[0]
    assert market[0] == 11 and market[1] == 0 and market[2] > 0  # one per account and month
    assert dict(rows(con, f"SELECT ChargeClass, string_agg(DISTINCT x_Dataset ORDER BY "
                          f"x_Dataset) FROM {AZURE} WHERE BilledCost < 0 GROUP BY ALL")) == {
        "Correction": "actual,focus"}


def test_invoice_ids_where_the_export_has_them(con):
    """FOCUS 1.2, InvoiceId: "InvoiceId MUST NOT be null when the charge is associated with
    either an issued invoice or a pre-generated provisional invoice": MCA's cost details have
    invoiceId on actual rows (amortized rows take their actual partner's), the FOCUS exports
    x_InvoiceId (1.0) or InvoiceId (1.2); EA's cost details have none."""
    got = dict(rows(con, f"SELECT x_ExportName, count(InvoiceId) = count(*) FROM {AZURE} "
                         f"WHERE CommitmentDiscountStatus IS DISTINCT FROM 'Unused' GROUP BY ALL"))
    assert got == {"mca-actual": True, "mca-amortized": True, "ea actual ü #1+%": False,
                   "ea-amortized": False, "ea-actual-current": False, "focus-1.0r2": True,
                   "focus-1.0": True, "focus-1.2-preview": True}


# -- totals to the cent ------------------------------------------------------------------------

def cents(value) -> Decimal:
    return azuregen.cents(Decimal(str(value)))


def test_azure_totals_per_account_and_month_are_the_exports_to_the_cent(con, built):
    """BilledCost from actual (the invoice) and EffectiveCost from amortized, per billing
    account and month, also in January where the actual export was restated by a newer run
    and the amortized one not (yet)."""
    got = {(a, m): (cents(b), cents(e), n) for a, m, b, e, n in rows(
        con, f"SELECT BillingAccountId, x_BillingPeriod, sum(BilledCost), sum(EffectiveCost), "
             f"count(*) FROM {COMBINED} WHERE ProviderName = 'Microsoft' GROUP BY ALL")}
    exports = built["tree"].exports
    checked = 0
    for exp in exports.values():
        for month, period in exp.periods.items():
            billed, effective, count = got[(exp.billing_account, month)]
            if period.billed is not None:
                assert billed == azuregen.cents(period.billed), (exp.name, month)
                checked += 1
            if period.effective is not None:
                assert effective == azuregen.cents(period.effective), (exp.name, month)
                checked += 1
            if exp.kind == "focus":
                assert count == period.rows
    assert checked == 20
    # A month where both are loaded and agree (February): Microsoft's conversion's rows,
    # every amortized row and actual's commitment purchases.
    for actual, amortized in (("mca-actual", "mca-amortized"),
                              ("ea actual ü #1+%", "ea-amortized")):
        exp = exports[actual]
        assert got[(exp.billing_account, "2026-02")][2] == (
            exports[amortized].periods["2026-02"].rows + exp.periods["2026-02"].commitment_rows)


def test_totals_per_provider_and_currency(con, built):
    exports = built["tree"].exports.values()
    wanted: dict[tuple, Decimal] = {}
    for exp in exports:
        currency = "USD" if exp.agreement == "EA" or exp.kind == "focus" else "EUR"
        for period in exp.periods.values():
            if period.billed is not None:
                wanted[("Microsoft", currency)] = wanted.get(("Microsoft", currency), 0) + \
                    period.billed
    wanted[("AWS", "USD")] = Decimal(str(sum(d.totals.unblended for d in built["aws"])))
    got = {(p, c): cents(b) for p, c, b in rows(
        con, f"SELECT ProviderName, BillingCurrency, sum(BilledCost) FROM {COMBINED} "
             f"GROUP BY ALL")}
    assert got == {key: cents(value) for key, value in wanted.items()}
    line_items = rows(con, f"SELECT count(*) FILTER (WHERE NOT x_UnusedCommitment) FROM "
                           f"{COMBINED} WHERE ProviderName = 'AWS'")[0][0]
    assert line_items == sum(d.totals.rows for d in built["aws"])


# -- one vendor's import, the other's tables ----------------------------------------------------

@pytest.mark.parametrize("vendor", ["aws", "azure"])
def test_an_import_of_one_vendor_leaves_the_other_s_tables_and_rows_as_they_were(built, vendor):
    before, after = built["snapshots"][f"{vendor} before"], built["snapshots"][f"{vendor} after"]
    assert len(before) > 3 and before["focus"], before.keys()  # tables, views and rows
    assert after == before


def test_the_published_copy_reads_without_plugin_code(built, con):
    """The reader's DuckDB (tests/kits/readerkit.py: its own virtualenv, only duckdb in it, no
    open_finops) opens the copy the last import published and sees the writer's totals."""
    published = readerkit.store.published_path(built["db"])
    sql = ("SELECT ProviderName, count(*), round(sum(BilledCost), 6), "
           "round(sum(EffectiveCost), 6), count(DISTINCT ServiceName) FROM focus "
           "GROUP BY ALL ORDER BY ALL")
    script = ("import duckdb, json, sys\n"
              "try:\n    import open_finops\n    sys.exit('open_finops importable')\n"
              "except ImportError:\n    pass\n"
              "con = duckdb.connect(sys.argv[1], read_only=True, "
              "config={'old_implicit_casting': 'true'})\n"
              "print(json.dumps(con.execute(sys.argv[2]).fetchall()))\n")
    proc = subprocess.run([str(readerkit.reader_python()), "-c", script, str(published), sql],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(built["db"].parent)})
    assert proc.returncode == 0, proc.stderr
    assert [tuple(row) for row in json.loads(proc.stdout)] == rows(con, sql)


# -- one mapping for every engine (open_finops.core.mapping) ---------------------------------

def test_every_loaded_period_mapped_batch_by_batch_equals_its_rows_of_focus(built):
    """Each vendor's mapping is row-local or local to a partition it names, so DuckDB running
    it over Arrow batches (as a Spark task would) gives the rows the store's view gives:
    every period of every kind of both vendors, cut into four batches (or one batch per
    partition: an Azure account's period, its actual and amortized rows together), against
    its rows of main.focus."""
    import pyarrow as pa

    from open_finops.aws.focus import MAPPINGS as AWS
    from open_finops.azure.focus import MAPPINGS as AZURE
    from open_finops.core.mapping import map_batches

    con = duckdb.connect(str(built["db"]), read_only=True)

    def same(mappings, kind: str, batches: list, where: str, *params) -> None:
        mapped = pa.Table.from_batches(list(map_batches(mappings, kind, batches)),
                                       schema=mappings.arrow_schema())
        assert mapped.num_rows > 0, where
        con.register("mapped", mapped)
        names = ", ".join(f'"{n}"' for n in mapped.column_names)
        expected = f"SELECT {names} FROM main.focus WHERE {where}"
        differ = rows(con, f"SELECT count(*) FROM (({expected}) EXCEPT ALL SELECT * FROM "
                           f"mapped) UNION ALL SELECT count(*) FROM (SELECT * FROM mapped "
                           f"EXCEPT ALL ({expected}))", *params, *params)
        assert differ == [(0,), (0,)], (kind, where, params, differ)

    try:
        kinds = set()
        for mappings, kind_column in ((AWS, "cur_version"), (AZURE, "kind")):
            schema = f"open_finops_{mappings.vendor}"
            loaded = rows(con, f"SELECT export_name, billing_period, {kind_column}, table_name "
                               f"FROM {schema}.loaded WHERE table_name IS NOT NULL")
            for export, period, kind, table in loaded:
                kinds.add((mappings.vendor, kind))
                if kind in mappings.partition_by:
                    continue
                delivery = con.execute(f'SELECT * FROM {schema}."{table}"').to_arrow_table()
                same(mappings, kind, quarters(delivery),
                     "x_ExportName = ? AND x_BillingPeriod = ?", export, period)
        assert kinds == {("aws", "v1"), ("aws", "v2"), ("aws", "focus"), ("azure", "actual"),
                         ("azure", "amortized"), ("azure", "focus")}
        details = "open_finops_azure.cost_details"
        have = dict(rows(con, f"SELECT column_name, column_type FROM (DESCRIBE {details})"))
        key = AZURE.partition_by["actual"](have)
        partitions = [key for (key,) in rows(con, f"SELECT DISTINCT {key} FROM {details}")]
        assert len(partitions) >= 4, partitions
        batches = [con.execute(f"SELECT * FROM {details} WHERE {key} = ?", [part])
                   .to_arrow_table().combine_chunks().to_batches()[0] for part in partitions]
        same(AZURE, "actual", batches, "ProviderName = 'Microsoft' AND x_Dataset <> 'focus'")
    finally:
        con.close()
