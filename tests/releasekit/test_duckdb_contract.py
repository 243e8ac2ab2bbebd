"""releasekit.contract (what `make check` runs after the metadata policy): a wheel
that admits a DuckDB writer outside the contract, or docker pins that disagree with the
contract's reader, fail with lines naming both files; the tree and its own wheels pass."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import REPO
from releasekit import contract
STORE = "core/open_finops/core/store.py"
COMPOSE = "docker/open_finops/docker/templates/compose.yaml"


@pytest.fixture
def tree(tmp_path) -> Path:
    """The files the check reads, copied from the repository."""
    for name in (STORE, "docker/open_finops/docker/pins.py", COMPOSE,
                 "docker/open_finops/docker/templates/Dockerfile"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def wheel(directory: Path, requires: list[str], files: dict[str, str] | None = None) -> Path:
    path = directory / "open_finops_aws-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("open_finops_aws-1.0.0.dist-info/METADATA", "\n".join(
            ["Metadata-Version: 2.4", "Name: open-finops-aws", "Version: 1.0.0",
             *(f"Requires-Dist: {r}" for r in requires)]) + "\n")
        for name, text in (files or {}).items():
            archive.writestr(name, text)
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, path)
    path.write_text(text.replace(old, new))


def test_the_tree_and_a_wheel_with_the_contract_range_pass(tree):
    assert contract.problems(tree, [wheel(tree, ["boto3>=1.34", "duckdb<2.1,>=1.5"])]) == []
    assert contract.problems(REPO, []) == []


@pytest.mark.parametrize("requires, admitted", [
    ("duckdb>=1.1", "1.1.0"),          # what 0.3.0 shipped: 2.x storage Metabase cannot read
    ("duckdb", "0.0.0"),
    ("duckdb>=1.5", "2.1.0"),
    ("duckdb>=1.4.4,<2.1", "1.4.4"),   # before the storage version of the contract exists
    ("duckdb>=1.5,<=2.1.0", "2.1.0"),
])
def test_a_wheel_admitting_a_writer_outside_the_contract_names_both_files(
        tree, requires, admitted):
    built = wheel(tree, ["boto3>=1.34", requires])
    found = contract.problems(tree, [built])
    assert len(found) == 1, found
    assert str(built) in found[0] and STORE in found[0], found
    assert f"admits DuckDB {admitted}" in found[0], found


def test_a_narrower_writer_range_is_within_the_contract(tree):
    assert contract.problems(tree, [wheel(tree, ["duckdb==1.5.6"])]) == []


def test_compose_pins_that_disagree_with_the_contract_name_both_files(tree):
    edit(tree / COMPOSE, 'DUCKDB_DRIVER_VERSION: "1.5.4.0"', 'DUCKDB_DRIVER_VERSION: "1.5.5.0"')
    found = contract.problems(tree, [])
    assert any(COMPOSE in line and STORE in line and "1.5.5.0" in line for line in found), found


def test_a_driver_pin_that_embeds_another_reader_names_both_files(tree):
    for name in ("docker/open_finops/docker/pins.py", COMPOSE,
                 "docker/open_finops/docker/templates/Dockerfile"):
        edit(tree / name, "1.5.4.0", "1.5.5.0")
    found = contract.problems(tree, [])
    assert len(found) == 1, found
    assert "pins.py" in found[0] and STORE in found[0] and "DuckDB 1.5.5" in found[0], found


def test_the_templates_packaged_in_a_docker_wheel_are_checked_too(tree):
    compose = (tree / COMPOSE).read_text().replace("0.62.7", "0.58.9")
    built = wheel(tree, [], {"open_finops/docker/templates/compose.yaml": compose,
                             "open_finops/docker/templates/Dockerfile":
                                 (tree / "docker/open_finops/docker/templates/Dockerfile")
                                 .read_text()})
    found = contract.problems(tree, [built])
    assert found and all(str(built) in line for line in found), found
    assert any("METABASE_VERSION 0.58.9" in line for line in found), found
