"""`finops gcp` over generated billing exports (tests/kits/gcpgen.py): the three kinds of
table, Parquet and JSON, two billing accounts and two months, in one database; totals to the
cent against the generator's own sums, the mapping of credits, taxes, adjustments and
Marketplace rows, the nested types kept, FOCUS's rules, a newer export replacing a month, and
bad input failing in one line with the data loaded before intact."""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import gcpgen
from finopskit import finops_in, holding_lock, quarters
from focusrules import ALLOWED, NOT_NULL, PAIRS, UNIT

A, B = gcpgen.ACCOUNTS
#: (table, format) of the generated source.
TABLES = [(gcpgen.table_name("standard", A), "parquet"),
          (gcpgen.table_name("detailed", B), "json"),
          (gcpgen.table_name("standard", B), "json.gz"),
          (gcpgen.table_name("focus", A), "parquet")]
SIX = "DECIMAL(38, 6)"


def rows(con, sql: str, *params):
    return con.execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """Every table generated under one bucket-like folder (below a prefix, as EXPORT DATA's
    URI has one) and imported with the CLI into one database."""
    work = tmp_path_factory.mktemp("gcp")
    root = work / "bucket"
    totals = gcpgen.Totals()
    by_table = {}
    for table, fmt in TABLES:
        by_table[table] = gcpgen.write_table(root / "billing", table, fmt=fmt, rows=60)
        totals.merge(by_table[table])
    runs = [finops_in(work, "gcp", "import", "--source", str(root), "--export-name", table)
            for table, _fmt in TABLES]
    return {"work": work, "root": root, "db": work / "data" / "finops.duckdb",
            "totals": totals, "by_table": by_table, "runs": runs}


@pytest.fixture(scope="module")
def con(built, tmp_path_factory):
    """The published copy (a copy of it: the CLI opens the published file itself)."""
    copy = tmp_path_factory.mktemp("published") / "finops.duckdb"
    shutil.copy(str(built["db"]).replace(".duckdb", ".published.duckdb"), copy)
    con = duckdb.connect(str(copy), read_only=True)
    yield con
    con.close()


def test_every_month_of_every_table_loads(built):
    for run in built["runs"]:
        assert "done: 2 loaded, 0 up to date, 0 failed" in run.err, run.err
    assert "(detailed)" in built["runs"][1].err and "(focus)" in built["runs"][3].err


def test_billed_and_effective_totals_are_the_generators_to_the_cent_by_provider_account_month(
        built, con):
    got = {(provider, account, month): (billed, effective)
           for provider, account, month, billed, effective in rows(
               con, f"SELECT ProviderName, BillingAccountId, x_BillingPeriod, "
                    f"sum(CAST(BilledCost AS {SIX})), sum(CAST(EffectiveCost AS {SIX})) "
                    "FROM main.focus GROUP BY ALL")}
    expected = {("Google Cloud", account, month): total
                for (account, month), total in built["totals"].billed.items()}
    assert set(got) == set(expected)
    for key, total in expected.items():
        billed, effective = got[key]
        assert billed == total and effective == total, (key, billed, effective, total)
        assert round(billed, 2) == total.quantize(Decimal("0.01"))


def test_marketplace_rows_name_their_seller_hosted_by_google(built, con):
    got = dict(((p, m), v) for p, m, v in rows(
        con, f"SELECT ServiceProviderName, x_BillingPeriod, sum(CAST(BilledCost AS {SIX})) "
             "FROM main.focus GROUP BY ALL"))
    assert got == {key: value for key, value in built["totals"].by_publisher.items()}
    sellers = rows(con, "SELECT DISTINCT PublisherName, ServiceProviderName, HostProviderName, "
                        "x_TransactionType FROM main.focus WHERE x_TransactionType LIKE "
                        "'THIRD_PARTY%' ORDER BY 1")
    assert sellers == [("Acme Data Inc.", "Acme Data Inc.", "Google Cloud",
                        "THIRD_PARTY_RESELLER"),
                       ("Globex SaaS LLC", "Globex SaaS LLC", "Google Cloud",
                        "THIRD_PARTY_AGENCY")]


