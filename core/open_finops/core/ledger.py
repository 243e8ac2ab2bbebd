"""What every vendor's store keeps about its imports, written once: the connection's settings,
the bookkeeping tables, the choice of periods, and the ``state`` and ``summary`` tables.

Each vendor keeps, in its schema ``open_finops_<vendor>`` (open_finops.core.focus.vendor_schema):

* ``loaded``: which version of each export and billing period is in the store, in which table;
* ``imports``: every import attempt (version, rows, files, started, finished, status, error),
  recorded as ``running`` before its transaction starts and finished inside it, so one whose
  process died (killed, out of memory) stays ``running`` until the next import, which holds
  the database's lock, marks it ``interrupted`` (``history`` shows it so before).

Both tables have the same columns for every vendor but two names, which are the vendor's own
(and which databases written by earlier releases already hold): the kind of data (aws:
``cur_version``, azure: ``kind``) and what tells one version of a period from another (aws:
``version_id``, azure: ``run_id``). A :class:`Ledger` is one vendor's set of those names and
its words for messages; its methods are the store's bookkeeping.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from open_finops.core.sql import literal
from open_finops.core import focus as core_focus
from open_finops.core import store as core_store
from open_finops.core.errors import FinopsError, check_month, one_line
from open_finops.core.imports import explain, log_to_stderr, plural, verify_gzip
from open_finops.core.tables import emit, render

#: Why an attempt that never finished did not, for people.
INTERRUPTED = "the import stopped before it finished (process killed?); earlier data unchanged"
logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Version:
    """A version of an export's period: its kind of data, format, version and manifest."""

    export_name: str
    billing_period: str
    kind: str
    format: str
    version: str
    manifest: str


@dataclass(frozen=True)
class Attempt(Version):
    """One import of one version of one period, as recorded in ``imports``."""

    file_count: int
    started: datetime


@dataclass(frozen=True)
class Loaded(Version):
    """One row of ``loaded``: the version of a period that the store holds."""

    table_name: str | None
    row_count: int
    file_count: int
    loaded_at: datetime


@dataclass
class Result:
    """What an import did with one period."""

    export_name: str
    period: str
    status: str  # "loaded", "skipped" or "failed"
    version: str
    rows: int = 0
    files: int = 0
    message: str = ""


class LoadFailed(Exception):
    """DuckDB's ``error`` while it loaded ``paths`` (the files of one statement)."""

    def __init__(self, error: Exception, paths: list[Path]) -> None:
        super().__init__(str(error))
        self.error = error
        self.paths = paths


def execute(con: Any, sql: str) -> None:
    """``sql``, shown by ``finops -vv``."""
    logger.debug("%s", sql)
    con.execute(sql)


