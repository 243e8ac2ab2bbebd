"""Where reports are read from: a local folder laid out like the bucket, or S3.

The interface, the local folder, the staging in batches and S3 through boto3 are core's
(open_finops.core.sources, open_finops.core.s3); here they raise AWS's errors. No DuckDB
extension is involved.
"""
from __future__ import annotations

from open_finops.aws.errors import AwsError, UsageError
from open_finops.core import s3, sources
from open_finops.core.sources import Obj, Source, cleanup, suffix_of

__all__ = ["Obj", "Source", "LocalSource", "S3Source", "open_source", "cleanup", "suffix_of"]

#: Bytes of S3 objects in a batch. One batch is loaded while the next downloads, so up to
#: twice this is on disk at once (an object bigger than this is a batch of its own).
S3_BATCH_BYTES = 1 << 30


class LocalSource(sources.LocalSource):
    error = AwsError


class S3Source(s3.S3Source):
    """``s3://bucket/prefix`` through boto3's default credential chain (environment, profiles,
    SSO, roles, session tokens; ``AWS_ENDPOINT_URL_S3`` for S3-compatible endpoints): core's
    (open_finops.core.s3), with AWS's errors."""

    error = AwsError

    @property
    def batch_bytes(self) -> int:  # read when used: a test makes it small
        return S3_BATCH_BYTES


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
