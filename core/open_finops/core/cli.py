"""The ``finops`` command: global options, core commands, one sub-command per vendor plugin.

    finops [--config PATH] [--database PATH] [-v] COMMAND ...
    finops --version        every installed open-finops distribution and its version
    finops plugins          the vendor plugins, their distributions and versions
    finops <vendor> ...     a plugin's commands (aws, docker, ...)

The global options are accepted before or after any sub-command. Exit codes: 0 success,
1 a failure, 2 a usage error. Expected errors are one ``finops: error:`` line on stderr.
"""
from __future__ import annotations

import argparse
import functools
import logging
import shlex
import sys
from collections.abc import Sequence
from typing import Any

from open_finops.core import __version__
from open_finops.core.config import CORE_SECTION, DEFAULT_CONFIG_FILE, DEFAULT_DATABASE, Config
from open_finops.core.errors import FinopsError
from open_finops.core.plugins import (
    KNOWN_VENDORS,
    BrokenPlugin,
    Discovery,
    discover,
    install_hint,
)
from open_finops.core.versions import installed_distributions, mismatch_warning

PROG = "finops"
#: Commands of core itself; a plugin may not take these names.
CORE_COMMANDS = ("plugins", "report")
#: Global options that take a value (the command word is found before argparse runs).
_VALUE_OPTIONS = ("--config", "--database")
_LOG_HANDLER_NAME = "finops-cli"
#: The options `finops report html` takes besides --where and the month.
HTML_OPTIONS = ("--sigmas", "--window", "--tag")
#: The longest trailing window of the anomalies report, in days.
MAX_WINDOW = 366

log = logging.getLogger("open_finops")


def warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


