"""The vendor plugin contract and its discovery through entry points.

A vendor distribution registers one entry point in the group ``open_finops.vendors``; its
name is the sub-command (``aws``) and its value is a :class:`VendorPlugin`, e.g.::

    entry_points={"open_finops.vendors": ["aws = open_finops.aws.plugin:PLUGIN"]}

Discovery prints nothing. A plugin that fails to import, whose object is not a
:class:`VendorPlugin`, or whose ``name`` differs from its entry point name is returned as a
:class:`BrokenPlugin`; the CLI reports each as one warning line on stderr and every other
command keeps working.
"""
from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from open_finops.core.config import Config  # noqa: F401 (named in Handler, a string)

ENTRY_POINT_GROUP = "open_finops.vendors"

#: Vendors the project ships, by command name, with the extra of the ``open-finops``
#: meta-package that installs them: ``finops aws`` without the plugin names this extra.
KNOWN_VENDORS: Mapping[str, str] = {
    "aws": "aws",
    "docker": "docker",
    "azure": "azure",
    "gcp": "gcp",
    "oci": "oci",
    "spark": "spark",
}

#: A command handler: the parsed arguments and the resolved configuration in, an exit code out.
Handler = Callable[[argparse.Namespace, "Config"], int]


@dataclass(frozen=True)
class VendorPlugin:
    """What a vendor distribution hands to core.

    ``register`` receives the plugin's own ``argparse`` parser (already created by core as
    ``finops <name>``) and adds its options and sub-commands; each leaf parser sets
    ``set_defaults(handler=...)`` with a :data:`Handler`. Parsers made with
    ``parser.add_subparsers()`` inherit core's global options (``--config``, ``--database``,
    ``-v``), so those names are reserved. A handler reports an expected failure by raising
    :class:`open_finops.core.errors.FinopsError` (one line on stderr, exit 1) or by
    returning a non-zero code.

    ``config_defaults`` declares every key the plugin accepts in its ``[<name>]`` section of
    config.toml and as ``OPEN_FINOPS_<NAME>_<KEY>`` variables, with its default value; the type
    of the default (str, int, float, bool, list, or None meaning str) is used to check file
    values and to convert values read from the environment. A key not declared here is an
    error.
    """

    name: str
    help: str
    register: Callable[[argparse.ArgumentParser], None]
    config_defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedPlugin:
    """A plugin that loaded, with the distribution that provides it."""

    plugin: VendorPlugin
    distribution: str
    version: str

    @property
    def name(self) -> str:
        return self.plugin.name


@dataclass(frozen=True)
class BrokenPlugin:
    """An entry point that did not give a usable plugin, and why."""

    name: str
    distribution: str
    version: str
    reason: str

    def warning(self) -> str:
        """The one-line warning the CLI prints."""
        return (f"plugin {self.name!r} from {self.distribution} {self.version} failed to load:"
                f" {self.reason}")


@dataclass
class Discovery:
    """The outcome of :func:`discover`, keyed by command name."""

    plugins: dict[str, LoadedPlugin] = field(default_factory=dict)
    broken: dict[str, BrokenPlugin] = field(default_factory=dict)


def subcommands(parser: Any, vendor: str, module: str) -> Callable[[str, str, str], Any]:
    """The ``add(name, summary, description)`` of a vendor's ``register``: each command's
    parser, whose handler is ``module``'s function of the command's name (``import-cur``:
    ``import_cur``), imported only when the command runs so that ``--help`` stays cheap."""
    commands = parser.add_subparsers(title="commands", metavar="COMMAND",
                                     help=f"one of these; 'finops {vendor} COMMAND --help' "
                                          "tells more")

    def add(name: str, summary: str, description: str) -> Any:
        sub = commands.add_parser(name, help=summary, description=description,
                                  epilog=f"Every option can also be set in [{vendor}] of "
                                         f"config.toml or as OPEN_FINOPS_{vendor.upper()}"
                                         "_<OPTION>.")
        sub.set_defaults(handler=lazy_handler(module, name.replace("-", "_")))
        return sub

    return add


def lazy_handler(module: str, name: str) -> Callable[[Any, Any], int]:
    """A command handler that imports ``module`` when it runs and calls its ``name``."""
    def handler(args: Any, config: Any) -> int:
        return getattr(importlib.import_module(module), name)(args, config)

    handler.__name__ = name
    return handler


def install_hint(name: str) -> str:
    """The pip command that installs a known vendor's plugin."""
    return f"pip install 'open-finops[{KNOWN_VENDORS[name]}]'"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _origin(entry_point: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return "an unknown distribution", "?"
    return dist.metadata["Name"] or "an unknown distribution", dist.version or "?"


def discover(
    entry_points: Iterable[metadata.EntryPoint] | None = None,
    reserved: Iterable[str] = (),
) -> Discovery:
    """Load every plugin of the ``open_finops.vendors`` group, quietly.

    ``entry_points`` defaults to the installed ones; ``reserved`` are command names core
    uses itself (a plugin claiming one is broken). When two distributions register the same
    name, the first one found wins and the other is reported as broken."""
    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    reserved = set(reserved)
    found = Discovery()
    for entry_point in entry_points:
        distribution, version = _origin(entry_point)
        name = entry_point.name

        def broken(reason: str) -> BrokenPlugin:
            return BrokenPlugin(name, distribution, version, reason)

        if name in found.plugins:
            winner = found.plugins[name]
            if winner.distribution == distribution:
                continue  # the same distribution seen twice on sys.path
            found.broken.setdefault(name, broken(
                f"{winner.distribution} {winner.version} already provides {name!r}"))
            continue
        if name in reserved:
            found.broken[name] = broken(f"{name!r} is a core command")
            continue
        try:
            plugin = entry_point.load()
        except Exception as exc:  # a plugin's import error must not break finops
            found.broken[name] = broken(_one_line(exc))
            continue
        if not isinstance(plugin, VendorPlugin):
            found.broken[name] = broken(
                f"{entry_point.value} is a {type(plugin).__name__}, not a VendorPlugin")
        elif plugin.name != name:
            found.broken[name] = broken(
                f"entry point {name!r} holds the plugin named {plugin.name!r}")
        else:
            found.broken.pop(name, None)
            found.plugins[name] = LoadedPlugin(plugin, distribution, version)
    return found
