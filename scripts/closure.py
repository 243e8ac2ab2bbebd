#!/usr/bin/env python3
"""The third-party dependencies of the built wheels (the ledger's), for the wheelhouse and
the audit. Our own distributions (PACKAGES) are left out by name.

Usage: scripts/closure.py requirements   print the third-party requirements that the built
                                         wheels declare (any extra), markers evaluated for
                                         this interpreter, one per line, sorted
       scripts/closure.py pins REPORT    from a `pip install --dry-run --report` JSON, print
                                         "third-party<TAB>name==version" and
                                         "ours<TAB>name==version" lines, sorted
       scripts/closure.py layers         the upload layers as JSON, for the publish workflow:
                                         [[{"distribution": "open-finops-core"}], ...], each
                                         distribution one layer after all it depends on
"""
from __future__ import annotations

import json
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ledger  # noqa: E402


def ours() -> set[str]:
    return {canonicalize_name(name) for name, _ in ledger.packages()}


def wheel_metadata(path: Path) -> tuple[list[str], list[str]]:
    """(Requires-Dist, Provides-Extra) of a wheel."""
    with zipfile.ZipFile(path) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        meta = HeaderParser().parsestr(wheel.read(name).decode("utf-8"))
    return meta.get_all("Requires-Dist") or [], meta.get_all("Provides-Extra") or []


def third_party_requirements(wheels: list[Path], own: set[str]) -> list[str]:
    found: set[str] = set()
    for wheel in wheels:
        requires, extras = wheel_metadata(wheel)
        for line in requires:
            req = Requirement(line)
            if canonicalize_name(req.name) in own:
                continue
            if req.marker and not any(req.marker.evaluate({"extra": e}) for e in ["", *extras]):
                continue
            req.marker = None
            found.add(str(req))
    return sorted(found)


def layers(data: dict) -> list[list[dict[str, str]]]:
    """Our distributions by upload layer: those needing none of ours first, then those
    needing only earlier layers (any extra counts), in PACKAGES order within a layer."""
    own = {canonicalize_name(n): n for n, _ in ledger.packages()}
    needs: dict[str, set[str]] = {}
    for f in data["files"]:
        if f["filename"].endswith(".whl"):
            requires, _ = wheel_metadata(ledger.ROOT / f["path"])
            needs[f["distribution"]] = {own[c] for c in
                                        (canonicalize_name(Requirement(r).name) for r in requires)
                                        if c in own and own[c] != f["distribution"]}
    layer: dict[str, int] = {}

    def depth(name: str, seen: tuple[str, ...] = ()) -> int:
        if name in seen:
            raise ledger.LedgerError(f"our distributions depend on each other in a cycle: {seen}")
        if name not in layer:
            layer[name] = 1 + max((depth(d, (*seen, name)) for d in needs.get(name, ())),
                                  default=-1)
        return layer[name]

    for name, _ in ledger.packages():
        depth(name)
    result: list[list[dict[str, str]]] = [[] for _ in range(max(layer.values()) + 1)]
    for name, _ in ledger.packages():
        result[layer[name]].append({"distribution": name})
    return result


def pins(report: dict) -> list[tuple[str, str]]:
    own = ours()
    result = []
    for item in report.get("install", []):
        meta = item["metadata"]
        kind = "ours" if canonicalize_name(meta["name"]) in own else "third-party"
        result.append((kind, f"{canonicalize_name(meta['name'])}=={meta['version']}"))
    return sorted(result)


def main(argv: list[str]) -> int:
    if len(argv) == 1 and argv[0] == "requirements":
        data = ledger.load(ledger.ledger_path(ledger.current_version()))
        wheels = [ledger.ROOT / f["path"] for f in data["files"] if f["filename"].endswith(".whl")]
        for line in third_party_requirements(wheels, ours()):
            print(line)
        return 0
    if len(argv) == 1 and argv[0] == "layers":
        print(json.dumps(layers(ledger.load(ledger.ledger_path(ledger.current_version())))))
        return 0
    if len(argv) == 2 and argv[0] == "pins":
        for kind, pin in pins(json.loads(Path(argv[1]).read_text(encoding="utf-8"))):
            print(f"{kind}\t{pin}")
        return 0
    print(__doc__, file=sys.stderr)
    return 0 if argv in (["-h"], ["--help"]) else 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ledger.LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
