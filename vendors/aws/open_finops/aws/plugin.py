"""The ``finops aws`` commands, registered with core through the ``open_finops.vendors`` entry
point: core's vocabulary (open_finops.core.vocabulary) and AWS's own options. Importing this
module is cheap: DuckDB and boto3 are imported by the commands."""
from __future__ import annotations

import argparse
from typing import Any

from open_finops.core.plugins import VendorPlugin
from open_finops.core import vocabulary
from open_finops.core.vocabulary import Texts, register_commands

#: Every key of ``[aws]`` in config.toml (and OPEN_FINOPS_AWS_<KEY>), with its default. A
#: command-line option wins over the environment, which wins over the file.
CONFIG_DEFAULTS: dict[str, Any] = {
    **vocabulary.CONFIG_DEFAULTS,
    "cur_version": "auto",  # auto, v1 (legacy CUR), v2 (CUR 2.0) or focus (a FOCUS export)
    "billing_period": None,  # release 0.3's name of month for show-state (now state)
}

TEXTS = Texts(
    data="Cost and Usage Reports (legacy CUR, CUR 2.0) or FOCUS exports", version="version",
    listed="billing period, format, assembly or execution id, files",
    source_metavar="PATH|s3://BUCKET/PREFIX",
    source_help="a folder laid out like the bucket, or s3://BUCKET/PREFIX (or a folder above)",
    export_help="the report (legacy CUR) or export (CUR 2.0, FOCUS) name",
    aliases={"import-cur": "import", "list-manifests": "list", "show-state": "state"},
    option_aliases={"state": {"--billing-period": "--month"}},
)
#: summary --by (the first is the default): its title and the column of the focus view.
GROUPS = {
    "service": ("SERVICE", "ServiceName"),
    "account": ("ACCOUNT", "SubAccountId"),
    "region": ("REGION", "RegionId"),
}


def register(parser: argparse.ArgumentParser) -> None:
    commands = register_commands(parser, "aws", "open_finops.aws.commands", TEXTS, GROUPS)
    for name in ("import", "list"):
        commands[name].add_argument(
            "--cur-version", choices=("auto", "v1", "v2", "focus"),
            help="legacy CUR (v1), CUR 2.0 (v2), an AWS FOCUS export (focus) or detect "
                 "(auto, the default)")


PLUGIN = VendorPlugin(
    name="aws",
    help="import AWS Cost and Usage Reports (legacy CUR and CUR 2.0) into DuckDB",
    register=register,
    config_defaults=CONFIG_DEFAULTS,
)
