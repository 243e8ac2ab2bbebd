"""Where exports are read from: a local folder laid out like the bucket, or
``gs://BUCKET/PREFIX`` in Cloud Storage through google-cloud-storage (imported only then).

The interface, the local folder and the staging in batches are core's
(open_finops.core.sources). Credentials are Google's Application Default Credentials, as
Google's libraries find them (GOOGLE_APPLICATION_CREDENTIALS, ``gcloud auth
application-default login``, the metadata server of a VM or workload identity): never an
option, a configuration key or an argument. With ``STORAGE_EMULATOR_HOST`` set (an emulator,
as the tests start one), the client is anonymous. No secret is ever part of a message: errors
name the object and the HTTP status or the class of the failure, never the response text.
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from open_finops.core import sources
from open_finops.core.sources import Obj, Source, cleanup
from open_finops.gcp.errors import GcpError, UsageError, one_line

__all__ = ["Obj", "Source", "LocalSource", "GcsSource", "open_source", "cleanup"]

EMULATOR = "STORAGE_EMULATOR_HOST"
#: Bytes of objects in a batch. One batch is loaded while the next downloads, so up to twice
#: this is on disk at once (an object bigger than this is a batch of its own).
OBJECT_BATCH_BYTES = 1 << 30
#: Seconds a request may take before it is retried (by the client) or fails.
TIMEOUT = 60
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
_HINT_AUTH = ("check that the Application Default Credentials' identity has "
              "storage.objects.list and storage.objects.get on the bucket (roles/storage."
              "objectViewer)")


class LocalSource(sources.LocalSource):
    error = GcpError


def quiet_sdk_logs() -> None:
    """google-auth and urllib3 log requests at DEBUG; they print nowhere, whatever
    ``finops -v`` asks of ours."""
    for name in ("google", "urllib3"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
        logger.propagate = False


class GcsSource(sources.RemoteSource):
    """``gs://BUCKET/PREFIX``, read with Application Default Credentials."""

    error = GcpError
    scheme = "gs"

    @property
    def batch_bytes(self) -> int:  # read when used: a test makes it small
        return OBJECT_BATCH_BYTES

    def __init__(self, uri: str, environ: dict[str, str] | None = None) -> None:
        bucket, _, prefix = uri[len("gs://"):].partition("/")
        if not _BUCKET.match(bucket):
            raise UsageError(f"source {uri}: expected gs://BUCKET/PREFIX, the bucket's name "
                             "3-222 lowercase letters, digits, dots, hyphens and underscores")
        self.bucket = bucket
        self.root_prefix = prefix.strip("/")
        environ = os.environ if environ is None else environ
        quiet_sdk_logs()
        self.emulated = bool(environ.get(EMULATOR, "").strip())
        self.client = self._client()
        self.handle = self.client.bucket(bucket)

    def _client(self) -> Any:
        from google.cloud import storage

        if self.emulated:
            from google.auth.credentials import AnonymousCredentials

            return storage.Client(project="open-finops", credentials=AnonymousCredentials())
        try:
            return storage.Client()
        except Exception as exc:  # google.auth raises DefaultCredentialsError and others
            raise GcpError(f"cannot read gs://{self.bucket}: {self._reason(exc)}") from None

    def failure(self, exc: Exception, what: str) -> GcpError:
        return GcpError(f"{what}: {self._reason(exc)}")

    def _reason(self, exc: Exception) -> str:
        """The cause, by class and status only: the text of the client's errors quotes the
        response."""
        from google.api_core import exceptions as api
        from google.auth import exceptions as auth

        if isinstance(exc, auth.DefaultCredentialsError):
            return ("no Google credentials (Application Default Credentials): run `gcloud auth "
                    "application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a "
                    "service account's key file")
        if isinstance(exc, auth.GoogleAuthError):
            return (f"the Application Default Credentials were refused ({type(exc).__name__}); "
                    "sign in again with `gcloud auth application-default login`")
        if isinstance(exc, api.NotFound):
            return "no such bucket or object"
        if isinstance(exc, (api.Forbidden, api.Unauthorized)):
            return f"access refused (HTTP {exc.code}); {_HINT_AUTH}"
        if isinstance(exc, api.GoogleAPICallError):
            return f"HTTP {exc.code} ({type(exc).__name__})"
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)) or \
                type(exc).__module__.startswith(("requests", "urllib3")):
            where = "the storage emulator" if self.emulated else "storage.googleapis.com"
            return f"cannot reach {where} ({type(exc).__name__}); check the network"
        return one_line(exc)

    def list(self, folder: str) -> dict[str, Obj]:
        prefix = self.remote_key(folder).strip("/")
        prefix = prefix + "/" if prefix else ""
        strip = len(self.root_prefix) + 1 if self.root_prefix else 0
        found: dict[str, Obj] = {}
        try:
            for blob in self.client.list_blobs(self.bucket, prefix=prefix or None,
                                               timeout=TIMEOUT):
                if blob.name.endswith("/"):
                    continue  # a folder placeholder the console writes
                key = blob.name[strip:]
                updated = blob.updated.timestamp() if blob.updated else 0.0
                found[key] = Obj(key, int(blob.size or 0), updated)
        except Exception as exc:  # the client raises many unrelated classes
            raise self.failure(exc, f"cannot list {self.describe(folder)}") from None
        return found

    def fetch_bytes(self, name: str) -> bytes:
        return self.handle.blob(name).download_as_bytes(timeout=TIMEOUT)

    def download(self, obj: Obj, path: Path) -> None:
        try:
            self.handle.blob(self.remote_key(obj.key)).download_to_filename(
                str(path), timeout=TIMEOUT)
        except OSError as exc:
            if exc.filename == str(path) or exc.filename is None and exc.strerror:
                raise GcpError(f"cannot download {self.describe(obj.key)} to {path.parent}: "
                               f"{exc.strerror}") from None
            raise self.failure(exc, f"cannot download {self.describe(obj.key)}") from None
        except Exception as exc:
            raise self.failure(exc, f"cannot download {self.describe(obj.key)}") from None


def open_source(spec: str) -> Source:
    """A Source for ``gs://BUCKET/PREFIX`` or a local folder."""
    value = str(spec).strip()
    if not value:
        raise UsageError("no source: give --source PATH or gs://BUCKET/PREFIX")
    if value.startswith("gs://"):
        return GcsSource(value)
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise UsageError(f"source {scheme}://...: only local folders and gs://BUCKET/PREFIX "
                         "are supported")
    return LocalSource(value)
