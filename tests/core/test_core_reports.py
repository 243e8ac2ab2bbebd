"""`finops report`: the FOCUS use cases over every provider, checked against the totals the
generators computed from their own rows (tests/kits/curgen.py for AWS, tests/kits/azuregen.py for
Azure), never the reports' SQL; the anomaly rule is computed again here, in Python."""
from __future__ import annotations

import csv
import io
import json
import statistics
from decimal import Decimal
from datetime import date, timedelta

import pytest

import azuregen
from conftest import REPO
from finopskit import finops_in, holding_lock
from curgen import CurBucket
from open_finops.core import reports

JAN, FEB = "2024-01", "2024-02"
#: February is delivered through its 20th day (a delivery during the month).
THROUGH = 20
AWS = ("--where", "provider=AWS")
USAGE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation",
               "EdpDiscount", "BundledDiscount")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """Two months of one CUR 2.0 export (February through its 20th) and of an Azure FOCUS
    export, imported once with `finops aws import` and `finops azure import`."""
    root = tmp_path_factory.mktemp("reports")
    bucket = CurBucket(root / "bucket")
    months = {JAN: bucket.cur2("acme", JAN, rows=300, seed=1),
              FEB: bucket.cur2("acme", FEB, rows=300, seed=2, through=THROUGH)}
    finops_in(root, "aws", "import", "--source", str(bucket.source), "--export-name", "acme")
    azure = azuregen.write_export(root / "container", "contoso", kind="focus",
                                  months=(JAN, FEB), account=("MCA-BP-1234", "Contoso"))
    finops_in(root, "azure", "import", "--source", str(root / "container"),
              "--export-name", "contoso")
    return {"root": root, "totals": {m: d.totals for m, d in months.items()},
            "azure": azure.periods}


@pytest.fixture
def loaded(built) -> dict:
    return built["totals"]


@pytest.fixture
def finops(built):
    """`finops ARGS` over the module's database (finopskit's finops_in: the kit's `finops`
    fixture would import into a database of each test's own)."""
    return lambda *args, code=0: finops_in(built["root"], *args, code=code)


def as_json(finops, *args: str) -> list[dict]:
    return json.loads(finops("report", *args, "--format", "json").out)


def cents(value: float) -> int:
    return round(value * 100)


@pytest.mark.parametrize("by, column, totals", [
    ("service", "ServiceName", "by_service"),
    ("sub-account", "SubAccountId", "by_account"),
    ("region", "RegionId", "by_region"),
])
def test_spend_by_a_dimension_is_the_generators_total_beside_the_previous_month(
        finops, loaded, by, column, totals):
    rows = as_json(finops, "spend", "--by", by, "--month", FEB, *AWS)
    now, before = getattr(loaded[FEB], totals), getattr(loaded[JAN], totals)
    assert {r[column]: cents(r["BilledCost"]) for r in rows} == \
        {k: cents(v) for k, v in now.items()}
    for r in rows:
        assert r["BillingPeriod"] == FEB and r["BillingCurrency"] == "USD"
        previous = before.get(r[column])
        assert (r["PreviousBilledCost"] is None) == (previous is None)
        assert cents(r["BilledCostChange"]) == cents(now[r[column]] - (previous or 0))


def test_one_billing_account_holds_every_sub_accounts_spend(finops, loaded):
    (row,) = as_json(finops, "spend", "--by", "billing-account", "--month", FEB, *AWS)
    assert cents(row["BilledCost"]) == cents(sum(loaded[FEB].by_account.values())) == \
        cents(loaded[FEB].unblended)


def test_spend_over_months_by_provider_in_csv_and_json_is_exact(finops, loaded, built):
    text = finops("report", "spend", "--from", JAN, "--to", FEB, "--format", "csv").out
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted((r["BillingPeriod"], r["ProviderName"]) for r in rows) == \
        [(JAN, "AWS"), (JAN, "Microsoft"), (FEB, "AWS"), (FEB, "Microsoft")]
    for r in rows:
        month = r["BillingPeriod"]
        if r["ProviderName"] == "AWS":
            # The sum's own decimal digits (the generator's costs have 6), not a float's.
            assert r["BilledCost"] == f"{loaded[month].unblended:.6f}".rstrip("0").rstrip(".")
            assert cents(float(r["EffectiveCost"])) == cents(loaded[month].effective)
        else:
            azure = built["azure"][month]
            assert Decimal(r["BilledCost"]) == azure.billed
            assert Decimal(r["EffectiveCost"]) == azure.effective
        # No December in the data: no previous month, and no change from it.
        assert (r["PreviousBilledCost"] == "") == (r["BilledCostChange"] == "") == (month == JAN)
    # JSON numbers carry the same digits.
    for r, o in zip(rows, as_json(finops, "spend", "--from", JAN, "--to", FEB)):
        assert json.dumps(o["BilledCost"]) == r["BilledCost"] or \
            Decimal(str(o["BilledCost"])) == Decimal(r["BilledCost"])
    raw = finops("report", "spend", "--month", FEB, "--format", "json").out
    for r in rows[2:]:
        assert f'"BilledCost": {r["BilledCost"]},' in raw


