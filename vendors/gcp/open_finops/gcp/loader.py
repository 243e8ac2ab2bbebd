"""Import the newest export of each billing month of a BigQuery billing table into the store.

DuckDB's own readers load the files (``read_parquet``, ``read_json`` into ``CREATE TABLE AS``
and ``INSERT ... BY NAME``) within its memory limit (512MB unless configured), keeping the
nested columns (STRUCT, LIST) as they are. Parquet is read with the types BigQuery wrote;
newline-delimited JSON with the types of Google's published schema (:data:`JSON_SCHEMAS`),
which Parquet exports have too (a key the schema lacks is not read). A month is replaced in
one transaction (table, bookkeeping, views, ``main.focus``); any failure rolls it all back,
so the data loaded before stays, and the error is recorded on its own. Gzip files are checked
by zlib beside DuckDB's load (core.imports.verify_gzip).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from open_finops.core import importer
from open_finops.core.focus import ADDED_1_3, COLUMNS
from open_finops.core.imports import log_to_stderr
from open_finops.core.ledger import Result
from open_finops.core.sql import literal, quote
from open_finops.gcp import store
from open_finops.gcp.errors import GcpError, one_line
from open_finops.gcp.exports import Export, find, format_of, latest_by_period, locate
from open_finops.gcp.sources import Source

Log = Callable[[str], None]
_TS = "TIMESTAMP WITH TIME ZONE"
_PAIRS = "STRUCT(\"key\" VARCHAR, \"value\" VARCHAR)[]"
#: Google's published schema of the standard usage cost export, as DuckDB types.
STANDARD = {
    "billing_account_id": "VARCHAR",
    "service": "STRUCT(id VARCHAR, description VARCHAR)",
    "sku": "STRUCT(id VARCHAR, description VARCHAR)",
    "usage_start_time": _TS, "usage_end_time": _TS,
    "project": (f"STRUCT(id VARCHAR, number VARCHAR, name VARCHAR, labels {_PAIRS}, "
                "ancestry_numbers VARCHAR, ancestors STRUCT(resource_name VARCHAR, "
                "display_name VARCHAR)[])"),
    "labels": _PAIRS, "system_labels": _PAIRS,
    "location": "STRUCT(location VARCHAR, country VARCHAR, region VARCHAR, zone VARCHAR)",
    "tags": "STRUCT(\"key\" VARCHAR, \"value\" VARCHAR, inherited BOOLEAN, namespace VARCHAR)[]",
    "transaction_type": "VARCHAR", "seller_name": "VARCHAR",
    "export_time": _TS, "cost": "DOUBLE", "currency": "VARCHAR",
    "currency_conversion_rate": "DOUBLE",
    "usage": ("STRUCT(amount DOUBLE, unit VARCHAR, amount_in_pricing_units DOUBLE, "
              "pricing_unit VARCHAR)"),
    "credits": ("STRUCT(name VARCHAR, amount DOUBLE, full_name VARCHAR, id VARCHAR, "
                "type VARCHAR)[]"),
    "invoice": "STRUCT(month VARCHAR, publisher_type VARCHAR)",
    "cost_type": "VARCHAR",
    "adjustment_info": "STRUCT(id VARCHAR, description VARCHAR, mode VARCHAR, type VARCHAR)",
    "cost_at_list": "DOUBLE",
    "subscription": "STRUCT(instance_id VARCHAR)",
    "consumption_model": "STRUCT(id VARCHAR, description VARCHAR)",
}
#: The detailed export: the standard one, and the resource and its price.
DETAILED = {
    **STANDARD,
    "resource": "STRUCT(name VARCHAR, global_name VARCHAR)",
    "price": ("STRUCT(effective_price DECIMAL(38, 9), tier_start_amount DECIMAL(38, 9), "
              "unit VARCHAR, pricing_unit_quantity DECIMAL(38, 9))"),
}
#: The FOCUS export: FOCUS's columns, Tags as key/value pairs, Google's x_ columns.
FOCUS = {
    **{name: sql_type.replace("DOUBLE", "DECIMAL(38, 9)")
       for name, sql_type in {**COLUMNS, **ADDED_1_3}.items()},
    "Tags": _PAIRS, "x_CostType": "VARCHAR", "x_ServiceId": "VARCHAR",
    "x_ProjectNumber": "VARCHAR", "x_TransactionType": "VARCHAR",
    "x_Credits": ("STRUCT(name VARCHAR, amount DECIMAL(38, 9), full_name VARCHAR, id VARCHAR, "
                  "type VARCHAR)[]"),
    "x_ExportTime": _TS,
}
JSON_SCHEMAS = {"standard": STANDARD, "detailed": DETAILED, "focus": FOCUS}
#: Columns each kind's files must have: a file without them is another table's.
_MARKERS = {"standard": {"cost", "cost_type"}, "detailed": {"cost", "cost_type"},
            "focus": {"BilledCost", "ChargePeriodStart"}}


class Gcp:
    """Google Cloud's part of core's importer (open_finops.core.importer): discovery of the
    months of a table, reading its Parquet or JSON files, the mapping of store.refresh_views."""

    ledger = store.LEDGER

    def locate(self, source: Source, export_name: str):
        return locate(source, export_name)

    def discover(self, source: Source, export_name: str, kind: str,
                 listing) -> dict[str, importer.Delivery]:
        return {period: importer.Delivery(
                    export.export_name, export.period, export.kind, export.fmt,
                    export.version_id, export.location, export.files, problem=export.problem,
                    what="export", label=f"version {export.version_id}", origin=export)
                for period, export in latest_by_period(
                    find(source, export_name, listing=listing)).items()}

    def read(self, con: Any, delivery: importer.Delivery, table: importer.PeriodTable,
             batch: list, names: dict[str, str]) -> None:
        export: Export = delivery.origin
        for obj, path in batch:
            where = names[str(path)]
            select, columns = _select(con, export, obj.key, path, where)
            table.add(select, columns, None, [path])

    def finish(self, con: Any, delivery: importer.Delivery,
               table: importer.PeriodTable) -> tuple[str, str]:
        export: Export = delivery.origin
        if table.columns is None:
            con.execute(f"CREATE TABLE {table.table} AS SELECT {_constants(export)} "
                        "WHERE false")
            table.columns = {}
        elif export.kind != "focus" and "invoice" in table.columns:
            month = export.period.replace("-", "")
            other = con.execute(f"SELECT invoice.month, count(*) FROM {table.table} WHERE "
                                f"invoice.month IS DISTINCT FROM {literal(month)} GROUP BY ALL "
                                "ORDER BY 2 DESC LIMIT 1").fetchone()
            if other:
                raise GcpError(f"{export.location}: {other[1]} rows of invoice month "
                               f"{other[0]}, in the folder of {export.period}: export one "
                               f"month per folder (WHERE invoice.month = '{month}')")
        return export.kind, f" ({export.kind})"

    def refresh(self, con: Any) -> None:
        store.refresh_views(con)

    def prepare(self, con: Any) -> None:
        pass


def import_costs(source: Source, export_name: str, database: Path, *,
                 start: str | None = None, end: str | None = None, force: bool = False,
                 memory_limit: str | None = None, log: Log = log_to_stderr) -> list[Result]:
    return importer.run(Gcp(), source, export_name, database, start=start, end=end,
                        force=force, memory_limit=memory_limit, log=log)


def _constants(export: Export) -> str:
    return (f"{literal(export.export_name)} AS export_name, {literal(export.period)} AS "
            "billing_period")


def _select(con: Any, export: Export, key: str, path: Path,
            where: str) -> tuple[str, dict[str, str]]:
    """(SELECT, {column: type}) loading one file of ``export``."""
    import duckdb

    files = literal(str(path))
    if format_of(key) == "parquet":
        reader = f"read_parquet({files}, binary_as_string = true)"
        what = "a readable Parquet file"
    else:
        compression = "gzip" if key.lower().endswith(".gz") else "uncompressed"
        spec = ", ".join(f"{literal(name)}: {literal(sql_type)}"
                         for name, sql_type in JSON_SCHEMAS[export.kind].items())
        reader = (f"read_json({files}, format = 'newline_delimited', compression = "
                  f"'{compression}', columns = {{{spec}}})")
        what = "newline-delimited JSON"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    except duckdb.Error as exc:
        # DuckDB's "Invalid Input Error: No magic bytes found at end of file '<file>'": the
        # reason without its class and the file (a staged copy), after the object's name.
        reason = re.sub(r" '[^']*'", "", one_line(exc).split(": ", 1)[-1])
        reason = reason.replace(str(path), "")
        raise GcpError(f"{where}: not {what} ({reason}); export the month again") from None
    columns = {row[0]: row[1] for row in described}
    missing = _MARKERS[export.kind] - set(columns)
    if format_of(key) == "parquet" and missing:
        raise GcpError(f"{where}: not a {export.kind} billing export (no "
                       f"{', '.join(sorted(missing))}); check --export-name")
    clash = [quote(c) for c in ("export_name", "billing_period") if c in columns]
    rest = f"* EXCLUDE ({', '.join(clash)})" if clash else "*"
    for name in ("export_name", "billing_period"):
        columns.pop(name, None)
    return (f"SELECT {_constants(export)}, {rest} FROM {reader}",
            {**columns, "export_name": "VARCHAR", "billing_period": "VARCHAR"})
