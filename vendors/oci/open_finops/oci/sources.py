"""Where OCI's cost reports are read from: a local folder laid out like the tenancy's bucket
(``FOCUS Reports/...``, ``reports/cost-csv/...``), or ``s3://BUCKET/PREFIX`` through Object
Storage's S3-compatible endpoint (``https://NAMESPACE.compat.objectstorage.REGION.
oraclecloud.com``, the ``endpoint_url`` option) with boto3 and a Customer Secret Key from
boto3's default chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE and the
AWS-style credential files. Never an option: no key reaches argv, config.toml or a log.

The local folder, the staging in batches and S3 are core's (open_finops.core.sources,
open_finops.core.s3); the OCI SDK (about 500 MB) is not needed.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from open_finops.core import s3, sources
from open_finops.core.sources import Obj, Source
from open_finops.oci.errors import OciError, UsageError

__all__ = ["Obj", "Source", "LocalSource", "ObjectStorageSource", "open_source",
           "public_url"]

#: Bytes of objects in a batch (core's S3 default; a test makes it small).
BATCH_BYTES = s3.BATCH_BYTES
_REGION = re.compile(r"\.compat\.objectstorage\.([a-z0-9-]+)\.oci\.customer-oci\.com$|"
                     r"\.compat\.objectstorage\.([a-z0-9-]+)\.oraclecloud\.com$")


class LocalSource(sources.LocalSource):
    error = OciError


class ObjectStorageSource(s3.S3Source):
    """A bucket of Object Storage through its S3-compatible API (path-style, the region from
    the endpoint's host name)."""

    error = OciError
    no_credentials = ("no Customer Secret Key found (boto3's default chain: "
                      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE and "
                      "~/.aws/credentials)")

    @property
    def batch_bytes(self) -> int:  # read when used: a test makes it small
        return BATCH_BYTES


def region_of(endpoint_url: str) -> str | None:
    """The OCI region an Object Storage S3-compatible endpoint names (its signature needs
    it), or None (boto3's own: AWS_DEFAULT_REGION, the profile)."""
    match = _REGION.search(urlsplit(endpoint_url).hostname or "")
    return next((g for g in match.groups() if g), None) if match else None


def public_url(url: str) -> str:
    """``url`` without user information or query, as -v shows it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


def open_source(value: str, endpoint_url: str | None = None) -> Source:
    """A Source for ``s3://BUCKET/PREFIX`` (with ``endpoint_url``) or a local folder."""
    value = str(value).strip()
    if not value:
        raise UsageError("no source: give --source PATH or s3://BUCKET/PREFIX")
    if value.startswith("s3://"):
        if not endpoint_url:
            raise UsageError(
                f"source {value}: give --endpoint-url https://NAMESPACE.compat.objectstorage."
                "REGION.oraclecloud.com (or endpoint_url in [oci] of config.toml)")
        if not urlsplit(endpoint_url).scheme.startswith("http"):
            raise UsageError(f"--endpoint-url: expected an https:// URL, got "
                             f"{public_url(endpoint_url)!r}")
        return ObjectStorageSource(value, endpoint_url=endpoint_url,
                                   region=region_of(endpoint_url))
    if "://" in value:
        raise OciError(f"source {value}: only local folders and s3:// are supported")
    return LocalSource(value)