class FinopsParser(argparse.ArgumentParser):
    """An ArgumentParser carrying the global options, all with default=SUPPRESS so that a
    sub-command's parser never overwrites a value given before it. Parsers made with
    ``add_subparsers()`` are of the same class, so a plugin's nested commands get them too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        group = self.add_argument_group("global options")
        group.add_argument(
            "--config", metavar="PATH", default=argparse.SUPPRESS,
            help=f"configuration file (default: ./{DEFAULT_CONFIG_FILE} when present)")
        group.add_argument(
            "--database", metavar="PATH", default=argparse.SUPPRESS,
            help=f"the DuckDB database (default: {DEFAULT_DATABASE})")
        group.add_argument(
            "-v", "--verbose", action="count", default=argparse.SUPPRESS,
            help="say more on stderr (twice for debug output)")

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        namespace, extras = super().parse_known_args(args, namespace)
        # The innermost parser finishes first: remember it to print its help when the
        # command line stops before a leaf command (`finops aws`).
        if not hasattr(namespace, "_finops_parser"):
            namespace._finops_parser = self
        return namespace, extras


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        distributions = installed_distributions()
        for name, version in distributions:
            print(f"{name} {version}")
        message = mismatch_warning(distributions, __version__)
        if message:
            sys.stdout.flush()
            warn(message)
        parser.exit(0)


def command_word(argv: Sequence[str]) -> str | None:
    """The sub-command of a command line: its first word that is no global option."""
    words = iter(argv)
    for word in words:
        if word == "--":
            return next(words, None)
        if word in _VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _remove_subparser(commands: argparse._SubParsersAction, name: str) -> None:
    # argparse has no API to drop a sub-parser; these attributes have been stable since 3.2.
    commands._name_parser_map.pop(name, None)
    commands._choices_actions[:] = [a for a in commands._choices_actions if a.dest != name]


def build_parser(discovery: Discovery) -> FinopsParser:
    """The whole command tree. A plugin whose ``register`` raises is moved to
    ``discovery.broken`` and gets no command."""
    missing = [name for name in KNOWN_VENDORS
               if name not in discovery.plugins and name not in discovery.broken]
    epilog = None
    if missing:
        epilog = "not installed: " + ", ".join(f"{n} ({install_hint(n)})" for n in missing)
    parser = FinopsParser(
        prog=PROG,
        description="Open FinOps Stack: cost and usage data in DuckDB, with vendor plugins.",
        epilog=epilog,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action=_VersionAction,
                        help="list the installed open-finops distributions and exit")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND",
                                     help=f"one of these; '{PROG} COMMAND --help' tells more")
    plugins_parser = commands.add_parser(
        "plugins", help="list vendor plugins with their distributions and versions",
        description="List vendor plugins with their distributions and versions.")
    plugins_parser.set_defaults(handler=functools.partial(list_plugins, discovery))
    add_report_parser(commands)

    for name in sorted(discovery.plugins):
        loaded = discovery.plugins[name]
        vendor_parser = commands.add_parser(name, help=loaded.plugin.help,
                                            description=loaded.plugin.help)
        try:
            loaded.plugin.register(vendor_parser)
        except Exception as exc:  # a plugin's bug must not break the other commands
            _remove_subparser(commands, name)
            del discovery.plugins[name]
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            discovery.broken[name] = BrokenPlugin(
                name, loaded.distribution, loaded.version, f"register() raised {reason}")
    return parser


def list_plugins(discovery: Discovery, args: argparse.Namespace, config: Config) -> int:
    """`finops plugins`: one line per plugin, known vendor or broken entry point."""
    rows = [(name, f"{p.distribution} {p.version}", p.plugin.help)
            for name, p in discovery.plugins.items()]
    rows += [(name, f"{b.distribution} {b.version}", f"BROKEN: {b.reason}")
             for name, b in discovery.broken.items()]
    rows += [(name, "-", f"not installed: {install_hint(name)}")
             for name in KNOWN_VENDORS
             if name not in discovery.plugins and name not in discovery.broken]
    rows.sort()
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(2)]
    for name, origin, text in rows:
        print(f"{name.ljust(widths[0])}  {origin.ljust(widths[1])}  {text}")
    return 0


def add_report_parser(commands: argparse._SubParsersAction) -> None:
    from open_finops.core.reports import DIMENSIONS, REPORTS
    parser = commands.add_parser(
        "report", help="answer a FOCUS use case over every provider (--list lists them)",
        description="Run a report over the focus view of every provider in the database "
                    "(its published copy, so it works while an import runs), or write them "
                    "all as one HTML file: finops report html FILE. Reports: "
                    + ", ".join(REPORTS) + ".")
    parser.add_argument("name", nargs="?", metavar="REPORT",
                        help="the report to run, or html")
    parser.add_argument("file", nargs="?", metavar="FILE",
                        help="html: the file to write (- for stdout)")
    parser.add_argument("--list", action="store_true", help="list the reports and exit")
    parser.add_argument("--use-cases", action="store_true",
                        help="list the FOCUS use cases and the report that answers each")
    parser.add_argument("--by", metavar="DIMENSION[,...]",
                        help=f"group by {', '.join(DIMENSIONS)} or tag:KEY, or several "
                             "separated by commas (default provider)")
    parser.add_argument("--where", action="append", default=[], metavar="DIMENSION=VALUE",
                        help="only the rows with this value (repeatable)")
    parser.add_argument("--month", metavar="YYYY-MM", help="one billing month (default: the "
                        "latest in the database)")
    parser.add_argument("--from", dest="start", metavar="YYYY-MM",
                        help="first billing month (alone: to the latest)")
    parser.add_argument("--to", dest="end", metavar="YYYY-MM",
                        help="last billing month (alone: from the first)")
    parser.add_argument("--limit", type=int, help="movers: rows per month (10)")
    parser.add_argument("--sigmas", type=float,
                        help="anomalies: standard deviations above the trailing mean (3)")
    parser.add_argument("--window", type=int,
                        help=f"anomalies: days of the trailing mean (14; at most {MAX_WINDOW})")
    parser.add_argument("--tag", action="append", dest="tags", metavar="KEY",
                        help="untagged: a tag key to check (repeatable; default: the core "
                             "setting tag_keys, else every key found)")
    parser.add_argument("--format", choices=("table", "csv", "json"),
                        help="table for people (default); csv or json, exact, for scripts")
    parser.add_argument("--lake", metavar="LOCATION",
                        help="report over the lake a Spark build wrote (finops spark import "
                             "--lake) instead of the database")
    parser.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace, config: Config) -> int:
    """`finops report`: a report's rows on stdout, as a table, CSV or JSON; or the HTML
    report."""
    import math

    import duckdb

    from open_finops.core import reports, store
    from open_finops.core.errors import one_line
    from open_finops.core.tables import emit, render

    if args.use_cases:
        emit(render([f"FOCUS USE CASE ({reports.LIBRARY}...)", "CAPABILITY", "ANSWERED BY",
                     "NOTE"],
                    [(u.slug, u.capability, f"finops report {u.answer}" if u.answer else
                      "-", u.note or "-") for u in reports.USE_CASES]))
        return 0
    if args.list or not args.name:
        emit(render(["REPORT", "WHAT IT ANSWERS", "FOCUS USE CASES"],
                    [(r.name, r.meaning, str(len(r.use_cases)) if r.use_cases else "-")
                     for r in reports.REPORTS.values()]))
        return 0
    html = args.name == "html"
    if html and not args.file:
        raise reports.ReportError("report html: name the file to write, for example: "
                                  "finops report html costs.html")
    if not html and args.file:
        raise reports.ReportError(f"report {args.name}: unexpected argument {args.file!r}")
    chosen = None if html else reports.report(args.name)
    name = "html" if html else chosen.name
    given = {"--by": args.by, "--limit": args.limit, "--sigmas": args.sigmas,
             "--window": args.window, "--tag": args.tags,
             "--format": args.format if html else None}
    takes = HTML_OPTIONS if html else chosen.options
    for option, value in given.items():
        if value is not None and option not in takes:
            also = f" (it takes {', '.join(takes)})" if takes else ""
            raise reports.ReportError(f"report {name} takes no {option}{also}")
    defaults = reports.Params()
    by = reports.dimension(args.by or defaults.by)
    where = tuple(reports.condition(text) for text in args.where)
    limit = defaults.limit if args.limit is None else args.limit
    sigmas = defaults.sigmas if args.sigmas is None else args.sigmas
    window = defaults.window if args.window is None else args.window
    if limit < 1:
        raise reports.ReportError(f"--limit: expected 1 or more, got {limit}")
    if not 2 <= window <= MAX_WINDOW:
        raise reports.ReportError(f"--window: expected 2 to {MAX_WINDOW} days, got {window}")
    if not (math.isfinite(sigmas) and sigmas >= 0):
        raise reports.ReportError(f"--sigmas: expected a number, 0 or more, got {sigmas}")
    tags = tuple(args.tags or config.get("core", "tag_keys") or ())
    span = reports.months(args.start, args.end, args.month)
    if args.lake:
        database = args.lake
        con = reports.lake_connection(args.lake)
    else:
        database = store.published_path(config.database)
        if not database.exists():
            raise reports.ReportError(
                f"no cost data: {database} does not exist; import a bill first (finops aws "
                "--help, finops azure --help), or name the database with --database")
        con = store.connect(database, read_only=True)
    try:
        available = reports.billing_months(con)
        if not available:
            raise reports.ReportError(f"{database} holds no cost data yet; import a bill "
                                      "first (finops aws --help, finops azure --help)")
        start, end = span
        if start is None and end is None:
            start = end = available[-1]
        start, end = start or available[0], end or available[-1]
        if html and start != end:
            raise reports.ReportError(
                f"report html shows one month (and the months before it in its trend): give"
                f" --month, for example: finops report html {shlex.quote(args.file)} --month "
                f"{end}")
        if not [m for m in available if start <= m <= end]:
            asked = start if start == end else f"{start} to {end}"
            raise reports.ReportError(f"no cost data for {asked}; {database} holds "
                                      f"{available[0]} to {available[-1]}")
        params = reports.Params(start, end, by, limit, sigmas, window, tags, where)
        try:
            if html:
                from open_finops.core import html as page
                text = page.render(con, params, available)
            else:
                columns, rows = reports.run(con, chosen, params)
        except duckdb.Error as exc:
            raise FinopsError(f"report {name} failed over {database}: {one_line(exc)}"
                              ) from None
    finally:
        con.close()
    if not html:
        emit(reports.format_rows(columns, rows, args.format or "table"))
    elif args.file == "-":
        emit(text)
    else:
        from open_finops.core.html import write
        print(f"{PROG}: wrote {write(args.file, text)}", file=sys.stderr)
    return 0


def _setup_logging(verbosity: int) -> None:
    """-v shows info, -vv debug, from the open_finops loggers only (not boto3 and friends)."""
    for handler in list(log.handlers):
        if handler.get_name() == _LOG_HANDLER_NAME:
            log.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_LOG_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity else
                 logging.WARNING)
    log.propagate = False


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run(argv: Sequence[str], discovery: Discovery) -> int:
    """Everything `finops` does after plugin discovery; tests call it with their own."""
    parser = build_parser(discovery)
    for broken in discovery.broken.values():
        warn(broken.warning())

    command = command_word(argv)
    if command is not None and command not in discovery.plugins:
        if command in discovery.broken:
            error(f"{command!r} is not available: its plugin failed to load (see the warning"
                  " above)")
            return 1
        if command in KNOWN_VENDORS:
            error(f"{command!r} is not installed; install it with: {install_hint(command)}")
            return 1

    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_status(exc.code)

    _setup_logging(getattr(args, "verbose", 0))
    handler = getattr(args, "handler", None)
    if handler is None:
        getattr(args, "_finops_parser", parser).print_help()
        return 0

    # Sections of known vendors that are absent, and of broken plugins, are ignored.
    ignored = [name for name in KNOWN_VENDORS if name not in discovery.plugins]
    ignored += [name for name in discovery.broken if name not in ignored]
    try:
        config = Config.load(
            getattr(args, "config", None),
            plugins=[loaded.plugin for loaded in discovery.plugins.values()],
            cli={CORE_SECTION: {"database": getattr(args, "database", None)}},
            ignore_sections=ignored,
        )
        log.info("config file: %s", config.path or "none")
        return int(handler(args, config) or 0)
    except FinopsError as exc:
        error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """The console script `finops`."""
    return run(list(sys.argv[1:] if argv is None else argv), discover(reserved=CORE_COMMANDS))


if __name__ == "__main__":
    sys.exit(main())