def test_movers_rank_the_changes_between_two_months(finops, loaded):
    rows = as_json(finops, "movers", "--by", "service", "--month", FEB, "--limit", "100", *AWS)
    changes = [r["EffectiveCostChange"] for r in rows]
    assert changes == sorted(changes, key=abs, reverse=True)
    for r in rows:
        assert cents(r["EffectiveCostChange"]) == cents(r["EffectiveCost"]
                                                        - r["PreviousEffectiveCost"])
    assert cents(sum(r["EffectiveCost"] for r in rows)) == cents(loaded[FEB].effective)
    assert cents(sum(r["PreviousEffectiveCost"] for r in rows)) == cents(loaded[JAN].effective)
    top = as_json(finops, "movers", "--by", "service", "--month", FEB, "--limit", "2", *AWS)
    assert top == rows[:2]


def test_the_latest_month_by_default_and_a_table_for_people(finops, loaded):
    table = finops("report", "spend", "--by", "service", *AWS).out.splitlines()
    assert table[0].split()[:3] == ["BillingPeriod", "ServiceName", "BillingCurrency"]
    assert all(line.startswith(FEB) for line in table[1:]), table
    assert len(table) == 1 + len(loaded[FEB].by_service)


def test_list_names_every_report_and_the_use_cases_their_answers(finops):
    out = finops("report", "--list").out
    assert [line.split()[0] for line in out.splitlines()[1:] if line[:1] != " "] == \
        list(reports.REPORTS)
    table = finops("report", "--use-cases").out.splitlines()
    assert len(table) == 1 + 53 == 1 + len({u.slug for u in reports.USE_CASES})
    assert "https://focus.finops.org/use-case/" in table[0]
    assert table[22].startswith("verify-service-charges ")
    assert "finops report spend --by billing-account,service" in table[22]


@pytest.mark.parametrize("case", [u for u in reports.USE_CASES if u.answer],
                         ids=lambda u: u.slug)
def test_every_use_case_answer_runs_as_typed(finops, case):
    """The command --use-cases gives runs over both providers' months (exit 0, JSON rows);
    the reports' numbers are checked against the generators by the tests above."""
    rows = as_json(finops, *case.answer.split(), "--from", JAN, "--to", FEB)
    assert rows and all(set(rows[0]) == set(r) for r in rows)


def test_reports_read_the_published_copy_while_an_import_holds_the_database(
        finops, loaded, built):
    with holding_lock(built["root"] / "data" / "finops.duckdb"):
        rows = as_json(finops, "spend", "--month", FEB, *AWS)
    assert cents(rows[0]["BilledCost"]) == cents(loaded[FEB].unblended)


