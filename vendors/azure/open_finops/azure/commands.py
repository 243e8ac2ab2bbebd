"""The handlers of ``finops azure``: resolve options (command line > environment > config file >
default), call the library, print tables on stdout and messages on stderr."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from open_finops.azure import loader, store
from open_finops.azure.errors import AzureError, UsageError, check_month, one_line
from open_finops.azure.exports import check_kind, find, latest
from open_finops.azure.sources import open_source
from open_finops.core.errors import FinopsError
from open_finops.core.tables import emit, render

SECTION = "azure"
GROUPS = {"service": ("SERVICE", "ServiceName"), "subscription": ("SUBSCRIPTION", "SubAccountName"),
          "region": ("REGION", "RegionId"), "resource-group": ("RESOURCE_GROUP",
                                                               "x_ResourceGroupName")}


def _option(config: Any, args: argparse.Namespace, key: str) -> Any:
    return config.get(SECTION, key, cli=getattr(args, key, None))


def _required(config: Any, args: argparse.Namespace, key: str) -> str:
    value = _option(config, args, key)
    if value in (None, ""):
        raise UsageError(f"--{key.replace('_', '-')} is required (or set {key} in [azure] of "
                         f"config.toml, or OPEN_FINOPS_AZURE_{key.upper()})")
    return str(value)


def _range(config: Any, args: argparse.Namespace) -> tuple[str | None, str | None]:
    start = check_month(_option(config, args, "start"), "--start")
    end = check_month(_option(config, args, "end"), "--end")
    if start and end and start > end:
        raise UsageError(f"--start {start} is after --end {end}")
    return start, end


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
    results = loader.import_costs(source, export_name, database, kind=kind, start=start,
                                  end=end, force=bool(_option(config, args, "force")),
                                  memory_limit=_option(config, args, "memory_limit") or None)
    counts = {s: sum(r.status == s for r in results) for s in ("loaded", "skipped", "failed")}
    loader.log_to_stderr(f"done: {counts['loaded']} loaded, {counts['skipped']} up to date, "
                         f"{counts['failed']} failed")
    for result in results:
        if result.status == "failed":
            print(f"finops: error: {result.export_name} {result.period}: {result.message}",
                  file=sys.stderr)
    return 1 if counts["failed"] else 0


def list_exports(args: argparse.Namespace, config: Any) -> int:
    source = _source(config, args)
    export_name = _required(config, args, "export_name")
    start, end = _range(config, args)
    runs = find(source, export_name, check_kind(_option(config, args, "kind")))
    newest = {p: r.version_id for p, r in latest(runs).items()}
    database = Path(config.database)
    loaded_runs: dict[str, str] | None = {}
    if database.exists():
        try:
            con = store.connect(database, read_only=True)
            try:
                loaded_runs = {row[1]: row[4] for row in store.loaded(con, export_name)}
            finally:
                con.close()
        except FinopsError as exc:
            loader.log_to_stderr(f"{exc}: LOADED is unknown")
            loaded_runs = None
    rows = [(r.period, r.layout, r.kind, r.fmt, r.run_id, len(r.files),
             newest[r.period] == r.version_id,
             "unknown" if loaded_runs is None else loaded_runs.get(r.period) == r.version_id,
             r.problem or None)
            for r in runs if (not start or r.period >= start) and (not end or r.period <= end)]
    emit(render(["BILLING_PERIOD", "LAYOUT", "KIND", "FORMAT", "RUN_ID", "FILES", "LATEST",
                 "LOADED", "PROBLEM"], rows))
    return 0


def show_state(args: argparse.Namespace, config: Any) -> int:
    month = check_month(_option(config, args, "month"), "--month")
    export_name = _option(config, args, "export_name") or None
    con = store.connect(Path(config.database), read_only=True)
    try:
        loaded = store.loaded(con, export_name, month)
        history = store.history(con, export_name, month)
    finally:
        con.close()
    emit("\n".join([
        "Loaded:",
        render(["EXPORT", "BILLING_PERIOD", "KIND", "FORMAT", "RUN", "ROWS", "FILES",
                "LOADED_AT"], [(r[0], r[1], r[2], r[3], r[4], r[7], r[8], r[9])
                               for r in loaded]),
        "", "History:",
        render(["EXPORT", "BILLING_PERIOD", "KIND", "RUN", "STATUS", "ROWS", "FILES", "STARTED",
                "FINISHED", "ERROR"], history)]))
    if not loaded and not history:
        loader.log_to_stderr("nothing imported yet" + (f" for {month}" if month else ""))
    return 0


def summary(args: argparse.Namespace, config: Any) -> int:
    import duckdb

    month = check_month(_option(config, args, "month"), "--month")
    by = str(_option(config, args, "by") or "service").strip().lower()
    if by not in GROUPS:
        raise UsageError(f"--by: expected one of {', '.join(GROUPS)}, got {by!r}")
    title, column = GROUPS[by]
    clause, params = store.where(x_BillingPeriod=month)
    database = Path(config.database)
    con = store.connect(database, read_only=True)
    try:
        rows = con.execute(
            f"SELECT coalesce({column}, '(none)') AS grp, BillingCurrency, sum(BilledCost), "
            f"sum(EffectiveCost), count(*) FROM {store.SCHEMA}.focus {clause} GROUP BY ALL "
            f"ORDER BY sum(BilledCost) DESC NULLS LAST, grp", params).fetchall()
    except duckdb.CatalogException:
        raise AzureError(f"no Azure rows in {database}: import an export first with "
                         "'finops azure import-costs'") from None
    except duckdb.Error as exc:
        raise AzureError(f"{database}: {one_line(exc)}") from None
    finally:
        con.close()
    if not rows:
        loader.log_to_stderr("no cost data" + (f" for {month}" if month else ""))
    table = list(rows)
    for currency in sorted({row[1] for row in rows if row[1]}):
        mine = [row for row in rows if row[1] == currency]
        table.append(("TOTAL", currency, sum(r[2] or 0.0 for r in mine),
                      sum(r[3] or 0.0 for r in mine), sum(r[4] for r in mine)))
    emit(render([title, "CURRENCY", "BILLED_COST", "EFFECTIVE_COST", "LINE_ITEMS"], table))
    return 0
