"""Version sites of the repository (check-versions, bump): found, not listed.

For every distribution of the package list, `version=` in dir/setup.py, each quoted
requirement of a distribution of the list in it (`"<sibling>==X"`; another specifier, or
none, is reported as unpinned), and `__version__` in each dir/open_finops/*/__init__.py; plus
.bumpversion.cfg's current_version. Also the next version and CHANGELOG.md's sections.
"""
from __future__ import annotations

import configparser
import re
from dataclasses import dataclass
from pathlib import Path

from releasekit import repo
from releasekit.errors import Failure, UsageError

CONFIG = ".bumpversion.cfg"
CHANGELOG = "CHANGELOG.md"
RELEASE = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
SETUP_VERSION = re.compile(r"""(?<![\w.])version\s*=\s*(["'])(?P<version>[^"']*)\1""")
DUNDER_VERSION = re.compile(r"""^__version__\s*=\s*(["'])(?P<version>[^"']*)\1""")
CONFIG_VERSION = re.compile(r"^current_version\s*=\s*(?P<version>\S*)\s*$")
FILE_SECTION = re.compile(r"^bumpversion:file(\([^):]*\))?:(?P<path>.+)$")
PARTS = ("major", "minor", "patch")


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


def find_sites(root: Path = repo.ROOT) -> list[Site]:
    """Every version site, .bumpversion.cfg first, then per distribution in PACKAGES order."""
    sites = []
    config = root / CONFIG
    for number, text in enumerate(config.read_text(encoding="utf-8").splitlines(), 1):
        if m := CONFIG_VERSION.match(text):
            sites.append(Site(CONFIG, number, "current_version", m["version"]))
    pkgs = repo.packages(root)
    pins = pin_pattern([p.name for p in pkgs])
    for p in pkgs:
        base = root / p.directory
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


def bumped_files(root: Path = repo.ROOT) -> dict[str, str]:
    """The files bump2version edits, each with its search pattern."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(root / CONFIG, encoding="utf-8")
    default = cfg.get("bumpversion", "search", fallback="{current_version}")
    files = {}
    for section in cfg.sections():
        if m := FILE_SECTION.match(section):
            files[m["path"].strip()] = cfg.get(section, "search", fallback=default)
    return files


def problems(sites: list[Site], root: Path = repo.ROOT) -> list[str]:
    """One line per problem, each naming the file, the line and the fix."""
    found = []
    current = repo.current_version(root)
    for s in sites:
        if s.kind.startswith("pin ") and not RELEASE.fullmatch(s.version):
            what = "has no version" if s.version == UNVERSIONED else f"is '{s.version}'"
            found.append(f"{s.file}:{s.line}: {s.kind} {what}, not pinned; pin it "
                         f"as {s.kind[4:]}=={current} (siblings release together)")
        elif s.version != current:
            found.append(f"{s.file}:{s.line}: {s.kind} is {s.version}, .bumpversion.cfg says "
                         f"{current}; run 'make bump' to change every site at once, or edit "
                         f"this line back to {current}")
    for p in repo.packages(root):
        base = root / p.directory
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
EMPTY_UNRELEASED = ("CHANGELOG.md's Unreleased section is empty: add your changes under "
                    "## [Unreleased] in CHANGELOG.md first, commit, then run make bump again")


def unreleased(text: str) -> tuple[int, int, str]:
    """(start, end, body) of CHANGELOG.md's Unreleased section."""
    m = UNRELEASED.search(text)
    if not m:
        raise Failure("CHANGELOG.md has no '## [Unreleased]' section; add one above the "
                      "latest release")
    start = m.end()
    following = re.search(r"^## |^\[[^\]]+\]:", text[start:], re.MULTILINE)
    end = start + following.start() if following else len(text)
    return m.start(), end, text[start:end].strip("\n")


def changelog(text: str, version: str, date: str) -> str:
    """CHANGELOG.md with the Unreleased section released as VERSION on DATE. A release
    without notes is refused (UsageError): say what changed first."""
    if re.search(rf"^## \[{re.escape(version)}\]", text, re.MULTILINE):
        raise Failure(f"CHANGELOG.md already has a section for {version}; remove it or "
                      "choose another version")
    begin, end, body = unreleased(text)
    if not body.strip():
        raise UsageError(EMPTY_UNRELEASED)
    released = f"## [Unreleased]\n\n## [{version}] - {date}\n\n{body}\n\n"
    text = text[:begin] + released + text[end:]
    if link := UNRELEASED_LINK.search(text):
        tag = f"v{version}"
        text = (text[:link.start()]
                + f"[Unreleased]: {link['base']}/compare/{tag}...HEAD\n"
                + f"[{version}]: {link['base']}/compare/{link['old']}...{tag}"
                + text[link.end():])
    return text


def changelog_path(root: Path = repo.ROOT) -> Path:
    path = root / CHANGELOG
    if not path.is_file():
        raise Failure("no CHANGELOG.md; create one with a '## [Unreleased]' section")
    return path


def require_notes(root: Path = repo.ROOT) -> None:
    """The bump's check before any edit: the Unreleased section says what changed."""
    if not unreleased(changelog_path(root).read_text(encoding="utf-8"))[2].strip():
        raise UsageError(EMPTY_UNRELEASED)


def release_changelog(version: str, date: str, root: Path = repo.ROOT) -> None:
    parse_release(version)
    path = changelog_path(root)
    path.write_text(changelog(path.read_text(encoding="utf-8"), version, date),
                    encoding="utf-8")


def check(root: Path = repo.ROOT) -> tuple[str, list[str]]:
    """(the table of sites, the problems) of the tree."""
    sites = find_sites(root)
    return table(sites), problems(sites, root)


def bump_files(root: Path = repo.ROOT) -> list[str]:
    """The files `make bump` rewrites."""
    return [*bumped_files(root), CONFIG, CHANGELOG]
