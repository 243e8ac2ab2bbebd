"""Find and read the manifests of one export; the manifest says what to load.

Layouts, relative to the source (``s3://bucket/prefix`` or the folder standing for it):

* legacy CUR, "create new report versions": ``<name>/20240101-20240201/<name>-Manifest.json``
  is the latest version of the period (AWS overwrites it on every delivery) and names files
  under ``<name>/20240101-20240201/<assemblyId>/``, where a copy of it also stays;
* legacy CUR, "overwrite": the files beside the manifest, in the range folder or, for Parquet,
  in ``<name>/<name>/year=2024/month=1/``;
* CUR 2.0: ``<name>/metadata/BILLING_PERIOD=2024-01/[...]/<name>-Manifest.json`` naming files
  under ``<name>/data/BILLING_PERIOD=2024-01/``;
* AWS's FOCUS exports (Data Exports "FOCUS 1.0 with AWS columns", and later FOCUS versions):
  the CUR 2.0 layout. Their manifest is told from a CUR 2.0 one by its content: its columns
  are FOCUS columns (``BilledCost``, ``ChargePeriodStart``) or its query reads a ``FOCUS_``
  table.

Every manifest is found by its name, ``<name>-Manifest.json``, at any depth below the export
folder, so no path is matched with a pattern built from the name. The billing period comes
from the manifest (``billingPeriod.start``), the path being only a fallback for a manifest that
cannot be read. The newest manifest of a period is the range-folder manifest of a legacy
report when there is one, else the most recently modified. That ranking needs only the key and
the time of each manifest, so an import reads just the newest of each period: a report that
has kept years of versions costs one GET per period, not one per version.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from open_finops.aws.errors import AwsError, UsageError
from open_finops.aws.sources import Obj, Source, suffix_of
from open_finops.core.vocabulary import locate_export

CUR_VERSIONS = ("auto", "v1", "v2", "focus")
#: What each kind is called in messages.
KINDS = {"v1": "legacy", "v2": "CUR 2.0", "focus": "FOCUS"}
_FOCUS_MARKERS = {"BilledCost", "ChargePeriodStart"}
_MANIFEST_SUFFIX = "-Manifest.json"
#: The version of a manifest that names none: its digest.
_DIGEST = "sha1:"
_RANGE = re.compile(r"^(\d{4})(\d{2})\d{2}-\d{8}$")
_PERIOD_IN_PATH = (
    re.compile(r"(?:^|/)(\d{4})(\d{2})\d{2}-\d{8}(?:/|$)"),
    re.compile(r"(?:^|/)BILLING_PERIOD=(\d{4})-(\d{2})(?:/|$)"),
    re.compile(r"(?:^|/)year=(\d{4})/month=(\d{1,2})(?:/|$)"),
)
_PERIOD_VALUE = re.compile(r"^(\d{4})-?(\d{2})")


@dataclass
class Manifest:
    export_name: str
    cur_version: str  # "v1" (legacy CUR), "v2" (CUR 2.0) or "focus" (a FOCUS export)
    key: str  # source-relative key of the manifest
    location: str  # the manifest's full path or s3:// URI, for messages
    mtime: float
    period: str | None = None  # YYYY-MM
    version_id: str = ""  # assemblyId or executionId
    files: list[Obj] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # listed files that do not exist
    fmt: str = ""  # "csv" or "parquet"
    top_level: bool = False
    error: str | None = None  # why this manifest cannot be loaded

    @property
    def made_up_version(self) -> bool:
        """The manifest gives no assemblyId or executionId: its version is its digest."""
        return self.version_id.startswith(_DIGEST)

    @property
    def kind(self) -> str:
        return KINDS[self.cur_version]

    def problem(self) -> str | None:
        """Why loading this manifest must fail, in one line, or None."""
        if self.error:
            return self.error
        if self.missing:
            more = f" (and {len(self.missing) - 1} more)" if len(self.missing) > 1 else ""
            return f"{self.location} lists a file that does not exist: {self.missing[0]}{more}"
        return None


def exports_in(keys: Iterable[str]) -> set[tuple[str, str]]:
    """(folder, name) of every export whose manifest is among ``keys``: a ``<name>-Manifest.json``
    below a folder ``<name>``."""
    found = set()
    for key in keys:
        parts = key.split("/")
        if not parts[-1].endswith(_MANIFEST_SUFFIX):
            continue
        name = parts[-1][:-len(_MANIFEST_SUFFIX)]
        if name in parts[:-1]:
            found.add(("/".join(parts[:parts.index(name) + 1]), name))
    return found


def locate(source: Source, export_name: str) -> tuple[Source, dict[str, Obj]]:
    """The source of the export (``<export>/`` at the source, or one or two folders below it:
    the bucket's root given for the report's prefix) and the listing of its folder."""
    _check_name(export_name)
    return locate_export(source, export_name, exports_in, max_depth=2)


def _check_name(export_name: str) -> None:
    if not export_name or "/" in export_name:
        raise UsageError(f"--export-name: invalid export name {export_name!r}")


def find(source: Source, export_name: str, cur_version: str = "auto", *,
         newest_only: bool = False, listing: dict[str, Obj] | None = None) -> list[Manifest]:
    """Every manifest of the export, read (with ``newest_only``, only the newest of each
    billing period named in the paths, and any whose path names none); an AwsError when
    there is none. ``listing`` is that of the export's folder at ``source``, from
    :func:`locate` (which moves the source where the export is)."""
    _check_name(export_name)
    cur_version = check_cur_version(cur_version)
    if listing is None:
        source, listing = locate(source, export_name)
    file_name = f"{export_name}-Manifest.json"
    found: dict[str, list[Obj]] = {"v1": [], "v2": []}
    for key, obj in listing.items():
        relative = key[len(export_name) + 1:]
        if relative.rsplit("/", 1)[-1] != file_name:
            continue
        top = relative.split("/", 1)[0]
        if top == "metadata":
            found["v2"].append(obj)
        elif top != "data":
            found["v1"].append(obj)
    folder = source.describe(export_name) + "/"
    wanted = cur_version
    if cur_version == "focus":
        cur_version = "v2"  # the same layout; the content tells them apart
    if cur_version == "auto":
        if found["v1"] and found["v2"]:
            raise AwsError(f"both legacy CUR and CUR 2.0 manifests under {folder}: "
                           "choose one with --cur-version v1 or v2")
        cur_version = "v2" if found["v2"] else "v1"
    if not found[cur_version]:
        what = "FOCUS " if wanted == "focus" else {"v1": "legacy CUR ", "v2": "CUR 2.0 "}[
            cur_version]
        raise AwsError(f"no {what}manifest {file_name} under {folder}")
    objects = sorted(found[cur_version], key=lambda o: o.key)
    if newest_only:
        objects = _newest_by_path(objects, export_name, cur_version)
    # Manifests are small: reading several at once hides S3's latency.
    with ThreadPoolExecutor(max_workers=8) as pool:
        manifests = list(pool.map(
            lambda obj: _read(source, listing, export_name, cur_version, obj), objects))
    for manifest in manifests:
        if wanted in ("v2", "focus") and manifest.cur_version != wanted and not manifest.error:
            manifest.error = (f"{manifest.location} is a {KINDS[manifest.cur_version]} export, "
                              f"not {KINDS[wanted]}: use --cur-version auto")
    return manifests


def check_cur_version(value: str) -> str:
    """``value`` as one of CUR_VERSIONS (any case), or a UsageError."""
    version = value.strip().lower()
    if version not in CUR_VERSIONS:
        raise UsageError(f"--cur-version: expected one of {', '.join(CUR_VERSIONS)}, "
                         f"got {value!r}")
    return version


def latest(manifests: list[Manifest]) -> dict[str, Manifest]:
    """The newest manifest of each billing period, by period."""
    newest: dict[str, Manifest] = {}
    for manifest in manifests:
        if manifest.period is None:
            continue
        current = newest.get(manifest.period)
        if current is None or _rank(manifest) > _rank(current):
            newest[manifest.period] = manifest
    return dict(sorted(newest.items()))


def versions(manifests: list[Manifest]) -> list[Manifest]:
    """One manifest per (period, version), oldest first within a period: a legacy report's
    range-folder manifest is a copy of one in its assembly folder."""
    chosen: dict[tuple[str, str], Manifest] = {}
    for manifest in manifests:
        ident = (manifest.period or "", manifest.version_id or manifest.key)
        if ident not in chosen or _rank(manifest) > _rank(chosen[ident]):
            chosen[ident] = manifest
    return sorted(chosen.values(), key=lambda m: (m.period or "", _rank(m)))


def _rank(manifest: Manifest) -> tuple:
    return (manifest.top_level, manifest.mtime, manifest.key)


def _is_top_level(relative: str, cur_version: str) -> bool:
    """A legacy report's range-folder manifest: the latest version of its period."""
    parts = relative.split("/")
    return cur_version == "v1" and len(parts) == 2 and bool(_RANGE.match(parts[0]))


