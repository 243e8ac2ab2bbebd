"""releasekit.ledger: the release ledger's module and CLI, on a fake tree of built files."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from conftest import REPO, VENV, base_env, run
from releasekit import ledger, repo
from releasekit.errors import Failure

PACKAGES = "open-finops-core=core open-finops-aws=vendors/aws open-finops=."


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    """A repo-like tree: .bumpversion.cfg at 1.2.3 and a wheel and an sdist per package."""
    monkeypatch.setenv("PACKAGES", PACKAGES)
    (tmp_path / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 1.2.3\n")
    for name, directory in (w.split("=") for w in PACKAGES.split()):
        stem = f"{name.replace('-', '_')}-1.2.3"
        dist = tmp_path / directory / "dist"
        dist.mkdir(parents=True, exist_ok=True)
        (dist / f"{stem}-py3-none-any.whl").write_bytes(f"wheel {name}".encode())
        (dist / f"{stem}.tar.gz").write_bytes(f"sdist {name}".encode())
    return tmp_path


def cli(tree: Path, *args: str, check: bool | None = True):
    """`releasekit ledger ARGS` of a copy of the package placed in the fake tree (it finds
    its root itself); a leading --version X goes before the command, as releasekit takes it."""
    if not (tree / "scripts" / "releasekit").exists():
        shutil.copytree(REPO / "scripts" / "releasekit", tree / "scripts" / "releasekit",
                        ignore=shutil.ignore_patterns("__pycache__"))
    top = list(args[:2]) if args[:1] == ("--version",) else []
    rest = list(args[len(top):])
    return run([str(VENV / "bin" / "python"), "-m", "releasekit", *top, "ledger", *rest],
               cwd=tree, env=base_env(PACKAGES=PACKAGES, PYTHONPATH=str(tree / "scripts")),
               check=check)


def test_write_discovers_every_file_in_packages_order(tree):
    path = ledger.path_for("1.2.3", tree)
    built = ledger.discover("1.2.3", tree)
    data = ledger.write(path, "1.2.3", built, "abc", 1764000000, tree)
    assert [f["path"] for f in data["files"]] == [
        "core/dist/open_finops_core-1.2.3-py3-none-any.whl",
        "core/dist/open_finops_core-1.2.3.tar.gz",
        "vendors/aws/dist/open_finops_aws-1.2.3-py3-none-any.whl",
        "vendors/aws/dist/open_finops_aws-1.2.3.tar.gz",
        "dist/open_finops-1.2.3-py3-none-any.whl",
        "dist/open_finops-1.2.3.tar.gz",
    ]
    on_disk = json.loads(path.read_text())
    assert on_disk == data
    assert on_disk["version"] == "1.2.3" and on_disk["commit"] == "abc"
    assert on_disk["source_date_epoch"] == 1764000000 and on_disk["uploads"] == {}
    first = on_disk["files"][0]
    assert first["distribution"] == "open-finops-core"
    assert first["filename"] == "open_finops_core-1.2.3-py3-none-any.whl"
    assert first["size"] == len(b"wheel open-finops-core")
    assert first["sha256"] == ledger.sha256(tree / first["path"])


def test_rewrite_keeps_uploads_and_replaces_files(tree):
    path = ledger.path_for("1.2.3", tree)
    ledger.write(path, "1.2.3", ledger.discover("1.2.3", tree), None, None, tree)
    with ledger.update(path) as data:
        data["uploads"]["testpypi"] = {"open_finops_core-1.2.3.tar.gz": {"sha256": "x"}}
    (tree / "core/dist/open_finops_core-1.2.3.tar.gz").write_bytes(b"rebuilt")
    data = ledger.write(path, "1.2.3", ledger.discover("1.2.3", tree), None, None, tree)
    assert data["uploads"] == {"testpypi": {"open_finops_core-1.2.3.tar.gz": {"sha256": "x"}}}
    assert data["files"][1]["sha256"] == ledger.sha256(tree / "core/dist/"
                                                       "open_finops_core-1.2.3.tar.gz")
    assert ledger.load(path) == data


def test_update_is_serialised_between_threads(tree):
    path = ledger.path_for("1.2.3", tree)
    ledger.write(path, "1.2.3", ledger.discover("1.2.3", tree), None, None, tree)

    def record(n: int) -> None:
        for i in range(20):
            with ledger.update(path) as data:
                data["uploads"][f"{n}-{i}"] = {}

    threads = [threading.Thread(target=record, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger.load(path)["uploads"]) == 80


def test_discover_fails_on_missing_or_ambiguous_files(tree):
    (tree / "core/dist/open_finops_core-1.2.3.tar.gz").unlink()
    (tree / "dist/open_finops-1.2.3-py3-none-macosx_11_0_arm64.whl").write_bytes(b"x")
    with pytest.raises(Failure) as err:
        ledger.discover("1.2.3", tree)
    assert "core/dist: expected one sdist" in str(err.value)
    assert "dist: expected one wheel" in str(err.value)


def test_verify_names_changed_missing_and_stray_files(tree):
    path = ledger.path_for("1.2.3", tree)
    data = ledger.write(path, "1.2.3", ledger.discover("1.2.3", tree), None, None, tree)
    assert ledger.verify(data, root=tree) == []
    (tree / "core/dist/open_finops_core-1.2.3-py3-none-any.whl").write_bytes(b"tampered")
    (tree / "vendors/aws/dist/open_finops_aws-1.2.3.tar.gz").unlink()
    (tree / "dist/open_finops-1.2.2.tar.gz").write_bytes(b"old")
    problems = "\n".join(ledger.verify(data, root=tree))
    assert "core/dist/open_finops_core-1.2.3-py3-none-any.whl: changed since the build" in problems
    assert "vendors/aws/dist/open_finops_aws-1.2.3.tar.gz: in the ledger but missing" in problems
    assert "dist/open_finops-1.2.2.tar.gz: not in the ledger" in problems
    only_core = "\n".join(ledger.verify(data, "open-finops-core", root=tree))
    assert "open_finops_core" in only_core and "open_finops_aws" not in only_core


def test_save_is_atomic_and_leaves_no_temporary_file(tree, monkeypatch):
    path = ledger.path_for("1.2.3", tree)
    ledger.save(path, {"version": "old"})

    def broken_fsync(fd):
        raise RuntimeError("disk full")

    monkeypatch.setattr(repo.os, "fsync", broken_fsync)
    with pytest.raises(RuntimeError):
        ledger.save(path, {"version": "new"})
    assert json.loads(path.read_text()) == {"version": "old"}
    assert sorted(p.name for p in path.parent.iterdir()
                  if p.name.startswith(".") and "sha256-cache" not in p.name) == []


def test_load_rejects_what_is_not_a_ledger(tree):
    path = tree / "dist" / "release-1.2.3.json"
    with pytest.raises(Failure, match="no release ledger"):
        ledger.load(path)
    path.write_text("{not json")
    with pytest.raises(Failure, match="not valid JSON"):
        ledger.load(path)
    path.write_text('{"version": "1.2.3"}')
    with pytest.raises(Failure, match="not a release ledger"):
        ledger.load(path)


def test_cli_write_files_verify_path(tree):
    out = cli(tree, "write", "--commit", "c0ffee", "--source-date-epoch", "42").stdout
    assert out.strip() == str(tree / "dist" / "release-1.2.3.json")
    data = json.loads((tree / "dist" / "release-1.2.3.json").read_text())
    assert data["commit"] == "c0ffee" and data["source_date_epoch"] == 42
    lines = cli(tree, "files").stdout.splitlines()
    assert len(lines) == 6
    assert lines[0].split("\t") == ["core/dist/open_finops_core-1.2.3-py3-none-any.whl",
                                    data["files"][0]["sha256"]]
    aws = cli(tree, "files", "--distribution", "open-finops-aws").stdout.splitlines()
    assert [line.split("\t")[0] for line in aws] == [
        "vendors/aws/dist/open_finops_aws-1.2.3-py3-none-any.whl",
        "vendors/aws/dist/open_finops_aws-1.2.3.tar.gz"]
    cli(tree, "verify")
    assert cli(tree, "path").stdout.strip() == str(tree / "dist" / "release-1.2.3.json")
    (tree / "dist/open_finops-1.2.3.tar.gz").write_bytes(b"changed")
    failed = cli(tree, "verify", check=False)
    assert failed.returncode == 1, failed.explain
    assert "error: dist/open_finops-1.2.3.tar.gz: changed since the build" in failed.stderr


def test_cli_write_explicit_files_and_version(tree):
    cli(tree, "--version", "1.2.3", "write",
        "open-finops-core=core/dist/open_finops_core-1.2.3-py3-none-any.whl")
    data = json.loads((tree / "dist" / "release-1.2.3.json").read_text())
    assert [f["filename"] for f in data["files"]] == ["open_finops_core-1.2.3-py3-none-any.whl"]


@pytest.mark.parametrize("args, code", [
    (["write", "no-equals-sign"], 2),
    (["frobnicate"], 2),
    ([], 2),
    (["files", "--distribution", "open-finops-acme"], 1),
    (["--version", "9.9.9", "verify"], 1),
])
def test_cli_errors(tree, args, code):
    cli(tree, "write")
    proc = cli(tree, *args, check=False)
    assert proc.returncode == code, proc.explain
    assert "error" in proc.stderr


def test_cli_help():
    proc = run([str(VENV / "bin" / "python"), "-m", "releasekit", "ledger", "--help"],
               env=base_env(PYTHONPATH=str(REPO / "scripts")), check=True)
    for command in ("write", "files", "verify", "path"):
        assert command in proc.stdout


def test_each_file_is_hashed_once_until_it_changes(tree, monkeypatch):
    """The build hashes each file; every later step of the run reads that digest back (also
    from another process, through dist/.sha256-cache.json) while the file's inode, size,
    mtime and ctime are unchanged. Any change to the file, even one that restores its size
    and mtime, changes its ctime and so is hashed again."""
    import hashlib
    import os

    path = ledger.path_for("1.2.3", tree)
    ledger.write(path, "1.2.3", ledger.discover("1.2.3", tree), None, None, tree)
    wheel = tree / "core/dist/open_finops_core-1.2.3-py3-none-any.whl"
    counted = []
    real = hashlib.sha256

    def counting(*args):
        counted.append(1)
        return real(*args)

    monkeypatch.setattr(hashlib, "sha256", counting)  # the module the ledger imports
    ledger._memo.clear()  # a new process: only the cache file remembers
    data = ledger.load(path)
    assert ledger.verify(data, root=tree) == [] and counted == []
    stat = wheel.stat()
    wheel.write_bytes(b"wheel open-finops-cor3")  # same size
    os.utime(wheel, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime
    problems = ledger.verify(data, root=tree)
    assert len(counted) == 1
    assert problems == ["core/dist/open_finops_core-1.2.3-py3-none-any.whl: changed since the "
                        "build (sha256 differs from the ledger); run 'make build' again, never "
                        "edit built files"]


def test_a_build_is_reused_only_when_nothing_that_makes_its_bytes_changed(tree, monkeypatch):
    """not_reusable: None exactly when a build would make the ledger's files again."""
    (tree / ".gitignore").write_text("dist/\n")

    def git(*args: str) -> None:
        run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=tree, env=base_env(), check=True)

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "one")
    head = repo.git(tree, "rev-parse", "HEAD")
    path = ledger.path_for("1.2.3", tree)
    ledger.write(path, "1.2.3", ledger.discover("1.2.3", tree), head, 1764000000, tree,
                 clean=True)

    def reason(version: str = "1.2.3", epoch: int = 1764000000) -> str | None:
        return ledger.not_reusable(ledger.load(path), version, epoch, tree)

    assert reason() is None
    assert reason(epoch=1764000001) == "another SOURCE_DATE_EPOCH"
    assert reason(version="1.2.4") == "the ledger is of 1.2.3"

    (tree / "notes.txt").write_text("untracked\n")  # a change git shows, untracked included
    assert reason() == "another commit, or changes in the tree"
    (tree / "notes.txt").unlink()
    git("commit", "-q", "--allow-empty", "-m", "two")
    assert reason() == "another commit, or changes in the tree"
    git("reset", "-q", "--soft", "HEAD~1")
    assert reason() is None

    wheel = tree / "core/dist/open_finops_core-1.2.3-py3-none-any.whl"
    original = wheel.read_bytes()
    wheel.write_bytes(b"tampered")
    assert reason() == ("core/dist/open_finops_core-1.2.3-py3-none-any.whl: changed since the "
                        "build (sha256 differs from the ledger); run 'make build' again, never "
                        "edit built files")
    wheel.write_bytes(original)
    assert reason() is None
    stale = tree / "core/dist/open_finops_core-1.2.2.tar.gz"
    stale.write_bytes(b"old")
    assert "not in the ledger" in reason()
    stale.unlink()

    real = ledger.toolchain()
    monkeypatch.setattr(ledger, "toolchain", lambda: {**real, "setuptools": "0"})
    assert reason() == "another Python, setuptools, wheel or build"
    monkeypatch.undo()
    monkeypatch.setenv("PACKAGES", "open-finops-core=core open-finops=.")
    assert reason() == "the package list changed"
    monkeypatch.setenv("PACKAGES", PACKAGES)
    assert reason() is None

    # Files built from a tree with changes are never reused, whatever the tree is now.
    ledger.write(path, "1.2.3", ledger.discover("1.2.3", tree), head, 1764000000, tree)
    assert reason() == "the files were built from a tree with changes"
