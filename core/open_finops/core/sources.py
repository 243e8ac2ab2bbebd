"""Where a vendor's billing files are read from, the part every vendor shares: the object a
listing returns, the local folder laid out like the bucket or container, and the staging of
remote objects in batches bounded in bytes.

A source presents one small interface to an importer: list the objects under a folder, read a
(small) manifest, and stage data files as local paths for DuckDB in a folder the importer
gives. A local file is staged as a symbolic link with a plain name (DuckDB expands glob
characters such as ``[`` in paths); a remote object is downloaded to a file there, a batch at a
time while the caller loads the previous one, so neither memory nor disk has to hold a whole
billing period. A vendor subclasses these with its own error class and its cloud's client.
"""
from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from open_finops.core.errors import FinopsError

#: The suffixes a staged file keeps (DuckDB picks its reader and decompression by them).
SUFFIXES = (".csv.gz", ".snappy.parquet", ".gz.parquet", ".parquet", ".csv", ".gz", ".zip")


@dataclass(frozen=True)
class Obj:
    key: str  # relative to the source root, '/'-separated
    size: int
    mtime: float


def suffix_of(key: str) -> str:
    lowered = key.lower()
    for suffix in SUFFIXES:
        if lowered.endswith(suffix):
            return suffix
    return ""


def staged_path(workdir: Path, number: int, obj: Obj) -> Path:
    """A plain file name for the ``number``-th object of a period, keeping its suffix."""
    return workdir / f"f{number:05d}{suffix_of(obj.key)}"


class Source:
    """A folder of billing files: a bucket or container prefix, or a local path standing for
    it. ``error`` is the vendor's FinopsError subclass, raised with one line for people."""

    error: type[FinopsError] = FinopsError
    #: The bucket-relative prefix the source root stands for, when known ("" otherwise).
    root_prefix = ""

    def describe(self, key: str = "") -> str:
        raise NotImplementedError

    def below(self, folder: str) -> Source:
        """This source moved down to ``folder`` (where an export was found below it)."""
        moved = copy.copy(self)
        moved.root_prefix = "/".join(part for part in (self.root_prefix, folder) if part)
        return moved

    def list(self, folder: str) -> dict[str, Obj]:
        """Every object under ``folder`` (recursively), keyed by source-relative key."""
        raise NotImplementedError

    def read_bytes(self, key: str) -> bytes:
        raise NotImplementedError

    def stage(self, objects: list[Obj], workdir: Path) -> Iterator[list[tuple[Obj, Path]]]:
        """Batches of (object, local path); a batch's files are removed when the next is
        asked for."""
        raise NotImplementedError


class LocalSource(Source):
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.root = Path(path).expanduser()
        if not self.root.is_dir():
            what = "is not a folder" if self.root.exists() else "does not exist"
            raise self.error(f"source {self.root} {what}")
        self.root = self.root.resolve()

    def below(self, folder: str) -> Source:
        moved = copy.copy(self)
        moved.root = self.root / folder
        return moved

    def describe(self, key: str = "") -> str:
        return str(self.root / key) if key else str(self.root)

    def list(self, folder: str) -> dict[str, Obj]:
        base = self.root / folder
        found: dict[str, Obj] = {}
        if not base.is_dir():
            return found
        for directory, _dirs, files in os.walk(base):
            for name in files:
                path = Path(directory, name)
                try:
                    stat = path.stat()
                except OSError:
                    continue  # a dangling link or a file removed while listing
                key = path.relative_to(self.root).as_posix()
                found[key] = Obj(key, stat.st_size, stat.st_mtime)
        return found

    def read_bytes(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except OSError as exc:
            raise self.error(f"cannot read {self.describe(key)}: {exc.strerror}") from None

    def stage(self, objects: list[Obj], workdir: Path) -> Iterator[list[tuple[Obj, Path]]]:
        batch = []
        for number, obj in enumerate(objects):
            link = staged_path(workdir, number, obj)
            link.symlink_to(self.root / obj.key)
            batch.append((obj, link))
        yield batch


def batches(objects: list[Obj], limit: int) -> list[list[tuple[int, Obj]]]:
    """``objects``, numbered, in runs of at most ``limit`` bytes (an object bigger than that
    is a batch of its own)."""
    runs: list[list[tuple[int, Obj]]] = [[]]
    size = 0
    for number, obj in enumerate(objects):
        if runs[-1] and size + obj.size > limit:
            runs.append([])
            size = 0
        runs[-1].append((number, obj))
        size += obj.size
    return runs


class RemoteSource(Source):
    """A source whose objects are downloaded to be read: a subclass gives ``download`` and
    ``batch_bytes``. One batch is loaded while the next downloads, so up to twice
    ``batch_bytes`` is on disk at once."""

    workers = 4
    #: Objects are named SCHEME://BUCKET/ROOT_PREFIX/KEY (a bucket, or a container).
    scheme = ""
    bucket = ""

    def remote_key(self, key: str) -> str:
        """The object's name in its bucket."""
        return f"{self.root_prefix}/{key}" if self.root_prefix else key

    def describe(self, key: str = "") -> str:
        path = self.remote_key(key) if key else self.root_prefix
        where = f"{self.scheme}://{self.bucket}"
        return f"{where}/{path}" if path else where

    #: Bytes of objects in a batch. One batch is loaded while the next downloads, so up to
    #: twice this is on disk at once (an object bigger than this is a batch of its own).
    batch_bytes = 1 << 30

    def read_bytes(self, key: str) -> bytes:
        try:
            return self.fetch_bytes(self.remote_key(key))
        except Exception as exc:  # the clouds' clients raise many unrelated classes
            raise self.failure(exc, f"cannot read {self.describe(key)}") from None

    def fetch_bytes(self, name: str) -> bytes:
        """The content of the object named ``name`` in its bucket (a small one)."""
        raise NotImplementedError

    def failure(self, exc: Exception, what: str) -> FinopsError:
        """``what`` failed because of the client's ``exc``: one line for people."""
        raise NotImplementedError

    def download(self, obj: Obj, path: Path) -> None:
        """Write the object to ``path``, or raise ``self.error`` naming it."""
        raise NotImplementedError

    def _fetch(self, obj: Obj, path: Path) -> tuple[Obj, Path]:
        self.download(obj, path)
        return obj, path

    def stage(self, objects: list[Obj], workdir: Path) -> Iterator[list[tuple[Obj, Path]]]:
        runs = batches(objects, self.batch_bytes)

        def fetch(run: list[tuple[int, Obj]]) -> list[Future]:
            return [pool.submit(self._fetch, obj, staged_path(workdir, number, obj))
                    for number, obj in run]

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            pending = fetch(runs[0])
            try:
                for index in range(len(runs)):
                    current = [future.result() for future in pending]
                    # The next batch downloads while the caller loads this one.
                    pending = fetch(runs[index + 1]) if index + 1 < len(runs) else []
                    yield current
                    for _obj, path in current:
                        path.unlink(missing_ok=True)
            finally:
                for future in pending:
                    future.cancel()


def cleanup(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
