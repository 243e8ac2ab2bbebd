"""The ``finops spark`` commands, registered with core through the ``open_finops.vendors``
entry point: ``finops spark import VENDOR`` builds the FOCUS 1.3 dataset of another vendor's
deliveries on Spark, into a lake of Parquet files (open_finops.spark.lake). Importing this
module is cheap: pyspark and DuckDB load with the command."""
from __future__ import annotations

import argparse
from typing import Any

from open_finops.core.plugins import VendorPlugin, lazy_handler

#: Every key of ``[spark]`` in config.toml (and OPEN_FINOPS_SPARK_<KEY>), with its default.
CONFIG_DEFAULTS: dict[str, Any] = {
    "source": None,  # where the vendor's exports are: a folder, s3://, az://
    "lake": None,  # the lake's folder
    "master": "local[*]",  # the local Spark's master (spark-submit gives its own)
    "kind": "auto",  # aws: its CUR version (auto, v1, v2, focus); azure: auto, actual...
    "month": None,
    "start": None,
    "end": None,
}
VENDORS = ("aws", "azure", "gcp", "oci")


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Build the FOCUS 1.3 dataset of a vendor's exports on Apache Spark, "
                          "into a lake of Parquet files that finops report --lake reads.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    build = commands.add_parser(
        "import", help="build a vendor's FOCUS rows on Spark into the lake",
        description="Read the newest delivery of each billing period of the exports with the "
                    "vendor's own reader, map it with its FOCUS mapping inside Spark tasks, "
                    "and replace each period of the vendor in the lake as a whole. Name every "
                    "export of the vendor's periods in one run (Azure pairs the actual and "
                    "amortized exports of an account).",
        epilog="Every option can also be set in [spark] of config.toml or as "
               "OPEN_FINOPS_SPARK_<OPTION>. Under spark-submit: spark-submit "
               "$(python -m open_finops.spark.submit --path) VENDOR --source ... --lake ...")
    build.add_argument("vendor", choices=VENDORS, help="whose deliveries")
    build.add_argument("--source", metavar="PATH|s3://...|az://...",
                       help="where the exports are, as the vendor's import reads them")
    build.add_argument("--export-name", action="append", dest="export_names", metavar="NAME",
                       help="an export to build (repeat for several)")
    build.add_argument("--lake", metavar="FOLDER", help="the lake's folder")
    build.add_argument("--kind", help="aws: the CUR version (auto, v1, v2, focus); azure: "
                                      "auto, actual, amortized, focus")
    build.add_argument("--month", metavar="YYYY-MM", help="one billing period")
    build.add_argument("--start", metavar="YYYY-MM", help="the first billing period")
    build.add_argument("--end", metavar="YYYY-MM", help="the last billing period")
    build.add_argument("--master", metavar="URL",
                       help="Spark's master for the local session (default local[*])")
    build.set_defaults(handler=lazy_handler("open_finops.spark.commands", "import_command"))


PLUGIN = VendorPlugin(name="spark", help="build the FOCUS dataset on Apache Spark",
                      register=register, config_defaults=CONFIG_DEFAULTS)
