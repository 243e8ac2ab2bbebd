"""Where exports are read from: a local folder laid out like the storage container, or
``az://CONTAINER/PATH`` in Azure Blob Storage through azure-storage-blob.

The interface, the local folder and the staging in batches are core's
(open_finops.core.sources). Credentials, in this order: ``AZURE_STORAGE_CONNECTION_STRING`` (an
account key or a SAS; it names the account, so ``--account-url`` is optional), else
``--account-url`` with azure-identity's DefaultAzureCredential (environment, workload identity,
managed identity, Azure CLI...). No secret is ever part of a message: places are named
``az://container/path`` or the account's endpoint without its query, errors by the service's
error code, never by its response text; and the SDK's loggers print nothing, whatever
``finops -v`` asks of ours (they would log request headers).
"""
from __future__ import annotations

import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from open_finops.azure.errors import AzureError, UsageError, one_line
from open_finops.core import sources
from open_finops.core.sources import Obj, Source, cleanup

__all__ = ["Obj", "Source", "LocalSource", "BlobSource", "open_source", "cleanup"]

CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"
#: Bytes of blobs in a batch. One batch is loaded while the next downloads, so up to twice
#: this is on disk at once (a blob bigger than this is a batch of its own).
BLOB_BATCH_BYTES = 1 << 30
#: The SDK's retries, short: its default waits 15 s before the first of them, so an endpoint
#: that cannot be reached would mean a minute of silence. Here 1 s, 3 s, 5 s.
RETRY = {"retry_total": 3, "initial_backoff": 1, "increment_base": 2, "random_jitter_range": 0,
         "connection_timeout": 10}
#: Downloads bigger than this say how far they are, every PROGRESS_SECONDS.
PROGRESS_BYTES = 64 << 20
PROGRESS_SECONDS = 10.0
_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")
_HINT_AUTH = ("check the key or SAS in AZURE_STORAGE_CONNECTION_STRING, or that the identity "
              "has the Storage Blob Data Reader role on the container")


class LocalSource(sources.LocalSource):
    error = AzureError


def quiet_sdk_logs() -> None:
    """The azure loggers (HTTP policies log requests and headers) print nowhere."""
    logger = logging.getLogger("azure")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    logger.propagate = False


