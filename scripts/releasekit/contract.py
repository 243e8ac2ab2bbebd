"""Check the built wheels and the docker pins against the DuckDB contract.

The contract lives in core/open_finops/core/store.py (READER_DUCKDB, WRITER_DUCKDB): every
wheel that requires duckdb must admit no DuckDB release outside WRITER_DUCKDB, and the
Metabase driver pinned by the docker package (open_finops/docker/pins.py, and literally in
its templates compose.yaml and Dockerfile, in the tree and in a built docker wheel) must embed
READER_DUCKDB. Each problem is one line naming both files (`make check` runs this as
`releasekit contract` over the ledger's wheels).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from releasekit import dists, ledger, repo
from releasekit.errors import Failure

CONTRACT = Path("core/open_finops/core/store.py")
PINS = Path("docker/open_finops/docker/pins.py")
TEMPLATES = Path("docker/open_finops/docker/templates")
PINNED = ("METABASE_VERSION", "DUCKDB_DRIVER_VERSION")


def constants(path: Path) -> dict[str, str]:
    """The module-level string constants of a Python file, read without importing it."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


def probes(*specifiers: SpecifierSet) -> list[Version]:
    """Releases to try: every version the specifiers name and its neighbours, and a grid."""
    named = {Version(spec.version.replace(".*", "")) for s in specifiers for spec in s}
    found = {Version(f"{a}.{b}.{c}") for a in range(4) for b in range(13) for c in range(13)}
    for version in named:
        major, minor, patch = (list(version.release) + [0, 0])[:3]
        found |= {version, Version(f"{major}.{minor}.{patch + 1}"),
                  Version(f"{major}.{minor + 1}.0"), Version(f"{major + 1}.0.0")}
        if patch:
            found.add(Version(f"{major}.{minor}.{patch - 1}"))
    return sorted(found)


def wheel_problems(wheel: Path, writer: SpecifierSet) -> list[str]:
    # A built wheel sits in <package>/dist/, beside the setup.py that declares its needs.
    setup = wheel.parent.parent / "setup.py"
    fix = setup if setup.is_file() else "the package's setup.py"
    problems = []
    for line in dists.read(wheel.name, wheel).requires:
        requirement = Requirement(line)
        if requirement.name.lower() != "duckdb":
            continue
        outside = [v for v in probes(requirement.specifier, writer)
                   if requirement.specifier.contains(v) and not writer.contains(v)]
        if outside:
            problems.append(
                f"{wheel}: requires {requirement}, which admits DuckDB {outside[0]}; the"
                f" contract ({CONTRACT}: WRITER_DUCKDB) admits duckdb{writer} only: require"
                f" exactly that in {fix}")
    return problems


def docker_problems(files: dict[str, str], where: str, pins: dict[str, str],
                    reader: str) -> list[str]:
    """``files``: the text of compose.yaml and Dockerfile found at ``where``."""
    problems = []
    driver = pins.get("DUCKDB_DRIVER_VERSION", "")
    if driver.rsplit(".", 1)[0] != reader:
        problems.append(f"{PINS}: DUCKDB_DRIVER_VERSION {driver} embeds DuckDB"
                        f" {driver.rsplit('.', 1)[0]}, but the reader of the contract is"
                        f" {reader} ({CONTRACT}: READER_DUCKDB); change them together")
    service = (yaml.safe_load(files["compose.yaml"]) or {}).get("services", {}).get(
        "metabase", {})
    args = service.get("build", {}).get("args", {})
    defaults = dict(re.findall(r'^ARG (\w+_VERSION)="([^"]*)"', files["Dockerfile"],
                               flags=re.MULTILINE))
    for key in PINNED:
        for name, value in ((f"{where}/compose.yaml", args.get(key)),
                            (f"{where}/Dockerfile", defaults.get(key))):
            if value != pins.get(key):
                problems.append(f"{name}: {key} {value} is not {pins.get(key)} of {PINS}"
                                f" (whose driver embeds the contract's reader, {CONTRACT});"
                                " change them together")
    image = f"{pins.get('METABASE_VERSION')}-duckdb{driver}"
    if not str(service.get("image", "")).endswith(f":{image}"):
        problems.append(f"{where}/compose.yaml: image {service.get('image')} is not tagged"
                        f" {image} as the pins of {PINS}")
    return problems


def problems(root: Path, wheels: list[Path]) -> list[str]:
    """Every disagreement between the contract in ``root`` and the wheels or the pins."""
    contract = constants(root / CONTRACT)
    writer = SpecifierSet(contract["WRITER_DUCKDB"])
    pins = constants(root / PINS)
    found = []
    for wheel in wheels:
        found += wheel_problems(wheel, writer)
        packaged = dists.texts(wheel, "open_finops/docker/templates/")
        if {"compose.yaml", "Dockerfile"} <= packaged.keys():
            found += docker_problems(packaged, f"{wheel}:open_finops/docker/templates", pins,
                                     contract["READER_DUCKDB"])
    tree = {name: (root / TEMPLATES / name).read_text(encoding="utf-8")
            for name in ("compose.yaml", "Dockerfile")}
    found += docker_problems(tree, str(TEMPLATES), pins, contract["READER_DUCKDB"])
    return list(dict.fromkeys(found))


def check(root: Path = repo.ROOT) -> None:
    """Raise Failure naming every disagreement, over the current ledger's wheels."""
    found = problems(root, ledger.wheels(ledger.load(ledger.current_path(root)), root))
    if found:
        raise Failure("\n".join(found))
