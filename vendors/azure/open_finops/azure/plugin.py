"""The ``finops azure`` commands, registered with core through the ``open_finops.vendors``
entry point. Importing this module is cheap: DuckDB and the Azure SDK load with a command."""
from __future__ import annotations

import argparse
from typing import Any

from open_finops.core.plugins import VendorPlugin, subcommands

#: Every key of ``[azure]`` in config.toml (and OPEN_FINOPS_AZURE_<KEY>), with its default. A
#: command-line option wins over the environment, which wins over the file.
CONFIG_DEFAULTS: dict[str, Any] = {
    "source": None,  # a folder laid out like the container, or az://CONTAINER/PATH
    "account_url": None,  # https://ACCOUNT.blob.core.windows.net for az:// sources
    "export_name": None,  # the export's name (its folder)
    "kind": "auto",  # auto (the manifest, a FOCUS header or the rows), actual, amortized, focus
    "start": None,  # first billing period to import, YYYY-MM
    "end": None,  # last billing period to import, YYYY-MM
    "force": False,  # reload periods whose run is already loaded
    "month": None,  # show-state and summary: only this billing period
    "by": "service",  # summary: service, subscription, region or resource-group
    "memory_limit": None,  # DuckDB memory_limit during imports, e.g. "4GB" (default 512MB)
}


def _source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", metavar="PATH|az://CONTAINER/PATH",
                        help="a folder laid out like the storage container, or az://")
    parser.add_argument("--account-url", metavar="URL",
                        help="the storage account's blob endpoint, for az:// sources")
    parser.add_argument("--export-name", metavar="NAME", help="the export's name")
    parser.add_argument("--kind", choices=("auto", "actual", "amortized", "focus"),
                        help="what the export holds (default auto: its manifest, a FOCUS "
                             "header, or the rows where they tell; ambiguous older exports "
                             "need it)")
    parser.add_argument("--start", metavar="YYYY-MM", help="first billing period")
    parser.add_argument("--end", metavar="YYYY-MM", help="last billing period")


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = "Azure costs into the Open FinOps Stack's DuckDB store."
    add = subcommands(parser, "azure", "open_finops.azure.commands")

    importer = add("import-costs", "load Cost Management exports into the database",
                   "Load the newest run of each billing period of an Azure Cost Management "
                   "export (actual, amortized or FOCUS): a newer run replaces the period, an "
                   "unchanged one is skipped.")
    _source_options(importer)
    importer.add_argument("--force", action="store_const", const=True,
                          help="reload periods whose run is already loaded")
    _source_options(add("list-exports", "list the runs of an export at the source",
                        "List the runs found at the source: period, layout, kind, format, run "
                        "id, files, whether it is the newest and whether it is loaded."))
    state = add("show-state", "show what is loaded and the import history",
                "Show the loaded run of each period and every import attempt.")
    state.add_argument("--month", metavar="YYYY-MM", help="only this billing period")
    state.add_argument("--export-name", metavar="NAME", help="only this export")
    summary = add("summary", "cost totals by service, subscription, region or resource group",
                  "Print billed and effective cost totals of Azure's rows of the focus view.")
    summary.add_argument("--month", metavar="YYYY-MM", help="only this billing period")
    summary.add_argument("--by", choices=("service", "subscription", "region",
                                          "resource-group"), help="group by (default service)")


PLUGIN = VendorPlugin(name="azure", help="import Azure Cost Management exports into DuckDB",
                      register=register, config_defaults=CONFIG_DEFAULTS)
