"""Where reports are read from: a local folder laid out like the bucket, or S3.

The interface, the local folder and the staging in batches are core's
(open_finops.core.sources); here S3 through boto3, whose objects are streamed to files a
batch at a time. No DuckDB extension is involved.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from open_finops.aws.errors import AwsError, UsageError, one_line
from open_finops.core import sources
from open_finops.core.sources import Obj, Source, cleanup, suffix_of

__all__ = ["Obj", "Source", "LocalSource", "S3Source", "open_source", "cleanup", "suffix_of"]

#: Bytes of S3 objects in a batch. One batch is loaded while the next downloads, so up to
#: twice this is on disk at once (an object bigger than this is a batch of its own).
S3_BATCH_BYTES = 1 << 30


class LocalSource(sources.LocalSource):
    error = AwsError


class S3Source(sources.RemoteSource):
    """``s3://bucket/prefix`` through boto3's default credential chain (environment, profiles,
    SSO, roles, session tokens; ``AWS_ENDPOINT_URL_S3`` for S3-compatible endpoints)."""

    error = AwsError
    scheme = "s3"

    @property
    def batch_bytes(self) -> int:  # read when used: a test makes it small
        return S3_BATCH_BYTES

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

    def failure(self, exc: Exception, what: str) -> AwsError:
        return AwsError(f"{what}: {_s3_reason(exc)}")

    def list(self, folder: str) -> dict[str, Obj]:
        prefix = self.remote_key(folder).strip("/")
        prefix = prefix + "/" if prefix else ""  # "": the whole bucket
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
            raise self.failure(exc, f"cannot list s3://{self.bucket}/{prefix}") from None
        return found

    def fetch_bytes(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read()

    def download(self, obj: Obj, path: Path) -> None:
        try:
            self.client.download_file(self.bucket, self.remote_key(obj.key), str(path))
        except Exception as exc:
            raise self.failure(exc, f"cannot download {self.describe(obj.key)}") from None


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
