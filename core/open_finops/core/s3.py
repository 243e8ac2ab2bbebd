"""Objects in S3, or in a store that speaks its API (Oracle Cloud's Object Storage through its
S3-compatible endpoint), as a source of billing files: core's RemoteSource over boto3, whose
objects are streamed to files a batch at a time. boto3 is imported when a source first
lists or reads, never by core itself: a vendor that reads S3 declares it (aws, oci).

Credentials come from boto3's default chain only (AWS_* variables, AWS_PROFILE and the
shared credential files, SSO, roles): never an option, so no key reaches argv or a file we
write. ``endpoint_url`` and ``region`` say where a compatible store is; neither is a secret.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from open_finops.core.errors import FinopsError, one_line
from open_finops.core.sources import Obj, RemoteSource

#: Bytes of S3 objects in a batch. One batch is loaded while the next downloads, so up to
#: twice this is on disk at once (an object bigger than this is a batch of its own).
BATCH_BYTES = 1 << 30
#: What a missing credential means under boto3's default chain.
NO_CREDENTIALS = ("no AWS credentials found (boto3's default chain: AWS_* variables, "
                  "AWS_PROFILE or ~/.aws, SSO, instance or task role)")


class S3Source(RemoteSource):
    """``s3://bucket/prefix`` through boto3's default credential chain; ``endpoint_url``
    (None: boto3's own, which honours ``AWS_ENDPOINT_URL_S3``) for S3-compatible stores, which
    are addressed path-style. A vendor subclasses it with its error class (and may say what a
    missing credential means in its words: :attr:`no_credentials`)."""

    error: type[FinopsError] = FinopsError
    scheme = "s3"
    no_credentials = NO_CREDENTIALS

    @property
    def batch_bytes(self) -> int:  # read when used: a test makes it small
        return BATCH_BYTES

    def __init__(self, uri: str, client: Any = None, *, endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        rest = uri[len("s3://"):]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise self.error(f"source {uri}: expected s3://BUCKET or s3://BUCKET/PREFIX")
        self.bucket = bucket
        self.root_prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            options: dict[str, Any] = {}
            if self.endpoint_url:
                from botocore.config import Config

                # Compatible stores (OCI's among them) take the bucket in the path, and a
                # bucket named with dots (a tenancy OCID) has no host name of its own.
                options = {"endpoint_url": self.endpoint_url,
                           "config": Config(s3={"addressing_style": "path"})}
            if self.region:
                options["region_name"] = self.region
            # A session of its own: credentials are resolved now, from the default chain.
            self._client = boto3.session.Session().client("s3", **options)
        return self._client

    def failure(self, exc: Exception, what: str) -> FinopsError:
        return self.error(f"{what}: {self.reason(exc)}")

    def reason(self, exc: Exception) -> str:
        """The client's ``exc`` in a few words (never a credential: botocore's messages name
        none)."""
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
        if type(exc).__name__ == "NoCredentialsError":
            return self.no_credentials
        return one_line(exc)

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
