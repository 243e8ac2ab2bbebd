"""The vocabulary every vendor's ``finops VENDOR`` speaks, defined once: the commands
``import``, ``list``, ``state`` and ``summary`` with the same options (``--source``,
``--export-name``, ``--month``, ``--start``, ``--end``, ``--force``), the names of earlier
releases kept as aliases that warn, and what the handlers share: options resolved (command line
> environment > config file > default), the billing months chosen, and the search for an
export at its source.

A vendor registers its commands with :func:`register_commands`, adds its own options (aws
``--cur-version``; azure ``--account-url``, ``--kind``; each ``--by``) to the parsers it gets
back, and gives one module with the handlers ``import_command``, ``list_command``,
``state_command`` and ``summary_command`` (imported only when a command runs).
"""
from __future__ import annotations

import argparse
import dataclasses
import difflib
import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from open_finops.core.errors import FinopsError, check_month
from open_finops.core.plugins import lazy_handler

#: The commands, in the order of the help, with the options each takes.
COMMANDS: Mapping[str, tuple[str, ...]] = {
    "import": ("source", "export_name", "months", "force"),
    "list": ("source", "export_name", "months"),
    "state": ("export_name", "months"),
    "summary": ("export_name", "months"),
}
HANDLERS = {name: f"{name}_command" for name in COMMANDS}
#: The keys of ``[VENDOR]`` in config.toml (and OPEN_FINOPS_<VENDOR>_<KEY>) that these
#: commands read, with their defaults; a vendor's ``config_defaults`` adds its own keys.
CONFIG_DEFAULTS: Mapping[str, Any] = {
    "source": None,  # where the exports are: a folder, or the vendor's URL scheme
    "export_name": None,  # the export (report, table) to read
    "month": None,  # one billing period, YYYY-MM (the same as start = end = month)
    "start": None,  # first billing period, YYYY-MM
    "end": None,  # last billing period, YYYY-MM
    "force": False,  # reload periods whose version is already loaded
    "by": "service",  # summary: the first of the vendor's groups
    "memory_limit": None,  # DuckDB memory_limit during imports, e.g. "4GB" (default 512MB)
}
logger = logging.getLogger(__name__)