@pytest.mark.parametrize("args, says", [
    (["nope"], "unknown report 'nope'; 'finops report --list' lists them: spend, movers, "
     "anomalies, untagged, coverage, utilization, savings, charges, forecast"),
    (["spend", "--by", "service,colour"], "--by: unknown dimension 'colour'; use one of "
     "provider, billing-account, sub-account, service-category, service, region, "),
    (["spend", "--where", "service"], "--where: expected DIMENSION=VALUE, got 'service'; "),
    (["spend", "--where", "colour=red"], "--where: unknown dimension 'colour'; "),
    (["spend", "extra"], "report spend: unexpected argument 'extra'"),
    (["html"], "report html: name the file to write, for example: finops report html "),
    (["anomalies", "--window", "1"], "--window: expected 2 to 366 days, got 1"),
    (["anomalies", "--window", "100000000000000000000"], "--window: expected 2 to 366 days"),
    (["anomalies", "--sigmas", "nan"], "--sigmas: expected a number, 0 or more, got nan"),
    (["anomalies", "--sigmas=-inf"], "--sigmas: expected a number, 0 or more, got -inf"),
    (["movers", "--limit", "0"], "--limit: expected 1 or more, got 0"),
    (["utilization", "--by", "service"], "report utilization takes no --by"),
    (["spend", "--sigmas", "2"], "report spend takes no --sigmas (it takes --by)"),
    (["untagged", "--limit", "2"], "report untagged takes no --limit (it takes --tag)"),
    (["html", "x.html", "--format", "csv"], "report html takes no --format (it takes "
     "--sigmas, --window, --tag)"),
    (["spend", "--by", "provider,service,provider"], "--by: 'provider' is given twice"),
    (["html", "x.html", "--from", JAN, "--to", FEB], "report html shows one month (and the "
     f"months before it in its trend): give --month, for example: finops report html x.html "
     f"--month {FEB}"),
    (["spend", "--month", "2023-01"], "no cost data for 2023-01; "),
    (["spend", "--month", "2024-13"], "--month: expected a month as YYYY-MM, got '2024-13'"),
    (["spend", "--from", FEB, "--to", JAN], f"--from {FEB} is after --to {JAN}"),
])
def test_bad_input_is_one_line_and_exit_2(finops, loaded, args, says):
    run = finops("report", *args, code=2)
    assert run.out == "" and run.err.count("\n") == 1, run.err
    assert run.err.startswith(f"finops: error: {says}"), run.err
    if "2023-01" in says:
        assert run.err.rstrip().endswith(f"holds {JAN} to {FEB}"), run.err


def test_an_empty_database_says_to_import_first(tmp_path):
    run = finops_in(tmp_path, "report", "spend", code=2)
    assert run.err.startswith("finops: error: no cost data: ") and "import a bill first" in \
        run.err and run.err.count("\n") == 1, run.err


def aws_row(rows: list[dict], **match) -> dict:
    (row,) = [r for r in rows if all(r[k] == v for k, v in match.items())]
    return row


def test_every_provider_is_in_the_spend_by_provider(finops, loaded, built):
    rows = as_json(finops, "spend", "--month", FEB)
    assert {r["ProviderName"]: cents(r["BilledCost"]) for r in rows} == {
        "AWS": cents(loaded[FEB].unblended),
        "Microsoft": cents(built["azure"][FEB].billed)}


def test_spend_by_a_tag_and_by_two_dimensions_at_once(finops, loaded):
    rows = as_json(finops, "spend", "--by", "tag:environment", "--month", FEB, *AWS)
    assert {r["Tags.environment"]: cents(r["BilledCost"]) for r in rows} == \
        {value: cents(billed) for value, (billed, _) in loaded[FEB].by_tag["Environment"].items()}
    pairs = as_json(finops, "spend", "--by", "service,region", "--month", FEB, *AWS)
    by_service: dict = {}
    for r in pairs:
        by_service[r["ServiceName"]] = by_service.get(r["ServiceName"], 0) + r["BilledCost"]
    assert {k: cents(v) for k, v in by_service.items()} == \
        {k: cents(v) for k, v in loaded[FEB].by_service.items()}
    assert len(pairs) > len(by_service)


def test_untagged_spend_for_the_tag_keys_asked(finops, loaded):
    rows = as_json(finops, "untagged", "--tag", "environment", "--tag", "cost_center",
                   "--month", FEB, *AWS)
    assert [r["TagKey"] for r in rows] == [None, "cost_center", "environment"]
    total = loaded[FEB].effective
    for r in rows[1:]:
        tag = {"environment": "Environment", "cost_center": "CostCenter"}[r["TagKey"]]
        untagged = loaded[FEB].by_tag[tag].get(None, (0, 0))[1]
        assert cents(r["UntaggedEffectiveCost"]) == cents(untagged) != 0
        assert cents(r["EffectiveCost"]) == cents(total)
        assert round(r["UntaggedShare"], 6) == round(untagged / total, 6)
    assert rows[0]["UntaggedEffectiveCost"] == 0  # every row has some tag


