#!/usr/bin/env python3
"""Checks of one `pip install --report` made by scripts/verify: the guard against a broken
release and against dependency confusion.

Usage: scripts/install_check.py specs
           print the install specs: the meta-package, one per extra, in PACKAGES order
       scripts/install_check.py report --spec SPEC --report FILE [--ledger FILE]
           exit 1, one line per problem, unless
           - every open-finops distribution the spec needs was installed, and every one of
             ours that was installed is at exactly the ledger's version;
           - each of our files came from INDEX_URL: its URL is one that INDEX_URL's simple
             page lists for the project, and its sha256 is the ledger's for that file name.

INDEX_URL is the simple index installed from. Exit codes: 0 ok, 1 problems, 2 usage error.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
import closure  # noqa: E402
import index_page  # noqa: E402
import ledger  # noqa: E402


def meta_package() -> str:
    """The meta-package: the distribution built from the repository root."""
    for name, directory in ledger.packages():
        if directory in (".", "./"):
            return name
    raise ledger.LedgerError("no distribution at '.' in PACKAGES: no meta-package")


def meta_requirements(data: dict[str, Any]) -> tuple[list[str], list[Requirement]]:
    """(extras, requirements) of the meta-package's built wheel."""
    meta = canonicalize_name(meta_package())
    wheel = next(ledger.ROOT / f["path"] for f in data["files"]
                 if canonicalize_name(f["distribution"]) == meta and f["path"].endswith(".whl"))
    requires, extras = closure.wheel_metadata(wheel)
    return extras, [Requirement(r) for r in requires]


def specs(data: dict[str, Any]) -> list[str]:
    meta = meta_package()
    extras, requires = meta_requirements(data)
    # An extra that adds nothing to the plain install ("core") is not a spec of its own.
    plain = {canonicalize_name(r.name) for r in requires if not r.marker}
    useful = [e for e in extras
              if {canonicalize_name(r.name) for r in requires
                  if r.marker and r.marker.evaluate({"extra": e})} - plain]
    return [meta, *(f"{meta}[{e}]" for e in useful)]


def expected(data: dict[str, Any], spec: str) -> set[str]:
    """Our distributions that installing SPEC must bring in (closure over our own wheels)."""
    ours = {canonicalize_name(n) for n, _ in ledger.packages()}
    req = Requirement(spec)
    requires_of: dict[str, list[Requirement]] = {}
    for f in data["files"]:
        if f["path"].endswith(".whl"):
            requires, _ = closure.wheel_metadata(ledger.ROOT / f["path"])
            requires_of[canonicalize_name(f["distribution"])] = [Requirement(r) for r in requires]
    want: set[str] = set()
    todo = [(canonicalize_name(req.name), set(req.extras))]
    while todo:
        name, extras = todo.pop()
        if name in want:
            continue
        want.add(name)
        for r in requires_of.get(name, []):
            dep = canonicalize_name(r.name)
            if dep in ours and (not r.marker or any(r.marker.evaluate({"extra": e})
                                                    for e in ["", *extras])):
                todo.append((dep, set(r.extras)))
    return want


def report_sha256(item: dict[str, Any]) -> str:
    info = item.get("download_info", {}).get("archive_info", {})
    digest = info.get("hashes", {}).get("sha256")
    if not digest and info.get("hash", "").startswith("sha256="):
        digest = info["hash"].split("=", 1)[1]
    return digest or ""


def check(data: dict[str, Any], spec: str, report: dict[str, Any], index_url: str) -> list[str]:
    ours = {canonicalize_name(n) for n, _ in ledger.packages()}
    by_filename = {f["filename"]: f for f in data["files"]}
    version = data["version"]
    problems = []
    installed = {}
    for item in report.get("install", []):
        name = canonicalize_name(item["metadata"]["name"])
        if name in ours:
            installed[name] = item
    for name in sorted(expected(data, spec) - set(installed)):
        problems.append(f"{name} was not installed")
    pages: dict[str, dict[str, dict[str, str]]] = {}
    for name, item in sorted(installed.items()):
        got = item["metadata"]["version"]
        if got != version:
            problems.append(f"{name} {got} installed, not {version}")
        url = item.get("download_info", {}).get("url", "")
        filename = re.sub(r"[?#].*$", "", url).rsplit("/", 1)[-1]
        built = by_filename.get(filename)
        if built is None:
            problems.append(f"{name}: installed from {filename or url!r}, not a file of the ledger")
            continue
        if name not in pages:
            pages[name] = index_page.fetch(index_url, name)
        listed = {f["url"] for f in pages[name].values()}
        if url.split("#")[0] not in listed:
            problems.append(f"{name}: {url} is not a file that {index_url} lists "
                            "(dependency confusion?)")
        if report_sha256(item) != built["sha256"]:
            problems.append(f"{name}: {filename} has sha256 {report_sha256(item)[:12]}..., "
                            f"the ledger says {built['sha256'][:12]}...")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/install_check.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ledger", type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("specs")
    p = sub.add_parser("report")
    p.add_argument("--spec", required=True)
    p.add_argument("--report", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        path = args.ledger or ledger.ledger_path(ledger.current_version())
        data = ledger.load(path)
        if args.command == "specs":
            print("\n".join(specs(data)))
            return 0
        index_url = os.environ.get("INDEX_URL") or parser.error("INDEX_URL is not set")
        problems = check(data, args.spec, json.loads(args.report.read_text()), index_url)
    except (ledger.LedgerError, index_page.IndexProblem) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
