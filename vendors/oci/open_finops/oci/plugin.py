"""The ``finops oci`` commands, registered with core through the ``open_finops.vendors``
entry point: core's vocabulary (open_finops.core.vocabulary) and OCI's own options.
Importing this module is cheap: DuckDB and boto3 load with a command."""
from __future__ import annotations

import argparse
from typing import Any

from open_finops.core import vocabulary
from open_finops.core.plugins import VendorPlugin
from open_finops.core.vocabulary import Texts, register_commands

#: The kinds of cost report, by the name an import records by default.
KINDS = ("focus", "cost")
#: Every key of ``[oci]`` in config.toml (and OPEN_FINOPS_OCI_<KEY>), with its default. A
#: command-line option wins over the environment, which wins over the file.
CONFIG_DEFAULTS: dict[str, Any] = {
    **vocabulary.CONFIG_DEFAULTS,
    # https://NAMESPACE.compat.objectstorage.REGION.oraclecloud.com for s3:// sources (not a
    # secret: the Customer Secret Key comes from boto3's credential chain only)
    "endpoint_url": None,
    "kind": "auto",  # auto (the export name if focus or cost, else FOCUS reports if any), ...
}

TEXTS = Texts(
    data="OCI cost reports (FOCUS or the older cost reports)", version="version",
    listed="period, kind, files, version",
    source_metavar="PATH|s3://BUCKET/PREFIX",
    source_help="the tenancy's bucket: a folder laid out like it (or the folder above), or "
                "s3:// through Object Storage's S3-compatible endpoint (--endpoint-url)",
    export_help="the name the import is recorded by (default: the kind, focus or cost; "
                "focus or cost also choose the kind)",
)
#: summary --by (the first is the default): its title and the column of the focus view.
GROUPS = {
    "service": ("SERVICE", "ServiceName"),
    "tenancy": ("TENANCY", "SubAccountName"),
    "region": ("REGION", "RegionId"),
    "compartment": ("COMPARTMENT", "x_CompartmentName"),
}


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = "OCI costs into the Open FinOps Stack's DuckDB store."
    commands = register_commands(parser, "oci", "open_finops.oci.commands", TEXTS, GROUPS)
    for name in ("import", "list"):
        commands[name].add_argument(
            "--endpoint-url", metavar="URL",
            help="Object Storage's S3-compatible endpoint, for s3:// sources "
                 "(https://NAMESPACE.compat.objectstorage.REGION.oraclecloud.com)")
        commands[name].add_argument(
            "--kind", choices=("auto", *KINDS),
            help="which reports: focus (FOCUS Reports/) or cost (reports/cost-csv/); default "
                 "auto: the export name when it is one of them, else FOCUS if there are any")


PLUGIN = VendorPlugin(name="oci", help="import OCI cost reports (FOCUS and cost) into DuckDB",
                      register=register, config_defaults=CONFIG_DEFAULTS)
