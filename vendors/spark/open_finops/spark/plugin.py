"""The ``finops spark`` commands, registered with core through the
``open_finops.vendors`` entry point. Keep importing this module cheap: commands import
what they need."""
from __future__ import annotations

import argparse
from typing import Any

from open_finops.core.plugins import VendorPlugin

#: Every key of ``[spark]`` in config.toml (and OPEN_FINOPS_SPARK_<KEY>), with its default.
CONFIG_DEFAULTS: dict[str, Any] = {}


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = "Spark costs into the Open FinOps Stack's DuckDB store."


PLUGIN = VendorPlugin(name="spark", help="Spark costs", register=register,
                      config_defaults=CONFIG_DEFAULTS)
