"""Import the newest version of each billing period of an export into the store.

DuckDB's own readers load the files (``read_csv`` / ``read_parquet`` into ``CREATE TABLE AS``
and ``INSERT ... BY NAME``), so no Python code touches the rows and memory stays within
DuckDB's limit however big the files are. A period is replaced inside one transaction: the
old table is dropped and the new one built, the bookkeeping and views updated, and only then
committed; any failure rolls all of it back, so the previous data stays, and the error is
recorded in a transaction of its own. A process killed in the middle leaves no trace in the
data either: DuckDB only makes a transaction visible when it commits.

Files are staged (S3 downloads, or links to local files) in ``<database>.aws-staging/``,
beside the database rather than in the system's temporary folder, which is often in memory;
the folder is emptied when an import starts (it holds the database's lock, so no other import
uses it) and removed when it ends.

DuckDB does not check gzip checksums and stops quietly at a truncation that falls on a line
end, so every gzip file is also verified by zlib, in a thread, while DuckDB loads it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from open_finops.aws import store
from open_finops.aws.columns import MAP_COLUMNS, canonical_type, focus_type, unique_names
from open_finops.aws.errors import AwsError
from open_finops.aws.manifests import find, latest, locate
from open_finops.aws.sources import Obj, Source
from open_finops.core.imports import csv_header, explain, log_to_stderr, plural, verify_gzip
from open_finops.core import importer
from open_finops.core.ledger import Result
from open_finops.core.sql import literal, quote

__all__ = ["Result", "import_cur", "log_to_stderr", "plural", "staging_folder", "verify_gzip"]

Log = Callable[[str], None]
#: What files that AWS did not write (re-exports, other tools' copies) put in an empty number
#: or date; AWS itself leaves the cell empty. Text columns keep these words.
_NULL_TEXTS = "['', 'None', 'null', 'NULL']"
_NULL_TEXTS_IN = "('', 'None', 'null', 'NULL')"
#: Details for ``finops -v`` (the manifests chosen) and ``-vv`` (the SQL run).
logger = logging.getLogger(__name__)


class Aws:
    """AWS's part of core's importer (open_finops.core.importer): discovery by manifests,
    reading CUR (legacy and 2.0) and AWS FOCUS exports, the mapping of store.refresh_views."""

    ledger = store.LEDGER

    def __init__(self, cur_version: str = "auto") -> None:
        self.cur_version = cur_version

    def locate(self, source: Source, export_name: str):
        return locate(source, export_name)

    def discover(self, source: Source, export_name: str, kind: str,
                 listing) -> dict[str, importer.Delivery]:
        manifests = find(source, export_name, self.cur_version, newest_only=True,
                         listing=listing)
        found = {}
        for period, manifest in latest(manifests).items():
            logger.info("%s: newest manifest %s (version %s, %d files)", period,
                        manifest.location, manifest.version_id, len(manifest.files))
            found[period] = importer.Delivery(
                manifest.export_name, manifest.period or "?", manifest.cur_version,
                manifest.fmt, manifest.version_id, manifest.location, manifest.files,
                problem=manifest.problem() or "", what=manifest.kind,
                shown_version=None if manifest.made_up_version
                else f"version {manifest.version_id}",
                label=f"version {manifest.version_id}", origin=manifest)
        return found

    def read(self, con: Any, delivery: importer.Delivery, table: importer.PeriodTable,
             batch: list[tuple[Obj, Path]], names: dict[str, str]) -> None:
        constants = {"export_name": delivery.export_name, "billing_period": delivery.period}
        for select, columns, probe, paths in _selects(con, delivery.fmt, batch, names,
                                                      constants, _Naming.of(delivery.kind)):
            table.add(select, dict(columns), probe, paths)

    def finish(self, con: Any, delivery: importer.Delivery,
               table: importer.PeriodTable) -> tuple[str, str]:
        return delivery.kind, ""

    def refresh(self, con: Any) -> None:
        store.refresh_views(con)

    def prepare(self, con: Any) -> None:
        store.ensure_views(con)


def import_cur(source: Source, export_name: str, database: Path, *, cur_version: str = "auto",
               start: str | None = None, end: str | None = None, force: bool = False,
               memory_limit: str | None = None, log: Log = log_to_stderr) -> list[Result]:
    """Load each period's newest manifest unless that version is already loaded (or
    ``force``). Failures are recorded and reported in the results; other periods go on."""
    return importer.run(Aws(cur_version), source, export_name, database, start=start,
                        end=end, force=force, memory_limit=memory_limit,
                        log=log,
                        # Looked up when it runs: benchmarks/publish.py times the import
                        # without it.
                        publish=lambda con, database: store.publish(con, database))


def staging_folder(database: Path) -> Path:
    """Where an import into ``database`` stages its files."""
    return store.LEDGER.staging_folder(database)


@dataclass(frozen=True)
class _Naming:
    """How a kind of report names and types its columns: CUR (legacy and 2.0) by AWS's
    snake_case names, a FOCUS export by its FOCUS names."""

    keep_names: bool
    type_of: Callable[[str], str]
    maps: frozenset

    @staticmethod
    def of(cur_version: str) -> _Naming:
        if cur_version == "focus":
            return _Naming(True, focus_type, frozenset())
        return _Naming(False, canonical_type, frozenset(MAP_COLUMNS))


def _selects(con: Any, fmt: str, batch: list[tuple[Obj, Path]], names: dict[str, str],
             constants: dict[str, str | None], naming: _Naming):
    """(SELECT statement, [(column, type)], probe, paths) for each group of files with the
    same columns."""
    groups: dict[tuple, list[Path]] = {}
    for _obj, path in batch:
        layout = (csv_header(path, names[str(path)], AwsError) if fmt == "csv"
                  else _parquet_schema(con, path, names))
        groups.setdefault(layout, []).append(path)
    head = [f"{literal(value)} AS {quote(key)}" for key, value in constants.items()]
    head_columns = [(key, "VARCHAR") for key in constants]
    for layout, paths in groups.items():
        files = "[" + ", ".join(literal(str(p)) for p in paths) + "]"
        if fmt == "csv":
            yield *_csv_select(layout, files, paths, head, head_columns, naming), paths
        else:
            yield *_parquet_select(layout, files, head, head_columns, naming), paths


def _csv_select(header: tuple[str, ...], files: str, paths: list[Path], head: list[str],
                head_columns: list[tuple[str, str]], naming: _Naming):
    """The SELECT loading CSV files with this header, its columns, and a probe: the same
    files read with DuckDB's typed reader, whose error names file, line, column and value.

    Numbers and dates are read as text and cast, so that "None", "null" and "NULL" become
    NULL there while a text column keeps them (DuckDB's reader has one NULL string list for
    all columns)."""
    normalized = unique_names(list(header), keep=naming.keep_names)
    text_types, typed, select, columns = [], [], list(head), list(head_columns)
    for column in normalized:
        sql_type = naming.type_of(column)
        columns.append((column, sql_type))
        text_types.append(f"{literal(column)}: 'VARCHAR'")
        typed.append(f"{literal(column)}: "
                     f"{literal('VARCHAR' if column in naming.maps else sql_type)}")
        if column in naming.maps:
            # CUR 2.0 writes its map columns as JSON objects in CSV.
            select.append(f"CAST(CAST({quote(column)} AS JSON) AS {sql_type}) "
                          f"AS {quote(column)}")
        elif sql_type == "VARCHAR":
            select.append(quote(column))
        else:
            select.append(f"CAST(CASE WHEN {quote(column)} IN {_NULL_TEXTS_IN} THEN NULL "
                          f"ELSE {quote(column)} END AS {sql_type}) AS {quote(column)}")
    compression = "gzip" if paths[0].name.endswith(".gz") else "none"
    options = (f"header = true, auto_detect = false, delim = ',', quote = '\"', "
               f"escape = '\"', compression = '{compression}', hive_partitioning = false")
    reader = f"read_csv({files}, {options}, columns = {{{', '.join(text_types)}}})"
    # count() of each typed column, so that DuckDB converts them all.
    counts = ", ".join(f"count({quote(column)})" for column, sql_type in columns[len(head):]
                       if sql_type != "VARCHAR" and column not in naming.maps) or "count(*)"
    probe = (f"SELECT {counts} FROM read_csv({files}, {options}, nullstr = {_NULL_TEXTS}, "
             f"columns = {{{', '.join(typed)}}})")
    return f"SELECT {', '.join(select)} FROM {reader}", columns, probe


def _parquet_select(schema: tuple[tuple[str, str], ...], files: str, head: list[str],
                    head_columns: list[tuple[str, str]], naming: _Naming):
    """The SELECT loading Parquet files with this schema, its columns, and no probe (DuckDB's
    errors name the file already)."""
    normalized = unique_names([raw for raw, _ in schema], keep=naming.keep_names)
    select, columns = list(head), list(head_columns)
    for (raw, raw_type), column in zip(schema, normalized):
        sql_type = naming.type_of(column)
        columns.append((column, sql_type))
        value = quote(raw)
        if raw_type.startswith(("MAP(", "STRUCT(")) and sql_type == "VARCHAR":
            # A FOCUS export's key-value columns: JSON text, as FOCUS writes them.
            value = f"CAST(to_json({value}) AS VARCHAR)"
            raw_type = sql_type
        if raw_type == "VARCHAR":
            # AWS's legacy Parquet holds '' where the CSV has nothing: NULL in both, and an
            # empty rate or date must not fail its cast.
            value = (f"NULLIF({value}, '')" if sql_type == "VARCHAR"
                     else f"CASE WHEN trim({value}) IN {_NULL_TEXTS_IN} THEN NULL "
                          f"ELSE trim({value}) END")
            if column in naming.maps:
                value = f"CAST({value} AS JSON)"  # a CUR 2.0 map written as JSON text
        if raw_type != sql_type:
            value = f"CAST({value} AS {sql_type})"
        select.append(f"{value} AS {quote(column)}")
    reader = f"read_parquet({files}, hive_partitioning = false, binary_as_string = true)"
    return f"SELECT {', '.join(select)} FROM {reader}", columns, None


def _parquet_schema(con: Any, path: Path, names: dict[str, str]) -> tuple:
    import duckdb

    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(str(path))}, "
                           "hive_partitioning = false, binary_as_string = true)").fetchall()
    except duckdb.Error as exc:
        raise AwsError(explain(exc, names)) from None
    return tuple((row[0], row[1]) for row in rows)
