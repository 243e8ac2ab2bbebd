"""The handlers of ``finops azure``: resolve options (command line > environment > config file >
default), call the library, print tables on stdout and messages on stderr."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from open_finops.azure import loader, store
from open_finops.azure.errors import UsageError, check_month
from open_finops.azure.exports import check_kind, find, latest
from open_finops.azure.sources import open_source, public_url
from open_finops.core.errors import FinopsError
from open_finops.core.ledger import report
from open_finops.core.tables import emit, render

SECTION = "azure"
logger = logging.getLogger(__name__)
GROUPS = {"service": ("SERVICE", "ServiceName"), "subscription": ("SUBSCRIPTION", "SubAccountName"),
          "region": ("REGION", "RegionId"), "resource-group": ("RESOURCE_GROUP",
                                                               "x_ResourceGroupName")}


def _option(config: Any, args: argparse.Namespace, key: str) -> Any:
    cli = getattr(args, key, None)
    value = config.get(SECTION, key, cli=cli)
    origin = "command line" if cli is not None else config.source(SECTION, key)
    shown = public_url(value) if key == "account_url" and value else value  # never a SAS
    logger.info("%s = %r (from %s)", key, shown, origin)  # -v: where each option came from
    return value


def _required(config: Any, args: argparse.Namespace, key: str) -> str:
    value = _option(config, args, key)
    if value in (None, ""):
        raise UsageError(f"--{key.replace('_', '-')} is required (or set {key} in [azure] of "
                         f"config.toml, or OPEN_FINOPS_AZURE_{key.upper()})")
    return str(value)


def _range(config: Any, args: argparse.Namespace) -> tuple[str | None, str | None]:
    return store.LEDGER.period_range(_option(config, args, "start"), _option(config, args, "end"))


def _source(config: Any, args: argparse.Namespace):
    return open_source(_required(config, args, "source"),
                       _option(config, args, "account_url") or None)


def import_costs(args: argparse.Namespace, config: Any) -> int:
    source = _source(config, args)
    export_name = _required(config, args, "export_name")
    kind = check_kind(_option(config, args, "kind"))
    start, end = _range(config, args)
    database = Path(config.database)
    loader.log_to_stderr(f"importing {export_name} from {source.describe()} into {database}")
    return report(loader.import_costs(
        source, export_name, database, kind=kind, start=start, end=end,
        force=bool(_option(config, args, "force")),
        memory_limit=_option(config, args, "memory_limit") or None))


def list_exports(args: argparse.Namespace, config: Any) -> int:
    source = _source(config, args)
    export_name = _required(config, args, "export_name")
    start, end = _range(config, args)
    runs = find(source, export_name, check_kind(_option(config, args, "kind")))
    runs = [r for r in runs if (not start or r.period >= start) and (not end or r.period <= end)]
    newest = {p: r.version_id for p, r in latest(runs).items()}
    for run in latest(runs).values():
        # What an import would find in the rows, before it fails there: only the run it would
        # load (an older export writes a run a day, each a whole CSV).
        if not run.declared and not run.problem and run.files:
            run.kind, run.problem = loader.inspect(
                source, run, _option(config, args, "memory_limit") or None)
    database = Path(config.database)
    loaded_runs: dict[str, str] | None = {}
    if database.exists():
        try:
            con = store.connect(database, read_only=True)
            try:
                loaded_runs = {entry.billing_period: entry.version
                               for entry in store.LEDGER.loaded(con, export_name)}
            finally:
                con.close()
        except FinopsError as exc:
            loader.log_to_stderr(f"{exc}: LOADED is unknown")
            loaded_runs = None
    rows = [(r.period, r.layout, r.kind, r.fmt, r.run_id, len(r.files),
             newest[r.period] == r.version_id,
             "unknown" if loaded_runs is None else loaded_runs.get(r.period) == r.version_id,
             r.problem or None)
            for r in runs]
    emit(render(["BILLING_PERIOD", "LAYOUT", "KIND", "FORMAT", "RUN_ID", "FILES", "LATEST",
                 "LOADED", "PROBLEM"], rows))
    return 0


def show_state(args: argparse.Namespace, config: Any) -> int:
    month = check_month(_option(config, args, "month"), "--month")
    export_name = _option(config, args, "export_name") or None
    return store.LEDGER.show_state(Path(config.database), export_name, month)


def summary(args: argparse.Namespace, config: Any) -> int:
    month = check_month(_option(config, args, "month"), "--month")
    by = str(_option(config, args, "by") or "service").strip().lower()
    if by not in GROUPS:
        raise UsageError(f"--by: expected one of {', '.join(GROUPS)}, got {by!r}")
    title, column = GROUPS[by]
    return store.LEDGER.summary(Path(config.database), title, column, missing="no Azure rows",
                                x_BillingPeriod=month)