def test_untagged_keys_come_from_the_config_file(finops, built):
    config = built["root"] / "config.toml"
    config.write_text('[core]\ntag_keys = ["team"]\n', encoding="utf-8")
    try:
        rows = as_json(finops, "untagged", "--month", FEB, *AWS)
    finally:
        config.unlink()
    assert [r["TagKey"] for r in rows] == [None, "team"]
    every = {r["TagKey"] for r in as_json(finops, "untagged", "--month", FEB, *AWS)}
    assert {"environment", "team", "cost_center"} <= every


def expected_anomalies(by_day: dict[str, float], window: int, sigmas: float) -> dict:
    """The rule of the anomalies report, computed again: every day from the first to the
    last (0 without charges), judged against the ``window`` days before it."""
    first, last = (date.fromisoformat(d) for d in (min(by_day), max(by_day)))
    days = [first + timedelta(n) for n in range((last - first).days + 1)]
    costs = [by_day.get(d.isoformat(), 0.0) for d in days]
    found = {}
    for n in range(window, len(days)):
        before = costs[n - window:n]
        mean, sd = statistics.mean(before), statistics.stdev(before)
        if costs[n] > mean + sigmas * sd + 1e-9:
            found[days[n].isoformat()] = costs[n]
    return found


@pytest.mark.parametrize("window, sigmas", [(7, 1.0), (14, 2.0)])
def test_anomalies_are_the_days_above_the_trailing_mean_by_k_sigmas(
        finops, loaded, window, sigmas):
    by_day = {**loaded[JAN].effective_by_day, **loaded[FEB].effective_by_day}
    expected = expected_anomalies(by_day, window, sigmas)
    rows = as_json(finops, "anomalies", "--from", JAN, "--to", FEB, "--window", str(window),
                   "--sigmas", str(sigmas), *AWS)
    assert expected  # the rule finds some: the test can fail
    assert {r["ChargeDate"]: cents(r["EffectiveCost"]) for r in rows} == \
        {d: cents(v) for d, v in expected.items()}
    assert all(r["EffectiveCost"] > r["Threshold"] for r in rows)


def test_commitment_coverage_utilization_and_savings(finops, loaded):
    t = loaded[FEB]
    coverage = aws_row(as_json(finops, "coverage", "--month", FEB), ProviderName="AWS")
    covered = t.list_by_type.get("DiscountedUsage", 0) + t.list_by_type.get(
        "SavingsPlanCoveredUsage", 0)
    assert cents(coverage["CoveredListCost"]) == cents(covered) != 0
    assert cents(coverage["ListCost"]) == cents(t.list_cost)
    assert round(coverage["Coverage"], 6) == round(covered / t.list_cost, 6)

    use = {r["CommitmentDiscountType"]: r for r in as_json(
        finops, "utilization", "--month", FEB) if r["ProviderName"] == "AWS"}
    for kind, used, unused in (("Reserved Instance", "DiscountedUsage", "RIFee"),
                               ("ComputeSavingsPlans", "SavingsPlanCoveredUsage",
                                "SavingsPlanRecurringFee")):
        row = use.pop(kind)
        assert cents(row["UsedCost"]) == cents(t.effective_by_type[used])
        assert cents(row["UnusedCost"]) == cents(t.effective_by_type[unused])
        assert round(row["Utilization"], 6) == round(t.effective_by_type[used] / (
            t.effective_by_type[used] + t.effective_by_type[unused]), 6)
    assert use == {}

    savings = aws_row(as_json(finops, "savings", "--month", FEB), ProviderName="AWS")
    effective = sum(t.effective_by_type.get(k, 0) for k in
                    (*USAGE_TYPES, "RIFee", "SavingsPlanRecurringFee"))
    contracted = sum(t.billed_by_type.get(k, 0) for k in USAGE_TYPES)
    assert cents(savings["ListCost"]) == cents(t.list_cost)
    assert cents(savings["EffectiveCost"]) == cents(effective)
    assert cents(savings["ContractedCost"]) == cents(contracted)
    assert cents(savings["ListSavings"]) == cents(t.list_cost - effective)
    assert round(savings["EffectiveSavingsRate"], 6) == \
        round((t.list_cost - effective) / t.list_cost, 6)