def _newest_by_path(objects: list[Obj], export_name: str, cur_version: str) -> list[Obj]:
    best: dict[str, tuple[tuple, Obj]] = {}
    unplaced = []
    for obj in objects:
        relative = obj.key[len(export_name) + 1:]
        period = _period_from_path(relative)
        if period is None:
            unplaced.append(obj)
            continue
        rank = (_is_top_level(relative, cur_version), obj.mtime, obj.key)
        if period not in best or rank > best[period][0]:
            best[period] = (rank, obj)
    return sorted([obj for _rank, obj in best.values()] + unplaced, key=lambda o: o.key)


def _read(source: Source, listing: dict[str, Obj], export_name: str, cur_version: str,
          obj: Obj) -> Manifest:
    relative = obj.key[len(export_name) + 1:]
    manifest = Manifest(
        export_name=export_name, cur_version=cur_version, key=obj.key,
        location=source.describe(obj.key), mtime=obj.mtime, period=_period_from_path(relative),
        top_level=_is_top_level(relative, cur_version),
    )
    raw = source.read_bytes(obj.key)
    manifest.version_id = _DIGEST + hashlib.sha1(raw).hexdigest()[:16]
    try:
        data = json.loads(raw)
    except ValueError as exc:
        manifest.error = f"{manifest.location}: not a valid manifest (invalid JSON: {exc})"
        return manifest
    if not isinstance(data, dict):
        manifest.error = f"{manifest.location}: not a valid manifest (not a JSON object)"
        return manifest
    manifest.period = _period_from_manifest(data) or manifest.period
    if manifest.period is None:
        manifest.error = f"{manifest.location}: no billingPeriod in the manifest"
        return manifest
    ident = data.get("assemblyId" if cur_version == "v1" else "executionId") \
        or data.get("assemblyId") or data.get("executionId")
    if ident:
        manifest.version_id = str(ident)
    if cur_version == "v2" and _is_focus(data):
        manifest.cur_version = "focus"
    references = data.get("dataFiles" if cur_version == "v2" else "reportKeys")
    if references is None:
        references = data.get("reportKeys", data.get("dataFiles"))
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        field_name = "dataFiles" if cur_version == "v2" else "reportKeys"
        manifest.error = f"{manifest.location}: not a valid manifest (no {field_name} list)"
        return manifest
    for reference in references:
        key = _resolve(reference, listing, source, export_name)
        if key is None:
            # As the manifest names it: joined to the source it would repeat the prefix.
            manifest.missing.append(reference)
        else:
            manifest.files.append(listing[key])
    manifest.fmt, manifest.error = _format(manifest, data)
    return manifest


