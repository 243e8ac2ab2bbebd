"""The handlers of ``finops aws``: resolve options (command line > environment > config file >
default), call the library, print tables on stdout and messages on stderr."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from open_finops.aws import loader, store
from open_finops.aws.errors import UsageError, check_month
from open_finops.aws.manifests import check_cur_version, find, latest, versions
from open_finops.aws.sources import open_source
from open_finops.core.errors import FinopsError
from open_finops.core.ledger import report
from open_finops.core.tables import emit, render

SECTION = "aws"
logger = logging.getLogger(__name__)
GROUPS = {
    "service": ("SERVICE", "ServiceName"),
    "account": ("ACCOUNT", "SubAccountId"),
    "region": ("REGION", "RegionId"),
}


def _option(config: Any, args: argparse.Namespace, key: str) -> Any:
    cli = getattr(args, key, None)
    value = config.get(SECTION, key, cli=cli)
    origin = "command line" if cli is not None else config.source(SECTION, key)
    logger.info("%s = %r (from %s)", key, value, origin)
    return value


def _required(config: Any, args: argparse.Namespace, key: str) -> str:
    value = _option(config, args, key)
    if value in (None, ""):
        option = "--" + key.replace("_", "-")
        raise UsageError(f"{option} is required (or set {key} in [aws] of config.toml, or "
                         f"OPEN_FINOPS_AWS_{key.upper()})")
    return str(value)


def _cur_version(config: Any, args: argparse.Namespace) -> str:
    return check_cur_version(str(_option(config, args, "cur_version") or "auto"))


def _period_range(config: Any, args: argparse.Namespace) -> tuple[str | None, str | None]:
    return store.LEDGER.period_range(_option(config, args, "start"), _option(config, args, "end"))


def _database(config: Any) -> Path:
    return Path(config.database)


def import_cur(args: argparse.Namespace, config: Any) -> int:
    source_value = _required(config, args, "source")
    export_name = _required(config, args, "export_name")
    cur_version = _cur_version(config, args)
    start, end = _period_range(config, args)
    force = bool(_option(config, args, "force"))
    source = open_source(source_value)
    database = _database(config)
    loader.log_to_stderr(f"importing {export_name} from {source.describe()} into {database}")
    return report(loader.import_cur(
        source, export_name, database, cur_version=cur_version, start=start, end=end,
        force=force, memory_limit=_option(config, args, "memory_limit") or None))


def list_manifests(args: argparse.Namespace, config: Any) -> int:
    source_value = _required(config, args, "source")
    export_name = _required(config, args, "export_name")
    cur_version = _cur_version(config, args)
    start, end = _period_range(config, args)
    manifests = find(open_source(source_value), export_name, cur_version)
    newest = {period: m.version_id for period, m in latest(manifests).items()}
    loaded_versions = _loaded_versions(_database(config), export_name)
    rows = []
    unknown = loaded_versions is None
    for manifest in versions(manifests):
        period = manifest.period
        if period and ((start and period < start) or (end and period > end)):
            continue
        rows.append((period, manifest.kind, manifest.fmt or None, manifest.version_id,
                     len(manifest.files), newest.get(period or "") == manifest.version_id,
                     "unknown" if unknown
                     else loaded_versions.get(period or "") == manifest.version_id,
                     manifest.problem()))
    headers = ["BILLING_PERIOD", "CUR", "FORMAT", "VERSION_ID", "FILES", "LATEST", "LOADED"]
    if any(row[-1] for row in rows):
        headers.append("PROBLEM")
    else:
        rows = [row[:-1] for row in rows]
    emit(render(headers, rows))
    return 0


def _loaded_versions(database: Path, export_name: str) -> dict[str, str] | None:
    """Period -> loaded version; None when the database cannot be read now (another
    process holds it during an import): the manifests are listed all the same."""
    if not database.exists():
        return {}
    try:
        con = store.connect(database, read_only=True)
    except FinopsError as exc:  # core's connect: locked, or written by a newer DuckDB
        loader.log_to_stderr(f"{exc}: LOADED is unknown")
        return None
    try:
        return {entry.billing_period: entry.version
                for entry in store.LEDGER.loaded(con, export_name)}
    finally:
        con.close()


def show_state(args: argparse.Namespace, config: Any) -> int:
    period = check_month(_option(config, args, "billing_period"), "--billing-period")
    export_name = _option(config, args, "export_name") or None
    return store.LEDGER.show_state(_database(config), export_name, period)


def summary(args: argparse.Namespace, config: Any) -> int:
    month = check_month(_option(config, args, "month"), "--month")
    by = str(_option(config, args, "by") or "service").strip().lower()
    if by not in GROUPS:
        raise UsageError(f"--by: expected one of {', '.join(GROUPS)}, got {by!r}")
    export_name = _option(config, args, "export_name") or None
    title, column = GROUPS[by]
    # A commitment's unused part is a row of its own in FOCUS, not a line item.
    return store.LEDGER.summary(
        _database(config), title, column, missing="no focus view",
        line_items="count(*) FILTER (NOT x_UnusedCommitment)", x_BillingPeriod=month,
        x_ExportName=export_name)
