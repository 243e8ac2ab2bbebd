#!/usr/bin/env python3
"""The release ledger: dist/release-<version>.json, the record of exactly which files a build
made (with their sha256) and, later, where they were uploaded.

Every step after `make build` (check, audit, upload, verify) works from this list, never from a
glob of dist directories, so that the files published are the files that were checked.

Usage: scripts/ledger.py [--ledger PATH] [--version X.Y.Z] COMMAND ...
  write [--commit SHA] [--source-date-epoch N] [DIST=PATH ...]
        record the built files (default: each distribution's wheel and sdist of VERSION found
        in its dist/, PACKAGES order); keeps "uploads"; prints the ledger's path
  files [--distribution NAME]    print "path<TAB>sha256" lines, PACKAGES order, wheel first
  verify [--distribution NAME]   exit 1 unless every file is on disk with its recorded sha256
                                 and no other wheel or sdist sits in the dist directories
  path                           print the ledger's path

Exit codes: 0 ok, 1 a failed check (missing or changed file, no ledger), 2 a usage error.
The package list comes from PACKAGES ("name=dir" words, exported by the Makefile) or, when
that is unset, from `make -s print-packages`. Paths in the ledger are relative to the repo
root; the default VERSION is .bumpversion.cfg's current_version.

As a module: load(), save(), update() (a locked read-modify-write, for upload records from
parallel `make -j upload` jobs), entry(), discover(), verify(), files(), record_upload() (the
"uploads" records: per repository URL, per file name, what the index confirmed).
"""
from __future__ import annotations

import argparse
import configparser
import contextlib
import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_KEYS = ("version", "commit", "source_date_epoch", "files", "uploads")
FILE_KEYS = ("distribution", "path", "filename", "sha256", "size")


class LedgerError(Exception):
    """A failed check: the message names the problem and the fix."""


# --- the repository: package list, version, git -------------------------------------------

def packages(root: Path = ROOT) -> list[tuple[str, str]]:
    """(name, dir) pairs in dependency order, from PACKAGES or the Makefile."""
    words = os.environ.get("PACKAGES", "").split()
    if not words:
        out = subprocess.run(
            ["make", "-s", "--no-print-directory", "-C", str(root), "print-packages"],
            capture_output=True, text=True, check=True,
        ).stdout
        words = out.split()
    pairs = []
    for word in words:
        name, sep, directory = word.partition("=")
        if not sep or not name or not directory:
            raise LedgerError(f"PACKAGES word {word!r} is not name=dir; fix PACKAGES in Makefile")
        pairs.append((name, directory))
    return pairs


def current_version(root: Path = ROOT) -> str:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(root / ".bumpversion.cfg", encoding="utf-8")
    return cfg["bumpversion"]["current_version"].strip()


def git(root: Path, *args: str) -> str | None:
    """stdout of a git command, or None outside a git repository (an sdist, a tarball)."""
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    except OSError:
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def normalize(name: str) -> str:
    """The distribution name as it appears in wheel and sdist file names."""
    return re.sub(r"[-_.]+", "_", name).lower()


def ledger_path(version: str, root: Path = ROOT) -> Path:
    return root / "dist" / f"release-{version}.json"


# --- reading and writing ------------------------------------------------------------------

def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def entry(distribution: str, path: Path, root: Path = ROOT) -> dict[str, Any]:
    """The ledger record of one built file (path relative to root)."""
    path = path if path.is_absolute() else root / path
    return {
        "distribution": distribution,
        "path": path.resolve().relative_to(root.resolve()).as_posix(),
        "filename": path.name,
        "sha256": sha256(path),
        "size": path.stat().st_size,
    }


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LedgerError(f"{path}: no release ledger; run 'make build'") from None
    except ValueError as exc:
        raise LedgerError(f"{path}: not valid JSON ({exc}); run 'make build'") from None
    missing = [k for k in SCHEMA_KEYS if k not in data]
    bad = [f for f in data.get("files", []) if any(k not in f for k in FILE_KEYS)]
    if missing or bad or not isinstance(data.get("uploads"), dict):
        raise LedgerError(f"{path}: not a release ledger (missing {missing or 'file keys'}); "
                          "run 'make build'")
    return data


def save(path: Path, data: dict[str, Any]) -> None:
    """Write atomically: a reader sees the old ledger or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def update(path: Path) -> Iterator[dict[str, Any]]:
    """Read-modify-write under an exclusive lock (parallel uploads each add their record):

        with ledger.update(path) as data:
            data["uploads"].setdefault(repository, {})[filename] = {...}
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = load(path)
        yield data
        save(path, data)


def discover(version: str, root: Path = ROOT) -> list[tuple[str, Path]]:
    """(distribution, path) of each distribution's wheel then sdist of `version`, found in its
    dist/ directory; exactly one of each must be there."""
    found, problems = [], []
    for name, directory in packages(root):
        dist = root / directory / "dist"
        stem = f"{normalize(name)}-{version}"
        for kind, pattern in (("wheel", f"{stem}-*.whl"), ("sdist", f"{stem}.tar.gz")):
            hits = sorted(dist.glob(pattern))
            if len(hits) != 1:
                problems.append(f"{dist.relative_to(root)}: expected one {kind} {pattern}, "
                                f"found {len(hits)}; run 'make build'")
            else:
                found.append((name, hits[0]))
    if problems:
        raise LedgerError("\n".join(problems))
    return found


