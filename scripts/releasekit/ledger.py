"""The release ledger: dist/release-<version>.json, the record of exactly which files a build
made (with their sha256) and, later, where they were uploaded.

Every step after ``make build`` (check, audit, upload, verify) works from this list, never
from a glob of dist directories, so that the files published are the files that were checked.

Each built file is hashed once: :func:`sha256` keeps what it computed in
dist/.sha256-cache.json, keyed by the file's inode, size, mtime and ctime. Any write to the
file, a chmod or a touch changes its ctime, which no user process can set back, so a file
whose stat is unchanged has unchanged bytes; a file that changed in any way is hashed again.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from releasekit import repo
from releasekit.errors import Failure

SCHEMA_KEYS = ("version", "commit", "source_date_epoch", "files", "uploads")
#: What, besides the sources, makes the bytes of a build: the interpreter and the backend.
TOOLCHAIN = ("setuptools", "wheel", "build")
FILE_KEYS = ("distribution", "path", "filename", "sha256", "size")
_memo: dict[tuple[str, int, int, int, int], str] = {}


def path_for(version: str, root: Path = repo.ROOT) -> Path:
    return root / "dist" / f"release-{version}.json"


def current_path(root: Path = repo.ROOT) -> Path:
    return path_for(repo.current_version(root), root)


# --- hashing, once per file --------------------------------------------------------------

def _key(path: Path) -> tuple[str, int, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _cache_file(root: Path) -> Path:
    return root / "dist" / ".sha256-cache.json"


def _load_cache(root: Path) -> None:
    with contextlib.suppress(OSError, ValueError, TypeError):
        for row in json.loads(_cache_file(root).read_text(encoding="utf-8")):
            key, digest = tuple(row[0]), row[1]
            _memo.setdefault(key, digest)  # type: ignore[arg-type]


def sha256(path: Path, root: Path = repo.ROOT) -> str:
    """The file's sha256, computed once for these bytes (see the module docstring)."""
    key = _key(path)
    if key not in _memo:
        _load_cache(root)
    if key in _memo:
        return _memo[key]
    import hashlib
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    _memo[key] = digest.hexdigest()
    if (root / "dist").is_dir():
        with contextlib.suppress(OSError):
            rows = [[list(k), v] for k, v in _memo.items() if Path(k[0]).exists()]
            repo.atomic_write(_cache_file(root), json.dumps(rows))
    return _memo[key]


def hash_from_scratch(path: Path) -> str:
    """The sha256 without the cache (for the checks that must not trust any record)."""
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- reading and writing ------------------------------------------------------------------

def entry(distribution: str, path: Path, root: Path = repo.ROOT) -> dict[str, Any]:
    """The ledger record of one built file (path relative to root)."""
    path = path if path.is_absolute() else root / path
    return {
        "distribution": distribution,
        "path": path.resolve().relative_to(root.resolve()).as_posix(),
        "filename": path.name,
        "sha256": sha256(path, root),
        "size": path.stat().st_size,
    }


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Failure(f"{path}: no release ledger; run 'make build'") from None
    except ValueError as exc:
        raise Failure(f"{path}: not valid JSON ({exc}); run 'make build'") from None
    missing = [k for k in SCHEMA_KEYS if k not in data]
    bad = [f for f in data.get("files", []) if any(k not in f for k in FILE_KEYS)]
    if missing or bad or not isinstance(data.get("uploads"), dict):
        raise Failure(f"{path}: not a release ledger (missing {missing or 'file keys'}); "
                      "run 'make build'")
    return data


def save(path: Path, data: dict[str, Any]) -> None:
    repo.atomic_write(path, json.dumps(data, indent=2) + "\n")


