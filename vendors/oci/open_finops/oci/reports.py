"""Where OCI's cost reports are, and which files make each billing month.

OCI writes them to the tenancy's bucket (in the ``bling`` namespace, named after the tenancy
OCID), several times a day, and keeps them a year:

* FOCUS reports, ``FOCUS Reports/YYYY/MM/DD/NNNN-0000N.csv.gz``: a file's month is its path's;
* the older cost reports, ``reports/cost-csv/NNNN.csv.gz``: a file's months are those of its
  rows' ``lineItem/intervalUsageStart`` (a file written early in a month holds late usage of
  the one before, and a correction the month of the usage it corrects), read from the files.

A billing month is every file with rows of it; its version is the names and sizes of those
files, so a new file makes a new version, which replaces the month whole (a cost report is
loaded with the rows of that month only). OCI has no export names: ``--export-name`` is the
name an import is recorded by, the kind (``focus`` or ``cost``) unless given.
"""
from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from open_finops.core.imports import csv_header, verify_gzip
from open_finops.core.sources import Obj, Source
from open_finops.core.sql import literal, quote
from open_finops.oci.errors import OciError, UsageError, one_line

FOLDERS = {"focus": "FOCUS Reports", "cost": "reports/cost-csv"}
NAMES = {"focus": "FOCUS report", "cost": "cost report"}
#: The column of a cost report that dates its rows.
USAGE_START = "lineItem/intervalUsageStart"
READABLE = (".csv.gz", ".csv", ".parquet")
_FOCUS_KEY = re.compile(r"^FOCUS Reports/(\d{4})/(0[1-9]|1[0-2])/\d{2}/[^/]+$")


@dataclass
class Report:
    """A version of one billing month of one kind of report: the files with rows of it."""

    kind: str
    period: str
    files: list[Obj] = field(default_factory=list)
    location: str = ""
    problem: str = ""

    @property
    def version_id(self) -> str:
        listed = "\n".join(f"{obj.key}\t{obj.size}" for obj in self.files)
        return hashlib.sha256(listed.encode()).hexdigest()[:12]


def choose_kind(kind: str | None, export_name: str | None) -> str:
    """The kind an import reads: ``kind`` unless auto, else the export name when it names
    one, else auto (FOCUS reports where there are any, else cost reports)."""
    kind = (kind or "auto").strip().lower()
    if kind not in ("auto", *FOLDERS):
        raise UsageError(f"--kind: expected auto, focus or cost, got {kind!r}")
    if kind == "auto" and export_name in FOLDERS:
        return str(export_name)
    return kind


def locate(source: Source, kind: str) -> tuple[Source, dict[str, Obj], str]:
    """(the source of the tenancy's bucket, the listing of the kind's folder, the kind): the
    source itself, else the one bucket folder below it that holds reports."""
    kinds = list(FOLDERS) if kind == "auto" else [kind]
    for candidate in kinds:
        listing = source.list(FOLDERS[candidate])
        if listing:
            return source, listing, candidate
    everything = source.list("")
    buckets: dict[str, set[str]] = {}
    for key in everything:
        for candidate in kinds:
            folder, found, _rest = key.partition(f"/{FOLDERS[candidate]}/")
            if found and "/" not in folder:
                buckets.setdefault(folder, set()).add(candidate)
    if len(buckets) > 1:
        raise OciError(f"reports of several tenancies under {source.describe()}: "
                       f"{', '.join(sorted(buckets))}; give --source the bucket to read")
    what = " or ".join(f"{FOLDERS[k]}/" for k in kinds)
    if not buckets:
        raise OciError(f"no OCI reports ({what}) under {source.describe()} (check --source: "
                       "the tenancy's bucket, or a folder laid out like it)")
    bucket, found = next(iter(buckets.items()))
    chosen = next(k for k in kinds if k in found)
    moved = source.below(bucket)
    return moved, moved.list(FOLDERS[chosen]), chosen


def find(source: Source, kind: str, listing: dict[str, Obj],
         memory_limit: str | None = None) -> dict[str, Report]:
    """Period -> its report (the files with rows of it), oldest period first."""
    objects = sorted((obj for key, obj in listing.items() if key.lower().endswith(READABLE)),
                     key=lambda obj: obj.key)
    if kind == "focus":
        found: dict[str, Report] = {}
        for obj in objects:
            match = _FOCUS_KEY.match(obj.key)
            if not match:
                continue  # not a report (OCI writes nothing else there)
            period = f"{match.group(1)}-{match.group(2)}"
            report = found.setdefault(period, Report(kind, period, location=source.describe(
                f"{FOLDERS[kind]}/{match.group(1)}/{match.group(2)}")))
            report.files.append(obj)
        return dict(sorted(found.items()))
    return _cost_reports(source, objects, memory_limit)


def _cost_reports(source: Source, objects: list[Obj],
                  memory_limit: str | None) -> dict[str, Report]:
    """Cost reports by the months of their rows. A file that cannot be read may hold rows of
    any month: it is the problem of the months of the files written just before and after it
    (OCI numbers them in order; else of the month it was written in), which fail, keeping what
    they loaded before, while the others load."""
    from datetime import datetime, timezone

    location = source.describe(FOLDERS["cost"])
    scanned = list(cost_months(source, objects, memory_limit))
    found: dict[str, Report] = {}
    for index, (obj, months, problem) in enumerate(scanned):
        if problem:
            before = next((m for _o, m, p in reversed(scanned[:index]) if not p), set())
            after = next((m for _o, m, p in scanned[index + 1:] if not p), set())
            months = before | after or {
                datetime.fromtimestamp(obj.mtime, timezone.utc).strftime("%Y-%m")}
        for period in months:
            report = found.setdefault(period, Report("cost", period, location=location))
            report.files.append(obj)
            report.problem = report.problem or problem
    return dict(sorted(found.items()))


