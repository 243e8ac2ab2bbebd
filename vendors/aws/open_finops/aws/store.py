"""The DuckDB store: connection, bookkeeping tables and the public views.

Layout (everything internal lives in the schema ``open_finops_aws``):

* one table per export and billing period with that period's line items, named
  ``li_<export>_<YYYY_MM>_<hash>``; its columns are ``export_name``, ``billing_period`` and
  the report's columns, normalized. A new version of the period replaces the table inside one
  transaction;
* ``loaded`` and ``imports``, the bookkeeping of open_finops.core.ledger (:data:`LEDGER`:
  the kind of report in ``cur_version``, its version in ``version_id``);
* views ``main.aws_cur`` (every loaded CUR line item of every export, the tables combined
  ``UNION ALL BY NAME`` so columns that come and go between periods line up by name) and
  ``open_finops_aws.focus`` (FOCUS 1.2 over ``aws_cur``, and over ``focus_exports``, the
  tables of AWS's own FOCUS exports), recreated with each import, which then rebuilds
  ``main.focus`` over every vendor's rows in the database (open_finops.core.focus).

The connection is core's (open_finops.core.store: the DuckDB contract with Metabase's
driver), and every import ends by publishing the copy Metabase reads (:func:`publish`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from open_finops.aws.errors import AwsError, UsageError
from open_finops.aws.focus import MAPPINGS
from open_finops.core import focus as core_focus
from open_finops.core import store as core_store
from open_finops.core.ledger import INTERRUPTED, Attempt, Ledger, Loaded, now, where
from open_finops.core.sql import quote

__all__ = ["INTERRUPTED", "LEDGER", "SCHEMA", "Attempt", "Loaded", "connect", "ensure_views", "now",
           "publish", "refresh_views", "where"]

#: The bookkeeping (open_finops.core.ledger) in the names of release 0.3.0's tables.
LEDGER = Ledger("aws", kind_column="cur_version", kind_header="CUR",
                version_column="version_id", version_header="VERSION_ID", table_prefix="li_",
                first_import="load a report first with 'finops aws import'",
                period_source="the manifests", error=AwsError, usage_error=UsageError,
                kind_names={"v1": "legacy", "v2": "2.0", "focus": "FOCUS"},
                history_kind=False)
SCHEMA = LEDGER.schema


def connect(path: Path, read_only: bool = False, memory_limit: str | None = None) -> Any:
    """A connection to the store at ``path`` (created unless ``read_only``), opened by core's
    store as the DuckDB contract with Metabase says (open_finops.core.store); a database that
    lacks a view of this release gets them."""
    return LEDGER.connect(path, read_only, memory_limit, prepare=ensure_views)


def ensure_views(con: Any) -> None:
    """A database that an earlier release wrote gets this release's views."""
    if con.execute("SELECT count(*) FROM duckdb_views() WHERE (schema_name, view_name)"
                   f" IN (('main', 'aws_cur'), ('main', 'focus'), ('{SCHEMA}', "
                   f"'{core_focus.VENDOR_VIEW}'))").fetchone()[0] != 3:
        refresh_views(con)


def publish(con: Any, database: Path) -> Path:
    """At the end of an import: the copy Metabase reads (core's store publishes it)."""
    return core_store.publish(con, database)


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
    sql = MAPPINGS.sql("v2", _columns(con, "main.aws_cur"), "main.aws_cur")
    export_view = f"{SCHEMA}.focus_exports"
    if exports:
        _union_view(con, export_view, exports)
        export_sql = MAPPINGS.sql("focus", _columns(con, export_view), export_view)
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
