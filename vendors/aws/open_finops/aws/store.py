"""The DuckDB store: connection, bookkeeping tables and the public views.

Layout (everything internal lives in the schema ``open_finops_aws``):

* one table per export and billing period with that period's line items, named
  ``li_<export>_<YYYY_MM>_<hash>``; its columns are ``export_name``, ``billing_period`` and
  the report's columns, normalized. A new version of the period replaces the table inside one
  transaction;
* ``loaded``: which version of each export and period is in the store (and in which table);
* ``imports``: every import attempt (version, rows, files, started, finished, status, error).
  an attempt is recorded as ``running`` before its transaction starts and updated inside it,
  so one whose process died (killed, out of memory) stays ``running`` until the next import,
  which holds the database's lock, marks it ``interrupted`` (``history`` shows it so before);
* views ``main.aws_cur`` (every loaded CUR line item of every export, the tables combined
  ``UNION ALL BY NAME`` so columns that come and go between periods line up by name) and
  ``open_finops_aws.focus`` (FOCUS 1.2 over ``aws_cur``, and over ``focus_exports``, the
  tables of AWS's own FOCUS exports), recreated with each import, which then rebuilds
  ``main.focus`` over every vendor's rows in the database (open_finops.core.focus).

The connection is core's (open_finops.core.store: the DuckDB contract with Metabase's
driver), and every import ends by publishing the copy Metabase reads (:func:`publish`).
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from open_finops.aws.columns import literal, quote
from open_finops.aws.errors import AwsError, UsageError, one_line
from open_finops.aws.focus import focus_export_sql, focus_sql
from open_finops.core import focus as core_focus
from open_finops.core import store as core_store

SCHEMA = core_focus.vendor_schema("aws")
logger = logging.getLogger(__name__)

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.loaded (
    export_name VARCHAR NOT NULL,
    billing_period VARCHAR NOT NULL,
    cur_version VARCHAR,
    format VARCHAR,
    version_id VARCHAR,
    manifest VARCHAR,
    table_name VARCHAR,
    row_count BIGINT,
    file_count INTEGER,
    loaded_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.imports (
    export_name VARCHAR NOT NULL,
    billing_period VARCHAR NOT NULL,
    cur_version VARCHAR,
    format VARCHAR,
    version_id VARCHAR,
    manifest VARCHAR,
    row_count BIGINT,
    file_count INTEGER,
    started TIMESTAMP,
    finished TIMESTAMP,
    status VARCHAR,
    error VARCHAR
);
"""


@dataclass
class Loaded:
    export_name: str
    billing_period: str
    cur_version: str
    format: str
    version_id: str
    manifest: str
    table_name: str | None
    row_count: int
    file_count: int
    loaded_at: datetime


@dataclass(frozen=True)
class Attempt:
    """One import of one version of one period, as recorded in ``imports``."""

    export_name: str
    billing_period: str
    cur_version: str
    format: str
    version_id: str
    manifest: str
    file_count: int
    started: datetime


#: Why an attempt that never finished did not, for people.
INTERRUPTED = "the import stopped before it finished (process killed?); earlier data unchanged"


def now() -> datetime:
    """UTC, without time zone (stored as TIMESTAMP, to the microsecond so that attempts
    sort in order)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def connect(path: Path, read_only: bool = False, memory_limit: str | None = None) -> Any:
    """A connection to the store at ``path`` (created unless ``read_only``), opened by core's
    store as the DuckDB contract with Metabase says (open_finops.core.store)."""
    import duckdb

    path = Path(path)
    if read_only and not path.exists():
        raise AwsError(f"no database at {path}: load a report first with "
                       "'finops aws import-cur'")
    con = core_store.connect(path, read_only=read_only)
    try:
        con.execute("SET TimeZone = 'UTC'")
        # DuckDB draws its progress bar on stdout, which carries only data.
        con.execute("SET enable_progress_bar = false")
        # Line items have no meaningful order; not keeping it lets DuckDB stream big loads.
        con.execute("SET preserve_insertion_order = false")
        if memory_limit:
            _set_memory_limit(con, memory_limit)
        if not read_only:
            logger.info("DuckDB memory_limit = %s, threads = %s, temp_directory = %s",
                        *con.execute("SELECT current_setting('memory_limit'), "
                                     "current_setting('threads'), "
                                     "current_setting('temp_directory')").fetchone())
            con.execute(_DDL)
            if con.execute("SELECT count(*) FROM duckdb_views() WHERE (schema_name, view_name)"
                           f" IN (('main', 'aws_cur'), ('main', 'focus'), ('{SCHEMA}', "
                           f"'{core_focus.VENDOR_VIEW}'))").fetchone()[0] != 3:
                refresh_views(con)
    except duckdb.Error as exc:
        con.close()
        raise AwsError(f"database {path}: {one_line(exc)}") from None
    except AwsError:
        con.close()
        raise
    return con


def publish(con: Any, database: Path) -> Path:
    """At the end of an import: the copy Metabase reads (core's store publishes it)."""
    return core_store.publish(con, database)


def _set_memory_limit(con: Any, memory_limit: str) -> None:
    import duckdb

    try:
        con.execute(f"SET memory_limit = {literal(memory_limit)}")
    except duckdb.Error as exc:
        raise UsageError(f"memory_limit ([aws] in config.toml or OPEN_FINOPS_AWS_MEMORY_LIMIT):"
                         f" expected a size such as 4GB, got {memory_limit!r}"
                         f" ({one_line(exc)})") from None


def has_state(con: Any) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
        "AND table_name = 'loaded'", [SCHEMA]).fetchone()[0])


