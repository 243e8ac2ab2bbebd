"""open_finops.core.ledger: the bookkeeping every vendor's store shares, in the vendor's own
column names, over databases that release 0.3.0 of open-finops-aws wrote."""
from __future__ import annotations

from datetime import datetime

import pytest

from open_finops.core.errors import FinopsError
from open_finops.core.ledger import INTERRUPTED, Attempt, Ledger, Result, report


class ToyError(FinopsError):
    pass


class ToyUsage(ToyError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 2)


def ledger(vendor: str = "toy", **names: object) -> Ledger:
    words: dict = dict(kind_column="kind", kind_header="KIND", version_column="run_id",
                       version_header="RUN", table_prefix="t_",
                       first_import="import something first", period_source="the toy",
                       error=ToyError, usage_error=ToyUsage)
    words.update(names)
    return Ledger(vendor, **words)


#: aws's tables as release 0.3.0 created them (written out, not derived from the module).
AWS_030 = """
CREATE SCHEMA open_finops_aws;
CREATE TABLE open_finops_aws.loaded (export_name VARCHAR NOT NULL,
    billing_period VARCHAR NOT NULL, cur_version VARCHAR, format VARCHAR, version_id VARCHAR,
    manifest VARCHAR, table_name VARCHAR, row_count BIGINT, file_count INTEGER,
    loaded_at TIMESTAMP);
CREATE TABLE open_finops_aws.imports (export_name VARCHAR NOT NULL,
    billing_period VARCHAR NOT NULL, cur_version VARCHAR, format VARCHAR, version_id VARCHAR,
    manifest VARCHAR, row_count BIGINT, file_count INTEGER, started TIMESTAMP,
    finished TIMESTAMP, status VARCHAR, error VARCHAR);
INSERT INTO open_finops_aws.loaded VALUES ('acme', '2024-01', 'v1', 'csv', 'old', 'm.json',
    'li_acme_2024_01_x', 7, 1, '2024-02-01 00:00:00');
"""
AWS = dict(kind_column="cur_version", kind_header="CUR", version_column="version_id",
           version_header="VERSION_ID", kind_names={"v1": "legacy"}, history_kind=False)


def columns(con, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]


def attempt(version: str, period: str = "2024-01", kind: str = "auto") -> Attempt:
    return Attempt("acme", period, kind, "csv", version, "m.json", 2,
                   datetime(2024, 3, 1, 12, 0, 0, int(version[-1]) if version[-1].isdigit()
                            else 0))


def test_a_database_of_aws_0_3_0_keeps_its_tables_and_rows(tmp_path):
    import duckdb

    database = tmp_path / "old.duckdb"
    with duckdb.connect(str(database)) as old:
        old.execute(AWS_030)
        before = {t: columns(old, f"open_finops_aws.{t}") for t in ("loaded", "imports")}
    aws = ledger("aws", **AWS)
    con = aws.connect(database)
    try:
        assert {t: columns(con, f"open_finops_aws.{t}") for t in before} == before
        assert [(e.kind, e.version, e.row_count) for e in aws.loaded(con)] == [("v1", "old", 7)]
        aws.record_started(con, attempt("new1", kind="v1"))
        aws.record_loaded(con, attempt("new1", kind="v1"), "li_acme_2024_01_x", 9)
        assert [(e.version, e.row_count) for e in aws.loaded(con, "acme", "2024-01")] == [
            ("new1", 9)]
        text = aws.state_text(aws.loaded(con), aws.history(con))
    finally:
        con.close()
    lines = text.splitlines()
    assert lines[1].split() == ["EXPORT", "BILLING_PERIOD", "CUR", "FORMAT", "VERSION_ID",
                                "ROWS", "FILES", "LOADED_AT"]
    assert lines[2].split()[:6] == ["acme", "2024-01", "legacy", "csv", "new1", "9"]
    history = lines[lines.index("History:") + 1].split()
    assert history[:4] == ["EXPORT", "BILLING_PERIOD", "VERSION_ID", "STATUS"]
    assert lines[-1].split()[:6] == ["acme", "2024-01", "new1", "loaded", "9", "2"]


