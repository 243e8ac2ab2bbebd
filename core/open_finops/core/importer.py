"""The importer every vendor plugs into. A vendor gives three things:

* **discovery**: the deliveries under a source, as :class:`Delivery` (a version of one billing
  period of an export: its files, its version, what it is), the newest of each period
  (:meth:`Vendor.discover`);
* **reading**: one delivery's staged files into the period's table (:meth:`Vendor.read`,
  with :class:`PeriodTable`, which creates the table from the first files and widens it for
  a column a later file brings);
* **its mapping**: its views over its tables, FOCUS among them, then core's over every
  vendor's (:meth:`Vendor.refresh`, which calls open_finops.core.focus.refresh).

Everything else is core's, here and in open_finops.core.ledger: the choice of periods
(``--month``, ``--start``, ``--end``), skipping a version already loaded, the transaction that
replaces a period (nothing half loaded: a failure leaves the data loaded before), staging
remote files in batches with gzip checks, the bookkeeping of loads and attempts, the errors as
one line naming the user's file, and publishing the copy readers open.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from open_finops.core.imports import log_to_stderr, precise
from open_finops.core.ledger import Attempt, Ledger, LoadFailed, Result, execute, now
from open_finops.core.sql import literal, quote

Log = Callable[[str], None]
#: DuckDB's memory limit during an import unless configured. DuckDB's own default (80% of
#: RAM) lets it cache what it writes: 2.2 GB of peak RSS for a period of two million line
#: items, where 512MB keeps it under 800 MB and is no slower (the load streams, with
#: preserve_insertion_order off). Bigger machines may raise it with memory_limit.
DEFAULT_MEMORY_LIMIT = "512MB"


@dataclass
class Delivery:
    """A version of one billing period of an export, as discovery found it."""

    export_name: str
    period: str  # YYYY-MM
    kind: str  # what the export holds, in the vendor's words ("v2", "actual"...)
    fmt: str  # "csv" or "parquet"
    version_id: str  # what tells one version from another: unchanged means loaded
    location: str  # the manifest or file that names it, for messages
    files: list = field(default_factory=list)  # open_finops.core.sources.Obj
    problem: str = ""  # why it cannot load ("" when it can)
    what: str = ""  # the progress line's word for it ("CUR 2.0", "run")
    shown_version: str | None = None  # its version as the source names it (None: none)
    label: str = ""  # how "already loaded" names it ("version 1a2b", "run 7c"; default its id)
    #: The vendor's own object (a manifest, a run), for its read and finish.
    origin: Any = None


class PeriodTable:
    """The table of one period while it loads: created by the first SELECT, widened by
    ``ALTER TABLE ADD COLUMN`` for a column a later file brings, its rows inserted by name (a
    column a file lacks reads NULL)."""

    def __init__(self, con: Any, table: str) -> None:
        self.con, self.table = con, table
        self.columns: dict[str, str] | None = None

    def add(self, select: str, columns: dict[str, str], probe: str | None,
            paths: list[Path]) -> None:
        """Rows of ``select`` (whose columns and types are ``columns``); a DuckDB failure is
        :class:`LoadFailed` for ``paths``, with ``probe``'s error where it names more (file,
        line, column)."""
        import duckdb

        try:
            if self.columns is None:
                execute(self.con, f"CREATE TABLE {self.table} AS {select}")
                self.columns = dict(columns)
                return
            for column, sql_type in columns.items():
                if column not in self.columns:
                    execute(self.con, f"ALTER TABLE {self.table} ADD COLUMN {quote(column)} "
                                      f"{sql_type}")
                    self.columns[column] = sql_type
            execute(self.con, f"INSERT INTO {self.table} BY NAME {select}")
        except duckdb.Error as exc:
            raise LoadFailed(precise(self.con, probe) or exc, paths) from None

    def rows(self) -> int:
        if self.columns is None:
            return 0
        return self.con.execute(f"SELECT count(*) FROM {self.table}").fetchone()[0]


class Vendor(Protocol):
    """What a vendor gives the importer (open_finops.aws.loader and open_finops.azure.loader
    are two)."""

    ledger: Ledger

    def locate(self, source: Any, export_name: str) -> tuple[Any, Any]:
        """(the source the export is under, what listing it found it by, or None): a source
        given a folder too high is searched below."""

    def discover(self, source: Any, export_name: str, kind: str,
                 listing: Any) -> dict[str, Delivery]:
        """Period -> the newest delivery of the export under ``source``."""

    def read(self, con: Any, delivery: Delivery, table: PeriodTable, batch: list,
             names: dict[str, str]) -> None:
        """Add a batch of the delivery's staged files ((Obj, Path) pairs; ``names``: staged
        path -> the user's name of the file) to ``table``."""

    def finish(self, con: Any, delivery: Delivery, table: PeriodTable) -> tuple[str, str]:
        """After the last batch, in the transaction: (the kind the rows turned out to be,
        a note for the progress line)."""

    def refresh(self, con: Any) -> None:
        """Its views over its loaded tables, then core's (open_finops.core.focus.refresh)."""

    def prepare(self, con: Any) -> None:
        """On a connection for writing, before anything loads (an older release's
        database gets this release's views)."""


