"""The ``finops aws`` commands, registered with core through the ``open_finops.vendors`` entry
point. Importing this module is cheap: DuckDB and boto3 are imported by the commands."""
from __future__ import annotations

import argparse
from typing import Any

from open_finops.core.plugins import VendorPlugin, subcommands

#: Every key of ``[aws]`` in config.toml (and OPEN_FINOPS_AWS_<KEY>), with its default. A
#: command-line option wins over the environment, which wins over the file.
CONFIG_DEFAULTS: dict[str, Any] = {
    "source": None,  # a folder laid out like the bucket, or s3://BUCKET/PREFIX
    "export_name": None,  # the report (legacy CUR) or export (CUR 2.0) name
    "cur_version": "auto",  # auto, v1 (legacy CUR), v2 (CUR 2.0) or focus (a FOCUS export)
    "start": None,  # first billing period to import, YYYY-MM
    "end": None,  # last billing period to import, YYYY-MM
    "force": False,  # reload periods whose version is already loaded
    "billing_period": None,  # show-state: only this period
    "month": None,  # summary: only this billing period
    "by": "service",  # summary: service, account or region
    "memory_limit": None,  # DuckDB memory_limit during imports, e.g. "4GB" (default 512MB)
}

_SOURCE_HELP = "a folder laid out like the bucket, or s3://BUCKET/PREFIX"


def _source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", metavar="PATH|s3://BUCKET/PREFIX", help=_SOURCE_HELP)
    parser.add_argument("--export-name", metavar="NAME",
                        help="the report (legacy CUR) or export (CUR 2.0) name")
    parser.add_argument("--cur-version", choices=("auto", "v1", "v2", "focus"),
                        help="legacy CUR (v1), CUR 2.0 (v2), an AWS FOCUS export (focus) or "
                             "detect (auto, the default)")
    parser.add_argument("--start", metavar="YYYY-MM", help="first billing period")
    parser.add_argument("--end", metavar="YYYY-MM", help="last billing period")


def register(parser: argparse.ArgumentParser) -> None:
    add = subcommands(parser, "aws", "open_finops.aws.commands")

    importer = add(
        "import-cur", "load Cost and Usage Reports into the database",
        "Load the newest version of each billing period of a legacy CUR or CUR 2.0 export "
        "into the database: a new version replaces the period, an unchanged one is skipped.")
    _source_options(importer)
    importer.add_argument("--force", action="store_const", const=True,
                          help="reload periods whose version is already loaded")

    lister = add(
        "list-manifests", "list the report versions found at the source",
        "List the manifests found at the source: billing period, format, assembly or "
        "execution id, file count, and whether that version is loaded.")
    _source_options(lister)

    state = add(
        "show-state", "show what is loaded and the import history",
        "Show the loaded version of each billing period and every import attempt (rows, "
        "files, started, finished, error).")
    state.add_argument("--billing-period", metavar="YYYY-MM", help="only this period")
    state.add_argument("--export-name", metavar="NAME", help="only this export")

    summary = add(
        "summary", "cost totals by service, account or region",
        "Print billed and effective (amortized) cost totals from the focus view.")
    summary.add_argument("--month", metavar="YYYY-MM", help="only this billing period")
    summary.add_argument("--by", choices=("service", "account", "region"),
                         help="group by (default: service)")
    summary.add_argument("--export-name", metavar="NAME", help="only this export")


PLUGIN = VendorPlugin(
    name="aws",
    help="import AWS Cost and Usage Reports (legacy CUR and CUR 2.0) into DuckDB",
    register=register,
    config_defaults=CONFIG_DEFAULTS,
)