def test_promotions_are_credit_rows_and_discounts_lower_their_charge_never_clamped(built, con):
    # Promotions: a Credit row each, its amount as it is (some bigger than their charge).
    credits = {(a, m): (n, total) for a, m, n, total in rows(
        con, f"SELECT BillingAccountId, x_BillingPeriod, count(*), sum(CAST(BilledCost AS {SIX}))"
             " FROM main.focus WHERE ChargeCategory = 'Credit' AND x_Kind <> 'focus' "
             "GROUP BY ALL")}
    totals = gcpgen.Totals()
    for table, _fmt in TABLES[:3]:
        totals.merge(built["by_table"][table])
    assert credits == {key: (totals.credit_rows[key], totals.promotions[key])
                       for key in totals.credit_rows if totals.credit_rows[key]}
    assert rows(con, "SELECT DISTINCT x_CreditType FROM main.focus WHERE ChargeCategory = "
                     "'Credit' AND x_Kind <> 'focus'") == [("PROMOTION",)]
    # Discounts: in the charge's own BilledCost and EffectiveCost, which free tier brings to 0.
    discounted = rows(con, "SELECT count(*), count(*) FILTER (WHERE abs(BilledCost - "
                           "x_Discounts - ContractedCost) > 1e-9 OR EffectiveCost <> BilledCost "
                           ") FROM main.focus WHERE x_Discounts <> 0")
    assert discounted[0][0] > 10 and discounted[0][1] == 0, discounted
    assert rows(con, "SELECT min(EffectiveCost) < 0 FROM main.focus WHERE x_Kind <> 'focus'"
                ) == [(True,)]


def test_taxes_adjustments_and_rounding_errors(built, con):
    taxes = {(a, m): t for a, m, t in rows(
        con, f"SELECT BillingAccountId, x_BillingPeriod, sum(CAST(BilledCost AS {SIX})) FROM "
             "main.focus WHERE ChargeCategory = 'Tax' GROUP BY ALL")}
    assert taxes == {k: v for k, v in built["totals"].taxes.items() if v}
    assert rows(con, "SELECT DISTINCT x_CostType, ChargeCategory, ChargeClass FROM main.focus "
                     "WHERE x_Kind <> 'focus' AND x_CostType <> 'regular' ORDER BY ALL") == [
        ("adjustment", "Adjustment", "Correction"), ("rounding error", "Adjustment", None),
        ("tax", "Tax", None)]
    assert rows(con, "SELECT count(*) FROM main.focus WHERE ChargeCategory = 'Tax' AND "
                     "(SkuId IS NOT NULL OR PricingQuantity IS NOT NULL)")[0][0] == 0


def test_period_tables_keep_bigquerys_nested_types(built):
    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        for (table, _fmt), kind in zip(TABLES, ("standard", "detailed", "standard")):
            name = rows(con, "SELECT table_name FROM open_finops_gcp.loaded WHERE export_name "
                             "= ? LIMIT 1", table)[0][0]
            have = dict(rows(con, f'SELECT column_name, column_type FROM (DESCRIBE '
                                  f'open_finops_gcp."{name}")'))
            assert have["credits"].startswith("STRUCT(") and have["credits"].endswith("[]")
            for field in ("name", "amount", "full_name", "id", "type"):
                assert field in have["credits"]
            assert "ancestors STRUCT(" in have["project"] and "labels STRUCT(" in have["project"]
            for column in ("service", "sku", "adjustment_info", "invoice", "location", "usage"):
                assert have[column].startswith("STRUCT("), column
            for column in ("labels", "system_labels", "tags"):
                assert have[column].endswith("[]"), column
            assert {"cost_type", "cost_at_list", "transaction_type", "seller_name"} <= set(have)
            if kind == "detailed":
                assert "global_name" in have["resource"] and "effective_price" in have["price"]
            n = rows(con, f'SELECT count(*) FROM open_finops_gcp."{name}" WHERE len(credits) > 0'
                          f' AND project.labels[1].key IS NOT NULL')[0][0]
            assert n > 0
    finally:
        con.close()


