"""Find the runs of one export at a source; the newest run of a period is its snapshot.

Layouts, below the export's folder ``<directory>/<export>/`` (found as ``<export>`` under the
source, or at any depth when the source is the container or a folder above the directory):

* current exports: ``<YYYYMMDD-YYYYMMDD>/[<YYYYMMDDHHMM>/]<runId>/manifest.json``, which lists
  the run's blobs (``blobs[].blobName``, paths from the container root) with their byte
  counts: exactly those are loaded, and a run is newer than another by
  ``runInfo.submittedTime`` (runIds are random GUIDs); the kind comes from
  ``exportConfig.type``;
* older exports: ``<YYYYMMDD-YYYYMMDD>/<export>_<guid>.csv``, one complete CSV per run, the
  newest by modification time; the kind comes from the header (FOCUS), else from the rows
  where they tell (open_finops.azure.kinds), else ``--kind``.

A run that cannot be loaded (data files without a manifest, a manifest naming absent blobs or
blobs of another size, an unreadable manifest) is still a run: when it is the newest of its
period, the import of that period fails saying why, and the data loaded before stays.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from open_finops.azure.errors import AzureError, UsageError
from open_finops.azure.sources import Obj, Source
from open_finops.core.vocabulary import locate_export

KINDS = ("auto", "actual", "amortized", "focus")
_TYPES = {"actualcost": "actual", "amortizedcost": "amortized", "focuscost": "focus",
          "usage": "actual"}
_PERIOD = re.compile(r"^(\d{4})(0[1-9]|1[0-2])\d{2}-\d{8}$")
MANIFEST = "manifest.json"


@dataclass
class Run:
    export_name: str
    period: str  # YYYY-MM
    layout: str  # "current" or "older"
    run_id: str
    key: str  # the manifest's key, or the older layout's CSV
    location: str  # for messages
    submitted: float  # when the run was written (UTC seconds)
    kind: str = "auto"
    fmt: str = "csv"
    files: list[Obj] = field(default_factory=list)
    problem: str = ""
    declared: bool = False  # the kind is the manifest's (exportConfig.type), not the rows'

    @property
    def version_id(self) -> str:
        """What tells one run from another: unchanged means already loaded."""
        return f"{self.run_id}@{_iso(self.submitted)}"


def check_kind(value: str) -> str:
    kind = str(value or "auto").strip().lower()
    if kind not in KINDS:
        raise UsageError(f"--kind: expected one of {', '.join(KINDS)}, got {value!r}")
    return kind


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def exports_in(keys: Iterable[str]) -> set[tuple[str, str]]:
    """(folder, name) of every export that ``keys`` show: a folder ``<name>`` holding period
    folders ``YYYYMMDD-YYYYMMDD/``."""
    found = set()
    for key in keys:
        parts = key.split("/")
        for i in range(len(parts) - 2):
            if _PERIOD.match(parts[i + 1]):
                found.add(("/".join(parts[:i + 1]), parts[i]))
    return found


def locate(source: Source, export_name: str) -> tuple[Source, dict[str, Obj]]:
    """The source of the export (``<export>/`` at the source, or at any depth below it: the
    container given for its directory) and the listing of its folder."""
    return locate_export(source, export_name, exports_in, max_depth=None)


def find(source: Source, export_name: str, kind: str = "auto", *,
         listing: dict[str, Obj] | None = None) -> list[Run]:
    """Every run of the export, oldest first within each period, periods in order.
    ``listing`` is that of the export's folder at ``source``, from :func:`locate` (which
    moves the source where the export is)."""
    if listing is None:
        source, listing = locate(source, export_name)
    folder, objects = export_name, listing
    by_period: dict[str, dict[str, Obj]] = {}
    for key, obj in objects.items():
        rest = key[len(folder) + 1:].split("/")
        match = _PERIOD.match(rest[0]) if len(rest) > 1 else None
        if match:
            by_period.setdefault(f"{match[1]}-{match[2]}", {})[key] = obj
    if not by_period:
        raise AzureError(f"{source.describe(folder)}: no runs of export {export_name!r} (expected "
                         f"folders {folder}/YYYYMMDD-YYYYMMDD/); check --export-name")
    runs: list[Run] = []
    for period in sorted(by_period):
        runs += sorted(_runs(source, export_name, period, by_period[period], objects, kind),
                       key=lambda run: run.submitted)
    return runs


def _runs(source: Source, export_name: str, period: str, objects: dict[str, Obj],
          listing: dict[str, Obj], kind: str) -> list[Run]:
    runs = []
    manifests = [key for key in objects if key.rsplit("/", 1)[-1] == MANIFEST]
    covered = {key.rsplit("/", 1)[0] for key in manifests}
    loose: dict[str, list[Obj]] = {}
    for key, obj in objects.items():
        folder, _, name = key.rpartition("/")
        if name == MANIFEST or not _data_file(name):
            continue
        if _PERIOD.match(folder.rsplit("/", 1)[-1]):
            runs.append(Run(export_name, period, "older", name.rsplit(".", 1)[0], key,
                            source.describe(key), obj.mtime, kind, "csv", [obj]))
        elif not any(folder == c or folder.startswith(c + "/") for c in covered):
            loose.setdefault(folder, []).append(obj)
    for folder, files in loose.items():
        runs.append(Run(export_name, period, "current", folder.rsplit("/", 1)[-1], folder,
                        source.describe(folder), max(o.mtime for o in files), kind,
                        problem=f"{source.describe(folder)}: data files but no {MANIFEST} "
                                "(a run still being written, or a copy without its manifest)"))
    for key in manifests:
        runs.append(_manifest_run(source, export_name, period, key, objects[key], listing, kind))
    return runs


def _data_file(name: str) -> bool:
    return name.lower().endswith((".csv", ".csv.gz", ".gz", ".parquet"))


def _manifest_run(source: Source, export_name: str, period: str, key: str, obj: Obj,
                  listing: dict[str, Obj], kind: str) -> Run:
    where = source.describe(key)
    run = Run(export_name, period, "current", key.split("/")[-2], key, where, obj.mtime, kind)
    try:
        data = json.loads(source.read_bytes(key))
        info = data.get("runInfo") or {}
        run.run_id = str(info.get("runId") or run.run_id)
        submitted = str(info.get("submittedTime") or "")
        if submitted:
            run.submitted = _parse_time(submitted)
        declared = str((data.get("exportConfig") or {}).get("type") or "")
        blobs = data.get("blobs") or []
        if not isinstance(blobs, list) or not all(isinstance(b, dict) for b in blobs):
            raise ValueError("its blobs are not a list of objects")
    except (ValueError, AttributeError, TypeError) as exc:
        run.problem = f"{where}: not a valid export manifest ({exc})"
        return run
    if declared:
        mapped = _TYPES.get(declared.lower())
        if not mapped:
            run.problem = f"{where}: export type {declared!r} is not cost details or FOCUS"
            return run
        if kind not in ("auto", mapped):
            run.problem = f"{where}: the export is {mapped}, not --kind {kind}"
            return run
        run.kind = mapped
        run.declared = True
    missing, wrong = [], []
    for blob in blobs:
        name = str(blob.get("blobName") or "")
        found = _locate(name, listing)
        if found is None:
            missing.append(name)
            continue
        size = blob.get("byteCount")
        if isinstance(size, int) and size != found.size:
            wrong.append(f"{source.describe(found.key)} ({found.size} bytes, the manifest "
                         f"says {size})")
        run.files.append(found)
    fmts = {"parquet" if o.key.lower().endswith(".parquet") else "csv" for o in run.files}
    run.fmt = fmts.pop() if len(fmts) == 1 else ("mixed" if fmts else "csv")
    if missing:
        run.problem = (f"{where} lists {len(missing)} blob(s) that do not exist: "
                       f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
    elif wrong:
        run.problem = f"{where}: blob of another size than listed: {'; '.join(wrong[:3])}"
    elif run.fmt == "mixed":
        run.problem = f"{where} lists CSV and Parquet blobs together"
    return run


def _locate(blob_name: str, listing: dict[str, Obj]) -> Obj | None:
    """The listed object a manifest's blobName (from the container root) stands for: the
    source's keys are relative to the source, a folder that may lie below the root."""
    parts = blob_name.strip("/").split("/")
    for i in range(len(parts)):
        obj = listing.get("/".join(parts[i:]))
        if obj is not None:
            return obj
    return None


def _parse_time(text: str) -> float:
    text = text.strip().replace("Z", "+00:00")
    match = re.match(r"^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", text)
    if match:  # .NET writes 7 fractional digits; Python reads up to 6
        text = match[1] + (match[2] or "")[:7] + match[3]
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def latest(runs: list[Run]) -> dict[str, Run]:
    """The newest run of each period."""
    newest: dict[str, Run] = {}
    for run in runs:
        if run.period not in newest or run.submitted >= newest[run.period].submitted:
            newest[run.period] = run
    return newest