def test_credits_adjustments_taxes_and_marketplace(finops, loaded):
    t = loaded[FEB]
    rows = [r for r in as_json(finops, "charges", "--month", FEB) if r["ProviderName"] == "AWS"]
    assert {r["Kind"]: cents(r["BilledCost"]) for r in rows} == {
        "Credit": cents(t.billed_by_type["Credit"]),
        "Adjustment": cents(t.billed_by_type["Refund"]),
        "Correction": cents(t.billed_by_type["Refund"]),
        "Tax": cents(t.billed_by_type["Tax"]),
        "Marketplace": cents(t.by_service["Acme Log Analytics"])}
    assert [r["Kind"] for r in rows] == ["Credit", "Adjustment", "Correction", "Tax",
                                         "Marketplace"]


def test_the_month_end_forecast_extrapolates_the_days_delivered(finops, loaded):
    t = loaded[FEB]
    elapsed = max(date.fromisoformat(d).day for d in t.effective_by_day)
    assert elapsed == THROUGH
    row = aws_row(as_json(finops, "forecast", "--month", FEB), ProviderName="AWS")
    assert (row["DaysElapsed"], row["DaysInMonth"]) == (THROUGH, 29)
    assert cents(row["EffectiveCost"]) == cents(t.effective)
    assert cents(row["ForecastEffectiveCost"]) == cents(t.effective / THROUGH * 29)
    # A month delivered whole is its own forecast.
    jan = aws_row(as_json(finops, "forecast", "--month", JAN), ProviderName="AWS")
    assert jan["DaysElapsed"] == 31 and \
        cents(jan["ForecastEffectiveCost"]) == cents(loaded[JAN].effective)


READ_VIEWS = r"""
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True, config={"old_implicit_casting": "true"})
found = {}
for name, in con.execute("SELECT view_name FROM duckdb_views() WHERE schema_name = 'reports' "
                         "ORDER BY 1").fetchall():
    rows = con.execute(f'SELECT * FROM reports."{name}"').fetchall()
    found[name] = [[round(v, 6) if isinstance(v, float) else str(v) for v in row]
                   for row in rows]
kind = con.execute("SELECT table_type FROM information_schema.tables "
                   "WHERE table_schema = 'main' AND table_name = 'focus'").fetchone()[0]
counts = {v: con.execute(f"SELECT count(*) FROM main.{v}").fetchone()[0]
          for v in ("focus", "focus_1_2", "focus_contract_commitment")}
print(json.dumps({"version": duckdb.__version__, "focus": kind, "views": found,
                  "counts": counts}))
"""


def test_the_published_copy_holds_focus_as_a_table_and_a_view_per_report(built, loaded):
    import duckdb

    published = built["root"] / "data" / "finops.published.duckdb"
    con = duckdb.connect(str(published), read_only=True)
    try:
        (kind, comment), = con.execute(
            "SELECT table_type, (SELECT comment FROM duckdb_tables() WHERE table_name = "
            "'focus') FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_name = 'focus'").fetchall()
        views = dict(con.execute("SELECT view_name, comment FROM duckdb_views() "
                                 "WHERE schema_name = 'reports'").fetchall())
        by_provider = con.execute(
            "SELECT BillingPeriod, ProviderName, BilledCost FROM reports.spend_by_provider "
            "WHERE ProviderName = 'AWS' ORDER BY 1").fetchall()
    finally:
        con.close()
    assert kind == "BASE TABLE" and "FOCUS" in comment
    assert {name for name, *_ in reports.views()} == set(views)
    assert {"spend_by_service", "untagged", "anomalies_by_provider", "forecast_by_provider",
            "utilization", "coverage_by_provider", "savings_by_provider", "charges",
            "movers_by_service"} <= set(views)
    for name, text in views.items():
        assert text and ("FOCUS" in text or "Cost" in text), name
    assert views["spend_by_service"].startswith("Spend per month: ")
    assert [(m, cents(float(b))) for m, _, b in by_provider] == \
        [(m, cents(loaded[m].unblended)) for m in (JAN, FEB)]


def test_the_readers_duckdb_runs_every_report_of_the_published_copy(built):
    """Metabase's DuckDB (tests/kits/readerkit.py) binds and runs every view of ``reports`` and
    gets the rows the writer's DuckDB gets."""
    import subprocess

    import duckdb
    import readerkit

    published = built["root"] / "data" / "finops.published.duckdb"
    proc = subprocess.run([str(readerkit.reader_python()), "-c", READ_VIEWS, str(published)],
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(built["root"])})
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["version"] == readerkit.store.READER_DUCKDB and seen["focus"] == "BASE TABLE"
    # FOCUS 1.3, 1.2 and the contract commitments (AWS's and Azure's) read there too.
    assert seen["counts"]["focus"] == seen["counts"]["focus_1_2"] > 0
    assert seen["counts"]["focus_contract_commitment"] > 0
    con = duckdb.connect(str(published), read_only=True)
    try:
        for name, sql, _ in reports.views():
            mine = [[round(v, 6) if isinstance(v, float) else str(v) for v in row]
                    for row in con.execute(sql).fetchall()]
            assert seen["views"][name] == mine, name
            assert mine or name.startswith("anomalies"), name
    finally:
        con.close()


