"""The third-party dependencies of the built wheels (the ledger's), for the wheelhouse and the
audit, and the upload layers. Our own distributions (the package list) are left out by name."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from releasekit import dists, ledger, repo
from releasekit.errors import Failure


def ours(root: Path = repo.ROOT) -> set[str]:
    return {repo.canonical(p.name) for p in repo.packages(root)}


def built_wheels(data: dict[str, Any], root: Path = repo.ROOT) -> list[dists.Built]:
    return [dists.read(f["distribution"], root / f["path"], f["path"])
            for f in data["files"] if f["filename"].endswith(".whl")]


def third_party_requirements(wheels: list[dists.Built], own: set[str]) -> list[str]:
    """Every third-party requirement the wheels declare (any extra), markers evaluated for
    this interpreter, sorted."""
    found: set[str] = set()
    for wheel in wheels:
        for line in wheel.requires:
            req = Requirement(line)
            if repo.canonical(req.name) in own:
                continue
            if req.marker and not any(req.marker.evaluate({"extra": e})
                                      for e in ["", *wheel.extras]):
                continue
            req.marker = None
            found.add(str(req))
    return sorted(found)


def requirements(root: Path = repo.ROOT) -> list[str]:
    data = ledger.load(ledger.current_path(root))
    return third_party_requirements(built_wheels(data, root), ours(root))


def layers(data: dict[str, Any], root: Path = repo.ROOT) -> list[list[dict[str, str]]]:
    """Our distributions by upload layer: those needing none of ours first, then those
    needing only earlier layers (any extra counts), in package-list order within a layer."""
    pkgs = repo.packages(root)
    own = {repo.canonical(p.name): p.name for p in pkgs}
    needs: dict[str, set[str]] = {}
    for wheel in built_wheels(data, root):
        needs[wheel.distribution] = {
            own[c] for c in (repo.canonical(Requirement(r).name) for r in wheel.requires)
            if c in own and own[c] != wheel.distribution}
    layer: dict[str, int] = {}

    def depth(name: str, seen: tuple[str, ...] = ()) -> int:
        if name in seen:
            raise Failure(f"our distributions depend on each other in a cycle: {seen}")
        if name not in layer:
            layer[name] = 1 + max((depth(d, (*seen, name)) for d in needs.get(name, ())),
                                  default=-1)
        return layer[name]

    for p in pkgs:
        depth(p.name)
    result: list[list[dict[str, str]]] = [[] for _ in range(max(layer.values()) + 1)]
    for p in pkgs:
        result[layer[p.name]].append({"distribution": p.name})
    return result


def pins(report: dict[str, Any], root: Path = repo.ROOT) -> list[tuple[str, str]]:
    """From a `pip install --dry-run --report`: ("ours"|"third-party", "name==version")."""
    own = ours(root)
    result = []
    for item in report.get("install", []):
        meta = item["metadata"]
        kind = "ours" if repo.canonical(meta["name"]) in own else "third-party"
        result.append((kind, f"{repo.canonical(meta['name'])}=={meta['version']}"))
    return sorted(result)


def resolve(wheelhouse: Path, workdir: Path, root: Path = repo.ROOT,
            third_party: list[str] | None = None) -> list[tuple[str, str]]:
    """The pins of the install closure of every built wheel plus every third-party requirement
    (any extra), for this interpreter, offline: from the built wheels and the wheelhouse only.
    uv resolves it (`uv pip compile`, as `pip install --dry-run --no-index --find-links` did;
    tests/releasekit/test_speed_choices.py shows the same pins)."""
    data = ledger.load(ledger.current_path(root))
    wanted = [*(str(root / f["path"]) for f in data["files"] if f["filename"].endswith(".whl")),
              *(requirements(root) if third_party is None else third_party)]
    (workdir / "closure.in").write_text("\n".join(wanted) + "\n", encoding="utf-8")
    lock = workdir / "pylock.toml"
    proc = subprocess.run(
        ["uv", "pip", "compile", "--quiet", "--no-config", "--no-index", "--find-links",
         str(wheelhouse), "--python", sys.executable, "--format", "pylock.toml", "-o", str(lock),
         str(workdir / "closure.in")], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise Failure(f"cannot resolve the dependency closure of the built wheels from "
                      f"{wheelhouse}")
    packages = tomllib.loads(lock.read_text(encoding="utf-8")).get("packages", [])
    return pins({"install": [{"metadata": {"name": p["name"], "version": p["version"]}}
                             for p in packages]}, root)
