"""Where reports are read from: a local folder laid out like the bucket, or S3.

Both present the same small interface to the importer: list the objects under a folder, read a
(small) manifest, and stage data files as local paths for DuckDB in a folder the importer
gives. A local file is staged as a symbolic link with a plain name (DuckDB expands glob
characters such as ``[`` in paths); an S3 object is streamed to a file there by boto3, a
batch at a time, so neither memory nor disk has to hold a whole billing period. No DuckDB
extension is involved.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from open_finops.aws.errors import AwsError, UsageError, one_line

#: Bytes of S3 objects in a batch. One batch is loaded while the next downloads, so up to
#: twice this is on disk at once (an object bigger than this is a batch of its own).
S3_BATCH_BYTES = 1 << 30
_SUFFIXES = (".csv.gz", ".snappy.parquet", ".gz.parquet", ".parquet", ".csv", ".gz", ".zip")


@dataclass(frozen=True)
class Obj:
    key: str  # relative to the source root, '/'-separated
    size: int
    mtime: float


def suffix_of(key: str) -> str:
    lowered = key.lower()
    for suffix in _SUFFIXES:
        if lowered.endswith(suffix):
            return suffix
    return ""


class Source:
    """A folder of reports: ``s3://bucket/prefix`` or a local path standing for it."""

    #: The bucket-relative prefix the source root stands for, when known ("" otherwise).
    root_prefix = ""

    def describe(self, key: str = "") -> str:
        raise NotImplementedError

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
            raise AwsError(f"source {self.root} {what}")
        self.root = self.root.resolve()

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
            raise AwsError(f"cannot read {self.describe(key)}: {exc.strerror}") from None

    def stage(self, objects: list[Obj], workdir: Path) -> Iterator[list[tuple[Obj, Path]]]:
        batch = []
        for number, obj in enumerate(objects):
            link = workdir / f"f{number:05d}{suffix_of(obj.key)}"
            link.symlink_to(self.root / obj.key)
            batch.append((obj, link))
        yield batch


class S3Source(Source):
    """``s3://bucket/prefix`` through boto3's default credential chain (environment, profiles,
    SSO, roles, session tokens; ``AWS_ENDPOINT_URL_S3`` for S3-compatible endpoints)."""

    def __init__(self, uri: str, client: Any = None) -> None:
        rest = uri[len("s3://"):]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise AwsError(f"source {uri}: expected s3://BUCKET or s3://BUCKET/PREFIX")
        self.bucket = bucket
        self.root_prefix = prefix.strip("/")
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            # A session of its own: credentials are resolved now, from the default chain.
            self._client = boto3.session.Session().client("s3")
        return self._client

    def _key(self, key: str) -> str:
        return f"{self.root_prefix}/{key}" if self.root_prefix else key

    def describe(self, key: str = "") -> str:
        path = self._key(key) if key else self.root_prefix
        return f"s3://{self.bucket}/{path}" if path else f"s3://{self.bucket}"

    def _fail(self, exc: Exception, what: str) -> AwsError:
        return AwsError(f"{what}: {_s3_reason(exc)}")

    def list(self, folder: str) -> dict[str, Obj]:
        prefix = self._key(folder).rstrip("/") + "/"
        strip = len(self.root_prefix) + 1 if self.root_prefix else 0
        found: dict[str, Obj] = {}
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"][strip:]
                    if key.endswith("/"):
                        continue  # a "folder" placeholder object
                    found[key] = Obj(key, item["Size"], item["LastModified"].timestamp())
        except Exception as exc:  # botocore raises many unrelated classes
            raise self._fail(exc, f"cannot list s3://{self.bucket}/{prefix}") from None
        return found

    def read_bytes(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return response["Body"].read()
        except Exception as exc:
            raise self._fail(exc, f"cannot read {self.describe(key)}") from None

    def _download(self, obj: Obj, path: Path) -> tuple[Obj, Path]:
        try:
            self.client.download_file(self.bucket, self._key(obj.key), str(path))
        except Exception as exc:
            raise self._fail(exc, f"cannot download {self.describe(obj.key)}") from None
        return obj, path

    def stage(self, objects: list[Obj], workdir: Path) -> Iterator[list[tuple[Obj, Path]]]:
        batches: list[list[tuple[int, Obj]]] = [[]]
        size = 0
        for number, obj in enumerate(objects):
            if batches[-1] and size + obj.size > S3_BATCH_BYTES:
                batches.append([])
                size = 0
            batches[-1].append((number, obj))
            size += obj.size

        def fetch(batch: list[tuple[int, Obj]]) -> list[Future]:
            return [pool.submit(self._download, obj,
                                workdir / f"f{number:05d}{suffix_of(obj.key)}")
                    for number, obj in batch]

        with ThreadPoolExecutor(max_workers=4) as pool:
            pending = fetch(batches[0])
            try:
                for index in range(len(batches)):
                    current = [future.result() for future in pending]
                    # The next batch downloads while the caller loads this one.
                    pending = fetch(batches[index + 1]) if index + 1 < len(batches) else []
                    yield current
                    for _obj, path in current:
                        path.unlink(missing_ok=True)
            finally:
                for future in pending:
                    future.cancel()


def _s3_reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        code = error.get("Code", "")
        message = error.get("Message", "")
        if code in ("404", "NoSuchKey"):
            return "no such object"
        if code == "NoSuchBucket":
            return "no such bucket"
        return f"{code}: {message}".strip(": ") if message else str(code)
    name = type(exc).__name__
    if name == "NoCredentialsError":
        return ("no AWS credentials found (boto3's default chain: AWS_* variables, "
                "AWS_PROFILE or ~/.aws, SSO, instance or task role)")
    return one_line(exc)


def open_source(value: str) -> Source:
    """A Source for ``s3://bucket/prefix`` or a local folder."""
    value = str(value).strip()
    if not value:
        raise UsageError("no source: give --source PATH or s3://BUCKET/PREFIX")
    if value.startswith("s3://"):
        return S3Source(value)
    if "://" in value:
        raise AwsError(f"source {value}: only local folders and s3:// are supported")
    return LocalSource(value)


def cleanup(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
