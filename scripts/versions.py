#!/usr/bin/env python3
"""Version sites of the repository, for scripts/check-versions and scripts/bump.

Usage: scripts/versions.py COMMAND ...
  check                  print every version site as a table (FILE LINE KIND VERSION) on
                         stdout; exit 1 with one line per problem on stderr: a site that
                         disagrees with .bumpversion.cfg, or a mismatch between the files
                         bump2version edits and the files holding sites
  files                  the files `make bump` rewrites: .bumpversion.cfg's [bumpversion:file:]
                         files, .bumpversion.cfg and CHANGELOG.md
  next (--version X.Y.Z | --part major|minor|patch)
                         print the next release version; exit 2 unless it is a final release
                         X.Y.Z greater than the current one
  changelog VERSION DATE move CHANGELOG.md's Unreleased section under "## [VERSION] - DATE"
                         and leave a fresh, empty Unreleased section on top

The sites are found, not listed: for every distribution in PACKAGES ("name=dir", exported by
the Makefile), `version=` in dir/setup.py, each quoted requirement of a distribution of
PACKAGES in it (`"<sibling>==X"`; another specifier, or none, is reported as unpinned), and
`__version__` in each dir/open_finops/*/__init__.py; plus .bumpversion.cfg's current_version.
Python because the table, the regular expressions and the cross-checks are clumsy in shell.
"""
from __future__ import annotations

import argparse
import configparser
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ledger import LedgerError, current_version, packages  # noqa: E402  (scripts/ledger.py)

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ".bumpversion.cfg"
CHANGELOG = "CHANGELOG.md"
RELEASE = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
SETUP_VERSION = re.compile(r"""(?<![\w.])version\s*=\s*(["'])(?P<version>[^"']*)\1""")
DUNDER_VERSION = re.compile(r"""^__version__\s*=\s*(["'])(?P<version>[^"']*)\1""")
CONFIG_VERSION = re.compile(r"^current_version\s*=\s*(?P<version>\S*)\s*$")
FILE_SECTION = re.compile(r"^bumpversion:file(\([^):]*\))?:(?P<path>.+)$")
PARTS = ("major", "minor", "patch")


class UsageError(Exception):
    """A bad argument: exit 2."""


@dataclass(frozen=True)
class Site:
    file: str
    line: int
    kind: str
    version: str


def rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def pin_pattern(names: list[str]) -> re.Pattern[str]:
    """A quoted requirement of a sibling: "open-finops-core==0.3.0", with any specifier, extras
    or none at all ("open-finops-core" alone is a requirement that pins nothing)."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    # The whole quoted string is the requirement: name, [extras], specifiers, ; marker.
    return re.compile(rf"""(["'])(?P<name>{alternatives})(?![\w.-])(?:\[[^\]"']*\])?\s*"""
                      rf"""(?:(?P<op>[=<>!~]=?=?)\s*(?P<version>[^"';,\s]*)[^"';]*)?"""
                      rf"""(?:;(?:(?!\1).)*)?\1""")


#: A distribution's own name= in its setup.py: the same quoted text as a bare requirement.
NAME_ARGUMENT = re.compile(r"\bname\s*=\s*$")
UNVERSIONED = "any"


def find_sites(root: Path = ROOT) -> list[Site]:
    """Every version site, .bumpversion.cfg first, then per distribution in PACKAGES order."""
    sites = []
    config = root / CONFIG
    for number, text in enumerate(config.read_text(encoding="utf-8").splitlines(), 1):
        if m := CONFIG_VERSION.match(text):
            sites.append(Site(CONFIG, number, "current_version", m["version"]))
    pkgs = packages(root)
    pins = pin_pattern([name for name, _ in pkgs])
    for _name, directory in pkgs:
        base = root / directory
        setup = base / "setup.py"
        if setup.is_file():
            for number, text in enumerate(setup.read_text(encoding="utf-8").splitlines(), 1):
                if m := SETUP_VERSION.search(text):
                    sites.append(Site(rel(setup, root), number, "version", m["version"]))
                for m in pins.finditer(text):
                    if NAME_ARGUMENT.search(text[:m.start()]):
                        continue
                    if m["op"] is None:
                        version = UNVERSIONED
                    else:
                        version = m["version"] if m["op"] == "==" else f"{m['op']}{m['version']}"
                    sites.append(Site(rel(setup, root), number, f"pin {m['name']}", version))
        for init in sorted(base.glob("open_finops/*/__init__.py")):
            for number, text in enumerate(init.read_text(encoding="utf-8").splitlines(), 1):
                if m := DUNDER_VERSION.match(text):
                    sites.append(Site(rel(init, root), number, "__version__", m["version"]))
    return sites


def bumped_files(root: Path = ROOT) -> dict[str, str]:
    """The files bump2version edits, each with its search pattern."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(root / CONFIG, encoding="utf-8")
    default = cfg.get("bumpversion", "search", fallback="{current_version}")
    files = {}
    for section in cfg.sections():
        if m := FILE_SECTION.match(section):
            files[m["path"].strip()] = cfg.get(section, "search", fallback=default)
    return files


def problems(sites: list[Site], root: Path = ROOT) -> list[str]:
    """One line per problem, each naming the file, the line and the fix."""
    found = []
    current = current_version(root)
    for s in sites:
        if s.kind.startswith("pin ") and not RELEASE.fullmatch(s.version):
            what = "has no version" if s.version == UNVERSIONED else f"is '{s.version}'"
            found.append(f"{s.file}:{s.line}: {s.kind} {what}, not pinned; pin it "
                         f"as {s.kind[4:]}=={current} (siblings release together)")
        elif s.version != current:
            found.append(f"{s.file}:{s.line}: {s.kind} is {s.version}, .bumpversion.cfg says "
                         f"{current}; run 'make bump' to change every site at once, or edit "
                         f"this line back to {current}")
    for _name, directory in packages(root):
        base = root / directory
        for init in sorted(base.glob("open_finops/*/__init__.py")):
            if not any(s.file == rel(init, root) for s in sites):
                found.append(f"{rel(init, root)}:1: no __version__; add "
                             f'__version__ = "{current}"')
        if (base / "setup.py").is_file() and not any(
                s.file == rel(base / "setup.py", root) and s.kind == "version" for s in sites):
            found.append(f"{rel(base / 'setup.py', root)}:1: no version= in setup(); add "
                         f'version="{current}"')
    bumped = bumped_files(root)
    holding = {s.file for s in sites if s.file != CONFIG}
    for path in sorted(holding - bumped.keys()):
        found.append(f"{path}:1: holds version sites but bump2version does not edit it; add a "
                     f"[bumpversion:file:{path}] section to .bumpversion.cfg")
    for path, search in bumped.items():
        if path not in holding:
            found.append(f"{CONFIG}:1: bump2version edits {path}, which holds no version site; "
                         f"remove its [bumpversion:file:{path}] section")
            continue
        # bump2version replaces every occurrence of the search text in the file: each must be
        # a site (or it bumps a third-party requirement), and each site must be found.
        needle = search.format(current_version=current).splitlines()[0]
        lines = (root / path).read_text(encoding="utf-8").splitlines()
        site_lines = {s.line for s in sites if s.file == path}
        for number, text in enumerate(lines, 1):
            if needle in text and number not in site_lines:
                found.append(f"{path}:{number}: bump2version would change '{needle}' here, "
                             "which is not a version site; give the .bumpversion.cfg section "
                             "a narrower search, or change this line")
        for number in sorted(site_lines):
            if needle not in lines[number - 1] and all(
                    s.version == current for s in sites if (s.file, s.line) == (path, number)):
                found.append(f"{path}:{number}: bump2version's search '{search}' misses this "
                             "site; fix the search of its .bumpversion.cfg section")
    return found


def table(sites: list[Site]) -> str:
    rows = [("FILE", "LINE", "KIND", "VERSION")]
    rows += [(s.file, str(s.line), s.kind, s.version) for s in sites]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows)


def parse_release(value: str) -> tuple[int, int, int]:
    m = RELEASE.fullmatch(value)
    if not m:
        raise UsageError(f"'{value}' is not a final release version X.Y.Z (digits only, "
                         "e.g. 0.3.1); use VERSION=X.Y.Z or PART=major|minor|patch")
    return int(m[1]), int(m[2]), int(m[3])


def next_version(current: str, version: str | None = None, part: str | None = None) -> str:
    major, minor, patch = parse_release(current)
    if (version is None) == (part is None):
        raise UsageError("give exactly one of VERSION=X.Y.Z or PART=major|minor|patch")
    if part is not None:
        if part not in PARTS:
            raise UsageError(f"PART '{part}' is not one of major, minor, patch")
        return {
            "major": f"{major + 1}.0.0",
            "minor": f"{major}.{minor + 1}.0",
            "patch": f"{major}.{minor}.{patch + 1}",
        }[part]
    assert version is not None
    if parse_release(version) <= (major, minor, patch):
        raise UsageError(f"VERSION {version} is not greater than the current {current}; "
                         "choose a higher X.Y.Z")
    return version


UNRELEASED = re.compile(r"^## \[Unreleased\]\s*$", re.MULTILINE)
UNRELEASED_LINK = re.compile(r"^\[Unreleased\]:\s*(?P<base>\S+)/compare/(?P<old>\S+)\.\.\.HEAD\s*$",
                             re.MULTILINE)


def changelog(text: str, version: str, date: str) -> tuple[str, bool]:
    """CHANGELOG.md with the Unreleased section released as VERSION on DATE; also whether the
    released section had any content."""
    m = UNRELEASED.search(text)
    if not m:
        raise ValueError("CHANGELOG.md has no '## [Unreleased]' section; add one above the "
                         "latest release")
    if re.search(rf"^## \[{re.escape(version)}\]", text, re.MULTILINE):
        raise ValueError(f"CHANGELOG.md already has a section for {version}; remove it or "
                         "choose another version")
    start = m.end()
    following = re.search(r"^## |^\[[^\]]+\]:", text[start:], re.MULTILINE)
    end = start + following.start() if following else len(text)
    body = text[start:end].strip("\n")
    released = f"## [Unreleased]\n\n## [{version}] - {date}\n"
    released += f"\n{body}\n\n" if body else "\n"
    text = text[:m.start()] + released + text[end:]
    if link := UNRELEASED_LINK.search(text):
        tag = f"v{version}"
        text = (text[:link.start()]
                + f"[Unreleased]: {link['base']}/compare/{tag}...HEAD\n"
                + f"[{version}]: {link['base']}/compare/{link['old']}...{tag}"
                + text[link.end():])
    return text, bool(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/versions.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check")
    sub.add_parser("files")
    nxt = sub.add_parser("next")
    nxt.add_argument("--version")
    nxt.add_argument("--part")
    log = sub.add_parser("changelog")
    log.add_argument("version")
    log.add_argument("date")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            sites = find_sites()
            print(table(sites))
            found = problems(sites)
            for line in found:
                print(f"error: {line}", file=sys.stderr)
            return 1 if found else 0
        if args.command == "files":
            for path in [*bumped_files(), CONFIG, CHANGELOG]:
                print(path)
        elif args.command == "next":
            print(next_version(current_version(), args.version or None, args.part or None))
        elif args.command == "changelog":
            parse_release(args.version)
            path = ROOT / CHANGELOG
            try:
                text, has_notes = changelog(path.read_text(encoding="utf-8"), args.version,
                                            args.date)
            except FileNotFoundError:
                raise ValueError("no CHANGELOG.md; create one with a '## [Unreleased]' "
                                 "section") from None
            path.write_text(text, encoding="utf-8")
            if not has_notes:
                print(f"warning: CHANGELOG.md's Unreleased section was empty; {args.version} "
                      "is released without notes", file=sys.stderr)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, LedgerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