def table_name(export_name: str, period: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", export_name.lower()).strip("_")[:40] or "export"
    digest = hashlib.sha1(export_name.encode()).hexdigest()[:8]
    return f"li_{slug}_{period.replace('-', '_')}_{digest}"


def loaded(con: Any, export_name: str | None = None, period: str | None = None) -> list[Loaded]:
    if not has_state(con):
        return []
    where_sql, params = where(export_name=export_name, billing_period=period)
    rows = con.execute(
        f"SELECT export_name, billing_period, cur_version, format, version_id, manifest, "
        f"table_name, row_count, file_count, loaded_at FROM {SCHEMA}.loaded {where_sql} "
        f"ORDER BY export_name, billing_period", params).fetchall()
    return [Loaded(*row) for row in rows]


def history(con: Any, export_name: str | None = None, period: str | None = None) -> list[tuple]:
    """Import attempts: export, period, version, status, rows, files, started, finished,
    error."""
    if not has_state(con):
        return []
    where_sql, params = where(export_name=export_name, billing_period=period)
    # A reader cannot open the database while an import holds it: 'running' is stale.
    return con.execute(
        f"SELECT export_name, billing_period, version_id, "
        f"CASE status WHEN 'running' THEN 'interrupted' ELSE status END, row_count, "
        f"file_count, started, finished, "
        f"CASE status WHEN 'running' THEN {literal(INTERRUPTED)} ELSE error END "
        f"FROM {SCHEMA}.imports {where_sql} "
        f"ORDER BY export_name, billing_period, started, finished", params).fetchall()


def where(**equals: str | None) -> tuple[str, list]:
    """A WHERE clause (or "") and its parameters: column = value for each value given."""
    given = {column: value for column, value in equals.items() if value}
    clauses = [f"{column} = ?" for column in given]
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), list(given.values())


def mark_interrupted(con: Any) -> None:
    """With the database's lock held: attempts still 'running' were cut short."""
    con.execute(f"UPDATE {SCHEMA}.imports SET status = 'interrupted', error = ? "
                f"WHERE status = 'running'", [INTERRUPTED])


def record_started(con: Any, attempt: Attempt) -> None:
    """Before the import's transaction, committed on its own."""
    con.execute(f"INSERT INTO {SCHEMA}.imports VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, "
                f"'running', NULL)",
                [attempt.export_name, attempt.billing_period, attempt.cur_version,
                 attempt.format, attempt.version_id, attempt.manifest, attempt.file_count,
                 attempt.started])


def _finish(con: Any, attempt: Attempt, status: str, rows: int | None, finished: datetime,
            error: str | None) -> None:
    con.execute(f"UPDATE {SCHEMA}.imports SET status = ?, row_count = ?, finished = ?, "
                f"error = ? WHERE export_name = ? AND billing_period = ? AND started = ? "
                f"AND status = 'running'",
                [status, rows, finished, error, attempt.export_name, attempt.billing_period,
                 attempt.started])


def record_loaded(con: Any, attempt: Attempt, table: str | None, rows: int) -> None:
    """Inside the import's transaction: the period now holds this attempt's version."""
    finished = now()
    con.execute(f"DELETE FROM {SCHEMA}.loaded WHERE export_name = ? AND billing_period = ?",
                [attempt.export_name, attempt.billing_period])
    con.execute(f"INSERT INTO {SCHEMA}.loaded VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [attempt.export_name, attempt.billing_period, attempt.cur_version,
                 attempt.format, attempt.version_id, attempt.manifest, table, rows,
                 attempt.file_count, finished])
    _finish(con, attempt, "loaded", rows, finished, None)


def record_failure(con: Any, attempt: Attempt, error: str) -> None:
    """After the import's transaction was rolled back."""
    _finish(con, attempt, "failed", None, now(), error)


def refresh_views(con: Any) -> None:
    """(Re)create ``aws_cur`` (the CUR tables) and this vendor's ``focus`` over the loaded
    tables: the CUR line items mapped to FOCUS, and the rows of AWS's FOCUS exports (through
    the internal view ``focus_exports``) with the same columns; then ``main.focus`` over
    every vendor's rows (core's contract)."""
    loaded_tables = con.execute(
        f"SELECT table_name, cur_version = 'focus' FROM {SCHEMA}.loaded "
        f"WHERE table_name IS NOT NULL ORDER BY export_name, billing_period").fetchall()
    _union_view(con, "main.aws_cur", [name for name, focus in loaded_tables if not focus])
    exports = [name for name, focus in loaded_tables if focus]
    sql = focus_sql(_columns(con, "main.aws_cur"), "main.aws_cur")
    export_view = f"{SCHEMA}.focus_exports"
    if exports:
        _union_view(con, export_view, exports)
        export_sql = focus_export_sql(_columns(con, export_view), export_view)
        sql = f"({sql})\nUNION ALL BY NAME\n({export_sql})"
    con.execute(f"CREATE OR REPLACE VIEW {SCHEMA}.{core_focus.VENDOR_VIEW} AS\n{sql}")
    if not exports:
        con.execute(f"DROP VIEW IF EXISTS {export_view}")
    core_focus.refresh(con)


def _union_view(con: Any, view: str, tables: list[str]) -> None:
    if tables:
        body = "\nUNION ALL BY NAME\n".join(
            f"SELECT * FROM {SCHEMA}.{quote(name)}" for name in tables)
    else:
        body = ("SELECT CAST(NULL AS VARCHAR) AS export_name, "
                "CAST(NULL AS VARCHAR) AS billing_period WHERE false")
    con.execute(f"CREATE OR REPLACE VIEW {view} AS\n{body}")


def _columns(con: Any, view: str) -> dict[str, str]:
    return {name: sql_type for name, sql_type, *_ in con.execute(f"DESCRIBE {view}").fetchall()}