def test_usage_quantities_and_unit_costs(finops, loaded):
    rows = as_json(finops, "usage", "--by", "provider", "--month", FEB, *AWS)
    consumed = sum(r["ConsumedQuantity"] or 0 for r in rows)
    assert round(consumed, 3) == round(loaded[FEB].consumed, 3) != 0
    assert len({r["ConsumedUnit"] for r in rows}) > 1  # units are never added together
    for r in rows:
        if r["PricingQuantity"]:
            assert r["EffectiveCostPerPricingUnit"] == pytest.approx(
                r["EffectiveCost"] / r["PricingQuantity"])


def test_accounts_name_the_payer_and_every_linked_account(finops, loaded):
    rows = as_json(finops, "accounts", "--month", FEB, *AWS)
    assert {r["BillingAccountId"] for r in rows} == {"999999999999"}
    assert {r["SubAccountId"]: cents(r["BilledCost"]) for r in rows} == \
        {k: cents(v) for k, v in loaded[FEB].by_account.items()}
    assert all(r["SubAccountName"] == f"Account {r['SubAccountId']}" for r in rows)


def test_capacity_reservations_used_and_unused(finops, loaded):
    rows = as_json(finops, "spend", "--by", "capacity-reservation-status", "--month", FEB,
                   *AWS)
    seen = {r["CapacityReservationStatus"]: cents(r["BilledCost"]) for r in rows
            if r["CapacityReservationStatus"]}
    assert seen == {status: cents(cost) for status, (_, cost)
                    in loaded[FEB].capacity_reservations.items()}
    assert seen and set(seen) <= {"Used", "Unused"}


def test_the_core_readme_lists_every_report_and_dimension():
    text = (REPO / "core" / "README.md").read_text()
    section = text[text.index("## Reports: `finops report`"):text.index("## Writing a plugin")]
    listed = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
    assert listed == list(reports.REPORTS)
    for name in reports.DIMENSIONS:
        assert f"`{name}`" in section, name


def test_costs_in_the_pricing_currency(finops, loaded):
    """AWS prices in the billing currency: the pricing currency's EffectiveCost is the
    EffectiveCost the generator amortized."""
    rows = as_json(finops, "pricing-currency", "--month", FEB, *AWS)
    (row,) = rows
    assert (row["PricingCurrency"], row["BillingCurrency"]) == ("USD", "USD")
    assert cents(row["PricingCurrencyEffectiveCost"]) == cents(row["EffectiveCost"]) == \
        cents(loaded[FEB].effective)


def test_the_forecast_of_a_month_whose_provider_delivered_a_later_one_is_its_cost():
    """A month is over for a provider with data in a later month, however early its last
    charge day; a provider without one is extrapolated from its latest charge day."""
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE focus (ProviderName VARCHAR, BillingCurrency VARCHAR, "
                "BillingPeriodStart TIMESTAMPTZ, ChargePeriodStart TIMESTAMPTZ, "
                "BilledCost DOUBLE, EffectiveCost DOUBLE)")
    rows = [("A", "2024-01-01", f"2024-01-{d:02d}", 10.0) for d in range(1, 11)]
    rows += [("A", "2024-02-01", "2024-02-01", 5.0)]
    rows += [("B", "2024-01-01", f"2024-01-{d:02d}", 1.0) for d in range(1, 21)]
    con.executemany("INSERT INTO focus VALUES (?, 'USD', CAST(? || ' 00:00:00+00' AS "
                    "TIMESTAMPTZ), CAST(? || ' 12:00:00+00' AS TIMESTAMPTZ), ?, ?)",
                    [(p, bp, cp, c, c) for p, bp, cp, c in rows])
    _, found = reports.run(con, reports.REPORTS["forecast"], reports.Params(JAN, FEB))
    assert [(r[0], r[1], r[5], r[6], round(r[8], 6)) for r in found] == [
        (JAN, "A", 31, 31, 100.0),  # closed: February exists
        (JAN, "B", 20, 31, 31.0),   # 20 of 31 days delivered
        (FEB, "A", 1, 29, 145.0)]


