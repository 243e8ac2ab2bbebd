"""The DuckDB store of OCI's rows, in the schema ``open_finops_oci``.

* one table per export name and billing month, ``r_<export>_<YYYY_MM>_<hash>``:
  ``export_name``, ``billing_period`` and the reports' columns by their own names (FOCUS
  reports: ``BilledCost``, ``oci_CompartmentId``...; cost reports: ``cost/myCost``,
  ``tags/...``). A newer version of the month replaces the table inside one transaction;
* ``loaded`` and ``imports``, the bookkeeping of open_finops.core.ledger (:data:`LEDGER`:
  the kind, focus or cost, in ``kind``);
* views ``focus_reports`` and ``cost_reports`` (the tables of each kind, ``UNION ALL BY
  NAME``) and ``focus`` (FOCUS 1.2, open_finops.oci.focus), recreated with each import,
  which then rebuilds ``main.focus`` over every vendor (open_finops.core.focus).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from open_finops.core import focus as core_focus
from open_finops.core.ledger import Ledger
from open_finops.core.sql import quote
from open_finops.oci.errors import OciError, UsageError
from open_finops.oci.focus import MAPPINGS

LEDGER = Ledger("oci", kind_column="kind", kind_header="KIND", version_column="version_id",
                version_header="VERSION", table_prefix="r_",
                first_import="import reports first with 'finops oci import'",
                period_source="the reports", error=OciError, usage_error=UsageError,
                kind_names={"focus": "FOCUS", "cost": "cost"})
SCHEMA = LEDGER.schema
#: The view of each kind's tables.
VIEWS = {"focus": "focus_reports", "cost": "cost_reports"}


def connect(path: Path, read_only: bool = False, memory_limit: str | None = None) -> Any:
    """Core's connection (the DuckDB contract), in UTC, with the bookkeeping tables."""
    return LEDGER.connect(path, read_only, memory_limit)


def refresh_views(con: Any) -> None:
    """``focus_reports``, ``cost_reports`` and ``focus`` over the loaded tables, then
    ``main.focus`` over every vendor (core's contract)."""
    tables = con.execute(f"SELECT table_name, kind FROM {SCHEMA}.loaded "
                         f"WHERE table_name IS NOT NULL ORDER BY ALL").fetchall()
    parts = []
    for kind, view in VIEWS.items():
        names = [name for name, table_kind in tables if table_kind == kind]
        full = f"{SCHEMA}.{view}"
        if not names:
            con.execute(f"DROP VIEW IF EXISTS {full}")
            continue
        con.execute(f"CREATE OR REPLACE VIEW {full} AS " + " UNION ALL BY NAME ".join(
            f"SELECT * FROM {SCHEMA}.{quote(name)}" for name in names))
        have = {row[0]: row[1] for row in con.execute(f"DESCRIBE {full}").fetchall()}
        parts.append(f"({MAPPINGS.sql(kind, have, full)})")
    if not parts:  # nothing loaded: the columns, no rows
        empty = ", ".join(f"CAST(NULL AS {t}) AS {quote(n)}" for n, t in
                          {**core_focus.COLUMNS, **MAPPINGS.x_columns}.items())
        parts = [f"SELECT {empty} WHERE false"]
    con.execute(f"CREATE OR REPLACE VIEW {SCHEMA}.{core_focus.VENDOR_VIEW} AS "
                + "\nUNION ALL BY NAME\n".join(parts))
    core_focus.refresh(con)