def deprecated(old: str, new: str) -> None:
    """The one line on stderr that an old name gives."""
    print(f"finops: warning: {old!r} is now {new!r}; the old name will be removed in a later "
          "release", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Texts:
    """A vendor's words in the help of the commands: what it imports (``data``, e.g. "Cost and
    Usage Reports"), what tells one delivery of a period from another (``version``:
    "version", "run"), what ``list`` shows of each, and its source and export."""

    data: str
    version: str
    listed: str
    source_metavar: str
    source_help: str
    export_help: str
    #: Old command name -> new one (``import-cur`` -> ``import``).
    aliases: Mapping[str, str] = field(default_factory=dict)
    #: Old option -> new one, per command (``state``: ``--billing-period`` -> ``--month``).
    option_aliases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def command(self, name: str, groups: Iterable[str]) -> tuple[str, str]:
        """The summary and the description of command ``name``."""
        version = self.version
        return {
            "import": (f"load {self.data} into the database",
                       f"Load the newest {version} of each billing period of {self.data} into "
                       f"the database: a newer {version} replaces the period (in one "
                       "transaction), an unchanged one is skipped."),
            "list": (f"list the {version}s found at the source",
                     f"List the {version}s found at the source: {self.listed}, whether it is "
                     "the newest of its period and whether it is loaded."),
            "state": ("show what is loaded and the import history",
                      f"Show the loaded {version} of each billing period and every import "
                      "attempt (rows, files, started, finished, error)."),
            "summary": (f"cost totals by {', '.join(groups)}",
                        "Print billed and effective (amortized) cost totals of this vendor's "
                        "rows of the focus view, from the copy the last import published."),
        }[name]

    @property
    def force_help(self) -> str:
        return f"reload periods whose {self.version} is already loaded"


class _Renamed(argparse.Action):
    """An option of an earlier release: warns, and stores into the new option's value."""

    def __init__(self, option_strings: list[str], dest: str, new: str = "",
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.new = new

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        deprecated(str(option), self.new)
        setattr(namespace, self.dest, values)


class Parsers:
    """The parsers of one command: its own and its alias's; ``add_argument`` adds to each."""

    def __init__(self, parsers: list[argparse.ArgumentParser]) -> None:
        self.parsers = parsers

    def add_argument(self, *args: Any, **kwargs: Any) -> None:
        for parser in self.parsers:
            parser.add_argument(*args, **kwargs)


def _warning_handler(old: str, new: str, handler: Callable[[Any, Any], int]
                     ) -> Callable[[Any, Any], int]:
    def run(args: Any, config: Any) -> int:
        deprecated(old, new)
        return handler(args, config)

    return run


def register_commands(parser: argparse.ArgumentParser, vendor: str, module: str,
                      texts: Texts, groups: Iterable[str]) -> dict[str, Parsers]:
    """``finops VENDOR import|list|state|summary`` with their standard options, ``summary
    --by`` one of ``groups`` (the first is the default), and the aliases of ``texts`` (hidden
    from the help); the vendor adds its own options to what this returns, by command name."""
    groups = list(groups)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND",
                                     help=f"one of these; 'finops {vendor} COMMAND --help' "
                                          "tells more")
    epilog = (f"Every option can also be set in [{vendor}] of config.toml or as "
              f"OPEN_FINOPS_{vendor.upper()}_<OPTION>.")
    old_names = {new: old for old, new in texts.aliases.items()}
    found: dict[str, Parsers] = {}
    for name, options in COMMANDS.items():
        summary, description = texts.command(name, groups)
        handler = lazy_handler(module, HANDLERS[name])
        parsers = [commands.add_parser(name, help=summary, description=description,
                                       epilog=epilog)]
        parsers[0].set_defaults(handler=handler)
        if name in old_names:
            old = old_names[name]
            # Without help=, argparse leaves it out of the command list.
            alias = commands.add_parser(old, epilog=epilog,
                                        description=f"{description} (Now 'finops {vendor} "
                                                    f"{name}'.)")
            alias.set_defaults(handler=_warning_handler(old, name, handler))
            parsers.append(alias)
        for sub in parsers:
            _standard_options(sub, options, texts)
            for old_option, new_option in texts.option_aliases.get(name, {}).items():
                sub.add_argument(old_option, dest=new_option[2:].replace("-", "_"),
                                 action=_Renamed, new=new_option, metavar="YYYY-MM",
                                 help=argparse.SUPPRESS)
        found[name] = Parsers(parsers)
    found["summary"].add_argument("--by", choices=groups,
                                  help=f"group by (default: {groups[0]})")
    return found


def _standard_options(parser: argparse.ArgumentParser, options: Iterable[str],
                      texts: Texts) -> None:
    if "source" in options:
        parser.add_argument("--source", metavar=texts.source_metavar, help=texts.source_help)
    if "export_name" in options:
        parser.add_argument("--export-name", metavar="NAME", help=texts.export_help)
    if "months" in options:
        parser.add_argument("--month", metavar="YYYY-MM",
                            help="one billing period (the same as --start M --end M)")
        parser.add_argument("--start", metavar="YYYY-MM", help="first billing period")
        parser.add_argument("--end", metavar="YYYY-MM", help="last billing period")
    if "force" in options:
        parser.add_argument("--force", action="store_const", const=True,
                            help=texts.force_help)


class Options:
    """A command's options as resolved for ``section``: the command line, else
    ``OPEN_FINOPS_<SECTION>_<KEY>``, else config.toml, else the default; ``-v`` logs where
    each came from (``shown`` hides what must not be logged)."""

    def __init__(self, config: Any, args: argparse.Namespace, section: str,
                 usage_error: type[FinopsError] = FinopsError,
                 shown: Callable[[str, Any], Any] = lambda _key, value: value) -> None:
        self.config = config
        self.args = args
        self.section = section
        self.usage_error = usage_error
        self.shown = shown

    def get(self, key: str) -> Any:
        cli = getattr(self.args, key, None)
        value = self.config.get(self.section, key, cli=cli)
        origin = "command line" if cli is not None else self.config.source(self.section, key)
        logger.info("%s = %r (from %s)", key, self.shown(key, value), origin)
        return value

    def required(self, key: str) -> str:
        value = self.get(key)
        if value in (None, ""):
            raise self.usage_error(
                f"--{key.replace('_', '-')} is required (or set {key} in [{self.section}] of "
                f"config.toml, or OPEN_FINOPS_{self.section.upper()}_{key.upper()})")
        return str(value)

    def months(self, old_month_key: str | None = None) -> tuple[str | None, str | None]:
        """``--month M`` as (M, M), else ``--start`` and ``--end`` (either may be None), in
        order. Each is resolved like any option; a month and a range from different places
        are settled by the places' precedence (``--start`` on the command line beats a month
        in config.toml, a month in OPEN_FINOPS_<VENDOR>_MONTH a range in the file). From one
        place: on the command line, a usage error; in the configuration (where an earlier
        release's month was summary's alone) they must say the same. ``old_month_key`` is an
        earlier release's name of the month key, read (with a warning) when ``month`` is not
        set."""
        values, rank = {}, {}
        for key in ("month", "start", "end"):
            values[key] = self.get(key)
            rank[key] = self._rank(key)
        if old_month_key and values["month"] in (None, "") and \
                self._rank(old_month_key) < len(_PLACES):
            deprecated(f"{old_month_key} of [{self.section}]", "month")
            values["month"] = self.get(old_month_key)
            rank["month"] = self._rank(old_month_key)
        month = check_month(values["month"], "--month", self.usage_error)
        given = [key for key in ("start", "end") if values[key] not in (None, "")]
        if month and given:
            first = min(rank[key] for key in given)
            if rank["month"] == first == 0:
                raise self.usage_error(f"--month cannot be given with "
                                       f"{' or '.join('--' + key for key in given)}: "
                                       "--month M is --start M --end M")
            differs = [key for key in given if rank[key] == rank["month"]
                       and values[key] != month]
            if differs:
                key = differs[0]
                raise self.usage_error(
                    f"month = {month!r} and {key} = {values[key]!r} disagree (both from "
                    f"{_PLACES[rank[key]]}): set month for one billing period, or start and "
                    f"end for several, in [{self.section}]")
            if first < rank["month"]:
                month = None
        if month:
            return month, month
        start = check_month(values["start"], "--start", self.usage_error)
        end = check_month(values["end"], "--end", self.usage_error)
        if start and end and start > end:
            raise self.usage_error(f"--start {start} is after --end {end}")
        return start, end

    def _rank(self, key: str) -> int:
        """Where ``key`` comes from, as an index of _PLACES (its length: the default)."""
        if getattr(self.args, key, None) not in (None, ""):
            return 0
        origin = self.config.source(self.section, key)
        return {"cli": 0, "env": 1, "file": 2}.get(origin, len(_PLACES))


_PLACES = ("the command line", "the environment", "config.toml")


ExportsIn = Callable[[Iterable[str]], "set[tuple[str, str]]"]


def locate_export(source: Any, export_name: str, exports_in: ExportsIn, *,
                  max_depth: int | None = 2, what: str = "export") -> tuple[Any, dict[str, Any]]:
    """The source of the export's folder and the listing of that folder: ``<export>/`` at the
    source, else the one folder of that name found below it (at most ``max_depth`` folders
    down; None: any depth), to which the source is moved. ``exports_in(keys)`` gives the
    (folder, name) of every export that keys show. None found: an error naming the exports
    that are there (and the closest name); several: an error naming each."""
    listing = source.list(export_name)
    if listing:
        return source, listing
    everything = source.list("")
    exports = exports_in(everything)
    named = sorted(folder for folder, name in exports if name == export_name)
    folders = [folder for folder in named
               if max_depth is None or folder.count("/") <= max_depth]
    if len(folders) > 1:
        raise source.error(f"{what} {export_name!r} is in several folders under "
                           f"{source.describe()}: {', '.join(folders)}; give --source the "
                           "one to read")
    if named and not folders:
        raise source.error(f"no {what} {export_name!r} within {max_depth} folders of "
                           f"{source.describe()}; deeper: {', '.join(named)}; give --source the "
                           "folder that holds it")
    if not folders:
        names = sorted({name for _folder, name in exports})
        close = difflib.get_close_matches(export_name, names, n=1, cutoff=0.6)
        there = (f"; {what}s there: {', '.join(names)}" if names
                 else " (none there: check --source)")
        hint = f"; did you mean {close[0]!r}?" if close else ""
        if not exports and source.describe().rstrip("/").endswith("/" + export_name):
            hint = (f" (--source is the {what}'s own folder; give the folder that contains "
                    f"{export_name}/)")
        raise source.error(f"no {what} {export_name!r} under {source.describe()}{there}{hint}")
    folder = folders[0].rsplit("/", 1)[0]
    moved = source.below(folder)
    logger.info("%s %s found under %s", what, export_name, moved.describe())
    prefix = folders[0] + "/"
    return moved, {key[len(folder) + 1:]: dataclasses.replace(obj, key=key[len(folder) + 1:])
                   for key, obj in everything.items() if key.startswith(prefix)}


def state_handler(ledger: Any, old_month_key: str | None = None) -> Callable[[Any, Any], int]:
    """The handler of ``finops VENDOR state`` over ``ledger`` (open_finops.core.ledger)."""
    def state_command(args: argparse.Namespace, config: Any) -> int:
        options = Options(config, args, ledger.vendor, ledger.usage_error)
        months = options.months(old_month_key)
        return ledger.show_state(Path(config.database), options.get("export_name") or None,
                                 months)

    return state_command


def summary_handler(ledger: Any, groups: Mapping[str, tuple[str, str]], *, missing: str,
                    line_items: str = "count(*)") -> Callable[[Any, Any], int]:
    """The handler of ``finops VENDOR summary``: ``groups`` maps each ``--by`` to its title
    and the column of the vendor's focus view; ``missing`` and ``line_items`` as
    :meth:`open_finops.core.ledger.Ledger.summary` takes them."""
    def summary_command(args: argparse.Namespace, config: Any) -> int:
        options = Options(config, args, ledger.vendor, ledger.usage_error)
        months = options.months()
        by = str(options.get("by") or "service").strip().lower()
        if by not in groups:
            raise ledger.usage_error(f"--by: expected one of {', '.join(groups)}, got {by!r}")
        title, column = groups[by]
        return ledger.summary(Path(config.database), title, column, missing=missing,
                              line_items=line_items, months=months,
                              x_ExportName=options.get("export_name") or None)

    return summary_command
