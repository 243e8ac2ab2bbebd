"""Import the newest version of each billing month of OCI's cost reports into the store.

DuckDB's own readers load the files (``read_csv`` / ``read_parquet`` into ``CREATE TABLE
AS`` and ``INSERT ... BY NAME``) within its memory limit (512MB unless configured). Every file
is read by its header's names, since OCI's columns come and go between files (a tag, the
overage columns): core's PeriodTable widens the month's table for a column a later file
brings, and a file without it reads NULL there. Numbers are read as DOUBLE, the report's
times (``2023-11-13T10:00Z``, without seconds, beside ``...T11:00:00Z``) as instants in UTC,
everything else as text, empty cells NULL. A cost report is loaded with the rows of the month
only (by ``lineItem/intervalUsageStart``); corrections are rows like any other, so the
month's total is the sum of its rows. A month is replaced in one transaction; a failure
leaves the data loaded before (core's importer).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from open_finops.core import importer
from open_finops.core.focus import COLUMNS
from open_finops.core.imports import log_to_stderr
from open_finops.core.ledger import Result
from open_finops.core.sql import literal, quote
from open_finops.oci import reports, store
from open_finops.oci.errors import OciError
from open_finops.oci.focus import COST_NUMBERS, COST_TIMES, REPORT_NUMBERS
from open_finops.oci.sources import Obj, Source

Log = Callable[[str], None]
_CONSTANTS = ("export_name", "billing_period")
_FOCUS_MARKERS = {"billedcost", "chargeperiodstart"}


class Oci:
    """OCI's part of core's importer (open_finops.core.importer): the months of the reports
    (open_finops.oci.reports), reading them, the mapping of store.refresh_views."""

    ledger = store.LEDGER

    def __init__(self, kind: str = "auto", memory_limit: str | None = None) -> None:
        self.kind = kind
        self.memory_limit = memory_limit
        self.located: tuple[Source, dict[str, Obj]] | None = None

    def locate(self, source: Source, export_name: str):
        if self.located is None:  # once: the export name may have waited for the kind
            found, listing, self.kind = reports.locate(source, self.kind)
            self.located = found, listing
        return self.located

    def discover(self, source: Source, export_name: str, kind: str,
                 listing: dict[str, Obj]) -> dict[str, importer.Delivery]:
        return {period: importer.Delivery(
                    export_name, period, report.kind, "csv", report.version_id,
                    report.location, report.files, problem=report.problem,
                    what=reports.NAMES[report.kind], shown_version=f"version {report.version_id}",
                    label=f"version {report.version_id}", origin=report)
                for period, report in reports.find(source, self.kind, listing,
                                                   self.memory_limit).items()}

    def read(self, con: Any, delivery: importer.Delivery, table: importer.PeriodTable,
             batch: list, names: dict[str, str]) -> None:
        # The files of one layout and format in one statement: DuckDB reads them in
        # parallel, and writes a big insert to the database file as it goes.
        groups: dict[tuple, list[Path]] = {}
        for _obj, path in batch:
            layout = reports.layout_of(con, path, names[str(path)])
            fmt = "parquet" if path.name.lower().endswith(".parquet") else \
                "gz" if path.name.lower().endswith(".gz") else "csv"
            groups.setdefault((fmt, layout), []).append(path)
        for (_fmt, layout), paths in groups.items():
            select, probe, columns = file_select(paths, layout, delivery.kind,
                                                 delivery.export_name, delivery.period,
                                                 names[str(paths[0])])
            table.add(select, columns, probe, paths)

    def finish(self, con: Any, delivery: importer.Delivery,
               table: importer.PeriodTable) -> tuple[str, str]:
        if table.columns is None:  # no file (cannot happen: a month is the files with rows)
            con.execute(f"CREATE TABLE {table.table} AS SELECT "
                        f"{literal(delivery.export_name)} AS export_name, "
                        f"{literal(delivery.period)} AS billing_period WHERE false")
            table.columns = {}
        return delivery.kind, ""

    def refresh(self, con: Any) -> None:
        store.refresh_views(con)

    def prepare(self, con: Any) -> None:
        pass


def import_reports(source: Source, export_name: str | None, database: Path, *,
                   kind: str = "auto", start: str | None = None, end: str | None = None,
                   force: bool = False, memory_limit: str | None = None,
                   log: Log = log_to_stderr) -> list[Result]:
    """Load each month's newest version of the reports of ``kind`` unless loaded (or
    ``force``), recorded as ``export_name`` (default: the kind)."""
    vendor = Oci(reports.choose_kind(kind, export_name), memory_limit)
    if not export_name:
        vendor.locate(source, "")
        export_name = vendor.kind
    return importer.run(vendor, source, export_name, database, start=start, end=end,
                        force=force, memory_limit=memory_limit, log=log)


def _type(column: str, kind: str) -> str:
    if kind == "cost":
        return ("DOUBLE" if column in COST_NUMBERS
                else "TIMESTAMP WITH TIME ZONE" if column in COST_TIMES else "VARCHAR")
    return "DOUBLE" if column in REPORT_NUMBERS else COLUMNS.get(column, "VARCHAR")


def file_select(paths: list[Path], layout: tuple[str, ...], kind: str, export_name: str,
                period: str, where: str) -> tuple[str, str | None, dict[str, str]]:
    """(SELECT, probe, {column: type}) loading the rows of the month of files with one
    layout (``where``: the first one's name, for an error about the layout)."""
    lowered = {c.lower() for c in layout}
    if kind == "focus" and not _FOCUS_MARKERS <= lowered:
        raise OciError(f"{where}: not a FOCUS report (no BilledCost, ChargePeriodStart)")
    if kind == "cost" and reports.USAGE_START.lower() not in lowered:
        raise OciError(f"{where}: not a cost report (no {reports.USAGE_START})")
    select = [f"{literal(export_name)} AS export_name", f"{literal(period)} AS billing_period"]
    columns = {name: "VARCHAR" for name in _CONSTANTS}
    seen: set[str] = set(_CONSTANTS)
    parquet = paths[0].name.lower().endswith(".parquet")
    typed: dict[str, str] = {}
    for raw in layout:
        if raw.lower() in seen:
            continue  # a name twice (in any case): the first wins
        seen.add(raw.lower())
        sql_type = _type(raw, kind)
        columns[raw] = sql_type
        value = quote(raw)
        if parquet:
            value = f"NULLIF(trim(CAST({value} AS VARCHAR)), '')"
        elif sql_type == "DOUBLE":
            typed[raw] = sql_type  # parsed by the CSV reader
        if sql_type.startswith("TIMESTAMP"):
            # OCI writes 2023-11-13T10:00Z, without seconds.
            value = (f"CAST(regexp_replace({value}, 'T(\\d\\d:\\d\\d)(Z|[+-]|$)', "
                     f"'T\\1:00\\2') AS {sql_type})")
        elif sql_type != "VARCHAR" and parquet:
            value = f"CAST({value} AS {sql_type})"
        select.append(f"{value} AS {quote(raw)}")
    sql = f"SELECT {', '.join(select)} FROM {reports.reader(paths, layout, typed)}"
    if kind == "cost":
        sql += (f" WHERE left(trim({quote(reports.USAGE_START)}), 7) = {literal(period)}")
    probe = None  # DuckDB's CSV reader names the file, line and column of a bad number
    return sql, probe, columns
