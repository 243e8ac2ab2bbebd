"""The ``finops gcp`` commands, registered with core through the ``open_finops.vendors``
entry point: core's vocabulary (open_finops.core.vocabulary). Importing this module is cheap:
DuckDB and google-cloud-storage load with a command."""
from __future__ import annotations

import argparse
from typing import Any

from open_finops.core import vocabulary
from open_finops.core.plugins import VendorPlugin
from open_finops.core.vocabulary import Texts, register_commands

#: Every key of ``[gcp]`` in config.toml (and OPEN_FINOPS_GCP_<KEY>), with its default. A
#: command-line option wins over the environment, which wins over the file. Credentials are
#: never among them: google-cloud-storage takes Application Default Credentials.
CONFIG_DEFAULTS: dict[str, Any] = {**vocabulary.CONFIG_DEFAULTS}

TEXTS = Texts(
    data="Cloud Billing exports (standard, detailed or FOCUS) written by EXPORT DATA",
    version="export", listed="billing month, kind, format, files, version",
    source_metavar="PATH|gs://BUCKET/PREFIX",
    source_help="a folder laid out like the bucket, or gs://BUCKET/PREFIX (the folder that "
                "holds TABLE/YYYY-MM/, or one above)",
    export_help="the BigQuery table exported: gcp_billing_export_v1_ACCOUNT (standard), "
                "gcp_billing_export_resource_v1_ACCOUNT (detailed) or "
                "gcp_billing_export_focus_ACCOUNT (FOCUS)",
)
#: summary --by (the first is the default): its title and the column of the focus view.
GROUPS = {
    "service": ("SERVICE", "ServiceName"),
    "project": ("PROJECT", "SubAccountName"),
    "region": ("REGION", "RegionId"),
    "publisher": ("PUBLISHER", "PublisherName"),
}


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Google Cloud (GCP) billing exports into the Open FinOps Stack's "
                          "DuckDB store.")
    register_commands(parser, "gcp", "open_finops.gcp.commands", TEXTS, GROUPS)


PLUGIN = VendorPlugin(name="gcp", help="import Google Cloud billing exports into DuckDB",
                      register=register, config_defaults=CONFIG_DEFAULTS)