def now() -> datetime:
    """UTC, without time zone (stored as TIMESTAMP, to the microsecond so that attempts
    sort in order)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def where(months: tuple[str | None, str | None] = (None, None), month_column: str = "",
          **equals: str | None) -> tuple[str, list]:
    """A WHERE clause (or "") and its parameters: column = value for each value given, and
    ``month_column`` from the first to the last of ``months`` (YYYY-MM, either may be None)."""
    given = {column: value for column, value in equals.items() if value}
    clauses = [f"{column} = ?" for column in given]
    params = list(given.values())
    for bound, operator in zip(months, (">=", "<=")):
        if bound:
            clauses.append(f"{month_column} {operator} ?")
            params.append(bound)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def months_text(months: tuple[str | None, str | None]) -> str:
    """`` for 2024-01``, `` for 2024-01..2024-03``, `` from 2024-01``, or ""."""
    start, end = months
    if start and start == end:
        return f" for {start}"
    if start and end:
        return f" for {start}..{end}"
    return f" from {start}" if start else (f" until {end}" if end else "")


@dataclass(frozen=True)
class Ledger:
    """One vendor's bookkeeping: its schema, the names of its two own columns, and its words."""

    vendor: str
    #: The column of the kind of data, and its header in state.
    kind_column: str
    kind_header: str
    #: The column of what tells versions apart, and its header in state.
    version_column: str
    version_header: str
    #: Tables of line items are named ``<table_prefix><export>_<YYYY_MM>_<hash>``.
    table_prefix: str
    #: What a user does to have data: "load a report first with 'finops aws import'".
    first_import: str
    #: What lists the periods, in "no billing period between ...: <it> covers A..B".
    period_source: str
    error: type[FinopsError] = FinopsError
    usage_error: type[FinopsError] = FinopsError
    #: How state names a kind ("v1" -> "legacy"); unnamed kinds show as they are.
    kind_names: Mapping[str, str] = field(default_factory=dict)
    #: Whether state's History has the kind column.
    history_kind: bool = True

    @property
    def schema(self) -> str:
        return core_focus.vendor_schema(self.vendor)

    def ddl(self) -> str:
        fields = (f"export_name VARCHAR NOT NULL, billing_period VARCHAR NOT NULL, "
                  f"{self.kind_column} VARCHAR, format VARCHAR, {self.version_column} VARCHAR, "
                  f"manifest VARCHAR")
        return (f"CREATE SCHEMA IF NOT EXISTS {self.schema};\n"
                f"CREATE TABLE IF NOT EXISTS {self.schema}.loaded ({fields}, table_name VARCHAR, "
                f"row_count BIGINT, file_count INTEGER, loaded_at TIMESTAMP);\n"
                f"CREATE TABLE IF NOT EXISTS {self.schema}.imports ({fields}, row_count BIGINT, "
                f"file_count INTEGER, started TIMESTAMP, finished TIMESTAMP, status VARCHAR, "
                f"error VARCHAR);\n")

    # The connection.

    def connect(self, path: Path, read_only: bool = False, memory_limit: str | None = None,
                prepare: Callable[[Any], None] | None = None) -> Any:
        """A connection to the store at ``path`` (created unless ``read_only``), opened by
        core's store as the DuckDB contract with Metabase says (open_finops.core.store), in
        UTC; for writing, with the bookkeeping tables, then ``prepare(con)``."""
        import duckdb

        path = Path(path)
        if read_only and not path.exists():
            raise self.error(f"no database at {path}: {self.first_import}")
        con = core_store.connect(path, read_only=read_only)
        try:
            con.execute("SET TimeZone = 'UTC'")
            # DuckDB draws its progress bar on stdout, which carries only data.
            con.execute("SET enable_progress_bar = false")
            # Line items have no meaningful order; not keeping it lets DuckDB stream big loads.
            con.execute("SET preserve_insertion_order = false")
            if memory_limit:
                self._set_memory_limit(con, memory_limit)
            if not read_only:
                logger.info("DuckDB memory_limit = %s, threads = %s, temp_directory = %s",
                            *con.execute("SELECT current_setting('memory_limit'), "
                                         "current_setting('threads'), "
                                         "current_setting('temp_directory')").fetchone())
                con.execute(self.ddl())
                if prepare is not None:
                    prepare(con)
        except duckdb.Error as exc:
            con.close()
            raise self.error(f"database {path}: {one_line(exc)}") from None
        except self.error:
            con.close()
            raise
        return con

    def _set_memory_limit(self, con: Any, memory_limit: str) -> None:
        import duckdb

        try:
            con.execute(f"SET memory_limit = {literal(memory_limit)}")
        except duckdb.Error as exc:
            raise self.usage_error(
                f"memory_limit ([{self.vendor}] in config.toml or "
                f"OPEN_FINOPS_{self.vendor.upper()}_MEMORY_LIMIT): expected a size such as "
                f"4GB, got {memory_limit!r} ({one_line(exc)})") from None

    def staging_folder(self, database: Path) -> Path:
        """Where an import into ``database`` stages its files: beside the database rather
        than in the system's temporary folder, which is often in memory."""
        return Path(f"{database}.{self.vendor}-staging")

    def table_name(self, export_name: str, period: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "_", export_name.lower()).strip("_")[:40] or "export"
        digest = hashlib.sha1(export_name.encode()).hexdigest()[:8]
        return f"{self.table_prefix}{slug}_{period.replace('-', '_')}_{digest}"

    # Reading the bookkeeping.

    def has_state(self, con: Any) -> bool:
        return bool(con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = 'loaded'", [self.schema]).fetchone()[0])

    def loaded(self, con: Any, export_name: str | None = None,
               period: str | None = None,
               months: tuple[str | None, str | None] = (None, None)) -> list[Loaded]:
        if not self.has_state(con):
            return []
        clause, params = where(months, "billing_period", export_name=export_name,
                               billing_period=period)
        rows = con.execute(
            f"SELECT export_name, billing_period, {self.kind_column}, format, "
            f"{self.version_column}, manifest, table_name, row_count, file_count, loaded_at "
            f"FROM {self.schema}.loaded {clause} ORDER BY export_name, billing_period",
            params).fetchall()
        return [Loaded(*row) for row in rows]

    def history(self, con: Any, export_name: str | None = None,
                period: str | None = None,
                months: tuple[str | None, str | None] = (None, None)) -> list[tuple]:
        """Import attempts: export, period, kind, version, status, rows, files, started,
        finished, error."""
        if not self.has_state(con):
            return []
        clause, params = where(months, "billing_period", export_name=export_name,
                               billing_period=period)
        # A reader cannot open the database while an import holds it: 'running' is stale.
        return con.execute(
            f"SELECT export_name, billing_period, {self.kind_column}, {self.version_column}, "
            f"CASE status WHEN 'running' THEN 'interrupted' ELSE status END, row_count, "
            f"file_count, started, finished, "
            f"CASE status WHEN 'running' THEN ? ELSE error END "
            f"FROM {self.schema}.imports {clause} "
            f"ORDER BY export_name, billing_period, started, finished",
            [INTERRUPTED, *params]).fetchall()

    # Writing it.

    def mark_interrupted(self, con: Any) -> None:
        """With the database's lock held: attempts still 'running' were cut short."""
        con.execute(f"UPDATE {self.schema}.imports SET status = 'interrupted', error = ? "
                    f"WHERE status = 'running'", [INTERRUPTED])

    def record_started(self, con: Any, attempt: Attempt) -> None:
        """Before the import's transaction, committed on its own."""
        con.execute(f"INSERT INTO {self.schema}.imports VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, "
                    f"NULL, 'running', NULL)",
                    [attempt.export_name, attempt.billing_period, attempt.kind,
                     attempt.format, attempt.version, attempt.manifest, attempt.file_count,
                     attempt.started])

    def record_loaded(self, con: Any, attempt: Attempt, table: str | None, rows: int) -> None:
        """Inside the import's transaction: the period now holds this attempt's version (of
        ``attempt.kind``, which the load may have found out)."""
        finished = now()
        con.execute(f"DELETE FROM {self.schema}.loaded WHERE export_name = ? "
                    f"AND billing_period = ?", [attempt.export_name, attempt.billing_period])
        con.execute(f"INSERT INTO {self.schema}.loaded VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [attempt.export_name, attempt.billing_period, attempt.kind,
                     attempt.format, attempt.version, attempt.manifest, table, rows,
                     attempt.file_count, finished])
        self._finish(con, attempt, "loaded", rows, finished, None)

    def record_failure(self, con: Any, attempt: Attempt, error: str) -> None:
        """After the import's transaction was rolled back."""
        self._finish(con, attempt, "failed", None, now(), error)

    def _finish(self, con: Any, attempt: Attempt, status: str, rows: int | None,
                finished: datetime, error: str | None) -> None:
        con.execute(f"UPDATE {self.schema}.imports SET status = ?, row_count = ?, "
                    f"finished = ?, error = ?, {self.kind_column} = ? WHERE export_name = ? "
                    f"AND billing_period = ? AND started = ? AND status = 'running'",
                    [status, rows, finished, error, attempt.kind, attempt.export_name,
                     attempt.billing_period, attempt.started])

    # What imports and commands share.

    def period_range(self, start: str | None, end: str | None) -> tuple[str | None, str | None]:
        """``--start`` and ``--end`` as YYYY-MM (or None), in order, or a usage error."""
        start = check_month(start, "--start", self.usage_error)
        end = check_month(end, "--end", self.usage_error)
        if start and end and start > end:
            raise self.usage_error(f"--start {start} is after --end {end}")
        return start, end

    def select_periods(self, newest: Mapping[str, Any], start: str | None,
                       end: str | None) -> dict[str, Any]:
        """Of the newest version of each period (``newest``: period -> version), those from
        ``start`` to ``end`` (YYYY-MM, either may be None), in the order of the periods."""
        start, end = self.period_range(start, end)
        periods = sorted(newest)
        chosen = {period: newest[period] for period in periods
                  if (not start or period >= start) and (not end or period <= end)}
        if not chosen and periods:
            raise self.error(f"no billing period between {start or 'the first'} and "
                             f"{end or 'the last'}: {self.period_source} covers "
                             f"{periods[0]}..{periods[-1]}")
        return chosen

    def import_periods(self, database: Path, export_name: str, chosen: Mapping[str, Any], *,
                       force: bool, memory_limit: str, log: Callable[[str], None],
                       load: Callable[[Any, Any, Path], Result],
                       skipped: Callable[[Any], str], refresh: Callable[[Any], None],
                       prepare: Callable[[Any], None] | None = None,
                       publish: Callable[[Any, Path], Any] = core_store.publish) -> list[Result]:
        """Load each chosen period (period -> its newest version, which has a
        ``version_id``) with ``load(con, version, workdir)`` unless that version is already
        loaded (or ``force``: then ``skipped(version)`` names it in the message). Files are
        staged in :meth:`staging_folder`, emptied first (a killed import's leftovers; this
        import holds the database's lock) and removed at the end; the import ends by
        publishing the copy Metabase reads (``publish``: core's store)."""
        con = self.connect(database, memory_limit=memory_limit, prepare=prepare)
        workdir = self.staging_folder(database)
        results = []
        try:
            shutil.rmtree(workdir, ignore_errors=True)
            try:
                workdir.mkdir()
            except OSError as exc:
                raise self.error(f"cannot create the staging folder {workdir}: "
                                 f"{exc.strerror}") from None
            self.mark_interrupted(con)
            current = {entry.billing_period: entry for entry in self.loaded(con, export_name)}
            for period, version in chosen.items():
                have = current.get(period)
                if have and have.version == version.version_id and not force:
                    log(f"{export_name} {period}: {skipped(version)} already loaded "
                        f"({have.row_count:,} rows); skipped")
                    results.append(Result(export_name, period, "skipped", have.version,
                                          have.row_count, have.file_count))
                    continue
                results.append(load(con, version, workdir))
            if not any(result.status == "loaded" for result in results):
                # A database made by an earlier version gets this version's views all the same.
                self._refresh(con, refresh)
            publish(con, database)
        finally:
            con.close()
            shutil.rmtree(workdir, ignore_errors=True)
        return results

    def _refresh(self, con: Any, refresh: Callable[[Any], None]) -> None:
        import duckdb

        try:
            refresh(con)
        except duckdb.Error as exc:
            raise self.error(f"cannot update the views: {one_line(exc)}") from None

    def loading(self, attempt: Attempt, what: str, problem: str | None,
                log: Callable[[str], None], *, version: str | None = None) -> None:
        """The progress line of a period about to load: ``what`` (``legacy``, ``run``) and
        ``version`` as the source names it (None: a version the source does not give, which
        is not shown), and its files; a period that cannot load names its manifest only."""
        label = f"{attempt.export_name} {attempt.billing_period}"
        if problem:
            log(f"{label}: loading {attempt.manifest}")
            return
        files = (plural(attempt.file_count, f"{attempt.format} file") if attempt.file_count
                 else "no files")
        log(f"{label}: loading {what}{f' {version}' if version else ''} ({files})")

    def import_period(self, con: Any, attempt: Attempt, problem: str,
                      replace: Callable[[], tuple[int, str]],
                      log: Callable[[str], None]) -> Result:
        """One period: ``attempt`` recorded as running, then ``replace()`` (rows, and a note
        for the message) in its transaction, or its failure recorded."""
        import duckdb

        label = f"{attempt.export_name} {attempt.billing_period}"
        files = attempt.file_count
        try:
            try:
                self.record_started(con, attempt)
            except duckdb.Error as exc:
                raise self.error(f"cannot record the import: {one_line(exc)}") from None
            if problem:
                raise self.error(problem)
            rows, note = replace()
        except self.error as exc:
            message = str(exc)
            try:
                self.record_failure(con, attempt, message)
            except Exception as record_exc:  # the store itself is broken: say so, keep going
                message += f" (and the failure could not be recorded: {one_line(record_exc)})"
            log(f"{label}: failed; the data loaded before is unchanged")
            return Result(attempt.export_name, attempt.billing_period, "failed", attempt.version, 0,
                          files, message)
        log(f"{label}: loaded {plural(rows, 'row')}{note} from {plural(files, 'file')}")
        return Result(attempt.export_name, attempt.billing_period, "loaded", attempt.version,
                      rows, files)

    def replace_period(self, con: Any, source: Any, files: list, workdir: Path, table: str,
                       location: str, load: Callable[[list[tuple[Any, Path]], dict[str, str]],
                                                     None],
                       finish: Callable[[], T]) -> T:
        """One transaction: drop ``table``, stage ``files`` from ``source`` (a vendor's
        Source: ``stage``, ``describe``) in batches under ``workdir``, ``load(batch, names)``
        each (``names``: staged path -> the user's name of the file; a DuckDB failure raised
        as :class:`LoadFailed`), while zlib verifies every gzip file; then ``finish()`` (the
        bookkeeping and views) and commit. Any failure rolls all of it back and is one line
        (``error``) naming the user's file, or ``location`` (the manifest)."""
        import duckdb

        names: dict[str, str] = {}
        staging = Path(tempfile.mkdtemp(dir=workdir))
        con.execute("BEGIN TRANSACTION")
        try:
            execute(con, f"DROP TABLE IF EXISTS {table}")
            with ThreadPoolExecutor(max_workers=2) as verifier, \
                    contextlib.closing(source.stage(files, staging)) as batches:
                for batch in batches:
                    for obj, path in batch:
                        names[str(path)] = source.describe(obj.key)
                    checks = [verifier.submit(verify_gzip, path, names[str(path)], self.error)
                              for _obj, path in batch if path.name.endswith(".gz")]
                    try:
                        load(batch, names)
                    except LoadFailed as failed:
                        # A broken gzip file is the cause of whatever DuckDB made of it.
                        for check in checks:
                            check.result()
                        raise self.error(explain(failed.error, names, failed.paths,
                                                 location)) from None
                    for check in checks:
                        check.result()
            outcome = finish()
            con.execute("COMMIT")
            return outcome
        except BaseException as exc:
            with contextlib.suppress(Exception):
                con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise self.error(explain(exc, names, manifest=location)) from None
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    # Reading, while an import may run.

    def open_published(self, database: Path) -> Any:
        """A read-only connection to the copy the last import published
        (open_finops.core.store.published_path): it opens while an import holds the
        working database."""
        published = core_store.published_path(database)
        if not published.exists():
            if not Path(database).exists():
                raise self.error(f"no database at {database}: {self.first_import}")
            raise self.error(f"no published copy of {database} yet ({published.name}): "
                             f"{self.first_import}")
        return self.connect(published, read_only=True)

    def open_state(self, database: Path) -> Any:
        """A read-only connection to the bookkeeping: the working database when no import
        holds it (it also knows the attempts of an import that was killed, which never
        published), else the published copy, saying so on stderr."""
        published = core_store.published_path(database)
        if not Path(database).exists() and not published.exists():
            raise self.error(f"no database at {database}: {self.first_import}")
        try:
            return self.connect(database, read_only=True)
        except FinopsError as exc:
            if not published.exists():
                raise
            reason = str(exc).split("; retry")[0]
            log_to_stderr(f"{reason}: showing the state that the last import published")
            return self.open_published(database)

    def loaded_versions(self, database: Path, export_name: str) -> dict[str, str] | None:
        """Period -> the version loaded of ``export_name`` ({} before the first import; None,
        said on stderr, when neither the database nor a published copy can be read)."""
        if not Path(database).exists() and not core_store.published_path(database).exists():
            return {}
        try:
            con = self.open_state(database)
        except FinopsError as exc:
            log_to_stderr(f"{exc}: LOADED is unknown")
            return None
        try:
            return {entry.billing_period: entry.version for entry in self.loaded(con, export_name)}
        finally:
            con.close()

    def show_state(self, database: Path, export_name: str | None,
                   months: tuple[str | None, str | None] = (None, None)) -> int:
        """``state``: the Loaded and History tables on stdout."""
        con = self.open_state(database)
        try:
            loaded = self.loaded(con, export_name, months=months)
            history = self.history(con, export_name, months=months)
        finally:
            con.close()
        emit(self.state_text(loaded, history))
        if not loaded and not history:
            log_to_stderr("nothing imported yet" + months_text(months))
        return 0

    def state_text(self, loaded: list[Loaded], history: list[tuple]) -> str:
        kind = [self.kind_header] if self.history_kind else []
        return "\n".join([
            "Loaded:",
            render(["EXPORT", "BILLING_PERIOD", self.kind_header, "FORMAT",
                    self.version_header, "ROWS", "FILES", "LOADED_AT"],
                   [(e.export_name, e.billing_period, self.kind_names.get(e.kind, e.kind),
                     e.format, e.version, e.row_count, e.file_count, e.loaded_at)
                    for e in loaded]),
            "",
            "History:",
            render(["EXPORT", "BILLING_PERIOD", *kind, self.version_header, "STATUS", "ROWS",
                    "FILES", "STARTED", "FINISHED", "ERROR"],
                   [row if self.history_kind else row[:2] + row[3:] for row in history])])

    def summary(self, database: Path, title: str, column: str, *, missing: str,
                line_items: str = "count(*)",
                months: tuple[str | None, str | None] = (None, None),
                **equals: str | None) -> int:
        """``summary``: billed and effective cost by ``column`` of this vendor's rows (of
        ``months``, where each of ``equals`` holds) in the published copy, with a total per
        currency, on stdout; ``missing`` begins the error when there are none ("no focus
        view")."""
        import duckdb

        # This vendor's rows only: main.focus holds every vendor's (open_finops.core.focus).
        view = f"{self.schema}.{core_focus.VENDOR_VIEW}"
        clause, params = where(months, "x_BillingPeriod", **equals)
        con = self.open_published(database)
        try:
            rows = con.execute(
                f"SELECT coalesce({column}, '(none)') AS grp, BillingCurrency, "
                f"sum(BilledCost), sum(EffectiveCost), {line_items} FROM {view} {clause} "
                f"GROUP BY ALL ORDER BY sum(BilledCost) DESC NULLS LAST, grp",
                params).fetchall()
        except duckdb.CatalogException:
            if self.vendor in core_focus.stale(con):
                raise self.error(f"{database} was written by an earlier release: run an "
                                 f"import of `finops {self.vendor}` once to bring its views "
                                 "to this release") from None
            raise self.error(f"{missing} in {database}: {self.first_import}") from None
        except duckdb.Error as exc:
            raise self.error(f"{database}: {one_line(exc)}") from None
        finally:
            con.close()
        if not rows:
            log_to_stderr("no cost data" + months_text(months))
        table = list(rows)
        for currency in sorted({row[1] for row in rows if row[1]}):
            mine = [row for row in rows if row[1] == currency]
            table.append(("TOTAL", currency, sum(r[2] or 0.0 for r in mine),
                          sum(r[3] or 0.0 for r in mine), sum(r[4] for r in mine)))
        emit(render([title, "CURRENCY", "BILLED_COST", "EFFECTIVE_COST", "LINE_ITEMS"], table))
        return 0


def report(results: list[Result]) -> int:
    """The end of an import command: the counts on stderr, one error line per failed
    period; exit code 1 when one failed."""
    counts = {status: sum(r.status == status for r in results)
              for status in ("loaded", "skipped", "failed")}
    log_to_stderr(f"done: {counts['loaded']} loaded, {counts['skipped']} up to date, "
                  f"{counts['failed']} failed")
    for result in results:
        if result.status == "failed":
            print(f"finops: error: {result.export_name} {result.period}: {result.message}",
                  file=sys.stderr)
    return 1 if counts["failed"] else 0