def write(path: Path, version: str, built: list[tuple[str, Path]], commit: str | None,
          source_date_epoch: int | None, root: Path = ROOT) -> dict[str, Any]:
    """Replace the ledger's "files" (and version, commit, epoch); keep its "uploads"."""
    uploads: dict[str, Any] = {}
    if path.exists():
        with contextlib.suppress(LedgerError):
            uploads = load(path)["uploads"]
    data = {
        "version": version,
        "commit": commit,
        "source_date_epoch": source_date_epoch,
        "files": [entry(dist, p, root) for dist, p in built],
        "uploads": uploads,
    }
    save(path, data)
    return data


def files(data: dict[str, Any], distribution: str | None = None) -> list[dict[str, Any]]:
    chosen = [f for f in data["files"] if distribution in (None, f["distribution"])]
    if distribution and not chosen:
        raise LedgerError(f"no files of {distribution} in the ledger; run 'make build'")
    return chosen


def record_upload(path: Path, repository: str, index_url: str, confirmed: list[dict[str, Any]],
                  uploaded: set[str], when: str) -> None:
    """Record files the index at index_url has CONFIRMED (its simple page lists them with
    their sha256), under uploads[repository][filename]:

        {"distribution", "sha256", "status": "uploaded" | "present", "confirmed_at", "index_url"}

    "uploaded" when this run sent the file, "present" when the index already had those bytes.
    A file already recorded for this repository with the same sha256 keeps its first record
    unless this run uploaded it. (scripts/upload through scripts/index_page.py.)"""
    with update(path) as data:
        records = data["uploads"].setdefault(repository, {})
        for f in confirmed:
            old = records.get(f["filename"])
            if old and old.get("sha256") == f["sha256"] and f["filename"] not in uploaded:
                continue
            records[f["filename"]] = {
                "distribution": f["distribution"],
                "sha256": f["sha256"],
                "status": "uploaded" if f["filename"] in uploaded else "present",
                "confirmed_at": when,
                "index_url": index_url,
            }


def verify(data: dict[str, Any], distribution: str | None = None,
           root: Path = ROOT) -> list[str]:
    """Problems, one line each: a file missing or changed since the build, or a wheel or
    sdist in a dist directory that the ledger does not list."""
    problems = []
    for f in files(data, distribution):
        path = root / f["path"]
        if not path.is_file():
            problems.append(f"{f['path']}: in the ledger but missing; run 'make build'")
        elif sha256(path) != f["sha256"]:
            problems.append(f"{f['path']}: changed since the build (sha256 differs from the "
                            "ledger); run 'make build' again, never edit built files")
    listed = {f["path"] for f in data["files"]}
    for name, directory in packages(root):
        if distribution not in (None, name):
            continue
        dist = root / directory / "dist"
        for path in sorted([*dist.glob("*.whl"), *dist.glob("*.tar.gz")]):
            rel = path.relative_to(root).as_posix()
            if rel not in listed:
                problems.append(f"{rel}: not in the ledger (stale or foreign); "
                                "run 'make build', which removes it")
    return problems


# --- command line -------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/ledger.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ledger", type=Path, help="ledger file (default dist/release-V.json)")
    parser.add_argument("--version", help="release version (default: .bumpversion.cfg)")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write", help="record the built files")
    w.add_argument("--commit", help="commit the files were built from (default: git HEAD)")
    w.add_argument("--source-date-epoch", type=int,
                   help="the build's SOURCE_DATE_EPOCH (default: $SOURCE_DATE_EPOCH)")
    w.add_argument("built", nargs="*", metavar="DIST=PATH")
    for name in ("files", "verify"):
        p = sub.add_parser(name, help=f"{name} of the ledger")
        p.add_argument("--distribution", metavar="NAME")
    sub.add_parser("path", help="print the ledger's path")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        version = args.version or current_version()
        path = args.ledger or ledger_path(version)
        if args.command == "path":
            print(path)
        elif args.command == "write":
            return cmd_write(args, version, path)
        elif args.command == "files":
            for f in files(load(path), args.distribution):
                print(f"{f['path']}\t{f['sha256']}")
        elif args.command == "verify":
            problems = verify(load(path), args.distribution)
            for line in problems:
                print(f"error: {line}", file=sys.stderr)
            return 1 if problems else 0
    except LedgerError as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 1
    return 0


def cmd_write(args: argparse.Namespace, version: str, path: Path) -> int:
    built = []
    for word in args.built:
        dist, sep, file = word.partition("=")
        if not sep or not dist or not file:
            print(f"error: {word!r} is not DIST=PATH (see --help)", file=sys.stderr)
            return 2
        if not Path(file).is_file():
            raise LedgerError(f"{file}: no such built file; run 'make build'")
        built.append((dist, Path(file).resolve()))
    built = built or discover(version)
    epoch = args.source_date_epoch
    if epoch is None and os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        epoch = int(os.environ["SOURCE_DATE_EPOCH"])
    commit = args.commit or git(ROOT, "rev-parse", "HEAD")
    write(path, version, built, commit, epoch)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
