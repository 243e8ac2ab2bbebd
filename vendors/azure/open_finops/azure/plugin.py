"""The ``finops azure`` commands, registered with core through the ``open_finops.vendors``
entry point: core's vocabulary (open_finops.core.vocabulary) and Azure's own options.
Importing this module is cheap: DuckDB and the Azure SDK load with a command."""
from __future__ import annotations

import argparse
from typing import Any

from open_finops.core.plugins import VendorPlugin
from open_finops.core import vocabulary
from open_finops.core.vocabulary import Texts, register_commands

#: Every key of ``[azure]`` in config.toml (and OPEN_FINOPS_AZURE_<KEY>), with its default. A
#: command-line option wins over the environment, which wins over the file.
CONFIG_DEFAULTS: dict[str, Any] = {
    **vocabulary.CONFIG_DEFAULTS,
    "account_url": None,  # https://ACCOUNT.blob.core.windows.net for az:// sources
    "kind": "auto",  # auto (the manifest, a FOCUS header or the rows), actual, amortized, focus
}

TEXTS = Texts(
    data="Azure Cost Management exports (actual, amortized or FOCUS)", version="run",
    listed="period, layout, kind, format, run id, files",
    source_metavar="PATH|az://CONTAINER/PATH",
    source_help="a folder laid out like the storage container, or az:// (or a folder above)",
    export_help="the export's name",
    aliases={"import-costs": "import", "list-exports": "list", "show-state": "state"},
)
#: summary --by (the first is the default): its title and the column of the focus view.
GROUPS = {
    "service": ("SERVICE", "ServiceName"),
    "subscription": ("SUBSCRIPTION", "SubAccountName"),
    "region": ("REGION", "RegionId"),
    "resource-group": ("RESOURCE_GROUP", "x_ResourceGroupName"),
}


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = "Azure costs into the Open FinOps Stack's DuckDB store."
    commands = register_commands(parser, "azure", "open_finops.azure.commands", TEXTS, GROUPS)
    for name in ("import", "list"):
        commands[name].add_argument("--account-url", metavar="URL",
                                    help="the storage account's blob endpoint, for az:// "
                                         "sources")
        commands[name].add_argument("--kind", choices=("auto", "actual", "amortized", "focus"),
                                    help="what the export holds (default auto: its manifest, "
                                         "a FOCUS header, or the rows where they tell; "
                                         "ambiguous older exports need it)")


PLUGIN = VendorPlugin(name="azure", help="import Azure Cost Management exports into DuckDB",
                      register=register, config_defaults=CONFIG_DEFAULTS)
