"""Import the newest run of each period of an Azure export into the store.

DuckDB's own readers load the files (``read_csv`` / ``read_parquet`` into ``CREATE TABLE AS``
and ``INSERT ... BY NAME``) within its memory limit (512MB unless configured, as aws). A
period is replaced in one transaction (table, bookkeeping, views, ``main.focus``); any failure
rolls it all back, so the data loaded before stays, and the error is recorded on its own.
Gzip files are checked by zlib beside DuckDB's load (core.imports.verify_gzip). Column sets:
EA and MCA names are made one (lower case, open_finops.azure.focus.ALIASES); dates are read as
MM/DD/YYYY or ISO, numbers as DOUBLE; FOCUS exports keep their names and FOCUS types.
Cost details whose kind no manifest declares (the older exports) take it from their rows
(open_finops.azure.kinds): loaded as ``auto``, counted, then recorded as the kind found.
"""
from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from open_finops.core.sql import literal, quote
from open_finops.azure import kinds, store
from open_finops.azure.errors import AzureError, one_line
from open_finops.azure.exports import Run, find, latest, locate
from open_finops.azure.focus import ALIASES, DETAIL_DATES, DETAIL_NUMBERS
from open_finops.azure.sources import Source
from open_finops.core.focus import COLUMNS
from open_finops.core.imports import csv_header, csv_probe, log_to_stderr
from open_finops.core import importer
from open_finops.core.ledger import Result

Log = Callable[[str], None]
_FOCUS_MARKERS = {"billedcost", "chargeperiodstart"}
#: The types a probe reads as typed (dates and times are parsed by the load's own SQL).
_PROBED = ("DOUBLE",)


def staging_folder(database: Path) -> Path:
    return store.LEDGER.staging_folder(database)


class Azure:
    """Azure's part of core's importer (open_finops.core.importer): discovery of runs,
    reading cost details and FOCUS exports (the kind of an older run from its rows), the
    mapping of store.refresh_views."""

    ledger = store.LEDGER

    def locate(self, source: Source, export_name: str):
        return locate(source, export_name)

    def discover(self, source: Source, export_name: str, kind: str,
                 listing) -> dict[str, importer.Delivery]:
        return {period: importer.Delivery(
                    run.export_name, run.period, run.kind, run.fmt, run.version_id,
                    run.location, run.files, problem=run.problem, what="run",
                    shown_version=run.run_id, label=f"run {run.run_id}", origin=run)
                for period, run in latest(find(source, export_name, kind,
                                               listing=listing)).items()}

    def read(self, con: Any, delivery: importer.Delivery, table: importer.PeriodTable,
             batch: list, names: dict[str, str]) -> None:
        run = delivery.origin
        for _obj, path in batch:
            layout = _layout(con, path, run.fmt, names)
            delivery.kind = _kind(delivery.kind, layout, names[str(path)])
            select, probe, columns = _select(path, run, layout, delivery.kind)
            table.add(select, columns, probe, [path])

    def finish(self, con: Any, delivery: importer.Delivery,
               table: importer.PeriodTable) -> tuple[str, str]:
        run, kind = delivery.origin, delivery.kind
        if table.columns is None:
            con.execute(f"CREATE TABLE {table.table} AS SELECT {_constants(run, kind)} "
                        "WHERE false")
            table.columns = {}
        if kind != "focus" and not run.declared:
            loaded_as = kind
            kind = kinds.decide(kinds.count(con, table.table, table.columns), kind,
                                run.location)
            if kind != loaded_as:
                con.execute(f"UPDATE {table.table} SET dataset = {literal(kind)}")
        return kind, f" ({kind})"

    def refresh(self, con: Any) -> None:
        store.refresh_views(con)

    def prepare(self, con: Any) -> None:
        pass


def import_costs(source: Source, export_name: str, database: Path, *, kind: str = "auto",
                 start: str | None = None, end: str | None = None, force: bool = False,
                 memory_limit: str | None = None, log: Log = log_to_stderr) -> list[Result]:
    return importer.run(Azure(), source, export_name, database, kind=kind, start=start,
                        end=end, force=force, memory_limit=memory_limit,
                        log=log)


def _layout(con: Any, path: Path, fmt: str, names: dict[str, str]) -> tuple[str, ...]:
    import duckdb

    if fmt == "csv":
        return csv_header(path, names[str(path)], AzureError)
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(str(path))}, "
                           "binary_as_string = true)").fetchall()
    except duckdb.Error as exc:
        # DuckDB's "Invalid Input Error: No magic bytes found at end of file '<file>'": the
        # reason without its class and the file (maybe a staged copy), after the blob's name.
        reason = re.sub(r" '[^']*'", "", one_line(exc).split(": ", 1)[-1])
        raise AzureError(f"{names[str(path)]}: not a readable Parquet file ({reason}); "
                         "export the period again, or copy the blob again") from None
    return tuple(row[0] for row in rows)


def _reader(path: Path, fmt: str, layout: tuple[str, ...]) -> str:
    """DuckDB's reader of one file: a CSV's columns all VARCHAR, as its header names them."""
    files = literal(str(path))
    if fmt != "csv":
        return f"read_parquet({files}, binary_as_string = true)"
    spec = ", ".join(f"{literal(c)}: 'VARCHAR'" for c in layout)
    compression = "gzip" if path.name.endswith(".gz") else "none"
    return (f"read_csv({files}, header = true, auto_detect = false, delim = ',', "
            f"quote = '\"', escape = '\"', compression = '{compression}', "
            f"columns = {{{spec}}})")