def public_url(url: str) -> str:
    """``url`` without its query (a SAS token) or user information."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


class BlobSource(sources.RemoteSource):
    """``az://CONTAINER/PATH`` in the account of the connection string or of ``account_url``."""

    error = AzureError
    scheme = "az"

    @property
    def batch_bytes(self) -> int:  # read when used: a test makes it small
        return BLOB_BATCH_BYTES

    def __init__(self, uri: str, account_url: str | None = None,
                 environ: dict[str, str] | None = None) -> None:
        rest = uri[len("az://"):]
        container, _, prefix = rest.partition("/")
        if not _CONTAINER.match(container):
            raise UsageError(f"source {uri}: expected az://CONTAINER/PATH, the container's name "
                             f"3-63 lowercase letters, digits and single hyphens")
        self.bucket = self.container = container
        self.root_prefix = prefix.strip("/")
        environ = os.environ if environ is None else environ
        quiet_sdk_logs()
        connection_string = environ.get(CONNECTION_STRING, "").strip()
        self.by_identity = not connection_string
        self.client = self._client(account_url, connection_string)
        self.account = public_url(self.client.primary_endpoint).rsplit("/", 1)[0]

    def _client(self, account_url: str | None, connection_string: str) -> Any:
        from azure.storage.blob import BlobServiceClient

        if account_url and "sig=" in (urlsplit(account_url).query or ""):
            raise UsageError("--account-url carries a SAS token, which would show in argv or "
                             f"config.toml; give the URL alone and the SAS in {CONNECTION_STRING}"
                             " (BlobEndpoint=URL;SharedAccessSignature=SAS)")
        if connection_string:
            try:
                service = BlobServiceClient.from_connection_string(connection_string, **RETRY)
            except ValueError:
                raise UsageError(f"{CONNECTION_STRING} is not a storage connection string "
                                 "(expected AccountName=...;AccountKey=... or "
                                 "BlobEndpoint=...;SharedAccessSignature=...)") from None
            if account_url and public_url(account_url).lower() != \
                    public_url(service.url).lower():
                raise UsageError(f"--account-url {public_url(account_url)} is not the account "
                                 f"of {CONNECTION_STRING} ({public_url(service.url)}); give the "
                                 "same account or leave --account-url out")
        elif account_url:
            if not account_url.startswith(("https://", "http://")):
                raise UsageError(f"--account-url {public_url(account_url)}: expected "
                                 "https://ACCOUNT.blob.core.windows.net")
            from azure.identity import DefaultAzureCredential

            service = BlobServiceClient(account_url, credential=DefaultAzureCredential(),
                                        **RETRY)
        else:
            raise UsageError("az:// sources need --account-url https://ACCOUNT.blob.core."
                             "windows.net (or account_url in [azure] of config.toml, or "
                             f"OPEN_FINOPS_AZURE_ACCOUNT_URL) or {CONNECTION_STRING}")
        return service.get_container_client(self.container)

    def failure(self, exc: Exception, what: str) -> AzureError:
        return AzureError(f"{what}: {self._reason(exc)}")

    def _reason(self, exc: Exception) -> str:
        """The cause, by class, status and the service's error code only: the text of the
        SDK's errors quotes the response (and, for a refused signature, what was signed)."""
        from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError,
                                           ServiceRequestError, ServiceResponseError)

        code = getattr(exc, "error_code", None) or ""
        code = str(getattr(code, "value", code))  # the SDK's StorageErrorCode is an Enum
        status = getattr(exc, "status_code", None)
        if isinstance(exc, ClientAuthenticationError) and status is None and not self.by_identity:
            # The connection string's key could not sign the request (not valid base64...).
            return (f"the key in {CONNECTION_STRING} cannot sign requests to {self.account}; "
                    "copy the connection string again from the storage account's access keys")
        if isinstance(exc, ClientAuthenticationError) and status is None:
            # Raised by the credential, before any request reached the account.
            return (f"no Azure credential for {self.account} (DefaultAzureCredential tried the "
                    "environment, workload and managed identity, Azure CLI...); sign in with "
                    f"`az login` or set {CONNECTION_STRING}")
        if code == "ContainerNotFound":
            return (f"container {self.container!r} does not exist in {self.account}; check "
                    "the container in --source")
        if code == "BlobNotFound" or (status == 404 and not code):
            return "no such blob"
        if isinstance(exc, ClientAuthenticationError) or status in (401, 403):
            return f"access refused by {self.account} ({code or status}); {_HINT_AUTH}"
        if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
            return (f"cannot reach {self.account} after {RETRY['retry_total']} retries "
                    f"({type(exc).__name__}); check the account URL and the network")
        if isinstance(exc, HttpResponseError):
            return f"{code or 'HTTP error'} (status {status})"
        return one_line(exc)

    def list(self, folder: str) -> dict[str, Obj]:
        prefix = self.remote_key(folder).strip("/")
        prefix = prefix + "/" if prefix else ""
        strip = len(self.root_prefix) + 1 if self.root_prefix else 0
        found: dict[str, Obj] = {}
        try:
            for blob in self.client.list_blobs(name_starts_with=prefix or None,
                                               include=["metadata"]):
                if blob.name.endswith("/") or (blob.metadata or {}).get("hdi_isfolder"):
                    continue  # a folder of an account with a hierarchical namespace
                key = blob.name[strip:]
                found[key] = Obj(key, blob.size, blob.last_modified.timestamp())
        except Exception as exc:  # the SDK raises many unrelated classes
            raise self.failure(exc, f"cannot list {self.describe(folder)}") from None
        return found

    def fetch_bytes(self, name: str) -> bytes:
        return self.client.download_blob(name).readall()

    def download(self, obj: Obj, path: Path) -> None:
        hook = _Progress(self.describe(obj.key), obj.size) if obj.size > PROGRESS_BYTES \
            else None
        try:
            with path.open("wb") as out:
                self.client.download_blob(self.remote_key(obj.key), max_concurrency=2,
                                          progress_hook=hook).readinto(out)
        except OSError as exc:
            raise AzureError(f"cannot download {self.describe(obj.key)} to {path.parent}: "
                             f"{exc.strerror}") from None
        except Exception as exc:
            raise self.failure(exc, f"cannot download {self.describe(obj.key)}") from None


class _Progress:
    """The SDK's progress hook: a line on stderr every PROGRESS_SECONDS of a long download."""

    def __init__(self, where: str, size: int) -> None:
        self.where = where
        self.size = size
        self.last = time.monotonic()

    def __call__(self, current: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_SECONDS:
            self.last = now
            print(f"==> downloading {self.where}: {current >> 20} of "
                  f"{(total or self.size) >> 20} MiB", file=sys.stderr, flush=True)


def open_source(spec: str, account_url: str | None = None) -> Source:
    """A Source for ``az://CONTAINER/PATH`` or a local folder."""
    value = str(spec).strip()
    if not value:
        raise UsageError("no source: give --source PATH or az://CONTAINER/PATH")
    if value.startswith("az://"):
        return BlobSource(value, account_url)
    if "://" in value:
        raise UsageError(f"source {public_url(value)}: only local folders and "
                         "az://CONTAINER/PATH are supported")
    return LocalSource(value)
