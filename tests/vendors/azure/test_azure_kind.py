"""Older Azure exports (one CSV per run, no manifest) without --kind: the kind from the rows
where they tell (unused commitment only in amortized, commitment purchases only in actual),
``either`` where actual and amortized are the same rows, one error line naming --kind where
the rows are ambiguous or contradict it, and list saying so before any import.
Totals to the cent against tests/azuregen.py's Period.billed and effective."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import azuregen

MONTHS = ("2026-01", "2026-02")
PLAIN_ACCOUNT = ("31415926", "Contoso EA without commitments")
#: name -> (write_export keywords, the kind the rows tell or None: ambiguous)
EXPORTS = {
    "old-actual": (dict(kind="actual", agreement="EA"), "actual"),
    "old-amortized": (dict(kind="amortized", agreement="MCA"), "amortized"),
    "old-plain": (dict(kind="actual", agreement="EA", commitments="none",
                       account=PLAIN_ACCOUNT), "either"),
    "old-plain-amortized": (dict(kind="amortized", agreement="EA", commitments="none",
                                 account=PLAIN_ACCOUNT), "either"),
    "old-covered": (dict(kind="amortized", agreement="MCA", commitments="covered"), None),
}
COVERED_ROWS = 5  # a month's usage under the reservation (3) and the savings plan (2)
UNUSED_ROWS = 2
AMBIGUOUS = ("cannot tell actual from amortized cost details ({n} commitment-covered usage "
             "rows, whose cost differs between the two, and no unused commitment or commitment "
             "purchase to tell): give --kind actual or --kind amortized")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, azuregen.Export]:
    root = tmp_path_factory.mktemp("container")
    exports = {name: azuregen.write_export(root, name, layout="older", months=MONTHS, **kw)
               for name, (kw, _kind) in EXPORTS.items()}
    return {"root": root, **exports}


def options(source: Path, export: str) -> list[str]:
    return ["--source", str(source), "--export-name", export]


def query(db: Path, sql: str, *params) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def totals(db: Path, *exports: str) -> dict[str, tuple[float, float]]:
    """period -> billed and effective (to the cent) of the focus rows of ``exports``."""
    return {p: (b, e) for p, b, e in query(
        db, "SELECT x_BillingPeriod, round(sum(BilledCost), 2), round(sum(EffectiveCost), 2) "
            "FROM focus WHERE x_ExportName IN (SELECT unnest(?)) GROUP BY ALL", list(exports))}


def cents(value) -> float:
    return float(azuregen.cents(value))


def listing(finops, source: Path, export: str, *extra: str) -> list[list[str]]:
    """list's rows as BILLING_PERIOD, KIND, PROBLEM."""
    out = finops("azure", "list", *options(source, export), *extra).out.splitlines()
    header, rows = out[0], out[1:]
    at = [header.index(name) for name in ("BILLING_PERIOD", "KIND", "PROBLEM")]
    return [[line[at[0]:].split()[0], line[at[1]:].split()[0], line[at[2]:].strip()]
            for line in rows]


def csv_of(source: Path, export: azuregen.Export, month: str) -> Path:
    return source / export.periods[month].newest.files[0]


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("finops: error:")]


def test_list_exports_tells_each_kind_before_any_import(finops, generated, source, db):
    for name, (_kw, kind) in EXPORTS.items():
        rows = listing(finops, source, name)
        if kind:
            assert rows == [[month, kind, "-"] for month in MONTHS], name
        else:
            assert rows == [[month, "ambiguous", f"{csv_of(source, generated[name], month)}: "
                             + AMBIGUOUS.format(n=COVERED_ROWS)] for month in MONTHS]
    assert not db.exists()  # nothing was imported to tell


def test_the_rows_tell_actual_and_amortized(finops, generated, source, db):
    for name in ("old-actual", "old-amortized"):
        run = finops("azure", "import", *options(source, name))
        assert "2 loaded, 0 up to date, 0 failed" in run.err, run.err
    actual, amortized = generated["old-actual"], generated["old-amortized"]
    for month in MONTHS:
        assert totals(db, "old-actual")[month][0] == cents(actual.periods[month].billed)
        assert totals(db, "old-amortized")[month][1] == cents(amortized.periods[month].effective)
    assert set(query(db, "SELECT export_name, kind FROM open_finops_azure.loaded")) == {
        ("old-actual", "actual"), ("old-amortized", "amortized")}


def test_an_export_without_commitment_rows_is_either_kind(finops, generated, source, db):
    run = finops("azure", "import", *options(source, "old-plain"))
    assert "(either)" in run.err and "2 loaded" in run.err, run.err
    plain = generated["old-plain"]
    assert totals(db, "old-plain") == {
        month: (cents(plain.periods[month].billed), cents(plain.periods[month].effective))
        for month in MONTHS}
    assert {kind for (kind,) in query(db, "SELECT kind FROM open_finops_azure.loaded")} == {
        "either"}
    # Its actual and amortized exports, both "either", pair as actual and amortized: once.
    finops("azure", "import", *options(source, "old-plain-amortized"))
    both = totals(db, "old-plain", "old-plain-amortized")
    for month in MONTHS:
        period = generated["old-plain-amortized"].periods[month]
        assert period.billed == period.effective == plain.periods[month].billed
        assert both[month] == (cents(period.billed), cents(period.effective))
    # Every amortized row paired with its actual twin: each charge is one row.
    assert dict(query(db, "SELECT x_BillingPeriod, count(*) FROM focus GROUP BY ALL")) == {
        month: plain.periods[month].rows for month in MONTHS}


def test_ambiguous_rows_fail_with_one_line_naming_kind(finops, generated, source, db):
    covered = generated["old-covered"]
    run = finops("azure", "import", *options(source, "old-covered"), "--end", "2026-01",
                 code=1)
    assert error_lines(run.err) == [
        f"finops: error: old-covered 2026-01: {csv_of(source, covered, '2026-01')}: "
        + AMBIGUOUS.format(n=COVERED_ROWS)], run.err
    assert "Traceback" not in run.err
    finops("azure", "import", *options(source, "old-covered"), "--kind", "amortized")
    for month in MONTHS:
        assert totals(db, "old-covered")[month][1] == cents(covered.periods[month].effective)


def test_a_kind_the_rows_contradict_is_one_error_line(finops, generated, source, db):
    where = csv_of(source, generated["old-amortized"], "2026-01")
    message = (f"{where}: amortized cost details ({UNUSED_ROWS} UnusedReservation/"
               "UnusedSavingsPlan rows, which only amortized exports have), not --kind actual; "
               "give --kind amortized or --kind auto")
    rows = listing(finops, source, "old-amortized", "--kind", "actual", "--end", "2026-01")
    assert rows == [["2026-01", "actual", message]]
    run = finops("azure", "import", *options(source, "old-amortized"), "--kind", "actual",
                 "--end", "2026-01", code=1)
    assert error_lines(run.err) == [f"finops: error: old-amortized 2026-01: {message}"], run.err
    # A --kind the rows agree with, or cannot contradict, is taken.
    finops("azure", "import", *options(source, "old-plain"), "--kind", "amortized")
    assert {kind for (kind,) in query(
        db, "SELECT kind FROM open_finops_azure.loaded WHERE export_name = 'old-plain'")} == {
        "amortized"}