def run(vendor: Vendor, source: Any, export_name: str, database: Path, *, kind: str = "auto",
        start: str | None = None, end: str | None = None, force: bool = False,
        memory_limit: str | None = None, log: Log = log_to_stderr,
        publish: Callable[[Any, Path], Any] | None = None) -> list[Result]:
    """Load the newest delivery of each chosen period of the export unless that version is
    already loaded (or ``force``), each in a transaction of its own, then publish the copy
    readers open. Failures are recorded and reported in the results; other periods go on."""
    from open_finops.core import store

    ledger = vendor.ledger
    source, listing = vendor.locate(source, export_name)
    chosen = ledger.select_periods(vendor.discover(source, export_name, kind, listing),
                                   start, end)
    return ledger.import_periods(
        database, export_name, chosen, force=force,
        memory_limit=memory_limit or DEFAULT_MEMORY_LIMIT, log=log,
        load=lambda con, delivery, workdir: _period(vendor, con, source, delivery, workdir,
                                                    log),
        skipped=lambda delivery: delivery.label or f"version {delivery.version_id}",
        refresh=vendor.refresh, prepare=vendor.prepare,
        # Looked up when it runs: benchmarks/publish.py times an import without it.
        publish=publish or (lambda con, path: store.publish(con, path)))


def _period(vendor: Vendor, con: Any, source: Any, delivery: Delivery, workdir: Path,
            log: Log) -> Result:
    ledger = vendor.ledger
    attempt = Attempt(delivery.export_name, delivery.period, delivery.kind, delivery.fmt,
                      delivery.version_id, delivery.location, len(delivery.files), now())
    ledger.loading(attempt, delivery.what, delivery.problem, log,
                   version=delivery.shown_version)
    name = ledger.table_name(delivery.export_name, delivery.period)
    table = PeriodTable(con, f"{ledger.schema}.{quote(name)}")

    def finish() -> tuple[int, str]:
        kind, note = vendor.finish(con, delivery, table)
        rows = table.rows()
        ledger.record_loaded(con, dataclasses.replace(attempt, kind=kind),
                             name if table.columns is not None else None, rows)
        vendor.refresh(con)
        return rows, note

    def replace() -> tuple[int, str]:
        return ledger.replace_period(
            con, source, delivery.files, workdir, table.table, delivery.location,
            lambda batch, names: vendor.read(con, delivery, table, batch, names), finish)

    return ledger.import_period(con, attempt, delivery.problem, replace, log)


def constants(values: dict[str, str | None]) -> tuple[str, dict[str, str]]:
    """SELECT items (and their VARCHAR columns) of values every row of a file gets: the
    export's name, the billing period..."""
    return (", ".join(f"{literal(value)} AS {quote(key)}" for key, value in values.items()),
            {key: "VARCHAR" for key in values})
