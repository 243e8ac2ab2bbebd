"""The DuckDB store of Azure's rows: bookkeeping tables and views, in ``open_finops_azure``.

* one table per export and billing period, ``c_<export>_<YYYY_MM>_<hash>``: ``export_name``,
  ``billing_period``, ``dataset`` (actual, amortized or focus), ``agreement`` (EA, MCA or
  FOCUS) and the export's columns (cost details: lower case, EA and MCA names made one;
  FOCUS: its names). A newer run replaces the table inside one transaction;
* ``loaded``: the run of each export and period in the store; ``imports``: every attempt,
  recorded as ``running`` before its transaction and finished inside it (one whose process
  died is marked ``interrupted`` by the next import);
* views ``cost_details`` and ``focus_exports`` (the tables of each kind, ``UNION ALL BY
  NAME``) and ``focus`` (FOCUS 1.2, open_finops.azure.focus), recreated with each import,
  which then rebuilds ``main.focus`` over every vendor (open_finops.core.focus).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from open_finops.azure.errors import AzureError, UsageError, one_line
from open_finops.azure.focus import focus_sql, quote
from open_finops.core import focus as core_focus
from open_finops.core import store as core_store

SCHEMA = core_focus.vendor_schema("azure")
INTERRUPTED = "the import stopped before it finished (process killed?); earlier data unchanged"
_FIELDS = ("export_name VARCHAR NOT NULL, billing_period VARCHAR NOT NULL, kind VARCHAR, "
           "format VARCHAR, run_id VARCHAR, manifest VARCHAR")
_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.loaded ({_FIELDS}, table_name VARCHAR, row_count BIGINT,
    file_count INTEGER, loaded_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS {SCHEMA}.imports ({_FIELDS}, row_count BIGINT, file_count INTEGER,
    started TIMESTAMP, finished TIMESTAMP, status VARCHAR, error VARCHAR);
"""


@dataclass(frozen=True)
class Attempt:
    export_name: str
    billing_period: str
    kind: str
    format: str
    run_id: str
    manifest: str
    file_count: int
    started: datetime


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def connect(path: Path, read_only: bool = False, memory_limit: str | None = None) -> Any:
    """Core's connection (the DuckDB contract), in UTC, with the bookkeeping tables."""
    import duckdb

    path = Path(path)
    if read_only and not path.exists():
        raise AzureError(f"no database at {path}: import an export first with "
                         "'finops azure import-costs'")
    con = core_store.connect(path, read_only=read_only)
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = false")
        if memory_limit:
            try:
                con.execute(f"SET memory_limit = '{memory_limit.replace(chr(39), '')}'")
            except duckdb.Error as exc:
                raise UsageError(f"memory_limit ([azure] in config.toml or "
                                 f"OPEN_FINOPS_AZURE_MEMORY_LIMIT): expected a size such as "
                                 f"4GB, got {memory_limit!r} ({one_line(exc)})") from None
        if not read_only:
            con.execute(_DDL)
    except duckdb.Error as exc:
        con.close()
        raise AzureError(f"database {path}: {one_line(exc)}") from None
    except AzureError:
        con.close()
        raise
    return con


def has_state(con: Any) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
        "AND table_name = 'loaded'", [SCHEMA]).fetchone()[0])


def table_name(export_name: str, period: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", export_name.lower()).strip("_")[:40] or "export"
    digest = hashlib.sha1(export_name.encode()).hexdigest()[:8]
    return f"c_{slug}_{period.replace('-', '_')}_{digest}"


def where(**equals: str | None) -> tuple[str, list]:
    given = {column: value for column, value in equals.items() if value}
    clauses = [f"{column} = ?" for column in given]
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), list(given.values())


def loaded(con: Any, export_name: str | None = None, period: str | None = None) -> list[tuple]:
    """(export, period, kind, format, run_id, manifest, table, rows, files, loaded_at)."""
    if not has_state(con):
        return []
    clause, params = where(export_name=export_name, billing_period=period)
    return con.execute(f"SELECT * FROM {SCHEMA}.loaded {clause} ORDER BY export_name, "
                       f"billing_period", params).fetchall()


def history(con: Any, export_name: str | None = None, period: str | None = None) -> list[tuple]:
    if not has_state(con):
        return []
    clause, params = where(export_name=export_name, billing_period=period)
    return con.execute(
        f"SELECT export_name, billing_period, kind, run_id, CASE status WHEN 'running' THEN "
        f"'interrupted' ELSE status END, row_count, file_count, started, finished, "
        f"CASE status WHEN 'running' THEN ? ELSE error END FROM {SCHEMA}.imports {clause} "
        f"ORDER BY export_name, billing_period, started", [INTERRUPTED, *params]).fetchall()


def mark_interrupted(con: Any) -> None:
    con.execute(f"UPDATE {SCHEMA}.imports SET status = 'interrupted', error = ? "
                f"WHERE status = 'running'", [INTERRUPTED])


def record_started(con: Any, a: Attempt) -> None:
    con.execute(f"INSERT INTO {SCHEMA}.imports VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, "
                f"'running', NULL)", [a.export_name, a.billing_period, a.kind, a.format,
                                      a.run_id, a.manifest, a.file_count, a.started])


def _finish(con: Any, a: Attempt, status: str, rows: int | None, error: str | None) -> None:
    con.execute(f"UPDATE {SCHEMA}.imports SET status = ?, row_count = ?, finished = ?, "
                f"error = ?, kind = ? WHERE export_name = ? AND billing_period = ? AND "
                f"started = ? AND status = 'running'",
                [status, rows, now(), error, a.kind, a.export_name, a.billing_period,
                 a.started])


def record_loaded(con: Any, a: Attempt, table: str, rows: int) -> None:
    con.execute(f"DELETE FROM {SCHEMA}.loaded WHERE export_name = ? AND billing_period = ?",
                [a.export_name, a.billing_period])
    con.execute(f"INSERT INTO {SCHEMA}.loaded VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [a.export_name, a.billing_period, a.kind, a.format, a.run_id, a.manifest,
                 table, rows, a.file_count, now()])
    _finish(con, a, "loaded", rows, None)


def record_failure(con: Any, a: Attempt, error: str) -> None:
    _finish(con, a, "failed", None, error)


def refresh_views(con: Any) -> None:
    """``cost_details``, ``focus_exports`` and ``focus`` over the loaded tables, then
    ``main.focus`` over every vendor (core's contract)."""
    tables = con.execute(f"SELECT table_name, kind = 'focus' FROM {SCHEMA}.loaded "
                         f"WHERE table_name IS NOT NULL ORDER BY ALL").fetchall()
    inputs = []
    for view, focus in (("cost_details", False), ("focus_exports", True)):
        names = [name for name, is_focus in tables if is_focus == focus]
        full = f"{SCHEMA}.{view}"
        if not names:
            con.execute(f"DROP VIEW IF EXISTS {full}")
            inputs.append(None)
            continue
        con.execute(f"CREATE OR REPLACE VIEW {full} AS " + " UNION ALL BY NAME ".join(
            f"SELECT * FROM {SCHEMA}.{quote(name)}" for name in names))
        have = {row[0]: row[1] for row in con.execute(f"DESCRIBE {full}").fetchall()}
        inputs.append((have, full))
    con.execute(f"CREATE OR REPLACE VIEW {SCHEMA}.{core_focus.VENDOR_VIEW} AS "
                f"{focus_sql(*inputs)}")
    core_focus.refresh(con)
