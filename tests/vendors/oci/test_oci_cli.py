"""`finops oci` as a user runs it (in-process through core's CLI, tests/kits/finopskit.py):
the vocabulary (import, list, state, summary; --export-name and --kind), a new file making
a new version of its month, and bad input failing with one line that names the file while the
data loaded before stays."""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import ocigen
from finopskit import holding_lock

LOCKED = "finops: error: database {db} is locked by another process (PID {pid}); retry when " \
         "it has finished"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    """A tenancy's bucket: FOCUS and cost reports of January and February 2024."""
    root = tmp_path_factory.mktemp("bucket") / ocigen.TENANCIES[0].ocid
    bucket = ocigen.OciBucket(root)
    for month in ("2024-01", "2024-02"):
        bucket.month(month, rows=15)
    return {"root": root, "bucket": bucket}


def totals(db: Path) -> dict[tuple[str, str], tuple[Decimal, int]]:
    """(export, month) -> billed cost to the cent and rows of OCI's focus rows."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {(x, p): (Decimal(str(b)), n) for x, p, b, n in con.execute(
            "SELECT x_ExportName, x_BillingPeriod, round(sum(BilledCost), 2), count(*) "
            "FROM focus WHERE ProviderName = 'Oracle' GROUP BY ALL").fetchall()}
    finally:
        con.close()


def expected(bucket: ocigen.OciBucket, kind: str, export: str | None = None) -> dict:
    return {(export or kind, month): (ocigen.cents(t.cost), t.rows)
            for (k, month), t in bucket.totals.items() if k == kind}


def table(text: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in text.strip().splitlines()
            if line.strip()]


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("finops: error:")]


def focus_files(source: Path, month: str) -> list[Path]:
    return sorted((source / "FOCUS Reports" / month.replace("-", "/")).rglob("*.csv.gz"))


def test_import_list_state_summary(finops, generated, source, db):
    bucket = generated["bucket"]
    run_ = finops("oci", "import", "--source", str(source))
    assert "2 loaded, 0 up to date, 0 failed" in run_.err
    finops("oci", "import", "--source", str(source), "--export-name", "cost")
    assert totals(db) == {**expected(bucket, "focus"), **expected(bucket, "cost")}
    again = finops("oci", "import", "--source", str(source), "--kind", "cost", "--export-name",
                   "cost")
    assert "0 loaded, 3 up to date, 0 failed" in again.err
    listing = table(finops("oci", "list", "--source", str(source), "--export-name",
                           "cost").out)
    assert listing[0] == ["BILLING_PERIOD", "KIND", "FILES", "VERSION", "LOADED", "PROBLEM"]
    assert [(row[0], row[1], row[4]) for row in listing[1:]] == [
        ("2023-12", "cost", "yes"), ("2024-01", "cost", "yes"), ("2024-02", "cost", "yes")]
    state = finops("oci", "state", "--month", "2024-01").out
    loaded = table(state.split("History:")[0])[2:]
    assert [(row[0], row[1], row[2]) for row in loaded] == [
        ("cost", "2024-01", "cost"), ("focus", "2024-01", "FOCUS")]
    summary = table(finops("oci", "summary", "--by", "compartment", "--export-name",
                           "focus").out)
    assert summary[0][0] == "COMPARTMENT" and summary[-1][0] == "TOTAL"
    total = sum(t.cost for (k, _m), t in bucket.totals.items() if k == "focus")
    assert Decimal(summary[-1][2].replace(",", "")) == ocigen.cents(total)


def test_a_new_file_makes_a_new_version_of_its_month_only(finops, generated, source, db):
    finops("oci", "import", "--source", str(source))
    before = totals(db)
    late = ocigen.OciBucket(source, seed=99)  # another writer of the same bucket
    late._number["focus"] = 5000
    late.focus_file(dt.date(2024, 2, 3), rows=7)
    run_ = finops("oci", "import", "--source", str(source))
    assert "1 loaded, 1 up to date, 0 failed" in run_.err
    after = totals(db)
    assert after[("focus", "2024-01")] == before[("focus", "2024-01")]
    added = late.totals[("focus", "2024-02")]
    billed, rows = before[("focus", "2024-02")]
    written = generated["bucket"].totals[("focus", "2024-02")].cost + added.cost
    assert after[("focus", "2024-02")] == (ocigen.cents(written), rows + 7)


def test_a_missing_file_fails_naming_it_and_keeps_the_data(finops, generated, source, db,
                                                           monkeypatch):
    """A file removed between the listing and its reading (OCI deletes reports after a
    year, and a copy may be pruned while an import runs)."""
    from open_finops.oci import sources

    finops("oci", "import", "--source", str(source))
    before = totals(db)
    late = ocigen.OciBucket(source, seed=98)
    late._number["focus"] = 6000
    gone = late.focus_file(dt.date(2024, 2, 3), rows=3)
    listed = sources.LocalSource.list

    def list_then_remove(self, folder):
        found = listed(self, folder)
        gone.unlink(missing_ok=True)
        return found

    monkeypatch.setattr(sources.LocalSource, "list", list_then_remove)
    run_ = finops("oci", "import", "--source", str(source), code=1)
    assert error_lines(run_.err) == [
        f"finops: error: focus 2024-02: {gone}: no such file (removed after it was listed?); "
        "import again"], run_.err
    assert "Traceback" not in run_.err and totals(db) == before


def test_a_truncated_gzip_fails_naming_it_and_keeps_the_data(finops, generated, source, db):
    finops("oci", "import", "--source", str(source), "--export-name", "cost")
    before = totals(db)
    files = sorted((source / "reports" / "cost-csv").glob("*.csv.gz"))
    data = files[-1].read_bytes()
    files[-1].write_bytes(data[: len(data) // 2])
    run_ = finops("oci", "import", "--source", str(source), "--export-name", "cost", code=1)
    # Its months are unknown: those of the files written before and after it fail, one line
    # each; the month of late usage only, without it, stays loaded.
    assert error_lines(run_.err) == [
        f"finops: error: cost {month}: {files[-1]}: corrupt gzip file (truncated)"
        for month in ("2024-01", "2024-02")], run_.err
    assert "Traceback" not in run_.err and "1 up to date" in run_.err
    assert totals(db) == before
    # A FOCUS report: core's check of every gzip file, while DuckDB loads it.
    finops("oci", "import", "--source", str(source))
    before = totals(db)
    path = focus_files(source, "2024-01")[-1]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 12])
    run_ = finops("oci", "import", "--source", str(source), code=1)
    assert error_lines(run_.err) == [
        f"finops: error: focus 2024-01: {path}: corrupt gzip file (truncated)"], run_.err
    assert totals(db) == before


def test_a_parquet_file_that_is_not_parquet(finops, generated, source, db):
    finops("oci", "import", "--source", str(source))
    before = totals(db)
    bad = source / "FOCUS Reports/2024/01/05/0000000000009998-00001.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PAR1 but not really a Parquet file")
    run_ = finops("oci", "import", "--source", str(source), code=1)
    assert error_lines(run_.err) == [
        f"finops: error: focus 2024-01: {bad}: not a readable Parquet file (No magic bytes "
        "found at end of file)"], run_.err
    assert "1 up to date" in run_.err and totals(db) == before


def test_a_bad_number_names_file_line_and_column(finops, generated, source, db):
    finops("oci", "import", "--source", str(source))
    before = totals(db)
    path = focus_files(source, "2024-02")[0]
    with gzip.open(path, "rt", newline="") as handle:
        text = handle.read()
    header, first, rest = text.split("\r\n", 2)
    index = header.split(",").index("BilledCost")
    cells = next(csv.reader([first]))
    cells[index] = "12,5 USD"
    line = io.StringIO()
    csv.writer(line).writerow(cells)
    with gzip.open(path, "wt", newline="") as handle:
        handle.write(f"{header}\r\n{line.getvalue()}{rest}")
    run_ = finops("oci", "import", "--source", str(source), code=1)
    errors = error_lines(run_.err)
    assert errors == [f"finops: error: focus 2024-02: {path}: Conversion Error: CSV Error on "
                      'Line: 2 (Error when converting column "BilledCost". Could not convert '
                      "string \"12,5 USD\" to 'DOUBLE')"], run_.err
    assert totals(db) == before


def test_a_locked_database(finops, generated, source, db):
    finops("oci", "import", "--source", str(source))
    before = totals(db)
    with holding_lock(db) as pid:
        run_ = finops("oci", "import", "--source", str(source), "--force", code=1)
        assert error_lines(run_.err) == [LOCKED.format(db=db, pid=pid)], run_.err
        assert "Traceback" not in run_.err
        state = finops("oci", "state")
        assert "showing the state that the last import published" in state.err
    assert totals(db) == before


@pytest.mark.parametrize("args, message", [
    (["--source", "s3://bucket/x"], "give --endpoint-url https://NAMESPACE.compat."),
    (["--source", "gs://bucket/x"], "only local folders and s3:// are supported"),
    (["--source", "{source}", "--kind", "cost", "--export-name", "x", "--month", "2024-13"],
     "--month: expected a month as YYYY-MM"),
])
def test_usage_errors(finops, source, args, message):
    args = [a.replace("{source}", str(source)) for a in args]
    run_ = finops("oci", "import", *args, code=None)
    assert run_.code in (1, 2) and message in run_.err and "Traceback" not in run_.err


def test_no_reports_at_the_source(finops, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    run_ = finops("oci", "import", "--source", str(empty), code=1)
    assert error_lines(run_.err) == [
        f"finops: error: no OCI reports (FOCUS Reports/ or reports/cost-csv/) under {empty} "
        "(check --source: the tenancy's bucket, or a folder laid out like it)"]
