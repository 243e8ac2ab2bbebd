"""`finops report`: the FOCUS use cases over every provider, checked against the totals the
CUR generator computed from its own rows (tests/curgen.py, never the reports' SQL)."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from awskit import holding_lock
from curgen import CurBucket
from open_finops.core import reports
from open_finops.core.cli import main

JAN, FEB = "2024-01", "2024-02"


@dataclass
class Run:
    code: int
    out: str
    err: str


def finops_in(home: Path, *args: str, code: int = 0) -> Run:
    """`finops ARGS` in this process (core's real command line), from ``home``, with no
    OPEN_FINOPS_* or AWS_* variable of the developer's; asserts the exit code."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    for name in [n for n in os.environ if n.startswith(("OPEN_FINOPS_", "AWS_"))]:
        del os.environ[name]
    os.chdir(home)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result = main(list(args))
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    run = Run(result, out.getvalue(), err.getvalue())
    assert result == code, f"finops {' '.join(args)} -> {result}\n{run.out}{run.err}"
    return run


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """Two months of one CUR 2.0 export, imported once with `finops aws import-cur`."""
    root = tmp_path_factory.mktemp("reports")
    bucket = CurBucket(root / "bucket")
    months = {month: bucket.cur2("acme", month, rows=300, seed=seed)
              for month, seed in ((JAN, 1), (FEB, 2))}
    finops_in(root, "aws", "import-cur", "--source", str(bucket.source), "--export-name", "acme")
    return {"root": root, "totals": {m: d.totals for m, d in months.items()}}


@pytest.fixture
def loaded(built) -> dict:
    return built["totals"]


@pytest.fixture
def finops(built):
    """`finops ARGS` over the module's database."""
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
    rows = as_json(finops, "spend", "--by", by, "--month", FEB)
    now, before = getattr(loaded[FEB], totals), getattr(loaded[JAN], totals)
    assert {r[column]: cents(r["BilledCost"]) for r in rows} == \
        {k: cents(v) for k, v in now.items()}
    for r in rows:
        assert r["BillingPeriod"] == FEB and r["BillingCurrency"] == "USD"
        previous = before.get(r[column])
        assert (r["PreviousBilledCost"] is None) == (previous is None)
        assert cents(r["BilledCostChange"]) == cents(now[r[column]] - (previous or 0))


def test_one_billing_account_holds_every_sub_accounts_spend(finops, loaded):
    (row,) = as_json(finops, "spend", "--by", "billing-account", "--month", FEB)
    assert cents(row["BilledCost"]) == cents(sum(loaded[FEB].by_account.values())) == \
        cents(loaded[FEB].unblended)


def test_spend_over_months_by_provider_in_csv_is_exact(finops, loaded):
    text = finops("report", "spend", "--from", JAN, "--to", FEB, "--format", "csv").out
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["BillingPeriod"], r["ProviderName"]) for r in rows] == [(JAN, "AWS"), (FEB, "AWS")]
    for r in rows:
        totals = loaded[r["BillingPeriod"]]
        # The sum's own decimal digits (the generator's costs have 6), not a float's.
        assert r["BilledCost"] == f"{totals.unblended:.6f}".rstrip("0").rstrip(".")
        assert cents(float(r["EffectiveCost"])) == cents(totals.effective)
    assert rows[0]["PreviousBilledCost"] == ""  # no December


def test_movers_rank_the_changes_between_two_months(finops, loaded):
    rows = as_json(finops, "movers", "--by", "service", "--month", FEB, "--limit", "100")
    changes = [r["EffectiveCostChange"] for r in rows]
    assert changes == sorted(changes, key=abs, reverse=True)
    for r in rows:
        assert cents(r["EffectiveCostChange"]) == cents(r["EffectiveCost"]
                                                        - r["PreviousEffectiveCost"])
    assert cents(sum(r["EffectiveCost"] for r in rows)) == cents(loaded[FEB].effective)
    assert cents(sum(r["PreviousEffectiveCost"] for r in rows)) == cents(loaded[JAN].effective)
    top = as_json(finops, "movers", "--by", "service", "--month", FEB, "--limit", "2")
    assert top == rows[:2]


def test_the_latest_month_by_default_and_a_table_for_people(finops, loaded):
    table = finops("report", "spend", "--by", "service").out.splitlines()
    assert table[0].split()[:3] == ["BillingPeriod", "ServiceName", "BillingCurrency"]
    assert all(line.startswith(FEB) for line in table[1:]), table
    assert len(table) == 1 + len(loaded[FEB].by_service)


def test_list_names_every_report_with_its_use_cases(finops):
    out = finops("report", "--list").out
    for report in reports.REPORTS.values():
        assert report.name in out and all(url in out for url in report.urls())
    assert "https://focus.finops.org/use-case/verify-service-charges/" in out


def test_reports_read_the_published_copy_while_an_import_holds_the_database(
        finops, loaded, built):
    with holding_lock(built["root"] / "data" / "finops.duckdb"):
        rows = as_json(finops, "spend", "--month", FEB)
    assert cents(rows[0]["BilledCost"]) == cents(loaded[FEB].unblended)


@pytest.mark.parametrize("args, says", [
    (["nope"], "unknown report 'nope'; 'finops report --list' lists them: spend, movers"),
    (["spend", "--by", "colour"], "--by: unknown dimension 'colour'; use one of provider, "
     "billing-account, sub-account, service-category, service, region, or tag:KEY"),
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
