"""The DuckDB store of the stack and its contract with the reader, Metabase's DuckDB driver.

Every distribution that writes the database opens it with :func:`connect` and ends a write
with :func:`publish`; nothing else calls ``duckdb.connect`` on it. The contract, defined here
only (``releasekit contract``, scripts/releasekit/contract.py, checks the built metadata and
the docker pins against these constants, and the tests cross the two with the reader's own DuckDB):

* the reader is the DuckDB embedded in the Metabase driver that open-finops-docker pins
  (driver ``X.Y.Z.B`` embeds DuckDB ``X.Y.Z``): :data:`READER_DUCKDB`;
* writers are the DuckDB releases :data:`WRITER_DUCKDB` admits (each writing distribution
  requires exactly this range);
* every database the stack creates or attaches is written in the storage format of
  :data:`STORAGE_VERSION`, the reader's release line;
* Metabase reads :func:`published_path` of the configured database, a copy that every import
  replaces atomically (:func:`publish`), never the working database that imports write.

Why, measured on this machine (DuckDB from PyPI, a database of the four CUR kinds written by
``finops aws import-cur``, read by DuckDB 1.5.4 read-only with the driver's default
``old_implicit_casting = true``, ``SELECT count(*), sum(BilledCost), sum(EffectiveCost) FROM
focus``):

=========  ===============================  =================================================
writer     its default file (header)        read by 1.5.4
=========  ===============================  =================================================
1.4.4      storage 64 (v1.0.0 format)       yes, same totals
1.5.4      storage 64                       yes
1.5.6      storage 64                       yes
2.0.1      storage 999                      no: "Trying to read a database file with version
                                            number 999, but we can only read versions
                                            between 64 and 68"
2.0.1      with STORAGE_VERSION 'v1.5.0'    yes (storage 68), same totals
=========  ===============================  =================================================

A file keeps the storage version it was created with when a newer DuckDB writes into it, so
an old working database stays readable by old writers; but a working database created by
DuckDB 2.x (what ``duckdb>=1.1`` of release 0.3.0 resolves today) is storage 999, which no
1.x writer can open. Pinning the writers to the reader's line (``<1.6``) alone would lock
those users out of their own database; so both: the writers admit 2.0.x too, every database
the stack creates is in :data:`STORAGE_VERSION` (``storage_compatibility_version``, so 2.0.1
writes storage 68), and the contract is enforced where the reader looks, by :func:`publish`:
a working file the reader can read is checkpointed and copied as it is; one it cannot (a 2.x
file of 0.3.0) is written anew with ``ATTACH ... (STORAGE_VERSION 'v1.5.0')`` and ``COPY FROM
DATABASE``. The lower bound 1.5 is the first release that knows that storage version
(1.4.4: "The version string 'v1.5.0' is not a known DuckDB version"); the upper bound stops
at the releases measured (a 2.1 must be measured before it is admitted).

Views are stored as SQL and bound by the reader when it runs them, so a view that uses a
function the reader lacks fails in the reader: the tests run ``focus`` and ``aws_cur`` in the
reader's DuckDB over every database the import tests write. DuckDB 1.1.3, for one, cannot
bind a view written by 1.4.4 that extracts from a MAP (its ``map['k']`` returns a list):
"Contents of view were altered: types don't match". The views of this stack use nothing
1.5.4 lacks (measured with writers 1.4.4, 1.5.4, 1.5.6 and 2.0.1).

The published copy is not the working database as it is: :func:`for_readers` turns ``focus``
into a table of its rows and adds the views of the schema ``reports`` (one per report and
dimension, each with a comment), so that Metabase neither plans nor computes the vendors'
mappings on every card. Measured by ``benchmarks/publish.py`` on a million line items of one
month (2 shared cores, medians): the import 7.1 s; publishing by copy alone (release 0.3)
0.08 s, by rewrite 3.4 s, by copy and :func:`for_readers` 5.8 s; the copy 74 MiB, with the
table 130 MiB (a temporary second copy exists while it is written). Per query on one
read-only connection, 0.3's copy -> this one, in the reader's DuckDB 1.5.4: ``SELECT
count(*) FROM focus`` 120 ms -> 0.37 ms, a month-by-service group-by 233 ms -> 26 ms,
``EXPLAIN`` of the count 13.9 ms -> 0.5 ms.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from open_finops.core.sql import literal, quote
from open_finops.core.errors import FinopsError, one_line

#: The DuckDB that Metabase's DuckDB driver embeds (the driver pinned in
#: open_finops/docker/pins.py: driver 1.5.4.0 embeds DuckDB 1.5.4).
READER_DUCKDB = "1.5.4"
#: The storage format of every database the stack creates or attaches (the reader's line).
STORAGE_VERSION = "v1.5.0"
#: The DuckDB releases a writing distribution may require (its install_requires:
#: ``"duckdb" + WRITER_DUCKDB``).
WRITER_DUCKDB = ">=1.5,<2.1"
#: The file beside the working database that Metabase reads.
PUBLISHED_SUFFIX = ".published.duckdb"

_ALIAS = "open_finops_published"
#: The comment of ``focus`` in the published copy.
FOCUS_COMMENT = ("Every provider's cost and usage rows in FOCUS 1.3 columns (x_ columns: a "
                 "provider's own), as of the latest import; the views of the schema reports "
                 "answer the FOCUS use cases over it.")
_LOCK_PID = re.compile(r"\(PID (\d+)\)")


def published_path(database: Path) -> Path:
    """The copy of ``database`` that readers open: ``finops.duckdb`` ->
    ``finops.published.duckdb``, in the same folder (so that a rename can replace it)."""
    database = Path(database)
    stem = database.name[:-len(".duckdb")] if database.name.endswith(".duckdb") \
        else database.name
    return database.with_name(stem + PUBLISHED_SUFFIX)


def connect(path: Path, read_only: bool = False) -> Any:
    """A DuckDB connection to the database at ``path`` as the contract says: created (with
    its folder) in :data:`STORAGE_VERSION` unless ``read_only``, no extension downloaded or
    loaded at run time. Errors are one line (:class:`FinopsError`)."""
    import duckdb

    path = Path(path)
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FinopsError(f"cannot create the folder of database {path}: "
                              f"{exc.strerror}") from None
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False,
              "storage_compatibility_version": STORAGE_VERSION}
    try:
        return duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.Error as exc:
        message = one_line(exc)
        if "lock" in message.lower():
            pid = _LOCK_PID.search(str(exc))
            holder = f" (PID {pid.group(1)})" if pid else ""
            raise FinopsError(f"database {path} is locked by another process{holder}; "
                              "retry when it has finished") from None
        if "version number" in message:
            raise FinopsError(f"cannot open database {path} with DuckDB {duckdb.__version__}"
                              f" ({message}); install a DuckDB the stack admits: pip install"
                              f" 'duckdb{WRITER_DUCKDB}'") from None
        raise FinopsError(f"cannot open database {path}: {message}") from None


def publish(con: Any, database: Path) -> Path:
    """Copy the committed state of ``con`` (the working database ``database``, opened for
    writing, so no other import runs meanwhile) to :func:`published_path` for the readers:
    written beside it under a temporary name, flushed, then renamed over the old copy. A
    reader's open connection keeps the old file; its next one opens the new file. A process
    killed at any point leaves the old copy whole (and a temporary file that the next publish
    removes). Returns the published path.

    A working file in a storage format the reader reads (every file this module created, and
    those of DuckDB 1.x) is checkpointed and copied byte for byte; one that a DuckDB 2.x
    created before the contract existed is rewritten in :data:`STORAGE_VERSION`
    (``COPY FROM DATABASE``), which costs about as much as importing it again."""
    import duckdb

    target = published_path(database)
    _remove_leftovers(target)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        version = con.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() "
            "WHERE database_name = current_database()").fetchone()[0]
        # The copy is made within the import's memory limit (a million rows mapped and
        # sorted at DuckDB's default, 80% of RAM, took 1.9 GB of peak RSS; sorted within
        # 512MB, a million OCI cost rows ran out of memory: so the rows are not sorted, and
        # stay in the order of the vendors' period tables, one provider and period after
        # another).
        memory_limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        if _version(version) <= _version(STORAGE_VERSION):
            copy_file(con, database, staging)
        else:
            rewrite(con, staging)
        for_readers(staging, memory_limit)
        _fsync(staging)
        os.replace(staging, target)
        _fsync(target.parent)
    except (duckdb.Error, OSError, FinopsError) as exc:
        _remove_leftovers(target)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else one_line(exc)
        raise FinopsError(f"cannot publish {target} for Metabase: {reason}; the copy it"
                          " reads is unchanged, the next import publishes again") from None
    return target


def for_readers(staging: Path, memory_limit: str | None = None) -> None:
    """The copy as readers want it: ``focus`` a table of its rows (in the order of the
    vendors' period tables) in place of the view, so that a reader's query neither plans nor
    computes the vendors' mappings; and a view per report in the schema ``reports`` (one definition
    each, :func:`open_finops.core.reports.views`), each with a comment saying what it
    answers (a schema ``reports`` of the working database is replaced in the copy). The
    file keeps its storage version."""
    from open_finops.core import reports
    from open_finops.core.focus import conform_dataset

    pub = connect(staging)
    try:
        if memory_limit:
            pub.execute(f"SET memory_limit = {literal(memory_limit)}")
        pub.execute("BEGIN")
        pub.execute("CREATE TABLE main.open_finops_focus_rows AS SELECT * FROM main.focus")
        pub.execute("DROP VIEW main.focus")
        pub.execute("ALTER TABLE main.open_finops_focus_rows RENAME TO focus")
        conform_dataset(pub, "main.focus")
        pub.execute(f"COMMENT ON TABLE main.focus IS {literal(FOCUS_COMMENT)}")
        # The copy's schema is the stack's: one of that name in the working database (a
        # user's own) is replaced here, never there.
        pub.execute(f"DROP SCHEMA IF EXISTS {quote(reports.SCHEMA)} CASCADE")
        pub.execute(f"CREATE SCHEMA {quote(reports.SCHEMA)}")
        for name, sql, comment in reports.views():
            view = f"{quote(reports.SCHEMA)}.{quote(name)}"
            pub.execute(f"CREATE VIEW {view} AS {sql}")
            pub.execute(f"COMMENT ON VIEW {view} IS {literal(comment)}")
        pub.execute("COMMIT")
        pub.execute("CHECKPOINT")
    finally:
        pub.close()


def copy_file(con: Any, database: Path, staging: Path) -> None:
    """The working file, checkpointed (its WAL folded in), byte for byte."""
    con.execute("CHECKPOINT")
    shutil.copyfile(database, staging)


def rewrite(con: Any, staging: Path) -> None:
    """The working database's catalog and data, written anew in :data:`STORAGE_VERSION`."""
    catalog = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"ATTACH {literal(str(staging))} AS {_ALIAS} "
                f"(STORAGE_VERSION {literal(STORAGE_VERSION)})")
    try:
        con.execute(f"COPY FROM DATABASE {quote(catalog)} TO {_ALIAS}")
    finally:
        con.execute(f"DETACH {_ALIAS}")


def _version(storage_version: str | None) -> tuple[int, ...]:
    """'v1.5.0+' -> (1, 5, 0); unknown (None) counts as newer than any."""
    numbers = re.findall(r"\d+", storage_version or "")
    return tuple(int(n) for n in numbers) if numbers else (999,)


def _remove_leftovers(target: Path) -> None:
    """Temporary copies (and their WAL) of a publish that did not finish."""
    prefix = f".{target.name}."
    if not target.parent.is_dir():
        return
    for path in target.parent.iterdir():
        if path.name.startswith(prefix) and (path.name.endswith(".tmp")
                                             or path.name.endswith(".tmp.wal")):
            path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