def _is_focus(data: dict) -> bool:
    """Whether a Data Exports manifest is that of a FOCUS export rather than CUR 2.0."""
    columns = data.get("columns")
    names = {c.get("name") for c in columns if isinstance(c, dict)} \
        if isinstance(columns, list) else set()
    query = data.get("dataQuery", data.get("query", {}))
    statement = query.get("queryStatement", "") if isinstance(query, dict) else ""
    return _FOCUS_MARKERS <= names or "FROM FOCUS_" in str(statement).upper()


def _format(manifest: Manifest, data: dict) -> tuple[str, str | None]:
    kinds = set()
    for obj in manifest.files:
        suffix = suffix_of(obj.key)
        if suffix == ".zip":
            return "zip", (f"{manifest.location}: ZIP-compressed reports are not supported; "
                           "set the report's compression to GZIP or Parquet")
        kinds.add("parquet" if suffix.endswith(".parquet") else "csv")
    if len(kinds) > 1:
        return "mixed", f"{manifest.location}: lists both CSV and Parquet files"
    if kinds:
        return kinds.pop(), None
    declared = f"{data.get('contentType', '')} {data.get('format', '')}".lower()
    return ("parquet" if "parquet" in declared else "csv"), None


def _resolve(reference: str, listing: dict[str, Obj], source: Source,
             export_name: str) -> str | None:
    """The source-relative key of a file named by a manifest: legacy reportKeys are keys in
    the bucket, CUR 2.0 dataFiles are s3:// URIs. A local folder or a copied bucket may stand
    for a different prefix, so the key is also tried from each ``<export name>/`` on."""
    for key in _candidates(reference, source, export_name):
        if key in listing:
            return key
    return None


def _candidates(reference: str, source: Source, export_name: str) -> list[str]:
    key = reference
    if key.startswith("s3://"):
        key = key[len("s3://"):].partition("/")[2]
    key = key.lstrip("/")
    candidates = []
    prefix = source.root_prefix
    if not prefix:
        candidates.append(key)
    elif key.startswith(prefix + "/"):
        candidates.append(key[len(prefix) + 1:])
    parts = key.split("/")
    candidates += ["/".join(parts[i:]) for i, part in enumerate(parts) if part == export_name]
    return candidates


def _period_from_manifest(data: dict) -> str | None:
    period = data.get("billingPeriod")
    if isinstance(period, dict):
        period = period.get("start")
    if not isinstance(period, str):
        return None
    match = _PERIOD_VALUE.match(period.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return f"{match.group(1)}-{match.group(2)}"


def _period_from_path(relative: str) -> str | None:
    for pattern in _PERIOD_IN_PATH:
        match = pattern.search(relative)
        if match and 1 <= int(match.group(2)) <= 12:
            return f"{match.group(1)}-{int(match.group(2)):02d}"
    return None
