"""The install specs of a release and the checks of one `pip install --report` made by
scripts/verify: the guard against a broken release and against dependency confusion.

A report passes when every open-finops distribution the spec needs was installed, every one of
ours that was installed is at exactly the ledger's version, and each of our files came from
INDEX_URL: its URL is one that INDEX_URL's simple page lists for the project, and its sha256
is the ledger's for that file name.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from releasekit import closure, index, repo
from releasekit.errors import Failure


def meta_requirements(data: dict[str, Any]) -> tuple[list[str], list[Requirement]]:
    """(extras, requirements) of the meta-package's built wheel."""
    meta = repo.canonical(repo.meta_package().name)
    wheel = next(w for w in closure.built_wheels(data)
                 if repo.canonical(w.distribution) == meta)
    return wheel.extras, [Requirement(r) for r in wheel.requires]


def specs(data: dict[str, Any]) -> list[str]:
    meta = repo.meta_package().name
    extras, requires = meta_requirements(data)
    # An extra that adds nothing to the plain install ("core") is not a spec of its own.
    plain = {repo.canonical(r.name) for r in requires if not r.marker}
    useful = [e for e in extras
              if {repo.canonical(r.name) for r in requires
                  if r.marker and r.marker.evaluate({"extra": e})} - plain]
    return [meta, *(f"{meta}[{e}]" for e in useful)]


def expected(data: dict[str, Any], spec: str) -> set[str]:
    """Our distributions that installing SPEC must bring in (closure over our own wheels)."""
    ours = closure.ours()
    req = Requirement(spec)
    requires_of = {repo.canonical(w.distribution): [Requirement(r) for r in w.requires]
                   for w in closure.built_wheels(data)}
    want: set[str] = set()
    todo = [(repo.canonical(req.name), set(req.extras))]
    while todo:
        name, extras = todo.pop()
        if name in want:
            continue
        want.add(name)
        for r in requires_of.get(name, []):
            dep = repo.canonical(r.name)
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
    ours = closure.ours()
    by_filename = {f["filename"]: f for f in data["files"]}
    version = data["version"]
    problems = []
    installed = {}
    for item in report.get("install", []):
        name = repo.canonical(item["metadata"]["name"])
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
            pages[name] = index.fetch(index_url, name)
        listed = {f["url"] for f in pages[name].values()}
        if url.split("#")[0] not in listed:
            problems.append(f"{name}: {url} is not a file that {index_url} lists "
                            "(dependency confusion?)")
        if report_sha256(item) != built["sha256"]:
            problems.append(f"{name}: {filename} has sha256 {report_sha256(item)[:12]}..., "
                            f"the ledger says {built['sha256'][:12]}...")
    return problems


def check_report(data: dict[str, Any], spec: str, report: Path, index_url: str) -> None:
    problems = check(data, spec, json.loads(report.read_text(encoding="utf-8")), index_url)
    if problems:
        raise Failure("\n".join(problems))


def write_results(results_tsv: Path, out: Path, index_url: str, version: str) -> None:
    """dist/verify-VERSION.json from scripts/verify's "spec<TAB>result<TAB>seconds" lines."""
    rows = [line.split("\t") for line in results_tsv.read_text(encoding="utf-8").splitlines()]
    repo.atomic_write(out, json.dumps({
        "index_url": index_url, "version": version,
        "results": [{"spec": s, "result": r, "seconds": int(t)} for s, r, t in rows],
    }, indent=2) + "\n")
