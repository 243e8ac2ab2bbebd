"""The ``finops gcp`` commands, registered with core through the
``open_finops.vendors`` entry point. Keep importing this module cheap: commands import
what they need."""
from __future__ import annotations

import argparse
from typing import Any

from open_finops.core.plugins import VendorPlugin

#: Every key of ``[gcp]`` in config.toml (and OPEN_FINOPS_GCP_<KEY>), with its default.
CONFIG_DEFAULTS: dict[str, Any] = {}


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = "GCP costs into the Open FinOps Stack's DuckDB store."


PLUGIN = VendorPlugin(name="gcp", help="GCP costs", register=register,
                      config_defaults=CONFIG_DEFAULTS)