def cost_months(source: Source, objects: list[Obj], memory_limit: str | None = None):
    """(object, the months of its rows, problem) of each cost report, in order: DuckDB reads
    the one column, of the files of one layout at once (a bucket's files are downloaded to a
    temporary folder, a batch at a time); a failure is found file by file."""
    import duckdb

    month = f"left(trim(CAST({quote(USAGE_START)} AS VARCHAR)), 7)"
    con = duckdb.connect(config={"memory_limit": memory_limit or "512MB"})
    try:
        with tempfile.TemporaryDirectory(prefix="finops-oci-") as workdir:
            for batch in source.stage(objects, Path(workdir)):
                found: dict[str, tuple[set[str], str]] = {}
                groups: dict[tuple[str, ...], list[Path]] = {}
                names = {str(path): source.describe(obj.key) for obj, path in batch}
                for obj, path in batch:
                    where = names[str(path)]
                    try:
                        layout = layout_of(con, path, where)
                        if USAGE_START not in layout:
                            raise OciError(f"{where}: not a cost report (no {USAGE_START})")
                        suffix = path.name.lower().rsplit(".", 1)[-1]
                        groups.setdefault((suffix, *layout), []).append(path)
                    except OciError as exc:
                        found[str(path)] = set(), str(exc)
                for (_suffix, *layout), paths in groups.items():
                    try:
                        rows = con.execute(
                            f"SELECT DISTINCT filename, {month} FROM "
                            f"{reader(paths, tuple(layout), options='filename = true')} "
                            f"WHERE {quote(USAGE_START)} IS NOT NULL").fetchall()
                        for path in paths:
                            found[str(path)] = set(), ""
                        for filename, period in rows:
                            found[filename][0].add(period)
                    except duckdb.Error:
                        for path in paths:  # which one: each alone
                            found[str(path)] = _months_of(con, path, tuple(layout), month,
                                                          names[str(path)])
                for obj, path in batch:
                    months, problem = found[str(path)]
                    yield obj, months, problem
    finally:
        con.close()


def _months_of(con: Any, path: Path, layout: tuple[str, ...], month: str,
               where: str) -> tuple[set[str], str]:
    import duckdb

    try:
        rows = con.execute(f"SELECT DISTINCT {month} FROM {reader(path, layout)} WHERE "
                           f"{quote(USAGE_START)} IS NOT NULL").fetchall()
        return {row[0] for row in rows}, ""
    except duckdb.Error as exc:
        return set(), _unreadable(path, where, exc)


def _unreadable(path: Path, where: str, exc: Exception) -> str:
    """Why DuckDB could not read a file: a broken gzip file where it is one (DuckDB's error
    is what it made of it), else DuckDB's first line."""
    if path.name.lower().endswith(".gz"):
        try:
            verify_gzip(path, where, OciError)
        except OciError as broken:
            return str(broken)
    return f"{where}: {one_line(exc)}"


def present(path: Path, where: str) -> None:
    """A staged local file that is gone (removed after it was listed: OCI deletes reports
    after a year) is one line naming it."""
    if not path.exists():
        raise OciError(f"{where}: no such file (removed after it was listed?); import again")


def layout_of(con: Any, path: Path, where: str) -> tuple[str, ...]:
    """A file's column names: a CSV's header, a Parquet file's schema."""
    import duckdb

    present(path, where)
    if not path.name.lower().endswith(".parquet"):
        return csv_header(path, where, OciError)
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(str(path))}, "
                           "binary_as_string = true)").fetchall()
    except duckdb.Error as exc:
        reason = re.sub(r" '[^']*'", "", one_line(exc).split(": ", 1)[-1])
        raise OciError(f"{where}: not a readable Parquet file ({reason})") from None
    return tuple(row[0] for row in rows)


def csv_options(path: Path) -> str:
    compression = "gzip" if path.name.lower().endswith(".gz") else "none"
    return (f"header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            f"compression = '{compression}', hive_partitioning = false")


def reader(path: Path | list[Path], layout: tuple[str, ...],
           types: dict[str, str] | None = None, options: str = "") -> str:
    """DuckDB's reader of files with one layout (the same kind: CSV, gzip or not, or
    Parquet), a CSV's columns by its header's names, VARCHAR unless ``types`` says (DuckDB's
    CSV reader parses a number itself, and names the file, line and column of one it cannot;
    an empty cell is NULL)."""
    paths = path if isinstance(path, list) else [path]
    files = "[" + ", ".join(literal(str(p)) for p in paths) + "]"
    options = f", {options}" if options else ""
    if paths[0].name.lower().endswith(".parquet"):
        return f"read_parquet({files}, binary_as_string = true{options})"
    types = types or {}
    spec = ", ".join(f"{literal(c)}: {literal(types.get(c, 'VARCHAR'))}" for c in layout)
    return f"read_csv({files}, {csv_options(paths[0])}, columns = {{{spec}}}{options})"
