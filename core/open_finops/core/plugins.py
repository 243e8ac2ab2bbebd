"""The vendor plugin contract and its discovery through entry points.

A vendor distribution registers one entry point in the group ``open_finops.vendors``; its
name is the sub-command (``aws``) and its value is a :class:`VendorPlugin`, e.g.::

    entry_points={"open_finops.vendors": ["aws = open_finops.aws.plugin:PLUGIN"]}

Discovery prints nothing. A plugin that fails to import is reported by the CLI as one warning
line on stderr; every other command keeps working.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from open_finops.core.config import Config

ENTRY_POINT_GROUP = "open_finops.vendors"

#: A command handler: the parsed arguments and the resolved configuration in, an exit code out.
Handler = Callable[[argparse.Namespace, "Config"], int]


@dataclass(frozen=True)
class VendorPlugin:
    """What a vendor distribution hands to core.

    ``register`` receives the plugin's own ``argparse`` parser (already created by core as
    ``finops <name>``) and adds its options and sub-commands; each leaf parser sets
    ``set_defaults(handler=...)`` with a :data:`Handler`.

    ``config_defaults`` declares every key the plugin accepts in its ``[<name>]`` section of
    config.toml and as ``OPEN_FINOPS_<NAME>_<KEY>`` variables, with its default value; the type
    of the default (str, int, float, bool, or None meaning str) is used to convert values read
    from the environment. A key not declared here is an error.
    """

    name: str
    help: str
    register: Callable[[argparse.ArgumentParser], None]
    config_defaults: Mapping[str, Any] = field(default_factory=dict)
