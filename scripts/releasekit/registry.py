"""Every place outside the package list that must know the vendors, checked against it (run
by check-versions). Each problem names the file and the line to add.

The places that derive the list instead (the Makefile's upload chain, the release order, the
build, check, audit, upload and verify verbs, the install specs, the workflow's upload layers,
the tests) need no check: they read PACKAGES.
"""
from __future__ import annotations

import re
from pathlib import Path

from releasekit import repo

KNOWN_VENDORS = "core/open_finops/core/plugins.py"
KNOWN_VENDORS_LINE = re.compile(r"^KNOWN_VENDORS\b.*?=\s*\{(?P<body>[^}]*)\}", re.MULTILINE)
EXTRAS_LINE = re.compile(r"""^\s*(["'])(?P<extra>[\w-]+)\1\s*:\s*\[(?P<body>[^\]]*)\]""",
                         re.MULTILINE)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def directories(root: Path) -> list[str]:
    """Problems: a vendors/<name>/setup.py not in PACKAGES, or a PACKAGES directory without one."""
    found = []
    listed = {p.directory for p in repo.packages(root)}
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    m = re.search(r"^PACKAGES\s*:?=", makefile, re.MULTILINE)
    where = f"Makefile:{line_of(makefile, m.start()) if m else 1}"
    for setup in sorted(root.glob("vendors/*/setup.py")):
        directory = setup.parent.relative_to(root).as_posix()
        if directory not in listed:
            name = f"{repo.PREFIX}-{setup.parent.name}"
            found.append(f"{where}: PACKAGES lacks {directory}; add {name}={directory} before "
                         "the meta-package (open-finops=.)")
    for p in repo.packages(root):
        if not (root / p.directory / "setup.py").is_file():
            found.append(f"{where}: PACKAGES names {p.directory}, which has no setup.py; "
                         f"remove {p.name}={p.directory} or add the distribution")
    pkgs = repo.packages(root)
    if pkgs and (pkgs[0].name != repo.CORE or pkgs[-1].module is not None):
        found.append(f"{where}: PACKAGES must start with {repo.CORE} and end with the "
                     "meta-package (the upload chain is derived from that order)")
    return found


def known_vendors(root: Path) -> list[str]:
    path = root / KNOWN_VENDORS
    text = path.read_text(encoding="utf-8")
    m = KNOWN_VENDORS_LINE.search(text)
    if not m:
        return [f"{KNOWN_VENDORS}:1: no KNOWN_VENDORS mapping; add "
                "KNOWN_VENDORS: Mapping[str, str] = {...}"]
    have = dict(re.findall(r"""["']([\w-]+)["']\s*:\s*["']([\w-]+)["']""", m["body"]))
    where = f"{KNOWN_VENDORS}:{line_of(text, m.start())}"
    found = []
    vendors = [p.module for p in repo.packages(root) if p.is_vendor]
    for vendor in vendors:
        if have.get(vendor) != vendor:
            found.append(f'{where}: KNOWN_VENDORS lacks "{vendor}": "{vendor}"; add it')
    for name in sorted(set(have) - set(vendors)):
        found.append(f'{where}: KNOWN_VENDORS names "{name}", which is not in PACKAGES; '
                     "remove it")
    return found


def extras(root: Path) -> list[str]:
    """The meta-package's setup.py: an extra per vendor, and `all` with every vendor."""
    meta = repo.meta_package(root)
    rel = (Path(meta.directory) / "setup.py").as_posix()
    text = (root / rel).read_text(encoding="utf-8")
    start = text.find("extras_require")
    where = f"{rel}:{line_of(text, start) if start >= 0 else 1}"
    have = {m["extra"]: set(re.findall(r"""["']([\w.-]+?)\s*(?:==[^"']*)?["']""", m["body"]))
            for m in EXTRAS_LINE.finditer(text, max(start, 0))}
    version = repo.current_version(root)
    found = []
    vendors = [p for p in repo.packages(root) if p.is_vendor]
    for p in vendors:
        if p.name not in have.get(p.module or "", set()):
            found.append(f'{where}: extras_require lacks "{p.module}": '
                         f'["{p.name}=={version}"]; add it')
    missing = [p.name for p in vendors if p.name not in have.get("all", set())]
    if missing:
        found.append(f'{where}: extras_require\'s "all" lacks {", ".join(missing)}; add '
                     + ", ".join(f'"{n}=={version}"' for n in missing))
    return found


def problems(root: Path = repo.ROOT) -> list[str]:
    return [*directories(root), *known_vendors(root), *extras(root)]