def test_from_alone_runs_to_the_latest_month_and_to_alone_from_the_first(finops):
    assert [r["BillingPeriod"] for r in as_json(finops, "spend", "--from", JAN, *AWS)] == \
        [JAN, FEB]
    assert [r["BillingPeriod"] for r in as_json(finops, "spend", "--to", JAN, *AWS)] == [JAN]


@pytest.mark.parametrize("key", ["k\\", 'say "hi"', "a.b", "it's", "x\\\"y"])
def test_any_tag_key_can_be_asked_for(finops, key):
    (row,) = as_json(finops, "spend", "--by", f"tag:{key}", "--month", FEB, *AWS)
    assert row[f"Tags.{key}"] is None  # no row has it
    rows = as_json(finops, "untagged", "--tag", key, "--month", FEB, *AWS)
    assert [r["TagKey"] for r in rows] == [None, key]
    assert rows[1]["UntaggedEffectiveCost"] == rows[1]["EffectiveCost"]


def test_tag_keys_with_odd_characters_in_the_data():
    """Keys as a bill may carry them: every report over every key found still runs."""
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE focus (BillingPeriodStart TIMESTAMPTZ, BillingCurrency VARCHAR, "
                "Tags VARCHAR, EffectiveCost DOUBLE)")
    tags = ['{"k\\\\": "1"}', '{"a\\"b": "2", "c.d": "3"}', "{}", None]
    con.executemany("INSERT INTO focus VALUES (TIMESTAMPTZ '2024-01-01 00:00:00+00', 'USD', "
                    "?, 1.5)", [(t,) for t in tags])
    _, rows = reports.run(con, reports.REPORTS["untagged"], reports.Params(JAN, JAN))
    assert [(r[1], float(r[3]), float(r[4])) for r in rows] == [
        (None, 3.0, 6.0), ('a"b', 4.5, 6.0), ("c.d", 4.5, 6.0), ("k\\", 4.5, 6.0)]


def test_movers_rank_within_each_currency():
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE focus (BillingPeriodStart TIMESTAMPTZ, ProviderName VARCHAR, "
                "BillingCurrency VARCHAR, EffectiveCost DOUBLE)")
    rows = [(JAN, "A", "JPY", 100000.0), (FEB, "A", "JPY", 200000.0),
            (JAN, "B", "USD", 10.0), (FEB, "B", "USD", 30.0),
            (JAN, "C", "USD", 10.0), (FEB, "C", "USD", 15.0)]
    con.executemany("INSERT INTO focus VALUES (CAST(? || '-01 00:00:00+00' AS TIMESTAMPTZ), "
                    "?, ?, ?)", rows)
    _, found = reports.run(con, reports.REPORTS["movers"], reports.Params(FEB, FEB, limit=1))
    assert [(r[1], r[2], r[-1]) for r in found] == [("A", "JPY", 1), ("B", "USD", 1)]


def test_a_reports_schema_of_the_working_database_does_not_stop_publishing(tmp_path):
    from open_finops.core import focus, store

    database = tmp_path / "finops.duckdb"
    con = store.connect(database)
    try:
        focus.refresh(con)
        con.execute("CREATE SCHEMA reports")
        con.execute("CREATE TABLE reports.mine AS SELECT 1 AS x")
        published = store.publish(con, database)
        assert con.execute("SELECT count(*) FROM reports.mine").fetchone() == (1,)
    finally:
        con.close()
    copy = store.connect(published, read_only=True)
    try:
        views = {v for (v,) in copy.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'reports'").fetchall()}
        tables = copy.execute("SELECT count(*) FROM duckdb_tables() "
                              "WHERE schema_name = 'reports'").fetchone()
    finally:
        copy.close()
    assert views == {name for name, *_ in reports.views()} and tables == (0,)


def test_a_table_shows_cents_and_shares_as_numbers(finops):
    lines = finops("report", "untagged", "--tag", "environment", "--month", FEB,
                   *AWS).out.splitlines()
    assert lines[1].split()[-3:] == ["0.00", lines[1].split()[-2], "0.00"]
    assert lines[2].split()[-1].startswith("0.0") and "." in lines[2].split()[-2]