def test_focus_rules_hold(con):
    for column in NOT_NULL:
        assert rows(con, f'SELECT count(*) FROM main.focus_1_2 WHERE ProviderName = '
                         f'\'Google Cloud\' AND "{column}" IS NULL')[0][0] == 0, column
    for column, allowed in ALLOWED.items():
        found = {v for (v,) in rows(con, f'SELECT DISTINCT "{column}" FROM main.focus WHERE '
                                         f'"{column}" IS NOT NULL AND ProviderName = '
                                         "'Google Cloud'")}
        assert found <= allowed, (column, found - allowed)
    pairs = set(rows(con, "SELECT DISTINCT ServiceCategory, ServiceSubcategory FROM main.focus"))
    assert pairs <= PAIRS, pairs - PAIRS
    assert rows(con, "SELECT count(*) FROM main.focus WHERE ChargeCategory = 'Usage' AND "
                     "(SkuPriceId IS NULL OR PricingQuantity IS NULL)")[0][0] == 0
    assert rows(con, "SELECT DISTINCT strftime(BillingPeriodStart AT TIME ZONE "
                     "'America/Los_Angeles', '%d %H') FROM main.focus") == [("01 00",)]
    tags = rows(con, "SELECT Tags FROM main.focus WHERE x_Kind = 'detailed' AND Tags LIKE "
                     "'%cost-center%' LIMIT 1")[0][0]
    assert '"team"' in tags and '"compute.googleapis.com/machine_spec"' in tags


def test_units_follow_the_focus_unit_format(con):
    """Google's "byte-seconds" and "gibibyte month" as FOCUS UnitFormat writes units."""
    units = {u for (u,) in rows(con, "SELECT PricingUnit FROM main.focus WHERE ProviderName = "
                                     "'Google Cloud' UNION SELECT ConsumedUnit FROM main.focus "
                                     "WHERE ProviderName = 'Google Cloud'")} - {None}
    assert units and [u for u in sorted(units) if not UNIT.match(u)] == []
    assert {"B-Seconds", "GiB-Months"} <= units


def test_summary_list_and_state_speak_the_vocabulary(built):
    work = built["work"]
    out = finops_in(work, "gcp", "summary", "--by", "publisher").out
    assert "Acme Data Inc." in out and "TOTAL" in out
    listed = finops_in(work, "gcp", "list", "--source", str(built["root"]), "--export-name",
                       TABLES[1][0]).out
    assert "2026-01" in listed and "json" in listed and "yes" in listed
    state = finops_in(work, "gcp", "state").out
    assert "detailed" in state and "focus" in state
    again = finops_in(work, "gcp", "import", "--source", str(built["root"]), "--export-name",
                      TABLES[0][0])
    assert "0 loaded, 2 up to date" in again.err


def test_every_loaded_period_mapped_batch_by_batch_equals_its_rows_of_focus(built):
    import pyarrow as pa

    from open_finops.core.mapping import map_batches
    from open_finops.gcp.focus import MAPPINGS

    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        kinds = set()
        for export, period, kind, table in rows(
                con, "SELECT export_name, billing_period, kind, table_name FROM "
                     "open_finops_gcp.loaded WHERE table_name IS NOT NULL"):
            # One period of each kind, in four batches (each batch plans the mapping anew,
            # ~0.1 s: every period would be most of this folder's time budget).
            if kind in kinds:
                continue
            kinds.add(kind)
            delivery = con.execute(f'SELECT * FROM open_finops_gcp."{table}"').to_arrow_table()
            mapped = pa.Table.from_batches(
                list(map_batches(MAPPINGS, kind, quarters(delivery))),
                schema=MAPPINGS.arrow_schema())
            con.register("mapped", mapped)
            names = ", ".join(f'"{n}"' for n in mapped.column_names)
            expected = (f"SELECT {names} FROM main.focus WHERE x_ExportName = ? AND "
                        "x_BillingPeriod = ?")
            differ = rows(con, f"SELECT count(*) FROM (({expected}) EXCEPT ALL SELECT {names} "
                               f"FROM mapped) UNION ALL SELECT count(*) FROM (SELECT {names} "
                               f"FROM mapped EXCEPT ALL ({expected}))",
                          export, period, export, period)
            assert mapped.num_rows > 0 and differ == [(0,), (0,)], (kind, export, period)
            con.unregister("mapped")
        assert kinds == {"standard", "detailed", "focus"}
    finally:
        con.close()


