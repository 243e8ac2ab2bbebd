"""Find the exports of one billing table at a source: one billing month per folder.

BigQuery's billing tables leave BigQuery only through ``EXPORT DATA`` to Cloud Storage, one
statement per billing month with ``overwrite=true`` (README.md gives it):
``gs://BUCKET/PREFIX/<TABLE>/<YYYY-MM>/*.parquet``. So below the source, the table's folder
``<TABLE>/`` (found at the source, or below it) holds a folder per month, ``YYYY-MM`` (or
``YYYYMM``, as invoice.month writes it), whose data files are that month's newest export: an
export of the month again replaces them. Its version is the files' names, sizes and update
times: unchanged means loaded.

The table's name tells its kind: ``gcp_billing_export_v1_*`` (standard usage cost),
``gcp_billing_export_resource_v1_*`` (detailed usage cost) and ``gcp_billing_export_focus_*``
(the FOCUS export). Formats: Parquet and newline-delimited JSON (``.json``, ``.jsonl``,
``.ndjson``, each also gzip-compressed). Avro is not read: a month of Avro files cannot load
and says so (export it again with format='PARQUET').
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from open_finops.core.sources import Obj, Source
from open_finops.core.vocabulary import locate_export
from open_finops.gcp.errors import GcpError, UsageError

#: Table name prefix -> kind, the longest first.
KINDS = {"gcp_billing_export_resource_v1_": "detailed", "gcp_billing_export_focus_": "focus",
         "gcp_billing_export_v1_": "standard"}
_MONTH = re.compile(r"^(\d{4})-?(0[1-9]|1[0-2])$")
_PARQUET = (".parquet",)
_JSON = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
_AVRO = (".avro",)


@dataclass
class Export:
    """One billing month of a table as the source holds it."""

    export_name: str
    period: str  # YYYY-MM
    kind: str
    folder: str  # the month's folder, relative to the source
    location: str  # the month's folder, for messages
    files: list[Obj] = field(default_factory=list)
    fmt: str = "parquet"
    problem: str = ""

    @property
    def version_id(self) -> str:
        """The files' names, sizes and update times, as one short digest."""
        digest = hashlib.sha1()
        for obj in sorted(self.files, key=lambda o: o.key):
            digest.update(f"{obj.key.rsplit('/', 1)[-1]}\0{obj.size}\0{obj.mtime:.6f}\n"
                          .encode())
        return digest.hexdigest()[:12]

    @property
    def updated(self) -> float:
        return max((obj.mtime for obj in self.files), default=0.0)


def kind_of(table: str) -> str:
    """The kind of billing table ``table`` is, by its name."""
    name = table.strip().rsplit(".", 1)[-1]
    for prefix, kind in KINDS.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            return kind
    raise UsageError(f"--export-name {table!r}: not a billing table's name (expected "
                     "gcp_billing_export_v1_ACCOUNT, gcp_billing_export_resource_v1_ACCOUNT "
                     "or gcp_billing_export_focus_ACCOUNT)")


def format_of(key: str) -> str | None:
    lowered = key.lower()
    if lowered.endswith(_PARQUET):
        return "parquet"
    if lowered.endswith(_JSON):
        return "json"
    if lowered.endswith(_AVRO):
        return "avro"
    return None


def exports_in(keys: Iterable[str]) -> set[tuple[str, str]]:
    """(folder, name) of every table folder that ``keys`` show: a folder holding month
    folders ``YYYY-MM/`` with data files."""
    found = set()
    for key in keys:
        parts = key.split("/")
        if len(parts) >= 3 and _MONTH.match(parts[-2]) and format_of(parts[-1]):
            found.add(("/".join(parts[:-2]), parts[-3]))
    return found


def locate(source: Source, export_name: str) -> tuple[Source, dict[str, Obj]]:
    """The source of the table's folder (at the source, or at any depth below it) and the
    listing of that folder."""
    return locate_export(source, export_name, exports_in, max_depth=None, what="table")


def find(source: Source, export_name: str, *,
         listing: dict[str, Obj] | None = None) -> list[Export]:
    """Every month of the table at ``source``, in order."""
    kind = kind_of(export_name)
    if listing is None:
        source, listing = locate(source, export_name)
    months: dict[str, Export] = {}
    for key, obj in sorted(listing.items()):
        parts = key.split("/")
        match = _MONTH.match(parts[1]) if len(parts) >= 3 else None
        if not match or not format_of(parts[-1]):
            continue
        period = f"{match[1]}-{match[2]}"
        folder = "/".join(parts[:2])
        export = months.get(period)
        if export is None:
            export = months[period] = Export(export_name, period, kind, folder,
                                             source.describe(folder))
        elif export.folder != folder:
            export.problem = (f"{source.describe(export.folder)} and {source.describe(folder)} "
                              f"are both {period}: keep one folder per billing month")
        export.files.append(obj)
    if not months:
        raise GcpError(f"{source.describe(export_name)}: no billing months of table "
                       f"{export_name!r} (expected {export_name}/YYYY-MM/*.parquet or *.json, "
                       "as README.md's EXPORT DATA writes them)")
    for export in months.values():
        fmts = {format_of(obj.key) for obj in export.files}
        export.fmt = fmts.pop() if len(fmts) == 1 else "mixed"
        if export.problem:
            continue
        if export.fmt == "avro":
            export.problem = (f"{export.location}: Avro files, which this release does not "
                              "read; export the month again with format='PARQUET'")
        elif export.fmt == "mixed":
            export.problem = (f"{export.location}: files of several formats in one month "
                              "(an export not overwritten?); export it again with "
                              "overwrite=true")
    return [months[p] for p in sorted(months)]


def latest_by_period(exports: list[Export]) -> dict[str, Export]:
    """The export of each month (a month's folder holds only its newest)."""
    return {export.period: export for export in exports}
