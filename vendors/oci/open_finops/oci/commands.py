"""The handlers of ``finops oci`` (state and summary are core's, over OCI's ledger): the
import and the list of billing months, with the options of core's vocabulary."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from open_finops.core.tables import emit, render
from open_finops.core.vocabulary import Options, state_handler, summary_handler
from open_finops.oci import loader, reports, store
from open_finops.oci.errors import UsageError
from open_finops.oci.plugin import GROUPS
from open_finops.oci.sources import open_source, public_url


def _options(config: Any, args: argparse.Namespace) -> Options:
    return Options(config, args, "oci", UsageError,
                   shown=lambda key, value: public_url(value) if key == "endpoint_url" and value
                   else value)


def _source(options: Options):
    return open_source(options.required("source"), options.get("endpoint_url") or None)


def import_command(args: argparse.Namespace, config: Any) -> int:
    from open_finops.core.ledger import report

    options = _options(config, args)
    source = _source(options)
    export_name = options.get("export_name") or None
    kind = reports.choose_kind(options.get("kind"), export_name)
    start, end = options.months()
    database = Path(config.database)
    loader.log_to_stderr(f"importing {kind if kind != 'auto' else 'OCI'} reports from "
                         f"{source.describe()} into {database}")
    return report(loader.import_reports(
        source, export_name, database, kind=kind, start=start, end=end,
        force=bool(options.get("force")), memory_limit=options.get("memory_limit") or None))


def list_command(args: argparse.Namespace, config: Any) -> int:
    options = _options(config, args)
    source = _source(options)
    export_name = options.get("export_name") or None
    kind = reports.choose_kind(options.get("kind"), export_name)
    start, end = options.months()
    source, listing, kind = reports.locate(source, kind)
    found = reports.find(source, kind, listing, options.get("memory_limit") or None)
    loaded = store.LEDGER.loaded_versions(Path(config.database), export_name or kind)
    rows = [(period, kind, len(report.files), report.version_id,
             "unknown" if loaded is None else loaded.get(period) == report.version_id,
             report.problem or None)
            for period, report in found.items()
            if (not start or period >= start) and (not end or period <= end)]
    emit(render(["BILLING_PERIOD", "KIND", "FILES", "VERSION", "LOADED", "PROBLEM"], rows))
    return 0


state_command = state_handler(store.LEDGER)
summary_command = summary_handler(store.LEDGER, GROUPS, missing="no OCI rows")
