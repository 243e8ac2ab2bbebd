"""The handlers of ``finops gcp`` (state and summary are core's, over Google Cloud's ledger):
the import and the list of billing months, with the options of core's vocabulary."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from open_finops.core.ledger import report
from open_finops.core.tables import emit, render
from open_finops.core.vocabulary import Options, state_handler, summary_handler
from open_finops.gcp import loader, store
from open_finops.gcp.errors import UsageError
from open_finops.gcp.exports import find, kind_of, locate
from open_finops.gcp.plugin import GROUPS
from open_finops.gcp.sources import open_source


def _options(config: Any, args: argparse.Namespace) -> Options:
    return Options(config, args, "gcp", UsageError)


def import_command(args: argparse.Namespace, config: Any) -> int:
    options = _options(config, args)
    source_value = options.required("source")
    export_name = options.required("export_name")
    kind_of(export_name)
    start, end = options.months()
    source = open_source(source_value)
    database = Path(config.database)
    loader.log_to_stderr(f"importing {export_name} from {source.describe()} into {database}")
    return report(loader.import_costs(
        source, export_name, database, start=start, end=end,
        force=bool(options.get("force")), memory_limit=options.get("memory_limit") or None))


def list_command(args: argparse.Namespace, config: Any) -> int:
    options = _options(config, args)
    source_value = options.required("source")
    export_name = options.required("export_name")
    kind_of(export_name)
    start, end = options.months()
    source, listing = locate(open_source(source_value), export_name)
    exports = [e for e in find(source, export_name, listing=listing)
               if (not start or e.period >= start) and (not end or e.period <= end)]
    loaded = store.LEDGER.loaded_versions(Path(config.database), export_name)
    rows = [(e.period, e.kind, e.fmt, len(e.files), sum(o.size for o in e.files),
             e.version_id, "unknown" if loaded is None else loaded.get(e.period) == e.version_id,
             e.problem or None)
            for e in exports]
    emit(render(["BILLING_PERIOD", "KIND", "FORMAT", "FILES", "BYTES", "VERSION", "LOADED",
                 "PROBLEM"], rows))
    return 0


state_command = state_handler(store.LEDGER)
summary_command = summary_handler(store.LEDGER, GROUPS, missing="no Google Cloud rows")