@contextlib.contextmanager
def update(path: Path) -> Iterator[dict[str, Any]]:
    """Read-modify-write under an exclusive lock (parallel uploads each add their record)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = load(path)
        yield data
        save(path, data)


def discover(version: str, root: Path = repo.ROOT) -> list[tuple[str, Path]]:
    """(distribution, path) of each distribution's wheel then sdist of `version`, found in its
    dist/ directory; exactly one of each must be there."""
    found, problems = [], []
    for p in repo.packages(root):
        dist = p.dist_dir(root)
        stem = f"{repo.file_stem(p.name)}-{version}"
        for kind, pattern in (("wheel", f"{stem}-*.whl"), ("sdist", f"{stem}.tar.gz")):
            hits = sorted(dist.glob(pattern))
            if len(hits) != 1:
                problems.append(f"{dist.relative_to(root)}: expected one {kind} {pattern}, "
                                f"found {len(hits)}; run 'make build'")
            else:
                found.append((p.name, hits[0]))
    if problems:
        raise Failure("\n".join(problems))
    return found


def toolchain(names: tuple[str, ...] = TOOLCHAIN) -> dict[str, str]:
    """The versions of the interpreter and of the named packages (by default TOOLCHAIN, what
    builds here), "" for one not installed."""
    import platform
    from importlib import metadata
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = ""
    return versions


def write(path: Path, version: str, built: list[tuple[str, Path]], commit: str | None,
          source_date_epoch: int | None, root: Path = repo.ROOT,
          clean: bool = False) -> dict[str, Any]:
    """Replace the ledger's "files" (and version, commit, epoch); keep its "uploads". With
    clean, the files were built from `commit` with nothing changed in the tree: "build" says
    so, with the toolchain, and a later build of the same state may reuse them (reusable)."""
    uploads: dict[str, Any] = {}
    if path.exists():
        with contextlib.suppress(Failure):
            uploads = load(path)["uploads"]
    data = {
        "version": version,
        "commit": commit,
        "source_date_epoch": source_date_epoch,
        "files": [entry(dist, p, root) for dist, p in built],
        "uploads": uploads,
        "build": {"clean_tree": clean, "toolchain": toolchain()},
    }
    save(path, data)
    return data


def not_reusable(data: dict[str, Any], version: str, source_date_epoch: int,
                 root: Path = repo.ROOT) -> str | None:
    """Why a build must run again instead of reusing the files the ledger lists, or None when
    they are exactly what it would make: built from HEAD's commit with nothing changed in
    the tree then and now, with the same epoch and toolchain, one wheel and one sdist of each
    distribution of PACKAGES, all there, unchanged, and nothing else in the dist folders."""
    build = data.get("build") or {}
    kinds = [(f["distribution"], f["filename"].endswith(".whl")) for f in data["files"]]
    if data["version"] != version:
        return f"the ledger is of {data['version']}"
    if build.get("clean_tree") is not True:
        return "the files were built from a tree with changes"
    if data["source_date_epoch"] != source_date_epoch:
        return "another SOURCE_DATE_EPOCH"
    if kinds != [(p.name, wheel) for p in repo.packages(root) for wheel in (True, False)]:
        return "the package list changed"
    if build.get("toolchain") != toolchain():
        return "another Python, setuptools, wheel or build"
    if data["commit"] is None or repo.clean_commit(root) != data["commit"]:
        return "another commit, or changes in the tree"
    problems = verify(data, None, root)
    return problems[0] if problems else None


def files(data: dict[str, Any], distribution: str | None = None) -> list[dict[str, Any]]:
    chosen = [f for f in data["files"] if distribution in (None, f["distribution"])]
    if distribution and not chosen:
        raise Failure(f"no files of {distribution} in the ledger; run 'make build'")
    return chosen


def wheels(data: dict[str, Any], root: Path = repo.ROOT) -> list[Path]:
    return [root / f["path"] for f in data["files"] if f["filename"].endswith(".whl")]


def record_upload(path: Path, repository: str, index_url: str, confirmed: list[dict[str, Any]],
                  uploaded: set[str], when: str) -> None:
    """Record files the index at index_url has CONFIRMED (its simple page lists them with
    their sha256), under uploads[repository][filename]:

        {"distribution", "sha256", "status": "uploaded" | "present", "confirmed_at", "index_url"}

    The records are history, for people; what a run did is told by what the index served
    during it (releasekit.observations), never by these."""
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


def forget(path: Path, prefix: str, keep: str = "") -> None:
    """Drop the upload records of repositories whose URL starts with prefix (but keep)."""
    if path.exists():
        with update(path) as data:
            for url in [u for u in data["uploads"] if u.startswith(prefix) and u != keep]:
                del data["uploads"][url]


def verify(data: dict[str, Any], distribution: str | None = None,
           root: Path = repo.ROOT) -> list[str]:
    """Problems, one line each: a file missing or changed since the build, or a wheel or
    sdist in a dist directory that the ledger does not list."""
    problems = []
    for f in files(data, distribution):
        path = root / f["path"]
        if not path.is_file():
            problems.append(f"{f['path']}: in the ledger but missing; run 'make build'")
        elif sha256(path, root) != f["sha256"]:
            problems.append(f"{f['path']}: changed since the build (sha256 differs from the "
                            "ledger); run 'make build' again, never edit built files")
    listed = {f["path"] for f in data["files"]}
    for p in repo.packages(root):
        if distribution not in (None, p.name):
            continue
        dist = p.dist_dir(root)
        for path in sorted([*dist.glob("*.whl"), *dist.glob("*.tar.gz")]):
            rel = path.relative_to(root).as_posix()
            if rel not in listed:
                problems.append(f"{rel}: not in the ledger (stale or foreign); "
                                "run 'make build', which removes it")
    return problems


def require_verified(data: dict[str, Any], distribution: str | None = None,
                     root: Path = repo.ROOT) -> None:
    problems = verify(data, distribution, root)
    if problems:
        raise Failure("\n".join(problems))