# A newer export, and bad input: each on a copy of its own.

@pytest.fixture
def copy(built, tmp_path) -> dict:
    work = tmp_path / "work"
    shutil.copytree(built["work"], work)
    return {"work": work, "root": work / "bucket", "db": work / "data" / "finops.duckdb"}


def snapshot(db: Path) -> list:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return rows(con, "SELECT x_ExportName, x_BillingPeriod, count(*), sum(BilledCost) FROM "
                         "main.focus GROUP BY ALL ORDER BY ALL")
    finally:
        con.close()


def test_a_newer_export_of_a_month_replaces_it(copy):
    table = TABLES[0][0]
    totals = gcpgen.write_month(copy["root"] / "billing", table, "2026-02", 40, seed=9)
    run = finops_in(copy["work"], "gcp", "import", "--source", str(copy["root"]),
                    "--export-name", table)
    assert "1 loaded, 1 up to date" in run.err, run.err
    con = duckdb.connect(str(copy["db"]), read_only=True)
    try:
        got = rows(con, f"SELECT sum(CAST(BilledCost AS {SIX})) FROM main.focus WHERE "
                        "x_ExportName = ? AND x_BillingPeriod = '2026-02'", table)[0][0]
    finally:
        con.close()
    assert got == totals.billed[(A, "2026-02")]


def _break(root: Path, how: str) -> str:
    table, fmt = TABLES[2] if how == "gzip" else TABLES[0]
    month = root / "billing" / table / "2026-02"
    target = sorted(month.iterdir())[0]
    if how == "gzip":
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif how == "parquet":
        target.write_bytes(b"PAR1 this is not parquet at all")
    elif how == "missing":
        shutil.rmtree(root / "billing" / table)
    elif how == "month":
        # A file of another month in this month's folder.
        other = root / "billing" / table / "2026-01"
        shutil.copy(sorted(other.iterdir())[0], month / "000000000009.parquet")
    return table


@pytest.mark.parametrize("how, says", [
    ("gzip", "corrupt gzip file"), ("parquet", "not a readable Parquet file"),
    ("missing", "no table"), ("month", "rows of invoice month 202601")])
def test_bad_input_fails_in_one_line_naming_it_and_keeps_the_data(copy, how, says):
    before = snapshot(copy["db"])
    table = _break(copy["root"], how)
    run = finops_in(copy["work"], "gcp", "import", "--source", str(copy["root"]),
                    "--export-name", table, code=1)
    errors = [line for line in run.err.splitlines() if line.startswith("finops: error:")]
    assert len(errors) == 1 and says in errors[0], run.err
    assert "Traceback" not in run.err and "staging" not in errors[0]
    if how != "missing":
        assert str(copy["root"]) in errors[0], errors[0]
    assert snapshot(copy["db"]) == before


def test_a_locked_database_fails_in_one_line(copy):
    before = snapshot(copy["db"])
    gcpgen.write_month(copy["root"] / "billing", TABLES[0][0], "2026-02", 30, seed=5)
    with holding_lock(copy["db"]):
        run = finops_in(copy["work"], "gcp", "import", "--source", str(copy["root"]),
                        "--export-name", TABLES[0][0], code=1)
    errors = [line for line in run.err.splitlines() if line.startswith("finops: error:")]
    assert len(errors) == 1 and str(copy["db"]) in errors[0], run.err
    assert snapshot(copy["db"]) == before


def test_avro_and_a_wrong_table_name_say_so(copy):
    table = TABLES[0][0]
    month = copy["root"] / "billing" / table / "2026-02"
    (month / "000000000005.avro").write_bytes(b"Obj\x01")
    run = finops_in(copy["work"], "gcp", "import", "--source", str(copy["root"]),
                    "--export-name", table, code=1)
    assert "several formats" in run.err
    bad = finops_in(copy["work"], "gcp", "import", "--source", str(copy["root"]),
                    "--export-name", "billing_table", code=2)
    assert "not a billing table's name" in bad.err