def _kind(kind: str, layout: tuple[str, ...], where: str) -> str:
    focus = _FOCUS_MARKERS <= {c.lower() for c in layout}
    found = "focus" if focus else kind
    if kind == "focus" and not focus:
        raise AzureError(f"{where}: not a FOCUS export (no BilledCost, ChargePeriodStart)")
    if kind in ("actual", "amortized") and focus:
        raise AzureError(f"{where}: a FOCUS export, not cost details ({kind})")
    return found  # "auto" for cost details: their rows tell (kinds.decide)


def inspect(source: Source, run: Run, memory_limit: str | None = None) -> tuple[str, str]:
    """(kind, problem) of a run whose kind no manifest declares, from its files as
    import-costs would find it, before any import: list-exports' KIND and PROBLEM. A remote
    run's files are downloaded to a temporary folder; DuckDB reads only the columns it
    counts."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = {literal(memory_limit or importer.DEFAULT_MEMORY_LIMIT)}")
        with tempfile.TemporaryDirectory(prefix="finops-azure-") as workdir:
            kind, total = run.kind, kinds.Counts()
            for batch in source.stage(run.files, Path(workdir)):
                for obj, path in batch:
                    names = {str(path): source.describe(obj.key)}
                    layout = _layout(con, path, run.fmt, names)
                    kind = _kind(kind, layout, names[str(path)])
                    if kind == "focus":
                        continue
                    counts = kinds.count(con, _reader(path, run.fmt, layout), layout)
                    total = kinds.Counts(*(a + b for a, b in zip(
                        dataclasses.astuple(total), dataclasses.astuple(counts))))
            if kind == "focus" or not run.files:
                return kind, ""
            return kinds.decide(total, kind, run.location), ""
    except AzureError as exc:
        ambiguous = "cannot tell actual from amortized" in str(exc)
        return (kinds.AMBIGUOUS if ambiguous else run.kind), str(exc)
    except duckdb.Error as exc:
        return run.kind, f"{run.location}: {one_line(exc)}"
    finally:
        con.close()


def _constants(run: Run, kind: str, agreement: str = "FOCUS") -> str:
    return (f"{literal(run.export_name)} AS export_name, {literal(run.period)} AS "
            f"billing_period, {literal(kind)} AS dataset, {literal(agreement)} AS agreement")


def _select(path: Path, run: Run, layout: tuple[str, ...], kind: str):
    """(SELECT, probe, {column: type}) loading one file."""
    lowered = [c.lower() for c in layout]
    if kind == "focus":
        targets = [c for c in layout]
        types = [COLUMNS.get(c, "VARCHAR") for c in targets]
        agreement = "FOCUS"
    else:
        targets = [ALIASES.get(c, c) for c in lowered]
        types = ["DOUBLE" if t in DETAIL_NUMBERS else "DATE" if t in DETAIL_DATES
                 else "VARCHAR" for t in targets]
        agreement = "EA" if "billingcurrencycode" in lowered else "MCA"
    seen: dict[str, str] = {}
    select = [_constants(run, kind, agreement)]
    for raw, target, sql_type in zip(layout, targets, types):
        if target.lower() in {s.lower() for s in seen} or target in (
                "export_name", "billing_period", "dataset", "agreement"):
            continue
        seen[target] = sql_type
        value = f"NULLIF(trim(CAST({quote(raw)} AS VARCHAR)), '')"
        if sql_type == "DATE":
            value = (f"CASE WHEN {value} LIKE '%/%' THEN CAST(strptime(split_part({value}, ' ',"
                     f" 1), '%m/%d/%Y') AS DATE) ELSE CAST(CAST({value} AS TIMESTAMP) AS DATE) "
                     "END")
        elif sql_type.startswith("TIMESTAMP"):
            # FOCUS 1.0 writes 2024-01-01T00:00Z, without seconds.
            value = (f"CAST(regexp_replace({value}, 'T(\\d\\d:\\d\\d)(Z|[+-]|$)', "
                     f"'T\\1:00\\2') AS {sql_type})")
        elif sql_type != "VARCHAR":
            value = f"CAST({value} AS {sql_type})"
        select.append(f"{value} AS {quote(target)}")
    sql = f"SELECT {', '.join(select)} FROM {_reader(path, run.fmt, layout)}"
    probe = None
    if run.fmt == "csv":
        compression = "gzip" if path.name.endswith(".gz") else "none"
        options = (f"header = true, auto_detect = false, delim = ',', quote = '\"', "
                   f"escape = '\"', compression = '{compression}'")
        # DuckDB's typed reader names the file, line, column and value of a bad number.
        typed = {raw: sql_type if sql_type in _PROBED else "VARCHAR"
                 for raw, sql_type in zip(layout, types)}
        probe = csv_probe(literal(str(path)), options, typed)
    return sql, probe, seen | {
        "export_name": "VARCHAR", "billing_period": "VARCHAR", "dataset": "VARCHAR",
        "agreement": "VARCHAR"}
