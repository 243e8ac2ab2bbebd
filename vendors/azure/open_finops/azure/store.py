"""The DuckDB store of Azure's rows: bookkeeping tables and views, in ``open_finops_azure``.

* one table per export and billing period, ``c_<export>_<YYYY_MM>_<hash>``: ``export_name``,
  ``billing_period``, ``dataset`` (actual, amortized, either or focus), ``agreement`` (EA, MCA or
  FOCUS) and the export's columns (cost details: lower case, EA and MCA names made one;
  FOCUS: its names). A newer run replaces the table inside one transaction;
* ``loaded`` and ``imports``, the bookkeeping of open_finops.core.ledger (:data:`LEDGER`: the
  dataset in ``kind``, the run in ``run_id``);
* views ``cost_details`` and ``focus_exports`` (the tables of each kind, ``UNION ALL BY
  NAME``) and ``focus`` (FOCUS 1.2, open_finops.azure.focus), recreated with each import,
  which then rebuilds ``main.focus`` over every vendor (open_finops.core.focus).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from open_finops.azure.errors import AzureError, UsageError
from open_finops.azure.focus import focus_sql
from open_finops.core import focus as core_focus
from open_finops.core.ledger import INTERRUPTED, Attempt, Ledger, Loaded, now, where
from open_finops.core.sql import quote

__all__ = ["INTERRUPTED", "LEDGER", "SCHEMA", "Attempt", "Loaded", "connect", "now",
           "refresh_views", "where"]

#: The bookkeeping (open_finops.core.ledger): the dataset in ``kind``, the run in ``run_id``.
LEDGER = Ledger("azure", kind_column="kind", kind_header="KIND", version_column="run_id",
                version_header="RUN", table_prefix="c_",
                first_import="import an export first with 'finops azure import'",
                period_source="the export", error=AzureError, usage_error=UsageError)
SCHEMA = LEDGER.schema


def connect(path: Path, read_only: bool = False, memory_limit: str | None = None) -> Any:
    """Core's connection (the DuckDB contract), in UTC, with the bookkeeping tables."""
    return LEDGER.connect(path, read_only, memory_limit)


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
