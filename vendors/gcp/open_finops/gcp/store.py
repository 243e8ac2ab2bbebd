"""The DuckDB store of Google Cloud's rows: bookkeeping tables and views, in
``open_finops_gcp``.

* one table per billing table and month, ``b_<table>_<YYYY_MM>_<hash>``: ``export_name``,
  ``billing_period`` and the export's columns with their nested types as BigQuery wrote them
  (service, sku, project with its labels and ancestors, labels, system_labels, tags, credits,
  adjustment_info, invoice, location, usage, resource, price...), or the FOCUS export's. A
  newer export of the month replaces the table inside one transaction;
* ``loaded`` and ``imports``, the bookkeeping of open_finops.core.ledger (:data:`LEDGER`: the
  kind in ``kind``, standard, detailed or focus; the version in ``version_id``);
* the view ``focus`` (FOCUS 1.2, open_finops.gcp.focus: each table mapped by its kind, then
  ``UNION ALL BY NAME``), recreated with each import, which then rebuilds ``main.focus`` over
  every vendor (open_finops.core.focus).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from open_finops.core import focus as core_focus
from open_finops.core.ledger import Ledger
from open_finops.core.sql import quote
from open_finops.gcp.errors import GcpError, UsageError
from open_finops.gcp.focus import MAPPINGS, X_COLUMNS

#: The bookkeeping (open_finops.core.ledger).
LEDGER = Ledger("gcp", kind_column="kind", kind_header="KIND", version_column="version_id",
                version_header="VERSION", table_prefix="b_",
                first_import="import a billing export first with 'finops gcp import'",
                period_source="the export", error=GcpError, usage_error=UsageError)
SCHEMA = LEDGER.schema


def connect(path: Path, read_only: bool = False, memory_limit: str | None = None) -> Any:
    """Core's connection (the DuckDB contract), in UTC, with the bookkeeping tables."""
    return LEDGER.connect(path, read_only, memory_limit)


def refresh_views(con: Any) -> None:
    """``focus`` over the loaded tables, each by its kind's mapping, then ``main.focus`` over
    every vendor (core's contract)."""
    tables = con.execute(f"SELECT table_name, kind FROM {SCHEMA}.loaded "
                         f"WHERE table_name IS NOT NULL ORDER BY ALL").fetchall()
    parts = []
    for name, kind in tables:
        table = f"{SCHEMA}.{quote(name)}"
        have = {row[0]: row[1] for row in con.execute(f"DESCRIBE {table}").fetchall()}
        parts.append(f"({MAPPINGS.sql(kind, have, table)})")
    if not parts:
        from open_finops.core.focus import ADDED_1_3, COLUMNS

        parts.append("SELECT " + ", ".join(
            f"CAST(NULL AS {t}) AS {quote(n)}"
            for n, t in {**COLUMNS, **ADDED_1_3, **X_COLUMNS}.items()) + " WHERE false")
    con.execute(f"CREATE OR REPLACE VIEW {SCHEMA}.{core_focus.VENDOR_VIEW} AS\n"
                + "\nUNION ALL BY NAME\n".join(parts))
    core_focus.refresh(con)
