"""The handlers of ``finops aws``: options resolved by core's vocabulary (command line >
environment > config file > default), the library called, tables on stdout and messages on
stderr."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from open_finops.aws import loader, store
from open_finops.aws.errors import UsageError
from open_finops.aws.plugin import GROUPS
from open_finops.aws.manifests import check_cur_version, find, latest, locate, versions
from open_finops.aws.sources import open_source
from open_finops.core.ledger import report
from open_finops.core.tables import emit, render
from open_finops.core.vocabulary import Options, state_handler, summary_handler


def _options(config: Any, args: argparse.Namespace) -> Options:
    return Options(config, args, "aws", UsageError)


def _export(options: Options) -> tuple[str, str, str, str | None, str | None]:
    """What import and list read: source, export name, CUR version, first and last month."""
    source_value = options.required("source")
    export_name = options.required("export_name")
    cur_version = check_cur_version(str(options.get("cur_version") or "auto"))
    return (source_value, export_name, cur_version, *options.months())


def import_command(args: argparse.Namespace, config: Any) -> int:
    options = _options(config, args)
    source_value, export_name, cur_version, start, end = _export(options)
    source = open_source(source_value)
    force = bool(options.get("force"))
    database = Path(config.database)
    loader.log_to_stderr(f"importing {export_name} from {source.describe()} into {database}")
    return report(loader.import_cur(
        source, export_name, database, cur_version=cur_version, start=start, end=end,
        force=force, memory_limit=options.get("memory_limit") or None))


def list_command(args: argparse.Namespace, config: Any) -> int:
    source_value, export_name, cur_version, start, end = _export(_options(config, args))
    source, listing = locate(open_source(source_value), export_name)
    manifests = find(source, export_name, cur_version, listing=listing)
    newest = {period: m.version_id for period, m in latest(manifests).items()}
    loaded_versions = store.LEDGER.loaded_versions(Path(config.database), export_name)
    rows = []
    for manifest in versions(manifests):
        period = manifest.period
        if period and ((start and period < start) or (end and period > end)):
            continue
        rows.append((period, manifest.kind, manifest.fmt or None, manifest.version_id,
                     len(manifest.files), newest.get(period or "") == manifest.version_id,
                     "unknown" if loaded_versions is None
                     else loaded_versions.get(period or "") == manifest.version_id,
                     manifest.problem()))
    headers = ["BILLING_PERIOD", "CUR", "FORMAT", "VERSION_ID", "FILES", "LATEST", "LOADED"]
    if any(row[-1] for row in rows):
        headers.append("PROBLEM")
    else:
        rows = [row[:-1] for row in rows]
    emit(render(headers, rows))
    return 0


state_command = state_handler(store.LEDGER, old_month_key="billing_period")
# A commitment's unused part is a row of its own in FOCUS, not a line item.
summary_command = summary_handler(store.LEDGER, GROUPS, missing="no focus view",
                                  line_items="count(*) FILTER (NOT x_UnusedCommitment)")