def test_attempts_running_failed_interrupted_and_the_kind_found_by_the_load(tmp_path):
    toy = ledger()
    con = toy.connect(tmp_path / "toy.duckdb")
    try:
        assert columns(con, "open_finops_toy.loaded")[:6] == [
            "export_name", "billing_period", "kind", "format", "run_id", "manifest"]
        toy.record_started(con, attempt("r1"))
        # A reader sees an attempt still running as interrupted: the import holds the lock.
        assert toy.history(con)[0][4:] == ("interrupted", None, 2, attempt("r1").started,
                                           None, INTERRUPTED)
        toy.mark_interrupted(con)
        assert con.execute("SELECT status FROM open_finops_toy.imports").fetchall() == [
            ("interrupted",)]
        toy.record_started(con, attempt("r2"))
        toy.record_failure(con, attempt("r2"), "broken file")
        toy.record_started(con, attempt("r3"))
        toy.record_loaded(con, attempt("r3", kind="focus"), "t_x", 5)
        assert [row[2:5] + row[-1:] for row in toy.history(con)] == [
            ("auto", "r1", "interrupted", INTERRUPTED), ("auto", "r2", "failed", "broken file"),
            ("focus", "r3", "loaded", None)]
        assert [(e.kind, e.version, e.table_name) for e in toy.loaded(con)] == [
            ("focus", "r3", "t_x")]
        assert toy.loaded(con, period="2024-02") == []
    finally:
        con.close()


def test_import_period_records_a_failure_and_keeps_going(tmp_path):
    toy = ledger()
    said: list[str] = []
    con = toy.connect(tmp_path / "toy.duckdb")
    try:
        def fail() -> tuple[int, str]:
            raise ToyError("bad row 3")

        failed = toy.import_period(con, attempt("r1"), "", fail, said.append)
        problem = toy.import_period(con, attempt("r2"), "manifest lists no file", fail,
                                    said.append)

        def replace() -> tuple[int, str]:  # a vendor's load records its success itself
            toy.record_loaded(con, attempt("r3"), "t_x", 1)
            return 1, " (focus)"

        loaded = toy.import_period(con, attempt("r3"), "", replace, said.append)
        statuses = [row[4] for row in toy.history(con)]
    finally:
        con.close()
    assert (failed.status, failed.message) == ("failed", "bad row 3")
    assert problem.message == "manifest lists no file"
    assert loaded == Result("acme", "2024-01", "loaded", "r3", 1, 2)
    assert statuses == ["failed", "failed", "loaded"]
    assert said == ["acme 2024-01: failed; the data loaded before is unchanged"] * 2 + [
        "acme 2024-01: loaded 1 row (focus) from 2 files"]


def test_select_periods_and_its_errors():
    toy = ledger()
    newest = {"2024-03": "c", "2024-01": "a", "2024-02": "b"}
    assert toy.select_periods(newest, None, None) == {"2024-01": "a", "2024-02": "b",
                                                      "2024-03": "c"}
    assert list(toy.select_periods(newest, "2024-02", None)) == ["2024-02", "2024-03"]
    assert toy.select_periods({}, "2024-02", None) == {}
    with pytest.raises(ToyUsage) as usage:
        toy.select_periods(newest, "2024-03", "2024-01")
    assert (str(usage.value), usage.value.exit_code) == (
        "--start 2024-03 is after --end 2024-01", 2)
    with pytest.raises(ToyError) as none:
        toy.select_periods(newest, "2025-01", None)
    assert str(none.value) == ("no billing period between 2025-01 and the last: the toy "
                               "covers 2024-01..2024-03")


def test_names_of_tables_folders_and_errors(tmp_path):
    toy = ledger()
    assert toy.table_name("My Export!", "2024-01").startswith("t_my_export_2024_01_")
    assert toy.table_name("a", "2024-01") != toy.table_name("A", "2024-01")
    assert toy.staging_folder(tmp_path / "f.duckdb").name == "f.duckdb.toy-staging"
    with pytest.raises(ToyError, match="no database at .*: import something first"):
        toy.connect(tmp_path / "absent.duckdb", read_only=True)
    with pytest.raises(ToyUsage, match=r"memory_limit \(\[toy\] in config.toml or "
                                       r"OPEN_FINOPS_TOY_MEMORY_LIMIT\): expected a size"):
        toy.connect(tmp_path / "toy.duckdb", memory_limit="lots")


def test_report_counts_and_exit_code(capsys):
    assert report([Result("e", "2024-01", "skipped", "v")]) == 0
    assert report([Result("e", "2024-01", "loaded", "v"),
                   Result("e", "2024-02", "failed", "v", message="no")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["==> done: 0 loaded, 1 up to date, 0 failed",
                   "==> done: 1 loaded, 0 up to date, 1 failed",
                   "finops: error: e 2024-02: no"]
