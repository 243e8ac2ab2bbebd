"""The handlers of ``finops azure`` (state and summary are core's, over Azure's ledger): the
import and the list of runs, with the options of core's vocabulary."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from open_finops.azure import loader, store
from open_finops.azure.errors import UsageError
from open_finops.azure.plugin import GROUPS
from open_finops.azure.exports import check_kind, find, latest, locate
from open_finops.azure.sources import open_source, public_url
from open_finops.core.ledger import report
from open_finops.core.tables import emit, render
from open_finops.core.vocabulary import Options, state_handler, summary_handler


def _options(config: Any, args: argparse.Namespace) -> Options:
    # -v shows where each option came from, never a SAS.
    return Options(config, args, "azure", UsageError,
                   shown=lambda key, value: public_url(value) if key == "account_url" and value
                   else value)


def _source(value: str, options: Options):
    return open_source(value, options.get("account_url") or None)


def import_command(args: argparse.Namespace, config: Any) -> int:
    options = _options(config, args)
    source_value = options.required("source")
    export_name = options.required("export_name")
    kind = check_kind(options.get("kind"))
    start, end = options.months()
    source = _source(source_value, options)
    database = Path(config.database)
    loader.log_to_stderr(f"importing {export_name} from {source.describe()} into {database}")
    return report(loader.import_costs(
        source, export_name, database, kind=kind, start=start, end=end,
        force=bool(options.get("force")), memory_limit=options.get("memory_limit") or None))


def list_command(args: argparse.Namespace, config: Any) -> int:
    options = _options(config, args)
    source_value = options.required("source")
    export_name = options.required("export_name")
    start, end = options.months()
    source, listing = locate(_source(source_value, options), export_name)
    runs = find(source, export_name, check_kind(options.get("kind")), listing=listing)
    runs = [r for r in runs if (not start or r.period >= start) and (not end or r.period <= end)]
    newest = {p: r.version_id for p, r in latest(runs).items()}
    for run in latest(runs).values():
        # What an import would find in the rows, before it fails there: only the run it would
        # load (an older export writes a run a day, each a whole CSV).
        if not run.declared and not run.problem and run.files:
            run.kind, run.problem = loader.inspect(
                source, run, options.get("memory_limit") or None)
    loaded_runs = store.LEDGER.loaded_versions(Path(config.database), export_name)
    rows = [(r.period, r.layout, r.kind, r.fmt, r.run_id, len(r.files),
             newest[r.period] == r.version_id,
             "unknown" if loaded_runs is None else loaded_runs.get(r.period) == r.version_id,
             r.problem or None)
            for r in runs]
    emit(render(["BILLING_PERIOD", "LAYOUT", "KIND", "FORMAT", "RUN_ID", "FILES", "LATEST",
                 "LOADED", "PROBLEM"], rows))
    return 0


state_command = state_handler(store.LEDGER)
summary_command = summary_handler(store.LEDGER, GROUPS, missing="no Azure rows")
